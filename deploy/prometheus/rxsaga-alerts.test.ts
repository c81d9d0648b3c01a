import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parser } from '@prometheus-io/lezer-promql';
import { load } from 'js-yaml';
import { z } from 'zod';
import type { MetricsSnapshot } from '@/db/queries/metrics';
import { ALERT_RULE_INFO, ALERT_RULES } from '@/lib/alerts/rules';
import { renderMetrics } from '@/server/metrics/prometheus';

/**
 * The Prometheus rules file for users who run Prometheus. Checked with Prometheus' own PromQL
 * grammar (always), and with `promtool check rules` as well when promtool is installed
 * (Debian package `prometheus`): `npm test` must not depend on a system package.
 */

const file = path.join(import.meta.dirname, 'rxsaga-alerts.yml');

// Prometheus' rule-file format (https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/).
const duration = z.string().regex(/^(\d+(ms|s|m|h|d|w|y))+$/);
const ruleFileSchema = z.strictObject({
  groups: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        interval: duration.optional(),
        rules: z
          .array(
            z.strictObject({
              alert: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/),
              expr: z.string().min(1),
              for: duration.optional(),
              keep_firing_for: duration.optional(),
              labels: z.record(z.string(), z.string()).optional(),
              annotations: z.record(z.string(), z.string()).optional(),
            }),
          )
          .min(1),
      }),
    )
    .min(1),
});

const rules = ruleFileSchema.parse(load(readFileSync(file, 'utf8'))).groups.flatMap((g) => g.rules);

/** Syntax errors and the metric names an expression selects, from the PromQL parse tree. */
function parsePromql(expr: string): { errors: number[]; metrics: string[] } {
  const tree = parser.parse(expr);
  const errors: number[] = [];
  const metrics: string[] = [];
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) errors.push(cursor.from);
    if (cursor.type.name === 'Identifier' && cursor.node.parent?.type.name === 'VectorSelector')
      metrics.push(expr.slice(cursor.from, cursor.to));
  } while (cursor.next());
  return { errors, metrics };
}

const emptySnapshot: MetricsSnapshot = {
  takenAt: 0,
  sagasStarted: 0,
  sagasCompleted: 0,
  sagasCancelled: 0,
  inFlight: 0,
  needingIntervention: 0,
  jobsQueued: [],
  duration: { buckets: [], sum: 0, count: 0 },
  compensationsByTask: [],
  failuresByTask: [],
  alertFacts: {
    interventionsWaiting: 0,
    oldestInterventionSeconds: null,
    stalledSagas: 0,
    lastHourCompleted: 0,
    lastHourCancelled: 0,
    oldestRunnableJobSeconds: null,
    sagasInFlight: 0,
    oldestInFlightSeconds: null,
    newestHeartbeatSeconds: null,
  },
};

describe('deploy/prometheus/rxsaga-alerts.yml', () => {
  test('has one rule per in-product rule, with the same name and severity', () => {
    assert.deepEqual(rules.map((r) => r.alert).sort(), [...ALERT_RULES].sort());
    for (const r of rules) {
      const info = ALERT_RULE_INFO[r.alert as keyof typeof ALERT_RULE_INFO];
      assert.equal(r.labels?.severity, info.severity, r.alert);
      assert.ok(r.annotations?.summary, `${r.alert} has a summary`);
    }
  });

  test('every expression is valid PromQL and selects only series /api/metrics exports', async () => {
    const text = await renderMetrics(emptySnapshot);
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    for (const r of rules) {
      const { errors, metrics } = parsePromql(r.expr);
      assert.deepEqual(errors, [], `${r.alert}: PromQL syntax error at ${errors.join(', ')}`);
      assert.ok(metrics.length > 0, `${r.alert} selects a series`);
      for (const m of metrics) assert.ok(exported.has(m), `${r.alert}: ${m} is not exported`);
    }
  });

  test('the PromQL check catches a broken expression (so it can fail)', () => {
    assert.notDeepEqual(parsePromql('max(rxsaga_sagas_stalled >').errors, []);
    assert.notDeepEqual(parsePromql('rxsaga_sagas_stalled > > 1').errors, []);
  });

  test('promtool check rules passes, whenever promtool is installed', () => {
    const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
    if (found.error) {
      // Not installed (no Debian package `prometheus`): the checks above are the check.
      assert.equal((found.error as NodeJS.ErrnoException).code, 'ENOENT');
      return;
    }
    const checked = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    assert.equal(checked.status, 0, `${checked.stdout}\n${checked.stderr}`);
    assert.match(checked.stdout, /SUCCESS: 5 rules found/);
  });
});
