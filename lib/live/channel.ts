import { z } from 'zod';

/**
 * Live updates: every append of events sends one Postgres NOTIFY on this channel (in the
 * appending transaction, so it is delivered only if the events commit). The web process
 * LISTENs, batches what arrives and streams it to dashboards as Server-Sent Events; clients
 * refetch what changed. Pure: shared by the database side, the route handler and the browser.
 */
export const LIVE_CHANNEL = 'rxsaga_events';

/** One append: kept small (NOTIFY payloads are limited to 8000 bytes). */
export const liveNotificationSchema = z.object({
  sagaId: z.string(),
  types: z.array(z.string()),
  position: z.number(),
});
export type LiveNotification = z.infer<typeof liveNotificationSchema>;

/** SSE event names. */
export const SSE_READY = 'ready';
export const SSE_CHANGES = 'changes';

/** A batch sent to browsers: the sagas that changed, with the event types each one got. */
export const liveBatchSchema = z.array(liveNotificationSchema);
