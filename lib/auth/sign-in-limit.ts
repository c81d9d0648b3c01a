/**
 * The brute-force rules of sign-in, pure. Two keys count failures:
 *
 * - the client address (`ip:…`): a sliding window, at most `maxFailures` failures in any
 *   `windowSeconds`. Once that many are in the window, further attempts are refused (and not
 *   counted) until the oldest of the latest `maxFailures` leaves it.
 * - the account (`account:<username>`, named or not): after `maxFailures` failures in the
 *   window, exponential backoff from the latest one (1 s, 2 s, 4 s … up to the window). It
 *   applies only to clients that have failed themselves within the window: a client with a
 *   clean record is never refused because others failed on the same account (DESIGN), so a
 *   stranger cannot lock a person out; guessing from many addresses still costs one address
 *   per guess once the backoff runs.
 *
 * Persistence and the clock are the caller's (db/sign-in-attempts.ts, the database's clock,
 * shared by every web instance).
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

/** Backoff after the account's `maxFailures`-th failure in the window: 1 s, doubling, capped. */
export function accountBackoffVerdict(
  failures: readonly Date[],
  now: Date,
  limit: SignInLimit,
): SignInVerdict {
  const windowMs = limit.windowSeconds * 1000;
  const recent = failures.map((at) => at.getTime()).filter((at) => at > now.getTime() - windowMs);
  const over = recent.length - Math.max(1, limit.maxFailures);
  if (over < 0) return { allowed: true };
  const waitMs = Math.min(windowMs, 1000 * 2 ** Math.min(over, 30));
  const lockedUntil = new Date(Math.max(...recent) + waitMs);
  return lockedUntil.getTime() > now.getTime()
    ? { allowed: false, lockedUntil }
    : { allowed: true };
}

export interface AttemptHistory {
  /** Recent failures from this client address. */
  client: readonly Date[];
  /** Recent failures on the account named, from any client. */
  account: readonly Date[];
}

export type AttemptVerdict =
  { allowed: true } | { allowed: false; lockedUntil: Date; by: 'client' | 'account' };

/** May this attempt go ahead? The client's own lock first; the account's backoff only for clients that failed. */
export function attemptVerdict(
  history: AttemptHistory,
  now: Date,
  limit: SignInLimit,
): AttemptVerdict {
  const client = signInVerdict(history.client, now, limit);
  if (!client.allowed) return { ...client, by: 'client' };
  const windowMs = limit.windowSeconds * 1000;
  const clientFailed = history.client.some((at) => at.getTime() > now.getTime() - windowMs);
  if (!clientFailed) return { allowed: true };
  const account = accountBackoffVerdict(history.account, now, limit);
  return account.allowed ? account : { ...account, by: 'account' };
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
