import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { z } from 'zod';

/**
 * The one place that decides which Chromium the browser tests drive (playwright.config.ts and
 * scripts/test.ts both ask here). In order:
 *   1. CHROMIUM_PATH, when set (it must be an executable file);
 *   2. the system's Chromium (/usr/bin/chromium, Debian's package), when installed;
 *   3. the Chromium shipped inside the npm dev dependency @sparticuz/chromium, unpacked once into
 *      node_modules/.cache — so `npm install && npm test` needs no browser on the machine.
 * RXSAGA_BROWSER=bundled skips 1 and 2 (how the fallback is tested on a machine that has a
 * system Chromium), RXSAGA_BROWSER=system refuses the fallback.
 *
 * `npx playwright install` cannot be used: it downloads a browser build from outside the npm
 * registry. @sparticuz/chromium is pinned to 143.0.4, the newest whose engines include Node 20
 * (144+ declare Node ≥ 22.17); Playwright 1.65 drives Chromium 143 over CDP.
 */

export type BrowserSource = 'CHROMIUM_PATH' | 'system' | 'bundled';

export interface Browser {
  source: BrowserSource;
  executablePath: string;
  /** Command-line switches for Playwright's launchOptions.args. */
  args: string[];
  /** Extra environment for the browser process (launchOptions.env). */
  env: Record<string, string>;
  /** One line for logs: where the browser came from. */
  description: string;
}

const SYSTEM_CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

const BrowserEnv = z.object({
  RXSAGA_BROWSER: z.enum(['auto', 'system', 'bundled']).default('auto'),
  CHROMIUM_PATH: z.string().min(1).optional(),
});

// Quiet, deterministic, offline: no first-run UI, no background fetches to Google.
const COMMON_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const BUNDLED_PACKAGE = '@sparticuz/chromium';

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function resolveBrowser(
  environment: Record<string, string | undefined> = process.env,
): Browser {
  const parsed = BrowserEnv.safeParse({
    RXSAGA_BROWSER: environment.RXSAGA_BROWSER || undefined,
    CHROMIUM_PATH: environment.CHROMIUM_PATH || undefined,
  });
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new Error(`invalid ${names}: RXSAGA_BROWSER is one of auto, system, bundled`);
  }
  const { RXSAGA_BROWSER: mode, CHROMIUM_PATH } = parsed.data;

  if (mode !== 'bundled') {
    if (CHROMIUM_PATH) {
      if (!isExecutableFile(CHROMIUM_PATH)) {
        throw new Error(`CHROMIUM_PATH=${CHROMIUM_PATH} is not an executable file`);
      }
      return {
        source: 'CHROMIUM_PATH',
        executablePath: CHROMIUM_PATH,
        args: COMMON_ARGS,
        env: {},
        description: `Chromium from CHROMIUM_PATH (${CHROMIUM_PATH})`,
      };
    }
    const system = SYSTEM_CHROMIUM_PATHS.find(isExecutableFile);
    if (system) {
      return {
        source: 'system',
        executablePath: system,
        args: COMMON_ARGS,
        env: {},
        description: `system Chromium (${system})`,
      };
    }
    if (mode === 'system') {
      throw new Error(
        `RXSAGA_BROWSER=system but no Chromium at ${SYSTEM_CHROMIUM_PATHS.join(' or ')}`,
      );
    }
  }
  return bundledBrowser();
}

/**
 * @sparticuz/chromium ships brotli files: the browser, its NSS/expat libraries (built for Amazon
 * Linux 2023, and what a bare Debian lacks: libnss3, libnspr4), and a font folder. Its own
 * executablePath() unpacks into the shared /tmp and adds the libraries only on AWS Lambda, so
 * the files are unpacked here instead, per package version, into node_modules/.cache; the
 * browser process gets LD_LIBRARY_PATH for the libraries and a fontconfig file of its own
 * fonts only, so text renders the same whatever fonts the machine has (the app serves its own
 * web fonts besides: app/layout.tsx).
 */
function bundledBrowser(): Browser {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(BUNDLED_PACKAGE); // its exports hide package.json
  } catch {
    throw new Error(
      `no Chromium: no CHROMIUM_PATH, none at ${SYSTEM_CHROMIUM_PATHS.join(' or ')}, and ` +
        `${BUNDLED_PACKAGE} is not installed (npm install, without --omit=dev)`,
    );
  }
  // Up from its entry point to its own package.json (build/cjs has a package.json of its own).
  let packageDir = path.dirname(entry);
  const manifestOf = (dir: string) =>
    JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      name?: string;
      version: string;
    };
  while (
    !existsSync(path.join(packageDir, 'package.json')) ||
    manifestOf(packageDir).name !== BUNDLED_PACKAGE
  ) {
    if (packageDir === path.dirname(packageDir))
      throw new Error(`${BUNDLED_PACKAGE}: no package.json`);
    packageDir = path.dirname(packageDir);
  }
  const { version } = manifestOf(packageDir);
  const bin = path.join(packageDir, 'bin');
  const cacheRoot = path.resolve(packageDir, '..', '..', '.cache', 'rxsaga-chromium');
  const dir = path.join(cacheRoot, version);
  const executablePath = path.join(dir, 'chromium');

  if (!isExecutableFile(executablePath)) unpack(bin, dir);
  return {
    source: 'bundled',
    executablePath,
    args: COMMON_ARGS,
    env: {
      LD_LIBRARY_PATH: [path.join(dir, 'lib'), process.env.LD_LIBRARY_PATH]
        .filter(Boolean)
        .join(':'),
      FONTCONFIG_FILE: path.join(dir, 'fonts.conf'),
    },
    description: `${BUNDLED_PACKAGE} ${version} (${executablePath})`,
  };
}

/** Unpacks into a scratch folder renamed into place, so a half-done unpack is never used. */
function unpack(bin: string, dir: string) {
  const scratch = `${dir}.unpacking-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  try {
    const browser = path.join(scratch, 'chromium');
    writeFileSync(browser, brotliDecompressSync(readFileSync(path.join(bin, 'chromium.br'))), {
      mode: 0o755,
    });
    // al2023: lib/libnss3.so and friends; fonts: fonts/Open_Sans/*.ttf.
    for (const archive of ['al2023.tar.br', 'fonts.tar.br']) {
      const tar = spawnSync('tar', ['-x', '-C', scratch, '-f', '-'], {
        input: brotliDecompressSync(readFileSync(path.join(bin, archive))),
        stdio: ['pipe', 'inherit', 'pipe'],
      });
      if (tar.status !== 0) {
        throw new Error(`unpacking ${archive} failed: ${tar.stderr?.toString() || tar.error}`);
      }
    }
    // The package's fonts.conf names Lambda's folders; this one names only the unpacked fonts.
    writeFileSync(
      path.join(scratch, 'fonts.conf'),
      [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
        '<fontconfig>',
        `  <dir>${path.join(dir, 'fonts')}</dir>`,
        `  <cachedir>${path.join(dir, 'fonts-cache')}</cachedir>`,
        '</fontconfig>',
        '',
      ].join('\n'),
    );
    if (isExecutableFile(path.join(dir, 'chromium'))) {
      // Another process unpacked the same version meanwhile: keep theirs.
      rmSync(scratch, { recursive: true, force: true });
      return;
    }
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true }); // an interrupted unpack
    renameSync(scratch, dir);
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true });
    if (isExecutableFile(path.join(dir, 'chromium'))) return; // lost a race: theirs is whole
    throw err;
  }
}
