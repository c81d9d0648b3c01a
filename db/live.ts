import 'server-only';
import { LIVE_CHANNEL, liveNotificationSchema, type LiveNotification } from '@/lib/live/channel';
import { getConnection } from './client';

/**
 * One LISTEN connection per web process, fanned out to every open event stream. postgres.js
 * re-issues LISTEN on a new connection when the old one drops, so a database restart heals.
 */
type Listener = (n: LiveNotification) => void;

interface Hub {
  listeners: Set<Listener>;
  started: Promise<void> | null;
}

const g = globalThis as unknown as { rxsagaLiveHub?: Hub };
const hub: Hub = (g.rxsagaLiveHub ??= { listeners: new Set(), started: null });

function start(): Promise<void> {
  hub.started ??= getConnection()
    .sql.listen(LIVE_CHANNEL, (payload) => {
      let parsed: LiveNotification;
      try {
        parsed = liveNotificationSchema.parse(JSON.parse(payload));
      } catch {
        return; // not ours, or malformed: nothing to refresh
      }
      for (const listener of hub.listeners) listener(parsed);
    })
    .then(() => undefined)
    .catch((error: unknown) => {
      hub.started = null; // the next subscriber tries again
      throw error;
    });
  return hub.started;
}

/** Subscribes to appended events; resolves once LISTEN is active. Returns the unsubscribe. */
export async function subscribeToEvents(listener: Listener): Promise<() => void> {
  hub.listeners.add(listener);
  try {
    await start();
  } catch (error) {
    hub.listeners.delete(listener);
    throw error;
  }
  return () => hub.listeners.delete(listener);
}
