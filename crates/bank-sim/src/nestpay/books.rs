//! The bank's books: stores, orders and their transactions, and the rules the real
//! NestPay platform enforces on them.
//!
//! Everything here is synchronous and pure apart from the clock value and the random
//! source passed in, so the HTTP layer holds the lock only for the duration of one call
//! and never across an `.await`.
//!
//! Rules (what the real bank checks, and the simulator's choices where the real behaviour
//! is not documented; codes in [`super::codes`]):
//!
//! * Every request: `ClientId` must name a store, `Name`/`Password` must match it.
//! * `Auth` (sale, captured at once) and `PreAuth`: `OrderId` optional (generated as
//!   `ORDER-…` when absent, as the bank does), at most 64 characters of `[A-Za-z0-9_.-]`;
//!   `Number` Luhn-valid, 12–19 digits; `Expires` `MM/YY` (also `MM/YYYY`, `MMYY`); `Cvv2Val`
//!   3–4 digits when present (absent: a card-on-file payment with a stored card); `Currency` a known ISO 4217 numeric code; `Total` `.`-decimal, > 0, with no
//!   more decimals than the currency has; `Taksit` empty or 2..12 and only in TRY. An
//!   `OrderId` whose order was approved is refused; one whose earlier attempt was declined
//!   may be retried (the declined attempt stays in the order's history). An expired card
//!   is declined with 54 and the Craftgate decline cards with their ISO codes; declines
//!   are recorded (a status query shows `TRANS_STAT=D`), format errors are not.
//! * 3D provision (`Auth`/`PreAuth` carrying `PayerTxnId`, `PayerSecurityLevel` or
//!   `PayerAuthenticationCode`, vector R1.9): `Number` is the `md` of an authentication the
//!   3D gate completed for this store (see [`super::threeds`]). It is refused when the `md`
//!   is unknown or older than [`AUTHENTICATION_TTL`] (CORE-2301), already used (CORE-2302),
//!   not fully authenticated (`mdStatus` ≠ 1: the simulator does not provision half-secure
//!   2/3/4, CORE-2303), or when `OrderId`, `Total`, `Currency`, `PayerTxnId` (xid),
//!   `PayerSecurityLevel` (eci) or `PayerAuthenticationCode` (cavv) differ from the
//!   authentication (CORE-2304). Otherwise the card behind the `md` is charged exactly like
//!   a non-3D `Auth`/`PreAuth` (same declines), and the `md` is spent once the provision is
//!   booked, approved or declined.
//! * `PostAuth`: only on an approved, unvoided `PreAuth`, once. `Total` empty means the
//!   pre-authorised amount. `Total` may not exceed the pre-authorised amount, unless
//!   `Extra.PREAMT` is sent: it must then equal the pre-authorised amount, and `Total` may
//!   reach 115 % of it (rounded down to the minor unit).
//! * `Void`: only before end of day, once, on an approved order (sale, pre-auth or
//!   post-authorised pre-auth); it cancels the whole order.
//! * `Credit`: only after end of day (else CORE-2508), on an approved, unvoided, captured
//!   order; `Total` empty means everything still refundable; the sum of credits never
//!   exceeds the captured amount; `Currency`, when sent, must be the order's. Refused
//!   credits on an existing order are recorded as declined credit lines, as the real
//!   history shows them (vector P1.29).
//! * `ORDERSTATUS` query: the order's current state in the shape of vectors P1.14–P1.19.
//!   After an approved credit the status describes the latest credit (`CHARGE_TYPE_CD=C`),
//!   as in P1.19; otherwise the sale/pre-auth with capture and void folded in.
//! * `ORDERHISTORY` query: one `TRXn` line per sale/pre-auth attempt and per credit, newest
//!   first. As in the real vectors (P1.30, P1.33), a post-auth and a void do not get lines
//!   of their own: they show as the capture amount/time and the `V` status/void time of the
//!   sale or pre-auth line.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};
use domain::card::{Expiry, luhn_valid};
use domain::clock::{istanbul, to_local};
use domain::money::{Currency, MinorUnits};
use rand::Rng;
use rust_decimal::Decimal;
use serde::Serialize;

use super::codes::{self, CoreError, Decline};
use super::threeds::ThreeDsFacts;
use super::wire::{Cc5Request, Cc5Response};
use crate::order_book::{self, Authentications, Orders};

/// One merchant store (NestPay "ClientId") and its API user.
#[derive(Debug, Clone)]
pub struct Store {
    pub client_id: String,
    pub name: String,
    pub password: String,
    /// 3D store key, for the 3D gate's hashes; not used by the API.
    pub store_key: String,
    /// Number of the end-of-day batch currently open (`SETTLEID`).
    pub batch: u32,
}

/// Sale or pre-authorisation: what the order was opened with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    Sale,
    PreAuth,
}

impl OrderKind {
    fn as_str(self) -> &'static str {
        match self {
            OrderKind::Sale => "Auth",
            OrderKind::PreAuth => "PreAuth",
        }
    }
}

/// The NestPay transaction types the simulator books.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnKind {
    Auth,
    PreAuth,
    PostAuth,
    Void,
    Credit,
}

impl TxnKind {
    fn as_str(self) -> &'static str {
        match self {
            TxnKind::Auth => "Auth",
            TxnKind::PreAuth => "PreAuth",
            TxnKind::PostAuth => "PostAuth",
            TxnKind::Void => "Void",
            TxnKind::Credit => "Credit",
        }
    }
}

/// One request the bank answered on an order.
#[derive(Debug, Clone)]
pub struct Txn {
    pub kind: TxnKind,
    pub amount: i64,
    pub approved: bool,
    pub proc_return_code: String,
    pub error_code: String,
    pub auth_code: String,
    pub host_ref_num: String,
    pub trans_id: String,
    pub at: DateTime<Utc>,
}

/// An order as the bank keeps it.
#[derive(Debug, Clone)]
pub struct Order {
    pub client_id: String,
    pub order_id: String,
    pub kind: OrderKind,
    pub currency: Currency,
    /// Sale or pre-authorised amount, minor units.
    pub amount: i64,
    pub installment: u32,
    pub pan_masked: String,
    pub card_brand: &'static str,
    /// Whether the current sale/pre-auth attempt was approved.
    pub approved: bool,
    /// Index in `transactions` of the current sale/pre-auth attempt.
    pub auth_index: usize,
    pub captured: i64,
    pub captured_at: Option<DateTime<Utc>>,
    pub post_authorised: bool,
    pub refunded: i64,
    pub voided_at: Option<DateTime<Utc>>,
    /// End-of-day batch the order went into, once settled.
    pub settled_batch: Option<u32>,
    pub settled: bool,
    pub transactions: Vec<Txn>,
    /// The 3D authentication of the current attempt, when it was a 3D payment.
    pub three_ds: Option<ThreeDsFacts>,
    /// Creation sequence, to list orders in the order they were opened.
    created: u64,
}

/// How long a 3D authentication's `md` can be provisioned.
pub const AUTHENTICATION_TTL: chrono::Duration = chrono::Duration::minutes(10);

/// A `3d`-model authentication the gate completed, waiting for its provision (keyed by
/// its `md`). Holds the card in clear: it lives only in the simulator's memory.
#[derive(Clone)]
pub struct Authentication {
    pub client_id: String,
    pub order_id: String,
    pub amount: i64,
    pub currency: Currency,
    pub pan: String,
    pub expiry: Expiry,
    pub facts: ThreeDsFacts,
    pub at: DateTime<Utc>,
    pub used: bool,
}

// Never print the card.
impl std::fmt::Debug for Authentication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authentication")
            .field("client_id", &self.client_id)
            .field("order_id", &self.order_id)
            .field("pan", &mask_pan(&self.pan))
            .field("md_status", &self.facts.md_status)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

/// A sale or pre-authorisation that passed the format checks, card in clear.
pub struct Payment<'a> {
    /// `None`: the bank makes one up (`ORDER-…`).
    pub order_id: Option<&'a str>,
    pub pan: &'a str,
    pub expiry: Expiry,
    pub currency: Currency,
    pub amount: i64,
    pub installment: u32,
    pub three_ds: Option<ThreeDsFacts>,
}

impl order_book::BookedOrder for Order {
    fn store(&self) -> &str {
        &self.client_id
    }
    fn created(&self) -> u64 {
        self.created
    }
    fn is_settled(&self) -> bool {
        self.settled
    }
    fn settle_into(&mut self, batch: u32) {
        self.settled = true;
        if self.approved && self.voided_at.is_none() {
            self.settled_batch = Some(batch);
        }
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
    /// `3d`-model authentications by `md`.
    authentications: Authentications<Authentication>,
    /// Feeds transaction ids and host reference numbers.
    seq: u64,
}

/// Identifiers the bank stamps on a transaction.
struct Ids {
    trans_id: String,
    host_ref_num: String,
}

impl Books {
    pub fn new() -> Books {
        Books {
            // Real host reference numbers are far from zero; start somewhere plausible.
            seq: 671_700,
            ..Books::default()
        }
    }

    /// Adds a store, or replaces its credentials (its orders are kept).
    pub fn put_store(&mut self, client_id: &str, name: &str, password: &str, store_key: &str) {
        let batch = self.stores.get(client_id).map_or(2287, |s| s.batch);
        self.stores.insert(
            client_id.to_owned(),
            Store {
                client_id: client_id.to_owned(),
                name: name.to_owned(),
                password: password.to_owned(),
                store_key: store_key.to_owned(),
                batch,
            },
        );
    }

    pub fn store(&self, client_id: &str) -> Option<&Store> {
        self.stores.get(client_id)
    }

    pub fn order(&self, client_id: &str, order_id: &str) -> Option<&Order> {
        order_book::order(&self.orders, client_id, order_id)
    }

    /// A store's orders, oldest first.
    pub fn orders_of(&self, client_id: &str) -> Vec<&Order> {
        order_book::orders_of(&self.orders, client_id)
    }

    /// End of day for one store or all: every unsettled order goes into the store's open
    /// batch and a new batch opens. Returns how many orders were settled.
    pub fn settle(&mut self, client_id: Option<&str>) -> usize {
        order_book::settle(&mut self.orders, &mut self.stores, client_id, |s| {
            &mut s.batch
        })
    }

    /// Answers one API request.
    pub fn handle(
        &mut self,
        request: &Cc5Request,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Cc5Response {
        let order_id = request.field("OrderId").unwrap_or("").to_owned();
        let client_id = request.field("ClientId").unwrap_or("");
        let Some(store) = self.stores.get(client_id).cloned() else {
            return self.error(&order_id, codes::UNKNOWN_CLIENT, now, rng);
        };
        if request.field("Name") != Some(store.name.as_str())
            || request.field("Password") != Some(store.password.as_str())
        {
            return self.error(&order_id, codes::BAD_CREDENTIALS, now, rng);
        }
        if is_query(request.extra("ORDERSTATUS")) {
            let id = request
                .non_empty("OrderId")
                .or_else(|| request.extra("RECURRINGID"))
                .unwrap_or("");
            return self.status(&store, id);
        }
        if is_query(request.extra("ORDERHISTORY")) {
            return self.history(&store, request.field("OrderId").unwrap_or(""));
        }
        let kind = request.field("Type").unwrap_or("");
        let result = if kind.eq_ignore_ascii_case("Auth") {
            self.authorize(&store, request, OrderKind::Sale, now, rng)
        } else if kind.eq_ignore_ascii_case("PreAuth") {
            self.authorize(&store, request, OrderKind::PreAuth, now, rng)
        } else if kind.eq_ignore_ascii_case("PostAuth") {
            self.post_auth(&store, request, now, rng)
        } else if kind.eq_ignore_ascii_case("Void") {
            self.void(&store, request, now, rng)
        } else if kind.eq_ignore_ascii_case("Credit") {
            self.credit(&store, request, now, rng)
        } else {
            Err(Refusal::new(&order_id, codes::BAD_TYPE))
        };
        self.answer(result, now, rng)
    }

    /// The bank's answer to a result: the response, or the refusal as an error response.
    fn answer(
        &mut self,
        result: Result<Cc5Response, Refusal>,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Cc5Response {
        match result {
            Ok(response) => response,
            Err(Refusal {
                order_id,
                error,
                trans_id: Some(trans_id),
            }) => error_response(&order_id, error, &trans_id, now),
            Err(refusal) => self.error(&refusal.order_id, refusal.error, now, rng),
        }
    }

    /// Records a `3d`-model authentication under its `md`, dropping expired ones.
    pub fn register_authentication(&mut self, md: &str, authentication: Authentication) {
        self.authentications.register(md, authentication);
    }

    /// The authentication behind an `md` (tests and the admin view).
    pub fn authentication(&self, md: &str) -> Option<&Authentication> {
        self.authentications.get(md)
    }

    /// Books a payment the 3D gate provisions itself (`3d_pay`, `3d_host`) exactly like an
    /// API `Auth`/`PreAuth`: the answer is the `CC5Response` the API would have sent.
    pub fn book_gate_payment(
        &mut self,
        client_id: &str,
        kind: OrderKind,
        payment: &Payment<'_>,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Cc5Response {
        let order_id = payment.order_id.unwrap_or_default();
        let Some(store) = self.stores.get(client_id).cloned() else {
            return self.error(order_id, codes::UNKNOWN_CLIENT, now, rng);
        };
        let result = self.book(&store, kind, payment, now, rng);
        self.answer(result, now, rng)
    }

    fn authorize(
        &mut self,
        store: &Store,
        request: &Cc5Request,
        kind: OrderKind,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Cc5Response, Refusal> {
        let given_id = request.non_empty("OrderId");
        if let Some(id) = given_id.filter(|id| !valid_order_id(id)) {
            return Err(Refusal::new(id, codes::BAD_ORDER_ID));
        }
        if is_3d_provision(request) {
            return self.authorize_3d(store, request, kind, now, rng);
        }
        let echo = given_id.unwrap_or("");
        let refuse = |error| Err(Refusal::new(echo, error));

        let pan = request.non_empty("Number").unwrap_or("");
        if !(12..=19).contains(&pan.len()) || !pan.bytes().all(|b| b.is_ascii_digit()) {
            return refuse(codes::BAD_CARD_NUMBER);
        }
        if !luhn_valid(pan) {
            return refuse(codes::BAD_CARD_NUMBER);
        }
        let Some(expiry) = request.non_empty("Expires").and_then(parse_expires) else {
            return refuse(codes::BAD_EXPIRY);
        };
        // No CVV at all is a card-on-file (stored card) transaction, which test stores
        // allow; a CVV that is there must be well-formed.
        if let Some(cvv) = request.non_empty("Cvv2Val")
            && (!(3..=4).contains(&cvv.len()) || !cvv.bytes().all(|b| b.is_ascii_digit()))
        {
            return refuse(codes::BAD_CVV);
        }
        let (currency, amount, installment) = parse_terms(request, echo)?;
        let payment = Payment {
            order_id: given_id,
            pan,
            expiry,
            currency,
            amount,
            installment,
            three_ds: None,
        };
        self.book(store, kind, &payment, now, rng)
    }

    /// A 3D provision: the card is the one the `md` stands for (see the module rules).
    fn authorize_3d(
        &mut self,
        store: &Store,
        request: &Cc5Request,
        kind: OrderKind,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Cc5Response, Refusal> {
        let given_id = request.non_empty("OrderId");
        let echo = given_id.unwrap_or("");
        let refuse = |error| Err(Refusal::new(echo, error));
        let (currency, amount, installment) = parse_terms(request, echo)?;
        let md = request.non_empty("Number").unwrap_or("");
        let Some(authentication) = self
            .authentications
            .valid(md, now)
            .filter(|a| a.client_id == store.client_id)
            .cloned()
        else {
            return refuse(codes::THREEDS_UNKNOWN_MD);
        };
        if authentication.used {
            return refuse(codes::THREEDS_MD_USED);
        }
        if authentication.facts.md_status != "1" {
            return refuse(codes::THREEDS_NOT_AUTHENTICATED);
        }
        let facts = &authentication.facts;
        let same = given_id == Some(authentication.order_id.as_str())
            && amount == authentication.amount
            && currency == authentication.currency
            && request.field("PayerTxnId").unwrap_or("") == facts.xid
            && request.field("PayerSecurityLevel").unwrap_or("") == facts.eci
            && request.field("PayerAuthenticationCode").unwrap_or("") == facts.cavv;
        if !same {
            return refuse(codes::THREEDS_MISMATCH);
        }
        let payment = Payment {
            order_id: given_id,
            pan: &authentication.pan,
            expiry: authentication.expiry,
            currency,
            amount,
            installment,
            three_ds: Some(authentication.facts.clone()),
        };
        let result = self.book(store, kind, &payment, now, rng);
        if result.is_ok()
            && let Some(spent) = self.authentications.get_mut(md)
        {
            spent.used = true;
        }
        result
    }

    /// Books a sale or pre-authorisation that passed the format checks: duplicate order,
    /// expiry and decline cards, then the transaction.
    fn book(
        &mut self,
        store: &Store,
        kind: OrderKind,
        payment: &Payment<'_>,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Cc5Response, Refusal> {
        let Payment {
            order_id: given_id,
            pan,
            expiry,
            currency,
            amount,
            installment,
            ..
        } = *payment;
        let ids = self.next_ids(now, rng);
        let order_id = match given_id {
            Some(id) => id.to_owned(),
            None => format!("ORDER-{}", ids.trans_id),
        };
        let key = (store.client_id.clone(), order_id.clone());
        if self.orders.get(&key).is_some_and(|o| o.approved) {
            return Err(Refusal::new(&order_id, codes::DUPLICATE_ORDER));
        }

        let today = to_local(now, istanbul()).date();
        let decline = if expiry.is_expired_on(today) {
            Some(codes::EXPIRED_CARD)
        } else {
            codes::decline_for_card(pan)
        };
        let txn_kind = match kind {
            OrderKind::Sale => TxnKind::Auth,
            OrderKind::PreAuth => TxnKind::PreAuth,
        };
        let auth_prefix = match kind {
            OrderKind::Sale => 'P',
            OrderKind::PreAuth => 'T',
        };
        let txn = match decline {
            None => Txn {
                kind: txn_kind,
                amount,
                approved: true,
                proc_return_code: "00".into(),
                error_code: String::new(),
                auth_code: auth_code(auth_prefix, rng),
                host_ref_num: ids.host_ref_num,
                trans_id: ids.trans_id,
                at: now,
            },
            Some(d) => Txn {
                kind: txn_kind,
                amount,
                approved: false,
                proc_return_code: d.code.into(),
                error_code: d.error_code(),
                auth_code: String::new(),
                host_ref_num: ids.host_ref_num,
                trans_id: ids.trans_id,
                at: now,
            },
        };
        let approved = txn.approved;
        let captured = if approved && kind == OrderKind::Sale {
            amount
        } else {
            0
        };
        self.seq += 1;
        let created = self.seq;
        let order = self.orders.entry(key).or_insert_with(|| Order {
            client_id: store.client_id.clone(),
            order_id: order_id.clone(),
            kind,
            currency,
            amount,
            installment,
            pan_masked: String::new(),
            card_brand: "",
            approved: false,
            auth_index: 0,
            captured: 0,
            captured_at: None,
            post_authorised: false,
            refunded: 0,
            voided_at: None,
            settled_batch: None,
            settled: false,
            transactions: Vec::new(),
            three_ds: None,
            created,
        });
        // A retry after a decline reopens the order with the new attempt's terms.
        order.kind = kind;
        order.currency = currency;
        order.amount = amount;
        order.installment = installment;
        order.pan_masked = mask_pan(pan);
        order.card_brand = card_brand(pan);
        order.approved = approved;
        order.captured = captured;
        order.captured_at = (captured > 0).then_some(now);
        order.settled = false;
        order.three_ds = payment.three_ds.clone();
        order.transactions.push(txn.clone());
        order.auth_index = order.transactions.len() - 1;
        let brand = order.card_brand;
        Ok(match decline {
            None => approved_response(&order_id, &txn, store, brand),
            Some(d) => declined_response(&order_id, &txn, d, store, brand),
        })
    }

    fn post_auth(
        &mut self,
        store: &Store,
        request: &Cc5Request,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Cc5Response, Refusal> {
        let order_id = request.non_empty("OrderId").unwrap_or("");
        let key = (store.client_id.clone(), order_id.to_owned());
        let Some(order) = self.orders.get(&key) else {
            return Err(Refusal::new(order_id, codes::NO_PREAUTH));
        };
        let checked = check_post_auth(order, request);
        let ids = self.next_ids(now, rng);
        let Some(order) = self.orders.get_mut(&key) else {
            return Err(Refusal::new(order_id, codes::NO_PREAUTH));
        };
        match checked {
            Ok(amount) => {
                let txn = Txn {
                    kind: TxnKind::PostAuth,
                    amount,
                    approved: true,
                    proc_return_code: "00".into(),
                    error_code: String::new(),
                    auth_code: auth_code('P', rng),
                    host_ref_num: ids.host_ref_num,
                    trans_id: ids.trans_id,
                    at: now,
                };
                order.captured = amount;
                order.captured_at = Some(now);
                order.post_authorised = true;
                order.transactions.push(txn.clone());
                Ok(approved_response(order_id, &txn, store, order.card_brand))
            }
            Err((error, amount)) => {
                let txn = refused_txn(TxnKind::PostAuth, amount, error, ids, now);
                let refusal = Refusal::booked(order_id, error, &txn);
                order.transactions.push(txn);
                Err(refusal)
            }
        }
    }

    fn void(
        &mut self,
        store: &Store,
        request: &Cc5Request,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Cc5Response, Refusal> {
        let order_id = request.non_empty("OrderId").unwrap_or("");
        let key = (store.client_id.clone(), order_id.to_owned());
        // Unknown orders are answered with an empty OrderId, like the bank (vector P1.23).
        let Some(order) = self.orders.get(&key) else {
            return Err(Refusal::new("", codes::NOT_VOIDABLE));
        };
        let voidable = order.approved && order.voided_at.is_none() && !order.settled;
        let amount = if order.captured > 0 {
            order.captured
        } else {
            order.amount
        };
        let ids = self.next_ids(now, rng);
        let Some(order) = self.orders.get_mut(&key) else {
            return Err(Refusal::new("", codes::NOT_VOIDABLE));
        };
        if !voidable {
            let txn = refused_txn(TxnKind::Void, amount, codes::NOT_VOIDABLE, ids, now);
            let refusal = Refusal::booked(order_id, codes::NOT_VOIDABLE, &txn);
            order.transactions.push(txn);
            return Err(refusal);
        }
        let txn = Txn {
            kind: TxnKind::Void,
            amount,
            approved: true,
            proc_return_code: "00".into(),
            error_code: String::new(),
            auth_code: auth_code('P', rng),
            host_ref_num: ids.host_ref_num,
            trans_id: ids.trans_id,
            at: now,
        };
        order.voided_at = Some(now);
        order.transactions.push(txn.clone());
        Ok(approved_response(order_id, &txn, store, order.card_brand))
    }

    fn credit(
        &mut self,
        store: &Store,
        request: &Cc5Request,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Cc5Response, Refusal> {
        let order_id = request.non_empty("OrderId").unwrap_or("");
        let key = (store.client_id.clone(), order_id.to_owned());
        let Some(order) = self.orders.get(&key) else {
            return Err(Refusal::new(order_id, codes::NOTHING_TO_REFUND));
        };
        if !order.approved || order.voided_at.is_some() || order.captured == 0 {
            return Err(Refusal::new(order_id, codes::NOTHING_TO_REFUND));
        }
        let remaining = order.captured - order.refunded;
        let amount = match request.non_empty("Total") {
            None => remaining,
            Some(t) => match parse_amount(t, order.currency) {
                Some(a) => a,
                None => return Err(Refusal::new(order_id, codes::BAD_AMOUNT)),
            },
        };
        let currency_ok = match request.non_empty("Currency") {
            None => true,
            Some(c) => Currency::from_numeric_code(c) == Some(order.currency),
        };
        let refusal = if !currency_ok {
            Some(codes::CURRENCY_MISMATCH)
        } else if !order.settled {
            Some(codes::NOT_SETTLED)
        } else if amount == 0 || amount > remaining {
            Some(codes::OVER_REFUND)
        } else {
            None
        };
        let ids = self.next_ids(now, rng);
        let Some(order) = self.orders.get_mut(&key) else {
            return Err(Refusal::new(order_id, codes::NOTHING_TO_REFUND));
        };
        if let Some(error) = refusal {
            let txn = refused_txn(TxnKind::Credit, amount, error, ids, now);
            let refusal = Refusal::booked(order_id, error, &txn);
            order.transactions.push(txn);
            return Err(refusal);
        }
        let txn = Txn {
            kind: TxnKind::Credit,
            amount,
            approved: true,
            proc_return_code: "00".into(),
            error_code: String::new(),
            auth_code: auth_code('P', rng),
            host_ref_num: ids.host_ref_num,
            trans_id: ids.trans_id,
            at: now,
        };
        order.refunded += amount;
        order.transactions.push(txn.clone());
        Ok(approved_response(order_id, &txn, store, order.card_brand))
    }

    /// `ORDERSTATUS` query (vectors P1.14–P1.19; P1.15 for unknown orders).
    fn status(&self, store: &Store, order_id: &str) -> Cc5Response {
        let Some(order) = self.order(&store.client_id, order_id) else {
            return Cc5Response {
                fields: vec![
                    ("ErrMsg", format!("No record found for {order_id}")),
                    ("ProcReturnCode", "99".into()),
                    ("Response", "Declined".into()),
                    ("OrderId", String::new()),
                    ("TransId", String::new()),
                ],
                extra: Some(vec![
                    ("NUMCODE".into(), "0".into()),
                    (
                        "ORDERSTATUS".into(),
                        "ORD_ID:\tCHARGE_TYPE_CD:\tORIG_TRANS_AMT:\tCAPTURE_AMT:\tTRANS_STAT:\tAUTH_DTTM:\tCAPTURE_DTTM:\tAUTH_CODE:".into(),
                    ),
                ]),
            };
        };
        let view = status_view(order);
        let facts = |pick: fn(&ThreeDsFacts) -> &String| {
            order
                .three_ds
                .as_ref()
                .map(pick)
                .cloned()
                .unwrap_or_default()
        };
        let orderstatus = format!(
            "ORD_ID:{}\tCHARGE_TYPE_CD:{}\tORIG_TRANS_AMT:{}\tCAPTURE_AMT:{}\tTRANS_STAT:{}\tAUTH_DTTM:{}\tCAPTURE_DTTM:{}\tAUTH_CODE:{}\tTRANS_ID:{}",
            order.order_id,
            view.charge_type,
            view.orig_amount,
            view.capture_amount,
            view.trans_stat,
            view.auth_dttm,
            view.capture_dttm,
            view.auth_code,
            view.trans_id,
        );
        let mut extra: Vec<(String, String)> = vec![
            ("AUTH_CODE".into(), view.auth_code.clone()),
            ("AUTH_DTTM".into(), view.auth_dttm.clone()),
            ("CAPTURE_AMT".into(), view.capture_amount.clone()),
            ("CAPTURE_DTTM".into(), view.capture_dttm.clone()),
            ("CAVV_3D".into(), facts(|f| &f.cavv)),
            ("CHARGE_TYPE_CD".into(), view.charge_type.into()),
            ("ECI_3D".into(), facts(|f| &f.eci)),
            ("HOSTDATE".into(), view.host_date.clone()),
            ("HOST_REF_NUM".into(), view.host_ref_num.clone()),
            ("MDSTATUS".into(), facts(|f| &f.md_status)),
            ("NUMCODE".into(), "0".into()),
            ("ORDERSTATUS".into(), orderstatus),
            ("ORD_ID".into(), order.order_id.clone()),
            ("ORIG_TRANS_AMT".into(), view.orig_amount.clone()),
            ("PAN".into(), order.pan_masked.clone()),
            ("PROC_RET_CD".into(), view.proc_return_code.clone()),
            (
                "SETTLEID".into(),
                order
                    .settled_batch
                    .map(|b| b.to_string())
                    .unwrap_or_default(),
            ),
            ("TRANS_ID".into(), view.trans_id.clone()),
            ("TRANS_STAT".into(), view.trans_stat.into()),
        ];
        if let Some(void_dttm) = &view.void_dttm {
            extra.push(("VOID_DTTM".into(), void_dttm.clone()));
        }
        extra.push(("XID_3D".into(), facts(|f| &f.xid)));
        Cc5Response {
            fields: vec![
                ("ErrMsg", format!("Record(s) found for {}", order.order_id)),
                ("ProcReturnCode", "00".into()),
                ("Response", "Approved".into()),
                ("OrderId", order.order_id.clone()),
                ("TransId", view.trans_id),
            ],
            extra: Some(extra),
        }
    }

    /// `ORDERHISTORY` query (vectors P1.29–P1.34).
    fn history(&self, store: &Store, order_id: &str) -> Cc5Response {
        let Some(order) = self.order(&store.client_id, order_id) else {
            return Cc5Response {
                fields: vec![
                    ("ErrMsg", format!("No record found for {order_id}")),
                    ("ProcReturnCode", "05".into()),
                    ("Response", "Declined".into()),
                    ("OrderId", order_id.to_owned()),
                ],
                extra: Some(vec![
                    ("NUMCODE".into(), "0".into()),
                    ("TRXCOUNT".into(), "0".into()),
                ]),
            };
        };
        let lines = history_lines(order);
        let mut extra: Vec<(String, String)> = vec![
            ("TERMINALID".into(), terminal_id(&store.client_id)),
            ("MERCHANTID".into(), merchant_id(&store.client_id)),
            ("NUMCODE".into(), "0".into()),
        ];
        for (i, line) in lines.iter().enumerate() {
            extra.push((format!("TRX{}", i + 1), line.clone()));
        }
        extra.push(("TRXCOUNT".into(), lines.len().to_string()));
        Cc5Response {
            fields: vec![
                ("ErrMsg", String::new()),
                ("ProcReturnCode", "00".into()),
                ("Response", "Approved".into()),
                ("OrderId", order.order_id.clone()),
            ],
            extra: Some(extra),
        }
    }

    /// A `Response=Error` answer (vectors P1.3, P1.7, P1.23, P1.27).
    pub fn error(
        &mut self,
        order_id: &str,
        error: CoreError,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Cc5Response {
        let ids = self.next_ids(now, rng);
        error_response(order_id, error, &ids.trans_id, now)
    }

    fn next_ids(&mut self, now: DateTime<Utc>, rng: &mut impl Rng) -> Ids {
        self.seq += 1;
        let local = to_local(now, istanbul());
        Ids {
            trans_id: trans_id(local, self.seq, rng),
            host_ref_num: format!(
                "{}{:03}00{:06}",
                local.year().rem_euclid(10),
                local.ordinal(),
                self.seq % 1_000_000
            ),
        }
    }
}

/// A refusal on its way to becoming an error response.
struct Refusal {
    order_id: String,
    error: CoreError,
    /// Set when the refusal was booked on the order, so the answer carries the same id.
    trans_id: Option<String>,
}

impl Refusal {
    fn new(order_id: &str, error: CoreError) -> Refusal {
        Refusal {
            order_id: order_id.to_owned(),
            error,
            trans_id: None,
        }
    }

    /// A refusal recorded as `txn` on the order.
    fn booked(order_id: &str, error: CoreError, txn: &Txn) -> Refusal {
        Refusal {
            trans_id: Some(txn.trans_id.clone()),
            ..Refusal::new(order_id, error)
        }
    }
}

/// A 3D provision carries the authentication's data (vector R1.9).
fn is_3d_provision(request: &Cc5Request) -> bool {
    [
        "PayerTxnId",
        "PayerSecurityLevel",
        "PayerAuthenticationCode",
    ]
    .iter()
    .any(|name| request.field(name).is_some())
}

/// `Currency`, `Total` and `Taksit` of a sale or pre-authorisation.
fn parse_terms(request: &Cc5Request, echo: &str) -> Result<(Currency, i64, u32), Refusal> {
    let Some(currency) = request
        .non_empty("Currency")
        .and_then(Currency::from_numeric_code)
    else {
        return Err(Refusal::new(echo, codes::BAD_CURRENCY));
    };
    let Some(amount) = request
        .non_empty("Total")
        .and_then(|t| parse_amount(t, currency))
    else {
        return Err(Refusal::new(echo, codes::BAD_AMOUNT));
    };
    let Some(installment) = parse_installment(request.field("Taksit").unwrap_or(""), currency)
    else {
        return Err(Refusal::new(echo, codes::BAD_INSTALLMENT));
    };
    Ok((currency, amount, installment))
}

fn is_query(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.eq_ignore_ascii_case("QUERY"))
}

/// The PostAuth rules; the amount to capture, or the refusal with the amount asked for.
fn check_post_auth(order: &Order, request: &Cc5Request) -> Result<i64, (CoreError, i64)> {
    let asked = match request.non_empty("Total") {
        None => order.amount,
        Some(t) => parse_amount(t, order.currency).ok_or((codes::BAD_AMOUNT, 0))?,
    };
    if order.kind != OrderKind::PreAuth || !order.approved || order.voided_at.is_some() {
        return Err((codes::NO_PREAUTH, asked));
    }
    if order.post_authorised {
        return Err((codes::ALREADY_CAPTURED, asked));
    }
    let currency = request.non_empty("Currency");
    if currency.is_some_and(|c| Currency::from_numeric_code(c) != Some(order.currency)) {
        return Err((codes::CURRENCY_MISMATCH, asked));
    }
    let limit = match request.extra("PREAMT").filter(|p| !p.is_empty()) {
        None => order.amount,
        Some(pre) => {
            let pre = parse_amount(pre, order.currency).ok_or((codes::BAD_AMOUNT, asked))?;
            if pre != order.amount {
                return Err((codes::PREAMT_MISMATCH, asked));
            }
            order.amount.saturating_mul(115) / 100
        }
    };
    if asked > limit {
        return Err((codes::OVER_CAPTURE, asked));
    }
    Ok(asked)
}

fn refused_txn(kind: TxnKind, amount: i64, error: CoreError, ids: Ids, now: DateTime<Utc>) -> Txn {
    Txn {
        kind,
        amount,
        approved: false,
        proc_return_code: "99".into(),
        error_code: error.code.into(),
        auth_code: String::new(),
        host_ref_num: String::new(),
        trans_id: ids.trans_id,
        at: now,
    }
}

/// What an `ORDERSTATUS` answer shows.
struct StatusView {
    charge_type: &'static str,
    trans_stat: &'static str,
    orig_amount: String,
    capture_amount: String,
    auth_dttm: String,
    capture_dttm: String,
    void_dttm: Option<String>,
    auth_code: String,
    host_ref_num: String,
    host_date: String,
    trans_id: String,
    proc_return_code: String,
}

fn status_view(order: &Order) -> StatusView {
    let last_credit = order
        .transactions
        .iter()
        .rev()
        .find(|t| t.kind == TxnKind::Credit && t.approved);
    if let Some(credit) = last_credit {
        return StatusView {
            charge_type: "C",
            trans_stat: "C",
            orig_amount: credit.amount.to_string(),
            capture_amount: credit.amount.to_string(),
            auth_dttm: dttm(credit.at),
            capture_dttm: dttm(credit.at),
            void_dttm: None,
            auth_code: credit.auth_code.clone(),
            host_ref_num: credit.host_ref_num.clone(),
            host_date: host_date(credit.at),
            trans_id: credit.trans_id.clone(),
            proc_return_code: credit.proc_return_code.clone(),
        };
    }
    let auth = order.transactions.get(order.auth_index);
    let trans_stat = if !order.approved {
        "D"
    } else if order.voided_at.is_some() {
        "V"
    } else if order.captured > 0 {
        "C"
    } else {
        "A"
    };
    StatusView {
        charge_type: "S",
        trans_stat,
        orig_amount: order.amount.to_string(),
        capture_amount: if order.captured > 0 {
            order.captured.to_string()
        } else {
            String::new()
        },
        auth_dttm: auth.map(|a| dttm(a.at)).unwrap_or_default(),
        capture_dttm: order.captured_at.map(dttm).unwrap_or_default(),
        void_dttm: order.voided_at.map(dttm),
        auth_code: auth.map(|a| a.auth_code.clone()).unwrap_or_default(),
        host_ref_num: auth.map(|a| a.host_ref_num.clone()).unwrap_or_default(),
        host_date: auth.map(|a| host_date(a.at)).unwrap_or_default(),
        trans_id: auth.map(|a| a.trans_id.clone()).unwrap_or_default(),
        proc_return_code: auth.map(|a| a.proc_return_code.clone()).unwrap_or_default(),
    }
}

/// `TRXn` lines, newest first: `chargeType, status, origAmount, captureAmount, authDttm,
/// captureDttm, voidDttm, hostRefNum, authCode, procReturnCode, transId`.
fn history_lines(order: &Order) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, t) in order.transactions.iter().enumerate() {
        let fields: [String; 11] = match t.kind {
            TxnKind::Auth | TxnKind::PreAuth if i == order.auth_index && order.approved => {
                let stat = if order.voided_at.is_some() {
                    "V"
                } else if order.captured > 0 {
                    "C"
                } else {
                    "A"
                };
                let captured = order.captured > 0;
                [
                    "S".into(),
                    stat.into(),
                    order.amount.to_string(),
                    if captured {
                        order.captured.to_string()
                    } else {
                        String::new()
                    },
                    dttm(t.at),
                    order.captured_at.map(dttm).unwrap_or_default(),
                    order.voided_at.map(dttm).unwrap_or_default(),
                    t.host_ref_num.clone(),
                    t.auth_code.clone(),
                    t.proc_return_code.clone(),
                    t.trans_id.clone(),
                ]
            }
            TxnKind::Auth | TxnKind::PreAuth => [
                "S".into(),
                "D".into(),
                t.amount.to_string(),
                String::new(),
                dttm(t.at),
                String::new(),
                String::new(),
                t.host_ref_num.clone(),
                String::new(),
                t.proc_return_code.clone(),
                t.trans_id.clone(),
            ],
            TxnKind::Credit => [
                "C".into(),
                if t.approved { "C" } else { "D" }.into(),
                t.amount.to_string(),
                t.amount.to_string(),
                dttm(t.at),
                dttm(t.at),
                String::new(),
                t.host_ref_num.clone(),
                t.auth_code.clone(),
                t.proc_return_code.clone(),
                t.trans_id.clone(),
            ],
            TxnKind::PostAuth | TxnKind::Void => continue,
        };
        lines.push(fields.join("\t"));
    }
    lines.reverse();
    lines
}

/// `Response=Approved` for a sale, pre-auth, post-auth, void or credit (vectors P1.1,
/// P1.21, P1.26).
fn approved_response(order_id: &str, txn: &Txn, store: &Store, brand: &str) -> Cc5Response {
    Cc5Response {
        fields: vec![
            ("OrderId", order_id.to_owned()),
            ("GroupId", order_id.to_owned()),
            ("Response", "Approved".into()),
            ("AuthCode", txn.auth_code.clone()),
            ("HostRefNum", txn.host_ref_num.clone()),
            ("ProcReturnCode", "00".into()),
            ("TransId", txn.trans_id.clone()),
            ("ErrMsg", String::new()),
        ],
        extra: Some(vec![
            ("SETTLEID".into(), store.batch.to_string()),
            ("TRXDATE".into(), trx_date(txn.at)),
            ("ERRORCODE".into(), String::new()),
            ("TERMINALID".into(), terminal_id(&store.client_id)),
            ("MERCHANTID".into(), merchant_id(&store.client_id)),
            ("CARDBRAND".into(), brand.to_owned()),
            ("CARDISSUER".into(), CARD_ISSUER.into()),
            ("HOSTDATE".into(), host_date(txn.at)),
            ("NUMCODE".into(), "00".into()),
        ]),
    }
}

/// `Response=Declined` for an issuer decline (vector P1.8).
fn declined_response(
    order_id: &str,
    txn: &Txn,
    decline: Decline,
    store: &Store,
    brand: &str,
) -> Cc5Response {
    Cc5Response {
        fields: vec![
            ("OrderId", order_id.to_owned()),
            ("GroupId", order_id.to_owned()),
            ("Response", "Declined".into()),
            ("AuthCode", String::new()),
            ("HostRefNum", txn.host_ref_num.clone()),
            ("ProcReturnCode", decline.code.into()),
            ("TransId", txn.trans_id.clone()),
            ("ErrMsg", decline.message.into()),
        ],
        extra: Some(vec![
            ("SETTLEID".into(), String::new()),
            ("TRXDATE".into(), trx_date(txn.at)),
            ("ERRORCODE".into(), decline.error_code()),
            ("TERMINALID".into(), terminal_id(&store.client_id)),
            ("MERCHANTID".into(), merchant_id(&store.client_id)),
            ("CARDBRAND".into(), brand.to_owned()),
            ("CARDISSUER".into(), CARD_ISSUER.into()),
            ("HOSTDATE".into(), host_date(txn.at)),
            ("NUMCODE".into(), decline.code.into()),
        ]),
    }
}

/// `Response=Error` (vector P1.3 layout).
pub fn error_response(
    order_id: &str,
    error: CoreError,
    trans_id: &str,
    now: DateTime<Utc>,
) -> Cc5Response {
    Cc5Response {
        fields: vec![
            ("OrderId", order_id.to_owned()),
            ("GroupId", order_id.to_owned()),
            ("Response", "Error".into()),
            ("AuthCode", String::new()),
            ("HostRefNum", String::new()),
            ("ProcReturnCode", "99".into()),
            ("TransId", trans_id.to_owned()),
            ("ErrMsg", error.message.into()),
        ],
        extra: Some(vec![
            ("SETTLEID".into(), String::new()),
            ("TRXDATE".into(), trx_date(now)),
            ("ERRORCODE".into(), error.code.into()),
            ("NUMCODE".into(), error.numcode()),
        ]),
    }
}

/// Issuer name on every answer; its Turkish letters exercise the ISO-8859-9 encoding.
const CARD_ISSUER: &str = "ORKESTRA TEST BANKASI A.Ş.";

/// `MERCHANTID`: the store number without its bank prefix (700655000200 → 655000200).
fn merchant_id(client_id: &str) -> String {
    let start = client_id.len().saturating_sub(9);
    client_id.get(start..).unwrap_or(client_id).to_owned()
}

/// `TERMINALID`: eight digits derived from the merchant id (655000200 → 00655000).
fn terminal_id(client_id: &str) -> String {
    let merchant = merchant_id(client_id);
    let head: String = merchant.chars().take(6).collect();
    format!("{head:0>8}")
}

/// `TRXDATE`: `20221030 12:29:53`, bank-local time.
pub(crate) fn trx_date(at: DateTime<Utc>) -> String {
    to_local(at, istanbul())
        .format("%Y%m%d %H:%M:%S")
        .to_string()
}

/// `HOSTDATE`: `1030-122954`, bank-local time.
pub(crate) fn host_date(at: DateTime<Utc>) -> String {
    to_local(at, istanbul()).format("%m%d-%H%M%S").to_string()
}

/// Status/history timestamps: `2022-10-30 12:29:53.773`, bank-local time.
fn dttm(at: DateTime<Utc>) -> String {
    to_local(at, istanbul())
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// Base-62 digit in the alphabet the bank's transaction ids use (A–Z, a–z, 0–9).
fn b62(n: u32) -> char {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    ALPHABET.get(n as usize % 62).map_or('A', |b| *b as char)
}

/// `TransId` like `22303Md4C19254`: year, day of year, hour as a letter, minute and second
/// as base-62 digits, a random letter, then five digits of a running sequence.
fn trans_id(local: NaiveDateTime, seq: u64, rng: &mut impl Rng) -> String {
    let hour = char::from(b'A' + u8::try_from(local.hour()).unwrap_or(0));
    let letter = char::from(b'A' + rng.gen_range(0..10u8));
    format!(
        "{:02}{:03}{hour}{}{}{letter}{:05}",
        local.year().rem_euclid(100),
        local.ordinal(),
        b62(local.minute()),
        b62(local.second()),
        seq % 100_000
    )
}

/// Six-character auth code: `P` for sales and follow-ups, `T` for pre-auths, as the
/// bank's test host does (vectors P1.16, P1.17).
fn auth_code(prefix: char, rng: &mut impl Rng) -> String {
    format!("{prefix}{:05}", rng.gen_range(0..100_000u32))
}

pub(crate) fn valid_order_id(id: &str) -> bool {
    id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `Total`: digits with an optional `.` and no more decimals than the currency has.
pub fn parse_amount(raw: &str, currency: Currency) -> Option<i64> {
    let digits_ok = !raw.is_empty()
        && raw.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && raw.bytes().filter(|b| *b == b'.').count() <= 1
        && !raw.starts_with('.')
        && !raw.ends_with('.');
    if !digits_ok {
        return None;
    }
    let value = Decimal::from_str(raw).ok()?;
    MinorUnits::from_decimal(value, currency)
        .ok()
        .map(MinorUnits::get)
}

/// `Expires`: `MM/YY` as the library sends it; `MM/YYYY` and `MMYY` are tolerated.
pub(crate) fn parse_expires(raw: &str) -> Option<Expiry> {
    let (month, year) = match raw.split_once('/') {
        Some((m, y)) => (m, y),
        None if raw.len() == 4 => raw.split_at(2),
        None => return None,
    };
    if month.len() != 2 || !(year.len() == 2 || year.len() == 4) {
        return None;
    }
    if !month
        .bytes()
        .chain(year.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Expiry::parse(month, year).ok()
}

/// `Taksit`: empty for a single payment (→ 1), else 2..12, and installments only in TRY.
pub(crate) fn parse_installment(raw: &str, currency: Currency) -> Option<u32> {
    if raw.is_empty() {
        return Some(1);
    }
    let n: u32 = raw.parse().ok()?;
    ((2..=12).contains(&n) && currency == Currency::Try).then_some(n)
}

/// `4355 08** **** 4358`: first six and last four digits, grouped by four.
pub(crate) fn mask_pan(pan: &str) -> String {
    let len = pan.len();
    let masked: String = pan
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 6 || i + 4 >= len { c } else { '*' })
        .collect();
    let mut out = String::with_capacity(len + len / 4);
    for (i, c) in masked.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `CARDBRAND` from the card number's leading digits.
pub(crate) fn card_brand(pan: &str) -> &'static str {
    let two: u32 = pan.get(..2).and_then(|p| p.parse().ok()).unwrap_or(0);
    let four: u32 = pan.get(..4).and_then(|p| p.parse().ok()).unwrap_or(0);
    if pan.starts_with('4') {
        "VISA"
    } else if (51..=55).contains(&two) || (2221..=2720).contains(&four) {
        "MASTERCARD"
    } else if four == 9792 {
        "TROY"
    } else if two == 34 || two == 37 {
        "AMEX"
    } else {
        ""
    }
}

/// The admin view of an order (`GET /nestpay/_sim/orders/...`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    pub client_id: String,
    pub order_id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `Declined`, `Authorized` (open pre-auth), `Captured`, `Voided`, `PartiallyRefunded`
    /// or `Refunded`.
    pub status: &'static str,
    pub amount_minor: i64,
    pub captured_minor: i64,
    pub refunded_minor: i64,
    pub voided: bool,
    pub settled: bool,
    /// ISO 4217 alphabetic code (`TRY`).
    pub currency: &'static str,
    pub installment: u32,
    pub pan: String,
    pub transactions: Vec<TxnView>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TxnView {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub amount_minor: i64,
    pub approved: bool,
    pub trans_id: String,
    pub proc_return_code: String,
    pub error_code: String,
    pub auth_code: String,
    pub host_ref_num: String,
    /// RFC 3339, UTC.
    pub at: String,
}

impl Order {
    pub fn view(&self) -> OrderView {
        let status = if !self.approved {
            "Declined"
        } else if self.voided_at.is_some() {
            "Voided"
        } else if self.refunded > 0 && self.refunded >= self.captured {
            "Refunded"
        } else if self.refunded > 0 {
            "PartiallyRefunded"
        } else if self.captured > 0 {
            "Captured"
        } else {
            "Authorized"
        };
        OrderView {
            client_id: self.client_id.clone(),
            order_id: self.order_id.clone(),
            kind: self.kind.as_str(),
            status,
            amount_minor: self.amount,
            captured_minor: self.captured,
            refunded_minor: self.refunded,
            voided: self.voided_at.is_some(),
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
                    trans_id: t.trans_id.clone(),
                    proc_return_code: t.proc_return_code.clone(),
                    error_code: t.error_code.clone(),
                    auth_code: t.auth_code.clone(),
                    host_ref_num: t.host_ref_num.clone(),
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
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn books() -> Books {
        let mut b = Books::new();
        b.put_store("700655000200", "ISBANKAPI", "ISBANK07", "TRPS0200");
        b
    }

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        // 2022-10-30 12:29:53 Istanbul is 09:29:53 UTC.
        Utc.with_ymd_and_hms(2022, 10, 30, h, m, s).unwrap()
    }

    fn sale(order: &str, total: &str, pan: &str, kind: &str) -> Cc5Request {
        Cc5Request::from_pairs(
            &[
                ("Name", "ISBANKAPI"),
                ("Password", "ISBANK07"),
                ("ClientId", "700655000200"),
                ("Type", kind),
                ("OrderId", order),
                ("Total", total),
                ("Currency", "949"),
                ("Taksit", ""),
                ("Number", pan),
                ("Expires", "12/30"),
                ("Cvv2Val", "123"),
            ],
            &[],
        )
    }

    fn op(kind: &str, order: &str, total: Option<&str>, extra: &[(&str, &str)]) -> Cc5Request {
        let mut fields = vec![
            ("Name", "ISBANKAPI"),
            ("Password", "ISBANK07"),
            ("ClientId", "700655000200"),
            ("Type", kind),
            ("OrderId", order),
        ];
        if let Some(t) = total {
            fields.push(("Total", t));
        }
        Cc5Request::from_pairs(&fields, extra)
    }

    #[test]
    fn ids_look_like_the_banks() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut b = books();
        let r = b.handle(
            &sale("o1", "1.01", "4355084355084358", "Auth"),
            at(9, 29, 53),
            &mut rng,
        );
        let trans_id = r.field("TransId").unwrap();
        assert_eq!(&trans_id[..8], "22303Md1", "{trans_id}");
        assert_eq!(trans_id.len(), 14);
        let host_ref = r.field("HostRefNum").unwrap();
        assert_eq!(host_ref.len(), 12);
        assert!(host_ref.starts_with("230300"));
        assert!(r.field("AuthCode").unwrap().starts_with('P'));
        assert_eq!(r.extra("TRXDATE"), Some("20221030 12:29:53"));
        assert_eq!(r.extra("HOSTDATE"), Some("1030-122953"));
        assert_eq!(r.extra("MERCHANTID"), Some("655000200"));
        assert_eq!(r.extra("TERMINALID"), Some("00655000"));
        assert_eq!(r.extra("CARDBRAND"), Some("VISA"));
    }

    #[test]
    fn post_auth_with_preamt_allows_up_to_115_percent() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut b = books();
        let now = at(10, 0, 0);
        b.handle(
            &sale("p1", "100", "5258640000000001", "PreAuth"),
            now,
            &mut rng,
        );
        // Over the pre-auth without PREAMT: refused.
        let r = b.handle(&op("PostAuth", "p1", Some("100.01"), &[]), now, &mut rng);
        assert_eq!(r.extra("ERRORCODE"), Some("CORE-2511"));
        // PREAMT must equal the pre-authorised amount.
        let r = b.handle(
            &op("PostAuth", "p1", Some("110"), &[("PREAMT", "99")]),
            now,
            &mut rng,
        );
        assert_eq!(r.extra("ERRORCODE"), Some("CORE-2512"));
        let r = b.handle(
            &op("PostAuth", "p1", Some("115.01"), &[("PREAMT", "100")]),
            now,
            &mut rng,
        );
        assert_eq!(r.extra("ERRORCODE"), Some("CORE-2511"));
        let r = b.handle(
            &op("PostAuth", "p1", Some("115"), &[("PREAMT", "100")]),
            now,
            &mut rng,
        );
        assert_eq!(r.field("Response"), Some("Approved"));
        assert_eq!(b.order("700655000200", "p1").unwrap().captured, 11500);
        let r = b.handle(&op("PostAuth", "p1", None, &[]), now, &mut rng);
        assert_eq!(r.extra("ERRORCODE"), Some("CORE-2513"));
    }

    #[test]
    fn post_auth_without_total_captures_the_pre_auth() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut b = books();
        let now = at(10, 0, 0);
        b.handle(
            &sale("p2", "2.05", "5258640000000001", "PreAuth"),
            now,
            &mut rng,
        );
        let r = b.handle(&op("PostAuth", "p2", Some(""), &[]), now, &mut rng);
        assert_eq!(r.field("Response"), Some("Approved"));
        assert_eq!(b.order("700655000200", "p2").unwrap().captured, 205);
        // PostAuth on a sale is refused.
        b.handle(&sale("s1", "1", "5258640000000001", "Auth"), now, &mut rng);
        let r = b.handle(&op("PostAuth", "s1", None, &[]), now, &mut rng);
        assert_eq!(r.extra("ERRORCODE"), Some("CORE-2507"));
    }

    #[test]
    fn history_folds_post_auth_and_void_into_the_sale_line() {
        let mut rng = StdRng::seed_from_u64(4);
        let mut b = books();
        b.handle(
            &sale("h1", "2.05", "5258640000000001", "PreAuth"),
            at(10, 0, 0),
            &mut rng,
        );
        b.handle(
            &op("PostAuth", "h1", Some("2"), &[]),
            at(10, 1, 0),
            &mut rng,
        );
        b.handle(&op("Void", "h1", None, &[]), at(10, 2, 0), &mut rng);
        let order = b.order("700655000200", "h1").unwrap();
        let lines = history_lines(order);
        assert_eq!(lines.len(), 1);
        let cols: Vec<&str> = lines[0].split('\t').collect();
        assert_eq!(cols.len(), 11);
        assert_eq!(&cols[..4], ["S", "V", "205", "200"]);
        assert_eq!(cols[4], "2022-10-30 13:00:00.000");
        assert_eq!(cols[5], "2022-10-30 13:01:00.000");
        assert_eq!(cols[6], "2022-10-30 13:02:00.000");
        assert!(cols[8].starts_with('T'));
        assert_eq!(cols[9], "00");
    }

    #[test]
    fn amounts_installments_and_expiry_parse_like_the_bank() {
        assert_eq!(parse_amount("100.25", Currency::Try), Some(10025));
        assert_eq!(parse_amount("5", Currency::Try), Some(500));
        assert_eq!(parse_amount("1.1", Currency::Try), Some(110));
        for bad in [
            "", "0", "0.00", "1,5", "-1", "1.001", ".5", "5.", "1e3", "1.2.3",
        ] {
            assert_eq!(parse_amount(bad, Currency::Try), None, "{bad}");
        }
        assert_eq!(parse_amount("7", Currency::Jpy), Some(7));
        assert_eq!(parse_amount("7.5", Currency::Jpy), None);
        assert_eq!(parse_installment("", Currency::Try), Some(1));
        assert_eq!(parse_installment("12", Currency::Try), Some(12));
        assert_eq!(parse_installment("1", Currency::Try), None);
        assert_eq!(parse_installment("13", Currency::Try), None);
        assert_eq!(parse_installment("3", Currency::Usd), None);
        assert!(parse_expires("01/22").is_some());
        assert!(parse_expires("01/2030").is_some());
        assert!(parse_expires("0130").is_some());
        for bad in ["13/30", "1/30", "01-30", "aa/bb", "01/3"] {
            assert!(parse_expires(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn masks_and_brands() {
        assert_eq!(mask_pan("4355084355084358"), "4355 08** **** 4358");
        assert_eq!(card_brand("5406670000000009"), "MASTERCARD");
        assert_eq!(card_brand("2221000000000009"), "MASTERCARD");
        assert_eq!(card_brand("9792675000000002"), "TROY");
    }

    #[test]
    fn settle_opens_a_new_batch() {
        let mut rng = StdRng::seed_from_u64(5);
        let mut b = books();
        b.handle(
            &sale("b1", "1", "5258640000000001", "Auth"),
            at(10, 0, 0),
            &mut rng,
        );
        assert_eq!(b.store("700655000200").unwrap().batch, 2287);
        assert_eq!(b.settle(Some("700655000200")), 1);
        assert_eq!(b.settle(None), 0);
        assert_eq!(b.store("700655000200").unwrap().batch, 2288);
        assert_eq!(
            b.order("700655000200", "b1").unwrap().settled_batch,
            Some(2287)
        );
    }
}
