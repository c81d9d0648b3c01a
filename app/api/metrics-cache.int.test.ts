import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CREDENTIALS, useApiServer } from '@/test/api-server';
import { metricSample as value } from '@/test/metrics';
import { orderInput } from '@/test/saga-harness';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
// Long enough that nothing in this file outlives the cache.
const api = useApiServer({
  env: { RXSAGA_METRICS_TOKEN: METRICS_TOKEN, RXSAGA_METRICS_CACHE_SECONDS: '300' },
});

const scrape = (token: string | null = METRICS_TOKEN) =>
  api.request<string>('/api/metrics', {
    as: 'anonymous',
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

describe('GET /api/metrics: cached snapshot, one read in flight', () => {
  test('20 concurrent scrapes are answered from one database read', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, () => scrape()));
    for (const res of responses) assert.equal(res.status, 200);
    // The database's clock_timestamp() at the read, to the microsecond: separate reads differ.
    const takenAt = new Set(
      responses.map((r) => value(r.body, 'rxsaga_metrics_snapshot_timestamp_seconds')),
    );
    assert.equal(takenAt.size, 1, `reads: ${[...takenAt].join(', ')}`);
    assert.ok([...takenAt][0]! > 0);
  });

  test('within the cache time a new saga does not cause another read', async () => {
    const before = (await scrape()).body;
    assert.equal(
      (await api.request('/api/orders', { method: 'POST', body: orderInput() })).status,
      201,
    );
    const afterOrder = (await scrape()).body;
    assert.equal(value(afterOrder, 'rxsaga_sagas_started_total'), 0);
    assert.equal(
      value(afterOrder, 'rxsaga_metrics_snapshot_timestamp_seconds'),
      value(before, 'rxsaga_metrics_snapshot_timestamp_seconds'),
    );
  });
});

describe('GET /api/metrics with RXSAGA_METRICS_TOKEN set', () => {
  test('401 without the token, with a wrong one, and with the operator API token', async () => {
    for (const token of [null, 'wrong-token-0123456789abcdef', CREDENTIALS.RXSAGA_API_TOKEN]) {
      const res = await scrape(token);
      assert.equal(res.status, 401, `token ${token}`);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      assert.match((res.body as unknown as { error: string }).error, /RXSAGA_METRICS_TOKEN/);
    }
  });

  test('200 with the token', async () => {
    const res = await scrape();
    assert.equal(res.status, 200);
    assert.match(res.body, /# TYPE rxsaga_sagas_started_total counter/);
  });
});
