import type { TaskList } from 'graphile-worker';
import { RELEASE_PAUSED_TASK } from '@/db/pauses';
import { releasePausedSagas } from './release-paused-sagas';

/** The background tasks of the incident tooling (docs/incidents.md), beside the saga tasks. */
export const incidentTaskList: TaskList = {
  [RELEASE_PAUSED_TASK]: (payload) => releasePausedSagas(payload),
};
