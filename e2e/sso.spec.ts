import { expect, test } from '@playwright/test';
import { OIDC_GROUPS, e2eOidcPort } from '../test/oidc-env';
import { testOidcProvider } from '../test/oidc-provider';

/**
 * Single sign-on as a person does it: "Sign in with SSO" on the sign-in page, the provider's own
 * login page (a real OpenID provider, `oidc-provider`, started here on the port
 * playwright.config.ts points the app at), and back on the dashboard signed in, by name.
 */

const idp = testOidcProvider({
  'erin-e2e': {
    preferred_username: 'erin',
    name: 'Erin Apotheker',
    groups: [OIDC_GROUPS.operator],
  },
});

test.beforeAll(async ({ baseURL }) => {
  await idp.start(e2eOidcPort());
  idp.registerClient(`${baseURL}/api/session/oidc/callback`);
});
test.afterAll(() => idp.stop());

test("Sign in with SSO: through the provider's login page to the page asked for, as an operator", async ({
  page,
}) => {
  await page.goto('/sagas');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fsagas/);
  await page.getByRole('link', { name: 'Sign in with SSO' }).click();

  // The provider's login page (its development login form: any password).
  await expect(page).toHaveURL(new RegExp(`^http://127\\.0\\.0\\.1:${e2eOidcPort()}/`));
  await page.locator('input[name="login"]').fill('erin-e2e');
  await page.locator('input[name="password"]').fill('at the provider');
  await page.getByRole('button', { name: 'Sign-in' }).click();

  await expect(page).toHaveURL(/\/sagas$/);
  await expect(page.getByRole('heading', { name: 'Sagas', level: 1 })).toBeVisible();
  await expect(page.getByTitle('erin')).toBeVisible();
  const me = await page.request.get('/api/session');
  expect(await me.json()).toEqual({ username: 'erin', role: 'operator', via: 'session' });
});

test('Sign out of an SSO session signs out at the provider too: the next SSO sign-in asks for the login again', async ({
  page,
}) => {
  const providerUrl = new RegExp(`^http://127\\.0\\.0\\.1:${e2eOidcPort()}/`);
  await page.goto('/sign-in');
  await page.getByRole('link', { name: 'Sign in with SSO' }).click();
  await expect(page).toHaveURL(providerUrl);
  await page.locator('input[name="login"]').fill('erin-e2e');
  await page.locator('input[name="password"]').fill('at the provider');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await expect(page.getByTitle('erin')).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  // The provider's own "sign out?" page, reached with this session's ID token as the hint.
  await expect(page).toHaveURL(providerUrl);
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  expect((await page.request.get('/api/session')).status()).toBe(401);

  // The provider's session is gone too: SSO again shows its login form instead of signing
  // straight back in (which is what happens while the provider still knows the browser).
  await page.getByRole('link', { name: 'Sign in with SSO' }).click();
  await expect(page).toHaveURL(providerUrl);
  await expect(page.locator('input[name="login"]')).toBeVisible();
});
