import pino from 'pino';

/**
 * Structured JSON logs. Saga state transitions are logged with `sagaId`, `from`, `to` and
 * `task`, so a log search can follow one saga across web and worker processes.
 */
export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: process.env.RXSAGA_PROCESS ?? 'rxsaga', pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
});
