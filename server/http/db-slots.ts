import { WEB_POOL_MAX } from '@/db/client';
import { getEnv } from '@/lib/env';
import { ClientGone, ServerBusy } from '@/lib/errors';

/**
 * Admission to the database for API requests: as many slots as the web's pool has connections.
 * A request takes one before its handler runs and gives it back when the handler returns. It
 * waits at most RXSAGA_DB_WAIT_MS for one, and not at all once its client has gone: without
 * this bound, postgres.js queues every query without end, so under overload each request waits
 * behind all the earlier ones, including those whose clients have long given up, and once that
 * wait passes the clients' timeout all the work done is wasted (a retry storm, docs/chaos.md).
 */

interface Waiter {
  grant: () => void;
}

class Slots {
  private inUse = 0;
  private readonly queue: Waiter[] = [];

  constructor(readonly size: number) {}

  get busy(): number {
    return this.inUse;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Resolves with a release function once a slot is ours. Rejects with ServerBusy after
   * `maxWaitMs`, with ClientGone as soon as `signal` aborts; either way the place in the queue
   * is given up, so a slot freed later goes to a request that still wants it.
   */
  acquire(signal: AbortSignal, maxWaitMs: number): Promise<() => void> {
    if (signal.aborted) return Promise.reject(new ClientGone());
    if (this.inUse < this.size && this.queue.length === 0) {
      this.inUse += 1;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const leave = (error: Error) => {
        const at = this.queue.indexOf(waiter);
        if (at >= 0) this.queue.splice(at, 1);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        reject(error);
      };
      const onAbort = () => leave(new ClientGone());
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          this.inUse += 1;
          resolve(this.releaser());
        },
      };
      const timer = setTimeout(
        () =>
          leave(
            new ServerBusy(
              `the server is busy: no database connection came free within ${maxWaitMs} ms; nothing was stored; try again later`,
            ),
          ),
        maxWaitMs,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inUse -= 1;
      const next = this.queue.shift();
      next?.grant();
    };
  }
}

const globalForSlots = globalThis as unknown as { rxsagaDbSlots?: Slots };

/** The process's slots, one per connection of the web's pool (db/client.ts). */
function dbSlots(): Slots {
  return (globalForSlots.rxsagaDbSlots ??= new Slots(WEB_POOL_MAX));
}

/** Takes one of the process's slots for a request, within RXSAGA_DB_WAIT_MS. */
export const admitRequest = (signal: AbortSignal) =>
  dbSlots().acquire(signal, getEnv().RXSAGA_DB_WAIT_MS);
