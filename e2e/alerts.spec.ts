import { expect, test } from '@playwright/test';
import { API_TOKEN, placeOrder, signIn, waitForSaga } from './fixtures';

/**
 * The server under test raises `interventions_waiting` for a single flagged saga, evaluated
 * every second (playwright.config.ts).
 */
test('a saga stuck on the carrier raises the alert banner on every page; cancelling it clears it', async ({
  page,
  request,
}) => {
  test.setTimeout(90_000);
  const auth = { authorization: `Bearer ${API_TOKEN}` };
  // Sagas other specs left behind would keep the alert firing: let every saga settle (finish
  // or be flagged), cancel the flagged ones, and wait until none is in flight.
  const stats = async () =>
    (await (await request.get('/api/stats?window=all', { headers: auth })).json()) as {
      inFlight: number;
      needsIntervention: number;
    };
  await expect
    .poll(
      async () => {
        const s = await stats();
        return s.inFlight === s.needsIntervention;
      },
      { timeout: 45_000 },
    )
    .toBe(true);
  const waiting = await (await request.get('/api/interventions', { headers: auth })).json();
  for (const s of waiting.items as { sagaId: string }[]) {
    await request.post(`/api/sagas/${s.sagaId}/cancel`, {
      headers: auth,
      data: { reason: 'clean slate for the alert test' },
    });
  }
  await expect.poll(async () => (await stats()).inFlight, { timeout: 45_000 }).toBe(0);

  // 00504: the carrier fails transiently on every attempt, so the saga ends up needing a human.
  const { sagaId } = await placeOrder(request, { postalCode: '00504' });
  await waitForSaga(request, sagaId, (s) => s.needsIntervention);

  await signIn(page, 'operator', 'alice');
  const banner = page.getByRole('status', { name: 'Firing alerts' });
  await expect(banner).toContainText('Sagas waiting for intervention', { timeout: 20_000 });
  await expect(banner).toContainText('1 saga needs intervention');

  // On another page too, and its link leads to the cause.
  await page.goto('/inventory');
  await expect(banner).toBeVisible();
  await banner.getByRole('link', { name: 'Open the intervention queue' }).click();
  await expect(page).toHaveURL(/\/interventions$/);
  await expect(page.getByRole('heading', { name: 'Needs intervention', level: 1 })).toBeVisible();

  await page.goto('/alerts');
  const firing = page.getByRole('table', { name: 'Firing alerts' });
  await expect(firing.locator('[data-alert-rule="interventions_waiting"]')).toContainText(
    '1 saga needs intervention',
  );

  const cancelled = await request.post(`/api/sagas/${sagaId}/cancel`, {
    headers: auth,
    data: { reason: 'Customer cancelled: carrier down' },
  });
  expect(cancelled.status()).toBe(202);
  await expect(banner).toHaveCount(0, { timeout: 20_000 });
  await expect(firing.getByText('Nothing is firing.')).toBeVisible();
  await expect(page.getByRole('table', { name: 'Resolved alerts, newest first' })).toContainText(
    'Sagas waiting for intervention',
  );
});

test('only an admin is offered a test alert (it checks the alert settings)', async ({ page }) => {
  await signIn(page, 'operator', 'otto');
  await page.goto('/alerts');
  await expect(
    page.getByRole('table', { name: 'Webhook deliveries: undelivered first' }),
  ).toBeVisible();
  await expect(page.getByRole('button', { name: 'Send a test alert' })).toHaveCount(0);

  await page.context().clearCookies();
  await signIn(page, 'admin');
  await page.goto('/alerts');
  await expect(page.getByRole('button', { name: 'Send a test alert' })).toBeVisible();
});
