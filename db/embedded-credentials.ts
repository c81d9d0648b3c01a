import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';

/**
 * The embedded cluster's passwords, generated once per installation and kept beside its data
 * directory (`.data/pg.credentials.json` for `.data/pg`, with the app's own credentials in
 * `.data/credentials.json`), readable by the owner only. One file per cluster: the test, e2e,
 * bench and chaos clusters under `.data/` each have theirs.
 */

export interface ClusterSecrets {
  /** The `postgres` superuser: only the scripts use it (roles, databases, ownership). */
  superuserPassword: string;
  /** The database owner role the app connects as. */
  ownerPassword: string;
}

/** base64url: nothing to quote inside the SQL literal ALTER ROLE … PASSWORD needs. */
const generate = () => randomBytes(24).toString('base64url');
export const SAFE_PASSWORD = /^[A-Za-z0-9_-]{16,}$/;

export async function clusterSecrets(file: string): Promise<ClusterSecrets> {
  const stored = await readSecrets(file);
  if (stored) return stored;
  const secrets = { superuserPassword: generate(), ownerPassword: generate() };
  // Written before the cluster is touched (initdb, or the upgrade of an old cluster's fixed
  // password): a crash in between leaves a file whose password the next start sets.
  const partial = `${file}.${process.pid}.tmp`;
  await fs.writeFile(partial, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  await fs.rename(partial, file);
  return secrets;
}

async function readSecrets(file: string): Promise<ClusterSecrets | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const data = JSON.parse(text) as Partial<ClusterSecrets>;
  const { superuserPassword, ownerPassword } = data;
  if (
    typeof superuserPassword !== 'string' ||
    typeof ownerPassword !== 'string' ||
    !SAFE_PASSWORD.test(superuserPassword) ||
    !SAFE_PASSWORD.test(ownerPassword)
  )
    throw new Error(`${file} is damaged: expected { superuserPassword, ownerPassword }`);
  await fs.chmod(file, 0o600);
  return { superuserPassword, ownerPassword };
}
