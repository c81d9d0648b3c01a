import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Decides whether `npm start` must run `next build`: when there is no build, or the sources the
 * web app is built from changed since (a `git pull` followed by `npm start` must not serve the
 * old build).
 */

const WATCHED = [
  'app',
  'components',
  'lib',
  'server',
  'db',
  'public',
  'proxy.ts',
  'instrumentation.ts',
];
const WATCHED_FILES = ['next.config.ts', 'package.json', 'package-lock.json', 'tsconfig.json'];
const SKIP = /(^|\/)(node_modules|migrations)(\/|$)|\.(int\.)?test\.tsx?$/;

export function buildReason(root: string): string | undefined {
  const buildId = path.join(root, '.next', 'BUILD_ID');
  if (!existsSync(buildId)) return 'no build yet';
  const builtAt = statSync(buildId).mtimeMs;
  for (const entry of [...WATCHED, ...WATCHED_FILES]) {
    const changed = newerThan(path.join(root, entry), builtAt, root);
    if (changed) return `${changed} changed since the last build`;
  }
  return undefined;
}

function newerThan(target: string, since: number, root: string): string | undefined {
  if (!existsSync(target) || SKIP.test(path.relative(root, target))) return undefined;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs > since ? path.relative(root, target) : undefined;
  for (const name of readdirSync(target)) {
    const found = newerThan(path.join(target, name), since, root);
    if (found) return found;
  }
  return undefined;
}

export const nextBin = (root: string) =>
  path.join(root, 'node_modules', 'next', 'dist', 'bin', 'next');

/**
 * Node arguments that run the Next.js CLI as the web process: with the preload that hands the
 * socket's address to the sign-in throttle (lib/auth/client-address.ts). Every way of starting
 * the web app (npm start, the API tests, the bench) goes through this.
 */
export const nextWebArgs = (root: string) => [
  '--import',
  pathToFileURL(path.join(root, 'scripts', 'lib', 'peer-address.mjs')).href,
  nextBin(root),
];

/** Runs `next build` with inherited output; the returned `kill` lets a Ctrl-C abort it. */
export function runNextBuild(root: string): { done: Promise<number>; kill: () => void } {
  const child = spawn(process.execPath, [nextBin(root), 'build'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  const done = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', () => resolve(1));
  });
  return { done, kill: () => void child.kill('SIGTERM') };
}
