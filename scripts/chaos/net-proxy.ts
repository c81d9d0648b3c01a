import net from 'node:net';
import type { Rng } from './rng';

/**
 * The network between RxSaga's processes and PostgreSQL, for the net-latency and net-partition
 * faults: a TCP proxy in the drill's own process, one listener ("link") per web/worker process,
 * each forwarding to the real server on 127.0.0.1. Why a proxy and not `tc netem` in network
 * namespaces (docs/chaos.md): it needs no root and no Debian package (`npm test` runs it), it
 * cuts off one process and not the whole loopback interface the other helpers' servers share,
 * and it can never touch a port the drill did not start.
 *
 * What a process sees is what it would see on a bad network, byte for byte in order:
 * - latency/jitter: every chunk is held `base ± jitter` ms, per direction, order kept;
 * - packet loss: TCP hides a lost segment behind a retransmission, so a "lost" chunk is held for
 *   Linux's minimum retransmission timeout (200 ms), doubled for each further loss in a row;
 * - partition: nothing gets through in either direction and new connections hang; the bytes
 *   already sent wait, as TCP keeps retransmitting them, and arrive when the partition heals
 *   (a partition shorter than TCP's give-up time of minutes breaks no connection).
 */

export interface LinkConditions {
  latencyMs: number;
  jitterMs: number;
  /** Probability that a chunk is "lost" once (and again, and again…). */
  loss: number;
}

export interface LinkStats {
  connections: number;
  chunks: number;
  delayedMs: number;
  lost: number;
  heldDuringPartition: number;
}

const RTO_MS = 200;

/** One direction of one proxied connection: a queue of chunks released at their time. */
class Pipe {
  private queue: { at: number; chunk: Buffer | null }[] = [];
  private last = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly link: NetLink,
    private readonly to: net.Socket,
    /** Called once the end of the stream has been delivered, in order, after its data. */
    private readonly onEnd: () => void,
  ) {}

  push(chunk: Buffer | null): void {
    const c = this.link.conditions;
    let delay = 0;
    if (c && chunk) {
      delay = Math.max(0, c.latencyMs + (this.link.rng.next() * 2 - 1) * c.jitterMs);
      for (let rto = RTO_MS; this.link.rng.chance(c.loss) && rto <= RTO_MS * 8; rto *= 2) {
        delay += rto;
        this.link.stats.lost += 1;
      }
      this.link.stats.delayedMs += delay;
    }
    if (chunk) this.link.stats.chunks += 1;
    if (this.link.partitioned && chunk) this.link.stats.heldDuringPartition += 1;
    const at = Math.max(this.last, Date.now() + delay);
    this.last = at;
    this.queue.push({ at, chunk });
    this.pump();
  }

  pump(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.link.partitioned) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0]!.at <= now) {
      const { chunk } = this.queue.shift()!;
      if (this.to.destroyed) return;
      if (chunk) this.to.write(chunk);
      else {
        this.to.end();
        this.onEnd();
      }
    }
    if (this.queue.length > 0) this.timer = setTimeout(() => this.pump(), this.queue[0]!.at - now);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.queue = [];
  }
}

class NetLink {
  conditions: LinkConditions | null = null;
  partitioned = false;
  readonly stats: LinkStats = {
    connections: 0,
    chunks: 0,
    delayedMs: 0,
    lost: 0,
    heldDuringPartition: 0,
  };
  private readonly pipes = new Set<Pipe>();
  private readonly waiting: (() => void)[] = [];
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    readonly server: net.Server,
    readonly port: number,
    private readonly upstreamPort: number,
    readonly rng: Rng,
  ) {}

  static async open(upstreamPort: number, rng: Rng): Promise<NetLink> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const link = new NetLink(server, (server.address() as net.AddressInfo).port, upstreamPort, rng);
    server.on('connection', (client) => link.accept(client));
    return link;
  }

  /** The same URL, through this link. */
  url(databaseUrl: string): string {
    const u = new URL(databaseUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  private accept(client: net.Socket): void {
    this.stats.connections += 1;
    this.sockets.add(client);
    client.setNoDelay(true);
    const connect = () => {
      if (client.destroyed) return;
      const server = net.connect(this.upstreamPort, '127.0.0.1');
      server.setNoDelay(true);
      this.sockets.add(server);
      // A FIN travels behind the data sent before it: a side that closes is closed on the other
      // side only once everything it sent has been delivered. An error (a reset) is immediate.
      let ended = 0;
      const endedOne = () => {
        ended += 1;
        if (ended === 2) done();
      };
      const up = new Pipe(this, server, endedOne);
      const down = new Pipe(this, client, endedOne);
      this.pipes.add(up).add(down);
      let finished = false;
      const done = () => {
        if (finished) return;
        finished = true;
        up.close();
        down.close();
        this.pipes.delete(up);
        this.pipes.delete(down);
        // Whatever was written last still goes out (end), then the sockets are gone for sure.
        for (const socket of [client, server]) {
          socket.end();
          setTimeout(() => socket.destroy(), 1000).unref();
        }
        this.sockets.delete(client);
        this.sockets.delete(server);
      };
      client.on('data', (d: Buffer) => up.push(d));
      server.on('data', (d: Buffer) => down.push(d));
      let upEnded = false;
      let downEnded = false;
      const endUp = () => {
        if (!upEnded) up.push(null);
        upEnded = true;
      };
      const endDown = () => {
        if (!downEnded) down.push(null);
        downEnded = true;
      };
      client.on('end', endUp);
      server.on('end', endDown);
      // A side that closes without a FIN of its own: its end still travels behind its data.
      client.on('close', endUp);
      server.on('close', () => {
        endDown();
        endUp();
      });
      client.on('error', done);
      server.on('error', done);
    };
    client.on('error', () => client.destroy());
    // A connection opened during a partition hangs until it heals, like an unanswered SYN.
    if (this.partitioned) {
      client.pause();
      this.waiting.push(() => {
        client.resume();
        connect();
      });
    } else connect();
  }

  cut(): void {
    this.partitioned = true;
  }

  heal(): void {
    this.partitioned = false;
    for (const pipe of this.pipes) pipe.pump();
    for (const go of this.waiting.splice(0)) go();
  }

  async close(): Promise<void> {
    this.heal();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Every process's link, by process name. Links are opened ahead of need (a spare or two) so
 * that a worker can be spawned synchronously with its own link.
 */
export class NetLinks {
  readonly byName = new Map<string, NetLink>();
  private spares: NetLink[] = [];
  private refilling: Promise<void> | undefined;
  conditions: LinkConditions | null = null;

  constructor(
    private readonly upstreamPort: number,
    private readonly rng: Rng,
  ) {}

  async ready(spares = 3): Promise<void> {
    while (this.spares.length < spares)
      this.spares.push(await NetLink.open(this.upstreamPort, this.rng));
  }

  /** The link of process `name`, opened now if it has none (a spare must be ready). */
  take(name: string): NetLink {
    const existing = this.byName.get(name);
    if (existing) return existing;
    const link = this.spares.shift();
    if (!link) throw new Error('no spare network link ready (NetLinks.ready was not awaited)');
    link.conditions = this.conditions;
    this.byName.set(name, link);
    this.refilling ??= this.ready().finally(() => (this.refilling = undefined));
    return link;
  }

  /** Latency/jitter/loss on every link, current and future (null: a clean network). */
  setConditions(c: LinkConditions | null): void {
    this.conditions = c;
    for (const l of this.byName.values()) l.conditions = c;
  }

  total(): LinkStats {
    const t: LinkStats = {
      connections: 0,
      chunks: 0,
      delayedMs: 0,
      lost: 0,
      heldDuringPartition: 0,
    };
    for (const l of this.byName.values())
      for (const k of Object.keys(t) as (keyof LinkStats)[]) t[k] += l.stats[k];
    return t;
  }

  async close(): Promise<void> {
    await this.refilling?.catch(() => {});
    await Promise.all([...this.byName.values(), ...this.spares].map((l) => l.close()));
  }
}
