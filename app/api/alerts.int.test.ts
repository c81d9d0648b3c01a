import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { useApiServer } from '@/test/api-server';
import { waitFor } from '@/test/saga-harness';
import { insertSagaRows } from '@/test/saga-rows';
import { startWebhookReceiver, type WebhookReceiver } from '@/test/webhook-receiver';

// The receiver starts first: its URL goes into the server's environment.
let receiver: WebhookReceiver;
const env: Record<string, string> = {
  RXSAGA_ALERT_EVALUATE_SECONDS: '1',
  RXSAGA_ALERT_INTERVENTIONS: '2',
  RXSAGA_ALERT_INTERVENTIONS_FOR_SECONDS: '60',
};
before(async () => {
  receiver = await startWebhookReceiver('/hooks/secret-path');
  env.RXSAGA_ALERT_WEBHOOK_URLS = receiver.url;
});
after(() => receiver.close());

// No worker at all: the web process's own alert loop evaluates (instrumentation.ts).
const api = useApiServer({ worker: false, env });

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
    assert.match(firing!.summary, /^2 sagas need intervention, the oldest for (11\d s|2 min)$/);

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
    const lastFiring = items.map((a) => a.status).lastIndexOf('firing');
    const firstResolved = items.findIndex((a) => a.status === 'resolved');
    assert.ok(firstResolved === -1 || lastFiring < firstResolved, 'firing first, then history');
    // A live worker's heartbeat clears it.
    await api.db.execute(
      sql`insert into worker_heartbeats (pool_id, worker_ids, hostname, pid) values ('test-pool', '{}', 'test', 1)`,
    );
    await waitFor(async () => (await noWorker()).length === 0, 20_000, 'no_live_worker to resolve');
  });
});

describe('test alert and deliveries', () => {
  const deliveries = async () => {
    const res = await api.request('/api/alerts/deliveries', { as: 'viewer' });
    assert.equal(res.status, 200);
    return res.body.items as {
      deliveryId: string;
      rule: string;
      change: string;
      target: string;
      status: string;
      attempts: number;
      lastError: string | null;
    }[];
  };

  test('sending a test alert needs an admin; it reaches the webhook and is listed', async () => {
    assert.equal(
      (await api.request('/api/alerts/test', { method: 'POST', as: 'anonymous' })).status,
      401,
    );
    assert.equal(
      (await api.request('/api/alerts/test', { method: 'POST', as: 'viewer' })).status,
      403,
    );
    for (const as of ['operator', 'token'] as const)
      assert.equal(
        (await api.request('/api/alerts/test', { method: 'POST', as })).status,
        403,
        `a test alert as ${as}`,
      );
    const before = receiver.received.length;
    const sent = await api.request('/api/alerts/test', { method: 'POST', as: 'admin' });
    assert.equal(sent.status, 202);
    assert.deepEqual(sent.body, { deliveries: 1 });
    const testMessage = () =>
      receiver.received
        .slice(before)
        .map((m) => JSON.parse(m.body))
        .find((m) => m.commonLabels.alertname === 'rxsaga_test');
    await waitFor(async () => testMessage() !== undefined, 20_000, 'the test message');
    const message = testMessage();
    assert.equal(message.commonLabels.alertname, 'rxsaga_test');
    assert.match(message.commonAnnotations.summary, /sent by admin /);
    await waitFor(async () =>
      (await deliveries()).some((d) => d.change === 'test' && d.status === 'delivered'),
    );
    const listed = (await deliveries()).find((d) => d.change === 'test')!;
    assert.equal(
      listed.target,
      new URL(receiver.url).origin + '/…',
      'the URL path (a secret) is not shown',
    );
    const audit = await api.request('/api/audit?action=alerts.send_test', { as: 'token' });
    assert.equal(audit.status, 200);
    const entries = (audit.body as { items: { actor: string }[] }).items;
    assert.ok(
      entries.some((e) => e.actor === 'admin'),
      JSON.stringify(entries),
    );
  });

  test('a failing delivery is listed as failing and can be retried at once', async () => {
    receiver.respond = () => 503;
    const sent = await api.request('/api/alerts/test', { method: 'POST', as: 'admin' });
    assert.equal(sent.status, 202);
    await waitFor(
      async () => (await deliveries()).some((d) => d.status === 'failing'),
      20_000,
      'a failing delivery',
    );
    const failing = (await deliveries()).find((d) => d.status === 'failing')!;
    assert.match(failing.lastError!, /^HTTP 503/);
    assert.equal(
      (
        await api.request(`/api/alerts/deliveries/${failing.deliveryId}/retry`, {
          method: 'POST',
          as: 'viewer',
        })
      ).status,
      403,
    );

    receiver.respond = () => 200;
    const retried = await api.request(`/api/alerts/deliveries/${failing.deliveryId}/retry`, {
      method: 'POST',
    });
    assert.equal(retried.status, 202);
    await waitFor(
      async () =>
        (await deliveries()).find((d) => d.deliveryId === failing.deliveryId)?.status ===
        'delivered',
      20_000,
      'the retried delivery',
    );
    const again = await api.request(`/api/alerts/deliveries/${failing.deliveryId}/retry`, {
      method: 'POST',
    });
    assert.equal(again.status, 409);
    assert.equal(
      (await api.request('/api/alerts/deliveries/not-a-uuid/retry', { method: 'POST' })).status,
      404,
    );
    assert.equal(
      (
        await api.request('/api/alerts/deliveries/00000000-0000-4000-8000-000000000000/retry', {
          method: 'POST',
        })
      ).status,
      404,
    );
  });
});
