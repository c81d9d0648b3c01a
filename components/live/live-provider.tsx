'use client';

import '@/components/live/zod-without-eval';
import { QueryClient, QueryClientProvider, useQueryClient } from '@tanstack/react-query';
import {
  createContext,
  useContext,
  useEffect,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import { SSE_CHANGES, SSE_READY, liveBatchSchema } from '@/lib/live/channel';
import { liveKeys } from './query-keys';

export type LiveStatus = 'connecting' | 'live' | 'offline';

/**
 * The stream's status lives in a tiny store rather than in a context value: a context change
 * reaches every subtree, including a page whose server HTML React has not hydrated yet, and
 * React then throws that HTML away and renders the page again on the client (on a busy machine
 * the stream connects before a page's streamed HTML is revealed). A store subscription only
 * re-renders the components that read it.
 */
class LiveStatusStore {
  private status: LiveStatus = 'connecting';
  private readonly listeners = new Set<() => void>();
  readonly get = (): LiveStatus => this.status;
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
  set(status: LiveStatus): void {
    if (status === this.status) return;
    this.status = status;
    for (const listener of this.listeners) listener();
  }
}

const serverStatus = (): LiveStatus => 'connecting';
const LiveStatusContext = createContext<LiveStatusStore>(new LiveStatusStore());

/** Lists and charts change with every saga: refresh them at most this often under load. */
const LIST_THROTTLE_MS = 1000;
const MAX_BACKOFF_MS = 30_000;

export function LiveProvider({ children }: { children: ReactNode }) {
  const [client] = useState(
    () =>
      new QueryClient({
        // staleTime 0: a page's initialData was read when the server rendered it, and what
        // changed before its query mounted was pushed to nobody (a saga can finish in the
        // half second a client navigation takes), so every live query refetches on mount.
        defaultOptions: { queries: { staleTime: 0, refetchOnWindowFocus: true, retry: 1 } },
      }),
  );
  return (
    <QueryClientProvider client={client}>
      <EventStream>{children}</EventStream>
    </QueryClientProvider>
  );
}

/**
 * Push first, polling as the safety net: an EventSource on /api/events/stream invalidates the
 * queries a change touches (that saga's page at once; lists, stats and the intervention queue
 * throttled). When the stream drops, EventSource retries; if the browser gives up (a 401 or
 * 5xx), we reconnect with backoff, and while not live, queries poll faster (useLiveInterval).
 * After every (re)connect everything is refetched once, which covers what was missed.
 */
/**
 * The server closes the stream when the session ends (signed out in another tab, revoked,
 * expired); EventSource does not say why it failed, so ask: signed out → the sign-in page,
 * with the way back.
 */
async function sendToSignInIfSignedOut(): Promise<void> {
  try {
    const response = await fetch('/api/session', { cache: 'no-store' });
    if (response.status !== 401) return;
  } catch {
    return; // the server is unreachable: keep retrying
  }
  const here = `${window.location.pathname}${window.location.search}`;
  // A full load on purpose: nothing of the signed-out user's cached data should survive.
  // eslint-disable-next-line @next/next/no-location-assign-relative-destination
  window.location.assign(`/sign-in?next=${encodeURIComponent(here)}`);
}

function EventStream({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [store] = useState(() => new LiveStatusStore());

  useEffect(() => {
    let source: EventSource | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | null = null;
    let listTimer: ReturnType<typeof setTimeout> | null = null;
    let lastListRefresh = 0;
    let backoff = 1000;
    let stopped = false;

    const refreshLists = () => {
      listTimer = null;
      lastListRefresh = Date.now();
      for (const key of liveKeys.lists) void queryClient.invalidateQueries({ queryKey: key });
    };
    const scheduleListRefresh = () => {
      if (listTimer) return;
      const wait = Math.max(0, LIST_THROTTLE_MS - (Date.now() - lastListRefresh));
      listTimer = setTimeout(refreshLists, wait);
    };

    const connect = () => {
      if (stopped) return;
      store.set('connecting');
      source = new EventSource('/api/events/stream');
      source.addEventListener(SSE_READY, () => {
        backoff = 1000;
        store.set('live');
        // Also on the first connect: what changed between the server render and this
        // subscription was never pushed, and would otherwise wait for the next poll.
        void queryClient.invalidateQueries();
      });
      source.addEventListener(SSE_CHANGES, (message: MessageEvent<string>) => {
        const parsed = liveBatchSchema.safeParse(JSON.parse(message.data));
        if (!parsed.success) return;
        for (const change of parsed.data) {
          void queryClient.invalidateQueries({ queryKey: liveKeys.saga(change.sagaId) });
        }
        scheduleListRefresh();
      });
      source.onerror = () => {
        store.set('offline');
        if (source?.readyState === EventSource.CLOSED) {
          source.close();
          retryTimer = setTimeout(connect, backoff);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          void sendToSignInIfSignedOut();
        }
      };
    };
    connect();
    return () => {
      stopped = true;
      source?.close();
      if (retryTimer) clearTimeout(retryTimer);
      if (listTimer) clearTimeout(listTimer);
    };
  }, [queryClient, store]);

  return <LiveStatusContext.Provider value={store}>{children}</LiveStatusContext.Provider>;
}

export function useLiveStatus(): LiveStatus {
  const store = useContext(LiveStatusContext);
  return useSyncExternalStore(store.subscribe, store.get, serverStatus);
}

/** Polling interval for live queries: slow while pushed updates arrive, quick when they do not. */
export function useLiveInterval(): number {
  return useLiveStatus() === 'live' ? 30_000 : 4_000;
}
