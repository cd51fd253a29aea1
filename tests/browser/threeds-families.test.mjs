// 3D Secure in real Chromium through every bank family's simulator, driven with Craftgate's
// official Node SDK: init3DSPayment on that family's sandbox POS → the one-time redirect page → the bank's gate (or, for Kuveyt Türk
// and PayFlex, the enrolment form the connector got server to server) → the bank's ACS page
// (OTP) → the bank's signed callback → Orkestra → the merchant's callbackUrl → 3ds-complete.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  cards, launchBrowser, newPage, ok, repoRoot, screenshots, startMerchantSite,
  startOrkestra, submitAcs, threeDsCallbackHash, waitForAcsPage,
} from './lib/harness.mjs';

// Craftgate's official Node SDK (installed for the Node SDK tests by scripts/test.sh).
const require = createRequire(path.join(repoRoot, 'tests', 'sdk', 'node', 'package.json'));
const Craftgate = require('@craftgate/craftgate');

// The clientId of each family's sandbox POS (a terminal its simulator preloads).
const FAMILIES = {
  garanti: '7000680',
  posnet: '6706598330',
  payfor: '085300000009705',
  interpos: '3124',
  akbank: '20251127120000000001A1B2C3D4E5F6',
  kuveyt: '81',
  payflex: '000000000222222',
};

let server;
let site;
let browser;
let poses;
let sdk;

before(async () => {
  [server, site, browser] = await Promise.all([startOrkestra(), startMerchantSite(), launchBrowser()]);
  sdk = new Craftgate.Client({ apiKey: server.keys.apiKey, secretKey: server.keys.secretKey, baseUrl: server.url });
  const list = ok(await server.api.get('/merchant/v1/merchant-poses?size=100'), 'poses');
  poses = Object.fromEntries(list.items.map((p) => [p.clientId, p]));
  // The families other than NestPay start passive in the sandbox.
  for (const clientId of Object.values(FAMILIES)) {
    const pos = poses[clientId];
    assert.ok(pos, `a sandbox POS for ${clientId}`);
    const r = await server.api.put(`/merchant/v1/merchant-poses/${pos.id}/status/ACTIVE`);
    assert.ok(r.status === 200, `activate ${clientId}: ${r.status}`);
  }
});

after(async () => {
  await browser?.close();
  await site?.close();
  await server?.stop();
});

for (const [family, clientId] of Object.entries(FAMILIES)) {
  test(`3DS in Chromium through the ${family} simulator: ACS OTP → signed callback → complete`, async () => {
    const shot = screenshots(`3ds-${family}`);
    const alias = poses[clientId].alias;
    const callbackUrl = site.callbackUrl(`3ds-${family}`);
    const init = await sdk.payment().init3DSPayment({
      price: 80.1,
      paidPrice: 80.1,
      currency: Craftgate.Model.Currency.TRY,
      installment: 1,
      paymentGroup: Craftgate.Model.PaymentGroup.Product,
      conversationId: `3ds-${family}`,
      callbackUrl,
      posAlias: alias,
      card: { cardHolderName: 'Ayşe Yılmaz', cardNumber: cards.md1, expireYear: '2044', expireMonth: '07', cvc: '000' },
      items: [{ name: 'Kitap', price: 80.1 }],
    });
    assert.equal(init.paymentStatus, 'INIT_THREEDS');
    const { page, context } = await newPage(browser);
    try {
      await page.goto(init.redirectUrl);
      const acs = await waitForAcsPage(page);
      assert.ok(!acs.text.includes(cards.md1), 'the ACS page never shows the full card number');
      await shot(page, 'acs-page');
      const post = site.waitForPost(callbackUrl);
      await submitAcs(page, { otp: '123456' });
      const fields = (await post).fields;
      await page.waitForSelector('#merchant-result');
      await shot(page, 'merchant-callback');
      assert.equal(fields.status, 'SUCCESS', JSON.stringify(fields));
      assert.equal(fields.paymentId, String(init.paymentId));
      assert.equal(fields.hash, threeDsCallbackHash(server.keys.threeDsCallbackKey, fields));
      const done = await sdk.payment().complete3DSPayment({ paymentId: init.paymentId });
      assert.equal(done.paymentStatus, 'SUCCESS');
      assert.equal(done.pos.alias, alias);
      assert.equal(done.paidPrice, 80.1);
      // The bank's book holds exactly this charge.
      const orders = await (await fetch(`${server.url}/sim/${family}/_sim/orders/${clientId}`)).json();
      assert.equal(orders.filter((o) => o.amountMinor === 8010).length, 1, JSON.stringify(orders));
    } finally {
      await context.close();
    }
  });
}
