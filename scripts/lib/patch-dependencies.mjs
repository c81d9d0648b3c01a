// Runs on `npm install` (postinstall): applies our patches to postgres.js (db/postgres-patch.mjs,
// where they and their upstream issues are described). Fails the install when a patch does not
// apply (another postgres version, changed code): running unpatched is never silent.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyPostgresPatches, findPostgres } from '../../db/postgres-patch.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
try {
  const applied = applyPostgresPatches(findPostgres(root));
  if (applied > 0) console.log(`[patch] postgres.js: ${applied} file(s) patched`);
} catch (err) {
  console.error(`[patch] ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
