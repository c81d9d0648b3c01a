import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { beforeEach, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { resolveAlert } from '@/db/alerts';
import { deliverDueAlerts } from '@/jobs/alerts';
import { useSagaTestDatabase, waitFor } from '@/test/saga-harness';
import {
  deliverUntil,
  deliveryIds,
  deliveryRows,
  fireAlert,
  WEBHOOK_SECRET,
} from '@/test/alert-delivery';
import { startWebhookReceiver } from '@/test/webhook-receiver';

const ctx = useSagaTestDatabase();
describe('webhook delivery', () => {
  // Each test fires its own alert: the one of the test before is over.
  beforeEach(() =>
    ctx.db.execute(
      sql`update alerts set status = 'resolved', resolved_at = now() where status = 'firing'`,
    ),
  );

  test('firing and resolution reach every URL, as signed Alertmanager JSON', async () => {
    const a = await startWebhookReceiver('/a');
    const b = await startWebhookReceiver('/b?token=t0');
    try {
      const alert = await fireAlert(ctx.db, 'queue_backlog', [a.url, b.url]);
      await deliverUntil(
        ctx.db,
        () => a.received.length === 1 && b.received.length === 1,
        'the firing',
      );
      await ctx.db.transaction((tx) => resolveAlert(tx, alert.alertId, [a.url, b.url]));
      await deliverUntil(
        ctx.db,
        () => a.received.length === 2 && b.received.length === 2,
        'the resolution',
      );

      for (const r of [a, b]) {
        const [firing, resolved] = r.received.map((m) => JSON.parse(m.body));
        assert.equal(firing.version, '4');
        assert.equal(firing.status, 'firing');
        assert.equal(firing.alerts[0].status, 'firing');
        assert.deepEqual(firing.alerts[0].labels, {
          alertname: 'queue_backlog',
          severity: 'warning',
        });
        assert.deepEqual(firing.alerts[0].annotations, { summary: 'queue_backlog summary' });
        assert.equal(firing.alerts[0].startsAt, alert.startedAt.toISOString());
        assert.equal(firing.alerts[0].endsAt, '0001-01-01T00:00:00Z');
        assert.equal(resolved.status, 'resolved');
        assert.equal(resolved.alerts[0].startsAt, firing.alerts[0].startsAt);
        assert.ok(Date.parse(resolved.alerts[0].endsAt) >= Date.parse(firing.alerts[0].startsAt));
        assert.equal(resolved.alerts[0].fingerprint, firing.alerts[0].fingerprint);
        for (const m of r.received) {
          assert.equal(m.headers['content-type'], 'application/json');
          const expected = createHmac('sha256', WEBHOOK_SECRET).update(m.body).digest('hex');
          assert.equal(m.headers['x-rxsaga-signature'], `sha256=${expected}`);
          assert.equal(m.headers['idempotency-key'], m.headers['x-rxsaga-delivery']);
        }
      }
      assert.equal(
        new Set([...deliveryIds(a), ...deliveryIds(b)]).size,
        4,
        'one id per change and URL',
      );
      const rows = await deliveryRows(ctx.db, alert.alertId);
      assert.deepEqual(
        rows.map((r) => [r.change, r.status, r.attempts]),
        [
          ['firing', 'delivered', 1],
          ['firing', 'delivered', 1],
          ['resolved', 'delivered', 1],
          ['resolved', 'delivered', 1],
        ],
      );
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('unsigned when no secret is set', async () => {
    const r = await startWebhookReceiver();
    try {
      await fireAlert(ctx.db, 'sagas_stalled', [r.url]);
      await waitFor(
        async () => (
          await deliverDueAlerts(ctx.db, 'unsigned', undefined),
          r.received.length === 1
        ),
      );
      assert.equal(r.received[0]!.headers['x-rxsaga-signature'], undefined);
    } finally {
      await r.close();
    }
  });

  test('a 500 is retried within 10 s with the same id and body, until a 2xx', async () => {
    const r = await startWebhookReceiver();
    r.respond = ({ index }) => (index < 2 ? 500 : 204);
    try {
      const alert = await fireAlert(ctx.db, 'queue_backlog', [r.url]);
      await deliverDueAlerts(ctx.db, 'test-sender', WEBHOOK_SECRET);
      const [afterFirst] = await deliveryRows(ctx.db, alert.alertId);
      assert.equal(afterFirst!.status, 'pending');
      assert.equal(afterFirst!.last_error, 'HTTP 500: nope');
      assert.ok(afterFirst!.retry_after_seconds! > 0 && afterFirst!.retry_after_seconds! <= 10);
      // Not due yet: nothing is sent again at once.
      await deliverDueAlerts(ctx.db, 'test-sender', WEBHOOK_SECRET);
      assert.equal(r.received.length, 1);

      await deliverUntil(ctx.db, () => r.received.at(-1)?.status === 204, 'a 2xx');
      assert.deepEqual(
        r.received.map((m) => m.status),
        [500, 500, 204],
      );
      assert.equal(new Set(deliveryIds(r)).size, 1, 'every attempt carries the same delivery id');
      assert.equal(new Set(r.received.map((m) => m.body)).size, 1, 'and the same body');
      const [done] = await deliveryRows(ctx.db, alert.alertId);
      assert.deepEqual([done!.status, done!.attempts, done!.last_error], ['delivered', 3, null]);
      // Delivered: later passes send nothing more.
      await deliverDueAlerts(ctx.db, 'test-sender', WEBHOOK_SECRET);
      assert.equal(r.received.length, 3);
    } finally {
      await r.close();
    }
  });

  test('a receiver that is down for a while gets the message once it is back', async () => {
    const r = await startWebhookReceiver();
    await r.down();
    try {
      const alert = await fireAlert(ctx.db, 'sagas_stalled', [r.url]);
      // Down for about 5 s: a few refused attempts, with growing waits.
      const downUntil = Date.now() + 5000;
      while (Date.now() < downUntil) {
        await deliverDueAlerts(ctx.db, 'test-sender', WEBHOOK_SECRET);
        await new Promise((res) => setTimeout(res, 200));
      }
      const [failing] = await deliveryRows(ctx.db, alert.alertId);
      assert.equal(failing!.status, 'pending');
      assert.ok(failing!.attempts >= 2, `${failing!.attempts} attempts while down`);
      assert.equal(failing!.last_error, 'ECONNREFUSED');
      await r.up();
      await deliverUntil(
        ctx.db,
        () => r.received.length === 1,
        'the message after the receiver came back',
      );
      const [done] = await deliveryRows(ctx.db, alert.alertId);
      assert.equal(done!.status, 'delivered');
      assert.equal(r.received.length, 1);
    } finally {
      await r.close();
    }
  });
});
