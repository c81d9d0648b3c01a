import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { makeWorkerUtils, runOnce } from 'graphile-worker';
import postgres from 'postgres';
import { ensureDatabase, projectRoot, type DatabaseHandle } from './embedded';
import { migrate } from './migrate';

/**
 * The embedded PostgreSQL of `npm start`, for real: a cluster of its own per test, in a
 * directory of its own on a free port. Fresh installs get generated passwords and an owner role
 * the app runs as; an installation made before that (fixed superuser password 'rxsaga',
 * everything owned by the superuser) is upgraded on its next start and keeps its data.
 */

const quiet = () => {};
const clusters: { dataDir: string; handle?: DatabaseHandle }[] = [];

after(async () => {
  for (const c of clusters) {
    await c.handle?.stop();
    for (const suffix of ['', '.credentials.json', '.log', '.owner', '.lock'])
      await fs.rm(`${c.dataDir}${suffix}`, { recursive: true, force: true });
  }
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function newCluster() {
  const dataDir = path.join(
    projectRoot,
    '.data',
    `embedded-test-${process.pid}-${clusters.length}`,
  );
  const entry: (typeof clusters)[number] = { dataDir };
  clusters.push(entry);
  const port = await freePort();
  const start = async (as?: 'owner' | 'superuser') => {
    entry.handle = await ensureDatabase({
      dataDir,
      port,
      database: 'rxsaga',
      fsync: false,
      log: quiet,
      as,
    });
    return entry.handle;
  };
  const stop = async () => {
    await entry.handle?.stop();
    entry.handle = undefined;
  };
  return { dataDir, port, start, stop, credentialsFile: `${dataDir}.credentials.json` };
}

async function query<T extends object>(url: string, text: string): Promise<T[]> {
  const sql = postgres(url, { max: 1, onnotice: quiet, connect_timeout: 10 });
  try {
    return (await sql.unsafe(text)) as unknown as T[];
  } finally {
    await sql.end({ timeout: 5 });
  }
}

const refusalCode = (url: string, text = 'select 1') =>
  query(url, text).then(
    () => 'accepted',
    (err: { code?: string }) => err.code ?? String(err),
  );

const withUser = (url: string, user: string, password: string) => {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
};

/** Objects in the app's schemas not owned by the database's owner role. */
const foreignOwned = async (url: string) => [
  ...(await query<{ what: string }>(
    url,
    `select c.relname as what from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname in ('public', 'drizzle', 'graphile_worker') and pg_get_userbyid(c.relowner) <> 'rxsaga'
     union all
     select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname in ('public', 'drizzle', 'graphile_worker') and pg_get_userbyid(p.proowner) <> 'rxsaga'
     union all
     select nspname from pg_namespace
       where nspname in ('drizzle', 'graphile_worker') and pg_get_userbyid(nspowner) <> 'rxsaga'`,
  )),
];

/** graphile-worker, as the app runs it: a job added and run by the owner role. */
async function runAJob(url: string) {
  const utils = await makeWorkerUtils({ connectionString: url });
  try {
    await utils.addJob('probe', {});
  } finally {
    await utils.release();
  }
  let ran = 0;
  await runOnce({ connectionString: url, taskList: { probe: async () => void (ran += 1) } });
  assert.equal(ran, 1);
}

describe('a fresh installation', () => {
  test('generated passwords, owner-only; the app connects as the owner of its database only', async () => {
    const cluster = await newCluster();
    const { url } = await cluster.start();

    const file = statSync(cluster.credentialsFile);
    assert.equal(file.mode & 0o777, 0o600);
    const secrets = JSON.parse(await fs.readFile(cluster.credentialsFile, 'utf8'));
    assert.match(secrets.superuserPassword, /^[A-Za-z0-9_-]{32}$/);
    assert.match(secrets.ownerPassword, /^[A-Za-z0-9_-]{32}$/);
    assert.notEqual(secrets.superuserPassword, secrets.ownerPassword);

    const parsed = new URL(url);
    assert.equal(parsed.username, 'rxsaga');
    assert.equal(parsed.password, secrets.ownerPassword);
    const [me] = await query<Record<string, unknown>>(
      url,
      `select rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls,
         (select pg_get_userbyid(datdba) from pg_database where datname = current_database()) as owner
       from pg_roles where rolname = current_user`,
    );
    assert.deepEqual(me, {
      rolsuper: false,
      rolcreatedb: false,
      rolcreaterole: false,
      rolreplication: false,
      rolbypassrls: false,
      owner: 'rxsaga',
    });

    // Drizzle's and graphile-worker's migrations run as the owner, and a job runs.
    await migrate(url);
    assert.deepEqual(await foreignOwned(url), []);
    await runAJob(url);

    // What only a superuser may do is refused; the old fixed password opens nothing.
    assert.equal(await refusalCode(url, 'create database other'), '42501');
    assert.equal(await refusalCode(url, 'create role other'), '42501');
    assert.equal(await refusalCode(url, `copy (select 1) to program 'true'`), '42501');
    assert.equal(await refusalCode(withUser(url, 'postgres', 'rxsaga')), '28P01');
    assert.equal(
      await refusalCode(withUser(url, 'postgres', secrets.superuserPassword)),
      'accepted',
    );

    // A restart keeps the same passwords.
    await cluster.stop();
    const again = await cluster.start();
    assert.equal(again.url, url);
  });
});

describe('an installation made before generated passwords', () => {
  test('starts: its superuser password is replaced, its objects handed to the owner, its data kept', async () => {
    const cluster = await newCluster();
    // The old layout: the superuser with the fixed password 'rxsaga' created the database and
    // ran the migrations, so it owns everything; no credentials file for the cluster.
    const admin = (await cluster.start('superuser')).url;
    await migrate(admin);
    await query(
      admin,
      `insert into medications (sku, name, requires_prescription, max_quantity_per_order)
      values ('OLD-1', 'From before the upgrade', false, 5)`,
    );
    assert.notDeepEqual(await foreignOwned(admin), []);
    await query(admin, `alter role postgres with password 'rxsaga'`);
    await cluster.stop();
    await fs.rm(cluster.credentialsFile);

    const { url } = await cluster.start();
    const secrets = JSON.parse(await fs.readFile(cluster.credentialsFile, 'utf8'));
    assert.equal(statSync(cluster.credentialsFile).mode & 0o777, 0o600);
    assert.equal(new URL(url).username, 'rxsaga');
    assert.equal(await refusalCode(withUser(url, 'postgres', 'rxsaga')), '28P01');
    assert.equal(
      await refusalCode(withUser(url, 'postgres', secrets.superuserPassword)),
      'accepted',
    );
    assert.deepEqual(await foreignOwned(url), []);

    await migrate(url);
    await runAJob(url);
    const rows = await query<{ name: string }>(
      url,
      `select name from medications where sku = 'OLD-1'`,
    );
    assert.deepEqual([...rows], [{ name: 'From before the upgrade' }]);
    const [me] = await query<{ rolsuper: boolean }>(
      url,
      'select rolsuper from pg_roles where rolname = current_user',
    );
    assert.equal(me?.rolsuper, false);
  });
});
