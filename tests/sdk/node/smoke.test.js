// Smoke test of Orkestra with Craftgate's official Node SDK (@craftgate/craftgate 1.0.65).
//
// Starts its own `orkestra serve --sandbox` on a free port with a fresh SQLite database,
// then drives it with the SDK exactly as a merchant would, only the base URL changed.
// Binary: $ORKESTRA_BIN, default <repo>/target/debug/orkestra (never built here).
//
// Run: node --test tests/sdk/node/

'use strict';

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {spawn} = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const crypto = require('node:crypto');

process.env.NO_PROXY = '127.0.0.1,localhost';
process.env.no_proxy = '127.0.0.1,localhost';

const Craftgate = require('@craftgate/craftgate');

const REPO = path.resolve(__dirname, '..', '..', '..');
const BIN = process.env.ORKESTRA_BIN || path.join(REPO, 'target', 'debug', 'orkestra');
const MASTER_KEY = process.env.ORKESTRA_MASTER_KEY || '5eed'.repeat(16);

const SUCCESS_CARD = '5258640000000001';
const ISBANK_CLIENT_ID = '100200127';

let server;
let workdir;
let baseUrl;
let client;
let isbankAlias;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address();
      s.close(() => resolve(port));
    });
  });
}

function sleep(ms) {
  return new Promise(resolve => setTimeout(resolve, ms));
}

async function waitForBinary(timeoutMs = 300000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.accessSync(BIN, fs.constants.X_OK);
      return;
    } catch (e) {
      if (Date.now() > deadline) {
        throw new Error(`orkestra binary not found at ${BIN}; build it with cargo build -p orkestra or set ORKESTRA_BIN`);
      }
      await sleep(1000);
    }
  }
}

function httpGet(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, res => {
      let body = '';
      res.on('data', chunk => (body += chunk));
      res.on('end', () => resolve({status: res.statusCode, body}));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

function logTail(lines = 40) {
  try {
    return fs.readFileSync(path.join(workdir, 'orkestra.log'), 'utf8').split('\n').slice(-lines).join('\n');
  } catch (e) {
    return '(no log)';
  }
}

async function startServer() {
  await waitForBinary();
  workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'orkestra-node-'));
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const log = fs.openSync(path.join(workdir, 'orkestra.log'), 'a');
  server = spawn(BIN, [
    'serve',
    '--listen', `127.0.0.1:${port}`,
    '--database-url', `sqlite://${path.join(workdir, 'orkestra.db')}`,
    '--data-dir', workdir,
    '--sandbox'
  ], {
    env: {...process.env, ORKESTRA_MASTER_KEY: MASTER_KEY, RUST_LOG: process.env.RUST_LOG || 'info,sqlx=warn', NO_COLOR: '1'},
    stdio: ['ignore', log, log]
  });
  let exited = null;
  server.on('exit', code => (exited = code));
  const keysFile = path.join(workdir, 'sandbox-merchant.json');
  const deadline = Date.now() + 60000;
  for (;;) {
    if (exited !== null) {
      throw new Error(`orkestra exited with ${exited} while starting:\n${logTail()}`);
    }
    try {
      const r = await httpGet(`${baseUrl}/__ready__`);
      if (r.status && fs.existsSync(keysFile)) break;
    } catch (e) {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`orkestra did not start on ${baseUrl}:\n${logTail()}`);
    }
    await sleep(100);
  }
  return JSON.parse(fs.readFileSync(keysFile, 'utf8'));
}

async function simOrder(clientId, orderId) {
  const r = await httpGet(`${baseUrl}/sim/nestpay/_sim/orders/${clientId}/${orderId}`);
  return r.status === 200 ? JSON.parse(r.body) : null;
}

function paymentRequest(overrides = {}) {
  return {
    price: 100.0,
    paidPrice: 100.0,
    walletPrice: 0.0,
    installment: 1,
    conversationId: crypto.randomUUID(),
    currency: Craftgate.Model.Currency.TRY,
    paymentGroup: Craftgate.Model.PaymentGroup.ListingOrSubscription,
    posAlias: isbankAlias,
    card: {
      cardHolderName: 'Haluk Demir',
      cardNumber: SUCCESS_CARD,
      expireYear: '2044',
      expireMonth: '07',
      cvc: '000'
    },
    items: [
      {name: 'Item 1', price: 30.0, externalId: crypto.randomUUID()},
      {name: 'Item 2', price: 50.0, externalId: crypto.randomUUID()},
      {name: 'Item 3', price: 20.0, externalId: crypto.randomUUID()}
    ],
    ...overrides
  };
}

async function expectCraftgateError(promise) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof Craftgate.CraftgateError, `expected a CraftgateError, got ${e && e.stack}`);
    return e;
  }
  assert.fail('expected the call to fail');
}

before(async () => {
  const keys = await startServer();
  client = new Craftgate.Client({apiKey: keys.apiKey, secretKey: keys.secretKey, baseUrl});
  const poses = await client.merchant().searchMerchantPos({size: 100});
  const isbank = poses.items.find(p => p.clientId === ISBANK_CLIENT_ID);
  assert.ok(isbank, `sandbox İşbank POS missing: ${JSON.stringify(poses)}`);
  isbankAlias = isbank.alias;
});

after(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise(resolve => server.once('exit', resolve));
    server.kill('SIGTERM');
    let timer;
    const timeout = new Promise(resolve => (timer = setTimeout(resolve, 10000)));
    await Promise.race([exited, timeout]);
    clearTimeout(timer);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  if (workdir && !process.env.KEEP_ORKESTRA_TMP) {
    fs.rmSync(workdir, {recursive: true, force: true});
  }
});

test('create and retrieve a member', async () => {
  const externalId = `ext-${crypto.randomUUID()}`;
  const member = await client.onboarding().createMember({
    memberExternalId: externalId,
    name: 'Haluk Demir',
    email: 'haluk.demir@example.com',
    phoneNumber: '905551111111',
    address: 'Suadiye Mah. Örnek Cad. No:23 Kadıköy/İstanbul',
    memberType: Craftgate.Model.MemberType.Personal,
    isBuyer: true,
    isSubMerchant: false
  });
  assert.ok(member.id > 0);
  assert.equal(member.memberExternalId, externalId);
  assert.equal(member.name, 'Haluk Demir');
  const fetched = await client.onboarding().retrieveMember(member.id);
  assert.equal(fetched.id, member.id);
  assert.equal(fetched.email, 'haluk.demir@example.com');
  assert.equal(fetched.address, 'Suadiye Mah. Örnek Cad. No:23 Kadıköy/İstanbul');
});

test('payment, retrieve, and same-day refund is a CANCEL', async () => {
  const request = paymentRequest();
  const payment = await client.payment().createPayment(request);
  assert.equal(payment.paymentStatus, 'SUCCESS');
  assert.equal(payment.paymentPhase, 'AUTH');
  assert.equal(payment.price, 100);
  assert.equal(payment.paidPrice, 100);
  assert.equal(payment.conversationId, request.conversationId);
  assert.equal(payment.pos.alias, isbankAlias);
  assert.equal(payment.binNumber, '525864');
  assert.equal(payment.lastFourDigits, '0001');
  assert.equal(payment.paymentTransactions.length, 3);
  assert.ok(payment.orderId);
  assert.ok(!JSON.stringify(payment).includes(SUCCESS_CARD), 'card number in the response');
  assert.match(payment.createdDate, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);

  const order = await simOrder(ISBANK_CLIENT_ID, payment.orderId);
  assert.equal(order.amountMinor, 10000);

  const fetched = await client.payment().retrievePayment(payment.id);
  assert.equal(fetched.id, payment.id);
  assert.equal(fetched.paymentStatus, 'SUCCESS');
  assert.equal(fetched.orderId, payment.orderId);

  const refund = await client.payment().refundPayment({
    paymentId: payment.id,
    refundDestinationType: Craftgate.Model.RefundDestinationType.Provider
  });
  assert.equal(refund.refundType, 'CANCEL');
  assert.equal(refund.status, 'SUCCESS');
  assert.equal(refund.paymentId, payment.id);
  assert.equal(refund.refundPrice, 100);
  const voided = await simOrder(ISBANK_CLIENT_ID, payment.orderId);
  assert.equal(voided.voided, true);

  const again = await client.payment().retrievePaymentRefund(refund.id);
  assert.equal(again.id, refund.id);
  assert.equal(again.refundType, 'CANCEL');
});

test('a decline card gives its errorGroup', async () => {
  const cases = [
    ['5100050000006661', 'NOT_SUFFICIENT_FUNDS'],
    ['5101520000006662', 'STOLEN_CARD'],
    ['5136620000006669', 'LOST_CARD']
  ];
  for (const [cardNumber, group] of cases) {
    const request = paymentRequest();
    request.card = {...request.card, cardNumber};
    const e = await expectCraftgateError(client.payment().createPayment(request));
    assert.equal(e.getErrorData().errorGroup, group, `${cardNumber}: ${e.getErrorCode()} ${e.getErrorDescription()}`);
    assert.ok(e.getErrorCode());
    assert.ok(e.getErrorDescription());
    assert.ok(e.getErrorData().providerError, 'declines carry providerError');
  }
});

test('validation errors come back as CraftgateError', async () => {
  const e = await expectCraftgateError(client.payment().createPayment(paymentRequest({installment: 13})));
  assert.ok(e.getErrorCode());
  assert.match(e.getErrorDescription(), /installment/i);
});

test('BIN lookup', async () => {
  const bin = await client.installment().retrieveBinNumber('525864');
  assert.equal(bin.binNumber, '525864');
  assert.equal(bin.bankName, 'Yapı Kredi');
  assert.equal(bin.cardBrand, 'World');
  assert.equal(bin.cardAssociation, 'MASTER_CARD');
  assert.equal(bin.cardType, 'CREDIT_CARD');
  const garanti = await client.installment().retrieveBinNumber('404308');
  assert.equal(garanti.cardBrand, 'Bonus');
  const unknown = await expectCraftgateError(client.installment().retrieveBinNumber('540001'));
  assert.ok(unknown.getErrorCode());
});

test('a wrong secret key is refused', async () => {
  const wrong = new Craftgate.Client({apiKey: 'ork-nobody', secretKey: 'nothing', baseUrl});
  const e = await expectCraftgateError(wrong.installment().retrieveBinNumber('525864'));
  assert.ok(e.getErrorCode());
});
