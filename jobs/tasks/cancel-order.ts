import type { CompensationHandler } from '../task-context';

export const cancelOrder: CompensationHandler = async ({ saga }) => ({
  type: 'order.cancelled',
  payload: { orderId: saga.orderId, reason: saga.failureReason ?? 'saga failed' },
});
