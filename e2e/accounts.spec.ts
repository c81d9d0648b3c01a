import { expect, test } from '@playwright/test';
import { gotoLive, passwordOf, placeOrder, signIn, waitForSaga } from './fixtures';

test('an admin adds an operator on the People page; she cancels a saga, and the timeline and the Audit page name her', async ({
  page,
  browser,
  request,
}) => {
  test.setTimeout(90_000);
  const username = `hanna${Date.now().toString(36)}`;
  const { sagaId } = await placeOrder(request, { postalCode: '00504' });

  await signIn(page, 'admin');
  await page.getByRole('link', { name: 'People' }).click();
  await expect(page.getByRole('heading', { name: 'People', level: 1 })).toBeVisible();
  const add = page.getByRole('region', { name: 'Add a person' });
  await add.getByLabel('Username').fill(username);
  await add.getByLabel('Full name').fill('Hanna Apotheker');
  await add.getByLabel('Role').selectOption('operator');
  await add.getByLabel('Password', { exact: true }).fill(passwordOf(username));
  await add.getByRole('button', { name: 'Add account' }).click();
  await expect(page.getByText(`Account ${username} added.`)).toBeVisible();
  const row = page.locator(`tr[data-username="${username}"]`);
  await expect(row).toContainText('Hanna Apotheker');
  await expect(row).toContainText('never');

  // She signs in, in a browser of her own.
  const hers = await browser.newContext();
  const her = await hers.newPage();
  await her.goto('/sign-in');
  await her.getByLabel('Username').fill(username);
  await her.getByLabel('Password').fill(passwordOf(username));
  await her.getByRole('button', { name: 'Sign in' }).click();
  await expect(her.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  await expect(her.getByText('Operator', { exact: true })).toBeVisible();

  await waitForSaga(request, sagaId, (s) => s.needsIntervention);
  await her.goto(`/sagas/${sagaId}`);
  await her
    .getByRole('button', { name: /cancel/i })
    .first()
    .click();
  const dialog = her.getByRole('dialog');
  await dialog.getByLabel('Reason').fill('Patient moved abroad');
  await dialog
    .getByRole('button', { name: /cancel/i })
    .last()
    .click();
  await expect(dialog).toBeHidden();
  await expect(
    her
      .getByRole('list', { name: 'Timeline' })
      .locator('[data-event-type="order_fulfillment_saga.cancel_requested"]'),
  ).toContainText(`${username}: “Patient moved abroad”`);

  await her.goto(`/audit?target=${sagaId}`);
  const audit = her.getByRole('row').filter({ hasText: 'saga.cancel' });
  await expect(audit).toContainText(username);
  await expect(audit).toContainText('Patient moved abroad');

  // The admin's People page now shows her sign-in and her open session.
  await page.reload();
  await expect(row).not.toContainText('never');
  await hers.close();
});

test('signing out in one tab ends the live stream in another', async ({ page }) => {
  await signIn(page, 'viewer');
  const other = await page.context().newPage();
  await gotoLive(other, '/sagas');
  await gotoLive(page, '/');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: /Sign in/ })).toBeVisible();
  // The other tab's stream is closed by the server and the tab goes to sign in.
  await expect(other.getByRole('heading', { name: /Sign in/ })).toBeVisible({ timeout: 15_000 });
  await expect(other).toHaveURL(/\/sign-in\?next=%2Fsagas/);
});
