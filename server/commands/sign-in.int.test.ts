import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { findAccount, insertAccount } from '@/db/accounts';
import { auditLog } from '@/db/schema';
import { ensureBootstrapAccounts } from '@/server/auth/bootstrap';
import { hashPassword, verifyPassword } from '@/lib/auth/passwords';
import type { SignInLimit } from '@/lib/auth/sign-in-limit';
import { checkSignIn, WRONG_CREDENTIALS, type SignInContext } from '@/server/commands/sign-in';
import { AppError, TooManyAttempts } from '@/lib/errors';
import { useSagaTestDatabase } from '@/test/saga-harness';

const ADMIN_PASSWORD = 'admin-password-01';
const OLGA_PASSWORD = 'operator-password-1';
const ctx = useSagaTestDatabase();

const limit: SignInLimit = { maxFailures: 5, windowSeconds: 900 };

/** The command with a password check that counts how often bcrypt ran. */
function signInFrom(client: string, overrides: Partial<SignInContext> = {}) {
  const checks = { count: 0 };
  const checkPassword = (password: string, hash: string | null) => {
    checks.count += 1;
    return verifyPassword(password, hash);
  };
  const attempt = (username: string, password: string) =>
    checkSignIn(ctx.db, { username, password }, { client, limit, checkPassword, ...overrides });
  return { attempt, checks };
}

const isWrong = (e: unknown) =>
  e instanceof AppError && e.kind === 'unauthorized' && e.message === WRONG_CREDENTIALS;

function lockedFor(min: number, max: number, from = 'from your address') {
  return (e: unknown) => {
    assert.ok(e instanceof TooManyAttempts, `expected TooManyAttempts, got ${String(e)}`);
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

describe('accounts bootstrap and sign-in by username', () => {
  test('the bootstrap makes admin and viewer once, and never overwrites them', async () => {
    assert.deepEqual(
      await ensureBootstrapAccounts(ctx.db, { admin: ADMIN_PASSWORD, viewer: 'viewer-password-1' }),
      ['admin', 'viewer'],
    );
    assert.equal((await findAccount(ctx.db, 'admin'))!.role, 'admin');
    assert.equal((await findAccount(ctx.db, 'viewer'))!.role, 'viewer');
    // A second start with other passwords changes nothing: the People page owns them now.
    assert.deepEqual(
      await ensureBootstrapAccounts(ctx.db, {
        admin: 'another-password',
        viewer: 'other-viewer-pw',
      }),
      [],
    );
    const admin = await findAccount(ctx.db, 'admin');
    assert.equal(await verifyPassword(ADMIN_PASSWORD, admin!.passwordHash), true);
    await insertAccount(ctx.db, {
      username: 'olga',
      role: 'operator',
      passwordHash: await hashPassword(OLGA_PASSWORD),
    });
  });

  test('the right name and password sign in (any case of the name); the answer names the account', async () => {
    const { attempt } = signInFrom('ip:198.51.100.1');
    const account = await attempt('OLGA', OLGA_PASSWORD);
    assert.equal(account.username, 'olga');
    assert.equal(account.role, 'operator');
    assert.ok((await findAccount(ctx.db, 'olga'))!.lastSignInAt);
    const [row] = await auditRows('session.sign_in');
    assert.equal(row!.actor, 'olga');
  });

  test('a wrong name and a wrong password get one answer, and both run bcrypt', async () => {
    const { attempt, checks } = signInFrom('ip:198.51.100.2');
    await assert.rejects(attempt('olga', 'not-her-password'), isWrong);
    await assert.rejects(attempt('nobody-here', OLGA_PASSWORD), isWrong);
    assert.equal(checks.count, 2);
    const failed = await auditRows('session.sign_in_failed');
    // The name typed is what was attempted, never the actor.
    assert.deepEqual(
      failed.map((r) => [r.actor, r.role, r.target]),
      [
        ['anonymous', 'anonymous', 'olga'],
        ['anonymous', 'anonymous', 'nobody-here'],
      ],
    );
  });

  test('a disabled account cannot sign in, with the same answer', async () => {
    await insertAccount(ctx.db, {
      username: 'gone',
      role: 'operator',
      passwordHash: await hashPassword('gone-password-1'),
      disabled: true,
    });
    await assert.rejects(signInFrom('ip:198.51.100.3').attempt('gone', 'gone-password-1'), isWrong);
  });
});

describe('sign-in brute-force limits', () => {
  test('N failures lock the address for the window, without checking the password', async () => {
    const client = 'ip:203.0.113.10';
    const { attempt, checks } = signInFrom(client);
    // The lock ends a window after the first failure: what is left of it depends on how long
    // the five bcrypt checks took (seconds on a busy machine), so the bound is measured.
    const started = Date.now();
    const windowLeft = () => 900 - Math.ceil((Date.now() - started) / 1000) - 1;
    for (let i = 0; i < limit.maxFailures; i++)
      await assert.rejects(attempt('someone', `guess-${i}`), isWrong);
    assert.equal(checks.count, 5);
    await assert.rejects(attempt('someone', 'guess-6'), lockedFor(windowLeft(), 900));
    // Locked means locked: the right password is refused too, and bcrypt never ran.
    await assert.rejects(attempt('olga', OLGA_PASSWORD), lockedFor(windowLeft(), 900));
    assert.equal(checks.count, 5);
    assert.equal(await attemptRows(client), 5);
    const locked = await auditRows('session.sign_in_locked', client);
    assert.equal(locked.length, 1);
    assert.equal(locked[0]!.reason, '5 failed sign-ins within 15 minutes');
  });

  test('others failing on an account never refuse a clean client its correct password', async () => {
    // Five addresses fail on admin, each once: the account's backoff runs…
    for (let n = 20; n < 25; n++)
      await assert.rejects(signInFrom(`ip:203.0.113.${n}`).attempt('admin', 'guess'), isWrong);
    assert.equal((await auditRows('session.sign_in_locked', 'account:admin')).length, 1);
    // Three more clean clients fail too (a clean client is never refused, so its guess runs and
    // counts): the backoff doubles to 8 s, longer than a busy machine needs for the next step.
    for (let n = 25; n < 28; n++)
      await assert.rejects(signInFrom(`ip:203.0.113.${n}`).attempt('admin', 'guess'), isWrong);
    // …and one of them meets it on its second guess, without bcrypt.
    const again = signInFrom('ip:203.0.113.24');
    await assert.rejects(again.attempt('admin', 'guess-2'), lockedFor(1, 8, 'for this account'));
    assert.equal(again.checks.count, 0);
    // A client that has not failed signs in as admin at once.
    const clean = signInFrom('ip:198.51.100.50');
    assert.equal((await clean.attempt('admin', ADMIN_PASSWORD)).username, 'admin');
  });

  test('a successful sign-in clears the address’s failures', async () => {
    await insertAccount(ctx.db, {
      username: 'pia',
      role: 'viewer',
      passwordHash: await hashPassword('pia-password-01'),
    });
    const client = 'ip:203.0.113.11';
    const { attempt } = signInFrom(client);
    for (let i = 0; i < limit.maxFailures - 1; i++)
      await assert.rejects(attempt('pia', `guess-${i}`), isWrong);
    assert.equal(await attemptRows(client), 4);
    assert.equal((await attempt('pia', 'pia-password-01')).username, 'pia');
    assert.equal(await attemptRows(client), 0);
  });

  test('the window slides: the lockout ends when the oldest counted failure leaves it', async () => {
    const client = 'ip:2001:db8:1:2::/64';
    await ctx.db.execute(sql`
      insert into sign_in_attempts (key, at)
      select ${client}, now() - make_interval(secs => s) from unnest(array[960, 840, 600, 300, 60, 1]) s`);
    const { attempt, checks } = signInFrom(client);
    await assert.rejects(attempt('olga', OLGA_PASSWORD), lockedFor(55, 61));
    assert.equal(checks.count, 0);
  });

  test('invalid input is refused before the limit and does not count', async () => {
    const client = 'ip:203.0.113.12';
    const { attempt, checks } = signInFrom(client);
    for (let i = 0; i < 10; i++)
      await assert.rejects(
        attempt('olga', ''),
        (e: unknown) => (e as AppError).kind === 'invalid_input',
      );
    assert.equal(checks.count, 0);
    assert.equal(await attemptRows(client), 0);
  });

  test('concurrent attempts cannot slip past the limit, on one instance or many', async () => {
    const client = 'ip:203.0.113.13';
    const { attempt, checks } = signInFrom(client);
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => attempt(`user-${i}`, `burst-${i}`)),
    );
    const kinds = results.map((r) =>
      r.status === 'rejected' ? (r.reason as AppError).kind : 'ok',
    );
    assert.equal(kinds.filter((k) => k === 'unauthorized').length, 5);
    assert.equal(kinds.filter((k) => k === 'too_many_requests').length, 7);
    assert.equal(checks.count, 5);
  });
});
