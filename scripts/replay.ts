/**
 * `npm run replay`: rebuilds every projection (sagas, orders, prescriptions, reservations,
 * shipments, reserved stock) from the event store, with a progress bar.
 */
import { connect } from '@/db/client';
import { ensureDatabase } from '@/db/embedded';
import { migrate } from '@/db/migrate';
import { replayProjections, type ReplayProgress } from '@/db/replay';

function bar(p: ReplayProgress): string {
  const width = 30;
  const ratio = p.totalEvents === 0 ? 1 : p.events / p.totalEvents;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}%  ${p.events}/${p.totalEvents} events, ${p.sagas} sagas`;
}

async function main(): Promise<void> {
  const database = await ensureDatabase();
  const conn = connect(database.url, 2);
  try {
    await migrate(database.url);
    const started = Date.now();
    const tty = process.stderr.isTTY;
    const result = await replayProjections(conn.db, (p) => {
      if (tty) process.stderr.write(`\r${bar(p)}`);
      else if (p.events === p.totalEvents || p.events % 50_000 < 5_000) process.stderr.write(`${bar(p)}\n`);
    });
    if (tty) process.stderr.write('\n');
    console.log(`replayed ${result.events} events into ${result.sagas} sagas in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await conn.sql.end({ timeout: 5 });
    await database.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
