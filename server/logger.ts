import pino, { type DestinationStream, type LoggerOptions } from 'pino';

/**
 * Structured JSON logs. Saga state transitions are logged with `sagaId`, `from`, `to` and
 * `task`, so a log search can follow one saga across web and worker processes.
 *
 * Logs leave the pharmacy's control (shipped to a log service, pasted into tickets), so patient
 * data and secrets never reach them: the fields below are censored wherever a log call puts
 * them (at the top, or one or two objects down), and errors lose the query parameters Drizzle
 * and postgres.js attach to them (an order's insert carries the patient id and the address).
 */

/** Field names that hold patient data or secrets, whatever object they sit in. */
const SENSITIVE_KEYS = [
  'patientId',
  'shippingAddress',
  'line1',
  'password',
  'currentPassword',
  'newPassword',
  'token',
  'apiToken',
  'sessionSecret',
  'secret',
  'authorization',
  'cookie',
  'set-cookie',
  'params',
  'parameters',
  // A server error's detail can quote the row it refused ("Failing row contains (…)").
  'detail',
];

export const REDACTED = '[redacted]';

/** pino's paths have no recursive wildcard: cover the top level and two levels down. */
const REDACT_PATHS = SENSITIVE_KEYS.map((key) =>
  /^\w+$/.test(key) ? `.${key}` : `["${key}"]`,
).flatMap((access) => [access.replace(/^\./, ''), `*${access}`, `*.*${access}`]);

type SerializedError = ReturnType<typeof pino.stdSerializers.err>;

/**
 * pino's error serializer (message and stack include every cause's), with the parameters out:
 * Drizzle's message ends in `\nparams: PAT-1,…` (its `params`), exactly, so that text is
 * replaced wherever it shows; `params`/`parameters` properties are censored by `redact`.
 */
function errorSerializer(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const leaks: string[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const params = (e as { params?: unknown }).params;
    if (params !== undefined) leaks.push(`\nparams: ${String(params)}`);
  }
  const scrub = (text: string) =>
    leaks.reduce((t, leak) => t.split(leak).join(`\nparams: ${REDACTED}`), text);
  const out = pino.stdSerializers.err(error) as SerializedError;
  out.message = scrub(out.message);
  if (typeof out.stack === 'string') out.stack = scrub(out.stack);
  return out;
}

const loggerOptions: LoggerOptions = {
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: process.env.RXSAGA_PROCESS ?? 'rxsaga', pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
  redact: { paths: REDACT_PATHS, censor: REDACTED },
  serializers: { err: errorSerializer, error: errorSerializer },
};

/** A logger with RxSaga's options writing to `destination` (tests read what it wrote). */
export const createLogger = (destination?: DestinationStream) =>
  destination ? pino(loggerOptions, destination) : pino(loggerOptions);

export const logger = createLogger();
