import { getTableColumns, getTableName, is, type Column } from 'drizzle-orm';
import { PgArray, type PgTable } from 'drizzle-orm/pg-core';

/**
 * A table's row shape, read once from its Drizzle definition (db/schema.ts): the property ↔
 * column mapping, each column's SQL type, and Drizzle's own value mapping of each column type
 * (timestamps, int8 in number mode, jsonb, arrays). The store's hand-built statements take their
 * column lists and casts from here and decode their rows with it, so adding a column is one edit
 * in schema.ts (and a migration), and a raw statement's rows are exactly Drizzle's.
 */
export interface TableCodec<T extends PgTable> {
  /** The table's SQL name, quoted. */
  readonly table: string;
  readonly fields: readonly Field<T>[];
  /** The field of a property. */
  field(key: keyof Row<T>): Field<T>;
  /** `alias."col" as "<prefix>col", …` for every column, in schema order. */
  selectList(alias: string, prefix?: string): string;
  /** A row from a record whose keys are `<prefix><column name>`, as Drizzle would map it. */
  decode(record: Readonly<Record<string, unknown>>, prefix?: string): Row<T>;
  /** A row's values in schema order, as the driver takes them (see encodeValue). */
  encode(row: Row<T>): unknown[];
}

export type Row<T extends PgTable> = T['$inferSelect'];

export interface Field<T extends PgTable> {
  key: keyof Row<T> & string;
  /** The column name, quoted. */
  name: string;
  /** The raw column name, unquoted (a key of driver records). */
  column: string;
  /** The column's SQL type, for parameter casts (`$1::timestamp with time zone`). */
  sqlType: string;
  encode(value: unknown): unknown;
  decode(value: unknown): unknown;
}

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

export function tableCodec<T extends PgTable>(table: T): TableCodec<T> {
  const fields: Field<T>[] = Object.entries(getTableColumns(table)).map(([key, column]) =>
    fieldOf<T>(key as keyof Row<T> & string, column as Column),
  );
  const byKey = new Map(fields.map((f) => [f.key, f]));
  return {
    table: quote(getTableName(table)),
    fields,
    field(key) {
      const f = byKey.get(key as keyof Row<T> & string);
      if (!f) throw new Error(`${getTableName(table)} has no column for ${String(key)}`);
      return f;
    },
    selectList: (alias, prefix = '') =>
      fields.map((f) => `${alias}.${f.name} as ${quote(prefix + f.column)}`).join(', '),
    decode(record, prefix = '') {
      const row: Record<string, unknown> = {};
      for (const f of fields) row[f.key] = f.decode(record[prefix + f.column]);
      return row as Row<T>;
    },
    encode: (row) => fields.map((f) => f.encode((row as Record<string, unknown>)[f.key])),
  };
}

function fieldOf<T extends PgTable>(key: keyof Row<T> & string, column: Column): Field<T> {
  // Arrays go to postgres.js as JS arrays (it serialises them by the parameter's type); every
  // other value as Drizzle maps it for this driver (db/client.ts: timestamps as ISO text).
  const isArray = is(column, PgArray);
  return {
    key,
    name: quote(column.name),
    column: column.name,
    sqlType: column.getSQLType(),
    encode: (value) =>
      value === null || value === undefined
        ? null
        : isArray
          ? value
          : column.mapToDriverValue(value),
    decode: (value) =>
      value === null || value === undefined ? null : column.mapFromDriverValue(value),
  };
}
