/**
 * The write side of the saga engine: every statement on the events, the saga row, the
 * projections and graphile-worker's job table goes through this module. Its statements are
 * built once, at load, from db/schema.ts (codec.ts), and run prepared.
 */
export { applyDecision, type ApplyOptions } from './apply-decision';
export { applyDecisions, decidedSaga, type DecidedSaga, type LockedJob } from './apply-decisions';
export {
  appendEvents,
  DuplicateAppendError,
  readAllEvents,
  readSagaEvents,
  type AppendTarget,
} from './events';
export { enqueueTask, type NextJob } from './graphile-jobs';
export {
  loadTask,
  loadTaskStatement,
  readTaskInput,
  type JobDelivery,
  type TaskInput,
} from './load-task';
export { projectDomainEvent, type ProjectionOptions } from './projections';
export {
  foldStored,
  getSagas,
  lockSaga,
  lockSagas,
  saveSaga,
  type OrderRow,
  type StoredSaga,
  type StreamHeads,
} from './sagas';
export {
  pipeline,
  rawSql,
  readTimestamp,
  runPrepared,
  yieldToEventLoop,
  type RawTimestamp,
} from './sql';
