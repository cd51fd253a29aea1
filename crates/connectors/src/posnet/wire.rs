//! PosNet's wire format: `posnetRequest` XML documents posted as `xmldata=<xml>`
//! (ISO-8859-9), `posnetResponse` parsing, and the translation of a parsed reply into facts:
//! [`Outcome`], [`PaymentSync`], [`BankCredit`].
//!
//! Requests are laid out exactly as the reference library (mewebstudio/pos) emits them, which
//! is what YKB's test and production hosts have been receiving for years: the prolog, then
//! one line `<posnetRequest><mid/><tid/>[<tranDateRequired>1</tranDateRequired>]<op>…</op>
//! </posnetRequest>`, a trailing newline, the whole transcoded to ISO-8859-9 and sent after a
//! literal `xmldata=` **without** percent-encoding (vectors R3.1–R3.13; `tests.rs` pins them
//! byte for byte). Values never contain `<`, `>` or `&` in practice; when one does it is
//! wrapped in CDATA, as the library's serializer does.
//!
//! Amounts are integer minor units (`175` for 1.75 TRY), currencies YKB's two letters
//! (`TL`, `US`, `EU`, `GB`, `JP`, `RU`; no other currency exists at YKB), installments `00`
//! for a single payment and two digits otherwise, card expiry `YYMM`, order ids left-padded
//! with `0` to 20 characters; follow-ups address an order as 24 characters: `0000` + the
//! padded id for a plain order, `TDSC` + the padded id for a 3D order (R3.10, R3.11).
//!
//! Every reply that is not clearly an approval or clearly a decline becomes
//! [`ConnectorError::BadResponse`], so the engine treats the outcome as unknown and asks
//! the bank again instead of guessing.

use domain::enums::ErrorGroup;
use domain::money::{Currency, MinorUnits};
use quick_xml::events::Event;
use rust_decimal::Decimal;

use crate::{
    Approval, AuthorizeKind, BankCredit, BankOrderState, ConnectorError, Decline, Outcome,
    PaymentSync,
};

/// The bytes every request body starts with; the XML follows unencoded (reference library).
pub(crate) const FORM_PREFIX: &[u8] = b"xmldata=";

/// What the request prolog declares; the body is transcoded to match. `encoding_rs` maps
/// the ISO-8859-9 label to windows-1254, its superset; every Turkish letter is one byte.
const REQUEST_ENCODING: &encoding_rs::Encoding = encoding_rs::WINDOWS_1254;
const PROLOG: &str = "<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n";

/// Longest order id YKB takes (`orderID`, `XID`).
pub(crate) const ORDER_ID_LEN: usize = 20;

/// Prefix of a 3D order's id in follow-up operations (`TDSC` + 20 characters).
pub(crate) const THREE_D_PREFIX: &str = "TDSC";

/// The terminal every request names: merchant number and terminal number.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Terminal<'a> {
    pub mid: &'a str,
    pub tid: &'a str,
}

/// A `posnetRequest` under construction: one line, elements in emission order.
pub(crate) struct PosnetRequest {
    xml: String,
}

impl PosnetRequest {
    /// `<posnetRequest><mid/><tid/>` and, for money-moving operations, the
    /// `<tranDateRequired>1</tranDateRequired>` the library always sends with them.
    pub(crate) fn new(terminal: Terminal<'_>, tran_date_required: bool) -> PosnetRequest {
        let mut request = PosnetRequest {
            xml: String::with_capacity(512),
        };
        request.xml.push_str(PROLOG);
        request.xml.push_str("<posnetRequest>");
        request
            .element("mid", terminal.mid)
            .element("tid", terminal.tid);
        if tran_date_required {
            request.element("tranDateRequired", "1");
        }
        request
    }

    pub(crate) fn open(&mut self, name: &str) -> &mut PosnetRequest {
        self.xml.push('<');
        self.xml.push_str(name);
        self.xml.push('>');
        self
    }

    pub(crate) fn close(&mut self, name: &str) -> &mut PosnetRequest {
        self.xml.push_str("</");
        self.xml.push_str(name);
        self.xml.push('>');
        self
    }

    /// `<name>text</name>`; text holding markup characters goes into CDATA, as the
    /// library's serializer does.
    pub(crate) fn element(&mut self, name: &str, text: &str) -> &mut PosnetRequest {
        self.open(name);
        if text.contains(['<', '>', '&']) {
            self.xml.push_str("<![CDATA[");
            self.xml.push_str(&text.replace("]]>", "]]]]><![CDATA[>"));
            self.xml.push_str("]]>");
        } else {
            self.xml.push_str(text);
        }
        self.close(name)
    }

    /// The finished body: `xmldata=` and the document in ISO-8859-9. A character the code
    /// page lacks is written as a numeric character reference by `encoding_rs`.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        self.xml.push_str("</posnetRequest>\n");
        let (bytes, _, _) = REQUEST_ENCODING.encode(&self.xml);
        let mut body = Vec::with_capacity(FORM_PREFIX.len() + bytes.len());
        body.extend_from_slice(FORM_PREFIX);
        body.extend_from_slice(&bytes);
        body
    }
}

fn config(detail: impl Into<String>) -> ConnectorError {
    ConnectorError::Config(detail.into())
}

/// Checks an order id against what YKB accepts: 1 to 20 characters of `[A-Za-z0-9_]`.
pub(crate) fn check_order_id(order_id: &str) -> Result<(), ConnectorError> {
    if order_id.is_empty() || order_id.len() > ORDER_ID_LEN {
        return Err(config("PosNet order ids are 1 to 20 characters long"));
    }
    if !order_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(config("PosNet order ids are letters, digits and '_' only"));
    }
    Ok(())
}

/// The order id as sale/auth/3D requests carry it: left-padded with `0` to 20 characters
/// (the library's `formatOrderId`; vector S3.1).
pub(crate) fn padded_order_id(order_id: &str) -> String {
    format!("{order_id:0>ORDER_ID_LEN$}")
}

/// The order id as follow-ups (`agreement`, `reverse`, `return`) carry it: 24 characters,
/// `TDSC` + the padded id for a 3D order, else the id left-padded with `0` to 24 (vectors
/// R3.10, R3.11).
pub(crate) fn order_reference(order_id: &str, three_d: bool) -> String {
    if three_d {
        format!("{THREE_D_PREFIX}{}", padded_order_id(order_id))
    } else {
        format!("{order_id:0>24}")
    }
}

/// `installment`: `00` for a single payment (0 or 1), else two digits.
pub(crate) fn installment_text(installment: u32) -> Result<String, ConnectorError> {
    match installment {
        0 | 1 => Ok("00".to_owned()),
        2..=99 => Ok(format!("{installment:02}")),
        _ => Err(config("PosNet installments are at most 99")),
    }
}

/// YKB's currency letters (`vpos-protocols.md` §3.5, vector table §3.6).
pub(crate) fn currency_code(currency: Currency) -> Result<&'static str, ConnectorError> {
    match currency {
        Currency::Try => Ok("TL"),
        Currency::Usd => Ok("US"),
        Currency::Eur => Ok("EU"),
        Currency::Gbp => Ok("GB"),
        Currency::Jpy => Ok("JP"),
        Currency::Rub => Ok("RU"),
        other => Err(config(format!("PosNet does not take {}", other.code()))),
    }
}

/// The currency behind YKB's letters (`TRY` and `TRL` are read as TL too).
pub(crate) fn currency_from_code(code: &str) -> Option<Currency> {
    match code.trim() {
        "TL" | "TRY" | "TRL" => Some(Currency::Try),
        "US" | "USD" => Some(Currency::Usd),
        "EU" | "EUR" => Some(Currency::Eur),
        "GB" | "GBP" => Some(Currency::Gbp),
        "JP" | "JPY" => Some(Currency::Jpy),
        "RU" | "RUB" => Some(Currency::Rub),
        _ => None,
    }
}

/// `amount`: the minor units as an integer.
pub(crate) fn amount_text(amount: MinorUnits) -> String {
    amount.get().to_string()
}

/// `sale` or `auth`, as the request's operation element.
fn operation(kind: AuthorizeKind) -> &'static str {
    match kind {
        AuthorizeKind::Sale => "sale",
        AuthorizeKind::PreAuth => "auth",
    }
}

/// `tranType` of a 3D enrolment: `Sale` or `Auth`.
pub(crate) fn tran_type(kind: AuthorizeKind) -> &'static str {
    match kind {
        AuthorizeKind::Sale => "Sale",
        AuthorizeKind::PreAuth => "Auth",
    }
}

/// The card in clear, as the request carries it: the one place it meets the XML.
#[derive(Clone, Copy)]
pub(crate) struct CardFields<'a> {
    pub number: &'a str,
    /// `YYMM`.
    pub exp_date: &'a str,
    pub cvc: &'a str,
}

// Never print the card.
impl std::fmt::Debug for CardFields<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardFields(***)")
    }
}

/// A sale or pre-authorisation's fields, formatted for the wire.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PaymentFields<'a> {
    pub kind: AuthorizeKind,
    /// Already padded to 20 characters.
    pub order_id: &'a str,
    pub installment: &'a str,
    pub amount: &'a str,
    pub currency: &'a str,
    pub card: CardFields<'a>,
}

/// `sale` / `auth` with the card (vector R3.2).
pub(crate) fn payment_body(terminal: Terminal<'_>, fields: &PaymentFields<'_>) -> Vec<u8> {
    let op = operation(fields.kind);
    PosnetRequest::new(terminal, true)
        .open(op)
        .element("orderID", fields.order_id)
        .element("installment", fields.installment)
        .element("amount", fields.amount)
        .element("currencyCode", fields.currency)
        .element("ccno", fields.card.number)
        .element("expDate", fields.card.exp_date)
        .element("cvc", fields.card.cvc)
        .close(op)
        .finish()
}

/// `capt`: closes a pre-authorisation named by its `hostLogKey` (vector R3.1).
pub(crate) fn capture_body(
    terminal: Terminal<'_>,
    host_log_key: &str,
    amount: &str,
    currency: &str,
    installment: &str,
) -> Vec<u8> {
    PosnetRequest::new(terminal, true)
        .open("capt")
        .element("hostLogKey", host_log_key)
        .element("amount", amount)
        .element("currencyCode", currency)
        .element("installment", installment)
        .close("capt")
        .finish()
}

/// How a follow-up names the transaction it acts on.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reference<'a> {
    /// The bank's `hostlogkey` of the transaction.
    HostLogKey(&'a str),
    /// The 24-character order reference ([`order_reference`]). The connector itself uses
    /// host log keys (found by inquiry); the vectors R3.3, R3.5 and R3.12 use this form.
    #[cfg_attr(not(test), allow(dead_code))]
    OrderId(&'a str),
}

impl Reference<'_> {
    fn push(self, request: &mut PosnetRequest) {
        match self {
            Reference::HostLogKey(key) => request.element("hostLogKey", key),
            Reference::OrderId(id) => request.element("orderID", id),
        };
    }
}

/// `reverse` (void): `transaction` is `sale`, `auth` or `capt`; the `authCode` rides along
/// when known (vectors R3.3–R3.5).
pub(crate) fn reverse_body(
    terminal: Terminal<'_>,
    transaction: &str,
    auth_code: Option<&str>,
    reference: Reference<'_>,
) -> Vec<u8> {
    let mut request = PosnetRequest::new(terminal, true);
    request.open("reverse").element("transaction", transaction);
    if let Some(code) = auth_code.filter(|c| !c.is_empty()) {
        request.element("authCode", code);
    }
    reference.push(&mut request);
    request.close("reverse").finish()
}

/// `return` (refund) of `amount` (vectors R3.12, R3.13).
pub(crate) fn refund_body(
    terminal: Terminal<'_>,
    amount: &str,
    currency: &str,
    reference: Reference<'_>,
) -> Vec<u8> {
    let mut request = PosnetRequest::new(terminal, true);
    request
        .open("return")
        .element("amount", amount)
        .element("currencyCode", currency);
    reference.push(&mut request);
    request.close("return").finish()
}

/// `agreement`: the status inquiry of one order reference (vectors R3.10, R3.11).
pub(crate) fn status_body(terminal: Terminal<'_>, order_reference: &str) -> Vec<u8> {
    PosnetRequest::new(terminal, false)
        .open("agreement")
        .element("orderID", order_reference)
        .close("agreement")
        .finish()
}

/// The fields of a 3D enrolment (`oosRequestData`), formatted for the wire.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EnrolmentFields<'a> {
    pub posnet_id: &'a str,
    pub card: CardFields<'a>,
    pub amount: &'a str,
    pub currency: &'a str,
    pub installment: &'a str,
    /// The padded order id.
    pub xid: &'a str,
    pub card_holder_name: &'a str,
    /// `Sale` or `Auth`.
    pub tran_type: &'a str,
}

/// `oosRequestData`: asks the bank for the encrypted 3D form data (vector R3.7).
pub(crate) fn enrolment_body(terminal: Terminal<'_>, fields: &EnrolmentFields<'_>) -> Vec<u8> {
    PosnetRequest::new(terminal, false)
        .open("oosRequestData")
        .element("posnetid", fields.posnet_id)
        .element("ccno", fields.card.number)
        .element("expDate", fields.card.exp_date)
        .element("cvc", fields.card.cvc)
        .element("amount", fields.amount)
        .element("currencyCode", fields.currency)
        .element("installment", fields.installment)
        .element("XID", fields.xid)
        .element("cardHolderName", fields.card_holder_name)
        .element("tranType", fields.tran_type)
        .close("oosRequestData")
        .finish()
}

/// The bank's 3D packets as the callback posted them, with the request MAC.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PacketFields<'a> {
    pub bank_data: &'a str,
    pub merchant_data: &'a str,
    pub sign: &'a str,
    pub mac: &'a str,
}

/// `oosResolveMerchantData`: the bank decrypts the packets and reports the authentication
/// (vector R3.8).
pub(crate) fn resolve_body(terminal: Terminal<'_>, fields: &PacketFields<'_>) -> Vec<u8> {
    PosnetRequest::new(terminal, false)
        .open("oosResolveMerchantData")
        .element("bankData", fields.bank_data)
        .element("merchantData", fields.merchant_data)
        .element("sign", fields.sign)
        .element("mac", fields.mac)
        .close("oosResolveMerchantData")
        .finish()
}

/// `oosTranData`: the provision of an authenticated 3D payment, without loyalty points
/// (`wpAmount=0`; vector R3.6).
pub(crate) fn tran_body(terminal: Terminal<'_>, fields: &PacketFields<'_>) -> Vec<u8> {
    PosnetRequest::new(terminal, false)
        .open("oosTranData")
        .element("bankData", fields.bank_data)
        .element("merchantData", fields.merchant_data)
        .element("sign", fields.sign)
        .element("wpAmount", "0")
        .element("mac", fields.mac)
        .close("oosTranData")
        .finish()
}

// ---------------------------------------------------------------------------------------
// Replies

/// `oosRequestDataResponse`: the encrypted form data of a 3D enrolment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OosRequestData {
    pub data1: String,
    pub data2: String,
    pub sign: String,
}

/// `oosResolveMerchantDataResponse`: the authentication as the bank decrypted it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ResolveData {
    pub xid: String,
    pub amount: String,
    pub currency: String,
    pub installment: String,
    pub tx_status: String,
    pub md_status: String,
    pub md_error_message: String,
    pub mac: String,
}

/// One `transactions/transaction` of an `agreement` reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StatusTransaction {
    pub order_id: String,
    /// Masked by the bank (`4506 34** **** 4637`).
    pub ccno: String,
    /// Major units with a decimal comma (`1,16`).
    pub amount: String,
    pub currency_code: String,
    pub auth_code: String,
    pub tran_date: String,
    /// `Sale`, `Auth`, `Capt` or `Return`.
    pub state: String,
    /// `1`: the transaction stands; `R`: it was reversed (voided).
    pub txn_status: String,
    pub host_log_key: String,
}

/// A parsed `posnetResponse`. Absent elements read as `""`, except `approved`, without
/// which a document is not an answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PosnetResponse {
    /// `1` approved, `0` declined (`2`: declined, the order id was used before; P3.3).
    pub approved: Option<String>,
    pub resp_code: String,
    pub resp_text: String,
    pub host_log_key: String,
    pub auth_code: String,
    pub tran_date: String,
    pub oos_request: Option<OosRequestData>,
    pub resolve: Option<ResolveData>,
    /// `Some` when the reply has a `transactions` element (`agreement`).
    pub transactions: Option<Vec<StatusTransaction>>,
}

impl PosnetResponse {
    pub(crate) fn approved(&self) -> &str {
        self.approved.as_deref().unwrap_or_default().trim()
    }

    pub(crate) fn resp_code(&self) -> &str {
        self.resp_code.trim()
    }
}

/// Largest reply read into memory; a real one is well under a KiB.
pub(crate) const RESPONSE_BYTES_MAX: usize = 1 << 20;

pub(crate) fn bad(detail: impl Into<String>) -> ConnectorError {
    ConnectorError::BadResponse(detail.into())
}

/// Keeps bank-supplied text in error messages short.
pub(crate) fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

/// Parses a reply body. Anything that is not a complete `posnetResponse` document with an
/// `approved` element is [`ConnectorError::BadResponse`].
pub(crate) fn parse_response(body: &[u8]) -> Result<PosnetResponse, ConnectorError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("empty body"));
    }
    if body.len() > RESPONSE_BYTES_MAX {
        return Err(bad("body too large"));
    }
    let text = decode_body(body);
    let mut reader = quick_xml::Reader::from_str(&text);

    let mut response = PosnetResponse::default();
    // Lower-cased element names from the root down to the current element.
    let mut path: Vec<String> = Vec::new();
    let mut text_buf = String::new();
    let mut root_closed = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| bad(format!("malformed xml: {e}")))?;
        match event {
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).to_ascii_lowercase();
                if path.is_empty() && name != "posnetresponse" {
                    return Err(bad(format!("unexpected root element <{}>", clip(&name))));
                }
                path.push(name);
                opened(&mut response, &path);
                text_buf.clear();
            }
            Event::Empty(start) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).to_ascii_lowercase();
                if path.is_empty() {
                    if name != "posnetresponse" {
                        return Err(bad(format!("unexpected root element <{}>", clip(&name))));
                    }
                    root_closed = true;
                    break;
                }
                path.push(name);
                opened(&mut response, &path);
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
        return Err(bad("truncated or missing posnetResponse"));
    }
    if response.approved.is_none() {
        return Err(bad("posnetResponse has no approved element"));
    }
    Ok(response)
}

/// Creates the containers an element opens (`oosRequestDataResponse`, a `transaction`…).
fn opened(response: &mut PosnetResponse, path: &[String]) {
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    match path.as_slice() {
        [_, "oosrequestdataresponse"] => {
            response
                .oos_request
                .get_or_insert_with(OosRequestData::default);
        }
        [_, "oosresolvemerchantdataresponse"] => {
            response.resolve.get_or_insert_with(ResolveData::default);
        }
        [_, "transactions"] => {
            response.transactions.get_or_insert_with(Vec::new);
        }
        [_, "transactions", "transaction"] => response
            .transactions
            .get_or_insert_with(Vec::new)
            .push(StatusTransaction::default()),
        _ => {}
    }
}

/// Records one element's text if it is a field we read. Other elements are ignored.
fn store(response: &mut PosnetResponse, path: &[String], text: String) {
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let slot: &mut String = match path.as_slice() {
        [_, "approved"] => {
            response.approved = Some(text);
            return;
        }
        [_, "respcode"] => &mut response.resp_code,
        [_, "resptext"] => &mut response.resp_text,
        [_, "hostlogkey"] => &mut response.host_log_key,
        [_, "authcode"] => &mut response.auth_code,
        [_, "trandate"] => &mut response.tran_date,
        [_, "oosrequestdataresponse", field] => {
            let data = response
                .oos_request
                .get_or_insert_with(OosRequestData::default);
            match *field {
                "data1" => &mut data.data1,
                "data2" => &mut data.data2,
                "sign" => &mut data.sign,
                _ => return,
            }
        }
        [_, "oosresolvemerchantdataresponse", field] => {
            let data = response.resolve.get_or_insert_with(ResolveData::default);
            match *field {
                "xid" => &mut data.xid,
                "amount" => &mut data.amount,
                "currency" => &mut data.currency,
                "installment" => &mut data.installment,
                "txstatus" => &mut data.tx_status,
                "mdstatus" => &mut data.md_status,
                "mderrormessage" => &mut data.md_error_message,
                "mac" => &mut data.mac,
                _ => return,
            }
        }
        [_, "transactions", "transaction", field] => {
            let Some(transaction) = response
                .transactions
                .as_mut()
                .and_then(|list| list.last_mut())
            else {
                return;
            };
            match *field {
                "orderid" => &mut transaction.order_id,
                "ccno" => &mut transaction.ccno,
                "amount" => &mut transaction.amount,
                "currencycode" => &mut transaction.currency_code,
                "authcode" => &mut transaction.auth_code,
                "trandate" => &mut transaction.tran_date,
                "state" => &mut transaction.state,
                "txnstatus" => &mut transaction.txn_status,
                "hostlogkey" => &mut transaction.host_log_key,
                _ => return,
            }
        }
        _ => return,
    };
    *slot = text;
}

/// The reply as text. A BOM is skipped; UTF-8 is taken as such; anything else is decoded
/// by its declared encoding (ISO-8859-9 in practice), falling back to windows-1254 so that
/// a stray byte can only garble free text such as `respText`.
fn decode_body(body: &[u8]) -> String {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if let Ok(text) = std::str::from_utf8(body) {
        return text.to_owned();
    }
    let encoding = declared_encoding(body)
        .and_then(encoding_rs::Encoding::for_label)
        // A UTF-16 label on a document whose prolog we just read as ASCII is a lie.
        .filter(|encoding| encoding.is_ascii_compatible())
        .unwrap_or(REQUEST_ENCODING);
    let (text, _) = encoding.decode_without_bom_handling(body);
    text.into_owned()
}

/// The `encoding="…"` (or `'…'`) label of an `<?xml …?>` prolog at the start of the body.
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

pub(crate) fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The reply to `sale`, `auth`, `capt`, `reverse`, `return` or `oosTranData`, as a fact.
///
/// Approved only when `approved` is `1` and there is no `respCode` (the library's rule,
/// P3.1); `1` with a `respCode` contradicts itself and is [`ConnectorError::BadResponse`].
/// `0` is a decline, and so is `2`, which the bank sends when the order id was used before
/// (P3.3: the `hostlogkey`/`authCode` it carries are the earlier order's, never ours).
pub(crate) fn outcome(response: &PosnetResponse) -> Result<Outcome, ConnectorError> {
    match (response.approved(), response.resp_code().is_empty()) {
        ("1", true) => Ok(Outcome::Approved(Approval {
            auth_code: non_empty(&response.auth_code),
            host_reference: non_empty(&response.host_log_key),
            transaction_id: None,
        })),
        ("1", false) => Err(bad(format!(
            "approved 1 with respCode {:?}",
            clip(response.resp_code())
        ))),
        ("0" | "2", _) => Ok(Outcome::Declined(decline(response))),
        (other, _) => Err(bad(format!("unknown approved value {:?}", clip(other)))),
    }
}

/// The decline a non-approved reply stands for: `respCode` and `respText`.
pub(crate) fn decline(response: &PosnetResponse) -> Decline {
    let code = response.resp_code();
    Decline {
        group: error_group(code),
        code: code.to_owned(),
        message: response.resp_text.trim().to_owned(),
    }
}

/// `respCode` to Craftgate's error group. YKB relays the issuer's ISO 8583 answer as four
/// digits (`0051`) and adds codes of its own:
///
/// | code | group | meaning |
/// |---|---|---|
/// | 0051 | NotSufficientFunds | insufficient funds |
/// | 0005 | DoNotHonour | do not honour (reject) |
/// | 0012 | InvalidTransaction | invalid transaction |
/// | 0123 | InvalidTransaction | transaction / order not found (YKB) |
/// | 0057 | NotPermittedToCardholder | not permitted to cardholder |
/// | 0043 | StolenCard | stolen card |
/// | 0041 | LostCard | lost card |
/// | 0004 | PickupCard | pick up card |
/// | 0054, 0033 | ExpiredCard | expired card |
/// | 0082 | InvalidCvc2 | CVV/CVC2 check failed |
/// | 0058 | NotPermittedToTerminal | not permitted to terminal |
/// | 0059, 0034 | FraudSuspect | suspected fraud |
/// | 0093 | RestrictedByLaw | violation of law |
/// | 0062 | CardNotPermitted | restricted card |
/// | 0014, 0015 | InvalidCard | invalid card number / no such issuer |
/// | 0013 | InvalidAmount | invalid amount |
/// | 0061, 0065 | ExceedsWithdrawalLimit | amount / frequency limit exceeded |
/// | 0091, 0096 | BankNotAvailable | issuer or switch inoperative |
/// | 0003, 0148 | InvalidMerchantOrPos | invalid merchant; "INVALID MID TID IP" (YKB) |
/// | E216 | InvalidMerchantOrPos | "Mac Doğrulama hatalı": the MAC (ENCKEY) does not verify (YKB) |
/// | 0127 | DuplicateOrder | "ORDERID DAHA ONCE KULLANILMIS" (YKB) |
/// | 0099 | Unknown | general error (Craftgate's `UNKNOWN`, as NestPay's 99) |
/// | 0001, 0007, 0030, 0053, 0444, other four digits | Declined | call the bank, reject, format or rule errors |
/// | empty | Declined | the bank said no without a code |
/// | anything else | Unknown | not a code we can read |
pub(crate) fn error_group(code: &str) -> ErrorGroup {
    match code {
        "0051" => ErrorGroup::NotSufficientFunds,
        "0005" => ErrorGroup::DoNotHonour,
        "0012" | "0123" => ErrorGroup::InvalidTransaction,
        "0057" => ErrorGroup::NotPermittedToCardholder,
        "0043" => ErrorGroup::StolenCard,
        "0041" => ErrorGroup::LostCard,
        "0004" => ErrorGroup::PickupCard,
        "0054" | "0033" => ErrorGroup::ExpiredCard,
        "0082" => ErrorGroup::InvalidCvc2,
        "0058" => ErrorGroup::NotPermittedToTerminal,
        "0059" | "0034" => ErrorGroup::FraudSuspect,
        "0093" => ErrorGroup::RestrictedByLaw,
        "0062" => ErrorGroup::CardNotPermitted,
        "0014" | "0015" => ErrorGroup::InvalidCard,
        "0013" => ErrorGroup::InvalidAmount,
        "0061" | "0065" => ErrorGroup::ExceedsWithdrawalLimit,
        "0091" | "0096" => ErrorGroup::BankNotAvailable,
        "0003" | "0148" | "E216" => ErrorGroup::InvalidMerchantOrPos,
        "0127" => ErrorGroup::DuplicateOrder,
        "0099" => ErrorGroup::Unknown,
        // The bank said no without saying why.
        "" => ErrorGroup::Declined,
        code if code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit()) => ErrorGroup::Declined,
        _ => ErrorGroup::Unknown,
    }
}

/// The `respCode` of "no such transaction / order" (`vpos-protocols.md` §3.4).
pub(crate) const NOT_FOUND: &str = "0123";

/// What an `agreement` reply says about an order reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The bank's transactions on the order, oldest first.
    Found(Vec<StatusTransaction>),
    /// The bank has no such order (`0123`); the bank's words.
    NotFound(Decline),
}

/// Reads an `agreement` reply. A failed inquiry (bad credentials, system error) says
/// nothing about the order: [`ConnectorError::BadResponse`], never "not found".
pub(crate) fn lookup(response: &PosnetResponse) -> Result<Lookup, ConnectorError> {
    match response.approved() {
        "1" if response.resp_code().is_empty() => match &response.transactions {
            Some(list) if !list.is_empty() => Ok(Lookup::Found(list.clone())),
            _ => Err(bad("approved status reply without transactions")),
        },
        "0" if response.resp_code() == NOT_FOUND => Ok(Lookup::NotFound(decline(response))),
        _ => Err(bad(format!(
            "status inquiry failed with code {:?}: {}",
            clip(response.resp_code()),
            clip(&response.resp_text)
        ))),
    }
}

/// A transaction's `txnStatus`: standing (`1`) or reversed (`R`); anything else is not a
/// fact we can read.
fn standing(transaction: &StatusTransaction) -> Result<bool, ConnectorError> {
    match transaction.txn_status.trim() {
        "1" => Ok(true),
        "R" | "r" => Ok(false),
        other => Err(bad(format!("unknown txnStatus {:?}", clip(other)))),
    }
}

fn state_is(transaction: &StatusTransaction, state: &str) -> bool {
    transaction.state.trim().eq_ignore_ascii_case(state)
}

/// The sale or pre-authorisation of an order (its latest, should there be several).
pub(crate) fn provision(transactions: &[StatusTransaction]) -> Option<&StatusTransaction> {
    transactions
        .iter()
        .rev()
        .find(|t| state_is(t, "Sale") || state_is(t, "Auth"))
}

/// The standing capture (`Capt`) of a pre-authorised order, if any.
pub(crate) fn standing_capture(
    transactions: &[StatusTransaction],
) -> Result<Option<&StatusTransaction>, ConnectorError> {
    for transaction in transactions.iter().rev() {
        if state_is(transaction, "Capt") && standing(transaction)? {
            return Ok(Some(transaction));
        }
    }
    Ok(None)
}

/// The state of an order from its transactions (`agreement` reply).
///
/// The provision (`Sale`/`Auth`) reversed: Voided. Otherwise a standing `Return`: Refunded
/// (partly or wholly). Otherwise a `Sale`, or an `Auth` with a standing `Capt`: Captured;
/// an `Auth` alone: PreAuthorized. A state or `txnStatus` outside this vocabulary is
/// [`ConnectorError::BadResponse`]: the engine asks again rather than settle on a guess.
pub(crate) fn payment_sync(
    transactions: &[StatusTransaction],
) -> Result<PaymentSync, ConnectorError> {
    for transaction in transactions {
        let known = ["Sale", "Auth", "Capt", "Return"]
            .iter()
            .any(|state| state_is(transaction, state));
        if !known {
            return Err(bad(format!(
                "unknown transaction state {:?}",
                clip(&transaction.state)
            )));
        }
        standing(transaction)?;
    }
    let provision = provision(transactions).ok_or_else(|| bad("order without sale or auth"))?;
    let approval = Approval {
        auth_code: non_empty(&provision.auth_code),
        host_reference: non_empty(&provision.host_log_key),
        transaction_id: None,
    };
    let state = if !standing(provision)? {
        BankOrderState::Voided
    } else if transactions
        .iter()
        .any(|t| state_is(t, "Return") && t.txn_status.trim() == "1")
    {
        BankOrderState::Refunded
    } else if state_is(provision, "Sale") || standing_capture(transactions)?.is_some() {
        BankOrderState::Captured
    } else {
        BankOrderState::PreAuthorized
    };
    Ok(PaymentSync::Approved { approval, state })
}

/// The refunds (`Return`) of an order: standing ones are approved credits, reversed ones
/// are listed with `approved: false`.
pub(crate) fn bank_credits(
    transactions: &[StatusTransaction],
) -> Result<Vec<BankCredit>, ConnectorError> {
    transactions
        .iter()
        .filter(|t| state_is(t, "Return"))
        .map(|t| {
            let currency = currency_from_code(&t.currency_code)
                .ok_or_else(|| bad(format!("unknown currency {:?}", clip(&t.currency_code))))?;
            Ok(BankCredit {
                amount: status_amount(&t.amount, currency)?,
                approved: standing(t)?,
                transaction_id: non_empty(&t.host_log_key),
            })
        })
        .collect()
}

/// A status amount: major units with a decimal comma and optional `.` thousands separators
/// (`1,16`, `1.000,50`; P3.8), exact to the currency's minor unit.
pub(crate) fn status_amount(text: &str, currency: Currency) -> Result<MinorUnits, ConnectorError> {
    let text = text.trim();
    let well_formed = !text.is_empty()
        && text.len() <= 32
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b'.')
        && text.bytes().filter(|b| *b == b',').count() <= 1
        && text.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && text.bytes().last().is_some_and(|b| b.is_ascii_digit());
    let parsed = well_formed
        .then(|| text.replace('.', "").replace(',', "."))
        .and_then(|plain| plain.parse::<Decimal>().ok())
        .and_then(|value| MinorUnits::from_decimal(value, currency).ok());
    parsed.ok_or_else(|| bad(format!("status amount {:?}", clip(text))))
}

/// A minor-unit amount as YKB writes it in 3D data (`5696`): digits only, more than zero.
pub(crate) fn minor_amount(text: &str) -> Option<MinorUnits> {
    let text = text.trim();
    if text.is_empty() || text.len() > 15 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i64 = text.parse().ok()?;
    (value > 0).then(|| MinorUnits::from_stored(value))
}
