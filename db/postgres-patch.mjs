// Our patches to postgres (postgres.js) 3.4.9, for bugs with no released fix. Plain JavaScript:
// `npm install` applies them (scripts/lib/patch-dependencies.mjs, postinstall, before any
// TypeScript tooling exists), and every process that talks to the database checks them
// (assertPostgresPatched: db/client.ts, the scripts' start-up), so an install that skipped the
// postinstall (`npm install --ignore-scripts`) or a postgres other than the pinned one refuses
// to start instead of running unpatched.
//
// Upstream, all open when pinned (drop a patch once a release has its fix, see docs/upgrading.md):
// - nextWrite() on a closed socket: a write buffered behind setImmediate fires after the socket
//   closed (a backend terminated, the server restarted) and `socket.write` on null throws from
//   the immediate, uncatchable, killing the process. Teardown also clears the timer without
//   resetting it, so the connection never flushes a write again (queries on it hang), and a
//   query written after the socket closed is never answered nor failed.
//   https://github.com/porsager/postgres/issues/1154
//   https://github.com/porsager/postgres/issues/1066
//   https://github.com/porsager/postgres/issues/1208 (fix PR #1209; the null check alone,
//   PR #1168, leaves the query hanging)
// - sql.begin() after its connection is lost: the transaction's later statements (its next
//   statement, the `rollback` of its catch, a `commit`) go to the reconnected connection, which
//   the pool may have handed to another caller: a stray `rollback`/`commit` ends *their*
//   transaction half-way.
//   https://github.com/porsager/postgres/issues/1133
//   https://github.com/porsager/postgres/issues/1216
//   https://github.com/porsager/postgres/pull/1155, https://github.com/porsager/postgres/pull/1215
// Found by `npm run chaos` (pg_terminate_backend during a transaction); regression test:
// db/client-resilience.int.test.ts. This file's own test: db/postgres-patch.int.test.ts.
// The fs calls carry turbopackIgnore: they read node_modules/postgres at run time, and without
// it Next's build would trace the whole project into the server output.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The one postgres version these patches were written for (pinned exactly in package.json). */
export const POSTGRES_VERSION = '3.4.9';

/** postgres.js ships the same sources three times: ESM (Node's import), CommonJS, Workers. */
const VARIANTS = ['src', 'cjs/src', 'cf/src'];

export const POSTGRES_PATCHES = [
  {
    file: 'connection.js',
    mark: '/* rxsaga-patch: nextWrite-null-socket v3 */',
    replacements: [
      [
        '  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)',
        // A query written after the socket closed (a transaction carrying on after its backend
        // was terminated) would otherwise wait for an answer for ever: fail it, and anything
        // queued behind it, as closed() does, and forget it: left as the active query, the
        // reconnect's first ReadyForQuery would be taken as its answer and the next query
        // would get another's result. The pool reconnects this connection when next used.
        "  function nextWrite(fn) {\n    /* rxsaga-patch: nextWrite-null-socket v3 */\n    if (!socket) {\n      chunk = nextWriteTimer = null\n      error(Errors.connection('CONNECTION_CLOSED', options))\n      query = null\n      return false\n    }\n    const x = socket.write(chunk, fn)",
      ],
      // terminate() and closed(): cancel AND reset the pending write, so the next one is scheduled.
      [
        '    clearImmediate(nextWriteTimer)\n    if (socket) {',
        '    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null\n    if (socket) {',
      ],
      [
        '    clearImmediate(nextWriteTimer)\n    socket.removeListener',
        '    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null\n    socket.removeListener',
      ],
    ],
  },
  {
    // Once the connection is lost, the transaction's later statements fail with the close error
    // instead of being sent.
    file: 'index.js',
    mark: '/* rxsaga-patch: begin-lost-connection v1 */',
    replacements: [
      [
        '      , prepare = null\n',
        '      , prepare = null\n      , lost = null /* rxsaga-patch: begin-lost-connection v1 */\n',
      ],
      [
        '        new Promise((_, reject) => connection.onclose = reject)',
        "        new Promise((_, reject) => connection.onclose = e => (lost = e || new Error('connection closed'), reject(e)))",
      ],
      [
        '        q.catch(e => uncaughtError || (uncaughtError = e))\n',
        '        q.catch(e => uncaughtError || (uncaughtError = e))\n        if (lost) return q.reject(lost)\n',
      ],
    ],
  },
];

/** node_modules/postgres as Node resolves it from `from` (walking up, as require does). */
export function findPostgres(from = process.cwd()) {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', 'postgres');
    if (existsSync(/*turbopackIgnore: true*/ path.join(candidate, 'package.json')))
      return candidate;
    if (dir === path.dirname(dir)) return undefined;
  }
}

function versionOf(dir) {
  return JSON.parse(readFileSync(/*turbopackIgnore: true*/ path.join(dir, 'package.json'), 'utf8'))
    .version;
}

/**
 * What is wrong with the postgres installed at `dir` (missing, another version, a source file
 * without our patch): an empty list when every patch is in place.
 */
export function postgresPatchProblems(dir = findPostgres()) {
  if (!dir) return ['postgres is not installed'];
  const version = versionOf(dir);
  if (version !== POSTGRES_VERSION) {
    return [`postgres ${version} is installed; the patches are for ${POSTGRES_VERSION}`];
  }
  const problems = [];
  for (const variant of VARIANTS) {
    for (const patch of POSTGRES_PATCHES) {
      const file = path.join(variant, patch.file);
      const full = path.join(dir, file);
      if (!existsSync(/*turbopackIgnore: true*/ full)) problems.push(`${file} is missing`);
      else if (!readFileSync(/*turbopackIgnore: true*/ full, 'utf8').includes(patch.mark)) {
        problems.push(`${file} is not patched (${patch.mark})`);
      }
    }
  }
  return problems;
}

/**
 * Applies every patch, idempotently. Throws, changing nothing in that file, when the version is
 * not the pinned one or a file's code is not what a patch expects (each anchor must occur
 * exactly once).
 */
export function applyPostgresPatches(dir = findPostgres()) {
  if (!dir) throw new Error('postgres is not installed');
  const version = versionOf(dir);
  if (version !== POSTGRES_VERSION) {
    throw new Error(
      `postgres ${version} is installed, the patches are for ${POSTGRES_VERSION}: ` +
        'pin postgres exactly, or port the patches (docs/upgrading.md)',
    );
  }
  let applied = 0;
  for (const variant of VARIANTS) {
    for (const patch of POSTGRES_PATCHES) {
      const file = path.join(variant, patch.file);
      const full = path.join(dir, file);
      let text = readFileSync(/*turbopackIgnore: true*/ full, 'utf8');
      if (text.includes(patch.mark)) continue;
      const unmatched = patch.replacements.filter(([from]) => text.split(from).length !== 2);
      if (unmatched.length > 0) {
        throw new Error(
          `postgres/${file}: ${unmatched.length} of ${patch.replacements.length} places of ` +
            `${patch.mark} not found exactly once: the code is not what the patch was written for`,
        );
      }
      for (const [from, to] of patch.replacements) text = text.replace(from, () => to);
      writeFileSync(/*turbopackIgnore: true*/ full, text);
      applied += 1;
    }
  }
  return applied;
}

let checked = false;

/**
 * Throws unless the postgres that Node resolves from `from` (the working directory: where
 * `npm start` and the tests run) is the pinned version with every patch in place. Called before
 * a process opens its first connection; free after the first success.
 */
export function assertPostgresPatched(from = process.cwd()) {
  if (checked) return;
  const problems = postgresPatchProblems(findPostgres(from));
  if (problems.length > 0) {
    throw new Error(
      `refusing to start: postgres.js is not patched (${problems.join('; ')}). ` +
        'Run `npm install` (its postinstall applies db/postgres-patch.mjs; not --ignore-scripts).',
    );
  }
  checked = true;
}
