//! The bank's books: merchants (terminals), orders and their transactions, and the rules
//! the simulator enforces on them, modelled on Garanti's GVPS.
//!
//! Everything here is synchronous and pure apart from the clock value and the random
//! source passed in, so the HTTP layer holds the lock only for one call and never across an
//! `.await`. Codes are in [`super::codes`].
//!
//! Every request, in this order:
//!
//! * `Terminal.MerchantID` must name a merchant and `Terminal.ID` be its terminal, else
//!   `0752`. `Mode` must be `TEST` or `PROD`, `Version` `512` (SHA-512 `HashData`) or the
//!   legacy `v0.01`/`v0.00` (SHA-1), else `0002`.
//! * `ProvUserID` (= `UserID`) must be the terminal's provision user (`PROVAUT`) for
//!   `sales`, `preauth`, `postauth`, its refund user (`PROVRFN`) for `void` and `refund`,
//!   either for the inquiries (`0654` otherwise). `HashData` must verify with that user's
//!   password (`0651`).
//! * `Customer.IPAddress` is mandatory (`0002`, the bank's own rule text, P2.21).
//!
//! Operations:
//!
//! * `sales` (captured at once) and `preauth`: `OrderID` 1–36 of `[A-Za-z0-9_-]`;
//!   `Card.Number` 12–19 digits, `ExpireDate` `MMYY`, `CVV2` 3–4 digits when present (empty:
//!   a card-on-file payment with a stored card, which test terminals allow); `CurrencyCode` one
//!   Garanti prices (949, 840, 978, 826, 392, 643); `Amount` an integer of hundredths > 0;
//!   `InstallmentCnt` empty/0/1 or 2..12 and only in TRY (`0605`). Format errors are `0002`
//!   and book nothing. An `OrderID` whose order was approved is refused (`0104`); one whose
//!   earlier attempt was declined may be retried. Issuer declines are booked (the order's
//!   status shows `DECLINED`): a Luhn-invalid number `14`, an expired card `54`, the
//!   Craftgate decline cards their ISO codes.
//! * 3D provision (`CardholderPresentCode=13` or a `Secure3D` block, vector R2.7): no card;
//!   `Secure3D.Md` must be an authentication the gate completed for this terminal less than
//!   [`AUTHENTICATION_TTL`] ago (`0801`), not yet provisioned (`0802`), with `mdstatus` 1–4
//!   (`0803`: Garanti provisions half-secure 2/3/4 as the reference policy accepts them),
//!   and `OrderID`, `Type`, `Amount`, `CurrencyCode`, `TxnID` (xid), `SecurityLevel` (eci)
//!   and `AuthenticationCode` (cavv) equal to the authentication's (`0804`). The card behind
//!   the `Md` is then charged like a card payment; the `Md` is spent once booked.
//! * `postauth`: only on an approved, unvoided pre-authorisation, once (`0301`, `0302`);
//!   `OriginalRetrefNum` must be the pre-authorisation's (`0303`), `CurrencyCode` the
//!   order's (`0304`); `Amount` above the pre-authorised amount is declined by the host with
//!   `13` (the simulator allows no margin above).
//! * `void`: only before end of day, on an approved, unvoided order (`0202`);
//!   `OriginalRetrefNum` must be one of the order's approved sale, pre-auth or post-auth
//!   transactions (`0303`); it cancels the whole order. `Amount` is the fixed `100`.
//! * `refund`: only on an approved, unvoided order with something captured (`0208`), after
//!   end of day (`0209`), never above what is left (`0210`); `OriginalRetrefNum`, when
//!   sent, must be the sale's or the post-auth's (`0303`), `CurrencyCode` the order's
//!   (`0304`). Refused refunds on an existing order are booked as failed lines, as the
//!   real history shows them (P2.17).
//! * `orderinq`: the order in the shape of P2.11/P2.12, `0110` for an unknown order (P2.13).
//!   `Status`: `WAITINGPOSTAUTH` (open pre-auth), `APPROVED` (sale or captured pre-auth),
//!   `VOID`, `REFUNDED` / `PARTIALREFUNDED` (the simulator's names for a fully / partly
//!   refunded order), `DECLINED`. `RetrefNum` is the latest approved sale, pre-auth or
//!   post-auth (the declined attempt's for a declined order).
//! * `orderhistoryinq`: one `OrderTxn` per transaction, oldest first, in the shape of
//!   P2.16/P2.17 (`Status` `00`/`01`, amounts in hundredths, `CurrencyCode` `0` on failed
//!   lines); `0108` for an unknown order (P2.18).
//!
//! `HashData` of an answer is the simulator's choice (`HEX(SHA512(OrderID || RetrefNum ||
//! Code || SecurityData))`); the real bank's formula is not published and no client checks it.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Timelike, Utc};
use domain::card::{Expiry, luhn_valid};
use domain::clock::{istanbul, to_local};
use domain::money::Currency;
use rand::Rng;

use super::codes::{self, GvpsError, Refusal};
use super::hash;
use super::wire::{GvpsRequest, GvpsResponse, ResponseBlock};
use crate::nestpay::books::{OrderView, TxnView};
use crate::nestpay::threeds::ThreeDsFacts;
use crate::order_book::{self, Authentications, Orders};

/// One merchant terminal and its two API users.
#[derive(Debug, Clone)]
pub struct Merchant {
    /// `MerchantID` / `terminalmerchantid`: the key of the admin API's `clientId`.
    pub merchant_id: String,
    pub terminal_id: String,
    pub prov_user: String,
    pub prov_password: String,
    pub refund_user: String,
    pub refund_password: String,
    /// 3D store key, for the gate.
    pub store_key: String,
    /// End-of-day batch currently open (`BatchNum`).
    pub batch: u32,
}

/// What an order was opened with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    Sale,
    PreAuth,
}

impl OrderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Sale => "sales",
            OrderKind::PreAuth => "preauth",
        }
    }

    pub fn parse(raw: &str) -> Option<OrderKind> {
        match raw {
            "sales" => Some(OrderKind::Sale),
            "preauth" => Some(OrderKind::PreAuth),
            _ => None,
        }
    }
}

/// The transaction types the simulator books.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnKind {
    Sales,
    PreAuth,
    PostAuth,
    Void,
    Refund,
}

impl TxnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TxnKind::Sales => "sales",
            TxnKind::PreAuth => "preauth",
            TxnKind::PostAuth => "postauth",
            TxnKind::Void => "void",
            TxnKind::Refund => "refund",
        }
    }

    /// A sale, pre-auth or post-auth: what a void cancels.
    fn is_sale_leg(self) -> bool {
        matches!(self, TxnKind::Sales | TxnKind::PreAuth | TxnKind::PostAuth)
    }
}

/// One request the bank answered on an order.
#[derive(Debug, Clone)]
pub struct Txn {
    pub kind: TxnKind,
    /// Minor units.
    pub amount: i64,
    pub approved: bool,
    pub code: String,
    pub reason_code: String,
    pub auth_code: String,
    pub retref_num: String,
    pub sequence_num: String,
    pub batch: u32,
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
    pub card_type: &'static str,
    pub approved: bool,
    /// Index in `transactions` of the current sale/pre-auth attempt.
    pub auth_index: usize,
    pub captured: i64,
    pub captured_at: Option<DateTime<Utc>>,
    pub post_authorised: bool,
    pub refunded: i64,
    pub voided_at: Option<DateTime<Utc>>,
    pub settled: bool,
    pub transactions: Vec<Txn>,
    pub three_ds: Option<ThreeDsFacts>,
    created: u64,
}

impl Order {
    fn auth_txn(&self) -> Option<&Txn> {
        self.transactions.get(self.auth_index)
    }

    /// The latest approved sale-leg transaction (what `RetrefNum` of a status shows).
    fn latest_leg(&self) -> Option<&Txn> {
        self.transactions
            .iter()
            .rev()
            .find(|t| t.approved && t.kind.is_sale_leg())
    }
}

/// How long a 3D authentication's `Md` can be provisioned.
pub const AUTHENTICATION_TTL: chrono::Duration = chrono::Duration::minutes(10);

/// A `3D`-model authentication the gate completed, waiting for its provision (keyed by its
/// `Md`). Holds the card in clear: it lives only in the simulator's memory.
#[derive(Clone)]
pub struct Authentication {
    pub merchant_id: String,
    pub order_id: String,
    pub kind: OrderKind,
    pub amount: i64,
    pub currency: Currency,
    pub installment: u32,
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
    pub currency: Currency,
    pub amount: i64,
    pub installment: u32,
    pub three_ds: Option<ThreeDsFacts>,
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
    // Garanti keeps no batch number on the order.
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
    merchants: HashMap<String, Merchant>,
    orders: Orders<Order>,
    authentications: Authentications<Authentication>,
    seq: u64,
}

/// Identifiers the bank stamps on a transaction.
struct Ids {
    retref_num: String,
    sequence_num: String,
}

/// What is echoed back of a request.
#[derive(Debug, Clone, Default)]
pub struct Echo {
    pub prov_user: String,
    pub user: String,
    pub terminal_id: String,
    pub merchant_id: String,
    pub ip: String,
    pub order_id: String,
}

impl Echo {
    pub fn of(request: &GvpsRequest) -> Echo {
        Echo {
            prov_user: request.text("Terminal/ProvUserID").to_owned(),
            user: request.text("Terminal/UserID").to_owned(),
            terminal_id: request.text("Terminal/ID").to_owned(),
            merchant_id: request.text("Terminal/MerchantID").to_owned(),
            ip: request.text("Customer/IPAddress").to_owned(),
            order_id: request.text("Order/OrderID").to_owned(),
        }
    }
}

/// Which user an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Provision,
    Refund,
    Either,
}

type Answer = Result<GvpsResponse, Refusal>;

impl Books {
    pub fn new() -> Books {
        Books {
            // Real sequence numbers are far from zero; start somewhere plausible.
            seq: 300_400,
            ..Books::default()
        }
    }

    /// Adds a merchant, or replaces its credentials (its orders are kept).
    pub fn put_merchant(&mut self, mut merchant: Merchant) {
        merchant.batch = self
            .merchants
            .get(&merchant.merchant_id)
            .map_or(4951, |m| m.batch);
        self.merchants
            .insert(merchant.merchant_id.clone(), merchant);
    }

    pub fn merchant(&self, merchant_id: &str) -> Option<&Merchant> {
        self.merchants.get(merchant_id)
    }

    pub fn order(&self, merchant_id: &str, order_id: &str) -> Option<&Order> {
        order_book::order(&self.orders, merchant_id, order_id)
    }

    /// A merchant's orders, oldest first.
    pub fn orders_of(&self, merchant_id: &str) -> Vec<&Order> {
        order_book::orders_of(&self.orders, merchant_id)
    }

    /// End of day for one merchant or all: unsettled orders settle and a new batch opens.
    /// Returns how many orders were settled.
    pub fn settle(&mut self, merchant_id: Option<&str>) -> usize {
        order_book::settle(&mut self.orders, &mut self.merchants, merchant_id, |s| {
            &mut s.batch
        })
    }

    /// Records a `3D`-model authentication under its `Md`, dropping expired ones.
    pub fn register_authentication(&mut self, md: &str, authentication: Authentication) {
        self.authentications.register(md, authentication);
    }

    pub fn authentication(&self, md: &str) -> Option<&Authentication> {
        self.authentications.get(md)
    }

    /// Answers one API request.
    pub fn handle(
        &mut self,
        request: &GvpsRequest,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> GvpsResponse {
        let echo = Echo::of(request);
        let result = self.dispatch(request, &echo, now, rng);
        let merchant = self.merchants.get(&echo.merchant_id).cloned();
        let mut response = match result {
            Ok(response) => response,
            Err(refusal) => refused_response(&refusal),
        };
        fill(&mut response, &echo, merchant.as_ref());
        if response.prov_date.is_empty() {
            response.prov_date = prov_date(now);
        }
        response
    }

    fn dispatch(
        &mut self,
        request: &GvpsRequest,
        echo: &Echo,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Answer {
        let Some(merchant) = self
            .merchants
            .get(&echo.merchant_id)
            .filter(|m| m.terminal_id == echo.terminal_id)
            .cloned()
        else {
            return Err(codes::UNKNOWN_TERMINAL.refusal());
        };
        if !matches!(request.text("Mode"), "TEST" | "PROD") {
            return Err(codes::mandatory(
                "Mode field must be TEST or PROD because of the Mandatory Rule",
            ));
        }
        let legacy = match request.text("Version") {
            "512" => false,
            "v0.01" | "v0.00" => true,
            _ => return Err(codes::mandatory("Version field is invalid")),
        };
        let kind = request.text("Transaction/Type");
        let role = match kind {
            "sales" | "preauth" | "postauth" => Role::Provision,
            "void" | "refund" => Role::Refund,
            "orderinq" | "orderhistoryinq" => Role::Either,
            _ => return Err(codes::mandatory("Transaction Type field is invalid")),
        };
        let password = user_password(&merchant, echo, role)?;
        let security = hash::security_data(password, &merchant.terminal_id);
        let expected = hash::api(
            legacy,
            request.field("Order/OrderID").unwrap_or_default(),
            request.field("Terminal/ID").unwrap_or_default(),
            request.field("Card/Number").unwrap_or_default(),
            request.field("Transaction/Amount").unwrap_or_default(),
            request
                .field("Transaction/CurrencyCode")
                .unwrap_or_default(),
            &security,
        );
        let posted = request.text("Terminal/HashData").to_ascii_uppercase();
        if !hash::constant_time_eq(posted.as_bytes(), expected.as_bytes()) {
            return Err(codes::BAD_HASH.refusal());
        }
        if echo.ip.is_empty() {
            return Err(codes::mandatory(
                "CustomerIPAddress field must contain value because of the Mandatory Rule:null",
            ));
        }
        match kind {
            "sales" => self.authorize(&merchant, request, OrderKind::Sale, now, rng),
            "preauth" => self.authorize(&merchant, request, OrderKind::PreAuth, now, rng),
            "postauth" => self.post_auth(&merchant, request, now, rng),
            "void" => self.void(&merchant, request, now, rng),
            "refund" => self.refund(&merchant, request, now, rng),
            "orderinq" => self.status(&merchant, &echo.order_id),
            _ => self.history(&merchant, &echo.order_id),
        }
    }

    fn authorize(
        &mut self,
        merchant: &Merchant,
        request: &GvpsRequest,
        kind: OrderKind,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Answer {
        let order_id = request.text("Order/OrderID");
        if !valid_order_id(order_id) {
            return Err(codes::mandatory("OrderID field is invalid"));
        }
        let is_3d = request.has("Transaction/Secure3D")
            || request.text("Transaction/CardholderPresentCode") == "13";
        if is_3d {
            return self.authorize_3d(merchant, request, kind, now, rng);
        }
        let pan = request.text("Card/Number");
        if !(12..=19).contains(&pan.len()) || !pan.bytes().all(|b| b.is_ascii_digit()) {
            return Err(codes::mandatory("CardNumber field is invalid"));
        }
        let Some(expiry) = parse_expire_date(request.text("Card/ExpireDate")) else {
            return Err(codes::mandatory("ExpireDate field is invalid"));
        };
        // No CVV at all is a card-on-file (stored card) payment, which test terminals
        // allow; a CVV that is there must be well-formed.
        let cvv = request.text("Card/CVV2");
        if !cvv.is_empty()
            && (!(3..=4).contains(&cvv.len()) || !cvv.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(codes::mandatory("CVV2 field is invalid"));
        }
        let (currency, amount, installment) = parse_terms(request)?;
        self.book(
            merchant,
            kind,
            &Payment {
                order_id,
                pan,
                expiry,
                currency,
                amount,
                installment,
                three_ds: None,
            },
            now,
            rng,
        )
    }

    /// A 3D provision: the card is the one the `Md` stands for (see the module rules).
    fn authorize_3d(
        &mut self,
        merchant: &Merchant,
        request: &GvpsRequest,
        kind: OrderKind,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Answer {
        let (currency, amount, installment) = parse_terms(request)?;
        let md = request.text("Transaction/Secure3D/Md");
        let Some(authentication) = self
            .authentications
            .valid(md, now)
            .filter(|a| a.merchant_id == merchant.merchant_id)
            .cloned()
        else {
            return Err(codes::THREEDS_UNKNOWN_MD.refusal());
        };
        if authentication.used {
            return Err(codes::THREEDS_MD_USED.refusal());
        }
        if !matches!(
            authentication.facts.md_status.as_str(),
            "1" | "2" | "3" | "4"
        ) {
            return Err(codes::THREEDS_NOT_AUTHENTICATED.refusal());
        }
        let facts = &authentication.facts;
        let same = request.text("Order/OrderID") == authentication.order_id
            && kind == authentication.kind
            && amount == authentication.amount
            && currency == authentication.currency
            && request.text("Transaction/Secure3D/TxnID") == facts.xid
            && request.text("Transaction/Secure3D/SecurityLevel") == facts.eci
            && request.text("Transaction/Secure3D/AuthenticationCode") == facts.cavv;
        if !same {
            return Err(codes::THREEDS_MISMATCH.refusal());
        }
        let result = self.book(
            merchant,
            kind,
            &Payment {
                order_id: &authentication.order_id,
                pan: &authentication.pan,
                expiry: authentication.expiry,
                currency,
                amount,
                installment,
                three_ds: Some(authentication.facts.clone()),
            },
            now,
            rng,
        );
        if result.is_ok()
            && let Some(spent) = self.authentications.get_mut(md)
        {
            spent.used = true;
        }
        result
    }

    /// Books a payment the gate provisions itself (`3D_PAY`, `3D_OOS_PAY`) exactly like an
    /// API sale or pre-auth; the answer is the `GVPSResponse` the API would have sent.
    pub fn book_gate_payment(
        &mut self,
        merchant_id: &str,
        kind: OrderKind,
        payment: &Payment<'_>,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> GvpsResponse {
        let Some(merchant) = self.merchants.get(merchant_id).cloned() else {
            return refused_response(&codes::UNKNOWN_TERMINAL.refusal());
        };
        match self.book(&merchant, kind, payment, now, rng) {
            Ok(response) => response,
            Err(refusal) => refused_response(&refusal),
        }
    }

    /// Books a sale or pre-authorisation that passed the format checks: duplicate order,
    /// card checks and decline cards, then the transaction.
    fn book(
        &mut self,
        merchant: &Merchant,
        kind: OrderKind,
        payment: &Payment<'_>,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Answer {
        let key = (merchant.merchant_id.clone(), payment.order_id.to_owned());
        if self.orders.get(&key).is_some_and(|o| o.approved) {
            return Err(codes::DUPLICATE_ORDER.refusal());
        }
        let today = to_local(now, istanbul()).date();
        let decline = if !luhn_valid(payment.pan) {
            Some("14")
        } else if payment.expiry.is_expired_on(today) {
            Some("54")
        } else {
            codes::decline_for_card(payment.pan)
        };
        let ids = self.next_ids(now);
        let txn = Txn {
            kind: match kind {
                OrderKind::Sale => TxnKind::Sales,
                OrderKind::PreAuth => TxnKind::PreAuth,
            },
            amount: payment.amount,
            approved: decline.is_none(),
            code: decline.unwrap_or("00").to_owned(),
            reason_code: decline.unwrap_or("00").to_owned(),
            auth_code: if decline.is_none() {
                auth_code(rng)
            } else {
                String::new()
            },
            retref_num: ids.retref_num,
            sequence_num: ids.sequence_num,
            batch: merchant.batch,
            at: now,
        };
        let approved = txn.approved;
        self.seq += 1;
        let created = self.seq;
        let order = self.orders.entry(key).or_insert_with(|| Order {
            merchant_id: merchant.merchant_id.clone(),
            order_id: payment.order_id.to_owned(),
            kind,
            currency: payment.currency,
            amount: payment.amount,
            installment: payment.installment,
            pan_masked: String::new(),
            card_type: "",
            approved: false,
            auth_index: 0,
            captured: 0,
            captured_at: None,
            post_authorised: false,
            refunded: 0,
            voided_at: None,
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
        order.approved = approved;
        order.captured = if approved && kind == OrderKind::Sale {
            payment.amount
        } else {
            0
        };
        order.captured_at = (order.captured > 0).then_some(now);
        order.settled = false;
        order.three_ds = payment.three_ds.clone();
        order.transactions.push(txn.clone());
        order.auth_index = order.transactions.len() - 1;
        let block = match decline {
            None => ResponseBlock::approved_host(),
            Some(code) => ResponseBlock::refused(&codes::host_decline(code)),
        };
        Ok(txn_response(block, &txn, order))
    }

    fn post_auth(
        &mut self,
        merchant: &Merchant,
        request: &GvpsRequest,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Answer {
        let key = (
            merchant.merchant_id.clone(),
            request.text("Order/OrderID").to_owned(),
        );
        let Some(order) = self.orders.get(&key) else {
            return Err(codes::NO_PREAUTH.refusal());
        };
        let asked = parse_amount(request.text("Transaction/Amount"), order.currency)
            .ok_or_else(|| codes::mandatory(AMOUNT_RULE))?;
        let checked = check_post_auth(order, request, asked);
        let ids = self.next_ids(now);
        let Some(order) = self.orders.get_mut(&key) else {
            return Err(codes::NO_PREAUTH.refusal());
        };
        match checked {
            Err(refusal) => {
                order.transactions.push(failed_txn(
                    TxnKind::PostAuth,
                    asked,
                    &refusal,
                    ids,
                    merchant,
                    now,
                ));
                Err(refusal)
            }
            Ok(None) => {
                let txn = Txn {
                    kind: TxnKind::PostAuth,
                    amount: asked,
                    approved: true,
                    code: "00".into(),
                    reason_code: "00".into(),
                    auth_code: auth_code(rng),
                    retref_num: ids.retref_num,
                    sequence_num: ids.sequence_num,
                    batch: merchant.batch,
                    at: now,
                };
                order.captured = asked;
                order.captured_at = Some(now);
                order.post_authorised = true;
                order.transactions.push(txn.clone());
                Ok(txn_response(ResponseBlock::approved_host(), &txn, order))
            }
            Ok(Some(host_code)) => {
                // Above the pre-authorised amount: the host declines (13).
                let refusal = codes::host_decline(host_code);
                let txn = failed_txn(TxnKind::PostAuth, asked, &refusal, ids, merchant, now);
                order.transactions.push(txn.clone());
                Ok(txn_response(ResponseBlock::refused(&refusal), &txn, order))
            }
        }
    }

    fn void(
        &mut self,
        merchant: &Merchant,
        request: &GvpsRequest,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Answer {
        let key = (
            merchant.merchant_id.clone(),
            request.text("Order/OrderID").to_owned(),
        );
        let Some(order) = self.orders.get(&key) else {
            return Err(codes::NOT_VOIDABLE.refusal());
        };
        let amount = if order.captured > 0 {
            order.captured
        } else {
            order.amount
        };
        let original = request.text("Transaction/OriginalRetrefNum");
        let refusal = if !order.approved || order.voided_at.is_some() || order.settled {
            Some(codes::NOT_VOIDABLE.refusal())
        } else if !order
            .transactions
            .iter()
            .any(|t| t.approved && t.kind.is_sale_leg() && t.retref_num == original)
        {
            Some(codes::BAD_ORIGINAL.refusal())
        } else {
            None
        };
        let ids = self.next_ids(now);
        let Some(order) = self.orders.get_mut(&key) else {
            return Err(codes::NOT_VOIDABLE.refusal());
        };
        if let Some(refusal) = refusal {
            order.transactions.push(failed_txn(
                TxnKind::Void,
                amount,
                &refusal,
                ids,
                merchant,
                now,
            ));
            return Err(refusal);
        }
        let txn = Txn {
            kind: TxnKind::Void,
            amount,
            approved: true,
            code: "00".into(),
            reason_code: "00".into(),
            auth_code: auth_code(rng),
            retref_num: ids.retref_num,
            sequence_num: ids.sequence_num,
            batch: merchant.batch,
            at: now,
        };
        order.voided_at = Some(now);
        order.transactions.push(txn.clone());
        Ok(txn_response(ResponseBlock::approved_host(), &txn, order))
    }

    fn refund(
        &mut self,
        merchant: &Merchant,
        request: &GvpsRequest,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Answer {
        let key = (
            merchant.merchant_id.clone(),
            request.text("Order/OrderID").to_owned(),
        );
        let Some(order) = self.orders.get(&key) else {
            return Err(codes::NOT_REFUNDABLE.refusal());
        };
        if !order.approved || order.voided_at.is_some() || order.captured == 0 {
            return Err(codes::NOT_REFUNDABLE.refusal());
        }
        let amount = parse_amount(request.text("Transaction/Amount"), order.currency)
            .ok_or_else(|| codes::mandatory(AMOUNT_RULE))?;
        let original = request.text("Transaction/OriginalRetrefNum");
        let currency = request.text("Transaction/CurrencyCode");
        let remaining = order.captured - order.refunded;
        let refusal = if !original.is_empty()
            && !order.transactions.iter().any(|t| {
                t.approved
                    && matches!(t.kind, TxnKind::Sales | TxnKind::PostAuth)
                    && t.retref_num == original
            }) {
            Some(codes::BAD_ORIGINAL.refusal())
        } else if !currency.is_empty() && currency != order.currency.numeric_code() {
            Some(codes::CURRENCY_MISMATCH.refusal())
        } else if !order.settled {
            Some(codes::NOT_SETTLED.refusal())
        } else if amount > remaining {
            Some(codes::OVER_REFUND.refusal())
        } else {
            None
        };
        let ids = self.next_ids(now);
        let Some(order) = self.orders.get_mut(&key) else {
            return Err(codes::NOT_REFUNDABLE.refusal());
        };
        if let Some(refusal) = refusal {
            let txn = failed_txn(TxnKind::Refund, amount, &refusal, ids, merchant, now);
            order.transactions.push(txn.clone());
            let mut response = txn_response(ResponseBlock::refused(&refusal), &txn, order);
            response.auth_code.clear();
            return Ok(response);
        }
        let txn = Txn {
            kind: TxnKind::Refund,
            amount,
            approved: true,
            code: "00".into(),
            reason_code: "00".into(),
            auth_code: auth_code(rng),
            retref_num: ids.retref_num,
            sequence_num: ids.sequence_num,
            batch: merchant.batch,
            at: now,
        };
        order.refunded += amount;
        order.transactions.push(txn.clone());
        Ok(txn_response(ResponseBlock::approved_host(), &txn, order))
    }

    /// `orderinq` (P2.11–P2.13).
    fn status(&self, merchant: &Merchant, order_id: &str) -> Answer {
        let Some(order) = self.order(&merchant.merchant_id, order_id) else {
            let mut response = refused_response(&codes::NO_TRANSACTION.refusal());
            response.order_inq = Some(status_fields(None));
            return Ok(response);
        };
        let mut response = GvpsResponse::bare(ResponseBlock::approved_gvps());
        response.order_inq = Some(status_fields(Some(order)));
        Ok(response)
    }

    /// `orderhistoryinq` (P2.16–P2.18).
    fn history(&self, merchant: &Merchant, order_id: &str) -> Answer {
        let Some(order) = self.order(&merchant.merchant_id, order_id) else {
            let mut response = refused_response(&codes::NO_ORDER.refusal());
            response.history = Some(Vec::new());
            return Ok(response);
        };
        let mut response = GvpsResponse::bare(ResponseBlock::approved_gvps());
        response.history = Some(
            order
                .transactions
                .iter()
                .map(|t| history_fields(order, t))
                .collect(),
        );
        Ok(response)
    }

    fn next_ids(&mut self, now: DateTime<Utc>) -> Ids {
        self.seq += 1;
        let local = to_local(now, istanbul());
        Ids {
            retref_num: format!(
                "{}{:03}{:02}{:06}",
                local.year().rem_euclid(10),
                local.ordinal(),
                local.hour(),
                self.seq % 1_000_000
            ),
            sequence_num: format!("{:06}", self.seq % 1_000_000),
        }
    }
}

/// The password of the user the request signs in as, if it may do the operation.
fn user_password<'a>(merchant: &'a Merchant, echo: &Echo, role: Role) -> Result<&'a str, Refusal> {
    if echo.prov_user != echo.user {
        return Err(codes::WRONG_USER.refusal());
    }
    let is_prov = echo.prov_user == merchant.prov_user;
    let is_refund = echo.prov_user == merchant.refund_user;
    match (role, is_prov, is_refund) {
        (Role::Provision | Role::Either, true, _) => Ok(&merchant.prov_password),
        (Role::Refund | Role::Either, _, true) => Ok(&merchant.refund_password),
        _ => Err(codes::WRONG_USER.refusal()),
    }
}

const AMOUNT_RULE: &str =
    "TxnAmount field must not be zero DOUBLE value because of the Mandatory Rule:zero";

/// `CurrencyCode`, `Amount` and `InstallmentCnt` of a sale or pre-authorisation.
fn parse_terms(request: &GvpsRequest) -> Result<(Currency, i64, u32), Refusal> {
    let Some(currency) = garanti_currency(request.text("Transaction/CurrencyCode")) else {
        return Err(codes::mandatory("CurrencyCode field is invalid"));
    };
    let Some(amount) = parse_amount(request.text("Transaction/Amount"), currency) else {
        return Err(codes::mandatory(AMOUNT_RULE));
    };
    let Some(installment) = parse_installment(request.text("Transaction/InstallmentCnt"), currency)
    else {
        return Err(codes::BAD_INSTALLMENT.refusal());
    };
    Ok((currency, amount, installment))
}

/// `None`: a post-auth that may go through; `Some(code)`: the host declines it; `Err`:
/// the gateway refuses it.
fn check_post_auth(
    order: &Order,
    request: &GvpsRequest,
    asked: i64,
) -> Result<Option<&'static str>, Refusal> {
    if order.kind != OrderKind::PreAuth || !order.approved || order.voided_at.is_some() {
        return Err(codes::NO_PREAUTH.refusal());
    }
    if order.post_authorised {
        return Err(codes::ALREADY_CAPTURED.refusal());
    }
    let original = request.text("Transaction/OriginalRetrefNum");
    if order.auth_txn().map(|t| t.retref_num.as_str()) != Some(original) {
        return Err(codes::BAD_ORIGINAL.refusal());
    }
    let currency = request.text("Transaction/CurrencyCode");
    if !currency.is_empty() && currency != order.currency.numeric_code() {
        return Err(codes::CURRENCY_MISMATCH.refusal());
    }
    Ok((asked > order.amount).then_some("13"))
}

fn failed_txn(
    kind: TxnKind,
    amount: i64,
    refusal: &Refusal,
    ids: Ids,
    merchant: &Merchant,
    now: DateTime<Utc>,
) -> Txn {
    Txn {
        kind,
        amount,
        approved: false,
        code: refusal.code.to_owned(),
        reason_code: refusal.reason_code.to_owned(),
        auth_code: String::new(),
        retref_num: ids.retref_num,
        sequence_num: ids.sequence_num,
        batch: merchant.batch,
        at: now,
    }
}

/// The answer to a booked transaction (P2.1, P2.4).
fn txn_response(block: ResponseBlock, txn: &Txn, order: &Order) -> GvpsResponse {
    let mut response = GvpsResponse::bare(block);
    response.retref_num = txn.retref_num.clone();
    response.auth_code = txn.auth_code.clone();
    response.batch_num = format!("{:06}", txn.batch);
    response.sequence_num = txn.sequence_num.clone();
    response.prov_date = prov_date(txn.at);
    response.card_masked = order.pan_masked.clone();
    response.card_type = order.card_type.to_owned();
    response
}

/// The answer to a refusal the gateway books nothing for.
pub fn refused_response(refusal: &Refusal) -> GvpsResponse {
    GvpsResponse::bare(ResponseBlock::refused(refusal))
}

/// Echoes the request's terminal, customer and order into an answer and stamps its
/// `HashData` (simulator's choice, see the module documentation).
pub fn fill(response: &mut GvpsResponse, echo: &Echo, merchant: Option<&Merchant>) {
    response.prov_user = echo.prov_user.clone();
    response.user = echo.user.clone();
    response.terminal_id = echo.terminal_id.clone();
    response.merchant_id = echo.merchant_id.clone();
    response.ip = echo.ip.clone();
    response.order_id = echo.order_id.clone();
    if let Some(merchant) = merchant {
        let security = hash::security_data(&merchant.prov_password, &merchant.terminal_id);
        response.hash_data = hash::sha512_hex(&format!(
            "{}{}{}{security}",
            response.order_id, response.retref_num, response.response.code
        ));
    }
}

/// The error answer for a body that cannot be read, or a poisoned simulator.
pub fn error_response(error: GvpsError) -> GvpsResponse {
    refused_response(&error.refusal())
}

/// `OrderInqResult` of an order (P2.11, P2.12), or the blank one of P2.13.
fn status_fields(order: Option<&Order>) -> Vec<(&'static str, String)> {
    let Some(order) = order else {
        return [
            "ChargeType",
            "PreAuthAmount",
            "PreAuthDate",
            "AuthAmount",
            "AuthDate",
            "RecurringInfo",
            "RecurringStatus",
            "Status",
            "RemainingBNSAmount",
            "UsedFBBAmount",
            "UsedChequeType",
            "UsedChequeCount",
            "UsedChequeAmount",
            "UsedBnsAmount",
            "InstallmentCnt",
            "CardNumberMasked",
            "CardRef",
            "Code",
            "ReasonCode",
            "SysErrMsg",
            "RetrefNum",
            "GPID",
            "AuthCode",
            "BatchNum",
            "SequenceNum",
            "ProvDate",
            "CardHolderName",
            "CardType",
        ]
        .into_iter()
        .map(|name| {
            let value = match name {
                "PreAuthAmount" | "AuthAmount" | "RemainingBNSAmount" | "UsedFBBAmount"
                | "UsedChequeCount" | "UsedChequeAmount" | "UsedBnsAmount" | "InstallmentCnt"
                | "BatchNum" | "SequenceNum" => "0",
                _ => "",
            };
            (name, value.to_owned())
        })
        .collect();
    };
    let auth = order.auth_txn();
    let shown = if order.approved {
        order.latest_leg().or(auth)
    } else {
        auth
    };
    let status = if !order.approved {
        "DECLINED"
    } else if order.voided_at.is_some() {
        "VOID"
    } else if order.refunded > 0 && order.refunded >= order.captured {
        "REFUNDED"
    } else if order.refunded > 0 {
        "PARTIALREFUNDED"
    } else if order.kind == OrderKind::PreAuth && !order.post_authorised {
        "WAITINGPOSTAUTH"
    } else {
        "APPROVED"
    };
    let pre_auth = order.kind == OrderKind::PreAuth && order.approved;
    let hundredths = |minor: i64| hundredths(minor, order.currency);
    let field = |pick: fn(&Txn) -> String| shown.map(pick).unwrap_or_default();
    vec![
        ("ChargeType", "S".into()),
        (
            "PreAuthAmount",
            if pre_auth {
                hundredths(order.amount)
            } else {
                "0".into()
            },
        ),
        (
            "PreAuthDate",
            if pre_auth {
                auth.map(|t| dttm(t.at)).unwrap_or_default()
            } else {
                String::new()
            },
        ),
        ("AuthAmount", hundredths(order.captured)),
        ("AuthDate", order.captured_at.map(dttm).unwrap_or_default()),
        ("RecurringInfo", "N".into()),
        ("RecurringStatus", String::new()),
        ("Status", status.into()),
        ("RemainingBNSAmount", "0".into()),
        ("UsedFBBAmount", "0".into()),
        ("UsedChequeType", String::new()),
        ("UsedChequeCount", "0".into()),
        ("UsedChequeAmount", "0".into()),
        ("UsedBnsAmount", "0".into()),
        (
            "InstallmentCnt",
            if order.installment > 1 {
                order.installment.to_string()
            } else {
                "0".into()
            },
        ),
        ("CardNumberMasked", order.pan_masked.clone()),
        ("CardRef", String::new()),
        ("Code", field(|t| t.code.clone())),
        ("ReasonCode", field(|t| t.reason_code.clone())),
        (
            "SysErrMsg",
            if order.approved {
                String::new()
            } else {
                field(|t| codes::host_text(&t.code).to_owned())
            },
        ),
        ("RetrefNum", field(|t| t.retref_num.clone())),
        ("GPID", String::new()),
        ("AuthCode", field(|t| t.auth_code.clone())),
        ("BatchNum", field(|t| t.batch.to_string())),
        (
            "SequenceNum",
            field(|t| t.sequence_num.trim_start_matches('0').to_owned()),
        ),
        ("ProvDate", field(|t| dttm(t.at))),
        ("CardHolderName", String::new()),
        ("CardType", order.card_type.into()),
    ]
}

/// One `OrderTxn` of an order history (P2.16, P2.17).
fn history_fields(order: &Order, t: &Txn) -> Vec<(&'static str, String)> {
    let amount = hundredths(t.amount, order.currency);
    let (pre_auth_amount, auth_amount, pre_auth_date, auth_date) = match t.kind {
        TxnKind::PreAuth => (amount, "0".into(), ymd(t.at), String::new()),
        _ => (
            "0".into(),
            amount,
            String::new(),
            if t.approved { ymd(t.at) } else { String::new() },
        ),
    };
    let voided = t.approved && t.kind.is_sale_leg() && order.voided_at.is_some();
    vec![
        ("Type", t.kind.as_str().into()),
        ("Status", if t.approved { "00" } else { "01" }.into()),
        ("PreAuthAmount", pre_auth_amount),
        ("AuthAmount", auth_amount),
        ("PreAuthDate", pre_auth_date),
        ("AuthDate", auth_date),
        (
            "VoidDate",
            if voided {
                order.voided_at.map(ymd).unwrap_or_default()
            } else {
                String::new()
            },
        ),
        ("RetrefNum", t.retref_num.clone()),
        ("AuthCode", t.auth_code.clone()),
        ("ReturnCode", t.code.clone()),
        ("BatchNum", t.batch.to_string()),
        ("RemainingBNSAmount", "0".into()),
        ("UsedFBBAmount", "0".into()),
        ("UsedChequeType", String::new()),
        ("UsedChequeCount", "0".into()),
        ("UsedChequeAmount", "0".into()),
        (
            "InstallmentCnt",
            if order.installment > 1 {
                order.installment.to_string()
            } else {
                "0".into()
            },
        ),
        (
            "CurrencyCode",
            if t.approved {
                order.currency.numeric_code()
            } else {
                "0"
            }
            .into(),
        ),
        ("Settlement", if order.settled { "Y" } else { "N" }.into()),
    ]
}

/// `ProvDate`: `20221101 13:14:19`, bank-local time.
pub fn prov_date(at: DateTime<Utc>) -> String {
    to_local(at, istanbul())
        .format("%Y%m%d %H:%M:%S")
        .to_string()
}

/// Status timestamps: `2023-01-07 21:27:59.271`, bank-local time.
fn dttm(at: DateTime<Utc>) -> String {
    to_local(at, istanbul())
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// History dates: `20221101`.
fn ymd(at: DateTime<Utc>) -> String {
    to_local(at, istanbul()).format("%Y%m%d").to_string()
}

fn auth_code(rng: &mut impl Rng) -> String {
    format!("{:06}", rng.gen_range(100_000..1_000_000u32))
}

/// Currencies Garanti prices.
pub fn garanti_currency(code: &str) -> Option<Currency> {
    Currency::from_numeric_code(code).filter(|c| {
        matches!(
            c,
            Currency::Try
                | Currency::Usd
                | Currency::Eur
                | Currency::Gbp
                | Currency::Jpy
                | Currency::Rub
        )
    })
}

/// An amount in hundredths (`10025`): digits only, more than zero, exact in the currency's
/// minor units. Returns minor units.
pub fn parse_amount(raw: &str, currency: Currency) -> Option<i64> {
    if raw.is_empty() || raw.len() > 15 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hundredths: i64 = raw.parse().ok()?;
    if hundredths == 0 {
        return None;
    }
    match currency.minor_units() {
        0 => (hundredths % 100 == 0).then_some(hundredths / 100),
        2 => Some(hundredths),
        3 => hundredths.checked_mul(10),
        _ => None,
    }
}

/// Minor units as hundredths, the way every Garanti amount is written.
pub fn hundredths(minor: i64, currency: Currency) -> String {
    match currency.minor_units() {
        0 => minor.saturating_mul(100).to_string(),
        3 => (minor / 10).to_string(),
        _ => minor.to_string(),
    }
}

/// `InstallmentCnt`: empty, `0` or `1` for a single payment (→ 1), else 2..12, TRY only.
pub fn parse_installment(raw: &str, currency: Currency) -> Option<u32> {
    match raw {
        "" | "0" | "1" => Some(1),
        _ => {
            let n: u32 = raw.parse().ok()?;
            ((2..=12).contains(&n) && currency == Currency::Try).then_some(n)
        }
    }
}

/// `ExpireDate`: `MMYY`.
pub fn parse_expire_date(raw: &str) -> Option<Expiry> {
    if raw.len() != 4 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (month, year) = raw.split_at(2);
    Expiry::parse(month, year).ok()
}

/// `OrderID`: 1–36 of `[A-Za-z0-9_-]` (simulator's choice; the bank's longest in the
/// vectors is 36).
pub fn valid_order_id(id: &str) -> bool {
    (1..=36).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// `428220******8015`: first six and last four digits.
pub fn mask_pan(pan: &str) -> String {
    let len = pan.len();
    pan.chars()
        .enumerate()
        .map(|(i, c)| if i < 6 || i + 4 >= len { c } else { '*' })
        .collect()
}

/// `CardType` from the card number's leading digits.
pub fn card_type(pan: &str) -> &'static str {
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

impl Order {
    /// The admin view (`GET /garanti/_sim/orders/...`), in the NestPay simulator's shape.
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
                    trans_id: t.sequence_num.clone(),
                    proc_return_code: t.code.clone(),
                    error_code: t.reason_code.clone(),
                    auth_code: t.auth_code.clone(),
                    host_ref_num: t.retref_num.clone(),
                    at: t.at.to_rfc3339(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_the_bank() {
        assert_eq!(parse_amount("10025", Currency::Try), Some(10_025));
        assert_eq!(parse_amount("15000", Currency::Jpy), Some(150));
        for bad in ["", "0", "1.5", "-1", "1 0", "1234567890123456"] {
            assert_eq!(parse_amount(bad, Currency::Try), None, "{bad}");
        }
        assert_eq!(parse_amount("15001", Currency::Jpy), None);
        assert_eq!(hundredths(150, Currency::Jpy), "15000");
        assert_eq!(parse_installment("", Currency::Try), Some(1));
        assert_eq!(parse_installment("1", Currency::Usd), Some(1));
        assert_eq!(parse_installment("3", Currency::Try), Some(3));
        assert_eq!(parse_installment("3", Currency::Usd), None);
        assert_eq!(parse_installment("13", Currency::Try), None);
        assert_eq!(parse_expire_date("0122"), Expiry::parse("01", "22").ok());
        assert_eq!(parse_expire_date("1322"), None);
        assert_eq!(parse_expire_date("01/22"), None);
        assert!(valid_order_id("SISTD5A61F1682E745B28871872383ABBEB1"));
        assert!(!valid_order_id(&"A".repeat(37)));
        assert!(!valid_order_id("a.b"));
        assert_eq!(mask_pan("4282209004348015"), "428220******8015");
        assert_eq!(card_type("5549608700001500"), "MASTERCARD");
        assert_eq!(garanti_currency("949"), Some(Currency::Try));
        assert_eq!(garanti_currency("414"), None);
    }
}
