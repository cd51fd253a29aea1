//! The Garanti 3D Secure gate (`gt3dengine`) with an ACS-like challenge page.
//!
//! # Routes (under `/garanti`)
//!
//! * `POST /servlet/gt3dengine` — the merchant's form, `application/x-www-form-urlencoded`
//!   as a browser posts it (UTF-8 or ISO-8859-9). The gate finds the terminal by
//!   `terminalmerchantid` + `terminalid`, requires `terminalprovuserid` (= `terminaluserid`)
//!   to be its provision user, checks `secure3dhash` exactly as the bank does (v512 when
//!   `apiversion=512`, the legacy SHA-1 form for `v0.01`; see [`super::hash`]), then the
//!   fields: `mode` (`TEST`/`PROD`), `secure3dsecuritylevel` (`3D`, `3D_PAY`, `3D_OOS_PAY`
//!   — the hosted common payment page), `txntype` (`sales`, `preauth`), `orderid`,
//!   `txncurrencycode`, `txnamount` (hundredths > 0), `txninstallmentcount` (empty, 0, 1 or
//!   2..12 in TRY), `successurl`/`errorurl` (http or https), `customeripaddress`, and for
//!   `3D`/`3D_PAY` the card: `cardnumber` (12–19 digits, Luhn), `cardexpiredatemonth`,
//!   `cardexpiredateyear`, `cardcvv2` (3–4 digits). A failure is posted straight back to
//!   `errorurl` (an auto-submitting page) with `mdstatus` empty, `response=Error`,
//!   `procreturncode=99`, `errmsg` and `hostmsg` (the GVPS error id or the failed rule),
//!   signed with the store key like every callback — except when the terminal is unknown
//!   (no `hash`). With no usable `errorurl`, an HTML error page (HTTP 400) is all the gate
//!   can do. Otherwise the gate opens a 3D session (in memory, random 32-hex id, expiring
//!   after [`SESSION_TTL`] of bank time) and answers the challenge page: merchant, order,
//!   amount, masked card, an OTP field (the test OTP
//!   [`TEST_OTP`] is printed on the page), "Onayla /
//!   Confirm" and "İptal / Cancel". For `3D_OOS_PAY` the page first asks for the card.
//! * `POST /servlet/gt3dacs/{sessionId}` — that page's form (the simulator's own route; the
//!   real bank's ACS lives at the card issuer): the card step (`pan`,
//!   `Ecom_Payment_Card_ExpDate_Month`, `Ecom_Payment_Card_ExpDate_Year`, `cv2`,
//!   `action=card`), then `otp` with `action=confirm` or `action=cancel`. The right OTP
//!   authenticates (`mdstatus=1`), a wrong one does not (`0`), Cancel gives `0`; the NestPay
//!   simulator's test cards
//!   ([`MD_STATUS_CARDS`](crate::nestpay::threeds::MD_STATUS_CARDS)) force their status
//!   whatever the OTP. The session is then spent and the answer is an auto-submitting form
//!   posting the callback to `successurl` when authenticated (1–4) and, for
//!   `3D_PAY`/`3D_OOS_PAY`, approved; to `errorurl` otherwise. Forms post to the gate's own
//!   path prefix (the request's original URI), so the pages work wherever the router is
//!   mounted (`/sim/garanti/...` in Orkestra's sandbox).
//!
//! # Models
//!
//! * `3D`: the callback carries the authentication only; its `md` stands for the card,
//!   order, type, amount and currency in the simulator's books, and the merchant provisions
//!   it once through `POST /VPServlet` (rules in [`super::books`]). `mdstatus` 1–4 can be
//!   provisioned, as Garanti's policy accepts half-secure 2/3/4.
//! * `3D_PAY`, `3D_OOS_PAY`: on `mdstatus` 1–4 the gate books the order itself (`sales` or
//!   `preauth`, the API's rules and decline cards), and the callback carries the result
//!   (`procreturncode`, `response`, `authcode`, `hostrefnum`, `errmsg`, `hostmsg`). Other
//!   statuses book nothing; `7` reports `response=Error`, `procreturncode=99`, "Sistem
//!   Hatasi" as the real bank does (P2.9) — but signed, where the real one is not.
//!
//! # Callback fields, in order (as C2.1–C2.6)
//!
//! `xid, mdstatus, mderrormessage, txnstatus, eci, cavv, paressyntaxok, paresverified,
//! version, ireqcode, ireqdetail, vendorcode, cavvalgorithm, md, terminalid, oid, authcode,
//! response, errmsg, hostmsg, procreturncode, transid, hostrefnum, rnd, hash, hashparams,
//! hashparamsval, clientid (the terminal id), MaskedPan`, then every posted form field
//! except the card's, `secure3dhash` included, in posting order. `hashparams` is
//! `clientid:oid:authcode:procreturncode:response:mdstatus:cavv:eci:md:rnd:`; `hash` is
//! v512 (upper hex SHA-512) for an `apiversion=512` form, the legacy base64 SHA-1
//! otherwise. `eci` is `05`/`02` (Visa / others) for `mdstatus=1`, `06`/`01` for 2–4, empty
//! otherwise; `cavv` is set for 1 and 4. `txnstatus`: 1 → `Y`, 4 → `A`, 5 → `U`, 7 → `E`,
//! else `N`. `md` is base64, like the real bank's.
//!
//! [`SESSION_TTL`]: crate::gate_sessions::SESSION_TTL
//! [`TEST_OTP`]: crate::nestpay::threeds::TEST_OTP

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
    Authentication, OrderKind, Payment, garanti_currency, mask_pan, parse_amount,
    parse_installment, valid_order_id,
};
use super::codes::{self, Refusal};
use super::hash;
use super::wire::GvpsResponse;
use super::{GarantiSim, Poisoned};
use crate::gate_sessions::{self, GateSession};
use crate::nestpay::threeds::pages::{self};
use crate::nestpay::threeds::{Decision, ThreeDsFacts, form};

/// The form fields of the card; never echoed back.
const CARD_FIELDS: [&str; 4] = [
    "cardnumber",
    "cardexpiredatemonth",
    "cardexpiredateyear",
    "cardcvv2",
];

/// The signed callback fields, in `hashparams` order.
const SIGNED: [&str; 10] = [
    "clientid",
    "oid",
    "authcode",
    "procreturncode",
    "response",
    "mdstatus",
    "cavv",
    "eci",
    "md",
    "rnd",
];

/// `secure3dsecuritylevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    ThreeD,
    ThreeDPay,
    /// `3D_OOS_PAY`: the hosted common payment page.
    Hosted,
}

impl Level {
    pub fn parse(raw: &str) -> Option<Level> {
        match raw {
            "3D" => Some(Level::ThreeD),
            "3D_PAY" => Some(Level::ThreeDPay),
            "3D_OOS_PAY" => Some(Level::Hosted),
            _ => None,
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
    merchant_id: String,
    terminal_id: String,
    level: Level,
    kind: OrderKind,
    oid: String,
    amount: i64,
    currency: Currency,
    installment: u32,
    success_url: String,
    error_url: String,
    legacy: bool,
    /// The posted fields but the card's, echoed in the callback.
    echo: Vec<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct Session {
    checkout: Checkout,
    /// `None` until the hosted page collected it.
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

/// Where the ACS forms post: the gate's own path prefix + `/servlet/gt3dacs/`.
fn acs_base(path: &str) -> String {
    match path.rfind("/servlet/") {
        Some(at) => format!("{}/servlet/gt3dacs/", &path[..at]),
        None => "/garanti/servlet/gt3dacs/".to_owned(),
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
        .map(|_| format!("{:02x}", rng.r#gen::<u8>()))
        .collect()
}

/// `xid`: a UUID, as the bank's 3DS2 callbacks carry (C2.2).
fn xid(rng: &mut impl Rng) -> String {
    let h = hex(rng, 16);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Checks the card fields of a gate form or of the hosted card page.
fn check_card(pan: &str, month: &str, year: &str, cvv: &str) -> Result<Card, Refusal> {
    let pan: String = pan.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if !(12..=19).contains(&pan.len())
        || !pan.bytes().all(|b| b.is_ascii_digit())
        || !luhn_valid(&pan)
    {
        return Err(codes::mandatory("CardNumber field is invalid"));
    }
    let (month, year) = (month.trim(), year.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(month) || month.len() > 2 || !digits(year) || !matches!(year.len(), 2 | 4) {
        return Err(codes::mandatory("CardExpireDate field is invalid"));
    }
    let expiry = Expiry::parse(month, year)
        .map_err(|_| codes::mandatory("CardExpireDate field is invalid"))?;
    let cvv = cvv.trim();
    if !(3..=4).contains(&cvv.len()) || !cvv.bytes().all(|b| b.is_ascii_digit()) {
        return Err(codes::mandatory("CardCVV2 field is invalid"));
    }
    Ok(Card { pan, expiry })
}

/// Checks a gate form's fields (its hash is already checked).
fn check_checkout(
    fields: &[(String, String)],
    merchant_id: &str,
    terminal_id: &str,
    legacy: bool,
) -> Result<Checkout, Refusal> {
    if !matches!(text(fields, "mode").trim(), "TEST" | "PROD") {
        return Err(codes::mandatory("Mode field must be TEST or PROD"));
    }
    let level = Level::parse(text(fields, "secure3dsecuritylevel").trim())
        .ok_or_else(|| codes::mandatory("Secure3DSecurityLevel field is invalid"))?;
    let kind = OrderKind::parse(text(fields, "txntype").trim())
        .ok_or_else(|| codes::mandatory("TxnType field is invalid"))?;
    let oid = text(fields, "orderid").trim();
    if !valid_order_id(oid) {
        return Err(codes::mandatory("OrderID field is invalid"));
    }
    let currency = garanti_currency(text(fields, "txncurrencycode").trim())
        .ok_or_else(|| codes::mandatory("TxnCurrencyCode field is invalid"))?;
    let amount = parse_amount(text(fields, "txnamount").trim(), currency).ok_or_else(|| {
        codes::mandatory(
            "TxnAmount field must not be zero DOUBLE value because of the Mandatory Rule:zero",
        )
    })?;
    let installment = parse_installment(text(fields, "txninstallmentcount").trim(), currency)
        .ok_or_else(|| codes::BAD_INSTALLMENT.refusal())?;
    let (success_url, error_url) = (
        text(fields, "successurl").trim(),
        text(fields, "errorurl").trim(),
    );
    if !is_http_url(success_url) || !is_http_url(error_url) {
        return Err(codes::mandatory("SuccessURL or ErrorURL field is invalid"));
    }
    if text(fields, "customeripaddress").trim().is_empty() {
        return Err(codes::mandatory(
            "CustomerIPAddress field must contain value because of the Mandatory Rule:null",
        ));
    }
    Ok(Checkout {
        merchant_id: merchant_id.to_owned(),
        terminal_id: terminal_id.to_owned(),
        level,
        kind,
        oid: oid.to_owned(),
        amount,
        currency,
        installment,
        success_url: success_url.to_owned(),
        error_url: error_url.to_owned(),
        legacy,
        echo: echo_of(fields),
    })
}

fn echo_of(fields: &[(String, String)]) -> Vec<(String, String)> {
    fields
        .iter()
        .filter(|(k, _)| !CARD_FIELDS.contains(&k.as_str()))
        .cloned()
        .collect()
}

/// `(mdstatus, mderrormessage, txnstatus)`.
fn statuses(decision: Decision) -> (&'static str, &'static str, &'static str) {
    match decision {
        Decision::Otp { right: true } | Decision::Forced("1") => ("1", "Authenticated", "Y"),
        Decision::Otp { right: false } | Decision::Forced("0") => ("0", "Not authenticated", "N"),
        Decision::Cancelled => ("0", "Not authenticated: cancelled by the cardholder", "N"),
        Decision::Forced("2") => ("2", "Card not enrolled", "N"),
        Decision::Forced("3") => ("3", "Issuer not participating", "N"),
        Decision::Forced("4") => ("4", "Attempt: authentication not available", "A"),
        Decision::Forced("5") => ("5", "Unable to verify", "U"),
        Decision::Forced(_) => ("7", "Sistem Hatasi", "E"),
    }
}

fn internal_error() -> Response {
    pages::html(
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::error("Sistem hatası", "System error", "Simülatör hatası."),
    )
}

/// `POST /servlet/gt3dengine`.
pub async fn gate(
    State(sim): State<GarantiSim>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form::parse(&body, content_type(&headers));
    sim.gate_page(&fields, &acs_base(uri.path()))
        .unwrap_or_else(|Poisoned| internal_error())
}

/// `POST /servlet/gt3dacs/{sessionId}`.
pub async fn acs(
    State(sim): State<GarantiSim>,
    Path(session_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form::parse(&body, content_type(&headers));
    sim.acs_page(&session_id, &fields, &acs_base(uri.path()))
        .unwrap_or_else(|Poisoned| internal_error())
}

/// What the gate needs of a merchant to sign and check.
struct Keys {
    store_key: String,
    prov_user: String,
    prov_password: String,
}

impl GarantiSim {
    fn gate_page(&self, fields: &[(String, String)], acs_base: &str) -> Result<Response, Poisoned> {
        let now = self.clock().now();
        let mut rng = rand::thread_rng();
        let merchant_id = text(fields, "terminalmerchantid").trim();
        let terminal_id = text(fields, "terminalid").trim();
        let legacy = text(fields, "apiversion").trim() != "512";
        let keys = self
            .books()?
            .merchant(merchant_id)
            .filter(|m| m.terminal_id == terminal_id)
            .map(|m| Keys {
                store_key: m.store_key.clone(),
                prov_user: m.prov_user.clone(),
                prov_password: m.prov_password.clone(),
            });
        let Some(keys) = keys else {
            return Ok(gate_error(
                fields,
                &codes::UNKNOWN_TERMINAL.refusal(),
                None,
                legacy,
                &mut rng,
            ));
        };
        let version_ok = matches!(text(fields, "apiversion").trim(), "512" | "v0.01" | "v0.00");
        let user = text(fields, "terminalprovuserid").trim();
        let refusal = if !version_ok {
            Some(codes::mandatory("ApiVersion field is invalid"))
        } else if user != keys.prov_user || text(fields, "terminaluserid").trim() != user {
            Some(codes::WRONG_USER.refusal())
        } else {
            let security = hash::security_data(&keys.prov_password, terminal_id);
            let expected = hash::form(
                legacy,
                &hash::FormFields {
                    terminal_id: text(fields, "terminalid"),
                    order_id: text(fields, "orderid"),
                    amount: text(fields, "txnamount"),
                    currency_code: text(fields, "txncurrencycode"),
                    success_url: text(fields, "successurl"),
                    error_url: text(fields, "errorurl"),
                    transaction_type: text(fields, "txntype"),
                    installment: text(fields, "txninstallmentcount"),
                },
                &keys.store_key,
                &security,
            );
            let posted = text(fields, "secure3dhash").trim().to_ascii_uppercase();
            (!hash::constant_time_eq(posted.as_bytes(), expected.as_bytes()))
                .then(|| codes::BAD_HASH.refusal())
        };
        if let Some(refusal) = refusal {
            tracing::debug!(
                merchant_id,
                reason = refusal.reason_code,
                "garanti sim 3D gate refused"
            );
            return Ok(gate_error(
                fields,
                &refusal,
                Some(&keys.store_key),
                legacy,
                &mut rng,
            ));
        }
        let checked =
            check_checkout(fields, merchant_id, terminal_id, legacy).and_then(|checkout| {
                let card = match checkout.level {
                    Level::Hosted => None,
                    Level::ThreeD | Level::ThreeDPay => Some(check_card(
                        text(fields, "cardnumber"),
                        text(fields, "cardexpiredatemonth"),
                        text(fields, "cardexpiredateyear"),
                        text(fields, "cardcvv2"),
                    )?),
                };
                Ok((checkout, card))
            });
        let (checkout, card) = match checked {
            Ok(checked) => checked,
            Err(refusal) => {
                tracing::debug!(
                    merchant_id,
                    rule = refusal.sys_err_msg.as_str(),
                    "garanti sim 3D gate refused"
                );
                return Ok(gate_error(
                    fields,
                    &refusal,
                    Some(&keys.store_key),
                    legacy,
                    &mut rng,
                ));
            }
        };

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
                // The hosted page's card step.
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
                    Err(_) => pages::card_entry(
                        &summary(&session.checkout, None),
                        &action,
                        Some("Kart bilgileri hatalı. / The card details are not valid."),
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
        let (md_status, md_error, txnstatus) = statuses(decision);
        let authenticated = matches!(md_status, "1" | "2" | "3" | "4");
        let visa = card.as_ref().is_some_and(|c| c.pan.starts_with('4'));
        let eci = match (md_status, visa) {
            ("1", true) => "05",
            ("1", false) => "02",
            ("2" | "3" | "4", true) => "06",
            ("2" | "3" | "4", false) => "01",
            _ => "",
        };
        let cavv = if matches!(md_status, "1" | "4") {
            let bytes: [u8; 20] = rng.r#gen();
            BASE64.encode(bytes)
        } else {
            String::new()
        };
        let facts = ThreeDsFacts {
            md_status: md_status.to_owned(),
            xid: xid(&mut rng),
            eci: eci.to_owned(),
            cavv,
        };
        let md = {
            let mut bytes = b"index:02".to_vec();
            bytes.extend((0..88).map(|_| rng.r#gen::<u8>()));
            BASE64.encode(bytes)
        };

        let (store_key, provision) = {
            let mut books = self.books()?;
            let store_key = books
                .merchant(&checkout.merchant_id)
                .map(|m| m.store_key.clone())
                .unwrap_or_default();
            let provision = match (checkout.level, &card) {
                (Level::ThreeD, Some(card)) => {
                    books.register_authentication(
                        &md,
                        Authentication {
                            merchant_id: checkout.merchant_id.clone(),
                            order_id: checkout.oid.clone(),
                            kind: checkout.kind,
                            amount: checkout.amount,
                            currency: checkout.currency,
                            installment: checkout.installment,
                            pan: card.pan.clone(),
                            expiry: card.expiry,
                            facts: facts.clone(),
                            at: now,
                            used: false,
                        },
                    );
                    None
                }
                (Level::ThreeDPay | Level::Hosted, Some(card)) if authenticated => {
                    Some(books.book_gate_payment(
                        &checkout.merchant_id,
                        checkout.kind,
                        &Payment {
                            order_id: &checkout.oid,
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

        let approved = provision.as_ref().map(GvpsResponse::approved);
        let ok = authenticated && approved != Some(false);
        tracing::debug!(
            merchant_id = checkout.merchant_id.as_str(),
            order_id = checkout.oid.as_str(),
            md_status,
            provision = provision
                .as_ref()
                .map(|p| p.response.code.as_str())
                .unwrap_or(""),
            "garanti sim 3D authentication finished"
        );
        let result = Outcome {
            md_status,
            md_error,
            txnstatus,
            facts: &facts,
            md: &md,
            provision: provision.as_ref(),
        };
        let fields = callback_fields(&checkout, card.as_ref(), &result, &store_key, &mut rng);
        let url = if ok {
            &checkout.success_url
        } else {
            &checkout.error_url
        };
        Ok(pages::html(
            StatusCode::OK,
            pages::auto_submit(url, &fields),
        ))
    }
}

fn summary<'a>(checkout: &'a Checkout, card: Option<&Card>) -> pages::Summary<'a> {
    let major = rust_decimal::Decimal::new(checkout.amount, checkout.currency.minor_units());
    pages::Summary {
        merchant: &checkout.merchant_id,
        order_id: &checkout.oid,
        amount: format!("{major} {}", checkout.currency.code()),
        masked_card: card.map(|c| mask_pan(&c.pan)),
    }
}

/// How a challenge ended, for the callback.
struct Outcome<'a> {
    md_status: &'a str,
    md_error: &'a str,
    txnstatus: &'a str,
    facts: &'a ThreeDsFacts,
    md: &'a str,
    provision: Option<&'a GvpsResponse>,
}

/// The callback of a finished challenge (field list in the module documentation).
fn callback_fields(
    checkout: &Checkout,
    card: Option<&Card>,
    result: &Outcome<'_>,
    store_key: &str,
    rng: &mut impl Rng,
) -> Vec<(String, String)> {
    let p = result.provision;
    let system_error = result.md_status == "7";
    let authcode = p
        .filter(|p| p.approved())
        .map(|p| p.auth_code.clone())
        .unwrap_or_default();
    let procreturncode = match p {
        Some(p) => p.response.code.clone(),
        None if system_error => "99".into(),
        None => String::new(),
    };
    let response = match p {
        Some(p) => p.response.message.to_owned(),
        None if system_error => "Error".into(),
        None => String::new(),
    };
    let errmsg = match p {
        Some(p) => p.response.error_msg.clone(),
        None if system_error => "Sistem Hatasi".into(),
        None => String::new(),
    };
    let hostmsg = p
        .map(|p| p.response.sys_err_msg.clone())
        .unwrap_or_default();
    let hostrefnum = p
        .filter(|p| p.approved())
        .map(|p| p.retref_num.clone())
        .unwrap_or_default();
    let masked = card
        .map(|c| {
            let len = c.pan.len();
            format!("{}****{}", &c.pan[..8], &c.pan[len - 4..])
        })
        .unwrap_or_default();

    let mut fields: Vec<(String, String)> = Vec::with_capacity(56);
    let mut push = |name: &str, value: &str| fields.push((name.to_owned(), value.to_owned()));
    push("xid", &result.facts.xid);
    push("mdstatus", result.md_status);
    push("mderrormessage", result.md_error);
    push("txnstatus", result.txnstatus);
    push("eci", &result.facts.eci);
    push("cavv", &result.facts.cavv);
    push("paressyntaxok", if card.is_some() { "true" } else { "" });
    push("paresverified", if card.is_some() { "true" } else { "" });
    push("version", "2.0");
    push("ireqcode", "");
    push("ireqdetail", "");
    push("vendorcode", "");
    push(
        "cavvalgorithm",
        if result.facts.cavv.is_empty() {
            ""
        } else {
            "3"
        },
    );
    push("md", result.md);
    push("terminalid", &checkout.terminal_id);
    push("oid", &checkout.oid);
    push("authcode", &authcode);
    push("response", &response);
    push("errmsg", &errmsg);
    push("hostmsg", &hostmsg);
    push("procreturncode", &procreturncode);
    push("transid", &checkout.oid);
    push("hostrefnum", &hostrefnum);
    push("rnd", &bank_rnd(rng));
    push("clientid", &checkout.terminal_id);
    push("MaskedPan", &masked);
    sign_and_echo(fields, &checkout.echo, checkout.legacy, Some(store_key))
}

/// Inserts `hash, hashparams, hashparamsval` before `clientid` (where the bank puts them),
/// then appends the echoed form fields not already present.
fn sign_and_echo(
    mut fields: Vec<(String, String)>,
    echo: &[(String, String)],
    legacy: bool,
    store_key: Option<&str>,
) -> Vec<(String, String)> {
    if let Some(store_key) = store_key {
        let (params, values, signature) = hash::callback(legacy, &fields, &SIGNED, store_key);
        let at = fields
            .iter()
            .position(|(k, _)| k == "clientid")
            .unwrap_or(fields.len());
        fields.splice(
            at..at,
            [
                ("hash".to_owned(), signature),
                ("hashparams".to_owned(), params),
                ("hashparamsval".to_owned(), values),
            ],
        );
    }
    for (name, value) in echo {
        if !fields.iter().any(|(k, _)| k == name) {
            fields.push((name.clone(), value.clone()));
        }
    }
    fields
}

/// The gate's refusal, posted back to `errorurl` (signed when the terminal is known); an
/// error page when there is no http(s) `errorurl` to post to.
fn gate_error(
    posted: &[(String, String)],
    refusal: &Refusal,
    store_key: Option<&str>,
    legacy: bool,
    rng: &mut impl Rng,
) -> Response {
    let error_url = text(posted, "errorurl").trim();
    if !is_http_url(error_url) {
        return pages::html(
            StatusCode::BAD_REQUEST,
            pages::error(
                "İşlem yapılamadı",
                "The payment cannot proceed",
                &format!("{} ({})", refusal.error_msg, refusal.sys_err_msg),
            ),
        );
    }
    let oid = text(posted, "orderid");
    let terminal_id = text(posted, "terminalid");
    let mut fields: Vec<(String, String)> = Vec::with_capacity(40);
    let mut push = |name: &str, value: &str| fields.push((name.to_owned(), value.to_owned()));
    push("mdstatus", "");
    push("mderrormessage", "");
    push("md", "");
    push("terminalid", terminal_id);
    push("oid", oid);
    push("authcode", "");
    push("response", "Error");
    push("errmsg", refusal.error_msg);
    push("hostmsg", &refusal.sys_err_msg);
    push("procreturncode", "99");
    push("transid", oid);
    push("rnd", &bank_rnd(rng));
    push("clientid", terminal_id);
    let fields = sign_and_echo(fields, &echo_of(posted), legacy, store_key);
    pages::html(StatusCode::OK, pages::auto_submit(error_url, &fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_are_checked_like_the_gate() {
        let card = check_card("4355 0843 5508 4358", "1", "2030", "000").unwrap();
        assert_eq!(card.expiry, Expiry::parse("01", "30").unwrap());
        assert!(!format!("{card:?}").contains("4355084355084358"));
        for (pan, month, year, cvv) in [
            ("4355084355084357", "12", "30", "000"),
            ("4355084355084358", "13", "30", "000"),
            ("4355084355084358", "12", "3", "000"),
            ("4355084355084358", "12", "30", "12"),
        ] {
            assert_eq!(
                check_card(pan, month, year, cvv).unwrap_err().reason_code,
                "0002"
            );
        }
    }

    #[test]
    fn urls_and_paths() {
        assert!(is_http_url("https://shop.example/cb"));
        assert!(!is_http_url("javascript:alert(1)"));
        assert!(!is_http_url("https://"));
        assert_eq!(
            acs_base("/garanti/servlet/gt3dengine"),
            "/garanti/servlet/gt3dacs/"
        );
        assert_eq!(
            acs_base("/sim/garanti/servlet/gt3dacs/abc"),
            "/sim/garanti/servlet/gt3dacs/"
        );
        assert_eq!(acs_base("/other"), "/garanti/servlet/gt3dacs/");
    }

    #[test]
    fn signature_sits_before_clientid_and_the_echo_skips_duplicates() {
        let fields = vec![
            ("oid".to_owned(), "o".to_owned()),
            ("clientid".to_owned(), "t".to_owned()),
        ];
        let echo = vec![
            ("oid".to_owned(), "other".to_owned()),
            ("txnamount".to_owned(), "100".to_owned()),
        ];
        let out = sign_and_echo(fields, &echo, false, Some("k"));
        let names: Vec<&str> = out.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "oid",
                "hash",
                "hashparams",
                "hashparamsval",
                "clientid",
                "txnamount"
            ]
        );
        assert_eq!(out[0].1, "o");
        assert_eq!(out[1].1.len(), 128);
    }
}
