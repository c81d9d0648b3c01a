/**
 * The app's single sign-on settings for a test provider (test/oidc-provider.ts) at `issuer`:
 * the API tests and playwright.config.ts both use them. No imports, so the Playwright config can
 * read it without loading the provider.
 */
export const OIDC_CLIENT = { id: 'rxsaga-test', secret: 'rxsaga-test-client-secret-0123' };

/** The groups that give each role, as the test provider hands them out. */
export const OIDC_GROUPS = { admin: 'rx-admins', operator: 'rx-pharmacists', viewer: 'rx-staff' };

export const oidcAppEnv = (issuer: string): Record<string, string> => ({
  RXSAGA_OIDC_ISSUER: issuer,
  RXSAGA_OIDC_CLIENT_ID: OIDC_CLIENT.id,
  RXSAGA_OIDC_CLIENT_SECRET: OIDC_CLIENT.secret,
  RXSAGA_OIDC_SCOPES: 'openid profile email groups',
  RXSAGA_OIDC_ADMIN_VALUES: OIDC_GROUPS.admin,
  RXSAGA_OIDC_OPERATOR_VALUES: OIDC_GROUPS.operator,
  RXSAGA_OIDC_VIEWER_VALUES: OIDC_GROUPS.viewer,
});

/**
 * The port of the e2e run's provider (e2e/sso.spec.ts starts it; playwright.config.ts points the
 * app at it): RXSAGA_E2E_OIDC_PORT, else the e2e port + 1000.
 */
export const e2eOidcPort = (): number =>
  Number(process.env.RXSAGA_E2E_OIDC_PORT ?? Number(process.env.RXSAGA_E2E_PORT ?? 3100) + 1000);
