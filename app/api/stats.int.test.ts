import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useApiServer } from '@/test/api-server';
import { insertCompensationEvent, insertSagaRows } from '@/test/saga-rows';

const api = useApiServer({ worker: false });
const stats = async (window?: string) => {
  const res = await api.request(`/api/stats${window ? `?window=${window}` : ''}`);
  assert.equal(res.status, 200);
  return res.body;
};

describe('GET /api/stats', () => {
  test('no sagas: zero counts, and null where there is nothing to measure', async () => {
    const s = await stats();
    assert.equal(s.window, '24h');
    assert.equal(s.total, 0);
    assert.equal(s.successRate, null);
    assert.equal(s.avgDurationSeconds, null);
    assert.equal(s.p50DurationSeconds, null);
    assert.equal(s.p95DurationSeconds, null);
    assert.equal(s.compensationFrequency, null);
    assert.equal(
      Object.values(s.countsByState).every((n) => n === 0),
      true,
    );
    assert.equal(s.bucketSeconds, 3600);
    assert.ok(s.series.length >= 24 && s.series.length <= 25);
    assert.equal((await stats('all')).total, 0);
  });

  test('only in-flight sagas: counted, but no rates or durations', async () => {
    await insertSagaRows(api.db, [
      { state: 'PENDING_PRESCRIPTION', startedAgo: 120 },
      { state: 'PENDING_SHIPMENT', startedAgo: 60, needsIntervention: true },
    ]);
    const s = await stats('1h');
    assert.equal(s.total, 2);
    assert.equal(s.inFlight, 2);
    assert.equal(s.needsIntervention, 1);
    assert.equal(s.successRate, null);
    assert.equal(s.p95DurationSeconds, null);
    assert.equal(s.compensationFrequency, null);
    assert.equal(s.countsByState.PENDING_SHIPMENT, 1);
  });

  test('known sagas give known figures, per window', async () => {
    await insertSagaRows(api.db, [
      { state: 'COMPLETED', startedAgo: 600, durationSeconds: 10 },
      { state: 'COMPLETED', startedAgo: 900, durationSeconds: 20 },
      { state: 'COMPLETED', startedAgo: 1200, durationSeconds: 30 },
      {
        state: 'CANCELLED',
        startedAgo: 1500,
        durationSeconds: 40,
        compensations: ['cancel-order'],
      },
      // Outside 1h, inside 24h: a cancelled saga that compensated three steps.
      {
        state: 'CANCELLED',
        startedAgo: 3 * 3600,
        durationSeconds: 100,
        compensations: ['release-inventory', 'cancel-prescription', 'cancel-order'],
      },
      // Outside 7d: only in `all`.
      { state: 'COMPLETED', startedAgo: 8 * 86_400, durationSeconds: 5 },
    ]);
    await insertCompensationEvent(api.db, 'order.cancelled', 1500 - 40);
    await insertCompensationEvent(api.db, 'order.inventory_released', 3 * 3600 - 90);

    const hour = await stats('1h');
    assert.equal(hour.total, 6);
    assert.equal(hour.successRate, 0.75);
    assert.equal(hour.avgDurationSeconds, 25);
    assert.equal(hour.p50DurationSeconds, 25);
    assert.equal(hour.p95DurationSeconds, 38.5); // percentile_cont: 30 + 0.85 × (40 − 30)
    assert.equal(hour.compensationFrequency, 0.25);
    assert.equal(hour.countsByState.COMPLETED, 3);
    assert.equal(hour.countsByState.CANCELLED, 1);
    assert.deepEqual(
      hour.compensationsByTask.find((c: { task: string }) => c.task === 'cancel-order'),
      { task: 'cancel-order', count: 1 },
    );
    const sum = (key: string, series: Record<string, number>[]) =>
      series.reduce((n, b) => n + (b[key] ?? 0), 0);
    assert.equal(sum('completed', hour.series), 3);
    assert.equal(sum('cancelled', hour.series), 1);
    assert.equal(sum('started', hour.series), 6);
    assert.equal(sum('compensations', hour.series), 1);
    assert.equal(hour.bucketSeconds, 300);

    const day = await stats('24h');
    assert.equal(day.total, 7);
    assert.equal(day.successRate, 0.6);
    assert.equal(day.avgDurationSeconds, 40);
    assert.equal(day.compensationFrequency, 0.4);
    assert.equal(sum('compensations', day.series), 2);

    const all = await stats('all');
    assert.equal(all.total, 8);
    assert.equal(all.successRate, 4 / 6);
    assert.equal(all.p50DurationSeconds, 25);
    assert.ok(all.series.length <= 49);
  });

  test('400 for an unknown window', async () => {
    const res = await api.request('/api/stats?window=2w');
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.issues[0].path, ['window']);
  });
});
