import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import postgres from 'postgres';
import type { ApiResponse } from './api';
import { sleep } from './rng';

/**
 * disk-full: the drill database's files live on a small filesystem of fixed size (a tmpfs the
 * drill mounts), which the drill fills with a ballast file for a while and then frees.
 *
 * The database (its tablespace) is on the small filesystem; the cluster's WAL is not. That is
 * the usual layout (data and WAL volumes), and the only one where "the product recovers by
 * itself" is a question about RxSaga: when PostgreSQL cannot write WAL it PANICs, and a cluster
 * whose disk is full cannot finish crash recovery until someone frees space. A full data volume
 * makes every write that needs a new page fail with 53100 "could not extend file … No space
 * left on device" while the server stays up, which is what RxSaga must answer well.
 *
 * Mounting needs root. Without root the fault cannot be injected: the drill says so in its
 * table (NOT RUN, and why) or, when disk-full was asked for by name, refuses to start.
 */

export const TABLESPACE = 'rxsaga_chaos_small';

export interface DiskFullRecord {
  at: number;
  sizeMb: number;
  ballastMb: number;
  heldMs: number;
  /** Order requests answered while the disk was full, by status. */
  statuses: Map<number, number>;
  /** An example of the 503's body. */
  example: string | null;
  /** 503 answers without a JSON `error` string. */
  unclear: number;
  /** From freeing the space until the first order was confirmed again. */
  recoveredAfterMs: number | null;
  /** Workers that exited on their own meanwhile (and were restarted), filled in by the checks. */
  workerExits?: number;
}

export function diskFullUnavailable(external: boolean): string | null {
  if (external) return 'needs the drill’s own embedded cluster (DATABASE_URL is set)';
  if (process.getuid?.() !== 0) return 'needs root, to mount a tmpfs of fixed size';
  return null;
}

const isMounted = (dir: string) =>
  readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === dir);

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout || r.error}`);
}

export class SmallDisk {
  readonly location: string;
  private readonly ballast: string;

  constructor(
    readonly mountPoint: string,
    readonly sizeMb: number,
    private readonly dataDir: string,
  ) {
    this.location = path.join(mountPoint, 'pg');
    this.ballast = path.join(mountPoint, 'ballast');
  }

  /**
   * Mounts the tmpfs (after dropping what a previous run left) and makes it a tablespace of
   * the cluster, owned by the server's OS user.
   */
  async prepare(adminUrl: string, database: string): Promise<void> {
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
    try {
      await admin.unsafe(`drop database if exists "${database}" with (force)`);
      await admin.unsafe(`drop tablespace if exists ${TABLESPACE}`).catch(() => {});
      if (isMounted(this.mountPoint)) run('umount', [this.mountPoint]);
      await fs.mkdir(this.mountPoint, { recursive: true });
      run('mount', [
        '-t',
        'tmpfs',
        '-o',
        `size=${this.sizeMb}m,mode=0755`,
        'rxsaga-chaos-disk',
        this.mountPoint,
      ]);
      const owner = statSync(this.dataDir);
      await fs.mkdir(this.location);
      await fs.chown(this.location, owner.uid, owner.gid);
      await fs.chmod(this.location, 0o700);
      await admin.unsafe(`create tablespace ${TABLESPACE} location '${this.location}'`);
    } finally {
      await admin.end({ timeout: 5 });
    }
  }

  /** Writes the ballast until the filesystem refuses; returns the MB written. */
  async fill(): Promise<number> {
    const fh = await fs.open(this.ballast, 'w');
    let written = 0;
    try {
      for (const size of [1 << 20, 1 << 13, 512]) {
        const chunk = Buffer.alloc(size, 0xab);
        for (;;) {
          try {
            await fh.write(chunk);
            written += size;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw err;
          }
        }
      }
    } finally {
      await fh.close();
    }
    return written / (1 << 20);
  }

  async free(): Promise<void> {
    await fs.rm(this.ballast, { force: true });
  }

  /** Drops the tablespace (the database on it must be gone) and unmounts. */
  async remove(adminUrl: string | undefined): Promise<void> {
    await this.free().catch(() => {});
    if (adminUrl) {
      const admin = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
      await admin.unsafe(`drop tablespace if exists ${TABLESPACE}`).catch(() => {});
      await admin.end({ timeout: 5 });
    }
    if (existsSync(this.mountPoint) && isMounted(this.mountPoint)) {
      const r = spawnSync('umount', [this.mountPoint], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`umount ${this.mountPoint}: ${r.stderr}`);
    }
  }
}

/**
 * Fills the disk for `holdMs`, watching the order API's answers, then frees it and waits for
 * the first confirmed order: nobody restarts anything.
 */
export async function diskFull(
  disk: SmallDisk,
  observe: (listener: ((r: ApiResponse, kind: string) => void) | null) => void,
  holdMs: number,
  t0: number,
  log: (m: string) => void,
): Promise<DiskFullRecord> {
  const rec: DiskFullRecord = {
    at: Date.now() - t0,
    sizeMb: disk.sizeMb,
    ballastMb: 0,
    heldMs: 0,
    statuses: new Map(),
    example: null,
    unclear: 0,
    recoveredAfterMs: null,
  };
  let freedAt: number | null = null;
  observe((r, kind) => {
    if (kind !== 'createOrder') return;
    if (freedAt === null) {
      rec.statuses.set(r.status, (rec.statuses.get(r.status) ?? 0) + 1);
      if (r.status === 503) {
        if (typeof r.body?.error === 'string') rec.example ??= r.body.error;
        else rec.unclear += 1;
      }
    } else if ((r.status === 201 || r.status === 200) && rec.recoveredAfterMs === null) {
      rec.recoveredAfterMs = Date.now() - freedAt;
    }
  });
  const started = Date.now();
  try {
    rec.ballastMb = await disk.fill();
    log(
      `disk-full: the database's ${disk.sizeMb} MB filesystem is full (${rec.ballastMb.toFixed(0)} MB of ballast) for ${holdMs / 1000} s`,
    );
    await sleep(holdMs);
  } finally {
    await disk.free();
    freedAt = Date.now();
    rec.heldMs = freedAt - started;
  }
  log('disk-full: space is back');
  for (
    const deadline = Date.now() + 60_000;
    rec.recoveredAfterMs === null && Date.now() < deadline;
  )
    await sleep(200);
  observe(null);
  return rec;
}
