import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A child process that `npm start` keeps alive: restarted with exponential backoff when it
 * exits unexpectedly (a worker that lost its database for a while must come back), stopped
 * with SIGTERM then SIGKILL on shutdown.
 */

const MAX_BACKOFF_MS = 30_000;
/** A child that ran this long before dying is considered healthy again: backoff restarts. */
const HEALTHY_AFTER_MS = 60_000;

export interface SupervisedOptions {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  log: (message: string) => void;
}

export class Supervised {
  private child: ChildProcess | undefined;
  private restarts = 0;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly options: SupervisedOptions) {}

  start(): void {
    const { name, args, env, cwd, log } = this.options;
    const startedAt = Date.now();
    // Same process group as us: if our whole group is killed (Playwright, a terminal), so are
    // they. Ctrl-C reaches them too; both handle a duplicate SIGTERM from us as a no-op.
    const child = spawn(process.execPath, args, { cwd, env, stdio: 'inherit' });
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.on('error', (err) => log(`${name} could not be started: ${err.message}`));
      child.on('exit', (code, signal) => {
        this.child = undefined;
        resolve();
        if (this.stopping) return;
        if (Date.now() - startedAt > HEALTHY_AFTER_MS) this.restarts = 0;
        const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.restarts);
        this.restarts += 1;
        const how = signal ? `signal ${signal}` : `code ${code}`;
        log(`${name} exited unexpectedly (${how}); restarting in ${delay / 1000} s`);
        this.restartTimer = setTimeout(() => this.start(), delay);
      });
    });
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  kill(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    this.child?.kill('SIGKILL');
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`. Resolves once the process is gone. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => {
      this.options.log(
        `${this.options.name} did not stop within ${timeoutMs / 1000} s; killing it`,
      );
      child.kill('SIGKILL');
    }, timeoutMs);
    await this.exited;
    clearTimeout(killer);
  }
}

/** Polls a URL until it answers 200; false if `shouldStop()` turns true first. */
export async function waitForHealthy(
  url: string,
  shouldStop: () => boolean,
  onSlow: () => void,
): Promise<boolean> {
  const slowAt = Date.now() + 60_000;
  let warned = false;
  while (!shouldStop()) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
      if (response.status === 200) return true;
    } catch {
      // not listening yet
    }
    if (!warned && Date.now() > slowAt) {
      warned = true;
      onSlow();
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}
