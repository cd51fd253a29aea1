// 3D Secure with the `3d_pay` and `3d_host` models: the bank provisions during the 3D
// flow, so the merchant callback already says COMPLETED and no 3ds-complete is needed.
// Runs its own server because it changes the sandbox POSes (3D only, model per test).

import assert from 'node:assert/strict';
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

/** Sets every POS of the sandbox merchant to 3D only with `model`. */
async function useModel(model) {
  const poses = ok(await server.api.get('/merchant/v1/merchant-poses'), 'list POSes').items;
  assert.ok(poses.length >= 1, 'the sandbox has POSes');
  for (const pos of poses) {
    const updated = ok(await server.api.put(`/merchant/v1/merchant-poses/${pos.id}`, {
      enabledPaymentAuthenticationTypes: ['THREE_DS'],
      threedsModel: model,
    }), `update POS ${pos.alias}`);
    assert.equal(updated.threedsModel, model);
    assert.deepEqual(updated.enabledPaymentAuthenticationTypes, ['THREE_DS']);
    const read = ok(await server.api.get(`/merchant/v1/merchant-poses/${pos.id}`));
    assert.equal(read.threedsModel, model, 'the model is stored');
  }
}

async function threeDs(shot, { card, host = false }) {
  const callbackUrl = site.callbackUrl('model');
  const init = ok(await server.api.post('/payment/v1/card-payments/3ds-init', paymentRequest({
    price: '250.00', card, callbackUrl, conversationId: 'order-model',
  })), '3ds-init');
  assert.equal(init.paymentStatus, 'INIT_THREEDS');
  const { page, context } = await newPage(browser);
  try {
    await page.goto(init.redirectUrl);
    if (host) {
      // 3d_host: the bank's own page asks for the card first.
      await page.waitForSelector('#pan');
      const text = await page.locator('main').innerText();
      assert.match(text, /250(\.00)? TRY/);
      await shot(page, 'bank-card-page');
      await page.fill('#pan', card);
      await page.fill('#month', '07');
      await page.fill('#year', '44');
      await page.fill('#cv2', '000');
      await page.click('button[name="action"][value="card"]');
    }
    await waitForAcsPage(page);
    await shot(page, 'acs-page');
    await submitAcs(page);
    const post = await site.waitForPost(callbackUrl);
    await page.waitForSelector('#merchant-result');
    await shot(page, 'merchant-callback');
    assert.equal(post.fields.hash, threeDsCallbackHash(server.keys.threeDsCallbackKey, post.fields), 'valid callback hash');
    assert.equal(post.fields.paymentId, String(init.paymentId));
    const payment = ok(await server.api.get(`/payment/v1/card-payments/${init.paymentId}`));
    return { init, fields: post.fields, payment };
  } finally {
    await context.close();
  }
}

test('3DS with the 3d_pay model: callback COMPLETED, payment SUCCESS without 3ds-complete', async () => {
  await useModel('3d_pay');
  const { fields, payment } = await threeDs(screenshots('3ds-3dpay-success'), { card: cards.md1 });
  assert.equal(fields.status, 'SUCCESS');
  assert.equal(fields.completeStatus, 'COMPLETED');
  assert.equal(fields.callbackStatus, 'SUCCESS');
  assert.equal(payment.paymentStatus, 'SUCCESS');
  assert.equal(payment.paidPrice, 250);
  assert.equal(payment.isThreeDs, true);
  assert.equal(payment.mdStatus, 1);
  assert.ok(payment.authCode, 'authCode from the bank');
});

test('3DS with the 3d_pay model: a declined card fails in the callback', async () => {
  await useModel('3d_pay');
  const { fields, payment } = await threeDs(screenshots('3ds-3dpay-decline'), { card: cards.insufficientFunds });
  assert.equal(fields.status, 'FAILURE');
  assert.equal(fields.completeStatus, 'FAILURE');
  assert.equal(payment.paymentStatus, 'FAILURE');
  assert.equal(payment.paymentError?.errorGroup, 'NOT_SUFFICIENT_FUNDS');
});

test('3DS with the 3d_pay model: failed authentication (mdStatus 0)', async () => {
  await useModel('3d_pay');
  const { fields, payment } = await threeDs(screenshots('3ds-3dpay-md0'), { card: cards.md0 });
  assert.equal(fields.status, 'FAILURE');
  assert.equal(fields.callbackStatus, 'FAILURE');
  assert.equal(payment.paymentStatus, 'FAILURE');
  assert.equal(payment.paymentError?.errorGroup, 'THREEDS_AUTHENTICATION_FAILED');
});

test('3DS with the 3d_host model: card entered on the bank page, then OTP, payment SUCCESS', async () => {
  await useModel('3d_host');
  const { fields, payment } = await threeDs(screenshots('3ds-3dhost'), { card: cards.md1, host: true });
  assert.equal(fields.status, 'SUCCESS');
  assert.equal(fields.completeStatus, 'COMPLETED');
  assert.equal(payment.paymentStatus, 'SUCCESS');
  assert.equal(payment.isThreeDs, true);
});
