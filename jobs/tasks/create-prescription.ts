import { randomUUID } from 'node:crypto';
import { inArray } from 'drizzle-orm';
import { medications } from '@/db/schema';
import { checkPrescription } from '@/lib/domain/prescription-rules';
import type { StepHandler } from '../task-context';

export const createPrescription: StepHandler = async ({ tx, order }) => {
  const skus = order.medications.map((m) => m.sku);
  const catalog = await tx.select().from(medications).where(inArray(medications.sku, skus));
  const check = checkPrescription(order.medications, order.prescriberId, new Map(catalog.map((c) => [c.sku, c])));
  if (!check.ok) {
    return {
      type: 'order.prescription_failed',
      payload: { orderId: order.orderId, reason: check.reason, code: check.code },
    };
  }
  return {
    type: 'order.prescription_created',
    payload: { orderId: order.orderId, prescriptionId: `RX-${randomUUID()}`, prescriberId: order.prescriberId },
  };
};
