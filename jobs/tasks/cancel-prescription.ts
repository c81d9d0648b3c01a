import { runPrepared } from '@/db/saga-store';
import type { CompensationEvent } from '@/lib/saga/decide';
import { taskWork, type CompensationContext } from '../task-context';

const PRESCRIPTION = `select prescription_id as "prescriptionId" from prescriptions
  where order_id = (select order_id from orders where saga_id = $1::uuid)`;

const PRESCRIPTIONS_OF_SAGAS = `select o.saga_id::text as "sagaId", p.prescription_id as "prescriptionId"
  from prescriptions p join orders o on p.order_id = o.order_id
  where o.saga_id = any($1::uuid[])`;

type Prescription = { prescriptionId: string };

export const cancelPrescription = taskWork<CompensationEvent, Prescription[], CompensationContext>({
  read: (tx, sagaId) => runPrepared<Prescription>(tx, PRESCRIPTION, [sagaId]),
  readMany: (tx, sagaIds) =>
    runPrepared<Prescription & { sagaId: string }>(tx, PRESCRIPTIONS_OF_SAGAS, [sagaIds]),
  decide: ({ saga }, [prescription]) => {
    if (!prescription)
      throw new Error(`saga ${saga.sagaId} created a prescription that has no row`);
    return {
      type: 'order.prescription_cancelled',
      payload: { orderId: saga.orderId, prescriptionId: prescription.prescriptionId },
    };
  },
});
