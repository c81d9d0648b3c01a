import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The API reference page's renderer: Scalar's self-contained browser bundle, served from this
 * origin (the CSP allows scripts from 'self' only, and a CDN may be out of reach). Read from
 * node_modules once per process; its version is the one package-lock.json pins.
 */
const BUNDLE = path.join(
  process.cwd(),
  'node_modules',
  '@scalar',
  'api-reference',
  'dist',
  'browser',
  'standalone.js',
);

let bundle: Promise<Buffer> | undefined;

export async function GET(): Promise<Response> {
  bundle ??= readFile(BUNDLE);
  return new Response(new Uint8Array(await bundle), {
    headers: {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=3600',
    },
  });
}
