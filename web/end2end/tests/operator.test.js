// The operator's clusters page in a real browser: the demo cluster's health check, registering
// a cluster (a field error first, then one that cannot be reached), deleting it, editing the demo
// cluster (and putting it back), and what a provider sees instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  BASE_URL, OUTPUT, OPERATOR, PROVIDER, WIDE, NARROW, newContext, newPage, goto, signIn, noSidewaysScroll,
  random, api,
} from '../support.js';

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

/** The demo cluster as the seed left it (region "dev", the embedded registry), whatever happened. */
async function restoreDemoCluster() {
  const listed = await api(OPERATOR, '{ managedClusters { id name region bootstrapServers securityProtocol saslUsername schemaRegistryUrl } }');
  const local = listed.data.managedClusters.find((c) => c.name === 'local');
  if (!local || (local.region === 'dev' && !local.schemaRegistryUrl)) return;
  const restored = await api(OPERATOR, 'mutation($id: UUID!, $input: ClusterInput!) { updateCluster(id: $id, input: $input) { id } }', {
    id: local.id,
    input: { name: 'local', region: 'dev', bootstrapServers: local.bootstrapServers,
      securityProtocol: local.securityProtocol, saslUsername: local.saslUsername },
  });
  assert.ok(restored.data, `restoring the demo cluster: ${JSON.stringify(restored.errors)}`);
}

/** Presses "Check now" in the row of `name` and waits for the answer of this check. */
async function checkNow(page, name) {
  await row(page, name).locator('button.check-health').click();
  await page.waitForFunction((n) => {
    const r = document.querySelector(`#clusters-table tr[data-cluster="${n}"]`);
    return r && !r.querySelector('button.check-health').disabled
      && r.querySelector('.health-message').innerText.includes('broker(s) answered');
  }, name, { timeout: 30000 });
}

test('the operator edits a cluster: prefilled, a field error keeps what was typed, the password is kept', async () => {
  const { context, page, problems } = await newPage();
  try {
    await signIn(page, OPERATOR);
    await goto(page, '/operator/clusters');
    const local = row(page, 'local');
    await local.waitFor();
    assert.equal(await local.locator('.cluster-registry').innerText(), 'Embedded');

    // Edit opens the form with what is stored; secrets are never filled in.
    await local.locator('a.edit-cluster').click();
    await page.waitForURL(/[?&]edit=/);
    await page.locator('#edit-cluster-form').waitFor();
    assert.match(await page.locator('#edit-cluster-heading').innerText(), /Edit local/);
    assert.equal(await page.inputValue('#edit-cluster-name'), 'local');
    assert.equal(await page.inputValue('#edit-cluster-region'), 'dev');
    assert.match(await page.inputValue('#edit-cluster-bootstrap'), /^127\.0\.0\.1:\d+$/);
    assert.equal(await page.inputValue('#edit-cluster-protocol'), 'SASL_PLAINTEXT');
    assert.ok((await page.inputValue('#edit-cluster-username')).length > 0);
    assert.equal(await page.inputValue('#edit-cluster-password'), '');
    assert.match(await page.locator('#edit-cluster-form').innerText(), /Leave empty to keep the stored one/);
    assert.equal(await page.inputValue('#edit-cluster-registry'), '');
    assert.ok(await page.locator('#edit-cluster-ca').isHidden(), 'no CA bundle for SASL_PLAINTEXT');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'edit-cluster-name');

    // Cancel closes the form and changes nothing.
    await page.fill('#edit-cluster-region', 'somewhere-else');
    await page.click('#edit-cluster-cancel');
    await page.waitForFunction(() => !document.querySelector('#edit-cluster'));
    assert.doesNotMatch(page.url(), /edit=/);
    assert.match(await local.locator('td').first().innerText(), /\bdev\b/);

    // A registry URL without a scheme: the error sits next to the field, what was typed stays.
    const region = `e2e-${random()}`;
    await local.locator('a.edit-cluster').click();
    await page.locator('#edit-cluster-form').waitFor();
    assert.equal(await page.inputValue('#edit-cluster-region'), 'dev', 'a cancelled edit left nothing behind');
    await page.fill('#edit-cluster-region', region);
    await page.fill('#edit-cluster-registry', 'registry.example.com:8081');
    await page.click('#edit-cluster-submit');
    await page.locator('#edit-cluster-registry-error').waitFor();
    assert.match(await page.locator('#edit-cluster-registry-error').innerText(), /http\(s\) URL/);
    assert.equal(await page.inputValue('#edit-cluster-region'), region);
    assert.equal(await page.inputValue('#edit-cluster-registry'), 'registry.example.com:8081');
    assert.equal(await page.locator('#cluster-updated').count(), 0);
    await page.locator('#edit-cluster').screenshot({ path: join(OUTPUT, 'operator-edit-error-1440.png') });

    // Fixed: saved, the form closes, the row shows the new region and registry.
    const registry = 'http://127.0.0.1:9/registry';
    await page.fill('#edit-cluster-registry', registry);
    await page.click('#edit-cluster-submit');
    await page.locator('#cluster-updated').waitFor();
    assert.match(await page.locator('#cluster-updated').innerText(), /Saved the changes to local/);
    await page.waitForURL(/[?&]updated=/);
    assert.equal(await page.locator('#edit-cluster').count(), 0);
    await page.waitForFunction((r) => document.querySelector('#clusters-table tr[data-cluster="local"]')?.innerText.includes(r), region);
    assert.equal(await local.locator('.cluster-registry').innerText(), registry);
    await page.screenshot({ path: join(OUTPUT, 'operator-cluster-edited-1440.png'), fullPage: true });

    // The stored password was kept: the broker still lets Tributary in (nothing answers as the registry).
    await checkNow(page, 'local');
    assert.equal(await local.locator('.health-status').innerText(), 'Unhealthy');
    assert.match(await local.locator('.health-message').innerText(), /1 broker\(s\) answered, but the schema registry failed/);
    assert.deepEqual(problems, []);

    // Without JavaScript the same form works: back to region "dev" and the embedded registry.
    const state = await context.storageState();
    const plain = await newContext({ javaScriptEnabled: false, viewport: WIDE, storageState: state });
    const noJs = await plain.newPage();
    await noJs.goto(`${BASE_URL}/operator/clusters`);
    await row(noJs, 'local').locator('a.edit-cluster').click();
    await noJs.locator('#edit-cluster-form').waitFor();
    assert.equal(await noJs.inputValue('#edit-cluster-region'), region);
    assert.equal(await noJs.inputValue('#edit-cluster-registry'), registry);
    await noJs.fill('#edit-cluster-region', 'dev');
    await noJs.fill('#edit-cluster-registry', '');
    await noJs.click('#edit-cluster-submit');
    await noJs.locator('#cluster-updated').waitFor();
    assert.equal(await noJs.locator('#edit-cluster').count(), 0);
    assert.equal(await row(noJs, 'local').locator('.cluster-registry').innerText(), 'Embedded');
    await plain.close();

    // Healthy again, with the password stored before both edits.
    await goto(page, '/operator/clusters');
    await local.waitFor();
    assert.match(await local.locator('td').first().innerText(), /\bdev\b/);
    await checkNow(page, 'local');
    assert.equal(await local.locator('.health-status').innerText(), 'Healthy');
    assert.match(await local.locator('.health-message').innerText(), /^1 broker\(s\) answered$/);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    await restoreDemoCluster();
  }

  // Narrow: the edit form fits 390 px.
  const narrow = await newPage(NARROW);
  await signIn(narrow.page, OPERATOR);
  await goto(narrow.page, '/operator/clusters');
  await row(narrow.page, 'local').locator('a.edit-cluster').click();
  await narrow.page.locator('#edit-cluster-form').waitFor();
  await noSidewaysScroll(narrow.page);
  await narrow.page.screenshot({ path: join(OUTPUT, 'operator-edit-390.png'), fullPage: true });
  await narrow.page.click('#edit-cluster-cancel');
  await narrow.page.waitForFunction(() => !document.querySelector('#edit-cluster'));
  assert.deepEqual(narrow.problems, []);
  await narrow.context.close();
});

test('a stored CA bundle is kept when the form is saved without it, and removed only on purpose', async () => {
  const name = `e2e-ca-${random()}`;
  const pem = '-----BEGIN CERTIFICATE-----\nMIIBe2e\n-----END CERTIFICATE-----';
  const registered = await api(OPERATOR, 'mutation($input: ClusterInput!) { registerCluster(input: $input) { id hasCaBundle } }', {
    input: { name, region: 'test', bootstrapServers: '127.0.0.1:9', securityProtocol: 'SASL_SSL',
      saslUsername: 'nobody', saslPassword: 'secret-password-1', caPem: pem },
  });
  assert.ok(registered.data?.registerCluster.hasCaBundle, JSON.stringify(registered.errors));
  const { id } = registered.data.registerCluster;
  const { context, page, problems } = await newPage();
  try {
    await signIn(page, OPERATOR);
    // The edit form has its own address: opened directly, it is there on the first paint.
    await goto(page, `/operator/clusters?edit=${id}`);
    await page.locator('#edit-cluster-form').waitFor();
    assert.match(await row(page, name).innerText(), /SASL_SSL · private CA/);
    assert.equal(await page.inputValue('#edit-cluster-protocol'), 'SASL_SSL');
    assert.match(await page.locator('#edit-cluster-ca-stored').innerText(), /A CA bundle is stored/);
    assert.equal(await page.inputValue('#edit-cluster-ca'), '', 'a stored bundle cannot be read back');
    await page.locator('#edit-cluster').screenshot({ path: join(OUTPUT, 'operator-edit-ca-1440.png') });

    // Saved without touching it: the bundle stays.
    await page.fill('#edit-cluster-region', 'eu-test');
    await page.click('#edit-cluster-submit');
    await page.locator('#cluster-updated').waitFor();
    await page.waitForFunction((n) => document.querySelector(`#clusters-table tr[data-cluster="${n}"]`)?.innerText.includes('eu-test'), name);
    assert.match(await row(page, name).innerText(), /private CA/);
    const kept = await api(OPERATOR, '{ managedClusters { id hasCaBundle } }');
    assert.equal(kept.data.managedClusters.find((c) => c.id === id).hasCaBundle, true);

    // Removed on purpose.
    await row(page, name).locator('a.edit-cluster').click();
    await page.locator('#edit-cluster-form').waitFor();
    await page.check('#edit-cluster-remove-ca');
    await page.click('#edit-cluster-submit');
    await page.waitForFunction((n) => {
      const r = document.querySelector(`#clusters-table tr[data-cluster="${n}"]`);
      return r && !r.innerText.includes('private CA') && !document.querySelector('#edit-cluster');
    }, name);
    const listed = await api(OPERATOR, '{ managedClusters { id hasCaBundle region } }');
    assert.deepEqual(listed.data.managedClusters.find((c) => c.id === id), { id, hasCaBundle: false, region: 'eu-test' });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    await api(OPERATOR, 'mutation($id: UUID!) { deleteCluster(id: $id) }', { id });
  }
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
