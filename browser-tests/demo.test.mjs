// End-to-end tests of the demo app in headless Chromium, driven by playwright-core.
// scripts/browser-tests.sh starts the demo (once per backend) and sets BASE_URL and BACKEND.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BASE = process.env.BASE_URL;
const BACKEND = process.env.BACKEND ?? 'memory';
const ARTIFACTS = process.env.ARTIFACTS_DIR ?? 'artifacts';
assert.ok(BASE, 'BASE_URL must point at a running demo');

let browser;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
});

/** Clicks `selector` and waits for the navigation its form submission causes. */
async function submit(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

test(`[${BACKEND}] sign in, flash once, protected page, sign out, old cookie refused`, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();

  // The guard sends a visitor without a session to the sign-in form, with a notice.
  await page.goto(`${BASE}/private`);
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.equal(await page.textContent('.notice'), 'Please sign in to continue.');

  await page.fill('input[name=username]', 'ada');
  await page.fill('input[name=password]', 'lovelace');
  await submit(page, 'button[type=submit]');
  assert.equal(new URL(page.url()).pathname, '/');
  assert.equal(await page.textContent('.notice'), 'Signed in as ada');
  assert.equal(await page.textContent('#user'), 'ada');
  await page.screenshot({ path: `${ARTIFACTS}/signed-in-${BACKEND}.png`, fullPage: true });

  // The flash was shown once.
  await page.reload();
  assert.equal(await page.locator('.notice').count(), 0);

  await page.goto(`${BASE}/private`);
  assert.equal(new URL(page.url()).pathname, '/private');
  assert.equal(await page.textContent('#user'), 'ada');
  const signedIn = await context.cookies();
  assert.ok(signedIn.some((c) => c.name === '__sid' && c.httpOnly && c.sameSite === 'Lax'));

  const api = await page.request.get(`${BASE}/api/session`);
  assert.equal(api.status(), 200);
  const body = await api.json();
  assert.equal(body.user, 'ada');
  assert.ok(body.idle_expires_at_ms <= body.absolute_expires_at_ms);

  await submit(page, '#sign-out');
  assert.equal(await page.textContent('.notice'), 'Signed out');

  // The cookie from before sign-out no longer opens the protected page.
  const replay = await browser.newContext();
  await replay.addCookies(signedIn);
  const old = await replay.newPage();
  await old.goto(`${BASE}/private`);
  assert.equal(new URL(old.url()).pathname, '/login', 'the signed-out cookie still opened /private');
  const oldApi = await old.request.get(`${BASE}/api/session`);
  assert.equal(oldApi.status(), 401);
  await replay.close();
  await context.close();
});

/** Signs `page` in as ada through the form. */
async function signIn(page) {
  await page.goto(`${BASE}/login`);
  await page.fill('input[name=username]', 'ada');
  await page.fill('input[name=password]', 'lovelace');
  await submit(page, 'button[type=submit]');
  assert.equal(new URL(page.url()).pathname, '/');
}

test(`[${BACKEND}] your sessions: sign out everywhere else`, async () => {
  const laptop = await browser.newContext({ userAgent: 'Laptop browser' });
  const phone = await browser.newContext({ userAgent: 'Phone browser' });
  const here = await laptop.newPage();
  const there = await phone.newPage();
  await signIn(here);
  await signIn(there);

  await here.goto(`${BASE}/sessions`);
  const listing = await here.textContent('ul');
  assert.ok(listing.includes('Laptop browser') && listing.includes('Phone browser'), listing);
  assert.equal(await here.locator('li.session.current').count(), 1);
  assert.ok((await here.textContent('li.session.current')).includes('Laptop browser'));

  await submit(here, '#revoke-others');
  assert.match(await here.textContent('.notice'), /Signed out \d+ other sessions?\./);
  assert.equal(await here.locator('li.session').count(), 1);

  // The other device is signed out; this one is not.
  await there.goto(`${BASE}/private`);
  assert.equal(new URL(there.url()).pathname, '/login');
  await here.goto(`${BASE}/private`);
  assert.equal(new URL(here.url()).pathname, '/private');
  await laptop.close();
  await phone.close();
});

test(`[${BACKEND}] two tabs adding to the cart at once both land`, async () => {
  const context = await browser.newContext();
  const first = await context.newPage();
  await first.goto(`${BASE}/cart`);
  const second = await context.newPage();
  await second.goto(`${BASE}/cart`);

  await Promise.all([submit(first, '#add-apple'), submit(second, '#add-book')]);

  await first.reload();
  assert.equal(await first.textContent('#qty-apple'), '1');
  assert.equal(await first.textContent('#qty-book'), '1');
  await context.close();
});

test(`[${BACKEND}] a form posted without its CSRF token is refused`, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE}/cart`);
  await page.evaluate(() => {
    for (const input of document.querySelectorAll('input[name=csrf]')) input.value = 'forged';
  });
  const [response] = await Promise.all([page.waitForNavigation(), page.click('#add-tea')]);
  assert.equal(response.status(), 403);
  await page.goto(`${BASE}/cart`);
  assert.equal(await page.textContent('#qty-tea'), '0');
  await context.close();
});

/** Signs `page` in through the form as `user` with `password`, with "remember me" or not,
 * and checks where it lands. */
async function signInAs(page, user, password, remember = false, landing = '/') {
  await page.goto(`${BASE}/login`);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', password);
  if (remember) await page.check('#remember');
  await submit(page, 'button[type=submit]');
  assert.equal(new URL(page.url()).pathname, landing);
}

/** A browser restart: a new context holding only the cookies that outlive the browser. */
async function restarted(context) {
  const kept = (await context.cookies()).filter((c) => c.expires !== -1);
  const next = await browser.newContext();
  await next.addCookies(kept);
  return next;
}

test(`[${BACKEND}] remember me: a browser session ends with the browser, a remembered one does not`, async () => {
  const forgetful = await browser.newContext();
  await signInAs(await forgetful.newPage(), 'grace', 'hopper');
  const [browserCookie] = (await forgetful.cookies()).filter((c) => c.name === '__sid');
  assert.equal(browserCookie.expires, -1, 'without "remember me" the cookie has no Max-Age');
  const afterRestart = await restarted(forgetful);
  const page = await afterRestart.newPage();
  await page.goto(`${BASE}/private`);
  assert.equal(new URL(page.url()).pathname, '/login', 'still signed in after a browser restart');

  const remembering = await browser.newContext();
  await signInAs(await remembering.newPage(), 'grace', 'hopper', true);
  const [kept] = (await remembering.cookies()).filter((c) => c.name === '__sid');
  const days = (kept.expires - Date.now() / 1000) / 86400;
  assert.ok(days > 29.9 && days <= 30, `the remembered cookie lasts ${days} days`);
  const remembered = await restarted(remembering);
  const again = await remembered.newPage();
  await again.goto(`${BASE}/private`);
  assert.equal(new URL(again.url()).pathname, '/private', 'signed out by a browser restart');
  for (const context of [forgetful, afterRestart, remembering, remembered]) await context.close();
});

test(`[${BACKEND}] change password: re-enter it, then every other session is signed out`, async () => {
  const laptop = await browser.newContext({ userAgent: 'Laptop browser' });
  const phone = await browser.newContext({ userAgent: 'Phone browser' });
  const here = await laptop.newPage();
  const there = await phone.newPage();
  await signInAs(here, 'alan', 'turing');
  await signInAs(there, 'alan', 'turing');

  // A fresh sign-in opens the page; a stale one is sent to /reauth (tested on the test clock
  // in examples/tests/demo.rs). Here the visitor re-enters the password there, as it would.
  await here.goto(`${BASE}/account/password`);
  assert.equal(new URL(here.url()).pathname, '/account/password');
  await here.goto(`${BASE}/reauth?next=${encodeURIComponent('/account/password')}`);
  const before = (await laptop.cookies()).find((c) => c.name === '__sid').value;
  await here.fill('input[name=password]', 'turing');
  await submit(here, '#reauth');
  assert.equal(new URL(here.url()).pathname, '/account/password');
  const after = (await laptop.cookies()).find((c) => c.name === '__sid').value;
  assert.notEqual(after, before, 're-authenticating renews the session ID');

  await here.fill('input[name=password]', 'enigma');
  await submit(here, '#change-password');
  assert.equal(await here.textContent('.notice'), 'Password changed. Signed out 1 other session.');
  await there.goto(`${BASE}/private`);
  assert.equal(new URL(there.url()).pathname, '/login', 'the other session survived');
  await here.goto(`${BASE}/private`);
  assert.equal(new URL(here.url()).pathname, '/private');

  // The new password signs in; the old one no longer does.
  const fresh = await browser.newContext();
  const page = await fresh.newPage();
  await signInAs(page, 'alan', 'enigma');
  await page.goto(`${BASE}/login`);
  await page.fill('input[name=username]', 'alan');
  await page.fill('input[name=password]', 'turing');
  const [refused] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.equal(refused.status(), 401);
  for (const context of [laptop, phone, fresh]) await context.close();
});

test(`[${BACKEND}] a fourth sign-in ends the oldest of three sessions and says so`, async () => {
  const devices = ['First', 'Second', 'Third', 'Fourth'];
  const contexts = [];
  let page;
  for (const device of devices) {
    const context = await browser.newContext({ userAgent: `${device} device` });
    contexts.push(context);
    page = await context.newPage();
    await signInAs(page, 'barbara', 'liskov', false, device === 'Fourth' ? '/sessions' : '/');
  }
  // The fourth sign-in lands on "Your sessions", which says what it ended.
  assert.match(await page.textContent('.notice'), /You may keep 3 sessions: signed out the oldest \(First device\)\./);
  assert.equal(await page.locator('li.session').count(), 3);
  assert.ok(!(await page.textContent('ul')).includes('First device'));
  const oldest = contexts[0].pages()[0];
  await oldest.goto(`${BASE}/private`);
  assert.equal(new URL(oldest.url()).pathname, '/login', 'the oldest session survived');
  for (const context of contexts) await context.close();
});

test(`[${BACKEND}] the demo serves its session metrics`, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE}/`);
  const metrics = await page.request.get(`${BASE}/metrics`);
  assert.equal(metrics.status(), 200);
  const text = await metrics.text();
  assert.match(text, /sessions_created_total \d+/);
  assert.match(text, new RegExp(`session_store_calls_total\\{store="${BACKEND}",op="create",outcome="ok"\\} \\d+`));
  const [cookie] = (await context.cookies()).filter((c) => c.name === '__sid');
  assert.ok(!text.includes(cookie.value), 'a metric shows a session ID');
  await context.close();
});
