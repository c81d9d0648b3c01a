import { randomUUID } from 'node:crypto';
import { rawSql } from '@/db/saga-store';
import { checkPrescription, type CatalogEntry } from '@/lib/domain/prescription-rules';
import type { StepHandler } from '../task-context';

export const createPrescription: StepHandler = async ({ tx, order }) => {
  const skus = order.medications.map((m) => m.sku);
  const catalog = await rawSql(tx)<CatalogEntry[]>`
    select sku, name, requires_prescription as "requiresPrescription",
      max_quantity_per_order as "maxQuantityPerOrder"
    from medications where sku = any(${skus}::text[])`;
  const check = checkPrescription(
    order.medications,
    order.prescriberId,
    new Map(catalog.map((c) => [c.sku, c])),
  );
  if (!check.ok) {
    return {
      type: 'order.prescription_failed',
      payload: { orderId: order.orderId, reason: check.reason, code: check.code },
    };
  }
  return {
    type: 'order.prescription_created',
    payload: {
      orderId: order.orderId,
      prescriptionId: `RX-${randomUUID()}`,
      prescriberId: order.prescriberId,
    },
  };
};
