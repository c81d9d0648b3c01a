/**
 * `npm run bench`: saga throughput, latency and CPU against the floor for this design, and
 * (`--dashboard`) the dashboard's read paths over a million sagas. See scripts/bench/main.ts.
 */
export {};
process.env.LOG_LEVEL ??= 'warn';
process.env.RXSAGA_PROCESS ??= 'bench';
const { main } = await import('./bench/main');
process.exitCode = await main(process.argv.slice(2));
