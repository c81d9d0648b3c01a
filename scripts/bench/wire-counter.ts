import { writeFileSync } from 'node:fs';
import net from 'node:net';

/**
 * Counts what a process sends to PostgreSQL, read off the wire protocol of its sockets, so the
 * bench can report statements and round trips: figures that, unlike wall-clock ones, do not move
 * with how busy the machine is. Installed in the bench process (for createOrder and the floor)
 * and, through `--import`, in each worker process (see workers.ts), which writes its counts to
 * RXSAGA_BENCH_WIRE_COUNTS when it exits.
 *
 * - statement: an Execute ('E', extended protocol: what postgres.js and node-postgres send for
 *   every parameterised statement, prepared or not) or a simple Query ('Q', which may hold
 *   several statements, but both drivers send one).
 * - transaction control (BEGIN/COMMIT/ROLLBACK) is counted apart: the floor and the engine
 *   both pay one pair per transaction.
 * - round trip: a Sync or Query sent while nothing was outstanding (every earlier Sync / Query
 *   answered by ReadyForQuery): the client then waits for the server. Statements pipelined
 *   behind others in flight add no round trip, and neither do the writes of one statement's
 *   messages (node-postgres, under graphile-worker, writes Parse, Bind and Execute apart).
 */
export interface WireCounts {
  statements: number;
  transactionControl: number;
  roundTrips: number;
}

export const emptyCounts = (): WireCounts => ({
  statements: 0,
  transactionControl: 0,
  roundTrips: 0,
});

export function addCounts(a: WireCounts, b: WireCounts): WireCounts {
  return {
    statements: a.statements + b.statements,
    transactionControl: a.transactionControl + b.transactionControl,
    roundTrips: a.roundTrips + b.roundTrips,
  };
}

const byApplication = new Map<string, WireCounts>();

interface SocketState {
  started: boolean;
  application: string;
  outstanding: number;
  incoming: Buffer;
  /** Statement names (Parse) whose text is transaction control, to count their Executes apart. */
  controlStatements: Set<string>;
  /** The statement of the Bind since the last Execute. */
  boundControl: boolean;
}

const states = new WeakMap<net.Socket, SocketState>();
const TX_CONTROL = /^\s*(begin|commit|rollback|start transaction|end|savepoint|release)\b/i;

function countsOf(application: string): WireCounts {
  let c = byApplication.get(application);
  if (!c) byApplication.set(application, (c = emptyCounts()));
  return c;
}

const cstring = (buf: Buffer, at: number) => {
  const end = buf.indexOf(0, at);
  return { text: buf.toString('utf8', at, end), next: end + 1 };
};

function readStartup(state: SocketState, buf: Buffer): void {
  // int32 length, int32 protocol (196608 for 3.0, or the SSL request code), then name/value pairs.
  if (buf.length < 8 || buf.readInt32BE(4) !== 196608) return; // SSL request: not yet started
  state.started = true;
  let at = 8;
  while (at < buf.length && buf[at] !== 0) {
    const name = cstring(buf, at);
    const value = cstring(buf, name.next);
    if (name.text === 'application_name') state.application = value.text;
    at = value.next;
  }
}

function readOutgoing(state: SocketState, buf: Buffer): void {
  if (!state.started) return readStartup(state, buf);
  const counts = countsOf(state.application);
  for (let at = 0; at + 5 <= buf.length;) {
    const type = String.fromCharCode(buf[at]!);
    const length = buf.readInt32BE(at + 1);
    const body = at + 5;
    switch (type) {
      case 'Q': {
        const text = cstring(buf, body).text;
        if (TX_CONTROL.test(text)) counts.transactionControl++;
        else counts.statements++;
        if (state.outstanding++ === 0) counts.roundTrips++;
        break;
      }
      case 'P': {
        const name = cstring(buf, body);
        if (TX_CONTROL.test(cstring(buf, name.next).text)) state.controlStatements.add(name.text);
        else state.controlStatements.delete(name.text);
        break;
      }
      case 'B': {
        const portal = cstring(buf, body);
        state.boundControl = state.controlStatements.has(cstring(buf, portal.next).text);
        break;
      }
      case 'E':
        if (state.boundControl) counts.transactionControl++;
        else counts.statements++;
        break;
      case 'S':
        if (state.outstanding++ === 0) counts.roundTrips++;
        break;
    }
    at += 1 + length;
  }
}

function readIncoming(state: SocketState, chunk: Buffer): void {
  let buf = state.incoming.length ? Buffer.concat([state.incoming, chunk]) : chunk;
  let at = 0;
  while (at + 5 <= buf.length) {
    const length = buf.readInt32BE(at + 1);
    if (at + 1 + length > buf.length) break;
    if (buf[at] === 0x5a /* Z: ReadyForQuery */ && state.started) {
      state.outstanding = Math.max(0, state.outstanding - 1);
    }
    at += 1 + length;
  }
  buf = buf.subarray(at);
  state.incoming = Buffer.from(buf);
}

let installed = false;

/** Starts counting every connection to `port` that this process opens. */
export function installWireCounter(port: number): void {
  if (installed) return;
  installed = true;
  const write = net.Socket.prototype.write;
  net.Socket.prototype.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
    if (this.remotePort === port && Buffer.isBuffer(chunk)) {
      let state = states.get(this);
      if (!state) {
        state = {
          started: false,
          application: '',
          outstanding: 0,
          incoming: Buffer.alloc(0),
          controlStatements: new Set(),
          boundControl: false,
        };
        states.set(this, state);
        const s = state;
        this.on('data', (data: Buffer) => readIncoming(s, data));
      }
      try {
        readOutgoing(state, chunk);
      } catch {
        // A counting bug must never break the connection it counts.
      }
    }
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof net.Socket.prototype.write;
}

/** Counts so far, by the connections' application_name. */
export function wireCounts(): Map<string, WireCounts> {
  return new Map([...byApplication].map(([k, v]) => [k, { ...v }]));
}

/** Worker processes: `--import` this file with RXSAGA_BENCH_WIRE_COUNTS and the port set. */
const out = process.env.RXSAGA_BENCH_WIRE_COUNTS;
const port = Number(process.env.RXSAGA_BENCH_WIRE_PORT);
if (out && port) {
  installWireCounter(port);
  process.on('exit', () => {
    writeFileSync(out, JSON.stringify(Object.fromEntries(wireCounts())));
  });
}
