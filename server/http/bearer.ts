import { createHash, timingSafeEqual } from 'node:crypto';

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerTokenOf(request: Request): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
  return match?.[1] ?? null;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Constant time on equal-length digests: the comparison leaks neither content nor length. */
export const sameSecret = (candidate: string, secret: string) =>
  timingSafeEqual(digest(candidate), digest(secret));
