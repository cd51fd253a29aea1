// The hosted checkout page (Ortak Ödeme Sayfası) in a real browser: live card formatting,
// brand detection, BIN lookup with installment prices, the pay button, the return to the
// merchant with the token; a declined card and a retry; forceThreeDs through the ACS page.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  cards, checkoutRequest, fillCheckout, launchBrowser, newPage, ok, screenshots,
  startMerchantSite, startOrkestra, submitAcs, typeInto, waitForAcsPage, waitForInstallments,
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

async function initCheckout(options) {
  const callbackUrl = site.callbackUrl('checkout');
  const init = ok(await server.api.post('/payment/v1/checkout-payments/init', checkoutRequest({ callbackUrl, ...options })), 'checkout init');
  assert.match(init.token, /^[A-Za-z0-9]{20,}$/);
  assert.equal(init.pageUrl, `${server.url}/checkout/${init.token}`);
  assert.ok(init.tokenExpireDate, 'tokenExpireDate');
  return { ...init, callbackUrl };
}

const label = (page, id) => page.locator(`label[for="${id}"]`).innerText();

test('checkout: Turkish by default, English page, formatting, brand, BIN installments, pay in 3', async () => {
  const shot = screenshots('checkout-installments');
  const init = await initCheckout({ price: '300.00' });
  const { page, context } = await newPage(browser);
  try {
    // Turkish by default.
    const response = await page.goto(init.pageUrl);
    assert.equal(response.status(), 200);
    assert.equal(await page.getAttribute('html', 'lang'), 'tr');
    assert.equal((await page.innerText('#amount')).trim(), '300,00 TL');
    assert.match(await label(page, 'cardNumber'), /Kart numarası/);
    assert.match(await page.innerText('#pay'), /^Öde 300,00 TL$/);
    await shot(page, 'page-tr');

    // The language link switches to English.
    await page.click('a[hreflang="en"]');
    await page.waitForURL(/lang=en/);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    const bodyText = await page.locator('main').innerText();
    assert.equal((await page.innerText('#amount')).trim(), '300.00 TRY');
    assert.match(await label(page, 'cardHolderName'), /^Name on card/);
    assert.match(await label(page, 'cardNumber'), /^Card number/);
    assert.match(await label(page, 'expiry'), /^Expiry \(MM\/YY\)/);
    assert.match(await label(page, 'cvc'), /^Security code \(CVC\)/);
    assert.match(await label(page, 'installment'), /^Installments/);
    assert.equal((await page.innerText('#pay')).trim(), 'Pay 300.00 TRY');
    assert.equal(await page.getAttribute('#expiry', 'placeholder'), 'MM/YY');
    for (const turkish of ['Kart numarası', 'Son kullanma', 'Güvenlik kodu', 'Taksit', 'Öde', 'Tek çekim', ' TL']) {
      assert.ok(!bodyText.includes(turkish), `no Turkish text on the English page: found "${turkish}"`);
    }
    assert.match(bodyText, /Türkçe/, 'a link back to Turkish');
    await shot(page, 'page-en');

    // Brand detection while typing.
    await typeInto(page, '#cardNumber', '4');
    assert.equal((await page.innerText('#brand')).trim(), 'VISA');
    await typeInto(page, '#cardNumber', '37');
    assert.equal((await page.innerText('#brand')).trim(), 'AMEX');
    await typeInto(page, '#cardNumber', '5258');
    assert.equal((await page.innerText('#brand')).trim(), 'MASTERCARD');
    assert.equal(await page.inputValue('#cardNumber'), '5258');

    // Live formatting in groups of four, digits only.
    await typeInto(page, '#cardHolderName', 'Jane Doe');
    await typeInto(page, '#cardNumber', '5258-6400 0000x0001');
    assert.equal(await page.inputValue('#cardNumber'), '5258 6400 0000 0001');
    assert.equal((await page.innerText('#brand')).trim(), 'MASTERCARD');

    // BIN lookup: the installment options with their prices, and the issuing bank.
    const options = await waitForInstallments(page, 4);
    assert.deepEqual(options.map((o) => o.value), ['1', '2', '3', '6']);
    assert.equal(options[0].text, 'Single payment — 300.00 TRY');
    assert.equal(options[2].text, '3 installments × 100.00 TRY (total 300.00 TRY)');
    assert.equal(options[3].text, '6 installments × 50.00 TRY (total 300.00 TRY)');
    const info = await page.innerText('#card-info');
    assert.match(info, /Yapı Kredi/, `card info shows the bank: ${info}`);
    assert.match(info, /World/, `card info shows the programme: ${info}`);

    await typeInto(page, '#expiry', '0744');
    assert.equal(await page.inputValue('#expiry'), '07/44');
    await typeInto(page, '#cvc', '0a0b0');
    assert.equal(await page.inputValue('#cvc'), '000');
    await page.selectOption('#installment', '3');
    await shot(page, 'filled');

    await page.click('#pay');
    const post = await site.waitForPost(init.callbackUrl);
    await page.waitForSelector('#merchant-result');
    await shot(page, 'merchant-callback');
    assert.deepEqual(post.fields, { token: init.token });

    const payment = ok(await server.api.get(`/payment/v1/checkout-payments/${init.token}`), 'retrieve checkout payment');
    assert.equal(payment.paymentStatus, 'SUCCESS');
    assert.equal(payment.installment, 3);
    assert.equal(payment.paymentSource, 'CHECKOUT_FORM');
    assert.equal(payment.paidPrice, 300);
    assert.equal(payment.lastFourDigits, '0001');
    assert.equal(payment.binNumber, '525864');
    assert.equal(payment.cardHolderName, 'Jane Doe');
    assert.equal(payment.conversationId, 'checkout-conv');
    assert.equal(payment.isThreeDs, false, 'no 3D Secure without forceThreeDs');
    const byId = ok(await server.api.get(`/payment/v1/card-payments/${payment.id}`));
    assert.equal(byId.paymentStatus, 'SUCCESS');

    // The page is closed once paid.
    const again = await page.goto(`${init.pageUrl}?lang=en`);
    assert.equal(again.status(), 200);
    assert.match(await page.locator('main').innerText(), /This payment is complete/);
    assert.equal(await page.locator('#pay').count(), 0, 'no pay button on a completed checkout');
    await shot(page, 'completed-page');
  } finally {
    await context.close();
  }
});

test('checkout: a declined card re-shows the page with the error, then a good card pays (same token)', async () => {
  const shot = screenshots('checkout-decline-retry');
  const init = await initCheckout({ price: '75.50', enabledInstallments: [1] });
  const { page, context } = await newPage(browser);
  try {
    await page.goto(`${init.pageUrl}?lang=en`);
    await fillCheckout(page, { holder: 'Jane Doe', number: cards.insufficientFunds });
    await shot(page, 'filled-declining-card');
    await page.click('#pay');
    const error = page.locator('#error');
    await error.waitFor();
    assert.equal(await error.getAttribute('role'), 'alert');
    assert.match(await error.innerText(), /insufficient/i);
    assert.equal(await page.inputValue('#cardHolderName'), 'Jane Doe', 'the name is kept');
    assert.equal(await page.inputValue('#cardNumber'), '', 'the card number is not echoed back');
    assert.equal(await page.inputValue('#cvc'), '', 'the CVC is not echoed back');
    assert.equal(await page.getAttribute('html', 'lang'), 'en', 'still in English');
    assert.equal(site.postsTo(init.callbackUrl).length, 0, 'no callback for a declined card');
    await shot(page, 'declined');

    // Retry on the same page with a good card.
    await fillCheckout(page, { holder: 'Jane Doe', number: cards.good });
    await shot(page, 'retry-filled');
    await page.click('#pay');
    const post = await site.waitForPost(init.callbackUrl);
    await page.waitForSelector('#merchant-result');
    await shot(page, 'merchant-callback');
    assert.equal(post.fields.token, init.token);
    assert.equal(site.postsTo(init.callbackUrl).length, 1);

    const payment = ok(await server.api.get(`/payment/v1/checkout-payments/${init.token}`));
    assert.equal(payment.paymentStatus, 'SUCCESS');
    assert.equal(payment.lastFourDigits, '0001');
    assert.equal(payment.paidPrice, 75.5);
    assert.equal(payment.installment, 1);
  } finally {
    await context.close();
  }
});

test('checkout: invalid card details are refused on the page with a message', async () => {
  const shot = screenshots('checkout-invalid');
  const init = await initCheckout({ price: '10.00', enabledInstallments: [1] });
  const { page, context } = await newPage(browser);
  try {
    await page.goto(`${init.pageUrl}?lang=en`);
    await fillCheckout(page, { number: '5258640000000002' }); // fails Luhn
    await page.click('#pay');
    await page.locator('#error').waitFor();
    assert.match(await page.innerText('#error'), /card number is not valid/i);
    await shot(page, 'bad-number');
    await fillCheckout(page, { expiry: '1320' });
    await page.click('#pay');
    await page.locator('#error').waitFor();
    assert.match(await page.innerText('#error'), /expiry date is not valid/i);
    await shot(page, 'bad-expiry');
    assert.equal(site.postsTo(init.callbackUrl).length, 0);
  } finally {
    await context.close();
  }
});

test('checkout with forceThreeDs goes through the ACS page, then back to the merchant', async () => {
  const shot = screenshots('checkout-3ds');
  const init = await initCheckout({ price: '120.00', enabledInstallments: [1, 3], forceThreeDs: true });
  const { page, context } = await newPage(browser);
  try {
    await page.goto(`${init.pageUrl}?lang=en`);
    await fillCheckout(page, { number: cards.good });
    await waitForInstallments(page, 2);
    await page.selectOption('#installment', '3');
    await shot(page, 'filled');
    await page.click('#pay');
    const acs = await waitForAcsPage(page);
    assert.match(acs.text, /120(\.00)? TRY/);
    assert.match(acs.text, /5258 64\*\* \*\*\*\* 0001/);
    await shot(page, 'acs-page');

    // A failed authentication brings the shopper back to the page with the error…
    await submitAcs(page, { otp: '999999' });
    await page.locator('#error').waitFor();
    assert.match(await page.innerText('#error'), /3D Secure/i);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(site.postsTo(init.callbackUrl).length, 0);
    await shot(page, 'authentication-failed');

    // …who can try again with the right OTP.
    await fillCheckout(page, { number: cards.good });
    await waitForInstallments(page, 2);
    await page.selectOption('#installment', '3');
    await page.click('#pay');
    await waitForAcsPage(page);
    await page.fill('#otp', '123456');
    await shot(page, 'acs-otp');
    await submitAcs(page, { otp: null });
    const post = await site.waitForPost(init.callbackUrl);
    await page.waitForSelector('#merchant-result');
    await shot(page, 'merchant-callback');
    assert.deepEqual(post.fields, { token: init.token });

    const payment = ok(await server.api.get(`/payment/v1/checkout-payments/${init.token}`));
    assert.equal(payment.paymentStatus, 'SUCCESS');
    assert.equal(payment.paymentSource, 'CHECKOUT_FORM');
    assert.equal(payment.installment, 3);
    assert.equal(payment.paidPrice, 120);
    assert.equal(payment.isThreeDs, true, 'paid through 3D Secure');
  } finally {
    await context.close();
  }
});

test('checkout: the same token paid from two tabs at once charges the shopper once', async () => {
  const shot = screenshots('checkout-two-tabs');
  // A few rounds, as the two submissions race each other.
  for (let round = 1; round <= 3; round += 1) {
    const price = `${40 + round}.50`;
    const init = await initCheckout({ price, enabledInstallments: [1] });
    const a = await newPage(browser);
    const b = await newPage(browser);
    try {
      for (const { page } of [a, b]) {
        await page.goto(`${init.pageUrl}?lang=en`);
        await fillCheckout(page, { number: cards.good });
      }
      // Both shoppers' tabs submit at the same moment.
      await Promise.all([a, b].map(({ page }) => page.evaluate(() => document.getElementById('pay').click())));
      const outcome = async (page) => {
        await page.waitForSelector('#merchant-result, #error, main h1', { timeout: 15_000 });
        if (await page.locator('#merchant-result').count()) return 'paid';
        return (await page.locator('main').innerText()).replace(/\s+/g, ' ').trim();
      };
      const outcomes = [await outcome(a.page), await outcome(b.page)];
      await shot(a.page, `round${round}-tab-a`);
      await shot(b.page, `round${round}-tab-b`);
      const found = ok(await server.api.get(`/payment-reporting/v1/payments?paymentStatus=SUCCESS&minPaidPrice=${price}&maxPaidPrice=${price}`));
      assert.equal(found.items.length, 1,
        `round ${round}: one successful payment for the token, found ${found.items.length} (payments ${found.items.map((p) => p.id)}); tabs: ${JSON.stringify(outcomes)}`);
      assert.equal(outcomes.filter((o) => o === 'paid').length, 1, `round ${round}: exactly one tab pays: ${JSON.stringify(outcomes)}`);
      assert.equal(site.postsTo(init.callbackUrl).length, 1, 'one return to the merchant');
      const payment = ok(await server.api.get(`/payment/v1/checkout-payments/${init.token}`));
      assert.equal(payment.paymentStatus, 'SUCCESS');
    } finally {
      await a.context.close();
      await b.context.close();
    }
  }
});

test('checkout: an expired token shows an expired page and takes no payment', async () => {
  const shot = screenshots('checkout-expired');
  const init = await initCheckout({ price: '9.00', enabledInstallments: [1] });
  const { page, context } = await newPage(browser);
  try {
    await page.goto(`${init.pageUrl}?lang=en`);
    await fillCheckout(page, { number: cards.good });
    // The merchant expires the session while the shopper is on the page.
    const expired = await server.api.delete(`/payment/v1/checkout-payments/${init.token}`);
    assert.ok(expired.status >= 200 && expired.status < 300, expired.raw);
    await page.click('#pay');
    await page.waitForLoadState('load');
    assert.match(await page.locator('main').innerText(), /can no longer be used|expired/i);
    assert.equal(await page.locator('#pay').count(), 0);
    await shot(page, 'pay-after-expiry');
    const response = await page.goto(`${init.pageUrl}?lang=en`);
    assert.equal(response.status(), 410);
    assert.match(await page.locator('main').innerText(), /expired/i);
    await shot(page, 'page-after-expiry');
    assert.equal(site.postsTo(init.callbackUrl).length, 0);
    const retrieve = await server.api.get(`/payment/v1/checkout-payments/${init.token}`);
    assert.equal(retrieve.status, 404, 'no payment for the expired checkout');
  } finally {
    await context.close();
  }
});

test('checkout with forceThreeDs: a second tab finishing 3DS after the first has paid is not charged again', async () => {
  const shot = screenshots('checkout-two-tabs-3ds');
  const init = await initCheckout({ price: '43.00', enabledInstallments: [1], forceThreeDs: true });
  const a = await newPage(browser);
  const b = await newPage(browser);
  try {
    // Both tabs reach the bank's ACS page for the same checkout (one after the other).
    for (const { page } of [a, b]) {
      await page.goto(`${init.pageUrl}?lang=en`);
      await fillCheckout(page, { number: cards.good });
      await page.click('#pay');
      await waitForAcsPage(page);
    }
    await shot(b.page, 'tab-b-acs');
    // Tab A authenticates and pays.
    await submitAcs(a.page);
    await a.page.waitForSelector('#merchant-result');
    await shot(a.page, 'tab-a-paid');
    const first = ok(await server.api.get(`/payment/v1/checkout-payments/${init.token}`));
    assert.equal(first.paymentStatus, 'SUCCESS');
    // Then tab B authenticates too: the checkout is already paid.
    await submitAcs(b.page);
    await b.page.waitForLoadState('load');
    await b.page.waitForSelector('#merchant-result, #error, main h1');
    await shot(b.page, 'tab-b-after-confirm');
    const found = ok(await server.api.get('/payment-reporting/v1/payments?paymentStatus=SUCCESS&minPaidPrice=43&maxPaidPrice=43'));
    assert.deepEqual(found.items.map((p) => p.id), [first.id],
      `only the first payment succeeded; successful 43.00 payments: ${JSON.stringify(found.items.map((p) => p.id))}`);
    assert.equal(site.postsTo(init.callbackUrl).length, 1, 'the merchant is sent back once');
    const still = ok(await server.api.get(`/payment/v1/checkout-payments/${init.token}`));
    assert.equal(still.id, first.id, 'the checkout still points at the first payment');
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('checkout with cardUserKey: the shopper pays with a saved card, or saves the new one', async () => {
  const shot = screenshots('checkout-saved-cards');
  const cardUserKey = `cu-${Date.now()}`;
  const stored = ok(await server.api.post('/payment/v1/cards', {
    cardHolderName: 'Ayşe Yılmaz', cardNumber: cards.good, expireYear: '2044', expireMonth: '07',
    cardAlias: 'Maaş kartım', cardUserKey,
  }), 'store card');
  const init = await initCheckout({ price: '80.00', enabledInstallments: [1], cardUserKey });
  const { page, context } = await newPage(browser);
  try {
    await page.goto(init.pageUrl);
    const saved = page.locator(`form.saved-card:has(input[value="${stored.cardToken}"])`);
    assert.match(await saved.innerText(), /•••• 0001 Maaş kartım/);
    assert.ok(await page.isVisible('#saveCard'), 'the save-my-card box is offered');
    await shot(page, 'page');
    await saved.locator('input[name="cvc"]').fill('000');
    await saved.locator('button[type="submit"]').click();
    const post = await site.waitForPost(init.callbackUrl);
    assert.equal(post.fields.token, init.token);
    const payment = ok(await server.api.get(`/payment/v1/checkout-payments/${init.token}`));
    assert.equal(payment.paymentStatus, 'SUCCESS');
    assert.equal(payment.cardToken, stored.cardToken);
    await shot(page, 'paid-with-saved-card');

    // A new card, saved for next time.
    const second = await initCheckout({ price: '20.00', enabledInstallments: [1], cardUserKey });
    await page.goto(second.pageUrl);
    await fillCheckout(page, { holder: 'Ayşe Yılmaz', number: '4543590000000006' });
    await page.check('#saveCard');
    await shot(page, 'new-card-save-ticked');
    await page.click('#pay');
    await site.waitForPost(second.callbackUrl);
    const found = ok(await server.api.get(`/payment/v1/cards?cardUserKey=${cardUserKey}`));
    assert.deepEqual(found.items.map((c) => c.lastFourDigits).sort(), ['0001', '0006']);
  } finally {
    await context.close();
  }
});
