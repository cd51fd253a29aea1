// 3D Secure through a real browser, `3d` model: API 3ds-init → one-time redirect page →
// the bank simulator's ACS page (OTP) → Orkestra's bank callback → the merchant's
// callbackUrl (Craftgate's fields and hash) → 3ds-complete.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';

import {
  cards, launchBrowser, newPage, ok, paymentRequest, screenshots, startMerchantSite,
  startOrkestra, submitAcs, threeDsCallbackHash, waitForAcsPage,
} from './lib/harness.mjs';

let server;
let site;
let browser;

before(async () => {
  [server, site, browser] = await Promise.all([startOrkestra(), startMerchantSite(), launchBrowser()]);
});

after(async () => {
  await browser?.close();
  await site?.close();
  await server?.stop();
});

/** 3ds-init, then the browser to the ACS page. Returns { init, page, context }. */
async function startThreeDs(shot, { card, conversationId, additionalParams, price = '100.00' } = {}) {
  const callbackUrl = site.callbackUrl('3ds');
  const init = ok(await server.api.post('/payment/v1/card-payments/3ds-init', paymentRequest({
    price, card, conversationId, additionalParams, callbackUrl,
  })), '3ds-init');
  assert.equal(init.paymentStatus, 'INIT_THREEDS');
  assert.ok(Number.isInteger(init.paymentId), 'paymentId is a number');
  assert.ok(init.redirectUrl.startsWith(`${server.url}/threeds/redirect/`), init.redirectUrl);
  const html = Buffer.from(init.htmlContent, 'base64').toString('utf8');
  assert.match(html, /<form[^>]+method="post"/i, 'htmlContent holds a form posting to the bank');
  const { page, context } = await newPage(browser);
  await page.goto(init.redirectUrl);
  const acs = await waitForAcsPage(page);
  await shot(page, 'acs-page');
  return { init, page, context, acs, callbackUrl, nextPost: () => site.waitForPost(callbackUrl) };
}

function assertValidHash(fields) {
  assert.equal(fields.hash, threeDsCallbackHash(server.keys.threeDsCallbackKey, fields),
    'the callback hash verifies with the merchant threeDsCallbackKey');
}

test('3DS success (3d model): ACS OTP → signed merchant callback → 3ds-complete SUCCESS', async () => {
  const shot = screenshots('3ds-success');
  const { init, page, context, acs, callbackUrl, nextPost } = await startThreeDs(shot, {
    card: cards.md1,
    conversationId: 'order-3ds-1',
    additionalParams: { conversationData: 'sepet-42 ğüşİ' },
  });
  try {
    // The ACS page shows the amount, the masked card and the test OTP.
    assert.match(acs.text, /100(\.00)? TRY/);
    assert.match(acs.text, /4355 08\*\* \*\*\*\* 4358/);
    assert.match(acs.text, /Test OTP: 123456/);
    assert.ok(!acs.text.includes(cards.md1), 'the full card number is not shown');
    await page.fill('#otp', '123456');
    await shot(page, 'otp-typed');
    const callback = submitAcs(page, { otp: null });
    const post = await nextPost();
    await callback;
    await page.waitForSelector('#merchant-result');
    await shot(page, 'merchant-callback');

    assert.equal(post.url, new URL(callbackUrl).pathname);
    assert.match(post.headers['content-type'], /application\/x-www-form-urlencoded/);
    const f = post.fields;
    assert.deepEqual(Object.keys(f).sort(),
      ['callbackStatus', 'completeStatus', 'conversationData', 'conversationId', 'hash', 'paymentId', 'status'].sort());
    assert.equal(f.status, 'SUCCESS');
    assert.equal(f.completeStatus, 'WAITING');
    assert.equal(f.callbackStatus, 'SUCCESS');
    assert.equal(f.paymentId, String(init.paymentId));
    assert.equal(f.conversationId, 'order-3ds-1');
    assert.equal(f.conversationData, 'sepet-42 ğüşİ', 'conversationData (additionalParams) comes back, UTF-8 intact');
    assert.match(f.hash, /^[0-9a-f]{64}$/);
    assertValidHash(f);
    assert.notEqual(f.hash, threeDsCallbackHash('not-the-key', f), 'the hash depends on the key');

    // Before 3ds-complete the payment waits for it.
    const waiting = ok(await server.api.get(`/payment/v1/card-payments/${init.paymentId}`));
    assert.equal(waiting.paymentStatus, 'CALLBACK_THREEDS');

    const done = ok(await server.api.post('/payment/v1/card-payments/3ds-complete', { paymentId: init.paymentId }), '3ds-complete');
    assert.equal(done.paymentStatus, 'SUCCESS');
    assert.equal(done.id, init.paymentId);
    assert.equal(done.paidPrice, 100);
    assert.equal(done.lastFourDigits, '4358');
    assert.equal(done.conversationId, 'order-3ds-1');
    assert.ok(done.authCode, 'authCode from the bank');

    const again = ok(await server.api.get(`/payment/v1/card-payments/${init.paymentId}`));
    assert.equal(again.paymentStatus, 'SUCCESS');
  } finally {
    await context.close();
  }
});

test('3DS success with a card whose outcome depends on the OTP (right OTP)', async () => {
  const shot = screenshots('3ds-otp-right');
  const { init, page, context, nextPost } = await startThreeDs(shot, { card: cards.good, price: '12.34' });
  try {
    await submitAcs(page, { otp: '123456' });
    const post = await nextPost();
    await page.waitForSelector('#merchant-result');
    await shot(page, 'merchant-callback');
    assert.equal(post.fields.status, 'SUCCESS');
    assert.equal(post.fields.completeStatus, 'WAITING');
    assertValidHash(post.fields);
    const done = ok(await server.api.post('/payment/v1/card-payments/3ds-complete', { paymentId: init.paymentId }), '3ds-complete');
    assert.equal(done.paymentStatus, 'SUCCESS');
    assert.equal(done.paidPrice, 12.34);
  } finally {
    await context.close();
  }
});

const failures = [
  { name: 'wrong OTP', card: cards.good, otp: '000000', action: 'confirm' },
  { name: 'forced mdStatus 0 card (authentication failed)', card: cards.md0, otp: '123456', action: 'confirm' },
  { name: 'forced mdStatus 2 card', card: cards.md2, otp: '123456', action: 'confirm' },
  { name: 'Cancel on the ACS page', card: cards.md1, otp: null, action: 'cancel' },
];

for (const c of failures) {
  test(`3DS failure: ${c.name} → callback FAILURE, 3ds-complete 422`, async () => {
    const shot = screenshots(`3ds-fail-${c.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`);
    const { init, page, context, nextPost } = await startThreeDs(shot, { card: c.card, conversationId: 'order-fail' });
    try {
      if (c.otp !== null) await page.fill('#otp', c.otp);
      await shot(page, 'before-submit');
      await submitAcs(page, { otp: null, action: c.action });
      const post = await nextPost();
      await page.waitForSelector('#merchant-result');
      await shot(page, 'merchant-callback');
      const f = post.fields;
      assert.equal(f.status, 'FAILURE');
      assert.equal(f.completeStatus, 'FAILURE');
      assert.equal(f.callbackStatus, 'FAILURE');
      assert.equal(f.paymentId, String(init.paymentId));
      assertValidHash(f);

      const payment = ok(await server.api.get(`/payment/v1/card-payments/${init.paymentId}`));
      assert.equal(payment.paymentStatus, 'FAILURE');
      assert.equal(payment.paymentError?.errorGroup, 'THREEDS_AUTHENTICATION_FAILED');

      const complete = await server.api.post('/payment/v1/card-payments/3ds-complete', { paymentId: init.paymentId });
      assert.equal(complete.status, 422, complete.raw);
      assert.ok(complete.errors?.errorCode, 'an error envelope');
      assert.equal(complete.errors.errorGroup, 'THREEDS_AUTHENTICATION_FAILED');
    } finally {
      await context.close();
    }
  });
}

test('3DS: the redirectUrl is one-time, and the ACS session cannot be submitted twice', async () => {
  const shot = screenshots('3ds-one-time');
  const { init, page, context, nextPost } = await startThreeDs(shot, { card: cards.md1 });
  try {
    // (form.action would be the <button name="action">: read the attribute)
    const acsUrl = new URL(await page.locator('form').getAttribute('action'), page.url()).href;
    await submitAcs(page);
    const post = await nextPost();
    assert.equal(post.fields.status, 'SUCCESS');
    // The one-time redirect page is gone.
    const second = await context.newPage();
    const again = await second.goto(init.redirectUrl);
    assert.equal(again.status(), 404);
    assert.match(await second.locator('main').innerText(), /already|used|kullanılmış/i);
    await shot(second, 'redirect-reused');
    // Replaying the ACS form is refused by the bank and changes nothing.
    const replay = await second.request.post(acsUrl, { form: { otp: '123456', action: 'confirm' } });
    assert.equal(replay.status(), 404);
    const done = ok(await server.api.post('/payment/v1/card-payments/3ds-complete', { paymentId: init.paymentId }));
    assert.equal(done.paymentStatus, 'SUCCESS');
    // A second 3ds-complete does not provision twice.
    const twice = await server.api.post('/payment/v1/card-payments/3ds-complete', { paymentId: init.paymentId });
    if (twice.status === 200) {
      assert.equal(twice.data.paymentStatus, 'SUCCESS');
      assert.equal(twice.data.id, init.paymentId);
    } else {
      assert.ok(twice.status >= 400 && twice.status < 500, twice.raw);
    }
  } finally {
    await context.close();
  }
});

test('3DS payment is reported as a 3D Secure payment (isThreeDs, mdStatus)', async () => {
  const shot = screenshots('3ds-flags');
  const { init, page, context, nextPost } = await startThreeDs(shot, { card: cards.md1 });
  try {
    await submitAcs(page);
    await nextPost();
    const done = ok(await server.api.post('/payment/v1/card-payments/3ds-complete', { paymentId: init.paymentId }));
    assert.equal(done.paymentStatus, 'SUCCESS');
    const retrieved = ok(await server.api.get(`/payment/v1/card-payments/${init.paymentId}`));
    // Craftgate's PaymentResponse: isThreeDs:bool, mdStatus:int.
    assert.equal(retrieved.isThreeDs, true, 'a payment authenticated with 3D Secure has isThreeDs: true');
    assert.equal(retrieved.mdStatus, 1, 'mdStatus of the authentication');
  } finally {
    await context.close();
  }
});

test("3DS htmlContent works when the merchant renders it on its own page (Craftgate's usual integration)", async () => {
  const shot = screenshots('3ds-htmlcontent');
  const callbackUrl = site.callbackUrl('htmlcontent');
  const nextPost = () => site.waitForPost(callbackUrl);
  const init = ok(await server.api.post('/payment/v1/card-payments/3ds-init', paymentRequest({
    card: cards.md1, callbackUrl,
  })));
  const html = Buffer.from(init.htmlContent, 'base64').toString('utf8');
  // The merchant's checkout page echoes the decoded htmlContent, as Craftgate's samples do.
  const shop = http.createServer((req, res) => {
    res.writeHead(req.url === '/pay' ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(req.url === '/pay' ? html : 'not found');
  });
  await new Promise((resolve) => shop.listen(0, '127.0.0.1', resolve));
  const { page, context } = await newPage(browser);
  try {
    await page.goto(`http://127.0.0.1:${shop.address().port}/pay`);
    try {
      await page.waitForSelector('input#otp', { timeout: 5000 });
    } catch {
      await shot(page, 'stuck-on-merchant-page');
      assert.fail(`the browser never reached the bank's ACS page; it stays on ${page.url()} `
        + '(htmlContent loads /assets/autosubmit.js relative to the merchant\'s origin, which 404s, '
        + 'and the <noscript> button is hidden when JavaScript runs)');
    }
    await shot(page, 'acs-page');
    await submitAcs(page);
    const post = await nextPost();
    assert.equal(post.fields.status, 'SUCCESS');
  } finally {
    await context.close();
    shop.close();
  }
});
