import { runPrepared } from '@/db/saga-store';
import type { CompensationEvent } from '@/lib/saga/decide';
import { taskWork } from '../task-context';

const PRESCRIPTION = `select prescription_id as "prescriptionId" from prescriptions
  where order_id = (select order_id from orders where saga_id = $1::uuid)`;

export const cancelPrescription = taskWork<CompensationEvent, { prescriptionId: string }[]>({
  read: (tx, sagaId) => runPrepared<{ prescriptionId: string }>(tx, PRESCRIPTION, [sagaId]),
  decide: ({ saga }, [prescription]) => {
    if (!prescription)
      throw new Error(`saga ${saga.sagaId} created a prescription that has no row`);
    return {
      type: 'order.prescription_cancelled',
      payload: { orderId: saga.orderId, prescriptionId: prescription.prescriptionId },
    };
  },
});
