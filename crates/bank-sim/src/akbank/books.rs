//! The bank's books: terminals, orders and their transactions, and the rules Akbank's
//! platform enforces on them.
//!
//! Everything here is synchronous and pure apart from the clock value and the random source
//! passed in, so the HTTP layer holds the lock only for one call and never across an
//! `.await`.
//!
//! Rules (what the real bank checks, and the simulator's choices where the real behaviour
//! is not documented; codes in [`super::codes`]):
//!
//! * A body that is not a JSON object is refused with HTTP 400 `{code, message}`. Every
//!   other answer is HTTP 200 with `responseCode`.
//! * `terminal.merchantSafeId` must name a terminal and `terminal.terminalSafeId` be its
//!   (`VPS-1902`); the `auth-hash` header must be `b64(HMAC-SHA512(secretKey, body bytes))`
//!   (`VPS-1901`, compared in constant time); `version` `1.00`, `randomNumber` 128
//!   characters never used before on the terminal, `requestDateTime`
//!   (`YYYY-MM-DDTHH:MM:SS.mmm`, Istanbul time) within [`REQUEST_DATE_WINDOW`] of the bank's
//!   clock (`VPS-1073`, the real text).
//! * Sale `1000` / pre-authorisation `1004` with `card`: `order.orderId` at most 64 of
//!   `[A-Za-z0-9_-]`; `cardNumber` Luhn-valid, 12–19 digits (`VPS-1904`); `expireDate`
//!   `MMYY`; `cvv2` 3–4 digits, or empty for a stored card; `transaction.amount` a string
//!   with exactly two decimals, > 0 and within the currency's precision (`VPS-1905`);
//!   `currencyCode` an integer (949, 840, 978, 826, 392, 643); `installCount` an integer
//!   1..12, above 1 only in TRY (`VPS-1906`); `motoInd` 0 or 1. An `orderId` an approved
//!   order carries is refused (`VPS-1013`); a declined one may be retried. Expired cards
//!   and the Craftgate decline cards are declined as the issuer would: `VPS-1005` with the
//!   ISO code in `hostResponseCode` (`54` for an expired card).
//! * The same with `secureTransaction` instead of `card` is a `3D` provision: `secureMd`
//!   must name an authentication the gate completed less than [`AUTHENTICATION_TTL`] ago,
//!   not yet provisioned, of this terminal, for this `orderId`, amount, currency,
//!   installments and kind, with the same `secureId`, `secureEcomInd`, `secureData`
//!   (`VPS-1907`); the card is the authentication's.
//! * Post-authorisation `1005` (`order.orderId`): only on an approved, uncancelled
//!   pre-authorisation with no standing post-authorisation, in its currency, for at most
//!   the pre-authorised amount (`VPS-1907`, `VPS-1905`). The bank gives it an order id of
//!   its own; its `orgOrderId` is the pre-authorisation's (P11.33).
//! * Cancel `1003` (`order.orderId`): only before end of day (`VPS-1907`); it cancels the
//!   order's last standing transaction: a post-authorisation (which reopens the
//!   pre-authorisation, as P11.34 shows) or the sale/pre-authorisation itself. Nothing left
//!   standing: `VPS-1008` (real text).
//! * Refund `1002` (`order.orderId`): only after end of day (`VPS-1907`), on an approved,
//!   uncancelled, captured order, in its currency; the sum of refunds never exceeds the
//!   captured amount (`VPS-1905`). Each refund gets an order id of its own.
//! * Order history `1010` (`order.orderId`): every transaction of the order (attempts,
//!   post-authorisations, refunds) in `txnDetailList`, laid out like P11.30–P11.35
//!   (`txnStatus` `N`, or `V` once cancelled; `preAuthStatus` `O`/`C`); an unknown order is
//!   `VPS-1123` (P11.36).
//! * Unknown `txnCode`s: `VPS-1903`.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};
use domain::card::Expiry;
use domain::clock::{istanbul, to_local};
use domain::money::{Currency, MinorUnits, format_decimal_trimmed};
use rand::Rng;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::codes::{self, Code};
use super::wire::{self, Answer, Request};
use crate::nestpay::books::{OrderView, TxnView, valid_order_id};
use crate::nestpay::codes::{EXPIRED_CARD, decline_for_card};
use crate::order_book::{self, Authentications, Orders};

/// How far `requestDateTime` may be from the bank's clock.
pub const REQUEST_DATE_WINDOW: chrono::Duration = chrono::Duration::hours(1);

/// How long a `3D` authentication can be provisioned.
pub const AUTHENTICATION_TTL: chrono::Duration = chrono::Duration::minutes(10);

/// `randomNumber`s remembered per terminal, to refuse replays.
const RANDOMS_KEPT: usize = 10_000;

/// One terminal: `merchantSafeId`, `terminalSafeId` and the secret key.
#[derive(Clone)]
pub struct Store {
    pub merchant_safe_id: String,
    pub terminal_safe_id: String,
    pub secret_key: String,
    /// End-of-day batch currently open (`batchNumber`).
    pub batch: u32,
}

// Never print the key.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("merchant_safe_id", &self.merchant_safe_id)
            .field("terminal_safe_id", &self.terminal_safe_id)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    Sale,
    PreAuth,
}

impl OrderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Sale => "Sale",
            OrderKind::PreAuth => "PreAuth",
        }
    }

    pub fn txn_code(self) -> &'static str {
        match self {
            OrderKind::Sale => "1000",
            OrderKind::PreAuth => "1004",
        }
    }

    /// The kind a sale/pre-auth `txnCode` (API `1000`/`1004`, form `3000`/`3004`) asks for.
    pub fn from_txn_code(code: &str) -> Option<OrderKind> {
        match code {
            "1000" | "3000" => Some(OrderKind::Sale),
            "1004" | "3004" => Some(OrderKind::PreAuth),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnKind {
    Sale,
    PreAuth,
    PostAuth,
    Refund,
}

impl TxnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TxnKind::Sale => "Sale",
            TxnKind::PreAuth => "PreAuth",
            TxnKind::PostAuth => "PostAuth",
            TxnKind::Refund => "Refund",
        }
    }

    pub fn txn_code(self) -> &'static str {
        match self {
            TxnKind::Sale => "1000",
            TxnKind::PreAuth => "1004",
            TxnKind::PostAuth => "1005",
            TxnKind::Refund => "1002",
        }
    }
}

/// One transaction the bank booked on an order.
#[derive(Debug, Clone)]
pub struct Txn {
    pub kind: TxnKind,
    /// The bank's order id of this transaction: the order's own for its attempts, a fresh
    /// one for post-authorisations and refunds.
    pub order_id: String,
    pub amount: i64,
    pub approved: bool,
    pub code: String,
    pub message: String,
    pub host_code: String,
    pub host_message: String,
    pub auth_code: String,
    pub rrn: String,
    pub stan: u32,
    pub batch: u32,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

impl Txn {
    fn stands(&self) -> bool {
        self.approved && self.cancelled_at.is_none()
    }
}

/// An order as the bank keeps it.
#[derive(Debug, Clone)]
pub struct Order {
    pub merchant_safe_id: String,
    pub order_id: String,
    pub kind: OrderKind,
    pub currency: Currency,
    /// Sale or pre-authorised amount, minor units.
    pub amount: i64,
    pub installment: u32,
    pub pan_masked: String,
    pub holder: String,
    /// Whether the current sale/pre-auth attempt was approved.
    pub approved: bool,
    /// Index in `transactions` of the current sale/pre-auth attempt.
    pub main: usize,
    pub settled: bool,
    pub transactions: Vec<Txn>,
    created: u64,
}

impl Order {
    fn main(&self) -> Option<&Txn> {
        self.transactions.get(self.main)
    }

    fn standing_post_auth(&self) -> Option<usize> {
        self.transactions
            .iter()
            .rposition(|t| t.kind == TxnKind::PostAuth && t.stands())
    }

    /// What the order has captured: a standing sale, or a standing post-authorisation.
    pub fn captured(&self) -> i64 {
        match self.main() {
            Some(main) if main.stands() && self.kind == OrderKind::Sale => main.amount,
            Some(main) if main.stands() => self
                .standing_post_auth()
                .and_then(|i| self.transactions.get(i))
                .map_or(0, |t| t.amount),
            _ => 0,
        }
    }

    pub fn refunded(&self) -> i64 {
        self.transactions
            .iter()
            .filter(|t| t.kind == TxnKind::Refund && t.stands())
            .map(|t| t.amount)
            .sum()
    }

    pub fn cancelled(&self) -> bool {
        self.main().is_some_and(|m| m.cancelled_at.is_some())
    }
}

/// A `3D` authentication the gate completed, waiting for its provision (keyed by its
/// `secureMd`). Holds the card in clear: it lives only in the simulator's memory.
#[derive(Clone)]
pub struct Authentication {
    pub merchant_safe_id: String,
    pub order_id: String,
    pub kind: OrderKind,
    pub amount: i64,
    pub currency: Currency,
    pub installment: u32,
    pub pan: String,
    pub expiry: Expiry,
    pub secure_id: String,
    pub secure_ecom_ind: String,
    pub secure_data: String,
    pub at: DateTime<Utc>,
    pub used: bool,
}

// Never print the card.
impl std::fmt::Debug for Authentication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authentication")
            .field("merchant_safe_id", &self.merchant_safe_id)
            .field("order_id", &self.order_id)
            .field("pan", &mask_pan(&self.pan))
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

/// A sale or pre-authorisation that passed the format checks, card in clear.
pub struct Payment<'a> {
    pub kind: OrderKind,
    pub order_id: &'a str,
    pub pan: &'a str,
    pub expiry: Expiry,
    pub holder: &'a str,
    pub currency: Currency,
    pub amount: i64,
    pub installment: u32,
}

impl order_book::BookedOrder for Order {
    fn store(&self) -> &str {
        &self.merchant_safe_id
    }
    fn created(&self) -> u64 {
        self.created
    }
    fn is_settled(&self) -> bool {
        self.settled
    }
    // Akbank keeps no batch number on the order.
    fn settle_into(&mut self, _batch: u32) {
        self.settled = true;
    }
}

impl order_book::Authenticated for Authentication {
    const TTL: chrono::Duration = AUTHENTICATION_TTL;
    fn at(&self) -> DateTime<Utc> {
        self.at
    }
}

/// The simulator's whole ledger.
#[derive(Debug, Default)]
pub struct Books {
    stores: HashMap<String, Store>,
    orders: Orders<Order>,
    /// `3D` authentications by `secureMd`.
    authentications: Authentications<Authentication>,
    /// Recent `randomNumber`s per terminal, oldest first.
    randoms: HashMap<String, (HashSet<String>, VecDeque<String>)>,
    seq: u64,
}

impl Books {
    pub fn new() -> Books {
        Books {
            // Real trace numbers are far from zero; start somewhere plausible.
            seq: 36_000,
            ..Books::default()
        }
    }

    /// Adds a terminal, or replaces its terminal id and key. Orders are kept.
    pub fn put_store(&mut self, merchant_safe_id: &str, terminal_safe_id: &str, secret_key: &str) {
        let store = self
            .stores
            .entry(merchant_safe_id.to_owned())
            .or_insert_with(|| Store {
                merchant_safe_id: merchant_safe_id.to_owned(),
                terminal_safe_id: String::new(),
                secret_key: String::new(),
                batch: 43,
            });
        store.terminal_safe_id = terminal_safe_id.to_owned();
        store.secret_key = secret_key.to_owned();
    }

    pub fn store(&self, merchant_safe_id: &str) -> Option<&Store> {
        self.stores.get(merchant_safe_id)
    }

    pub fn order(&self, merchant_safe_id: &str, order_id: &str) -> Option<&Order> {
        order_book::order(&self.orders, merchant_safe_id, order_id)
    }

    /// Whether an approved order already carries this id (the gate refuses it).
    pub fn order_taken(&self, merchant_safe_id: &str, order_id: &str) -> bool {
        self.order(merchant_safe_id, order_id)
            .is_some_and(|o| o.approved)
    }

    /// A terminal's orders, oldest first.
    pub fn orders_of(&self, merchant_safe_id: &str) -> Vec<&Order> {
        order_book::orders_of(&self.orders, merchant_safe_id)
    }

    /// End of day for one terminal or all: every unsettled order is settled and a new batch
    /// opens. Returns how many orders were settled.
    pub fn settle(&mut self, merchant_safe_id: Option<&str>) -> usize {
        order_book::settle(&mut self.orders, &mut self.stores, merchant_safe_id, |s| {
            &mut s.batch
        })
    }

    /// Records a `3D` authentication under its `secureMd`, dropping expired ones.
    pub fn register_authentication(&mut self, secure_md: &str, authentication: Authentication) {
        self.authentications.register(secure_md, authentication);
    }

    pub fn authentication(&self, secure_md: &str) -> Option<&Authentication> {
        self.authentications.get(secure_md)
    }

    /// Answers one API request: `auth_hash` is the header as received.
    pub fn handle(
        &mut self,
        raw: &[u8],
        auth_hash: Option<&str>,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Answer {
        let request = match wire::parse_request(raw) {
            Ok(request) => request,
            Err(e) => return Answer::bad_request(codes::BAD_FIELD, &e.0),
        };
        let txn_code = request.text("txnCode").to_owned();
        let order_hint = request.text("order.orderId").to_owned();
        let refuse = |code: Code| Answer::ok(refusal(&txn_code, &order_hint, code, now, None));
        let merchant = request.text("terminal.merchantSafeId");
        let Some(store) = self
            .stores
            .get(merchant)
            .filter(|s| s.terminal_safe_id == request.text("terminal.terminalSafeId"))
            .cloned()
        else {
            return refuse(codes::UNKNOWN_TERMINAL);
        };
        let expected = wire::hmac_b64(&store.secret_key, raw);
        if !wire::signature_matches(&expected, auth_hash.unwrap_or_default().trim()) {
            return refuse(codes::BAD_HASH);
        }
        let terminal = Some(&store);
        let refuse = |code: Code| Answer::ok(refusal(&txn_code, &order_hint, code, now, terminal));
        if request.text("version") != "1.00" {
            return refuse(codes::BAD_FIELD);
        }
        if !request_date_ok(request.text("requestDateTime"), now) {
            return refuse(codes::BAD_REQUEST_DATE);
        }
        let random = request.text("randomNumber");
        if random.chars().count() != 128 {
            return refuse(codes::BAD_FIELD);
        }
        if !self.remember_random(&store.merchant_safe_id, random) {
            return refuse(codes::REPLAYED);
        }
        let result = match txn_code.as_str() {
            "1000" | "1004" if request.has("secureTransaction") => {
                self.provision_3d(&store, &request, now, rng)
            }
            "1000" | "1004" => self.authorize(&store, &request, now, rng),
            "1005" => self.post_auth(&store, &request, now, rng),
            "1003" => self.cancel(&store, &request, now),
            "1002" => self.refund(&store, &request, now, rng),
            "1010" => Ok(self.history(&store, &order_hint, now)),
            _ => Err(codes::BAD_FIELD),
        };
        match result {
            Ok(body) => Answer::ok(body),
            Err(code) => refuse(code),
        }
    }

    /// Remembers a `randomNumber`; false when the terminal used it already.
    fn remember_random(&mut self, merchant: &str, random: &str) -> bool {
        let (seen, order) = self.randoms.entry(merchant.to_owned()).or_default();
        if !seen.insert(random.to_owned()) {
            return false;
        }
        order.push_back(random.to_owned());
        if order.len() > RANDOMS_KEPT
            && let Some(oldest) = order.pop_front()
        {
            seen.remove(&oldest);
        }
        true
    }

    fn authorize(
        &mut self,
        store: &Store,
        request: &Request,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Value, Code> {
        let kind = OrderKind::from_txn_code(request.text("txnCode")).ok_or(codes::BAD_FIELD)?;
        let order_id = request.text("order.orderId");
        if order_id.is_empty() || !valid_akbank_order_id(order_id) {
            return Err(codes::BAD_FIELD);
        }
        let pan = request.text("card.cardNumber");
        if !valid_pan(pan) {
            return Err(codes::BAD_CARD_NUMBER);
        }
        let expiry = parse_expiry(request.text("card.expireDate")).ok_or(codes::BAD_FIELD)?;
        let cvv = request.text("card.cvv2");
        if !cvv.is_empty() && !valid_cvv(cvv) {
            return Err(codes::BAD_FIELD);
        }
        let (currency, amount, installment) = parse_terms(request)?;
        if !matches!(request.int("transaction.motoInd"), Some(0 | 1)) {
            return Err(codes::BAD_FIELD);
        }
        check_customer(request)?;
        self.book(
            store,
            &Payment {
                kind,
                order_id,
                pan,
                expiry,
                holder: "",
                currency,
                amount,
                installment,
            },
            now,
            rng,
        )
    }

    /// A `3D` provision (see the module rules).
    fn provision_3d(
        &mut self,
        store: &Store,
        request: &Request,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Value, Code> {
        let kind = OrderKind::from_txn_code(request.text("txnCode")).ok_or(codes::BAD_FIELD)?;
        let order_id = request.text("order.orderId");
        let (currency, amount, installment) = parse_terms(request)?;
        check_customer(request)?;
        let secure_md = request.text("secureTransaction.secureMd");
        let Some(authentication) = self
            .authentications
            .valid(secure_md, now)
            .filter(|a| !a.used)
            .filter(|a| a.merchant_safe_id == store.merchant_safe_id)
            .cloned()
        else {
            return Err(codes::THREEDS_UNKNOWN);
        };
        let matches = authentication.order_id == order_id
            && authentication.kind == kind
            && authentication.amount == amount
            && authentication.currency == currency
            && authentication.installment == installment
            && authentication.secure_id == request.text("secureTransaction.secureId")
            && authentication.secure_ecom_ind == request.text("secureTransaction.secureEcomInd")
            && authentication.secure_data == request.text("secureTransaction.secureData");
        if !matches {
            return Err(codes::THREEDS_UNKNOWN);
        }
        let reply = self.book(
            store,
            &Payment {
                kind,
                order_id,
                pan: &authentication.pan,
                expiry: authentication.expiry,
                holder: "",
                currency,
                amount,
                installment,
            },
            now,
            rng,
        )?;
        if let Some(spent) = self.authentications.get_mut(secure_md) {
            spent.used = true;
        }
        Ok(reply)
    }

    /// Books a sale or pre-authorisation that passed the format checks (API, 3D provision
    /// or the gate's `3D_PAY`): duplicate order, expiry and decline cards, then the
    /// transaction. The reply of an issuer decline is `Ok` (a `VPS-1005` reply).
    pub fn book(
        &mut self,
        store: &Store,
        payment: &Payment<'_>,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Value, Code> {
        let order_id = payment.order_id;
        let key = (store.merchant_safe_id.clone(), order_id.to_owned());
        if self.orders.get(&key).is_some_and(|o| o.approved) {
            return Err(codes::DUPLICATE_ORDER);
        }
        let today = to_local(now, istanbul()).date();
        let decline = if payment.expiry.is_expired_on(today) {
            Some((codes::EXPIRED_HOST_CODE, EXPIRED_CARD.message))
        } else {
            decline_for_card(payment.pan).map(|d| (d.code, d.message))
        };
        let (stan, rrn) = self.next_ids(now);
        let txn = match decline {
            None => Txn {
                kind: kind_txn(payment.kind),
                order_id: order_id.to_owned(),
                amount: payment.amount,
                approved: true,
                code: codes::SUCCESS.into(),
                message: codes::APPROVED_MESSAGE.into(),
                host_code: "00".into(),
                host_message: codes::HOST_APPROVED_MESSAGE.into(),
                auth_code: auth_code(rng),
                rrn,
                stan,
                batch: store.batch,
                cancelled_at: None,
                at: now,
            },
            Some((host_code, host_message)) => Txn {
                kind: kind_txn(payment.kind),
                order_id: order_id.to_owned(),
                amount: payment.amount,
                approved: false,
                code: codes::PROVISION_ERROR.code.into(),
                message: codes::PROVISION_ERROR.message.into(),
                host_code: host_code.into(),
                host_message: format!("0{host_code} {}", host_message.to_uppercase()),
                auth_code: "000000".into(),
                rrn,
                stan,
                batch: store.batch,
                cancelled_at: None,
                at: now,
            },
        };
        self.seq += 1;
        let created = self.seq;
        let order = self.orders.entry(key).or_insert_with(|| Order {
            merchant_safe_id: store.merchant_safe_id.clone(),
            order_id: order_id.to_owned(),
            kind: payment.kind,
            currency: payment.currency,
            amount: payment.amount,
            installment: payment.installment,
            pan_masked: String::new(),
            holder: String::new(),
            approved: false,
            main: 0,
            settled: false,
            transactions: Vec::new(),
            created,
        });
        // A retry after a decline reopens the order with the new attempt's terms.
        order.kind = payment.kind;
        order.currency = payment.currency;
        order.amount = payment.amount;
        order.installment = payment.installment;
        order.pan_masked = mask_pan(payment.pan);
        order.holder = payment.holder.to_owned();
        order.approved = txn.approved;
        order.settled = false;
        order.transactions.push(txn.clone());
        order.main = order.transactions.len() - 1;
        Ok(payment_reply(store, order_id, &txn))
    }

    fn post_auth(
        &mut self,
        store: &Store,
        request: &Request,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Value, Code> {
        let order_id = request.text("order.orderId");
        let key = (store.merchant_safe_id.clone(), order_id.to_owned());
        let order = self.orders.get(&key).ok_or(codes::NOT_FOUND)?;
        let currency = parse_currency(request)?;
        let amount = parse_amount(request, currency)?;
        if order.kind != OrderKind::PreAuth
            || !order.main().is_some_and(Txn::stands)
            || order.standing_post_auth().is_some()
        {
            return Err(codes::NO_PREAUTH);
        }
        if currency != order.currency {
            return Err(codes::CURRENCY_MISMATCH);
        }
        if amount > order.amount {
            return Err(codes::BAD_AMOUNT);
        }
        check_customer(request)?;
        let auth_code = order
            .main()
            .map(|m| m.auth_code.clone())
            .unwrap_or_default();
        let (stan, rrn) = self.next_ids(now);
        let txn = Txn {
            kind: TxnKind::PostAuth,
            order_id: uuid_like(rng),
            amount,
            approved: true,
            code: codes::SUCCESS.into(),
            message: codes::APPROVED_MESSAGE.into(),
            host_code: "00".into(),
            host_message: codes::HOST_APPROVED_MESSAGE.into(),
            auth_code,
            rrn,
            stan,
            batch: store.batch,
            cancelled_at: None,
            at: now,
        };
        let order = self.orders.get_mut(&key).ok_or(codes::NOT_FOUND)?;
        order.transactions.push(txn.clone());
        // The reply names the pre-authorisation's order (P11.5).
        Ok(payment_reply(store, order_id, &txn))
    }

    fn cancel(
        &mut self,
        store: &Store,
        request: &Request,
        now: DateTime<Utc>,
    ) -> Result<Value, Code> {
        let order_id = request.text("order.orderId");
        let key = (store.merchant_safe_id.clone(), order_id.to_owned());
        let order = self.orders.get_mut(&key).ok_or(codes::NOT_FOUND)?;
        let main_approved = order.main().is_some_and(|m| m.approved);
        if !main_approved {
            return Err(codes::NOT_FOUND);
        }
        if order.settled {
            return Err(codes::CANCEL_SETTLED);
        }
        let target = order
            .standing_post_auth()
            .or_else(|| order.main().filter(|m| m.stands()).map(|_| order.main))
            .ok_or(codes::ALREADY_CANCELLED)?;
        let txn = order.transactions.get_mut(target).ok_or(codes::INTERNAL)?;
        txn.cancelled_at = Some(now);
        Ok(json!({
            "txnCode": "1003",
            "responseCode": codes::SUCCESS,
            "responseMessage": codes::APPROVED_MESSAGE,
            "hostResponseCode": "00",
            "hostMessage": codes::HOST_APPROVED_MESSAGE,
            "txnDateTime": wire::txn_date_time(now),
            "terminal": terminal_json(store),
            "order": {"orderId": order_id},
        }))
    }

    fn refund(
        &mut self,
        store: &Store,
        request: &Request,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Value, Code> {
        let order_id = request.text("order.orderId");
        let key = (store.merchant_safe_id.clone(), order_id.to_owned());
        let order = self.orders.get(&key).ok_or(codes::NOT_FOUND)?;
        let currency = parse_currency(request)?;
        let amount = parse_amount(request, currency)?;
        let captured = order.captured();
        if !order.approved || order.cancelled() || captured == 0 {
            return Err(codes::NOTHING_TO_REFUND);
        }
        if currency != order.currency {
            return Err(codes::CURRENCY_MISMATCH);
        }
        if !order.settled {
            return Err(codes::REFUND_NOT_SETTLED);
        }
        if amount > captured - order.refunded() {
            return Err(codes::BAD_AMOUNT);
        }
        let (stan, rrn) = self.next_ids(now);
        let txn = Txn {
            kind: TxnKind::Refund,
            order_id: uuid_like(rng),
            amount,
            approved: true,
            code: codes::SUCCESS.into(),
            message: codes::APPROVED_MESSAGE.into(),
            host_code: "00".into(),
            host_message: codes::HOST_APPROVED_MESSAGE.into(),
            auth_code: auth_code(rng),
            rrn,
            stan,
            batch: store.batch,
            cancelled_at: None,
            at: now,
        };
        let order = self.orders.get_mut(&key).ok_or(codes::NOT_FOUND)?;
        order.transactions.push(txn.clone());
        Ok(payment_reply(store, order_id, &txn))
    }

    /// Order history (vectors P11.30–P11.36).
    fn history(&self, store: &Store, order_id: &str, now: DateTime<Utc>) -> Value {
        let Some(order) = self.order(&store.merchant_safe_id, order_id) else {
            return json!({
                "txnCode": "1010",
                "terminal": terminal_json(store),
                "responseCode": codes::HISTORY_NOT_FOUND.code,
                "responseMessage": format!("{} Sipariş Numarası : {order_id}", codes::HISTORY_NOT_FOUND.message),
                "txnDateTime": wire::txn_date_time(now),
            });
        };
        let post_auth = order.standing_post_auth();
        let list: Vec<Value> = order
            .transactions
            .iter()
            .map(|txn| {
                let mut entry = json!({
                    "txnCode": txn.kind.txn_code(),
                    "responseCode": txn.code,
                    "responseMessage": txn.message,
                    "hostResponseCode": txn.host_code,
                    "hostMessage": txn.host_message,
                    "txnDateTime": wire::txn_date_time(txn.at),
                    "orderId": txn.order_id,
                    "orgOrderId": order.order_id,
                    "authCode": txn.auth_code,
                    "rrn": txn.rrn,
                    "stan": txn.stan,
                    "batchNumber": txn.batch,
                    "amount": amount_number(txn.amount, order.currency),
                    "currencyCode": currency_int(order.currency),
                    "installCount": order.installment,
                    "maskedCardNumber": order.pan_masked,
                    "txnStatus": if txn.cancelled_at.is_some() { "V" } else { "N" },
                    "settlementId": format!("batch-{}", txn.batch),
                });
                if txn.kind == TxnKind::PreAuth
                    && let Value::Object(map) = &mut entry
                {
                    let closed = txn.approved && post_auth.is_some();
                    map.insert(
                        "preAuthStatus".into(),
                        json!(if closed { "C" } else { "O" }),
                    );
                    let close_amount = post_auth
                        .and_then(|i| order.transactions.get(i))
                        .map_or(0, |t| t.amount);
                    map.insert(
                        "preAuthCloseAmount".into(),
                        amount_number(close_amount, order.currency),
                    );
                }
                entry
            })
            .collect();
        json!({
            "txnCode": "1010",
            "terminal": terminal_json(store),
            "txnDetailList": list,
            "responseCode": codes::SUCCESS,
            "responseMessage": codes::APPROVED_MESSAGE,
            "txnDateTime": wire::txn_date_time(now),
        })
    }

    /// A fresh trace number and the reference number built from it.
    pub fn next_ids(&mut self, now: DateTime<Utc>) -> (u32, String) {
        self.seq += 1;
        let stan = u32::try_from(self.seq % 1_000_000).unwrap_or(0);
        (stan, rrn(to_local(now, istanbul()), stan))
    }
}

fn kind_txn(kind: OrderKind) -> TxnKind {
    match kind {
        OrderKind::Sale => TxnKind::Sale,
        OrderKind::PreAuth => TxnKind::PreAuth,
    }
}

pub(crate) fn terminal_json(store: &Store) -> Value {
    json!({
        "merchantSafeId": store.merchant_safe_id,
        "terminalSafeId": store.terminal_safe_id,
    })
}

/// A payment-style reply (P11.1 layout): sale, pre-auth, post-auth, refund and 3D provision
/// answers, approved or declined by the issuer (P11.4 layout).
pub fn payment_reply(store: &Store, order_id: &str, txn: &Txn) -> Value {
    json!({
        "txnCode": txn.kind.txn_code(),
        "responseCode": txn.code,
        "responseMessage": txn.message,
        "hostResponseCode": txn.host_code,
        "hostMessage": txn.host_message,
        "txnDateTime": wire::txn_date_time(txn.at),
        "terminal": terminal_json(store),
        "card": {"cardHolderName": ""},
        "order": {"orderId": order_id},
        "transaction": {
            "authCode": txn.auth_code,
            "rrn": txn.rrn,
            "batchNumber": txn.batch,
            "stan": txn.stan,
        },
        "campaign": {"additionalInstallCount": 0, "deferingDate": "", "deferingMonth": 0},
        "reward": [],
    })
}

/// A refusal (P11.2 layout): no host answer, `stan 0`, `rrn "0"`.
pub fn refusal(
    txn_code: &str,
    order_id: &str,
    code: Code,
    now: DateTime<Utc>,
    store: Option<&Store>,
) -> Value {
    let message = match code.code {
        "VPS-1007" | "VPS-1013" if !order_id.is_empty() => {
            format!("{} Sipariş Numarası : {order_id}", code.message)
        }
        _ => code.message.to_owned(),
    };
    let mut reply = json!({
        "txnCode": txn_code,
        "responseCode": code.code,
        "responseMessage": message,
        "txnDateTime": wire::txn_date_time(now),
        "transaction": {"stan": 0, "rrn": "0", "batchNumber": 0},
    });
    if let Value::Object(map) = &mut reply {
        if let Some(store) = store {
            map.insert("terminal".into(), terminal_json(store));
        }
        if !order_id.is_empty() {
            map.insert("order".into(), json!({"orderId": order_id}));
        }
    }
    reply
}

/// `requestDateTime`: `YYYY-MM-DDTHH:MM:SS.mmm`, Istanbul time, near the bank's clock.
fn request_date_ok(raw: &str, now: DateTime<Utc>) -> bool {
    let Ok(naive) = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.3f") else {
        return false;
    };
    if raw.len() != 23 {
        return false;
    }
    let local_now = to_local(now, istanbul());
    (naive - local_now).abs() <= REQUEST_DATE_WINDOW
}

/// `customer.ipAddress`, when the block is there, must be an IP address.
fn check_customer(request: &Request) -> Result<(), Code> {
    if !request.has("customer") {
        return Ok(());
    }
    request
        .text("customer.ipAddress")
        .parse::<std::net::IpAddr>()
        .map(|_| ())
        .map_err(|_| codes::BAD_FIELD)
}

/// `currencyCode` (an integer) of the currencies Akbank takes.
pub(crate) fn currency_from_int(code: i64) -> Option<Currency> {
    match code {
        949 => Some(Currency::Try),
        840 => Some(Currency::Usd),
        978 => Some(Currency::Eur),
        826 => Some(Currency::Gbp),
        392 => Some(Currency::Jpy),
        643 => Some(Currency::Rub),
        _ => None,
    }
}

fn currency_int(currency: Currency) -> u32 {
    currency.numeric_code().parse().unwrap_or(0)
}

fn parse_currency(request: &Request) -> Result<Currency, Code> {
    request
        .int("transaction.currencyCode")
        .and_then(currency_from_int)
        .ok_or(codes::BAD_FIELD)
}

/// `transaction.amount`: a JSON string with exactly two decimals, > 0.
fn parse_amount(request: &Request, currency: Currency) -> Result<i64, Code> {
    let raw = request
        .get("transaction.amount")
        .and_then(Value::as_str)
        .ok_or(codes::BAD_AMOUNT)?;
    parse_amount_text(raw, currency).ok_or(codes::BAD_AMOUNT)
}

/// `"1.10"`: digits, `.`, two digits; > 0 and within the currency's precision.
pub(crate) fn parse_amount_text(raw: &str, currency: Currency) -> Option<i64> {
    let (whole, fraction) = raw.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.len() != 2 || !digits(fraction) || whole.len() > 12 {
        return None;
    }
    let value: Decimal = raw.parse().ok()?;
    let minor = MinorUnits::from_decimal(value.normalize(), currency).ok()?;
    (minor.get() > 0).then_some(minor.get())
}

/// Currency, amount and installments of a sale, pre-auth or 3D provision.
fn parse_terms(request: &Request) -> Result<(Currency, i64, u32), Code> {
    let currency = parse_currency(request)?;
    let amount = parse_amount(request, currency)?;
    let installment = request
        .int("transaction.installCount")
        .and_then(|n| u32::try_from(n).ok())
        .ok_or(codes::BAD_INSTALLMENT)?;
    check_installment(installment, currency)?;
    Ok((currency, amount, installment))
}

pub(crate) fn check_installment(installment: u32, currency: Currency) -> Result<(), Code> {
    match installment {
        1 => Ok(()),
        2..=12 if currency == Currency::Try => Ok(()),
        _ => Err(codes::BAD_INSTALLMENT),
    }
}

/// An amount as the history writes it: a JSON number (`1.01`, `30`).
fn amount_number(minor: i64, currency: Currency) -> Value {
    let text = format_decimal_trimmed(MinorUnits::from_stored(minor), currency);
    text.parse::<serde_json::Number>()
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// Akbank order ids: at most 64 of `[A-Za-z0-9_-]`.
pub(crate) fn valid_akbank_order_id(id: &str) -> bool {
    valid_order_id(id) && !id.contains('.')
}

/// A card number: 12–19 digits, Luhn-valid.
pub(crate) fn valid_pan(pan: &str) -> bool {
    (12..=19).contains(&pan.len())
        && pan.bytes().all(|b| b.is_ascii_digit())
        && domain::card::luhn_valid(pan)
}

pub(crate) fn valid_cvv(cvv: &str) -> bool {
    (3..=4).contains(&cvv.len()) && cvv.bytes().all(|b| b.is_ascii_digit())
}

/// `MMYY`.
pub(crate) fn parse_expiry(raw: &str) -> Option<Expiry> {
    if raw.len() != 4 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (month, year) = raw.split_at(2);
    Expiry::parse(month, year).ok()
}

/// `521807******2834`, as the history shows cards.
pub(crate) fn mask_pan(pan: &str) -> String {
    let len = pan.len();
    pan.chars()
        .enumerate()
        .map(|(i, c)| if i < 6 || i + 4 >= len { c } else { '*' })
        .collect()
}

/// `rrn` like `411024360234`: last digit of the year, day of year, hour, six-digit trace.
fn rrn(local: NaiveDateTime, stan: u32) -> String {
    format!(
        "{}{:03}{:02}{:06}",
        local.year().rem_euclid(10),
        local.ordinal(),
        local.hour(),
        stan
    )
}

/// Six-digit auth code (`306455`).
fn auth_code(rng: &mut impl Rng) -> String {
    format!("{:06}", rng.gen_range(100_000..1_000_000u32))
}

/// The bank's own order id of a follow-up (P11.33: `d2f58999-5143-4f5c-b503-deaa789441d5`).
fn uuid_like(rng: &mut impl Rng) -> String {
    let bytes: [u8; 16] = rng.r#gen();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

impl Order {
    /// The admin view (`GET /akbank/_sim/orders/...`), in the NestPay simulator's shape.
    pub fn view(&self) -> OrderView {
        let (captured, refunded) = (self.captured(), self.refunded());
        let status = if !self.approved {
            "Declined"
        } else if self.cancelled() {
            "Voided"
        } else if refunded > 0 && refunded >= captured {
            "Refunded"
        } else if refunded > 0 {
            "PartiallyRefunded"
        } else if captured > 0 {
            "Captured"
        } else {
            "Authorized"
        };
        OrderView {
            client_id: self.merchant_safe_id.clone(),
            order_id: self.order_id.clone(),
            kind: self.kind.as_str(),
            status,
            amount_minor: self.amount,
            captured_minor: captured,
            refunded_minor: refunded,
            voided: self.cancelled(),
            settled: self.settled,
            currency: self.currency.code(),
            installment: self.installment,
            pan: self.pan_masked.clone(),
            transactions: self
                .transactions
                .iter()
                .map(|t| TxnView {
                    kind: t.kind.as_str(),
                    amount_minor: t.amount,
                    approved: t.approved,
                    trans_id: t.order_id.clone(),
                    proc_return_code: t.code.clone(),
                    error_code: if t.approved {
                        String::new()
                    } else {
                        t.host_code.clone()
                    },
                    auth_code: t.auth_code.clone(),
                    host_ref_num: t.rrn.clone(),
                    at: t.at.to_rfc3339(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn amounts_need_two_decimals() {
        assert_eq!(parse_amount_text("1.10", Currency::Try), Some(110));
        assert_eq!(parse_amount_text("1000.00", Currency::Try), Some(100_000));
        assert_eq!(parse_amount_text("100.00", Currency::Jpy), Some(100));
        for bad in ["1.1", "1", "1.100", "0.00", "-1.00", "1,10", ".10", "1.1a"] {
            assert_eq!(parse_amount_text(bad, Currency::Try), None, "{bad}");
        }
        assert_eq!(parse_amount_text("100.50", Currency::Jpy), None);
    }

    #[test]
    fn request_dates_are_checked_against_the_bank_clock() {
        let now = Utc.with_ymd_and_hms(2024, 4, 4, 18, 11, 41).unwrap();
        assert!(request_date_ok("2024-04-04T21:11:41.000", now));
        assert!(request_date_ok("2024-04-04T21:50:00.000", now));
        assert!(!request_date_ok("2024-04-04T23:11:42.000", now));
        assert!(!request_date_ok("2024-04-04T21:11:41", now));
        assert!(!request_date_ok("", now));
    }

    #[test]
    fn ids_look_like_the_banks() {
        let mut rng = rand::thread_rng();
        let uuid = uuid_like(&mut rng);
        assert_eq!(uuid.len(), 36);
        assert_eq!(auth_code(&mut rng).len(), 6);
        let local =
            NaiveDateTime::parse_from_str("2024-04-19T20:15:38", "%Y-%m-%dT%H:%M:%S").unwrap();
        assert_eq!(rrn(local, 234), "411020000234");
        assert_eq!(mask_pan("5218076007402834"), "521807******2834");
        assert!(valid_akbank_order_id("2024041898FD"));
        assert!(!valid_akbank_order_id("a.b"));
    }
}
