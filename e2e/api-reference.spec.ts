import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { signIn } from './fixtures';

/**
 * The API reference page renders the served OpenAPI document with Scalar's bundle, under the
 * app's Content-Security-Policy: a blocked script, style or connection would leave it blank
 * and log a CSP violation.
 */
for (const colorScheme of ['light', 'dark'] as const) {
  test(`the API reference page renders every tag of /api/openapi.json under the CSP (${colorScheme})`, async ({
    page,
  }) => {
    // Scalar's page is large: axe over all of it takes a while on a loaded machine.
    test.setTimeout(120_000);
    await page.emulateMedia({ colorScheme });
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content[- ]Security[- ]Policy|Refused to/i.test(message.text()))
        violations.push(message.text());
    });
    page.on('pageerror', (error) => violations.push(`page error: ${error.message}`));

    await signIn(page, 'viewer');
    await page.getByRole('link', { name: 'API reference' }).click();
    await expect(page.getByRole('heading', { name: 'API reference', level: 1 })).toBeVisible();
    const reference = page.getByTestId('api-reference');
    await expect(reference.getByText('RxSaga API').first()).toBeVisible({ timeout: 20_000 });
    const served = await (await page.request.get('/api/openapi.json')).json();
    for (const tag of served.tags as { name: string }[]) {
      await expect(
        reference.getByText(tag.name, { exact: true }).filter({ visible: true }).first(),
      ).toBeVisible();
    }
    // The first section is open: its operation is listed by its summary.
    await expect(reference.getByText('Place an order: starts its saga').first()).toBeVisible();
    expect(violations).toEqual([]);

    // The reference itself (the shell around it is every page's, checked with them).
    const axe = await new AxeBuilder({ page }).include('[data-testid="api-reference"]').analyze();
    const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(
      serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    ).toEqual([]);
  });
}
