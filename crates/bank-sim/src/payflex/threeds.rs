//! The PayFlex MPI (3D enrolment) and an ACS-like challenge page.
//!
//! # Routes (under `/payflex`)
//!
//! * `POST /MPIAPI/MPI_Enrollment.aspx` — the enrolment, server to server, form-urlencoded
//!   (R9.3/R9.4: `MerchantId, MerchantPassword, MerchantType, PurchaseAmount (100.00),
//!   VerifyEnrollmentRequestId, Currency, SuccessUrl, FailureUrl, Pan, ExpiryDate (YYMM),
//!   BrandName, IsRecurring, [InstallmentCount], [SessionInfo]`). Answered with the MPI's
//!   XML (`IPaySecure`: `Message/VERes/{Status, PaReq, TermUrl, MD, ACSUrl}`,
//!   `VerifyEnrollmentRequestId`, `MessageErrorCode`, `ErrorMessage`). A merchant that does
//!   not sign in gets `Status=E` with `2005` "Merchant cannot be found for this bank"
//!   (§9.2); a malformed field `Status=E` with `2001`; a `VerifyEnrollmentRequestId` already
//!   authenticated `2002`; the not-enrolled test cards (forced mdStatus `2`, `3` of
//!   [`MD_STATUS_CARDS`]) `Status=N`. Otherwise `Status=Y`: a 3D session opens (random
//!   32-hex `MD`, expiring after [`SESSION_TTL`]) and `ACSUrl` points at the page below,
//!   on the host the enrolment was sent to.
//! * `POST /MPIAPI/Acs` — the ACS, as the shopper's browser posts `PaReq, TermUrl, MD`
//!   (R9.12): the NestPay simulator's challenge page (test OTP `123456`).
//! * `POST /MPIAPI/Acs/{md}` — the page's submit (`otp`, `action=confirm|cancel`). The
//!   right OTP authenticates (`Status=Y`), a wrong one or Cancel does not (`N`); the cards
//!   of [`MD_STATUS_CARDS`] force theirs (`0` → `N`, `4` → `A`, `5` → `U`, `7` → `E`). The
//!   real ACS posts its PaRes to the MPI's `TermUrl`, which then posts to the merchant; the
//!   simulator folds those two hops into one: the answer is the auto-submitting callback
//!   form, to `SuccessUrl` for `Y` and `FailureUrl` otherwise.
//!
//! Callback fields, in order (P9.11–P9.13): `MerchantId, SubMerchantNo, SubMerchantName,
//! SubMerchantNumber, PurchAmount (minor units), PurchCurrency, VerifyEnrollmentRequestId,
//! SessionInfo (as enrolled), InstallmentCount, Pan, Expiry, Xid, Status, Cavv, Eci,
//! ExpSign, ErrorCode, ErrorMessage`. `Pan` is masked (the real MPI posts it whole; the
//! simulator keeps card numbers off browsers) and `Expiry` is `****`. `Eci` is `05` (Visa)
//! / `02` (others) for `Y`, `06`/`01` for `A`; `Cavv` is set for `Y` and `A`. On `Y` the
//! books record the authentication for the VPOS provision (see [`super::books`]).
//!
//! API faults never touch the MPI or the ACS.
//!
//! [`SESSION_TTL`]: crate::gate_sessions::SESSION_TTL

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use domain::card::luhn_valid;
use domain::money::Currency;
use rand::Rng;

use super::PayflexSim;
use super::books::{Authentication, mask_pan, parse_amount};
use super::wire::XmlReply;
use crate::gate_sessions::{self, GateSession};
use crate::nestpay::threeds::pages::{self, Summary};
use crate::nestpay::threeds::{MD_STATUS_CARDS, TEST_OTP, forced_md_status, form};

/// One enrolment waiting for the shopper at the ACS.
#[derive(Clone)]
pub struct Session {
    merchant_id: String,
    verify_id: String,
    pan: String,
    expiry_yymm: String,
    amount: i64,
    currency: Currency,
    installment: u32,
    success_url: String,
    failure_url: String,
    session_info: String,
    pareq: String,
    created: DateTime<Utc>,
}

impl GateSession for Session {
    fn created(&self) -> DateTime<Utc> {
        self.created
    }
}

/// The open 3D sessions, by `MD`.
pub(crate) type Sessions = gate_sessions::Sessions<Session>;

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .unwrap_or_default()
}

fn is_http_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
        && !url.chars().any(char::is_control)
}

/// `BrandName` of a card number (`100` Visa, `200` MasterCard, `300` Troy, `400` Amex).
fn brand_of(pan: &str) -> Option<&'static str> {
    let prefix = |len: usize| -> u32 {
        pan.get(..len)
            .and_then(|p| p.parse().ok())
            .unwrap_or_default()
    };
    match () {
        _ if prefix(4) == 9792 || (650_052..=650_055).contains(&prefix(6)) => Some("300"),
        _ if pan.starts_with('4') => Some("100"),
        _ if (51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4)) => Some("200"),
        _ if matches!(prefix(2), 34 | 37) => Some("400"),
        _ => None,
    }
}

/// The MPI's answer document.
fn enrolment_reply(
    status: &str,
    session: Option<(&Session, &str, &str)>,
    verify_id: &str,
    error: Option<(&str, &str)>,
) -> Response {
    let mut reply = XmlReply::new();
    reply
        .open("IPaySecure")
        .open("Message")
        .open("VERes")
        .element("Status", status);
    if let Some((session, md, acs_url)) = session {
        reply
            .element("PaReq", &session.pareq)
            .element("TermUrl", acs_url)
            .element("MD", md)
            .element("ACSUrl", acs_url)
            .element("ACTUALBRAND", brand_of(&session.pan).unwrap_or_default());
    }
    let (code, message) = error.unwrap_or(("", ""));
    reply
        .close("VERes")
        .close("Message")
        .element("VerifyEnrollmentRequestId", verify_id)
        .element("MessageErrorCode", code)
        .element("ErrorMessage", message)
        .close("IPaySecure");
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        reply.encode(),
    )
        .into_response()
}

/// `POST /MPIAPI/MPI_Enrollment.aspx`.
pub async fn enrolment(
    State(sim): State<PayflexSim>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let fields = form::parse(&body, content_type);
    let verify_id = field(&fields, "VerifyEnrollmentRequestId").to_owned();
    let merchant_id = field(&fields, "MerchantId");
    let signs_in = sim
        .books()
        .map(|books| books.signs_in(merchant_id, field(&fields, "MerchantPassword")))
        .unwrap_or(false);
    if !signs_in {
        return enrolment_reply(
            "E",
            None,
            &verify_id,
            Some(("2005", "Merchant cannot be found for this bank")),
        );
    }
    let invalid = |what: &str| {
        enrolment_reply(
            "E",
            None,
            &verify_id,
            Some(("2001", &format!("Invalid field: {what}"))),
        )
    };
    let Some(currency) = Currency::from_numeric_code(field(&fields, "Currency")) else {
        return invalid("Currency");
    };
    let Some(amount) = parse_amount(field(&fields, "PurchaseAmount"), currency) else {
        return invalid("PurchaseAmount");
    };
    let pan = field(&fields, "Pan");
    if !(12..=19).contains(&pan.len())
        || !pan.bytes().all(|b| b.is_ascii_digit())
        || !luhn_valid(pan)
    {
        return invalid("Pan");
    }
    let expiry = field(&fields, "ExpiryDate");
    let month_ok = expiry.len() == 4
        && expiry.bytes().all(|b| b.is_ascii_digit())
        && (1..=12).contains(&expiry[2..].parse::<u32>().unwrap_or(0));
    if !month_ok {
        return invalid("ExpiryDate");
    }
    if brand_of(pan) != Some(field(&fields, "BrandName")) {
        return invalid("BrandName");
    }
    let installment = match field(&fields, "InstallmentCount") {
        "" | "0" | "1" => 1,
        text => match text.parse::<u32>() {
            Ok(n @ 2..=12) if currency == Currency::Try => n,
            _ => return invalid("InstallmentCount"),
        },
    };
    let success_url = field(&fields, "SuccessUrl");
    let failure_url = field(&fields, "FailureUrl");
    if !is_http_url(success_url) || !is_http_url(failure_url) {
        return invalid("SuccessUrl/FailureUrl");
    }
    if verify_id.is_empty() || verify_id.len() > 64 {
        return invalid("VerifyEnrollmentRequestId");
    }
    let session_info = field(&fields, "SessionInfo");
    if session_info.len() > 512 {
        return invalid("SessionInfo");
    }
    if field(&fields, "IsRecurring") == "true" {
        return invalid("IsRecurring");
    }
    if sim
        .books()
        .map(|b| b.authentication(&verify_id).is_some())
        .unwrap_or(true)
    {
        return enrolment_reply(
            "E",
            None,
            &verify_id,
            Some(("2002", "VerifyEnrollmentRequestId already used")),
        );
    }
    if matches!(forced_md_status(pan), Some("2" | "3")) {
        return enrolment_reply("N", None, &verify_id, None);
    }
    let now = sim.clock().now();
    let (md, pareq) = {
        let mut rng = rand::thread_rng();
        let md: String = (0..32)
            .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
            .collect();
        let mut raw = [0u8; 48];
        rng.fill(&mut raw[..]);
        (md, B64.encode(raw))
    };
    let session = Session {
        merchant_id: merchant_id.to_owned(),
        verify_id: verify_id.clone(),
        pan: pan.to_owned(),
        expiry_yymm: expiry.to_owned(),
        amount,
        currency,
        installment,
        success_url: success_url.to_owned(),
        failure_url: failure_url.to_owned(),
        session_info: session_info.to_owned(),
        pareq,
        created: now,
    };
    let Ok(mut sessions) = sim.sessions() else {
        return enrolment_reply("E", None, &verify_id, Some(("2099", "System error")));
    };
    // Past the gate's limit of open sessions, new enrolments fail.
    if !sessions.open(md.clone(), session.clone(), now) {
        return enrolment_reply("U", None, &verify_id, Some(("2098", "Too many sessions")));
    }
    drop(sessions);
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    // The ACS lives next to the MPI under the simulator's own prefix (`…/payflex`).
    let path = uri.path();
    let base = path
        .find("/payflex/")
        .map_or("/payflex", |at| &path[..at + "/payflex".len()]);
    let acs_url = format!("http://{host}{base}/MPIAPI/Acs");
    enrolment_reply("Y", Some((&session, &md, &acs_url)), &verify_id, None)
}

fn summary(session: &Session) -> Summary<'_> {
    let mut amount = rust_decimal::Decimal::new(session.amount, session.currency.minor_units());
    amount.rescale(2);
    Summary {
        merchant: &session.merchant_id,
        order_id: &session.verify_id,
        amount: format!("{amount} {}", session.currency.code()),
        masked_card: Some(mask_pan(&session.pan)),
    }
}

/// `POST /MPIAPI/Acs`: the browser arrives with `PaReq, TermUrl, MD`.
pub async fn acs(
    State(sim): State<PayflexSim>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let fields = form::parse(&body, content_type);
    let md = field(&fields, "MD");
    let now = sim.clock().now();
    let session = sim
        .sessions()
        .ok()
        .and_then(|mut s| s.get(md, now).cloned());
    let Some(session) = session.filter(|s| s.pareq == field(&fields, "PaReq")) else {
        return invalid_session();
    };
    let action = format!("{}/{md}", uri.path().trim_end_matches('/'));
    pages::html(
        StatusCode::OK,
        pages::challenge(&summary(&session), &action),
    )
}

/// `POST /MPIAPI/Acs/{md}`: the OTP, then the callback to the merchant.
pub async fn acs_submit(
    State(sim): State<PayflexSim>,
    Path(md): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let fields = form::parse(&body, content_type);
    let now = sim.clock().now();
    let session = sim.sessions().ok().and_then(|mut s| s.take(&md, now));
    let Some(session) = session else {
        return invalid_session();
    };
    let cancelled = field(&fields, "action") == "cancel";
    let status = match forced_md_status(&session.pan) {
        _ if cancelled => "N",
        Some("1") => "Y",
        Some("4") => "A",
        Some("5") => "U",
        Some("7") => "E",
        Some(_) => "N",
        None if field(&fields, "otp") == TEST_OTP => "Y",
        None => "N",
    };
    let visa = session.pan.starts_with('4');
    let eci = match status {
        "Y" if visa => "05",
        "Y" => "02",
        "A" if visa => "06",
        "A" => "01",
        _ => "",
    };
    let (xid, cavv) = {
        let mut rng = rand::thread_rng();
        let xid: String = (0..20)
            .map(|_| char::from_digit(rng.gen_range(0..36), 36).unwrap_or('0'))
            .collect();
        let mut raw = [0u8; 20];
        rng.fill(&mut raw[..]);
        (xid, B64.encode(raw))
    };
    let cavv = if matches!(status, "Y" | "A") {
        cavv
    } else {
        String::new()
    };
    let (error_code, error_message) = match status {
        "Y" => ("", ""),
        "E" => ("2053", "Directory server communication error"),
        "U" => ("2054", "Authentication could not be performed"),
        _ if cancelled => ("2051", "Cardholder cancelled"),
        _ => ("2052", "Authentication failed"),
    };
    if status == "Y"
        && let Ok(mut books) = sim.books()
    {
        books.register_authentication(
            &session.verify_id,
            Authentication {
                merchant_id: session.merchant_id.clone(),
                pan: session.pan.clone(),
                expiry_yymm: session.expiry_yymm.clone(),
                amount: session.amount,
                currency: session.currency,
                installment: session.installment,
                eci: eci.to_owned(),
                cavv: cavv.clone(),
                at: now,
                used: false,
            },
        );
    }
    let callback: Vec<(String, String)> = [
        ("MerchantId", session.merchant_id.as_str()),
        ("SubMerchantNo", "0"),
        ("SubMerchantName", ""),
        ("SubMerchantNumber", ""),
        ("PurchAmount", &session.amount.to_string()),
        ("PurchCurrency", session.currency.numeric_code()),
        ("VerifyEnrollmentRequestId", &session.verify_id),
        ("SessionInfo", &session.session_info),
        (
            "InstallmentCount",
            &if session.installment > 1 {
                session.installment.to_string()
            } else {
                String::new()
            },
        ),
        ("Pan", &mask_pan(&session.pan)),
        ("Expiry", "****"),
        ("Xid", &xid),
        ("Status", status),
        ("Cavv", &cavv),
        ("Eci", eci),
        ("ExpSign", ""),
        ("ErrorCode", error_code),
        ("ErrorMessage", error_message),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let url = if status == "Y" {
        &session.success_url
    } else {
        &session.failure_url
    };
    pages::html(StatusCode::OK, pages::auto_submit(url, &callback))
}

/// The test cards whose status does not depend on the OTP (documentation and tests).
pub fn status_cards() -> impl Iterator<Item = (&'static str, &'static str)> {
    MD_STATUS_CARDS.iter().copied()
}

/// PayFlex's ACS page for an unknown, expired or tampered session (HTTP 400, its own text).
fn invalid_session() -> Response {
    pages::html(
        StatusCode::BAD_REQUEST,
        pages::error(
            "Oturum bulunamadı",
            "Session not found",
            "Bu 3D Secure oturumu geçersiz veya süresi dolmuş.",
        ),
    )
}
