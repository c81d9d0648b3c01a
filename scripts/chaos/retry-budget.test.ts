import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffMs, RetryBudget } from './retry-budget';

describe('drill client retry budget', () => {
  test('retries are capped at the ratio of first attempts once the reserve is spent', () => {
    const t = 0;
    const budget = new RetryBudget(0.2, 0, 5, () => t);
    let granted = 0;
    for (let i = 0; i < 100; i++) {
      budget.deposit();
      // Every request fails and asks for a retry at once: a storm without a budget.
      if (budget.tryRetry()) granted += 1;
    }
    // 5 from the reserve, then 0.2 per first attempt: never more than 5 + 20.
    assert.ok(granted <= 25, `granted ${granted}`);
    assert.ok(granted >= 20, `granted ${granted}`);
    assert.equal(budget.refused, 100 - granted);
  });

  test('with no new work the floor still lets retries through, slowly', () => {
    let t = 0;
    const budget = new RetryBudget(0.2, 2, 20, () => t);
    for (let i = 0; i < 20; i++) assert.ok(budget.tryRetry());
    assert.equal(budget.tryRetry(), false);
    t += 500; // half a second at 2 per second: one retry
    assert.equal(budget.tryRetry(), true);
    assert.equal(budget.tryRetry(), false);
  });

  test('backoff: full jitter under an exponential cap, and never sooner than Retry-After', () => {
    assert.equal(
      backoffMs(0, null, () => 0.999),
      0.999 * 250,
    );
    assert.equal(
      backoffMs(3, null, () => 1),
      2000,
    );
    assert.equal(
      backoffMs(10, null, () => 1),
      5000,
    );
    assert.equal(
      backoffMs(0, null, () => 0),
      0,
    );
    assert.equal(
      backoffMs(2, 2, () => 0),
      2000,
    );
    assert.equal(
      backoffMs(2, 2, () => 1),
      3000,
    );
  });
});
