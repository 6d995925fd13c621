// The operator's clusters page in a real browser: the demo cluster's health check, registering
// a cluster (a field error first, then one that cannot be reached), deleting it, and what a
// provider sees instead.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:8080';
const OUTPUT = process.env.TEST_OUTPUT ?? 'test-output';
const OPERATOR = 'operator@tributary.example';
const PROVIDER = 'provider@northwind.example';
const DEMO_PASSWORD = 'tributary-demo-2026';
const LAUNCH = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};
const WIDE = { width: 1440, height: 900 };
const NARROW = { width: 390, height: 844 };

let browser;
before(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  browser = await chromium.launch(LAUNCH);
});
after(async () => { await browser?.close(); });

const random = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** A fresh browser profile (own cookies) with error tracking. */
async function newPage(viewport = WIDE) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  return { context, page, problems };
}

async function goto(page, path) {
  const response = await page.goto(`${BASE_URL}${path}`);
  assert.ok(response.status() < 500, `${path} answered ${response.status()}`);
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
}

async function signIn(page, email) {
  await goto(page, '/sign-in');
  await page.fill('#email', email);
  await page.fill('#password', DEMO_PASSWORD);
  await page.click('#sign-in-form button[type=submit]');
  await page.waitForURL(/\/organization/);
  await page.locator('#org-name').waitFor();
  await page.waitForSelector('.app[data-hydrated="true"]');
}

async function noSidewaysScroll(page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
}

const row = (page, name) => page.locator(`#clusters-table tbody tr[data-cluster="${name}"]`);

test('the operator checks cluster health, registers an unreachable cluster and deletes it', async () => {
  const { context, page, problems } = await newPage();
  await signIn(page, OPERATOR);
  await page.locator('#nav-operator').click();
  await page.waitForURL(/\/operator\/clusters$/);
  await page.locator('#clusters-table').waitFor();
  await page.waitForSelector('.app[data-hydrated="true"]');
  assert.equal(await page.locator('h1').innerText(), 'Clusters');
  assert.equal(await page.locator('#nav-operator').getAttribute('aria-current'), 'page');

  // The demo cluster, checked now: healthy, one broker, a latency and "checked just now".
  const local = row(page, 'local');
  await local.waitFor();
  assert.match(await local.innerText(), /dev/);
  assert.equal(await local.locator('.cluster-registry').innerText(), 'Embedded');
  await local.locator('button.check-health').click();
  await page.waitForFunction(() => {
    const r = document.querySelector('#clusters-table tr[data-cluster="local"]');
    return r && r.querySelector('.health-checked').innerText.includes('just now')
      && !r.querySelector('button.check-health').disabled;
  }, null, { timeout: 30000 });
  assert.equal(await local.locator('.health-status').innerText(), 'Healthy');
  assert.equal(await local.locator('.health-brokers').innerText(), '1');
  assert.match(await local.locator('.health-latency').innerText(), /^\d+ ms$/);
  assert.match(await local.locator('.health-message').innerText(), /1 broker\(s\) answered/);
  await page.screenshot({ path: join(OUTPUT, 'operator-clusters-1440.png'), fullPage: true });

  // A bad bootstrap address: the error sits next to that field, and what was typed stays.
  const name = `e2e-${random()}`;
  await page.locator('#register-cluster-link').click();
  await page.fill('#cluster-name', name);
  await page.fill('#cluster-region', 'test');
  await page.fill('#cluster-bootstrap', 'no-port');
  await page.selectOption('#cluster-protocol', 'SASL_PLAINTEXT');
  assert.ok(await page.locator('#cluster-ca').isHidden(), 'the CA bundle is only for SASL_SSL');
  await page.fill('#cluster-username', 'nobody');
  await page.fill('#cluster-password', 'secret-password-1');
  assert.equal(await page.locator('#cluster-password').getAttribute('type'), 'password');
  await page.click('#register-cluster-submit');
  await page.locator('#cluster-bootstrap-error').waitFor();
  assert.match(await page.locator('#cluster-bootstrap-error').innerText(), /no-port/);
  assert.equal(await page.locator('#cluster-name').inputValue(), name);
  assert.equal(await page.locator('#cluster-username').inputValue(), 'nobody');
  await page.locator('#register-cluster').screenshot({ path: join(OUTPUT, 'operator-register-error-1440.png') });

  // Fixed: registered, listed, never reachable (nothing listens on port 9).
  await page.fill('#cluster-bootstrap', '127.0.0.1:9');
  await page.click('#register-cluster-submit');
  await page.locator('#cluster-registered').waitFor();
  // The form starts over once the cluster is registered.
  await page.waitForFunction(() => document.querySelector('#cluster-name').value === ''
    && document.querySelector('#cluster-password').value === '');
  const added = row(page, name);
  await added.waitFor();
  assert.equal(await added.locator('.health-status').innerText(), 'Unknown');
  assert.doesNotMatch(await page.content(), /secret-password-1/, 'the password is never shown back');
  await added.locator('button.check-health').click();
  await page.waitForFunction((n) => {
    const r = document.querySelector(`#clusters-table tr[data-cluster="${n}"]`);
    return r && r.querySelector('.health-status').innerText === 'Unhealthy';
  }, name, { timeout: 60000 });
  assert.ok((await added.locator('.health-message').innerText()).length > 0, 'the failure says why');
  assert.equal(await added.locator('.health-brokers').innerText(), '—');
  await page.screenshot({ path: join(OUTPUT, 'operator-clusters-unhealthy-1440.png'), fullPage: true });

  // Deleting asks first and says what happens.
  await added.locator('button.delete-cluster').click();
  assert.match(await added.locator('.confirm-text').innerText(), /streams cannot be deleted/);
  await added.locator('button.confirm-delete').click();
  await page.waitForFunction((n) => !document.querySelector(`#clusters-table tr[data-cluster="${n}"]`), name);
  await local.waitFor();

  // The demo cluster carries streams: deleting it is refused with the reason.
  await local.locator('button.delete-cluster').click();
  await local.locator('button.confirm-delete').click();
  await page.locator('#cluster-delete-error').waitFor();
  assert.match(await page.locator('#cluster-delete-error').innerText(), /stream/);
  await local.waitFor();
  assert.deepEqual(problems, []);
  await context.close();

  // Narrow: clusters become cards, nothing scrolls sideways.
  const narrow = await newPage(NARROW);
  await signIn(narrow.page, OPERATOR);
  await goto(narrow.page, '/operator/clusters');
  await row(narrow.page, 'local').waitFor();
  await narrow.page.screenshot({ path: join(OUTPUT, 'operator-clusters-390.png'), fullPage: true });
  await noSidewaysScroll(narrow.page);
  assert.deepEqual(narrow.problems, []);
  await narrow.context.close();
});

test('a provider sees no Operator item and an explanation at the clusters URL', async () => {
  const { context, page, problems } = await newPage();
  await signIn(page, PROVIDER);
  assert.equal(await page.locator('#nav-operator').count(), 0);
  await goto(page, '/operator/clusters');
  await page.locator('#operator-only').waitFor();
  assert.match(await page.locator('#operator-only').innerText(), /Only the marketplace operator manages clusters/);
  assert.equal(await page.locator('#clusters-table').count(), 0);
  assert.equal(await page.locator('#register-cluster-form').count(), 0);
  await page.screenshot({ path: join(OUTPUT, 'operator-forbidden-1440.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();

  const narrow = await newPage(NARROW);
  await signIn(narrow.page, PROVIDER);
  await goto(narrow.page, '/operator/clusters');
  await narrow.page.locator('#operator-only').waitFor();
  await noSidewaysScroll(narrow.page);
  await narrow.page.screenshot({ path: join(OUTPUT, 'operator-forbidden-390.png'), fullPage: true });
  assert.deepEqual(narrow.problems, []);
  await narrow.context.close();
});
