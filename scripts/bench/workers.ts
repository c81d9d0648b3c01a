import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type postgres from 'postgres';
import { projectRoot } from '@/db/embedded';
import { rssMb } from './cpu';
import { addCounts, emptyCounts, type WireCounts } from './wire-counter';

/**
 * Real worker processes (`node --import tsx jobs/worker.ts`), as `npm run worker` runs them.
 * Ready when each has written its heartbeat row (the worker does that before it logs "started").
 */
export interface WorkerProcesses {
  pids: () => number[];
  stop: () => Promise<void>;
  /**
   * RSS (MiB) of each worker process now; call it periodically: peakRssMb() is the largest
   * value it has seen.
   */
  sample: () => number[];
  peakRssMb: () => number;
  /** What the processes sent to PostgreSQL (wire-counter.ts), summed; read after stop(). */
  wireCounts: () => WireCounts;
}

export async function startWorkers(
  sql: postgres.Sql,
  count: number,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<WorkerProcesses> {
  const children: ChildProcess[] = [];
  const stderr: string[] = [];
  const [before] = await sql<{ n: number }[]>`select count(*)::int as n from worker_heartbeats`;
  const countFiles = Array.from({ length: count }, (_, i) =>
    path.join(tmpdir(), `rxsaga-bench-wire-${process.pid}-${i + 1}.json`),
  );
  for (const f of countFiles) rmSync(f, { force: true });
  // RXSAGA_BENCH_CPU_PROF=<dir>: each worker writes a V8 CPU profile there when it exits (open
  // it in Chrome DevTools or speedscope): where a worker's CPU per saga goes.
  const profileDir = process.env.RXSAGA_BENCH_CPU_PROF;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : [];
  for (let i = 0; i < count; i++) {
    const child = spawn(
      process.execPath,
      [
        ...profile,
        '--import',
        'tsx',
        '--import',
        path.join(projectRoot, 'scripts', 'bench', 'wire-counter.ts'),
        path.join(projectRoot, 'jobs', 'worker.ts'),
      ],
      {
        cwd: projectRoot,
        env: {
          ...process.env,
          LOG_LEVEL: 'warn',
          RXSAGA_PROCESS: `bench-worker-${i + 1}`,
          RXSAGA_BENCH_WIRE_COUNTS: countFiles[i]!,
          RXSAGA_BENCH_WIRE_PORT: String(sql.options.port[0]),
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const keep = (chunk: Buffer) => {
      stderr.push(chunk.toString());
      if (stderr.length > 50) stderr.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    children.push(child);
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from worker_heartbeats`;
    if (row!.n - before!.n >= count) break;
    const dead = children.find((c) => c.exitCode !== null);
    if (dead || Date.now() > deadline) {
      for (const c of children) c.kill('SIGKILL');
      throw new Error(
        `worker process ${dead ? `exited (${dead.exitCode})` : 'did not start in time'}:\n${stderr.join('')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  let peak = 0;
  return {
    pids: () => children.flatMap((c) => (c.pid && c.exitCode === null ? [c.pid] : [])),
    sample: () => {
      const now = children.map((c) => (c.pid ? rssMb(c.pid) : 0));
      peak = Math.max(peak, ...now);
      return now;
    },
    peakRssMb: () => peak,
    wireCounts: () =>
      countFiles.reduce((sum, f) => {
        if (!existsSync(f)) return sum;
        const byApp = JSON.parse(readFileSync(f, 'utf8')) as Record<string, WireCounts>;
        rmSync(f, { force: true });
        return Object.values(byApp).reduce(addCounts, sum);
      }, emptyCounts()),
    stop: async () => {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              const timer = setTimeout(() => c.kill('SIGKILL'), 20_000);
              c.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              c.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
