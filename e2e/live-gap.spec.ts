import { expect, test } from '@playwright/test';
import { API_TOKEN, gotoLive, placeOrder, signIn, uniquePatient, waitForSaga } from './fixtures';

const auth = { authorization: `Bearer ${API_TOKEN}` };
const setShipmentLatency = (request: import('@playwright/test').APIRequestContext, ms: number) =>
  request.put('/api/faults', {
    headers: auth,
    data: {
      items: [{ task: 'initiate-shipment', failureRate: 0, transientRate: 0, latencyMs: ms }],
      reason: 'e2e: hold a saga in flight',
    },
  });

// An operator: since viewers no longer search by patient id (d4402bf), the page below needs one.
test.beforeEach(async ({ page }) => signIn(page, 'operator'));
test.afterEach(async ({ request }) => {
  await setShipmentLatency(request, 0);
});

/**
 * The race a client navigation has: the server renders the saga page while the saga runs, the
 * saga finishes while that page is on its way, and its events are pushed before the page's
 * query exists. The page must still show where the saga is now, not wait for the next poll.
 */
test('a saga page reached by a link shows what happened while the page was on its way', async ({
  page,
  request,
}) => {
  expect((await setShipmentLatency(request, 1500)).status()).toBe(200);
  const patientId = uniquePatient('GAP');
  await gotoLive(page, `/sagas?q=${patientId}`);
  const { sagaId, orderId } = await placeOrder(request, { patientId });
  await waitForSaga(request, sagaId, (s) => s.state === 'PENDING_SHIPMENT');

  // Hold the rendered page (rendered while the shipment is pending) until the saga is done.
  let held = 0;
  await page.route(`**/sagas/${sagaId}*`, async (route) => {
    const response = await route.fetch();
    held++;
    await waitForSaga(request, sagaId, (s) => s.state === 'COMPLETED');
    await route.fulfill({ response });
  });

  await page.getByRole('link', { name: orderId }).click();
  await expect(page).toHaveURL(new RegExp(`/sagas/${sagaId}$`));
  // Well inside the 30 s a connected page polls at: the page asked on its own.
  await expect(page.getByRole('main').getByText('COMPLETED', { exact: true })).toBeVisible({
    timeout: 5_000,
  });
  expect(held).toBeGreaterThan(0);
});
