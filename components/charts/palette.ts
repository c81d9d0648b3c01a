/**
 * Series colours, from the theme's --chart-* tokens (app/globals.css), so charts follow the light
 * or dark theme; SVG presentation attributes and inline styles both resolve var().
 */
export const SERIES = {
  completed: 'var(--chart-completed)',
  cancelled: 'var(--chart-cancelled)',
  started: 'var(--chart-primary)',
  p50: 'var(--chart-primary)',
  p95: 'var(--chart-p95)',
  compensation: 'var(--chart-compensation)',
  failed: 'var(--chart-failed)',
  passed: 'var(--chart-primary)',
  waiting: 'var(--chart-waiting)',
  grid: 'var(--chart-grid)',
  axis: 'var(--chart-axis)',
} as const;
