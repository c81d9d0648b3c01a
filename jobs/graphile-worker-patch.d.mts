// Types for jobs/graphile-worker-patch.mjs (plain JavaScript: it runs at `npm install`, before tsx).
export const GRAPHILE_WORKER_VERSION: string;
export const GRAPHILE_WORKER_PATCH: {
  file: string;
  mark: string;
  replacements: readonly (readonly [string, string])[];
};
export function findGraphileWorker(from?: string): string | undefined;
export function graphileWorkerPatchProblems(dir?: string): string[];
export function applyGraphileWorkerPatch(dir?: string): number;
