import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ORDER_ID, SAGA_ID, started, succeed, unwind, fail } from '@/lib/saga/saga.test-kit';
import { foldStored, rowToStored, sagaToRow, type StoredSaga } from './sagas';

const foldAll = (events: Parameters<typeof foldStored>[1][]) =>
  events.reduce<StoredSaga | null>(foldStored, null);

describe('foldStored: the saga and where its streams stand', () => {
  it('folds the saga exactly as the pure evolve does', () => {
    const h = started();
    succeed(h);
    assert.deepEqual(foldAll(h.events)?.saga, h.saga);
  });

  it('tracks each stream version separately, and the last position', () => {
    const h = started();
    succeed(h);
    // order.created (order 1), started (saga 1), prescription_created (order 2), state_changed (saga 2)
    assert.deepEqual(
      h.events.map((e) => [e.position, e.streamId, e.version]),
      [
        [1, `order-${ORDER_ID}`, 1],
        [2, `order_fulfillment_saga-${SAGA_ID}`, 1],
        [3, `order-${ORDER_ID}`, 2],
        [4, `order_fulfillment_saga-${SAGA_ID}`, 2],
      ],
    );
    assert.deepEqual(foldAll(h.events)?.heads, { version: 2, orderVersion: 2, lastPosition: 4 });
    assert.deepEqual(foldAll(h.events.slice(0, 1))?.heads, {
      version: 0,
      orderVersion: 1,
      lastPosition: 1,
    });
  });

  it('the row is the saga, its heads and the task it waits for, and reads back as both', () => {
    const h = started();
    fail(h);
    unwind(h);
    const stored = foldAll(h.events)!;
    const row = sagaToRow(stored);
    assert.equal(row.currentTask, null);
    assert.equal(row.version, stored.heads.version);
    assert.deepEqual(rowToStored(row), stored);
    assert.equal('version' in rowToStored(row).saga, false, 'no bookkeeping in the saga');
    assert.equal('lastPosition' in rowToStored(row).saga, false, 'no bookkeeping in the saga');
  });
});
