import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeShortages,
  mergeLines,
  planReservation,
  type StockLevel,
} from './reservation-rules';

const STOCK: StockLevel[] = [
  { sku: 'AMOX-500', onHand: 10, reserved: 4 }, // 6 available
  { sku: 'IBU-200', onHand: 5, reserved: 5 }, // 0 available
  { sku: 'PARA-500', onHand: 20, reserved: 0 }, // 20 available
];

describe('reservation rules', () => {
  it('reserves every line when all have stock', () => {
    assert.deepEqual(
      planReservation(
        [
          { sku: 'PARA-500', quantity: 3 },
          { sku: 'AMOX-500', quantity: 2 },
        ],
        STOCK,
      ),
      {
        ok: true,
        lines: [
          { sku: 'AMOX-500', quantity: 2 },
          { sku: 'PARA-500', quantity: 3 },
        ],
      },
    );
  });

  it('an exact fit (requested = onHand − reserved) is reserved', () => {
    assert.deepEqual(planReservation([{ sku: 'AMOX-500', quantity: 6 }], STOCK), {
      ok: true,
      lines: [{ sku: 'AMOX-500', quantity: 6 }],
    });
  });

  it('all or nothing: one short line fails the whole plan and reserves no line', () => {
    const plan = planReservation(
      [
        { sku: 'PARA-500', quantity: 1 },
        { sku: 'AMOX-500', quantity: 7 },
      ],
      STOCK,
    );
    assert.deepEqual(plan, {
      ok: false,
      shortages: [{ sku: 'AMOX-500', requested: 7, available: 6 }],
    });
    assert.ok(!('lines' in plan));
  });

  it('lists a shortage for every short line, including a SKU with no stock row', () => {
    const plan = planReservation(
      [
        { sku: 'PARA-500', quantity: 1 },
        { sku: 'IBU-200', quantity: 1 },
        { sku: 'AMOX-500', quantity: 7 },
        { sku: 'GONE-1', quantity: 2 },
      ],
      STOCK,
    );
    assert.equal(plan.ok, false);
    assert.deepEqual(!plan.ok && [...plan.shortages].sort((a, b) => a.sku.localeCompare(b.sku)), [
      { sku: 'AMOX-500', requested: 7, available: 6 },
      { sku: 'GONE-1', requested: 2, available: 0 },
      { sku: 'IBU-200', requested: 1, available: 0 },
    ]);
  });

  it('lines for the same SKU count together: 3 + 4 of AMOX-500 need 7, only 6 are available', () => {
    const plan = planReservation(
      [
        { sku: 'AMOX-500', quantity: 3 },
        { sku: 'AMOX-500', quantity: 4 },
      ],
      STOCK,
    );
    assert.deepEqual(plan, {
      ok: false,
      shortages: [{ sku: 'AMOX-500', requested: 7, available: 6 }],
    });
  });

  it('merged duplicate lines that fit are reserved as one line', () => {
    const plan = planReservation(
      [
        { sku: 'AMOX-500', quantity: 3 },
        { sku: 'AMOX-500', quantity: 3 },
      ],
      STOCK,
    );
    assert.deepEqual(plan, { ok: true, lines: [{ sku: 'AMOX-500', quantity: 6 }] });
  });

  it('mergeLines sums quantities per SKU and sorts by SKU (a stable lock order)', () => {
    assert.deepEqual(
      mergeLines([
        { sku: 'PARA-500', quantity: 1 },
        { sku: 'AMOX-500', quantity: 2 },
        { sku: 'PARA-500', quantity: 5 },
      ]),
      [
        { sku: 'AMOX-500', quantity: 2 },
        { sku: 'PARA-500', quantity: 6 },
      ],
    );
  });

  it('describeShortages names each SKU with requested and available', () => {
    assert.equal(
      describeShortages([
        { sku: 'AMOX-500', requested: 7, available: 6 },
        { sku: 'IBU-200', requested: 1, available: 0 },
      ]),
      'insufficient stock: AMOX-500 (requested 7, available 6), IBU-200 (requested 1, available 0)',
    );
  });
});
