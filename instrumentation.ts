/**
 * Next.js calls register() once when a server process starts. Web processes run the alert loop
 * too (jobs/alerts.ts): with every worker gone, `no_live_worker` must still be raised and sent.
 * Node-only code is imported here only under the Node runtime, and nothing here may throw
 * (a throwing register() makes every route answer 500).
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  if (process.env.NEXT_PHASE === 'phase-production-build') return;
  try {
    const { startWebAlertLoop } = await import('./jobs/alerts');
    startWebAlertLoop();
  } catch (err) {
    console.error('alert loop not started:', err);
  }
}
