// Runs on `npm install` (postinstall): applies our patches to postgres.js (db/postgres-patch.mjs)
// and graphile-worker (jobs/graphile-worker-patch.mjs), where they and their upstream issues are
// described. Fails the install when a patch does not apply (another version, changed code):
// running unpatched is never silent.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyPostgresPatches, findPostgres } from '../../db/postgres-patch.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
try {
  const applied = applyPostgresPatches(findPostgres(root));
  if (applied > 0) console.log(`[patch] postgres.js: ${applied} file(s) patched`);
  // Imported here, after postgres: a project copy with only the postgres patch still reports it.
  const { applyGraphileWorkerPatch, findGraphileWorker } =
    await import('../../jobs/graphile-worker-patch.mjs');
  if (applyGraphileWorkerPatch(findGraphileWorker(root)) > 0)
    console.log('[patch] graphile-worker: dist/main.js patched');
} catch (err) {
  console.error(`[patch] ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
