//! PayFlex V4's wire format: the MPI enrolment form, the VPOS `prmstr=<VposRequest…>`
//! body, the status `SearchRequest`, the XML replies, and the translation of a parsed
//! reply into facts: [`Outcome`], [`PaymentSync`], [`BankCredit`].
//!
//! Field order follows the reference library (mewebstudio/pos, vectors R9.1–R9.16), which
//! the byte-exact tests in `tests.rs` pin. `VposRequest` has no XML prolog and no trailing
//! newline; `SearchRequest` has both (`<?xml version="1.0" encoding="UTF-8"?>\n…\n`). Both
//! travel as the one form field `prmstr`, encoded like PHP's `http_build_query`. Every reply
//! that is not clearly an approval or clearly a decline becomes
//! [`ConnectorError::BadResponse`], so the engine treats the outcome as unknown and asks
//! the bank again instead of guessing.

use std::collections::BTreeMap;

use domain::card::CardNumber;
use domain::enums::ErrorGroup;
use domain::money::{Currency, MinorUnits};
use quick_xml::events::Event;
use rust_decimal::Decimal;

use crate::http;
use crate::{
    Approval, AuthorizeKind, BankCredit, BankOrderState, ConnectorError, Decline, Outcome,
    PaymentSync,
};

/// Sign-in fields of every VPOS request (PayFlex has no signatures: the password travels
/// in the body, over TLS).
#[derive(Clone, Copy)]
pub(crate) struct Credentials<'a> {
    /// `MerchantId` (HostMerchantId).
    pub merchant_id: &'a str,
    /// `Password` (MerchantPassword).
    pub password: &'a str,
    /// `TerminalNo`.
    pub terminal_no: &'a str,
}

// Never print the password.
impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("merchant_id", &self.merchant_id)
            .field("terminal_no", &self.terminal_no)
            .finish_non_exhaustive()
    }
}

/// A form body from pairs, in order.
pub(crate) fn form_body(fields: &[(&str, &str)]) -> String {
    let mut body = String::with_capacity(512);
    for (name, value) in fields {
        if !body.is_empty() {
            body.push('&');
        }
        http::urlencode_into(&mut body, name);
        body.push('=');
        http::urlencode_into(&mut body, value);
    }
    body
}

/// The VPOS transport: the XML as the one form field `prmstr`.
pub(crate) fn prmstr_body(xml: &str) -> Vec<u8> {
    form_body(&[("prmstr", xml)]).into_bytes()
}

/// An XML document under construction, as Symfony's XmlEncoder writes it: text with `<`,
/// `>` or `&` goes in a CDATA section (escaped instead if it holds `]]>`).
struct Xml {
    xml: String,
}

impl Xml {
    fn new() -> Xml {
        Xml {
            xml: String::with_capacity(768),
        }
    }

    fn open(&mut self, name: &str) -> &mut Xml {
        self.xml.push('<');
        self.xml.push_str(name);
        self.xml.push('>');
        self
    }

    fn close(&mut self, name: &str) -> &mut Xml {
        self.xml.push_str("</");
        self.xml.push_str(name);
        self.xml.push('>');
        self
    }

    fn element(&mut self, name: &str, text: &str) -> &mut Xml {
        self.open(name);
        if text.contains(['<', '>', '&']) && !text.contains("]]>") {
            self.xml.push_str("<![CDATA[");
            self.xml.push_str(text);
            self.xml.push_str("]]>");
        } else {
            self.xml.push_str(&quick_xml::escape::escape(text));
        }
        self.close(name)
    }

    fn credentials(&mut self, credentials: Credentials<'_>, with_terminal: bool) -> &mut Xml {
        self.element("MerchantId", credentials.merchant_id)
            .element("Password", credentials.password);
        if with_terminal {
            self.element("TerminalNo", credentials.terminal_no);
        }
        self
    }

    fn finish(&mut self) -> String {
        std::mem::take(&mut self.xml)
    }
}

/// `TransactionType` of a sale or pre-authorisation (table 9.6).
pub(crate) fn transaction_type(kind: AuthorizeKind) -> &'static str {
    match kind {
        AuthorizeKind::Sale => "Sale",
        AuthorizeKind::PreAuth => "Auth",
    }
}

/// `CurrencyAmount` / `PurchaseAmount`: major units, always two decimals (`100.00`,
/// `1.10`), computed in decimal from minor units (table 9.6; the library's float
/// rounding bug is not reproduced).
pub(crate) fn amount_text(amount: MinorUnits, currency: Currency) -> String {
    let mut value = amount.to_decimal(currency);
    value.rescale(2);
    value.to_string()
}

/// `NumberOfInstallments` / `InstallmentCount`: sent only for 2 or more (R9.1/R9.2);
/// a single payment carries no installment field.
pub(crate) fn installment_text(installment: u32) -> Option<String> {
    (installment > 1).then(|| installment.to_string())
}

/// `BrandName` of the MPI enrolment: `100` Visa, `200` MasterCard, `300` Troy, `400`
/// Amex (table 9.6), from the card's BIN; `None` for schemes PayFlex does not take.
pub(crate) fn brand_name(number: &CardNumber) -> Option<&'static str> {
    let digits = number.expose_number();
    let prefix = |len: usize| -> u32 {
        digits
            .get(..len)
            .and_then(|p| p.parse().ok())
            .unwrap_or_default()
    };
    match () {
        _ if prefix(4) == 9792 || (650_052..=650_055).contains(&prefix(6)) => Some("300"),
        _ if digits.starts_with('4') => Some("100"),
        _ if (51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4)) => Some("200"),
        _ if matches!(prefix(2), 34 | 37) => Some("400"),
        _ => None,
    }
}

/// The card of a VPOS payment, in clear: the one place it meets the request.
#[derive(Clone, Copy)]
pub(crate) struct CardFields<'a> {
    pub pan: &'a str,
    /// `YYYYMM`.
    pub expiry: &'a str,
    /// Absent for a card-on-file payment.
    pub cvv: Option<&'a str>,
    pub holder: &'a str,
}

/// What a 3D provision adds: the MPI's `ECI`, `CAVV` and the enrolment's id.
#[derive(Clone, Copy)]
pub(crate) struct MpiFields<'a> {
    pub eci: &'a str,
    pub cavv: &'a str,
    /// `MpiTransactionId` = the enrolment's `VerifyEnrollmentRequestId`.
    pub mpi_transaction_id: &'a str,
}

/// A sale or pre-authorisation, non-secure or 3D.
#[derive(Clone, Copy)]
pub(crate) struct PaymentFields<'a> {
    pub kind: AuthorizeKind,
    /// `TransactionId`: Orkestra sends its order id so follow-ups can reference it; the
    /// library's non-secure vector (R9.7) omits it (the bank then makes one up).
    pub transaction_id: Option<&'a str>,
    pub order_id: &'a str,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub installment: u32,
    pub client_ip: &'a str,
    pub card: CardFields<'a>,
    pub mpi: Option<MpiFields<'a>>,
}

/// `VposRequest` of a sale/pre-auth: the non-secure layout of R9.7 or the 3D layout of
/// R9.1/R9.2 (which re-sends the card, with the holder's name).
pub(crate) fn payment_xml(credentials: Credentials<'_>, fields: &PaymentFields<'_>) -> String {
    let mut xml = Xml::new();
    xml.open("VposRequest")
        .credentials(credentials, true)
        .element("TransactionType", transaction_type(fields.kind));
    if let Some(transaction_id) = fields.transaction_id {
        xml.element("TransactionId", transaction_id);
    }
    let amount = amount_text(fields.amount, fields.currency);
    let card = fields.card;
    match fields.mpi {
        Some(mpi) => {
            xml.element("CurrencyAmount", &amount)
                .element("CurrencyCode", fields.currency.numeric_code())
                .element("ECI", mpi.eci)
                .element("CAVV", mpi.cavv)
                .element("MpiTransactionId", mpi.mpi_transaction_id)
                .element("OrderId", fields.order_id)
                .element("ClientIp", fields.client_ip)
                .element("TransactionDeviceSource", "0")
                .element("CardHoldersName", card.holder);
            if let Some(cvv) = card.cvv {
                xml.element("Cvv", cvv);
            }
            xml.element("Pan", card.pan).element("Expiry", card.expiry);
        }
        None => {
            xml.element("OrderId", fields.order_id)
                .element("CurrencyAmount", &amount)
                .element("CurrencyCode", fields.currency.numeric_code())
                .element("ClientIp", fields.client_ip)
                .element("TransactionDeviceSource", "0")
                .element("Pan", card.pan)
                .element("Expiry", card.expiry);
            if let Some(cvv) = card.cvv {
                xml.element("Cvv", cvv);
            }
        }
    }
    if let Some(installment) = installment_text(fields.installment) {
        xml.element("NumberOfInstallments", &installment);
    }
    xml.close("VposRequest").finish()
}

/// `Capture` of a pre-authorisation (R9.8), referencing its `TransactionId`.
pub(crate) fn capture_xml(
    credentials: Credentials<'_>,
    reference_transaction_id: &str,
    amount: MinorUnits,
    currency: Currency,
    client_ip: Option<&str>,
) -> String {
    let mut xml = Xml::new();
    xml.open("VposRequest")
        .credentials(credentials, true)
        .element("TransactionType", "Capture")
        .element("ReferenceTransactionId", reference_transaction_id)
        .element("CurrencyAmount", &amount_text(amount, currency))
        .element("CurrencyCode", currency.numeric_code());
    if let Some(ip) = client_ip {
        xml.element("ClientIp", ip);
    }
    xml.close("VposRequest").finish()
}

/// `Cancel` of a transaction (R9.9): no terminal, no amount.
pub(crate) fn cancel_xml(
    credentials: Credentials<'_>,
    reference_transaction_id: &str,
    client_ip: Option<&str>,
) -> String {
    let mut xml = Xml::new();
    xml.open("VposRequest")
        .credentials(credentials, false)
        .element("TransactionType", "Cancel")
        .element("ReferenceTransactionId", reference_transaction_id);
    if let Some(ip) = client_ip {
        xml.element("ClientIp", ip);
    }
    xml.close("VposRequest").finish()
}

/// `Refund`, full or partial: always with the amount (R9.10, R9.11); no currency (the
/// bank refunds in the original's).
pub(crate) fn refund_xml(
    credentials: Credentials<'_>,
    reference_transaction_id: &str,
    amount: MinorUnits,
    currency: Currency,
    client_ip: Option<&str>,
) -> String {
    let mut xml = Xml::new();
    xml.open("VposRequest")
        .credentials(credentials, false)
        .element("TransactionType", "Refund")
        .element("ReferenceTransactionId", reference_transaction_id);
    if let Some(ip) = client_ip {
        xml.element("ClientIp", ip);
    }
    xml.element("CurrencyAmount", &amount_text(amount, currency))
        .close("VposRequest")
        .finish()
}

/// The status `SearchRequest` (R9.13/R9.14): prolog, then the document and a newline.
pub(crate) fn search_xml(
    merchant_id: &str,
    password: &str,
    order_id: &str,
    transaction_id: &str,
) -> String {
    let mut xml = Xml::new();
    xml.xml
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.open("SearchRequest")
        .open("MerchantCriteria")
        .element("HostMerchantId", merchant_id)
        .element("MerchantPassword", password)
        .close("MerchantCriteria")
        .open("TransactionCriteria")
        .element("TransactionId", transaction_id)
        .element("OrderId", order_id)
        .element("AuthCode", "")
        .close("TransactionCriteria")
        .close("SearchRequest");
    xml.xml.push('\n');
    xml.finish()
}

/// The MPI enrolment's fields (R9.3–R9.4), card in clear.
pub(crate) struct EnrolmentFields<'a> {
    pub merchant_id: &'a str,
    pub password: &'a str,
    /// `0` standard merchant (sub-dealers are not supported).
    pub merchant_type: &'a str,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub verify_enrollment_request_id: &'a str,
    pub success_url: &'a str,
    pub failure_url: &'a str,
    pub pan: &'a str,
    /// `YYMM`.
    pub expiry: &'a str,
    pub brand_name: &'a str,
    pub installment: u32,
    /// Echoed by the MPI in its callback; Orkestra's sealed card (see `threeds.rs`).
    pub session_info: Option<&'a str>,
}

/// The enrolment form body, in the library's order (R9.3, R9.4), `SessionInfo` last.
pub(crate) fn enrolment_body(fields: &EnrolmentFields<'_>) -> Vec<u8> {
    let amount = amount_text(fields.amount, fields.currency);
    let installment = installment_text(fields.installment);
    let mut pairs: Vec<(&str, &str)> = vec![
        ("MerchantId", fields.merchant_id),
        ("MerchantPassword", fields.password),
        ("MerchantType", fields.merchant_type),
        ("PurchaseAmount", &amount),
        (
            "VerifyEnrollmentRequestId",
            fields.verify_enrollment_request_id,
        ),
        ("Currency", fields.currency.numeric_code()),
        ("SuccessUrl", fields.success_url),
        ("FailureUrl", fields.failure_url),
        ("Pan", fields.pan),
        ("ExpiryDate", fields.expiry),
        ("BrandName", fields.brand_name),
        ("IsRecurring", "false"),
    ];
    if let Some(installment) = installment.as_deref() {
        pairs.push(("InstallmentCount", installment));
    }
    if let Some(session_info) = fields.session_info {
        pairs.push(("SessionInfo", session_info));
    }
    form_body(&pairs).into_bytes()
}

// ---------------------------------------------------------------------------------------
// Replies

/// Largest reply read into memory. A real reply is about 1 KiB (a search page more).
pub(crate) const RESPONSE_BYTES_MAX: usize = 512 << 10;

/// A parsed XML reply: the root's name, its leaf fields by path below the root
/// (`ResultCode`, `Message/VERes/Status`, `ResponseInfo/ResponseCode`), and the records of a
/// search (`TransactionSearchResultInfo/TransactionSearchResultInfo`), each by field name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Reply {
    pub root: String,
    fields: BTreeMap<String, String>,
    pub records: Vec<BTreeMap<String, String>>,
}

impl Reply {
    /// A field's trimmed text; `""` when absent.
    pub fn get(&self, path: &str) -> &str {
        self.fields.get(path).map(|v| v.trim()).unwrap_or_default()
    }

    pub fn has(&self, path: &str) -> bool {
        self.fields.contains_key(path)
    }
}

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

/// The search's record element, nested in a list element of the same name (P9.2).
const RECORD: &str = "TransactionSearchResultInfo";

/// Reads a reply body: a complete XML document (UTF-8, or the declared encoding, else
/// windows-1254). Empty bodies, HTML pages (S9.2), truncated documents and a document
/// sent twice are [`ConnectorError::BadResponse`].
pub(crate) fn parse_reply(body: &[u8]) -> Result<Reply, ConnectorError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("empty body"));
    }
    if body.len() > RESPONSE_BYTES_MAX {
        return Err(bad("body too large"));
    }
    let text = decode_body(body);
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut reply = Reply::default();
    let mut path: Vec<String> = Vec::new();
    let mut text_buf = String::new();
    let mut root_closed = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| bad(format!("malformed xml: {e}")))?;
        match event {
            Event::Start(start) => {
                if root_closed {
                    return Err(bad("content after the document"));
                }
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                if path.is_empty() {
                    if name.eq_ignore_ascii_case("html") {
                        return Err(bad("html page instead of xml"));
                    }
                    reply.root = name;
                    path.push(String::new());
                    continue;
                }
                path.push(name);
                if is_record(&path) {
                    reply.records.push(BTreeMap::new());
                }
                text_buf.clear();
            }
            Event::Empty(start) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                if path.is_empty() {
                    if root_closed {
                        return Err(bad("content after the document"));
                    }
                    reply.root = name;
                    root_closed = true;
                    continue;
                }
                path.push(name);
                store(&mut reply, &path, String::new());
                path.pop();
            }
            Event::Text(text) => {
                let text = text
                    .unescape()
                    .map_err(|e| bad(format!("malformed xml text: {e}")))?;
                if path.is_empty() && !text.trim().is_empty() {
                    return Err(bad("text outside the document"));
                }
                text_buf.push_str(&text);
            }
            Event::CData(cdata) => {
                text_buf.push_str(&String::from_utf8_lossy(&cdata.into_inner()));
            }
            Event::End(_) => {
                if path.len() > 1 && !is_record(&path) {
                    store(&mut reply, &path, std::mem::take(&mut text_buf));
                }
                text_buf.clear();
                path.pop();
                if path.is_empty() {
                    root_closed = true;
                }
            }
            Event::Eof => break,
            Event::DocType(_) => return Err(bad("html page instead of xml")),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if !root_closed || !path.is_empty() {
        return Err(bad("truncated xml"));
    }
    Ok(reply)
}

/// `path` (root first, as `""`) is a search record element.
fn is_record(path: &[String]) -> bool {
    path.len() >= 3 && path[path.len() - 1] == RECORD && path[path.len() - 2] == RECORD
}

/// Records one element's text: inside a record as that record's field, elsewhere by path.
/// Containers (elements with children) are stored too, with their stray whitespace; only
/// leaves are ever read.
fn store(reply: &mut Reply, path: &[String], text: String) {
    let record_at = (2..path.len()).rev().find(|&i| is_record(&path[..=i]));
    if let Some(at) = record_at {
        // Only the record's own children; deeper items (CustomItems) are not read.
        if path.len() == at + 2
            && let Some(record) = reply.records.last_mut()
        {
            record.insert(path[at + 1].clone(), text);
        }
        return;
    }
    let key = path[1..].join("/");
    reply.fields.entry(key).or_insert(text);
}

/// Decodes a reply: UTF-8 when valid (what PayFlex sends, S9.1), otherwise the declared
/// encoding, windows-1254 by default. Undecodable bytes become U+FFFD: they can only be in
/// free text such as `ResultDetail`.
fn decode_body(body: &[u8]) -> String {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if let Ok(text) = std::str::from_utf8(body) {
        return text.to_owned();
    }
    let encoding = declared_encoding(body)
        .and_then(encoding_rs::Encoding::for_label)
        .filter(|encoding| encoding.is_ascii_compatible() && *encoding != encoding_rs::UTF_8)
        .unwrap_or(encoding_rs::WINDOWS_1254);
    let (text, _) = encoding.decode_without_bom_handling(body);
    text.into_owned()
}

/// The `encoding="…"` label of an `<?xml …?>` prolog at the start of the body.
fn declared_encoding(body: &[u8]) -> Option<&[u8]> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    let body = &body[start..];
    if !body.starts_with(b"<?xml") {
        return None;
    }
    let end = body.windows(2).position(|w| w == b"?>")?;
    let prolog = &body[..end];
    let at = prolog.windows(8).position(|w| w == b"encoding")?;
    let rest = &prolog[at + 8..];
    let rest = &rest[rest.iter().position(|b| *b == b'=')? + 1..];
    let rest = &rest[rest.iter().position(|b| !b.is_ascii_whitespace())?..];
    let quote = *rest.first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let rest = &rest[1..];
    Some(&rest[..rest.iter().position(|b| *b == quote)?])
}

/// The success `ResultCode`.
pub(crate) const APPROVED: &str = "0000";

fn is_code(code: &str) -> bool {
    code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit())
}

/// A `VposResponse` to a sale, pre-auth, 3D provision, capture, cancel or refund, as a fact.
///
/// Approved only for `ResultCode` `0000` in a complete `VposResponse` document (P9.3,
/// P9.5, P9.7). Another four-digit code is a decline with that code and `ResultDetail`
/// (P9.4, P9.6, P9.9, P9.10); a missing, empty or non-numeric code, or another root
/// element, is [`ConnectorError::BadResponse`].
pub(crate) fn outcome(reply: &Reply) -> Result<Outcome, ConnectorError> {
    if reply.root != "VposResponse" {
        return Err(bad(format!(
            "unexpected root element <{}>",
            clip(&reply.root)
        )));
    }
    if !reply.has("ResultCode") {
        return Err(bad("reply has no ResultCode"));
    }
    match reply.get("ResultCode") {
        APPROVED => Ok(Outcome::Approved(Approval {
            auth_code: non_empty(reply.get("AuthCode")),
            host_reference: non_empty(reply.get("Rrn")),
            transaction_id: non_empty(reply.get("TransactionId")),
        })),
        code if is_code(code) => Ok(Outcome::Declined(decline_from(
            code,
            reply.get("ResultDetail"),
        ))),
        code => Err(bad(format!("ResultCode {:?}", clip(code)))),
    }
}

pub(crate) fn decline_from(code: &str, message: &str) -> Decline {
    let code = code.trim();
    Decline {
        group: error_group(code),
        code: code.to_owned(),
        message: message.trim().to_owned(),
    }
}

/// `ResultCode` to Craftgate's error group. PayFlex relays the issuer's ISO 8583 answer as
/// `00xx`, and adds its own platform codes (`1xxx` request/transaction errors, `2xxx` MPI,
/// `9xxx` merchant and system errors). Known from the reference (§9.2, P9.x): `0312` reject
/// ("RED-GEÇERSİZ KART"), `1059`/`1083` invalid transaction (already refunded/cancelled),
/// `9039`/`9065` merchant not found (invalid credentials).
///
/// | code | group | meaning |
/// |---|---|---|
/// | 0051 | NotSufficientFunds | insufficient funds |
/// | 0005 | DoNotHonour | do not honour |
/// | 0012 | InvalidTransaction | invalid transaction |
/// | 0057 | NotPermittedToCardholder | not permitted to cardholder |
/// | 0043 | StolenCard | stolen card |
/// | 0041 | LostCard | lost card |
/// | 0004, 0007 | PickupCard | pick up card |
/// | 0054, 0033 | ExpiredCard | expired card |
/// | 0082, 00N7 | InvalidCvc2 | CVV check failed |
/// | 0058 | NotPermittedToTerminal | not permitted to terminal |
/// | 0059, 0034 | FraudSuspect | suspected fraud |
/// | 0093 | RestrictedByLaw | violation of law |
/// | 0062 | CardNotPermitted | restricted card |
/// | 0014, 0015, 0312 | InvalidCard | invalid card / no such issuer / "RED-GEÇERSİZ KART" |
/// | 0013 | InvalidAmount | invalid amount |
/// | 0061, 0065 | ExceedsWithdrawalLimit | limits exceeded |
/// | 0091, 0096 | BankNotAvailable | issuer inoperative / malfunction |
/// | 0003 | InvalidMerchantOrPos | invalid merchant |
/// | 0099 | Unknown | general error |
/// | other 00xx | Declined | |
/// | 1xxx | InvalidTransaction | VPOS request/transaction errors (1059, 1083, …) |
/// | 2xxx | ThreedsAuthenticationFailed | MPI errors |
/// | 9039, 9065, 90xx | InvalidMerchantOrPos | merchant/terminal not found, bad password |
/// | anything else | Unknown | |
pub(crate) fn error_group(code: &str) -> ErrorGroup {
    match code {
        "0051" => ErrorGroup::NotSufficientFunds,
        "0005" => ErrorGroup::DoNotHonour,
        "0012" => ErrorGroup::InvalidTransaction,
        "0057" => ErrorGroup::NotPermittedToCardholder,
        "0043" => ErrorGroup::StolenCard,
        "0041" => ErrorGroup::LostCard,
        "0004" | "0007" => ErrorGroup::PickupCard,
        "0054" | "0033" => ErrorGroup::ExpiredCard,
        "0082" | "00N7" => ErrorGroup::InvalidCvc2,
        "0058" => ErrorGroup::NotPermittedToTerminal,
        "0059" | "0034" => ErrorGroup::FraudSuspect,
        "0093" => ErrorGroup::RestrictedByLaw,
        "0062" => ErrorGroup::CardNotPermitted,
        "0014" | "0015" | "0312" => ErrorGroup::InvalidCard,
        "0013" => ErrorGroup::InvalidAmount,
        "0061" | "0065" => ErrorGroup::ExceedsWithdrawalLimit,
        "0091" | "0096" => ErrorGroup::BankNotAvailable,
        "0003" => ErrorGroup::InvalidMerchantOrPos,
        "0099" => ErrorGroup::Unknown,
        code if code.starts_with("00") && is_code(code) => ErrorGroup::Declined,
        code if code.starts_with('1') && is_code(code) => ErrorGroup::InvalidTransaction,
        code if code.starts_with('2') && is_code(code) => ErrorGroup::ThreedsAuthenticationFailed,
        code if code.starts_with("90") && is_code(code) => ErrorGroup::InvalidMerchantOrPos,
        _ => ErrorGroup::Unknown,
    }
}

fn is_true(text: &str) -> bool {
    text.trim().eq_ignore_ascii_case("true")
}

/// A search record's amount: `.`-decimal (`90.50`, P9.2) in its `AmountCode` currency
/// (TRY when absent).
fn record_amount(record: &BTreeMap<String, String>) -> Result<MinorUnits, ConnectorError> {
    let field = |name: &str| record.get(name).map(|v| v.trim()).unwrap_or_default();
    let currency = match field("AmountCode") {
        "" => Currency::Try,
        code => Currency::from_numeric_code(code)
            .ok_or_else(|| bad(format!("AmountCode {:?}", clip(code))))?,
    };
    let text = field("CurrencyAmount");
    let well_formed = !text.is_empty()
        && text.len() <= 24
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && !text.starts_with('.');
    let value: Decimal = well_formed
        .then(|| text.parse().ok())
        .flatten()
        .ok_or_else(|| bad(format!("CurrencyAmount {:?}", clip(text))))?;
    MinorUnits::from_decimal_allow_zero(value.normalize(), currency)
        .map_err(|_| bad(format!("CurrencyAmount {:?}", clip(text))))
}

/// The search reply's records, after checking the search itself succeeded: `ResponseInfo`
/// `ResponseCode` `0000` (P9.2). A failed search (P9.1: `9065`, credentials) is not a fact
/// about the order, so it is [`ConnectorError::BadResponse`].
fn search_records(reply: &Reply) -> Result<&[BTreeMap<String, String>], ConnectorError> {
    if !reply.has("ResponseInfo/ResponseCode") {
        return Err(bad("search reply has no ResponseInfo.ResponseCode"));
    }
    let code = reply.get("ResponseInfo/ResponseCode");
    if code != APPROVED {
        return Err(bad(format!(
            "search failed with code {:?}: {}",
            clip(code),
            clip(reply.get("ResponseInfo/ResponseMessage"))
        )));
    }
    Ok(&reply.records)
}

fn record_field<'a>(record: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    record.get(name).map(|v| v.trim()).unwrap_or_default()
}

/// The reply to a `SearchRequest` by order id, as the state of the order at the bank.
///
/// The order's own transaction is the record whose `TransactionType` is `Sale` or `Auth`
/// and whose `TransactionId` or `OrderId` is the order id (Orkestra sends its order id as
/// both). None → [`PaymentSync::NotFound`]. Its `ResultCode` other than `0000` →
/// [`PaymentSync::Declined`]. Approved: `IsCanceled`/`IsReversed` → voided; `IsRefunded`
/// or an approved `Refund` record → refunded; an `Auth` with an approved `Capture` record
/// → captured, without one → pre-authorised; a `Sale` → captured. The reference library
/// reads only the single record of P9.2 (a `Sale`), so the follow-up records are
/// Orkestra's reading, which the simulator answers the same way.
pub(crate) fn payment_sync(reply: &Reply, order_id: &str) -> Result<PaymentSync, ConnectorError> {
    let records = search_records(reply)?;
    let originals: Vec<&BTreeMap<String, String>> = records
        .iter()
        .filter(|r| matches!(record_field(r, "TransactionType"), "Sale" | "Auth"))
        .filter(|r| {
            record_field(r, "TransactionId") == order_id || record_field(r, "OrderId") == order_id
        })
        .collect();
    // An approved original wins over a declined attempt with the same id.
    let original = originals
        .iter()
        .find(|r| record_field(r, "ResultCode") == APPROVED)
        .or_else(|| originals.first());
    let Some(original) = original else {
        return Ok(PaymentSync::NotFound);
    };
    match record_field(original, "ResultCode") {
        APPROVED => {}
        code if is_code(code) => {
            return Ok(PaymentSync::Declined(decline_from(
                code,
                record_field(original, "ResponseMessage"),
            )));
        }
        code => return Err(bad(format!("record ResultCode {:?}", clip(code)))),
    }
    let approved_of = |kind: &str| {
        records.iter().any(|r| {
            record_field(r, "TransactionType") == kind && record_field(r, "ResultCode") == APPROVED
        })
    };
    let voided = is_true(record_field(original, "IsCanceled"))
        || is_true(record_field(original, "IsReversed"));
    let refunded = is_true(record_field(original, "IsRefunded")) || approved_of("Refund");
    let state = if voided {
        BankOrderState::Voided
    } else if refunded {
        BankOrderState::Refunded
    } else if record_field(original, "TransactionType") == "Auth" && !approved_of("Capture") {
        BankOrderState::PreAuthorized
    } else {
        BankOrderState::Captured
    };
    Ok(PaymentSync::Approved {
        approval: Approval {
            auth_code: non_empty(record_field(original, "AuthCode")),
            host_reference: non_empty(record_field(original, "Rrn")),
            transaction_id: non_empty(record_field(original, "TransactionId")),
        },
        state,
    })
}

/// The credits (refunds) of an order: its search's `Refund` records, each with its amount,
/// result and `TransactionId`.
pub(crate) fn bank_credits(reply: &Reply) -> Result<Vec<BankCredit>, ConnectorError> {
    search_records(reply)?
        .iter()
        .filter(|r| record_field(r, "TransactionType") == "Refund")
        .map(|r| {
            Ok(BankCredit {
                amount: record_amount(r)?,
                approved: record_field(r, "ResultCode") == APPROVED,
                transaction_id: non_empty(record_field(r, "TransactionId")),
            })
        })
        .collect()
}

/// The MPI's answer to an enrolment, read (the document's root is not checked: the library
/// does not use it; VakıfBank calls it `IPaySecure`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Enrolment {
    /// `Y` enrolled; `N` not enrolled; `U` cannot process; `E` error.
    pub status: String,
    pub acs_url: String,
    pub pareq: String,
    pub term_url: String,
    pub md: String,
    pub verify_enrollment_request_id: String,
    pub error_code: String,
    pub error_message: String,
}

pub(crate) fn enrolment(reply: &Reply) -> Enrolment {
    Enrolment {
        status: reply.get("Message/VERes/Status").to_owned(),
        acs_url: reply.get("Message/VERes/ACSUrl").to_owned(),
        pareq: reply.get("Message/VERes/PaReq").to_owned(),
        term_url: reply.get("Message/VERes/TermUrl").to_owned(),
        md: reply.get("Message/VERes/MD").to_owned(),
        verify_enrollment_request_id: reply.get("VerifyEnrollmentRequestId").to_owned(),
        error_code: reply.get("MessageErrorCode").to_owned(),
        error_message: reply.get("ErrorMessage").to_owned(),
    }
}
