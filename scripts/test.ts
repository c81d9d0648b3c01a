import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '@/db/embedded';
import { resolveBrowser } from './lib/browser';
import { buildReason, runNextBuild } from './lib/build';
import { startTestCluster, testRunId, type TestCluster } from './lib/test-cluster';

/**
 * `npm test` (format → types → lint → unit → int → e2e: fast layers before slow ones) and
 * `npm run test:<layer>`. Extra arguments after a single
 * layer go to its runner (`npm run test:e2e -- --grep smoke`); for unit and int, arguments that
 * are not flags name the files to run (`npm run test:int -- db/saga-store/graphile-jobs.int.test.ts`). Layers:
 *   format  prettier --check .      types  tsc --noEmit      lint  eslint .
 *   unit  *.test.ts, pure: node --test (with tsx)
 *   int   *.int.test.ts against real PostgreSQL: a template database migrated once per run,
 *         one clone per test file (test/db.ts); RXSAGA_TEST_CONCURRENCY files at a time
 *   e2e   Playwright (playwright.config.ts) against `npm start` on a fresh cloned database
 * The test cluster is stopped at the end, whatever happened.
 */

type Gate = 'format' | 'types' | 'lint';
type Layer = Gate | 'unit' | 'int' | 'e2e';
interface Result {
  layer: Layer;
  status: 'passed' | 'FAILED' | 'skipped';
  seconds?: number;
  note: string;
}

const LAYERS: Layer[] = ['format', 'types', 'lint', 'unit', 'int', 'e2e'];
// The static gates: each is one tool over the whole tree, run with this Node (no npx).
const GATES: Record<Gate, { bin: string[]; args: string[] }> = {
  format: { bin: ['prettier', 'bin', 'prettier.cjs'], args: ['--check', '--log-level=warn', '.'] },
  types: { bin: ['typescript', 'bin', 'tsc'], args: ['--noEmit'] },
  lint: { bin: ['eslint', 'bin', 'eslint.js'], args: ['.'] },
};
const isGate = (layer: Layer): layer is Gate => layer in GATES;
const log = (message: string) => console.log(`\n[test] ${message}`);
const SKIP_DIRS = new Set([
  'node_modules',
  '.next',
  '.data',
  '.git',
  'e2e-artifacts',
  'test-results',
]);
const DRILL_FILES = [
  path.join('scripts', 'chaos.int.test.ts'),
  path.join('scripts', 'soak.int.test.ts'),
];
// 2 cores: two files at a time keeps both busy while one waits on timers or a worker child.
const intConcurrency = process.env.RXSAGA_TEST_CONCURRENCY ?? '2';

let current: ChildProcess | undefined;
let interrupted = false;

function findFiles(dir: string, match: (name: string) => boolean, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && !SKIP_DIRS.has(entry.name)) {
      findFiles(path.join(dir, entry.name), match, out);
    } else if (entry.isFile() && match(entry.name)) {
      out.push(path.relative(projectRoot, path.join(dir, entry.name)));
    }
  }
  return out.sort();
}

const testFiles: Record<Exclude<Layer, Gate>, () => string[]> = {
  unit: () =>
    findFiles(projectRoot, (n) => /\.test\.tsx?$/.test(n) && !/\.int\.test\.tsx?$/.test(n)).filter(
      (f) => !f.startsWith(`e2e${path.sep}`),
    ),
  int: () => findFiles(projectRoot, (n) => /\.int\.test\.tsx?$/.test(n)),
  e2e: () =>
    existsSync(path.join(projectRoot, 'e2e'))
      ? findFiles(path.join(projectRoot, 'e2e'), (n) => n.endsWith('.spec.ts'))
      : [],
};

function run(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: projectRoot, stdio: 'inherit', env });
    current = child;
    child.on('error', () => resolve(1));
    child.on('exit', (code, signal) => {
      current = undefined;
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

async function runLayer(
  layer: Exclude<Layer, Gate>,
  files: string[],
  extra: string[],
  cluster?: TestCluster,
) {
  // Tests must never reach a developer's real database by accident.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: undefined,
    NEXT_TELEMETRY_DISABLED: '1',
  };
  // No --test-force-exit in either layer: on Node 20 it ends a file's process before its report
  // is flushed, and the runner then counts the lost tail of that file as nothing, not as a
  // failure (lib/saga/state-machine.test.ts lost up to 22 of its 84 tests that way). Every
  // file closes what it opens, so each process ends by itself.
  if (layer === 'unit') {
    return run(['--import', 'tsx', '--test', '--test-timeout=60000', ...extra, ...files], env);
  }
  if (!cluster) throw new Error('no test database server');
  if (layer === 'int') {
    // The API tests run `next start` on a production build. Built here, once and outside any
    // test's timeout: built inside one, a slow build (a busy machine) timed the file out and
    // left an orphan `next build` that every later file then collided with.
    const stale = buildReason(projectRoot);
    if (stale) {
      log(`int: building the app first (${stale})`);
      const code = await runNextBuild(projectRoot).done;
      if (code !== 0) return code;
    }
    env.RXSAGA_TEST_ADMIN_URL = cluster.adminUrl;
    env.RXSAGA_TEST_TEMPLATE = cluster.template;
    // The drills' files (chaos, soak) have a budget that follows their progress instead
    // (scripts/lib/run-watched.ts): under the runner's 180 s per file, a drill that kept moving
    // on a loaded machine was timed out. They run after the others, with only a backstop.
    const isDrill = (f: string) => DRILL_FILES.includes(path.normalize(f));
    const drills = files.filter(isDrill);
    // One drill at a time: each runs a whole stack (PostgreSQL, web, workers); two side by side
    // on a loaded machine starved each other (the short soak confirmed 3 of its 25 orders a
    // window at load 25).
    const batches: [string[], number, string][] = [
      [files.filter((f) => !isDrill(f)), 180_000, intConcurrency],
      [drills, 30 * 60_000, '1'],
    ];
    let code = 0;
    for (const [batch, timeoutMs, concurrency] of batches) {
      if (batch.length === 0 || interrupted) continue;
      const flags = [`--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`];
      code ||= await run(['--import', 'tsx', '--test', ...flags, ...extra, ...batch], env);
    }
    return code;
  }
  env.RXSAGA_E2E_DATABASE_URL = await cluster.createDatabase(`rxsaga_e2e_${testRunId}`);
  const cli = path.join(projectRoot, 'node_modules', '@playwright', 'test', 'cli.js');
  return run([cli, 'test', ...extra], env);
}

async function main(): Promise<number> {
  const [selected = 'all', ...extra] = process.argv.slice(2);
  const layers = selected === 'all' ? LAYERS : LAYERS.filter((l) => l === selected);
  if (layers.length === 0) {
    console.error(`usage: scripts/test.ts [all|${LAYERS.join('|')}] [runner args…]`);
    return 2;
  }
  const results: Result[] = [];
  let cluster: TestCluster | undefined;
  try {
    for (const layer of layers) {
      if (interrupted) break;
      if (isGate(layer)) {
        const { bin, args } = GATES[layer];
        log(`${layer}: ${bin[0]} ${args.join(' ')}`);
        const started = Date.now();
        const own = layers.length === 1 ? extra : [];
        const tool = path.join(projectRoot, 'node_modules', ...bin);
        const code = await run([tool, ...args, ...own], process.env);
        results.push({
          layer,
          status: code === 0 && !interrupted ? 'passed' : 'FAILED',
          seconds: (Date.now() - started) / 1000,
          note: 'whole tree',
        });
        continue;
      }
      // `npm run test:int -- db/saga-store/graphile-jobs.int.test.ts`: the files named, instead of the whole layer.
      const named =
        layers.length === 1 && layer !== 'e2e' ? extra.filter((a) => !a.startsWith('-')) : [];
      const files = named.length > 0 ? named : testFiles[layer]();
      if (files.length === 0) {
        results.push({ layer, status: 'skipped', note: 'no test files' });
        continue;
      }
      if (layer === 'e2e') {
        // The same resolver as playwright.config.ts; here it unpacks the npm Chromium once, up
        // front, and says which browser the run uses.
        try {
          log(`e2e: browser: ${resolveBrowser().description}`);
        } catch (err) {
          console.error(`[test] ${err instanceof Error ? err.message : String(err)}`);
          results.push({ layer, status: 'FAILED', note: 'no Chromium' });
          continue;
        }
      }
      log(`${layer}: ${files.length} file(s)`);
      const started = Date.now();
      if (layer !== 'unit')
        cluster ??= await startTestCluster((m) => console.log(`[test] database: ${m}`));
      const runnerArgs = layers.length === 1 ? extra.filter((a) => !named.includes(a)) : [];
      const code = await runLayer(layer, files, runnerArgs, cluster);
      const status = code === 0 && !interrupted ? 'passed' : 'FAILED';
      results.push({
        layer,
        status,
        seconds: (Date.now() - started) / 1000,
        note: `${files.length} file(s)`,
      });
    }
  } catch (err) {
    console.error('[test] the test run could not be set up:', err);
    results.push({
      layer: layers[results.length] ?? 'unit',
      status: 'FAILED',
      note: 'set-up error',
    });
  } finally {
    await cluster?.close().catch((err: unknown) => console.error('[test] cleanup failed:', err));
  }

  console.log('\n──────── test summary ────────');
  for (const r of results) {
    const time = r.seconds === undefined ? '' : `${r.seconds.toFixed(1)} s`;
    console.log(`  ${r.layer.padEnd(6)} ${r.status.padEnd(8)} ${time.padStart(8)}   ${r.note}`);
  }
  if (interrupted) console.log('  (interrupted)');
  const failed = interrupted || results.some((r) => r.status === 'FAILED');
  console.log(failed ? '  RESULT: FAILED' : '  RESULT: all passed');
  return failed ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // The child (same process group) usually got the Ctrl-C too; a second one kills it.
    current?.kill(interrupted ? 'SIGKILL' : 'SIGTERM');
    interrupted = true;
  });
}

process.exit(await main());
