import { expect, test } from '@playwright/test';
import {
  ADMIN_PASSWORD,
  placeOrder,
  signIn,
  uniquePatient,
  VIEWER_PASSWORD,
  waitForSaga,
} from './fixtures';

test('an anonymous visitor is sent to sign in, then back to the page asked for', async ({
  page,
}) => {
  await page.goto('/sagas');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fsagas/);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(
    page.getByRole('alert').filter({ hasText: /wrong username or password/i }),
  ).toBeVisible();

  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Sagas', level: 1 })).toBeVisible();
  await expect(page.getByText('Admin', { exact: true })).toBeVisible();
});

test('after sign-in, a ?next= that points off the site lands on the overview', async ({ page }) => {
  for (const next of ['/%5Cevil.example', '//evil.example', '/%09/evil.example']) {
    await page.context().clearCookies();
    await page.goto(`/sign-in?next=${next}`);
    await page.getByLabel('Username').fill('viewer');
    await page.getByLabel('Password').fill(VIEWER_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
    expect(new URL(page.url()).host, next).toBe(new URL(test.info().project.use.baseURL!).host);
  }
});

test('a viewer sees no retry or cancel buttons, and patient ids masked', async ({
  page,
  request,
}) => {
  const patientId = uniquePatient('VIEW');
  const { sagaId } = await placeOrder(request, { patientId, postalCode: '00504' });
  await waitForSaga(request, sagaId, (s) => s.needsIntervention);

  await signIn(page, 'viewer');
  await expect(page.getByText('Viewer (read-only)')).toBeVisible();
  await page.goto(`/sagas/${sagaId}`);
  await expect(page.getByText('Needs intervention', { exact: true }).first()).toBeVisible();
  await expect(page.getByRole('button', { name: 'Retry' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /cancel/i })).toHaveCount(0);
  await expect(page.getByText(patientId)).toHaveCount(0);
  await expect(page.getByRole('main').getByText(/Patient PAT-\*\*\*\*/)).toBeVisible();

  await page.goto('/interventions');
  await expect(page.getByRole('link', { name: /ORD-/ }).first()).toBeVisible();
  await expect(page.getByRole('button', { name: /Retry/ })).toHaveCount(0);
  await expect(page.getByRole('checkbox')).toHaveCount(0);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: /Sign in/ })).toBeVisible();
});
