import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useApiServer } from '@/test/api-server';
import { metricSample as sample } from '@/test/metrics';
import { orderInput, waitFor, withPostalCode } from '@/test/saga-harness';

// Fresh figures on every poll below; the cache itself is tested in metrics-cache.int.test.ts.
const api = useApiServer({ env: { RXSAGA_METRICS_CACHE_SECONDS: '1' } });

describe('GET /api/metrics', () => {
  test('open to anyone, in the Prometheus text format, before any saga ran', async () => {
    const res = await api.request('/api/metrics', { as: 'anonymous' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.equal(sample(res.body, 'rxsaga_sagas_started_total'), 0);
    assert.equal(sample(res.body, 'rxsaga_saga_duration_seconds_count'), 0);
    assert.match(res.body, /# TYPE rxsaga_saga_duration_seconds histogram/);
    assert.match(res.body, /# TYPE rxsaga_sagas_started_total counter/);
    assert.match(res.body, /# TYPE rxsaga_sagas_in_flight gauge/);
    // The alert rules' facts, for deploy/prometheus/rxsaga-alerts.yml.
    assert.equal(sample(res.body, 'rxsaga_oldest_intervention_age_seconds'), 0);
    assert.equal(sample(res.body, 'rxsaga_sagas_stalled'), 0);
    assert.equal(sample(res.body, 'rxsaga_oldest_runnable_job_age_seconds'), 0);
    assert.match(res.body, /^rxsaga_worker_heartbeat_age_seconds \S+$/m);
  });

  test('after sagas ran: counters, histogram and gauges match what happened', async () => {
    const orders = [orderInput(), orderInput(), withPostalCode('00000'), withPostalCode('00504')];
    for (const body of orders)
      assert.equal((await api.request('/api/orders', { method: 'POST', body })).status, 201);
    let text = '';
    await waitFor(
      async () => {
        text = (await api.request('/api/metrics', { as: 'anonymous' })).body;
        return (
          sample(text, 'rxsaga_sagas_completed_total') === 2 &&
          sample(text, 'rxsaga_sagas_cancelled_total') === 1 &&
          sample(text, 'rxsaga_sagas_needing_intervention') === 1
        );
      },
      30_000,
      'sagas to settle in the metrics',
    );

    assert.equal(sample(text, 'rxsaga_sagas_started_total'), 4);
    assert.equal(sample(text, 'rxsaga_sagas_in_flight'), 1);
    for (const task of ['release-inventory', 'cancel-prescription', 'cancel-order']) {
      assert.equal(sample(text, `rxsaga_compensations_total{task="${task}"}`), 1, task);
    }
    assert.equal(
      sample(text, 'rxsaga_step_failures_total{task="initiate-shipment",kind="business"}'),
      1,
    );
    assert.equal(
      sample(text, 'rxsaga_step_failures_total{task="initiate-shipment",kind="transient"}'),
      2,
    );
    assert.equal(
      sample(text, 'rxsaga_step_failures_total{task="initiate-shipment",kind="intervention"}'),
      1,
    );
    assert.equal(
      sample(text, 'rxsaga_step_failures_total{task="create-prescription",kind="business"}'),
      0,
    );
    assert.equal(sample(text, 'rxsaga_saga_duration_seconds_count'), 3);
    assert.equal(sample(text, 'rxsaga_saga_duration_seconds_bucket{le="+Inf"}'), 3);
    assert.equal(sample(text, 'rxsaga_saga_duration_seconds_bucket{le="3600"}'), 3);
    assert.ok((sample(text, 'rxsaga_saga_duration_seconds_sum') ?? 0) > 0);
    assert.equal(sample(text, 'rxsaga_jobs_queued{task="initiate-shipment"}'), 0);
  });
});
