import { randomUUID } from 'node:crypto';
import { simulateCarrier } from '@/lib/domain/carrier-simulator';
import { taskWork, TransientError, type StepOutcome } from '../task-context';

export const initiateShipment = taskWork<StepOutcome>({
  decide: ({ order, attempt, idempotencyKey }) => {
    const response = simulateCarrier({
      idempotencyKey,
      postalCode: order.shippingAddress.postalCode,
      attempt,
    });
    switch (response.kind) {
      case 'transient':
        throw new TransientError(response.reason);
      case 'rejected':
        return {
          type: 'order.shipment_initiation_failed',
          payload: { orderId: order.orderId, reason: response.reason, code: response.code },
        };
      case 'accepted':
        return {
          type: 'order.shipment_initiated',
          payload: {
            orderId: order.orderId,
            shipmentId: `SHP-${randomUUID()}`,
            carrierReference: response.carrierReference,
          },
        };
    }
  },
});
