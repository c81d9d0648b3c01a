import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type postgres from 'postgres';
import { projectRoot } from '@/db/embedded';
import { ChaosProcess } from './cluster';
import { sleep } from './rng';

/**
 * clock-skew: an extra worker whose wall clock runs minutes ahead (then another, behind) works
 * alongside the others for a while. Its clock is shifted by a preload (scripts/lib/clock-offset
 * .mjs) instead of Debian's faketime: for a Node process every wall-clock read goes through
 * `Date`, so that is as honest as faketime there, and needs no package. The database keeps the
 * true time; RxSaga must decide everything by it (db/clock.ts). What it must not do (released
 * live workers' jobs, stalled flags on healthy sagas, misdated retries) is checked for the whole
 * run by the invariants of chaos-two.ts.
 */

export interface SkewRecord {
  name: string;
  offsetMs: number;
  from: number;
  to: number | null;
  pid: number;
  /** The offset its own log lines show (their `time` against ours when written). */
  seenOffsetMs: number | null;
  /** 1-second samples in which it held jobs: it did work. */
  busySamples: number;
  samples: number;
  exitCode: number | null;
  /** It exited before the drill stopped it: when, and its last log message. */
  ownExit: string | null;
}

const preload = pathToFileURL(path.join(projectRoot, 'scripts/lib/clock-offset.mjs')).href;

export async function runSkewedWorker(
  sql: postgres.Sql,
  name: string,
  offsetMs: number,
  env: NodeJS.ProcessEnv,
  logFile: string,
  forMs: number,
  t0: number,
  log: (m: string) => void,
): Promise<SkewRecord> {
  const worker = new ChaosProcess(
    name,
    [
      '--import',
      `${preload}?offsetMs=${offsetMs}`,
      '--import',
      'tsx',
      path.join(projectRoot, 'jobs/worker.ts'),
    ],
    // info level: its "worker started" line carries the time it believes it is.
    { ...env, RXSAGA_PROCESS: name, LOG_LEVEL: 'info' },
    logFile,
    false,
  );
  const rec: SkewRecord = {
    name,
    offsetMs,
    from: Date.now() - t0,
    to: null,
    pid: worker.pid,
    seenOffsetMs: null,
    busySamples: 0,
    samples: 0,
    exitCode: null,
    ownExit: null,
  };
  log(
    `clock-skew: ${name} (PID ${worker.pid}) starts with its clock ${offsetMs > 0 ? 'ahead' : 'behind'} by ${Math.abs(offsetMs) / 1000} s`,
  );
  const until = Date.now() + forMs;
  while (Date.now() < until && worker.running) {
    const [row] = await sql<{ locked: number }[]>`
      select count(*)::int as locked from graphile_worker.jobs j join worker_heartbeats h on j.locked_by = any (h.worker_ids)
      where h.pid = ${worker.pid}`.catch(() => [{ locked: 0 }]);
    rec.samples += 1;
    if ((row?.locked ?? 0) > 0) rec.busySamples += 1;
    await sleep(1000);
  }
  const exit = await worker.stop(30_000);
  rec.exitCode = exit.code;
  if (!exit.expected) {
    const message = /"msg":"([^"]{0,80})/.exec(exit.lastLines.split('\n').at(-1) ?? '')?.[1];
    rec.ownExit = `on its own at ${((exit.at - t0) / 1000).toFixed(1)} s${message ? ` (${message})` : ''}`;
    log(`clock-skew: ${name} exited ${rec.ownExit}`);
  }
  rec.to = Date.now() - t0;
  rec.seenOffsetMs = offsetSeenInLog(logFile, worker.startedAt);
  return rec;
}

/** pino stamps each line with the process's Date.now(): the first line against our start time. */
function offsetSeenInLog(logFile: string, startedAt: number): number | null {
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    try {
      const time = (JSON.parse(line) as { time?: unknown }).time;
      const ms =
        typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : NaN;
      if (Number.isFinite(ms)) return ms - startedAt;
    } catch {
      /* not a JSON line */
    }
  }
  return null;
}
