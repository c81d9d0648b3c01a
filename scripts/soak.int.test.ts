import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { projectRoot } from '@/db/embedded';

/**
 * The short soak of `npm test` (1.5 min): the real processes under a steady load with pauses, a
 * live dashboard client and an operator; memory, connections and p95 judged over windows scaled
 * to the run (scripts/soak/verdict.ts). `npm run soak` is the long one (docs/chaos.md). 5
 * orders/s, not the soak's 20: `npm test` shares 2 cores with the other layers.
 */
const webPort = Number(process.env.RXSAGA_CHAOS_PORT ?? 3927) + 10;
const pgPort = Number(process.env.RXSAGA_CHAOS_PG_PORT ?? 54357) + 10;
const out = path.join(projectRoot, '.data', 'soak-test');

describe('soak (short)', () => {
  test(
    'no memory growth, connection leak or p95 drift; the chart is drawn',
    { timeout: 300_000 },
    async () => {
      if (!existsSync(path.join(projectRoot, '.next', 'BUILD_ID')))
        console.log('# no web build: the soak runs next build first (a minute or two)');
      const args = [
        '--import',
        'tsx',
        path.join(projectRoot, 'scripts/soak.ts'),
        '--minutes',
        '1.5',
        '--rate',
        '5',
        '--sample-seconds',
        '5',
        '--seed',
        '515',
        '--port',
        String(webPort),
        '--pg-port',
        String(pgPort),
        '--pg-data-dir',
        '.data/soak-test-pg',
        '--out',
        out,
      ];
      const env = { ...process.env };
      delete env.DATABASE_URL;
      const child = spawn(process.execPath, args, {
        cwd: projectRoot,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr.on('data', (d: Buffer) => (text += d.toString()));
      const code = await new Promise<number | null>((resolve) =>
        child.on('exit', (c) => resolve(c)),
      );
      const checks = text.slice(text.indexOf('### Checks'));
      assert.ok(
        text.includes('### Checks'),
        `the soak did not get to its checks:\n${text.slice(-3000)}`,
      );
      const rows = checks.split('\n').filter((l) => /\| (PASS|FAIL) /.test(l));
      assert.equal(rows.length, 5, checks);
      assert.deepEqual(
        rows.filter((r) => r.includes('| FAIL ')),
        [],
        checks,
      );
      assert.equal(code, 0, text.slice(-3000));
      const samples = (
        JSON.parse(readFileSync(path.join(out, 'soak.json'), 'utf8')) as { samples: unknown[] }
      ).samples;
      assert.equal(samples.length, 18, 'a sample every 5 s for 90 s');
      const svg = readFileSync(path.join(out, 'soak.svg'), 'utf8');
      assert.match(svg, /^<svg [^>]*width="960"/);
      assert.equal(
        svg.match(/<path d="M/g)?.length,
        4,
        'one line per panel: memory, loop delay, connections, p95',
      );
    },
  );
});
