//! The NestPay 3D Secure gate (`est3Dgate`) with an ACS-like challenge page.
//!
//! # Routes (under `/nestpay`)
//!
//! * `POST /fim/est3Dgate` (also `/fim/est3dgate`, QNB's spelling) — the merchant's form,
//!   `application/x-www-form-urlencoded` as a browser posts it, UTF-8 or ISO-8859-9 (see
//!   [`form`]). The gate finds the store by `clientid`, checks the form's `hash` exactly as
//!   the bank does (ver3 SHA-512 when `hashAlgorithm=ver3`, else the legacy v1 SHA-1 of
//!   `clientid‖oid‖amount‖okUrl‖failUrl‖islemtipi‖taksit‖rnd‖storeKey`, see [`hash`]), then
//!   the fields: `storetype` (`3d`, `3d_pay`, `3d_host`), `TranType`/`islemtipi` (`Auth`,
//!   `PreAuth`), `oid` (≤ 64 of `[A-Za-z0-9_.-]`), `currency` (ISO 4217 numeric), `amount`
//!   (`.`-decimal, > 0, the currency's decimals), `taksit` (empty or 2..12, TRY only),
//!   `okUrl`/`failUrl` (http or https), and for `3d`/`3d_pay` the card: `pan` (12–19 digits,
//!   Luhn), `Ecom_Payment_Card_ExpDate_Month`/`Year`, `cv2` (3–4 digits). A failure is
//!   posted straight back to `failUrl` (an auto-submitting page) with `Response=Error`,
//!   `ErrorCode` and `ErrMsg` (the [`super::codes::GateError`] list:
//!   `HPP-1001` bad card number as the real bank (P1.6), `HPP-1002`…`HPP-1011` and
//!   `HASH_ERROR` for a wrong `hash`, the simulator's choices), signed with the store key
//!   like every callback — except when the store is unknown (`HPP-1011`, no `HASH`). With no
//!   usable `failUrl`, an HTML error page (HTTP 400) is all the gate can do.
//!   Otherwise the gate opens a 3D session (in memory, random 32-hex id, expiring after
//!   [`SESSION_TTL`] of bank time) and answers the challenge page: merchant, order, amount,
//!   masked card, an OTP field (the test OTP [`TEST_OTP`] is printed on the page),
//!   "Onayla / Confirm" and "İptal / Cancel". For `3d_host` the page first asks for the
//!   card (number, expiry, CVC), then the OTP.
//! * `POST /fim/acs/{sessionId}` — the page's form: `pan`, `Ecom_Payment_Card_ExpDate_Month`,
//!   `Ecom_Payment_Card_ExpDate_Year`, `cv2`, `action=card` on the `3d_host` card step
//!   (a bad card re-shows the page with the error); then `otp` with `action=confirm` or
//!   `action=cancel`. The right OTP authenticates (`mdStatus=1`), a wrong one does not
//!   (`mdStatus=0`, "Not authenticated"), Cancel gives `mdStatus=0` with a cancel message;
//!   the cards of [`MD_STATUS_CARDS`] force their status whatever the OTP (Cancel still
//!   cancels). The session is then spent (a second submit, or one after expiry, gets an
//!   HTTP 404 page) and the answer is an auto-submitting form (with a visible button for
//!   browsers without JavaScript) posting the callback to `okUrl` when `mdStatus=1` and,
//!   for `3d_pay`/`3d_host`, the provision was approved; to `failUrl` otherwise.
//!
//! # Models
//!
//! * `3d`: the callback carries the authentication only. Its `md`
//!   (`435508:<64 hex>:<4 digits>:##<clientid>`, like the real bank's) stands for the card,
//!   order, amount and currency in the simulator's books; the merchant provisions it once
//!   through `POST /fim/api` (`Number=md`, `PayerTxnId`, `PayerSecurityLevel`,
//!   `PayerAuthenticationCode`; rules in [`super::books`]). Only `mdStatus=1` can be
//!   provisioned: the simulator does not do half-secure (2/3/4) provisions.
//! * `3d_pay`, `3d_host`: on `mdStatus=1` the gate books the order itself — `Auth` or
//!   `PreAuth` per `TranType`, with the same rules and decline cards as the API (so status,
//!   void, refund work on it) — and the callback carries the result. Other statuses book
//!   nothing (no half-secure provision), as in vector C1.6.
//!
//! API faults (`POST /_sim/faults`) apply to the API only, 3D provisions included; the gate
//! and the ACS page are never faulted.
//!
//! # Callback fields, in order
//!
//! `clientid, oid, ReturnOid (3d_pay/3d_host), amount, currency, taksit, storetype,
//! islemtipi (as vector H1.5: the real bank echoes it under this name even for ver3), lang,
//! okUrl, failUrl, rnd (the bank's own), md, xid, eci, cavv, mdStatus, mdErrorMsg, txstatus,
//! PAResSyntaxOK, PAResVerified, version, sID, dsId, callbackCall, MaskedPan
//! (`435508***4358`), maskedCreditCard (`4355 08** **** 4358`),
//! Ecom_Payment_Card_ExpDate_Year, Ecom_Payment_Card_ExpDate_Month, merchantID, ACQBIN`,
//! then for a `3d_pay`/`3d_host` provision `ProcReturnCode, Response, AuthCode, HostRefNum,
//! TransId, ErrMsg, SettleId, EXTRA_TRXDATE, EXTRA_HOSTDATE, EXTRA_CARDBRAND,
//! EXTRA_CARDISSUER, EXTRA_ERRORCODE, acqStan`, then `encoding=UTF-8` (the pages post UTF-8)
//! and the signature: for a ver3 form `hashAlgorithm=ver3, HASH` (ver3 over every field),
//! for a legacy form `HASHPARAMS, HASHPARAMSVAL, HASH` over
//! `clientid:oid:mdStatus:cavv:eci:md:rnd:` (with a provision:
//! `clientid:oid:AuthCode:ProcReturnCode:Response:mdStatus:cavv:eci:md:rnd:`, as C1.5).
//! `eci` is `05` (Visa) / `02` (others) for `mdStatus=1`, `06`/`01` for 4, empty otherwise;
//! `cavv` is set for 1 and 4. `txstatus`: 1 → `Y`, 4 → `A`, 5 → `U`, 7 → `E`, else `N`.
//!
//! A gate error callback: `clientid, oid, amount, currency, taksit, storetype,
//! TranType|islemtipi (as posted), lang, okUrl, failUrl, rnd, Ecom_Payment_Card_ExpDate_Month,
//! Ecom_Payment_Card_ExpDate_Year, maskedCreditCard, MaskedPan, Response=Error, ErrMsg,
//! ErrorCode, traceId, encoding`, then the signature (legacy over
//! `clientid:oid:Response:ErrorCode:mdStatus:rnd:`).
//!
//! # Test cards ([`MD_STATUS_CARDS`], Luhn-valid)
//!
//! | Card | mdStatus | meaning |
//! |---|---|---|
//! | `4355084355084358` (Visa), `5406675406675403` (Mastercard) | 1 | authenticated, whatever the OTP |
//! | `4355080000000005`, `5406670000000009` | 0 | authentication failed |
//! | `4355080000002001`, `5406670000002005` | 2 | card not enrolled |
//! | `4355080000003009`, `5406670000003003` | 3 | issuer not participating |
//! | `4355080000004007`, `5406670000004001` | 4 | attempt (authentication not available) |
//! | `4355080000005004`, `5406670000005008` | 5 | unable to verify |
//! | `4355080000007000`, `5406670000007004` | 7 | system error |
//!
//! Every other card is authenticated by the OTP alone; the Craftgate decline cards
//! ([`super::codes::decline_for_card`]) authenticate normally and are declined at provision
//! time (API provision for `3d`, the gate's booking for `3d_pay`/`3d_host`).
//!
//! [`SESSION_TTL`]: crate::gate_sessions::SESSION_TTL

pub mod form;
pub mod hash;
pub mod pages;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use domain::card::{Expiry, luhn_valid};
use domain::money::Currency;
use rand::Rng;

use super::books::{
    Authentication, OrderKind, Payment, mask_pan, parse_amount, parse_installment, valid_order_id,
};
use super::codes::{self, GateError};
use super::wire::Cc5Response;
use super::{NestPaySim, Poisoned};
use crate::gate_sessions::{self, GateSession};
pub use pages::TEST_OTP;

/// `ACQBIN` of every callback (İşbank's acquirer BIN in vector C1.5).
const ACQBIN: &str = "406456";

/// Test cards whose `mdStatus` does not depend on the OTP (see the module documentation).
pub const MD_STATUS_CARDS: [(&str, &str); 14] = [
    ("4355084355084358", "1"),
    ("5406675406675403", "1"),
    ("4355080000000005", "0"),
    ("5406670000000009", "0"),
    ("4355080000002001", "2"),
    ("5406670000002005", "2"),
    ("4355080000003009", "3"),
    ("5406670000003003", "3"),
    ("4355080000004007", "4"),
    ("5406670000004001", "4"),
    ("4355080000005004", "5"),
    ("5406670000005008", "5"),
    ("4355080000007000", "7"),
    ("5406670000007004", "7"),
];

/// The `mdStatus` a test card forces, if it is one of [`MD_STATUS_CARDS`].
pub fn forced_md_status(pan: &str) -> Option<&'static str> {
    MD_STATUS_CARDS
        .iter()
        .find(|(card, _)| *card == pan)
        .map(|(_, status)| *status)
}

/// How the cardholder's challenge ended, on every family's challenge page; each family
/// maps it to its own callback statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Otp { right: bool },
    Cancelled,
    Forced(&'static str),
}

impl Decision {
    /// The page's answer: cancelled, else what the test card `pan` forces
    /// ([`forced_md_status`]), else whether the OTP typed is [`TEST_OTP`].
    pub(crate) fn of(cancelled: bool, pan: Option<&str>, otp: &str) -> Decision {
        if cancelled {
            Decision::Cancelled
        } else if let Some(forced) = pan.and_then(forced_md_status) {
            Decision::Forced(forced)
        } else {
            Decision::Otp {
                right: otp.trim() == TEST_OTP,
            }
        }
    }
}

/// The 3D facts of an authentication (`mdStatus`, `xid`, `eci`, `cavv`), as the books keep
/// them on the order and the status query shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreeDsFacts {
    pub md_status: String,
    pub xid: String,
    pub eci: String,
    pub cavv: String,
}

impl ThreeDsFacts {
    /// What the ACS issues for an authentication that ended in `md_status`: a fresh `xid`,
    /// the ECI of the card's scheme for a full (`1`) or attempted (`4`) authentication, and
    /// a CAVV for those two; the other outcomes carry neither.
    pub(crate) fn issued(md_status: &str, visa: bool, rng: &mut impl Rng) -> ThreeDsFacts {
        let eci = match (md_status, visa) {
            ("1", true) => "05",
            ("1", false) => "02",
            ("4", true) => "06",
            ("4", false) => "01",
            _ => "",
        };
        let cavv = if matches!(md_status, "1" | "4") {
            b64_20(rng)
        } else {
            String::new()
        };
        ThreeDsFacts {
            md_status: md_status.to_owned(),
            xid: b64_20(rng),
            eci: eci.to_owned(),
            cavv,
        }
    }
}

/// NestPay `storetype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreType {
    ThreeD,
    ThreeDPay,
    ThreeDHost,
}

impl StoreType {
    pub fn parse(raw: &str) -> Option<StoreType> {
        match raw {
            "3d" => Some(StoreType::ThreeD),
            "3d_pay" => Some(StoreType::ThreeDPay),
            "3d_host" => Some(StoreType::ThreeDHost),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StoreType::ThreeD => "3d",
            StoreType::ThreeDPay => "3d_pay",
            StoreType::ThreeDHost => "3d_host",
        }
    }
}

/// A card as the gate or the hosted page received it, checked.
#[derive(Clone)]
struct Card {
    pan: String,
    /// `MM`.
    month: String,
    /// `YY`.
    year: String,
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

impl Card {
    /// `435508***4358`.
    fn masked_short(&self) -> String {
        let len = self.pan.len();
        format!("{}***{}", &self.pan[..6], &self.pan[len - 4..])
    }

    fn is_visa(&self) -> bool {
        self.pan.starts_with('4')
    }
}

/// A gate form that passed every check.
#[derive(Debug, Clone)]
struct Checkout {
    client_id: String,
    store_type: StoreType,
    kind: OrderKind,
    /// `TranType` (or `islemtipi`) as posted.
    tran_type: String,
    oid: String,
    amount_text: String,
    amount: i64,
    currency: Currency,
    currency_text: String,
    installment: u32,
    taksit: String,
    ok_url: String,
    fail_url: String,
    lang: String,
    ver3: bool,
}

#[derive(Debug)]
pub(crate) struct Session {
    checkout: Checkout,
    /// `None` until the `3d_host` card page collected it.
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

/// Where the ACS forms post: the gate's own path prefix + `/fim/acs/`, so the pages work
/// wherever the router is mounted.
fn acs_base(path: &str) -> String {
    match path.rfind("/fim/") {
        Some(at) => format!("{}/fim/acs/", &path[..at]),
        None => "/nestpay/fim/acs/".to_owned(),
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

/// 20 characters of the base64 alphabet, like the bank's callback `rnd`.
fn bank_rnd(rng: &mut impl Rng) -> String {
    let bytes: [u8; 15] = rng.r#gen();
    BASE64.encode(bytes)
}

fn hex(rng: &mut impl Rng, bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02X}", rng.r#gen::<u8>()))
        .collect()
}

/// `xid`/`cavv`: base64 of 20 random bytes (28 characters, as the real ones).
pub(crate) fn b64_20(rng: &mut impl Rng) -> String {
    let bytes: [u8; 20] = rng.r#gen();
    BASE64.encode(bytes)
}

/// Checks the card fields of a gate form or of the hosted card page.
fn check_card(pan: &str, month: &str, year: &str, cvv: &str) -> Result<Card, GateError> {
    let pan: String = pan.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if !(12..=19).contains(&pan.len()) || !pan.bytes().all(|b| b.is_ascii_digit()) {
        return Err(codes::GATE_BAD_CARD_NUMBER);
    }
    if !luhn_valid(&pan) {
        return Err(codes::GATE_BAD_CARD_NUMBER);
    }
    let (month, year) = (month.trim(), year.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(month) || month.len() > 2 || !digits(year) || !matches!(year.len(), 2 | 4) {
        return Err(codes::GATE_BAD_EXPIRY);
    }
    let expiry = Expiry::parse(month, year).map_err(|_| codes::GATE_BAD_EXPIRY)?;
    let cvv = cvv.trim();
    if !(3..=4).contains(&cvv.len()) || !cvv.bytes().all(|b| b.is_ascii_digit()) {
        return Err(codes::GATE_BAD_CVV);
    }
    Ok(Card {
        pan,
        month: expiry.mm(),
        year: expiry.yy(),
        expiry,
    })
}

/// Checks a gate form's fields (its hash is already checked).
fn check_checkout(fields: &[(String, String)], ver3: bool) -> Result<Checkout, GateError> {
    let store_type =
        StoreType::parse(text(fields, "storetype").trim()).ok_or(codes::GATE_BAD_STORE_TYPE)?;
    let (primary, secondary) = if ver3 {
        ("TranType", "islemtipi")
    } else {
        ("islemtipi", "TranType")
    };
    let tran_type = field(fields, primary)
        .or_else(|| field(fields, secondary))
        .unwrap_or_default()
        .trim();
    let kind = if tran_type.eq_ignore_ascii_case("Auth") {
        OrderKind::Sale
    } else if tran_type.eq_ignore_ascii_case("PreAuth") {
        OrderKind::PreAuth
    } else {
        return Err(codes::GATE_BAD_TRAN_TYPE);
    };
    let oid = text(fields, "oid").trim();
    if oid.is_empty() || !valid_order_id(oid) {
        return Err(codes::GATE_BAD_ORDER_ID);
    }
    let currency_text = text(fields, "currency").trim();
    let currency = Currency::from_numeric_code(currency_text).ok_or(codes::GATE_BAD_CURRENCY)?;
    let amount_text = text(fields, "amount").trim();
    let amount = parse_amount(amount_text, currency).ok_or(codes::GATE_BAD_AMOUNT)?;
    let taksit = text(fields, "taksit").trim();
    let installment = parse_installment(taksit, currency).ok_or(codes::GATE_BAD_INSTALLMENT)?;
    let (ok_url, fail_url) = (text(fields, "okUrl").trim(), text(fields, "failUrl").trim());
    if !is_http_url(ok_url) || !is_http_url(fail_url) {
        return Err(codes::GATE_BAD_URL);
    }
    let lang = if text(fields, "lang").trim().eq_ignore_ascii_case("en") {
        "en"
    } else {
        "tr"
    };
    Ok(Checkout {
        client_id: text(fields, "clientid").trim().to_owned(),
        store_type,
        kind,
        tran_type: tran_type.to_owned(),
        oid: oid.to_owned(),
        amount_text: amount_text.to_owned(),
        amount,
        currency,
        currency_text: currency_text.to_owned(),
        installment,
        taksit: taksit.to_owned(),
        ok_url: ok_url.to_owned(),
        fail_url: fail_url.to_owned(),
        lang: lang.to_owned(),
        ver3,
    })
}

/// Appends the signature: ver3 over everything, or legacy over `legacy_names`.
fn sign(fields: &mut Vec<(String, String)>, ver3: bool, store_key: &str, legacy_names: &[&str]) {
    if ver3 {
        fields.push(("hashAlgorithm".into(), "ver3".into()));
        let signature = hash::ver3(fields, store_key);
        fields.push(("HASH".into(), signature));
    } else {
        let (params, values, signature) = hash::v1_callback(fields, legacy_names, store_key);
        fields.push(("HASHPARAMS".into(), params));
        fields.push(("HASHPARAMSVAL".into(), values));
        fields.push(("HASH".into(), signature));
    }
}

/// `(mdStatus, mdErrorMsg, txstatus)`.
fn statuses(decision: Decision) -> (&'static str, &'static str, &'static str) {
    match decision {
        Decision::Otp { right: true } | Decision::Forced("1") => ("1", "Authenticated", "Y"),
        Decision::Otp { right: false } | Decision::Forced("0") => ("0", "Not authenticated", "N"),
        Decision::Cancelled => ("0", "Not authenticated: cancelled by the cardholder", "N"),
        Decision::Forced("2") => ("2", "Card not enrolled", "N"),
        Decision::Forced("3") => ("3", "Issuer not participating", "N"),
        Decision::Forced("4") => ("4", "Attempt: authentication not available", "A"),
        Decision::Forced("5") => ("5", "Unable to verify", "U"),
        Decision::Forced(_) => ("7", "System error", "E"),
    }
}

fn internal_error() -> Response {
    pages::html(
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::error("Sistem hatası", "System error", "Simülatör hatası."),
    )
}

/// `POST /fim/est3Dgate`.
pub async fn gate(
    State(sim): State<NestPaySim>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form::parse(&body, content_type(&headers));
    sim.gate_page(&fields, &acs_base(uri.path()))
        .unwrap_or_else(|Poisoned| internal_error())
}

/// `POST /fim/acs/{sessionId}`.
pub async fn acs(
    State(sim): State<NestPaySim>,
    Path(session_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form::parse(&body, content_type(&headers));
    sim.acs_page(&session_id, &fields, &acs_base(uri.path()))
        .unwrap_or_else(|Poisoned| internal_error())
}

impl NestPaySim {
    fn gate_page(&self, fields: &[(String, String)], acs_base: &str) -> Result<Response, Poisoned> {
        let now = self.clock().now();
        let mut rng = rand::thread_rng();
        let client_id = text(fields, "clientid").trim();
        let ver3 = text(fields, "hashAlgorithm")
            .trim()
            .eq_ignore_ascii_case("ver3");
        let store_key = self.books()?.store(client_id).map(|s| s.store_key.clone());
        let Some(store_key) = store_key else {
            return Ok(gate_error(
                fields,
                codes::GATE_UNKNOWN_CLIENT,
                None,
                ver3,
                &mut rng,
            ));
        };

        let posted_hash = fields
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case("hash"))
            .map(|(_, v)| v.trim());
        let expected = if ver3 {
            hash::ver3(fields, &store_key)
        } else {
            let tran_type = field(fields, "islemtipi")
                .or_else(|| field(fields, "TranType"))
                .unwrap_or_default();
            hash::v1_request(
                client_id,
                text(fields, "oid"),
                text(fields, "amount"),
                text(fields, "okUrl"),
                text(fields, "failUrl"),
                tran_type,
                text(fields, "taksit"),
                text(fields, "rnd"),
                &store_key,
            )
        };
        let hash_ok =
            posted_hash.is_some_and(|h| hash::constant_time_eq(h.as_bytes(), expected.as_bytes()));
        if !hash_ok {
            tracing::debug!(client_id, "nestpay sim 3D gate: bad hash");
            return Ok(gate_error(
                fields,
                codes::GATE_HASH_ERROR,
                Some(&store_key),
                ver3,
                &mut rng,
            ));
        }
        let checked = check_checkout(fields, ver3).and_then(|checkout| {
            let card = match checkout.store_type {
                StoreType::ThreeDHost => None,
                StoreType::ThreeD | StoreType::ThreeDPay => Some(check_card(
                    text(fields, "pan"),
                    text(fields, "Ecom_Payment_Card_ExpDate_Month"),
                    text(fields, "Ecom_Payment_Card_ExpDate_Year"),
                    text(fields, "cv2"),
                )?),
            };
            Ok((checkout, card))
        });
        let (checkout, card) = match checked {
            Ok(checked) => checked,
            Err(error) => {
                tracing::debug!(client_id, code = error.code, "nestpay sim 3D gate refused");
                return Ok(gate_error(fields, error, Some(&store_key), ver3, &mut rng));
            }
        };

        let id = hex(&mut rng, 16).to_ascii_lowercase();
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
                // 3d_host card step.
                let checked = check_card(
                    text(fields, "pan"),
                    text(fields, "Ecom_Payment_Card_ExpDate_Month"),
                    text(fields, "Ecom_Payment_Card_ExpDate_Year"),
                    text(fields, "cv2"),
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
        let (md_status, md_error, txstatus) = statuses(decision);
        let visa = card.as_ref().is_some_and(Card::is_visa);
        let facts = ThreeDsFacts::issued(md_status, visa, &mut rng);
        let md = match &card {
            Some(card) => format!(
                "{}:{}:{:04}:##{}",
                &card.pan[..6],
                hex(&mut rng, 32),
                rng.gen_range(0..10_000u32),
                checkout.client_id
            ),
            None => String::new(),
        };

        let (store_key, provision) = {
            let mut books = self.books()?;
            let store_key = books
                .store(&checkout.client_id)
                .map(|s| s.store_key.clone())
                .unwrap_or_default();
            let provision = match (checkout.store_type, &card) {
                (StoreType::ThreeD, Some(card)) => {
                    books.register_authentication(
                        &md,
                        Authentication {
                            client_id: checkout.client_id.clone(),
                            order_id: checkout.oid.clone(),
                            amount: checkout.amount,
                            currency: checkout.currency,
                            pan: card.pan.clone(),
                            expiry: card.expiry,
                            facts: facts.clone(),
                            at: now,
                            used: false,
                        },
                    );
                    None
                }
                (StoreType::ThreeDPay | StoreType::ThreeDHost, Some(card)) if md_status == "1" => {
                    Some(books.book_gate_payment(
                        &checkout.client_id,
                        checkout.kind,
                        &Payment {
                            order_id: Some(&checkout.oid),
                            pan: &card.pan,
                            expiry: card.expiry,
                            currency: checkout.currency,
                            amount: checkout.amount,
                            installment: checkout.installment,
                            three_ds: Some(facts.clone()),
                        },
                        now,
                        &mut rng,
                    ))
                }
                _ => None,
            };
            (store_key, provision)
        };

        let approved = provision
            .as_ref()
            .map(|p| p.field("Response") == Some("Approved"));
        let ok = md_status == "1" && approved != Some(false);
        tracing::debug!(
            client_id = checkout.client_id.as_str(),
            order_id = checkout.oid.as_str(),
            md_status,
            provision = provision
                .as_ref()
                .and_then(|p| p.field("ProcReturnCode"))
                .unwrap_or(""),
            "nestpay sim 3D authentication finished"
        );
        let fields = callback_fields(
            &checkout,
            card.as_ref(),
            &facts,
            &md,
            md_error,
            txstatus,
            provision.as_ref(),
            &store_key,
            &mut rng,
        );
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
        merchant: &checkout.client_id,
        order_id: &checkout.oid,
        amount: format!("{} {}", checkout.amount_text, checkout.currency.code()),
        masked_card: card.map(|c| mask_pan(&c.pan)),
    }
}

/// The callback of a finished challenge (field list in the module documentation).
#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename them
fn callback_fields(
    checkout: &Checkout,
    card: Option<&Card>,
    facts: &ThreeDsFacts,
    md: &str,
    md_error: &str,
    txstatus: &str,
    provision: Option<&Cc5Response>,
    store_key: &str,
    rng: &mut impl Rng,
) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::with_capacity(56);
    let mut push = |name: &str, value: &str| fields.push((name.to_owned(), value.to_owned()));
    push("clientid", &checkout.client_id);
    push("oid", &checkout.oid);
    if checkout.store_type != StoreType::ThreeD {
        push("ReturnOid", &checkout.oid);
    }
    push("amount", &checkout.amount_text);
    push("currency", &checkout.currency_text);
    push("taksit", &checkout.taksit);
    push("storetype", checkout.store_type.as_str());
    push("islemtipi", &checkout.tran_type);
    push("lang", &checkout.lang);
    push("okUrl", &checkout.ok_url);
    push("failUrl", &checkout.fail_url);
    push("rnd", &bank_rnd(rng));
    push("md", md);
    push("xid", &facts.xid);
    push("eci", &facts.eci);
    push("cavv", &facts.cavv);
    push("mdStatus", &facts.md_status);
    push("mdErrorMsg", md_error);
    push("txstatus", txstatus);
    push("PAResSyntaxOK", "true");
    push(
        "PAResVerified",
        if card.is_some() { "true" } else { "false" },
    );
    push("version", "2.0");
    push("sID", "1");
    push("dsId", "1");
    push("callbackCall", "true");
    push(
        "MaskedPan",
        &card.map(Card::masked_short).unwrap_or_default(),
    );
    push(
        "maskedCreditCard",
        &card.map(|c| mask_pan(&c.pan)).unwrap_or_default(),
    );
    push(
        "Ecom_Payment_Card_ExpDate_Year",
        card.map(|c| c.year.as_str()).unwrap_or_default(),
    );
    push(
        "Ecom_Payment_Card_ExpDate_Month",
        card.map(|c| c.month.as_str()).unwrap_or_default(),
    );
    push("merchantID", &checkout.client_id);
    push("ACQBIN", ACQBIN);
    if let Some(p) = provision {
        let f = |name| p.field(name).unwrap_or_default();
        let x = |name| p.extra(name).unwrap_or_default();
        push("ProcReturnCode", f("ProcReturnCode"));
        push("Response", f("Response"));
        push("AuthCode", f("AuthCode"));
        push("HostRefNum", f("HostRefNum"));
        push("TransId", f("TransId"));
        push("ErrMsg", f("ErrMsg"));
        push("SettleId", x("SETTLEID"));
        push("EXTRA_TRXDATE", x("TRXDATE"));
        push("EXTRA_HOSTDATE", x("HOSTDATE"));
        push("EXTRA_CARDBRAND", x("CARDBRAND"));
        push("EXTRA_CARDISSUER", x("CARDISSUER"));
        push("EXTRA_ERRORCODE", x("ERRORCODE"));
        let host_ref = f("HostRefNum");
        push("acqStan", &host_ref[host_ref.len().saturating_sub(6)..]);
    }
    push("encoding", "UTF-8");
    let legacy: &[&str] = if provision.is_some() {
        &[
            "clientid",
            "oid",
            "AuthCode",
            "ProcReturnCode",
            "Response",
            "mdStatus",
            "cavv",
            "eci",
            "md",
            "rnd",
        ]
    } else {
        &["clientid", "oid", "mdStatus", "cavv", "eci", "md", "rnd"]
    };
    sign(&mut fields, checkout.ver3, store_key, legacy);
    fields
}

/// The gate's refusal, posted back to `failUrl` (signed when the store is known); an
/// error page when there is no http(s) `failUrl` to post to.
fn gate_error(
    posted: &[(String, String)],
    error: GateError,
    store_key: Option<&str>,
    ver3: bool,
    rng: &mut impl Rng,
) -> Response {
    let fail_url = text(posted, "failUrl").trim();
    if !is_http_url(fail_url) {
        return pages::html(
            StatusCode::BAD_REQUEST,
            pages::error(
                "İşlem yapılamadı",
                "The payment cannot proceed",
                &format!("{} ({})", error.message, error.code),
            ),
        );
    }
    let mut fields: Vec<(String, String)> = Vec::with_capacity(24);
    let mut echo = |name: &str| fields.push((name.to_owned(), text(posted, name).to_owned()));
    for name in [
        "clientid",
        "oid",
        "amount",
        "currency",
        "taksit",
        "storetype",
    ] {
        echo(name);
    }
    let tran_type_name = if field(posted, "TranType").is_some() {
        "TranType"
    } else {
        "islemtipi"
    };
    echo(tran_type_name);
    echo("lang");
    echo("okUrl");
    echo("failUrl");
    let pan: String = text(posted, "pan")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let (masked_short, masked) = if pan.len() >= 12 {
        (
            format!("{}***{}", &pan[..6], &pan[pan.len() - 4..]),
            mask_pan(&pan),
        )
    } else {
        (String::new(), String::new())
    };
    let mut push = |name: &str, value: &str| fields.push((name.to_owned(), value.to_owned()));
    push("rnd", &bank_rnd(rng));
    push(
        "Ecom_Payment_Card_ExpDate_Month",
        text(posted, "Ecom_Payment_Card_ExpDate_Month"),
    );
    push(
        "Ecom_Payment_Card_ExpDate_Year",
        text(posted, "Ecom_Payment_Card_ExpDate_Year"),
    );
    push("maskedCreditCard", &masked);
    push("MaskedPan", &masked_short);
    push("Response", "Error");
    push("ErrMsg", error.message);
    push("ErrorCode", error.code);
    push("traceId", &hex(rng, 16).to_ascii_lowercase());
    push("encoding", "UTF-8");
    if let Some(store_key) = store_key {
        sign(
            &mut fields,
            ver3,
            store_key,
            &[
                "clientid",
                "oid",
                "Response",
                "ErrorCode",
                "mdStatus",
                "rnd",
            ],
        );
    } else if ver3 {
        fields.push(("hashAlgorithm".into(), "ver3".into()));
    }
    pages::html(StatusCode::OK, pages::auto_submit(fail_url, &fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_ends_cancelled_forced_or_by_the_otp() {
        let (pan, status) = MD_STATUS_CARDS[2];
        assert_eq!(Decision::of(true, Some(pan), TEST_OTP), Decision::Cancelled);
        assert_eq!(
            Decision::of(false, Some(pan), TEST_OTP),
            Decision::Forced(status)
        );
        let plain = "5571135571135575";
        assert_eq!(forced_md_status(plain), None);
        assert_eq!(
            Decision::of(false, Some(plain), " 123456 "),
            Decision::Otp { right: true }
        );
        assert_eq!(
            Decision::of(false, None, "654321"),
            Decision::Otp { right: false }
        );
    }

    #[test]
    fn md_status_cards_are_luhn_valid_and_distinct_from_decline_cards() {
        for (pan, status) in MD_STATUS_CARDS {
            assert!(luhn_valid(pan), "{pan}");
            assert!(codes::decline_for_card(pan).is_none(), "{pan}");
            assert_eq!(forced_md_status(pan), Some(status));
        }
        assert_eq!(forced_md_status("5258640000000001"), None);
    }

    #[test]
    fn cards_are_checked_like_the_gate() {
        let card = check_card("4355 0843 5508 4358", "1", "2030", "000").unwrap();
        assert_eq!((card.month.as_str(), card.year.as_str()), ("01", "30"));
        assert_eq!(card.masked_short(), "435508***4358");
        assert!(!format!("{card:?}").contains("4355084355084358"));
        assert_eq!(
            check_card("4355084355084357", "12", "30", "000").unwrap_err(),
            codes::GATE_BAD_CARD_NUMBER
        );
        assert_eq!(
            check_card("4355084355084358", "13", "30", "000").unwrap_err(),
            codes::GATE_BAD_EXPIRY
        );
        assert_eq!(
            check_card("4355084355084358", "12", "3", "000").unwrap_err(),
            codes::GATE_BAD_EXPIRY
        );
        assert_eq!(
            check_card("4355084355084358", "12", "30", "12").unwrap_err(),
            codes::GATE_BAD_CVV
        );
    }

    #[test]
    fn urls_and_paths() {
        assert!(is_http_url("https://shop.example/cb"));
        assert!(is_http_url("http://127.0.0.1:8080/x"));
        for bad in [
            "javascript:alert(1)",
            "",
            "https://",
            "ftp://x",
            "https:///x",
            "http://a\nb",
        ] {
            assert!(!is_http_url(bad), "{bad:?}");
        }
        assert_eq!(acs_base("/nestpay/fim/est3Dgate"), "/nestpay/fim/acs/");
        assert_eq!(acs_base("/x/nestpay/fim/acs/abc"), "/x/nestpay/fim/acs/");
        assert_eq!(acs_base("/other"), "/nestpay/fim/acs/");
    }
}
