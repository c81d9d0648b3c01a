import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  accountBackoffVerdict,
  attemptVerdict,
  describeWait,
  retryAfterSeconds,
  signInVerdict,
  type SignInLimit,
} from './sign-in-limit';

const limit: SignInLimit = { maxFailures: 5, windowSeconds: 900 };
const now = new Date('2026-03-01T12:00:00.000Z');
/** A failure `seconds` before now. */
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);

describe('sign-in limit', () => {
  it('allows fewer failures than the limit within the window', () => {
    assert.deepEqual(signInVerdict([], now, limit), { allowed: true });
    assert.deepEqual(signInVerdict([ago(1), ago(2), ago(3), ago(4)], now, limit), {
      allowed: true,
    });
  });

  it('locks at the limit, until the oldest of them leaves the window', () => {
    const failures = [ago(600), ago(300), ago(200), ago(100), ago(0)];
    assert.deepEqual(signInVerdict(failures, now, limit), {
      allowed: false,
      lockedUntil: new Date(ago(600).getTime() + 900_000),
    });
    assert.equal(retryAfterSeconds(new Date(ago(600).getTime() + 900_000), now), 300);
  });

  it('is a sliding window: failures older than it do not count', () => {
    const failures = [ago(900), ago(1000), ago(400), ago(300), ago(200), ago(100)];
    assert.deepEqual(signInVerdict(failures, now, limit), { allowed: true });
    // One second later the window has slid past the oldest of five: allowed again.
    const five = [ago(899), ago(400), ago(300), ago(200), ago(100)];
    assert.equal(signInVerdict(five, now, limit).allowed, false);
    assert.deepEqual(signInVerdict(five, new Date(now.getTime() + 1000), limit), {
      allowed: true,
    });
  });

  it('with more failures than the limit, counts from the latest ones, in any order', () => {
    const failures = [ago(10), ago(800), ago(50), ago(700), ago(30), ago(600), ago(20)];
    // Latest five: 10, 20, 30, 50, 600 s ago: locked until the one 600 s ago is 900 s old.
    assert.deepEqual(signInVerdict(failures, now, limit), {
      allowed: false,
      lockedUntil: new Date(ago(600).getTime() + 900_000),
    });
  });

  it('a limit of one locks after a single failure, for a full window', () => {
    assert.deepEqual(signInVerdict([now], now, { maxFailures: 1, windowSeconds: 60 }), {
      allowed: false,
      lockedUntil: new Date(now.getTime() + 60_000),
    });
  });

  it('Retry-After is whole seconds, rounded up, at least 1', () => {
    assert.equal(retryAfterSeconds(new Date(now.getTime() + 1), now), 1);
    assert.equal(retryAfterSeconds(new Date(now.getTime() + 1500), now), 2);
    assert.equal(retryAfterSeconds(now, now), 1);
    assert.equal(retryAfterSeconds(ago(5), now), 1);
  });

  it('describes the wait in seconds under a minute, else in minutes rounded up', () => {
    assert.equal(describeWait(1), '1 second');
    assert.equal(describeWait(40), '40 seconds');
    assert.equal(describeWait(60), '1 minute');
    assert.equal(describeWait(61), '2 minutes');
    assert.equal(describeWait(900), '15 minutes');
  });
});

describe('account backoff', () => {
  const times = (...seconds: number[]) => seconds.map(ago);

  it('starts after the limit, at 1 s from the latest failure, and doubles', () => {
    assert.deepEqual(accountBackoffVerdict(times(40, 30, 20, 10), now, limit), { allowed: true });
    // Fifth failure just now: one second.
    assert.deepEqual(accountBackoffVerdict(times(40, 30, 20, 10, 0), now, limit), {
      allowed: false,
      lockedUntil: new Date(now.getTime() + 1000),
    });
    // Eighth: 8 s after the latest; it was 5 s ago, so 3 s left.
    assert.deepEqual(accountBackoffVerdict(times(70, 60, 50, 40, 30, 20, 10, 5), now, limit), {
      allowed: false,
      lockedUntil: new Date(now.getTime() + 3000),
    });
    // Once the wait is over, allowed.
    assert.deepEqual(accountBackoffVerdict(times(40, 30, 20, 10, 2), now, limit), {
      allowed: true,
    });
  });

  it('never waits longer than the window', () => {
    const many = Array.from({ length: 60 }, (_, i) => ago(i));
    const v = accountBackoffVerdict(many, now, limit);
    assert.deepEqual(v, { allowed: false, lockedUntil: new Date(now.getTime() + 900_000) });
  });
});

describe('attempt verdict: client lock, then account backoff for clients that failed', () => {
  const burst = [ago(5), ago(4), ago(3), ago(2), ago(1), ago(0)];

  it('a client with a clean record is allowed whatever others did to the account', () => {
    assert.deepEqual(attemptVerdict({ client: [], account: burst }, now, limit), {
      allowed: true,
    });
  });

  it('a client that failed itself meets the account backoff', () => {
    const v = attemptVerdict({ client: [ago(3)], account: burst }, now, limit);
    assert.deepEqual(v, {
      allowed: false,
      by: 'account',
      lockedUntil: new Date(now.getTime() + 2000),
    });
  });

  it('a client over its own limit is locked, whichever account it names', () => {
    const v = attemptVerdict({ client: burst.slice(1), account: [] }, now, limit);
    assert.deepEqual(v, {
      allowed: false,
      by: 'client',
      lockedUntil: new Date(ago(4).getTime() + 900_000),
    });
  });
});
