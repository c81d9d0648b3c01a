import { expect, test } from '@playwright/test';
import { placeOrder, signIn } from './fixtures';

test('a shipment the carrier rejects (00000) unwinds in reverse order, shown as rolled back', async ({
  page,
  request,
}) => {
  await signIn(page, 'operator');
  const { sagaId } = await placeOrder(request, { postalCode: '00000' });
  await page.goto(`/sagas/${sagaId}`);

  await expect(page.getByRole('main').getByText('CANCELLED', { exact: true })).toBeVisible({
    timeout: 15_000,
  });
  await expect(page.locator('[data-step="initiate-shipment"]')).toContainText('Failed');
  const unwind = page
    .getByRole('list', { name: 'Compensations (newest first)' })
    .getByRole('listitem');
  await expect(unwind).toHaveText([
    /1\s*Release inventory\s*Rolled back/,
    /2\s*Cancel prescription\s*Rolled back/,
    /3\s*Cancel order\s*Rolled back/,
  ]);

  // The timeline agrees: the undo events happened newest step first.
  const timeline = page.getByRole('list', { name: 'Timeline' });
  const undo = timeline.locator(
    '[data-event-type="order.inventory_released"], [data-event-type="order.prescription_cancelled"], [data-event-type="order.cancelled"]',
  );
  await expect(undo).toHaveText([
    /Inventory released/,
    /Prescription cancelled/,
    /Order cancelled/,
  ]);

  // Payloads are there on demand, not by default.
  const firstPayload = timeline.getByText('Payload').first();
  await expect(timeline.locator('pre').first()).toBeHidden();
  await firstPayload.click();
  await expect(timeline.locator('pre').first()).toContainText('"shippingAddress"');
});
