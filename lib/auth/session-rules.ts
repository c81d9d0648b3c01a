/**
 * When a session ends, pure: a session is refused once it has been idle longer than the idle
 * timeout (RXSAGA_SESSION_IDLE_MINUTES) or lived longer than the absolute one (8 h), whichever
 * comes first. The clock is the caller's (db/sessions.ts passes the database's `now()`, shared
 * by every web instance); tests pass any time they like.
 */

export interface SessionLimits {
  idleSeconds: number;
  absoluteSeconds: number;
}

export const ABSOLUTE_SESSION_SECONDS = 8 * 60 * 60;

/** A session's last use is recorded at most this often: not one write per request. */
const TOUCH_EVERY_SECONDS = 15;

export interface SessionTimes {
  createdAt: Date;
  lastSeenAt: Date;
}

export type SessionVerdict =
  | { active: true; expiresAt: Date; touch: boolean }
  | { active: false; reason: 'idle' | 'absolute' };

export function sessionVerdict(
  session: SessionTimes,
  now: Date,
  limits: SessionLimits,
): SessionVerdict {
  const absoluteEnd = session.createdAt.getTime() + limits.absoluteSeconds * 1000;
  const idleEnd = session.lastSeenAt.getTime() + limits.idleSeconds * 1000;
  if (now.getTime() >= absoluteEnd) return { active: false, reason: 'absolute' };
  if (now.getTime() >= idleEnd) return { active: false, reason: 'idle' };
  // Used now: the idle clock restarts, but never past the absolute end.
  const expiresAt = new Date(Math.min(absoluteEnd, now.getTime() + limits.idleSeconds * 1000));
  const touch = now.getTime() - session.lastSeenAt.getTime() >= TOUCH_EVERY_SECONDS * 1000;
  return { active: true, expiresAt, touch };
}
