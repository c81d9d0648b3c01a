import 'server-only';
import { ZodError } from 'zod';
import { AppError, databaseRefusal } from '@/lib/errors';
import { logger } from '@/server/logger';

/**
 * What every server action returns: ok with data, or the refusal the form shows (a message and
 * each field's errors keyed by its path, `medications.0.quantity`). Only bugs throw.
 */
export type ActionResult<T = undefined> =
  { ok: true; data: T } | { ok: false; message: string; fieldErrors: Record<string, string[]> };

function fieldErrorsOf(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of issues) {
    const key = issue.path.map(String).join('.') || '_form';
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

/** Turns a refusal into an ActionResult; anything else is logged and rethrown (a bug). */
export function refusalResult(
  error: unknown,
  action: string,
): { ok: false; message: string; fieldErrors: Record<string, string[]> } {
  if (error instanceof ZodError)
    return {
      ok: false,
      message: 'Check the highlighted fields.',
      fieldErrors: fieldErrorsOf(error.issues),
    };
  const refusal = error instanceof AppError ? error : databaseRefusal(error);
  if (refusal) {
    const fieldErrors = fieldErrorsOf(refusal.issues);
    const message =
      refusal.issues.length > 0 && refusal.kind === 'invalid_input'
        ? 'Check the highlighted fields.'
        : capitalise(refusal.message);
    return { ok: false, message, fieldErrors };
  }
  logger.error({ err: error, action }, 'server action failed');
  throw error;
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
