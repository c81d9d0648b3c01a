import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { cancelSaga } from '@/server/commands/operator-action';
import { createOrder } from '@/server/commands/create-order';
import { setOnHand } from '@/server/commands/set-on-hand';
import { databaseRefusal } from '@/lib/errors';
import { useApiServer, type As } from '@/test/api-server';
import { orderInput } from '@/test/saga-harness';
import { insertSagaRows } from '@/test/saga-rows';

/**
 * Hostile text never yields a 500: a NUL character (which PostgreSQL cannot store) anywhere in
 * a query, a path or a JSON body is a 400 with a JSON error naming where it was, and nothing is
 * stored; so is a cursor that decodes to a value the database would choke on.
 */
const api = useApiServer({ worker: false });

const NUL = '\u0000';
const SAGA = '00000000-0000-4000-8000-000000000000';
const order = orderInput();

/** [what, method, path, body?, as?]: every route that takes text, each of its text inputs. */
const CASES: [string, string, string, unknown?, As?][] = [
  ['sagas q', 'GET', `/api/sagas?q=PAT${NUL}1`],
  ['sagas cursor', 'GET', `/api/sagas?cursor=${NUL}`],
  ['sagas state', 'GET', `/api/sagas?state=COMPLETED${NUL}`],
  ['audit target', 'GET', `/api/audit?target=saga${NUL}`],
  ['audit action', 'GET', `/api/audit?action=${NUL}`],
  ['audit cursor', 'GET', `/api/audit?cursor=1${NUL}`],
  ['stats window', 'GET', `/api/stats?window=1h${NUL}`],
  ['saga id in the path', 'GET', `/api/sagas/${NUL}`],
  ['order id in the path', 'GET', `/api/orders/ORD${NUL}/saga`],
  ['order id', 'POST', '/api/orders', { ...order, orderId: `ORD-${NUL}` }],
  ['patient id', 'POST', '/api/orders', { ...order, patientId: `PAT-1${NUL}` }],
  ['prescriber id', 'POST', '/api/orders', { ...order, prescriberId: `PR${NUL}` }],
  ['sku', 'POST', '/api/orders', { ...order, medications: [{ sku: `AMOX${NUL}`, quantity: 1 }] }],
  ...(['line1', 'city', 'postalCode', 'country'] as const).map(
    (field): [string, string, string, unknown] => [
      `address ${field}`,
      'POST',
      '/api/orders',
      { ...order, shippingAddress: { ...order.shippingAddress, [field]: `x${NUL}y` } },
    ],
  ),
  ['a field name', 'POST', '/api/orders', { ...order, [`note${NUL}`]: 'x' }],
  ['retry reason', 'POST', `/api/sagas/${SAGA}/retry`, { reason: `because${NUL}` }],
  ['cancel reason', 'POST', `/api/sagas/${SAGA}/cancel`, { reason: `because${NUL}` }],
  ['saga id in a write path', 'POST', `/api/sagas/${NUL}/cancel`, { reason: 'because' }],
  ['stock reason', 'PUT', '/api/inventory/AMOX-500', { onHand: 10, reason: `count${NUL}` }],
  ['stock sku in the path', 'PUT', `/api/inventory/AMOX${NUL}`, { onHand: 10 }],
  [
    'fault task and reason',
    'PUT',
    '/api/faults',
    {
      items: [{ task: `reserve-inventory${NUL}`, failureRate: 0, transientRate: 0, latencyMs: 0 }],
      reason: `drill${NUL}`,
    },
  ],
  [
    'sign-in fields',
    'POST',
    '/api/session',
    { username: `admin${NUL}`, password: `x${NUL}` },
    'anonymous',
  ],
];

async function stored() {
  const [row] = await api.db.execute<{ n: number }>(sql`
    select (select count(*)::int from events) + (select count(*)::int from audit_log)
      + (select count(*)::int from orders) as n`);
  return row!.n;
}

describe('a NUL character anywhere: 400 at the boundary, nothing stored', () => {
  for (const [what, method, path, body, as] of CASES) {
    test(what, async () => {
      const before = await stored();
      // The URL keeps a NUL percent-encoded (%00), as a client sends it.
      const res = await api.request(path.replaceAll(NUL, '%00'), { method, body, as });
      assert.equal(res.status, 400, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(typeof res.body.error, 'string');
      assert.ok(Array.isArray(res.body.issues), what);
      assert.equal(await stored(), before, `${what} stored something`);
    });
  }

  test('the issue names where the NUL was', async () => {
    const res = await api.request('/api/orders', {
      method: 'POST',
      body: { ...order, shippingAddress: { ...order.shippingAddress, city: `A${NUL}` } },
    });
    assert.deepEqual(res.body.issues, [
      { path: ['shippingAddress', 'city'], message: 'must not contain a NUL character' },
    ]);
  });
});

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('cursors that decode to impossible values: 400', () => {
  const impossible = [
    ['month 13', '2026-13-01 00:00:00+00'],
    ['30 February', '2026-02-30 10:00:00+00'],
    ['year 0', '0000-01-01 00:00:00+00'],
    ['hour 25', '2026-01-01 25:00:00+00'],
    ['minute 60', '2026-01-01 10:60:00+00'],
    ['offset +99', '2026-01-01 10:00:00+99'],
  ];
  for (const [what, startedAt] of impossible) {
    test(`saga cursor: ${what}`, async () => {
      const res = await api.request(`/api/sagas?cursor=${cursorOf([startedAt, SAGA])}`);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.deepEqual(res.body.issues, [
        { path: ['cursor'], message: 'not a cursor from this API' },
      ]);
    });
  }

  test('a real time still works, a leap day included', async () => {
    const res = await api.request(
      `/api/sagas?cursor=${cursorOf(['2024-02-29 23:59:59.999999+00', SAGA])}`,
    );
    assert.equal(res.status, 200);
  });

  for (const cursor of ['99999999999999999999', '1e300', '-1', '0', '0x10']) {
    test(`audit cursor ${cursor}`, async () => {
      assert.equal((await api.request(`/api/audit?cursor=${cursor}`)).status, 400);
    });
  }
});

describe('past the boundary (server actions call the commands directly)', () => {
  const refusalOf = async (run: () => Promise<unknown>) => {
    const error = await run().then(
      () => assert.fail('expected the command to fail'),
      (e: unknown) => e,
    );
    return databaseRefusal(error);
  };

  test('a NUL that reaches PostgreSQL is a refusal of bad input, and nothing is stored', async () => {
    const [sagaId] = await insertSagaRows(api.db, [{ state: 'PENDING_SHIPMENT', startedAgo: 5 }]);
    const before = await stored();
    const actor = { actor: 'olivia', role: 'operator' as const };
    const refusals = [
      // jsonb (the order's event payload) and text (a stock row's key).
      await refusalOf(() =>
        createOrder(api.db, {
          ...order,
          shippingAddress: { ...order.shippingAddress, city: `A${NUL}` },
        }),
      ),
      await refusalOf(() => setOnHand(api.db, `AMOX${NUL}`, { onHand: 1 }, actor)),
      await refusalOf(() => cancelSaga(api.db, sagaId!, { reason: `because${NUL}` }, actor)),
    ];
    for (const refusal of refusals) assert.equal(refusal?.kind, 'invalid_input');
    assert.equal(await stored(), before);
  });
});
