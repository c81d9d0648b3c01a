import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { getConnection } from '@/db/client';
import { archiveHistory } from '@/jobs/archive-history';
import { useApiServer } from '@/test/api-server';
import { ageSagas } from '@/test/history';
import { orderInput, waitFor } from '@/test/saga-harness';

const api = useApiServer();
const dir = mkdtempSync(path.join(tmpdir(), 'rxsaga-archive-api-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('an archived saga through the API', () => {
  test('its saga and its order answer 410 with where it is archived; an unknown id stays 404', async () => {
    const created = await api.request('/api/orders', {
      method: 'POST',
      body: orderInput({ orderId: 'ORD-archived-1' }),
    });
    assert.equal(created.status, 201);
    const { sagaId } = created.body;
    await waitFor(
      async () => (await api.request(`/api/sagas/${sagaId}`)).body.state === 'COMPLETED',
      30_000,
      'the saga to complete',
    );
    await ageSagas(api.db, 120, `saga_id = '${sagaId}'`);
    const result = await archiveHistory(getConnection(), { dir, hotDays: 90 });
    assert.equal(result.sagas, 1);

    for (const url of [`/api/sagas/${sagaId}`, '/api/orders/ORD-archived-1/saga']) {
      const res = await api.request(url, { as: 'viewer' });
      assert.equal(res.status, 410, url);
      assert.match(res.body.error, /is archived in .*npm run restore/);
      assert.equal(res.body.archived.sagaId, sagaId);
      assert.equal(res.body.archived.orderId, 'ORD-archived-1');
      assert.equal(res.body.archived.state, 'COMPLETED');
      assert.match(res.body.archived.archiveFile, /^\d{4}\/\d{2}\/sagas-.*\.jsonl\.gz$/);
    }
    assert.equal((await api.request('/api/orders/ORD-never/saga')).status, 404);
    assert.equal(
      (await api.request('/api/sagas/00000000-0000-4000-8000-000000000000')).status,
      404,
    );
  });
});
