/**
 * `npm run restore -- <archive file | saga id | order id>`: brings archived sagas back into the
 * hot tables exactly as they were (a whole file, or the one saga named).
 */
import { restoreArchive } from '@/jobs/archive-history';
import { runDatabaseCommand } from './lib/cli';
import { progressBar } from './lib/progress';

const target = process.argv[2];
if (!target) {
  console.error('usage: npm run restore -- <archive file | saga id | order id>');
  process.exit(2);
}

runDatabaseCommand(async (conn) => {
  let bar: ReturnType<typeof progressBar> | undefined;
  const result = await restoreArchive(conn, target, {
    onProgress: (p) => {
      if (p.step !== 'restoring') return;
      bar ??= progressBar('restore (sagas)', p.total);
      bar.update(p.done);
    },
  });
  bar?.done();
  const skipped = result.skipped > 0 ? ` (${result.skipped} already in the hot tables)` : '';
  console.log(`restored ${result.restored.length} sagas from ${result.file}${skipped}`);
  return 0;
}, 2);
