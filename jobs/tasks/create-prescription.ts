import { randomUUID } from 'node:crypto';
import { runPrepared } from '@/db/saga-store';
import { checkPrescription, type CatalogEntry } from '@/lib/domain/prescription-rules';
import { taskWork, type StepOutcome } from '../task-context';
import { ORDER_SKUS } from './order-skus';

const CATALOG = `select sku, name, requires_prescription as "requiresPrescription",
    max_quantity_per_order as "maxQuantityPerOrder"
  from medications where sku in (${ORDER_SKUS})`;

export const createPrescription = taskWork<StepOutcome, CatalogEntry[]>({
  read: (tx, sagaId) => runPrepared<CatalogEntry>(tx, CATALOG, [sagaId]),
  decide: ({ order }, catalog) => {
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
  },
});
