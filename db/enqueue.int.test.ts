import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { createOrder } from '@/lib/commands/create-order';
import { jobKey } from '@/lib/saga/model';
import { orderInput, useSagaTestDatabase } from '@/test/saga-harness';
import { enqueueTask } from './enqueue';

const ctx = useSagaTestDatabase();

type JobRow = {
  id: string;
  key: string | null;
  locked_at: Date | null;
  attempts: number;
  max_attempts: number;
  run_at: string;
};

async function jobsOf(sagaId: string): Promise<JobRow[]> {
  return ctx.db.execute<JobRow>(sql`
    select id::text, key, locked_at, attempts, max_attempts, run_at from graphile_worker._private_jobs
    where payload->>'sagaId' = ${sagaId} order by id`);
}

/** enqueueTask writes graphile-worker's job table itself; these are add_job's keyed-job rules. */
describe('enqueueTask', () => {
  test('a queued job with the same key is replaced, not doubled', async () => {
    const { sagaId } = await createOrder(ctx.db, orderInput({ patientId: 'PAT-ENQ-1' }));
    const later = new Date(Date.now() + 60_000);
    await ctx.db.transaction((tx) => enqueueTask(tx, sagaId, 'create-prescription', later));
    const jobs = await jobsOf(sagaId);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]!.key, jobKey(sagaId, 'create-prescription'));
    assert.equal(new Date(jobs[0]!.run_at).getTime(), later.getTime());
  });

  test('a job a worker holds keeps running without its key and is not retried; a new one is queued', async () => {
    const { sagaId } = await createOrder(ctx.db, orderInput({ patientId: 'PAT-ENQ-2' }));
    const key = jobKey(sagaId, 'create-prescription');
    const [held] = await ctx.db.execute<{ id: string }>(sql`
      update graphile_worker._private_jobs set locked_at = now(), locked_by = 'test-worker', attempts = 1
      where key = ${key} returning id::text`);

    await ctx.db.transaction((tx) => enqueueTask(tx, sagaId, 'create-prescription', null));

    const jobs = await jobsOf(sagaId);
    assert.equal(jobs.length, 2);
    const old = jobs.find((j) => j.id === held!.id)!;
    const fresh = jobs.find((j) => j.id !== held!.id)!;
    assert.equal(old.key, null, 'the held job gave its key up');
    assert.equal(old.attempts, old.max_attempts, 'and will not be retried');
    assert.ok(old.locked_at, 'but keeps running');
    assert.equal(fresh.key, key);
    assert.equal(fresh.locked_at, null);
    assert.equal(fresh.attempts, 0);
  });
});
