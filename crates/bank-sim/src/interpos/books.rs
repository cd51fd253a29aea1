//! The bank's books: shops and their API users, orders and their transactions, and the
//! rules InterVPOS enforces on them.
//!
//! Everything here is synchronous and pure apart from the clock value and the random source
//! passed in, so the HTTP layer holds the lock only for one call and never across an
//! `.await`.
//!
//! Rules (what the real bank checks, and the simulator's choices where the real behaviour
//! is not documented; codes in [`super::codes`]):
//!
//! * Every API request carries `ShopCode` (must name a shop: `81`/`B810002` "Terminal
//!   Aktif Degil") and `UserCode`/`UserPass` (one of its API users: `81`), with
//!   `SecureType=NonSecure` and a `TxnType` (`E31` otherwise).
//! * `Auth` (sale, captured at once) / `PreAuth` with the card: `OrderId` required, at most
//!   64 characters of `[A-Za-z0-9_.-]`; `Pan` Luhn-valid, 12–19 digits (`14`); `CardType`
//!   `0`–`3` and the number's scheme (Visa, MasterCard, Amex, Troy); `Expiry` `MMYY`;
//!   `Cvv2` 3–4 digits when present (absent or empty: a card-on-file payment); `Currency` a
//!   known ISO 4217 numeric code; `PurchAmount` `.`-decimal, > 0, no more decimals than the
//!   currency has; `InstallmentCount` empty (or `0`/`1`) for one payment, else 2..12 and
//!   only in TRY. An `OrderId` whose order was approved is refused; one whose attempt was
//!   declined may be retried. Expired cards are declined with `54`, the Craftgate decline
//!   cards with their ISO codes.
//! * `Auth`/`PreAuth` with `MD` and no `Pan`: the provision of a `3DModel` authentication
//!   (vector R6.4). `MD` must name an authentication the gate completed, less than
//!   [`AUTHENTICATION_TTL`] ago (`E39`), for this shop, not yet provisioned (`E31`), with
//!   `mdStatus` 1–4 (`E31`), and the request must repeat its order id, `TxnType`, amount,
//!   currency, installments, `PayerTxnId`, `Eci` and `PayerAuthenticationCode` (`E31`).
//!   The card is the authentication's; the order is then booked like a non-3D one.
//! * `PostAuth` (`orgOrderId`): only on an approved, unvoided `PreAuth`, once, in its
//!   currency, for at most the pre-authorised amount (empty `PurchAmount`: all of it).
//! * `Void` (`orgOrderId`): only before end of day, once, on an approved order; it cancels
//!   the whole order (a post-authorised pre-auth included).
//! * `Refund` (`orgOrderId`): only after end of day, on an approved, unvoided, captured
//!   order; `PurchAmount` empty means everything left; `Currency`, when sent, the order's;
//!   the sum of refunds never exceeds the captured amount. Refused post-auths, voids and
//!   refunds on an existing order are recorded as failed transactions.
//! * `StatusHistory` (`orgOrderId`): one flat record laid out like vector P6.7 (see
//!   [`Books::status`]); an unknown order answers `E39` with no `TransId` or `AuthCode`.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};
use domain::card::Expiry;
use domain::clock::{istanbul, to_local};
use domain::money::{Currency, MinorUnits, format_decimal_fixed, format_decimal_trimmed};
use rand::Rng;

use super::codes::{self, Code};
use super::wire::{InterposRequest, Reply};
use crate::nestpay::books::{OrderView, TxnView, card_brand, parse_amount, valid_order_id};
use crate::nestpay::codes::{EXPIRED_CARD, decline_for_card};
use crate::nestpay::threeds::ThreeDsFacts;
use crate::order_book::{self, Authentications, Orders};

/// One API user of a shop: `UserCode`, `UserPass`.
#[derive(Clone)]
pub struct ApiUser {
    pub user_code: String,
    pub user_pass: String,
}

// Never print the password.
impl std::fmt::Debug for ApiUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiUser")
            .field("user_code", &self.user_code)
            .finish_non_exhaustive()
    }
}

/// One shop (InterPos `ShopCode`), its 3D key and API users.
#[derive(Clone)]
pub struct Store {
    pub shop_code: String,
    /// `MerchantPass`, the 3D key for the gate's hashes; not used by the API.
    pub merchant_pass: String,
    pub users: Vec<ApiUser>,
    /// End-of-day batch currently open (`BatchNo`).
    pub batch: u32,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("shop_code", &self.shop_code)
            .field("users", &self.users)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl Store {
    pub fn user(&self, user_code: &str) -> Option<&ApiUser> {
        self.users.iter().find(|u| u.user_code == user_code)
    }
}

/// Sale or pre-authorisation: what the order was opened with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    Sale,
    PreAuth,
}

impl OrderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Sale => "Auth",
            OrderKind::PreAuth => "PreAuth",
        }
    }

    /// `TxnType` → kind (any case).
    pub fn parse(raw: &str) -> Option<OrderKind> {
        if raw.eq_ignore_ascii_case("Auth") {
            Some(OrderKind::Sale)
        } else if raw.eq_ignore_ascii_case("PreAuth") {
            Some(OrderKind::PreAuth)
        } else {
            None
        }
    }
}

/// The InterPos transaction types the simulator books.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnKind {
    Auth,
    PreAuth,
    PostAuth,
    Void,
    Refund,
}

impl TxnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TxnKind::Auth => "Auth",
            TxnKind::PreAuth => "PreAuth",
            TxnKind::PostAuth => "PostAuth",
            TxnKind::Void => "Void",
            TxnKind::Refund => "Refund",
        }
    }
}

/// One request the bank answered on an order.
#[derive(Debug, Clone)]
pub struct Txn {
    pub kind: TxnKind,
    pub amount: i64,
    pub approved: bool,
    /// `ProcReturnCode`.
    pub code: String,
    /// `ErrorCode`.
    pub error_code: String,
    /// `ErrorMessage`.
    pub message: String,
    pub auth_code: String,
    /// `HostRefNum`, the retrieval reference number.
    pub rrn: String,
    /// `TransId`, the bank's id of this transaction.
    pub trans_id: String,
    pub user_code: String,
    pub at: DateTime<Utc>,
}

/// An order as the bank keeps it.
#[derive(Debug, Clone)]
pub struct Order {
    pub shop_code: String,
    pub order_id: String,
    pub kind: OrderKind,
    pub currency: Currency,
    /// Sale or pre-authorised amount, minor units.
    pub amount: i64,
    pub installment: u32,
    pub pan_masked: String,
    pub holder: String,
    /// `NonSecure`, `3DModel`, `3DPay` or `3DHost`.
    pub secure_type: &'static str,
    /// Whether the current sale/pre-auth attempt was approved.
    pub approved: bool,
    /// Index in `transactions` of the current sale/pre-auth attempt.
    pub auth_index: usize,
    /// Index of the approved post-auth, once there is one.
    pub post_auth_index: Option<usize>,
    pub captured: i64,
    pub refunded: i64,
    pub voided_at: Option<DateTime<Utc>>,
    /// End-of-day batch the order went into, once settled.
    pub settled_batch: Option<u32>,
    pub settled: bool,
    pub transactions: Vec<Txn>,
    /// The 3D authentication of the current attempt, when it was a 3D payment.
    pub three_ds: Option<ThreeDsFacts>,
    created: u64,
}

/// How long a `3DModel` authentication's `MD` can be provisioned.
pub const AUTHENTICATION_TTL: chrono::Duration = chrono::Duration::minutes(10);

/// A `3DModel` authentication the gate completed, waiting for its provision (keyed by its
/// `MD`). Holds the card in clear: it lives only in the simulator's memory.
#[derive(Clone)]
pub struct Authentication {
    pub shop_code: String,
    pub order_id: String,
    pub kind: OrderKind,
    pub amount: i64,
    pub currency: Currency,
    pub installment: u32,
    pub pan: String,
    pub expiry: Expiry,
    pub holder: String,
    pub facts: ThreeDsFacts,
    pub at: DateTime<Utc>,
    pub used: bool,
}

// Never print the card.
impl std::fmt::Debug for Authentication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authentication")
            .field("shop_code", &self.shop_code)
            .field("order_id", &self.order_id)
            .field("pan", &mask_pan(&self.pan))
            .field("md_status", &self.facts.md_status)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

/// A sale or pre-authorisation that passed the format checks, card in clear.
pub struct Payment<'a> {
    pub order_id: &'a str,
    pub pan: &'a str,
    pub expiry: Expiry,
    pub holder: &'a str,
    pub currency: Currency,
    pub amount: i64,
    pub installment: u32,
    pub user_code: &'a str,
    /// `NonSecure`, `3DModel`, `3DPay` or `3DHost`.
    pub secure_type: &'static str,
    pub three_ds: Option<ThreeDsFacts>,
}

impl order_book::BookedOrder for Order {
    fn store(&self) -> &str {
        &self.shop_code
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
    /// `3DModel` authentications by `MD`.
    authentications: Authentications<Authentication>,
    /// Feeds reference numbers and transaction ids.
    seq: u64,
}

/// A refusal on its way to becoming a reply.
struct Refusal {
    order_id: String,
    code: Code,
    amount: String,
}

impl Refusal {
    fn new(order_id: &str, code: Code) -> Refusal {
        Refusal {
            order_id: order_id.to_owned(),
            code,
            amount: "0".to_owned(),
        }
    }
}

impl Books {
    pub fn new() -> Books {
        Books {
            // Real reference numbers are far from zero; start somewhere plausible.
            seq: 33_554_900,
            ..Books::default()
        }
    }

    /// Adds a shop or an API user, or replaces a user's password; the shop's 3D key is set
    /// to `merchant_pass`. Orders are kept.
    pub fn put_store(
        &mut self,
        shop_code: &str,
        user_code: &str,
        user_pass: &str,
        merchant_pass: &str,
    ) {
        let store = self
            .stores
            .entry(shop_code.to_owned())
            .or_insert_with(|| Store {
                shop_code: shop_code.to_owned(),
                merchant_pass: String::new(),
                users: Vec::new(),
                batch: 1,
            });
        store.merchant_pass = merchant_pass.to_owned();
        let user = ApiUser {
            user_code: user_code.to_owned(),
            user_pass: user_pass.to_owned(),
        };
        match store.users.iter_mut().find(|u| u.user_code == user_code) {
            Some(existing) => *existing = user,
            None => store.users.push(user),
        }
    }

    pub fn store(&self, shop_code: &str) -> Option<&Store> {
        self.stores.get(shop_code)
    }

    pub fn order(&self, shop_code: &str, order_id: &str) -> Option<&Order> {
        order_book::order(&self.orders, shop_code, order_id)
    }

    /// Whether an approved order already carries this id (the gate refuses it).
    pub fn order_taken(&self, shop_code: &str, order_id: &str) -> bool {
        self.order(shop_code, order_id).is_some_and(|o| o.approved)
    }

    /// A shop's orders, oldest first.
    pub fn orders_of(&self, shop_code: &str) -> Vec<&Order> {
        order_book::orders_of(&self.orders, shop_code)
    }

    /// End of day for one shop or all: every unsettled order goes into the shop's open
    /// batch and a new batch opens. Returns how many orders were settled.
    pub fn settle(&mut self, shop_code: Option<&str>) -> usize {
        order_book::settle(&mut self.orders, &mut self.stores, shop_code, |s| {
            &mut s.batch
        })
    }

    /// Records a `3DModel` authentication under its `MD`, dropping expired ones.
    pub fn register_authentication(&mut self, md: &str, authentication: Authentication) {
        self.authentications.register(md, authentication);
    }

    /// The authentication behind an `MD` (tests).
    pub fn authentication(&self, md: &str) -> Option<&Authentication> {
        self.authentications.get(md)
    }

    /// Answers one API request.
    pub fn handle(
        &mut self,
        request: &InterposRequest,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Reply {
        let order_hint = request
            .non_empty("OrderId")
            .or_else(|| request.non_empty("orgOrderId"))
            .unwrap_or("")
            .to_owned();
        let Some(store) = self.stores.get(request.text("ShopCode")).cloned() else {
            return refusal_reply(&Refusal::new(&order_hint, codes::UNKNOWN_SHOP));
        };
        let Some(user) = store
            .user(request.text("UserCode"))
            .filter(|u| u.user_pass == request.text("UserPass"))
            .cloned()
        else {
            return refusal_reply(&Refusal::new(&order_hint, codes::BAD_CREDENTIALS));
        };
        if !request.text("SecureType").eq_ignore_ascii_case("NonSecure") {
            return refusal_reply(&Refusal::new(&order_hint, codes::BAD_TXN_TYPE));
        }
        let txn_type = request.text("TxnType");
        let is = |name: &str| txn_type.eq_ignore_ascii_case(name);
        let result = if let Some(kind) = OrderKind::parse(txn_type) {
            if request.non_empty("MD").is_some() && request.non_empty("Pan").is_none() {
                self.provision_3d(&store, &user, request, kind, now, rng)
            } else {
                self.authorize(&store, &user, request, kind, now, rng)
            }
        } else if is("PostAuth") {
            self.post_auth(&store, &user, request, now, rng)
        } else if is("Void") {
            self.void(&store, &user, request, now, rng)
        } else if is("Refund") {
            self.refund(&store, &user, request, now, rng)
        } else if is("StatusHistory") {
            return self.status(&store, request.text("orgOrderId"));
        } else {
            Err(Refusal::new(&order_hint, codes::BAD_TXN_TYPE))
        };
        match result {
            Ok(reply) => reply,
            Err(refusal) => refusal_reply(&refusal),
        }
    }

    /// Books a payment the 3D gate provisions itself (`3DPay`, `3DHost`) exactly like an
    /// API `Auth`/`PreAuth`: the answer is the reply the API would have sent.
    pub fn book_gate_payment(
        &mut self,
        shop_code: &str,
        kind: OrderKind,
        payment: &Payment<'_>,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Reply {
        let Some(store) = self.stores.get(shop_code).cloned() else {
            return refusal_reply(&Refusal::new(payment.order_id, codes::UNKNOWN_SHOP));
        };
        match self.book(&store, kind, payment, now, rng) {
            Ok(reply) => reply,
            Err(refusal) => refusal_reply(&refusal),
        }
    }

    fn authorize(
        &mut self,
        store: &Store,
        user: &ApiUser,
        request: &InterposRequest,
        kind: OrderKind,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Reply, Refusal> {
        let order_id = request.text("OrderId");
        let refuse = |code| Err(Refusal::new(order_id, code));
        if order_id.is_empty() || !valid_order_id(order_id) {
            return refuse(codes::BAD_ORDER_ID);
        }
        let pan = request.text("Pan");
        if !valid_pan(pan) {
            return refuse(codes::BAD_CARD_NUMBER);
        }
        if card_type(pan).is_none_or(|expected| expected != request.text("CardType")) {
            return refuse(codes::BAD_CARD_TYPE);
        }
        let Some(expiry) = parse_expiry(request.text("Expiry")) else {
            return refuse(codes::BAD_EXPIRY);
        };
        // No CVV at all is a card-on-file (stored card) payment, which test shops allow
        // (as the other simulators do); a CVV that is there must be well-formed.
        let cvv = request.text("Cvv2");
        if !cvv.is_empty() && !valid_cvv(cvv) {
            return refuse(codes::BAD_CVV);
        }
        let (currency, amount, installment) = parse_terms(
            request.text("Currency"),
            request.text("PurchAmount"),
            request.text("InstallmentCount"),
        )
        .map_err(|code| Refusal::new(order_id, code))?;
        let payment = Payment {
            order_id,
            pan,
            expiry,
            holder: request.text("CardHolderName"),
            currency,
            amount,
            installment,
            user_code: &user.user_code,
            secure_type: "NonSecure",
            three_ds: None,
        };
        self.book(store, kind, &payment, now, rng)
    }

    /// The provision of a `3DModel` authentication (see the module rules).
    fn provision_3d(
        &mut self,
        store: &Store,
        user: &ApiUser,
        request: &InterposRequest,
        kind: OrderKind,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Reply, Refusal> {
        let order_id = request.text("OrderId");
        let refuse = |code| Err(Refusal::new(order_id, code));
        let md = request.text("MD");
        let Some(authentication) = self
            .authentications
            .valid(md, now)
            .filter(|a| a.shop_code == store.shop_code)
            .cloned()
        else {
            return refuse(codes::THREEDS_UNKNOWN_MD);
        };
        if authentication.used {
            return refuse(codes::THREEDS_MD_USED);
        }
        if !matches!(
            authentication.facts.md_status.as_str(),
            "1" | "2" | "3" | "4"
        ) {
            return refuse(codes::THREEDS_NOT_AUTHENTICATED);
        }
        let terms = parse_terms(
            request.text("Currency"),
            request.text("PurchAmount"),
            request.text("InstallmentCount"),
        );
        let facts = &authentication.facts;
        let same = order_id == authentication.order_id
            && kind == authentication.kind
            && terms
                == Ok((
                    authentication.currency,
                    authentication.amount,
                    authentication.installment,
                ))
            && request.text("PayerTxnId") == facts.xid
            && request.text("Eci") == facts.eci
            && request.text("PayerAuthenticationCode") == facts.cavv;
        if !same {
            return refuse(codes::THREEDS_MISMATCH);
        }
        let payment = Payment {
            order_id,
            pan: &authentication.pan,
            expiry: authentication.expiry,
            holder: &authentication.holder,
            currency: authentication.currency,
            amount: authentication.amount,
            installment: authentication.installment,
            user_code: &user.user_code,
            secure_type: "3DModel",
            three_ds: Some(authentication.facts.clone()),
        };
        let result = self.book(store, authentication.kind, &payment, now, rng);
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
    ) -> Result<Reply, Refusal> {
        let order_id = payment.order_id;
        let key = (store.shop_code.clone(), order_id.to_owned());
        if self.orders.get(&key).is_some_and(|o| o.approved) {
            return Err(Refusal::new(order_id, codes::DUPLICATE_ORDER));
        }
        let today = to_local(now, istanbul()).date();
        let decline = if payment.expiry.is_expired_on(today) {
            Some(EXPIRED_CARD)
        } else {
            decline_for_card(payment.pan)
        };
        let (rrn, trans_id) = self.next_ids(now);
        let txn = Txn {
            kind: match kind {
                OrderKind::Sale => TxnKind::Auth,
                OrderKind::PreAuth => TxnKind::PreAuth,
            },
            amount: payment.amount,
            approved: decline.is_none(),
            code: decline.map_or("00", |d| d.code).to_owned(),
            error_code: decline.map_or("", |d| d.code).to_owned(),
            message: decline.map_or("", |d| d.message).to_owned(),
            auth_code: if decline.is_none() {
                auth_code(rng)
            } else {
                String::new()
            },
            rrn,
            trans_id,
            user_code: payment.user_code.to_owned(),
            at: now,
        };
        let approved = txn.approved;
        self.seq += 1;
        let created = self.seq;
        let order = self.orders.entry(key).or_insert_with(|| Order {
            shop_code: store.shop_code.clone(),
            order_id: order_id.to_owned(),
            kind,
            currency: payment.currency,
            amount: payment.amount,
            installment: payment.installment,
            pan_masked: String::new(),
            holder: String::new(),
            secure_type: "NonSecure",
            approved: false,
            auth_index: 0,
            post_auth_index: None,
            captured: 0,
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
        order.currency = payment.currency;
        order.amount = payment.amount;
        order.installment = payment.installment;
        order.pan_masked = mask_pan(payment.pan);
        order.holder = payment.holder.to_owned();
        order.secure_type = payment.secure_type;
        order.approved = approved;
        order.captured = if approved && kind == OrderKind::Sale {
            payment.amount
        } else {
            0
        };
        order.post_auth_index = None;
        order.settled = false;
        order.three_ds = payment.three_ds.clone();
        order.transactions.push(txn.clone());
        order.auth_index = order.transactions.len() - 1;
        Ok(payment_reply(
            order_id,
            &txn,
            order.currency,
            payment.holder,
        ))
    }

    fn post_auth(
        &mut self,
        store: &Store,
        user: &ApiUser,
        request: &InterposRequest,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Reply, Refusal> {
        let order_id = request.text("orgOrderId");
        let key = (store.shop_code.clone(), order_id.to_owned());
        let Some(order) = self.orders.get(&key) else {
            return Err(Refusal::new(order_id, codes::NOT_FOUND));
        };
        let checked = check_post_auth(order, request);
        let ids = self.next_ids(now);
        let Some(order) = self.orders.get_mut(&key) else {
            return Err(Refusal::new(order_id, codes::NOT_FOUND));
        };
        match checked {
            Ok(amount) => {
                let txn = approved_txn(TxnKind::PostAuth, amount, ids, user, now, rng);
                order.captured = amount;
                order.transactions.push(txn.clone());
                order.post_auth_index = Some(order.transactions.len() - 1);
                Ok(payment_reply(order_id, &txn, order.currency, ""))
            }
            Err((code, amount)) => Err(book_refusal(
                order,
                TxnKind::PostAuth,
                amount,
                code,
                ids,
                user,
                now,
            )),
        }
    }

    fn void(
        &mut self,
        store: &Store,
        user: &ApiUser,
        request: &InterposRequest,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Reply, Refusal> {
        let order_id = request.text("orgOrderId");
        let key = (store.shop_code.clone(), order_id.to_owned());
        let ids = self.next_ids(now);
        let Some(order) = self.orders.get_mut(&key) else {
            return Err(Refusal::new(order_id, codes::NOT_FOUND));
        };
        let amount = if order.captured > 0 {
            order.captured
        } else {
            order.amount
        };
        if !order.approved || order.voided_at.is_some() || order.settled {
            return Err(book_refusal(
                order,
                TxnKind::Void,
                amount,
                codes::NOT_VOIDABLE,
                ids,
                user,
                now,
            ));
        }
        let txn = approved_txn(TxnKind::Void, amount, ids, user, now, rng);
        order.voided_at = Some(now);
        order.transactions.push(txn.clone());
        Ok(payment_reply(order_id, &txn, order.currency, ""))
    }

    fn refund(
        &mut self,
        store: &Store,
        user: &ApiUser,
        request: &InterposRequest,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Reply, Refusal> {
        let order_id = request.text("orgOrderId");
        let key = (store.shop_code.clone(), order_id.to_owned());
        let Some(order) = self.orders.get(&key) else {
            return Err(Refusal::new(order_id, codes::NOT_FOUND));
        };
        let remaining = order.captured - order.refunded;
        let amount = match request.non_empty("PurchAmount") {
            None => remaining,
            Some(text) => parse_amount(text, order.currency)
                .ok_or_else(|| Refusal::new(order_id, codes::BAD_AMOUNT))?,
        };
        let currency_ok = request
            .non_empty("Currency")
            .is_none_or(|c| Currency::from_numeric_code(c) == Some(order.currency));
        let refusal = if !order.approved || order.voided_at.is_some() || order.captured == 0 {
            Some(codes::NOTHING_TO_REFUND)
        } else if !currency_ok {
            Some(codes::CURRENCY_MISMATCH)
        } else if !order.settled {
            Some(codes::REFUND_NOT_SETTLED)
        } else if amount == 0 || amount > remaining {
            Some(codes::OVER_REFUND)
        } else {
            None
        };
        let ids = self.next_ids(now);
        let Some(order) = self.orders.get_mut(&key) else {
            return Err(Refusal::new(order_id, codes::NOT_FOUND));
        };
        if let Some(code) = refusal {
            return Err(book_refusal(
                order,
                TxnKind::Refund,
                amount,
                code,
                ids,
                user,
                now,
            ));
        }
        let txn = approved_txn(TxnKind::Refund, amount, ids, user, now, rng);
        order.refunded += amount;
        order.transactions.push(txn.clone());
        Ok(payment_reply(order_id, &txn, order.currency, ""))
    }

    /// `StatusHistory`: one record laid out like vector P6.7 — `OrderId, ProcReturnCode,
    /// BatchNo, TransId, TRXDATE, TxnStat, PurchAmount, VoidDate, TxnStatus, ChargeTypeCd,
    /// ErrorCode, ErrorMessage, RefundedAmount, AuthCode`. The record is the order's
    /// post-auth when there is one, else its sale/pre-auth; `TxnStat` is `Y` (approved),
    /// `N` (declined) or `V` (voided); `ChargeTypeCd` `S` (sale), `P` (open pre-auth) or `C`
    /// (pre-auth closed by a post-auth); `VoidDate` `d.M.yyyy HH:mm:ss` or .NET's empty date
    /// `1.1.0001 00:00:00`; amounts with a decimal comma. The reference library has no
    /// approved sample, so this layout of an approved record is the simulator's (and the
    /// connector's) reading. Unknown order: `E39` with empty `TransId` and `AuthCode`.
    pub fn status(&self, store: &Store, order_id: &str) -> Reply {
        let mut reply = Reply::new();
        let Some(order) = self.order(&store.shop_code, order_id) else {
            reply
                .push("OrderId", order_id)
                .push("ProcReturnCode", codes::NOT_FOUND.code)
                .push("BatchNo", "")
                .push("TransId", "")
                .push("TRXDATE", "")
                .push("TxnStat", "")
                .push("PurchAmount", "0")
                .push("VoidDate", NO_DATE)
                .push("TxnStatus", "")
                .push("ChargeTypeCd", "")
                .push("ErrorCode", codes::NOT_FOUND.error_code)
                .push("ErrorMessage", codes::NOT_FOUND.message)
                .push("RefundedAmount", "0")
                .push("AuthCode", "");
            return reply;
        };
        let index = order.post_auth_index.unwrap_or(order.auth_index);
        let Some(txn) = order.transactions.get(index) else {
            return refusal_reply(&Refusal::new(order_id, codes::INTERNAL));
        };
        let stat = if !txn.approved {
            "N"
        } else if order.voided_at.is_some() {
            "V"
        } else {
            "Y"
        };
        let charge_type = match (order.kind, order.post_auth_index) {
            (OrderKind::Sale, _) => "S",
            (OrderKind::PreAuth, None) => "P",
            (OrderKind::PreAuth, Some(_)) => "C",
        };
        let void_date = order.voided_at.map_or(NO_DATE.to_owned(), |at| {
            to_local(at, istanbul())
                .format("%-d.%-m.%Y %H:%M:%S")
                .to_string()
        });
        reply
            .push("OrderId", order.order_id.as_str())
            .push("ProcReturnCode", txn.code.as_str())
            .push(
                "BatchNo",
                order.settled_batch.unwrap_or(store.batch).to_string(),
            )
            .push("TransId", txn.trans_id.as_str())
            .push("TRXDATE", trx_date(txn.at))
            .push("TxnStat", stat)
            .push("PurchAmount", comma_amount(txn.amount, order.currency))
            .push("VoidDate", void_date)
            .push(
                "TxnStatus",
                if txn.approved { "Approved" } else { "Declined" },
            )
            .push("ChargeTypeCd", charge_type)
            .push("ErrorCode", txn.error_code.as_str())
            .push("ErrorMessage", txn.message.as_str())
            .push(
                "RefundedAmount",
                comma_amount(order.refunded, order.currency),
            )
            .push("AuthCode", txn.auth_code.as_str());
        reply
    }

    /// A fresh `HostRefNum` and `TransId`.
    fn next_ids(&mut self, now: DateTime<Utc>) -> (String, String) {
        self.seq += 1;
        let local = to_local(now, istanbul());
        let stan = u32::try_from(self.seq % 1_000_000).unwrap_or(0);
        (rrn(local, stan), format!("{}", self.seq))
    }

    /// A fresh `MD`-like id for a 3D session (the gate stamps one on every session).
    pub fn next_md(&mut self, rng: &mut impl Rng) -> String {
        self.seq += 1;
        let bytes: [u8; 16] = rng.r#gen();
        let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        format!("{}{hex}", self.seq)
    }
}

/// .NET's `DateTime.MinValue` as the bank prints an empty date (P6.7).
pub const NO_DATE: &str = "1.1.0001 00:00:00";

/// `TRXDATE` like `09.08.2024 10:40:34`, bank-local time (vector S6.1).
pub(crate) fn trx_date(at: DateTime<Utc>) -> String {
    to_local(at, istanbul())
        .format("%d.%m.%Y %H:%M:%S")
        .to_string()
}

/// `CurrencyNumeric`, `PurchAmount`, `InstallmentCount` of a sale, pre-auth or 3D form.
pub(crate) fn parse_terms(
    currency: &str,
    amount: &str,
    installment: &str,
) -> Result<(Currency, i64, u32), Code> {
    let currency = Currency::from_numeric_code(currency).ok_or(codes::BAD_CURRENCY)?;
    let amount = parse_amount(amount, currency)
        .filter(|a| *a > 0)
        .ok_or(codes::BAD_AMOUNT)?;
    let installment = parse_installment(installment, currency).ok_or(codes::BAD_INSTALLMENT)?;
    Ok((currency, amount, installment))
}

/// `InstallmentCount`: `""`, `0` or `1` for one payment (→ 1), else 2..12 in TRY only.
pub(crate) fn parse_installment(raw: &str, currency: Currency) -> Option<u32> {
    if raw.is_empty() {
        return Some(1);
    }
    if !raw.bytes().all(|b| b.is_ascii_digit()) || raw.len() > 2 {
        return None;
    }
    let n: u32 = raw.parse().ok()?;
    match n {
        0 | 1 => Some(1),
        2..=12 if currency == Currency::Try => Some(n),
        _ => None,
    }
}

/// `Pan`: 12–19 digits, Luhn-valid.
pub(crate) fn valid_pan(pan: &str) -> bool {
    (12..=19).contains(&pan.len())
        && pan.bytes().all(|b| b.is_ascii_digit())
        && domain::card::luhn_valid(pan)
}

/// `Cvv2`: 3–4 digits.
pub(crate) fn valid_cvv(cvv: &str) -> bool {
    (3..=4).contains(&cvv.len()) && cvv.bytes().all(|b| b.is_ascii_digit())
}

/// `Expiry`: `MMYY`.
pub(crate) fn parse_expiry(raw: &str) -> Option<Expiry> {
    if raw.len() != 4 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (month, year) = raw.split_at(2);
    Expiry::parse(month, year).ok()
}

/// `540061******0430`: first six and last four digits.
pub(crate) fn mask_pan(pan: &str) -> String {
    let len = pan.len();
    pan.chars()
        .enumerate()
        .map(|(i, c)| if i < 6 || i + 4 >= len { c } else { '*' })
        .collect()
}

/// InterPos `CardType` of a card number: `0` Visa, `1` MasterCard, `2` Amex, `3` Troy.
pub(crate) fn card_type(pan: &str) -> Option<&'static str> {
    match card_brand(pan) {
        "VISA" => Some("0"),
        "MASTERCARD" => Some("1"),
        "AMEX" => Some("2"),
        "TROY" => Some("3"),
        _ => None,
    }
}

/// An amount as the bank writes it in replies: decimal comma, the currency's decimals
/// (`1,00`, `1,01`, S6.1).
pub(crate) fn comma_amount(minor: i64, currency: Currency) -> String {
    format_decimal_fixed(MinorUnits::from_stored(minor), currency).replace('.', ",")
}

/// The callback's echo of a form amount: as posted, with a decimal comma (`1,01`, C6.2).
pub(crate) fn echo_amount(minor: i64, currency: Currency) -> String {
    format_decimal_trimmed(MinorUnits::from_stored(minor), currency).replace('.', ",")
}

/// `HostRefNum` like `422213081256`: last digit of the year, day of year, hour, then a
/// six-digit trace number.
pub(crate) fn rrn(local: NaiveDateTime, stan: u32) -> String {
    format!(
        "{}{:03}{:02}{:06}",
        local.year().rem_euclid(10),
        local.ordinal(),
        local.hour(),
        stan
    )
}

/// Six-digit auth code.
fn auth_code(rng: &mut impl Rng) -> String {
    format!("{:06}", rng.gen_range(0..1_000_000u32))
}

fn approved_txn(
    kind: TxnKind,
    amount: i64,
    (rrn, trans_id): (String, String),
    user: &ApiUser,
    now: DateTime<Utc>,
    rng: &mut impl Rng,
) -> Txn {
    Txn {
        kind,
        amount,
        approved: true,
        code: "00".into(),
        error_code: String::new(),
        message: String::new(),
        auth_code: auth_code(rng),
        rrn,
        trans_id,
        user_code: user.user_code.clone(),
        at: now,
    }
}

/// Records a refused follow-up on the order, as the bank's history shows it.
fn book_refusal(
    order: &mut Order,
    kind: TxnKind,
    amount: i64,
    code: Code,
    (rrn, trans_id): (String, String),
    user: &ApiUser,
    now: DateTime<Utc>,
) -> Refusal {
    order.transactions.push(Txn {
        kind,
        amount,
        approved: false,
        code: code.code.into(),
        error_code: code.error_code.into(),
        message: code.message.into(),
        auth_code: String::new(),
        rrn,
        trans_id,
        user_code: user.user_code.clone(),
        at: now,
    });
    Refusal {
        order_id: order.order_id.clone(),
        code,
        amount: comma_amount(amount, order.currency),
    }
}

/// The PostAuth rules; the amount to capture, or the refusal with the amount asked for.
fn check_post_auth(order: &Order, request: &InterposRequest) -> Result<i64, (Code, i64)> {
    let asked = match request.non_empty("PurchAmount") {
        None => order.amount,
        Some(text) => parse_amount(text, order.currency).ok_or((codes::BAD_AMOUNT, 0))?,
    };
    if order.kind != OrderKind::PreAuth || !order.approved || order.voided_at.is_some() {
        return Err((codes::NO_PREAUTH, asked));
    }
    if order.post_auth_index.is_some() {
        return Err((codes::ALREADY_CAPTURED, asked));
    }
    let currency = request.non_empty("Currency");
    if currency.is_some_and(|c| Currency::from_numeric_code(c) != Some(order.currency)) {
        return Err((codes::CURRENCY_MISMATCH, asked));
    }
    if asked == 0 || asked > order.amount {
        return Err((codes::OVER_CAPTURE, asked));
    }
    Ok(asked)
}

/// The payment reply layout of vector S6.1: sale, pre-auth, post-auth, void, refund and 3D
/// provision answers, approved or declined by the issuer.
pub fn payment_reply(order_id: &str, txn: &Txn, currency: Currency, holder: &str) -> Reply {
    reply_layout(
        order_id,
        &txn.code,
        &txn.rrn,
        &txn.auth_code,
        txn.approved,
        &txn.message,
        &trx_date(txn.at),
        &txn.trans_id,
        &txn.error_code,
        &comma_amount(txn.amount, currency),
        holder,
    )
}

/// A refusal in the payment reply layout (vectors P6.1, P6.8, P6.9).
fn refusal_reply(refusal: &Refusal) -> Reply {
    reply_layout(
        &refusal.order_id,
        refusal.code.code,
        "",
        "",
        false,
        refusal.code.message,
        "",
        "",
        refusal.code.error_code,
        &refusal.amount,
        "",
    )
}

/// A refusal before any order was looked at (unreadable request, poisoned state).
pub fn plain_refusal(code: Code) -> Reply {
    refusal_reply(&Refusal::new("", code))
}

#[allow(clippy::too_many_arguments)]
fn reply_layout(
    order_id: &str,
    code: &str,
    rrn: &str,
    auth_code: &str,
    approved: bool,
    message: &str,
    trx_date: &str,
    trans_id: &str,
    error_code: &str,
    amount: &str,
    holder: &str,
) -> Reply {
    let mut reply = Reply::new();
    reply
        .push("OrderId", order_id)
        .push("ProcReturnCode", code)
        .push("HostRefNum", rrn)
        .push("AuthCode", auth_code)
        .push("TxnResult", if approved { "Success" } else { "Failed" })
        .push("ErrorMessage", message)
        .push("CampanyId", "")
        .push("CampanyInstallCount", "0")
        .push("CampanyShiftDateCount", "0")
        .push("CampanyTxnId", "")
        .push("CampanyType", "")
        .push("CampanyInstallment", "0")
        .push("CampanyDate", "0")
        .push("CampanyAmnt", "0")
        .push("TRXDATE", trx_date)
        .push("TransId", trans_id)
        .push("ErrorCode", error_code)
        .push("EarnedBonus", "0,00")
        .push("UsedBonus", "0,00")
        .push("AvailableBonus", "0,00")
        .push("BonusToBonus", "0")
        .push("CampaignBonus", "0,00")
        .push("FoldedBonus", "0")
        .push("SurchargeAmount", "0")
        .push("Amount", amount)
        .push("CardHolderName", holder)
        .push("QrReferenceNumber", "")
        .push("QrCardToken", "")
        .push("QrData", "")
        .push("QrPayIsSucess", "False")
        .push("QrIssuerPaymentMethod", "")
        .push("QrFastMessageReferenceNo", "")
        .push("QrFastParticipantReceiverCode", "")
        .push("QrFastParticipantReceiverName", "")
        .push("QrFastParticipantSenderCode", "")
        .push("QrFastSenderIban", "")
        .push("QrFastParticipantSenderName", "")
        .push("QrFastPaymentResultDesc", "");
    reply
}

impl Order {
    /// The admin view (`GET /interpos/_sim/orders/...`), in the NestPay simulator's shape.
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
            client_id: self.shop_code.clone(),
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
                    proc_return_code: t.code.clone(),
                    error_code: t.error_code.clone(),
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
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const SHOP: &str = "3123";

    fn books() -> Books {
        let mut b = Books::new();
        b.put_store(SHOP, "InterTestApi", "3", "gDg1N");
        b
    }

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 14, h, m, s).unwrap()
    }

    fn account(extra: &[(&str, &str)]) -> InterposRequest {
        let mut fields = vec![
            ("UserCode", "InterTestApi"),
            ("UserPass", "3"),
            ("ShopCode", SHOP),
            ("SecureType", "NonSecure"),
        ];
        fields.extend_from_slice(extra);
        InterposRequest::from_pairs(&fields)
    }

    fn sale(order: &str, amount: &str, kind: &str) -> InterposRequest {
        account(&[
            ("TxnType", kind),
            ("OrderId", order),
            ("PurchAmount", amount),
            ("Currency", "949"),
            ("InstallmentCount", ""),
            ("MOTO", "0"),
            ("Lang", "tr"),
            ("CardType", "0"),
            ("Pan", "4155650100416111"),
            ("Expiry", "0130"),
            ("Cvv2", "000"),
        ])
    }

    fn code(reply: &Reply) -> &str {
        reply.field("ProcReturnCode").unwrap_or_default()
    }

    #[test]
    fn replies_follow_the_s6_1_layout() {
        let mut b = books();
        let mut rng = StdRng::seed_from_u64(7);
        let reply = b.handle(&sale("o1", "1.01", "Auth"), at(10, 40, 34), &mut rng);
        let keys: Vec<&str> = reply.fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys.len(), 38);
        assert_eq!(
            &keys[..6],
            [
                "OrderId",
                "ProcReturnCode",
                "HostRefNum",
                "AuthCode",
                "TxnResult",
                "ErrorMessage"
            ]
        );
        assert_eq!(reply.field("TxnResult"), Some("Success"));
        assert_eq!(reply.field("Amount"), Some("1,01"));
        assert_eq!(reply.field("TRXDATE"), Some("14.03.2026 13:40:34"));
    }

    #[test]
    fn account_and_format_rules() {
        let mut b = books();
        let mut rng = StdRng::seed_from_u64(1);
        let now = at(9, 0, 0);
        let mut wrong_shop = sale("o1", "1", "Auth");
        wrong_shop = InterposRequest::from_fields(
            wrong_shop
                .fields()
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        if k == "ShopCode" {
                            "9".into()
                        } else {
                            v.clone()
                        },
                    )
                })
                .collect(),
        );
        let reply = b.handle(&wrong_shop, now, &mut rng);
        assert_eq!(code(&reply), "81");
        assert_eq!(reply.field("ErrorCode"), Some("B810002"));
        for (name, value, expected) in [
            ("UserPass", "x", "81"),
            ("Pan", "4155650100416112", "14"),
            ("CardType", "1", "E31"),
            ("Expiry", "13/30", "E31"),
            ("PurchAmount", "1,00", "E31"),
            ("PurchAmount", "0", "E31"),
            ("Currency", "999", "E31"),
            ("InstallmentCount", "3x", "E31"),
            ("OrderId", "bad id", "E31"),
            ("SecureType", "Report", "E31"),
            ("TxnType", "Sale", "E31"),
        ] {
            let mut request = sale("o2", "1", "Auth");
            request = InterposRequest::from_fields(
                request
                    .fields()
                    .iter()
                    .cloned()
                    .chain([(name.to_owned(), value.to_owned())])
                    .collect(),
            );
            assert_eq!(
                code(&b.handle(&request, now, &mut rng)),
                expected,
                "{name}={value}"
            );
        }
        assert!(b.order(SHOP, "o2").is_none());
    }

    #[test]
    fn post_auth_void_refund_and_status_rules() {
        let mut b = books();
        let mut rng = StdRng::seed_from_u64(2);
        let now = at(9, 0, 0);
        assert_eq!(
            code(&b.handle(&sale("p1", "100", "PreAuth"), now, &mut rng)),
            "00"
        );
        let store = b.store(SHOP).unwrap().clone();
        assert_eq!(b.status(&store, "p1").field("ChargeTypeCd"), Some("P"));
        let post = |amount: &str| {
            account(&[
                ("TxnType", "PostAuth"),
                ("orgOrderId", "p1"),
                ("PurchAmount", amount),
                ("Currency", "949"),
            ])
        };
        assert_eq!(code(&b.handle(&post("100.01"), now, &mut rng)), "E31");
        assert_eq!(code(&b.handle(&post("80"), now, &mut rng)), "00");
        assert_eq!(code(&b.handle(&post("10"), now, &mut rng)), "E31");
        let status = b.status(&store, "p1");
        assert_eq!(status.field("ChargeTypeCd"), Some("C"));
        assert_eq!(status.field("PurchAmount"), Some("80,00"));
        // Refund before end of day is refused; the order must be voided instead.
        let refund = |amount: &str| {
            account(&[
                ("TxnType", "Refund"),
                ("orgOrderId", "p1"),
                ("PurchAmount", amount),
            ])
        };
        assert_eq!(code(&b.handle(&refund("10"), now, &mut rng)), "E31");
        b.settle(Some(SHOP));
        assert_eq!(code(&b.handle(&refund("30"), now, &mut rng)), "00");
        assert_eq!(code(&b.handle(&refund("50.01"), now, &mut rng)), "E31");
        assert_eq!(code(&b.handle(&refund("50"), now, &mut rng)), "00");
        assert_eq!(
            b.status(&b.store(SHOP).unwrap().clone(), "p1")
                .field("RefundedAmount"),
            Some("80,00")
        );
        // Settled orders cannot be voided.
        let void = account(&[("TxnType", "Void"), ("orgOrderId", "p1")]);
        assert_eq!(code(&b.handle(&void, now, &mut rng)), "E31");
        // Unknown orders.
        let status = account(&[("TxnType", "StatusHistory"), ("orgOrderId", "nope")]);
        let reply = b.handle(&status, now, &mut rng);
        assert_eq!(code(&reply), "E39");
        assert_eq!(reply.field("TransId"), Some(""));
        assert_eq!(reply.field("VoidDate"), Some(NO_DATE));
    }

    #[test]
    fn voids_are_same_day_and_dated() {
        let mut b = books();
        let mut rng = StdRng::seed_from_u64(3);
        let now = at(9, 5, 7);
        assert_eq!(
            code(&b.handle(&sale("s1", "5", "Auth"), now, &mut rng)),
            "00"
        );
        let void = account(&[("TxnType", "Void"), ("orgOrderId", "s1")]);
        assert_eq!(code(&b.handle(&void, now, &mut rng)), "00");
        assert_eq!(code(&b.handle(&void, now, &mut rng)), "E31");
        let store = b.store(SHOP).unwrap().clone();
        let status = b.status(&store, "s1");
        assert_eq!(status.field("TxnStat"), Some("V"));
        assert_eq!(status.field("VoidDate"), Some("14.3.2026 12:05:07"));
        assert_eq!(b.order(SHOP, "s1").unwrap().view().status, "Voided");
    }

    #[test]
    fn decline_cards_and_retries() {
        let mut b = books();
        let mut rng = StdRng::seed_from_u64(4);
        let now = at(9, 0, 0);
        let mut request = sale("d1", "5", "Auth");
        request = InterposRequest::from_fields(
            request
                .fields()
                .iter()
                .cloned()
                .chain([
                    ("Pan".to_owned(), "5100050000006661".to_owned()),
                    ("CardType".to_owned(), "1".to_owned()),
                ])
                .collect(),
        );
        let reply = b.handle(&request, now, &mut rng);
        assert_eq!(code(&reply), "51");
        assert_eq!(reply.field("TxnResult"), Some("Failed"));
        // A declined order id may be retried; an approved one not.
        assert_eq!(
            code(&b.handle(&sale("d1", "5", "Auth"), now, &mut rng)),
            "00"
        );
        assert_eq!(
            code(&b.handle(&sale("d1", "5", "Auth"), now, &mut rng)),
            "E31"
        );
        assert_eq!(b.order(SHOP, "d1").unwrap().transactions.len(), 2);
    }

    #[test]
    fn formats() {
        assert_eq!(comma_amount(101, Currency::Try), "1,01");
        assert_eq!(comma_amount(100, Currency::Try), "1,00");
        assert_eq!(echo_amount(8_010, Currency::Try), "80,1");
        assert_eq!(echo_amount(100, Currency::Try), "1");
        assert_eq!(card_type("9792030394440796"), Some("3"));
        assert_eq!(card_type("374245455400126"), Some("2"));
        assert_eq!(card_type("6011000990139424"), None);
        assert_eq!(mask_pan("5400610000000430"), "540061******0430");
        assert_eq!(parse_installment("", Currency::Try), Some(1));
        assert_eq!(parse_installment("3", Currency::Usd), None);
    }
}
