import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { projectRoot } from '@/db/embedded';

/**
 * The short chaos drill of `npm test` (≈ 1 min): the real processes, every kind of fault once or
 * more, then every invariant checked. `npm run chaos` is the long one (README "Reliability").
 * Through the web app when a build exists (`next build`), else the commands are called directly.
 */
const transport = existsSync(path.join(projectRoot, '.next', 'BUILD_ID')) ? 'http' : 'direct';

describe('chaos drill (short)', () => {
  test(`nothing lost, duplicated or oversold under faults (${transport})`, { timeout: 240_000 }, async () => {
    const args = [
      '--import', 'tsx', path.join(projectRoot, 'scripts/chaos.ts'),
      '--minutes', '0.75', '--rate', '3', '--seed', '4242', '--workers', '2',
      '--kills', '5', '--terms', '1', '--pg-restarts', '1', '--conn-kills', '2', '--settle', '60',
      '--transport', transport, '--pg-data-dir', '.data/chaos-test-pg', '--pg-port', '54357', '--port', '3927',
    ];
    const env = { ...process.env };
    delete env.DATABASE_URL; // its own embedded cluster, which it restarts
    const child = spawn(process.execPath, args, { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const invariants = out.slice(out.indexOf('### Invariants'));
    assert.ok(out.includes('### Invariants'), `the drill did not get to its checks:\n${out.slice(-3000)}`);
    const rows = invariants.split('\n').filter((l) => /\| (PASS|FAIL) /.test(l));
    assert.ok(rows.length >= 14, `expected the full invariant table, got ${rows.length} rows`);
    assert.deepEqual(rows.filter((r) => r.includes('| FAIL ')), [], invariants);
    assert.equal(code, 0, out.slice(-3000));
    assert.match(out, /SIGKILL worker \(new one started\)\s+\| 5\s/);
    assert.match(out, /PostgreSQL restart\s+\| 1\s/);
  });
});
