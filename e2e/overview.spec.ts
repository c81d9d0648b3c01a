import { expect, test } from '@playwright/test';
import { formatPercent } from '@/lib/web/format';
import { placeOrder, signIn, waitForSaga } from './fixtures';

test.use({ reducedMotion: 'reduce' });

test("the overview charts render with data, and its figures are /api/stats's", async ({
  page,
  request,
}) => {
  const done = await placeOrder(request);
  const failed = await placeOrder(request, { postalCode: '00000' });
  await waitForSaga(request, done.sagaId, (s) => s.state === 'COMPLETED');
  await waitForSaga(request, failed.sagaId, (s) => s.state === 'CANCELLED');

  await signIn(page, 'operator');
  for (const chart of [
    'Completed and cancelled',
    'Duration percentiles',
    'Compensations by step',
    'Where sagas fail',
  ]) {
    const figure = page.getByRole('figure', { name: chart });
    await expect(figure.locator('.recharts-surface').first()).toBeVisible();
  }
  await expect(
    page
      .getByRole('figure', { name: 'Completed and cancelled' })
      .locator('.recharts-bar-rectangle')
      .first(),
  ).toBeVisible();
  await expect(
    page
      .getByRole('figure', { name: 'Duration percentiles' })
      .locator('.recharts-line-dot')
      .first(),
  ).toBeVisible();
  await expect(
    page.getByRole('figure', { name: 'Compensations by step' }).locator('.recharts-bar-rectangle'),
  ).toHaveCount(3);

  const stats = (await (await page.request.get('/api/stats?window=24h')).json()) as {
    successRate: number;
    compensationFrequency: number;
  };
  await expect(page.locator('[data-kpi="Success rate"]')).toHaveText(
    formatPercent(stats.successRate),
  );
  await expect(page.locator('[data-kpi="Compensation frequency"]')).toHaveText(
    formatPercent(stats.compensationFrequency),
  );

  await page.getByRole('link', { name: '7 days' }).click();
  await expect(page).toHaveURL(/window=7d/);
  await expect(page.getByRole('link', { name: '7 days' })).toHaveAttribute('aria-current', 'true');
});
