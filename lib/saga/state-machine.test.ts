import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SAGA_STATES, type SagaState } from './model';
import { SAGA_SIGNALS, transition, type SagaSignal } from './state-machine';

/**
 * DESIGN.md's transitions, written out independently of the code. An operator cancel enters the
 * compensating state of the step the saga was waiting for; the intermediate compensations
 * (PrescriptionCancelled, InventoryReleased) keep the compensating state until OrderCancelled.
 */
const ALLOWED: ReadonlyArray<[SagaState, SagaSignal, SagaState]> = [
  ['PENDING_PRESCRIPTION', 'PrescriptionCreated', 'PENDING_INVENTORY_RESERVATION'],
  ['PENDING_PRESCRIPTION', 'PrescriptionFailed', 'CANCELLED_PRESCRIPTION_FAILED'],
  ['PENDING_PRESCRIPTION', 'CancelRequested', 'CANCELLED_PRESCRIPTION_FAILED'],
  ['PENDING_INVENTORY_RESERVATION', 'InventoryReserved', 'PENDING_SHIPMENT'],
  ['PENDING_INVENTORY_RESERVATION', 'InventoryReservationFailed', 'CANCELLED_INVENTORY_FAILED'],
  ['PENDING_INVENTORY_RESERVATION', 'CancelRequested', 'CANCELLED_INVENTORY_FAILED'],
  ['PENDING_SHIPMENT', 'ShipmentInitiated', 'COMPLETED'],
  ['PENDING_SHIPMENT', 'ShipmentInitiationFailed', 'CANCELLED_SHIPMENT_FAILED'],
  ['PENDING_SHIPMENT', 'CancelRequested', 'CANCELLED_SHIPMENT_FAILED'],
  ['CANCELLED_PRESCRIPTION_FAILED', 'OrderCancelled', 'CANCELLED'],
  ['CANCELLED_INVENTORY_FAILED', 'PrescriptionCancelled', 'CANCELLED_INVENTORY_FAILED'],
  ['CANCELLED_INVENTORY_FAILED', 'OrderCancelled', 'CANCELLED'],
  ['CANCELLED_SHIPMENT_FAILED', 'InventoryReleased', 'CANCELLED_SHIPMENT_FAILED'],
  ['CANCELLED_SHIPMENT_FAILED', 'PrescriptionCancelled', 'CANCELLED_SHIPMENT_FAILED'],
  ['CANCELLED_SHIPMENT_FAILED', 'OrderCancelled', 'CANCELLED'],
];

const allowedTarget = (state: SagaState, signal: SagaSignal) =>
  ALLOWED.find(([s, sig]) => s === state && sig === signal)?.[2];

describe('saga state machine', () => {
  it('has exactly the states and signals of DESIGN.md', () => {
    assert.deepEqual([...SAGA_STATES].sort(), [
      'CANCELLED',
      'CANCELLED_INVENTORY_FAILED',
      'CANCELLED_PRESCRIPTION_FAILED',
      'CANCELLED_SHIPMENT_FAILED',
      'COMPLETED',
      'PENDING_INVENTORY_RESERVATION',
      'PENDING_PRESCRIPTION',
      'PENDING_SHIPMENT',
    ]);
    assert.equal(SAGA_SIGNALS.length, 10);
  });

  for (const state of SAGA_STATES) {
    for (const signal of SAGA_SIGNALS) {
      const to = allowedTarget(state, signal);
      if (to) {
        it(`${state} --${signal}--> ${to}`, () => {
          assert.deepEqual(transition(state, signal), { ok: true, from: state, to });
        });
      } else {
        it(`${state} refuses ${signal} with a typed rejection`, () => {
          const t = transition(state, signal);
          assert.equal(t.ok, false);
          if (t.ok) return;
          const { message, ...rest } = t.rejection;
          assert.deepEqual(rest, { kind: 'invalid_transition', state, signal });
          assert.match(message, new RegExp(`${signal}.*${state}`));
        });
      }
    }
  }

  it(`allows exactly ${ALLOWED.length} of the ${SAGA_STATES.length * SAGA_SIGNALS.length} state × signal pairs`, () => {
    const allowed = SAGA_STATES.flatMap((s) => SAGA_SIGNALS.filter((sig) => transition(s, sig).ok));
    assert.equal(allowed.length, 15);
  });

  it('accepts no signal at all in the terminal states COMPLETED and CANCELLED', () => {
    for (const state of ['COMPLETED', 'CANCELLED'] as const) {
      assert.deepEqual(
        SAGA_SIGNALS.filter((signal) => transition(state, signal).ok),
        [],
      );
    }
  });
});
