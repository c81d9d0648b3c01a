import type { CompensationEvent } from '@/lib/saga/decide';
import { taskWork, type CompensationContext } from '../task-context';

export const cancelOrder = taskWork<CompensationEvent, undefined, CompensationContext>({
  decide: ({ saga }) => ({
    type: 'order.cancelled',
    payload: { orderId: saga.orderId, reason: saga.failureReason ?? 'saga failed' },
  }),
});
