import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Process and file helpers for the embedded PostgreSQL (db/embedded.ts). They exist because a
 * Node process killed with SIGKILL leaves its postmaster running, and a later start must tell
 * "still owned by a live RxSaga process" from "orphan" without ever signalling an unrelated
 * process that happens to reuse a PID.
 */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user (e.g. the postgres OS user while we are not root).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Command name from /proc (Linux); undefined where /proc is unavailable. */
function processName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function parentPid(pid: number): number | undefined {
  try {
    // Field 4 of /proc/<pid>/stat; the command name (field 2) may contain spaces, so split after ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

export interface PostmasterInfo {
  pid: number;
  port: number;
}

/** postmaster.pid: line 1 is the PID, line 4 the port. */
export async function readPostmasterPid(dataDir: string): Promise<PostmasterInfo | undefined> {
  try {
    const lines = (await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n');
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    return Number.isInteger(pid) && pid > 0 ? { pid, port } : undefined;
  } catch {
    return undefined;
  }
}

/** A live postmaster, not some other program that got the PID after a reboot. */
export function isPostmaster(pid: number): boolean {
  if (!isAlive(pid)) return false;
  const name = processName(pid);
  return name === undefined || name === 'postgres' || name === 'postmaster';
}

/** SIGINT is PostgreSQL's "fast shutdown"; SIGKILL only if it does not finish in time. */
export async function stopPostmaster(pid: number, timeoutMs = 10_000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  };
  signal('SIGINT');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (!isAlive(pid)) return;
  signal('SIGKILL');
  // Backends notice their postmaster died and exit on their own; give them a moment.
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
}

/**
 * Cross-process mutex on a lock file: two processes starting at once (npm start and npm run
 * worker) must not both initialise or start the cluster. A lock left by a dead PID is broken.
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await fs.open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(await fs.readFile(lockPath, 'utf8').catch(() => ''));
      // An empty file is a lock being written right now: only a readable dead PID is stale.
      if (holder > 0 && !isAlive(holder)) {
        await fs.rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`Timed out waiting for ${lockPath} (held by PID ${holder || '?'})`);
      }
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockPath, { force: true });
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` OS user, which must be able to traverse every
 * ancestor of the data dir. A CI checkout inside `mktemp -d` (mode 700) is the usual culprit.
 */
export function ensureTraversable(dir: string, log: (m: string) => void): void {
  if (process.getuid?.() !== 0) return;
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(current, (mode & 0o7777) | 0o001);
      log(`added o+x to ${current} so the postgres OS user can reach the data directory`);
    }
    if (current === path.dirname(current)) break;
  }
}

/** uid/gid of the `postgres` OS user when we are root (PostgreSQL refuses to run as root). */
export function postgresUserIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** The part of a (log) file after `offset`, without re-reading what came before. */
export async function readFrom(file: string, offset: number): Promise<string> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    await handle.read(buffer, 0, buffer.length, offset);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

export async function tail(file: string, lines: number): Promise<string> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
