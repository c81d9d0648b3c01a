import type { z } from 'zod';

export interface Issue {
  path: (string | number)[];
  message: string;
}

export type AppErrorKind =
  | 'invalid_input'
  | 'rule_violation'
  | 'not_found'
  /** It was here and was moved out: an archived saga (the answer says where it went). */
  | 'gone'
  | 'conflict'
  /** No valid credentials: sign in or send the API token. */
  | 'unauthorized'
  /** Signed in, but the role does not allow it (a viewer asking to write). */
  | 'forbidden'
  | 'payload_too_large'
  /** Refused without a look, for a while: too many failed sign-ins (TooManyAttempts). */
  | 'too_many_requests'
  /** The database cannot take writes right now (disk full, out of memory): try again later. */
  | 'unavailable';

/**
 * A refusal the caller can act on. Route handlers map `kind` to a status (400, 422, 404, 409),
 * server actions to a message; anything that is not an AppError is a bug and is logged.
 */
export class AppError extends Error {
  constructor(
    readonly kind: AppErrorKind,
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** A 429: routes answer it with `Retry-After: retryAfterSeconds`, forms with its message. */
export class TooManyAttempts extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('too_many_requests', message);
  }
}

/** How long a client is asked to wait after a busy 503: the queue it met was already full. */
const BUSY_RETRY_AFTER_SECONDS = 2;

/**
 * A 503 for a request that waited its whole bound (RXSAGA_DB_WAIT_MS) for a database connection
 * or for an earlier request with its Idempotency-Key: nothing was stored, try again.
 */
export class ServerBusy extends AppError {
  readonly retryAfterSeconds = BUSY_RETRY_AFTER_SECONDS;
  constructor(message: string) {
    super('unavailable', message);
  }
}

/** The request's client closed the connection: nothing more is done for it (not an AppError: no one reads the answer). */
export class ClientGone extends Error {
  constructor() {
    super('the client closed the request');
    this.name = 'ClientGone';
  }
}

export function invalidInput(error: z.ZodError, message = 'invalid input'): AppError {
  return new AppError(
    'invalid_input',
    message,
    error.issues.map((i) => ({
      path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
      message: i.message,
    })),
  );
}

export const notFound = (message: string) => new AppError('not_found', message);

/** Where an archived saga went, carried by its 410 so a client can fetch it back. */
export interface ArchivedLocation {
  sagaId: string;
  orderId: string;
  state: string;
  startedAt: string;
  completedAt: string;
  archiveFile: string;
  archivedAt: string;
}

export class SagaArchived extends AppError {
  constructor(readonly archived: ArchivedLocation) {
    super(
      'gone',
      `saga ${archived.sagaId} (order ${archived.orderId}) is archived in ${archived.archiveFile}: ` +
        `npm run restore -- ${archived.sagaId} brings it back`,
    );
  }
}
export const conflict = (message: string) => new AppError('conflict', message);
export const ruleViolation = (message: string, issues: Issue[] = []) =>
  new AppError('rule_violation', message, issues);
export const unauthorized = (
  message = 'sign in, or send Authorization: Bearer <RXSAGA_API_TOKEN>',
) => new AppError('unauthorized', message);
export const forbidden = (message: string) => new AppError('forbidden', message);

/**
 * PostgreSQL's class 53, "insufficient resources" (53100 disk_full, 53200 out_of_memory,
 * 53300 too_many_connections): nothing is wrong with the request and nothing was stored (the
 * transaction rolled back), so it is a 503 the caller may retry, not a bug's 500. A full disk
 * also shows as "could not extend file" (relation growth) whatever the code. Looks through
 * `cause` because Drizzle wraps the driver's error in its own.
 */
export function resourceRefusal(error: unknown): AppError | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    const diskFull =
      code === '53100' || /could not extend file|No space left on device/i.test(e.message);
    if (diskFull)
      return new AppError(
        'unavailable',
        'the database is out of disk space: nothing was stored; try again later',
      );
    if (typeof code === 'string' && /^53[0-9A-Z]{3}$/.test(code))
      return new AppError(
        'unavailable',
        'the database is out of resources: nothing was stored; try again later',
      );
  }
  return undefined;
}

/**
 * Text PostgreSQL cannot store: a NUL in text (22021 "invalid byte sequence … 0x00") or in
 * jsonb (22P05 "unsupported Unicode escape sequence"). The API refuses NULs at the boundary
 * (lib/input.ts); this is the net under every other way in (server actions' form fields):
 * bad input, so a 400 or a form message, never a 500. The statement failed: nothing was stored.
 */
function unstorableTextRefusal(error: unknown): AppError | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === '22021' || code === '22P05')
      return new AppError('invalid_input', 'text must not contain a NUL character');
  }
  return undefined;
}

/**
 * The database could not be reached or went away: a restart (57P01 admin_shutdown, 57P02
 * crash_shutdown, 57P03 "the database system is starting up"), a connection exception (class
 * 08), or the driver's own lost-connection codes (postgres.js CONNECTION_CLOSED…, ECONNREFUSED).
 * Not a bug of the request: a 503 the caller retries. A connection lost during COMMIT may have
 * stored the request, so the message says so; a retry with the same Idempotency-Key is safe.
 * Found by the chaos drill (PostgreSQL restarts), where these answered 500.
 */
const CONNECTION_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
]);

function connectionRefusal(error: unknown): AppError | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)))
      return new AppError(
        'unavailable',
        'the database is not reachable right now (restarting, or the connection was lost); retry with the same Idempotency-Key',
      );
  }
  return undefined;
}

/** What a database error means for the caller, when it is not a bug: 503 or 400. */
export const databaseRefusal = (error: unknown): AppError | undefined =>
  resourceRefusal(error) ?? connectionRefusal(error) ?? unstorableTextRefusal(error);
