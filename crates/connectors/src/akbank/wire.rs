//! Akbank's wire format: the JSON request bodies (field order and escaping as the reference
//! library emits them, vectors R11.6–R11.19), reply parsing, and the translation of a reply
//! into facts: [`Outcome`], [`PaymentSync`], [`BankCredit`].
//!
//! Bodies are written by hand rather than through a map so the field order is the bank's and
//! the bytes are exactly the ones `auth-hash` signs. Strings are escaped like PHP's
//! `json_encode` defaults (`/` as `\/`, non-ASCII as `\uXXXX`), so a body is byte-identical
//! to the library's for the same input. Every reply that is not clearly an approval or
//! clearly a decline becomes [`ConnectorError::BadResponse`].

use domain::enums::ErrorGroup;
use domain::money::{Currency, MinorUnits};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::{
    Approval, AuthorizeKind, BankCredit, BankOrderState, ConnectorError, Decline, Outcome,
    PaymentSync,
};

/// The API `version` every request carries.
pub(crate) const VERSION: &str = "1.00";

/// The one success `responseCode`.
pub(crate) const SUCCESS: &str = "VPS-0000";

/// Largest reply read into memory; an order history of a busy order is a few KiB.
pub(crate) const RESPONSE_BYTES_MAX: usize = 4 << 20;

// ---------------------------------------------------------------------------------------
// JSON writing

/// Escapes a string as PHP's `json_encode` does with default flags.
fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// A JSON object under construction, members in insertion order.
#[derive(Debug, Default)]
pub(crate) struct JsonObject {
    out: String,
}

impl JsonObject {
    pub fn new() -> JsonObject {
        JsonObject::default()
    }

    fn key(&mut self, key: &str) {
        self.out.push(if self.out.is_empty() { '{' } else { ',' });
        push_json_string(&mut self.out, key);
        self.out.push(':');
    }

    pub fn string(mut self, key: &str, value: &str) -> JsonObject {
        self.key(key);
        push_json_string(&mut self.out, value);
        self
    }

    /// An integer member (`currencyCode`, `installCount`, `motoInd`).
    pub fn int(mut self, key: &str, value: u32) -> JsonObject {
        self.key(key);
        self.out.push_str(&value.to_string());
        self
    }

    pub fn object(mut self, key: &str, value: JsonObject) -> JsonObject {
        self.key(key);
        self.out.push_str(&value.finish());
        self
    }

    pub fn finish(mut self) -> String {
        if self.out.is_empty() {
            return "{}".to_owned();
        }
        self.out.push('}');
        self.out
    }
}

// ---------------------------------------------------------------------------------------
// Requests

/// The terminal every request names, and the key that signs it.
#[derive(Clone, Copy)]
pub(crate) struct Credentials<'a> {
    pub merchant_safe_id: &'a str,
    pub terminal_safe_id: &'a str,
    pub secret_key: &'a str,
}

// Never print the secret key.
impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("merchant_safe_id", &self.merchant_safe_id)
            .field("terminal_safe_id", &self.terminal_safe_id)
            .finish_non_exhaustive()
    }
}

/// What makes each request unique: its `requestDateTime` and `randomNumber`.
#[derive(Debug, Clone)]
pub(crate) struct Stamp {
    pub request_date_time: String,
    pub random_number: String,
}

impl Stamp {
    pub fn now() -> Stamp {
        Stamp {
            request_date_time: super::hash::request_date_time_now(),
            random_number: super::hash::new_random_number(),
        }
    }
}

/// `txnCode`s.
pub(crate) mod txn_code {
    pub const SALE: &str = "1000";
    pub const REFUND: &str = "1002";
    pub const CANCEL: &str = "1003";
    pub const PRE_AUTH: &str = "1004";
    pub const POST_AUTH: &str = "1005";
    pub const ORDER_HISTORY: &str = "1010";
    pub const THREEDS_SALE: &str = "3000";
    pub const THREEDS_PRE_AUTH: &str = "3004";
    /// A 3D model authentication's callback.
    pub const THREEDS_AUTHENTICATION: &str = "3001";
}

/// `txnCode` of an API sale or pre-authorisation (also of a 3D provision).
pub(crate) fn api_txn_code(kind: AuthorizeKind) -> &'static str {
    match kind {
        AuthorizeKind::Sale => txn_code::SALE,
        AuthorizeKind::PreAuth => txn_code::PRE_AUTH,
    }
}

/// `txnCode` of a 3D form.
pub(crate) fn form_txn_code(kind: AuthorizeKind) -> &'static str {
    match kind {
        AuthorizeKind::Sale => txn_code::THREEDS_SALE,
        AuthorizeKind::PreAuth => txn_code::THREEDS_PRE_AUTH,
    }
}

/// `amount`: major units with exactly two decimals (`"1.10"`, `"1000.00"`), whatever the
/// currency's exponent; an amount that two decimals cannot carry is refused before sending.
pub(crate) fn amount_text(
    amount: MinorUnits,
    currency: Currency,
) -> Result<String, ConnectorError> {
    let value = amount.to_decimal(currency);
    let mut two = value.round_dp(2);
    if two != value {
        return Err(ConnectorError::Config(format!(
            "amount has more than two decimals for {}",
            currency.code()
        )));
    }
    two.rescale(2);
    Ok(two.to_string())
}

/// `currencyCode` (an integer in JSON, a string on the 3D form). Akbank's currencies: the
/// reference library maps TRY, USD, EUR, JPY, RUB (it lacks GBP, which the bank offers).
pub(crate) fn currency_code(currency: Currency) -> Result<u32, ConnectorError> {
    match currency {
        Currency::Try
        | Currency::Usd
        | Currency::Eur
        | Currency::Gbp
        | Currency::Jpy
        | Currency::Rub => currency
            .numeric_code()
            .parse()
            .map_err(|_| ConnectorError::Config("currency code".into())),
        other => Err(ConnectorError::Config(format!(
            "currency {} is not offered by Akbank",
            other.code()
        ))),
    }
}

/// `installCount`: `1` for a single payment (0 or 1), else the count.
pub(crate) fn install_count(installment: u32) -> u32 {
    installment.max(1)
}

/// The opening members of every request: terminal, version, txnCode, date, random number.
fn head(credentials: Credentials<'_>, stamp: &Stamp, txn_code: &str) -> JsonObject {
    JsonObject::new()
        .object("terminal", terminal(credentials))
        .string("version", VERSION)
        .string("txnCode", txn_code)
        .string("requestDateTime", &stamp.request_date_time)
        .string("randomNumber", &stamp.random_number)
}

fn terminal(credentials: Credentials<'_>) -> JsonObject {
    JsonObject::new()
        .string("merchantSafeId", credentials.merchant_safe_id)
        .string("terminalSafeId", credentials.terminal_safe_id)
}

fn order(order_id: &str) -> JsonObject {
    JsonObject::new().string("orderId", order_id)
}

fn customer(ip: &str) -> JsonObject {
    JsonObject::new().string("ipAddress", ip)
}

/// The money of a sale, pre-authorisation or 3D provision.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Terms {
    pub amount: MinorUnits,
    pub currency: Currency,
    pub installment: u32,
}

fn payment_transaction(terms: Terms) -> Result<JsonObject, ConnectorError> {
    Ok(JsonObject::new()
        .string("amount", &amount_text(terms.amount, terms.currency)?)
        .int("currencyCode", currency_code(terms.currency)?)
        .int("motoInd", 0)
        .int("installCount", install_count(terms.installment)))
}

/// The card of a sale or pre-authorisation, in clear: the one place it is written.
#[derive(Clone, Copy)]
pub(crate) struct Card<'a> {
    pub number: &'a str,
    pub cvv: &'a str,
    /// `MMYY`.
    pub expiry: &'a str,
}

/// Sale (`1000`) or pre-authorisation (`1004`) with the card (vectors R11.8–R11.10).
pub(crate) fn authorize_body(
    credentials: Credentials<'_>,
    stamp: &Stamp,
    kind: AuthorizeKind,
    order_id: &str,
    terms: Terms,
    card: Card<'_>,
    client_ip: Option<&str>,
) -> Result<String, ConnectorError> {
    let mut body = head(credentials, stamp, api_txn_code(kind))
        .object(
            "card",
            JsonObject::new()
                .string("cardNumber", card.number)
                .string("cvv2", card.cvv)
                .string("expireDate", card.expiry),
        )
        .object("transaction", payment_transaction(terms)?);
    if let Some(ip) = client_ip {
        body = body.object("customer", customer(ip));
    }
    Ok(body.object("order", order(order_id)).finish())
}

/// The 3D authentication a `3d` provision carries, from the verified callback.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Secure<'a> {
    pub secure_id: &'a str,
    pub secure_ecom_ind: &'a str,
    pub secure_data: &'a str,
    pub secure_md: &'a str,
}

/// The provision after a `3d` authentication (vector R11.6): `1000`/`1004` with the
/// callback's `secureTransaction` instead of the card.
pub(crate) fn provision_3d_body(
    credentials: Credentials<'_>,
    stamp: &Stamp,
    kind: AuthorizeKind,
    order_id: &str,
    terms: Terms,
    secure: Secure<'_>,
    client_ip: Option<&str>,
) -> Result<String, ConnectorError> {
    let mut body = head(credentials, stamp, api_txn_code(kind))
        .object("order", order(order_id))
        .object("transaction", payment_transaction(terms)?)
        .object(
            "secureTransaction",
            JsonObject::new()
                .string("secureId", secure.secure_id)
                .string("secureEcomInd", secure.secure_ecom_ind)
                .string("secureData", secure.secure_data)
                .string("secureMd", secure.secure_md),
        );
    if let Some(ip) = client_ip {
        body = body.object("customer", customer(ip));
    }
    Ok(body.finish())
}

/// Post-authorisation `1005` (vector R11.12). A capture carries no shopper IP, so
/// `customer` is sent only when one is known.
pub(crate) fn capture_body(
    credentials: Credentials<'_>,
    stamp: &Stamp,
    order_id: &str,
    amount: MinorUnits,
    currency: Currency,
    client_ip: Option<&str>,
) -> Result<String, ConnectorError> {
    let mut body = head(credentials, stamp, txn_code::POST_AUTH)
        .object("order", order(order_id))
        .object(
            "transaction",
            JsonObject::new()
                .string("amount", &amount_text(amount, currency)?)
                .int("currencyCode", currency_code(currency)?),
        );
    if let Some(ip) = client_ip {
        body = body.object("customer", customer(ip));
    }
    Ok(body.finish())
}

/// Cancel `1003` of an order's last transaction (vector R11.13; `txnCode` before `version`
/// here, as the library emits it).
pub(crate) fn void_body(credentials: Credentials<'_>, stamp: &Stamp, order_id: &str) -> String {
    JsonObject::new()
        .object("terminal", terminal(credentials))
        .string("txnCode", txn_code::CANCEL)
        .string("version", VERSION)
        .string("requestDateTime", &stamp.request_date_time)
        .string("randomNumber", &stamp.random_number)
        .object("order", order(order_id))
        .finish()
}

/// Refund `1002`, full or partial, always with the amount (vector R11.17).
pub(crate) fn refund_body(
    credentials: Credentials<'_>,
    stamp: &Stamp,
    order_id: &str,
    amount: MinorUnits,
    currency: Currency,
) -> Result<String, ConnectorError> {
    Ok(head(credentials, stamp, txn_code::REFUND)
        .object(
            "transaction",
            JsonObject::new()
                .string("amount", &amount_text(amount, currency)?)
                .int("currencyCode", currency_code(currency)?),
        )
        .object("order", order(order_id))
        .finish())
}

/// Order history `1010` (vector R11.19): the status inquiry and the refund list.
pub(crate) fn order_history_body(
    credentials: Credentials<'_>,
    stamp: &Stamp,
    order_id: &str,
) -> String {
    head(credentials, stamp, txn_code::ORDER_HISTORY)
        .object("order", order(order_id))
        .finish()
}

// ---------------------------------------------------------------------------------------
// Replies

fn bad(detail: impl Into<String>) -> ConnectorError {
    ConnectorError::BadResponse(detail.into())
}

/// Keeps bank-supplied text in error messages short.
pub(crate) fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// A JSON value as text: strings as they are, numbers as written (`99`, `1.01`), anything
/// else (absent, null, objects) as `""`.
pub(crate) fn value_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) => text.trim().to_owned(),
        Some(Value::Number(number)) => number.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// A parsed reply: the top-level JSON object and the HTTP status it came with (200, or 400
/// for the bank's validation refusals).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: serde_json::Map<String, Value>,
}

impl Reply {
    /// A top-level member as text.
    pub fn text(&self, name: &str) -> String {
        value_text(self.body.get(name))
    }

    /// `section.name` as text (`transaction.authCode`).
    pub fn nested(&self, section: &str, name: &str) -> String {
        value_text(self.body.get(section).and_then(|s| s.get(name)))
    }
}

/// Parses a reply body. Anything that is not one JSON object (HTML, truncated, not UTF-8,
/// empty, an array) is [`ConnectorError::BadResponse`].
pub(crate) fn parse_reply(status: u16, body: &[u8]) -> Result<Reply, ConnectorError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("empty body"));
    }
    if body.len() > RESPONSE_BYTES_MAX {
        return Err(bad("body too large"));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        let kind = if std::str::from_utf8(body).is_err() {
            "not UTF-8"
        } else {
            "malformed JSON"
        };
        bad(format!("{kind} at line {} column {}", e.line(), e.column()))
    })?;
    match value {
        Value::Object(body) => Ok(Reply { status, body }),
        _ => Err(bad("reply is not a JSON object")),
    }
}

/// The refusal an HTTP 400 stands for: the bank's validation rejected the request before
/// doing anything (`{code, message}`, or a full reply). A 400 is never an approval.
fn validation_refusal(reply: &Reply) -> Result<Decline, ConnectorError> {
    let code = match reply.text("code") {
        code if code.is_empty() => reply.text("responseCode"),
        code => code,
    };
    let message = match reply.text("message") {
        message if message.is_empty() => reply.text("responseMessage"),
        message => message,
    };
    if code.is_empty() || code == SUCCESS {
        return Err(bad(format!("http 400 with code {:?}", clip(&code))));
    }
    Ok(Decline {
        group: ErrorGroup::InvalidTransaction,
        code,
        message,
    })
}

/// The reply to a sale, pre-authorisation, post-authorisation, cancel, refund or 3D
/// provision, as a fact.
///
/// Approved only when `responseCode` is `VPS-0000` and `hostResponseCode`, when present, is
/// `00`; a reply in which the two disagree, or without a `responseCode`, is
/// [`ConnectorError::BadResponse`]. Any other code is a decline (see [`decline_from`]); an
/// HTTP 400 with the bank's `{code, message}` is a decline too (nothing was done).
pub(crate) fn outcome(reply: &Reply) -> Result<Outcome, ConnectorError> {
    if reply.status == 400 {
        return validation_refusal(reply).map(Outcome::Declined);
    }
    let code = reply.text("responseCode");
    let host_code = reply.text("hostResponseCode");
    match code.as_str() {
        "" => Err(bad("reply has no responseCode")),
        SUCCESS if host_code.is_empty() || host_code == "00" => Ok(Outcome::Approved(Approval {
            auth_code: non_empty(&reply.nested("transaction", "authCode")),
            host_reference: rrn(&reply.nested("transaction", "rrn")),
            transaction_id: None,
        })),
        SUCCESS => Err(bad(format!(
            "responseCode VPS-0000 disagrees with hostResponseCode {:?}",
            clip(&host_code)
        ))),
        _ => Ok(Outcome::Declined(decline_from(
            &code,
            &reply.text("responseMessage"),
            &host_code,
            &reply.text("hostMessage"),
        ))),
    }
}

/// `rrn`, unless it is the `"0"` the bank writes when there is none.
fn rrn(text: &str) -> Option<String> {
    non_empty(text).filter(|rrn| rrn.bytes().any(|b| b != b'0'))
}

/// The decline a `responseCode` (and, for a provision error, the issuer's
/// `hostResponseCode`) stands for; shared by API replies and 3D callbacks. The code kept is
/// the bank's own `responseCode`; the message is the issuer's `hostMessage` when there is
/// one (`183 TAKSIT TUTAR HAT`), else `responseMessage`.
pub(crate) fn decline_from(
    code: &str,
    message: &str,
    host_code: &str,
    host_message: &str,
) -> Decline {
    let (code, host_code) = (code.trim(), host_code.trim());
    let group = if !host_code.is_empty() && host_code != "00" {
        host_error_group(host_code)
    } else {
        error_group(code)
    };
    let message = match host_message.trim() {
        "" => message.trim(),
        host_message => host_message,
    };
    Decline {
        group,
        code: code.to_owned(),
        message: message.to_owned(),
    }
}

/// `responseCode` to Craftgate's error group. Akbank publishes no code table; the real codes
/// below are the ones its replies show (vectors P11.x, with their texts), the `VPS-19xx`
/// ones are the simulator's for refusals whose real code is not public.
///
/// | code | group | meaning |
/// |---|---|---|
/// | VPS-1005 | (issuer's `hostResponseCode`, see [`host_error_group`]) | "Provizyon Hatası" |
/// | VPS-1007 | InvalidTransaction | original transaction not found |
/// | VPS-1008 | InvalidTransaction | already cancelled |
/// | VPS-1013 | DuplicateOrder | order id must be unique |
/// | VPS-1055, VPS-1059 | InvalidTransaction | recurring fields / plan not found |
/// | VPS-1060, VPS-1061 | NotPermittedToTerminal | ECOM / recurring not allowed for the merchant |
/// | VPS-1073 | InvalidTransaction | invalid request date |
/// | VPS-1123 | InvalidTransaction | transaction not found (order history) |
/// | VPS-1279 | ThreedsAuthenticationFailed | "BKM 3DS Server Doğrulama Başarısız" |
/// | VPS-1901 | InvalidMerchantOrPos | (simulator) `auth-hash` or 3D `hash` does not verify |
/// | VPS-1902 | InvalidMerchantOrPos | (simulator) unknown merchant or terminal |
/// | VPS-1903 | InvalidTransaction | (simulator) missing or malformed field |
/// | VPS-1904 | InvalidCard | (simulator) invalid card number |
/// | VPS-1905 | InvalidAmount | (simulator) invalid amount, or above what is left |
/// | VPS-1906 | InvalidInstallment | (simulator) invalid installment count |
/// | VPS-1907 | InvalidTransaction | (simulator) operation not allowed on the order now |
/// | VPS-1908 | ExpiredCard | (simulator) expired card |
/// | anything else | Unknown | |
pub(crate) fn error_group(code: &str) -> ErrorGroup {
    match code {
        "VPS-1005" => ErrorGroup::Declined,
        "VPS-1007" | "VPS-1008" | "VPS-1055" | "VPS-1059" | "VPS-1073" | "VPS-1123" => {
            ErrorGroup::InvalidTransaction
        }
        "VPS-1013" => ErrorGroup::DuplicateOrder,
        "VPS-1060" | "VPS-1061" => ErrorGroup::NotPermittedToTerminal,
        "VPS-1279" => ErrorGroup::ThreedsAuthenticationFailed,
        "VPS-1901" | "VPS-1902" => ErrorGroup::InvalidMerchantOrPos,
        "VPS-1903" | "VPS-1907" => ErrorGroup::InvalidTransaction,
        "VPS-1904" => ErrorGroup::InvalidCard,
        "VPS-1905" => ErrorGroup::InvalidAmount,
        "VPS-1906" => ErrorGroup::InvalidInstallment,
        "VPS-1908" => ErrorGroup::ExpiredCard,
        _ => ErrorGroup::Unknown,
    }
}

/// The issuer's ISO 8583 answer (`hostResponseCode`, two digits) to Craftgate's error group:
/// the table every family uses for issuer codes.
///
/// | code | group |
/// |---|---|
/// | 51 | NotSufficientFunds |
/// | 05 | DoNotHonour |
/// | 12 | InvalidTransaction |
/// | 57 | NotPermittedToCardholder |
/// | 43 | StolenCard |
/// | 41 | LostCard |
/// | 04, 07 | PickupCard |
/// | 54, 33 | ExpiredCard |
/// | 82, N7 | InvalidCvc2 |
/// | 58 | NotPermittedToTerminal |
/// | 59, 34 | FraudSuspect |
/// | 93 | RestrictedByLaw |
/// | 62 | CardNotPermitted |
/// | 14, 15 | InvalidCard |
/// | 13 | InvalidAmount |
/// | 61, 65 | ExceedsWithdrawalLimit |
/// | 83 | InvalidInstallment ("183 TAKSIT TUTAR HAT", vector P11.4) |
/// | 91, 96 | BankNotAvailable |
/// | 03 | InvalidMerchantOrPos |
/// | 99 | Unknown |
/// | other two digits | Declined |
/// | anything else | Unknown |
pub(crate) fn host_error_group(code: &str) -> ErrorGroup {
    match code {
        "51" => ErrorGroup::NotSufficientFunds,
        "05" => ErrorGroup::DoNotHonour,
        "12" => ErrorGroup::InvalidTransaction,
        "57" => ErrorGroup::NotPermittedToCardholder,
        "43" => ErrorGroup::StolenCard,
        "41" => ErrorGroup::LostCard,
        "04" | "07" => ErrorGroup::PickupCard,
        "54" | "33" => ErrorGroup::ExpiredCard,
        "82" | "N7" => ErrorGroup::InvalidCvc2,
        "58" => ErrorGroup::NotPermittedToTerminal,
        "59" | "34" => ErrorGroup::FraudSuspect,
        "93" => ErrorGroup::RestrictedByLaw,
        "62" => ErrorGroup::CardNotPermitted,
        "14" | "15" => ErrorGroup::InvalidCard,
        "13" => ErrorGroup::InvalidAmount,
        "61" | "65" => ErrorGroup::ExceedsWithdrawalLimit,
        "83" => ErrorGroup::InvalidInstallment,
        "91" | "96" => ErrorGroup::BankNotAvailable,
        "03" => ErrorGroup::InvalidMerchantOrPos,
        "99" => ErrorGroup::Unknown,
        code if code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()) => ErrorGroup::Declined,
        _ => ErrorGroup::Unknown,
    }
}

/// A decimal as the bank writes amounts (`1.01`, `30`, `"1.10"`): digits with at most one `.`.
fn parse_decimal(text: &str) -> Option<Decimal> {
    let well_formed = !text.is_empty()
        && text.len() <= 32
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && text.bytes().filter(|b| *b == b'.').count() <= 1
        && text.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && text.bytes().last().is_some_and(|b| b.is_ascii_digit());
    if !well_formed {
        return None;
    }
    text.parse().ok()
}

/// A bank amount in `currency`'s minor units; `None` when malformed or too precise.
pub(crate) fn parse_amount(text: &str, currency: Currency) -> Option<MinorUnits> {
    MinorUnits::from_decimal_allow_zero(parse_decimal(text)?, currency).ok()
}

/// A `currencyCode` as the bank writes it (`949`, `"949"`).
pub(crate) fn parse_currency(text: &str) -> Option<Currency> {
    match text.len() {
        1..=3 => Currency::from_numeric_code(&format!("{text:0>3}")),
        _ => None,
    }
}

/// One transaction of an order history (`txnDetailList`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HistoryEntry {
    pub txn_code: String,
    pub response_code: String,
    pub response_message: String,
    pub host_code: String,
    pub host_message: String,
    /// `N` stands, `V` cancelled.
    pub txn_status: String,
    /// Pre-authorisations: `O` open, `C` closed by a post-authorisation.
    pub pre_auth_status: String,
    pub order_id: String,
    pub org_order_id: String,
    pub amount: Option<MinorUnits>,
    pub auth_code: String,
    pub rrn: String,
}

impl HistoryEntry {
    fn approved(&self) -> bool {
        self.response_code == SUCCESS
    }

    fn stands(&self) -> bool {
        self.approved() && self.txn_status != "V"
    }
}

/// The transactions of an order history reply (vectors P11.30–P11.40); empty when the bank
/// has no such order (`VPS-1123`, P11.36). Any other refusal means the history could not be
/// read.
pub(crate) fn history(reply: &Reply) -> Result<Vec<HistoryEntry>, ConnectorError> {
    if reply.status != 200 {
        return Err(bad(format!("order history answered http {}", reply.status)));
    }
    match reply.text("responseCode").as_str() {
        SUCCESS => {}
        "VPS-1123" => return Ok(Vec::new()),
        code => {
            return Err(bad(format!(
                "order history failed with code {:?}: {}",
                clip(code),
                clip(&reply.text("responseMessage"))
            )));
        }
    }
    let list = match reply.body.get("txnDetailList") {
        Some(Value::Array(list)) => list,
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(_) => return Err(bad("txnDetailList is not a list")),
    };
    let mut entries = Vec::with_capacity(list.len());
    for item in list {
        let Value::Object(record) = item else {
            return Err(bad("txnDetailList holds a non-object"));
        };
        let text = |name: &str| value_text(record.get(name));
        let currency_text = text("currencyCode");
        let amount_text = text("amount");
        let amount = if amount_text.is_empty() {
            None
        } else {
            let currency = parse_currency(&currency_text)
                .ok_or_else(|| bad(format!("history currency {:?}", clip(&currency_text))))?;
            Some(
                parse_amount(&amount_text, currency)
                    .ok_or_else(|| bad(format!("history amount {:?}", clip(&amount_text))))?,
            )
        };
        entries.push(HistoryEntry {
            txn_code: text("txnCode"),
            response_code: text("responseCode"),
            response_message: text("responseMessage"),
            host_code: text("hostResponseCode"),
            host_message: text("hostMessage"),
            txn_status: text("txnStatus"),
            pre_auth_status: text("preAuthStatus"),
            order_id: text("orderId"),
            org_order_id: text("orgOrderId"),
            amount,
            auth_code: text("authCode"),
            rrn: text("rrn"),
        });
    }
    Ok(entries)
}

/// Whether an entry belongs to `order_id`: its own id, or the original order it follows
/// (post-authorisations and refunds get ids of their own, P11.33).
fn of_order(entry: &HistoryEntry, order_id: &str) -> bool {
    entry.order_id == order_id || entry.org_order_id == order_id
}

/// The order history as the state of the order at the bank.
///
/// The order's own sale (`1000`) or pre-authorisation (`1004`) decides: none → not found; not
/// `VPS-0000` → declined. An approved one is `Voided` when cancelled (`txnStatus=V`),
/// `Refunded` when a refund (`1002`) of it stands, `Captured` for a sale or a
/// pre-authorisation a standing post-authorisation (`1005`) closed, else `PreAuthorized`
/// (a cancelled post-authorisation reopens the pre-authorisation, P11.34). A status other
/// than `N`/`V` on it is a reply we cannot read as a fact.
pub(crate) fn payment_sync(reply: &Reply, order_id: &str) -> Result<PaymentSync, ConnectorError> {
    let entries = history(reply)?;
    let is_main = |e: &&HistoryEntry| {
        e.order_id == order_id && matches!(e.txn_code.as_str(), txn_code::SALE | txn_code::PRE_AUTH)
    };
    // A declined attempt may precede the approved one under the same order id.
    let main = entries
        .iter()
        .filter(is_main)
        .rev()
        .find(|e| e.approved())
        .or_else(|| entries.iter().rfind(is_main));
    let Some(main) = main else {
        return if entries.iter().any(|e| of_order(e, order_id)) {
            Err(bad("order history has no sale or pre-authorisation"))
        } else {
            Ok(PaymentSync::NotFound)
        };
    };
    if main.response_code.is_empty() {
        return Err(bad("history entry without responseCode"));
    }
    if !main.approved() {
        return Ok(PaymentSync::Declined(decline_from(
            &main.response_code,
            &main.response_message,
            &main.host_code,
            &main.host_message,
        )));
    }
    if !matches!(main.txn_status.as_str(), "N" | "V" | "") {
        return Err(bad(format!("order status {:?}", clip(&main.txn_status))));
    }
    let follow_ups = || entries.iter().filter(|e| of_order(e, order_id));
    let refunded = follow_ups().any(|e| e.txn_code == txn_code::REFUND && e.stands());
    let post_authorized = follow_ups().any(|e| e.txn_code == txn_code::POST_AUTH && e.stands());
    let state = if main.txn_status == "V" {
        BankOrderState::Voided
    } else if refunded {
        BankOrderState::Refunded
    } else if main.txn_code == txn_code::SALE || post_authorized {
        BankOrderState::Captured
    } else {
        BankOrderState::PreAuthorized
    };
    Ok(PaymentSync::Approved {
        approval: Approval {
            auth_code: non_empty(&main.auth_code),
            host_reference: rrn(&main.rrn),
            transaction_id: None,
        },
        state,
    })
}

/// The refunds of an order, from its history. One holds when the bank approved it and it
/// was not cancelled; its id is the bank's order id of the refund (else its `rrn`).
pub(crate) fn bank_credits(
    reply: &Reply,
    order_id: &str,
) -> Result<Vec<BankCredit>, ConnectorError> {
    history(reply)?
        .into_iter()
        .filter(|e| e.txn_code == txn_code::REFUND && of_order(e, order_id))
        .map(|e| {
            let amount = e.amount.ok_or_else(|| bad("refund entry without amount"))?;
            let transaction_id = if e.order_id != order_id {
                non_empty(&e.order_id)
            } else {
                rrn(&e.rrn)
            };
            Ok(BankCredit {
                amount,
                approved: e.stands(),
                transaction_id,
            })
        })
        .collect()
}
