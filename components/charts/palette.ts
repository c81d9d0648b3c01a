/** Series colours: distinguishable for common colour-vision deficiencies, ≥ 3:1 on white. */
export const SERIES = {
  completed: '#1a7f37',
  cancelled: '#c4432b',
  started: '#0a58a8',
  p50: '#0a58a8',
  p95: '#8250df',
  compensation: '#b26b00',
  failed: '#b42318',
  passed: '#0a58a8',
  grid: '#e3e7eb',
  axis: '#57606a',
} as const;
