import { spawn } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '@/db/embedded';

export interface WatchedRun {
  code: number | null;
  /** Everything it printed (stdout and stderr). */
  out: string;
  /** Why it was stopped before it ended by itself, or null. */
  stalled: string | null;
}

/** A log line without its timestamps: `[chaos 01:23] ` and pino's `"time":…`. */
const withoutTime = (line: string) =>
  line.replace(/^\[\w+ \d+:\d\d\] /, '').replace(/"time":"[^"]*"/, '');

/**
 * Runs a drill script (scripts/chaos.ts, scripts/soak.ts) for an int test, with a budget that
 * follows its progress instead of the wall clock: on a loaded machine the run takes longer and
 * is waited for; it is stopped only when it printed nothing new for `stallMs`. A line that
 * repeats an earlier one once its timestamp is taken off is not new: the drill's progress line
 * with the same counts says nothing moved. The drill's own waits are bounded (by progress, or
 * a fixed bound where it waits for a process to start), so a run that keeps moving ends.
 */
export function runWatched(script: string, args: string[], stallMs = 180_000): Promise<WatchedRun> {
  const env = { ...process.env };
  delete env.DATABASE_URL; // its own embedded cluster, which it may restart
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, script), ...args],
    {
      cwd: projectRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let partial = '';
  const seen = new Set<string>();
  let newAt = Date.now();
  let stalled: string | null = null;
  const take = (d: Buffer) => {
    const text = d.toString();
    out += text;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const key = withoutTime(line).trim();
      if (key && !seen.has(key)) {
        seen.add(key);
        newAt = Date.now();
      }
    }
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const watch = setInterval(() => {
    if (stalled !== null || Date.now() - newAt < stallMs) return;
    const last = out.trimEnd().split('\n').slice(-5).join('\n');
    stalled = `${path.basename(script)} printed nothing new for ${stallMs / 1000} s; its last lines:\n${last}`;
    // SIGTERM: the drill stops what it started; SIGKILL if that hangs too.
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
  }, 1000);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearInterval(watch);
      resolve({ code, out, stalled });
    });
  });
}
