// 3D Secure abandoned at the bank: the shopper opens the ACS page and never submits it.
// The payment stays INIT_THREEDS, then Orkestra's recovery task (every 3 s) fails it once
// the 3D TTL has passed. Runs its own server with the shortest TTL the server accepts (30 s).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  cards, launchBrowser, newPage, ok, paymentRequest, screenshots, sleep, startMerchantSite,
  startOrkestra, submitAcs, waitFor, waitForAcsPage,
} from './lib/harness.mjs';

const TTL_SECS = 30;

let server;
let site;
let browser;

before(async () => {
  [server, site, browser] = await Promise.all([
    startOrkestra({ threedsTtlSecs: TTL_SECS }), startMerchantSite(), launchBrowser(),
  ]);
});

after(async () => {
  await browser?.close();
  await site?.close();
  await server?.stop();
});

test('3DS abandoned on the ACS page: INIT_THREEDS, then FAILURE after the TTL', { timeout: 90_000 }, async () => {
  const shot = screenshots('3ds-abandon');
  const callbackUrl = site.callbackUrl('abandon');
  const started = Date.now();
  const init = ok(await server.api.post('/payment/v1/card-payments/3ds-init', paymentRequest({
    card: cards.md1, callbackUrl, conversationId: 'order-abandon',
  })), '3ds-init');
  const { page, context } = await newPage(browser);
  try {
    await page.goto(init.redirectUrl);
    await waitForAcsPage(page);
    await shot(page, 'acs-page-left-open');

    // Past at least one recovery tick, well inside the TTL: still waiting for the shopper.
    await sleep(4000);
    const pending = ok(await server.api.get(`/payment/v1/card-payments/${init.paymentId}`));
    assert.equal(pending.paymentStatus, 'INIT_THREEDS');

    // 3ds-complete before any bank callback must not provision anything.
    const early = await server.api.post('/payment/v1/card-payments/3ds-complete', { paymentId: init.paymentId });
    assert.ok(early.status >= 400 && early.status < 500, `3ds-complete before the callback: HTTP ${early.status} ${early.raw}`);
    const stillPending = ok(await server.api.get(`/payment/v1/card-payments/${init.paymentId}`));
    assert.equal(stillPending.paymentStatus, 'INIT_THREEDS');

    // After the TTL (+ one recovery interval and some slack) the payment is FAILURE.
    const failed = await waitFor(async () => {
      const p = ok(await server.api.get(`/payment/v1/card-payments/${init.paymentId}`));
      return p.paymentStatus === 'FAILURE' ? p : null;
    }, { timeoutMs: TTL_SECS * 1000 + 20_000, intervalMs: 1000, what: 'the abandoned payment to become FAILURE' });
    const elapsed = (Date.now() - started) / 1000;
    assert.ok(elapsed >= TTL_SECS - 1, `failed only after the TTL (${elapsed.toFixed(1)} s)`);
    assert.ok(failed.paymentError, 'the expired payment carries an error');
    assert.equal(site.postsTo(callbackUrl).length, 0, 'nothing was posted to the merchant');

    // The shopper comes back to the still-open ACS page and confirms: the late callback must
    // not revive the expired payment.
    await submitAcs(page);
    await page.waitForLoadState('load');
    await sleep(1500);
    await shot(page, 'late-confirm');
    const after = ok(await server.api.get(`/payment/v1/card-payments/${init.paymentId}`));
    assert.equal(after.paymentStatus, 'FAILURE', 'a late confirmation does not revive an expired payment');
    for (const post of site.postsTo(callbackUrl)) {
      assert.notEqual(post.fields.status, 'SUCCESS', 'the merchant is not told SUCCESS for an expired payment');
    }
    const complete = await server.api.post('/payment/v1/card-payments/3ds-complete', { paymentId: init.paymentId });
    assert.notEqual(complete.status, 200, `3ds-complete of an expired payment: ${complete.raw}`);
  } finally {
    await context.close();
  }
});
