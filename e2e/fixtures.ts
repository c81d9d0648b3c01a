import fs from 'node:fs';
import path from 'node:path';
import {
  expect,
  request as playwrightRequest,
  type APIRequestContext,
  type Page,
} from '@playwright/test';

/**
 * Helpers the dashboard specs share. Each spec makes its own orders (unique patient ids), so
 * specs do not depend on each other's data. Credentials are the ones playwright.config.ts
 * gives the server under test.
 */

export const ADMIN_PASSWORD = process.env.RXSAGA_ADMIN_PASSWORD ?? '';
export const VIEWER_PASSWORD = process.env.RXSAGA_VIEWER_PASSWORD ?? '';
export const API_TOKEN = process.env.RXSAGA_API_TOKEN ?? '';

/** The password of accounts the specs make themselves. */
export const passwordOf = (username: string) => `${username}-e2e-password`;

/**
 * Makes an account through the API as the bootstrap admin (already there: fine), in a request
 * context of its own so the page's cookies are not touched.
 */
async function ensureAccount(
  username: string,
  role: 'viewer' | 'operator' | 'admin',
  displayName?: string,
): Promise<void> {
  const baseURL = `http://127.0.0.1:${process.env.RXSAGA_E2E_PORT ?? 3100}`;
  const admin = await playwrightRequest.newContext({ baseURL });
  try {
    const session = await admin.post('/api/session', {
      data: { username: 'admin', password: ADMIN_PASSWORD },
    });
    expect(session.status(), await session.text()).toBe(200);
    const made = await admin.post('/api/users', {
      data: {
        username,
        role,
        password: passwordOf(username),
        ...(displayName ? { displayName } : {}),
      },
    });
    expect([201, 409], await made.text()).toContain(made.status());
  } finally {
    await admin.dispose();
  }
}

/** Signs in through the sign-in page: as the bootstrap admin or viewer, or as an operator made here. */
export async function signIn(page: Page, as: 'admin' | 'operator' | 'viewer', username?: string) {
  const account =
    as === 'admin'
      ? { username: 'admin', password: ADMIN_PASSWORD }
      : as === 'viewer'
        ? { username: 'viewer', password: VIEWER_PASSWORD }
        : { username: username ?? 'olivia', password: passwordOf(username ?? 'olivia') };
  if (as === 'operator') await ensureAccount(account.username, 'operator');
  await page.goto('/sign-in');
  await page.getByLabel('Username').fill(account.username);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
}

/**
 * Opens a page and waits until it is hydrated and its live stream is connected (the indicator
 * only says "Live" once client code runs), so a test never types into server HTML that React
 * is about to replace.
 */
export async function gotoLive(page: Page, url: string) {
  await page.goto(url);
  await expect(page.getByText('Live', { exact: true })).toBeVisible();
}

let counter = 0;
export const uniquePatient = (tag: string) =>
  `PAT-${tag}-${Date.now().toString(36)}${(counter++).toString(36)}`;

export interface OrderOptions {
  patientId?: string;
  postalCode?: string;
  prescriberId?: string;
  quantity?: number;
}

/** Places an order through the API (as a machine client would) and returns its ids. */
export async function placeOrder(
  request: APIRequestContext,
  options: OrderOptions = {},
): Promise<{ orderId: string; sagaId: string }> {
  const response = await request.post('/api/orders', {
    headers: { authorization: `Bearer ${API_TOKEN}` },
    data: {
      patientId: options.patientId ?? uniquePatient('api'),
      prescriberId: options.prescriberId ?? 'PR-1001',
      medications: [
        { sku: 'AMOX-500', quantity: options.quantity ?? 1 },
        { sku: 'PARA-500', quantity: 1 },
      ],
      shippingAddress: {
        line1: 'Keizersgracht 1',
        city: 'Amsterdam',
        postalCode: options.postalCode ?? '1015AA',
        country: 'NL',
      },
    },
  });
  expect(response.status(), await response.text()).toBe(201);
  return (await response.json()) as { orderId: string; sagaId: string };
}

/** Waits (through the API) until a saga satisfies `done`; for setting up a scene, not for asserting the UI. */
export async function waitForSaga(
  request: APIRequestContext,
  sagaId: string,
  done: (saga: { state: string; needsIntervention: boolean }) => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  await expect
    .poll(
      async () => {
        const r = await request.get(`/api/sagas/${sagaId}`, {
          headers: { authorization: `Bearer ${API_TOKEN}` },
        });
        return done((await r.json()) as { state: string; needsIntervention: boolean });
      },
      { timeout: timeoutMs, intervals: [250, 500, 1000] },
    )
    .toBe(true);
}

const SCREENSHOT_DIR = path.join(process.cwd(), 'e2e-artifacts', 'screenshots');

/** A full-page screenshot kept as an artifact of the run (looked at by a person, not diffed). */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // The web fonts swap in when loaded: shoot the page as a person sees it, not the fallback.
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}
