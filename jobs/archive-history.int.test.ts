import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { archiveScan, findArchivedSaga } from '@/db/archive';
import { getConnection } from '@/db/client';
import { readMetricsSnapshot } from '@/db/queries/metrics';
import { getStats } from '@/db/queries/stats';
import { replayProjections } from '@/db/replay';
import { archiveHistory, restoreArchive } from '@/jobs/archive-history';
import { archiveManifestSchema } from '@/lib/archive/archive-file';
import { createOrder } from '@/server/commands/create-order';
import { resetEnvForTests } from '@/lib/env';
import {
  orderInput,
  reservationMismatches,
  useSagaTestDatabase,
  waitFor,
  waitForSettled,
  withPostalCode,
  withWorker,
} from '@/test/saga-harness';
import { ageSagas, HOT_TABLES } from '@/test/history';
import { countersOf, exactCounters } from '@/test/metrics';

const ctx = useSagaTestDatabase();
const run = promisify(execFile);
const scratch = mkdtempSync(path.join(tmpdir(), 'rxsaga-archive-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Every row the archive may touch, as JSON text from PostgreSQL (exact to the microsecond). */
async function snapshot() {
  const out: Record<string, unknown> = {};
  for (const t of [...HOT_TABLES, 'events']) {
    const rows = await ctx.db.execute<{ j: string }>(
      sql.raw(`select to_jsonb(x)::text as j from ${t} x order by 1`),
    );
    out[t] = rows.map((r) => r.j);
  }
  out.inventory = await ctx.db.execute(
    sql`select sku, on_hand - reserved as available from inventory_items order by sku`,
  );
  out.rollup = await ctx.db.execute(sql`
    select started_hour::text, finished_hour::text, duration_bucket, sum(completed)::int as completed,
      sum(cancelled)::int as cancelled, sum(compensated)::int as compensated,
      sum(needs_intervention)::int as needs_intervention, sum(duration_micros_sum)::text as micros
    from saga_stats_hourly group by 1, 2, 3 having sum(completed + cancelled) <> 0 order by 1, 2, 3`);
  out.signals = await ctx.db.execute(
    sql`select hour::text, type, task, sum(count)::int from signal_event_stats_hourly group by 1, 2, 3 order by 1, 2, 3`,
  );
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}

/** The scrape's all-time figures (counters, histogram): archiving must not change them. */
const counters = async () => countersOf(await readMetricsSnapshot(ctx.db));

const count = async (query: string) =>
  (await ctx.db.execute<{ n: number }>(sql.raw(`select count(*)::int as n from ${query}`)))[0]!.n;

describe('archive and restore', () => {
  let before: Record<string, unknown>;
  let statsBefore: unknown;
  let oldFinished: number;
  let metricsBefore: Awaited<ReturnType<typeof counters>>;

  test('finished sagas older than the hot window move to verified files; stats do not change', async () => {
    const inputs = [
      orderInput(),
      orderInput({ prescriberId: 'PR-REVOKED' }),
      orderInput({
        medications: [
          { sku: 'INSU-GLAR', quantity: 2 },
          { sku: 'CETI-10', quantity: 1 },
        ],
      }),
      withPostalCode('00000'),
      withPostalCode('00503'),
      withPostalCode('00504'),
    ];
    for (let i = 0; i < 4; i++) for (const input of inputs) await createOrder(ctx.db, input);
    await withWorker(() => waitForSettled(ctx.db));
    // All but the last six are history: 100 days old. The 00504 sagas wait for a human (in
    // flight, however old) and must stay.
    await ageSagas(
      ctx.db,
      100,
      `saga_id not in (select saga_id from order_fulfillment_sagas order by started_at desc limit 6)`,
    );
    // Projections are what a replay makes of the aged events, so replay can be compared below.
    await replayProjections(ctx.db);
    await ctx.db.execute(sql`select rebuild_stats_rollups()`);
    oldFinished = await count(
      `order_fulfillment_sagas where saga_state_is_terminal(state) and completed_at < now() - interval '90 days'`,
    );
    assert.ok(oldFinished >= 12, `${oldFinished} old finished sagas`);
    before = await snapshot();
    // The rollups' figures (what `all` reads once history is long, and always beside an archive).
    statsBefore = await getStats(ctx.db, 'all', { rollupMinFinished: 0 });
    metricsBefore = await counters();
    assert.deepEqual(metricsBefore, await exactCounters(ctx.db));

    const progress: number[] = [];
    const dir = path.join(scratch, 'a');
    const result = await archiveHistory(getConnection(), {
      dir,
      hotDays: 90,
      batchSize: 5,
      onProgress: (p) => progress.push(p.sagas),
    });
    assert.equal(result.sagas, oldFinished);
    assert.equal(result.files, Math.ceil(oldFinished / 5));
    assert.equal(progress.at(-1), oldFinished);
    assert.equal(await count('archived_sagas'), oldFinished);
    assert.equal(
      await count(`order_fulfillment_sagas where completed_at < now() - interval '90 days'`),
      0,
    );
    // Nothing of an archived saga is left in the hot tables, in-flight old sagas stay.
    for (const t of HOT_TABLES)
      assert.equal(await count(`${t} where saga_id in (select saga_id from archived_sagas)`), 0, t);
    assert.equal(
      await count(
        `events where (metadata->>'correlationId')::uuid in (select saga_id from archived_sagas)`,
      ),
      0,
    );
    assert.ok((await count(`order_fulfillment_sagas where needs_intervention`)) > 0);

    // Each file has a manifest that matches the catalogue.
    const manifests = readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.manifest.json'))
      .map((f) => archiveManifestSchema.parse(JSON.parse(readFileSync(path.join(dir, f), 'utf8'))));
    assert.equal(manifests.length, result.files);
    assert.equal(
      manifests.reduce((n, m) => n + m.sagas, 0),
      oldFinished,
    );
    for (const m of manifests) {
      assert.ok(existsSync(path.join(dir, m.file)));
      assert.equal(await count(`archived_sagas where archive_file = '${m.file}'`), m.sagas);
    }

    // All-time figures, stock available and the rollups are what they were.
    assert.deepEqual(await getStats(ctx.db, 'all', { rollupMinFinished: 0 }), statsBefore);
    assert.deepEqual(await counters(), metricsBefore);
    const now = await snapshot();
    assert.deepEqual(now.rollup, before.rollup);
    assert.deepEqual(now.signals, before.signals);
    assert.deepEqual(now.inventory, before.inventory);
    assert.deepEqual(await reservationMismatches(ctx.db), []);

    // A second run finds nothing to do.
    const again = await archiveHistory(getConnection(), { dir, hotDays: 90 });
    assert.equal(again.sagas, 0);
  });

  test("a batch's scan walks sagas_started_at_idx in its order, sorting nothing (EXPLAIN)", async () => {
    const plan = await ctx.db.transaction(async (tx) => {
      // The test's tables are tiny: without these the planner may read them whole either way.
      await tx.execute(sql`set local enable_seqscan = off`);
      await tx.execute(sql`set local enable_bitmapscan = off`);
      const explain = async (after: Parameters<typeof archiveScan>[2]) =>
        (await tx.execute<{ 'QUERY PLAN': string }>(sql`explain ${archiveScan(90, 4000, after)}`))
          .map((r) => r['QUERY PLAN'])
          .join('\n');
      return [
        await explain(null),
        await explain({ startedAt: '2026-01-01 00:00:00+00', sagaId: crypto.randomUUID() }),
      ];
    });
    for (const p of plan) {
      assert.match(p, /Index Scan Backward using sagas_started_at_idx/, p);
      assert.doesNotMatch(p, /Sort/, p);
    }
  });

  test('an archived saga is findable by saga id and order id', async () => {
    const [one] = await ctx.db.execute<{ saga_id: string; order_id: string; archive_file: string }>(
      sql`select saga_id, order_id, archive_file from archived_sagas limit 1`,
    );
    assert.equal((await findArchivedSaga(ctx.db, one!.saga_id))?.archiveFile, one!.archive_file);
    assert.equal((await findArchivedSaga(ctx.db, one!.order_id))?.sagaId, one!.saga_id);
    assert.equal(await findArchivedSaga(ctx.db, 'ORD-NOT-THERE'), null);
  });

  test('replay works beside an archive: hot projections and all-time stats are unchanged', async () => {
    const hot = await snapshot();
    await ctx.db.execute(sql`update order_fulfillment_sagas set attempts = 9`);
    await replayProjections(ctx.db);
    assert.deepEqual(await snapshot(), hot);
    assert.deepEqual(await getStats(ctx.db, 'all', { rollupMinFinished: 0 }), statsBefore);
    assert.deepEqual(await counters(), metricsBefore);
  });

  test('npm run restore brings one saga back by order id, exactly', async () => {
    const [one] = await ctx.db.execute<{ saga_id: string; order_id: string }>(
      sql`select saga_id, order_id from archived_sagas order by order_id limit 1`,
    );
    const { stdout } = await run('node', ['--import', 'tsx', 'scripts/restore.ts', one!.order_id], {
      env: { ...process.env, DATABASE_URL: ctx.url, RXSAGA_ARCHIVE_DIR: path.join(scratch, 'a') },
    });
    assert.match(stdout, /restored 1 sagas from /);
    assert.equal(await count(`order_fulfillment_sagas where saga_id = '${one!.saga_id}'`), 1);
    assert.equal(await count(`archived_sagas where saga_id = '${one!.saga_id}'`), 0);
    const events = (before.events as string[]).filter((e) => e.includes(one!.saga_id)).length;
    assert.ok(events > 0);
    assert.equal(
      await count(`events where metadata->>'correlationId' = '${one!.saga_id}'`),
      events,
    );
  });

  test('restoring every file gives back exactly what was archived, and replay agrees', async () => {
    const dir = path.join(scratch, 'a');
    const files = readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.jsonl.gz'));
    let restored = 0;
    let skipped = 0;
    for (const f of files) {
      const r = await restoreArchive(getConnection(), f, { dir });
      restored += r.restored.length;
      skipped += r.skipped;
    }
    assert.equal(restored, oldFinished - 1);
    assert.equal(skipped, 1, 'the saga restored before is skipped');
    assert.equal(await count('archived_sagas'), 0);
    assert.deepEqual(await snapshot(), before);
    assert.deepEqual(await getStats(ctx.db, 'all', { rollupMinFinished: 0 }), statsBefore);
    assert.deepEqual(await counters(), metricsBefore);
    assert.deepEqual(await exactCounters(ctx.db), metricsBefore);

    await ctx.db.execute(sql`update order_fulfillment_sagas set attempts = 9`);
    await replayProjections(ctx.db);
    assert.deepEqual(await snapshot(), before);
  });

  test('an unwritable archive directory leaves the hot tables untouched', async () => {
    const blocker = path.join(scratch, 'not-a-directory');
    writeFileSync(blocker, 'a file where the archive directory should be');
    const hot = await snapshot();
    await assert.rejects(
      archiveHistory(getConnection(), { dir: path.join(blocker, 'archive'), hotDays: 90 }),
      /ENOTDIR/,
    );
    assert.deepEqual(await snapshot(), hot);
    assert.equal(await count('archived_sagas'), 0);
  });

  test('an archiver that runs out of disk mid-file is killed with nothing deleted; the next run cleans up and archives', async () => {
    const dir = path.join(scratch, 'b');
    const hot = await snapshot();
    // The file-size limit plays the full disk: the process dies writing its first file.
    const killed = await run(
      'bash',
      ['-c', 'ulimit -f 4; exec node --import tsx scripts/archive.ts --hot-days 90'],
      { env: { ...process.env, DATABASE_URL: ctx.url, RXSAGA_ARCHIVE_DIR: dir } },
    ).then(
      () => null,
      (err: { code?: number; signal?: string }) => err,
    );
    assert.ok(killed, 'the archiver must not succeed under a 4 KB file limit');
    assert.deepEqual(await snapshot(), hot);
    assert.equal(await count('archived_sagas'), 0);
    const leftovers = readdirSync(dir, { recursive: true }).map(String);
    assert.ok(
      leftovers.some((f) => f.endsWith('.partial')),
      `a partial file is left: ${leftovers.join(', ')}`,
    );

    const result = await archiveHistory(getConnection(), { dir, hotDays: 90 });
    assert.equal(result.sagas, oldFinished);
    const files = readdirSync(dir, { recursive: true }).map(String);
    assert.deepEqual(
      files.filter((f) => f.endsWith('.partial')),
      [],
    );
  });

  test('the worker archives on its daily schedule, as a graphile-worker task', async () => {
    const dir = path.join(scratch, 'b');
    for (const f of readdirSync(dir, { recursive: true }).map(String))
      if (f.endsWith('.jsonl.gz')) await restoreArchive(getConnection(), f, { dir });
    assert.equal(await count('archived_sagas'), 0);
    process.env.RXSAGA_ARCHIVE_DIR = path.join(scratch, 'c');
    resetEnvForTests();
    // What the cron would add at 03:17, added now.
    await ctx.db.execute(sql`select graphile_worker.add_job('archive-history')`);
    await withWorker(async () => {
      await waitFor(async () => (await count('archived_sagas')) === oldFinished, 20_000, 'archive');
      assert.equal(
        await count(`graphile_worker._private_known_crontabs where identifier = 'archive-history'`),
        1,
        'the daily schedule is registered',
      );
    });
    assert.ok(readdirSync(path.join(scratch, 'c'), { recursive: true }).length > 0);
  });
});
