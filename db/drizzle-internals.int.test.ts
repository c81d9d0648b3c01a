import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getTableColumns, getTableName, is, sql } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { createOrder } from '@/server/commands/create-order';
import { orderInput, useSagaTestDatabase } from '@/test/saga-harness';
import { connect } from './client';
import { tableCodec } from './saga-store/codec';
import { rawSql, readTimestamp, runPrepared } from './saga-store/sql';
import * as schema from './schema';

/**
 * What db/ takes from drizzle-orm beyond its query API, each checked against a real database,
 * so that an upgrade of drizzle-orm that changes one of them fails here (docs/upgrading.md):
 * - the postgres.js client inside a Drizzle handle (`session.client`, db/saga-store/sql.ts),
 *   for a database and for a transaction;
 * - its postgres-js driver's set-up of that client: timestamps pass through as text;
 * - the column metadata the write side builds its statements from (db/saga-store/codec.ts):
 *   column names, SQL types for casts, and each column's value mapping.
 */

const ctx = useSagaTestDatabase();
const tables = (Object.values(schema) as unknown[]).filter((value): value is PgTable =>
  is(value, PgTable),
);

describe('drizzle-orm internals the code relies on', () => {
  test('a database handle holds its postgres.js client at session.client', async () => {
    const connection = connect(ctx.url, 1);
    try {
      assert.equal(rawSql(connection.db), connection.sql);
    } finally {
      await connection.sql.end({ timeout: 5 });
    }
  });

  test("a transaction handle holds the transaction's own connection there", async () => {
    const rolledBack = new Error('roll back');
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        // A transaction-local setting made through the raw handle is seen by Drizzle's
        // statements: same connection, same transaction.
        await rawSql(tx)`select set_config('rxsaga.internals_check', 'inside', true)`;
        const [seen] = await tx.execute<{ value: string }>(
          sql`select current_setting('rxsaga.internals_check', true) as value`,
        );
        assert.equal(seen?.value, 'inside');
        throw rolledBack;
      }),
      rolledBack,
    );
    const [after] = await rawSql(ctx.db)<{ value: string | null }[]>`
      select nullif(current_setting('rxsaga.internals_check', true), '') as value`;
    assert.equal(after?.value ?? null, null, 'the setting ended with the transaction');
  });

  test('the shared client hands timestamps over as text (raw statements parse them)', async () => {
    const [row] = await rawSql(ctx.db)<{ at: unknown; fixed: unknown }[]>`
      select now() as at, '2026-01-02T03:04:05.678Z'::timestamptz as fixed`;
    assert.equal(typeof row?.at, 'string');
    assert.equal(typeof row?.fixed, 'string');
    assert.equal(readTimestamp(row!.fixed as string).toISOString(), '2026-01-02T03:04:05.678Z');
  });

  test("every schema column is the migrated table's column, and its SQL type is the column's type", async () => {
    assert.ok(tables.length >= 10, `found ${tables.length} tables in db/schema.ts`);
    for (const table of tables) {
      const name = getTableName(table);
      const actual = await rawSql(ctx.db)<{ column: string; type: string }[]>`
        select attname as column, format_type(atttypid, null) as type
        from pg_attribute
        where attrelid = to_regclass(${`"${name}"`}) and attnum > 0 and not attisdropped
        order by attnum`;
      const columns = Object.values(getTableColumns(table));
      assert.deepEqual(
        columns.map((c) => c.name).sort(),
        actual.map((a) => a.column).sort(),
        `${name}: columns`,
      );
      // The codec casts parameters to getSQLType(): PostgreSQL must read it as the column's type.
      for (const column of columns) {
        const [cast] = await rawSql(ctx.db).unsafe<{ type: string }[]>(
          `select pg_typeof(null::${column.getSQLType()})::text as type`,
        );
        const expected = actual.find((a) => a.column === column.name)?.type;
        assert.equal(cast?.type, expected, `${name}.${column.name}: ${column.getSQLType()}`);
      }
    }
  });

  test("a codec decodes raw rows exactly as Drizzle's own select maps them, and encodes them back", async () => {
    await createOrder(ctx.db, orderInput({ patientId: 'PAT-internals' }));
    const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
    for (const table of [schema.orders, schema.orderFulfillmentSagas, schema.events]) {
      const codec = tableCodec(table);
      const viaDrizzle = (await ctx.db.select().from(table as PgTable)).sort(byJson);
      assert.ok(viaDrizzle.length > 0, `${getTableName(table)} has rows`);
      const raw = await runPrepared(
        ctx.db,
        `select ${codec.selectList('t')} from ${codec.table} t`,
        [],
      );
      assert.deepEqual(raw.map((r) => codec.decode(r)).sort(byJson), viaDrizzle);

      // Each row's encoded values, cast to each column's type, read back as the same row.
      for (const row of viaDrizzle) {
        const params = codec.encode(row as never);
        const select = codec.fields
          .map((f, i) => `$${i + 1}::${f.sqlType} as "${f.column}"`)
          .join(', ');
        const [echoed] = await runPrepared(ctx.db, `select ${select}`, params);
        assert.deepEqual(codec.decode(echoed!), row, `${getTableName(table)}: round trip`);
      }
    }
  });
});
