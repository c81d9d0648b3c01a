import http from 'node:http';
import { expect, test, type Page } from '@playwright/test';
import { placeOrder, signIn } from './fixtures';

/**
 * The browser-facing protections on the real server (`npm start`'s supervisor): the CSP with a
 * per-request nonce on every page, HSTS behind a TLS proxy, and the loopback-only listener.
 */

declare global {
  interface Window {
    cspViolations: string[];
  }
}

/** Every CSP violation the page reports, recorded from before its first script runs. */
async function recordViolations(page: Page) {
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.cspViolations.push(
        `${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`,
      ),
    );
  });
}

const violations = (page: Page) => page.evaluate(() => window.cspViolations);

test('every page loads and hydrates under the CSP without a single violation', async ({
  page,
  request,
}) => {
  await recordViolations(page);
  const { sagaId } = await placeOrder(request);
  await page.goto('/sign-in');
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  expect(await violations(page)).toEqual([]);

  await signIn(page, 'operator');
  // The navigation names every page; a saga's page besides.
  const nav = page.getByRole('navigation', { name: 'Main' }).getByRole('link');
  const paths = await nav.evaluateAll((links) =>
    links.map((a) => new URL((a as HTMLAnchorElement).href).pathname),
  );
  expect(paths.length).toBeGreaterThan(5);
  for (const path of [...paths, `/sagas/${sagaId}`]) {
    await page.goto(path);
    // "Live" shows only once client code runs: the page's scripts were allowed.
    await expect(page.getByText('Live', { exact: true }), path).toBeVisible();
    expect(await violations(page), path).toEqual([]);
  }
});

test('an inline script injected into a page without the nonce is blocked; with it, it runs', async ({
  page,
}) => {
  await recordViolations(page);
  // As a stored XSS would put it into the HTML, beside a script that has the response's nonce.
  await page.route('**/sign-in', async (route) => {
    const response = await route.fetch();
    const nonce = /'nonce-([^']+)'/.exec(response.headers()['content-security-policy'] ?? '')?.[1];
    const html = (await response.text()).replace(
      '</body>',
      `<script>window.injectedRan = true</script><script nonce="${nonce}">window.noncedRan = true</script></body>`,
    );
    await route.fulfill({ response, body: html });
  });
  await page.goto('/sign-in');
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  const ran = await page.evaluate(() => {
    const w = window as unknown as { injectedRan?: boolean; noncedRan?: boolean };
    return { injected: w.injectedRan === true, nonced: w.noncedRan === true };
  });
  expect(ran).toEqual({ injected: false, nonced: true });
  expect(await violations(page)).toEqual([expect.stringMatching(/^script-src/)]);
});

test('each page response has its own nonce, and every script of it carries that nonce', async ({
  request,
}) => {
  const nonces = new Set<string>();
  for (let i = 0; i < 2; i++) {
    const res = await request.get('/sign-in');
    const csp = res.headers()['content-security-policy'] ?? '';
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    nonces.add(nonce!);
    const scripts = (await res.text()).match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
  }
  expect(nonces.size).toBe(2);
});

test('HSTS only when the request came over HTTPS (through a TLS proxy)', async ({ request }) => {
  const plain = await request.get('/sign-in');
  expect(plain.headers()['strict-transport-security']).toBeUndefined();
  for (const path of ['/sign-in', '/api/health']) {
    const res = await request.get(path, { headers: { 'x-forwarded-proto': 'https' } });
    expect(res.headers()['strict-transport-security'], path).toBe('max-age=31536000');
  }
});

/** Status of GET /api/health at `host`, or the connection error's code. */
const healthAt = (host: string, port: string) =>
  new Promise<number | string>((resolve) => {
    http
      .get({ host, port, path: '/api/health', timeout: 5000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });

test('the web app listens on 127.0.0.1 only by default', async ({ baseURL }) => {
  const port = new URL(baseURL!).port;
  expect(await healthAt('127.0.0.1', port)).toBe(200);
  // Another loopback address reaches every socket bound to all interfaces, not ours.
  expect(await healthAt('127.0.0.2', port)).toBe('ECONNREFUSED');
});
