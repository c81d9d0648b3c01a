import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  EVENT_TYPES,
  eventMetadataSchema,
  eventPayloadSchemas,
  isEventType,
  orderStreamId,
  parseEventPayload,
  sagaStreamId,
  streamKindOf,
  type EventType,
} from './events';
import { ORDER_ID, SAGA_ID, SAMPLE_PAYLOADS, orderCreatedPayload } from './saga.test-kit';

// Copied from DESIGN.md on purpose, not derived from EVENT_TYPES: these lists pin the catalogue
// to the documented contract, so renaming or dropping an event type fails here.
const DESIGN_ORDER_EVENTS = [
  'order.created',
  'order.prescription_created',
  'order.prescription_failed',
  'order.inventory_reserved',
  'order.inventory_reservation_failed',
  'order.shipment_initiated',
  'order.shipment_initiation_failed',
  'order.prescription_cancelled',
  'order.inventory_released',
  'order.cancelled',
];
const DESIGN_SAGA_EVENTS = [
  'order_fulfillment_saga.started',
  'order_fulfillment_saga.state_changed',
  'order_fulfillment_saga.compensation_recorded',
  'order_fulfillment_saga.failed',
  'order_fulfillment_saga.completed',
  'order_fulfillment_saga.retry_requested',
  'order_fulfillment_saga.cancel_requested',
];
/** Saga events beyond DESIGN.md's list: retries and human intervention. */
const EXTRA_SAGA_EVENTS = [
  'order_fulfillment_saga.attempt_failed',
  'order_fulfillment_saga.intervention_required',
];

/** Parses `payload` as `type` and returns the issue paths of the failure (fails the test when it parses). */
function rejectionPaths(type: EventType, payload: unknown): (string | number)[][] {
  try {
    parseEventPayload(type, payload);
  } catch (error) {
    assert.ok(error instanceof z.ZodError, `expected a ZodError, got ${String(error)}`);
    return error.issues.map((i) => i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)));
  }
  return assert.fail(`${type} accepted ${JSON.stringify(payload)}`);
}

describe('event catalogue', () => {
  it('EVENT_TYPES is exactly the DESIGN.md list plus attempt_failed and intervention_required', () => {
    assert.deepEqual(
      [...EVENT_TYPES].sort(),
      [...DESIGN_ORDER_EVENTS, ...DESIGN_SAGA_EVENTS, ...EXTRA_SAGA_EVENTS].sort(),
    );
    assert.equal(new Set(EVENT_TYPES).size, 19);
  });

  for (const type of EVENT_TYPES) {
    it(`${type} has a schema that accepts a valid payload`, () => {
      assert.ok(eventPayloadSchemas[type], `no schema for ${type}`);
      assert.deepEqual(parseEventPayload(type, SAMPLE_PAYLOADS[type]), SAMPLE_PAYLOADS[type]);
    });
  }

  it('every schema rejects a missing payload', () => {
    for (const type of EVENT_TYPES)
      assert.throws(() => parseEventPayload(type, undefined), z.ZodError, type);
  });

  it('isEventType knows every type and nothing else', () => {
    for (const type of EVENT_TYPES) assert.equal(isEventType(type), true, type);
    for (const other of [
      'order.shipped',
      'OrderCreated',
      'order_fulfillment_saga',
      '',
      'toString',
      '__proto__',
      'constructor',
    ]) {
      assert.equal(isEventType(other), false, other);
    }
  });

  it('order events go on the order stream, saga events on the saga stream', () => {
    for (const type of DESIGN_ORDER_EVENTS)
      assert.equal(streamKindOf(type as EventType), 'order', type);
    for (const type of [...DESIGN_SAGA_EVENTS, ...EXTRA_SAGA_EVENTS]) {
      assert.equal(streamKindOf(type as EventType), 'saga', type);
    }
  });

  it('stream ids are order-<orderId> and order_fulfillment_saga-<sagaId>', () => {
    assert.equal(orderStreamId(ORDER_ID), `order-${ORDER_ID}`);
    assert.equal(sagaStreamId(SAGA_ID), `order_fulfillment_saga-${SAGA_ID}`);
  });

  it('metadata requires the correlation id; the rest is optional', () => {
    assert.deepEqual(eventMetadataSchema.parse({ correlationId: SAGA_ID }), {
      correlationId: SAGA_ID,
    });
    assert.throws(() => eventMetadataSchema.parse({ actor: 'ops' }), z.ZodError);
  });
});

describe('parseEventPayload rejects a bad payload', () => {
  const order = orderCreatedPayload();
  const CASES: ReadonlyArray<[string, EventType, unknown, (string | number)[]]> = [
    [
      'an order line with quantity 0',
      'order.created',
      { ...order, medications: [{ sku: 'AMOX-500', quantity: 0 }] },
      ['medications', 0, 'quantity'],
    ],
    [
      'a fractional quantity',
      'order.inventory_reserved',
      { orderId: ORDER_ID, lines: [{ sku: 'AMOX-500', quantity: 1.5 }] },
      ['lines', 0, 'quantity'],
    ],
    [
      'an order with no medications',
      'order.created',
      { ...order, medications: [] },
      ['medications'],
    ],
    ['a saga id that is not a UUID', 'order.created', { ...order, sagaId: 'saga-1' }, ['sagaId']],
    [
      'a blank shipping city',
      'order.created',
      { ...order, shippingAddress: { ...order.shippingAddress, city: '   ' } },
      ['shippingAddress', 'city'],
    ],
    [
      'a missing prescription id',
      'order.prescription_created',
      { orderId: ORDER_ID, prescriberId: null },
      ['prescriptionId'],
    ],
    [
      'a failure without a code',
      'order.prescription_failed',
      { orderId: ORDER_ID, reason: 'x' },
      ['code'],
    ],
    [
      'an empty failure reason',
      'order.shipment_initiation_failed',
      { orderId: ORDER_ID, reason: '', code: 'UNDELIVERABLE' },
      ['reason'],
    ],
    [
      'an unknown state',
      'order_fulfillment_saga.state_changed',
      { from: 'PENDING_PRESCRIPTION', to: 'SHIPPED', trigger: 'x' },
      ['to'],
    ],
    [
      'a step recorded as a compensation',
      'order_fulfillment_saga.compensation_recorded',
      { task: 'reserve-inventory', compensates: 'reserve-inventory' },
      ['task'],
    ],
    [
      'a compensation recorded as the failed step',
      'order_fulfillment_saga.failed',
      { failedStep: 'cancel-order', reason: 'x' },
      ['failedStep'],
    ],
    [
      'attempt 0',
      'order_fulfillment_saga.attempt_failed',
      { ...SAMPLE_PAYLOADS['order_fulfillment_saga.attempt_failed'], attempt: 0 },
      ['attempt'],
    ],
    [
      'a retry with no actor',
      'order_fulfillment_saga.retry_requested',
      { task: 'create-prescription', reason: 'x' },
      ['actor'],
    ],
    [
      'a cancel reason over 2000 characters',
      'order_fulfillment_saga.cancel_requested',
      { actor: 'ops', reason: 'x'.repeat(2001), fromState: 'PENDING_SHIPMENT' },
      ['reason'],
    ],
  ];
  for (const [name, type, payload, path] of CASES) {
    it(`${type}: ${name}`, () => {
      assert.deepEqual(rejectionPaths(type, payload), [path]);
    });
  }
});
