//! The InterPos 3D Secure gate with an ACS-like challenge page.
//!
//! # Routes (under `/interpos`)
//!
//! * `POST /mpi/Default.aspx` (`3DModel`, `3DPay`; the API shares the page, a form whose
//!   `SecureType` is a 3D one comes here) and `POST /mpi/3DHost.aspx` (`3DHost`; each page
//!   accepts every 3D `SecureType`) — the merchant's form, `application/x-www-form-urlencoded`
//!   as a browser posts it, UTF-8 or ISO-8859-9. Fields (vectors R6.5–R6.7): `ShopCode,
//!   TxnType, SecureType, PurchAmount, OrderId, OkUrl, FailUrl, Rnd, Lang, Currency,
//!   InstallmentCount`, the card for `3DModel`/`3DPay` (`CardType, Pan, Expiry (MMYY),
//!   Cvv2`) and `Hash`. The gate finds the shop by `ShopCode` (`81`/`B810002`), checks
//!   `Hash` = `b64(SHA1(ShopCode‖OrderId‖PurchAmount‖OkUrl‖FailUrl‖TxnType‖InstallmentCount‖Rnd‖MerchantPass))`
//!   (`E31`), then the fields as the API does (`E31`, `14` for the card number), and
//!   refuses an `OrderId` an approved order already carries (`E31`). A refusal is posted
//!   straight back to `FailUrl` (an auto-submitting page) in the callback layout below with
//!   `mdStatus=0` and the code, signed when the shop is known (as the real refusal of
//!   vector C6.2 is); with no http(s) `FailUrl`, an HTML error page (HTTP 400) is all the
//!   gate can do. Otherwise the gate opens a 3D session (in memory, random 32-hex id,
//!   expiring after [`SESSION_TTL`] of bank time) and answers the NestPay simulator's
//!   challenge page ([`crate::nestpay::threeds::pages`]; the test OTP `123456` is printed
//!   on it). For `3DHost` the page first asks for the card.
//! * `POST /mpi/Acs/{sessionId}` — the page's form: the `3DHost` card step (`pan`,
//!   `Ecom_Payment_Card_ExpDate_Month`, `Ecom_Payment_Card_ExpDate_Year`, `cv2`,
//!   `action=card`; a bad card re-shows the page with the error), then `otp` with
//!   `action=confirm` or `action=cancel`. The right OTP authenticates (`mdStatus=1`), a
//!   wrong one or Cancel does not (`mdStatus=0`); the cards of
//!   [`crate::nestpay::threeds::MD_STATUS_CARDS`] force their status (`0`, `2`, `3`, `4`,
//!   `5`, `7`) whatever the OTP (Cancel still cancels). The session is then spent and the
//!   answer is an auto-submitting form posting the callback to `OkUrl` when the cardholder
//!   is authenticated (`mdStatus` 1–4) and, for `3DPay`/`3DHost`, the provision was
//!   approved; to `FailUrl` otherwise.
//!
//! # Models
//!
//! * `3DModel`: the callback carries the authentication only (`ProcReturnCode` empty, as
//!   the real one of P6.4) with the `MD` that stands for the card, order, amount, currency,
//!   installments and `TxnType` in the simulator's books; the merchant provisions it once
//!   through the API (rules in [`super::books`]).
//! * `3DPay`, `3DHost`: on `mdStatus` 1–4 the gate books the order itself — `Auth` or
//!   `PreAuth` per `TxnType`, with the API's rules and decline cards — and the callback
//!   carries the result (`00` and `Response=Approved`, or the decline code and
//!   `Response=Declined`). Other statuses book nothing.
//!
//! API faults (`POST /_sim/faults`) apply to the API only; the gate and the ACS page are
//! never faulted.
//!
//! # Callback fields, in order (C6.2)
//!
//! `Version, MerchantID, ShopCode, TxnStat, MD, RetCode, RetDet, VenderCode, Eci,
//! PayerAuthenticationCode, PayerTxnId, CavvAlg, PAResVerified, PAResSyntaxOK, Expiry
//! (****), Pan (masked), OrderId, PurchAmount (decimal comma), Exponent, Description,
//! Description2, Currency, OkUrl, FailUrl, 3DStatus, AuthCode, HostRefNum, TransId, TRXDATE,
//! CardHolderName, mdStatus, ProcReturnCode, TxnResult, ErrorMessage, ErrorCode, Response,
//! HASH, HASHPARAMS, HASHPARAMSVAL` with `HASHPARAMS` =
//! `Version:PurchAmount:Exponent:Currency:OkUrl:FailUrl:MD:OrderId:ProcReturnCode:Response:mdStatus:`
//! and `HASH = b64(SHA1(HASHPARAMSVAL ‖ MerchantPass))`. `Eci` is `05` (Visa) / `02`
//! (others) for `mdStatus=1`, `06`/`01` for 4, empty otherwise; `PayerAuthenticationCode`
//! (CAVV) is set for 1 and 4; `TxnStat`: 1 → `Y`, 4 → `A`, 5 → `U`, 7 → `E`, else `N`.
//!
//! [`SESSION_TTL`]: crate::gate_sessions::SESSION_TTL

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use domain::card::Expiry;
use domain::money::Currency;
use rand::Rng;
use sha1::{Digest as _, Sha1};

use super::books::{
    Authentication, OrderKind, Payment, card_type, echo_amount, mask_pan, parse_expiry,
    parse_terms, trx_date, valid_cvv, valid_pan,
};
use super::codes::{self, Code};
use super::wire::Reply;
use super::{InterposSim, Poisoned};
use crate::gate_sessions::{self, GateSession};
use crate::nestpay::books::valid_order_id;
use crate::nestpay::threeds::{Decision, ThreeDsFacts, form, pages};

/// The fields every callback signs (all real callbacks, C6.1–C6.3).
pub const HASH_PARAMS: &str = "Version:PurchAmount:Exponent:Currency:OkUrl:FailUrl:MD:OrderId:ProcReturnCode:Response:mdStatus:";

/// InterPos `SecureType` of a 3D form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecureType {
    Model,
    Pay,
    Host,
}

impl SecureType {
    pub fn parse(raw: &str) -> Option<SecureType> {
        if raw.eq_ignore_ascii_case("3DModel") {
            Some(SecureType::Model)
        } else if raw.eq_ignore_ascii_case("3DPay") {
            Some(SecureType::Pay)
        } else if raw.eq_ignore_ascii_case("3DHost") {
            Some(SecureType::Host)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SecureType::Model => "3DModel",
            SecureType::Pay => "3DPay",
            SecureType::Host => "3DHost",
        }
    }
}

/// A card as the gate or the hosted page received it, checked.
#[derive(Clone)]
struct Card {
    pan: String,
    expiry: Expiry,
}

// Never print the card.
impl std::fmt::Debug for Card {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Card")
            .field("pan", &mask_pan(&self.pan))
            .finish_non_exhaustive()
    }
}

/// A gate form that passed every check.
#[derive(Debug, Clone)]
struct Checkout {
    shop_code: String,
    secure_type: SecureType,
    kind: OrderKind,
    order_id: String,
    amount_text: String,
    amount: i64,
    currency: Currency,
    installment: u32,
    ok_url: String,
    fail_url: String,
}

#[derive(Debug)]
pub(crate) struct Session {
    checkout: Checkout,
    /// `None` until the `3DHost` card page collected it.
    card: Option<Card>,
    created: DateTime<Utc>,
}

impl GateSession for Session {
    fn created(&self) -> DateTime<Utc> {
        self.created
    }
}

/// The open 3D sessions, by id.
pub(crate) type Sessions = gate_sessions::Sessions<Session>;

/// The last value posted under exactly `name`.
fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn text<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    field(fields, name).unwrap_or_default()
}

/// Where the ACS forms post: the gate's own directory + `/Acs/`, so the pages work wherever
/// the router is mounted (`/interpos/mpi/Default.aspx` → `/interpos/mpi/Acs/`).
fn acs_base(path: &str) -> String {
    let dir = match path.rfind("/Acs/") {
        Some(at) => &path[..at],
        None => path.rfind('/').map_or("", |at| &path[..at]),
    };
    if dir.is_empty() {
        "/interpos/mpi/Acs/".to_owned()
    } else {
        format!("{dir}/Acs/")
    }
}

fn is_http_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
        && !url.chars().any(char::is_control)
}

pub(crate) fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

/// `Hash` of a gate form.
pub fn form_hash(fields: &[(String, String)], merchant_pass: &str) -> String {
    let mut sha1 = Sha1::new();
    for name in [
        "ShopCode",
        "OrderId",
        "PurchAmount",
        "OkUrl",
        "FailUrl",
        "TxnType",
        "InstallmentCount",
        "Rnd",
    ] {
        sha1.update(text(fields, name).as_bytes());
    }
    sha1.update(merchant_pass.as_bytes());
    BASE64.encode(sha1.finalize())
}

/// `HASHPARAMSVAL` of a callback: the values [`HASH_PARAMS`] names, concatenated.
pub fn hash_params_val(fields: &[(String, String)]) -> String {
    HASH_PARAMS
        .split(':')
        .filter(|name| !name.is_empty())
        .map(|name| text(fields, name))
        .collect()
}

/// `HASH` of a callback: `b64(SHA1(HASHPARAMSVAL ‖ MerchantPass))`.
pub fn callback_hash(fields: &[(String, String)], merchant_pass: &str) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(hash_params_val(fields).as_bytes());
    sha1.update(merchant_pass.as_bytes());
    BASE64.encode(sha1.finalize())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

fn hex(rng: &mut impl Rng, bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rng.r#gen::<u8>()))
        .collect()
}

/// Checks the card fields of a gate form or of the hosted card page.
fn check_card(pan: &str, expiry: Option<Expiry>, cvv: &str) -> Result<Card, Code> {
    let pan: String = pan.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if !valid_pan(&pan) {
        return Err(codes::BAD_CARD_NUMBER);
    }
    let expiry = expiry.ok_or(codes::BAD_EXPIRY)?;
    if !valid_cvv(cvv.trim()) {
        return Err(codes::BAD_CVV);
    }
    Ok(Card { pan, expiry })
}

/// The hosted page's expiry: month `1`/`01`, year `YY`/`YYYY`.
fn page_expiry(month: &str, year: &str) -> Option<Expiry> {
    let (month, year) = (month.trim(), year.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(month) || month.len() > 2 || !digits(year) || !matches!(year.len(), 2 | 4) {
        return None;
    }
    Expiry::parse(month, year).ok()
}

/// Checks a gate form's fields (its hash and shop are already checked).
fn check_checkout(fields: &[(String, String)], shop_code: &str) -> Result<Checkout, Code> {
    let secure_type =
        SecureType::parse(text(fields, "SecureType").trim()).ok_or(codes::BAD_TXN_TYPE)?;
    let kind = OrderKind::parse(text(fields, "TxnType").trim()).ok_or(codes::BAD_TXN_TYPE)?;
    let order_id = text(fields, "OrderId").trim();
    if order_id.is_empty() || !valid_order_id(order_id) {
        return Err(codes::BAD_ORDER_ID);
    }
    let amount_text = text(fields, "PurchAmount").trim();
    let (currency, amount, installment) = parse_terms(
        text(fields, "Currency").trim(),
        amount_text,
        text(fields, "InstallmentCount").trim(),
    )?;
    let (ok_url, fail_url) = (text(fields, "OkUrl").trim(), text(fields, "FailUrl").trim());
    if !is_http_url(ok_url) || !is_http_url(fail_url) {
        return Err(codes::BAD_URL);
    }
    Ok(Checkout {
        shop_code: shop_code.to_owned(),
        secure_type,
        kind,
        order_id: order_id.to_owned(),
        amount_text: amount_text.to_owned(),
        amount,
        currency,
        installment,
        ok_url: ok_url.to_owned(),
        fail_url: fail_url.to_owned(),
    })
}

/// The card of a `3DModel`/`3DPay` form, with its `CardType`.
fn form_card(fields: &[(String, String)]) -> Result<Card, Code> {
    let card = check_card(
        text(fields, "Pan"),
        parse_expiry(text(fields, "Expiry").trim()),
        text(fields, "Cvv2"),
    )?;
    if card_type(&card.pan) != Some(text(fields, "CardType").trim()) {
        return Err(codes::BAD_CARD_TYPE);
    }
    Ok(card)
}

/// `(mdStatus, TxnStat)`.
fn statuses(decision: Decision) -> (&'static str, &'static str) {
    match decision {
        Decision::Otp { right: true } | Decision::Forced("1") => ("1", "Y"),
        Decision::Otp { right: false } | Decision::Cancelled | Decision::Forced("0") => ("0", "N"),
        Decision::Forced("2") => ("2", "N"),
        Decision::Forced("3") => ("3", "N"),
        Decision::Forced("4") => ("4", "A"),
        Decision::Forced("5") => ("5", "U"),
        Decision::Forced(_) => ("7", "E"),
    }
}

/// `mdStatus` values the bank provisions on (full and half secure).
fn authenticated(md_status: &str) -> bool {
    matches!(md_status, "1" | "2" | "3" | "4")
}

fn internal_error() -> Response {
    pages::html(
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::error("Sistem hatası", "System error", "Simülatör hatası."),
    )
}

/// `POST /mpi/3DHost.aspx` (and `/mpi/Default.aspx` for 3D forms, see `super::api`).
pub async fn gate(
    State(sim): State<InterposSim>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form::parse(&body, content_type(&headers));
    sim.gate_page(&fields, &acs_base(uri.path()))
        .unwrap_or_else(|Poisoned| internal_error())
}

/// `POST /mpi/Acs/{sessionId}`.
pub async fn acs(
    State(sim): State<InterposSim>,
    Path(session_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form::parse(&body, content_type(&headers));
    sim.acs_page(&session_id, &fields, &acs_base(uri.path()))
        .unwrap_or_else(|Poisoned| internal_error())
}

impl InterposSim {
    /// The gate's answer to a 3D form posted to `path`.
    pub(crate) fn gate_for(&self, fields: &[(String, String)], path: &str) -> Response {
        self.gate_page(fields, &acs_base(path))
            .unwrap_or_else(|Poisoned| internal_error())
    }

    fn gate_page(&self, fields: &[(String, String)], acs_base: &str) -> Result<Response, Poisoned> {
        let now = self.clock().now();
        let mut rng = rand::thread_rng();
        let shop_code = text(fields, "ShopCode").trim();
        let merchant_pass = self
            .books()?
            .store(shop_code)
            .map(|store| store.merchant_pass.clone());
        let refuse = |code: Code| {
            tracing::debug!(shop_code, code = code.code, "interpos sim 3D gate refused");
            Ok(gate_error(fields, code, merchant_pass.as_deref(), now))
        };
        let Some(key) = merchant_pass.as_deref() else {
            return refuse(codes::UNKNOWN_SHOP);
        };
        let expected = form_hash(fields, key);
        let posted = text(fields, "Hash").trim();
        if !constant_time_eq(posted.as_bytes(), expected.as_bytes()) {
            return refuse(codes::BAD_HASH);
        }
        let checked = check_checkout(fields, shop_code).and_then(|checkout| {
            let card = match checkout.secure_type {
                SecureType::Host => None,
                SecureType::Model | SecureType::Pay => Some(form_card(fields)?),
            };
            Ok((checkout, card))
        });
        let (checkout, card) = match checked {
            Ok(checked) => checked,
            Err(code) => return refuse(code),
        };
        if self.books()?.order_taken(shop_code, &checkout.order_id) {
            return refuse(codes::DUPLICATE_ORDER);
        }

        let id = hex(&mut rng, 16);
        let action = format!("{acs_base}{id}");
        let page = match &card {
            Some(card) => pages::challenge(&summary(&checkout, Some(card)), &action),
            None => pages::card_entry(&summary(&checkout, None), &action, None),
        };
        {
            let session = Session {
                checkout,
                card,
                created: now,
            };
            if !self.sessions()?.open(id, session, now) {
                return Ok(gate_sessions::busy_page());
            }
        }
        Ok(pages::html(StatusCode::OK, page))
    }

    fn acs_page(
        &self,
        id: &str,
        fields: &[(String, String)],
        acs_base: &str,
    ) -> Result<Response, Poisoned> {
        let now = self.clock().now();
        let cancel = text(fields, "action").trim() == "cancel";
        let session = {
            let mut sessions = self.sessions()?;
            let Some(session) = sessions.get_mut(id, now) else {
                return Ok(gate_sessions::not_found_page());
            };
            if session.card.is_none() && !cancel {
                // 3DHost card step.
                let checked = check_card(
                    text(fields, "pan"),
                    page_expiry(
                        text(fields, "Ecom_Payment_Card_ExpDate_Month"),
                        text(fields, "Ecom_Payment_Card_ExpDate_Year"),
                    ),
                    text(fields, "cv2"),
                )
                .and_then(|card| match card_type(&card.pan) {
                    Some(_) => Ok(card),
                    None => Err(codes::BAD_CARD_TYPE),
                });
                let action = format!("{acs_base}{id}");
                let page = match checked {
                    Ok(card) => {
                        let page =
                            pages::challenge(&summary(&session.checkout, Some(&card)), &action);
                        session.card = Some(card);
                        page
                    }
                    Err(error) => pages::card_entry(
                        &summary(&session.checkout, None),
                        &action,
                        Some(error.message),
                    ),
                };
                return Ok(pages::html(StatusCode::OK, page));
            }
            sessions.take(id, now)
        };
        let Some(session) = session else {
            return Ok(internal_error());
        };
        let decision = Decision::of(
            cancel,
            session.card.as_ref().map(|card| card.pan.as_str()),
            text(fields, "otp"),
        );
        self.finish(session, decision, now)
    }

    /// Ends a challenge: records or books what the model wants, then posts the callback.
    fn finish(
        &self,
        session: Session,
        decision: Decision,
        now: DateTime<Utc>,
    ) -> Result<Response, Poisoned> {
        let mut rng = rand::thread_rng();
        let Session { checkout, card, .. } = session;
        let (md_status, txn_stat) = statuses(decision);
        let visa = card.as_ref().is_some_and(|c| c.pan.starts_with('4'));
        let facts = ThreeDsFacts::issued(md_status, visa, &mut rng);

        let (merchant_pass, md, provision) = {
            let mut books = self.books()?;
            let merchant_pass = books
                .store(&checkout.shop_code)
                .map(|s| s.merchant_pass.clone())
                .unwrap_or_default();
            let md = books.next_md(&mut rng);
            let provision = match (checkout.secure_type, &card) {
                (SecureType::Model, Some(card)) => {
                    books.register_authentication(
                        &md,
                        Authentication {
                            shop_code: checkout.shop_code.clone(),
                            order_id: checkout.order_id.clone(),
                            kind: checkout.kind,
                            amount: checkout.amount,
                            currency: checkout.currency,
                            installment: checkout.installment,
                            pan: card.pan.clone(),
                            expiry: card.expiry,
                            holder: String::new(),
                            facts: facts.clone(),
                            at: now,
                            used: false,
                        },
                    );
                    None
                }
                (SecureType::Pay | SecureType::Host, Some(card)) if authenticated(md_status) => {
                    Some(books.book_gate_payment(
                        &checkout.shop_code,
                        checkout.kind,
                        &Payment {
                            order_id: &checkout.order_id,
                            pan: &card.pan,
                            expiry: card.expiry,
                            holder: "",
                            currency: checkout.currency,
                            amount: checkout.amount,
                            installment: checkout.installment,
                            user_code: "",
                            secure_type: checkout.secure_type.as_str(),
                            three_ds: Some(facts.clone()),
                        },
                        now,
                        &mut rng,
                    ))
                }
                _ => None,
            };
            (merchant_pass, md, provision)
        };

        let approved = provision
            .as_ref()
            .map(|p| p.field("ProcReturnCode") == Some("00"));
        let ok = authenticated(md_status) && approved != Some(false);
        tracing::debug!(
            shop_code = checkout.shop_code.as_str(),
            order_id = checkout.order_id.as_str(),
            md_status,
            provision = provision
                .as_ref()
                .and_then(|p| p.field("ProcReturnCode"))
                .unwrap_or(""),
            "interpos sim 3D authentication finished"
        );
        let callback = Callback {
            checkout: &checkout,
            card: card.as_ref(),
            facts: &facts,
            txn_stat,
            md: &md,
            provision: provision.as_ref(),
        };
        let fields = callback.fields(&merchant_pass, now);
        let url = if ok {
            &checkout.ok_url
        } else {
            &checkout.fail_url
        };
        Ok(pages::html(
            StatusCode::OK,
            pages::auto_submit(url, &fields),
        ))
    }
}

fn summary<'a>(checkout: &'a Checkout, card: Option<&Card>) -> pages::Summary<'a> {
    pages::Summary {
        merchant: &checkout.shop_code,
        order_id: &checkout.order_id,
        amount: format!("{} {}", checkout.amount_text, checkout.currency.code()),
        masked_card: card.map(|c| mask_pan(&c.pan)),
    }
}

/// What a finished challenge's callback is made of.
struct Callback<'a> {
    checkout: &'a Checkout,
    card: Option<&'a Card>,
    facts: &'a ThreeDsFacts,
    txn_stat: &'a str,
    md: &'a str,
    /// The gate's booking for `3DPay`/`3DHost` when authenticated.
    provision: Option<&'a Reply>,
}

/// The values of a callback that vary with the outcome.
struct CallbackResult<'a> {
    code: &'a str,
    error_code: &'a str,
    message: &'a str,
    auth_code: &'a str,
    host_ref: &'a str,
    trans_id: &'a str,
    trx_date: &'a str,
    txn_result: &'a str,
    response: &'a str,
}

impl Callback<'_> {
    /// The callback fields in order (see the module documentation), signed.
    fn fields(&self, merchant_pass: &str, now: DateTime<Utc>) -> Vec<(String, String)> {
        let checkout = self.checkout;
        let get = |name: &str| {
            self.provision
                .and_then(|reply| reply.field(name))
                .unwrap_or_default()
                .to_owned()
        };
        let now_text = trx_date(now);
        let (code, error_code, message, auth_code, host_ref, trans_id, trx) = match self.provision {
            Some(_) => (
                get("ProcReturnCode"),
                get("ErrorCode"),
                get("ErrorMessage"),
                get("AuthCode"),
                get("HostRefNum"),
                get("TransId"),
                get("TRXDATE"),
            ),
            None if authenticated(&self.facts.md_status) => {
                let none = String::new;
                (none(), none(), none(), none(), none(), none(), none())
            }
            None => (
                String::new(),
                String::new(),
                codes::THREEDS_FAILED.message.to_owned(),
                String::new(),
                String::new(),
                String::new(),
                now_text,
            ),
        };
        let approved = self.provision.is_some() && code == "00";
        let result = CallbackResult {
            code: &code,
            error_code: &error_code,
            message: &message,
            auth_code: &auth_code,
            host_ref: &host_ref,
            trans_id: &trans_id,
            trx_date: &trx,
            txn_result: match (self.provision.is_some(), approved) {
                (false, _) => "",
                (true, true) => "Success",
                (true, false) => "Failed",
            },
            response: match (self.provision.is_some(), approved) {
                (false, _) => "",
                (true, true) => "Approved",
                (true, false) => "Declined",
            },
        };
        callback_fields(
            checkout.shop_code.as_str(),
            self.txn_stat,
            self.md,
            self.facts,
            self.card
                .map(|c| mask_pan(&c.pan))
                .unwrap_or_default()
                .as_str(),
            checkout.order_id.as_str(),
            &echo_amount(checkout.amount, checkout.currency),
            checkout.currency.numeric_code(),
            &checkout.ok_url,
            &checkout.fail_url,
            &result,
            merchant_pass,
        )
    }
}

/// A callback in the real layout (C6.2), signed with `merchant_pass` (empty `HASH` when
/// there is no key).
#[allow(clippy::too_many_arguments)]
fn callback_fields(
    shop_code: &str,
    txn_stat: &str,
    md: &str,
    facts: &ThreeDsFacts,
    masked_pan: &str,
    order_id: &str,
    amount: &str,
    currency: &str,
    ok_url: &str,
    fail_url: &str,
    result: &CallbackResult<'_>,
    merchant_pass: &str,
) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::with_capacity(40);
    let mut push = |name: &str, value: &str| fields.push((name.to_owned(), value.to_owned()));
    push("Version", "");
    push("MerchantID", "");
    push("ShopCode", shop_code);
    push("TxnStat", txn_stat);
    push("MD", md);
    push("RetCode", "");
    push("RetDet", "");
    push("VenderCode", "");
    push("Eci", &facts.eci);
    push("PayerAuthenticationCode", &facts.cavv);
    push("PayerTxnId", &facts.xid);
    push("CavvAlg", if facts.cavv.is_empty() { "" } else { "3" });
    let verified = if authenticated(&facts.md_status) {
        "True"
    } else {
        "False"
    };
    push("PAResVerified", verified);
    push("PAResSyntaxOK", verified);
    push("Expiry", "****");
    push("Pan", masked_pan);
    push("OrderId", order_id);
    push("PurchAmount", amount);
    push("Exponent", "");
    push("Description", "");
    push("Description2", "");
    push("Currency", currency);
    push("OkUrl", ok_url);
    push("FailUrl", fail_url);
    push("3DStatus", &facts.md_status);
    push("AuthCode", result.auth_code);
    push("HostRefNum", result.host_ref);
    push("TransId", result.trans_id);
    push("TRXDATE", result.trx_date);
    push("CardHolderName", "");
    push("mdStatus", &facts.md_status);
    push("ProcReturnCode", result.code);
    push("TxnResult", result.txn_result);
    push("ErrorMessage", result.message);
    push("ErrorCode", result.error_code);
    push("Response", result.response);
    let signature = if merchant_pass.is_empty() {
        String::new()
    } else {
        callback_hash(&fields, merchant_pass)
    };
    let value = hash_params_val(&fields);
    fields.push(("HASH".into(), signature));
    fields.push(("HASHPARAMS".into(), HASH_PARAMS.into()));
    fields.push(("HASHPARAMSVAL".into(), value));
    fields
}

/// The gate's refusal, posted back to `FailUrl` in the callback layout with `mdStatus=0`
/// (signed when the shop is known, as C6.2); an error page when there is no http(s)
/// `FailUrl`.
fn gate_error(
    posted: &[(String, String)],
    code: Code,
    merchant_pass: Option<&str>,
    now: DateTime<Utc>,
) -> Response {
    let fail_url = text(posted, "FailUrl").trim();
    if !is_http_url(fail_url) {
        return pages::html(
            StatusCode::BAD_REQUEST,
            pages::error(
                "İşlem yapılamadı",
                "The payment cannot proceed",
                &format!("{} ({})", code.message, code.code),
            ),
        );
    }
    let pan = text(posted, "Pan").trim();
    let masked = if pan.len() >= 12 {
        mask_pan(pan)
    } else {
        String::new()
    };
    let result = CallbackResult {
        code: code.code,
        error_code: code.error_code,
        message: code.message,
        auth_code: "",
        host_ref: "",
        trans_id: "",
        trx_date: &trx_date(now),
        txn_result: "Failed",
        response: "",
    };
    let fields = callback_fields(
        text(posted, "ShopCode").trim(),
        "N",
        "",
        &ThreeDsFacts {
            md_status: "0".into(),
            ..ThreeDsFacts::default()
        },
        &masked,
        text(posted, "OrderId").trim(),
        &text(posted, "PurchAmount").trim().replace('.', ","),
        text(posted, "Currency").trim(),
        text(posted, "OkUrl").trim(),
        fail_url,
        &result,
        merchant_pass.unwrap_or_default(),
    );
    pages::html(StatusCode::OK, pages::auto_submit(fail_url, &fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// H6.1 of vpos-test-vectors.md (`InterPosCryptTest::threeDHashCreateDataProvider`).
    #[test]
    fn form_hash_matches_vector_h6_1() {
        let fields = pairs(&[
            ("ShopCode", "3123"),
            ("OrderId", "order222"),
            ("PurchAmount", "100.25"),
            ("TxnType", "Auth"),
            ("InstallmentCount", ""),
            ("OkUrl", "https://domain.com/success"),
            ("FailUrl", "https://domain.com/fail_url"),
            ("Rnd", "rand"),
        ]);
        assert_eq!(form_hash(&fields, "gDg1N"), "vEbwP8wnsGrBR9oCjfxP9wlho1g=");
    }

    /// H6.3 / C6.2 of vpos-test-vectors.md (`InterPosCryptTest::threeDHashCheckDataProvider`
    /// #1): the simulator signs callbacks exactly like the bank.
    #[test]
    fn callback_hash_matches_vector_h6_3() {
        let fields = pairs(&[
            ("Version", ""),
            ("PurchAmount", "1,01"),
            ("Exponent", ""),
            ("Currency", "949"),
            (
                "OkUrl",
                "http:\\/\\/localhost\\/interpos\\/3d\\/response.php",
            ),
            (
                "FailUrl",
                "http:\\/\\/localhost\\/interpos\\/3d\\/response.php",
            ),
            ("MD", ""),
            ("OrderId", "20221225E1DF"),
            ("ProcReturnCode", "81"),
            ("Response", ""),
            ("mdStatus", "0"),
        ]);
        assert_eq!(
            callback_hash(&fields, "gDg1N"),
            "423AWRAXl0VlEbQjpmAfntT5e3E="
        );
    }

    #[test]
    fn cards_are_checked_like_the_gate() {
        let card = check_card("4155 6501 0041 6111", parse_expiry("0130"), "000").unwrap();
        assert!(!format!("{card:?}").contains("4155650100416111"));
        assert_eq!(
            check_card("4155650100416112", parse_expiry("0130"), "000").unwrap_err(),
            codes::BAD_CARD_NUMBER
        );
        assert_eq!(
            check_card("4155650100416111", None, "000").unwrap_err(),
            codes::BAD_EXPIRY
        );
        assert_eq!(
            check_card("4155650100416111", parse_expiry("0130"), "12").unwrap_err(),
            codes::BAD_CVV
        );
        let form = pairs(&[
            ("Pan", "4155650100416111"),
            ("Expiry", "0130"),
            ("Cvv2", "000"),
            ("CardType", "1"),
        ]);
        assert_eq!(form_card(&form).unwrap_err(), codes::BAD_CARD_TYPE);
        assert!(page_expiry("1", "2030").is_some());
        assert!(page_expiry("13", "30").is_none());
    }

    #[test]
    fn urls_and_paths() {
        assert!(is_http_url("https://shop.example/cb"));
        for bad in [
            "javascript:alert(1)",
            "",
            "https://",
            "ftp://x",
            "http://a\nb",
        ] {
            assert!(!is_http_url(bad), "{bad:?}");
        }
        assert_eq!(acs_base("/interpos/mpi/Default.aspx"), "/interpos/mpi/Acs/");
        assert_eq!(
            acs_base("/sim/interpos/mpi/3DHost.aspx"),
            "/sim/interpos/mpi/Acs/"
        );
        assert_eq!(acs_base("/x/interpos/mpi/Acs/abc"), "/x/interpos/mpi/Acs/");
        assert_eq!(acs_base("Default.aspx"), "/interpos/mpi/Acs/");
        assert_eq!(SecureType::parse("3dpay"), Some(SecureType::Pay));
        assert_eq!(SecureType::parse("NonSecure"), None);
    }
}
