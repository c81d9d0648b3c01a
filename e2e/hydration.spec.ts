import { expect, test } from '@playwright/test';
import { placeOrder, signIn } from './fixtures';

test.beforeEach(async ({ page }) => signIn(page, 'operator'));

/**
 * A page's server HTML must be hydrated in place, not thrown away and rendered again in the
 * browser. On a slow device the live stream used to connect before a page's streamed HTML was
 * revealed; its status change reached the not-yet-hydrated page, React rendered the page a
 * second time, and for a moment the form existed twice (the server copy in a hidden div). CPU
 * throttling opens that window here; a MutationObserver installed before the document parses
 * counts every distinct page heading ever attached, which is 1 when the HTML is hydrated in
 * place and 2 when the page is rendered again.
 */
test('every dashboard page hydrates its server HTML in place, even on a slow device', async ({
  page,
  request,
}) => {
  test.slow();
  const { sagaId } = await placeOrder(request);
  await page.addInitScript(() => {
    const seen = new WeakSet<Element>();
    const win = window as unknown as { headingsAttached: number };
    win.headingsAttached = 0;
    new MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.addedNodes) {
          if (!(node instanceof Element)) continue;
          for (const heading of [node, ...node.querySelectorAll('h1')]) {
            if (heading.tagName !== 'H1' || seen.has(heading)) continue;
            seen.add(heading);
            win.headingsAttached++;
          }
        }
      }
    }).observe(document, { childList: true, subtree: true });
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 8 });

  const pages = [
    '/',
    '/sagas',
    `/sagas/${sagaId}`,
    '/interventions',
    '/orders/new',
    '/inventory',
    '/drills',
    '/audit',
  ];
  const attached: Record<string, number> = {};
  for (const url of pages) {
    await page.goto(url);
    await expect(page.getByText('Live', { exact: true })).toBeVisible();
    await expect(page.locator('h1')).toHaveCount(1);
    // Long enough for any queued reveal of streamed HTML to have run.
    await page.waitForTimeout(700);
    attached[url] = await page.evaluate(
      () => (window as unknown as { headingsAttached: number }).headingsAttached,
    );
  }
  expect(attached).toEqual(Object.fromEntries(pages.map((url) => [url, 1])));
});
