/**
 * `npm run replay`: rebuilds every projection (sagas, orders, prescriptions, reservations,
 * shipments, reserved stock) from the event store, with a progress bar.
 */
import { replayProjections } from '@/db/replay';
import { runDatabaseCommand } from './lib/cli';
import { progressBar } from './lib/progress';

runDatabaseCommand(async (conn) => {
  const started = Date.now();
  let bar: ReturnType<typeof progressBar> | undefined;
  const result = await replayProjections(conn.db, (p) => {
    bar ??= progressBar('replay (events)', p.totalEvents);
    bar.update(p.events, `${p.sagas} sagas`);
  });
  bar?.done();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`replayed ${result.events} events into ${result.sagas} sagas in ${seconds} s`);
  return 0;
}, 2);
