import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
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
describe('webhook delivery across a crash', () => {
  test('a sender SIGKILLed after the 200 but before recording it: resent once, with the same id, never concurrently', async () => {
    const r = await startWebhookReceiver();
    // The worker evaluates the rules when it starts, and would resolve the alert fired below
    // (nothing backs it up), adding a second message to the same batch. Its round is taken
    // here: with RXSAGA_ALERT_EVALUATE_SECONDS=3600 it only sends.
    await ctx.db.execute(sql`update alert_evaluator set last_evaluated_at = now() where id = 1`);
    const child = spawn('node', ['--import', 'tsx', 'jobs/worker.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: ctx.url,
        RXSAGA_ALERT_EVALUATE_SECONDS: '3600',
        RXSAGA_ALERT_WEBHOOK_URLS: r.url,
        RXSAGA_ALERT_WEBHOOK_SECRET: WEBHOOK_SECRET,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    // Listened for from the start: a SIGKILLed child can exit before the test gets to wait.
    const exited = once(child, 'exit');
    // The first answer: status 200 and headers go out, then the sender is killed before the
    // body ends, so it has its 2xx but cannot have recorded it.
    let killed = false;
    r.respond = ({ index }, res) => {
      if (index > 0) return 200;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '20' });
      res.write('accepted');
      child.kill('SIGKILL');
      killed = true;
      return 'handled';
    };
    try {
      const alert = await fireAlert(ctx.db, 'queue_backlog', [r.url]);
      await waitFor(async () => killed, 60_000, 'the worker to send and be killed');
      await exited;
      const rows = await deliveryRows(ctx.db, alert.alertId);
      assert.deepEqual(
        rows.map((d) => [d.change, d.status]),
        [['firing', 'pending']],
        'one message, its 200 not recorded',
      );

      // The lease still holds: no other sender may take it while the dead one might be sending.
      await deliverDueAlerts(ctx.db, 'second-sender', WEBHOOK_SECRET);
      assert.equal(r.received.length, 1);

      await deliverUntil(
        ctx.db,
        () => r.received.length === 2,
        'the resend after the lease ran out',
      );
      const [first, second] = r.received;
      assert.equal(second!.headers['x-rxsaga-delivery'], first!.headers['x-rxsaga-delivery']);
      assert.equal(second!.body, first!.body);
      assert.equal(second!.headers['x-rxsaga-signature'], first!.headers['x-rxsaga-signature']);
      const [done] = await deliveryRows(ctx.db, alert.alertId);
      assert.deepEqual([done!.status, done!.attempts], ['delivered', 2]);
      // A receiver deduplicating on X-RxSaga-Delivery saw this change exactly once.
      assert.equal(new Set(deliveryIds(r)).size, 1);
      await deliverDueAlerts(ctx.db, 'second-sender', WEBHOOK_SECRET);
      assert.equal(r.received.length, 2, 'nothing after the delivery was recorded');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await r.close();
    }
  });
});
