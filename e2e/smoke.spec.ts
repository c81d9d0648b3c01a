import { expect, test } from '@playwright/test';

test('the app answers: health is ok and the home page shows RxSaga', async ({ page, request }) => {
  const health = await request.get('/api/health');
  expect(health.status()).toBe(200);
  expect(await health.json()).toEqual({ ok: true });

  await page.goto('/');
  await expect(page).toHaveTitle(/RxSaga/);
  await expect(page.getByText('RxSaga', { exact: true }).first()).toBeVisible();
});
