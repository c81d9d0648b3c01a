import { and, desc, eq, gt, inArray, lt, or, sql } from 'drizzle-orm';
import { signInVerdict, type SignInLimit } from '@/lib/auth/sign-in-limit';
import type { Database } from './client';
import { signInAttempts } from './schema';

/**
 * Persistence of the sign-in brute-force limit (the rule is lib/auth/sign-in-limit.ts). Every
 * web instance shares it through these rows, and the database's clock, so instances with
 * skewed clocks still agree on the window.
 */

export interface LimitedKey {
  /** `ip:<address>` or `all`: see db/schema.ts signInAttempts. */
  key: string;
  limit: SignInLimit;
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
  | { ok: false; now: Date; key: string; lockedUntil: Date };

/** Arbitrary but fixed first half of the advisory lock on a key (the second is its hash). */
const LOCK_NAMESPACE = 720_165_201;

/**
 * Takes a sign-in attempt's turn: refused if any key is locked; otherwise the attempt is
 * recorded as a failure under every key before the password is checked, so a burst of
 * concurrent attempts (on any instance) cannot all pass the check before one is counted. The
 * advisory locks make check and record one step per key; they are taken in key order, so two
 * attempts never wait on each other crosswise.
 */
export async function reserveSignInAttempt(
  db: Database,
  keys: readonly LimitedKey[],
): Promise<Reservation> {
  const ordered = [...keys].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return db.transaction(async (tx) => {
    for (const { key } of ordered)
      await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext(${key}))`);
    // After the locks: an attempt that held one has committed its row by now, and is earlier.
    const [clock] = await tx.execute<{ now: Date | string }>(sql`select clock_timestamp() as now`);
    const now = new Date(clock!.now);
    const longest = Math.max(...ordered.map((k) => k.limit.windowSeconds));
    await tx
      .delete(signInAttempts)
      .where(lt(signInAttempts.at, new Date(now.getTime() - longest * 1000)));

    const locksOnFailure: { key: string; lockedUntil: Date }[] = [];
    let refusal: { key: string; lockedUntil: Date } | null = null;
    for (const { key, limit } of ordered) {
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
        .limit(limit.maxFailures);
      const failures = rows.map((r) => r.at);
      const verdict = signInVerdict(failures, now, limit);
      if (!verdict.allowed) {
        if (!refusal || verdict.lockedUntil > refusal.lockedUntil)
          refusal = { key, lockedUntil: verdict.lockedUntil };
        continue;
      }
      const ifFailed = signInVerdict([...failures, now], now, limit);
      if (!ifFailed.allowed) locksOnFailure.push({ key, lockedUntil: ifFailed.lockedUntil });
    }
    if (refusal) return { ok: false, now, ...refusal };

    const inserted = await tx
      .insert(signInAttempts)
      .values(ordered.map(({ key }) => ({ key, at: now })))
      .returning({ id: signInAttempts.id });
    return { ok: true, now, attemptIds: inserted.map((r) => r.id), locksOnFailure };
  });
}

/** A successful sign-in: forgets the address's failures, and this attempt under every key. */
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
