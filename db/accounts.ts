import { and, asc, count, eq, gt, inArray, isNotNull, sql } from 'drizzle-orm';
import type { Role } from '@/lib/auth/roles';
import type { DbOrTx } from './client';
import { accounts, sessions } from './schema';

/** Persistence of accounts (db/schema.ts `accounts`); the rules are server/commands/accounts.ts. */

export type AccountRow = typeof accounts.$inferSelect;

export interface AccountView {
  username: string;
  displayName: string | null;
  role: Role;
  disabled: boolean;
  createdAt: string;
  lastSignInAt: string | null;
  /** Single sign-on account (no password of its own). */
  sso: boolean;
  activeSessions: number;
}

export async function findAccount(db: DbOrTx, username: string): Promise<AccountRow | null> {
  const [row] = await db.select().from(accounts).where(eq(accounts.username, username));
  return row ?? null;
}

/** The row locked for the rest of the transaction: changes to one account are serialised. */
export async function lockAccount(db: DbOrTx, username: string): Promise<AccountRow | null> {
  const [row] = await db
    .select()
    .from(accounts)
    .where(eq(accounts.username, username))
    .for('update');
  return row ?? null;
}

/** The single sign-on account of a provider's subject, locked for the rest of the transaction. */
export async function lockSsoAccount(db: DbOrTx, ssoSubject: string): Promise<AccountRow | null> {
  const [row] = await db
    .select()
    .from(accounts)
    .where(eq(accounts.ssoSubject, ssoSubject))
    .for('update');
  return row ?? null;
}

/** Inserts unless the username is taken; null then. */
export async function insertAccount(
  db: DbOrTx,
  values: typeof accounts.$inferInsert,
): Promise<AccountRow | null> {
  const [row] = await db.insert(accounts).values(values).onConflictDoNothing().returning();
  return row ?? null;
}

export async function updateAccount(
  db: DbOrTx,
  id: number,
  patch: Partial<
    Pick<AccountRow, 'displayName' | 'role' | 'disabled' | 'passwordHash' | 'lastSignInAt'>
  >,
): Promise<AccountRow> {
  const [row] = await db.update(accounts).set(patch).where(eq(accounts.id, id)).returning();
  return row!;
}

/**
 * Locks every enabled admin's row, in id order. Taken first by any change that can take an
 * admin away, so two admins demoting each other at once are serialised (the second then sees
 * one admin fewer) instead of deadlocking or both passing the "last admin" rule.
 */
export async function lockEnabledAdmins(db: DbOrTx): Promise<number[]> {
  const rows = await db
    .select({ id: accounts.id })
    .from(accounts)
    .where(and(eq(accounts.role, 'admin'), eq(accounts.disabled, false)))
    .orderBy(asc(accounts.id))
    .for('update');
  return rows.map((r) => r.id);
}

export async function anyAdmin(db: DbOrTx): Promise<boolean> {
  const [row] = await db.select({ n: count() }).from(accounts).where(eq(accounts.role, 'admin'));
  return (row?.n ?? 0) > 0;
}

export const markSignedIn = (db: DbOrTx, id: number) =>
  db
    .update(accounts)
    .set({ lastSignInAt: sql`now()` })
    .where(eq(accounts.id, id));

/** Every account, by username, with its sessions that are still within the idle time. */
export async function listAccounts(db: DbOrTx, idleSeconds: number): Promise<AccountView[]> {
  const active = db
    .select({ accountId: sessions.accountId, n: count().as('n') })
    .from(sessions)
    .where(gt(sessions.lastSeenAt, sql`now() - make_interval(secs => ${idleSeconds})`))
    .groupBy(sessions.accountId)
    .as('active');
  const rows = await db
    .select({ account: accounts, n: active.n })
    .from(accounts)
    .leftJoin(active, eq(active.accountId, accounts.id))
    .orderBy(asc(accounts.username));
  return rows.map(({ account: a, n }) => accountViewOf(a, Number(n ?? 0)));
}

/** An account as the People page and /api/users show it: never its password hash. */
export const accountViewOf = (a: AccountRow, activeSessions = 0): AccountView => ({
  username: a.username,
  displayName: a.displayName,
  role: a.role,
  disabled: a.disabled,
  createdAt: a.createdAt.toISOString(),
  lastSignInAt: a.lastSignInAt?.toISOString() ?? null,
  sso: a.ssoSubject !== null,
  activeSessions,
});

/**
 * The display names of the accounts among `usernames` that have one (the Audit page shows the
 * person: "Nora Nurse" with `nora`). Actors that are tokens or `anonymous` are simply absent.
 */
export async function displayNamesOf(
  db: DbOrTx,
  usernames: readonly string[],
): Promise<Map<string, string>> {
  const wanted = [...new Set(usernames)];
  if (wanted.length === 0) return new Map();
  const rows = await db
    .select({ username: accounts.username, displayName: accounts.displayName })
    .from(accounts)
    .where(and(inArray(accounts.username, wanted), isNotNull(accounts.displayName)));
  return new Map(rows.map((r) => [r.username, r.displayName!]));
}
