import postgres from 'postgres';
import { SAFE_PASSWORD, type ClusterSecrets } from './embedded-credentials';

/**
 * Who connects to the embedded cluster. The superuser has the installation's generated password
 * (older installations had the fixed password 'rxsaga': it is replaced on their first start);
 * the app connects as a role named after its database that owns that database and everything
 * in it (so Drizzle's and graphile-worker's migrations run as it), and is no superuser and may
 * not create databases or roles.
 */

const SUPERUSER = 'postgres';
/** What every embedded cluster's superuser had before passwords were generated. */
const LEGACY_SUPERUSER_PASSWORD = 'rxsaga';
const INVALID_PASSWORD = '28P01';

const urlOf = (user: string, password: string, port: number, database: string) =>
  `postgres://${user}:${password}@127.0.0.1:${port}/${database}`;

async function withSql<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** The URL `as` connects with to `database`, after making the cluster match the secrets. */
export async function secureCluster(
  port: number,
  database: string,
  secrets: ClusterSecrets,
  as: 'owner' | 'superuser',
  log: (m: string) => void,
): Promise<string> {
  await adoptSuperuserPassword(port, secrets.superuserPassword, log);
  const admin = (db: string) => urlOf(SUPERUSER, secrets.superuserPassword, port, db);
  if (as === 'superuser') {
    await withSql(admin('postgres'), (sql) => createDatabaseIfMissing(sql, database, null));
    return admin(database);
  }
  if (database === SUPERUSER) throw new Error('the app database cannot be "postgres"');
  const owner = database;
  await withSql(admin('postgres'), async (sql) => {
    await ensureOwnerRole(sql, owner, secrets.ownerPassword);
    await createDatabaseIfMissing(sql, database, owner);
  });
  await withSql(admin(database), (sql) => handOver(sql, owner, log));
  return urlOf(owner, secrets.ownerPassword, port, database);
}

/**
 * Signs in as the superuser with the generated password; a cluster that still has the old
 * fixed one gets the generated one now. Tried twice: a second process starting at the same
 * moment may have changed it between our two attempts.
 */
async function adoptSuperuserPassword(port: number, password: string, log: (m: string) => void) {
  const signIn = (pw: string) =>
    withSql(urlOf(SUPERUSER, pw, port, 'postgres'), async (sql) => {
      await sql`select 1`;
      if (pw !== password) {
        await sql.unsafe(`alter role ${SUPERUSER} with password '${checked(password)}'`);
        log('replaced the fixed superuser password of an older installation with a generated one');
      }
    }).then(
      () => true,
      (err: { code?: string }) => {
        if (err.code === INVALID_PASSWORD) return false;
        throw err;
      },
    );
  for (const candidate of [password, LEGACY_SUPERUSER_PASSWORD, password]) {
    if (await signIn(candidate)) return;
  }
  throw new Error(
    `the embedded PostgreSQL refuses its superuser password: the cluster's credentials file ` +
      `(beside its data directory, *.credentials.json) does not belong to it. Restore that file, ` +
      `or start afresh with RXSAGA_FRESH_DB=1 (this deletes the data).`,
  );
}

/** ALTER ROLE takes no bind parameters; our generated passwords need no quoting, by design. */
function checked(password: string): string {
  if (!SAFE_PASSWORD.test(password)) throw new Error('refusing to set an unexpected password');
  return password;
}

async function ensureOwnerRole(sql: postgres.Sql, role: string, password: string) {
  await sql.unsafe(`
    do $$ begin
      if not exists (select from pg_roles where rolname = '${role}') then
        create role "${role}";
      end if;
    end $$`);
  await sql.unsafe(`alter role "${role}" with login nosuperuser nocreatedb nocreaterole
    noreplication nobypassrls password '${checked(password)}'`);
}

async function createDatabaseIfMissing(sql: postgres.Sql, name: string, owner: string | null) {
  const rows = await sql`select 1 from pg_database where datname = ${name}`;
  if (rows.length > 0) {
    if (owner) await sql.unsafe(`alter database "${name}" owner to "${owner}"`);
    return;
  }
  // Two processes may race here: "already exists" (or its unique-index twin) means done.
  await sql
    .unsafe(`create database "${name}"${owner ? ` owner "${owner}"` : ''}`)
    .catch((err: { code?: string }) => {
      if (err.code !== '42P04' && err.code !== '23505') throw err;
    });
}

/**
 * Everything in the database the superuser still owns (a database migrated by an older
 * installation, which connected as superuser) goes to the owner role: schemas, tables, views,
 * sequences of their own, functions and types, and each partition of a partitioned table.
 * Indexes, column sequences and row types follow their tables. Nothing to do (one catalog query) once it has been done.
 */
async function handOver(sql: postgres.Sql, owner: string, log: (m: string) => void) {
  const su = `'${SUPERUSER}'::regrole`;
  const statements = await sql.unsafe<{ ddl: string }[]>(
    `
    with ours as (select oid from pg_namespace
      where nspname !~ '^pg_' and nspname <> 'information_schema')
    select format('alter schema %I owner to %I', nspname, $1::text) as ddl
      from pg_namespace where oid in (select oid from ours) and nspowner = ${su}
    union all
    select format('alter %s %s owner to %I',
        case c.relkind when 'S' then 'sequence' when 'v' then 'view'
          when 'm' then 'materialized view' when 'f' then 'foreign table' else 'table' end,
        c.oid::regclass, $1::text)
      from pg_class c
      where c.relnamespace in (select oid from ours) and c.relowner = ${su}
        and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
        -- A partition depends on its table ('a') but keeps an owner of its own, and a
        -- partitioned table depends on its own key columns ('i').
        and (c.relispartition or not exists (select from pg_depend d
          where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('a', 'i')
            and d.refobjid <> c.oid))
    union all
    select format('alter %s %s owner to %I',
        case p.prokind when 'p' then 'procedure' when 'a' then 'aggregate' else 'function' end,
        p.oid::regprocedure, $1::text)
      from pg_proc p
      where p.pronamespace in (select oid from ours) and p.proowner = ${su}
    union all
    select format('alter type %s owner to %I', t.oid::regtype, $1::text)
      from pg_type t
      left join pg_class c on c.oid = t.typrelid
      where t.typnamespace in (select oid from ours) and t.typowner = ${su}
        and (t.typtype in ('e', 'd', 'r') or (t.typtype = 'c' and c.relkind = 'c'))`,
    [owner],
  );
  if (statements.length === 0) return;
  await sql.begin(async (tx) => {
    for (const { ddl } of statements) await tx.unsafe(ddl);
  });
  log(
    `handed ${statements.length} objects owned by the superuser to the database owner "${owner}"`,
  );
}
