import type { z } from 'zod';
import { AppError, type Issue } from '@/lib/errors';

/**
 * The one rule for text at the boundary: no NUL character (U+0000) anywhere in a request's
 * body, query or path, keys included. PostgreSQL stores no NUL in text or jsonb (it fails the
 * statement), and no name, address or reason of ours has one, so it is refused with a 400
 * naming where it was, before any route sees it. Applied by readJsonBody, parseQuery and
 * every route's path parameters (api-route.ts).
 */

const NUL = '\u0000';

function nulIssues(value: unknown, path: (string | number)[], out: Issue[]): Issue[] {
  if (typeof value === 'string') {
    if (value.includes(NUL)) out.push({ path, message: 'must not contain a NUL character' });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => nulIssues(item, [...path, i], out));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes(NUL)) out.push({ path, message: 'a field name contains a NUL character' });
      nulIssues(item, [...path, key], out);
    }
  }
  return out;
}

/** Throws a 400 listing every place a NUL sits in `value` (`where`: body, query or path). */
export function refuseNul<T>(value: T, where: 'body' | 'query' | 'path'): T {
  const issues = nulIssues(value, [], []);
  if (issues.length > 0)
    throw new AppError('invalid_input', `the ${where} contains a NUL character`, issues);
  return value;
}

/**
 * The same rule inside a zod schema, for the pages that parse their search params with the
 * API's schemas (Sagas, Audit): a NUL fails the parse like any other bad value.
 */
export function withoutNul<S extends z.ZodType>(schema: S) {
  return schema.superRefine((value, ctx) => {
    for (const issue of nulIssues(value, [], [])) ctx.addIssue({ code: 'custom', ...issue });
  });
}
