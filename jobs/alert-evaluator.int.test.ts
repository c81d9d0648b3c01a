import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { listAlerts } from '@/db/alerts';
import { cancelSaga } from '@/server/commands/operator-action';
import { createOrder } from '@/server/commands/create-order';
import { evaluateAlerts, type AlertSettings } from '@/jobs/alerts';
import { startWorker } from '@/jobs/worker';
import { useSagaTestDatabase, waitFor, waitForSettled, withPostalCode } from '@/test/saga-harness';
import { startWebhookReceiver } from '@/test/webhook-receiver';

// The in-process worker's own alert loop evaluates once at start, then not for an hour: the
// tests below call the evaluator themselves.
const ctx = useSagaTestDatabase({
  RXSAGA_ALERT_EVALUATE_SECONDS: '3600',
  RXSAGA_MAX_ATTEMPTS: '2',
});

/** Evaluate on every call (no cadence), with thresholds small enough for one stuck saga. */
const settings: AlertSettings = {
  everySeconds: 0,
  thresholds: {
    interventions: 1,
    interventionsForSeconds: 0,
    successRate: 0.8,
    successMinFinished: 20,
    backlogSeconds: 120,
  },
  webhookUrls: [],
  webhookSecret: undefined,
};

async function alertRows() {
  return [
    ...(await ctx.db.execute<{ rule: string; status: string }>(
      sql`select rule, status from alerts order by started_at`,
    )),
  ];
}

describe('alert evaluator', () => {
  test('a saga stuck on the carrier fires interventions_waiting once; cancelling it resolves it', async () => {
    const worker = await startWorker();
    try {
      const { sagaId } = await createOrder(ctx.db, withPostalCode('00504'));
      await waitForSettled(ctx.db);

      const first = await evaluateAlerts(ctx.db, 'test', settings);
      assert.deepEqual(first, { evaluated: true, fired: ['interventions_waiting'], resolved: [] });
      // Still holding: it stays firing, nothing new.
      const second = await evaluateAlerts(ctx.db, 'test', settings);
      assert.deepEqual(second, { evaluated: true, fired: [], resolved: [] });
      assert.deepEqual(await alertRows(), [{ rule: 'interventions_waiting', status: 'firing' }]);

      const [firing] = await listAlerts(ctx.db);
      assert.equal(firing?.status, 'firing');
      assert.match(firing!.summary, /^1 saga needs intervention, the oldest for \d+ s$/);

      await cancelSaga(ctx.db, sagaId, { reason: 'customer cancelled' }, 'tester');
      await waitForSettled(ctx.db);
      const third = await evaluateAlerts(ctx.db, 'test', settings);
      assert.deepEqual(third, { evaluated: true, fired: [], resolved: ['interventions_waiting'] });
      assert.deepEqual(await alertRows(), [{ rule: 'interventions_waiting', status: 'resolved' }]);

      // It fires again as a new alert when the condition comes back: history keeps both.
      await createOrder(ctx.db, withPostalCode('00504', { patientId: 'PAT-AGAIN' }));
      await waitForSettled(ctx.db);
      assert.deepEqual((await evaluateAlerts(ctx.db, 'test', settings)).evaluated, true);
      assert.deepEqual(
        (await alertRows()).map((r) => r.status),
        ['resolved', 'firing'],
      );
      const listed = await listAlerts(ctx.db);
      assert.deepEqual(
        listed.map((a) => a.status),
        ['firing', 'resolved'],
        'firing first',
      );
      assert.ok(listed[1]!.resolvedAt, 'a resolved alert has its end');
    } finally {
      await worker.stop();
    }
  });

  test('evaluators racing: exactly one evaluates the round', async () => {
    await ctx.db.execute(sql`update alert_evaluator set last_evaluated_at = null`);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        evaluateAlerts(ctx.db, `racer-${i}`, { ...settings, everySeconds: 60 }),
      ),
    );
    assert.equal(results.filter((r) => r.evaluated).length, 1);
    // The round is taken for the next 60 s (× 0.9): a later caller skips too.
    assert.equal(
      (await evaluateAlerts(ctx.db, 'late', { ...settings, everySeconds: 60 })).evaluated,
      false,
    );
  });
});

describe('two worker processes', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });

  test('evaluate one at a time: one alert, one message per change, at the shared cadence', async () => {
    const receiver = await startWebhookReceiver();
    try {
      await ctx.db.execute(
        sql`update alerts set status = 'resolved', resolved_at = now() where status = 'firing'`,
      );
      await ctx.db.execute(
        sql`update order_fulfillment_sagas set needs_intervention = false, intervention_reason = null, intervention_since = null, state = 'CANCELLED', current_task = null, completed_at = now()`,
      );
      const [before] = await ctx.db.execute<{ n: number }>(
        sql`select evaluations::int as n from alert_evaluator`,
      );
      const spawnWorker = () =>
        spawn('node', ['--import', 'tsx', 'jobs/worker.ts'], {
          env: {
            ...process.env,
            DATABASE_URL: ctx.url,
            RXSAGA_ALERT_EVALUATE_SECONDS: '1',
            RXSAGA_ALERT_INTERVENTIONS: '1',
            RXSAGA_ALERT_INTERVENTIONS_FOR_SECONDS: '0',
            RXSAGA_ALERT_WEBHOOK_URLS: receiver.url,
            LOG_LEVEL: 'warn',
          },
          stdio: ['ignore', 'ignore', 'inherit'],
        });
      const startedAt = Date.now();
      children.push(spawnWorker(), spawnWorker());
      await createOrder(ctx.db, withPostalCode('00504', { patientId: 'PAT-TWO' }));
      await waitFor(async () => receiver.received.length >= 1, 30_000, 'the firing message');
      // Let both run for a few more rounds.
      await new Promise((r) => setTimeout(r, 4000));
      for (const c of children) c.kill('SIGTERM');
      await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : null)));
      const elapsedSeconds = (Date.now() - startedAt) / 1000;

      const [afterRow] = await ctx.db.execute<{ n: number; by: string }>(
        sql`select evaluations::int as n from alert_evaluator`,
      );
      const rounds = afterRow!.n - before!.n;
      assert.ok(rounds >= 2, `evaluated ${rounds} times`);
      // Two processes ticking every second would make ~2 per second without the lock.
      assert.ok(rounds <= elapsedSeconds / 0.9 + 1, `${rounds} rounds in ${elapsedSeconds} s`);
      const firing = await ctx.db.execute(
        sql`select 1 from alerts where status = 'firing' and rule = 'interventions_waiting'`,
      );
      assert.equal(firing.length, 1);
      assert.equal(receiver.received.length, 1, 'one message for the one change');
      assert.equal(
        JSON.parse(receiver.received[0]!.body).commonLabels.alertname,
        'interventions_waiting',
      );
    } finally {
      await receiver.close();
    }
  });
});
