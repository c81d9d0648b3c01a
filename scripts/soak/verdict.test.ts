import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { judgeSoak, soakWindows, type SoakSample } from './verdict';

const MB = 2 ** 20;
/** A 60-minute soak sampled every 10 s, steady unless `change` says otherwise. */
function soak(change: (t: number, s: SoakSample) => SoakSample = (_t, s) => s): SoakSample[] {
  return Array.from({ length: 360 }, (_, i) => {
    const t = (i + 1) * 10;
    return change(t, {
      t,
      rssBytes: 500 * MB,
      loopDelayP99Ms: 20,
      connections: 20,
      p95Ms: 100,
      orders: 200,
      paused: false,
    });
  });
}
const failed = (samples: SoakSample[]) =>
  judgeSoak(samples, 3600, 10)
    .checks.filter((c) => !c.ok)
    .map((c) => c.name.split(' ')[0]);

describe('soak verdict', () => {
  test('an hour: warm-up 5 min, baseline the first 10, the last 5 judged', () => {
    assert.deepEqual(soakWindows(3600, 10), { warmupEnd: 300, baselineEnd: 600, finalStart: 3300 });
  });

  test('a short run scales the windows, never below 20 s of warm-up and 2 + 3 samples', () => {
    assert.deepEqual(soakWindows(90, 5), { warmupEnd: 20, baselineEnd: 30, finalStart: 75 });
  });

  test('a steady soak passes', () => {
    assert.deepEqual(failed(soak()), []);
  });

  test('memory 12 % up at the end fails; warm-up growth does not count', () => {
    assert.deepEqual(
      failed(soak((t, s) => ({ ...s, rssBytes: t > 3000 ? 560 * MB : s.rssBytes }))),
      ['memory'],
    );
    assert.deepEqual(
      failed(soak((t, s) => ({ ...s, rssBytes: t <= 300 ? 300 * MB : s.rssBytes }))),
      [],
    );
  });

  test('connections that keep growing fail; a pool growing by a few does not', () => {
    assert.deepEqual(failed(soak((t, s) => ({ ...s, connections: 20 + Math.floor(t / 300) }))), [
      'no',
    ]);
    assert.deepEqual(failed(soak((t, s) => ({ ...s, connections: t > 1800 ? 23 : 20 }))), []);
  });

  test('p95 past twice its first-ten-minutes value fails; pauses (no p95) are left out', () => {
    assert.deepEqual(failed(soak((t, s) => ({ ...s, p95Ms: t > 3000 ? 210 : 100 }))), ['order']);
    assert.deepEqual(
      failed(soak((t, s) => ({ ...s, p95Ms: t > 3400 ? null : 100, paused: t > 3400 }))),
      [],
    );
  });
});
