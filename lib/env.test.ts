import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EnvError, parseEnv as parseEnvOf } from './env';

const parseEnv = (vars: Record<string, string>) => parseEnvOf(vars as NodeJS.ProcessEnv);

describe('alert settings', () => {
  test("defaults are DESIGN.md's", () => {
    const env = parseEnv({});
    assert.equal(env.RXSAGA_ALERT_INTERVENTIONS, 5);
    assert.equal(env.RXSAGA_ALERT_INTERVENTIONS_FOR_SECONDS, 300);
    assert.equal(env.RXSAGA_ALERT_SUCCESS_RATE, 0.8);
    assert.equal(env.RXSAGA_ALERT_SUCCESS_MIN_FINISHED, 20);
    assert.equal(env.RXSAGA_ALERT_BACKLOG_SECONDS, 120);
    assert.equal(env.RXSAGA_ALERT_EVALUATE_SECONDS, 15);
    assert.deepEqual(env.RXSAGA_ALERT_WEBHOOK_URLS, []);
    assert.equal(env.RXSAGA_ALERT_WEBHOOK_SECRET, undefined);
  });

  test('webhook URLs: comma-separated, trimmed, repeats dropped', () => {
    const env = parseEnv({
      RXSAGA_ALERT_WEBHOOK_URLS:
        ' https://a.example/hook , http://127.0.0.1:9000/x,,https://a.example/hook',
    });
    assert.deepEqual(env.RXSAGA_ALERT_WEBHOOK_URLS, [
      'https://a.example/hook',
      'http://127.0.0.1:9000/x',
    ]);
  });

  for (const [name, value] of [
    ['RXSAGA_ALERT_WEBHOOK_URLS', 'https://ok.example/hook,not a url'],
    ['RXSAGA_ALERT_WEBHOOK_URLS', 'ftp://files.example/x'],
    ['RXSAGA_ALERT_SUCCESS_RATE', '1.5'],
    ['RXSAGA_ALERT_EVALUATE_SECONDS', '0'],
    ['RXSAGA_ALERT_INTERVENTIONS', 'many'],
    ['RXSAGA_ALERT_WEBHOOK_SECRET', 'short'],
  ] as const) {
    test(`a bad ${name} stops start-up naming it (${JSON.stringify(value)})`, () => {
      assert.throws(
        () => parseEnv({ [name]: value }),
        (err: unknown) => {
          assert.ok(err instanceof EnvError);
          assert.match(err.message, new RegExp(`${name}:`));
          return true;
        },
      );
    });
  }

  test('the message does not print a whole webhook URL (it may carry a token)', () => {
    assert.throws(
      () =>
        parseEnv({
          RXSAGA_ALERT_WEBHOOK_URLS: 'mailto:ops-team-secret-token-123456789@example.com',
        }),
      (err: Error) => !err.message.includes('123456789'),
    );
  });
});
