// What every browser test file shares: where the portal is, one Chromium per file, fresh pages
// with error tracking, navigation that waits for hydration, signing in, and API calls for set-up.
// (Kept outside `tests/` so the test runner does not take it for a test file.)
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:8080';
export const OUTPUT = process.env.TEST_OUTPUT ?? 'test-output';
/** The demo data's password for every seeded account. */
export const DEMO_PASSWORD = 'tributary-demo-2026';
export const OPERATOR = 'operator@tributary.example';
export const PROVIDER = 'provider@northwind.example';
export const WIDE = { width: 1440, height: 900 };
export const NARROW = { width: 390, height: 844 };

const LAUNCH = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};

let browser;
before(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  browser = await chromium.launch(LAUNCH);
});
after(async () => { await browser?.close(); });

/** A new browser profile (own cookies), for cases `newPage` does not cover. */
export const newContext = (options) => browser.newContext(options);

/** A suffix no other run uses. */
export const random = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;

/** A fresh browser profile (own cookies) with error tracking. */
export async function newPage(viewport = WIDE) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  return { context, page, problems };
}

/** Opens `path` and waits until the wasm bundle has hydrated the page. */
export async function goto(page, path) {
  const response = await page.goto(`${BASE_URL}${path}`);
  assert.ok(response.status() < 500, `${path} answered ${response.status()}`);
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
  return response;
}

/** Signs in through the form and waits for the organization page. */
export async function signIn(page, email, password = DEMO_PASSWORD) {
  await goto(page, '/sign-in');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('#sign-in-form button[type=submit]');
  await page.waitForURL(/\/organization/);
  await page.locator('#org-name').waitFor();
  await page.waitForSelector('.app[data-hydrated="true"]');
}

export async function noSidewaysScroll(page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
}

const apiTokens = new Map();

/** Calls the GraphQL API as `email` (for set-up and clean-up outside the browser). Signs in once
 * per account: sign-ins are rate limited. */
export async function api(email, query, variables = {}, password = DEMO_PASSWORD) {
  const call = async (q, v, token) => {
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${BASE_URL}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query: q, variables: v }) });
    return res.json();
  };
  if (!apiTokens.has(email)) {
    const session = await call('mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { accessToken } }',
      { e: email, p: password });
    assert.ok(session.data, `signing in through the API: ${JSON.stringify(session.errors)}`);
    apiTokens.set(email, session.data.signIn.accessToken);
  }
  return call(query, variables, apiTokens.get(email));
}
