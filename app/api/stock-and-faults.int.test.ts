import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { useApiServer } from '@/test/api-server';

const api = useApiServer({ worker: false });
const noFaults = { failureRate: 0, transientRate: 0, latencyMs: 0 };

describe('catalog and inventory', () => {
  test('GET /api/catalog and /api/inventory list the items', async () => {
    const catalog = await api.request('/api/catalog');
    assert.equal(catalog.status, 200);
    assert.deepEqual(
      catalog.body.items.find((i: { sku: string }) => i.sku === 'AMOX-500'),
      {
        sku: 'AMOX-500',
        name: 'Amoxicillin 500 mg capsules',
        requiresPrescription: true,
        maxQuantityPerOrder: 3,
      },
    );
    const inventory = await api.request('/api/inventory');
    assert.deepEqual(
      inventory.body.items.find((i: { sku: string }) => i.sku === 'AMOX-500'),
      {
        sku: 'AMOX-500',
        name: 'Amoxicillin 500 mg capsules',
        onHand: 400,
        reserved: 0,
        available: 400,
      },
    );
  });

  test('PUT /api/inventory/:sku sets onHand; refuses below reserved (409), unknown sku (404), bad body (400)', async () => {
    await api.db.execute(sql`update inventory_items set reserved = 30 where sku = 'ATOR-20'`);
    const ok = await api.request('/api/inventory/ATOR-20', { method: 'PUT', body: { onHand: 30 } });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { sku: 'ATOR-20', onHand: 30, reserved: 30, available: 0 });
    const below = await api.request('/api/inventory/ATOR-20', {
      method: 'PUT',
      body: { onHand: 29 },
    });
    assert.equal(below.status, 409);
    assert.match(below.body.error, /reserved/);
    assert.equal(
      (await api.request('/api/inventory/NOPE-1', { method: 'PUT', body: { onHand: 1 } })).status,
      404,
    );
    for (const body of [{ onHand: -1 }, { onHand: 1.5 }, { onHand: '7' }, {}]) {
      assert.equal(
        (await api.request('/api/inventory/ATOR-20', { method: 'PUT', body })).status,
        400,
        JSON.stringify(body),
      );
    }
    const [row] = await api.db.execute<{ on_hand: number }>(
      sql`select on_hand from inventory_items where sku = 'ATOR-20'`,
    );
    assert.equal(row!.on_hand, 30, 'refused changes stored nothing');
  });
});

describe('fault injection', () => {
  test('GET lists every task, off by default; PUT changes the tasks named and is audited', async () => {
    const before = await api.request('/api/faults');
    assert.equal(before.body.items.length, 6);
    assert.ok(
      before.body.items.every(
        (f: { failureRate: number; transientRate: number }) =>
          f.failureRate === 0 && f.transientRate === 0,
      ),
    );
    const res = await api.request('/api/faults', {
      method: 'PUT',
      body: {
        items: [
          { task: 'initiate-shipment', failureRate: 0.25, transientRate: 0.5, latencyMs: 100 },
        ],
        reason: 'drill',
      },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.items.find((f: { task: string }) => f.task === 'initiate-shipment'),
      {
        task: 'initiate-shipment',
        failureRate: 0.25,
        transientRate: 0.5,
        latencyMs: 100,
      },
    );
    const audit = await api.request('/api/audit?action=faults.set');
    assert.equal(audit.body.items[0].target, 'initiate-shipment');
    assert.equal(audit.body.items[0].before[0].failureRate, 0);
    assert.equal(audit.body.items[0].after[0].failureRate, 0.25);
  });

  test('PUT validates each setting: 400 and nothing stored', async () => {
    const bad = [
      { items: [{ task: 'reserve-inventory', ...noFaults, failureRate: 0.7, transientRate: 0.5 }] },
      { items: [{ task: 'reserve-inventory', ...noFaults, latencyMs: 60_001 }] },
      { items: [{ task: 'launch-rocket', ...noFaults }] },
      {
        items: [
          { task: 'reserve-inventory', ...noFaults },
          { task: 'reserve-inventory', ...noFaults },
        ],
      },
      { items: [] },
    ];
    for (const body of bad) {
      const res = await api.request('/api/faults', { method: 'PUT', body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(res.body.issues.length > 0);
    }
    const after = await api.request('/api/faults');
    assert.equal(
      after.body.items.find((f: { task: string }) => f.task === 'reserve-inventory').failureRate,
      0,
    );
  });
});
