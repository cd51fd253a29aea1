//! The Akbank 3D Secure gate with an ACS-like challenge page.
//!
//! # Routes (under `/akbank`)
//!
//! * `POST /securepay` (`paymentModel` `3D` or `3D_PAY`) and `POST /payhosting`
//!   (`3D_PAY_HOSTING`) — the merchant's form, `application/x-www-form-urlencoded` as a
//!   browser posts it (parsed by [`crate::nestpay::threeds::form`]). Fields (vectors
//!   R11.1–R11.4): `paymentModel, txnCode (3000 | 3004), merchantSafeId, terminalSafeId,
//!   orderId, lang, amount ("1.00"), currencyCode, installCount, okUrl, failUrl,
//!   randomNumber, requestDateTime`, the card for `3D`/`3D_PAY` (`creditCard, expiredDate
//!   (MMYY), cvv`), and `hash` = `b64(HMAC-SHA512(secretKey, paymentModel‖txnCode‖
//!   merchantSafeId‖terminalSafeId‖orderId‖lang‖amount‖ccbRewardAmount‖pcbRewardAmount‖
//!   xcbRewardAmount‖currencyCode‖installCount‖okUrl‖failUrl‖emailAddress‖subMerchantId‖
//!   creditCard‖expiredDate‖cvv‖randomNumber‖requestDateTime‖b2bIdentityNumber))`. An
//!   unknown terminal, or a form without an http(s) `failUrl`, gets an HTML error page
//!   (HTTP 400): there is nobody to sign for or nowhere to post. Otherwise a wrong `hash`
//!   (`VPS-1901`), a field the API would refuse (`VPS-1903`…`VPS-1906`, `VPS-1073` for the
//!   date), a model posted to the other page (`VPS-1903`) or an `orderId` an approved order
//!   carries (`VPS-1013`) is posted straight back to `failUrl` as a signed failure (the
//!   layout below). A good form opens a 3D session (random 32-hex id, expiring after
//!   [`SESSION_TTL`] of bank time) and answers the challenge page of the NestPay simulator
//!   ([`crate::nestpay::threeds::pages`]); `3D_PAY_HOSTING` first asks for the card.
//! * `POST /acs/{sessionId}` — the page's form: the hosting card step (`pan`,
//!   `Ecom_Payment_Card_ExpDate_Month`, `Ecom_Payment_Card_ExpDate_Year`, `cv2`), then `otp`
//!   with `action=confirm` or `action=cancel`. The right OTP (`123456`) authenticates; a
//!   wrong one or Cancel does not; the cards of [`crate::nestpay::threeds::MD_STATUS_CARDS`]
//!   authenticate when their status is `1` and fail otherwise, whatever the OTP (Akbank has
//!   no half-secure answer: anything but full authentication is `VPS-1279`). The session
//!   is then spent (a second submit gets HTTP 404).
//!
//! # Callbacks (auto-submitting form to `okUrl` on success, `failUrl` otherwise)
//!
//! * `3D`, authenticated (C11.1): `txnCode=3001, responseCode=VPS-0000,
//!   responseMessage=BAŞARILI, txnDateTime, merchantSafeId, terminalSafeId, orderId,
//!   secureEcomInd (05 Visa, 02 others), secureId, secureData, secureMd`, signed over
//!   `txnCode+responseCode+responseMessage+txnDateTime+merchantSafeId+terminalSafeId+
//!   orderId+secureId+secureEcomInd+secureData+secureMd`. The merchant provisions it once
//!   through the API with `secureTransaction` (rules in [`super::books`]).
//! * `3D_PAY`/`3D_PAY_HOSTING`, authenticated: the gate books the order itself (`1000` or
//!   `1004`, the API's rules and decline cards) and posts its result (C11.5): `txnCode,
//!   responseCode, responseMessage, hostResponseCode, hostMessage, txnDateTime,
//!   merchantSafeId, terminalSafeId, orderId, authCode, rrn, batchNumber, stan`, signed over
//!   all of them in that order.
//! * Not authenticated, or refused at the gate (C11.2): `txnCode="", responseCode,
//!   responseMessage, hostResponseCode="", hostMessage="", merchantSafeId="",
//!   terminalSafeId="", orderId`, signed over `responseCode+responseMessage+orderId`.
//!
//! Every callback also echoes the form's `amount`, `currencyCode` and `installCount`
//! (outside `hashParams`, like the real callbacks' unsigned fields): Orkestra checks them
//! against the attempt. `hash` = `b64(HMAC-SHA512(secretKey, concatenated values of the
//! hashParams fields))`.
//!
//! [`SESSION_TTL`]: crate::gate_sessions::SESSION_TTL

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime, Utc};
use domain::card::Expiry;
use domain::clock::{istanbul, to_local};
use domain::money::Currency;
use rand::Rng;
use serde_json::Value;

use super::books::{
    self, Authentication, OrderKind, Payment, Store, check_installment, currency_from_int,
    mask_pan, parse_amount_text, parse_expiry, valid_akbank_order_id, valid_cvv, valid_pan,
};
use super::codes::{self, Code};
use super::wire::{hmac_b64, signature_matches};
use super::{AkbankSim, Poisoned};
use crate::gate_sessions::{self, GateSession};
use crate::nestpay::threeds::{TEST_OTP, b64_20, forced_md_status, form, pages};

const AUTHENTICATION_PARAMS: &str = "txnCode+responseCode+responseMessage+txnDateTime+merchantSafeId+terminalSafeId+orderId+secureId+secureEcomInd+secureData+secureMd";
const PROVISION_PARAMS: &str = "txnCode+responseCode+responseMessage+hostResponseCode+hostMessage+txnDateTime+merchantSafeId+terminalSafeId+orderId+authCode+rrn+batchNumber+stan";
const FAILURE_PARAMS: &str = "responseCode+responseMessage+orderId";

/// `paymentModel` of a 3D form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentModel {
    ThreeD,
    ThreeDPay,
    Hosting,
}

impl PaymentModel {
    pub fn parse(raw: &str) -> Option<PaymentModel> {
        match raw {
            "3D" => Some(PaymentModel::ThreeD),
            "3D_PAY" => Some(PaymentModel::ThreeDPay),
            "3D_PAY_HOSTING" => Some(PaymentModel::Hosting),
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
    store: Store,
    model: PaymentModel,
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
    /// `None` until the hosting card page collected it.
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
fn text<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// The form's `hash` (see the module documentation); absent fields count as `""`.
pub fn form_hash(fields: &[(String, String)], secret_key: &str) -> String {
    let message: String = [
        "paymentModel",
        "txnCode",
        "merchantSafeId",
        "terminalSafeId",
        "orderId",
        "lang",
        "amount",
        "ccbRewardAmount",
        "pcbRewardAmount",
        "xcbRewardAmount",
        "currencyCode",
        "installCount",
        "okUrl",
        "failUrl",
        "emailAddress",
        "subMerchantId",
        "creditCard",
        "expiredDate",
        "cvv",
        "randomNumber",
        "requestDateTime",
        "b2bIdentityNumber",
    ]
    .iter()
    .map(|name| text(fields, name))
    .collect();
    hmac_b64(secret_key, message.as_bytes())
}

/// Signs a callback: appends `hashParams` and `hash` over the fields it names.
pub fn sign_callback(fields: &mut Vec<(String, String)>, params: &str, secret_key: &str) {
    let message: String = params.split('+').map(|name| text(fields, name)).collect();
    let hash = hmac_b64(secret_key, message.as_bytes());
    fields.push(("hashParams".into(), params.to_owned()));
    fields.push(("hash".into(), hash));
}

/// Where the ACS forms post: the gate's own directory + `/acs/`, so the pages work wherever
/// the router is mounted (`/sim/akbank/securepay` → `/sim/akbank/acs/`).
fn acs_base(path: &str) -> String {
    let dir = match path.rfind("/acs/") {
        Some(at) => &path[..at],
        None => path.rfind('/').map_or("", |at| &path[..at]),
    };
    format!("{dir}/acs/")
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

fn hex_upper(rng: &mut impl Rng, bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02X}", rng.r#gen::<u8>()))
        .collect()
}

/// The callback's `txnDateTime` (`2024-04-18T20:15:35.000`).
fn callback_time(now: DateTime<Utc>) -> String {
    to_local(now, istanbul())
        .format("%Y-%m-%dT%H:%M:%S.000")
        .to_string()
}

fn check_card(pan: &str, expiry: Option<Expiry>, cvv: &str) -> Result<Card, Code> {
    let pan: String = pan.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if !valid_pan(&pan) {
        return Err(codes::BAD_CARD_NUMBER);
    }
    let expiry = expiry.ok_or(codes::BAD_FIELD)?;
    if !valid_cvv(cvv.trim()) {
        return Err(codes::BAD_FIELD);
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

/// Checks a gate form's fields (its hash and terminal are already checked).
fn check_checkout(
    fields: &[(String, String)],
    store: &Store,
    hosting_page: bool,
    now: DateTime<Utc>,
) -> Result<Checkout, Code> {
    let model = PaymentModel::parse(text(fields, "paymentModel").trim()).ok_or(codes::BAD_FIELD)?;
    if (model == PaymentModel::Hosting) != hosting_page {
        return Err(codes::BAD_FIELD);
    }
    let kind = match text(fields, "txnCode").trim() {
        "3000" => OrderKind::Sale,
        "3004" => OrderKind::PreAuth,
        _ => return Err(codes::BAD_FIELD),
    };
    let order_id = text(fields, "orderId").trim();
    if order_id.is_empty() || !valid_akbank_order_id(order_id) {
        return Err(codes::BAD_FIELD);
    }
    let currency = text(fields, "currencyCode")
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(currency_from_int)
        .ok_or(codes::BAD_FIELD)?;
    let amount_text = text(fields, "amount").trim();
    let amount = parse_amount_text(amount_text, currency).ok_or(codes::BAD_AMOUNT)?;
    let installment: u32 = text(fields, "installCount")
        .trim()
        .parse()
        .map_err(|_| codes::BAD_INSTALLMENT)?;
    check_installment(installment, currency)?;
    let (ok_url, fail_url) = (text(fields, "okUrl").trim(), text(fields, "failUrl").trim());
    if !is_http_url(ok_url) {
        return Err(codes::BAD_FIELD);
    }
    if text(fields, "randomNumber").chars().count() != 128 {
        return Err(codes::BAD_FIELD);
    }
    let date_ok = NaiveDateTime::parse_from_str(
        text(fields, "requestDateTime").trim(),
        "%Y-%m-%dT%H:%M:%S%.3f",
    )
    .is_ok_and(|at| (at - to_local(now, istanbul())).abs() <= books::REQUEST_DATE_WINDOW);
    if !date_ok {
        return Err(codes::BAD_REQUEST_DATE);
    }
    if !matches!(text(fields, "lang").trim(), "TR" | "EN" | "") {
        return Err(codes::BAD_FIELD);
    }
    Ok(Checkout {
        store: store.clone(),
        model,
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

fn internal_error() -> Response {
    pages::html(
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::error("Sistem hatası", "System error", "Simülatör hatası."),
    )
}

/// `POST /securepay` and `POST /payhosting`.
pub async fn gate(
    State(sim): State<AkbankSim>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form::parse(&body, content_type(&headers));
    let hosting_page = uri.path().ends_with("/payhosting");
    sim.gate_page(&fields, hosting_page, &acs_base(uri.path()))
        .unwrap_or_else(|Poisoned| internal_error())
}

/// `POST /acs/{sessionId}`.
pub async fn acs(
    State(sim): State<AkbankSim>,
    Path(session_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form::parse(&body, content_type(&headers));
    sim.acs_page(&session_id, &fields, &acs_base(uri.path()))
        .unwrap_or_else(|Poisoned| internal_error())
}

/// The form's echo of the money fields, in every callback.
fn echo(fields: &mut Vec<(String, String)>, amount: &str, currency: &str, installment: &str) {
    fields.push(("amount".into(), amount.to_owned()));
    fields.push(("currencyCode".into(), currency.to_owned()));
    fields.push(("installCount".into(), installment.to_owned()));
}

/// A failure callback (C11.2 layout), signed with `secret_key`.
fn failure_fields(
    code: Code,
    order_id: &str,
    secret_key: &str,
    money: (&str, &str, &str),
) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = [
        ("txnCode", ""),
        ("responseCode", code.code),
        ("responseMessage", code.message),
        ("hostResponseCode", ""),
        ("hostMessage", ""),
        ("merchantSafeId", ""),
        ("terminalSafeId", ""),
        ("orderId", order_id),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    echo(&mut fields, money.0, money.1, money.2);
    sign_callback(&mut fields, FAILURE_PARAMS, secret_key);
    fields
}

impl AkbankSim {
    fn gate_page(
        &self,
        fields: &[(String, String)],
        hosting_page: bool,
        acs_base: &str,
    ) -> Result<Response, Poisoned> {
        let now = self.clock().now();
        let mut rng = rand::thread_rng();
        let store = self
            .books()?
            .store(text(fields, "merchantSafeId").trim())
            .filter(|s| s.terminal_safe_id == text(fields, "terminalSafeId").trim())
            .cloned();
        let fail_url = text(fields, "failUrl").trim();
        let Some(store) = store.filter(|_| is_http_url(fail_url)) else {
            return Ok(pages::html(
                StatusCode::BAD_REQUEST,
                pages::error(
                    "İşlem reddedildi",
                    "Request refused",
                    "Üye işyeri/terminal bulunamadı veya failUrl geçersiz. / Unknown terminal or invalid failUrl.",
                ),
            ));
        };
        let refuse = |code: Code| {
            tracing::debug!(code = code.code, "akbank sim 3D gate refused");
            let money = (
                text(fields, "amount"),
                text(fields, "currencyCode"),
                text(fields, "installCount"),
            );
            let callback = failure_fields(
                code,
                text(fields, "orderId").trim(),
                &store.secret_key,
                money,
            );
            Ok(pages::html(
                StatusCode::OK,
                pages::auto_submit(fail_url, &callback),
            ))
        };
        let expected = form_hash(fields, &store.secret_key);
        if !signature_matches(&expected, text(fields, "hash").trim()) {
            return refuse(codes::BAD_HASH);
        }
        let checked = check_checkout(fields, &store, hosting_page, now).and_then(|checkout| {
            let card = match checkout.model {
                PaymentModel::Hosting => None,
                PaymentModel::ThreeD | PaymentModel::ThreeDPay => Some(check_card(
                    text(fields, "creditCard"),
                    parse_expiry(text(fields, "expiredDate").trim()),
                    text(fields, "cvv"),
                )?),
            };
            Ok((checkout, card))
        });
        let (checkout, card) = match checked {
            Ok(checked) => checked,
            Err(code) => return refuse(code),
        };
        if self
            .books()?
            .order_taken(&store.merchant_safe_id, &checkout.order_id)
        {
            return refuse(codes::DUPLICATE_ORDER);
        }
        let id = hex_upper(&mut rng, 16).to_ascii_lowercase();
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
                // Hosting card step.
                let checked = check_card(
                    text(fields, "pan"),
                    page_expiry(
                        text(fields, "Ecom_Payment_Card_ExpDate_Month"),
                        text(fields, "Ecom_Payment_Card_ExpDate_Year"),
                    ),
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
        let authenticated = !cancel
            && match session.card.as_ref().and_then(|c| forced_md_status(&c.pan)) {
                Some(forced) => forced == "1",
                None => text(fields, "otp").trim() == TEST_OTP,
            };
        self.finish(session, authenticated, now)
    }

    /// Ends a challenge: records or books what the model wants, then posts the callback.
    fn finish(
        &self,
        session: Session,
        authenticated: bool,
        now: DateTime<Utc>,
    ) -> Result<Response, Poisoned> {
        let mut rng = rand::thread_rng();
        let Session { checkout, card, .. } = session;
        let store = &checkout.store;
        let install = checkout.installment.to_string();
        let currency = checkout.currency.numeric_code().to_owned();
        let money = (
            checkout.amount_text.as_str(),
            currency.as_str(),
            install.as_str(),
        );
        let (Some(card), true) = (card, authenticated) else {
            tracing::debug!(
                order_id = checkout.order_id.as_str(),
                "akbank sim 3D authentication failed"
            );
            let callback = failure_fields(
                codes::THREEDS_FAILED,
                &checkout.order_id,
                &store.secret_key,
                money,
            );
            return Ok(pages::html(
                StatusCode::OK,
                pages::auto_submit(&checkout.fail_url, &callback),
            ));
        };
        let base = |txn_code: &str| -> Vec<(String, String)> {
            vec![("txnCode".into(), txn_code.to_owned())]
        };
        let (mut callback, params, ok) = match checkout.model {
            PaymentModel::ThreeD => {
                let secure_md = hex_upper(&mut rng, 32);
                let secure_id = b64_20(&mut rng);
                let secure_data = b64_20(&mut rng);
                let secure_ecom_ind = if card.pan.starts_with('4') {
                    "05"
                } else {
                    "02"
                };
                self.books()?.register_authentication(
                    &secure_md,
                    Authentication {
                        merchant_safe_id: store.merchant_safe_id.clone(),
                        order_id: checkout.order_id.clone(),
                        kind: checkout.kind,
                        amount: checkout.amount,
                        currency: checkout.currency,
                        installment: checkout.installment,
                        pan: card.pan.clone(),
                        expiry: card.expiry,
                        secure_id: secure_id.clone(),
                        secure_ecom_ind: secure_ecom_ind.to_owned(),
                        secure_data: secure_data.clone(),
                        at: now,
                        used: false,
                    },
                );
                let mut fields = base("3001");
                for (name, value) in [
                    ("responseCode", codes::SUCCESS.to_owned()),
                    ("responseMessage", codes::APPROVED_MESSAGE.to_owned()),
                    ("txnDateTime", callback_time(now)),
                    ("merchantSafeId", store.merchant_safe_id.clone()),
                    ("terminalSafeId", store.terminal_safe_id.clone()),
                    ("orderId", checkout.order_id.clone()),
                    ("secureEcomInd", secure_ecom_ind.to_owned()),
                    ("secureId", secure_id),
                    ("secureData", secure_data),
                    ("secureMd", secure_md),
                ] {
                    fields.push((name.to_owned(), value));
                }
                (fields, AUTHENTICATION_PARAMS, true)
            }
            PaymentModel::ThreeDPay | PaymentModel::Hosting => {
                let booked = self.books()?.book(
                    store,
                    &Payment {
                        kind: checkout.kind,
                        order_id: &checkout.order_id,
                        pan: &card.pan,
                        expiry: card.expiry,
                        holder: "",
                        currency: checkout.currency,
                        amount: checkout.amount,
                        installment: checkout.installment,
                    },
                    now,
                    &mut rng,
                );
                let reply = match booked {
                    Ok(reply) => reply,
                    Err(code) => books::refusal(
                        checkout.kind.txn_code(),
                        &checkout.order_id,
                        code,
                        now,
                        Some(store),
                    ),
                };
                let get = |path: &[&str]| -> String {
                    let mut value = Some(&reply);
                    for part in path {
                        value = value.and_then(|v| v.get(*part));
                    }
                    match value {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Number(n)) => n.to_string(),
                        _ => String::new(),
                    }
                };
                let code = get(&["responseCode"]);
                let mut fields = base(checkout.kind.txn_code());
                for (name, value) in [
                    ("responseCode", code.clone()),
                    ("responseMessage", get(&["responseMessage"])),
                    ("hostResponseCode", get(&["hostResponseCode"])),
                    ("hostMessage", get(&["hostMessage"])),
                    ("txnDateTime", callback_time(now)),
                    ("merchantSafeId", store.merchant_safe_id.clone()),
                    ("terminalSafeId", store.terminal_safe_id.clone()),
                    ("orderId", checkout.order_id.clone()),
                    ("authCode", get(&["transaction", "authCode"])),
                    ("rrn", get(&["transaction", "rrn"])),
                    ("batchNumber", get(&["transaction", "batchNumber"])),
                    ("stan", get(&["transaction", "stan"])),
                ] {
                    fields.push((name.to_owned(), value));
                }
                (fields, PROVISION_PARAMS, code == codes::SUCCESS)
            }
        };
        echo(&mut callback, money.0, money.1, money.2);
        sign_callback(&mut callback, params, &store.secret_key);
        tracing::debug!(
            order_id = checkout.order_id.as_str(),
            ok,
            "akbank sim 3D authentication finished"
        );
        let url = if ok {
            &checkout.ok_url
        } else {
            &checkout.fail_url
        };
        Ok(pages::html(
            StatusCode::OK,
            pages::auto_submit(url, &callback),
        ))
    }
}

fn summary<'a>(checkout: &'a Checkout, card: Option<&Card>) -> pages::Summary<'a> {
    pages::Summary {
        merchant: &checkout.store.merchant_safe_id,
        order_id: &checkout.order_id,
        amount: format!("{} {}", checkout.amount_text, checkout.currency.code()),
        masked_card: card.map(|c| mask_pan(&c.pan)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acs_base_follows_the_mount_point() {
        assert_eq!(acs_base("/akbank/securepay"), "/akbank/acs/");
        assert_eq!(acs_base("/sim/akbank/payhosting"), "/sim/akbank/acs/");
        assert_eq!(acs_base("/sim/akbank/acs/abc"), "/sim/akbank/acs/");
    }

    #[test]
    fn callbacks_are_signed_over_their_hash_params() {
        let mut fields = vec![
            ("responseCode".to_owned(), "VPS-1279".to_owned()),
            ("responseMessage".to_owned(), "x".to_owned()),
            ("orderId".to_owned(), "A".to_owned()),
        ];
        sign_callback(&mut fields, FAILURE_PARAMS, "k");
        assert_eq!(text(&fields, "hash"), hmac_b64("k", b"VPS-1279xA"));
    }
}
