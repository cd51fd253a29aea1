// What the checkout page loads: every request the browser makes goes to Orkestra's own
// origin (no CDN, font, analytics or other third party); the only other destination is the
// merchant's own callbackUrl at the very end. The page's responses carry a strict CSP
// (`default-src 'none'`) and `cache-control: no-store`; the card number never shows up in
// a URL or in what the merchant receives.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  cards, checkoutRequest, fillCheckout, launchBrowser, newPage, ok, screenshots,
  startMerchantSite, startOrkestra, waitForInstallments,
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

/** Records requests (Playwright's view and the DevTools protocol's), responses and console. */
async function record(context, page) {
  const requests = [];
  const responses = [];
  const console = [];
  context.on('request', (r) => requests.push({ url: r.url(), method: r.method(), type: r.resourceType(), postData: r.postData() }));
  context.on('response', (r) => responses.push(r));
  page.on('console', (m) => console.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => console.push({ type: 'pageerror', text: String(e) }));
  const cdpUrls = [];
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.requestWillBeSent', (e) => cdpUrls.push(e.request.url));
  return { requests, responses, console, cdpUrls };
}

function assertStrictHeaders(headers, what) {
  const csp = headers['content-security-policy'];
  assert.ok(csp, `${what}: content-security-policy is set`);
  const directives = Object.fromEntries(csp.split(';').map((d) => d.trim()).filter(Boolean)
    .map((d) => { const [name, ...values] = d.split(/\s+/); return [name, values]; }));
  assert.deepEqual(directives['default-src'], ["'none'"], `${what}: default-src 'none' (${csp})`);
  for (const [name, values] of Object.entries(directives)) {
    for (const v of values) {
      if (name === 'form-action') continue; // the merchant's callbackUrl may be anywhere
      assert.ok(!/^https?:\/\/|^\*$|^https?:$|'unsafe-eval'/.test(v), `${what}: ${name} allows no other origin (${v})`);
    }
  }
  assert.ok(!/'unsafe-inline'/.test(directives['script-src']?.join(' ') ?? ''), `${what}: no inline scripts allowed`);
  assert.match(headers['cache-control'] ?? '', /no-store/, `${what}: cache-control no-store`);
}

test('checkout page: every browser request goes to Orkestra; strict CSP and no-store on its responses', async () => {
  const shot = screenshots('network-checkout');
  const init = ok(await server.api.post('/payment/v1/checkout-payments/init', checkoutRequest({
    price: '300.00', callbackUrl: site.callbackUrl('network'),
  })));
  const { page, context } = await newPage(browser);
  const rec = await record(context, page);
  try {
    const response = await page.goto(`${init.pageUrl}?lang=en`);
    assertStrictHeaders(response.headers(), 'checkout page');
    assert.equal(response.headers()['x-frame-options'], 'DENY');
    assert.match(response.headers()['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(response.headers()['referrer-policy'], 'no-referrer');
    assert.equal(response.headers()['x-content-type-options'], 'nosniff');
    await page.waitForLoadState('networkidle');
    await shot(page, 'loaded');

    await fillCheckout(page, { number: cards.insufficientFunds });
    await waitForInstallments(page, 4);
    await page.click('#pay');
    await page.locator('#error').waitFor();
    await shot(page, 'declined');
    await fillCheckout(page, { number: cards.good });
    await waitForInstallments(page, 4);
    await page.selectOption('#installment', '2');
    await shot(page, 'filled');
    await page.click('#pay');
    await page.waitForSelector('#merchant-result');
    await shot(page, 'merchant-callback');

    const orkestra = new URL(server.url).origin;
    const merchant = new URL(site.url).origin;
    const all = [...new Set([...rec.requests.map((r) => r.url), ...rec.cdpUrls])];
    const foreign = all.filter((u) => {
      const origin = new URL(u).origin;
      return origin !== orkestra && origin !== merchant;
    });
    assert.deepEqual(foreign, [], 'no request to a third party');
    // The merchant is reached once, by the final form post of the token.
    const toMerchant = rec.requests.filter((r) => new URL(r.url).origin === merchant);
    assert.equal(toMerchant.length, 1, JSON.stringify(toMerchant));
    assert.equal(toMerchant[0].method, 'POST');
    assert.equal(toMerchant[0].type, 'document');
    assert.equal(toMerchant[0].postData, `token=${init.token}`);
    // Everything before that went to Orkestra: the page, its stylesheet and script, the BIN
    // lookups, the card form post.
    const beforeMerchant = rec.requests.slice(0, rec.requests.indexOf(toMerchant[0]));
    assert.ok(beforeMerchant.every((r) => new URL(r.url).origin === orkestra));
    const paths = beforeMerchant.map((r) => `${r.method} ${new URL(r.url).pathname}`);
    for (const expected of [
      `GET /checkout/${init.token}`, 'GET /assets/orkestra.css', 'GET /assets/checkout.js',
      `GET /checkout/${init.token}/installments`, `POST /checkout/${init.token}/pay`,
    ]) {
      assert.ok(paths.includes(expected), `${expected} in ${JSON.stringify(paths)}`);
    }
    // The card number travels only in the POST body to Orkestra: never in a URL, never to the merchant.
    for (const pan of [cards.good, cards.insufficientFunds]) {
      assert.ok(!all.some((u) => u.includes(pan) || u.includes(pan.slice(0, 12))), `the card number is in no URL: ${pan}`);
      assert.ok(!toMerchant[0].postData.includes(pan));
    }
    const bins = rec.requests.filter((r) => r.url.includes('/installments'));
    assert.ok(bins.every((r) => /[?&]bin=\d{6,8}$/.test(r.url)), `BIN lookups send at most 8 digits: ${bins.map((r) => r.url)}`);
    for (const post of rec.requests.filter((r) => r.method === 'POST' && r.url.includes('/pay'))) {
      assert.equal(new URL(post.url).origin, orkestra, 'card data is posted to Orkestra only');
    }

    // Headers of every Orkestra response: HTML pages strict CSP + no-store; the BIN lookup no-store.
    for (const r of rec.responses) {
      if (new URL(r.url()).origin !== orkestra) continue;
      const headers = await r.allHeaders();
      const type = headers['content-type'] ?? '';
      const what = `${r.request().method()} ${new URL(r.url()).pathname} (${r.status()})`;
      if (type.startsWith('text/html')) assertStrictHeaders(headers, what);
      if (r.url().includes('/installments')) assert.match(headers['cache-control'] ?? '', /no-store/, what);
    }

    // No CSP violation, no script error, no cookie.
    const problems = rec.console.filter((m) => m.type === 'pageerror' || /Content Security Policy|Refused to/i.test(m.text));
    assert.deepEqual(problems, [], 'no CSP violation or script error');
    assert.deepEqual(await context.cookies(orkestra), [], 'the checkout sets no cookie');
  } finally {
    await context.close();
  }
});

test('3DS pages: the redirect page and the return to the merchant carry strict headers and stay on known origins', async () => {
  const shot = screenshots('network-3ds');
  const callbackUrl = site.callbackUrl('network-3ds');
  const init = ok(await server.api.post('/payment/v1/card-payments/3ds-init', {
    price: '10.00', paidPrice: '10.00', currency: 'TRY', installment: 1, paymentGroup: 'PRODUCT', callbackUrl,
    card: { cardHolderName: 'Net Work', cardNumber: cards.md1, expireYear: '2044', expireMonth: '07', cvc: '000' },
    items: [{ name: 'x', price: '10.00' }],
  }));
  const { page, context } = await newPage(browser);
  const rec = await record(context, page);
  try {
    const response = await page.goto(init.redirectUrl);
    assertStrictHeaders(response.headers(), '3D redirect page');
    await page.waitForSelector('#otp');
    await shot(page, 'acs');
    await page.fill('#otp', '123456');
    await page.click('button[name="action"][value="confirm"]');
    await site.waitForPost(callbackUrl);
    await page.waitForSelector('#merchant-result');
    const orkestra = new URL(server.url).origin;
    const merchant = new URL(site.url).origin;
    const foreign = [...new Set([...rec.requests.map((r) => r.url), ...rec.cdpUrls])]
      .filter((u) => ![orkestra, merchant].includes(new URL(u).origin));
    assert.deepEqual(foreign, [], 'sandbox 3D stays on Orkestra (with its in-process bank) and the merchant');
    for (const r of rec.responses) {
      const path = new URL(r.url()).pathname;
      if (new URL(r.url()).origin !== orkestra || path.startsWith('/sim/')) continue;
      const headers = await r.allHeaders();
      if ((headers['content-type'] ?? '').startsWith('text/html')) assertStrictHeaders(headers, `${r.request().method()} ${path}`);
    }
    const problems = rec.console.filter((m) => m.type === 'pageerror' || /Content Security Policy|Refused to/i.test(m.text));
    assert.deepEqual(problems, [], 'no CSP violation or script error');
  } finally {
    await context.close();
  }
});
