import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import postgres from 'postgres';
import { createOrder } from '@/server/commands/create-order';
import { LIVE_CHANNEL, liveNotificationSchema, type LiveNotification } from '@/lib/live/channel';
import {
  eventTypes,
  orderInput,
  useSagaTestDatabase,
  waitFor,
  withWorker,
} from '@/test/saga-harness';
import { appendEvents } from './saga-store';
import { sql } from 'drizzle-orm';

const ctx = useSagaTestDatabase();

/** Collects what the live dashboard's LISTEN connection would receive. */
async function listen(): Promise<{ received: LiveNotification[]; stop: () => Promise<void> }> {
  const listener = postgres(ctx.url, { max: 1, onnotice: () => {} });
  const received: LiveNotification[] = [];
  await listener.listen(LIVE_CHANNEL, (payload) => {
    received.push(liveNotificationSchema.parse(JSON.parse(payload)));
  });
  return { received, stop: () => listener.end({ timeout: 5 }) };
}

describe('live notifications', () => {
  test('every committed append names its saga, its event types in order and its last position', async () => {
    const live = await listen();
    try {
      const { sagaId } = await createOrder(ctx.db, orderInput({ patientId: 'PAT-LIVE-1' }));
      await withWorker(() =>
        waitFor(
          async () =>
            live.received.some((n) => n.types.includes('order_fulfillment_saga.completed')),
          20_000,
          'completion pushed',
        ),
      );
      const mine = live.received.filter((n) => n.sagaId === sagaId);
      assert.deepEqual(
        mine.flatMap((n) => n.types),
        await eventTypes(ctx.db, sagaId),
        'every event pushed once, in order',
      );
      const [last] = await ctx.db.execute<{ position: string }>(sql`
        select max(position)::text as position from events where metadata->>'correlationId' = ${sagaId}`);
      assert.equal(mine.at(-1)?.position, Number(last!.position));
      for (let i = 1; i < mine.length; i++) assert.ok(mine[i]!.position > mine[i - 1]!.position);
    } finally {
      await live.stop();
    }
  });

  test('an append that rolls back pushes nothing', async () => {
    const live = await listen();
    try {
      const rolledBack = new Error('rolled back');
      await assert.rejects(
        ctx.db.transaction(async (tx) => {
          await appendEvents(
            tx,
            {
              sagaId: '00000000-0000-4000-8000-000000000001',
              orderId: 'ORD-LIVE-RB',
              heads: { version: 0, orderVersion: 0 },
              startedAt: null,
            },
            [
              {
                type: 'order_fulfillment_saga.attempt_failed',
                payload: {
                  task: 'create-prescription',
                  attempt: 1,
                  maxAttempts: 3,
                  error: 'x',
                  retryAt: new Date().toISOString(),
                },
              },
            ],
            { causationId: null },
          );
          throw rolledBack;
        }),
        rolledBack,
      );
      // A committed append after it arrives; the rolled-back one never does.
      const { sagaId } = await createOrder(ctx.db, orderInput({ patientId: 'PAT-LIVE-2' }));
      await waitFor(
        async () => live.received.some((n) => n.sagaId === sagaId),
        10_000,
        'the committed append',
      );
      assert.equal(
        live.received.filter((n) => n.sagaId === '00000000-0000-4000-8000-000000000001').length,
        0,
      );
    } finally {
      await live.stop();
    }
  });
});
