/**
 * `npm run archive`: archives finished sagas older than RXSAGA_HOT_DAYS now, with a progress bar
 * (the worker also does it daily). `--hot-days N` overrides the setting for this run.
 */
import { parseArgs } from 'node:util';
import { archiveDirectory, archiveHistory } from '@/jobs/archive-history';
import { runDatabaseCommand } from './lib/cli';
import { progressBar } from './lib/progress';

const { values } = parseArgs({ options: { 'hot-days': { type: 'string' } } });
const hotDays = values['hot-days'] === undefined ? undefined : Number(values['hot-days']);
if (hotDays !== undefined && !(Number.isInteger(hotDays) && hotDays >= 1)) {
  console.error('--hot-days: a whole number of days, at least 1');
  process.exit(2);
}

runDatabaseCommand(async (conn) => {
  const started = Date.now();
  let bar: ReturnType<typeof progressBar> | undefined;
  const result = await archiveHistory(conn, {
    hotDays,
    onProgress: (p) => {
      bar ??= progressBar('archive (sagas)', p.total);
      bar.update(p.sagas, `${p.files} files`);
    },
  });
  bar?.done();
  if (!result.ran) {
    console.error('another archive run is in progress; try again when it is done');
    return 1;
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `archived ${result.sagas} sagas (${result.events} events) into ${result.files} files, ` +
      `${(result.bytes / 1e6).toFixed(1)} MB, in ${seconds.toFixed(1)} s → ${archiveDirectory()}`,
  );
  return 0;
});
