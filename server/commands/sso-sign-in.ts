import {
  findAccount,
  insertAccount,
  lockSsoAccount,
  markSignedIn,
  updateAccount,
  lockEnabledAdmins,
  type AccountRow,
} from '@/db/accounts';
import { findTokenByName } from '@/db/api-tokens';
import { recordAudit } from '@/db/audit';
import type { Database } from '@/db/client';
import { deleteAccountSessions } from '@/db/sessions';
import {
  displayNameFromClaims,
  roleFromClaims,
  ssoSubjectOf,
  usernameFromClaims,
} from '@/lib/auth/oidc-claims';
import type { OidcSettings } from '@/lib/env';
import { AppError } from '@/lib/errors';

/**
 * What a verified single sign-on answer does (server/auth/oidc.ts has checked state, nonce,
 * PKCE and the ID token's signature by then): the claims give the role, or the sign-in is
 * refused; the provider's subject finds the account, or a new one is made with the username
 * the provider names and no password. A disabled account is refused. Every outcome is audited.
 */

/** Why a single sign-on was refused; the sign-in page shows the message that goes with it. */
export type SsoRefusal =
  | 'unavailable'
  | 'expired'
  | 'rejected'
  | 'denied'
  | 'no_role'
  | 'no_username'
  | 'username_taken'
  | 'disabled'
  | 'last_admin';

export class SsoRefused extends AppError {
  constructor(
    readonly code: SsoRefusal,
    message: string,
  ) {
    super('forbidden', message);
  }
}

export interface SsoSignInContext {
  settings: OidcSettings;
  requestId?: string | null;
}

const ANONYMOUS = { actor: 'anonymous', role: 'anonymous' as const };

/** Records a refused single sign-on (the actor is never a name the provider sent) and throws it. */
export async function refuseSso(
  db: Database,
  refusal: SsoRefused,
  target: string | null,
  requestId: string | null = null,
): Promise<never> {
  await recordAudit(
    db,
    { ...ANONYMOUS, requestId },
    {
      action: 'session.sign_in_failed',
      target,
      reason: `single sign-on: ${refusal.message}`,
    },
  );
  throw refusal;
}

export async function signInBySso(
  db: Database,
  claims: Record<string, unknown> & { sub: string },
  { settings, requestId = null }: SsoSignInContext,
): Promise<AccountRow> {
  const subject = ssoSubjectOf(settings.issuer, claims.sub);
  const requested = usernameFromClaims(claims, settings.usernameClaim);
  const target = requested ?? `sub:${claims.sub}`.slice(0, 200);
  const role = roleFromClaims(claims, settings.roleClaim, settings.roleValues);
  if (!role)
    return refuseSso(
      db,
      new SsoRefused(
        'no_role',
        `no role for you here: your "${settings.roleClaim}" has none of the values this pharmacy maps to a role`,
      ),
      target,
      requestId,
    );

  const outcome = await db.transaction(async (tx) => {
    // A sign-on that is not as admin may demote one: the enabled admins are locked first, in
    // the order updateAccount's command takes them, so the last-admin rule holds here too.
    const admins = role === 'admin' ? [] : await lockEnabledAdmins(tx);
    const existing = await lockSsoAccount(tx, subject);
    if (existing?.disabled)
      return new SsoRefused('disabled', `the account "${existing.username}" is disabled`);
    if (existing?.role === 'admin' && admins.length === 1 && admins[0] === existing.id)
      return new SsoRefused(
        'last_admin',
        `the provider's claims would demote "${existing.username}", the last enabled admin: an admin must first give another account the admin role`,
      );
    if (existing) {
      const displayName = displayNameFromClaims(claims) ?? existing.displayName;
      if (existing.role === role && existing.displayName === displayName) return existing;
      const after = await updateAccount(tx, existing.id, { role, displayName });
      // The provider's claim decides the role; a changed role ends the account's other sessions.
      const revoked =
        after.role !== existing.role ? await deleteAccountSessions(tx, existing.id) : 0;
      await recordAudit(
        tx,
        { actor: after.username, role: after.role, requestId },
        {
          action: 'account.update',
          target: after.username,
          reason: `single sign-on: from the provider's claims${revoked ? `; ${revoked} session(s) revoked` : ''}`,
          before: { displayName: existing.displayName, role: existing.role },
          after: { displayName: after.displayName, role: after.role },
        },
      );
      return after;
    }
    if (!requested)
      return new SsoRefused(
        'no_username',
        `the provider sent no usable "${settings.usernameClaim}" to name your account`,
      );
    if ((await findAccount(tx, requested)) || (await findTokenByName(tx, requested)))
      return new SsoRefused(
        'username_taken',
        `the username "${requested}" belongs to another account: an admin must rename one of them`,
      );
    const created = await insertAccount(tx, {
      username: requested,
      displayName: displayNameFromClaims(claims),
      role,
      passwordHash: null,
      ssoSubject: subject,
    });
    if (!created)
      return new SsoRefused('username_taken', `the username "${requested}" was just taken`);
    await recordAudit(
      tx,
      { actor: created.username, role: created.role, requestId },
      {
        action: 'account.create',
        target: created.username,
        reason: 'single sign-on: first sign-in',
        after: { displayName: created.displayName, role: created.role, disabled: false, sso: true },
      },
    );
    return created;
  });
  if (outcome instanceof SsoRefused) return refuseSso(db, outcome, target, requestId);

  await markSignedIn(db, outcome.id);
  await recordAudit(
    db,
    { actor: outcome.username, role: outcome.role, requestId },
    {
      action: 'session.sign_in',
      reason: 'single sign-on',
      after: { via: 'sso', issuer: settings.issuer },
    },
  );
  return outcome;
}
