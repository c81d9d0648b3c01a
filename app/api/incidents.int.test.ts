import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { useApiServer } from '@/test/api-server';
import { waitFor } from '@/test/saga-harness';

const api = useApiServer();

const order = {
  patientId: 'PAT-INC-1',
  prescriberId: 'PR-1001',
  medications: [{ sku: 'AMOX-500', quantity: 1 }],
  shippingAddress: { line1: '1 Dam', city: 'Amsterdam', postalCode: '1012AB', country: 'NL' },
};

describe('incident tooling over HTTP', () => {
  test('pause and resume: roles, 404, 400, the shapes of DESIGN.md; a held saga carries pausedAt', async () => {
    assert.equal((await api.request('/api/pauses', { as: 'anonymous' })).status, 401);
    const viewerPause = await api.request('/api/tasks/initiate-shipment/pause', {
      method: 'POST',
      body: { reason: 'nope' },
      as: 'viewer',
    });
    assert.equal(viewerPause.status, 403);
    const unknown = await api.request('/api/tasks/ship-it/pause', {
      method: 'POST',
      body: { reason: 'x y z' },
    });
    assert.equal(unknown.status, 404);
    assert.equal(typeof unknown.body.error, 'string');
    const noReason = await api.request('/api/tasks/initiate-shipment/pause', {
      method: 'POST',
      body: {},
    });
    assert.equal(noReason.status, 400);
    assert.ok(noReason.body.issues.length > 0);
    assert.deepEqual(
      (await api.request('/api/pauses')).body,
      { items: [] },
      'refusals stored nothing',
    );

    const paused = await api.request('/api/tasks/initiate-shipment/pause', {
      method: 'POST',
      body: { reason: 'carrier down' },
    });
    assert.equal(paused.status, 200);
    assert.deepEqual(paused.body, { task: 'initiate-shipment', paused: true });
    const pauses = await api.request('/api/pauses', { as: 'viewer' });
    assert.equal(pauses.status, 200);
    assert.equal(pauses.body.items.length, 1);
    const [p] = pauses.body.items;
    assert.deepEqual(Object.keys(p).sort(), ['pausedAt', 'pausedBy', 'reason', 'task']);
    assert.equal(p.reason, 'carrier down');
    assert.ok(!Number.isNaN(Date.parse(p.pausedAt)));

    const created = await api.request('/api/orders', { method: 'POST', body: order });
    assert.equal(created.status, 201);
    const sagaId = created.body.sagaId;
    await waitFor(
      async () => (await api.request(`/api/sagas/${sagaId}`)).body.pausedAt !== null,
      20_000,
      'held',
    );
    const held = (await api.request(`/api/sagas/${sagaId}`)).body;
    assert.equal(held.state, 'PENDING_SHIPMENT');
    const listed = (await api.request(`/api/sagas?q=${created.body.orderId}`)).body.items[0];
    assert.equal(listed.pausedAt, held.pausedAt);
    const tasks = (await api.request('/api/tasks')).body.items;
    assert.equal(tasks.find((t: { task: string }) => t.task === 'initiate-shipment').waiting, 1);

    const resumed = await api.request('/api/tasks/initiate-shipment/resume', {
      method: 'POST',
      body: { reason: 'carrier back' },
    });
    assert.deepEqual(
      [resumed.status, resumed.body],
      [200, { task: 'initiate-shipment', paused: false }],
    );
    await waitFor(
      async () => (await api.request(`/api/sagas/${sagaId}`)).body.state === 'COMPLETED',
      30_000,
      'completed',
    );
    assert.equal((await api.request(`/api/sagas/${sagaId}`)).body.pausedAt, null);
    const audit = (await api.request('/api/audit?target=initiate-shipment')).body.items;
    assert.deepEqual(audit.map((a: { action: string; actor: string }) => a.action).sort(), [
      'task.pause',
      'task.resume',
    ]);
  });

  test('failure groups and bulk operations: dry run 200, real 202, progress, history, cancel 409, 404s', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const r = await api.request('/api/orders', {
        method: 'POST',
        body: { ...order, shippingAddress: { ...order.shippingAddress, postalCode: '00504' } },
      });
      ids.push(r.body.sagaId);
    }
    await waitFor(
      async () => (await api.request('/api/sagas?needsIntervention=true')).body.items.length === 3,
      60_000,
      'flagged',
    );
    const groups = await api.request('/api/failure-groups', { as: 'viewer' });
    assert.equal(groups.status, 200);
    const [group] = groups.body.items;
    assert.equal(groups.body.items.length, 1);
    for (const key of ['groupId', 'task', 'kind', 'error', 'count', 'firstSeenAt', 'lastSeenAt']) {
      assert.ok(key in group, key);
    }
    assert.equal(group.count, 3);
    assert.equal(group.error, 'carrier gateway timeout (<n>)');

    const viewer = await api.request('/api/bulk-operations', {
      method: 'POST',
      body: { action: 'cancel', filter: { groupId: group.groupId }, reason: 'x y z', dryRun: true },
      as: 'viewer',
    });
    assert.equal(viewer.status, 403);
    const bad = await api.request('/api/bulk-operations', {
      method: 'POST',
      body: { action: 'cancel', filter: {}, reason: 'x y z' },
    });
    assert.equal(bad.status, 400);
    const dry = await api.request('/api/bulk-operations', {
      method: 'POST',
      body: { action: 'cancel', filter: { groupId: group.groupId }, dryRun: true },
    });
    assert.equal(dry.status, 200);
    assert.deepEqual(Object.keys(dry.body).sort(), ['matched', 'sample']);
    assert.equal(dry.body.matched, 3);
    assert.deepEqual([...dry.body.sample].sort(), [...ids].sort());
    const [stored] = await api.db.execute<{ n: number }>(
      sql`select count(*)::int as n from bulk_operations`,
    );
    assert.equal(stored?.n, 0, 'the dry run stored nothing');

    const real = await api.request('/api/bulk-operations', {
      method: 'POST',
      body: { action: 'cancel', filter: { groupId: group.groupId }, reason: 'carrier gone' },
    });
    assert.equal(real.status, 202);
    assert.deepEqual(Object.keys(real.body).sort(), ['matched', 'operationId']);
    const url = `/api/bulk-operations/${real.body.operationId}`;
    await waitFor(async () => (await api.request(url)).body.status === 'done', 30_000, 'done');
    const done = (await api.request(url, { as: 'viewer' })).body;
    assert.deepEqual(Object.keys(done).sort(), [
      'action',
      'actor',
      'createdAt',
      'failed',
      'filter',
      'finishedAt',
      'operationId',
      'reason',
      'skipped',
      'status',
      'succeeded',
      'total',
    ]);
    assert.deepEqual(
      [done.action, done.actor, done.total, done.succeeded, done.skipped, done.failed],
      ['cancel', 'api', 3, 3, 0, 0],
    );
    assert.deepEqual(done.filter, { groupId: group.groupId });
    const cancelDone = await api.request(`${url}/cancel`, { method: 'POST' });
    assert.equal(cancelDone.status, 409);

    const second = await api.request('/api/bulk-operations', {
      method: 'POST',
      body: { action: 'retry', filter: { sagaIds: ids }, reason: 'they are cancelled now' },
    });
    assert.equal(second.status, 202);
    const history = await api.request('/api/bulk-operations?limit=1');
    assert.equal(history.body.items[0].operationId, second.body.operationId, 'newest first');
    assert.ok(history.body.nextCursor);
    const older = await api.request(
      `/api/bulk-operations?limit=1&cursor=${history.body.nextCursor}`,
    );
    assert.equal(older.body.items[0].operationId, real.body.operationId);
    assert.equal(older.body.nextCursor, null);
    assert.equal((await api.request('/api/bulk-operations?cursor=bm9wZQ')).status, 400);
    assert.equal((await api.request('/api/bulk-operations/not-a-uuid')).status, 404);
    assert.equal(
      (await api.request('/api/bulk-operations/00000000-0000-4000-8000-000000000000')).status,
      404,
    );
    assert.equal(
      (
        await api.request('/api/bulk-operations/00000000-0000-4000-8000-000000000000/cancel', {
          method: 'POST',
        })
      ).status,
      404,
    );
  });
});
