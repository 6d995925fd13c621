// Accounts and organizations in a real browser: sign up, confirm the email, sign in, reset a
// forgotten password, manage members, invitations, roles and API tokens, switch organizations,
// sign out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BASE_URL, OUTPUT, newPage, goto, signIn as signInWith, random } from '../support.js';

const PASSWORD = 'a long and unusual passphrase';

const unique = (name) => `${name}-${random()}`;

/** The newest mail to `to` whose subject contains `subject`, from the dev mailbox. */
async function mail(to, subject) {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${BASE_URL}/dev/mailbox`);
    const { mails } = await res.json();
    const found = mails.find((m) => m.to === to && m.subject.includes(subject));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${to} about ${subject}`);
}

const linkIn = (body) => body.match(/https?:\/\/\S+/)[0].replace(/^https?:\/\/[^/]+/, '');

async function signUpAndVerify(page, { email, name, org }) {
  await goto(page, '/sign-up');
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.fill('#display-name', name);
  await page.fill('#organization-name', org);
  await page.click('#sign-up-form button[type=submit]');
  await page.locator('#sign-up-done').waitFor();
  const verification = await mail(email, 'Verify your email');
  await goto(page, linkIn(verification.body));
  await page.fill('#password', PASSWORD);
  await page.click('#verify-button');
  await page.locator('#verify-done').waitFor();
}

const signIn = (page, email) => signInWith(page, email, PASSWORD);

test('sign up, confirm the email, sign in and out', async () => {
  const { context, page, problems } = await newPage();
  const email = `${unique('ada')}@example.com`;
  const org = unique('Analytical Engines');
  await signUpAndVerify(page, { email, name: 'Ada Lovelace', org });
  await page.screenshot({ path: join(OUTPUT, 'verify-email-done.png'), fullPage: true });

  await signIn(page, email);
  assert.equal(await page.locator('#org-name').innerText(), org);
  assert.equal(await page.locator('#viewer-role').innerText(), 'owner');
  assert.equal(await page.locator('#user-name').innerText(), 'Ada Lovelace');
  const members = await page.locator('#members-table tbody tr').count();
  assert.equal(members, 1);
  await page.screenshot({ path: join(OUTPUT, 'organization-owner.png'), fullPage: true });

  // The session lives in HttpOnly cookies that scripts cannot read.
  const cookies = await context.cookies();
  const access = cookies.find((c) => c.name === 'trb_access');
  assert.ok(access?.httpOnly, 'access cookie is HttpOnly');
  assert.equal(await page.evaluate(() => document.cookie.includes('trb_')), false);

  await page.click('#sign-out');
  await page.locator('#sign-in-link').waitFor();
  await goto(page, '/organization');
  await page.locator('text=Sign in to see your organization').waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test('bad input is shown next to the field and keeps what was typed', async () => {
  const { context, page, problems } = await newPage();
  await goto(page, '/sign-up');
  await page.fill('#email', 'not-an-email@x');
  await page.fill('#password', 'short');
  assert.equal(await page.locator('#password-hint').innerText(), '7 more characters needed.');
  await page.fill('#password', 'password1234');
  await page.fill('#display-name', 'Grace');
  await page.fill('#organization-name', unique('Compilers'));
  await page.click('#sign-up-form button[type=submit]');
  await page.locator('#email-error').waitFor();
  assert.match(await page.locator('#email-error').innerText(), /^This is not a valid email address/);
  assert.equal(await page.inputValue('#display-name'), 'Grace', 'typed values survive');
  await page.fill('#email', `${unique('grace')}@example.com`);
  await page.click('#sign-up-form button[type=submit]');
  await page.locator('#password-error').waitFor();
  assert.equal(await page.locator('#password-error').innerText(), 'This is a well-known password');
  await page.screenshot({ path: join(OUTPUT, 'sign-up-errors.png'), fullPage: true });

  await goto(page, '/sign-in');
  await page.fill('#email', 'nobody@example.com');
  await page.fill('#password', 'wrong password here');
  await page.click('#sign-in-form button[type=submit]');
  await page.locator('#form-error').waitFor();
  assert.match(await page.locator('#form-error').innerText(), /email or password is incorrect/);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a forgotten password is reset through the mailed link, which works once', async () => {
  const { context, page, problems } = await newPage();
  const email = `${unique('forgetful')}@example.com`;
  await signUpAndVerify(page, { email, name: 'Fran Forgetful', org: unique('Forgetful Org') });
  // A second browser stays signed in: the reset must sign it out.
  const other = await newPage();
  await signIn(other.page, email);

  await goto(page, '/sign-in');
  await page.click('#forgot-password-link');
  await page.waitForURL(/\/forgot-password/);
  await page.waitForSelector('.app[data-hydrated="true"]');
  await page.fill('#email', 'not-an-email@x');
  await page.click('#forgot-form button[type=submit]');
  await page.locator('#email-error').waitFor();
  assert.match(await page.locator('#email-error').innerText(), /^This is not a valid email address/);
  await page.fill('#email', email);
  await page.click('#forgot-form button[type=submit]');
  await page.locator('#forgot-done').waitFor();
  assert.match(await page.locator('#forgot-done').innerText(), /If an account uses this address/);
  await page.screenshot({ path: join(OUTPUT, 'forgot-password-sent.png'), fullPage: true });

  const reset = await mail(email, 'Reset your Tributary password');
  const link = linkIn(reset.body);
  assert.match(link, /^\/reset-password\?token=/);
  await goto(page, link);
  await page.fill('#password', 'short');
  assert.equal(await page.locator('#password-hint').innerText(), '7 more characters needed.');
  await page.fill('#password', 'password1234');
  await page.click('#reset-form button[type=submit]');
  await page.locator('#password-error').waitFor();
  assert.equal(await page.locator('#password-error').innerText(), 'This is a well-known password');
  await page.screenshot({ path: join(OUTPUT, 'reset-password-error.png'), fullPage: true });
  const newPassword = 'a brand new and unusual passphrase';
  await page.fill('#password', newPassword);
  await page.click('#reset-form button[type=submit]');
  await page.locator('#reset-done').waitFor();
  await page.screenshot({ path: join(OUTPUT, 'reset-password-done.png'), fullPage: true });

  // The other browser's session ended.
  await goto(other.page, '/organization');
  await other.page.locator('text=Sign in to see your organization').waitFor();

  // The link works once.
  await goto(page, link);
  await page.fill('#password', 'another fresh passphrase 42');
  await page.click('#reset-form button[type=submit]');
  await page.locator('#reset-error').waitFor();

  // The old password is gone; the new one signs in.
  await goto(page, '/sign-in');
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.click('#sign-in-form button[type=submit]');
  await page.locator('#form-error').waitFor();
  await signInWith(page, email, newPassword);
  assert.deepEqual(problems, []);
  assert.deepEqual(other.problems, []);
  await other.context.close();
  await context.close();
});

test('API tokens are revealed once, listed by prefix, and revoked after confirmation', async () => {
  const { context, page, problems } = await newPage();
  const email = `${unique('tok')}@example.com`;
  await signUpAndVerify(page, { email, name: 'Token Owner', org: unique('Token Org') });
  await signIn(page, email);
  await page.locator('#no-tokens').waitFor();

  await page.fill('#token-name', 'ci-pipeline');
  await page.selectOption('#token-scope', 'write');
  await page.fill('#token-days', '30');
  await page.click('#token-form button[type=submit]');
  await page.locator('#secret-dialog').waitFor();
  const secret = await page.inputValue('#token-secret');
  assert.match(secret, /^trb_[0-9a-f]{12}_/);
  await page.screenshot({ path: join(OUTPUT, 'api-token-revealed.png'), fullPage: true });

  // The token works against the API as its organization.
  const viewer = await fetch(`${BASE_URL}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: JSON.stringify({ query: '{ viewer { organizations { viewerRole } } }' }),
  }).then((r) => r.json());
  assert.equal(viewer.data.viewer.organizations[0].viewerRole, 'DEVELOPER');

  await page.click('#close-secret');
  await page.locator('#secret-dialog').waitFor({ state: 'detached' });
  const row = page.locator('tr[data-token="ci-pipeline"]');
  assert.match(await row.innerText(), /Active/);
  assert.equal((await page.content()).includes(secret), false, 'the secret is gone from the page');

  await row.locator('.revoke-token').click();
  assert.match(await row.innerText(), /lose access at once/);
  await row.locator('.confirm-revoke').click();
  await page.locator('tr[data-token="ci-pipeline"] >> text=Revoked').waitFor();
  const after = await fetch(`${BASE_URL}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: JSON.stringify({ query: '{ viewer { organizations { id } } }' }),
  }).then((r) => r.json());
  assert.equal(after.errors[0].extensions.code, 'UNAUTHENTICATED');
  // Both changes are in the organization's audit log, newest first.
  await page.locator('#audit-table tr[data-action="api_token.revoked"]').waitFor();
  const actions = await page.locator('#audit-table tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.action));
  assert.deepEqual(actions.slice(0, 2), ['api_token.revoked', 'api_token.created']);
  assert.equal(await page.locator('#audit-older').isDisabled(), true, 'one page only');
  assert.equal(await page.locator('#secret-dialog').count(), 0, 'a dismissed secret stays hidden after the list refreshes');
  assert.equal((await page.content()).includes(secret), false);
  await page.screenshot({ path: join(OUTPUT, 'api-token-revoked.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('invite a member, accept, change the role, and switch organizations', async () => {
  const owner = await newPage();
  const ownerEmail = `${unique('owner')}@example.com`;
  const teamOrg = unique('Team Org');
  await signUpAndVerify(owner.page, { email: ownerEmail, name: 'Olive Owner', org: teamOrg });
  await signIn(owner.page, ownerEmail);

  const invitee = await newPage({ width: 390, height: 844 });
  const inviteeEmail = `${unique('ivan')}@example.com`;
  const ownOrg = unique('Ivan Org');
  await signUpAndVerify(invitee.page, { email: inviteeEmail, name: 'Ivan Invitee', org: ownOrg });

  await owner.page.fill('#invite-email', inviteeEmail);
  await owner.page.selectOption('#invite-role', 'developer');
  await owner.page.click('#invite-form button[type=submit]');
  await owner.page.locator(`#invitation-list >> text=${inviteeEmail}`).waitFor();
  await owner.page.screenshot({ path: join(OUTPUT, 'organization-invitation.png'), fullPage: true });

  // An invitation sent to the wrong address is revoked; its link stops working.
  const wrongEmail = `${unique('wrong')}@example.com`;
  await owner.page.fill('#invite-email', wrongEmail);
  await owner.page.click('#invite-form button[type=submit]');
  const wrongItem = owner.page.locator(`#invitation-list li[data-invitation="${wrongEmail}"]`);
  await wrongItem.waitFor();
  await wrongItem.locator('.revoke-invitation').click();
  assert.match(await wrongItem.innerText(), /link stops working/);
  await wrongItem.locator('.confirm-revoke-invitation').click();
  await wrongItem.waitFor({ state: 'detached' });
  await owner.page.locator(`#invitation-list >> text=${inviteeEmail}`).waitFor();

  const invitation = await mail(inviteeEmail, 'You are invited');
  await signIn(invitee.page, inviteeEmail);
  await goto(invitee.page, linkIn(invitation.body));
  await invitee.page.click('#accept-button');
  await invitee.page.locator('#accept-done').waitFor();
  await invitee.page.locator('#accept-done a').click();
  await invitee.page.waitForFunction((name) => document.querySelector('#org-name')?.textContent === name, teamOrg);
  assert.equal(await invitee.page.locator('#viewer-role').innerText(), 'developer');
  await invitee.page.screenshot({ path: join(OUTPUT, 'organization-member-390.png'), fullPage: true });
  const overflow = await invitee.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the organization page scrolls sideways by ${overflow}px on a phone`);

  // The org switcher lists both organizations and moves between them.
  await invitee.page.waitForFunction(() => document.querySelectorAll('#org-switcher option').length === 2);
  const options = await invitee.page.locator('#org-switcher option').allInnerTexts();
  assert.equal(options.length, 2, options.join(', '));
  const ownOption = await invitee.page.locator('#org-switcher option', { hasText: ownOrg }).getAttribute('value');
  await invitee.page.selectOption('#org-switcher', ownOption);
  await invitee.page.waitForFunction((name) => document.querySelector('#org-name')?.textContent === name, ownOrg);
  assert.match(invitee.page.url(), new RegExp(`org=${ownOption}`));

  // The owner changes Ivan's role; Ivan sees it after a reload.
  await owner.page.reload();
  await owner.page.waitForSelector('.app[data-hydrated="true"]');
  const ivanRow = owner.page.locator(`tr[data-email="${inviteeEmail}"]`);
  await ivanRow.locator('select').selectOption('viewer');
  // The select shows "viewer" before the server has it: wait for the answer to the change itself.
  await Promise.all([
    owner.page.waitForResponse((r) => r.url().includes('change_member_role') && r.request().method() === 'POST'),
    ivanRow.locator('button[type=submit]').click(),
  ]);
  await owner.page.waitForFunction((email) => {
    const select = document.querySelector(`tr[data-email="${email}"] select`);
    return select && select.value === 'viewer';
  }, inviteeEmail);
  await goto(invitee.page, '/organization');
  await invitee.page.selectOption('#org-switcher', { label: `${teamOrg} (viewer)` });
  await invitee.page.waitForFunction((name) => document.querySelector('#org-name')?.textContent === name, teamOrg);
  assert.equal(await invitee.page.locator('#viewer-role').innerText(), 'viewer');
  assert.equal(await invitee.page.locator('#token-form').count(), 0, 'viewers cannot create tokens');
  assert.equal(await invitee.page.locator('#invite-form').count(), 0, 'viewers cannot invite');

  // Removing asks first: Cancel keeps Ivan, confirming removes him.
  const row = () => owner.page.locator(`tr[data-email="${inviteeEmail}"]`);
  await row().locator('.remove-member').click();
  assert.match(await row().innerText(), /lose access to this organization/);
  await row().locator('button', { hasText: 'Cancel' }).click();
  await row().locator('.remove-member').waitFor();
  await row().locator('.remove-member').click();
  await row().locator('.confirm-remove').click();
  // The list reloads after the change: wait for it to show only the owner.
  await owner.page.waitForFunction((email) => {
    const rows = [...document.querySelectorAll('#members-table tbody tr')];
    return rows.length === 1 && !rows.some((r) => r.dataset.email === email);
  }, inviteeEmail);

  assert.deepEqual(owner.problems, []);
  assert.deepEqual(invitee.problems, []);
  await owner.context.close();
  await invitee.context.close();
});
