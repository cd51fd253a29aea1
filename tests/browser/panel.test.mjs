// The merchant panel as a new merchant user meets it: sign in, add a POS of a simulated
// bank and test its connection, set commissions, take a payment with Craftgate's official
// Node SDK and find it on the dashboard and in the payment list, refund it from the panel,
// create a pay-by-link product and download its QR code. Screenshots of every page go to
// test-artifacts/browser/panel-*.png.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { cards, launchBrowser, newPage, repoRoot, screenshots, startOrkestra } from './lib/harness.mjs';

// The SDK is installed for the Node SDK tests (scripts/test.sh runs `npm ci` there first).
const require = createRequire(path.join(repoRoot, 'tests', 'sdk', 'node', 'package.json'));
const Craftgate = require('@craftgate/craftgate');

let server;
let browser;

before(async () => {
  [server, browser] = await Promise.all([startOrkestra(), launchBrowser()]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(page, shot) {
  await page.goto(`${server.url}/panel`);
  await page.waitForURL(/\/panel\/login$/);
  await shot(page, 'sign-in');
  await page.fill('#email', server.keys.panelEmail);
  await page.fill('#password', server.keys.panelPassword);
  await page.click('button[type="submit"]');
  await page.waitForURL(`${server.url}/panel`);
}

test('panel: sign in, add and test a POS, commissions, SDK payment on the dashboard and list, refund, pay-by-link QR', async () => {
  const shot = screenshots('panel');
  const { page, context } = await newPage(browser, { locale: 'tr-TR', acceptDownloads: true });
  try {
    await signIn(page, shot);
    assert.match(await page.textContent('h1'), /Gösterge paneli/);
    await shot(page, 'dashboard-empty');

    // A POS of a simulated bank (Garanti BBVA), through the bank list and its own form.
    await page.click('a[href="/panel/poses"]');
    await shot(page, 'poses');
    await page.click('a[href="/panel/poses/new"]');
    await shot(page, 'bank-list');
    await page.click('a[href="/panel/poses/new?integrator=GARANTI"]');
    assert.ok(await page.isVisible('#terminalId'), 'Garanti asks for a terminal id');
    assert.ok(!(await page.isVisible('#posnetId')), 'and not for a Posnet id');
    await page.fill('#name', 'Garanti (panel)');
    await page.fill('#clientId', '7000680');
    await page.fill('#terminalId', '30691299');
    await page.fill('#username', 'PROVAUT');
    await page.fill('#password', 'ORKESTRA-G2');
    await page.fill('#threedsKey', 'SANDBOXKEYG2');
    await page.check('input[name="useSimulator"]');
    await shot(page, 'pos-form');
    await page.click('form[action="/panel/poses"] button[type="submit"]');
    await page.waitForURL(/\/panel\/poses\/\d+$/);
    const posUrl = page.url();

    await page.click('form[action$="/test"] button');
    await page.waitForSelector('[data-testid="connection-result"]');
    assert.match(await page.textContent('[data-testid="connection-result"]'), /kabul etti/);
    await shot(page, 'pos-connection-ok');

    // Commissions for single payments and 3 installments.
    await page.fill('input[name="installment_0"]', '1');
    await page.fill('input[name="onus_0"]', '1,60');
    await page.fill('input[name="notonus_0"]', '1,90');
    await page.fill('input[name="installment_1"]', '3');
    await page.fill('input[name="notonus_1"]', '3,40');
    await page.fill('input[name="blockage_1"]', '30');
    await page.click('form[action$="/commissions"] button[type="submit"]');
    await page.waitForURL(posUrl);
    assert.equal(await page.inputValue('input[name="onus_0"]'), '1.6');
    assert.equal(await page.inputValue('input[name="blockage_1"]'), '30');
    await page.click('form[action$="/status"]:has(input[value="ACTIVE"]) button');
    await page.waitForURL(posUrl);
    await shot(page, 'pos-active');
    const alias = (await page.textContent('dl.facts code')).trim();

    // A payment through the official SDK, routed to the new POS.
    const client = new Craftgate.Client({ apiKey: server.keys.apiKey, secretKey: server.keys.secretKey, baseUrl: server.url });
    const payment = await client.payment().createPayment({
      price: 250.75,
      paidPrice: 250.75,
      currency: Craftgate.Model.Currency.TRY,
      installment: 1,
      paymentGroup: Craftgate.Model.PaymentGroup.Product,
      conversationId: 'panel-browser-1',
      posAlias: alias,
      card: { cardHolderName: 'Ayşe Yılmaz', cardNumber: cards.good, expireYear: '2044', expireMonth: '07', cvc: '000' },
      items: [{ name: 'Kitap', price: 250.75 }],
    });
    assert.equal(payment.paymentStatus, 'SUCCESS');
    assert.equal(payment.pos.alias, alias);

    await page.click('a[href="/panel"]');
    assert.match(await page.textContent('[data-testid="today-volume"]'), /250,75 TRY/);
    assert.match(await page.textContent('[data-testid="pos-table"]'), /Garanti \(panel\)/);
    await shot(page, 'dashboard-with-payment');

    await page.click('a[href="/panel/payments"]');
    await page.fill('#f-last4', '0001');
    await page.click('form.filters button[type="submit"]');
    const row = page.locator(`[data-testid="payments"] a[href="/panel/payments/${payment.id}"]`);
    await row.waitFor();
    assert.match(await page.textContent('[data-testid="payments"]'), /525864\*\*\*\*\*\*0001/);
    assert.ok(!(await page.content()).includes(cards.good), 'the full card number is never on a page');
    await shot(page, 'payment-list');

    const download = page.waitForEvent('download');
    await page.click('a[href^="/panel/payments.csv"]');
    const csv = readFileSync(await (await download).path(), 'utf8');
    assert.match(csv, new RegExp(`"${payment.id}".*"250.75"`));

    // Refund from the detail page, with the confirmation step.
    await row.click();
    await page.waitForURL(new RegExp(`/panel/payments/${payment.id}$`));
    assert.match(await page.textContent('ol.timeline'), /Banka çağrısı/);
    await shot(page, 'payment-detail');
    await page.click(`form[action="/panel/payments/${payment.id}/refund"] button`);
    await page.waitForSelector('input[name="confirm"]', { state: 'attached' });
    await shot(page, 'refund-confirm');
    await page.click('button[autofocus]');
    await page.waitForURL(new RegExp(`/panel/payments/${payment.id}$`));
    assert.match(await page.textContent('ol.timeline'), /İade/);
    await shot(page, 'payment-refunded');
    const refunded = await client.payment().retrievePayment(payment.id);
    assert.equal(refunded.refundStatus, 'FULLY_REFUNDED', JSON.stringify(refunded));
    const bank = await (await fetch(`${server.url}/sim/garanti/_sim/orders/7000680`)).json();
    assert.ok(bank.some((o) => o.orderId === payment.orderId && ['Voided', 'Refunded'].includes(o.status)), JSON.stringify(bank));

    // Pay-by-link: a product, its link, its QR code.
    await page.click('a[href="/panel/links"]');
    await page.fill('#name', 'Tişört');
    await page.fill('#price', '49,90');
    await page.fill('#stock', '5');
    await page.click('form[action="/panel/links"] button[type="submit"]');
    await page.waitForURL(`${server.url}/panel/links`);
    assert.match(await page.textContent('[data-testid="links"]'), /Tişört[\s\S]*49,90 TRY/);
    await shot(page, 'links');
    const qr = page.waitForEvent('download');
    await page.click('[data-testid="links"] a[download]');
    const png = readFileSync(await (await qr).path());
    assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG');

    // The audit log saw it all.
    await page.click('a[href="/panel/audit"]');
    const audit = await page.textContent('[data-testid="audit"]');
    for (const action of ['session.sign_in', 'pos.create', 'pos.test_connection', 'pos.commissions', 'payment.refund', 'link.create']) {
      assert.ok(audit.includes(action), `${action} in the audit log`);
    }
    await shot(page, 'audit');

    // Routing: a dry run says where a card would go and why.
    await page.click('a[href="/panel/routing"]');
    await page.fill('#bin', '525864');
    await page.fill('#amount', '150');
    await page.click('form[action="/panel/routing/dry-run"] button[type="submit"]');
    await page.waitForSelector('[data-testid="chosen-pos"]');
    await shot(page, 'routing-dry-run');

    // Settings (keys, webhooks, users) and wallets.
    await page.click('a[href="/panel/settings"]');
    assert.equal((await page.textContent('[data-testid="api-key"]')).trim(), server.keys.apiKey);
    assert.ok(!(await page.content()).includes(server.keys.secretKey), 'the secret key is never shown');
    await shot(page, 'settings');
    await page.click('a[href="/panel/wallets"]');
    await page.waitForSelector('[data-testid="merchant-wallet"]');
    await shot(page, 'wallets');

    // English, and small screens.
    await page.click('a[lang="en"]');
    assert.match(await page.textContent('h1'), /Wallets/);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('a[href="/panel/payments"]');
    await shot(page, 'payments-mobile-en');
  } finally {
    await context.close();
  }
});

test('panel: keyboard only — skip link, sign-in form and menu reachable with Tab', async () => {
  const { page, context } = await newPage(browser);
  try {
    await page.goto(`${server.url}/panel/login`);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'email');
    await page.keyboard.type(server.keys.panelEmail);
    await page.keyboard.press('Tab');
    await page.keyboard.type(server.keys.panelPassword);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${server.url}/panel`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('href')), '#main', 'skip link first');
  } finally {
    await context.close();
  }
});
