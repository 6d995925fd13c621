// Streams in a real browser: catalog search and facets, the stream page (contract, plans,
// schema viewer, live samples), and a provider publishing a new stream through the wizard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  BASE_URL, OUTPUT, PROVIDER, WIDE, NARROW, newContext, newPage, goto, signIn, noSidewaysScroll, random,
  api,
} from '../support.js';

const signInAsProvider = (page) => signIn(page, PROVIDER);

const rows = (page) => page.locator('#catalog-table tbody tr');

test('catalog search tolerates typos, and facets narrow the results in the URL', async () => {
  const { context, page, problems } = await newPage();
  await goto(page, '/');
  const all = await rows(page).count();
  assert.ok(all >= 4, `the catalog lists the demo streams (${all})`);

  // A typo still finds the stream, without a reload, and the query lands in the URL.
  await page.evaluate(() => { window.__streamsMarker = 'kept'; });
  await page.locator('#catalog-filter').fill('wether');
  await page.waitForFunction(() => {
    const body = document.querySelector('#catalog-table tbody');
    return body && body.innerText.includes('Weather observations');
  });
  await page.waitForURL(/[?&]q=wether/);
  assert.equal(await page.evaluate(() => window.__streamsMarker), 'kept', 'the page reloaded');

  // A facet: category "retail" leaves only Retail orders, checked and counted.
  await goto(page, '/');
  const retail = page.locator('.facet[data-facet="category"] a[data-value="retail"]');
  assert.equal(await retail.locator('.facet-count').innerText(), '1');
  await retail.click();
  await page.waitForURL(/[?&]category=retail/);
  await page.waitForFunction(() => document.querySelectorAll('#catalog-table tbody tr').length === 1);
  assert.match(await rows(page).first().innerText(), /Retail orders/);
  assert.match(await page.locator('#catalog-count').innerText(), /^Showing 1 of \d+ streams$/);
  await page.locator('.facet[data-facet="category"] a[data-value="retail"][aria-checked="true"]').waitFor();
  // Tags come from the same facet data; the PII-carrying stream is tagged "orders".
  await page.locator('.facet[data-facet="tag"] a[data-value="orders"]').waitFor();
  await page.screenshot({ path: join(OUTPUT, 'streams-catalog-facets-1440.png'), fullPage: true });

  // Switching the facet off again brings every stream back.
  await page.locator('.facet[data-facet="category"] a[data-value="retail"]').click();
  await page.waitForFunction((n) => document.querySelectorAll('#catalog-table tbody tr').length === n, all);

  // Nothing matches: an empty state that says what to do.
  await page.locator('#catalog-filter').fill('zzqqxxy nothing like this');
  await page.locator('#catalog-empty').waitFor();
  assert.deepEqual(problems, []);
  await context.close();

  // The same URL is readable without JavaScript (a shareable link).
  const plain = await newContext({ javaScriptEnabled: false, viewport: WIDE });
  const noJs = await plain.newPage();
  await noJs.goto(`${BASE_URL}/?category=retail`);
  assert.equal(await noJs.locator('#catalog-table tbody tr').count(), 1);
  assert.match(await noJs.locator('#catalog-count').innerText(), /^Showing 1 of \d+ streams$/);
  await plain.close();

  const narrow = await newPage(NARROW);
  await goto(narrow.page, '/?q=weather');
  await narrow.page.waitForFunction(() => document.querySelectorAll('#catalog-table tbody tr').length >= 1);
  await noSidewaysScroll(narrow.page);
  await narrow.page.screenshot({ path: join(OUTPUT, 'streams-catalog-390.png'), fullPage: true });
  assert.deepEqual(narrow.problems, []);
  await narrow.context.close();
});

test('the stream page shows contract, plans, schema versions and live samples', async () => {
  const { context, page, problems } = await newPage();
  await goto(page, '/');
  await page.locator('#catalog-table a', { hasText: 'Retail orders' }).click();
  await page.waitForURL(/\/streams\/northwind-data\/retail-orders$/);
  await page.locator('#stream-title').waitFor();
  assert.match(await page.locator('#stream-title').innerText(), /Retail orders\s+Published/);
  assert.equal(await page.locator('#stream-provider').innerText(), 'Northwind Data');
  // The sanitized markdown description is rendered as HTML.
  assert.ok(await page.locator('#stream-description strong').count() >= 1);
  // The schema viewer shows the pretty schema of the newest version.
  assert.match(await page.locator('#value-schema-text').innerText(), /customer_email/);
  assert.ok(await page.locator('#value-version option').count() >= 1);
  // Contract and plans; money from integer minor units.
  assert.match(await page.locator('#contract').innerText(), /BACKWARD/);
  assert.match(await page.locator('#classifications').innerText(), /customer_email\s+PII/);
  const plans = await page.locator('#plans').innerText();
  assert.match(plans, /Free tier/);
  assert.match(plans, /€2\.50 per million messages/);
  // Live samples (the demo producer runs during the browser tests), decoded with the registry,
  // customer e-mails redacted.
  await page.locator('#samples').waitFor();
  await page.locator('#samples-table').waitFor({ timeout: 20000 });
  const samples = await page.locator('#samples-table').innerText();
  assert.match(samples, /\[redacted\]/, 'PII fields are shown redacted');
  assert.doesNotMatch(samples, /@/, 'no customer e-mail reaches the page');
  assert.match(samples, /order_id/, 'values are decoded to JSON');
  await page.screenshot({ path: join(OUTPUT, 'streams-stream-page-1440.png'), fullPage: true });
  // Visitors do not see lifecycle actions.
  assert.equal(await page.locator('#lifecycle').count(), 0);
  assert.deepEqual(problems, []);
  await context.close();

  const narrow = await newPage(NARROW);
  await goto(narrow.page, '/streams/northwind-data/weather-observations');
  await narrow.page.locator('#value-schema-text').waitFor();
  await noSidewaysScroll(narrow.page);
  await narrow.page.screenshot({ path: join(OUTPUT, 'streams-stream-page-390.png'), fullPage: true });
  assert.deepEqual(narrow.problems, []);
  await narrow.context.close();

  const plain = await newContext({ javaScriptEnabled: false, viewport: WIDE });
  const noJs = await plain.newPage();
  await noJs.goto(`${BASE_URL}/streams/northwind-data/retail-orders`);
  assert.match(await noJs.locator('#value-schema-text').innerText(), /customer_email/);
  await noJs.locator('#samples').waitFor();
  await plain.close();
});

test('the schema viewer lists versions and shows the differences between two', async () => {
  // A second version of the weather stream's value schema, registered through the API.
  const found = await api(PROVIDER, 'query { stream(providerSlug: "northwind-data", slug: "weather-observations") { id schemaVersions(role: VALUE) { schema } } }');
  assert.ok(found.data, JSON.stringify(found.errors));
  const stream = found.data.stream;
  const v1 = JSON.parse(stream.schemaVersions[stream.schemaVersions.length - 1].schema);
  v1.properties.station_id.description = 'Station code, as the weather service assigns it';
  const registered = await api(PROVIDER, 'mutation($input: RegisterSchemaInput!) { registerStreamSchema(input: $input) { created schema { version } } }',
    { input: { streamId: stream.id, role: 'VALUE', schemaType: 'JSON', schema: JSON.stringify(v1) } });
  assert.ok(registered.data, JSON.stringify(registered.errors));
  const version = registered.data.registerStreamSchema.schema.version;
  assert.ok(version >= 2, `a new version (${version})`);

  const { context, page, problems } = await newPage();
  await goto(page, '/streams/northwind-data/weather-observations');
  await page.locator('#value-schema-text').waitFor();
  assert.equal(await page.locator('#value-version option').count(), version);
  assert.match(await page.locator('#value-schema-text').innerText(), /Station code/);
  // The older version is one pick away.
  await page.selectOption('#value-version', '1');
  await page.waitForFunction(() => !document.querySelector('#value-schema-text').innerText.includes('Station code'));
  // From the previous to the newest version: the added description is the one added line.
  await page.click('#value-diff-button');
  await page.locator('#schema-diff').waitFor();
  const added = await page.locator('#schema-diff .diff-add').allInnerTexts();
  assert.ok(added.some((line) => line.includes('Station code')), added.join('\n'));
  const removed = await page.locator('#schema-diff .diff-del').allInnerTexts();
  assert.ok(!removed.some((line) => line.includes('Station code')), removed.join('\n'));
  await page.screenshot({ path: join(OUTPUT, 'streams-schema-diff-1440.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('a provider publishes a stream with a key schema; an incompatible schema is refused', async () => {
  const { context, page, problems } = await newPage();
  await signInAsProvider(page);
  await page.click('#nav-my-streams');
  await page.waitForURL(/\/my-streams/);
  await page.locator('#my-streams-table').waitFor();
  assert.ok(await page.locator('#my-streams-table tbody tr').count() >= 4);
  await page.screenshot({ path: join(OUTPUT, 'streams-my-streams-1440.png'), fullPage: true });

  await page.click('#publish-stream');
  await page.waitForURL(/\/my-streams\/new/);
  await page.locator('#details-form').waitFor();
  await page.waitForSelector('.app[data-hydrated="true"]');

  const id = random();
  const name = `E2E sensor events ${id}`;
  const topic = `e2e.${id}.events`;
  // 1. Details. A private stream: visible to its provider, not in other people's catalog.
  await page.fill('#stream-name', name);
  await page.fill('#stream-topic', topic);
  await page.selectOption('#stream-category', 'iot');
  await page.fill('#stream-summary', 'Readings of e2e sensors, once per second.');
  await page.fill('#stream-tags', 'e2e, sensors');
  await page.selectOption('#stream-visibility', 'private');
  await page.fill('#stream-description', '# Sensor events\n\nReadings in **tenths** of a degree.');
  await page.click('#create-stream');
  await page.locator('#draft-created').waitFor();
  assert.equal(await page.inputValue('#stream-name'), name, 'what was typed stays');

  // 2. Topic.
  await page.fill('#topic-partitions', '1');
  await page.click('#provision-topic');
  await page.locator('#topic-done').waitFor({ timeout: 30000 });

  // 3. Value schema: register version 1.
  const v1 = JSON.stringify({
    $schema: 'http://json-schema.org/draft-07/schema#', title: 'SensorEvent', type: 'object',
    properties: { sensor_id: { type: 'string' }, reading: { type: 'integer' }, ts: { type: 'integer' } },
    required: ['sensor_id', 'reading', 'ts'],
  }, null, 2);
  // The key schema is optional: left empty, it is skipped.
  assert.match(await page.locator('#step-schema').innerText(), /Key schema\s+Optional/);
  await page.selectOption('#schema-type', 'JSON');
  await page.fill('#schema-text', v1);
  await page.click('#register-schema');
  await page.locator('#schema-outcome', { hasText: 'Registered as version 1' }).waitFor();
  assert.equal(await page.locator('#key-schema-outcome').count(), 0, 'no key schema, nothing registered');

  // An incompatible version 2 (sensor_id changes type): checked, then refused, with reasons.
  const v2 = v1.replace('"sensor_id": {\n      "type": "string"', '"sensor_id": {\n      "type": "integer"');
  assert.notEqual(v2, v1);
  await page.fill('#schema-text', v2);
  await page.click('#check-schema');
  await page.locator('#schema-outcome', { hasText: 'Incompatible' }).waitFor();
  await page.click('#register-schema');
  await page.locator('#schema-outcome', { hasText: 'Incompatible' }).waitFor();
  assert.ok(await page.locator('#schema-reasons li').count() >= 1, 'the reasons are listed');
  assert.equal(await page.inputValue('#schema-text'), v2, 'the schema text is kept');
  await page.screenshot({ path: join(OUTPUT, 'streams-wizard-incompatible-1440.png'), fullPage: true });
  await page.fill('#schema-text', v1);

  // A key schema: one that does not parse is refused next to its own text; then it is registered.
  await page.fill('#key-schema-text', '{ "type": ');
  await page.click('#check-schema');
  await page.locator('#key-schema-text-error').waitFor();
  assert.equal(await page.locator('#schema-text-error').count(), 0, 'the value schema is fine');
  const key = JSON.stringify({
    $schema: 'http://json-schema.org/draft-07/schema#', title: 'SensorKey', type: 'object',
    properties: { device_serial: { type: 'string' } }, required: ['device_serial'],
  }, null, 2);
  await page.selectOption('#key-schema-type', 'JSON');
  await page.fill('#key-schema-text', key);
  await page.click('#check-schema');
  await page.locator('#key-schema-outcome', { hasText: 'Compatible' }).waitFor();
  assert.equal(await page.locator('#key-schema-text-error').count(), 0);
  await page.click('#register-schema');
  await page.locator('#key-schema-outcome', { hasText: 'Registered as version 1' }).waitFor();
  await page.locator('#schema-outcome', { hasText: 'Already registered as version 1' }).waitFor();
  await page.locator('#step-publish .checklist li.done', { hasText: 'Key schema' }).waitFor();
  await page.locator('#step-schema').screenshot({ path: join(OUTPUT, 'streams-wizard-key-schema-1440.png') });

  // 4. Contract.
  await page.selectOption('#contract-compatibility', 'BACKWARD');
  await page.fill('#contract-freshness', '10');
  await page.fill('#contract-pii', 'sensor_id');
  await page.click('#save-contract');
  await page.locator('#contract-done').waitFor();

  // 5. A paid plan with a bad price is refused next to the field; then a free plan.
  await page.selectOption('#plan-pricing', 'flat');
  await page.fill('#plan-name', 'Team');
  await page.fill('#plan-price', '12.345');
  await page.click('#add-plan');
  await page.locator('#plan-price-error').waitFor();
  await page.selectOption('#plan-pricing', 'free');
  await page.fill('#plan-name', 'Free tier');
  await page.click('#add-plan');
  await page.locator('#plan-list', { hasText: 'Free tier' }).waitFor();

  // 6. Publish: the browser lands on the stream page.
  await page.click('#publish-button');
  await page.waitForURL(/\/streams\/northwind-data\/e2e-sensor-events-/, { timeout: 30000 });
  await page.locator('#stream-title', { hasText: name }).waitFor();
  assert.match(await page.locator('#stream-title').innerText(), /Published/);
  assert.match(await page.locator('#classifications').innerText(), /sensor_id/);
  assert.match(await page.locator('#value-schema-text').innerText(), /sensor_id/);
  // The key schema has its own viewer.
  assert.match(await page.locator('#key-schema-heading').innerText(), /Key schema/);
  assert.match(await page.locator('#key-schema-text').innerText(), /device_serial/);
  assert.doesNotMatch(await page.locator('#value-schema-text').innerText(), /device_serial/);
  await page.locator('#lifecycle #deprecate-stream').waitFor();

  // It is in the catalog (for its provider) and in My streams.
  await goto(page, '/?category=iot');
  await page.locator('#catalog-table a', { hasText: name }).waitFor();
  await goto(page, '/my-streams');
  const mine = page.locator('#my-streams-table tbody tr', { hasText: name });
  await mine.waitFor();
  assert.match(await mine.innerText(), /Published/);
  assert.match(await mine.innerText(), new RegExp(topic.replaceAll('.', '\\.')));
  assert.deepEqual(problems, []);
  await context.close();
});

test('the wizard and my streams fit a narrow screen', async () => {
  const { context, page, problems } = await newPage(NARROW);
  await signInAsProvider(page);
  await goto(page, '/my-streams');
  await page.locator('#my-streams-table').waitFor();
  await noSidewaysScroll(page);
  await page.screenshot({ path: join(OUTPUT, 'streams-my-streams-390.png'), fullPage: true });
  await goto(page, '/my-streams/new');
  await page.locator('#details-form').waitFor();
  await noSidewaysScroll(page);
  await page.screenshot({ path: join(OUTPUT, 'streams-wizard-390.png'), fullPage: true });
  // Value and key schema stack on a narrow screen.
  await page.locator('#step-schema').screenshot({ path: join(OUTPUT, 'streams-wizard-schemas-390.png') });
  assert.deepEqual(problems, []);
  await context.close();
});
