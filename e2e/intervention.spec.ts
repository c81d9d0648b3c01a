import { expect, test } from '@playwright/test';
import { placeOrder, signIn, waitForSaga } from './fixtures';

test('a saga stuck on the carrier (00504) is retried, then cancelled in bulk, with reasons on its timeline and in the audit log', async ({
  page,
  request,
}) => {
  test.setTimeout(90_000);
  const { sagaId, orderId } = await placeOrder(request, { postalCode: '00504' });
  await signIn(page, 'operator', 'irene');
  await page.goto(`/sagas/${sagaId}`);
  await expect(
    page.getByRole('main').getByText('Needs intervention', { exact: true }).first(),
  ).toBeVisible({
    timeout: 20_000,
  });
  await expect(page.locator('[data-step="initiate-shipment"]')).toContainText('Stuck');

  // Retry from the saga page, with a reason.
  await page.getByRole('button', { name: 'Retry' }).click();
  const retry = page.getByRole('dialog', { name: 'Retry this saga?' });
  await retry.getByRole('button', { name: 'Retry' }).click();
  await expect(retry.getByText(/give a reason/i)).toBeVisible();
  await retry.getByLabel('Reason').fill('Carrier says the gateway is back');
  await retry.getByRole('button', { name: 'Retry' }).click();
  await expect(retry).toBeHidden();
  const timeline = page.getByRole('list', { name: 'Timeline' });
  await expect(
    timeline.locator('[data-event-type="order_fulfillment_saga.retry_requested"]'),
  ).toContainText('irene: “Carrier says the gateway is back”');

  // It is still down: the saga is flagged again. Cancel it from the queue.
  await waitForSaga(request, sagaId, (s) => s.needsIntervention);
  await page.goto('/interventions');
  await page.getByRole('checkbox', { name: `Select ${orderId}` }).check();
  await page.getByRole('button', { name: 'Cancel selected (1)' }).click();
  const cancel = page.getByRole('dialog', { name: 'Cancel 1 selected saga?' });
  await expect(cancel.getByText('This matches 1 saga now.')).toBeVisible();
  await cancel.getByLabel('Reason').fill('Customer asked to cancel the order');
  await cancel.getByRole('button', { name: 'Cancel 1 saga' }).click();
  // A selection is a bulk operation: its progress bar shows it done.
  await expect(page.locator('[data-operation-status="done"]')).toContainText(
    '1 succeeded, 0 skipped, 0 failed of 1',
  );
  await expect(page.getByRole('row', { name: new RegExp(orderId) })).toHaveCount(0);

  await page.goto(`/sagas/${sagaId}`);
  await expect(page.getByRole('main').getByText('CANCELLED', { exact: true })).toBeVisible({
    timeout: 15_000,
  });
  await expect(
    timeline.locator('[data-event-type="order_fulfillment_saga.cancel_requested"]'),
  ).toContainText('irene: “Customer asked to cancel the order”');
  const unwind = page
    .getByRole('list', { name: 'Compensations (newest first)' })
    .getByRole('listitem');
  await expect(unwind).toHaveText([
    /Release inventory\s*Rolled back/,
    /Cancel prescription\s*Rolled back/,
    /Cancel order\s*Rolled back/,
  ]);

  await page.goto(`/audit?target=${sagaId}`);
  const rows = page.getByRole('row').filter({ hasText: 'irene' });
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: 'saga.cancel' })).toContainText(
    'Customer asked to cancel the order',
  );
  await expect(rows.filter({ hasText: 'saga.retry' })).toContainText(
    'Carrier says the gateway is back',
  );
});
