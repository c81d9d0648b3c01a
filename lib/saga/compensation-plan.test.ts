import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compensatedStep, compensationPlan, nextCompensation } from './compensation-plan';
import type { CompensationTask, Step, StepTask } from './model';

/** Failing each step in turn: the steps done before it, and the undo DESIGN.md prescribes. */
const CASES: ReadonlyArray<{ failing: StepTask; done: Step[]; undo: CompensationTask[] }> = [
  { failing: 'create-prescription', done: ['create-order'], undo: ['cancel-order'] },
  {
    failing: 'reserve-inventory',
    done: ['create-order', 'create-prescription'],
    undo: ['cancel-prescription', 'cancel-order'],
  },
  {
    failing: 'initiate-shipment',
    done: ['create-order', 'create-prescription', 'reserve-inventory'],
    undo: ['release-inventory', 'cancel-prescription', 'cancel-order'],
  },
];

describe('compensation plan', () => {
  for (const { failing, done, undo } of CASES) {
    it(`${failing} fails → undo ${undo.join(', ')} (the completed steps reversed)`, () => {
      assert.deepEqual(compensationPlan(done), undo);
    });

    it(`${failing} fails → nextCompensation walks ${undo.join(' → ')} and then ends with null`, () => {
      const walked: CompensationTask[] = [];
      for (
        let next = nextCompensation(done, walked);
        next !== null;
        next = nextCompensation(done, walked)
      ) {
        walked.push(next);
        assert.ok(walked.length <= undo.length, `walk did not end: ${walked.join(', ')}`);
      }
      assert.deepEqual(walked, undo);
      assert.equal(nextCompensation(done, walked), null);
    });
  }

  it('the last step has no undo: a completed saga would undo only the three earlier steps', () => {
    assert.deepEqual(
      compensationPlan([
        'create-order',
        'create-prescription',
        'reserve-inventory',
        'initiate-shipment',
      ]),
      ['release-inventory', 'cancel-prescription', 'cancel-order'],
    );
  });

  it('nothing done → nothing to undo', () => {
    assert.deepEqual(compensationPlan([]), []);
    assert.equal(nextCompensation([], []), null);
  });

  it('does not reorder or mutate the completed steps it is given', () => {
    const done = Object.freeze([
      'create-order',
      'create-prescription',
      'reserve-inventory',
    ] as Step[]);
    compensationPlan(done);
    assert.deepEqual(done, ['create-order', 'create-prescription', 'reserve-inventory']);
  });

  it('compensatedStep names the step each compensation undoes', () => {
    assert.deepEqual(
      (['release-inventory', 'cancel-prescription', 'cancel-order'] as const).map(compensatedStep),
      ['reserve-inventory', 'create-prescription', 'create-order'],
    );
  });
});
