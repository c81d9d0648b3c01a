import { eq } from 'drizzle-orm';
import { prescriptions } from '@/db/schema';
import type { CompensationHandler } from '../task-context';

export const cancelPrescription: CompensationHandler = async ({ tx, saga }) => {
  const [prescription] = await tx
    .select({ prescriptionId: prescriptions.prescriptionId })
    .from(prescriptions)
    .where(eq(prescriptions.orderId, saga.orderId));
  if (!prescription) throw new Error(`saga ${saga.sagaId} created a prescription that has no row`);
  return {
    type: 'order.prescription_cancelled',
    payload: { orderId: saga.orderId, prescriptionId: prescription.prescriptionId },
  };
};
