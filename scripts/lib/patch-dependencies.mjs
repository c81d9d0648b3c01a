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
