import { createHash, randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { sessionVerdict, type SessionLimits } from '@/lib/auth/session-rules';
import type { DbOrTx } from './client';
import type { AccountRow } from './accounts';
import { accounts, sessions } from './schema';

/**
 * Server-side sessions (db/schema.ts `sessions`). The browser holds a random id; the table its
 * SHA-256. Every request reads the row with the database's clock and lets
 * lib/auth/session-rules.ts decide; an ended session's row is deleted on the spot.
 */

/** 32 random bytes, base64url: the only thing the cookie carries. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export const hashSessionId = (id: string) => createHash('sha256').update(id).digest('hex');

export const isSessionId = (value: string | undefined | null): value is string =>
  typeof value === 'string' && SESSION_ID.test(value);

export async function createSession(
  db: DbOrTx,
  accountId: number,
  idToken: string | null = null,
): Promise<string> {
  const id = randomBytes(32).toString('base64url');
  await db.insert(sessions).values({ idHash: hashSessionId(id), accountId, idToken });
  return id;
}

export interface LiveSession {
  idHash: string;
  account: AccountRow;
  expiresAt: Date;
  /** Set for a single sign-on session: what ends the session at the provider too. */
  idToken: string | null;
}

/**
 * The session behind a cookie's id, or null (unknown, ended, or its account disabled). `touch`
 * records the use (the idle clock restarts); the live stream's re-checks pass false, so an
 * open tab nobody looks at still times out.
 */
export async function readSession(
  db: DbOrTx,
  idHash: string,
  limits: SessionLimits,
  touch = true,
): Promise<LiveSession | null> {
  const [row] = await db
    .select({ session: sessions, account: accounts, now: sql<string>`now()` })
    .from(sessions)
    .innerJoin(accounts, eq(accounts.id, sessions.accountId))
    .where(eq(sessions.idHash, idHash));
  if (!row) return null;
  const verdict = sessionVerdict(row.session, new Date(row.now), limits);
  if (!verdict.active || row.account.disabled) {
    await db.delete(sessions).where(eq(sessions.idHash, idHash));
    return null;
  }
  if (touch && verdict.touch)
    await db
      .update(sessions)
      .set({ lastSeenAt: sql`now()` })
      .where(eq(sessions.idHash, idHash));
  return {
    idHash,
    account: row.account,
    expiresAt: verdict.expiresAt,
    idToken: row.session.idToken,
  };
}

export async function deleteSession(db: DbOrTx, idHash: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.idHash, idHash));
}

/** Revokes every session of an account: disabled, or its role or password changed. */
export async function deleteAccountSessions(db: DbOrTx, accountId: number): Promise<number> {
  const rows = await db
    .delete(sessions)
    .where(eq(sessions.accountId, accountId))
    .returning({ idHash: sessions.idHash });
  return rows.length;
}
