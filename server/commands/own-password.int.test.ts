import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { insertAccount } from '@/db/accounts';
import { auditLog } from '@/db/schema';
import { hashPassword } from '@/lib/auth/passwords';
import type { SignInLimit } from '@/lib/auth/sign-in-limit';
import { AppError, TooManyAttempts } from '@/lib/errors';
import { changeOwnPassword } from '@/server/commands/accounts';
import { checkSignIn } from '@/server/commands/sign-in';
import { useSagaTestDatabase } from '@/test/saga-harness';

/**
 * Changing your own password proves the current one, so it is a password check like signing in:
 * a stolen session (an unlocked screen) must not become an unlimited guessing oracle for the
 * password, which may be the person's password elsewhere too.
 */

const ctx = useSagaTestDatabase();
const limit: SignInLimit = { maxFailures: 5, windowSeconds: 900 };
const PASSWORD = 'pam-password-01';
const by = { actor: 'pam', role: 'operator' as const };

const change = (client: string, currentPassword: string, newPassword = 'pam-password-02') =>
  changeOwnPassword(ctx.db, 'pam', { currentPassword, newPassword }, by, { client, limit });

const wrongCurrent = (e: unknown) =>
  e instanceof AppError &&
  e.kind === 'invalid_input' &&
  /current password is wrong/.test(e.message);

describe('changing your own password is throttled like signing in', () => {
  test('wrong current passwords count: after 5, even the right one is refused (429) from that client', async () => {
    await insertAccount(ctx.db, {
      username: 'pam',
      role: 'operator',
      passwordHash: await hashPassword(PASSWORD),
    });
    const guesser = 'ip:192.0.2.10';
    for (let n = 0; n < 5; n++) await assert.rejects(change(guesser, `guess-${n}`), wrongCurrent);
    await assert.rejects(change(guesser, PASSWORD), (e: unknown) => {
      assert.ok(e instanceof TooManyAttempts, `expected TooManyAttempts, got ${String(e)}`);
      assert.ok(e.retryAfterSeconds > 0 && e.retryAfterSeconds <= 900);
      return true;
    });
    // The same limit as signing in: that address cannot sign in either for now.
    await assert.rejects(
      checkSignIn(ctx.db, { username: 'pam', password: PASSWORD }, { client: guesser, limit }),
      TooManyAttempts,
    );

    const failures = await ctx.db
      .select()
      .from(auditLog)
      .where(
        and(eq(auditLog.action, 'account.password_change_failed'), eq(auditLog.target, 'pam')),
      );
    assert.equal(failures.length, 5);
    assert.ok(failures.every((f) => f.actor === 'pam'));
    const locked = await ctx.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'session.sign_in_locked'), eq(auditLog.target, guesser)));
    assert.equal(locked.length, 1);
  });

  test("a client with a clean record still changes it: nobody is locked out by another's guesses", async () => {
    const changed = await change('ip:192.0.2.11', PASSWORD);
    assert.equal(changed.username, 'pam');
    await assert.rejects(change('ip:192.0.2.11', PASSWORD, 'pam-password-03'), wrongCurrent);
  });
});
