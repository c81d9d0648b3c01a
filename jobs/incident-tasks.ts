import type { TaskList } from 'graphile-worker';
import { RUN_BULK_OPERATION_TASK } from '@/db/bulk-operations';
import { RELEASE_PAUSED_TASK } from '@/db/pauses';
import { releasePausedSagas } from './release-paused-sagas';
import { runBulkOperation } from './run-bulk-operation';

/**
 * The background tasks of the incident tooling (docs/incidents.md), beside the saga tasks.
 * `continueInline`: whether a bulk operation's follow-up tasks may go on inline (false once
 * the worker is stopping), as for the saga tasks.
 */
export const incidentTaskList = (continueInline: () => boolean): TaskList => ({
  [RELEASE_PAUSED_TASK]: (payload) => releasePausedSagas(payload),
  [RUN_BULK_OPERATION_TASK]: (payload) => runBulkOperation(payload, { continueInline }),
});
