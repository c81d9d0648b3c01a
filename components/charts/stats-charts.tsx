'use client';

import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { ReactNode } from 'react';
import type { Stats } from '@/db/queries/stats';
import { formatCount, formatDuration, humanize } from '@/lib/web/format';
import { ChartFrame } from './chart-frame';
import styles from './charts.module.css';
import { failureFunnel } from './funnel';
import { SERIES } from './palette';
import { useReducedMotion } from './use-reduced-motion';

const STEP_NAMES: Record<string, string> = {
  'create-order': 'Order',
  'create-prescription': 'Prescription',
  'reserve-inventory': 'Inventory',
  'initiate-shipment': 'Shipment',
};

function bucketLabel(start: string, bucketSeconds: number): string {
  const iso = new Date(start).toISOString();
  if (bucketSeconds < 6 * 3600) return iso.slice(11, 16);
  if (bucketSeconds < 86_400) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  return iso.slice(5, 10);
}

const axisProps = {
  stroke: SERIES.axis,
  tick: { fill: SERIES.axis },
  tickLine: false,
  fontSize: 12,
} as const;

/** Tooltips on the theme's surface (recharts' own are white boxes with black text). */
const tooltipStyle = {
  contentStyle: {
    background: 'var(--surface)',
    border: '1px solid var(--border)',
    borderRadius: 6,
    color: 'var(--fg)',
  },
  labelStyle: { color: 'var(--fg)' },
} as const;
const barCursor = { fill: 'var(--surface-sunken)' };

/**
 * A stats chart in its frame, or the sentence saying there is nothing to plot. The initial size
 * stands in until the container is measured (on the server and in the first paint).
 */
function StatsChart({
  title,
  summary,
  isEmpty,
  emptyText,
  children,
}: {
  title: string;
  summary: string;
  isEmpty: boolean;
  emptyText: string;
  children: ReactNode;
}) {
  return (
    <ChartFrame title={title} summary={summary}>
      {isEmpty ? (
        <div className={styles.empty}>{emptyText}</div>
      ) : (
        <ResponsiveContainer
          width="100%"
          height="100%"
          initialDimension={{ width: 400, height: 240 }}
        >
          {children}
        </ResponsiveContainer>
      )}
    </ChartFrame>
  );
}

export function ThroughputChart({ stats }: { stats: Stats }) {
  const animate = !useReducedMotion();
  const data = stats.series.map((b) => ({
    label: bucketLabel(b.start, stats.bucketSeconds),
    completed: b.completed,
    cancelled: b.cancelled,
  }));
  const completed = data.reduce((n, b) => n + b.completed, 0);
  const cancelled = data.reduce((n, b) => n + b.cancelled, 0);
  return (
    <StatsChart
      title="Completed and cancelled"
      summary={`${formatCount(completed)} completed, ${formatCount(cancelled)} cancelled in this window`}
      isEmpty={completed + cancelled === 0}
      emptyText="No saga finished in this window"
    >
      <BarChart
        accessibilityLayer={false}
        data={data}
        margin={{ top: 4, right: 8, bottom: 0, left: -16 }}
      >
        <CartesianGrid stroke={SERIES.grid} vertical={false} />
        <XAxis dataKey="label" {...axisProps} minTickGap={16} />
        <YAxis {...axisProps} allowDecimals={false} />
        <Tooltip {...tooltipStyle} cursor={barCursor} />
        <Legend verticalAlign="top" height={26} iconType="circle" />
        <Bar
          dataKey="completed"
          name="Completed"
          stackId="f"
          fill={SERIES.completed}
          isAnimationActive={animate}
        />
        <Bar
          dataKey="cancelled"
          name="Cancelled"
          stackId="f"
          fill={SERIES.cancelled}
          isAnimationActive={animate}
        />
      </BarChart>
    </StatsChart>
  );
}

export function DurationChart({ stats }: { stats: Stats }) {
  const animate = !useReducedMotion();
  const data = stats.series.map((b) => ({
    label: bucketLabel(b.start, stats.bucketSeconds),
    p50: b.p50DurationSeconds,
    p95: b.p95DurationSeconds,
  }));
  const points = data.filter((d) => d.p50 !== null).length;
  const any = points > 0;
  // A line through one or two points draws nothing visible: mark the points themselves.
  const dot = points <= 12 ? { r: 3 } : false;
  return (
    <StatsChart
      title="Duration percentiles"
      summary={`p50 ${formatDuration(stats.p50DurationSeconds)}, p95 ${formatDuration(stats.p95DurationSeconds)} over the window`}
      isEmpty={!any}
      emptyText="No finished sagas to measure yet"
    >
      <LineChart
        accessibilityLayer={false}
        data={data}
        margin={{ top: 8, right: 12, bottom: 0, left: -8 }}
      >
        <CartesianGrid stroke={SERIES.grid} vertical={false} />
        <XAxis dataKey="label" {...axisProps} minTickGap={16} padding={{ left: 6, right: 6 }} />
        <YAxis {...axisProps} unit=" s" />
        <Tooltip
          {...tooltipStyle}
          formatter={(v) => formatDuration(typeof v === 'number' ? v : null)}
        />
        <Legend verticalAlign="top" height={26} iconType="circle" />
        <Line
          dataKey="p50"
          name="p50"
          stroke={SERIES.p50}
          strokeWidth={2}
          dot={dot}
          connectNulls
          isAnimationActive={animate}
        />
        <Line
          dataKey="p95"
          name="p95"
          stroke={SERIES.p95}
          strokeWidth={2}
          dot={dot}
          connectNulls
          strokeDasharray="5 3"
          isAnimationActive={animate}
        />
      </LineChart>
    </StatsChart>
  );
}

export function CompensationsChart({ stats }: { stats: Stats }) {
  const animate = !useReducedMotion();
  const data = stats.compensationsByTask.map((c) => ({ label: humanize(c.task), count: c.count }));
  const total = data.reduce((n, d) => n + d.count, 0);
  return (
    <StatsChart
      title="Compensations by step"
      summary={`${formatCount(total)} compensations ran in this window`}
      isEmpty={total === 0}
      emptyText="No compensations in this window"
    >
      <BarChart
        accessibilityLayer={false}
        data={data}
        layout="vertical"
        margin={{ top: 4, right: 16, bottom: 0, left: 8 }}
      >
        <CartesianGrid stroke={SERIES.grid} horizontal={false} />
        <XAxis type="number" {...axisProps} allowDecimals={false} />
        <YAxis type="category" dataKey="label" {...axisProps} width={130} />
        <Tooltip {...tooltipStyle} cursor={barCursor} />
        <Bar
          dataKey="count"
          name="Compensations"
          fill={SERIES.compensation}
          isAnimationActive={animate}
          barSize={22}
        />
      </BarChart>
    </StatsChart>
  );
}

/** The funnel's stacked series, bottom up: each bar's key in the data and palette, and its legend name. */
const FUNNEL_SERIES = [
  ['passed', 'Passed'],
  ['waiting', 'In progress'],
  ['failed', 'Failed here'],
] as const;

export function FailureFunnelChart({ stats }: { stats: Stats }) {
  const animate = !useReducedMotion();
  const stages = failureFunnel(stats);
  const data = stages.map((s) => ({
    label: STEP_NAMES[s.step] ?? s.step,
    passed: s.reached - s.failed - s.waiting,
    waiting: s.waiting,
    failed: s.failed,
  }));
  const failed = stages.reduce((n, s) => n + s.failed, 0);
  const worst = [...stages].sort((a, b) => b.failed - a.failed)[0];
  return (
    <StatsChart
      title="Where sagas fail"
      summary={
        failed === 0
          ? 'No step failed in this window'
          : `${formatCount(failed)} failed; most at ${STEP_NAMES[worst!.step]} (${formatCount(worst!.failed)})`
      }
      isEmpty={stats.total === 0}
      emptyText="No sagas in this window"
    >
      <BarChart
        accessibilityLayer={false}
        data={data}
        layout="vertical"
        margin={{ top: 4, right: 16, bottom: 0, left: 8 }}
      >
        <CartesianGrid stroke={SERIES.grid} horizontal={false} />
        <XAxis type="number" {...axisProps} allowDecimals={false} />
        <YAxis type="category" dataKey="label" {...axisProps} width={90} />
        <Tooltip {...tooltipStyle} cursor={barCursor} />
        <Legend verticalAlign="top" height={26} iconType="circle" />
        {FUNNEL_SERIES.map(([key, name]) => (
          <Bar
            key={key}
            dataKey={key}
            name={name}
            stackId="s"
            fill={SERIES[key]}
            isAnimationActive={animate}
            barSize={22}
          />
        ))}
      </BarChart>
    </StatsChart>
  );
}
