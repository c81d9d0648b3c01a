import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Credentials for a local install. DESIGN: when RXSAGA_API_TOKEN or RXSAGA_ADMIN_PASSWORD
 * (and the viewer password beside them) are unset, `npm start` generates
 * them once, keeps them in a file only the owner can read, and prints them. Values from the
 * environment always win; each missing value is filled from the file, else generated.
 */

export interface Credentials {
  apiToken: string;
  adminPassword: string;
  viewerPassword: string;
}

export interface CredentialsResult extends Credentials {
  /** Where the values came from, for a one-line notice ('generated' if any value was new). */
  source: 'environment' | 'file' | 'generated';
  file: string;
}

const SOURCES: Record<keyof Credentials, { env: string; generate: () => string }> = {
  apiToken: { env: 'RXSAGA_API_TOKEN', generate: () => randomBytes(24).toString('base64url') },
  adminPassword: {
    env: 'RXSAGA_ADMIN_PASSWORD',
    generate: () => randomBytes(12).toString('base64url'),
  },
  viewerPassword: {
    env: 'RXSAGA_VIEWER_PASSWORD',
    generate: () => randomBytes(12).toString('base64url'),
  },
};
const KEYS = Object.keys(SOURCES) as (keyof Credentials)[];

export async function ensureCredentials(stateDir: string): Promise<CredentialsResult> {
  const file = path.join(stateDir, 'credentials.json');
  const fromEnv = Object.fromEntries(
    KEYS.map((k) => [k, process.env[SOURCES[k].env] || undefined]),
  ) as Partial<Credentials>;
  if (KEYS.every((k) => fromEnv[k]))
    return { ...(fromEnv as Credentials), source: 'environment', file };

  const stored = await readStored(file);
  const missing = KEYS.filter((k) => !fromEnv[k] && !stored[k]);
  const value = (k: keyof Credentials) => fromEnv[k] ?? stored[k] ?? SOURCES[k].generate();
  const merged: Credentials = {
    apiToken: value('apiToken'),
    adminPassword: value('adminPassword'),
    viewerPassword: value('viewerPassword'),
  };
  if (missing.length === 0) return { ...merged, source: 'file', file };

  // The file keeps what was stored plus what was generated now; values from the environment
  // are not written to disk.
  const toStore = Object.fromEntries(
    KEYS.flatMap((k) => (fromEnv[k] && !stored[k] ? [] : [[k, stored[k] ?? merged[k]]])),
  );
  await fs.mkdir(stateDir, { recursive: true });
  await fs.writeFile(file, `${JSON.stringify(toStore, null, 2)}\n`, { mode: 0o600 });
  await fs.chmod(file, 0o600); // `mode` only applies when the file is created
  return { ...merged, source: 'generated', file };
}

async function readStored(file: string): Promise<Partial<Credentials>> {
  try {
    const data = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
    return Object.fromEntries(
      KEYS.flatMap((k) => (typeof data[k] === 'string' ? [[k, data[k]]] : [])),
    ) as Partial<Credentials>;
  } catch {
    return {};
  }
}
