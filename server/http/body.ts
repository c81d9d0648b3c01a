import { AppError } from '@/lib/errors';
import { refuseNul } from '@/lib/input';

/** Far above any real order (50 lines), far below what could exhaust memory. */
const MAX_BODY_BYTES = 256 * 1024;

const tooLarge = () =>
  new AppError('payload_too_large', `request body is larger than ${MAX_BODY_BYTES / 1024} KiB`);

/**
 * Reads a JSON body, refusing more than MAX_BODY_BYTES while streaming (a missing or lying
 * Content-Length must not let a client make us buffer an unbounded body), and a NUL character
 * anywhere in it (input.ts).
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  if (!request.body) throw new AppError('invalid_input', 'a JSON body is required');
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new AppError('invalid_input', 'a JSON body is required');
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw new AppError('invalid_input', 'the body is not valid JSON');
  }
  return refuseNul(body, 'body');
}
