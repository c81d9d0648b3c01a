import { expect, test, type Page } from '@playwright/test';
import { placeOrder, screenshot, signIn, waitForSaga } from './fixtures';

/**
 * Screenshots of every page with light data, then with busy data (at laptop and tablet width,
 * and in the dark theme), saved to e2e-artifacts/screenshots for a person to look at. They
 * assert only that each page is up, and that the dark theme applies.
 */
test.use({ reducedMotion: 'reduce' });
test.describe.configure({ mode: 'serial' });

const PAGES: { path: string; heading: string }[] = [
  { path: '/', heading: 'Overview' },
  { path: '/sagas', heading: 'Sagas' },
  { path: '/interventions', heading: 'Needs intervention' },
  { path: '/orders/new', heading: 'New order' },
  { path: '/inventory', heading: 'Inventory' },
  { path: '/drills', heading: 'Drills' },
  { path: '/audit', heading: 'Audit' },
];

async function shootAll(
  page: Page,
  suffix: string,
  sagaIds: { completed: string; cancelled: string; stuck: string },
) {
  for (const p of PAGES) {
    await page.goto(p.path);
    await expect(page.getByRole('heading', { name: p.heading, level: 1 })).toBeVisible();
    await expect(page.getByText('Live', { exact: true })).toBeVisible();
    await screenshot(
      page,
      `${p.path === '/' ? 'overview' : p.path.slice(1).replaceAll('/', '-')}-${suffix}`,
    );
  }
  for (const [name, id] of Object.entries(sagaIds)) {
    await page.goto(`/sagas/${id}`);
    await expect(page.getByRole('list', { name: 'Timeline' })).toBeVisible();
    await screenshot(page, `saga-${name}-${suffix}`);
  }
}

let ids: { completed: string; cancelled: string; stuck: string };

test('light data', async ({ page, request }) => {
  test.setTimeout(120_000);
  await page.goto('/sign-in');
  await screenshot(page, 'sign-in');
  const [completed, cancelled, stuck] = await Promise.all([
    placeOrder(request),
    placeOrder(request, { postalCode: '00000' }),
    placeOrder(request, { postalCode: '00504' }),
  ]);
  ids = { completed: completed.sagaId, cancelled: cancelled.sagaId, stuck: stuck.sagaId };
  await waitForSaga(request, ids.completed, (s) => s.state === 'COMPLETED');
  await waitForSaga(request, ids.cancelled, (s) => s.state === 'CANCELLED');
  await waitForSaga(request, ids.stuck, (s) => s.needsIntervention);
  await signIn(page, 'operator');
  await shootAll(page, 'light', ids);
});

test('busy data, laptop and tablet', async ({ page, request }) => {
  test.setTimeout(240_000);
  const postalCodes = ['1015AA', '1015AA', '1015AA', '1015AA', '00000', '00503', '00504'];
  const orders = [];
  for (let i = 0; i < 70; i++) {
    orders.push(
      await placeOrder(request, {
        postalCode: postalCodes[i % postalCodes.length],
        prescriberId: i % 11 === 0 ? 'PR-REVOKED' : 'PR-1001',
        quantity: i % 13 === 0 ? 9 : 1,
      }),
    );
  }
  await waitForSaga(
    request,
    orders.at(-1)!.sagaId,
    (s) => s.state === 'COMPLETED' || s.state === 'CANCELLED' || s.needsIntervention,
    60_000,
  );
  await signIn(page, 'operator');
  await shootAll(page, 'busy', ids);
  await page.setViewportSize({ width: 820, height: 1180 });
  await shootAll(page, 'tablet', ids);

  // The dark theme follows the operating system's setting.
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await shootAll(page, 'dark', ids);
  expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
    'rgb(13, 17, 23)',
  );
});
