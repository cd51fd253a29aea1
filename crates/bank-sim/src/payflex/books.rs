//! The bank's books: merchants and their terminals, orders and their transactions, the
//! MPI's authentications, and the rules PayFlex's VPOS enforces on them.
//!
//! Everything here is synchronous and pure apart from the clock value and the random source
//! passed in, so the HTTP layer holds the lock only for one call and never across an
//! `.await`. Codes in [`super::codes`].
//!
//! Rules (what the bank checks, and the simulator's choices where the real behaviour is not
//! documented):
//!
//! * Every `VposRequest` carries `MerchantId` and `Password` (a known merchant and its
//!   password, else `9039`) and a `TransactionType` (`Sale`, `Auth`, `Capture`, `Cancel`,
//!   `Refund`; else `1001`). `Sale`, `Auth` and `Capture` carry a `TerminalNo` of the
//!   merchant (`9039`); `Cancel` and `Refund` need none (R9.9–R9.11).
//! * `Sale` (captured at once) / `Auth` (pre-authorisation): `CurrencyAmount` with exactly
//!   two decimals and > 0, `CurrencyCode` a known ISO 4217 numeric code, `Pan` Luhn-valid
//!   12–19 digits (`0014`), `Expiry` `YYYYMM` (`1001`; a past month `0054`), `Cvv` 3–4 digits
//!   when present, `NumberOfInstallments` absent/0/1 or 2..12 in TRY, `TransactionId`
//!   (optional; generated when absent) at most 64 characters of `[A-Za-z0-9_.-]` and not
//!   already approved (`1003`). The Craftgate decline cards decline with their ISO codes.
//! * A `Sale`/`Auth` with `ECI`, `CAVV` or `MpiTransactionId` is a 3D provision: the MPI
//!   must hold an authentication under `MpiTransactionId` (its `VerifyEnrollmentRequestId`)
//!   for this merchant, `Status=Y`, unused, less than [`AUTHENTICATION_TTL`] old, and the
//!   request must repeat its card number, expiry, amount, currency, installments, `ECI` and
//!   `CAVV` (`1004`). It is then used up.
//! * `Capture` (`ReferenceTransactionId` = the `Auth`'s `TransactionId`): an approved,
//!   uncancelled, uncaptured `Auth`, in its currency, at most the authorised amount.
//! * `Cancel` (`ReferenceTransactionId` = the order's `TransactionId`): only before end of
//!   day, once (`1083`); it cancels the whole order (a captured pre-auth included).
//! * `Refund` (`ReferenceTransactionId`): only after end of day, on a captured, uncancelled
//!   order, `CurrencyAmount` required; refunds never exceed the captured amount (`1059`
//!   once everything is refunded, `1003` above what is left).
//! * Refused follow-ups on an existing order are recorded as failed transactions.
//! * `SearchRequest` (`MerchantCriteria/HostMerchantId`, `MerchantPassword`; else `9065`
//!   with `ResponseInfo/Status=Error`): by `TransactionCriteria/OrderId` and/or
//!   `TransactionId`, one `TransactionSearchResultInfo` record per transaction of the
//!   matching order (laid out like P9.2; follow-ups carry the order's `OrderId`); none for
//!   an unknown order.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use domain::card::Expiry;
use domain::clock::{istanbul, to_local};
use domain::money::{Currency, MinorUnits};
use rand::Rng;
use rust_decimal::Decimal;

use super::codes::{self, Code};
use super::wire::{XmlReply, XmlRequest};
use crate::nestpay::books::{OrderView, TxnView};

/// How long an MPI authentication can be provisioned.
pub const AUTHENTICATION_TTL: Duration = Duration::minutes(30);

/// One merchant (`MerchantId`), its password and terminals.
#[derive(Clone)]
pub struct Merchant {
    pub merchant_id: String,
    pub password: String,
    pub terminals: Vec<String>,
    /// End-of-day batch currently open (`BatchNo`).
    pub batch: u32,
}

// Never print the password.
impl std::fmt::Debug for Merchant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merchant")
            .field("merchant_id", &self.merchant_id)
            .field("terminals", &self.terminals)
            .finish_non_exhaustive()
    }
}

/// `TransactionType`s the books know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnKind {
    Sale,
    Auth,
    Capture,
    Cancel,
    Refund,
}

impl TxnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TxnKind::Sale => "Sale",
            TxnKind::Auth => "Auth",
            TxnKind::Capture => "Capture",
            TxnKind::Cancel => "Cancel",
            TxnKind::Refund => "Refund",
        }
    }

    pub fn parse(raw: &str) -> Option<TxnKind> {
        Some(match raw {
            "Sale" => TxnKind::Sale,
            "Auth" => TxnKind::Auth,
            "Capture" => TxnKind::Capture,
            "Cancel" => TxnKind::Cancel,
            "Refund" => TxnKind::Refund,
            _ => return None,
        })
    }
}

/// One transaction on an order.
#[derive(Debug, Clone)]
pub struct Txn {
    pub kind: TxnKind,
    pub transaction_id: String,
    pub amount: i64,
    pub approved: bool,
    pub result_code: String,
    pub message: String,
    pub auth_code: String,
    pub rrn: String,
    pub batch: u32,
    pub at: DateTime<Utc>,
}

/// An order: its original `Sale`/`Auth` and what followed.
#[derive(Debug, Clone)]
pub struct Order {
    pub merchant_id: String,
    pub terminal_no: String,
    /// The original's `TransactionId`, which follow-ups reference.
    pub transaction_id: String,
    pub order_id: String,
    pub kind: TxnKind,
    pub approved: bool,
    pub amount: i64,
    pub captured: i64,
    pub refunded: i64,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub settled: bool,
    pub currency: Currency,
    pub installment: u32,
    pub pan_masked: String,
    pub three_d: bool,
    pub transactions: Vec<Txn>,
}

/// What the MPI recorded for an authenticated enrolment (`Status=Y`).
#[derive(Clone)]
pub struct Authentication {
    pub merchant_id: String,
    pub pan: String,
    /// `YYMM`, as enrolled.
    pub expiry_yymm: String,
    pub amount: i64,
    pub currency: Currency,
    pub installment: u32,
    pub eci: String,
    pub cavv: String,
    pub at: DateTime<Utc>,
    pub used: bool,
}

impl std::fmt::Debug for Authentication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authentication")
            .field("merchant_id", &self.merchant_id)
            .field("amount", &self.amount)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
pub struct Books {
    merchants: HashMap<String, Merchant>,
    /// By (merchant, original `TransactionId`).
    orders: HashMap<(String, String), Order>,
    /// Order of creation, for listings.
    sequence: Vec<(String, String)>,
    /// By `VerifyEnrollmentRequestId`.
    authentications: HashMap<String, Authentication>,
    stan: u32,
}

impl Books {
    pub fn new() -> Books {
        Books::default()
    }

    /// Adds a merchant or a terminal; the password becomes `password`.
    pub fn put_merchant(&mut self, merchant_id: &str, terminal_no: &str, password: &str) {
        let merchant = self
            .merchants
            .entry(merchant_id.to_owned())
            .or_insert_with(|| Merchant {
                merchant_id: merchant_id.to_owned(),
                password: String::new(),
                terminals: Vec::new(),
                batch: 1,
            });
        merchant.password = password.to_owned();
        if !terminal_no.is_empty() && !merchant.terminals.iter().any(|t| t == terminal_no) {
            merchant.terminals.push(terminal_no.to_owned());
        }
    }

    pub fn merchant(&self, merchant_id: &str) -> Option<&Merchant> {
        self.merchants.get(merchant_id)
    }

    /// Whether `merchant_id`/`password` sign in.
    pub fn signs_in(&self, merchant_id: &str, password: &str) -> bool {
        self.merchants
            .get(merchant_id)
            .is_some_and(|m| !m.password.is_empty() && m.password == password)
    }

    /// The order whose original `TransactionId` or `OrderId` is `id`.
    pub fn order(&self, merchant_id: &str, id: &str) -> Option<&Order> {
        self.orders
            .get(&(merchant_id.to_owned(), id.to_owned()))
            .or_else(|| {
                self.orders
                    .values()
                    .filter(|o| o.merchant_id == merchant_id && o.order_id == id)
                    .max_by_key(|o| o.approved)
            })
    }

    pub fn orders_of(&self, merchant_id: &str) -> Vec<&Order> {
        self.sequence
            .iter()
            .filter(|(m, _)| m == merchant_id)
            .filter_map(|key| self.orders.get(key))
            .collect()
    }

    /// End of day for one merchant or all: open orders settle, batches move on.
    pub fn settle(&mut self, merchant_id: Option<&str>) -> usize {
        let mut settled = 0;
        for order in self.orders.values_mut() {
            if merchant_id.is_none_or(|m| m == order.merchant_id) && !order.settled {
                order.settled = true;
                settled += 1;
            }
        }
        for merchant in self.merchants.values_mut() {
            if merchant_id.is_none_or(|m| m == merchant.merchant_id) {
                merchant.batch += 1;
            }
        }
        settled
    }

    pub fn register_authentication(&mut self, verify_id: &str, authentication: Authentication) {
        self.authentications
            .insert(verify_id.to_owned(), authentication);
    }

    pub fn authentication(&self, verify_id: &str) -> Option<&Authentication> {
        self.authentications.get(verify_id)
    }

    /// Answers one `VposRequest`.
    pub fn handle(
        &mut self,
        request: &XmlRequest,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> XmlReply {
        if request.root != "VposRequest" {
            return refusal(codes::invalid("Geçersiz istek."));
        }
        let merchant_id = request.text("MerchantId");
        if !self.signs_in(merchant_id, request.text("Password")) {
            return refusal(codes::MERCHANT_NOT_FOUND);
        }
        let Some(kind) = TxnKind::parse(request.text("TransactionType")) else {
            return refusal(codes::invalid("Geçersiz işlem tipi."));
        };
        let terminal_ok = self
            .merchants
            .get(merchant_id)
            .is_some_and(|m| m.terminals.iter().any(|t| t == request.text("TerminalNo")));
        match kind {
            TxnKind::Sale | TxnKind::Auth | TxnKind::Capture if !terminal_ok => {
                refusal(codes::MERCHANT_NOT_FOUND)
            }
            TxnKind::Sale | TxnKind::Auth => self.payment(kind, request, now, rng),
            TxnKind::Capture | TxnKind::Cancel | TxnKind::Refund => {
                self.follow_up(kind, request, now, rng)
            }
        }
    }

    fn next_ids(&mut self, rng: &mut impl Rng, now: DateTime<Utc>) -> (String, String) {
        self.stan = self.stan.wrapping_add(1) % 1_000_000;
        let local = to_local(now, istanbul());
        // Like P9.7's `306823971358`: year digit, day of year, hour, sequence.
        let rrn = format!(
            "{}{:03}{:02}{:06}",
            local.year() % 10,
            local.ordinal(),
            local.hour(),
            (self.stan + rng.gen_range(0..1000) * 1000) % 1_000_000
        );
        let auth_code = format!("{:06}", rng.gen_range(0..1_000_000u32));
        (rrn, auth_code)
    }

    fn payment(
        &mut self,
        kind: TxnKind,
        request: &XmlRequest,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> XmlReply {
        let merchant_id = request.text("MerchantId").to_owned();
        let terms = match parse_payment(request, now) {
            Ok(terms) => terms,
            Err(code) => return refusal(code),
        };
        let transaction_id = match request.non_empty("TransactionId") {
            Some(id) if !valid_id(id) => {
                return refusal(codes::invalid("Geçersiz TransactionId."));
            }
            Some(id) => id.to_owned(),
            None => random_hex(rng),
        };
        let order_id = request
            .non_empty("OrderId")
            .unwrap_or(&transaction_id)
            .to_owned();
        if !valid_id(&order_id) {
            return refusal(codes::invalid("Geçersiz OrderId."));
        }
        let key = (merchant_id.clone(), transaction_id.clone());
        if self.orders.get(&key).is_some_and(|o| o.approved) {
            return refusal(codes::refused("Bu TransactionId ile onaylı işlem var."));
        }
        let three_d = ["ECI", "CAVV", "MpiTransactionId"]
            .iter()
            .any(|f| request.non_empty(f).is_some());
        let mut decline = if three_d {
            self.check_three_d(&merchant_id, request, &terms, now).err()
        } else {
            None
        };
        if decline.is_none() {
            decline = if terms.expiry.is_expired_on(to_local(now, istanbul()).date()) {
                Some((
                    codes::EXPIRED_CARD.code.to_owned(),
                    codes::EXPIRED_CARD.message,
                ))
            } else {
                codes::decline_for_card(&terms.pan)
            };
        }
        let batch = self.merchants.get(&merchant_id).map_or(1, |m| m.batch);
        let (rrn, auth_code) = self.next_ids(rng, now);
        let approved = decline.is_none();
        if approved
            && three_d
            && let Some(auth) = self
                .authentications
                .get_mut(request.text("MpiTransactionId"))
        {
            auth.used = true;
        }
        let (code, message) =
            decline.unwrap_or_else(|| (codes::APPROVED.to_owned(), "İŞLEM BAŞARILI"));
        let txn = Txn {
            kind,
            transaction_id: transaction_id.clone(),
            amount: terms.amount,
            approved,
            result_code: code.clone(),
            message: message.to_owned(),
            auth_code: if approved { auth_code } else { "000000".into() },
            rrn,
            batch,
            at: now,
        };
        let order = Order {
            merchant_id: merchant_id.clone(),
            terminal_no: request.text("TerminalNo").to_owned(),
            transaction_id: transaction_id.clone(),
            order_id,
            kind,
            approved,
            amount: terms.amount,
            captured: if approved && kind == TxnKind::Sale {
                terms.amount
            } else {
                0
            },
            refunded: 0,
            cancelled_at: None,
            settled: false,
            currency: terms.currency,
            installment: terms.installment,
            pan_masked: mask_pan(&terms.pan),
            three_d,
            transactions: vec![txn.clone()],
        };
        let reply = txn_reply(&order, &txn, None);
        if !self.orders.contains_key(&key) {
            self.sequence.push(key.clone());
        }
        self.orders.insert(key, order);
        reply
    }

    fn check_three_d(
        &self,
        merchant_id: &str,
        request: &XmlRequest,
        terms: &Terms,
        now: DateTime<Utc>,
    ) -> Result<(), (String, &'static str)> {
        let fail = |message: &'static str| Err((codes::three_d("").code.to_owned(), message));
        let Some(auth) = self.authentications.get(request.text("MpiTransactionId")) else {
            return fail("3D doğrulama kaydı bulunamadı.");
        };
        if auth.merchant_id != merchant_id || now - auth.at > AUTHENTICATION_TTL {
            return fail("3D doğrulama kaydı bulunamadı.");
        }
        if auth.used {
            return fail("3D doğrulama daha önce kullanılmış.");
        }
        let expiry_yymm = format!("{:02}{:02}", terms.expiry.year % 100, terms.expiry.month);
        let same = auth.pan == terms.pan
            && auth.expiry_yymm == expiry_yymm
            && auth.amount == terms.amount
            && auth.currency == terms.currency
            && auth.installment == terms.installment
            && auth.eci == request.text("ECI")
            && auth.cavv == request.text("CAVV");
        if !same {
            return fail("3D doğrulama bilgileri uyuşmuyor.");
        }
        Ok(())
    }

    fn follow_up(
        &mut self,
        kind: TxnKind,
        request: &XmlRequest,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> XmlReply {
        let merchant_id = request.text("MerchantId").to_owned();
        let Some(reference) = request.non_empty("ReferenceTransactionId") else {
            return refusal(codes::invalid("ReferenceTransactionId eksik."));
        };
        let key = (merchant_id.clone(), reference.to_owned());
        let Some(order) = self.orders.get(&key).filter(|o| o.approved) else {
            return refusal(codes::no_reference("Referans işlem bulunamadı."));
        };
        let amount = match kind {
            TxnKind::Cancel => Ok(0),
            _ => match request.non_empty("CurrencyAmount") {
                Some(text) => {
                    parse_amount(text, order.currency).ok_or(codes::invalid("Geçersiz tutar."))
                }
                None => Err(codes::invalid("CurrencyAmount eksik.")),
            },
        };
        let currency_ok = request
            .non_empty("CurrencyCode")
            .is_none_or(|c| c == order.currency.numeric_code());
        let checked = amount.and_then(|amount| {
            if !currency_ok {
                return Err(codes::invalid("Para birimi uyuşmuyor."));
            }
            check_follow_up(kind, order, amount)
        });
        let batch = self.merchants.get(&merchant_id).map_or(1, |m| m.batch);
        let (rrn, auth_code) = self.next_ids(rng, now);
        let transaction_id = random_hex(rng);
        let Some(order) = self.orders.get_mut(&key) else {
            return refusal(codes::INTERNAL);
        };
        let (approved, code, message, amount) = match checked {
            Ok(amount) => (true, codes::APPROVED.to_owned(), "İŞLEM BAŞARILI", amount),
            Err(code) => (false, code.code.to_owned(), code.message, 0),
        };
        if approved {
            match kind {
                TxnKind::Capture => order.captured = amount,
                TxnKind::Cancel => order.cancelled_at = Some(now),
                TxnKind::Refund => order.refunded += amount,
                TxnKind::Sale | TxnKind::Auth => {}
            }
        }
        let txn = Txn {
            kind,
            transaction_id,
            amount: if kind == TxnKind::Cancel {
                order.amount
            } else {
                amount
            },
            approved,
            result_code: code,
            message: message.to_owned(),
            auth_code: if approved { auth_code } else { String::new() },
            rrn,
            batch,
            at: now,
        };
        order.transactions.push(txn.clone());
        if approved {
            // Follow-ups echo the reference, as P9.3/P9.5.
            txn_reply(order, &txn, Some(&order.transaction_id))
        } else {
            refusal_text(&txn.result_code, &txn.message)
        }
    }

    /// Answers one `SearchRequest`.
    pub fn search(&self, request: &XmlRequest) -> XmlReply {
        let merchant_id = request.text("MerchantCriteria/HostMerchantId");
        let mut reply = XmlReply::new();
        reply.open("SearchResponse").open("ResponseInfo");
        if request.root != "SearchRequest"
            || !self.signs_in(
                merchant_id,
                request.text("MerchantCriteria/MerchantPassword"),
            )
        {
            let code = codes::SEARCH_MERCHANT_NOT_FOUND;
            reply
                .element("Status", "Error")
                .element("ResponseCode", code.code)
                .element("ResponseMessage", code.message)
                .element("IsIdempotent", "false")
                .close("ResponseInfo")
                .close("SearchResponse");
            return reply;
        }
        let order_id = request.text("TransactionCriteria/OrderId");
        let transaction_id = request.text("TransactionCriteria/TransactionId");
        let order = [transaction_id, order_id]
            .iter()
            .filter(|id| !id.is_empty())
            .find_map(|id| self.order(merchant_id, id))
            .filter(|o| {
                (order_id.is_empty() || o.order_id == order_id || o.transaction_id == order_id)
                    && (transaction_id.is_empty() || o.transaction_id == transaction_id)
            });
        let transactions: Vec<&Txn> = order
            .map(|o| o.transactions.iter().collect())
            .unwrap_or_default();
        reply
            .element("Status", "Success")
            .element("ResponseCode", codes::APPROVED)
            .element("ResponseMessage", "Succeeded.")
            .element("IsIdempotent", "false")
            .close("ResponseInfo")
            .element("PageIndex", "1")
            .element("PageSize", "100")
            .element("TotalItemCount", &transactions.len().to_string())
            .open("TransactionSearchResultInfo");
        if let Some(order) = order {
            for txn in transactions {
                let is_original = txn.transaction_id == order.transaction_id;
                let refunded_all = order.refunded > 0 && order.refunded >= order.captured;
                reply
                    .open("TransactionSearchResultInfo")
                    .element("MerchantId", &order.merchant_id)
                    .element("TerminalNo", &order.terminal_no)
                    .element("TransactionType", txn.kind.as_str())
                    .element("TransactionId", &txn.transaction_id)
                    .element("OrderId", &order.order_id)
                    .element("ResultCode", &txn.result_code)
                    .element("ResponseMessage", &txn.message)
                    .element("HostResultCode", if txn.approved { "000" } else { "" })
                    .element("AuthCode", &txn.auth_code)
                    .element("HostDate", &host_date(txn.at))
                    .element("Rrn", &txn.rrn)
                    .element("CurrencyAmount", &amount_text(txn.amount, order.currency))
                    .element("AmountCode", order.currency.numeric_code())
                    .element("ThreeDSecureType", if order.three_d { "2" } else { "1" })
                    .element("BatchNo", &txn.batch.to_string())
                    .element("IsReversed", "false")
                    .element(
                        "IsCanceled",
                        bool_text(is_original && order.cancelled_at.is_some()),
                    )
                    .element("IsRefunded", bool_text(is_original && refunded_all))
                    .close("TransactionSearchResultInfo");
            }
        }
        reply
            .close("TransactionSearchResultInfo")
            .close("SearchResponse");
        reply
    }
}

fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

fn check_follow_up(kind: TxnKind, order: &Order, amount: i64) -> Result<i64, Code> {
    if order.cancelled_at.is_some() {
        return Err(codes::ALREADY_CANCELLED);
    }
    match kind {
        TxnKind::Capture => {
            if order.kind != TxnKind::Auth {
                return Err(codes::refused(
                    "Provizyon kapama yalnızca ön provizyona yapılır.",
                ));
            }
            if order.captured > 0 {
                return Err(codes::refused("Ön provizyon daha önce kapatılmış."));
            }
            if amount > order.amount {
                return Err(codes::refused("Tutar provizyon tutarından büyük."));
            }
            Ok(amount)
        }
        TxnKind::Cancel => {
            if order.settled {
                return Err(codes::refused("Gün sonu yapılmış işlem iptal edilemez."));
            }
            Ok(0)
        }
        TxnKind::Refund => {
            if order.captured == 0 {
                return Err(codes::refused("Kapatılmamış işlem iade edilemez."));
            }
            if !order.settled {
                return Err(codes::refused(
                    "Gün sonu yapılmamış işlem iade edilemez; iptal ediniz.",
                ));
            }
            let left = order.captured - order.refunded;
            if left <= 0 {
                return Err(codes::FULLY_REFUNDED);
            }
            if amount > left {
                return Err(codes::refused("İade tutarı kalan tutardan büyük."));
            }
            Ok(amount)
        }
        TxnKind::Sale | TxnKind::Auth => Err(codes::INTERNAL),
    }
}

/// A sale's checked terms.
struct Terms {
    amount: i64,
    currency: Currency,
    installment: u32,
    pan: String,
    expiry: Expiry,
}

fn parse_payment(request: &XmlRequest, _now: DateTime<Utc>) -> Result<Terms, Code> {
    let currency = request
        .non_empty("CurrencyCode")
        .and_then(Currency::from_numeric_code)
        .ok_or(codes::invalid("Geçersiz para birimi."))?;
    let amount = request
        .non_empty("CurrencyAmount")
        .and_then(|t| parse_amount(t, currency))
        .ok_or(codes::invalid("Geçersiz tutar."))?;
    let installment = match request.non_empty("NumberOfInstallments") {
        None | Some("0") | Some("1") => 1,
        Some(text) => match text.parse::<u32>() {
            Ok(n @ 2..=12) if currency == Currency::Try => n,
            _ => return Err(codes::invalid("Geçersiz taksit sayısı.")),
        },
    };
    let pan = request.text("Pan");
    if !(12..=19).contains(&pan.len())
        || !pan.bytes().all(|b| b.is_ascii_digit())
        || !domain::card::luhn_valid(pan)
    {
        return Err(codes::INVALID_CARD);
    }
    let expiry = parse_expiry_yyyymm(request.text("Expiry"))
        .ok_or(codes::invalid("Geçersiz son kullanma tarihi."))?;
    if let Some(cvv) = request.non_empty("Cvv")
        && !((3..=4).contains(&cvv.len()) && cvv.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(codes::invalid("Geçersiz CVV."));
    }
    Ok(Terms {
        amount,
        currency,
        installment,
        pan: pan.to_owned(),
        expiry,
    })
}

/// `YYYYMM`.
pub fn parse_expiry_yyyymm(raw: &str) -> Option<Expiry> {
    if raw.len() != 6 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Expiry::parse(&raw[4..], &raw[..4]).ok()
}

/// `CurrencyAmount`: digits, `.`, exactly two decimals, above zero.
pub fn parse_amount(raw: &str, currency: Currency) -> Option<i64> {
    let (integer, fraction) = raw.split_once('.')?;
    if integer.is_empty()
        || integer.len() > 15
        || fraction.len() != 2
        || !integer
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let value: Decimal = raw.parse().ok()?;
    MinorUnits::from_decimal(value.normalize(), currency)
        .ok()
        .map(MinorUnits::get)
}

pub fn amount_text(minor: i64, currency: Currency) -> String {
    let mut value = MinorUnits::from_stored(minor).to_decimal(currency);
    value.rescale(2);
    value.to_string()
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn random_hex(rng: &mut impl Rng) -> String {
    (0..32)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

pub fn mask_pan(pan: &str) -> String {
    if pan.len() < 10 {
        return "*".repeat(pan.len());
    }
    format!(
        "{}{}{}",
        &pan[..6],
        "*".repeat(pan.len() - 10),
        &pan[pan.len() - 4..]
    )
}

/// `HostDate`: `YYYYMMDDhhmmss`, Istanbul time.
pub fn host_date(at: DateTime<Utc>) -> String {
    to_local(at, istanbul()).format("%Y%m%d%H%M%S").to_string()
}

/// A refusal: `ResultCode`, `ResultDetail`, `InstallmentTable` (S9.1, P9.4).
pub fn refusal(code: Code) -> XmlReply {
    refusal_text(code.code, code.message)
}

fn refusal_text(code: &str, message: &str) -> XmlReply {
    let mut reply = XmlReply::new();
    reply
        .open("VposResponse")
        .element("ResultCode", code)
        .element("ResultDetail", message)
        .element("InstallmentTable", "")
        .close("VposResponse");
    reply
}

/// A booked transaction's reply, laid out like P9.7/P9.9 (a declined sale carries the
/// order's fields with `AuthCode 000000`).
fn txn_reply(order: &Order, txn: &Txn, reference: Option<&str>) -> XmlReply {
    let mut reply = XmlReply::new();
    reply
        .open("VposResponse")
        .element("MerchantId", &order.merchant_id)
        .element("TransactionType", txn.kind.as_str())
        .element("TransactionId", &txn.transaction_id);
    if let Some(reference) = reference {
        reply.element("ReferenceTransactionId", reference);
    }
    reply
        .element("ResultCode", &txn.result_code)
        .element("ResultDetail", &txn.message)
        .element("InstallmentTable", "")
        .element("CampaignResult", "")
        .element("AuthCode", &txn.auth_code)
        .element("HostDate", &host_date(txn.at))
        .element("Rrn", &txn.rrn)
        .element("TerminalNo", &order.terminal_no)
        .element("CurrencyAmount", &amount_text(txn.amount, order.currency))
        .element("CurrencyCode", order.currency.numeric_code())
        .element("OrderId", &order.order_id)
        .element("ThreeDSecureType", if order.three_d { "2" } else { "1" })
        .element("TransactionDeviceSource", "0")
        .element("BatchNo", &txn.batch.to_string())
        .element("TLAmount", &amount_text(txn.amount, order.currency))
        .close("VposResponse");
    reply
}

impl Order {
    pub fn view(&self) -> OrderView {
        let status = if !self.approved {
            "Declined"
        } else if self.cancelled_at.is_some() {
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
            voided: self.cancelled_at.is_some(),
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
                    trans_id: t.transaction_id.clone(),
                    proc_return_code: t.result_code.clone(),
                    error_code: if t.approved {
                        String::new()
                    } else {
                        t.result_code.clone()
                    },
                    auth_code: t.auth_code.clone(),
                    host_ref_num: t.rrn.clone(),
                    at: t.at.to_rfc3339(),
                })
                .collect(),
        }
    }
}
