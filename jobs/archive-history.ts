import { createHash } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import {
  countArchivableSagas,
  findArchivedSaga,
  restoreSagaRecords,
  scanArchiveBatch,
  settleHeldStock,
  takeArchiveBatch,
  type ArchiveCursor,
  type ArchiveLine,
  type TakenBatch,
} from '@/db/archive';
import type { Database, Tx } from '@/db/client';
import { projectRoot } from '@/db/embedded';
import {
  ARCHIVE_FORMAT,
  SAGA_ROW_TABLES,
  archiveFileName,
  archiveManifestSchema,
  manifestNameOf,
  parseArchiveLines,
  verifyArchive,
  type ArchiveManifest,
} from '@/lib/archive/archive-file';
import { getEnv } from '@/lib/env';
import { logger } from '@/server/logger';

/**
 * Archiving moves finished sagas older than RXSAGA_HOT_DAYS out of the hot tables into
 * compressed files, in batches. Per batch, in one transaction: delete the sagas' rows and events
 * and add their catalogue rows, the deleted rows coming back as the file's lines (one statement,
 * db/archive.ts); write the file and its manifest durably (temporary name, fsync, rename), read
 * the file back and compare it byte for byte; only then commit. A crash or a full disk anywhere
 * before that commit rolls the deletes back and leaves the hot tables as they were; at worst a
 * file nobody refers to stays behind (a restore of it skips the sagas that are still hot). One archiver at a time (a session advisory lock), however
 * many workers run the daily job.
 */

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

/** The graphile-worker task the worker's daily cron runs (jobs/worker.ts). */
export const ARCHIVE_TASK = 'archive-history';

/** Arbitrary but fixed: every RxSaga process agrees on it. */
const ARCHIVE_LOCK_KEY = 7_201_652_015;
const DEFAULT_BATCH = 2000;
/** Batches taken and not yet committed, at most (each holds a connection of the pool). */
const AHEAD = 2;
const dialect = new PgDialect();
type ScanRow = { saga_id: string; started_at: string; version: number; archivable: boolean };

export interface Connection {
  sql: postgres.Sql;
  db: Database;
}

export const archiveDirectory = (): string =>
  path.resolve(projectRoot, getEnv().RXSAGA_ARCHIVE_DIR ?? path.join('.data', 'archive'));

export interface ArchiveProgress {
  sagas: number;
  total: number;
  events: number;
  files: number;
}

export interface ArchiveOptions {
  dir?: string;
  hotDays?: number;
  batchSize?: number;
  onProgress?: (p: ArchiveProgress) => void;
}

export interface ArchiveResult extends ArchiveProgress {
  /** False when another archiver held the lock: nothing was done. */
  ran: boolean;
  bytes: number;
}

export async function archiveHistory(
  conn: Connection,
  options: ArchiveOptions = {},
): Promise<ArchiveResult> {
  const dir = options.dir ?? archiveDirectory();
  const hotDays = options.hotDays ?? getEnv().RXSAGA_HOT_DAYS;
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const lock = await conn.sql.reserve();
  try {
    const [held] = await lock<
      { ok: boolean }[]
    >`select pg_try_advisory_lock(${ARCHIVE_LOCK_KEY}) as ok`;
    if (!held?.ok) return { ran: false, sagas: 0, total: 0, events: 0, files: 0, bytes: 0 };
    try {
      await removePartialFiles(dir);
      const total = await countArchivableSagas(conn.db, hotDays);
      const result: ArchiveResult = { ran: true, sagas: 0, total, events: 0, files: 0, bytes: 0 };
      options.onProgress?.({ ...result });
      const runAt = new Date();
      // Batches are scanned on the lock's own connection and taken, each in a transaction of its
      // own, up to AHEAD at a time: PostgreSQL takes the next one while this process writes and
      // verifies the oldest (3 ahead measured slower than 2 on this 2-core machine). They commit
      // in order, each once its file is verified; when one fails, it and those behind it are
      // rolled back.
      const scan = (query: SQL) => {
        const q = dialect.sqlToQuery(query);
        return lock.unsafe<ScanRow[]>(q.sql, q.params as never[]);
      };
      let after: ArchiveCursor | null = null;
      let more = true;
      let taken = 0;
      const queue: Promise<OpenBatch>[] = [];
      const fill = async () => {
        while (more && queue.length < AHEAD) {
          const scanned = await scanArchiveBatch(scan, hotDays, batchSize, after);
          after = scanned.next;
          more = after !== null;
          if (scanned.sagas.length === 0) continue;
          const file = archiveFileName(runAt, ++taken);
          const batch = openBatch(conn, file, (tx) =>
            takeArchiveBatch(tx, hotDays, scanned.sagas, file),
          );
          // Not awaited if an earlier batch fails: its error is this run's, not an unhandled one.
          batch.catch(() => {});
          queue.push(batch);
        }
      };
      try {
        await fill();
        while (queue.length > 0) {
          const batch: OpenBatch = await queue.shift()!;
          let manifest: ArchiveManifest;
          try {
            await fill();
            manifest = await writeVerifiedArchive(dir, batch.file, batch.lines);
          } catch (error) {
            await batch.finish(false);
            throw error;
          }
          await batch.finish(true);
          result.sagas += manifest.sagas;
          result.events += manifest.events;
          result.files += 1;
          result.bytes += manifest.bytes;
          options.onProgress?.({ ...result });
        }
      } finally {
        for (const batch of queue.splice(0)) await (await batch.catch(() => null))?.finish(false);
      }
      logger.info({ ...result, dir, event: 'archive.done' }, 'archive run finished');
      return result;
    } finally {
      await lock`select pg_advisory_unlock(${ARCHIVE_LOCK_KEY})`;
    }
  } finally {
    lock.release();
  }
}

/** A batch taken out of the hot tables in an open transaction: finish(true) commits it. */
interface OpenBatch extends TakenBatch {
  file: string;
  finish(commit: boolean): Promise<void>;
}

class Rollback extends Error {}

/**
 * Runs `take` in a transaction left open until the caller decides: the batch's deletes commit
 * only with finish(true), after its file is written and verified; finish(false) (or an error,
 * or the process dying) rolls them back.
 */
function openBatch(
  conn: Connection,
  file: string,
  take: (tx: Tx) => Promise<TakenBatch>,
): Promise<OpenBatch> {
  return new Promise<OpenBatch>((resolve, reject) => {
    let decide!: (commit: boolean) => void;
    const decided = new Promise<boolean>((r) => (decide = r));
    let opened = false;
    const done = conn.db.transaction(async (tx) => {
      const batch = await take(tx);
      opened = true;
      resolve({
        ...batch,
        file,
        finish: async (commit) => {
          decide(commit);
          await done.catch((error: unknown) => {
            if (!(error instanceof Rollback)) throw error;
          });
        },
      });
      if (!(await decided)) throw new Rollback('batch not committed');
      await settleHeldStock(tx, batch.held);
    });
    done.catch((error: unknown) => {
      if (!opened) reject(error);
    });
  });
}

/** Writes data file and manifest durably, reads the file back and checks it; throws if it differs. */
async function writeVerifiedArchive(
  dir: string,
  file: string,
  lines: readonly ArchiveLine[],
): Promise<ArchiveManifest> {
  const content = Buffer.from(lines.map((l) => `${l.line}\n`).join(''), 'utf8');
  const compressed = await gzip(content, { level: 3 });
  const rows = Object.fromEntries(
    SAGA_ROW_TABLES.map((t) => [t, lines.reduce((n, l) => n + (l.rows[t] ?? 0), 0)]),
  );
  // PostgreSQL's text form of timestamptz in one session's zone sorts as time does.
  const started = lines.map((l) => l.startedAt).sort();
  const completed = lines.map((l) => l.completedAt).sort();
  const manifest: ArchiveManifest = {
    format: ARCHIVE_FORMAT,
    file,
    createdAt: new Date().toISOString(),
    sagas: lines.length,
    events: lines.reduce((n, l) => n + l.events, 0),
    rows,
    startedFrom: started[0]!,
    startedTo: started.at(-1)!,
    completedFrom: completed[0]!,
    completedTo: completed.at(-1)!,
    sha256: sha256(compressed),
    bytes: compressed.length,
    sagaIds: lines.map((l) => l.sagaId),
  };
  const target = path.join(dir, file);
  await mkdir(path.dirname(target), { recursive: true });
  await writeDurably(target, compressed);
  await writeDurably(
    path.join(dir, manifestNameOf(file)),
    Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
  );
  const onDisk = await readFile(target);
  const problems = verifyArchive(
    manifest,
    { sha256: sha256(onDisk), bytes: onDisk.length, content: await gunzip(onDisk) },
    content,
  );
  if (problems.length > 0)
    throw new Error(`archive ${file} did not verify: ${problems.join('; ')}`);
  return manifest;
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const PARTIAL = '.partial';

/** Temporary name, fsync, rename, fsync of the directory: the file is whole or absent. */
async function writeDurably(target: string, data: Uint8Array): Promise<void> {
  const temporary = `${target}${PARTIAL}`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, target);
  const directory = await open(path.dirname(target), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** Leftovers of a run that died while writing (under the lock, so never another run's). */
async function removePartialFiles(dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  for (const entry of entries)
    if (entry.endsWith(PARTIAL)) await rm(path.join(dir, entry), { force: true });
}

export interface RestoreResult {
  file: string;
  restored: string[];
  /** Sagas of the file that were already in the hot tables. */
  skipped: number;
}

/**
 * Brings archived sagas back into the hot tables, exactly as they were: every saga of an archive
 * file (`target` a path, absolute or under the archive directory), or one saga (`target` its
 * saga id or order id). The file must match its manifest's checksum.
 */
export async function restoreArchive(
  conn: Connection,
  target: string,
  options: {
    dir?: string;
    onProgress?: (p: { step: string; done: number; total: number }) => void;
  } = {},
): Promise<RestoreResult> {
  const dir = options.dir ?? archiveDirectory();
  let file: string;
  let only: string | null = null;
  const asPath = path.resolve(dir, target);
  if (target.endsWith('.jsonl.gz')) {
    file = path.relative(dir, asPath);
  } else {
    const archived = await findArchivedSaga(conn.db, target);
    if (!archived) throw new Error(`no archived saga has the saga id or order id "${target}"`);
    file = archived.archiveFile;
    only = archived.sagaId;
  }
  const progress = (step: string, done: number, total: number) =>
    options.onProgress?.({ step, done, total });
  progress('reading', 0, 1);
  const manifest = archiveManifestSchema.parse(
    JSON.parse(await readFile(path.join(dir, manifestNameOf(file)), 'utf8')),
  );
  const onDisk = await readFile(path.join(dir, file));
  if (sha256(onDisk) !== manifest.sha256)
    throw new Error(`archive ${file} does not match its manifest's checksum: not restored`);
  const records = parseArchiveLines((await gunzip(onDisk)).toString('utf8'), only ?? undefined);
  progress('restoring', 0, records.length);
  const restored = await conn.db.transaction((tx) => restoreSagaRecords(tx, records));
  progress('restoring', records.length, records.length);
  logger.info({ file, restored: restored.length, event: 'archive.restored' }, 'archive restored');
  return { file, restored, skipped: records.length - restored.length };
}
