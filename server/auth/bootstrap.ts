import { sql } from 'drizzle-orm';
import { anyAdmin, insertAccount } from '@/db/accounts';
import { recordAudit } from '@/db/audit';
import type { Database } from '@/db/client';
import { hashPassword } from '@/lib/auth/passwords';

/**
 * DESIGN's bootstrap: RXSAGA_ADMIN_PASSWORD is the password of the account `admin` (role admin),
 * created when no admin exists; RXSAGA_VIEWER_PASSWORD, when set, of the account `viewer`,
 * created when it does not exist. Existing accounts are never changed, so a password reset
 * on the People page is not undone by the next start. Run by `npm start` after migrations and
 * by the first sign-in of each web process (deployments that start `next start` themselves);
 * an advisory lock keeps concurrent starts from racing.
 */
export async function ensureBootstrapAccounts(
  db: Database,
  passwords: { admin?: string; viewer?: string },
): Promise<string[]> {
  const created: string[] = [];
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(720165202)`);
    const by = { actor: 'bootstrap', role: 'admin' as const };
    if (passwords.admin && !(await anyAdmin(tx))) {
      const row = await insertAccount(tx, {
        username: 'admin',
        role: 'admin',
        passwordHash: await hashPassword(passwords.admin),
      });
      if (row) created.push('admin');
    }
    if (passwords.viewer) {
      const row = await insertAccount(tx, {
        username: 'viewer',
        role: 'viewer',
        passwordHash: await hashPassword(passwords.viewer),
      });
      if (row) created.push('viewer');
    }
    for (const username of created)
      await recordAudit(tx, by, {
        action: 'account.create',
        target: username,
        reason: 'bootstrap from the environment',
        after: { role: username === 'admin' ? 'admin' : 'viewer' },
      });
  });
  return created;
}
