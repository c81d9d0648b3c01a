import assert from 'node:assert/strict';
import { test } from 'node:test';
import { singleFlight } from './snapshot-cache';

/** A load the test finishes by hand, counting how often it was started. */
function controlledLoad() {
  const pending: { resolve: (v: number) => void; reject: (e: Error) => void }[] = [];
  const load = () =>
    new Promise<number>((resolve, reject) => {
      pending.push({ resolve, reject });
    });
  return { load, pending };
}

test('concurrent callers share one load', async () => {
  const { load, pending } = controlledLoad();
  const get = singleFlight(load, 15_000, () => 0);
  const calls = Array.from({ length: 20 }, () => get());
  assert.equal(pending.length, 1);
  pending[0]!.resolve(42);
  assert.deepEqual(await Promise.all(calls), Array(20).fill(42));
  assert.equal(pending.length, 1);
});

test('a result is reused until it is maxAge old, then loaded again', async () => {
  let clock = 0;
  let loads = 0;
  const get = singleFlight(
    async () => ++loads,
    15_000,
    () => clock,
  );
  assert.equal(await get(), 1);
  clock = 14_999;
  assert.equal(await get(), 1);
  clock = 15_000;
  assert.equal(await get(), 2);
  assert.equal(loads, 2);
});

test('a failed load is not kept: every waiting caller sees the error, the next one retries', async () => {
  const { load, pending } = controlledLoad();
  const get = singleFlight(load, 15_000, () => 0);
  const failing = [get(), get()];
  pending[0]!.reject(new Error('database down'));
  for (const call of failing) await assert.rejects(call, /database down/);
  const retry = get();
  assert.equal(pending.length, 2);
  pending[1]!.resolve(7);
  assert.equal(await retry, 7);
});
