import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TASKS } from '@/lib/saga/model';
import { faultSettingSchema, noFaults, rollFault, type FaultSetting } from './fault-injection';

const setting = (failureRate: number, transientRate: number): FaultSetting => ({
  task: 'initiate-shipment',
  failureRate,
  transientRate,
  latencyMs: 0,
});
/** The largest double below 1: the top of Math.random's range. */
const ALMOST_ONE = 1 - Number.EPSILON / 2;

describe('fault injection', () => {
  it('is off by default for every task: nothing is ever injected', () => {
    for (const task of TASKS) {
      const off = noFaults(task);
      assert.deepEqual(off, { task, failureRate: 0, transientRate: 0, latencyMs: 0 });
      assert.equal(rollFault(off, 0), null);
      assert.equal(rollFault(off, ALMOST_ONE), null);
    }
  });

  const CASES: ReadonlyArray<[number, number, number, 'failure' | 'transient' | null]> = [
    // failureRate, transientRate, random, fault
    [0.2, 0.3, 0, 'failure'],
    [0.2, 0.3, 0.19999, 'failure'],
    [0.2, 0.3, 0.2, 'transient'], // the failure band is [0, 0.2)
    [0.2, 0.3, 0.49999, 'transient'],
    [0.2, 0.3, 0.5, null], // the transient band is [0.2, 0.5)
    [0.2, 0, 0.2, null],
    [0, 0.25, 0, 'transient'],
    [0, 0.25, 0.25, null],
    [1, 0, ALMOST_ONE, 'failure'],
    [0, 1, ALMOST_ONE, 'transient'],
    [0.5, 0.5, ALMOST_ONE, 'transient'],
  ];
  for (const [failureRate, transientRate, random, fault] of CASES) {
    it(`failure ${failureRate}, transient ${transientRate}, random ${random} → ${fault}`, () => {
      assert.equal(rollFault(setting(failureRate, transientRate), random), fault);
    });
  }

  it('the schema accepts the boundaries and refuses rates outside [0, 1] and bad latencies', () => {
    assert.ok(faultSettingSchema.safeParse({ ...setting(0, 1), latencyMs: 60_000 }).success);
    for (const bad of [
      setting(-0.1, 0),
      setting(0, 1.01),
      { ...setting(0, 0), latencyMs: 60_001 },
      { ...setting(0, 0), latencyMs: 1.5 },
      { ...setting(0, 0), latencyMs: -1 },
      { ...setting(0, 0), task: 'ship-it' },
    ]) {
      assert.equal(faultSettingSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });
});
