// Pay-by-link (Craftlink): the product page, Buy → the checkout page → pay → Orkestra's own
// result page; stock counting, sold out, passive and expired links, and two shoppers racing
// for the last item.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  cards, fillCheckout, launchBrowser, newPage, ok, screenshots, startOrkestra,
} from './lib/harness.mjs';

let server;
let browser;

before(async () => {
  [server, browser] = await Promise.all([startOrkestra(), launchBrowser()]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function createProduct(body) {
  const product = ok(await server.api.post('/craftlink/v1/products', { currency: 'TRY', ...body }), 'create product');
  assert.equal(product.url, `${server.url}/pay/${product.token}`);
  assert.ok(product.qrCodeUrl.startsWith(`${server.url}/pay/${product.token}/`), product.qrCodeUrl);
  return product;
}

/** Product page → Buy → checkout page → pay; returns the result text. */
async function buy(page, shot, product, { number = cards.good } = {}) {
  await page.click('#buy');
  await page.waitForURL(/\/checkout\/[A-Za-z0-9]+/);
  await page.waitForSelector('#cardNumber');
  await shot(page, 'checkout-page');
  await fillCheckout(page, { holder: 'Ali Veli', number });
  await shot(page, 'checkout-filled');
  await page.click('#pay');
}

test('pay-by-link: product page → buy → checkout → paid; soldCount 1; stock 1 then sold out (Turkish)', async () => {
  const shot = screenshots('pay-by-link-tr');
  const product = await createProduct({ name: 'Tişört <Mavi>', price: '49.90', stock: 1, description: 'Pamuklu & yumuşak' });
  assert.equal(product.soldCount, 0);
  assert.equal(product.status, 'ACTIVE');
  const { page, context } = await newPage(browser);
  try {
    const response = await page.goto(product.url);
    assert.equal(response.status(), 200);
    assert.equal(await page.innerText('#product-name'), 'Tişört <Mavi>', 'the name is shown as text (escaped)');
    assert.equal(await page.innerText('#price'), '49,90 TL');
    assert.equal(await page.innerText('#stock'), 'Kalan: 1');
    assert.match(await page.locator('main').innerText(), /Pamuklu & yumuşak/);
    assert.match(await page.innerText('#buy'), /Öde 49,90 TL/);
    assert.equal(await page.locator('#unavailable').count(), 0);
    await shot(page, 'product-page');

    await buy(page, shot, product);
    const result = page.locator('#result');
    await result.waitFor();
    assert.match(await result.innerText(), /Ödemeniz alındı/);
    assert.match(await page.locator('main').innerText(), /49,90 TL/);
    await shot(page, 'result');

    const after = ok(await server.api.get(`/craftlink/v1/products/${product.id}`));
    assert.equal(after.soldCount, 1);
    assert.equal(after.stock, 1);

    // The payment is there, from the link.
    const paymentNo = Number((await page.locator('main').innerText()).match(/#(\d+)/)?.[1]);
    assert.ok(paymentNo > 0, 'the result page shows the payment number');
    const payment = ok(await server.api.get(`/payment/v1/card-payments/${paymentNo}`));
    assert.equal(payment.paymentStatus, 'SUCCESS');
    assert.equal(payment.paidPrice, 49.9);

    // A second visit: sold out, no buy button.
    await page.goto(product.url);
    assert.equal(await page.innerText('#stock'), 'Kalan: 0');
    const unavailable = page.locator('#unavailable');
    await unavailable.waitFor();
    assert.equal(await unavailable.getAttribute('role'), 'alert');
    assert.match(await unavailable.innerText(), /tükendi/);
    assert.equal(await page.locator('#buy').count(), 0);
    await shot(page, 'sold-out');

    await page.goto(`${product.url}?lang=en`);
    assert.match(await page.innerText('#unavailable'), /sold out/i);
    await shot(page, 'sold-out-en');
  } finally {
    await context.close();
  }
});

test('pay-by-link in English, without a stock limit: "Your payment was received"', async () => {
  const shot = screenshots('pay-by-link-en');
  const product = await createProduct({ name: 'E-book', price: '1234.50', description: 'PDF' });
  const { page, context } = await newPage(browser);
  try {
    await page.goto(`${product.url}?lang=en`);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.innerText('#price'), '1,234.50 TRY');
    assert.equal(await page.locator('#stock').count(), 0, 'no stock line without a stock limit');
    assert.match(await page.innerText('#buy'), /^Pay 1,234.50 TRY$/);
    await shot(page, 'product-page');
    await buy(page, shot, product);
    await page.locator('#result').waitFor();
    assert.match(await page.innerText('#result'), /Your payment was received/);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await shot(page, 'result');
    const after = ok(await server.api.get(`/craftlink/v1/products/${product.id}`));
    assert.equal(after.soldCount, 1);

    // Without a stock limit the link can be used again.
    await page.goto(`${product.url}?lang=en`);
    assert.equal(await page.locator('#buy').count(), 1);
  } finally {
    await context.close();
  }
});

test('pay-by-link: a declined card does not count as sold', async () => {
  const shot = screenshots('pay-by-link-decline');
  const product = await createProduct({ name: 'Kupa', price: '20.00', stock: 1 });
  const { page, context } = await newPage(browser);
  try {
    await page.goto(`${product.url}?lang=en`);
    await buy(page, shot, product, { number: cards.insufficientFunds });
    await page.locator('#error').waitFor();
    assert.match(await page.innerText('#error'), /insufficient/i);
    await shot(page, 'declined');
    const after = ok(await server.api.get(`/craftlink/v1/products/${product.id}`));
    assert.equal(after.soldCount, 0);
    await page.goto(`${product.url}?lang=en`);
    assert.equal(await page.locator('#buy').count(), 1, 'still for sale');
  } finally {
    await context.close();
  }
});

test('pay-by-link: passive and expired links show an alert instead of the buy button', async () => {
  const shot = screenshots('pay-by-link-unavailable');
  const passive = await createProduct({ name: 'Pasif', price: '5.00' });
  ok(await server.api.put(`/craftlink/v1/products/${passive.id}`, { status: 'PASSIVE' }), 'set PASSIVE');
  const expired = await createProduct({ name: 'Eski', price: '5.00', expiresAt: '2020-01-01T00:00:00' });
  const { page, context } = await newPage(browser);
  try {
    await page.goto(`${passive.url}?lang=en`);
    assert.match(await page.innerText('#unavailable'), /not available/i);
    assert.equal(await page.locator('#buy').count(), 0);
    await shot(page, 'passive');
    await page.goto(`${expired.url}?lang=en`);
    assert.match(await page.innerText('#unavailable'), /expired/i);
    assert.equal(await page.locator('#buy').count(), 0);
    await shot(page, 'expired');
    // Posting the buy form anyway does not open a checkout.
    const forced = await page.request.post(`${expired.url}/checkout?lang=en`, { maxRedirects: 0 });
    assert.notEqual(forced.status(), 303);
    assert.ok(!(forced.headers().location || '').includes('/checkout/'), 'no checkout for an expired link');
  } finally {
    await context.close();
  }
});

test('pay-by-link: two shoppers race for the last item; only one is charged', async () => {
  const shot = screenshots('pay-by-link-race');
  const product = await createProduct({ name: 'Son ürün', price: '99.00', stock: 1 });
  const a = await newPage(browser);
  const b = await newPage(browser);
  try {
    // Both open the checkout while the item is still available.
    for (const { page } of [a, b]) {
      await page.goto(`${product.url}?lang=en`);
      await page.click('#buy');
      await page.waitForSelector('#cardNumber');
      await fillCheckout(page, { holder: 'Racer', number: cards.good });
    }
    await shot(a.page, 'shopper-a-ready');
    await shot(b.page, 'shopper-b-ready');
    await Promise.all([a.page.click('#pay'), b.page.click('#pay')]);
    const outcome = async (page) => {
      await page.waitForSelector('#result, #error, main h1', { timeout: 15_000 });
      if (await page.locator('#result').count()) return 'paid';
      if (await page.locator('#error').count()) return `error: ${await page.innerText('#error')}`;
      return `other: ${await page.locator('main').innerText()}`;
    };
    const outcomes = [await outcome(a.page), await outcome(b.page)];
    await shot(a.page, 'shopper-a-result');
    await shot(b.page, 'shopper-b-result');
    assert.equal(outcomes.filter((o) => o === 'paid').length, 1, `exactly one shopper pays: ${JSON.stringify(outcomes)}`);
    const loser = outcomes.find((o) => o !== 'paid');
    assert.match(loser, /sold out/i, `the other is told it is sold out: ${loser}`);
    const after = ok(await server.api.get(`/craftlink/v1/products/${product.id}`));
    assert.equal(after.soldCount, 1);
    const payments = ok(await server.api.get('/payment-reporting/v1/payments?paymentStatus=SUCCESS&minPaidPrice=99&maxPaidPrice=99'));
    assert.equal(payments.items.length, 1, 'a single successful 99.00 payment');
  } finally {
    await a.context.close();
    await b.context.close();
  }
});
