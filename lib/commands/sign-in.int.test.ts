import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { auditLog } from '@/db/schema';
import { roleForPassword } from '@/lib/auth/credentials';
import { checkSignIn, type SignInContext, type SignInLimits } from '@/lib/commands/sign-in';
import { AppError, TooManyAttempts } from '@/lib/errors';
import { useSagaTestDatabase } from '@/test/saga-harness';

const OPERATOR_PASSWORD = 'operator-password-1';
const ctx = useSagaTestDatabase({
  RXSAGA_ADMIN_PASSWORD: OPERATOR_PASSWORD,
  RXSAGA_VIEWER_PASSWORD: 'viewer-password-1',
});

const limits: SignInLimits = { maxFailures: 5, globalMaxFailures: 0, windowSeconds: 900 };

/** The command with a password check that counts how often bcrypt ran. */
function signInAs(client: string, overrides: Partial<SignInContext> = {}) {
  const checks = { count: 0 };
  const checkPassword = (password: string) => {
    checks.count += 1;
    return roleForPassword(password);
  };
  const attempt = (password: string, name = 'mallory') =>
    checkSignIn(ctx.db, { password, name }, { client, limits, checkPassword, ...overrides });
  return { attempt, checks };
}

const isWrongPassword = (e: unknown) =>
  e instanceof AppError && e.kind === 'unauthorized' && e.message === 'wrong password';

function lockedFor(min: number, max: number, from = 'from your address') {
  return (e: unknown) => {
    assert.ok(e instanceof TooManyAttempts, `expected TooManyAttempts, got ${String(e)}`);
    assert.equal(e.kind, 'too_many_requests');
    assert.ok(
      e.retryAfterSeconds >= min && e.retryAfterSeconds <= max,
      `retry after ${e.retryAfterSeconds} s, expected ${min}–${max}`,
    );
    assert.match(e.message, new RegExp(`^too many failed sign-ins ${from}: try again in \\d+ `));
    return true;
  };
}

async function auditRows(action: string, target?: string) {
  return ctx.db
    .select()
    .from(auditLog)
    .where(
      and(
        eq(auditLog.action, action),
        target === undefined ? undefined : eq(auditLog.target, target),
      ),
    );
}

async function attemptRows(key: string) {
  const [row] = await ctx.db.execute<{ n: number }>(
    sql`select count(*)::int as n from sign_in_attempts where key = ${key}`,
  );
  return row!.n;
}

describe('sign-in brute-force limit', () => {
  test('N failures lock the address for the window, without checking the password', async () => {
    const client = 'ip:203.0.113.10';
    const { attempt, checks } = signInAs(client);
    for (let i = 0; i < limits.maxFailures; i++)
      await assert.rejects(attempt(`guess-${i}`), isWrongPassword);
    assert.equal(checks.count, 5);

    await assert.rejects(attempt('guess-6'), lockedFor(895, 900));
    // Locked means locked: the right password is refused too, and bcrypt never ran.
    await assert.rejects(attempt(OPERATOR_PASSWORD), lockedFor(895, 900));
    assert.equal(checks.count, 5);
    // Refused attempts are not counted: the lockout does not grow with them.
    assert.equal(await attemptRows(client), 5);

    const locked = await auditRows('session.sign_in_locked', client);
    assert.equal(locked.length, 1);
    assert.equal(locked[0]!.actor, 'mallory');
    assert.equal(locked[0]!.role, 'anonymous');
    assert.equal(locked[0]!.reason, '5 failed sign-ins within 15 minutes');
    const until = new Date((locked[0]!.after as { lockedUntil: string }).lockedUntil);
    assert.ok(Math.abs(until.getTime() - Date.now() - 900_000) < 10_000, until.toISOString());
    const failed = await auditRows('session.sign_in_failed');
    assert.equal(failed.filter((r) => r.actor === 'mallory').length, 5);

    // Another address is not affected.
    const other = signInAs('ip:198.51.100.20');
    assert.deepEqual(await other.attempt(OPERATOR_PASSWORD, 'olga'), {
      role: 'operator',
      actor: 'olga',
    });
  });

  test('a successful sign-in clears the address’s failures', async () => {
    const client = 'ip:203.0.113.11';
    const { attempt } = signInAs(client);
    for (let i = 0; i < limits.maxFailures - 1; i++)
      await assert.rejects(attempt(`guess-${i}`), isWrongPassword);
    assert.equal(await attemptRows(client), 4);
    assert.equal((await attempt(OPERATOR_PASSWORD, 'olga')).role, 'operator');
    assert.equal(await attemptRows(client), 0);
    // A fresh count: four more failures are still allowed, the fifth locks.
    for (let i = 0; i < limits.maxFailures; i++)
      await assert.rejects(attempt(`again-${i}`), isWrongPassword);
    await assert.rejects(attempt(OPERATOR_PASSWORD), lockedFor(895, 900));
  });

  test('the window slides: the lockout ends when the oldest counted failure leaves it', async () => {
    const client = 'ip:2001:db8:1:2::/64';
    // Five failures 14 minutes ago and later; one 16 minutes ago no longer counts.
    await ctx.db.execute(sql`
      insert into sign_in_attempts (key, at)
      select ${client}, now() - make_interval(secs => s) from unnest(array[960, 840, 600, 300, 60, 1]) s`);
    const { attempt, checks } = signInAs(client);
    await assert.rejects(attempt(OPERATOR_PASSWORD), lockedFor(55, 61));
    assert.equal(checks.count, 0);
    // Four in the window: one more failure is allowed, and locks until the 10-minute-old one expires.
    await ctx.db.execute(sql`
      delete from sign_in_attempts where key = ${client} and at < now() - interval '700 seconds'`);
    await assert.rejects(attempt('guess'), isWrongPassword);
    await assert.rejects(attempt('guess'), lockedFor(295, 301));
  });

  test('invalid input is refused before the limit and does not count', async () => {
    const client = 'ip:203.0.113.12';
    const { attempt, checks } = signInAs(client);
    for (let i = 0; i < 10; i++)
      await assert.rejects(attempt(''), (e: unknown) => (e as AppError).kind === 'invalid_input');
    assert.equal(checks.count, 0);
    assert.equal(await attemptRows(client), 0);
  });

  test('concurrent attempts cannot slip past the limit, on one instance or many', async () => {
    const client = 'ip:203.0.113.13';
    const { attempt, checks } = signInAs(client);
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => attempt(`burst-${i}`)),
    );
    const kinds = results.map((r) =>
      r.status === 'rejected' ? (r.reason as AppError).kind : 'ok',
    );
    assert.equal(kinds.filter((k) => k === 'unauthorized').length, 5);
    assert.equal(kinds.filter((k) => k === 'too_many_requests').length, 7);
    assert.equal(checks.count, 5);
    assert.equal((await auditRows('session.sign_in_locked', client)).length, 1);
  });

  test('the global limit closes sign-in for every address; success does not reset it', async () => {
    const global: SignInLimits = { ...limits, globalMaxFailures: 3 };
    assert.equal(
      (await signInAs('ip:192.0.2.1', { limits: global }).attempt(OPERATOR_PASSWORD)).role,
      'operator',
    );
    for (const n of [2, 3, 4])
      await assert.rejects(
        signInAs(`ip:192.0.2.${n}`, { limits: global }).attempt('guess'),
        isWrongPassword,
      );
    const fresh = signInAs('ip:192.0.2.5', { limits: global });
    await assert.rejects(fresh.attempt(OPERATOR_PASSWORD), lockedFor(895, 900, 'on this server'));
    assert.equal(fresh.checks.count, 0);
    assert.equal((await auditRows('session.sign_in_locked', 'all')).length, 1);
    // Without the global limit, that address is fine: it never failed itself.
    const unlimited = signInAs('ip:192.0.2.5');
    assert.equal((await unlimited.attempt(OPERATOR_PASSWORD, 'olga')).role, 'operator');
    assert.equal(await attemptRows('all'), 3);
  });
});
