import { expect, test } from '@playwright/test';
import { API_TOKEN, gotoLive, signIn, uniquePatient } from './fixtures';

test.beforeEach(async ({ page }) => signIn(page, 'operator'));

test('every invalid field shows its error inline, and what was typed stays', async ({ page }) => {
  await gotoLive(page, '/orders/new');
  await page.getByLabel('City').fill('Utrecht');
  await page.getByLabel('Quantity').fill('0');
  await page.getByRole('button', { name: 'Place order' }).click();

  await expect(
    page.getByRole('alert').filter({ hasText: /check the highlighted fields/i }),
  ).toBeVisible();
  const patient = page.getByLabel('Patient id');
  await expect(patient).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Street and number')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Postal code')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Quantity')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('City')).not.toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('City')).toHaveValue('Utrecht');
  await expect(page).toHaveURL(/\/orders\/new$/);
});

test('an order placed in the form runs live to COMPLETED on its page, without a reload', async ({
  page,
}) => {
  await gotoLive(page, '/orders/new');
  await page.getByLabel('Patient id').fill(uniquePatient('FORM'));
  await page.getByLabel('Prescriber id (optional)').fill('PR-2002');
  await page.getByLabel('Medication 1', { exact: true }).selectOption('IBU-400');
  await page.getByRole('button', { name: 'Add medication' }).click();
  await page.getByLabel('Medication 2', { exact: true }).selectOption('CETI-10');
  await page.getByLabel('Quantity').nth(1).fill('2');
  await page.getByLabel('Street and number').fill('Oudegracht 12');
  await page.getByLabel('City').fill('Utrecht');
  await page.getByLabel('Postal code').fill('3511AB');

  const submit = page.getByRole('button', { name: 'Place order' });
  await submit.click();
  await expect(page).toHaveURL(/\/sagas\/[0-9a-f-]{36}$/);
  let reloaded = false;
  page.on('load', () => (reloaded = true));

  await expect(page.getByText('Live', { exact: true })).toBeVisible();
  await expect(page.getByRole('main').getByText('COMPLETED', { exact: true })).toBeVisible({
    timeout: 15_000,
  });
  const steps = page.getByRole('list', { name: 'Steps' }).getByRole('listitem');
  await expect(steps).toHaveText([
    /Order created/,
    /Prescription created/,
    /Inventory reserved/,
    /Shipment initiated/,
    /Completed\s*Done/,
  ]);
  await expect(
    page.getByRole('list', { name: 'Timeline' }).getByText('Saga completed'),
  ).toBeVisible();
  expect(reloaded).toBe(false);
});

test('the same form submitted twice (a resend after a lost response) places one order', async ({
  page,
}) => {
  await gotoLive(page, '/orders/new');
  const patientId = uniquePatient('TWICE');
  await page.getByLabel('Patient id').fill(patientId);
  await page.getByLabel('Street and number').fill('Oudegracht 12');
  await page.getByLabel('City').fill('Utrecht');
  await page.getByLabel('Postal code').fill('3511AB');

  // The browser's submission reaches the server twice, as when a first answer is lost and the
  // request is sent again; the browser gets the second answer.
  let submissions = 0;
  await page.route('**/orders/new', async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    submissions += 1;
    await route.fetch();
    await route.fulfill({ response: await route.fetch() });
  });
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect(page).toHaveURL(/\/sagas\/[0-9a-f-]{36}$/);
  expect(submissions).toBe(1);
  const sagaId = page.url().split('/').at(-1);

  const res = await page.request.get(`/api/sagas?q=${encodeURIComponent(patientId)}`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  expect(res.status()).toBe(200);
  const { items } = (await res.json()) as { items: { sagaId: string }[] };
  expect(items.map((i) => i.sagaId)).toEqual([sagaId]);
});
