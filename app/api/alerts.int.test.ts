import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { useApiServer } from '@/test/api-server';
import { waitFor } from '@/test/saga-harness';
import { insertSagaRows } from '@/test/saga-rows';

// No worker at all: the web process's own alert loop evaluates (instrumentation.ts).
const api = useApiServer({
  worker: false,
  env: {
    RXSAGA_ALERT_EVALUATE_SECONDS: '1',
    RXSAGA_ALERT_INTERVENTIONS: '2',
    RXSAGA_ALERT_INTERVENTIONS_FOR_SECONDS: '60',
  },
});

const alerts = async () => {
  const res = await api.request('/api/alerts', { as: 'viewer' });
  assert.equal(res.status, 200);
  return res.body.items as {
    alertId: string;
    rule: string;
    status: string;
    summary: string;
    startedAt: string;
    resolvedAt: string | null;
  }[];
};

const waiting = async () => (await alerts()).filter((a) => a.rule === 'interventions_waiting');

describe('GET /api/alerts', () => {
  test('needs a signed-in user or the token', async () => {
    assert.equal((await api.request('/api/alerts', { as: 'anonymous' })).status, 401);
    assert.equal((await api.request('/api/alerts', { as: 'token' })).status, 200);
  });

  test('the web process evaluates: an alert fires, shows first, and resolves into history', async () => {
    assert.deepEqual(await alerts(), []);
    // Two flagged sagas, the oldest flagged 2 minutes ago: over both thresholds.
    const ids = await insertSagaRows(api.db, [
      { state: 'PENDING_SHIPMENT', startedAgo: 120, needsIntervention: true },
      { state: 'PENDING_SHIPMENT', startedAgo: 30, needsIntervention: true },
    ]);
    await waitFor(
      async () => (await waiting()).some((a) => a.status === 'firing'),
      20_000,
      'the alert to fire',
    );
    const [firing] = await waiting();
    assert.deepEqual(Object.keys(firing!).sort(), [
      'alertId',
      'resolvedAt',
      'rule',
      'startedAt',
      'status',
      'summary',
    ]);
    assert.equal(firing!.rule, 'interventions_waiting');
    assert.equal(firing!.resolvedAt, null);
    assert.match(firing!.summary, /^2 sagas need intervention, the oldest for 2 min$/);

    // One left flagged: below the count, so it resolves; the row moves to history.
    await api.db.execute(
      sql`update order_fulfillment_sagas set needs_intervention = false where saga_id = ${ids[0]!}`,
    );
    await waitFor(
      async () => (await waiting())[0]?.status === 'resolved',
      20_000,
      'the alert to resolve',
    );
    const [resolved] = await waiting();
    assert.equal(resolved!.alertId, firing!.alertId);
    assert.ok(Date.parse(resolved!.resolvedAt!) >= Date.parse(firing!.startedAt));

    // Back over the threshold: a new alert, listed before the old one.
    await api.db.execute(
      sql`update order_fulfillment_sagas set needs_intervention = true where saga_id = ${ids[0]!}`,
    );
    await waitFor(
      async () => (await waiting())[0]?.status === 'firing',
      20_000,
      'the alert to fire again',
    );
    const all = await waiting();
    assert.deepEqual(
      all.map((a) => a.status),
      ['firing', 'resolved'],
    );
    assert.notEqual(all[0]!.alertId, firing!.alertId);
  });

  test('no worker heartbeat while sagas wait over a minute: no_live_worker, raised by the web process', async () => {
    // The flagged sagas above were last updated minutes ago, and no worker ever beat.
    const noWorker = async () =>
      (await alerts()).filter((a) => a.rule === 'no_live_worker' && a.status === 'firing');
    await waitFor(async () => (await noWorker()).length === 1, 20_000, 'no_live_worker');
    const items = await alerts();
    const firstResolved = items.findIndex((a) => a.status === 'resolved');
    assert.ok(
      items.slice(firstResolved).every((a) => a.status === 'resolved'),
      'firing first, then history',
    );
    // A live worker's heartbeat clears it.
    await api.db.execute(
      sql`insert into worker_heartbeats (pool_id, worker_ids, hostname, pid) values ('test-pool', '{}', 'test', 1)`,
    );
    await waitFor(async () => (await noWorker()).length === 0, 20_000, 'no_live_worker to resolve');
  });
});
