import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/**
 * A fresh database per test file, cloned from the template that `npm run test:int` migrated
 * once for this run (CREATE DATABASE … TEMPLATE is far faster than migrating every time).
 * Set up by scripts/test.ts through RXSAGA_TEST_ADMIN_URL and RXSAGA_TEST_TEMPLATE.
 */

export interface TestDatabase {
  url: string;
  drop: () => Promise<void>;
}

let counter = 0;

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.RXSAGA_TEST_ADMIN_URL;
  const template = process.env.RXSAGA_TEST_TEMPLATE;
  if (!adminUrl || !template) {
    throw new Error(
      'RXSAGA_TEST_ADMIN_URL / RXSAGA_TEST_TEMPLATE are not set: run integration tests with `npm run test:int`',
    );
  }
  // The template name carries the run id; the suffix makes every call unique across the
  // parallel test-file processes of one run.
  counter += 1;
  const suffix = `${process.pid}_${counter}_${randomBytes(3).toString('hex')}`;
  const name = `${template.replace(/^rxsaga_template_/, 'rxsaga_test_')}_${suffix}`.slice(0, 63);

  await withAdmin(adminUrl, async (sql) => {
    // Two files cloning the same template at the same instant can meet "source database is
    // being accessed by other users" (55006): try again shortly.
    for (let attempt = 1; ; attempt++) {
      try {
        await sql.unsafe(`create database "${name}" template "${template}"`);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== '55006' || attempt >= 20) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  });

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      // FORCE: a test that forgot to close a pool must not make the drop hang or fail.
      await withAdmin(adminUrl, (sql) =>
        sql.unsafe(`drop database if exists "${name}" with (force)`),
      );
    },
  };
}

async function withAdmin<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
