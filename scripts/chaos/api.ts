import type { FaultSetting } from '@/lib/domain/fault-injection';

/**
 * How the drill talks to RxSaga. `http` is the real thing: the web app's API with a bearer
 * token. `direct` calls the same commands from this process (for a machine without a build);
 * both answer with the HTTP status the API contract names.
 */
export interface ApiResponse {
  status: number;
  body: Record<string, unknown> | null;
  /** The server's Retry-After in seconds, when it sent one. */
  retryAfterSeconds?: number | null;
}

export interface ChaosApi {
  readonly kind: 'http' | 'direct';
  createOrder(body: unknown, idempotencyKey: string): Promise<ApiResponse>;
  retry(sagaId: string, reason: string): Promise<ApiResponse>;
  cancel(sagaId: string, reason: string): Promise<ApiResponse>;
  setFault(setting: FaultSetting): Promise<ApiResponse>;
  setStock(sku: string, onHand: number): Promise<ApiResponse>;
  close(): Promise<void>;
}

/** Network errors become status 0: the caller decides whether to try again. */
export function httpApi(baseUrl: string, token: string, timeoutMs = 15_000): ChaosApi {
  const call = async (
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> => {
    // The timeout aborts the request (the server sees its client go), and the answer is given
    // up on at the same moment even if the fetch does not settle: the drill once waited minutes
    // on one request that AbortSignal.timeout never ended.
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<ApiResponse>((resolve) => {
      timer = setTimeout(() => {
        abort.abort(new Error(`no answer within ${timeoutMs} ms`));
        resolve({ status: 0, body: { error: `no answer within ${timeoutMs} ms` } });
      }, timeoutMs);
    });
    try {
      return await Promise.race([send(method, path, body, headers, abort.signal), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };
  const send = async (
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<ApiResponse> => {
    try {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      const text = await res.text();
      let parsed: Record<string, unknown> | null = null;
      try {
        parsed = text ? (JSON.parse(text) as Record<string, unknown>) : null;
      } catch {
        parsed = { error: text.slice(0, 200) };
      }
      const retryAfter = Number(res.headers.get('retry-after') ?? NaN);
      return {
        status: res.status,
        body: parsed,
        retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : null,
      };
    } catch (err) {
      return { status: 0, body: { error: err instanceof Error ? err.message : String(err) } };
    }
  };
  return {
    kind: 'http',
    createOrder: (body, key) => call('POST', '/api/orders', body, { 'idempotency-key': key }),
    retry: (id, reason) => call('POST', `/api/sagas/${id}/retry`, { reason }),
    cancel: (id, reason) => call('POST', `/api/sagas/${id}/cancel`, { reason }),
    setFault: (s) => call('PUT', '/api/faults', { items: [s], reason: 'chaos drill' }),
    setStock: (sku, onHand) =>
      call('PUT', `/api/inventory/${encodeURIComponent(sku)}`, { onHand, reason: 'chaos drill' }),
    close: async () => {},
  };
}

const STATUS_OF: Record<string, number> = {
  invalid_input: 400,
  not_found: 404,
  conflict: 409,
  rule_violation: 422,
};

/** The commands in this process, with their own small pool (a separate process from the workers). */
export async function directApi(url: string): Promise<ChaosApi> {
  const [
    { connect },
    { createOrder },
    { retrySaga, cancelSaga },
    { setFaultSetting },
    { AppError },
    { sql },
  ] = await Promise.all([
    import('@/db/client'),
    import('@/server/commands/create-order'),
    import('@/server/commands/operator-action'),
    import('@/db/faults'),
    import('@/lib/errors'),
    import('drizzle-orm'),
  ]);
  const conn = connect(url, 8);
  const wrap = async (ok: number, fn: () => Promise<unknown>): Promise<ApiResponse> => {
    try {
      const body = (await fn()) as Record<string, unknown>;
      return { status: ok, body };
    } catch (err) {
      if (err instanceof AppError)
        return { status: STATUS_OF[err.kind] ?? 500, body: { error: err.message } };
      const code = (err as { code?: string }).code;
      // Lost connection / server shutting down: what the web app answers as a 5xx.
      return {
        status: code && /^(57|08|53)/.test(code) ? 503 : 0,
        body: { error: err instanceof Error ? err.message : String(err) },
      };
    }
  };
  return {
    kind: 'direct',
    createOrder: async (body, key) => {
      let replayed = false;
      const res = await wrap(201, async () => {
        const r = await createOrder(conn.db, body, { idempotencyKey: key, actor: 'chaos-drill' });
        replayed = r.replayed;
        return r;
      });
      return replayed ? { ...res, status: 200 } : res;
    },
    retry: (id, reason) =>
      wrap(202, () => retrySaga(conn.db, id, { reason }, 'operator:chaos-drill')),
    cancel: (id, reason) =>
      wrap(202, () => cancelSaga(conn.db, id, { reason }, 'operator:chaos-drill')),
    setFault: (s) => wrap(200, () => setFaultSetting(conn.db, s)),
    setStock: (sku, onHand) =>
      wrap(200, async () => {
        await conn.db.execute(
          sql`update inventory_items set on_hand = ${onHand} where sku = ${sku} and reserved <= ${onHand}`,
        );
        return { sku, onHand };
      }),
    close: () => conn.sql.end({ timeout: 5 }),
  };
}
