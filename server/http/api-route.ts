import 'server-only';
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import {
  assertSameOriginWrite,
  requireAdmin,
  requireOperator,
  requireViewer,
} from '@/server/auth/guards';
import type { Principal } from '@/lib/auth/principal';
import { ClientGone, invalidInput } from '@/lib/errors';
import { refuseNul } from '@/lib/input';
import { admitRequest } from './db-slots';
import { errorResponse, json } from './responses';

/**
 * The one wrapper every API route goes through: request id, access check, the handler, and
 * the error model of `responses.ts`. Handlers stay a few lines: parse, call a command or a
 * query, answer.
 */

export interface ApiContext<P, Who> {
  request: Request;
  /** Aborts when the client closes the connection: commands stop before writing for nobody. */
  signal: AbortSignal;
  params: P;
  principal: Who;
  requestId: string;
}

type Params = Record<string, string>;
type Handler<P, Who> = (ctx: ApiContext<P, Who>) => Promise<Response>;

/** A caller's own id is kept when it is sane, so it can follow a request across systems. */
function requestIdOf(request: Request): string {
  const given = request.headers.get('x-request-id');
  return given && /^[A-Za-z0-9._:-]{1,100}$/.test(given) ? given : randomUUID();
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What a client that has gone is answered: nobody reads it, but the access log does. 499 is
 * nginx's "client closed request".
 */
const CLIENT_GONE_STATUS = 499;

/**
 * `admit`: the handler runs only with one of the web's database slots (db-slots.ts), taken
 * after the access check and given back when it returns: a request finds a connection within
 * RXSAGA_DB_WAIT_MS or is answered 503, and one whose client has gone stops there.
 */
function route<P, Who>(guard: () => Promise<Who>, handler: Handler<P, Who>, admit = true) {
  return async (request: Request, context: { params: Promise<P> }): Promise<Response> => {
    const requestId = requestIdOf(request);
    const { signal } = request;
    let response: Response;
    let release: (() => void) | undefined;
    try {
      if (!SAFE_METHODS.has(request.method)) await assertSameOriginWrite();
      const principal = await guard();
      const params = refuseNul(await context.params, 'path');
      if (admit) release = await admitRequest(signal);
      if (signal.aborted) throw new ClientGone();
      response = await handler({ request, signal, params, principal, requestId });
    } catch (error) {
      response =
        signal.aborted || error instanceof ClientGone
          ? json({ error: 'the client closed the request' }, { status: CLIENT_GONE_STATUS })
          : errorResponse(error, requestId, {
              method: request.method,
              path: new URL(request.url).pathname,
            });
    } finally {
      release?.();
    }
    response.headers.set('x-request-id', requestId);
    return response;
  };
}

/**
 * Open to anyone: metrics, signing in. Not admitted through the slots: a scrape or a sign-in
 * must still answer while the API sheds load.
 */
export const publicRoute = <P extends Params = Params>(handler: Handler<P, null>) =>
  route(async () => null, handler, false);

/** Reads: any signed-in user or the API token (401 otherwise). */
export const viewerRoute = <P extends Params = Params>(handler: Handler<P, Principal>) =>
  route(requireViewer, handler);

/** Writes: an operator (401 without credentials, 403 for a viewer). */
export const operatorRoute = <P extends Params = Params>(handler: Handler<P, Principal>) =>
  route(requireOperator, handler);

/** Accounts, tokens, alert settings: an admin (403 for operators and viewers). */
export const adminRoute = <P extends Params = Params>(handler: Handler<P, Principal>) =>
  route(requireAdmin, handler);

/** Parses the query string with a zod schema; a bad value (or a NUL) is a 400 with its issues. */
export function parseQuery<S extends z.ZodType>(request: Request, schema: S): z.infer<S> {
  const params = refuseNul(Object.fromEntries(new URL(request.url).searchParams), 'query');
  const parsed = schema.safeParse(params);
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid query');
  return parsed.data;
}
