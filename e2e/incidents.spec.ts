import { expect, test } from '@playwright/test';
import { API_TOKEN, gotoLive, placeOrder, signIn, waitForSaga } from './fixtures';

const auth = { authorization: `Bearer ${API_TOKEN}` };

test('pause shipments, place orders, see them wait, resume, see them complete', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000);
  await signIn(page, 'operator', 'nora');
  await gotoLive(page, '/controls');
  const row = page.locator('[data-task="initiate-shipment"]');
  await expect(row).toContainText('Running');
  await row.getByRole('button', { name: 'Pause Initiate shipment' }).click();
  const pause = page.getByRole('dialog', { name: 'Pause Initiate shipment?' });
  await pause.getByLabel('Reason').fill('Carrier API is down (incident 42)');
  await pause.getByRole('button', { name: 'Pause Initiate shipment' }).click();
  await expect(pause).toBeHidden();
  try {
    await expect(row).toContainText('Paused');
    await expect(page.getByRole('status', { name: 'Paused tasks' })).toContainText(
      'Initiate shipment by nora',
    );

    const orders = [
      await placeOrder(request),
      await placeOrder(request),
      await placeOrder(request),
    ];
    await expect(row.getByRole('cell').nth(2)).toHaveText('3', { timeout: 30_000 });

    // Every page shows the banner; the saga page says why the saga waits.
    await gotoLive(page, `/sagas/${orders[0]!.sagaId}`);
    await expect(page.getByRole('status', { name: 'Paused tasks' })).toBeVisible();
    await expect(page.locator('[data-held-notice]')).toHaveText(
      /waiting: Initiate shipment is paused by nora since .+: Carrier API is down \(incident 42\)/,
    );
    await expect(
      page.getByRole('main').getByText('PENDING_SHIPMENT', { exact: true }),
    ).toBeVisible();

    await gotoLive(page, '/controls');
    await row.getByRole('button', { name: 'Resume Initiate shipment' }).click();
    const resume = page.getByRole('dialog', { name: 'Resume Initiate shipment?' });
    await resume.getByLabel('Reason').fill('Carrier is back');
    await resume.getByRole('button', { name: 'Resume Initiate shipment' }).click();
    await expect(row).toContainText('Running');
    await expect(page.getByRole('status', { name: 'Paused tasks' })).toBeHidden();
    for (const order of orders)
      await waitForSaga(request, order.sagaId, (s) => s.state === 'COMPLETED');

    await gotoLive(page, `/sagas/${orders[0]!.sagaId}`);
    await expect(page.getByRole('main').getByText('COMPLETED', { exact: true })).toBeVisible();
    await expect(page.locator('[data-held-notice]')).toHaveCount(0);
  } finally {
    // Whatever happened above, the specs after this one need shipments running.
    await request.post('/api/tasks/initiate-shipment/resume', {
      headers: auth,
      data: { reason: 'end of the pause spec' },
    });
  }
});

test('cancel a failure group from the Needs-intervention page and watch its progress bar', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000);
  const stuck = [
    await placeOrder(request, { postalCode: '00504' }),
    await placeOrder(request, { postalCode: '00504' }),
  ];
  for (const s of stuck) await waitForSaga(request, s.sagaId, (x) => x.needsIntervention, 60_000);

  await signIn(page, 'operator', 'gus');
  await gotoLive(page, '/interventions');
  const groups = page.getByRole('table', { name: /Failure groups/ });
  const group = groups.getByRole('row').filter({ hasText: 'carrier gateway timeout (<n>)' });
  await expect(group).toHaveCount(1);
  await group.getByRole('button', { name: 'Cancel all' }).click();
  const dialog = page.getByRole('dialog', { name: /^Cancel the \d+ sagas? of/ });
  await expect(dialog.getByText(/This matches \d+ sagas? now/)).toBeVisible();
  const matched = Number(
    await dialog.locator('[data-dry-run-matched]').getAttribute('data-dry-run-matched'),
  );
  expect(matched).toBeGreaterThanOrEqual(2);
  await dialog.getByLabel('Reason').fill('Carrier will not come back today');
  await dialog.getByRole('button', { name: `Cancel ${matched} sagas` }).click();
  await expect(dialog).toBeHidden();

  const progress = page.getByRole('progressbar', { name: 'Progress of the cancel' });
  await expect(progress).toBeVisible();
  await expect(page.locator('[data-operation-status="done"]')).toContainText(
    `${matched} succeeded, 0 skipped, 0 failed of ${matched}`,
    { timeout: 30_000 },
  );
  await expect(progress).toHaveAttribute('value', String(matched));
  for (const s of stuck) await waitForSaga(request, s.sagaId, (x) => x.state === 'CANCELLED');

  await gotoLive(page, '/operations');
  const history = page.getByRole('table', { name: 'Bulk operations, newest first' });
  await expect(history.getByRole('row').nth(1)).toContainText('gus');
  await expect(history.getByRole('row').nth(1)).toContainText('Carrier will not come back today');
  await expect(history.getByRole('row').nth(1)).toContainText('groupId=');
});
