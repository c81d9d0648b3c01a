import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { chromium } from '@playwright/test';
import { resolveBrowser } from './browser';

/**
 * The browser resolver (scripts/lib/browser.ts): the order it picks a Chromium in, its refusals,
 * and that the npm Chromium starts and renders text with what it was given, so the fallback is
 * proven on every run, also on machines whose e2e layer uses a system Chromium.
 */

const scratch = mkdtempSync(path.join(tmpdir(), 'rxsaga-browser-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('browser resolver', () => {
  test('CHROMIUM_PATH comes first, and must be an executable file', () => {
    assert.equal(resolveBrowser({ CHROMIUM_PATH: process.execPath }).source, 'CHROMIUM_PATH');
    const notExecutable = path.join(scratch, 'chromium');
    writeFileSync(notExecutable, '');
    assert.throws(() => resolveBrowser({ CHROMIUM_PATH: notExecutable }), /CHROMIUM_PATH=/);
    assert.throws(() => resolveBrowser({ CHROMIUM_PATH: scratch }), /not an executable file/);
  });

  test('RXSAGA_BROWSER is checked, and bundled skips CHROMIUM_PATH', () => {
    assert.throws(() => resolveBrowser({ RXSAGA_BROWSER: 'firefox' }), /RXSAGA_BROWSER/);
    const bundled = resolveBrowser({ RXSAGA_BROWSER: 'bundled', CHROMIUM_PATH: process.execPath });
    assert.equal(bundled.source, 'bundled');
    assert.match(bundled.description, /@sparticuz\/chromium/);
  });

  test('the npm Chromium starts and renders text with its own libraries and fonts', async () => {
    const found = resolveBrowser({ RXSAGA_BROWSER: 'bundled' });
    assert.ok(found.env.LD_LIBRARY_PATH && found.env.FONTCONFIG_FILE);
    const browser = await chromium.launch({
      executablePath: found.executablePath,
      args: found.args,
      env: { ...process.env, ...found.env },
    });
    try {
      assert.match(browser.version(), /^143\./);
      const page = await browser.newPage();
      // Real glyphs have their own widths; missing ones are all the same box.
      await page.setContent(
        '<span id="narrow" style="font: 20px sans-serif">iiiiiiii</span><br>' +
          '<span id="wide" style="font: 20px sans-serif">MMMMMMMM</span>',
      );
      const width = (id: string) =>
        page.locator(`#${id}`).evaluate((e) => e.getBoundingClientRect().width);
      const [narrow, wide] = [await width('narrow'), await width('wide')];
      assert.ok(narrow > 0 && wide > narrow * 2, `glyph widths: i×8 ${narrow}, M×8 ${wide}`);
    } finally {
      await browser.close();
    }
  });
});
