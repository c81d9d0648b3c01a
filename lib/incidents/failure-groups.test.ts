import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  classifyReason,
  failureGroupId,
  groupFailures,
  normaliseError,
  type FlaggedSaga,
} from './failure-groups';

const flagged = (
  n: number,
  task: string | null,
  reason: string | null,
  since: string | null = `2026-12-01T03:0${n % 10}:00.000Z`,
): FlaggedSaga => ({
  sagaId: `00000000-0000-4000-8000-00000000000${n}`,
  orderId: `ORD-${n}`,
  task,
  reason,
  since: since ? new Date(since) : null,
});

describe('normaliseError', () => {
  test('ids, numbers and quoted values are taken out; the words stay', () => {
    assert.equal(
      normaliseError('carrier gateway timeout (504) for ORD-1'),
      'carrier gateway timeout (<n>) for <id>',
    );
    assert.equal(
      normaliseError('carrier gateway timeout (504) for ORD-2'),
      normaliseError('carrier gateway timeout (504) for ORD-1'),
    );
    assert.equal(
      normaliseError('saga 3f2b8c1e-1d2a-4b5c-9e8f-0a1b2c3d4e5f: sku "AMOX-500" out of stock'),
      'saga <id>: sku <value> out of stock',
    );
    assert.equal(normaliseError("value 'x y' at 12.5 ms"), 'value <value> at <n> ms');
    assert.equal(normaliseError('job:42 lost after 3 tries'), '<id> lost after <n> tries');
    assert.equal(normaliseError('trace deadbeefcafe01  and   more'), 'trace <id> and more');
    assert.equal(
      normaliseError('timeout for ORD-3f2b8c1e-1d2a-4b5c-9e8f-0a1b2c3d4e5f'),
      'timeout for <id>',
    );
    assert.equal(normaliseError('connection refused'), 'connection refused');
  });
});

describe('classifyReason', () => {
  test('the reasons the engine writes have a kind', () => {
    assert.deepEqual(
      classifyReason('initiate-shipment failed after 3 attempts: carrier timeout (504) for ORD-9'),
      { kind: 'retries-exhausted', error: 'carrier timeout (<n>) for <id>' },
    );
    assert.deepEqual(
      classifyReason('stalled: no progress for over 300 s and no job queued for reserve-inventory'),
      {
        kind: 'stalled',
        error: 'no progress for over <n> s and no job queued for reserve-inventory',
      },
    );
    assert.deepEqual(classifyReason('cancel-order failed: injected fault'), {
      kind: 'failed',
      error: 'injected fault',
    });
    assert.deepEqual(classifyReason('somebody flagged it'), {
      kind: 'other',
      error: 'somebody flagged it',
    });
    assert.deepEqual(classifyReason(null), { kind: 'other', error: '' });
  });
});

describe('groupFailures', () => {
  test('one cause is one group per task; counts, first and last seen, the latest as sample', () => {
    const groups = groupFailures([
      flagged(
        1,
        'initiate-shipment',
        'initiate-shipment failed after 3 attempts: timeout (504) for ORD-1',
      ),
      flagged(
        3,
        'initiate-shipment',
        'initiate-shipment failed after 3 attempts: timeout (504) for ORD-3',
      ),
      flagged(
        2,
        'initiate-shipment',
        'initiate-shipment failed after 5 attempts: timeout (504) for ORD-2',
      ),
      // Same error, another task: another group.
      flagged(
        4,
        'reserve-inventory',
        'reserve-inventory failed after 3 attempts: timeout (504) for ORD-4',
      ),
      // Same task, another kind.
      flagged(
        5,
        'initiate-shipment',
        'stalled: no progress for over 300 s and no job queued for initiate-shipment',
        null,
      ),
    ]);
    assert.equal(groups.length, 3);
    const [big, ...rest] = groups;
    assert.ok(big);
    assert.equal(big.count, 3);
    assert.equal(big.task, 'initiate-shipment');
    assert.equal(big.kind, 'retries-exhausted');
    assert.equal(big.error, 'timeout (<n>) for <id>');
    assert.equal(big.firstSeenAt, '2026-12-01T03:01:00.000Z');
    assert.equal(big.lastSeenAt, '2026-12-01T03:03:00.000Z');
    assert.equal(big.sample.orderId, 'ORD-3');
    assert.equal(big.groupId, failureGroupId('initiate-shipment', 'retries-exhausted', big.error));
    assert.deepEqual(rest.map((g) => [g.task, g.kind, g.count]).sort(), [
      ['initiate-shipment', 'stalled', 1],
      ['reserve-inventory', 'retries-exhausted', 1],
    ]);
    const stalled = rest.find((g) => g.kind === 'stalled');
    assert.equal(stalled?.firstSeenAt, null, 'no flag time: none invented');
    assert.equal(new Set(groups.map((g) => g.groupId)).size, 3, 'ids differ between groups');
  });

  test('group ids are stable and short', () => {
    const id = failureGroupId('initiate-shipment', 'retries-exhausted', 'timeout (<n>) for <id>');
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.equal(
      id,
      failureGroupId('initiate-shipment', 'retries-exhausted', 'timeout (<n>) for <id>'),
    );
    assert.notEqual(id, failureGroupId(null, 'retries-exhausted', 'timeout (<n>) for <id>'));
    assert.deepEqual(groupFailures([]), []);
  });
});
