import fs from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { placeOrder, signIn, waitForSaga } from './fixtures';

/**
 * Accessibility: axe-core checks every page (found in app/, so a new page is checked without
 * editing this file) in the light and the dark theme, against WCAG 2.1 A and AA, and fails on
 * any serious or critical violation. Then one operator flow done with the keyboard alone.
 */
test.use({ reducedMotion: 'reduce' });

const APP_DIR = path.join(process.cwd(), 'app');
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** Every page route under app/: route groups `(x)` dropped, `[param]` kept for filling in. */
function pageRoutes(dir = APP_DIR): string[] {
  const routes: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith('_') && entry.name !== 'api') {
      routes.push(...pageRoutes(full));
    } else if (entry.isFile() && entry.name === 'page.tsx') {
      const segments = path
        .relative(APP_DIR, dir)
        .split(path.sep)
        .filter((s) => s !== '' && !/^\(.*\)$/.test(s));
      routes.push(`/${segments.join('/')}`);
    }
  }
  return routes.sort();
}

/** Serious and critical violations, one readable line each (rule, impact, where). */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) =>
      v.nodes.map(
        (n) => `${v.id} (${v.impact}) at ${n.target.join(' ')}: ${n.failureSummary ?? v.help}`,
      ),
    );
}

/** Opens a page and waits until it is up, hydrated and its fonts are in (what axe then sees). */
async function open(page: Page, url: string) {
  await page.goto(url);
  await expect(page.getByRole('heading', { level: 1 }).first()).toBeVisible();
  await page.evaluate(() => document.fonts.ready);
}

let stuck: { sagaId: string; orderId: string };

test.beforeAll(async ({ request }) => {
  stuck = await placeOrder(request, { postalCode: '00504' });
  await waitForSaga(request, stuck.sagaId, (s) => s.needsIntervention);
});

for (const colorScheme of ['light', 'dark'] as const) {
  test(`every page has no serious accessibility violation, ${colorScheme} theme`, async ({
    page,
  }) => {
    test.setTimeout(120_000);
    await page.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    const params: Record<string, string> = { sagaId: stuck.sagaId };
    const routes = pageRoutes();
    expect(routes).toContain('/sign-in');
    const found: Record<string, string[]> = {};

    await open(page, '/sign-in');
    found['/sign-in'] = await seriousViolations(page);
    await signIn(page, 'operator');
    for (const route of routes.filter((r) => r !== '/sign-in')) {
      const url = route.replace(/\[(\w+)\]/g, (_, name: string) => {
        if (!params[name]) throw new Error(`no value for [${name}] in ${route}: add one above`);
        return params[name];
      });
      await open(page, url);
      found[route] = await seriousViolations(page);
    }
    expect(Object.keys(found).sort()).toEqual(routes);
    expect(Object.fromEntries(Object.entries(found).filter(([, v]) => v.length > 0))).toEqual({});
  });
}

/** Presses Tab until `target` has the focus (at most `max` times); fails if it never does. */
async function tabTo(page: Page, target: Locator, max = 80) {
  for (let i = 0; i < max; i += 1) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return;
    await page.keyboard.press('Tab');
  }
  await expect(target).toBeFocused();
}

test('keyboard only: find a flagged saga and retry it with a reason', async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page, 'operator', 'kim');
  await expect(page.getByText('Live', { exact: true })).toBeVisible();

  // To the sagas list through the navigation, then search for the order.
  await tabTo(page, page.getByRole('link', { name: 'Sagas', exact: true }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Sagas', level: 1 })).toBeVisible();
  await tabTo(page, page.getByRole('searchbox', { name: 'Order, saga or patient id' }));
  await page.keyboard.type(stuck.orderId);
  await page.keyboard.press('Enter');
  const link = page.getByRole('link', { name: stuck.orderId });
  await expect(link).toBeVisible();

  // Open it, and retry it from its page.
  await tabTo(page, link);
  await page.keyboard.press('Enter');
  await expect(
    page.getByRole('heading', { name: `Order ${stuck.orderId}`, level: 1 }),
  ).toBeVisible();
  await expect(
    page.getByRole('main').getByText('Needs intervention', { exact: true }).first(),
  ).toBeVisible();
  await tabTo(page, page.getByRole('button', { name: 'Retry', exact: true }));
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Retry this saga?' });
  await expect(dialog.getByLabel('Reason')).toBeFocused();
  await page.keyboard.type('Carrier gateway is back, checked by phone');
  await tabTo(page, dialog.getByRole('button', { name: 'Retry' }), 5);
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();

  const timeline = page.getByRole('list', { name: 'Timeline' });
  await expect(
    timeline.locator('[data-event-type="order_fulfillment_saga.retry_requested"]'),
  ).toContainText('kim: “Carrier gateway is back, checked by phone”');
});
