//! Garanti's wire format: `GVPSRequest` XML bodies (UTF-8), `GVPSResponse` parsing, and the
//! translation of a parsed reply into facts: [`Outcome`], [`PaymentSync`], [`BankCredit`].
//!
//! Element order follows the reference library (mewebstudio/pos), pinned byte for byte by
//! the request vectors R2.1–R2.13 in `tests.rs`. Every reply that is not clearly an
//! approval or clearly a refusal becomes [`ConnectorError::BadResponse`], so the engine
//! treats the outcome as unknown and asks the bank again instead of guessing.
//!
//! Amounts on the wire are integers in hundredths of the currency unit (`10025` for
//! 100.25 TRY, vectors R2.2 and §2.6); Garanti prices every currency that way, so a JPY
//! amount is the yen count times 100. Currencies are the ISO 4217 numeric codes of the
//! currencies Garanti's virtual POS accepts ([`GARANTI_CURRENCIES`]).

use std::collections::BTreeMap;

use domain::enums::ErrorGroup;
use domain::money::{Currency, MinorUnits};
use quick_xml::events::Event;

use super::hash::{self, ApiHashInput};
use crate::{
    Approval, AuthorizeKind, BankCredit, BankOrderState, ConnectorError, Decline, Outcome,
    PaymentSync,
};

const PROLOG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// `Version`: the SHA-512 hash generation.
pub(crate) const API_VERSION: &str = "512";

/// The amount void and the inquiries send: the bank wants a non-zero one and ignores it
/// (vectors R2.4, R2.5, R2.11: 1.00 TRY).
pub(crate) const FIXED_AMOUNT: &str = "100";
/// ... in this currency.
pub(crate) const FIXED_CURRENCY: &str = "949";

/// Currencies Garanti's virtual POS prices (the reference library's table, §2.6).
pub(crate) const GARANTI_CURRENCIES: [Currency; 6] = [
    Currency::Try,
    Currency::Usd,
    Currency::Eur,
    Currency::Gbp,
    Currency::Jpy,
    Currency::Rub,
];

/// The `Terminal` block: who signs in, and the password its `SecurityData` is made of.
#[derive(Clone, Copy)]
pub(crate) struct Terminal<'a> {
    /// `TEST` or `PROD`.
    pub mode: &'a str,
    /// `ProvUserID` and `UserID`: the provision user, or the refund user for void/refund.
    pub user: &'a str,
    pub password: &'a str,
    pub terminal_id: &'a str,
    pub merchant_id: &'a str,
}

// Never print the password.
impl std::fmt::Debug for Terminal<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal")
            .field("mode", &self.mode)
            .field("user", &self.user)
            .field("terminal_id", &self.terminal_id)
            .field("merchant_id", &self.merchant_id)
            .finish_non_exhaustive()
    }
}

impl Terminal<'_> {
    fn hash_data(&self, order_id: &str, card_number: &str, amount: &str, currency: &str) -> String {
        let security = hash::security_data(self.password, self.terminal_id);
        hash::api_hash(
            &ApiHashInput {
                order_id,
                terminal_id: self.terminal_id,
                card_number,
                amount,
                currency_code: currency,
            },
            &security,
        )
    }
}

/// A `GVPSRequest` document under construction: one line, elements in emission order.
struct Gvps {
    xml: String,
}

impl Gvps {
    /// Prolog, `Mode`, `Version`, `Terminal` (with its `HashData`) and `Customer`.
    fn new(terminal: &Terminal<'_>, hash_data: &str, client_ip: &str) -> Gvps {
        let mut request = Gvps {
            xml: String::with_capacity(768),
        };
        request.xml.push_str(PROLOG);
        request.xml.push_str("<GVPSRequest>");
        request
            .element("Mode", terminal.mode)
            .element("Version", API_VERSION)
            .open("Terminal")
            .element("ProvUserID", terminal.user)
            .element("UserID", terminal.user)
            .element("HashData", hash_data)
            .element("ID", terminal.terminal_id)
            .element("MerchantID", terminal.merchant_id)
            .close("Terminal")
            .open("Customer")
            .element("IPAddress", client_ip)
            .close("Customer");
        request
    }

    fn open(&mut self, name: &str) -> &mut Gvps {
        self.xml.push('<');
        self.xml.push_str(name);
        self.xml.push('>');
        self
    }

    fn close(&mut self, name: &str) -> &mut Gvps {
        self.xml.push_str("</");
        self.xml.push_str(name);
        self.xml.push('>');
        self
    }

    /// `<name>text</name>`; text holding markup characters is wrapped in CDATA, as the
    /// reference library's encoder does (and escaped when it cannot be).
    fn element(&mut self, name: &str, text: &str) -> &mut Gvps {
        self.open(name);
        if text.contains(['<', '>', '&']) {
            if text.contains("]]>") {
                self.xml.push_str(&quick_xml::escape::escape(text));
            } else {
                self.xml.push_str("<![CDATA[");
                self.xml.push_str(text);
                self.xml.push_str("]]>");
            }
        } else {
            self.xml.push_str(text);
        }
        self.close(name)
    }

    fn order(&mut self, order_id: &str) -> &mut Gvps {
        self.open("Order")
            .element("OrderID", order_id)
            .close("Order")
    }

    fn finish(&mut self) -> Vec<u8> {
        self.xml.push_str("</GVPSRequest>\n");
        std::mem::take(&mut self.xml).into_bytes()
    }
}

/// `InstallmentCnt`: empty for a single payment (0 or 1), otherwise the count (§2.6).
pub(crate) fn installment_text(installment: u32) -> String {
    if installment <= 1 {
        String::new()
    } else {
        installment.to_string()
    }
}

/// `sales` or `preauth`.
pub(crate) fn transaction_type(kind: AuthorizeKind) -> &'static str {
    match kind {
        AuthorizeKind::Sale => "sales",
        AuthorizeKind::PreAuth => "preauth",
    }
}

/// The amount as Garanti writes it: hundredths of the currency unit, as an integer.
/// `None` when the currency is not one Garanti prices or the amount has no exact form.
pub(crate) fn amount_text(amount: MinorUnits, currency: Currency) -> Option<String> {
    if !GARANTI_CURRENCIES.contains(&currency) {
        return None;
    }
    let minor = amount.get();
    if minor < 0 {
        return None;
    }
    let hundredths = match currency.minor_units() {
        0 => minor.checked_mul(100)?,
        1 => minor.checked_mul(10)?,
        2 => minor,
        3 => (minor % 10 == 0).then_some(minor / 10)?,
        _ => return None,
    };
    Some(hundredths.to_string())
}

/// An amount the bank wrote (hundredths) in the currency's minor units; `None` when it is
/// not a plain non-negative integer or has no exact value in that currency.
pub(crate) fn minor_from_hundredths(text: &str, currency: Currency) -> Option<MinorUnits> {
    let text = text.trim();
    if text.is_empty() || text.len() > 15 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hundredths: i64 = text.parse().ok()?;
    let minor = match currency.minor_units() {
        0 => (hundredths % 100 == 0).then_some(hundredths / 100)?,
        1 => (hundredths % 10 == 0).then_some(hundredths / 10)?,
        2 => hundredths,
        3 => hundredths.checked_mul(10)?,
        _ => return None,
    };
    Some(MinorUnits::from_stored(minor))
}

/// The card of a non-3D payment, in clear: the one place it meets the request.
#[derive(Clone, Copy)]
pub(crate) struct CardFields<'a> {
    pub number: &'a str,
    /// `MMYY`.
    pub expire_date: &'a str,
    pub cvv: &'a str,
}

/// The 3D authentication a `3d`-model provision carries (vector R2.7).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Secure3dFields<'a> {
    /// `AuthenticationCode`.
    pub cavv: &'a str,
    /// `SecurityLevel`.
    pub eci: &'a str,
    /// `TxnID`.
    pub xid: &'a str,
    pub md: &'a str,
}

/// A sale or pre-authorisation: with the card (R2.2) or after 3D authentication (R2.7).
#[derive(Clone, Copy)]
pub(crate) struct PaymentFields<'a> {
    pub kind: AuthorizeKind,
    pub order_id: &'a str,
    /// As sent: hundredths (see [`amount_text`]).
    pub amount: &'a str,
    pub currency_code: &'a str,
    pub installment: u32,
    pub client_ip: &'a str,
    pub card: Option<CardFields<'a>>,
    pub secure3d: Option<Secure3dFields<'a>>,
}

pub(crate) fn payment_body(terminal: &Terminal<'_>, fields: &PaymentFields<'_>) -> Vec<u8> {
    let card_number = fields.card.map(|card| card.number).unwrap_or_default();
    let hash_data = terminal.hash_data(
        fields.order_id,
        card_number,
        fields.amount,
        fields.currency_code,
    );
    let mut xml = Gvps::new(terminal, &hash_data, fields.client_ip);
    if let Some(card) = fields.card {
        xml.open("Card")
            .element("Number", card.number)
            .element("ExpireDate", card.expire_date)
            .element("CVV2", card.cvv)
            .close("Card");
    }
    xml.order(fields.order_id)
        .open("Transaction")
        .element("Type", transaction_type(fields.kind))
        .element("InstallmentCnt", &installment_text(fields.installment))
        .element("Amount", fields.amount)
        .element("CurrencyCode", fields.currency_code);
    match fields.secure3d {
        None => {
            xml.element("CardholderPresentCode", "0")
                .element("MotoInd", "N");
        }
        Some(secure3d) => {
            xml.element("CardholderPresentCode", "13")
                .element("MotoInd", "N")
                .open("Secure3D")
                .element("AuthenticationCode", secure3d.cavv)
                .element("SecurityLevel", secure3d.eci)
                .element("TxnID", secure3d.xid)
                .element("Md", secure3d.md)
                .close("Secure3D");
        }
    }
    xml.close("Transaction").finish()
}

/// `postauth` of a pre-authorisation, referencing it by its `RetrefNum` (vector R2.1).
pub(crate) fn post_auth_body(
    terminal: &Terminal<'_>,
    order_id: &str,
    amount: &str,
    currency_code: &str,
    client_ip: &str,
    original_retref_num: &str,
) -> Vec<u8> {
    let hash_data = terminal.hash_data(order_id, "", amount, currency_code);
    Gvps::new(terminal, &hash_data, client_ip)
        .order(order_id)
        .open("Transaction")
        .element("Type", "postauth")
        .element("Amount", amount)
        .element("CurrencyCode", currency_code)
        .element("OriginalRetrefNum", original_retref_num)
        .close("Transaction")
        .finish()
}

/// `void` (R2.4) or `refund` (R2.12): the refund user, the transaction's `RetrefNum`.
/// Void sends the fixed amount; refund the amount to give back.
pub(crate) fn reversal_body(
    terminal: &Terminal<'_>,
    transaction_type: &str,
    order_id: &str,
    amount: &str,
    currency_code: &str,
    client_ip: &str,
    original_retref_num: &str,
) -> Vec<u8> {
    let hash_data = terminal.hash_data(order_id, "", amount, currency_code);
    Gvps::new(terminal, &hash_data, client_ip)
        .order(order_id)
        .open("Transaction")
        .element("Type", transaction_type)
        .element("InstallmentCnt", "")
        .element("Amount", amount)
        .element("CurrencyCode", currency_code)
        .element("CardholderPresentCode", "0")
        .element("MotoInd", "N")
        .element("OriginalRetrefNum", original_retref_num)
        .close("Transaction")
        .finish()
}

/// `orderinq` (R2.11) or `orderhistoryinq` (R2.5), with the fixed amount.
pub(crate) fn inquiry_body(
    terminal: &Terminal<'_>,
    transaction_type: &str,
    order_id: &str,
    client_ip: &str,
) -> Vec<u8> {
    let hash_data = terminal.hash_data(order_id, "", FIXED_AMOUNT, FIXED_CURRENCY);
    Gvps::new(terminal, &hash_data, client_ip)
        .order(order_id)
        .open("Transaction")
        .element("Type", transaction_type)
        .element("InstallmentCnt", "")
        .element("Amount", FIXED_AMOUNT)
        .element("CurrencyCode", FIXED_CURRENCY)
        .element("CardholderPresentCode", "0")
        .element("MotoInd", "N")
        .close("Transaction")
        .finish()
}

// ---------------------------------------------------------------------------------------
// Replies

/// A parsed `GVPSResponse`. Absent elements read as `""`, except `Transaction.Response.Code`,
/// which decides between "the bank answered" and "this is not an answer".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GvpsResponse {
    pub order_id: String,
    /// `Transaction.Response.Source`: `HOST` (card network) or `GVPS` (the gateway).
    pub source: String,
    pub code: Option<String>,
    pub reason_code: String,
    /// `Approved` or `Declined`.
    pub message: String,
    pub error_msg: String,
    pub sys_err_msg: String,
    pub retref_num: String,
    pub auth_code: String,
    pub batch_num: String,
    pub sequence_num: String,
    pub prov_date: String,
    /// `Order.OrderInqResult`'s children, by name (status inquiry).
    pub order_inq: Option<BTreeMap<String, String>>,
    /// `Order.OrderHistInqResult.OrderTxnList.OrderTxn`s, in document order (order history).
    pub history: Option<Vec<BTreeMap<String, String>>>,
}

impl GvpsResponse {
    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or_default().trim()
    }

    fn reason_code(&self) -> &str {
        self.reason_code.trim()
    }

    /// The bank has no such order: `92` with `0110` ("İşlem bulunamadı", P2.13) or `0108`
    /// ("Gönderilen sipariş numarasına ait kayıt bulunmamaktadır", P2.18). Matched on the
    /// reason code, never on an empty order: a failed sign-in (`0651`) must not read as
    /// "nothing was charged".
    fn is_no_record(&self) -> bool {
        self.code() == "92" && matches!(self.reason_code(), "0110" | "0108")
    }

    /// The decline this reply stands for.
    pub fn decline(&self) -> Decline {
        let message = match self.error_msg.trim() {
            "" => self.sys_err_msg.trim(),
            message => message,
        };
        decline_from(self.code(), self.reason_code(), message)
    }
}

/// Largest reply read into memory; a real one (even a long order history) is a few KiB.
pub(crate) const RESPONSE_BYTES_MAX: usize = 1 << 20;

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

/// Parses a reply body. Anything that is not a complete `GVPSResponse` document carrying
/// `Transaction.Response.Code` is [`ConnectorError::BadResponse`].
pub(crate) fn parse_response(body: &[u8]) -> Result<GvpsResponse, ConnectorError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("empty body"));
    }
    if body.len() > RESPONSE_BYTES_MAX {
        return Err(bad("body too large"));
    }
    let text = decode_body(body);
    let mut reader = quick_xml::Reader::from_str(&text);

    let mut response = GvpsResponse::default();
    let mut path: Vec<String> = Vec::new();
    let mut text_buf = String::new();
    let mut root_closed = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| bad(format!("malformed xml: {e}")))?;
        match event {
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                if path.is_empty() && name != "GVPSResponse" {
                    return Err(bad(format!("unexpected root element <{}>", clip(&name))));
                }
                path.push(name);
                open(&mut response, &path);
                text_buf.clear();
            }
            Event::Empty(start) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                if path.is_empty() {
                    if name != "GVPSResponse" {
                        return Err(bad(format!("unexpected root element <{}>", clip(&name))));
                    }
                    root_closed = true;
                    break;
                }
                path.push(name);
                open(&mut response, &path);
                store(&mut response, &path, String::new());
                path.pop();
            }
            Event::Text(text) => {
                let text = text
                    .unescape()
                    .map_err(|e| bad(format!("malformed xml text: {e}")))?;
                text_buf.push_str(&text);
            }
            Event::CData(cdata) => {
                text_buf.push_str(&String::from_utf8_lossy(&cdata.into_inner()));
            }
            Event::End(_) => {
                store(&mut response, &path, std::mem::take(&mut text_buf));
                path.pop();
                if path.is_empty() {
                    root_closed = true;
                    break;
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !root_closed {
        return Err(bad("truncated or missing GVPSResponse"));
    }
    if response.code.is_none() {
        return Err(bad("GVPSResponse has no Transaction.Response.Code"));
    }
    Ok(response)
}

/// Containers that start a record when they open.
fn open(response: &mut GvpsResponse, path: &[String]) {
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    match path.as_slice() {
        [_, "Order", "OrderInqResult"] => {
            response.order_inq.get_or_insert_with(BTreeMap::new);
        }
        [_, "Order", "OrderHistInqResult"] => {
            response.history.get_or_insert_with(Vec::new);
        }
        [_, "Order", "OrderHistInqResult", "OrderTxnList", "OrderTxn"] => {
            response
                .history
                .get_or_insert_with(Vec::new)
                .push(BTreeMap::new());
        }
        _ => {}
    }
}

/// Records one element's text if it is a field we read.
fn store(response: &mut GvpsResponse, path: &[String], text: String) {
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let slot = match path.as_slice() {
        [_, "Order", "OrderID"] => &mut response.order_id,
        [_, "Transaction", "Response", name] => match *name {
            "Source" => &mut response.source,
            "Code" => {
                response.code = Some(text);
                return;
            }
            "ReasonCode" => &mut response.reason_code,
            "Message" => &mut response.message,
            "ErrorMsg" => &mut response.error_msg,
            "SysErrMsg" => &mut response.sys_err_msg,
            _ => return,
        },
        [_, "Transaction", name] => match *name {
            "RetrefNum" => &mut response.retref_num,
            "AuthCode" => &mut response.auth_code,
            "BatchNum" => &mut response.batch_num,
            "SequenceNum" => &mut response.sequence_num,
            "ProvDate" => &mut response.prov_date,
            _ => return,
        },
        [_, "Order", "OrderInqResult", name] => {
            if let Some(map) = response.order_inq.as_mut() {
                map.insert((*name).to_owned(), text);
            }
            return;
        }
        [
            _,
            "Order",
            "OrderHistInqResult",
            "OrderTxnList",
            "OrderTxn",
            name,
        ] => {
            if let Some(txn) = response.history.as_mut().and_then(|list| list.last_mut()) {
                txn.insert((*name).to_owned(), text);
            }
            return;
        }
        _ => return,
    };
    *slot = text;
}

/// Decodes a reply to text: UTF-8 when the bytes are valid UTF-8 (what Garanti sends),
/// otherwise the declared encoding, ISO-8859-9 by default. Undecodable bytes become U+FFFD
/// rather than an error: they can only be in free text such as `ErrorMsg`.
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

/// The reply to a sale, pre-auth, post-auth, void or refund, as a fact.
///
/// Approved only when `Code` is `00` *and* `Message` is `Approved`; a reply in which the two
/// disagree is not a fact in either direction, so it is [`ConnectorError::BadResponse`].
pub(crate) fn outcome(response: &GvpsResponse) -> Result<Outcome, ConnectorError> {
    let approved_code = response.code() == "00";
    let approved_text = response.message.trim() == "Approved";
    match (approved_code, approved_text) {
        (true, true) => Ok(Outcome::Approved(Approval {
            auth_code: non_empty(&response.auth_code),
            host_reference: non_empty(&response.retref_num),
            transaction_id: None,
        })),
        (false, false) => Ok(Outcome::Declined(response.decline())),
        (true, false) | (false, true) => Err(bad(format!(
            "Code {:?} disagrees with Message {:?}",
            clip(response.code()),
            clip(&response.message)
        ))),
    }
}

/// The decline a `Code`, a `ReasonCode` and a message stand for. The reason code is the
/// more precise one (`0002`, `0208`…) when it differs from the code; it is what
/// `Decline.code` carries then.
pub(crate) fn decline_from(code: &str, reason_code: &str, message: &str) -> Decline {
    let (code, reason_code) = (code.trim(), reason_code.trim());
    let raw = if !reason_code.is_empty() && reason_code != code {
        reason_code
    } else {
        code
    };
    Decline {
        group: error_group(code, reason_code),
        code: raw.to_owned(),
        message: message.trim().to_owned(),
    }
}

/// `Response.Code` (ISO 8583 for `Source=HOST`; `92` for every gateway-side refusal of
/// `Source=GVPS`, refined by `ReasonCode`) to Craftgate's error group:
///
/// | code / reason | group | meaning |
/// |---|---|---|
/// | reason 0651, 0752 | InvalidMerchantOrPos | user password (hash) wrong; no such terminal (Garanti's support pages) |
/// | 92 (any other reason: 0002 mandatory field, 0108/0110 no record, 0208 refund not valid…) | InvalidTransaction | the gateway refused the request |
/// | 51 | NotSufficientFunds | insufficient funds |
/// | 05 | DoNotHonour | do not honour |
/// | 12 | InvalidTransaction | invalid transaction |
/// | 57 | NotPermittedToCardholder | not permitted to cardholder |
/// | 43 | StolenCard | stolen card, pick up |
/// | 41 | LostCard | lost card, pick up |
/// | 04, 07 | PickupCard | pick up card |
/// | 54, 33 | ExpiredCard | expired card |
/// | 82, N7 | InvalidCvc2 | CVV/CVC2 check failed |
/// | 58 | NotPermittedToTerminal | not permitted to terminal |
/// | 59, 34 | FraudSuspect | suspected fraud |
/// | 93 | RestrictedByLaw | violation of law |
/// | 62 | CardNotPermitted | restricted card |
/// | 14, 15 | InvalidCard | invalid card number / no such issuer |
/// | 13 | InvalidAmount | invalid amount (also a post-auth outside the allowed margin) |
/// | 61, 65 | ExceedsWithdrawalLimit | amount / frequency limit exceeded |
/// | 91, 96 | BankNotAvailable | issuer inoperative / system malfunction |
/// | 03 | InvalidMerchantOrPos | invalid merchant |
/// | 99 | Unknown | general error (Craftgate's `UNKNOWN`) |
/// | 01, 02, 09, 28, 77, other two digits | Declined | call bank, try again, rejected |
/// | anything else | Unknown | not a code we can read |
pub(crate) fn error_group(code: &str, reason_code: &str) -> ErrorGroup {
    match reason_code {
        "0651" | "0752" => return ErrorGroup::InvalidMerchantOrPos,
        _ => {}
    }
    match code {
        "92" => ErrorGroup::InvalidTransaction,
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
        "91" | "96" => ErrorGroup::BankNotAvailable,
        "03" => ErrorGroup::InvalidMerchantOrPos,
        "99" => ErrorGroup::Unknown,
        code if code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()) => ErrorGroup::Declined,
        _ => ErrorGroup::Unknown,
    }
}

/// What an `orderinq` said about an order that a follow-up (post-auth, void, refund) must
/// reference by its `RetrefNum`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Original {
    RetrefNum(String),
    /// The bank refused the inquiry (no such order, bad credentials…) or has no transaction
    /// to reference: the follow-up cannot succeed, and nothing was changed.
    Refused(Decline),
}

/// The `RetrefNum` a follow-up must carry as `OriginalRetrefNum`, from an `orderinq` reply.
pub(crate) fn original(response: &GvpsResponse) -> Result<Original, ConnectorError> {
    if response.code() != "00" {
        return Ok(Original::Refused(response.decline()));
    }
    let inq = response
        .order_inq
        .as_ref()
        .ok_or_else(|| bad("status inquiry approved without OrderInqResult"))?;
    match inq.get("RetrefNum").map(|r| r.trim()).unwrap_or_default() {
        "" => Ok(Original::Refused(Decline {
            group: ErrorGroup::InvalidTransaction,
            code: String::new(),
            message: "the bank has no transaction to reference on this order".into(),
        })),
        retref => Ok(Original::RetrefNum(retref.to_owned())),
    }
}

/// The reply to an `orderinq`, as the state of the order at the bank.
///
/// `OrderInqResult.Status`: `WAITINGPOSTAUTH` an open pre-authorisation (P2.12), `APPROVED`
/// a sale or a captured pre-authorisation (P2.11), `VOID`/`CANCELLED` voided, `REFUNDED`/
/// `PARTIALREFUNDED` refunded (in whole or part), `DECLINED`/`ERROR` declined. `92` with
/// reason `0110`/`0108` is "no such order" (P2.13). Anything else is
/// [`ConnectorError::BadResponse`]: the engine asks again later rather than settle an
/// attempt on a guess.
pub(crate) fn payment_sync(response: &GvpsResponse) -> Result<PaymentSync, ConnectorError> {
    if response.is_no_record() {
        return Ok(PaymentSync::NotFound);
    }
    if response.code() != "00" {
        // The inquiry itself failed (bad credentials, system error): says nothing about the order.
        return Err(bad(format!(
            "status inquiry failed with code {:?}: {}",
            clip(&response.decline().code),
            clip(&response.error_msg)
        )));
    }
    let inq = response
        .order_inq
        .as_ref()
        .ok_or_else(|| bad("status inquiry approved without OrderInqResult"))?;
    let get = |name: &str| inq.get(name).map(|v| v.trim()).unwrap_or_default();
    let status = get("Status");
    let inq_code = get("Code");
    let approval = Approval {
        auth_code: non_empty(get("AuthCode")),
        host_reference: non_empty(get("RetrefNum")),
        transaction_id: None,
    };
    let state = match status.to_ascii_uppercase().as_str() {
        "WAITINGPOSTAUTH" => BankOrderState::PreAuthorized,
        "APPROVED" => BankOrderState::Captured,
        "VOID" | "CANCELLED" => BankOrderState::Voided,
        "REFUNDED" | "PARTIALREFUNDED" => BankOrderState::Refunded,
        "DECLINED" | "ERROR" => {
            return Ok(PaymentSync::Declined(decline_from(
                inq_code,
                get("ReasonCode"),
                get("SysErrMsg"),
            )));
        }
        _ => return Err(bad(format!("unknown order status {:?}", clip(status)))),
    };
    if !inq_code.is_empty() && inq_code != "00" {
        return Err(bad(format!(
            "order status {:?} with code {:?}",
            clip(status),
            clip(inq_code)
        )));
    }
    Ok(PaymentSync::Approved { approval, state })
}

/// One transaction of an `orderhistoryinq` reply (P2.16, P2.17).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HistoryEntry {
    /// `sales`, `preauth`, `postauth`, `refund`, `void` (or the Turkish names of the date
    /// range list: `Satis`, `On Otorizasyon`, `Iade`, `Iptal`…).
    pub kind: String,
    /// `00` succeeded, `01` failed.
    pub status: String,
    pub return_code: String,
    pub amount: MinorUnits,
    pub retref_num: String,
    pub voided: bool,
}

impl HistoryEntry {
    fn is_refund(&self) -> bool {
        self.kind.eq_ignore_ascii_case("refund") || self.kind.eq_ignore_ascii_case("Iade")
    }
}

/// The transactions of an order history reply; empty when the bank has no such order.
pub(crate) fn history(response: &GvpsResponse) -> Result<Vec<HistoryEntry>, ConnectorError> {
    if response.is_no_record() {
        return Ok(Vec::new());
    }
    if response.code() != "00" {
        return Err(bad(format!(
            "order history failed with code {:?}: {}",
            clip(&response.decline().code),
            clip(&response.error_msg)
        )));
    }
    let txns = response
        .history
        .as_ref()
        .ok_or_else(|| bad("order history approved without OrderHistInqResult"))?;
    // Amounts are hundredths; the order's currency (the first line that names one) gives
    // their exponent. Failed lines may carry `0` (P2.17).
    let order_currency = txns
        .iter()
        .filter_map(|txn| txn.get("CurrencyCode"))
        .find_map(|code| Currency::from_numeric_code(code.trim()))
        .unwrap_or(Currency::Try);
    txns.iter()
        .map(|txn| {
            let get = |name: &str| txn.get(name).map(|v| v.trim()).unwrap_or_default();
            let amount_text = get("AuthAmount");
            let amount = if amount_text.is_empty() {
                MinorUnits::ZERO
            } else {
                let currency =
                    Currency::from_numeric_code(get("CurrencyCode")).unwrap_or(order_currency);
                minor_from_hundredths(amount_text, currency).ok_or_else(|| {
                    bad(format!(
                        "history amount {:?} is not an amount",
                        clip(amount_text)
                    ))
                })?
            };
            Ok(HistoryEntry {
                kind: get("Type").to_owned(),
                status: get("Status").to_owned(),
                return_code: get("ReturnCode").to_owned(),
                amount,
                retref_num: get("RetrefNum").to_owned(),
                voided: !get("VoidDate").is_empty(),
            })
        })
        .collect()
}

/// The refunds of an order. One holds only when the bank says it succeeded (`Status` `00`,
/// `ReturnCode` `00` when given) and it was not voided since; others are reported with
/// `approved: false`.
pub(crate) fn bank_credits(response: &GvpsResponse) -> Result<Vec<BankCredit>, ConnectorError> {
    Ok(history(response)?
        .into_iter()
        .filter(HistoryEntry::is_refund)
        .map(|entry| BankCredit {
            amount: entry.amount,
            approved: entry.status == "00"
                && (entry.return_code.is_empty() || entry.return_code == "00")
                && !entry.voided,
            transaction_id: non_empty(&entry.retref_num),
        })
        .collect())
}
