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
