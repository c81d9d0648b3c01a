import type { CompensationEvent } from '@/lib/saga/decide';
import { taskWork } from '../task-context';

export const cancelOrder = taskWork<CompensationEvent>({
  decide: ({ saga }) => ({
    type: 'order.cancelled',
    payload: { orderId: saga.orderId, reason: saga.failureReason ?? 'saga failed' },
  }),
});
