/**
 * Where to go after signing in: only a path of this app. Browsers read `/\evil.example` and
 * `/<tab>/evil.example` as `//evil.example` (another site), so anything with a backslash, a
 * control character or whitespace is refused before the URL parser sees it, and what is left
 * must resolve to this origin. Anything else goes to the overview.
 */
const BASE = 'http://rxsaga.invalid';

export function safeReturnPath(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || value.length > 2000) return fallback;
  if (!value.startsWith('/') || value.startsWith('//')) return fallback;
  if (/[\\\s\u0000-\u001f\u007f]/.test(value)) return fallback;
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE) return fallback;
  const path = `${url.pathname}${url.search}${url.hash}`;
  return path.startsWith('//') ? fallback : path;
}
