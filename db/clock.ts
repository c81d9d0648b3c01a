import type { DbOrTx } from './client';
import { rawSql, readTimestamp, type RawTimestamp } from './saga-store/sql';

/**
 * The database's clock. Every decision that compares or adds times (a retry's run-at, whether a
 * saga has stalled, whether a worker is dead) uses it, never the process's own: a worker whose
 * clock runs minutes off would otherwise release live workers' jobs, flag healthy sagas or
 * misdate retries (`npm run chaos -- --faults clock-skew`, docs/chaos.md). Inside a transaction
 * this is the transaction's start, the same instant its events are stamped with.
 */
export async function databaseNow(db: DbOrTx): Promise<Date> {
  const [row] = await rawSql(db)<{ now: RawTimestamp }[]>`select now()::text as now`;
  return readTimestamp(row!.now);
}
