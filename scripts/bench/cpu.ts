import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * CPU time of process trees, from /proc/<pid>/stat: utime + stime of every live process in
 * the tree, plus cutime + cstime of the root (children it already reaped, e.g. PostgreSQL
 * backends of closed connections). The difference of two snapshots is the CPU the tree used
 * in between, whichever of its processes came and went. Also their resident memory (VmRSS).
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

/** Every live process of the trees rooted at `roots` (each once), with whether it is a root. */
function treeStats(roots: readonly number[]): { stat: Stat; isRoot: boolean }[] {
  const stats = allStats();
  const children = new Map<number, Stat[]>();
  for (const s of stats) {
    const list = children.get(s.ppid) ?? [];
    list.push(s);
    children.set(s.ppid, list);
  }
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const seen = new Set<number>();
  const out: { stat: Stat; isRoot: boolean }[] = [];
  const visit = (s: Stat, isRoot: boolean) => {
    if (seen.has(s.pid)) return;
    seen.add(s.pid);
    out.push({ stat: s, isRoot });
    for (const c of children.get(s.pid) ?? []) visit(c, false);
  };
  for (const pid of roots) {
    const s = byPid.get(pid);
    if (s) visit(s, true);
  }
  return out;
}

/** CPU milliseconds used so far by the trees rooted at `roots` (each counted once). */
function treeCpuMs(roots: readonly number[]): number {
  let ticks = 0;
  for (const { stat, isRoot } of treeStats(roots)) ticks += stat.own + (isRoot ? stat.reaped : 0);
  return (ticks * 1000) / CLK_TCK;
}

/** The pids of every live process in the trees rooted at `roots`. */
export function treePids(roots: readonly number[]): number[] {
  return treeStats(roots).map(({ stat }) => stat.pid);
}

/** Resident memory (MiB, VmRSS) of one process; 0 when it is gone. */
export function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** Resident memory (MiB) of the trees rooted at `roots`: VmRSS of every process in them, summed. */
export function treeRssMb(roots: readonly number[]): number {
  return treeStats(roots).reduce((sum, { stat }) => sum + rssMb(stat.pid), 0);
}

/**
 * The local TCP ports of the sockets the processes `pids` hold open (from /proc/<pid>/fd and
 * /proc/<pid>/net/tcp{,6}): with pg_stat_activity.client_port they name the PostgreSQL backends
 * serving those processes.
 */
export function localTcpPorts(pids: readonly number[]): number[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
          if (socket) inodes.add(socket[1]!);
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // gone
    }
  }
  const ports = new Set<number>();
  if (inodes.size === 0 || pids.length === 0) return [];
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pids[0]}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is hex ip:port; the socket's inode is the tenth field.
      if (fields.length > 9 && inodes.has(fields[9]!))
        ports.add(parseInt(fields[1]!.split(':').pop()!, 16));
    }
  }
  return [...ports];
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

/** Busy and total jiffies of all CPUs together, from the first line of /proc/stat. */
function machineJiffies(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1);
  // user nice system idle iowait irq softirq steal (guest time is already in user and nice)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq! + (steal ?? 0);
  return { busy, total: busy + idle! + iowait! };
}

/**
 * How busy the whole machine was between begin() and end(), in % of all its CPUs: whatever ran
 * (the bench's processes, the kernel's I/O work, anything else on the host). Shows when a run
 * was bound by the machine's CPUs rather than by the engine.
 */
export class MachineCpuMeter {
  private start = { busy: 0, total: 0 };

  begin(): void {
    this.start = machineJiffies();
  }

  end(): number {
    const now = machineJiffies();
    const total = now.total - this.start.total;
    return total > 0 ? (100 * (now.busy - this.start.busy)) / total : 0;
  }
}
