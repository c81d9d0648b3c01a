import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of process trees, from /proc/<pid>/stat: utime + stime of every live process in
 * the tree, plus cutime + cstime of the root (children it already reaped, e.g. PostgreSQL
 * backends of closed connections). The difference of two snapshots is the CPU the tree used
 * in between, whichever of its processes came and went.
 */

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux x86-64

interface Stat {
  pid: number;
  ppid: number;
  own: number;
  reaped: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const num = (field: number) => Number(rest[field - 3]);
    return { pid, ppid: num(4), own: num(14) + num(15), reaped: num(16) + num(17) };
  } catch {
    return undefined;
  }
}

function allStats(): Stat[] {
  const stats: Stat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) stats.push(s);
  }
  return stats;
}

/** CPU milliseconds used so far by the trees rooted at `roots` (each counted once). */
export function treeCpuMs(roots: readonly number[]): number {
  const stats = allStats();
  const children = new Map<number, Stat[]>();
  for (const s of stats) {
    const list = children.get(s.ppid) ?? [];
    list.push(s);
    children.set(s.ppid, list);
  }
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const seen = new Set<number>();
  let ticks = 0;
  const visit = (s: Stat, isRoot: boolean) => {
    if (seen.has(s.pid)) return;
    seen.add(s.pid);
    ticks += s.own + (isRoot ? s.reaped : 0);
    for (const c of children.get(s.pid) ?? []) visit(c, false);
  };
  for (const pid of roots) {
    const s = byPid.get(pid);
    if (s) visit(s, true);
  }
  return (ticks * 1000) / CLK_TCK;
}

/** The postmaster of a local server, from its data directory's postmaster.pid; undefined when not readable. */
export function postmasterPid(dataDirectory: string): number | undefined {
  try {
    const pid = Number(readFileSync(`${dataDirectory}/postmaster.pid`, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && readStat(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A CPU meter over named process trees: start() then stop() gives milliseconds per tree. */
export class CpuMeter {
  private start = new Map<string, number>();
  constructor(private readonly trees: Record<string, () => number[]>) {}

  begin(): void {
    for (const [name, roots] of Object.entries(this.trees))
      this.start.set(name, treeCpuMs(roots()));
  }

  end(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, roots] of Object.entries(this.trees))
      out[name] = treeCpuMs(roots()) - (this.start.get(name) ?? 0);
    return out;
  }
}
