// Runs on `npm install` (postinstall). Patches dependency bugs that have no released fix yet;
// each patch is idempotent and refuses to apply to code it does not recognise.
//
// postgres (postgres.js) 3.4.9, porsager/postgres#1154, #1208 (open; fix PRs #1168, #1209):
// a write buffered behind setImmediate can fire after the socket closed (a backend terminated,
// the server restarted), and `socket.write` on null throws from the immediate, uncatchable,
// killing the process. Teardown also clears the timer without resetting it, so the connection
// can never flush a write again (queries on it hang), and a query written after the socket
// closed was never answered nor failed (a task's transaction hung for ever). Found by `npm run chaos`
// (pg_terminate_backend during a transaction); regression test: db/client-resilience.int.test.ts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MARK = '/* rxsaga-patch: nextWrite-null-socket v3 */';

const replacements = [
  [
    '  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)',
    // A query written after the socket closed (a transaction carrying on after its backend was
    // terminated) would otherwise wait for an answer for ever: fail it, and anything queued behind
    // it, as closed() does, and forget it: left as the active query, the reconnect's first
    // ReadyForQuery would be taken as its answer and the next query would get another's result.
    // The pool reconnects this connection when it is next used.
    `  function nextWrite(fn) {\n    ${MARK}\n    if (!socket) {\n      chunk = nextWriteTimer = null\n      error(Errors.connection('CONNECTION_CLOSED', options))\n      query = null\n      return false\n    }\n    const x = socket.write(chunk, fn)`,
  ],
  // terminate() and closed(): cancel AND reset the pending write, so the next one is scheduled.
  ['    clearImmediate(nextWriteTimer)\n    if (socket) {', '    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null\n    if (socket) {'],
  ['    clearImmediate(nextWriteTimer)\n    socket.removeListener', '    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null\n    socket.removeListener'],
];

let patched = 0;
for (const dir of ['src', 'cjs/src', 'cf/src']) {
  const file = path.join(root, 'node_modules', 'postgres', dir, 'connection.js');
  if (!existsSync(file)) continue;
  let text = readFileSync(file, 'utf8');
  if (text.includes(MARK)) continue;
  if (!replacements.every(([from]) => text.split(from).length === 2)) {
    console.warn(`[patch] ${path.relative(root, file)}: unrecognised code, not patched (a newer postgres? check porsager/postgres#1208)`);
    continue;
  }
  for (const [from, to] of replacements) text = text.replace(from, to);
  writeFileSync(file, text);
  patched += 1;
}
if (patched > 0) console.log(`[patch] postgres.js: guarded nextWrite against a closed socket (${patched} files)`);

// postgres.js 3.4.9, sql.begin(): when a transaction's connection closes (its backend was
// terminated), begin() rejects at once and the pool may hand that connection object to someone
// else, reconnected; but the transaction's callback is still running, and whatever it sends
// next (its next statement, then the `rollback` of its catch, or a `commit`) went to that
// connection: into another caller's session, where a stray `rollback` or `commit` ends *their*
// transaction half-way (its remaining statements then autocommit one by one). Seen as a rare
// hang of db/client-resilience.int.test.ts. Patched: once the connection is lost, the
// transaction's later statements fail with the close error instead of being sent.
const SCOPE_MARK = '/* rxsaga-patch: begin-lost-connection v1 */';
const scopeReplacements = [
  ['      , prepare = null\n', `      , prepare = null\n      , lost = null ${SCOPE_MARK}\n`],
  [
    '        new Promise((_, reject) => connection.onclose = reject)',
    "        new Promise((_, reject) => connection.onclose = e => (lost = e || new Error('connection closed'), reject(e)))",
  ],
  [
    '        q.catch(e => uncaughtError || (uncaughtError = e))\n',
    '        q.catch(e => uncaughtError || (uncaughtError = e))\n        if (lost) return q.reject(lost)\n',
  ],
];
let scopePatched = 0;
for (const dir of ['src', 'cjs/src', 'cf/src']) {
  const file = path.join(root, 'node_modules', 'postgres', dir, 'index.js');
  if (!existsSync(file)) continue;
  let text = readFileSync(file, 'utf8');
  if (text.includes(SCOPE_MARK)) continue;
  if (!scopeReplacements.every(([from]) => text.split(from).length === 2)) {
    console.warn(`[patch] ${path.relative(root, file)}: unrecognised code, not patched (a newer postgres?)`);
    continue;
  }
  for (const [from, to] of scopeReplacements) text = text.replace(from, to);
  writeFileSync(file, text);
  scopePatched += 1;
}
if (scopePatched > 0) console.log(`[patch] postgres.js: a transaction stops sending once its connection is lost (${scopePatched} files)`);
