import { z } from 'zod';
import { findAccount, markSignedIn, type AccountRow } from '@/db/accounts';
import { recordAudit, type AuditActor } from '@/db/audit';
import type { Database } from '@/db/client';
import { clearSignInFailures, reserveSignInAttempt } from '@/db/sign-in-attempts';
import { verifyPassword } from '@/lib/auth/passwords';
import { describeWait, retryAfterSeconds, type SignInLimit } from '@/lib/auth/sign-in-limit';
import { getEnv } from '@/lib/env';
import { AppError, invalidInput, TooManyAttempts } from '@/lib/errors';
import { logger } from '@/server/logger';

export const signInInputSchema = z.object({
  // Not the account rules: a sign-in with any name gets the same 401 as a wrong password.
  username: z.string().trim().toLowerCase().min(1, 'enter your username').max(64),
  password: z.string().min(1, 'enter the password').max(200),
});
export type SignInInput = z.infer<typeof signInInputSchema>;

export function signInLimitFromEnv(): SignInLimit {
  const env = getEnv();
  return {
    maxFailures: env.RXSAGA_SIGNIN_MAX_FAILURES,
    windowSeconds: env.RXSAGA_SIGNIN_WINDOW_SECONDS,
  };
}

export interface SignInContext {
  /** The client's key, from lib/auth/client-address.ts: `ip:<address>`. */
  client: string;
  requestId?: string | null;
  limit?: SignInLimit;
  /** The password check; tests pass a spy. */
  checkPassword?: (password: string, hash: string | null) => Promise<boolean>;
}

/** The one answer for a wrong name, a wrong password, a disabled or password-less account. */
export const WRONG_CREDENTIALS = 'wrong username or password';

export interface ThrottledCheck {
  client: string;
  /** The account the password is for (`account:<username>` in the limits). */
  username: string;
  requestId: string | null;
  limit: SignInLimit;
  /** Who the audit trail names for a failure: `anonymous` for a sign-in, the person otherwise. */
  actor: AuditActor;
  failedAction: 'session.sign_in_failed' | 'account.password_change_failed';
}

/**
 * The brute-force limits around one password check, shared by signing in and by changing your
 * own password (which proves the current one): the turn first (while refused, a
 * TooManyAttempts without the check running), then the check; a failure is audited, and so is
 * the failure that starts a lockout or an account's backoff (`session.sign_in_locked`); a
 * success clears the client's failures.
 */
export async function throttledPasswordCheck(
  db: Database,
  context: ThrottledCheck,
  check: () => Promise<boolean>,
): Promise<boolean> {
  const { client, username, requestId, limit } = context;
  const turn = await reserveSignInAttempt(db, { client, account: `account:${username}` }, limit);
  if (!turn.ok) {
    const seconds = retryAfterSeconds(turn.lockedUntil, turn.now);
    logger.info({ key: turn.key, lockedUntil: turn.lockedUntil, requestId }, 'sign-in refused');
    const from = turn.by === 'client' ? 'from your address' : 'for this account';
    throw new TooManyAttempts(
      `too many failed sign-ins ${from}: try again in ${describeWait(seconds)}`,
      seconds,
    );
  }
  if (await check()) {
    await clearSignInFailures(db, client, turn.attemptIds);
    return true;
  }
  const by = { ...context.actor, requestId };
  await recordAudit(db, by, { action: context.failedAction, target: username });
  for (const { key, lockedUntil } of turn.locksOnFailure) {
    logger.warn({ key, lockedUntil, requestId }, 'sign-in locked out');
    await recordAudit(db, by, {
      action: 'session.sign_in_locked',
      target: key,
      reason: `${limit.maxFailures} failed sign-ins within ${describeWait(limit.windowSeconds)}`,
      after: { lockedUntil: lockedUntil.toISOString() },
    });
  }
  return false;
}

/**
 * The credential check behind POST /api/session and the sign-in page (server/auth/session.ts then
 * starts the session): the brute-force limits (throttledPasswordCheck), then the password,
 * against a dummy hash when the account does not exist. Every attempt is audited (the name typed
 * is the target, never the actor).
 */
export async function checkSignIn(
  db: Database,
  input: unknown,
  context: SignInContext,
): Promise<AccountRow> {
  const parsed = signInInputSchema.safeParse(input);
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid sign-in');
  const { username, password } = parsed.data;
  const { client, requestId = null, limit = signInLimitFromEnv() } = context;
  const check = context.checkPassword ?? verifyPassword;
  let account: AccountRow | null = null;
  const ok = await throttledPasswordCheck(
    db,
    {
      client,
      username,
      requestId,
      limit,
      actor: { actor: 'anonymous', role: 'anonymous' },
      failedAction: 'session.sign_in_failed',
    },
    async () => {
      account = await findAccount(db, username);
      const matches = await check(password, account?.passwordHash ?? null);
      return account !== null && matches && !account.disabled;
    },
  );
  if (!ok || !account) throw new AppError('unauthorized', WRONG_CREDENTIALS);
  const signedIn: AccountRow = account;
  await markSignedIn(db, signedIn.id);
  await recordAudit(
    db,
    { actor: signedIn.username, role: signedIn.role, requestId },
    { action: 'session.sign_in' },
  );
  return signedIn;
}
