import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { getEnv } from '@/lib/env';
import type { Role } from './principal';

/**
 * Checks of the configured secrets. Tokens are compared in constant time on equal-length
 * digests (timingSafeEqual needs equal lengths, and comparing digests leaks no length).
 * Passwords go through bcrypt: its compare is constant-time and deliberately slow (cost 10,
 * tens of milliseconds), which slows guessing at the sign-in form; the brute-force limit
 * (lib/commands/sign-in.ts) stops it after a few failures.
 */

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function isApiToken(candidate: string): boolean {
  const token = getEnv().RXSAGA_API_TOKEN;
  if (!token) return false;
  return timingSafeEqual(digest(candidate), digest(token));
}

const BCRYPT_COST = 10;

interface PasswordHashes {
  operator: string | null;
  viewer: string | null;
}

let hashes: Promise<PasswordHashes> | undefined;

/** Hashed once per process, on the first sign-in; the plain values are not used again. */
function passwordHashes(): Promise<PasswordHashes> {
  const env = getEnv();
  const hash = (password: string | undefined) =>
    password ? bcrypt.hash(password, BCRYPT_COST) : Promise.resolve(null);
  hashes ??= Promise.all([hash(env.RXSAGA_ADMIN_PASSWORD), hash(env.RXSAGA_VIEWER_PASSWORD)]).then(
    ([operator, viewer]) => ({ operator, viewer }),
  );
  return hashes;
}

/** The role a password signs in as, or null. Both are checked, so timing does not tell which exists. */
export async function roleForPassword(password: string): Promise<Role | null> {
  const { operator, viewer } = await passwordHashes();
  const check = (hash: string | null) =>
    hash ? bcrypt.compare(password, hash) : Promise.resolve(false);
  const [isOperator, isViewer] = await Promise.all([check(operator), check(viewer)]);
  if (isOperator) return 'operator';
  if (isViewer) return 'viewer';
  return null;
}

export function signInConfigured(): boolean {
  const env = getEnv();
  return Boolean(
    env.RXSAGA_SESSION_SECRET && (env.RXSAGA_ADMIN_PASSWORD || env.RXSAGA_VIEWER_PASSWORD),
  );
}
