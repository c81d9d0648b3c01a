import { z } from 'zod';
import { recordAudit } from '@/db/audit';
import type { Database } from '@/db/client';
import { clearSignInFailures, reserveSignInAttempt, type LimitedKey } from '@/db/sign-in-attempts';
import { roleForPassword } from '@/lib/auth/credentials';
import type { Role } from '@/lib/auth/principal';
import { describeWait, retryAfterSeconds } from '@/lib/auth/sign-in-limit';
import { getEnv } from '@/lib/env';
import { AppError, invalidInput, TooManyAttempts } from '@/lib/errors';
import { logger } from '@/lib/logger';

export const signInInputSchema = z.object({
  password: z.string().min(1, 'enter the password').max(200),
  /** Optional: who signs in, so the audit trail names a person rather than a role. */
  name: z
    .string()
    .trim()
    .max(64)
    .regex(/^[\p{L}\p{N} ._@-]*$/u, 'letters, digits, space, dot, dash, underscore or @')
    .optional(),
});
export type SignInInput = z.infer<typeof signInInputSchema>;

/** The key of the limit on all addresses together. */
export const ALL_ADDRESSES = 'all';

export interface SignInLimits {
  maxFailures: number;
  /** 0: no limit on all addresses together. */
  globalMaxFailures: number;
  windowSeconds: number;
}

export function signInLimitsFromEnv(): SignInLimits {
  const env = getEnv();
  return {
    maxFailures: env.RXSAGA_SIGNIN_MAX_FAILURES,
    globalMaxFailures: env.RXSAGA_SIGNIN_GLOBAL_MAX_FAILURES,
    windowSeconds: env.RXSAGA_SIGNIN_WINDOW_SECONDS,
  };
}

export interface SignInContext {
  /** The client's key, from lib/auth/client-address.ts: `ip:<address>`. */
  client: string;
  requestId?: string | null;
  limits?: SignInLimits;
  /** The password check; tests pass a spy. */
  checkPassword?: (password: string) => Promise<Role | null>;
}

/**
 * The password check behind POST /api/session and the sign-in page (lib/auth/session.ts then
 * starts the session): the brute-force limit first (while locked, a TooManyAttempts refusal
 * without bcrypt running), then the password. Every attempt is audited; so is the failure
 * that starts a lockout, as `session.sign_in_locked` with the key as target.
 */
export async function checkSignIn(
  db: Database,
  input: unknown,
  context: SignInContext,
): Promise<{ role: Role; actor: string }> {
  const parsed = signInInputSchema.safeParse(input);
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid sign-in');
  const { password, name } = parsed.data;
  const { client, requestId = null, limits = signInLimitsFromEnv() } = context;
  const keys: LimitedKey[] = [{ key: client, limit: limits }];
  if (limits.globalMaxFailures > 0)
    keys.push({ key: ALL_ADDRESSES, limit: { ...limits, maxFailures: limits.globalMaxFailures } });

  const turn = await reserveSignInAttempt(db, keys);
  if (!turn.ok) {
    const seconds = retryAfterSeconds(turn.lockedUntil, turn.now);
    logger.info({ key: turn.key, lockedUntil: turn.lockedUntil, requestId }, 'sign-in refused');
    const from = turn.key === ALL_ADDRESSES ? 'on this server' : 'from your address';
    throw new TooManyAttempts(
      `too many failed sign-ins ${from}: try again in ${describeWait(seconds)}`,
      seconds,
    );
  }

  const role = await (context.checkPassword ?? roleForPassword)(password);
  const anonymous = { actor: name || 'unknown', role: 'anonymous' as const, requestId };
  if (!role) {
    await recordAudit(db, anonymous, { action: 'session.sign_in_failed' });
    for (const { key, lockedUntil } of turn.locksOnFailure) {
      logger.warn({ key, lockedUntil, requestId }, 'sign-in locked out');
      const failures = key === ALL_ADDRESSES ? limits.globalMaxFailures : limits.maxFailures;
      await recordAudit(db, anonymous, {
        action: 'session.sign_in_locked',
        target: key,
        reason: `${failures} failed sign-ins within ${describeWait(limits.windowSeconds)}`,
        after: { lockedUntil: lockedUntil.toISOString() },
      });
    }
    throw new AppError('unauthorized', 'wrong password');
  }
  await clearSignInFailures(db, client, turn.attemptIds);
  const actor = name || role;
  await recordAudit(db, { actor, role, requestId }, { action: 'session.sign_in' });
  return { role, actor };
}
