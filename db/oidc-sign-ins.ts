import { eq, getTableColumns, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from './client';
import { hashSessionId } from './sessions';
import { oidcSignIns } from './schema';

/**
 * Single sign-on attempts in flight (db/schema.ts `oidc_sign_ins`): what the callback must find
 * again, bound to the browser that started the attempt by the SHA-256 of its cookie.
 */

/** How long a person may spend at the provider before the attempt is void. */
export const OIDC_SIGN_IN_SECONDS = 600;

export type OidcSignInRow = typeof oidcSignIns.$inferSelect;

export async function saveOidcSignIn(
  db: DbOrTx,
  browserId: string,
  values: Omit<OidcSignInRow, 'idHash' | 'createdAt'>,
): Promise<void> {
  // Attempts nobody finished are swept on the way: the table holds only the last 10 minutes.
  await db
    .delete(oidcSignIns)
    .where(lt(oidcSignIns.createdAt, sql`now() - make_interval(secs => ${OIDC_SIGN_IN_SECONDS})`));
  await db.insert(oidcSignIns).values({ idHash: hashSessionId(browserId), ...values });
}

/**
 * The attempt behind a browser's cookie, deleted as it is read (a second use finds nothing);
 * null when there is none or it is older than OIDC_SIGN_IN_SECONDS (by the database's clock).
 */
export async function takeOidcSignIn(db: DbOrTx, browserId: string): Promise<OidcSignInRow | null> {
  const [row] = await db
    .delete(oidcSignIns)
    .where(eq(oidcSignIns.idHash, hashSessionId(browserId)))
    .returning({
      ...getTableColumns(oidcSignIns),
      fresh: sql<boolean>`${oidcSignIns.createdAt} > now() - make_interval(secs => ${OIDC_SIGN_IN_SECONDS})`,
    });
  if (!row?.fresh) return null;
  const { fresh: _, ...attempt } = row;
  return attempt;
}
