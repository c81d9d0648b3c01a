import { ZodError } from 'zod';
import {
  AppError,
  invalidInput,
  databaseRefusal,
  SagaArchived,
  ServerBusy,
  TooManyAttempts,
  type AppErrorKind,
} from '@/lib/errors';
import { logger } from '@/server/logger';

/** The one table from refusal kinds to HTTP statuses. */
const STATUS_OF: Record<AppErrorKind, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  gone: 410,
  conflict: 409,
  payload_too_large: 413,
  rule_violation: 422,
  too_many_requests: 429,
  unavailable: 503,
};

/** How long a client is asked to wait after a 503 (a full disk is not freed in a second). */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** API responses are about live data: never cached by browsers or proxies. */
const NO_STORE = { 'cache-control': 'no-store' };

export function json(
  body: unknown,
  init: { status?: number; headers?: Record<string, string> } = {},
): Response {
  return Response.json(body, {
    status: init.status ?? 200,
    headers: { ...NO_STORE, ...init.headers },
  });
}

/**
 * Refusals become `{ error, issues? }` with their status; anything else is a bug: logged with
 * the request id and answered with a generic 500 carrying the same id, so a report can be
 * matched to the log line without leaking internals.
 */
export function errorResponse(
  error: unknown,
  requestId: string,
  where: { method: string; path: string },
): Response {
  const refusal =
    error instanceof ZodError ? invalidInput(error) : (databaseRefusal(error) ?? error);
  if (refusal instanceof AppError) {
    const body = {
      error: refusal.message,
      ...(refusal.issues.length > 0 ? { issues: refusal.issues } : {}),
      ...(refusal instanceof SagaArchived ? { archived: refusal.archived } : {}),
    };
    const headers: Record<string, string> =
      refusal.kind === 'unauthorized' ? { 'www-authenticate': 'Bearer' } : {};
    if (refusal instanceof TooManyAttempts)
      headers['retry-after'] = String(refusal.retryAfterSeconds);
    if (refusal instanceof ServerBusy) {
      headers['retry-after'] = String(refusal.retryAfterSeconds);
      logger.warn({ requestId, ...where }, refusal.message);
    } else if (refusal.kind === 'unavailable') {
      headers['retry-after'] = String(UNAVAILABLE_RETRY_AFTER_SECONDS);
      logger.warn({ err: error, requestId, ...where }, 'database out of resources: answered 503');
    }
    return json(body, { status: STATUS_OF[refusal.kind], headers });
  }
  logger.error({ err: error, requestId, ...where }, 'unhandled error in API route');
  return json({ error: 'internal error', requestId }, { status: 500 });
}

/**
 * A 303 to `location` (a path of this app, or the sign-on provider): the browser follows with a
 * GET. Never cached: the answer carries a cookie meant for this browser alone.
 */
export function redirectTo(location: string): Response {
  return new Response(null, { status: 303, headers: { ...NO_STORE, location } });
}
