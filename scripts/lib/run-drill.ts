/**
 * How the drills (`npm run chaos`, `npm run soak`) run: main's result is the exit code; a crash
 * is printed and exits 2; SIGINT/SIGTERM stop what they started (a second signal: at once).
 * Everything they start is cleaned up by `emergencyCleanup` on the way out.
 */
export function runDrill(
  name: string,
  main: () => Promise<number>,
  emergencyCleanup: () => Promise<void>,
  log: (message: string) => void,
): void {
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (signalled) process.exit(130);
      signalled = true;
      log(`${signal}: stopping the ${name}`);
      void emergencyCleanup().finally(() => process.exit(130));
    });
  }
  main().then(
    (code) => process.exit(code),
    async (err: unknown) => {
      console.error(
        `[${name}] aborted: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      await emergencyCleanup();
      process.exit(2);
    },
  );
}
