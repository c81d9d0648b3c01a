import { EventEmitter } from 'node:events';
import {
  Logger,
  makeWorkerUtils,
  parseCronItems,
  run,
  type LogLevel,
  type TaskList,
  type WorkerEvents,
} from 'graphile-worker';
import { closeDb, getConnection, getDb } from '@/db/client';
import { projectRoot } from '@/db/embedded';
import { getEnv } from '@/lib/env';
import { resourceRefusal } from '@/lib/errors';
import { logger } from '@/server/logger';
import { TASKS } from '@/lib/saga/model';
import { incidentTaskList } from './incident-tasks';
import { alertSettingsOf, startAlertLoop } from './alerts';
import { archiveHistory, ARCHIVE_TASK } from './archive-history';
import { keepEventPartitions, PARTITION_TASK } from './event-partitions';
import { findGraphileWorker, graphileWorkerPatchProblems } from './graphile-worker-patch.mjs';
import { runSagaTask } from './run-saga-task';
import { removeHeartbeat, sweep, type SweeperOptions } from './sweeper';

/** How long a task waits before trying again on a database out of resources (doubling). */
const RESOURCE_WAIT_MS = { first: 500, max: 8000 };

function sagaTaskList(continueInline: () => boolean): TaskList {
  return Object.fromEntries(
    TASKS.map((task) => [
      task,
      (payload: unknown, helpers: { job: { id: string } }) =>
        holdThroughResourceErrors(
          () => runSagaTask(task, payload, helpers.job, { continueInline }),
          continueInline,
        ),
    ]),
  );
}

/**
 * A database out of resources (a full disk: 53100 "could not extend file") refuses the step,
 * and often the record of its failure too. Handing that error to graphile-worker fails as well:
 * its failJob is an update of the job row, which the full disk refuses, and graphile-worker
 * 0.17.3 lets that rejection go unhandled, which ends the process (found by `npm run chaos --
 * --faults disk-full`). So the task keeps its job (locked by this live worker, whose heartbeat
 * goes on) and runs again, with backoff, until the database takes writes again; a run whose
 * failure record did get through has scheduled its own retry and returns normally. A stopping
 * worker hands the error on instead.
 */
async function holdThroughResourceErrors(
  run: () => Promise<void>,
  keepTrying: () => boolean,
): Promise<void> {
  for (let wait = RESOURCE_WAIT_MS.first; ; wait = Math.min(wait * 2, RESOURCE_WAIT_MS.max)) {
    try {
      return await run();
    } catch (err) {
      const refusal = resourceRefusal(err);
      if (!refusal || !keepTrying()) throw err;
      logger.warn({ err, waitMs: wait, event: 'database.out_of_resources' }, refusal.message);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

// graphile-worker logs at debug for every job it runs: the pino child (its bindings serialised,
// its redaction set up) is made only for a line that will be written (`npm run bench` profiled
// making it for every call at ≈ 3 % of a worker's CPU).
const graphileLogger = new Logger((scope) => (level: LogLevel, message: string, meta?: unknown) => {
  const pinoLevel = level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'debug';
  if (!logger.isLevelEnabled(pinoLevel)) return;
  const log = logger.child({ component: 'graphile-worker', ...scope });
  const fields = meta && typeof meta === 'object' ? meta : {};
  log[pinoLevel](fields, message);
});

/** How the pool takes and completes jobs (also what jobs/worker-completion.int.test.ts runs). */
export function workerPreset(concurrency: number) {
  return {
    worker: {
      // Measured with `npm run bench` (README, Performance): one query locks a batch of jobs
      // instead of one query per job. Jobs in the local queue are locked by the pool id, which
      // the heartbeat records, so the sweeper releases them if this process dies; a graceful
      // stop hands them back.
      localQueue: { size: concurrency * 2 },
      // Each task deletes its own job in its transaction (db/saga-store/graphile-jobs.ts), so
      // graphile-worker's completion finds nothing to do: batching those calls saves round
      // trips. A batch that fails is retried only with our patch (jobs/graphile-worker-patch.mjs,
      // graphile/worker#636); unpatched, one lost connection there ends the pool.
      completeJobBatchDelay: 0,
      // A task that threw is recorded through the same batcher, for its retries: unbatched,
      // graphile-worker 0.17.3 does not await that record, and a lost connection there (a
      // pg_terminate_backend in the drill) was an unhandled rejection that ended the process.
      failJobBatchDelay: 0,
    },
  };
}

export interface WorkerHandle {
  stop: () => Promise<void>;
  /** Resolves when the worker has stopped (by stop() or by a signal). */
  done: Promise<void>;
}

/**
 * Starts a graphile-worker pool for the saga tasks, plus the heartbeat/sweeper. SIGTERM and
 * SIGINT stop it gracefully: running tasks finish, then the heartbeat row is removed.
 */
export async function startWorker(
  options: { handleSignals?: boolean } = {},
): Promise<WorkerHandle> {
  const env = getEnv();
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const unpatched = graphileWorkerPatchProblems(findGraphileWorker(projectRoot));
  if (unpatched.length > 0)
    logger.error(
      { problems: unpatched, event: 'worker.graphile_unpatched' },
      'graphile-worker is not patched (run `npm install`): a connection lost while completing a job will stop this worker',
    );
  // Signals are handled from the start: the runner takes jobs before the first sweep is over,
  // and a SIGTERM in that window used to kill the process mid-task (found by `npm run chaos`).
  let signalled = false;
  let stopRequested = false;
  const onSignalStop: { stop?: () => void } = {};
  if (options.handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down gracefully: finishing running tasks');
      signalled = true;
      stopRequested = true;
      onSignalStop.stop?.();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  const events: WorkerEvents = new EventEmitter();
  let poolId = '';
  const workerIds = new Set<string>();
  events.on('pool:create', ({ workerPool }) => (poolId = workerPool.id));
  events.on('worker:create', ({ worker }) => workerIds.add(worker.workerId));
  // graphile-worker 0.17.3 shuts its pool down when it cannot record a job's completion or
  // failure (a full disk refusing even a new connection: found by the chaos drill), and that
  // shutdown can hang, leaving a process that beats with no pool and holds its jobs for good.
  // Run as its own process, the worker exits instead: the supervisor starts another and the
  // other workers' sweepers release its jobs.
  events.on('pool:fatalError', ({ error, action }) => {
    logger.fatal(
      { err: error, action, event: 'worker.pool_failed' },
      'worker pool failed: exiting',
    );
    if (options.handleSignals) process.exit(1);
  });

  const runner = await run({
    connectionString: env.DATABASE_URL,
    concurrency: env.WORKER_CONCURRENCY,
    // Daily history archive (jobs/archive-history.ts); graphile's cron schedules it once per
    // day however many workers run, and the archiver's own lock keeps runs apart.
    taskList: {
      ...sagaTaskList(() => !stopRequested),
      ...incidentTaskList(() => !stopRequested),
      [ARCHIVE_TASK]: async () => {
        await archiveHistory(getConnection());
      },
      [PARTITION_TASK]: async () => {
        await keepEventPartitions(getDb());
      },
    },
    // The coming months' event partitions, daily (and at start, below).
    parsedCronItems: parseCronItems([
      { task: ARCHIVE_TASK, match: '17 3 * * *', identifier: ARCHIVE_TASK },
      { task: PARTITION_TASK, match: '7 0 * * *', identifier: PARTITION_TASK },
    ]),
    noHandleSignals: true,
    pollInterval: 1000,
    logger: graphileLogger,
    events,
    preset: workerPreset(env.WORKER_CONCURRENCY),
  });
  const utils = await makeWorkerUtils({
    connectionString: env.DATABASE_URL,
    logger: graphileLogger,
  });
  const sweeper: SweeperOptions = {
    db: getDb(),
    utils,
    poolId,
    workerIds: () => [...workerIds],
    deadAfterSeconds: env.RXSAGA_WORKER_DEAD_SECONDS,
    stallSeconds: env.RXSAGA_STALL_SECONDS,
  };
  const beat = () =>
    sweep(sweeper).catch((err: unknown) => logger.warn({ err }, 'sweep failed; will try again'));
  await beat();
  await keepEventPartitions(getDb()).catch((err: unknown) =>
    logger.warn({ err }, 'event partitions not created; the daily run tries again'),
  );
  const timer = setInterval(beat, env.RXSAGA_HEARTBEAT_SECONDS * 1000);
  const alertLoop = startAlertLoop(getDb(), `worker:${poolId}`, alertSettingsOf(env));
  logger.info(
    { poolId, concurrency: env.WORKER_CONCURRENCY, event: 'worker.started' },
    'worker started',
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      stopRequested = true;
      clearInterval(timer);
      await Promise.all([runner.stop(), alertLoop.stop()]);
      await removeHeartbeat(sweeper).catch(() => {});
      await utils.release();
      logger.info({ poolId, event: 'worker.stopped' }, 'worker stopped');
    })());

  onSignalStop.stop = () => void stop();
  if (signalled) onSignalStop.stop();
  // A pool that dies on its own (lost database for good) ends the process non-zero, so the
  // supervisor in `npm start` restarts it.
  const done = runner.promise.then(() => stop());
  return { stop, done };
}

/** Runs a worker until it is stopped; used by `npm run worker` and `npm start`. */
export async function runWorker(): Promise<void> {
  const handle = await startWorker({ handleSignals: true });
  await handle.done;
  await closeDb();
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  runWorker().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.fatal({ err }, 'worker crashed');
      process.exit(1);
    },
  );
}
