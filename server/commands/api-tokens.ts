import { findAccount } from '@/db/accounts';
import { deleteToken, insertToken, toTokenView, type ApiTokenView } from '@/db/api-tokens';
import { recordAudit, type AuditActor } from '@/db/audit';
import type { Database } from '@/db/client';
import { createTokenSchema, tokenNameSchema } from '@/lib/auth/account-rules';
import { conflict, invalidInput, notFound } from '@/lib/errors';

/**
 * Named API tokens, made and revoked by admins (the People page and /api/tokens). A token's
 * name is the actor of what it does, so it may not be a username as well.
 */

export async function createApiToken(
  db: Database,
  input: unknown,
  by: AuditActor,
): Promise<ApiTokenView & { token: string }> {
  const parsed = createTokenSchema.safeParse(input);
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid token');
  const { name, role } = parsed.data;
  return db.transaction(async (tx) => {
    if (await findAccount(tx, name)) throw conflict(`"${name}" is the username of an account`);
    const made = await insertToken(tx, { name, role, createdBy: by.actor });
    if (!made) throw conflict(`a token named "${name}" exists`);
    await recordAudit(tx, by, { action: 'token.create', target: name, after: { role } });
    return { ...toTokenView(made.row), token: made.secret };
  });
}

/** Revoked at once: the next request with it is a 401. */
export async function revokeApiToken(
  db: Database,
  nameInput: unknown,
  by: AuditActor,
): Promise<void> {
  const name = tokenNameSchema.safeParse(nameInput);
  if (!name.success) throw notFound('no such token');
  await db.transaction(async (tx) => {
    const row = await deleteToken(tx, name.data);
    if (!row) throw notFound('no such token');
    await recordAudit(tx, by, {
      action: 'token.revoke',
      target: row.name,
      before: { role: row.role },
    });
  });
}
