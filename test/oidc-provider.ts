import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { OIDC_CLIENT, oidcAppEnv } from './oidc-env';

/**
 * A real OpenID provider for the tests (the npm package `oidc-provider`, certified by the
 * OpenID Foundation), on a loopback port: discovery, its own signing keys, the authorization
 * and token endpoints with PKCE required, userinfo, and its development login page. Nothing is
 * mocked: the app's openid-client talks to it over HTTP as it would to a pharmacy's provider.
 *
 * Use: `const idp = testOidcProvider(people)`, then `useApiServer({ env: idp.start,
 * started: (s) => idp.registerClient(...) })` and `after(idp.stop)`: the provider listens
 * before the app starts (the app needs its issuer URL), and learns the app's callback URL once
 * the app's port is known. `people` may be changed between sign-ins (the provider reads it each
 * time): it is what the provider knows about each login.
 */

export interface Person {
  preferred_username?: string;
  name?: string;
  email?: string;
  groups?: string[];
}

export interface OidcProvider {
  issuer: string;
  /** Listens on a loopback port (a free one unless given); answers RXSAGA_OIDC_* for the app. */
  start: (port?: number) => Promise<Record<string, string>>;
  stop: () => Promise<void>;
  registerClient: (redirectUri: string) => void;
  /**
   * Plays the person at the provider: follows the authorization URL, submits the provider's
   * own login form as `login`, and returns the URL the provider sends the browser back to (the
   * app's callback with `code` and `state`, or an `error`). The provider's cookies are kept per
   * call, as one browser's.
   */
  signIn: (authorizationUrl: string, login: string) => Promise<URL>;
}

export function testOidcProvider(people: Record<string, Person>): OidcProvider {
  let server: Server | undefined;
  let provider: Provider | undefined;
  let redirectUri = '';
  const idp: OidcProvider = {
    issuer: '',
    async start(port = 0) {
      server = createServer((req, res) => {
        if (!provider) {
          res.writeHead(503).end('the provider has no client yet');
          return;
        }
        void provider.callback()(req, res);
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, '127.0.0.1', resolve);
      });
      idp.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return oidcAppEnv(idp.issuer);
    },
    async stop() {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    },
    registerClient(uri) {
      redirectUri = uri;
      provider = new Provider(idp.issuer, {
        clients: [
          {
            client_id: OIDC_CLIENT.id,
            client_secret: OIDC_CLIENT.secret,
            redirect_uris: [uri],
            // Signing out of the app signs out here too, and the provider sends the browser back
            // to the app's sign-in page (server/auth/oidc.ts signOutEverywhere).
            post_logout_redirect_uris: [new URL('/sign-in', uri).href],
            grant_types: ['authorization_code'],
            response_types: ['code'],
            // openid-client's default (ClientSecretPost).
            token_endpoint_auth_method: 'client_secret_post',
          },
        ],
        pkce: { required: () => true },
        scopes: ['openid', 'profile', 'email', 'groups'],
        claims: {
          openid: ['sub'],
          profile: ['name', 'preferred_username'],
          email: ['email'],
          groups: ['groups'],
        },
        cookies: { keys: ['rxsaga-test-provider-cookie-key'] },
        features: { devInteractions: { enabled: true } },
        async findAccount(_ctx, id) {
          const person = people[id];
          if (!person) return undefined;
          return { accountId: id, claims: async () => ({ sub: id, ...person }) };
        },
        // A first-party client: no consent screen (the provider's documented way to skip it).
        async loadExistingGrant(ctx: KoaContextWithOIDC) {
          const { session, client } = ctx.oidc;
          if (!session?.accountId || !client) return undefined;
          const existing = session.grantIdFor(client.clientId);
          if (existing) return ctx.oidc.provider.Grant.find(existing);
          const grant = new ctx.oidc.provider.Grant({
            clientId: client.clientId,
            accountId: session.accountId,
          });
          grant.addOIDCScope('openid profile email groups');
          await grant.save();
          session.grantIdFor(client.clientId, grant.jti);
          return grant;
        },
      });
      // The provider warns about its development-only defaults (keys, login page): expected here.
      provider.on('server_error', (_ctx, err) => console.error('[oidc-provider]', err));
    },
    async signIn(authorizationUrl, login) {
      const jar = new Map<string, string>();
      let url = new URL(authorizationUrl);
      let form: URLSearchParams | undefined;
      for (let hop = 0; hop < 12; hop++) {
        const res = await fetch(url, {
          method: form ? 'POST' : 'GET',
          redirect: 'manual',
          headers: {
            cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
            ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
          body: form,
        });
        form = undefined;
        for (const line of res.headers.getSetCookie()) {
          const [pair = '', ...attributes] = line.split(';');
          const at = pair.indexOf('=');
          const name = pair.slice(0, at).trim();
          const expired = attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a));
          if (expired || pair.slice(at + 1) === '') jar.delete(name);
          else jar.set(name, pair.slice(at + 1));
        }
        const location = res.headers.get('location');
        if (res.status >= 300 && res.status < 400 && location) {
          await res.body?.cancel();
          url = new URL(location, url);
          if (`${url.origin}${url.pathname}` === redirectUri) return url;
          continue;
        }
        const html = await res.text();
        const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
        if (res.status !== 200 || !action || !html.includes('name="login"'))
          throw new Error(`the provider answered ${res.status}: ${html.slice(0, 400)}`);
        url = new URL(action.replace(/&amp;/g, '&'), url);
        form = new URLSearchParams({ prompt: 'login', login, password: 'any password' });
      }
      throw new Error('the provider never sent the browser back');
    },
  };

  return idp;
}
