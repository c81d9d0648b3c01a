import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sessionVerdict, type SessionLimits } from './session-rules';

const limits: SessionLimits = { idleSeconds: 30 * 60, absoluteSeconds: 8 * 60 * 60 };
const start = new Date('2026-03-01T08:00:00.000Z');
const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000);

describe('session expiry', () => {
  it('is active while used within the idle time, and the idle clock restarts on use', () => {
    const v = sessionVerdict({ createdAt: start, lastSeenAt: at(100) }, at(129), limits);
    assert.deepEqual(v, { active: true, expiresAt: at(159), touch: true });
  });

  it('ends after the idle time without use', () => {
    assert.deepEqual(sessionVerdict({ createdAt: start, lastSeenAt: at(10) }, at(40), limits), {
      active: false,
      reason: 'idle',
    });
    assert.equal(
      sessionVerdict({ createdAt: start, lastSeenAt: at(10) }, at(39.99), limits).active,
      true,
    );
  });

  it('ends 8 hours after sign-in however busy it was', () => {
    assert.deepEqual(sessionVerdict({ createdAt: start, lastSeenAt: at(479) }, at(480), limits), {
      active: false,
      reason: 'absolute',
    });
    // A minute before the end, the idle extension stops at the absolute end.
    const v = sessionVerdict({ createdAt: start, lastSeenAt: at(478) }, at(479), limits);
    assert.deepEqual(v, { active: true, expiresAt: at(480), touch: true });
  });

  it('records the last use at most every 15 seconds', () => {
    const seen = new Date(start.getTime() + 60_000);
    const soon = sessionVerdict(
      { createdAt: start, lastSeenAt: seen },
      new Date(seen.getTime() + 14_000),
      limits,
    );
    assert.equal(soon.active && soon.touch, false);
    const later = sessionVerdict(
      { createdAt: start, lastSeenAt: seen },
      new Date(seen.getTime() + 15_000),
      limits,
    );
    assert.equal(later.active && later.touch, true);
  });
});
