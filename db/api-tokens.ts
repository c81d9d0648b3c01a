import { createHash, randomBytes } from 'node:crypto';
import { asc, eq, sql } from 'drizzle-orm';
import type { Role } from '@/lib/auth/roles';
import type { DbOrTx } from './client';
import { apiTokens } from './schema';

/**
 * Named API tokens (db/schema.ts `api_tokens`): `rxs_` and 32 random bytes, stored as SHA-256.
 * The prefix lets secret scanners and people recognise one.
 */

export type ApiTokenRow = typeof apiTokens.$inferSelect;

export interface ApiTokenView {
  name: string;
  role: Role;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
}

const hashToken = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** A token's last use is recorded at most this often: not one write per request. */
const TOUCH_EVERY_SECONDS = 60;

export const toTokenView = (r: ApiTokenRow): ApiTokenView => ({
  name: r.name,
  role: r.role,
  createdBy: r.createdBy,
  createdAt: r.createdAt.toISOString(),
  lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
});

/** Inserts unless the name is taken (null then); returns the row and its secret, shown once. */
export async function insertToken(
  db: DbOrTx,
  values: { name: string; role: Role; createdBy: string },
): Promise<{ row: ApiTokenRow; secret: string } | null> {
  const secret = `rxs_${randomBytes(32).toString('base64url')}`;
  const [row] = await db
    .insert(apiTokens)
    .values({ ...values, tokenHash: hashToken(secret) })
    .onConflictDoNothing()
    .returning();
  return row ? { row, secret } : null;
}

export const listTokens = async (db: DbOrTx) =>
  (await db.select().from(apiTokens).orderBy(asc(apiTokens.name))).map(toTokenView);

export async function deleteToken(db: DbOrTx, name: string): Promise<ApiTokenRow | null> {
  const [row] = await db.delete(apiTokens).where(eq(apiTokens.name, name)).returning();
  return row ?? null;
}

/** The token behind a secret, or null; records its use. */
export async function findTokenBySecret(db: DbOrTx, secret: string): Promise<ApiTokenRow | null> {
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(eq(apiTokens.tokenHash, hashToken(secret)));
  if (!row) return null;
  await db
    .update(apiTokens)
    .set({ lastUsedAt: sql`now()` })
    .where(
      sql`${apiTokens.id} = ${row.id} and (${apiTokens.lastUsedAt} is null or ${apiTokens.lastUsedAt} < now() - make_interval(secs => ${TOUCH_EVERY_SECONDS}))`,
    );
  return row;
}

export async function tokenExists(db: DbOrTx, id: number): Promise<boolean> {
  const [row] = await db.select({ id: apiTokens.id }).from(apiTokens).where(eq(apiTokens.id, id));
  return row !== undefined;
}

export async function findTokenByName(db: DbOrTx, name: string): Promise<ApiTokenRow | null> {
  const [row] = await db.select().from(apiTokens).where(eq(apiTokens.name, name));
  return row ?? null;
}
