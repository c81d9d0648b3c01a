import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { createLogger, REDACTED } from './logger';

/** A logger with RxSaga's options, writing into an array of parsed lines. */
function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const log = createLogger(sink);
  log.level = 'info';
  return { log, text: () => lines.join('') };
}

const PATIENT = 'PAT-SECRET-4711';
const STREET = 'Keizersgracht 123';

test('patient ids, addresses, passwords, tokens and cookies are censored wherever they sit', () => {
  const { log, text } = capture();
  log.info(
    {
      patientId: PATIENT,
      password: 'hunter2-password',
      token: 'tok-abcdef',
      payload: { patientId: PATIENT, shippingAddress: { line1: STREET, city: 'Amsterdam' } },
      request: { headers: { authorization: 'Bearer sekrit-token', cookie: 'rxsaga_session=abc' } },
      response: { headers: { 'set-cookie': 'rxsaga_session=def' } },
      body: { newPassword: 'another-password' },
    },
    'an event',
  );
  const out = text();
  for (const secret of [
    PATIENT,
    STREET,
    'hunter2',
    'tok-abcdef',
    'sekrit',
    'rxsaga_session',
    'another-password',
  ])
    assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
  const line = JSON.parse(out) as Record<string, Record<string, unknown>>;
  assert.equal(line.patientId, REDACTED);
  assert.equal(line.payload!.shippingAddress, REDACTED);
  // What is not sensitive stays readable.
  assert.equal(line.msg, 'an event' as unknown);
});

test('a failed query logs its SQL but not its parameters (message, stack or properties)', () => {
  const { log, text } = capture();
  const cause = Object.assign(new Error('new row violates check constraint'), {
    detail: `Failing row contains (${PATIENT}, ${STREET}).`,
  });
  const error = new DrizzleQueryError(
    'insert into orders values ($1, $2)',
    [PATIENT, STREET],
    cause,
  );
  log.error({ err: error, requestId: 'r-1' }, 'unhandled error in API route');
  const out = text();
  assert.ok(!out.includes(PATIENT), out);
  assert.ok(!out.includes(STREET), out);
  const line = JSON.parse(out) as { err: { message: string; params: unknown } };
  assert.match(line.err.message, /^Failed query: insert into orders values \(\$1, \$2\)/);
  assert.match(line.err.message, /new row violates check constraint/);
  assert.equal(line.err.params, REDACTED);
});
