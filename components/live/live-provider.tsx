'use client';

import { QueryClient, QueryClientProvider, useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { SSE_CHANGES, SSE_READY, liveBatchSchema } from '@/lib/live/channel';
import { liveKeys } from './query-keys';

export type LiveStatus = 'connecting' | 'live' | 'offline';

const LiveStatusContext = createContext<LiveStatus>('connecting');

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
function EventStream({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>('connecting');

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
      setStatus('connecting');
      source = new EventSource('/api/events/stream');
      source.addEventListener(SSE_READY, () => {
        backoff = 1000;
        setStatus('live');
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
        setStatus('offline');
        if (source?.readyState === EventSource.CLOSED) {
          source.close();
          retryTimer = setTimeout(connect, backoff);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
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
  }, [queryClient]);

  return <LiveStatusContext.Provider value={status}>{children}</LiveStatusContext.Provider>;
}

export function useLiveStatus(): LiveStatus {
  return useContext(LiveStatusContext);
}

/** Polling interval for live queries: slow while pushed updates arrive, quick when they do not. */
export function useLiveInterval(): number {
  return useLiveStatus() === 'live' ? 30_000 : 4_000;
}
