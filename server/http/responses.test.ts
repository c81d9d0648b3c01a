import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import postgres from 'postgres';
import { errorResponse } from './responses';

/**
 * The error model's answer to a database that cannot take writes. The errors are the driver's
 * and Drizzle's own classes, built with the fields PostgreSQL sends for a full disk (what the
 * chaos drill's disk-full fault produces for real, `docs/chaos.md`).
 */
const where = { method: 'POST', path: '/api/orders' };
const pgError = (fields: Record<string, string>) =>
  new (postgres as unknown as { PostgresError: new (x: object) => Error }).PostgresError({
    severity: 'ERROR',
    ...fields,
  });

describe('errorResponse: a database out of resources is a 503, not a 500', () => {
  test('disk_full (53100) wrapped by Drizzle: 503, JSON error, Retry-After', async () => {
    const cause = pgError({
      code: '53100',
      message: 'could not extend file "base/16384/16390": No space left on device',
    });
    const res = errorResponse(
      new DrizzleQueryError('insert into events …', [], cause),
      'req-1',
      where,
    );
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '5');
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as { error: string };
    assert.match(body.error, /out of disk space/);
    assert.doesNotMatch(body.error, /base\/16384/, 'no file names of the server leak');
  });

  test('"could not extend file" without a code (an older server, or a message rewritten): 503', async () => {
    const res = errorResponse(
      new Error('could not extend file "base/1/2": wrote only 4096 of 8192 bytes'),
      'req-2',
      where,
    );
    assert.equal(res.status, 503);
  });

  test('other class-53 errors (too_many_connections): 503', async () => {
    const res = errorResponse(
      pgError({ code: '53300', message: 'sorry, too many clients already' }),
      'req-3',
      where,
    );
    assert.equal(res.status, 503);
    assert.match(((await res.json()) as { error: string }).error, /out of resources/);
  });

  test('the database restarting or the connection lost (57P03, 57P01, CONNECTION_CLOSED): 503 with Retry-After, not 500', async () => {
    const lost = Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), {
      code: 'CONNECTION_CLOSED',
    });
    for (const error of [
      pgError({ code: '57P03', message: 'the database system is starting up' }),
      pgError({ code: '57P01', message: 'terminating connection due to administrator command' }),
      lost,
    ]) {
      const res = errorResponse(error, 'req-5', where);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '5');
      assert.match(((await res.json()) as { error: string }).error, /not reachable/);
    }
  });

  test('any other database error is still a bug: 500 with the request id', async () => {
    const res = errorResponse(
      pgError({ code: '42P01', message: 'relation "nope" does not exist' }),
      'req-4',
      where,
    );
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { error: 'internal error', requestId: 'req-4' });
  });
});
