import { subscribeToEvents } from '@/db/live';
import { principalStillValid } from '@/server/auth/guards';
import { viewerRoute } from '@/server/http/api-route';
import { SSE_CHANGES, SSE_READY, type LiveNotification } from '@/lib/live/channel';

export const dynamic = 'force-dynamic';

/** Batching keeps a busy system (hundreds of appends a second) to a few messages a second. */
const FLUSH_MS = 150;
const HEARTBEAT_MS = 15_000;
const RECONNECT_HINT_MS = 2_000;
/**
 * How often an open stream re-checks the session (or token) it was opened with: signing out,
 * a revoked or disabled account, or an expired session closes it within this time. The
 * re-check does not count as use, so an open tab still reaches the idle timeout.
 */
const RECHECK_MS = 3_000;

/**
 * GET /api/events/stream: Server-Sent Events fed by Postgres LISTEN/NOTIFY. Each message names
 * the sagas that changed and their new event types; the dashboard refetches what it shows.
 * Data is never sent here, only "what changed", so what a viewer may see stays decided by the
 * reading routes.
 */
export const GET = viewerRoute(async ({ request, principal }) => {
  const encoder = new TextEncoder();
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      let pending = new Map<string, LiveNotification>();
      let timer: ReturnType<typeof setTimeout> | null = null;
      let closed = false;
      const send = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          // The client went away before `cancel` reached us (a timer fired first): stop here
          // rather than throw from a timer, which is an uncaught exception in the web process.
          cleanup();
        }
      };
      const flush = () => {
        timer = null;
        if (pending.size === 0) return;
        const batch = [...pending.values()];
        pending = new Map();
        send(`event: ${SSE_CHANGES}\ndata: ${JSON.stringify(batch)}\n\n`);
      };
      const unsubscribe = await subscribeToEvents((n) => {
        const seen = pending.get(n.sagaId);
        pending.set(n.sagaId, seen ? { ...n, types: [...seen.types, ...n.types] } : n);
        timer ??= setTimeout(flush, FLUSH_MS);
      });
      const heartbeat = setInterval(() => send(': ping\n\n'), HEARTBEAT_MS);
      const recheck = setInterval(() => {
        principalStillValid(principal).then(
          (valid) => {
            if (!valid) cleanup();
          },
          () => {}, // a database hiccup is not a revocation: the next re-check decides
        );
      }, RECHECK_MS);
      cleanup = () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        clearInterval(heartbeat);
        clearInterval(recheck);
        if (timer) clearTimeout(timer);
        try {
          controller.close();
        } catch {
          // already closed by the client going away
        }
      };
      request.signal.addEventListener('abort', cleanup, { once: true });
      // A client that left while we subscribed: `cancel` ran before `cleanup` was set.
      if (request.signal.aborted) return cleanup();
      send(`retry: ${RECONNECT_HINT_MS}\nevent: ${SSE_READY}\ndata: {}\n\n`);
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    },
  });
});
