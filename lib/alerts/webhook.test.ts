import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { renderWebhookBody, retryDelaySeconds, signWebhookBody, webhookTarget } from './webhook';

const firing = {
  alertId: '0b6f7d2e-8c1a-4e55-9a77-1f2e3d4c5b6a',
  alertname: 'queue_backlog',
  severity: 'warning',
  summary: 'the oldest runnable job has waited 3 min',
  status: 'firing' as const,
  startsAt: new Date('2026-12-01T06:00:00.000Z'),
  endsAt: null,
  generatorPath: '/sagas',
};

describe('webhook body', () => {
  test('is Alertmanager webhook JSON version 4', () => {
    const body = JSON.parse(renderWebhookBody(firing));
    assert.equal(body.version, '4');
    assert.equal(body.status, 'firing');
    assert.equal(body.receiver, 'rxsaga');
    assert.equal(body.groupKey, '{}:{alertname="queue_backlog"}');
    assert.deepEqual(body.groupLabels, { alertname: 'queue_backlog' });
    assert.deepEqual(body.commonLabels, { alertname: 'queue_backlog', severity: 'warning' });
    assert.deepEqual(body.commonAnnotations, { summary: firing.summary });
    assert.equal(body.truncatedAlerts, 0);
    assert.deepEqual(body.alerts, [
      {
        status: 'firing',
        labels: { alertname: 'queue_backlog', severity: 'warning' },
        annotations: { summary: firing.summary },
        startsAt: '2026-12-01T06:00:00.000Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: '/sagas',
        fingerprint: '0b6f7d2e8c1a4e55',
      },
    ]);
  });

  test('a resolution carries its end time', () => {
    const body = JSON.parse(
      renderWebhookBody({
        ...firing,
        status: 'resolved',
        endsAt: new Date('2026-12-01T06:05:00Z'),
      }),
    );
    assert.equal(body.status, 'resolved');
    assert.equal(body.alerts[0].status, 'resolved');
    assert.equal(body.alerts[0].endsAt, '2026-12-01T06:05:00.000Z');
  });
});

describe('signature', () => {
  test('is sha256=<hex HMAC-SHA256 of the exact body>', () => {
    const body = renderWebhookBody(firing);
    const expected = createHmac('sha256', 'a-shared-secret-123').update(body).digest('hex');
    assert.equal(signWebhookBody(body, 'a-shared-secret-123'), `sha256=${expected}`);
    assert.notEqual(signWebhookBody(`${body} `, 'a-shared-secret-123'), `sha256=${expected}`);
  });
});

describe('retry backoff', () => {
  test('doubles from 2 s (the first retry within 10 s) and stops growing at 5 min', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map(retryDelaySeconds), [2, 4, 8, 16, 32]);
    assert.ok(retryDelaySeconds(1) <= 10);
    assert.equal(retryDelaySeconds(9), 300);
    assert.equal(retryDelaySeconds(1000), 300);
  });
});

describe('webhook target', () => {
  test('shows the origin only, never a token in the path or query', () => {
    assert.equal(
      webhookTarget('https://hooks.example.com/services/T0/B0/secret'),
      'https://hooks.example.com/…',
    );
    assert.equal(webhookTarget('http://127.0.0.1:9093/'), 'http://127.0.0.1:9093');
    assert.equal(webhookTarget('http://127.0.0.1:9093/?token=x'), 'http://127.0.0.1:9093/…');
  });
});
