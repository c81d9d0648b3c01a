import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simulateCarrier } from './carrier-simulator';

const KEY = '6f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c:initiate-shipment';
const ship = (postalCode: string, attempt: number, idempotencyKey = KEY) =>
  simulateCarrier({ idempotencyKey, postalCode, attempt });
const ATTEMPTS = [1, 2, 3, 4, 5];

describe('carrier simulator', () => {
  it('00000 is rejected as undeliverable on every attempt', () => {
    for (const attempt of ATTEMPTS) {
      const response = ship('00000', attempt);
      assert.equal(response.kind, 'rejected', `attempt ${attempt}`);
      assert.equal(response.kind === 'rejected' && response.code, 'UNDELIVERABLE');
    }
  });

  it('00503 is a transient error on attempts 1 and 2, and accepted on attempt 3', () => {
    assert.deepEqual(
      ATTEMPTS.map((attempt) => ship('00503', attempt).kind),
      ['transient', 'transient', 'accepted', 'accepted', 'accepted'],
    );
  });

  it('00504 is a transient error on every attempt', () => {
    assert.deepEqual(
      [...ATTEMPTS, 10, 100].map((attempt) => ship('00504', attempt).kind),
      Array(7).fill('transient'),
    );
  });

  for (const postalCode of ['1011AB', '00001', '00502', '00505', 'SW1A 1AA']) {
    it(`${postalCode} is accepted at once, with a reference derived from the idempotency key`, () => {
      assert.deepEqual(ship(postalCode, 1), { kind: 'accepted', carrierReference: `SIM-${KEY}` });
    });
  }

  it('a repeated request returns the same reference; another key gets another one', () => {
    const first = ship('1011AB', 1);
    assert.deepEqual(ship('1011AB', 2), first);
    assert.notDeepEqual(ship('1011AB', 1, 'other-saga:initiate-shipment'), first);
  });

  it('00503 accepted on attempt 3 carries the same reference as an accepted first try', () => {
    assert.deepEqual(ship('00503', 3), ship('1011AB', 1));
  });

  it('ignores whitespace around the postal code', () => {
    assert.equal(ship(' 00000 ', 1).kind, 'rejected');
    assert.equal(ship('00504\n', 3).kind, 'transient');
  });
});
