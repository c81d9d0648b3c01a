import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { inventoryItems, orders, prescriptions, shipments } from '@/db/schema';
import { createOrder } from '@/server/commands/create-order';
import {
  eventTypes,
  getSagaRow,
  jobCount,
  orderInput,
  reservationMismatches,
  setStock,
  streamsWithGaps,
  useSagaTestDatabase,
  waitForSettled,
  withPostalCode,
  withWorker,
} from '@/test/saga-harness';

const ctx = useSagaTestDatabase();

const STARTED = ['order.created', 'order_fulfillment_saga.started'];
const PRESCRIBED = ['order.prescription_created', 'order_fulfillment_saga.state_changed'];
const RESERVED = ['order.inventory_reserved', 'order_fulfillment_saga.state_changed'];
const compensation = (event: string) => [event, 'order_fulfillment_saga.compensation_recorded'];
const CANCELLED_END = ['order_fulfillment_saga.state_changed', 'order_fulfillment_saga.failed'];

async function runToSettled(input: unknown) {
  const { sagaId, orderId } = await createOrder(ctx.db, input);
  await withWorker(() => waitForSettled(ctx.db));
  return {
    sagaId,
    orderId,
    saga: await getSagaRow(ctx.db, sagaId),
    types: await eventTypes(ctx.db, sagaId),
  };
}

async function reservedOf(sku: string) {
  const [row] = await ctx.db.select().from(inventoryItems).where(eq(inventoryItems.sku, sku));
  return row!.reserved;
}

describe('the four saga paths, with a real worker', () => {
  test('happy path: every step runs once and the saga completes', async () => {
    const before = await reservedOf('AMOX-500');
    const { saga, types, orderId } = await runToSettled(orderInput());
    assert.equal(saga.state, 'COMPLETED');
    assert.deepEqual(types, [
      ...STARTED,
      ...PRESCRIBED,
      ...RESERVED,
      'order.shipment_initiated',
      'order_fulfillment_saga.state_changed',
      'order_fulfillment_saga.completed',
    ]);
    assert.deepEqual(saga.completedSteps, [
      'create-order',
      'create-prescription',
      'reserve-inventory',
      'initiate-shipment',
    ]);
    assert.ok(saga.completedAt && saga.completedAt >= saga.startedAt);
    assert.equal(
      await reservedOf('AMOX-500'),
      before + 2,
      'the shipped order keeps its reservation',
    );
    const [shipment] = await ctx.db.select().from(shipments).where(eq(shipments.orderId, orderId));
    assert.match(shipment!.carrierReference, /^SIM-/);
  });

  test('prescription failure (revoked prescriber): the order is cancelled', async () => {
    const { saga, types, orderId } = await runToSettled(orderInput({ prescriberId: 'PR-REVOKED' }));
    assert.equal(saga.state, 'CANCELLED');
    assert.equal(saga.failedStep, 'create-prescription');
    assert.match(saga.failureReason ?? '', /revoked/);
    assert.deepEqual(types, [
      ...STARTED,
      'order.prescription_failed',
      'order_fulfillment_saga.state_changed',
      ...compensation('order.cancelled'),
      ...CANCELLED_END,
    ]);
    const [order] = await ctx.db.select().from(orders).where(eq(orders.orderId, orderId));
    assert.equal(order!.status, 'cancelled');
  });

  test('inventory failure (not enough stock): prescription then order are cancelled, nothing reserved', async () => {
    await setStock(ctx.db, 'LEVO-50', 1);
    const before = await reservedOf('LEVO-50');
    const { saga, types, orderId } = await runToSettled(
      orderInput({
        medications: [
          { sku: 'AMOX-500', quantity: 1 },
          { sku: 'LEVO-50', quantity: 2 },
        ],
      }),
    );
    assert.equal(saga.state, 'CANCELLED');
    assert.equal(saga.failedStep, 'reserve-inventory');
    assert.deepEqual(saga.compensationsDone, ['cancel-prescription', 'cancel-order']);
    assert.deepEqual(types, [
      ...STARTED,
      ...PRESCRIBED,
      'order.inventory_reservation_failed',
      'order_fulfillment_saga.state_changed',
      ...compensation('order.prescription_cancelled'),
      ...compensation('order.cancelled'),
      ...CANCELLED_END,
    ]);
    assert.equal(await reservedOf('LEVO-50'), before, 'all or nothing: no line was reserved');
    const [rx] = await ctx.db
      .select()
      .from(prescriptions)
      .where(eq(prescriptions.orderId, orderId));
    assert.equal(rx!.status, 'cancelled');
  });

  test('shipment failure (postal code 00000): inventory, prescription and order undone in reverse', async () => {
    const before = await reservedOf('AMOX-500');
    const { saga, types } = await runToSettled(withPostalCode('00000'));
    assert.equal(saga.state, 'CANCELLED');
    assert.equal(saga.failedStep, 'initiate-shipment');
    assert.deepEqual(saga.compensationsDone, [
      'release-inventory',
      'cancel-prescription',
      'cancel-order',
    ]);
    assert.deepEqual(types, [
      ...STARTED,
      ...PRESCRIBED,
      ...RESERVED,
      'order.shipment_initiation_failed',
      'order_fulfillment_saga.state_changed',
      ...compensation('order.inventory_released'),
      ...compensation('order.prescription_cancelled'),
      ...compensation('order.cancelled'),
      ...CANCELLED_END,
    ]);
    assert.equal(await reservedOf('AMOX-500'), before, 'the reservation was released');
  });

  test('after all paths: streams are gap-free, stock adds up, no job is left', async () => {
    assert.deepEqual(await streamsWithGaps(ctx.db), []);
    assert.deepEqual(await reservationMismatches(ctx.db), []);
    assert.equal(await jobCount(ctx.db), 0);
    const [dups] = await ctx.db.execute<{ n: number }>(sql`
      select count(*)::int as n from (
        select metadata->>'correlationId', type, payload->>'task' from events
        where type not in ('order_fulfillment_saga.state_changed', 'order_fulfillment_saga.attempt_failed')
        group by 1, 2, 3 having count(*) > 1) d`);
    assert.equal(dups!.n, 0, 'no step or compensation event recorded twice in a saga');
  });
});
