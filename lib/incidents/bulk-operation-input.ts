import { z } from 'zod';
import { SAGA_STATES, TASKS } from '@/lib/saga/model';

/** At most this many sagas in one operation: narrow the filter, or run another one after it. */
export const MAX_BULK_SAGAS = 100_000;
/** A selection from the dashboard. */
const MAX_SELECTED_SAGAS = 1_000;
export const DRY_RUN_SAMPLE_SIZE = 20;

const isoTime = z.iso.datetime({ offset: true });

/**
 * What a bulk operation acts on: every condition given applies. At least one is required, so
 * an empty filter never means every saga ever.
 */
export const bulkFilterSchema = z
  .strictObject({
    sagaIds: z.array(z.uuid()).min(1).max(MAX_SELECTED_SAGAS).optional(),
    state: z.enum(SAGA_STATES).optional(),
    needsIntervention: z.boolean().optional(),
    /** The task the saga waits for (its current task). */
    task: z.enum(TASKS).optional(),
    /** A failure group of GET /api/failure-groups: implies needsIntervention. */
    groupId: z
      .string()
      .regex(/^[0-9a-f]{16}$/, 'a groupId from GET /api/failure-groups')
      .optional(),
    /** An order id, saga id or patient id, matched exactly. */
    q: z.string().trim().min(1).max(200).optional(),
    startedAfter: isoTime.optional(),
    startedBefore: isoTime.optional(),
  })
  .refine((f) => Object.values(f).some((v) => v !== undefined), {
    message:
      'give at least one condition (sagaIds, state, needsIntervention, task, groupId, q, startedAfter, startedBefore)',
  });
export type BulkFilter = z.infer<typeof bulkFilterSchema>;

/** A real run needs a reason (it is recorded on every saga); a dry run may leave it out. */
export const bulkOperationInputSchema = z
  .strictObject({
    action: z.enum(['retry', 'cancel']),
    filter: bulkFilterSchema,
    reason: z.string().trim().max(2000).optional(),
    dryRun: z.boolean().optional(),
  })
  .refine((b) => b.dryRun === true || (b.reason ?? '').length >= 3, {
    message: 'give a reason (at least 3 characters)',
    path: ['reason'],
  });
export type BulkOperationInput = z.infer<typeof bulkOperationInputSchema>;

/** GET /api/bulk-operations: the history's page. */
export const bulkHistoryQuerySchema = z.object({
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
