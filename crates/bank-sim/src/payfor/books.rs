//! The bank's books: merchants and their API users, orders and their transactions, and the
//! rules the PayFor platform enforces on them.
//!
//! Everything here is synchronous and pure apart from the clock value and the random source
//! passed in, so the HTTP layer holds the lock only for one call and never across an
//! `.await`.
//!
//! Rules (what the real bank checks, and the simulator's choices where the real behaviour
//! is not documented; codes in [`super::codes`]):
//!
//! * Every request but a `3DModelPayment` carries the account block: `MerchantId` must name
//!   a merchant (`V004`), `UserCode`/`UserPass` one of its API users (`V001`), and `MbrId`
//!   that user's institution (`5` QNB Finansbank/Enpara, `12` Ziraat Katılım; `V004`).
//! * `SecureType=NonSecure` + `TxnType` `Auth` (sale, captured at once) or `PreAuth`:
//!   `OrderId` required, at most 64 characters of `[A-Za-z0-9_.-]`; `Pan` Luhn-valid, 12–19
//!   digits (`M041`); `Expiry` `MMYY`; `Cvv2` 3–4 digits when present (absent or empty: a
//!   card-on-file payment with a stored card); `Currency` a known ISO 4217 numeric
//!   code; `PurchAmount` `.`-decimal, > 0, no more decimals than the currency has;
//!   `InstallmentCount` `0`, `1` (or absent) for one payment, else 2..12 and only in TRY. An
//!   `OrderId` whose order was approved is refused (`101310`); one whose attempt was declined
//!   may be retried (the declined attempt stays in the order's history). Expired cards are
//!   declined with `54`, the Craftgate decline cards with their ISO codes.
//! * `PostAuth` (`OrgOrderId`): only on an approved, unvoided `PreAuth`, once, in its
//!   currency, for at most the pre-authorised amount (empty `PurchAmount`: all of it).
//! * `Void` (`OrgOrderId`): only before end of day, once, on an approved order; it cancels
//!   the whole order (a post-authorised pre-auth included). Its `Currency` is not checked
//!   (the order is named by `OrgOrderId`).
//! * `Refund` (`OrgOrderId`): only after end of day (`V014`, the real text), on an approved,
//!   unvoided, captured order, in its currency; `PurchAmount` empty means everything left;
//!   the sum of refunds never exceeds the captured amount. Refused post-auths, voids and
//!   refunds on an existing order are recorded as failed transactions, as the real history
//!   shows them (vector P5.23).
//! * `SecureType=Inquiry`, `TxnType=OrderInquiry` (`OrgOrderId`): one flat record as in
//!   vectors P5.11–P5.16 — the post-auth when there is one, else the sale/pre-auth, with
//!   `TxnStatus`, `IsVoided`, `IsRefunded`, `RefundedAmount`, `VoidDate` folded in; for an
//!   unknown order the inquiry's own record with `V013`.
//! * `SecureType=Report`, `TxnType=TxnHistory` (`OrderId`): one record per transaction,
//!   oldest first (vector S5.3); a voided transaction shows `TxnStatus=V`. Unknown order: the
//!   query's own record with `V013` (P5.24).
//! * `SecureType=3DModelPayment` (`RequestGuid`, `UserCode`, `UserPass`, `OrderId`, vector
//!   R5.11): `RequestGuid` must name a `3DModel` authentication the gate completed, less than
//!   [`AUTHENTICATION_TTL`] ago (`V013`), not yet provisioned (`V015`), with `3DStatus=1`
//!   (`V034`: the simulator does not provision half-secure 2/3/4), for this `OrderId`
//!   (`V015`), by an API user of its merchant (`V001`). The card, amount, currency,
//!   installments and `TxnType` are the authentication's; the order is then booked exactly
//!   like a non-3D one and the `RequestGuid` is spent.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};
use domain::card::Expiry;
use domain::clock::{istanbul, to_local};
use domain::money::{Currency, MinorUnits, format_decimal_trimmed};
use rand::Rng;

use super::codes::{self, APPROVED_MESSAGE, Code};
use super::threeds::ThreeDsFacts;
use super::wire::{Answer, HistoryRecord, PayforRequest, Reply};
use crate::nestpay::books::{OrderView, TxnView, card_brand, parse_amount, valid_order_id};
use crate::nestpay::codes::{EXPIRED_CARD, decline_for_card};
use crate::order_book::{self, Authentications, Orders};

/// One API user of a merchant: `UserCode`, `UserPass` and its institution (`MbrId`).
#[derive(Clone)]
pub struct ApiUser {
    pub mbr_id: String,
    pub user_code: String,
    pub user_pass: String,
}

// Never print the password.
impl std::fmt::Debug for ApiUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiUser")
            .field("mbr_id", &self.mbr_id)
            .field("user_code", &self.user_code)
            .finish_non_exhaustive()
    }
}

/// One merchant (PayFor `MerchantId`), its 3D key and API users.
#[derive(Clone)]
pub struct Store {
    pub merchant_id: String,
    /// `MerchantPass`, the 3D key for the gate's hashes; not used by the API.
    pub merchant_pass: String,
    pub users: Vec<ApiUser>,
    /// End-of-day batch currently open (`BatchNo`).
    pub batch: u32,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("merchant_id", &self.merchant_id)
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
}

/// The PayFor transaction types the simulator books.
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
    /// `ErrMsg`.
    pub message: String,
    pub auth_code: String,
    /// `HostRefNum`/`F37`, the retrieval reference number.
    pub rrn: String,
    /// `F11`, the system trace number.
    pub stan: u32,
    /// `RequestGuid`, the bank's id of this transaction.
    pub request_guid: String,
    pub user_code: String,
    pub at: DateTime<Utc>,
}

/// An order as the bank keeps it.
#[derive(Debug, Clone)]
pub struct Order {
    pub merchant_id: String,
    pub order_id: String,
    pub kind: OrderKind,
    pub currency: Currency,
    /// Sale or pre-authorised amount, minor units.
    pub amount: i64,
    pub installment: u32,
    pub pan_masked: String,
    /// `CardType`: `V`, `M`, `T`, `A` or empty.
    pub card_type: &'static str,
    pub holder: String,
    pub mbr_id: String,
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
    /// Index of the transaction the void cancelled (the post-auth, or the sale/pre-auth).
    pub void_target: Option<usize>,
    pub void_user: String,
    /// End-of-day batch the order went into, once settled.
    pub settled_batch: Option<u32>,
    pub settled: bool,
    pub transactions: Vec<Txn>,
    /// The 3D authentication of the current attempt, when it was a 3D payment.
    pub three_ds: Option<ThreeDsFacts>,
    created: u64,
}

/// How long a `3DModel` authentication's `RequestGuid` can be provisioned.
pub const AUTHENTICATION_TTL: chrono::Duration = chrono::Duration::minutes(10);

/// A `3DModel` authentication the gate completed, waiting for its provision (keyed by its
/// `RequestGuid`). Holds the card in clear: it lives only in the simulator's memory.
#[derive(Clone)]
pub struct Authentication {
    pub merchant_id: String,
    pub mbr_id: String,
    pub user_code: String,
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
            .field("merchant_id", &self.merchant_id)
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
    pub mbr_id: &'a str,
    pub user_code: &'a str,
    /// `NonSecure`, `3DModel`, `3DPay` or `3DHost`.
    pub secure_type: &'static str,
    pub three_ds: Option<ThreeDsFacts>,
}

/// Identifiers the bank stamps on a transaction.
pub struct Ids {
    pub stan: u32,
    pub rrn: String,
    pub request_guid: String,
}

impl order_book::BookedOrder for Order {
    fn store(&self) -> &str {
        &self.merchant_id
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
    /// `3DModel` authentications by `RequestGuid`.
    authentications: Authentications<Authentication>,
    /// Feeds trace numbers and request guids.
    seq: u64,
}

/// A refusal on its way to becoming a reply.
struct Refusal {
    order_id: String,
    code: Code,
    /// The reference number when the refusal was booked on the order.
    rrn: String,
}

impl Refusal {
    fn new(order_id: &str, code: Code) -> Refusal {
        Refusal {
            order_id: order_id.to_owned(),
            code,
            rrn: String::new(),
        }
    }

    fn booked(order_id: &str, code: Code, txn: &Txn) -> Refusal {
        Refusal {
            rrn: txn.rrn.clone(),
            ..Refusal::new(order_id, code)
        }
    }
}

impl Books {
    pub fn new() -> Books {
        Books {
            // Real trace numbers and guids are far from zero; start somewhere plausible.
            seq: 81_255_900,
            ..Books::default()
        }
    }

    /// Adds a merchant or an API user, or replaces a user's password and institution; the
    /// merchant's 3D key is set to `merchant_pass`. Orders are kept.
    pub fn put_store(
        &mut self,
        merchant_id: &str,
        mbr_id: &str,
        user_code: &str,
        user_pass: &str,
        merchant_pass: &str,
    ) {
        let store = self
            .stores
            .entry(merchant_id.to_owned())
            .or_insert_with(|| Store {
                merchant_id: merchant_id.to_owned(),
                merchant_pass: String::new(),
                users: Vec::new(),
                batch: 4320,
            });
        store.merchant_pass = merchant_pass.to_owned();
        let user = ApiUser {
            mbr_id: mbr_id.to_owned(),
            user_code: user_code.to_owned(),
            user_pass: user_pass.to_owned(),
        };
        match store.users.iter_mut().find(|u| u.user_code == user_code) {
            Some(existing) => *existing = user,
            None => store.users.push(user),
        }
    }

    pub fn store(&self, merchant_id: &str) -> Option<&Store> {
        self.stores.get(merchant_id)
    }

    pub fn order(&self, merchant_id: &str, order_id: &str) -> Option<&Order> {
        order_book::order(&self.orders, merchant_id, order_id)
    }

    /// Whether an approved order already carries this id (the gate refuses it).
    pub fn order_taken(&self, merchant_id: &str, order_id: &str) -> bool {
        self.order(merchant_id, order_id)
            .is_some_and(|o| o.approved)
    }

    /// A merchant's orders, oldest first.
    pub fn orders_of(&self, merchant_id: &str) -> Vec<&Order> {
        order_book::orders_of(&self.orders, merchant_id)
    }

    /// End of day for one merchant or all: every unsettled order goes into the merchant's
    /// open batch and a new batch opens. Returns how many orders were settled.
    pub fn settle(&mut self, merchant_id: Option<&str>) -> usize {
        order_book::settle(&mut self.orders, &mut self.stores, merchant_id, |s| {
            &mut s.batch
        })
    }

    /// Records a `3DModel` authentication under its `RequestGuid`, dropping expired ones.
    pub fn register_authentication(&mut self, request_guid: &str, authentication: Authentication) {
        self.authentications.register(request_guid, authentication);
    }

    /// The authentication behind a `RequestGuid` (fault routing, tests).
    pub fn authentication(&self, request_guid: &str) -> Option<&Authentication> {
        self.authentications.get(request_guid)
    }

    /// The merchant an API request belongs to: its `MerchantId`, or for a `3DModelPayment`
    /// the merchant of the authentication its `RequestGuid` names.
    pub fn merchant_of(&self, request: &PayforRequest) -> Option<String> {
        match request.non_empty("MerchantId") {
            Some(merchant) => Some(merchant.to_owned()),
            None => request
                .non_empty("RequestGuid")
                .and_then(|guid| self.authentications.get(guid))
                .map(|a| a.merchant_id.clone()),
        }
    }

    /// Answers one API request.
    pub fn handle(
        &mut self,
        request: &PayforRequest,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Answer {
        let secure_type = request.text("SecureType");
        if secure_type.eq_ignore_ascii_case("3DModelPayment") {
            let result = self.provision_3d(request, now, rng);
            return Answer::Reply(self.answer(result));
        }
        let order_hint = request
            .non_empty("OrderId")
            .or_else(|| request.non_empty("OrgOrderId"))
            .unwrap_or("")
            .to_owned();
        let Some(store) = self.stores.get(request.text("MerchantId")).cloned() else {
            return Answer::Reply(refusal_reply(&order_hint, codes::UNKNOWN_MERCHANT, ""));
        };
        let Some(user) = store
            .user(request.text("UserCode"))
            .filter(|u| u.user_pass == request.text("UserPass"))
            .cloned()
        else {
            return Answer::Reply(refusal_reply(&order_hint, codes::BAD_CREDENTIALS, ""));
        };
        if user.mbr_id != request.text("MbrId") {
            return Answer::Reply(refusal_reply(&order_hint, codes::UNKNOWN_MERCHANT, ""));
        }
        let txn_type = request.text("TxnType");
        let is = |secure: &str, txn: &str| {
            secure_type.eq_ignore_ascii_case(secure) && txn_type.eq_ignore_ascii_case(txn)
        };
        let result = if is("NonSecure", "Auth") {
            self.authorize(&store, &user, request, OrderKind::Sale, now, rng)
        } else if is("NonSecure", "PreAuth") {
            self.authorize(&store, &user, request, OrderKind::PreAuth, now, rng)
        } else if is("NonSecure", "PostAuth") {
            self.post_auth(&store, &user, request, now, rng)
        } else if is("NonSecure", "Void") {
            self.void(&store, &user, request, now, rng)
        } else if is("NonSecure", "Refund") {
            self.refund(&store, &user, request, now, rng)
        } else if is("Inquiry", "OrderInquiry") {
            return Answer::Reply(self.status(&store, &user, request.text("OrgOrderId")));
        } else if is("Report", "TxnHistory") {
            return Answer::History(self.history(&store, &user, request.text("OrderId")));
        } else {
            Err(Refusal::new(&order_hint, codes::BAD_TXN_TYPE))
        };
        Answer::Reply(self.answer(result))
    }

    fn answer(&self, result: Result<Reply, Refusal>) -> Reply {
        match result {
            Ok(reply) => reply,
            Err(refusal) => refusal_reply(&refusal.order_id, refusal.code, &refusal.rrn),
        }
    }

    /// Books a payment the 3D gate provisions itself (`3DPay`, `3DHost`) exactly like an API
    /// `Auth`/`PreAuth`: the answer is the reply the API would have sent.
    pub fn book_gate_payment(
        &mut self,
        merchant_id: &str,
        kind: OrderKind,
        payment: &Payment<'_>,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Reply {
        let Some(store) = self.stores.get(merchant_id).cloned() else {
            return refusal_reply(payment.order_id, codes::UNKNOWN_MERCHANT, "");
        };
        let result = self.book(&store, kind, payment, now, rng);
        self.answer(result)
    }

    fn authorize(
        &mut self,
        store: &Store,
        user: &ApiUser,
        request: &PayforRequest,
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
        let Some(expiry) = parse_expiry(request.text("Expiry")) else {
            return refuse(codes::BAD_EXPIRY);
        };
        // No CVV at all is a card-on-file (stored card) payment, which test merchants
        // allow (as the NestPay simulator does); a CVV that is there must be well-formed.
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
            mbr_id: &user.mbr_id,
            user_code: &user.user_code,
            secure_type: "NonSecure",
            three_ds: None,
        };
        self.book(store, kind, &payment, now, rng)
    }

    /// `3DModelPayment` (see the module rules).
    fn provision_3d(
        &mut self,
        request: &PayforRequest,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Reply, Refusal> {
        let order_id = request.text("OrderId");
        let refuse = |code| Err(Refusal::new(order_id, code));
        let guid = request.text("RequestGuid");
        let Some(authentication) = self.authentications.valid(guid, now).cloned() else {
            return refuse(codes::THREEDS_UNKNOWN_GUID);
        };
        let Some(store) = self.stores.get(&authentication.merchant_id).cloned() else {
            return refuse(codes::UNKNOWN_MERCHANT);
        };
        let Some(user) = store
            .user(request.text("UserCode"))
            .filter(|u| u.user_pass == request.text("UserPass"))
            .cloned()
        else {
            return refuse(codes::BAD_CREDENTIALS);
        };
        if authentication.used {
            return refuse(codes::THREEDS_GUID_USED);
        }
        if authentication.facts.md_status != "1" {
            return refuse(codes::THREEDS_FAILED);
        }
        if order_id != authentication.order_id {
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
            mbr_id: &authentication.mbr_id,
            user_code: &user.user_code,
            secure_type: "3DModel",
            three_ds: Some(authentication.facts.clone()),
        };
        let result = self.book(&store, authentication.kind, &payment, now, rng);
        if result.is_ok()
            && let Some(spent) = self.authentications.get_mut(guid)
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
        let key = (store.merchant_id.clone(), order_id.to_owned());
        if self.orders.get(&key).is_some_and(|o| o.approved) {
            return Err(Refusal::new(order_id, codes::DUPLICATE_ORDER));
        }
        let today = to_local(now, istanbul()).date();
        let decline = if payment.expiry.is_expired_on(today) {
            Some(EXPIRED_CARD)
        } else {
            decline_for_card(payment.pan)
        };
        let ids = self.next_ids(now);
        let txn_kind = match kind {
            OrderKind::Sale => TxnKind::Auth,
            OrderKind::PreAuth => TxnKind::PreAuth,
        };
        let txn = Txn {
            kind: txn_kind,
            amount: payment.amount,
            approved: decline.is_none(),
            code: decline.map_or("00", |d| d.code).to_owned(),
            message: decline.map_or(APPROVED_MESSAGE, |d| d.message).to_owned(),
            auth_code: if decline.is_none() {
                auth_code(rng)
            } else {
                String::new()
            },
            rrn: ids.rrn,
            stan: ids.stan,
            request_guid: ids.request_guid,
            user_code: payment.user_code.to_owned(),
            at: now,
        };
        let approved = txn.approved;
        self.seq += 1;
        let created = self.seq;
        let order = self.orders.entry(key).or_insert_with(|| Order {
            merchant_id: store.merchant_id.clone(),
            order_id: order_id.to_owned(),
            kind,
            currency: payment.currency,
            amount: payment.amount,
            installment: payment.installment,
            pan_masked: String::new(),
            card_type: "",
            holder: String::new(),
            mbr_id: String::new(),
            secure_type: "NonSecure",
            approved: false,
            auth_index: 0,
            post_auth_index: None,
            captured: 0,
            refunded: 0,
            voided_at: None,
            void_target: None,
            void_user: String::new(),
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
        order.card_type = card_type(payment.pan);
        order.holder = payment.holder.to_owned();
        order.mbr_id = payment.mbr_id.to_owned();
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
        Ok(payment_reply(order_id, &txn, payment.holder))
    }

    fn post_auth(
        &mut self,
        store: &Store,
        user: &ApiUser,
        request: &PayforRequest,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Reply, Refusal> {
        let order_id = request.text("OrgOrderId");
        let key = (store.merchant_id.clone(), order_id.to_owned());
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
                Ok(payment_reply(order_id, &txn, ""))
            }
            Err((code, amount)) => {
                let txn = refused_txn(TxnKind::PostAuth, amount, code, ids, user, now);
                let refusal = Refusal::booked(order_id, code, &txn);
                order.transactions.push(txn);
                Err(refusal)
            }
        }
    }

    fn void(
        &mut self,
        store: &Store,
        user: &ApiUser,
        request: &PayforRequest,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Reply, Refusal> {
        let order_id = request.text("OrgOrderId");
        let key = (store.merchant_id.clone(), order_id.to_owned());
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
            let txn = refused_txn(TxnKind::Void, amount, codes::NOT_VOIDABLE, ids, user, now);
            let refusal = Refusal::booked(order_id, codes::NOT_VOIDABLE, &txn);
            order.transactions.push(txn);
            return Err(refusal);
        }
        let txn = approved_txn(TxnKind::Void, amount, ids, user, now, rng);
        order.void_target = Some(order.post_auth_index.unwrap_or(order.auth_index));
        order.voided_at = Some(now);
        order.void_user = user.user_code.clone();
        order.transactions.push(txn.clone());
        Ok(payment_reply(order_id, &txn, ""))
    }

    fn refund(
        &mut self,
        store: &Store,
        user: &ApiUser,
        request: &PayforRequest,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<Reply, Refusal> {
        let order_id = request.text("OrgOrderId");
        let key = (store.merchant_id.clone(), order_id.to_owned());
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
            let txn = refused_txn(TxnKind::Refund, amount, code, ids, user, now);
            let refusal = Refusal::booked(order_id, code, &txn);
            order.transactions.push(txn);
            return Err(refusal);
        }
        let txn = approved_txn(TxnKind::Refund, amount, ids, user, now, rng);
        order.refunded += amount;
        order.transactions.push(txn.clone());
        Ok(payment_reply(order_id, &txn, ""))
    }

    /// `OrderInquiry` (vectors P5.11–P5.16).
    fn status(&self, store: &Store, user: &ApiUser, order_id: &str) -> Reply {
        let Some(order) = self.order(&store.merchant_id, order_id) else {
            let mut reply = Reply::new();
            reply
                .push("RequestGuid", "0")
                .push("InsertDatetime", "1.01.0001 00:00:00")
                .push("MbrId", user.mbr_id.as_str())
                .push("MerchantID", store.merchant_id.as_str())
                .push("OrderId", order_id)
                .push("SecureType", "Inquiry")
                .push("PurchAmount", "")
                .push("Exponent", "2")
                .push("Currency", "949")
                .push("TerminalID", terminal_id(&store.merchant_id))
                .push("TxnType", "OrderInquiry")
                .push("OrgOrderId", order_id)
                .push("IrcDet", codes::NOT_FOUND.message)
                .push("IrcCode", "99961")
                .push("TxnStatus", "P")
                .push("ErrMsg", codes::NOT_FOUND.message)
                .push("D3Status", "-1")
                .push("TxnResult", "")
                .push("AuthCode", "")
                .push("HostRefNum", "")
                .push("ProcReturnCode", codes::NOT_FOUND.code)
                .push("BatchNo", store.batch.to_string())
                .push("PAYFORFROMXMLREQUEST", "1");
            return reply;
        };
        let (index, txn_type, org_order_id) = match order.post_auth_index {
            Some(index) => (index, "PostAuth", order.order_id.as_str()),
            None => (order.auth_index, order.kind.as_str(), ""),
        };
        let Some(txn) = order.transactions.get(index) else {
            return refusal_reply(order_id, codes::INTERNAL, "");
        };
        let voided = order.voided_at.is_some();
        let status = if !txn.approved {
            "N"
        } else if voided {
            "V"
        } else {
            "Y"
        };
        let local = to_local(txn.at, istanbul());
        let void_local = order.voided_at.map(|at| to_local(at, istanbul()));
        let amount = |minor| amount_text(minor, order.currency);
        let mut reply = Reply::new();
        reply
            .push("RequestGuid", txn.request_guid.as_str())
            .push(
                "InsertDatetime",
                local.format("%d.%m.%Y %H:%M:%S").to_string(),
            )
            .push("MbrId", order.mbr_id.as_str())
            .push("MerchantID", order.merchant_id.as_str())
            .push("OrderId", order.order_id.as_str())
            .push("RequestStat", "1,10")
            .push("SecureType", order.secure_type)
            .push("PurchAmount", amount(txn.amount))
            .push("Exponent", order.currency.minor_units().to_string())
            .push("Currency", order.currency.numeric_code())
            .push("Eci", three_ds(order, |f| &f.eci))
            .push("TerminalID", terminal_id(&order.merchant_id))
            .push("TxnType", txn_type)
            .push("OrgOrderId", org_order_id)
            .push("CardType", order.card_type)
            .push("Lang", "TR")
            .push("InstallmentCount", installment_text(order.installment))
            .push("AlphaCode", alpha_code(order.currency))
            .push("CardHolderName", order.holder.as_str())
            .push("TxnStatus", status)
            .push("ErrMsg", txn.message.as_str())
            .push("D3Status", {
                let md = three_ds(order, |f| &f.md_status);
                if md.is_empty() { "-1".to_owned() } else { md }
            })
            .push("TxnResult", if txn.approved { "Success" } else { "Failed" })
            .push("AuthCode", txn.auth_code.as_str())
            .push("HostRefNum", "")
            .push("ProcReturnCode", txn.code.as_str())
            .push(
                "BatchNo",
                order.settled_batch.unwrap_or(store.batch).to_string(),
            )
            .push(
                "VoidDate",
                void_local.map_or(String::new(), |v| v.format("%Y%m%d").to_string()),
            )
            .push("CardMask", order.pan_masked.as_str())
            .push("RefundedAmount", amount(order.refunded))
            .push("ReqDate", local.format("%Y%m%d").to_string())
            .push("SysDate", local.format("%Y%m%d").to_string())
            .push("F11", txn.stan.to_string())
            .push("F37", txn.rrn.as_str())
            .push(
                "VoidTime",
                void_local.map_or("0".to_owned(), |v| v.format("%H%M%S").to_string()),
            )
            .push("VoidUserCode", order.void_user.as_str())
            .push("PAYFORFROMXMLREQUEST", "1")
            .push("IsVoided", bool_text(voided))
            .push("IsRefunded", bool_text(order.refunded > 0))
            .push("TrxDate", local.format("%d.%m.%Y %H:%M").to_string())
            .push("ReturnMessage", txn.message.as_str());
        reply
    }

    /// `TxnHistory` by order (vectors S5.3, P5.21–P5.24).
    fn history(&self, store: &Store, user: &ApiUser, order_id: &str) -> Vec<HistoryRecord> {
        let Some(order) = self.order(&store.merchant_id, order_id) else {
            let fields = [
                ("RequestGuid", "0".to_owned()),
                ("status", "0".to_owned()),
                ("InsertDatetime", "0001-01-01T00:00:00".to_owned()),
                ("MbrId", user.mbr_id.clone()),
                ("MerchantID", store.merchant_id.clone()),
                ("OrderId", order_id.to_owned()),
                ("SecureType", "Report".to_owned()),
                ("TxnAmount", "0".to_owned()),
                ("Exponent", "2".to_owned()),
                ("Currency", "949".to_owned()),
                ("UserCode", user.user_code.clone()),
                ("TerminalID", terminal_id(&store.merchant_id)),
                ("TxnType", "TxnHistory".to_owned()),
                ("OrgOrderId", order_id.to_owned()),
                ("IrcDet", codes::NOT_FOUND.message.to_owned()),
                ("IrcCode", "99961".to_owned()),
                ("TxnStatus", "P".to_owned()),
                ("ErrMsg", codes::NOT_FOUND.message.to_owned()),
                ("TxnResult", "Failed".to_owned()),
                ("ProcReturnCode", codes::NOT_FOUND.code.to_owned()),
                ("BatchNo", store.batch.to_string()),
            ];
            return vec![HistoryRecord {
                fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                extra: vec![("PAYFORFROMXMLREQUEST".into(), "1".into())],
            }];
        };
        order
            .transactions
            .iter()
            .enumerate()
            .map(|(index, txn)| history_record(store, order, index, txn))
            .collect()
    }

    fn next_ids(&mut self, now: DateTime<Utc>) -> Ids {
        self.seq += 1;
        let local = to_local(now, istanbul());
        let stan = u32::try_from(self.seq % 1_000_000).unwrap_or(0);
        Ids {
            stan,
            rrn: rrn(local, stan),
            request_guid: format!("{}", 1_000_000_000_000_000u64 + self.seq),
        }
    }

    /// A fresh `RequestGuid` (the 3D gate stamps one on every session it finishes).
    pub fn next_request_guid(&mut self, now: DateTime<Utc>) -> Ids {
        self.next_ids(now)
    }
}

/// One history record (vector S5.3 layout).
fn history_record(store: &Store, order: &Order, index: usize, txn: &Txn) -> HistoryRecord {
    let local = to_local(txn.at, istanbul());
    let voided_here = order.void_target == Some(index);
    let status = if !txn.approved {
        "N"
    } else if voided_here {
        "V"
    } else {
        "Y"
    };
    let follow_up = matches!(
        txn.kind,
        TxnKind::PostAuth | TxnKind::Void | TxnKind::Refund
    );
    let org_txn_type = match txn.kind {
        TxnKind::PostAuth | TxnKind::Refund => order.kind.as_str().to_owned(),
        TxnKind::Void => order
            .void_target
            .and_then(|i| order.transactions.get(i))
            .map_or(order.kind.as_str(), |t| t.kind.as_str())
            .to_owned(),
        TxnKind::Auth | TxnKind::PreAuth => String::new(),
    };
    let amount = amount_text(txn.amount, order.currency);
    let void_date = if voided_here {
        order
            .voided_at
            .map(|at| to_local(at, istanbul()).format("%Y%m%d").to_string())
            .unwrap_or_default()
    } else {
        String::new()
    };
    let fields: Vec<(&str, String)> = vec![
        ("UseExistingDataWhenInserting", "false".into()),
        ("RequestGuid", txn.request_guid.clone()),
        ("status", "1".into()),
        (
            "InsertDatetime",
            local.format("%Y-%m-%dT%H:%M:%S").to_string(),
        ),
        ("MbrId", order.mbr_id.clone()),
        ("MerchantID", order.merchant_id.clone()),
        ("OrderId", order.order_id.clone()),
        (
            "SecureType",
            if follow_up {
                "NonSecure"
            } else {
                order.secure_type
            }
            .into(),
        ),
        ("PurchAmount", amount.clone()),
        ("TxnAmount", amount.clone()),
        ("Exponent", order.currency.minor_units().to_string()),
        ("Currency", order.currency.numeric_code().into()),
        ("UserCode", txn.user_code.clone()),
        ("TerminalID", terminal_id(&order.merchant_id)),
        ("TxnType", txn.kind.as_str().into()),
        ("MOTO", if follow_up { String::new() } else { "0".into() }),
        (
            "OrgOrderId",
            if follow_up {
                order.order_id.clone()
            } else {
                String::new()
            },
        ),
        ("CardType", order.card_type.into()),
        ("Lang", "TR".into()),
        ("InstallmentCount", installment_text(order.installment)),
        ("AlphaCode", alpha_code(order.currency).into()),
        (
            "CardHolderName",
            if follow_up {
                String::new()
            } else {
                order.holder.clone()
            },
        ),
        ("TxnStatus", status.into()),
        ("ErrMsg", txn.message.clone()),
        (
            "TxnResult",
            if txn.approved { "Success" } else { "Failed" }.into(),
        ),
        ("AuthCode", txn.auth_code.clone()),
        ("HostRefNum", String::new()),
        ("ProcReturnCode", txn.code.clone()),
        (
            "BatchNo",
            order.settled_batch.unwrap_or(store.batch).to_string(),
        ),
        ("VoidDate", void_date),
        ("CardMask", order.pan_masked.clone()),
        (
            "RefundedAmount",
            if txn.kind == TxnKind::Refund {
                amount
            } else {
                "0".into()
            },
        ),
        ("ReqDate", local.format("%Y%m%d").to_string()),
        ("SysDate", local.format("%Y%m%d").to_string()),
        ("F11", txn.stan.to_string()),
        ("F37", txn.rrn.clone()),
        ("OrgTxnType", org_txn_type),
    ];
    HistoryRecord {
        fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        extra: vec![
            (
                "IsBatchClosed".into(),
                if order.settled { "True" } else { "False" }.into(),
            ),
            ("SettlementDate".into(), String::new()),
        ],
    }
}

/// `CurrencyNumeric`, `PurchAmount`, `InstallmentCount` of a sale, pre-auth or 3D form.
pub(crate) fn parse_terms(
    currency: &str,
    amount: &str,
    installment: &str,
) -> Result<(Currency, i64, u32), Code> {
    let currency = Currency::from_numeric_code(currency).ok_or(codes::BAD_CURRENCY)?;
    let amount = parse_amount(amount, currency).ok_or(codes::BAD_AMOUNT)?;
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

/// `InstallmentCount` as the bank echoes it: `0` for one payment.
pub(crate) fn installment_text(installment: u32) -> String {
    if installment <= 1 {
        "0".into()
    } else {
        installment.to_string()
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

/// `415565******6111`: first six and last four digits.
pub(crate) fn mask_pan(pan: &str) -> String {
    let len = pan.len();
    pan.chars()
        .enumerate()
        .map(|(i, c)| if i < 6 || i + 4 >= len { c } else { '*' })
        .collect()
}

/// `CardType` from the card number: `V`isa, `M`astercard, `T`roy, `A`mex.
pub(crate) fn card_type(pan: &str) -> &'static str {
    match card_brand(pan) {
        "VISA" => "V",
        "MASTERCARD" => "M",
        "TROY" => "T",
        "AMEX" => "A",
        _ => "",
    }
}

/// `AlphaCode`: `TL` for the lira, else the ISO code.
pub(crate) fn alpha_code(currency: Currency) -> &'static str {
    if currency == Currency::Try {
        "TL"
    } else {
        currency.code()
    }
}

/// `TerminalID`: `VS` and six digits of the merchant number (`VS010481` on the test host).
pub(crate) fn terminal_id(merchant_id: &str) -> String {
    let digits: String = merchant_id.chars().filter(char::is_ascii_digit).collect();
    let tail = &digits[digits.len().saturating_sub(6)..];
    format!("VS{tail:0>6}")
}

/// An amount as the bank writes it: major units, `.`, trailing zeros dropped (`1.01`, `0`).
pub(crate) fn amount_text(minor: i64, currency: Currency) -> String {
    format_decimal_trimmed(MinorUnits::from_stored(minor), currency)
}

fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

fn three_ds(order: &Order, pick: fn(&ThreeDsFacts) -> &String) -> String {
    order
        .three_ds
        .as_ref()
        .map(pick)
        .cloned()
        .unwrap_or_default()
}

/// `HostRefNum` like `230422096719`: last digit of the year, day of year, hour, then the
/// six-digit trace number (vectors P5.1, P5.6: `F11` 98249 → `230422098249`).
pub(crate) fn rrn(local: NaiveDateTime, stan: u32) -> String {
    format!(
        "{}{:03}{:02}{:06}",
        local.year().rem_euclid(10),
        local.ordinal(),
        local.hour(),
        stan
    )
}

/// Six-character auth code: `S` and five digits, as the test host's (`S77788`).
fn auth_code(rng: &mut impl Rng) -> String {
    format!("S{:05}", rng.gen_range(0..100_000u32))
}

fn approved_txn(
    kind: TxnKind,
    amount: i64,
    ids: Ids,
    user: &ApiUser,
    now: DateTime<Utc>,
    rng: &mut impl Rng,
) -> Txn {
    Txn {
        kind,
        amount,
        approved: true,
        code: "00".into(),
        message: APPROVED_MESSAGE.into(),
        auth_code: auth_code(rng),
        rrn: ids.rrn,
        stan: ids.stan,
        request_guid: ids.request_guid,
        user_code: user.user_code.clone(),
        at: now,
    }
}

fn refused_txn(
    kind: TxnKind,
    amount: i64,
    code: Code,
    ids: Ids,
    user: &ApiUser,
    now: DateTime<Utc>,
) -> Txn {
    Txn {
        kind,
        amount,
        approved: false,
        code: code.code.into(),
        message: code.message.into(),
        auth_code: String::new(),
        rrn: ids.rrn,
        stan: ids.stan,
        request_guid: ids.request_guid,
        user_code: user.user_code.clone(),
        at: now,
    }
}

/// The PostAuth rules; the amount to capture, or the refusal with the amount asked for.
fn check_post_auth(order: &Order, request: &PayforRequest) -> Result<i64, (Code, i64)> {
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
    if asked > order.amount {
        return Err((codes::OVER_CAPTURE, asked));
    }
    Ok(asked)
}

/// A payment-style reply (vector S5.2 layout): sale, pre-auth, post-auth, void, refund and
/// 3D provision answers, approved or declined by the issuer.
pub fn payment_reply(order_id: &str, txn: &Txn, holder: &str) -> Reply {
    let mut reply = Reply::new();
    reply
        .push("AuthCode", txn.auth_code.as_str())
        .push("HostRefNum", txn.rrn.as_str())
        .push("ProcReturnCode", txn.code.as_str())
        .push("TransId", order_id)
        .push("ErrMsg", txn.message.as_str())
        .push("CardHolderName", holder)
        .push("ArtiTaksit", "0")
        .push("BankInternalResponseMessage", "")
        .push("PAYFORFROMXMLREQUEST", "1")
        .push("SESSION_SYSTEM_USER", "0");
    reply
}

/// A refusal in the payment reply layout (vectors P5.2, P5.3, P5.18, P5.19).
pub fn refusal_reply(order_id: &str, code: Code, rrn: &str) -> Reply {
    let mut reply = Reply::new();
    reply
        .push("AuthCode", "")
        .push("HostRefNum", rrn)
        .push("ProcReturnCode", code.code)
        .push("TransId", order_id)
        .push("ErrMsg", code.message)
        .push("CardHolderName", "")
        .push("ArtiTaksit", "0")
        .push("BankInternalResponseMessage", "")
        .push("PAYFORFROMXMLREQUEST", "1")
        .push("SESSION_SYSTEM_USER", "0");
    reply
}

impl Order {
    /// The admin view (`GET /payfor/_sim/orders/...`), in the NestPay simulator's shape.
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
            client_id: self.merchant_id.clone(),
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
                    trans_id: t.request_guid.clone(),
                    proc_return_code: t.code.clone(),
                    error_code: if t.approved {
                        String::new()
                    } else {
                        t.code.clone()
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
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const MERCHANT: &str = "085300000009704";

    fn books() -> Books {
        let mut b = Books::new();
        b.put_store(
            MERCHANT,
            "5",
            "QNB_API_KULLANICI_3DPAY",
            "UcBN0",
            "12345678",
        );
        b
    }

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2022, 10, 31, h, m, s).unwrap()
    }

    fn request(fields: &[(&str, &str)]) -> PayforRequest {
        let mut all = vec![
            ("MerchantId", MERCHANT),
            ("UserCode", "QNB_API_KULLANICI_3DPAY"),
            ("UserPass", "UcBN0"),
            ("MbrId", "5"),
        ];
        all.extend_from_slice(fields);
        PayforRequest::from_pairs(&all)
    }

    fn sale(order: &str, amount: &str, kind: &str) -> PayforRequest {
        request(&[
            ("OrderId", order),
            ("SecureType", "NonSecure"),
            ("TxnType", kind),
            ("PurchAmount", amount),
            ("Currency", "949"),
            ("InstallmentCount", "0"),
            ("Pan", "4155650100416111"),
            ("Expiry", "1230"),
            ("Cvv2", "123"),
        ])
    }

    fn code(answer: &Answer) -> String {
        answer.code().to_owned()
    }

    #[test]
    fn ids_look_like_the_banks() {
        let mut b = books();
        let mut rng = StdRng::seed_from_u64(7);
        let Answer::Reply(reply) = b.handle(&sale("o-1", "1.01", "Auth"), at(19, 34, 18), &mut rng)
        else {
            panic!("not a reply")
        };
        assert_eq!(reply.field("ProcReturnCode"), Some("00"));
        assert_eq!(reply.field("TransId"), Some("o-1"));
        assert_eq!(reply.field("ErrMsg"), Some("Onaylandı"));
        let auth = reply.field("AuthCode").unwrap();
        assert!(auth.starts_with('S') && auth.len() == 6, "{auth}");
        // Bank-local 22:34 on day 304 of 2022.
        let rrn = reply.field("HostRefNum").unwrap();
        assert!(rrn.starts_with("230422") && rrn.len() == 12, "{rrn}");
        let order = b.order(MERCHANT, "o-1").unwrap();
        assert_eq!(order.pan_masked, "415565******6111");
        assert_eq!(order.card_type, "V");
        assert_eq!(order.transactions[0].request_guid.len(), 16);
        assert_eq!(terminal_id(MERCHANT), "VS009704");
    }

    #[test]
    fn post_auth_rules() {
        let mut b = books();
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(
            code(&b.handle(&sale("p", "2.01", "PreAuth"), at(10, 0, 0), &mut rng)),
            "00"
        );
        let post = |amount: &str| {
            request(&[
                ("OrgOrderId", "p"),
                ("SecureType", "NonSecure"),
                ("TxnType", "PostAuth"),
                ("PurchAmount", amount),
                ("Currency", "949"),
            ])
        };
        let answer = b.handle(&post("2.02"), at(10, 1, 0), &mut rng);
        assert_eq!(code(&answer), "V015");
        assert_eq!(
            b.order(MERCHANT, "p").unwrap().transactions.len(),
            2,
            "the refusal is recorded"
        );
        assert_eq!(code(&b.handle(&post("1.50"), at(10, 2, 0), &mut rng)), "00");
        assert_eq!(b.order(MERCHANT, "p").unwrap().captured, 150);
        assert_eq!(
            code(&b.handle(&post("1.50"), at(10, 3, 0), &mut rng)),
            "V015"
        );
    }

    #[test]
    fn history_marks_the_voided_transaction() {
        let mut b = books();
        let mut rng = StdRng::seed_from_u64(2);
        b.handle(&sale("h", "1.01", "PreAuth"), at(10, 0, 0), &mut rng);
        b.handle(
            &request(&[
                ("OrgOrderId", "h"),
                ("SecureType", "NonSecure"),
                ("TxnType", "PostAuth"),
                ("PurchAmount", "1.01"),
            ]),
            at(10, 1, 0),
            &mut rng,
        );
        b.handle(
            &request(&[
                ("OrgOrderId", "h"),
                ("SecureType", "NonSecure"),
                ("TxnType", "Void"),
            ]),
            at(10, 2, 0),
            &mut rng,
        );
        let Answer::History(records) = b.handle(
            &request(&[
                ("OrderId", "h"),
                ("SecureType", "Report"),
                ("TxnType", "TxnHistory"),
            ]),
            at(10, 3, 0),
            &mut rng,
        ) else {
            panic!("not a history")
        };
        let get = |r: &HistoryRecord, name: &str| {
            r.fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        let summary: Vec<(String, String)> = records
            .iter()
            .map(|r| (get(r, "TxnType"), get(r, "TxnStatus")))
            .collect();
        assert_eq!(
            summary,
            [
                ("PreAuth".into(), "Y".into()),
                ("PostAuth".into(), "V".into()),
                ("Void".into(), "Y".into()),
            ]
        );
        assert_eq!(get(&records[2], "OrgTxnType"), "PostAuth");
    }

    #[test]
    fn formats_parse_like_the_bank() {
        assert_eq!(parse_installment("", Currency::Try), Some(1));
        assert_eq!(parse_installment("0", Currency::Usd), Some(1));
        assert_eq!(parse_installment("12", Currency::Try), Some(12));
        assert_eq!(parse_installment("3", Currency::Usd), None);
        assert_eq!(parse_installment("13", Currency::Try), None);
        assert_eq!(parse_installment("+3", Currency::Try), None);
        assert!(parse_expiry("0130").is_some());
        assert!(parse_expiry("1330").is_none());
        assert!(parse_expiry("01/30").is_none());
        assert!(valid_pan("4155650100416111"));
        assert!(!valid_pan("4155650100416112"));
        assert!(valid_cvv("000") && !valid_cvv("12"));
        assert_eq!(amount_text(101, Currency::Try), "1.01");
        assert_eq!(amount_text(0, Currency::Try), "0");
        assert_eq!(alpha_code(Currency::Usd), "USD");
        let local =
            NaiveDateTime::parse_from_str("2022-10-31 22:34:18", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(rrn(local, 98_249), "230422098249");
        assert!(!format!("{:?}", books()).contains("UcBN0"));
    }
}
