import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  applyGraphileWorkerPatch,
  findGraphileWorker,
  GRAPHILE_WORKER_PATCH,
  GRAPHILE_WORKER_VERSION,
  graphileWorkerPatchProblems,
} from './graphile-worker-patch.mjs';

/**
 * The graphile-worker patch (jobs/graphile-worker-patch.mjs) is applied by the postinstall and
 * fails the install when it does not apply. Each case runs on a copy of the installed file in a
 * scratch directory, never on node_modules itself.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const installed = findGraphileWorker(root)!;
const scratch = mkdtempSync(path.join(tmpdir(), 'rxsaga-gw-patch-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let copies = 0;
/** A scratch graphile-worker: its package.json and an unpatched dist/main.js. */
function unpatchedCopy(): string {
  const dir = path.join(scratch, `g${(copies += 1)}`);
  cpSync(path.join(installed, 'package.json'), path.join(dir, 'package.json'));
  let text = readFileSync(path.join(installed, GRAPHILE_WORKER_PATCH.file), 'utf8');
  for (const [from, to] of GRAPHILE_WORKER_PATCH.replacements) text = text.replace(to, () => from);
  cpSync(
    path.join(installed, GRAPHILE_WORKER_PATCH.file),
    path.join(dir, GRAPHILE_WORKER_PATCH.file),
  );
  writeFileSync(path.join(dir, GRAPHILE_WORKER_PATCH.file), text);
  return dir;
}

describe('graphile-worker patch', () => {
  test('the installed graphile-worker is the pinned version, patched', () => {
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    assert.equal(manifest.dependencies['graphile-worker'], GRAPHILE_WORKER_VERSION);
    assert.deepEqual(graphileWorkerPatchProblems(installed), []);
  });

  test('applying to the released code gives what is installed, and again changes nothing', () => {
    const dir = unpatchedCopy();
    assert.equal(graphileWorkerPatchProblems(dir).length, 1);
    assert.equal(applyGraphileWorkerPatch(dir), 1);
    assert.equal(applyGraphileWorkerPatch(dir), 0);
    const file = GRAPHILE_WORKER_PATCH.file;
    assert.equal(
      readFileSync(path.join(dir, file), 'utf8'),
      readFileSync(path.join(installed, file), 'utf8'),
    );
  });

  test('changed code or another version is refused, and the file left alone', () => {
    const dir = unpatchedCopy();
    const file = path.join(dir, GRAPHILE_WORKER_PATCH.file);
    const changed = readFileSync(file, 'utf8').replace(
      'backpressure.resolve();',
      'backpressure.resolve(undefined);',
    );
    writeFileSync(file, changed);
    assert.throws(() => applyGraphileWorkerPatch(dir), /not what the patch was written for/);
    assert.equal(readFileSync(file, 'utf8'), changed);
    const manifest = path.join(dir, 'package.json');
    writeFileSync(
      manifest,
      readFileSync(manifest, 'utf8').replace(/"version": "[^"]+"/, '"version": "0.17.4"'),
    );
    assert.throws(() => applyGraphileWorkerPatch(dir), /graphile-worker 0\.17\.4 is installed/);
  });
});
