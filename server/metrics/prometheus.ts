import { Counter, Gauge, Histogram, Registry, type MetricType } from 'prom-client';
import type { MetricsSnapshot } from '@/db/queries/metrics';
import { FAILURE_KINDS } from '@/db/queries/signal-events';

/**
 * Renders a database snapshot in the Prometheus text format with prom-client. A fresh registry
 * per scrape: the figures are absolute totals from the database, not increments this process
 * saw, so nothing is kept between scrapes.
 */

type DurationSnapshot = MetricsSnapshot['duration'];

/**
 * prom-client's Histogram only learns from observe(); ours arrives already bucketed from SQL,
 * so this one reports the snapshot's cumulative buckets, sum and count as they are.
 */
class SnapshotHistogram extends Histogram<'le'> {
  private readonly metric: { name: string; help: string };

  constructor(
    config: { name: string; help: string; registers: Registry[] },
    private readonly snapshot: DurationSnapshot,
  ) {
    super({ ...config, buckets: snapshot.buckets.map((b) => b.le) });
    this.metric = { name: config.name, help: config.help };
  }

  override async get(): ReturnType<Histogram<'le'>['get']> {
    const { name, help } = this.metric;
    const { buckets, sum, count } = this.snapshot;
    // prom-client's typings declare `type` as a numeric enum; at run time it is the string.
    const type = 'histogram' as unknown as MetricType;
    return {
      name,
      help,
      type,
      aggregator: 'sum',
      collect: () => undefined,
      values: [
        ...buckets.map((b) => ({
          metricName: `${name}_bucket`,
          labels: { le: b.le },
          value: b.count,
        })),
        { metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: count },
        { metricName: `${name}_sum`, labels: {}, value: sum },
        { metricName: `${name}_count`, labels: {}, value: count },
      ],
    };
  }

  /** The registry formats text from this when a metric has it (the base class does). */
  getForPromString() {
    return this.get();
  }
}

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** What a counter or gauge reports: one figure, or one per task (a series labelled `task`). */
type Figure = number | readonly { task: string; count: number }[];

function seriesOf(figure: Figure): {
  labelNames: string[];
  samples: { labels: Record<string, string>; value: number }[];
} {
  return typeof figure === 'number'
    ? { labelNames: [], samples: [{ labels: {}, value: figure }] }
    : {
        labelNames: ['task'],
        samples: figure.map(({ task, count }) => ({ labels: { task }, value: count })),
      };
}

export async function renderMetrics(s: MetricsSnapshot): Promise<string> {
  const registers = [new Registry()];
  // Figures are absolute totals from the database: a fresh counter incremented once by its
  // total reads as that total; a gauge is simply set to it.
  const counter = (name: string, help: string, figure: Figure) => {
    const { labelNames, samples } = seriesOf(figure);
    const metric = new Counter({ name, help, labelNames, registers });
    for (const { labels, value } of samples) metric.inc(labels, value);
  };
  const gauge = (name: string, help: string, figure: Figure) => {
    const { labelNames, samples } = seriesOf(figure);
    const metric = new Gauge({ name, help, labelNames, registers });
    for (const { labels, value } of samples) metric.set(labels, value);
  };

  counter('rxsaga_sagas_started_total', 'Sagas started (orders accepted).', s.sagasStarted);
  counter('rxsaga_sagas_completed_total', 'Sagas that reached COMPLETED.', s.sagasCompleted);
  counter(
    'rxsaga_sagas_cancelled_total',
    'Sagas that reached CANCELLED (compensated).',
    s.sagasCancelled,
  );

  counter('rxsaga_compensations_total', 'Compensations run, by task.', s.compensationsByTask);

  const failures = new Counter({
    name: 'rxsaga_step_failures_total',
    help: 'Task failures by task and kind: business (a rule refused the step), transient (retried), intervention (escalated to a human).',
    labelNames: ['task', 'kind'],
    registers,
  });
  for (const f of s.failuresByTask)
    for (const kind of FAILURE_KINDS) failures.inc({ task: f.task, kind }, f[kind]);

  new SnapshotHistogram(
    {
      name: 'rxsaga_saga_duration_seconds',
      help: 'Duration of finished sagas (completedAt - startedAt).',
      registers,
    },
    s.duration,
  );

  gauge('rxsaga_sagas_in_flight', 'Sagas not yet COMPLETED or CANCELLED.', s.inFlight);
  gauge(
    'rxsaga_sagas_needing_intervention',
    'Sagas flagged for an operator (retries exhausted or stalled).',
    s.needingIntervention,
  );
  gauge('rxsaga_jobs_queued', 'Jobs in the graphile-worker queue, by task.', s.jobsQueued);

  // The alert rules' facts (docs/alerts.md), so deploy/prometheus/rxsaga-alerts.yml can
  // state the same conditions.
  const f = s.alertFacts;
  gauge(
    'rxsaga_oldest_intervention_age_seconds',
    'Seconds since the oldest flag of a saga that needs intervention (0 when none).',
    f.oldestInterventionSeconds ?? 0,
  );
  gauge(
    'rxsaga_sagas_stalled',
    'Sagas flagged by the stall detector that still wait for a human.',
    f.stalledSagas,
  );
  gauge(
    'rxsaga_oldest_runnable_job_age_seconds',
    'Seconds the oldest job that could run now has waited (0 when none).',
    f.oldestRunnableJobSeconds ?? 0,
  );
  gauge(
    'rxsaga_worker_heartbeat_age_seconds',
    'Seconds since the newest worker heartbeat (+Inf when there is none).',
    f.newestHeartbeatSeconds ?? Number.POSITIVE_INFINITY,
  );
  gauge(
    'rxsaga_metrics_snapshot_timestamp_seconds',
    'When these figures were read from the database (Unix time); scrapes within the cache time share one read.',
    s.takenAt,
  );

  return registers[0]!.metrics();
}
