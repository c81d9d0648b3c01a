// Our patch to graphile-worker 0.17.3, for a bug with no released fix. Plain JavaScript: `npm
// install` applies it (scripts/lib/patch-dependencies.mjs, postinstall), and the worker checks
// it at start (jobs/worker.ts logs an error when it is missing; it does not refuse to start: an
// unpatched worker is what ran before, a worker that exits on a lost connection and is
// restarted by its supervisor).
//
// Upstream, open when pinned (drop the patch once a release has its fix, see docs/upgrading.md):
// - batched completeJobs/failJobs are never retried: the retry loop of `batch()` (main.ts)
//   throws from its `catch` on the first failure, so one dropped connection while recording a
//   job's completion (`completeJobBatchDelay`, which jobs/worker.ts sets) shuts the worker pool
//   down ("Could not completeJobs; queue is in an inconsistent state; aborting") and the worker
//   process exits. https://github.com/graphile/worker/issues/636
//   The patch lets the loop go on: up to 20 attempts with backoff (its BATCH_RETRY_OPTIONS).
//   A completion is `delete … where id = $1`, safe to run again. Once the loop retries, a second
//   bug shows: the backpressure of a failed attempt is never cleared, and the pool's stop then
//   hangs (found by jobs/worker-completion.int.test.ts); the patch clears it.
// Found by `npm run chaos` (pg_terminate_backend while a worker completed a job); regression
// test: jobs/worker-completion.int.test.ts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The one graphile-worker version this patch was written for (pinned exactly in package.json). */
export const GRAPHILE_WORKER_VERSION = '0.17.3';

export const GRAPHILE_WORKER_PATCH = {
  file: 'dist/main.js',
  mark: '/* rxsaga-patch: batch-retry v1 */',
  replacements: [
    [
      '                    lastError = (0, lib_1.coerceError)(e);\n                    throw e;\n',
      '                    lastError = (0, lib_1.coerceError)(e); /* rxsaga-patch: batch-retry v1 */\n',
    ],
    // The backpressure a failure raised is lowered once, not again on every later success: it
    // was never cleared, so each success after a retry counted a pending batch down once more,
    // the count went below zero and the pool's stop waited for it to reach zero for ever.
    [
      '            backpressure.resolve();\n',
      '            backpressure.resolve();\n            backpressure = null;\n',
    ],
  ],
};

/** node_modules/graphile-worker as Node resolves it from `from` (walking up, as require does). */
export function findGraphileWorker(from = process.cwd()) {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', 'graphile-worker');
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === path.dirname(dir)) return undefined;
  }
}

const versionOf = (dir) => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version;

/** What is wrong with the graphile-worker at `dir`: an empty list when the patch is in place. */
export function graphileWorkerPatchProblems(dir = findGraphileWorker()) {
  if (!dir) return ['graphile-worker is not installed'];
  const version = versionOf(dir);
  if (version !== GRAPHILE_WORKER_VERSION)
    return [`graphile-worker ${version} is installed; the patch is for ${GRAPHILE_WORKER_VERSION}`];
  const { file, mark } = GRAPHILE_WORKER_PATCH;
  return readFileSync(path.join(dir, file), 'utf8').includes(mark)
    ? []
    : [`${file} is not patched (${mark})`];
}

/**
 * Applies the patch, idempotently: 1 when it patched, 0 when it was in place. Throws, changing
 * nothing, on another version or code that is not what the patch expects.
 */
export function applyGraphileWorkerPatch(dir = findGraphileWorker()) {
  if (!dir) throw new Error('graphile-worker is not installed');
  const version = versionOf(dir);
  if (version !== GRAPHILE_WORKER_VERSION)
    throw new Error(
      `graphile-worker ${version} is installed, the patch is for ${GRAPHILE_WORKER_VERSION}: ` +
        'pin it exactly, or port the patch (docs/upgrading.md)',
    );
  const { file, mark, replacements } = GRAPHILE_WORKER_PATCH;
  const full = path.join(dir, file);
  let text = readFileSync(full, 'utf8');
  if (text.includes(mark)) return 0;
  for (const [from, to] of replacements) {
    if (text.split(from).length !== 2)
      throw new Error(
        `graphile-worker/${file}: ${mark} not found exactly once: the code is not what the patch was written for`,
      );
    text = text.replace(from, () => to);
  }
  writeFileSync(full, text);
  return 1;
}
