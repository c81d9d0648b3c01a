import { randomBytes } from 'node:crypto';
import path from 'node:path';
import postgres from 'postgres';
import { ensureDatabase, projectRoot } from '@/db/embedded';
import { isAlive } from '@/db/embedded-process';
import { migrate } from '@/db/migrate';

/**
 * The PostgreSQL server the integration and e2e tests use: an embedded cluster of its own
 * (`.data/test-pg`, port 54330 or RXSAGA_TEST_PG_PORT, fsync off), or the server of DATABASE_URL when set. Every run
 * migrates one template database; every test file clones it (test/db.ts), so each run — and
 * each file — starts from a fresh database.
 */

export interface TestCluster {
  /** A connection to a database that always exists; test/db.ts issues CREATE DATABASE there. */
  adminUrl: string;
  template: string;
  /** A fresh, migrated database cloned from the template. */
  createDatabase: (name: string) => Promise<string>;
  /** Drops this run's databases and stops the embedded cluster if we started it. */
  close: () => Promise<void>;
}

/** Names carry the runner's PID (base 36) so leftovers of a killed run can be recognised. */
const runId = `${process.pid.toString(36)}_${randomBytes(2).toString('hex')}`;
const OURS = /^rxsaga_(?:template|test|e2e)_([0-9a-z]+)_/;

function databaseUrlFor(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function startTestCluster(log: (m: string) => void): Promise<TestCluster> {
  const external = Boolean(process.env.DATABASE_URL);
  const server = await ensureDatabase({
    dataDir: path.join(projectRoot, '.data', 'test-pg'),
    // Another port when another checkout's test run holds 54330 on this machine.
    port: Number(process.env.RXSAGA_TEST_PG_PORT ?? 54330),
    database: 'postgres',
    // The runner creates and drops a database per test file.
    as: 'superuser',
    fsync: false,
    log,
  });
  const admin = postgres(server.url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  const dropDatabase = (name: string) =>
    admin.unsafe(`drop database if exists "${name}" with (force)`).then(() => undefined);

  try {
    // On our own cluster, databases of runs that were killed before cleaning up are garbage.
    // On a shared server we only ever touch this run's databases.
    if (!external) {
      const rows = await admin<{ datname: string }[]>`
        select datname from pg_database where datname ~ '^rxsaga_(template|test|e2e)_'`;
      for (const { datname } of rows) {
        const pid = parseInt(OURS.exec(datname)?.[1] ?? '', 36);
        if (!isAlive(pid)) await dropDatabase(datname);
      }
    }
    const template = `rxsaga_template_${runId}`;
    await admin.unsafe(`create database "${template}"`);
    await migrate(databaseUrlFor(server.url, template));
    log(`template database ${template} migrated`);

    return {
      adminUrl: server.url,
      template,
      createDatabase: async (name) => {
        await admin.unsafe(`create database "${name}" template "${template}"`);
        return databaseUrlFor(server.url, name);
      },
      close: async () => {
        try {
          const rows = await admin<{ datname: string }[]>`
            select datname from pg_database where datname ~ '^rxsaga_(template|test|e2e)_'`;
          for (const { datname } of rows) {
            if (datname.includes(`_${runId}`)) await dropDatabase(datname);
          }
        } finally {
          await admin.end({ timeout: 5 });
          await server.stop();
        }
      },
    };
  } catch (err) {
    await admin.end({ timeout: 5 });
    await server.stop();
    throw err;
  }
}

export const testRunId = runId;
