/**
 * The brute-force rule of sign-in, pure: given the failed attempts a key (a client address, or
 * every address together) made recently and the time now, may it try again, and if not, until
 * when? A sliding window: at most `maxFailures` failures in any `windowSeconds`. Once that many
 * are in the window, further attempts are refused (and not counted) until the oldest of the
 * latest `maxFailures` leaves it, so a lockout lasts at most one window after the failure that
 * started it. Persistence and the clock are the caller's (db/sign-in-attempts.ts, the
 * database's clock, shared by every web instance).
 */

export interface SignInLimit {
  /** Failures within the window that lock the key; at least 1. */
  maxFailures: number;
  windowSeconds: number;
}

export type SignInVerdict = { allowed: true } | { allowed: false; lockedUntil: Date };

export function signInVerdict(
  failures: readonly Date[],
  now: Date,
  limit: SignInLimit,
): SignInVerdict {
  const windowMs = limit.windowSeconds * 1000;
  const recent = failures
    .map((at) => at.getTime())
    .filter((at) => at > now.getTime() - windowMs)
    .sort((a, b) => b - a);
  const max = Math.max(1, limit.maxFailures);
  if (recent.length < max) return { allowed: true };
  // The window holds fewer than `max` failures again once the max-th most recent has left it.
  return { allowed: false, lockedUntil: new Date(recent[max - 1]! + windowMs) };
}

/** Whole seconds until `lockedUntil` (the Retry-After header), at least 1. */
export function retryAfterSeconds(lockedUntil: Date, now: Date): number {
  return Math.max(1, Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000));
}

/** "40 seconds", "1 minute", "15 minutes": rounded up, for the refusal's message. */
export function describeWait(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  return seconds < 60 ? plural(seconds, 'second') : plural(Math.ceil(seconds / 60), 'minute');
}
