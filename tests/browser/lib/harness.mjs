// Shared harness for Orkestra's browser end-to-end tests: a sandbox server per test file,
// a Craftgate-signed API client, a tiny merchant site that records the forms the browser
// posts back, Debian's Chromium driven by playwright-core, and step screenshots.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..', '..');
export const artifactsDir = path.join(repoRoot, 'test-artifacts', 'browser');
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Test cards of the NestPay simulator. */
export const cards = {
  // 3D Secure: forced mdStatus
  md1: '4355084355084358',
  md0: '4355080000000005',
  md2: '4355080000002001',
  // plain approvals / declines
  good: '5258640000000001',
  insufficientFunds: '5100050000006661',
};

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `fn` until it returns a truthy value, or throws after `timeoutMs`. */
export async function waitFor(fn, { timeoutMs = 10_000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    }
    await sleep(intervalMs);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

function orkestraBinary() {
  return process.env.ORKESTRA_BIN || path.join(repoRoot, 'target', 'debug', 'orkestra');
}

/**
 * Starts `orkestra serve --sandbox` on a free port with a fresh SQLite database.
 * Returns { url, port, keys, dir, stop() }. Waits (a while) for the binary if it is being
 * rebuilt by someone else.
 */
export async function startOrkestra({ threedsTtlSecs, extraArgs = [] } = {}) {
  const bin = orkestraBinary();
  await waitFor(() => existsSync(bin), {
    timeoutMs: 120_000,
    intervalMs: 1000,
    what: `the Orkestra binary at ${bin} (build it with: cargo build -p orkestra)`,
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orkestra-browser-'));
  const port = await freePort();
  const args = [
    'serve', '--sandbox',
    '--listen', `127.0.0.1:${port}`,
    '--database-url', `sqlite://${path.join(dir, 'orkestra.db')}`,
    '--data-dir', dir,
    ...(threedsTtlSecs ? ['--threeds-ttl-secs', String(threedsTtlSecs)] : []),
    ...extraArgs,
  ];
  let log = '';
  const child = spawn(bin, args, {
    env: { ...process.env, ORKESTRA_MASTER_KEY: randomBytes(32).toString('hex'), RUST_LOG: process.env.RUST_LOG || 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  try {
    await waitFor(async () => {
      if (exited) throw new Error(`orkestra exited early (${JSON.stringify(exited)}):\n${log}`);
      return (await portOpen(port)) && existsSync(path.join(dir, 'sandbox-merchant.json'));
    }, { timeoutMs: 30_000, intervalMs: 100, what: `orkestra on port ${port}` });
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${error.message}\n--- server log ---\n${log}`);
  }
  const keys = JSON.parse(readFileSync(path.join(dir, 'sandbox-merchant.json'), 'utf8'));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    keys,
    dir,
    api: apiClient(url, keys),
    log: () => log,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await waitFor(() => exited, { timeoutMs: 5000, what: 'orkestra to stop' }).catch(() => child.kill('SIGKILL'));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Craftgate-signed JSON client: `api.post(path, body)` → { status, body, data, errors }. */
export function apiClient(baseUrl, { apiKey, secretKey }) {
  async function call(method, pathAndQuery, body) {
    const fullUrl = baseUrl + pathAndQuery;
    const text = body === undefined ? '' : JSON.stringify(body);
    const rnd = randomBytes(12).toString('hex');
    const signature = createHash('sha256')
      .update(decodeURI(fullUrl) + apiKey + secretKey + rnd + text)
      .digest('base64');
    const response = await fetch(fullUrl, {
      method,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'x-api-key': apiKey,
        'x-rnd-key': rnd,
        'x-signature': signature,
        'x-auth-version': 'v1',
      },
      body: body === undefined ? undefined : text,
    });
    const raw = await response.text();
    let json = null;
    try { json = raw ? JSON.parse(raw) : null; } catch { /* not JSON */ }
    return { status: response.status, body: json, raw, data: json?.data, errors: json?.errors };
  }
  return {
    get: (p) => call('GET', p),
    post: (p, body) => call('POST', p, body ?? {}),
    put: (p, body) => call('PUT', p, body ?? {}),
    delete: (p) => call('DELETE', p),
  };
}

/** Asserts a 2xx envelope and returns its data. */
export function ok(response, what = 'request') {
  if (response.status < 200 || response.status >= 300 || response.errors) {
    throw new Error(`${what} failed: HTTP ${response.status} ${response.raw}`);
  }
  return response.data;
}

/**
 * A merchant site on 127.0.0.1: records every form posted to it and answers a small HTML
 * page (`<h1 id="merchant-result">`). Give each test its own path (`site.callbackUrl()`)
 * and wait for the form posted there with `site.waitForPost(url)`.
 */
export async function startMerchantSite() {
  const posts = [];
  let waiters = [];
  let counter = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const fields = Object.fromEntries(new URLSearchParams(body));
      const record = { method: req.method, url: req.url, headers: req.headers, body, fields };
      if (req.method === 'POST') {
        posts.push(record);
        waiters = waiters.filter((w) => !w(record));
      }
      const rows = Object.entries(fields)
        .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td id="f-${escapeHtml(k)}">${escapeHtml(v)}</td></tr>`)
        .join('');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Merchant</title></head>
<body style="font-family:sans-serif"><h1 id="merchant-result">Merchant received ${escapeHtml(req.method)} ${escapeHtml(req.url)}</h1>
<table>${rows}</table></body></html>`);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  const pathOf = (u) => (u.startsWith('http') ? new URL(u).pathname + new URL(u).search : u);
  return {
    url,
    posts,
    /** A fresh callback URL on this site, e.g. http://127.0.0.1:P/cb/3-name */
    callbackUrl(name = 'cb') {
      counter += 1;
      return `${url}/cb/${counter}-${encodeURIComponent(name)}`;
    },
    /** The first POST to `callbackUrl` (already received or still to come). */
    waitForPost(callbackUrl, timeoutMs = 20_000) {
      const wanted = pathOf(callbackUrl);
      const found = posts.find((p) => p.url === wanted);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no POST reached the merchant site at ${wanted}`)), timeoutMs);
        waiters.push((record) => {
          if (record.url !== wanted) return false;
          clearTimeout(timer);
          resolve(record);
          return true;
        });
      });
    },
    /** Every POST received at `callbackUrl` so far. */
    postsTo: (callbackUrl) => posts.filter((p) => p.url === pathOf(callbackUrl)),
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

/** The merchant callback hash Craftgate's SDKs verify (lower-hex SHA-256). */
export function threeDsCallbackHash(key, f) {
  const text = [key, f.status, f.completeStatus, f.paymentId, f.conversationData ?? '', f.conversationId ?? '', f.callbackStatus ?? ''].join('###');
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Launches Debian's Chromium (never a downloaded browser) with a fresh temporary profile. */
export async function launchBrowser() {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}: apt-get install -y chromium`);
  }
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A new context and page with sensible defaults; `page.setDefaultTimeout` 15 s. */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 900, height: 1000 }, locale: 'en-US', ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.setDefaultNavigationTimeout(15_000);
  return { context, page };
}

/** Screenshot helper: `shot(page, 'acs-page')` → test-artifacts/browser/<prefix>-NN-acs-page.png */
export function screenshots(prefix) {
  mkdirSync(artifactsDir, { recursive: true });
  let n = 0;
  return async (page, step) => {
    n += 1;
    const file = path.join(artifactsDir, `${prefix}-${String(n).padStart(2, '0')}-${step}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  };
}

/** A 3ds-init / payment request body. */
export function paymentRequest({ price = '100.00', card = cards.md1, installment = 1, callbackUrl, conversationId, ...rest } = {}) {
  return {
    price,
    paidPrice: price,
    currency: 'TRY',
    installment,
    paymentGroup: 'PRODUCT',
    conversationId,
    callbackUrl,
    card: { cardHolderName: 'Ayşe Yılmaz', cardNumber: card, expireYear: '2044', expireMonth: '07', cvc: '000' },
    items: [{ name: 'Kitap', price }],
    ...rest,
  };
}

/** The simulator's ACS (challenge) page: waits for it, checks what it shows. */
export async function waitForAcsPage(page) {
  await page.waitForSelector('input#otp', { timeout: 15_000 });
  return {
    text: await page.locator('main').innerText(),
  };
}

/** Types the OTP and presses Confirm ("Onayla") or Cancel ("İptal") on the ACS page. */
export async function submitAcs(page, { otp = '123456', action = 'confirm' } = {}) {
  if (otp !== null) await page.fill('#otp', otp);
  const button = action === 'confirm'
    ? page.locator('button[name="action"][value="confirm"]')
    : page.locator('button[name="action"][value="cancel"]');
  await button.click();
}

/** Types into a field key by key (so the page's input handlers run), replacing its value. */
export async function typeInto(page, selector, text) {
  const field = page.locator(selector);
  await field.fill('');
  await field.pressSequentially(text, { delay: 5 });
}

/** Fills the checkout form the way a shopper types it. */
export async function fillCheckout(page, { holder = 'Jane Doe', number = cards.good, expiry = '0744', cvc = '000' } = {}) {
  await typeInto(page, '#cardHolderName', holder);
  await typeInto(page, '#cardNumber', number);
  await typeInto(page, '#expiry', expiry);
  await typeInto(page, '#cvc', cvc);
}

/** Waits until the BIN lookup has filled the installment select with more than `min` options. */
export async function waitForInstallments(page, min = 2) {
  await page.waitForFunction((n) => document.querySelectorAll('#installment option').length >= n, min);
  return page.$$eval('#installment option', (options) => options.map((o) => ({ value: o.value, text: o.textContent })));
}

/** A checkout-payments/init body. */
export function checkoutRequest({ price = '300.00', callbackUrl, enabledInstallments = [1, 2, 3, 6], ...rest } = {}) {
  return {
    price,
    paidPrice: price,
    currency: 'TRY',
    paymentGroup: 'PRODUCT',
    conversationId: 'checkout-conv',
    callbackUrl,
    enabledInstallments,
    items: [{ name: 'Kulaklık', price }],
    ...rest,
  };
}
