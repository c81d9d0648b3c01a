import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type postgres from 'postgres';
import { connect } from '@/db/client';
import { archiveHistory, restoreArchive } from '@/jobs/archive-history';
import { progressBar } from '../lib/progress';
import { loadHistory } from './dashboard';
import { round, table } from './report';

/**
 * `npm run bench -- --archive`: the archive's throughput and the restore of one saga. Loads a
 * history that ended 100 days ago (the dashboard bench's loader), archives every finished saga
 * of it with the default batch size, then restores one saga by its order id.
 */

export interface ArchiveBenchOptions {
  url: string;
  admin: postgres.Sql;
  sagas: number;
  log: (m: string) => void;
}

export interface ArchiveBenchResult {
  sagas: number;
  loadSeconds: number;
  archive: {
    sagas: number;
    events: number;
    files: number;
    seconds: number;
    sagasPerSecond: number;
    bytes: number;
    bytesPerSaga: number;
    targetSagasPerSecond: number;
    met: boolean;
  };
  restoreOne: { ms: number; restored: number };
  hotRowsLeft: number;
}

const TARGET_SAGAS_PER_SECOND = 10_000;

export async function runArchiveBench(o: ArchiveBenchOptions): Promise<ArchiveBenchResult> {
  o.log(`loading ${o.sagas.toLocaleString('en')} sagas that finished over 100 days ago`);
  const loadSeconds = await loadHistory(o.admin, o.sagas, o.log, 100);
  const dir = await mkdtemp(path.join(tmpdir(), 'rxsaga-bench-archive-'));
  const conn = connect(o.url, 5);
  try {
    let bar: ReturnType<typeof progressBar> | undefined;
    const started = performance.now();
    const result = await archiveHistory(conn, {
      dir,
      hotDays: 90,
      onProgress: (p) => {
        bar ??= progressBar('archiving', p.total);
        bar.update(p.sagas, `${p.files} files`);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    bar?.done();
    const [one] = await o.admin<{ order_id: string }[]>`
      select order_id from archived_sagas order by started_at desc limit 1`;
    const restoreStarted = performance.now();
    const restored = one ? await restoreArchive(conn, one.order_id, { dir }) : null;
    const restoreMs = performance.now() - restoreStarted;
    const [left] = await o.admin<{ n: number }[]>`
      select count(*)::int as n from order_fulfillment_sagas`;
    const sagasPerSecond = seconds > 0 ? result.sagas / seconds : 0;
    return {
      sagas: o.sagas,
      loadSeconds: round(loadSeconds),
      archive: {
        sagas: result.sagas,
        events: result.events,
        files: result.files,
        seconds: round(seconds, 2),
        sagasPerSecond: round(sagasPerSecond, 0),
        bytes: result.bytes,
        bytesPerSaga: round(result.sagas > 0 ? result.bytes / result.sagas : 0, 0),
        targetSagasPerSecond: TARGET_SAGAS_PER_SECOND,
        met: sagasPerSecond >= TARGET_SAGAS_PER_SECOND,
      },
      restoreOne: { ms: round(restoreMs, 1), restored: restored?.restored.length ?? 0 },
      hotRowsLeft: left!.n,
    };
  } finally {
    await conn.sql.end({ timeout: 5 });
    await rm(dir, { recursive: true, force: true });
  }
}

export function printArchiveBench(r: ArchiveBenchResult): void {
  console.log(
    table(
      ['what', 'figure'],
      [
        ['sagas loaded (finished > 100 days ago, and a few in flight)', String(r.sagas)],
        [
          'archived sagas / events / files',
          `${r.archive.sagas} / ${r.archive.events} / ${r.archive.files}`,
        ],
        ['archive time', `${r.archive.seconds} s`],
        [
          'archive throughput',
          `${r.archive.sagasPerSecond} sagas/s (goal ≥ ${r.archive.targetSagasPerSecond}: ${r.archive.met ? 'met' : 'NOT met'})`,
        ],
        [
          'archive size',
          `${(r.archive.bytes / 1e6).toFixed(1)} MB, ${r.archive.bytesPerSaga} B per saga`,
        ],
        [
          'restore of one saga (by order id)',
          `${r.restoreOne.ms} ms (${r.restoreOne.restored} restored)`,
        ],
        ['sagas left in the hot tables', String(r.hotRowsLeft)],
      ],
    ),
  );
}
