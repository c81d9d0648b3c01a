import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ALERT_RULES,
  alertTransitions,
  evaluateConditions,
  type AlertFacts,
  type AlertRule,
  type AlertThresholds,
} from './rules';

const thresholds: AlertThresholds = {
  interventions: 5,
  interventionsForSeconds: 300,
  successRate: 0.8,
  successMinFinished: 20,
  backlogSeconds: 120,
};

/** A healthy system: nothing holds. */
const calm: AlertFacts = {
  interventionsWaiting: 0,
  oldestInterventionSeconds: null,
  stalledSagas: 0,
  lastHourCompleted: 100,
  lastHourCancelled: 3,
  oldestRunnableJobSeconds: 0.2,
  sagasInFlight: 4,
  oldestInFlightSeconds: 2,
  newestHeartbeatSeconds: 1,
};

const holding = (f: Partial<AlertFacts>, t: Partial<AlertThresholds> = {}) =>
  ALERT_RULES.filter(
    (r) => evaluateConditions({ ...calm, ...f }, { ...thresholds, ...t })[r].holds,
  );

describe('alert conditions', () => {
  test('a healthy system raises nothing', () => {
    assert.deepEqual(holding({}), []);
  });

  test('interventions_waiting needs both the count and the age of the oldest', () => {
    assert.deepEqual(holding({ interventionsWaiting: 5, oldestInterventionSeconds: 300 }), [
      'interventions_waiting',
    ]);
    assert.deepEqual(holding({ interventionsWaiting: 4, oldestInterventionSeconds: 9999 }), []);
    assert.deepEqual(holding({ interventionsWaiting: 50, oldestInterventionSeconds: 299.9 }), []);
    assert.deepEqual(
      holding(
        { interventionsWaiting: 1, oldestInterventionSeconds: 0 },
        { interventions: 1, interventionsForSeconds: 0 },
      ),
      ['interventions_waiting'],
    );
  });

  test('sagas_stalled holds while any stalled saga waits', () => {
    assert.deepEqual(
      holding({ stalledSagas: 1, interventionsWaiting: 1, oldestInterventionSeconds: 1 }),
      ['sagas_stalled'],
    );
  });

  test('success_rate_low holds under the rate, not at it, and not with too few sagas', () => {
    assert.deepEqual(holding({ lastHourCompleted: 14, lastHourCancelled: 6 }), [
      'success_rate_low',
    ]);
    assert.deepEqual(holding({ lastHourCompleted: 16, lastHourCancelled: 4 }), []); // 0.8 is not below 0.8
    assert.deepEqual(holding({ lastHourCompleted: 0, lastHourCancelled: 19 }), []); // 19 < 20 finished
    assert.deepEqual(holding({ lastHourCompleted: 0, lastHourCancelled: 0 }), []);
  });

  test('queue_backlog: the oldest runnable job waited longer than the threshold', () => {
    assert.deepEqual(holding({ oldestRunnableJobSeconds: 120 }), []);
    assert.deepEqual(holding({ oldestRunnableJobSeconds: 120.5 }), ['queue_backlog']);
    assert.deepEqual(holding({ oldestRunnableJobSeconds: null }), []);
  });

  test('no_live_worker: no heartbeat for 60 s while a saga has waited 60 s', () => {
    assert.deepEqual(holding({ newestHeartbeatSeconds: 61, oldestInFlightSeconds: 61 }), [
      'no_live_worker',
    ]);
    assert.deepEqual(holding({ newestHeartbeatSeconds: null, oldestInFlightSeconds: 61 }), [
      'no_live_worker',
    ]);
    assert.deepEqual(holding({ newestHeartbeatSeconds: 60, oldestInFlightSeconds: 600 }), []);
    assert.deepEqual(holding({ newestHeartbeatSeconds: null, oldestInFlightSeconds: 5 }), []);
    assert.deepEqual(
      holding({ newestHeartbeatSeconds: 600, sagasInFlight: 0, oldestInFlightSeconds: null }),
      [],
    );
  });

  test('summaries say what held, in words', () => {
    const c = evaluateConditions(
      {
        ...calm,
        interventionsWaiting: 6,
        oldestInterventionSeconds: 420,
        lastHourCompleted: 10,
        lastHourCancelled: 10,
      },
      thresholds,
    );
    assert.equal(
      c.interventions_waiting.summary,
      '6 sagas need intervention, the oldest for 7 min',
    );
    assert.equal(
      c.success_rate_low.summary,
      'success rate 50.0 % over the last hour (20 finished sagas), below 80 %',
    );
  });
});

describe('alert transitions', () => {
  const conditions = (holds: AlertRule[]) =>
    Object.fromEntries(
      ALERT_RULES.map((r) => [r, { holds: holds.includes(r), summary: `s:${r}` }]),
    ) as ReturnType<typeof evaluateConditions>;

  test('a condition that starts to hold fires once', () => {
    const t = alertTransitions([], conditions(['queue_backlog']));
    assert.deepEqual(t, {
      fire: [{ rule: 'queue_backlog', summary: 's:queue_backlog' }],
      resolve: [],
    });
  });

  test('a firing alert whose condition still holds changes nothing', () => {
    const t = alertTransitions(
      [{ alertId: 'a1', rule: 'queue_backlog' }],
      conditions(['queue_backlog']),
    );
    assert.deepEqual(t, { fire: [], resolve: [] });
  });

  test('a firing alert whose condition cleared resolves', () => {
    const t = alertTransitions(
      [
        { alertId: 'a1', rule: 'queue_backlog' },
        { alertId: 'a2', rule: 'sagas_stalled' },
      ],
      conditions(['sagas_stalled', 'no_live_worker']),
    );
    assert.deepEqual(t, {
      fire: [{ rule: 'no_live_worker', summary: 's:no_live_worker' }],
      resolve: [{ alertId: 'a1', rule: 'queue_backlog' }],
    });
  });
});
