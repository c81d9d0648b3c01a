import { z } from 'zod';

/**
 * Every environment variable RxSaga reads, validated once. A bad value stops start-up with a
 * message naming the variable, instead of surfacing later as a confusing runtime failure.
 */
const intFrom = (min: number, fallback: number) =>
  z.coerce.number().int().min(min).default(fallback);

export const envSchema = z.object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  RXSAGA_API_TOKEN: z.string().min(16).optional(),
  RXSAGA_ADMIN_PASSWORD: z.string().min(8).optional(),
  WORKER_CONCURRENCY: intFrom(1, 4),
  RXSAGA_MAX_ATTEMPTS: intFrom(1, 3),
  RXSAGA_STALL_SECONDS: intFrom(1, 300),
  /** Base of the exponential backoff between attempts of a step that hit a transient error. */
  RXSAGA_RETRY_BASE_MS: intFrom(0, 1000),
  /** How often a worker records its heartbeat and sweeps for dead workers and stalled sagas. */
  RXSAGA_HEARTBEAT_SECONDS: intFrom(1, 5),
  /** A worker whose heartbeat is older than this is dead: its locked jobs are released. */
  RXSAGA_WORKER_DEAD_SECONDS: intFrom(2, 30),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

let cached: Env | undefined;

export class EnvError extends Error {}

export function parseEnv(source: NodeJS.ProcessEnv): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new EnvError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** Read lazily: scripts set DATABASE_URL (the embedded database) before anything asks. */
export function getEnv(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

export function resetEnvForTests(): void {
  cached = undefined;
}
