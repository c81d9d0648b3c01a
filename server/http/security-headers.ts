/**
 * The browser-facing security headers, built in one place: next.config.ts sends the fixed ones
 * on every response; proxy.ts builds the Content-Security-Policy per request (its nonce) and
 * adds HSTS when the request came over HTTPS. Pure, so it is unit-tested.
 */

/** Sent on every response (next.config.ts `headers()`). */
export const FIXED_SECURITY_HEADERS = [
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
  // frame-ancestors 'none' in the CSP, and this for browsers that predate it: no clickjacking
  // of the operator buttons.
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=()' },
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
];

/**
 * Scripts run only with this request's nonce (Next.js puts it on its own scripts when it finds
 * it in the request's CSP header); 'strict-dynamic' lets those load the page's chunks, and an
 * injected inline script (no nonce) is blocked. Styles keep 'unsafe-inline': React's `style`
 * attributes (chart sizes, progress bars) cannot carry a nonce, and a style cannot run code.
 * `next dev` also needs eval (fast refresh) and its websocket.
 *
 * `formOrigins`: where a form may lead besides this app. form-action also governs the redirects
 * after a form's POST, so signing out of a single sign-on session (a form whose answer is a
 * redirect to the provider's end-session endpoint) needs the provider's origin here.
 */
export function contentSecurityPolicy(
  nonce: string,
  dev: boolean,
  formOrigins: readonly string[] = [],
): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ''}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${dev ? ' ws:' : ''}`,
    "object-src 'none'",
    "base-uri 'self'",
    ["form-action 'self'", ...formOrigins].join(' '),
    "frame-ancestors 'none'",
  ].join('; ');
}

/** 128 random bits, base64: unguessable, and new for every request. */
export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/**
 * One year. Browsers ignore the header on plain HTTP, so it is only sent when the request
 * reached us (or the TLS proxy in front of us, per its X-Forwarded-Proto) over HTTPS.
 */
export const HSTS = 'max-age=31536000';

/** The first X-Forwarded-Proto (the proxy nearest the client) says HTTPS. */
export function forwardedOverHttps(headers: Headers): boolean {
  return headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https';
}

/** Over HTTPS: our own URL says so, or the TLS proxy in front of us does. */
export function cameOverHttps(url: URL, headers: Headers): boolean {
  return url.protocol === 'https:' || forwardedOverHttps(headers);
}
