import { createHash, timingSafeEqual } from 'node:crypto';
import { getEnv } from '@/lib/env';

/**
 * RXSAGA_API_TOKEN, compared in constant time on equal-length digests (timingSafeEqual needs
 * equal lengths, and comparing digests leaks no length). Account passwords are
 * lib/auth/passwords.ts; named tokens db/api-tokens.ts.
 */

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function isApiToken(candidate: string): boolean {
  const token = getEnv().RXSAGA_API_TOKEN;
  if (!token) return false;
  return timingSafeEqual(digest(candidate), digest(token));
}
