// The portal in a real browser: server-rendered, then hydrated, then interactive without reloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BASE_URL, OUTPUT, newContext, newPage, goto } from '../support.js';

/** Opens the catalog and waits until the wasm bundle has hydrated the page. */
async function openHydrated(viewport) {
  const opened = await newPage(viewport);
  const response = await goto(opened.page, '/');
  assert.equal(response.status(), 200);
  return opened;
}

test('catalog hydrates and filters as you type, without a reload', async () => {
  const { context, page, problems } = await openHydrated({ width: 1440, height: 900 });
  assert.equal(await page.title(), 'Catalog · Tributary');
  assert.equal(await page.locator('#catalog-table tbody tr').count(), 4);
  assert.equal(await page.locator('#catalog-count').innerText(), 'Showing 4 of 4 streams');

  // A marker on window survives only if the page is never reloaded.
  await page.evaluate(() => { window.__tributaryMarker = 'still-here'; });
  await page.locator('#catalog-filter').fill('weather');
  await page.waitForFunction(() => document.querySelectorAll('#catalog-table tbody tr').length === 1);
  assert.equal(await page.locator('#catalog-count').innerText(), 'Showing 1 of 4 streams');
  assert.match(await page.locator('#catalog-table tbody').innerText(), /Weather observations/);

  await page.locator('#catalog-filter').fill('no-such-stream');
  await page.locator('text=No stream matches this filter.').waitFor();
  await page.locator('#catalog-filter').fill('');
  await page.waitForFunction(() => document.querySelectorAll('#catalog-table tbody tr').length === 4);

  assert.equal(await page.evaluate(() => window.__tributaryMarker), 'still-here', 'the page reloaded');
  assert.equal(page.url(), `${BASE_URL}/`);
  await page.screenshot({ path: join(OUTPUT, 'catalog-light-1440.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('theme toggle switches to dark and back through the keyboard', async () => {
  const { context, page, problems } = await openHydrated({ width: 1440, height: 900 });
  const app = page.locator('.app');
  assert.equal(await app.getAttribute('data-theme'), 'light');
  const toggle = page.locator('#theme-toggle');
  assert.equal(await toggle.getAttribute('aria-label'), 'Switch to dark theme');
  await toggle.click();
  await page.waitForSelector('.app[data-theme="dark"]');
  assert.equal(await toggle.getAttribute('aria-label'), 'Switch to light theme');
  await page.screenshot({ path: join(OUTPUT, 'catalog-dark-1440.png'), fullPage: true });

  await toggle.focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('.app[data-theme="light"]');
  assert.deepEqual(problems, []);
  await context.close();
});

test('narrow screens get a single-column layout', async () => {
  const { context, page, problems } = await openHydrated({ width: 390, height: 844 });
  const nav = await page.locator('.sidenav').boundingBox();
  const main = await page.locator('#main').boundingBox();
  assert.ok(main.y >= nav.y + nav.height - 1, 'navigation sits above the content');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  await page.screenshot({ path: join(OUTPUT, 'catalog-light-390.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('pages are readable with JavaScript disabled', async () => {
  const context = await newContext({ javaScriptEnabled: false, viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/`);
  assert.equal(await page.locator('#catalog-table tbody tr').count(), 4);
  assert.equal(await page.locator('.app').getAttribute('data-hydrated'), 'false');
  await context.close();
});
