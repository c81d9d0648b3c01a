import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareDashboards } from './growth';

const run = (sagas: number, calls: [name: string, p50Ms: number, p95Ms: number][]) => ({
  sagas,
  calls: calls.map(([name, p50Ms, p95Ms]) => ({
    name,
    p50Ms,
    p95Ms,
    maxMs: p95Ms,
    calls: 30,
    targetMs: 50,
    met: true,
  })),
});

test('growth: each call against the same call of the smaller history, met up to 1.5× on p50 and p95', () => {
  const rows = compareDashboards(
    run(3_000_000, [
      ['stats', 15, 30],
      ['scrape', 280, 395],
      ['detail', 4, 9],
      ['new call', 1, 1],
    ]),
    run(1_000_000, [
      ['stats', 10, 20],
      ['scrape', 22, 31],
      ['detail', 4, 5],
    ]),
  );
  assert.deepEqual(rows, [
    { name: 'stats', p50Ratio: 1.5, p95Ratio: 1.5, met: true },
    { name: 'scrape', p50Ratio: 12.73, p95Ratio: 12.74, met: false },
    { name: 'detail', p50Ratio: 1, p95Ratio: 1.8, met: false },
  ]);
});
