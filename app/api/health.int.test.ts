import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { closeDb } from '@/db/client';
import { resetEnvForTests } from '@/lib/env';
import { createTestDatabase } from '@/test/db';
import { GET } from './health/route';

/** The route handler itself against a real PostgreSQL, pointed at it well and badly. */
async function healthWith(url: string) {
  await closeDb();
  process.env.DATABASE_URL = url;
  resetEnvForTests();
  const res = await GET();
  return { status: res.status, text: await res.text() };
}

const database = await createTestDatabase();
after(async () => {
  await closeDb();
  await database.drop();
});

test('healthy: 200 { ok: true }', async () => {
  const res = await healthWith(database.url);
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.text), { ok: true });
});

test('a database error is answered in our words, without the driver’s text', async () => {
  const wrong = new URL(database.url);
  wrong.password = 'not-the-password';
  const res = await healthWith(wrong.toString());
  assert.equal(res.status, 503);
  assert.deepEqual(JSON.parse(res.text), { ok: false, error: 'database unavailable' });
  // PostgreSQL's answer would have named the user and the failed authentication.
  assert.doesNotMatch(res.text, /password|authentication|postgres|127\.0\.0\.1/i);
});
