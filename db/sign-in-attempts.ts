import { and, desc, eq, gt, inArray, lt, or, sql } from 'drizzle-orm';
import {
  attemptVerdict,
  signInVerdict,
  accountBackoffVerdict,
  type SignInLimit,
} from '@/lib/auth/sign-in-limit';
import type { Database, DbOrTx } from './client';
import { signInAttempts } from './schema';

/**
 * Persistence of the sign-in brute-force limits (the rules are lib/auth/sign-in-limit.ts). Every
 * web instance shares them through these rows, and the database's clock, so instances with
 * skewed clocks still agree on the window.
 */

export interface AttemptKeys {
  /** `ip:<address>`: lib/auth/client-address.ts. */
  client: string;
  /** `account:<username>`, whether or not the account exists. */
  account: string;
}

export type Reservation =
  | {
      ok: true;
      now: Date;
      /** This attempt's rows: a success deletes them (and the rest of its address's). */
      attemptIds: number[];
      /** The keys this attempt locks if its password turns out wrong, and until when. */
      locksOnFailure: { key: string; lockedUntil: Date }[];
    }
  | { ok: false; now: Date; key: string; by: 'client' | 'account'; lockedUntil: Date };

/** Arbitrary but fixed first half of the advisory lock on a key (the second is its hash). */
const LOCK_NAMESPACE = 720_165_201;

async function recentFailures(tx: DbOrTx, key: string, now: Date, limit: SignInLimit) {
  const rows = await tx
    .select({ at: signInAttempts.at })
    .from(signInAttempts)
    .where(
      and(
        eq(signInAttempts.key, key),
        gt(signInAttempts.at, new Date(now.getTime() - limit.windowSeconds * 1000)),
      ),
    )
    .orderBy(desc(signInAttempts.at))
    // Enough to decide both rules: the backoff doubles per failure and is capped by the window
    // long before this many.
    .limit(limit.maxFailures + 40);
  return rows.map((r) => r.at);
}

/**
 * Takes a sign-in attempt's turn: refused if the client is locked, or the account's backoff
 * applies to it; otherwise the attempt is recorded as a failure under both keys before the
 * password is checked, so a burst of concurrent attempts (on any instance) cannot all pass the
 * check before one is counted. The advisory locks make check and record one step per key; they
 * are taken in key order, so two attempts never wait on each other crosswise.
 */
export async function reserveSignInAttempt(
  db: Database,
  keys: AttemptKeys,
  limit: SignInLimit,
): Promise<Reservation> {
  const ordered = [keys.client, keys.account].sort();
  return db.transaction(async (tx) => {
    for (const key of ordered)
      await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext(${key}))`);
    // After the locks: an attempt that held one has committed its row by now, and is earlier.
    const [clock] = await tx.execute<{ now: Date | string }>(sql`select clock_timestamp() as now`);
    const now = new Date(clock!.now);
    await tx
      .delete(signInAttempts)
      .where(lt(signInAttempts.at, new Date(now.getTime() - limit.windowSeconds * 1000)));

    const client = await recentFailures(tx, keys.client, now, limit);
    const account = await recentFailures(tx, keys.account, now, limit);
    const verdict = attemptVerdict({ client, account }, now, limit);
    if (!verdict.allowed)
      return {
        ok: false,
        now,
        key: verdict.by === 'client' ? keys.client : keys.account,
        by: verdict.by,
        lockedUntil: verdict.lockedUntil,
      };

    const locksOnFailure: { key: string; lockedUntil: Date }[] = [];
    const clientIfFailed = signInVerdict([...client, now], now, limit);
    if (!clientIfFailed.allowed)
      locksOnFailure.push({ key: keys.client, lockedUntil: clientIfFailed.lockedUntil });
    // The account's backoff starts with this failure (audited once, not on every doubling).
    const accountIfFailed = accountBackoffVerdict([...account, now], now, limit);
    if (!accountIfFailed.allowed && account.length + 1 === limit.maxFailures)
      locksOnFailure.push({ key: keys.account, lockedUntil: accountIfFailed.lockedUntil });

    const inserted = await tx
      .insert(signInAttempts)
      .values(ordered.map((key) => ({ key, at: now })))
      .returning({ id: signInAttempts.id });
    return { ok: true, now, attemptIds: inserted.map((r) => r.id), locksOnFailure };
  });
}

/**
 * A successful sign-in: forgets the address's failures and this attempt's rows. The account's
 * other failures stay: they are someone else's, and its backoff only meets clients that failed.
 */
export async function clearSignInFailures(
  db: Database,
  addressKey: string,
  attemptIds: readonly number[],
): Promise<void> {
  await db
    .delete(signInAttempts)
    .where(
      or(
        eq(signInAttempts.key, addressKey),
        attemptIds.length > 0 ? inArray(signInAttempts.id, [...attemptIds]) : undefined,
      ),
    );
}
