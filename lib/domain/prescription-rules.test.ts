import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OrderLine } from '@/lib/saga/events';
import { REVOKED_PRESCRIBER_ID, checkPrescription, type CatalogEntry } from './prescription-rules';

const ENTRIES: CatalogEntry[] = [
  {
    sku: 'AMOX-500',
    name: 'Amoxicillin 500 mg',
    requiresPrescription: true,
    maxQuantityPerOrder: 3,
  },
  {
    sku: 'PARA-500',
    name: 'Paracetamol 500 mg',
    requiresPrescription: false,
    maxQuantityPerOrder: 10,
  },
];
const CATALOG: ReadonlyMap<string, CatalogEntry> = new Map(ENTRIES.map((e) => [e.sku, e]));
const PRESCRIBER = 'PR-2001';

const line = (sku: string, quantity: number): OrderLine => ({ sku, quantity });
const codeOf = (lines: OrderLine[], prescriberId: string | null) => {
  const check = checkPrescription(lines, prescriberId, CATALOG);
  return check.ok ? 'OK' : check.code;
};

describe('prescription rules', () => {
  it('issues a prescription for valid lines with a prescriber', () => {
    assert.deepEqual(
      checkPrescription([line('AMOX-500', 2), line('PARA-500', 10)], PRESCRIBER, CATALOG),
      { ok: true },
    );
  });

  it('allows exactly maxQuantityPerOrder', () => {
    assert.equal(codeOf([line('AMOX-500', 3)], PRESCRIBER), 'OK');
  });

  it('needs no prescriber when no line requires a prescription', () => {
    assert.equal(codeOf([line('PARA-500', 1)], null), 'OK');
  });

  it('fails with PRESCRIBER_REVOKED for prescriber PR-REVOKED, whatever the lines', () => {
    assert.equal(REVOKED_PRESCRIBER_ID, 'PR-REVOKED');
    const check = checkPrescription([line('PARA-500', 1)], 'PR-REVOKED', CATALOG);
    assert.equal(check.ok, false);
    assert.equal(!check.ok && check.code, 'PRESCRIBER_REVOKED');
    assert.match(!check.ok ? check.reason : '', /PR-REVOKED.*revoked/);
  });

  it('fails with QUANTITY_LIMIT_EXCEEDED one over maxQuantityPerOrder, naming the medication and limit', () => {
    const check = checkPrescription(
      [line('PARA-500', 1), line('AMOX-500', 4)],
      PRESCRIBER,
      CATALOG,
    );
    assert.equal(!check.ok && check.code, 'QUANTITY_LIMIT_EXCEEDED');
    assert.match(!check.ok ? check.reason : '', /4 × Amoxicillin 500 mg exceeds the limit of 3/);
  });

  it('counts lines of one medication together against its limit (splitting a line does not dodge it)', () => {
    const check = checkPrescription(
      [line('AMOX-500', 3), line('AMOX-500', 3)],
      PRESCRIBER,
      CATALOG,
    );
    assert.equal(!check.ok && check.code, 'QUANTITY_LIMIT_EXCEEDED');
    assert.match(!check.ok ? check.reason : '', /6 × Amoxicillin/);
  });

  it('fails with PRESCRIBER_REQUIRED when a prescription-only medication has no prescriber', () => {
    const check = checkPrescription([line('PARA-500', 1), line('AMOX-500', 1)], null, CATALOG);
    assert.equal(!check.ok && check.code, 'PRESCRIBER_REQUIRED');
    assert.match(!check.ok ? check.reason : '', /Amoxicillin 500 mg requires a prescriber/);
  });

  it('fails with UNKNOWN_MEDICATION for a SKU not in the catalog, naming it', () => {
    const check = checkPrescription([line('PARA-500', 1), line('NOPE-1', 1)], PRESCRIBER, CATALOG);
    assert.equal(!check.ok && check.code, 'UNKNOWN_MEDICATION');
    assert.match(!check.ok ? check.reason : '', /NOPE-1/);
  });

  it('checks the revoked licence before the lines', () => {
    assert.equal(codeOf([line('NOPE-1', 99)], 'PR-REVOKED'), 'PRESCRIBER_REVOKED');
  });
});
