import { NextResponse, type NextRequest } from 'next/server';
import { getEnv } from '@/lib/env';
import {
  cameOverHttps,
  contentSecurityPolicy,
  HSTS,
  newNonce,
} from '@/server/http/security-headers';

const dev = process.env.NODE_ENV !== 'production';
// The sign-on provider: signing out of an SSO session sends the sign-out form on to it.
const issuer = getEnv().RXSAGA_OIDC_ISSUER;
const formOrigins = issuer ? [new URL(issuer).origin] : [];

/**
 * Every request: a fresh CSP nonce, given to Next.js through the request's own CSP header (it
 * stamps the nonce on the scripts it renders) and sent to the browser in the response's; HSTS
 * when the request came over HTTPS. Nonces mean every page is rendered per request (the root
 * layout asks for it): a prerendered page would carry no nonce and its scripts would be blocked.
 */
export function proxy(request: NextRequest) {
  const nonce = newNonce();
  const csp = contentSecurityPolicy(nonce, dev, formOrigins);
  const headers = new Headers(request.headers);
  headers.set('x-nonce', nonce);
  headers.set('content-security-policy', csp);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set('content-security-policy', csp);
  if (cameOverHttps(request.nextUrl, request.headers))
    response.headers.set('strict-transport-security', HSTS);
  return response;
}

export const config = {
  // Not the build's static files: they are no documents, and they are the same for everyone.
  matcher: ['/((?!_next/static|_next/image).*)'],
};
