//! YKB's 3D Secure gate (OOS, model `3d`) with an ACS-like challenge page.
//!
//! # Flow and routes (under `/posnet`)
//!
//! 1. `oosRequestData` (API, [`super::books`]): the merchant sends the card and terms; the bank
//!    answers `data1`, `data2` and `sign` — opaque upper-case hex here (random; `sign` is
//!    `MD5(data1 ‖ data2 ‖ ENCKEY)`, the simulator's choice), remembered for
//!    [`ENROLMENT_TTL`](super::books::ENROLMENT_TTL) of bank time.
//! 2. `POST /3DSWebService/YKBPaymentService` — the shopper's browser posts `mid, posnetID,
//!    posnetData, posnetData2, digest, merchantReturnURL, url, lang` (vector R3.9),
//!    `application/x-www-form-urlencoded`, UTF-8 or ISO-8859-9. The gate checks the merchant
//!    (`mid`), its `posnetID`, that `posnetData`/`posnetData2`/`digest` are an enrolment the
//!    bank issued to that merchant and that has not expired or been used, and that
//!    `merchantReturnURL` is an http(s) URL. A failure gets an HTML error page (HTTP 400):
//!    without trusted data there is nothing to post back. Otherwise the enrolment is spent
//!    and the challenge page is served: merchant, order, amount, masked card, an OTP field
//!    with the test OTP ([`TEST_OTP`]) printed, "Onayla / Confirm" and "İptal / Cancel".
//! 3. `POST /3DSWebService/acs/{sessionId}` — the page's form (`otp`, `action=confirm` or
//!    `action=cancel`). The right OTP authenticates (`mdStatus=1`), a wrong one does not
//!    (`0`), Cancel gives `0` with a cancel message; the cards of NestPay's
//!    [`MD_STATUS_CARDS`](crate::nestpay::threeds::MD_STATUS_CARDS) force their status
//!    whatever the OTP (Cancel still cancels). The session is then spent (a second submit, or
//!    one after [`SESSION_TTL`], gets an HTTP 404 page) and the answer is an auto-submitting
//!    form (with a visible button for browsers without JavaScript) posting the callback to
//!    `merchantReturnURL` — always, authenticated or not, as YKB has one return URL.
//! 4. The merchant resolves and provisions through the API (`oosResolveMerchantData`,
//!    `oosTranData`; rules in [`super::books`]). Statuses 1–4 can be provisioned.
//!
//! Form actions are built from the request's own path (`OriginalUri`), so the pages work
//! wherever the router is mounted (`/sim/posnet/...` in Orkestra's sandbox). API faults
//! (`POST /_sim/faults`) apply to the API only; the gate and the ACS page are never faulted.
//!
//! # Callback fields, in order
//!
//! `MerchantPacket, BankPacket, Sign, Xid, Amount, Currency, TranType`.
//!
//! * `MerchantPacket`: the merchant data
//!   `mid;tid;amount;instalment;xid;totalPoint;totalPointAmount;webURL;hostIP;port;txStatus;
//!   mdStatus;mdErrorMessage;tranTime;currency` (field order of YKB's `posnet_oos.php`;
//!   `amount` in minor units, `instalment` `00`/`03`, `xid` the 20-character order id, points
//!   `0`, `webURL`/`hostIP`/`port` empty, `tranTime` epoch milliseconds of the bank's clock,
//!   `currency` `TL`…), encrypted with the merchant's ENCKEY (3DES-CBC, IV of random decimal
//!   digits as the toolkit makes them, CRC-32; [`super::crypto`]).
//! * `BankPacket`: 128 random upper-case hex characters; the bank's handle on the
//!   authentication.
//! * `Sign`: `upper(hex(MD5(MerchantPacket ‖ BankPacket ‖ ENCKEY)))`.
//! * `Xid`, `Amount` (minor units), `Currency`, `TranType` (`Sale`/`Auth`): unsigned helper
//!   fields, as YKB posts them.
//!
//! `txStatus`: 1 → `Y`, 4 → `A`, 5 → `U`, 7 → `E`, else `N`; `mdErrorMessage` is empty on
//! success and says why otherwise.
//!
//! [`SESSION_TTL`]: crate::gate_sessions::SESSION_TTL

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use rand::Rng;

use super::books::{Authentication, Enrolment, currency_code, installment_text, random_hex};
use super::{Poisoned, PosnetSim, crypto};
use crate::gate_sessions::{self, GateSession};
use crate::nestpay::books::mask_pan;
pub use crate::nestpay::threeds::TEST_OTP;
use crate::nestpay::threeds::{Decision, form, pages};

#[derive(Debug)]
pub(crate) struct Session {
    enrolment: Enrolment,
    return_url: String,
    created: DateTime<Utc>,
}

impl GateSession for Session {
    fn created(&self) -> DateTime<Utc> {
        self.created
    }
}

/// The open 3D sessions, by id.
pub(crate) type Sessions = gate_sessions::Sessions<Session>;

/// The last value posted under exactly `name`, trimmed; `""` when absent.
fn text<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .unwrap_or_default()
}

/// Where the ACS forms post: the gate's own path prefix + `/3DSWebService/acs/`.
fn acs_base(path: &str) -> String {
    match path.rfind("/3DSWebService/") {
        Some(at) => format!("{}/3DSWebService/acs/", &path[..at]),
        None => "/posnet/3DSWebService/acs/".to_owned(),
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

fn error_page(status: StatusCode, detail: &str) -> Response {
    pages::html(
        status,
        pages::error("İşlem yapılamadı", "The payment cannot proceed", detail),
    )
}

fn internal_error() -> Response {
    error_page(StatusCode::INTERNAL_SERVER_ERROR, "Simülatör hatası.")
}

/// `(mdStatus, txStatus, mdErrorMessage)`; messages never contain `;`.
fn statuses(decision: Decision) -> (&'static str, &'static str, &'static str) {
    match decision {
        Decision::Otp { right: true } | Decision::Forced("1") => ("1", "Y", ""),
        Decision::Otp { right: false } | Decision::Forced("0") => ("0", "N", "Not authenticated"),
        Decision::Cancelled => ("0", "N", "Not authenticated: cancelled by the cardholder"),
        Decision::Forced("2") => ("2", "N", "Card not enrolled"),
        Decision::Forced("3") => ("3", "N", "Issuer not participating"),
        Decision::Forced("4") => ("4", "A", "Attempt: authentication not available"),
        Decision::Forced("5") => ("5", "U", "Unable to verify"),
        Decision::Forced(_) => ("7", "E", "System error"),
    }
}

/// An IV as YKB's toolkit makes one: 16 random decimal digits read as hex.
fn toolkit_iv(rng: &mut impl Rng) -> [u8; 8] {
    let mut iv = [0u8; 8];
    for byte in &mut iv {
        *byte = (rng.gen_range(0..10u8) << 4) | rng.gen_range(0..10u8);
    }
    iv
}

/// `125.50 TRY`.
fn display_amount(enrolment: &Enrolment) -> String {
    let amount =
        domain::money::MinorUnits::from_stored(enrolment.amount).to_decimal(enrolment.currency);
    format!("{amount} {}", enrolment.currency.code())
}

/// `POST /3DSWebService/YKBPaymentService`.
pub async fn gate(
    State(sim): State<PosnetSim>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form::parse(&body, content_type(&headers));
    sim.gate_page(&fields, &acs_base(uri.path()))
        .unwrap_or_else(|Poisoned| internal_error())
}

/// `POST /3DSWebService/acs/{sessionId}`.
pub async fn acs(
    State(sim): State<PosnetSim>,
    Path(session_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form::parse(&body, content_type(&headers));
    sim.acs_page(&session_id, &fields)
        .unwrap_or_else(|Poisoned| internal_error())
}

impl PosnetSim {
    fn gate_page(&self, fields: &[(String, String)], acs_base: &str) -> Result<Response, Poisoned> {
        let now = self.clock().now();
        let mid = text(fields, "mid");
        let return_url = text(fields, "merchantReturnURL");
        let enrolment = {
            let mut books = self.books()?;
            let Some(merchant) = books.merchant(mid) else {
                return Ok(error_page(
                    StatusCode::BAD_REQUEST,
                    "Üye işyeri bulunamadı. / Unknown merchant (mid).",
                ));
            };
            if text(fields, "posnetID") != merchant.posnet_id {
                return Ok(error_page(
                    StatusCode::BAD_REQUEST,
                    "Posnet ID hatalı. / Wrong posnetID.",
                ));
            }
            if !is_http_url(return_url) {
                return Ok(error_page(
                    StatusCode::BAD_REQUEST,
                    "merchantReturnURL geçersiz. / merchantReturnURL is not an http(s) URL.",
                ));
            }
            books.take_enrolment(
                mid,
                text(fields, "posnetData"),
                text(fields, "posnetData2"),
                text(fields, "digest"),
                now,
            )
        };
        let Some(enrolment) = enrolment else {
            tracing::debug!(
                mid,
                "posnet sim 3D gate: unknown, expired or forged form data"
            );
            return Ok(error_page(
                StatusCode::BAD_REQUEST,
                "3D verisi geçersiz veya süresi dolmuş. / The 3D form data is invalid, used or expired.",
            ));
        };
        let id = random_hex(&mut rand::thread_rng(), 16).to_ascii_lowercase();
        let page = pages::challenge(
            &pages::Summary {
                merchant: &enrolment.mid,
                order_id: &enrolment.xid,
                amount: display_amount(&enrolment),
                masked_card: Some(mask_pan(&enrolment.pan)),
            },
            &format!("{acs_base}{id}"),
        );
        let session = Session {
            enrolment,
            return_url: return_url.to_owned(),
            created: now,
        };
        if !self.sessions()?.open(id, session, now) {
            return Ok(gate_sessions::busy_page());
        }
        Ok(pages::html(StatusCode::OK, page))
    }

    fn acs_page(&self, id: &str, fields: &[(String, String)]) -> Result<Response, Poisoned> {
        let now = self.clock().now();
        let session = {
            let mut sessions = self.sessions()?;
            sessions.take(id, now)
        };
        let Some(Session {
            enrolment,
            return_url,
            ..
        }) = session
        else {
            return Ok(gate_sessions::not_found_page());
        };
        let decision = Decision::of(
            text(fields, "action") == "cancel",
            Some(enrolment.pan.as_str()),
            text(fields, "otp"),
        );
        let (md_status, tx_status, md_error) = statuses(decision);
        let mut rng = rand::thread_rng();
        let callback = {
            let mut books = self.books()?;
            let Some(merchant) = books.merchant(&enrolment.mid).cloned() else {
                return Ok(internal_error());
            };
            let amount = enrolment.amount.to_string();
            let currency = currency_code(enrolment.currency);
            let plain = [
                merchant.mid.as_str(),
                merchant.tid.as_str(),
                &amount,
                &installment_text(enrolment.installment),
                &enrolment.xid,
                "0",
                "0",
                "",
                "",
                "",
                tx_status,
                md_status,
                md_error,
                &now.timestamp_millis().to_string(),
                currency,
            ]
            .join(";");
            let merchant_packet =
                crypto::encrypt_packet(plain.as_bytes(), &merchant.enc_key, toolkit_iv(&mut rng));
            let bank_packet = random_hex(&mut rng, 64);
            let sign = crypto::callback_sign(&merchant_packet, &bank_packet, &merchant.enc_key);
            let fields: Vec<(String, String)> = [
                ("MerchantPacket", merchant_packet.as_str()),
                ("BankPacket", bank_packet.as_str()),
                ("Sign", sign.as_str()),
                ("Xid", enrolment.xid.as_str()),
                ("Amount", amount.as_str()),
                ("Currency", currency),
                ("TranType", enrolment.kind.tran_type()),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
            tracing::debug!(
                mid = merchant.mid.as_str(),
                xid = enrolment.xid.as_str(),
                md_status,
                "posnet sim 3D authentication finished"
            );
            books.register_authentication(
                &bank_packet,
                Authentication {
                    enrolment,
                    md_status: md_status.to_owned(),
                    tx_status: tx_status.to_owned(),
                    md_error_message: md_error.to_owned(),
                    merchant_packet,
                    sign,
                    at: now,
                    used: false,
                },
            );
            fields
        };
        Ok(pages::html(
            StatusCode::OK,
            pages::auto_submit(&return_url, &callback),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_urls() {
        assert_eq!(
            acs_base("/posnet/3DSWebService/YKBPaymentService"),
            "/posnet/3DSWebService/acs/"
        );
        assert_eq!(
            acs_base("/sim/posnet/3DSWebService/YKBPaymentService"),
            "/sim/posnet/3DSWebService/acs/"
        );
        assert_eq!(acs_base("/other"), "/posnet/3DSWebService/acs/");
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
    }

    #[test]
    fn decisions_and_ivs() {
        assert_eq!(statuses(Decision::Otp { right: true }).0, "1");
        assert_eq!(statuses(Decision::Cancelled).0, "0");
        assert_eq!(
            statuses(Decision::Forced("4")),
            ("4", "A", "Attempt: authentication not available")
        );
        for decision in [
            Decision::Otp { right: false },
            Decision::Cancelled,
            Decision::Forced("2"),
            Decision::Forced("3"),
            Decision::Forced("5"),
            Decision::Forced("7"),
        ] {
            assert!(!statuses(decision).2.contains(';'));
        }
        let iv = toolkit_iv(&mut rand::thread_rng());
        assert!(crypto::hex_upper(&iv).bytes().all(|b| b.is_ascii_digit()));
    }
}
