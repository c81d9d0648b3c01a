import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { recordAudit } from '@/db/audit';
import { useApiServer, type As } from '@/test/api-server';
import { insertSagaRows } from '@/test/saga-rows';

/**
 * DESIGN.md's role table: a viewer reads every route, with patient ids masked, street lines
 * hidden and no search by patient id. Operators (and the API token) see patient data whole.
 */
const api = useApiServer({ worker: false });

const PATIENT = 'PAT-MASK-123456';
let sagaId = '';

test('setup: a saga and an audit entry carrying patient data', async () => {
  const [id] = await insertSagaRows(api.db, [
    { state: 'PENDING_SHIPMENT', startedAgo: 10, patientId: PATIENT },
  ]);
  sagaId = id!;
  // An entry carrying patient data, as an action on an order would record it.
  await recordAudit(
    api.db,
    { actor: 'olivia', role: 'operator' },
    {
      action: 'saga.cancel',
      target: sagaId,
      reason: 'patient asked',
      before: { patientId: PATIENT, shippingAddress: { line1: 'Keizersgracht 1', city: 'A' } },
    },
  );
});

const idsFound = async (q: string, as: As) => {
  const res = await api.request(`/api/sagas?q=${encodeURIComponent(q)}`, { as });
  assert.equal(res.status, 200);
  return (res.body.items as { sagaId: string }[]).map((i) => i.sagaId);
};

describe('search by patient id', () => {
  test('an operator and the API token find a saga by its patient id', async () => {
    assert.deepEqual(await idsFound(PATIENT, 'operator'), [sagaId]);
    assert.deepEqual(await idsFound(PATIENT, 'token'), [sagaId]);
  });

  test('for a viewer, q matches order and saga ids only: a patient id finds nothing', async () => {
    assert.deepEqual(await idsFound(PATIENT, 'viewer'), []);
    assert.deepEqual(await idsFound(`ORD-${sagaId}`, 'viewer'), [sagaId]);
    assert.deepEqual(await idsFound(sagaId, 'viewer'), [sagaId]);
  });
});

describe('GET /api/audit', () => {
  const entry = async (as: As) => {
    const res = await api.request(`/api/audit?target=${sagaId}`, { as });
    assert.equal(res.status, 200);
    return JSON.stringify(res.body.items);
  };

  test('a viewer gets the entries masked, as on the Audit page', async () => {
    const text = await entry('viewer');
    assert.ok(!text.includes(PATIENT), text);
    assert.ok(!text.includes('Keizersgracht'), text);
    assert.match(text, /PAT-\*\*\*\*56/);
  });

  test('an operator gets them whole', async () => {
    const text = await entry('operator');
    assert.ok(text.includes(PATIENT));
    assert.ok(text.includes('Keizersgracht 1'));
  });
});
