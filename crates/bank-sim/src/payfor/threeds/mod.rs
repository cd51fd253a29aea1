//! The PayFor 3D Secure gate with an ACS-like challenge page.
//!
//! # Routes (under `/payfor`, for both path prefixes `Gateway` (QNB Finansbank, Enpara) and
//! `Mpi` (Ziraat Katılım))
//!
//! * `POST /{prefix}/Default.aspx` (`3DModel`, `3DPay`) and `POST /{prefix}/3DHost.aspx`
//!   (`3DHost`; each page accepts every `SecureType`) — the merchant's form,
//!   `application/x-www-form-urlencoded` as a browser posts it, UTF-8 or ISO-8859-9
//!   (parsed by [`crate::nestpay::threeds::form`]). Fields (vectors R5.12–R5.15): `MbrId,
//!   MerchantID, UserCode, OrderId, Lang, SecureType, TxnType, PurchAmount,
//!   InstallmentCount, Currency, OkUrl, FailUrl, Rnd`, the card for `3DModel`/`3DPay`
//!   (`CardHolderName, Pan, Expiry (MMYY), Cvv2`) and `Hash`. The gate finds the merchant by
//!   `MerchantID` (`V004`) and the API user by `UserCode` with its `MbrId` (`V001`/`V004`;
//!   a form carries no password), checks `Hash` =
//!   `b64(SHA1(MbrId‖OrderId‖PurchAmount‖OkUrl‖FailUrl‖TxnType‖InstallmentCount‖Rnd‖MerchantPass))`
//!   (`M049`), then the fields as the API does (`M012`, `M041` for the card number), and
//!   refuses an `OrderId` an approved order already carries (`101310`, the real answer of
//!   vector P5.5). A refusal is posted straight back to `FailUrl` (an auto-submitting
//!   page) laid out like P5.5: `3DStatus=-1`, `ProcReturnCode`, `ErrMsg`, and a SHA-256
//!   `ResponseHash` without `HashType`, as the real gate signs such answers — unless the
//!   merchant is unknown (no key, empty `ResponseHash`). With no http(s) `FailUrl`, an HTML
//!   error page (HTTP 400) is all the gate can do. Otherwise the gate opens a 3D session (in
//!   memory, random 32-hex id, expiring after [`SESSION_TTL`] of bank time) and answers the
//!   challenge page of the NestPay simulator ([`crate::nestpay::threeds::pages`]): merchant,
//!   order, amount, masked card, an OTP field (the test OTP `123456` is printed on the
//!   page), "Onayla / Confirm" and "İptal / Cancel". For `3DHost` the page first asks for
//!   the card.
//! * `POST /{prefix}/Acs/{sessionId}` — the page's form: the `3DHost` card step (`pan`,
//!   `Ecom_Payment_Card_ExpDate_Month`, `Ecom_Payment_Card_ExpDate_Year`, `cv2`,
//!   `action=card`; a bad card re-shows the page with the error), then `otp` with
//!   `action=confirm` or `action=cancel`. The right OTP authenticates (`3DStatus=1`), a wrong
//!   one or Cancel does not (`3DStatus=-1`, as the real failed authentications of C5.1,
//!   C5.4, C5.6); the cards of [`crate::nestpay::threeds::MD_STATUS_CARDS`] force their
//!   status (`0`, `2`, `3`, `4`, `5`, `7`) whatever the OTP (Cancel still cancels). The
//!   session is then spent (a second submit, or one after expiry, gets an HTTP 404 page)
//!   and the answer is an auto-submitting form (with a visible button for browsers without
//!   JavaScript) posting the callback to `OkUrl` when `3DStatus=1` and, for
//!   `3DPay`/`3DHost`, the provision was approved; to `FailUrl` otherwise. Form actions use
//!   the request's own path prefix, so the pages work wherever the router is mounted.
//!
//! # Models
//!
//! * `3DModel`: the callback carries the authentication only: `ProcReturnCode=V033`
//!   ("3D Kullanıcı Doğrulama Adımı Başarılı") for `3DStatus=1`, else `V034`, with the
//!   `RequestGuid` that stands for the card, order, amount, currency, installments and
//!   `TxnType` in the simulator's books. The merchant provisions it once through the API
//!   (`SecureType=3DModelPayment`, rules in [`super::books`]); only `3DStatus=1` can be
//!   provisioned.
//! * `3DPay`, `3DHost`: on `3DStatus=1` the gate books the order itself — `Auth` or
//!   `PreAuth` per `TxnType`, with the API's rules and decline cards (so status, void,
//!   refund work on it) — and the callback carries the result (`00`, or the decline code).
//!   Other statuses book nothing and answer `MR15` "3D Secure Authorize Error" (C5.4).
//!
//! API faults (`POST /_sim/faults`) apply to the API only, 3D provisions included; the gate
//! and the ACS page are never faulted.
//!
//! # Callback fields, in order (a subset of the real ~130, C5.1–C5.6)
//!
//! `RequestGuid, TransactionDate, MbrId, MerchantID, OrderId, SecureType, PurchAmount,
//! Exponent, Currency, OkUrl, FailUrl, PayerTxnId (xid), PayerAuthenticationCode (cavv),
//! Eci, MD, Hash (the form's), TerminalID, TxnType, CardType, Lang, InstallmentCount, Rnd
//! (the form's), AlphaCode, CardHolderName, IrcDet, IrcCode, Version, TxnStatus, ErrMsg,
//! D3Stat, 3DStatus, TxnResult, AuthCode, HostRefNum, ProcReturnCode, BatchNo, CardMask,
//! RRN, ResponseRnd, ResponseHash, HashType=Sha1`, where `ResponseHash` =
//! `b64(SHA1(MerchantID‖MerchantPass‖OrderId‖AuthCode‖ProcReturnCode‖3DStatus‖ResponseRnd‖UserCode))`.
//! `Eci` is `05` (Visa) / `02` (others) for `3DStatus=1`, `06`/`01` for 4, empty otherwise;
//! `PayerAuthenticationCode` is set for 1 and 4; `D3Stat`: 1 → `Y`, 4 → `A`, 5 → `U`,
//! 7 → `E`, else `N`.
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
use domain::clock::{istanbul, to_local};
use domain::money::Currency;
use rand::Rng;
use sha1::{Digest as _, Sha1};
use sha2::Sha256;

use super::books::{
    self, Authentication, OrderKind, Payment, card_type, installment_text, mask_pan, parse_expiry,
    parse_terms, terminal_id, valid_cvv, valid_pan,
};
use super::codes::{self, Code};
use super::wire::Reply;
use super::{PayforSim, Poisoned};
use crate::gate_sessions::{self, GateSession};
use crate::nestpay::books::valid_order_id;
use crate::nestpay::threeds::{Decision, form, pages};

/// The 3D facts of an authentication, as the books keep them on the order: PayFor calls
/// them `3DStatus`, `PayerTxnId`, `Eci` and `PayerAuthenticationCode`.
pub use crate::nestpay::threeds::ThreeDsFacts;

/// PayFor `SecureType` of a 3D form.
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
    holder: String,
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
    merchant_id: String,
    mbr_id: String,
    user_code: String,
    secure_type: SecureType,
    kind: OrderKind,
    /// `TxnType` as posted.
    tran_type: String,
    order_id: String,
    amount_text: String,
    amount: i64,
    currency: Currency,
    installment: u32,
    installment_text: String,
    ok_url: String,
    fail_url: String,
    lang: String,
    rnd: String,
    hash: String,
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

/// `MerchantID` (forms), or `MerchantId`.
fn merchant_field(fields: &[(String, String)]) -> &str {
    field(fields, "MerchantID")
        .or_else(|| field(fields, "MerchantId"))
        .unwrap_or_default()
        .trim()
}

/// Where the ACS forms post: the gate's own directory + `/Acs/`, so the pages work wherever
/// the router is mounted (`/payfor/Gateway/Default.aspx` → `/payfor/Gateway/Acs/`).
fn acs_base(path: &str) -> String {
    let dir = match path.rfind("/Acs/") {
        Some(at) => &path[..at],
        None => path.rfind('/').map_or("", |at| &path[..at]),
    };
    if dir.is_empty() {
        "/payfor/Gateway/Acs/".to_owned()
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

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

/// `Hash` of a gate form.
pub fn form_hash(fields: &[(String, String)], merchant_pass: &str) -> String {
    let mut sha1 = Sha1::new();
    for name in [
        "MbrId",
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

/// `ResponseHash` of a callback: SHA-1 (`HashType=Sha1`) or SHA-256 over
/// `MerchantID‖MerchantPass‖OrderId‖AuthCode‖ProcReturnCode‖3DStatus‖ResponseRnd‖UserCode`.
pub fn response_hash(fields: &[(String, String)], merchant_pass: &str, sha256: bool) -> String {
    let parts = [
        merchant_field(fields),
        merchant_pass,
        text(fields, "OrderId"),
        text(fields, "AuthCode"),
        text(fields, "ProcReturnCode"),
        text(fields, "3DStatus"),
        text(fields, "ResponseRnd"),
        text(fields, "UserCode"),
    ];
    if sha256 {
        let mut digest = Sha256::new();
        parts.iter().for_each(|p| digest.update(p.as_bytes()));
        BASE64.encode(digest.finalize())
    } else {
        let mut digest = Sha1::new();
        parts.iter().for_each(|p| digest.update(p.as_bytes()));
        BASE64.encode(digest.finalize())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

fn hex(rng: &mut impl Rng, bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rng.r#gen::<u8>()))
        .collect()
}

/// `ResponseRnd` like `PF638028524588902912`.
fn response_rnd(rng: &mut impl Rng) -> String {
    format!(
        "PF{:09}{:09}",
        rng.gen_range(0..1_000_000_000u32),
        rng.gen_range(0..1_000_000_000u32)
    )
}

/// `TransactionDate` like `31.10.2022 22:34:18`, bank-local time.
fn transaction_date(now: DateTime<Utc>) -> String {
    to_local(now, istanbul())
        .format("%d.%m.%Y %H:%M:%S")
        .to_string()
}

/// Checks the card fields of a gate form or of the hosted card page.
fn check_card(pan: &str, expiry: Option<Expiry>, cvv: &str, holder: &str) -> Result<Card, Code> {
    let pan: String = pan.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if !valid_pan(&pan) {
        return Err(codes::BAD_CARD_NUMBER);
    }
    let expiry = expiry.ok_or(codes::BAD_EXPIRY)?;
    if !valid_cvv(cvv.trim()) {
        return Err(codes::BAD_CVV);
    }
    Ok(Card {
        pan,
        expiry,
        holder: holder.trim().to_owned(),
    })
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

/// Checks a gate form's fields (its hash and account are already checked).
fn check_checkout(
    fields: &[(String, String)],
    merchant_id: &str,
    mbr_id: &str,
    user_code: &str,
) -> Result<Checkout, Code> {
    let secure_type =
        SecureType::parse(text(fields, "SecureType").trim()).ok_or(codes::BAD_TXN_TYPE)?;
    let tran_type = text(fields, "TxnType").trim();
    let kind = if tran_type.eq_ignore_ascii_case("Auth") {
        OrderKind::Sale
    } else if tran_type.eq_ignore_ascii_case("PreAuth") {
        OrderKind::PreAuth
    } else {
        return Err(codes::BAD_TXN_TYPE);
    };
    let order_id = text(fields, "OrderId").trim();
    if order_id.is_empty() || !valid_order_id(order_id) {
        return Err(codes::BAD_ORDER_ID);
    }
    let amount_text = text(fields, "PurchAmount").trim();
    let installment_raw = text(fields, "InstallmentCount").trim();
    let (currency, amount, installment) = parse_terms(
        text(fields, "Currency").trim(),
        amount_text,
        installment_raw,
    )?;
    let (ok_url, fail_url) = (text(fields, "OkUrl").trim(), text(fields, "FailUrl").trim());
    if !is_http_url(ok_url) || !is_http_url(fail_url) {
        return Err(codes::BAD_URL);
    }
    let lang = if text(fields, "Lang").trim().eq_ignore_ascii_case("en") {
        "en"
    } else {
        "tr"
    };
    Ok(Checkout {
        merchant_id: merchant_id.to_owned(),
        mbr_id: mbr_id.to_owned(),
        user_code: user_code.to_owned(),
        secure_type,
        kind,
        tran_type: tran_type.to_owned(),
        order_id: order_id.to_owned(),
        amount_text: amount_text.to_owned(),
        amount,
        currency,
        installment,
        installment_text: if installment_raw.is_empty() {
            installment_text(installment)
        } else {
            installment_raw.to_owned()
        },
        ok_url: ok_url.to_owned(),
        fail_url: fail_url.to_owned(),
        lang: lang.to_owned(),
        rnd: text(fields, "Rnd").to_owned(),
        hash: text(fields, "Hash").to_owned(),
    })
}

/// `(3DStatus, D3Stat)`.
fn statuses(decision: Decision) -> (&'static str, &'static str) {
    match decision {
        Decision::Otp { right: true } | Decision::Forced("1") => ("1", "Y"),
        Decision::Otp { right: false } | Decision::Cancelled => ("-1", "N"),
        Decision::Forced("0") => ("0", "N"),
        Decision::Forced("2") => ("2", "N"),
        Decision::Forced("3") => ("3", "N"),
        Decision::Forced("4") => ("4", "A"),
        Decision::Forced("5") => ("5", "U"),
        Decision::Forced(_) => ("7", "E"),
    }
}

fn internal_error() -> Response {
    pages::html(
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::error("Sistem hatası", "System error", "Simülatör hatası."),
    )
}

/// `POST /{prefix}/Default.aspx` and `POST /{prefix}/3DHost.aspx`.
pub async fn gate(
    State(sim): State<PayforSim>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form::parse(&body, content_type(&headers));
    sim.gate_page(&fields, &acs_base(uri.path()))
        .unwrap_or_else(|Poisoned| internal_error())
}

/// `POST /{prefix}/Acs/{sessionId}`.
pub async fn acs(
    State(sim): State<PayforSim>,
    Path(session_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form::parse(&body, content_type(&headers));
    sim.acs_page(&session_id, &fields, &acs_base(uri.path()))
        .unwrap_or_else(|Poisoned| internal_error())
}

impl PayforSim {
    fn gate_page(&self, fields: &[(String, String)], acs_base: &str) -> Result<Response, Poisoned> {
        let now = self.clock().now();
        let mut rng = rand::thread_rng();
        let merchant_id = merchant_field(fields);
        let user_code = text(fields, "UserCode").trim();
        let mbr_id = text(fields, "MbrId").trim();
        let (merchant_pass, account) = {
            let books = self.books()?;
            match books.store(merchant_id) {
                None => (None, Err(codes::UNKNOWN_MERCHANT)),
                Some(store) => {
                    let account = match store.user(user_code) {
                        None => Err(codes::BAD_CREDENTIALS),
                        Some(user) if user.mbr_id != mbr_id => Err(codes::UNKNOWN_MERCHANT),
                        Some(_) => Ok(()),
                    };
                    (Some(store.merchant_pass.clone()), account)
                }
            }
        };
        let refuse = |code: Code, rng: &mut rand::rngs::ThreadRng| {
            tracing::debug!(merchant_id, code = code.code, "payfor sim 3D gate refused");
            Ok(gate_error(fields, code, merchant_pass.as_deref(), now, rng))
        };
        let Some(key) = merchant_pass.as_deref() else {
            return refuse(codes::UNKNOWN_MERCHANT, &mut rng);
        };
        if let Err(code) = account {
            return refuse(code, &mut rng);
        }
        let expected = form_hash(fields, key);
        let posted = text(fields, "Hash").trim();
        if !constant_time_eq(posted.as_bytes(), expected.as_bytes()) {
            return refuse(codes::BAD_HASH, &mut rng);
        }
        let checked = check_checkout(fields, merchant_id, mbr_id, user_code).and_then(|checkout| {
            let card = match checkout.secure_type {
                SecureType::Host => None,
                SecureType::Model | SecureType::Pay => Some(check_card(
                    text(fields, "Pan"),
                    parse_expiry(text(fields, "Expiry").trim()),
                    text(fields, "Cvv2"),
                    text(fields, "CardHolderName"),
                )?),
            };
            Ok((checkout, card))
        });
        let (checkout, card) = match checked {
            Ok(checked) => checked,
            Err(code) => return refuse(code, &mut rng),
        };
        if self.books()?.order_taken(merchant_id, &checkout.order_id) {
            return refuse(codes::DUPLICATE_ORDER, &mut rng);
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
                    "",
                );
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
        let (md_status, d3_stat) = statuses(decision);
        let visa = card.as_ref().is_some_and(|c| c.pan.starts_with('4'));
        let facts = ThreeDsFacts::issued(md_status, visa, &mut rng);

        let (merchant_pass, batch, request_guid, provision) = {
            let mut books = self.books()?;
            let (merchant_pass, batch) = books
                .store(&checkout.merchant_id)
                .map(|s| (s.merchant_pass.clone(), s.batch))
                .unwrap_or_default();
            let request_guid = books.next_request_guid(now).request_guid;
            let provision = match (checkout.secure_type, &card) {
                (SecureType::Model, Some(card)) => {
                    books.register_authentication(
                        &request_guid,
                        Authentication {
                            merchant_id: checkout.merchant_id.clone(),
                            mbr_id: checkout.mbr_id.clone(),
                            user_code: checkout.user_code.clone(),
                            order_id: checkout.order_id.clone(),
                            kind: checkout.kind,
                            amount: checkout.amount,
                            currency: checkout.currency,
                            installment: checkout.installment,
                            pan: card.pan.clone(),
                            expiry: card.expiry,
                            holder: card.holder.clone(),
                            facts: facts.clone(),
                            at: now,
                            used: false,
                        },
                    );
                    None
                }
                (SecureType::Pay | SecureType::Host, Some(card)) if md_status == "1" => {
                    Some(books.book_gate_payment(
                        &checkout.merchant_id,
                        checkout.kind,
                        &Payment {
                            order_id: &checkout.order_id,
                            pan: &card.pan,
                            expiry: card.expiry,
                            holder: &card.holder,
                            currency: checkout.currency,
                            amount: checkout.amount,
                            installment: checkout.installment,
                            mbr_id: &checkout.mbr_id,
                            user_code: &checkout.user_code,
                            secure_type: checkout.secure_type.as_str(),
                            three_ds: Some(facts.clone()),
                        },
                        now,
                        &mut rng,
                    ))
                }
                _ => None,
            };
            (merchant_pass, batch, request_guid, provision)
        };

        let approved = provision
            .as_ref()
            .map(|p| p.field("ProcReturnCode") == Some("00"));
        let ok = md_status == "1" && approved != Some(false);
        tracing::debug!(
            merchant_id = checkout.merchant_id.as_str(),
            order_id = checkout.order_id.as_str(),
            md_status,
            provision = provision
                .as_ref()
                .and_then(|p| p.field("ProcReturnCode"))
                .unwrap_or(""),
            "payfor sim 3D authentication finished"
        );
        let callback = Callback {
            checkout: &checkout,
            card: card.as_ref(),
            facts: &facts,
            d3_stat,
            cancelled: decision == Decision::Cancelled,
            request_guid: &request_guid,
            batch,
            provision: provision.as_ref(),
        };
        let fields = callback.fields(&merchant_pass, now, &mut rng);
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
        merchant: &checkout.merchant_id,
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
    d3_stat: &'a str,
    cancelled: bool,
    request_guid: &'a str,
    batch: u32,
    /// The gate's booking for `3DPay`/`3DHost` with `3DStatus=1`.
    provision: Option<&'a Reply>,
}

impl Callback<'_> {
    /// The callback fields in order (see the module documentation), signed.
    fn fields(
        &self,
        merchant_pass: &str,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Vec<(String, String)> {
        let checkout = self.checkout;
        let authenticated = self.facts.md_status == "1";
        let (code, message, auth_code, host_ref, approved) = match self.provision {
            Some(reply) => {
                let f = |name| reply.field(name).unwrap_or_default().to_owned();
                let code = f("ProcReturnCode");
                let approved = code == "00";
                (code, f("ErrMsg"), f("AuthCode"), f("HostRefNum"), approved)
            }
            None => {
                let code = match (checkout.secure_type, authenticated) {
                    (SecureType::Model, true) => codes::THREEDS_AUTHENTICATED,
                    (SecureType::Model, false) => codes::THREEDS_FAILED,
                    (_, _) => codes::THREEDS_PAY_FAILED,
                };
                (
                    code.code.to_owned(),
                    code.message.to_owned(),
                    String::new(),
                    String::new(),
                    false,
                )
            }
        };
        let irc = if authenticated {
            (String::new(), String::new())
        } else if self.cancelled {
            (
                "İşlem kart sahibi tarafından iptal edildi.".to_owned(),
                "MR15".to_owned(),
            )
        } else {
            ("3D Secure Authorize Error".to_owned(), "MR15".to_owned())
        };
        let card = self.card;
        let mut fields: Vec<(String, String)> = Vec::with_capacity(44);
        let mut push = |name: &str, value: &str| fields.push((name.to_owned(), value.to_owned()));
        push("RequestGuid", self.request_guid);
        push("TransactionDate", &transaction_date(now));
        push("MbrId", &checkout.mbr_id);
        push("MerchantID", &checkout.merchant_id);
        push("OrderId", &checkout.order_id);
        push("SecureType", checkout.secure_type.as_str());
        push("PurchAmount", &checkout.amount_text);
        push("Exponent", &checkout.currency.minor_units().to_string());
        push("Currency", checkout.currency.numeric_code());
        push("OkUrl", &checkout.ok_url);
        push("FailUrl", &checkout.fail_url);
        push("PayerTxnId", &self.facts.xid);
        push("PayerAuthenticationCode", &self.facts.cavv);
        push("Eci", &self.facts.eci);
        push("MD", "");
        push("Hash", &checkout.hash);
        push("TerminalID", &terminal_id(&checkout.merchant_id));
        push("TxnType", &checkout.tran_type);
        push("CardType", card.map_or("", |c| card_type(&c.pan)));
        push("Lang", &checkout.lang);
        push("InstallmentCount", &checkout.installment_text);
        push("Rnd", &checkout.rnd);
        push("AlphaCode", books::alpha_code(checkout.currency));
        push("CardHolderName", card.map_or("", |c| c.holder.as_str()));
        push("IrcDet", &irc.0);
        push("IrcCode", &irc.1);
        push("Version", "1.0.2");
        push("TxnStatus", if approved { "Y" } else { "N" });
        push("ErrMsg", &message);
        push("D3Stat", self.d3_stat);
        push("3DStatus", &self.facts.md_status);
        push("TxnResult", if approved { "Success" } else { "Failed" });
        push("AuthCode", &auth_code);
        push("HostRefNum", &host_ref);
        push("ProcReturnCode", &code);
        push("BatchNo", &self.batch.to_string());
        push(
            "CardMask",
            &card.map(|c| mask_pan(&c.pan)).unwrap_or_default(),
        );
        push("RRN", &host_ref);
        push("ResponseRnd", &response_rnd(rng));
        push("UserCode", &checkout.user_code);
        let signature = response_hash(&fields, merchant_pass, false);
        fields.retain(|(k, _)| k != "UserCode");
        fields.push(("ResponseHash".into(), signature));
        fields.push(("HashType".into(), "Sha1".into()));
        fields
    }
}

/// The gate's refusal, posted back to `FailUrl` in the layout of vector P5.5 (signed with
/// SHA-256 when the merchant is known); an error page when there is no http(s) `FailUrl`.
fn gate_error(
    posted: &[(String, String)],
    code: Code,
    merchant_pass: Option<&str>,
    now: DateTime<Utc>,
    rng: &mut impl Rng,
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
    let mut fields: Vec<(String, String)> = Vec::with_capacity(32);
    let mut push = |name: &str, value: &str| fields.push((name.to_owned(), value.to_owned()));
    push("RequestGuid", "0");
    push("TransactionDate", &transaction_date(now));
    push("MbrId", text(posted, "MbrId"));
    push("MerchantID", merchant_field(posted));
    for name in ["OrderId", "SecureType", "PurchAmount"] {
        push(name, text(posted, name));
    }
    push("Exponent", "");
    for name in ["Currency", "OkUrl", "FailUrl"] {
        push(name, text(posted, name));
    }
    push("PayerTxnId", "");
    push("PayerAuthenticationCode", "");
    push("Eci", "");
    push("MD", "");
    for name in [
        "Hash",
        "TxnType",
        "InstallmentCount",
        "Rnd",
        "Lang",
        "CardHolderName",
    ] {
        push(name, text(posted, name));
    }
    push("TxnStatus", "");
    push("ErrMsg", code.message);
    push("3DStatus", "-1");
    push("TxnResult", "");
    push("AuthCode", "");
    push("HostRefNum", "");
    push("ProcReturnCode", code.code);
    push("ResponseRnd", &response_rnd(rng));
    push("UserCode", text(posted, "UserCode"));
    let signature = merchant_pass
        .map(|key| response_hash(&fields, key, true))
        .unwrap_or_default();
    fields.retain(|(k, _)| k != "UserCode");
    fields.push(("ResponseHash".into(), signature));
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

    /// H5.1 of vpos-test-vectors.md (`PayForPosCryptTest::threeDHashCreateDataProvider`).
    #[test]
    fn form_hash_matches_vector_h5_1() {
        let fields = pairs(&[
            ("MbrId", "5"),
            ("OrderId", "2020110828BC"),
            ("PurchAmount", "100.01"),
            (
                "OkUrl",
                "http://localhost/finansbank-payfor/3d/response.php",
            ),
            (
                "FailUrl",
                "http://localhost/finansbank-payfor/3d/response.php",
            ),
            ("TxnType", "Auth"),
            ("InstallmentCount", "0"),
            ("Rnd", "0.43625700 1604831630"),
        ]);
        assert_eq!(
            form_hash(&fields, "12345678"),
            "zmSUxYPhmCj7QOzqpk/28LuE1Oc="
        );
    }

    /// H5.2 (SHA-1) and P5.5 (SHA-256) of vpos-test-vectors.md.
    #[test]
    fn response_hashes_match_the_vectors() {
        let fields = pairs(&[
            ("MerchantID", "085300000009704"),
            ("OrderId", "20221031FD04"),
            ("AuthCode", ""),
            ("ProcReturnCode", "V033"),
            ("3DStatus", "1"),
            ("ResponseRnd", "PF638028511007418219"),
            ("UserCode", "QNB_API_KULLANICI_3DPAY"),
        ]);
        assert_eq!(
            response_hash(&fields, "12345678", false),
            "rVcKoOOl3jKukGLHcQaVM6ZuznU="
        );
        let fields = pairs(&[
            ("MerchantID", "085300000009704"),
            ("OrderId", "202403173F72"),
            ("ProcReturnCode", "101310"),
            ("3DStatus", "-1"),
            ("ResponseRnd", "PF638462944484307452"),
            ("UserCode", "QNB_API_KULLANICI_3DPAY"),
        ]);
        assert_eq!(
            response_hash(&fields, "12345678", true),
            "wWLUtYZD9VUIi9Pl3mAyS02LLsUxWy6lauMfFBiuVDw="
        );
    }

    #[test]
    fn cards_are_checked_like_the_gate() {
        let card = check_card("4155 6501 0041 6111", parse_expiry("0130"), "000", " A ").unwrap();
        assert_eq!(card.holder, "A");
        assert!(!format!("{card:?}").contains("4155650100416111"));
        assert_eq!(
            check_card("4155650100416112", parse_expiry("0130"), "000", "").unwrap_err(),
            codes::BAD_CARD_NUMBER
        );
        assert_eq!(
            check_card("4155650100416111", None, "000", "").unwrap_err(),
            codes::BAD_EXPIRY
        );
        assert_eq!(
            check_card("4155650100416111", parse_expiry("0130"), "12", "").unwrap_err(),
            codes::BAD_CVV
        );
        assert!(page_expiry("1", "2030").is_some());
        assert!(page_expiry("13", "30").is_none());
        assert!(page_expiry("12", "3").is_none());
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
        assert_eq!(
            acs_base("/payfor/Gateway/Default.aspx"),
            "/payfor/Gateway/Acs/"
        );
        assert_eq!(
            acs_base("/sim/payfor/Mpi/3DHost.aspx"),
            "/sim/payfor/Mpi/Acs/"
        );
        assert_eq!(
            acs_base("/x/payfor/Gateway/Acs/abc"),
            "/x/payfor/Gateway/Acs/"
        );
        assert_eq!(acs_base("Default.aspx"), "/payfor/Gateway/Acs/");
        assert_eq!(SecureType::parse("3dpay"), Some(SecureType::Pay));
        assert_eq!(SecureType::parse("NonSecure"), None);
    }
}
