import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  applyPostgresPatches,
  findPostgres,
  POSTGRES_PATCHES,
  POSTGRES_VERSION,
  postgresPatchProblems,
} from './postgres-patch.mjs';

/**
 * The postgres.js patches fail closed: the install fails when one does not apply, and nothing
 * starts on an unpatched postgres (what `npm install --ignore-scripts` leaves). Each case runs
 * on a copy of the installed package in a scratch project, never on node_modules itself.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const installed = findPostgres(root)!;
const scratch = mkdtempSync(path.join(tmpdir(), 'rxsaga-pg-patch-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let projects = 0;
/** A scratch project whose node_modules/postgres is a copy of the installed one, unpatched. */
function unpatchedProject(): { project: string; postgres: string } {
  const project = path.join(scratch, `p${(projects += 1)}`);
  const postgres = path.join(project, 'node_modules', 'postgres');
  cpSync(installed, postgres, { recursive: true });
  for (const variant of ['src', 'cjs/src', 'cf/src']) {
    for (const patch of POSTGRES_PATCHES) {
      const file = path.join(postgres, variant, patch.file);
      let text = readFileSync(file, 'utf8');
      for (const [from, to] of patch.replacements) text = text.replace(to, () => from);
      writeFileSync(file, text);
    }
  }
  return { project, postgres };
}

const read = (dir: string, file: string) => readFileSync(path.join(dir, file), 'utf8');

describe('postgres.js patches', () => {
  test('the installed postgres is the pinned version, every file patched', () => {
    const manifest = JSON.parse(read(root, 'package.json')) as {
      dependencies: Record<string, string>;
    };
    assert.equal(manifest.dependencies.postgres, POSTGRES_VERSION, 'pinned exactly');
    assert.deepEqual(postgresPatchProblems(installed), []);
  });

  test('applying to the released code gives what is installed, and again changes nothing', () => {
    const { postgres } = unpatchedProject();
    assert.equal(postgresPatchProblems(postgres).length, 6, 'three variants × two files');
    assert.equal(applyPostgresPatches(postgres), 6);
    assert.equal(applyPostgresPatches(postgres), 0);
    for (const file of ['src/connection.js', 'cjs/src/index.js', 'cf/src/connection.js']) {
      assert.equal(read(postgres, file), read(installed, file), file);
    }
  });

  test('code that changed under a patch fails the install, and that file is left alone', () => {
    const { project, postgres } = unpatchedProject();
    const file = path.join(postgres, 'cjs/src/connection.js');
    const changed = read(postgres, 'cjs/src/connection.js').replace(
      '  function nextWrite(fn) {',
      '  function nextWrite(fn, more) {',
    );
    writeFileSync(file, changed);
    assert.throws(() => applyPostgresPatches(postgres), /cjs\/src\/connection\.js.*not found/);
    assert.equal(readFileSync(file, 'utf8'), changed);

    // The real postinstall, in the scratch project: npm install would fail.
    cpSync(
      path.join(root, 'scripts/lib/patch-dependencies.mjs'),
      path.join(project, 'scripts/lib/patch-dependencies.mjs'),
    );
    cpSync(path.join(root, 'db/postgres-patch.mjs'), path.join(project, 'db/postgres-patch.mjs'));
    const install = spawnSync(process.execPath, ['scripts/lib/patch-dependencies.mjs'], {
      cwd: project,
      encoding: 'utf8',
    });
    assert.equal(install.status, 1, install.stdout + install.stderr);
    assert.match(install.stderr, /not what the patch was written for/);
  });

  test('another postgres version is refused, not patched', () => {
    const { postgres } = unpatchedProject();
    const manifest = path.join(postgres, 'package.json');
    writeFileSync(
      manifest,
      read(postgres, 'package.json').replace(/"version": "[^"]+"/, '"version": "3.4.10"'),
    );
    assert.throws(() => applyPostgresPatches(postgres), /postgres 3\.4\.10 is installed/);
    assert.deepEqual(postgresPatchProblems(postgres), [
      `postgres 3.4.10 is installed; the patches are for ${POSTGRES_VERSION}`,
    ]);
  });

  test('the app refuses to open a connection on an unpatched postgres (--ignore-scripts)', () => {
    const { project } = unpatchedProject();
    // db/client.ts as the web app and the worker load it, from a project that was installed
    // without its postinstall. tsx comes from here; the check looks where the process runs.
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        import.meta.resolve('tsx'),
        '--input-type=module',
        '-e',
        `import { connect } from ${JSON.stringify(path.join(root, 'db/client.ts'))};
         connect('postgres://nobody@127.0.0.1:9/none');
         console.log('connected');`,
      ],
      {
        cwd: project,
        encoding: 'utf8',
        env: { ...process.env, TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.json') },
      },
    );
    assert.notEqual(child.status, 0);
    assert.doesNotMatch(child.stdout, /connected/);
    assert.match(child.stderr, /refusing to start: postgres\.js is not patched/);
    assert.match(child.stderr, /src\/connection\.js is not patched/);
  });

  test('the scripts (npm start, worker, db:migrate) refuse to start on it too', () => {
    const { project } = unpatchedProject();
    // The scripts find postgres from their own folder; `@/…` still resolves to this checkout.
    cpSync(path.join(root, 'scripts'), path.join(project, 'scripts'), { recursive: true });
    writeFileSync(path.join(project, 'package.json'), '{ "type": "module" }');
    const child = spawnSync(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), 'scripts/db-migrate.ts'],
      {
        cwd: project,
        encoding: 'utf8',
        env: {
          ...process.env,
          TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.json'),
          DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none',
        },
      },
    );
    assert.equal(child.status, 1, child.stdout + child.stderr);
    assert.match(child.stderr, /refusing to start: postgres\.js is not patched/);
  });
});
