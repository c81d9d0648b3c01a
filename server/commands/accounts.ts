import {
  accountViewOf,
  findAccount,
  insertAccount,
  listAccounts,
  lockAccount,
  lockEnabledAdmins,
  updateAccount,
  type AccountRow,
  type AccountView,
} from '@/db/accounts';
import { findTokenByName } from '@/db/api-tokens';
import { recordAudit, type AuditActor } from '@/db/audit';
import type { Database } from '@/db/client';
import { deleteAccountSessions } from '@/db/sessions';
import {
  changeOwnPasswordSchema,
  createAccountSchema,
  updateAccountSchema,
  usernameSchema,
} from '@/lib/auth/account-rules';
import { hashPassword, verifyPassword } from '@/lib/auth/passwords';
import type { SignInLimit } from '@/lib/auth/sign-in-limit';
import { AppError, conflict, invalidInput, notFound } from '@/lib/errors';
import { signInLimitFromEnv, throttledPasswordCheck } from './sign-in';

/**
 * Account management (DESIGN "Accounts, roles and sessions"): the People page's actions and
 * /api/users both call these. Each change is one transaction with its audit record; a change of
 * role or password, and disabling, delete every session of the account in the same
 * transaction, so its open tabs are signed out on their next request.
 */

const SSO_HAS_NO_PASSWORD = 'this account signs in through single sign-on: it has no password';

export const accountsOf = (db: Database, idleSeconds: number) => listAccounts(db, idleSeconds);

/** What the audit trail keeps of an account: never its password hash. */
const auditedFields = (a: AccountRow) => ({
  displayName: a.displayName,
  role: a.role,
  disabled: a.disabled,
});

export async function createAccount(
  db: Database,
  input: unknown,
  by: AuditActor,
): Promise<AccountView> {
  const parsed = createAccountSchema.safeParse(input);
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid account');
  const { username, displayName, role, password } = parsed.data;
  const passwordHash = await hashPassword(password);
  return db.transaction(async (tx) => {
    if (await findTokenByName(tx, username))
      throw conflict(`"${username}" is the name of an API token`);
    const row = await insertAccount(tx, {
      username,
      displayName: displayName ?? null,
      role,
      passwordHash,
    });
    if (!row) throw conflict(`the username "${username}" is taken`);
    await recordAudit(tx, by, {
      action: 'account.create',
      target: username,
      after: auditedFields(row),
    });
    return accountViewOf(row);
  });
}

export async function changeAccount(
  db: Database,
  usernameInput: unknown,
  input: unknown,
  by: AuditActor,
): Promise<AccountView> {
  const name = usernameSchema.safeParse(usernameInput);
  if (!name.success) throw notFound('no such account');
  const parsed = updateAccountSchema.safeParse(input);
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid change');
  const change = parsed.data;
  const passwordHash =
    change.password === undefined ? undefined : await hashPassword(change.password);
  return db.transaction(async (tx) => {
    const admins =
      change.role !== undefined || change.disabled !== undefined ? await lockEnabledAdmins(tx) : [];
    const before = await lockAccount(tx, name.data);
    if (!before) throw notFound('no such account');
    const losesAdmin =
      before.role === 'admin' &&
      !before.disabled &&
      ((change.role !== undefined && change.role !== 'admin') || change.disabled === true);
    if (losesAdmin && admins.filter((id) => id !== before.id).length === 0)
      throw conflict('the last enabled admin cannot be disabled or demoted');
    if (passwordHash !== undefined && before.ssoSubject !== null && before.passwordHash === null)
      throw conflict(SSO_HAS_NO_PASSWORD);

    const after = await updateAccount(tx, before.id, {
      ...(change.displayName !== undefined ? { displayName: change.displayName } : {}),
      ...(change.role !== undefined ? { role: change.role } : {}),
      ...(change.disabled !== undefined ? { disabled: change.disabled } : {}),
      ...(passwordHash !== undefined ? { passwordHash } : {}),
    });
    const revokes =
      after.role !== before.role ||
      (after.disabled && !before.disabled) ||
      passwordHash !== undefined;
    const revoked = revokes ? await deleteAccountSessions(tx, before.id) : 0;
    await recordAudit(tx, by, {
      action:
        passwordHash !== undefined && Object.keys(change).length === 1
          ? 'account.password_change'
          : 'account.update',
      target: after.username,
      reason: revokes ? `${revoked} session(s) revoked` : null,
      before: auditedFields(before),
      after: {
        ...auditedFields(after),
        ...(passwordHash !== undefined ? { password: 'changed' } : {}),
      },
    });
    return accountViewOf(after);
  });
}

/**
 * Every account changes its own password, proving the current one: a password check, so under
 * the same brute-force limits as signing in (a wrong current password counts as a failed
 * sign-in from that client, on that account). Its sessions are revoked (all of them, this one
 * included: the caller starts a fresh one).
 */
export async function changeOwnPassword(
  db: Database,
  username: string,
  input: unknown,
  by: AuditActor,
  context: { client: string; limit?: SignInLimit },
): Promise<AccountRow> {
  const parsed = changeOwnPasswordSchema.safeParse(input);
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid password change');
  const account = await findAccount(db, username);
  if (!account || account.disabled) throw notFound('no such account');
  if (account.passwordHash === null) throw conflict(SSO_HAS_NO_PASSWORD);
  const current = account.passwordHash;
  const ok = await throttledPasswordCheck(
    db,
    {
      client: context.client,
      username: account.username,
      requestId: by.requestId ?? null,
      limit: context.limit ?? signInLimitFromEnv(),
      actor: by,
      failedAction: 'account.password_change_failed',
    },
    () => verifyPassword(parsed.data.currentPassword, current),
  );
  if (!ok)
    throw new AppError('invalid_input', 'the current password is wrong', [
      { path: ['currentPassword'], message: 'the current password is wrong' },
    ]);
  const passwordHash = await hashPassword(parsed.data.newPassword);
  return db.transaction(async (tx) => {
    const after = await updateAccount(tx, account.id, { passwordHash });
    const revoked = await deleteAccountSessions(tx, account.id);
    await recordAudit(tx, by, {
      action: 'account.password_change',
      target: account.username,
      reason: `own password; ${revoked} session(s) revoked`,
    });
    return after;
  });
}
