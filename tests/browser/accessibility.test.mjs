// Accessibility smoke test of the checkout page: every field has a <label>, live regions
// and the error alert are marked up, and the page can be used with the keyboard alone
// (Tab reaches every field and the pay button; Enter submits).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  cards, checkoutRequest, launchBrowser, newPage, ok, screenshots, startMerchantSite,
  startOrkestra,
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

async function initCheckout(options = {}) {
  const callbackUrl = site.callbackUrl('a11y');
  const init = ok(await server.api.post('/payment/v1/checkout-payments/init', checkoutRequest({ callbackUrl, ...options })));
  return { ...init, callbackUrl };
}

const focusedId = (page) => page.evaluate(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return '(body)';
  return el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}${el.getAttribute('href') ? `[href=${el.getAttribute('href')}]` : ''}`;
});

for (const lang of ['tr', 'en']) {
  test(`accessibility (${lang}): every form control has a visible, associated label`, async () => {
    const shot = screenshots(`a11y-labels-${lang}`);
    const init = await initCheckout();
    const { page, context } = await newPage(browser);
    try {
      await page.goto(`${init.pageUrl}?lang=${lang}`);
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      assert.ok((await page.title()).trim().length > 0, 'the page has a title');
      assert.equal(await page.locator('meta[name="viewport"]').count(), 1);
      const controls = await page.$$eval('input, select, textarea', (els) => els
        .filter((el) => el.type !== 'hidden' && el.type !== 'submit' && el.type !== 'button')
        .map((el) => ({
          id: el.id,
          name: el.name,
          labels: Array.from(el.labels || []).map((l) => l.textContent.trim()),
          labelVisible: Array.from(el.labels || []).some((l) => {
            const r = l.getBoundingClientRect();
            return r.width > 0 && r.height > 0 && getComputedStyle(l).visibility !== 'hidden';
          }),
          autocomplete: el.getAttribute('autocomplete'),
        })));
      assert.deepEqual(controls.map((c) => c.id).sort(), ['cardHolderName', 'cardNumber', 'cvc', 'expiry', 'installment', 'saveCard'].sort());
      for (const c of controls) {
        assert.ok(c.labels.length >= 1, `#${c.id} has an associated <label>`);
        assert.ok(c.labels.every((t) => t.length > 0), `#${c.id}'s label has text`);
        assert.ok(c.labelVisible, `#${c.id}'s label is visible`);
      }
      // Autofill hints for card fields.
      const hints = Object.fromEntries(controls.map((c) => [c.id, c.autocomplete]));
      assert.equal(hints.cardHolderName, 'cc-name');
      assert.equal(hints.cardNumber, 'cc-number');
      assert.equal(hints.expiry, 'cc-exp');
      assert.equal(hints.cvc, 'cc-csc');
      // getByLabel finds the fields by their label text, as assistive technology does.
      const labelOf = lang === 'en' ? 'Card number' : 'Kart numarası';
      assert.equal(await page.getByLabel(labelOf, { exact: false }).first().getAttribute('id'), 'cardNumber');
      // Live regions for what changes while typing.
      assert.equal(await page.getAttribute('#brand', 'aria-live'), 'polite');
      assert.equal(await page.getAttribute('#card-info', 'aria-live'), 'polite');
      // The pay button is a real submit button with a name.
      assert.equal(await page.getAttribute('#pay', 'type'), 'submit');
      assert.ok((await page.innerText('#pay')).trim().length > 0);
      await shot(page, 'page');
    } finally {
      await context.close();
    }
  });
}

test('accessibility: keyboard only — Tab through the fields, type, choose installments, Enter on Pay', async () => {
  const shot = screenshots('a11y-keyboard');
  const init = await initCheckout({ price: '60.00', enabledInstallments: [1, 2, 3] });
  const { page, context } = await newPage(browser);
  try {
    await page.goto(`${init.pageUrl}?lang=en`);
    const order = [];
    const typed = {
      '#cardHolderName': 'Keyboard User',
      '#cardNumber': cards.good,
      '#expiry': '0744',
      '#cvc': '000',
    };
    for (let i = 0; i < 20; i += 1) {
      await page.keyboard.press('Tab');
      const id = await focusedId(page);
      order.push(id);
      if (typed[id]) await page.keyboard.type(typed[id], { delay: 5 });
      if (id === '#installment') {
        // The BIN lookup has filled the options by now; choose "2 installments" with the keyboard.
        await page.waitForFunction(() => document.querySelectorAll('#installment option').length >= 3);
        await page.keyboard.press('ArrowDown');
      }
      if (id === '#pay') break;
    }
    const fields = order.filter((id) => id.startsWith('#'));
    assert.deepEqual(fields, ['#cardHolderName', '#cardNumber', '#expiry', '#cvc', '#installment', '#saveCard', '#pay'],
      `Tab order: ${order.join(' → ')}`);
    assert.equal(await page.inputValue('#cardNumber'), '5258 6400 0000 0001');
    assert.equal(await page.inputValue('#expiry'), '07/44');
    assert.equal(await page.inputValue('#installment'), '2', 'ArrowDown on the focused select picks the next option');
    // The focused button shows a visible focus indicator.
    const outline = await page.$eval('#pay', (el) => {
      const s = getComputedStyle(el);
      return { style: s.outlineStyle, width: parseFloat(s.outlineWidth), shadow: s.boxShadow };
    });
    assert.ok((outline.style !== 'none' && outline.width > 0) || (outline.shadow && outline.shadow !== 'none'),
      `the focused pay button has a visible focus indicator: ${JSON.stringify(outline)}`);
    await shot(page, 'pay-focused');

    await page.keyboard.press('Enter');
    const post = await site.waitForPost(init.callbackUrl);
    await page.waitForSelector('#merchant-result');
    await shot(page, 'merchant-callback');
    assert.equal(post.fields.token, init.token);
    const payment = ok(await server.api.get(`/payment/v1/checkout-payments/${init.token}`));
    assert.equal(payment.paymentStatus, 'SUCCESS');
    assert.equal(payment.installment, 2);
    assert.equal(payment.cardHolderName, 'Keyboard User');
  } finally {
    await context.close();
  }
});

test('accessibility: Enter in a text field submits the form; an error is announced and focusable fields stay usable', async () => {
  const shot = screenshots('a11y-enter');
  const init = await initCheckout({ price: '15.00', enabledInstallments: [1] });
  const { page, context } = await newPage(browser);
  try {
    await page.goto(`${init.pageUrl}?lang=en`);
    await page.focus('#cardHolderName');
    await page.keyboard.type('Enter Key');
    await page.keyboard.press('Tab');
    await page.keyboard.type(cards.insufficientFunds);
    await page.keyboard.press('Tab');
    await page.keyboard.type('0744');
    await page.keyboard.press('Tab');
    await page.keyboard.type('000');
    await page.keyboard.press('Enter'); // implicit submission from the CVC field
    const error = page.locator('[role="alert"]');
    await error.waitFor();
    assert.match(await error.innerText(), /insufficient/i);
    await shot(page, 'error-announced');

    // Try again with a good card, still with the keyboard only.
    await page.focus('#cardNumber');
    await page.keyboard.type(cards.good);
    await page.keyboard.press('Tab');
    await page.keyboard.type('0744');
    await page.keyboard.press('Tab');
    await page.keyboard.type('000');
    await page.keyboard.press('Enter');
    const post = await site.waitForPost(init.callbackUrl);
    assert.equal(post.fields.token, init.token);
    await page.waitForSelector('#merchant-result');
    await shot(page, 'merchant-callback');
  } finally {
    await context.close();
  }
});

test('accessibility: the pay-by-link page works with the keyboard (Tab to Buy, Enter)', async () => {
  const shot = screenshots('a11y-pay-by-link');
  const product = ok(await server.api.post('/craftlink/v1/products', { name: 'Klavye', price: '30.00', currency: 'TRY' }));
  const { page, context } = await newPage(browser);
  try {
    await page.goto(`${product.url}?lang=en`);
    let reached = false;
    for (let i = 0; i < 5 && !reached; i += 1) {
      await page.keyboard.press('Tab');
      reached = (await focusedId(page)) === '#buy';
    }
    assert.ok(reached, 'Tab reaches the buy button');
    await shot(page, 'buy-focused');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/checkout\//);
    await page.waitForSelector('#cardNumber');
    await shot(page, 'checkout-page');
  } finally {
    await context.close();
  }
});
