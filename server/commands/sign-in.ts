import { z } from 'zod';
import { findAccount, markSignedIn, type AccountRow } from '@/db/accounts';
import { recordAudit } from '@/db/audit';
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

/**
 * The credential check behind POST /api/session and the sign-in page (server/auth/session.ts then
 * starts the session): the brute-force limits first (while refused, a TooManyAttempts without
 * bcrypt running), then the password, against a dummy hash when the account does not exist.
 * Every attempt is audited (the name typed is the target, never the actor); so is the failure
 * that starts a lockout or an account's backoff, as `session.sign_in_locked`.
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
  const accountKey = `account:${username}`;

  const turn = await reserveSignInAttempt(db, { client, account: accountKey }, limit);
  if (!turn.ok) {
    const seconds = retryAfterSeconds(turn.lockedUntil, turn.now);
    logger.info({ key: turn.key, lockedUntil: turn.lockedUntil, requestId }, 'sign-in refused');
    const from = turn.by === 'client' ? 'from your address' : 'for this account';
    throw new TooManyAttempts(
      `too many failed sign-ins ${from}: try again in ${describeWait(seconds)}`,
      seconds,
    );
  }

  const account = await findAccount(db, username);
  const check = context.checkPassword ?? verifyPassword;
  const matches = await check(password, account?.passwordHash ?? null);
  const anonymous = { actor: 'anonymous', role: 'anonymous' as const, requestId };
  if (!account || !matches || account.disabled) {
    await recordAudit(db, anonymous, { action: 'session.sign_in_failed', target: username });
    for (const { key, lockedUntil } of turn.locksOnFailure) {
      logger.warn({ key, lockedUntil, requestId }, 'sign-in locked out');
      await recordAudit(db, anonymous, {
        action: 'session.sign_in_locked',
        target: key,
        reason: `${limit.maxFailures} failed sign-ins within ${describeWait(limit.windowSeconds)}`,
        after: { lockedUntil: lockedUntil.toISOString() },
      });
    }
    throw new AppError('unauthorized', WRONG_CREDENTIALS);
  }
  await clearSignInFailures(db, client, turn.attemptIds);
  await markSignedIn(db, account.id);
  await recordAudit(
    db,
    { actor: account.username, role: account.role, requestId },
    { action: 'session.sign_in' },
  );
  return account;
}
