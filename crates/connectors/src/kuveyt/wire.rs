//! Kuveyt Türk's wire formats: the `KuveytTurkVPosMessage` XML of the payment gates, the
//! SOAP 1.1 envelopes of the `VirtualPosService` (cancel, refunds, status), their replies,
//! the enrolment's HTML form, and the translation of a parsed reply into facts:
//! [`Outcome`], [`PaymentSync`], [`BankCredit`].
//!
//! Field order follows the reference library (mewebstudio/pos, vectors R7.1–R7.7), which
//! the byte-exact tests in `tests.rs` pin. Gate messages are written as the library's
//! serializer writes them: `<?xml version="1.0" encoding="ISO-8859-1"?>\n<KuveytTurkVPosMessage>…`
//! on one line with a trailing newline, Latin-1 bytes, characters outside Latin-1 as
//! character references, text holding `<`, `>` or `&` wrapped in CDATA. SOAP envelopes
//! carry no declaration and prefix every element `ser:` (vectors S7.1–S7.3).
//!
//! Every reply that is not clearly an approval or clearly a decline becomes
//! [`ConnectorError::BadResponse`], so the engine treats the outcome as unknown and asks
//! the bank again instead of guessing.

use domain::enums::ErrorGroup;
use domain::money::{Currency, MinorUnits};
use quick_xml::events::Event;
use rust_decimal::Decimal;

use super::hash::{self, RequestHashInput};
use crate::{Approval, BankCredit, BankOrderState, ConnectorError, Decline, Outcome, PaymentSync};

/// `APIVersion` of every message.
pub(crate) const API_VERSION: &str = "TDV2.0.0";

/// The SOAP service's namespace; `SOAPAction` is `{SERVICE_NS}/IVirtualPosService/{Op}`.
pub(crate) const SERVICE_NS: &str = "http://boa.net/BOA.Integration.VirtualPos/Service";
const SOAP_ENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// The operations of the SOAP service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SoapOp {
    /// Cancel (void) of a sale on its day.
    SaleReversal,
    /// Refund of the whole order.
    DrawBack,
    /// Refund of part of the order.
    PartialDrawback,
    /// Status inquiry.
    GetMerchantOrderDetail,
}

impl SoapOp {
    pub fn as_str(self) -> &'static str {
        match self {
            SoapOp::SaleReversal => "SaleReversal",
            SoapOp::DrawBack => "DrawBack",
            SoapOp::PartialDrawback => "PartialDrawback",
            SoapOp::GetMerchantOrderDetail => "GetMerchantOrderDetail",
        }
    }

    pub fn soap_action(self) -> String {
        format!("{SERVICE_NS}/IVirtualPosService/{}", self.as_str())
    }
}

/// API sign-in, sent in every message.
#[derive(Clone, Copy)]
pub(crate) struct Credentials<'a> {
    /// `MerchantId`, the merchant number (`80` at the test bank).
    pub merchant_id: &'a str,
    /// `CustomerId`, the merchant's customer number (`400235`).
    pub customer_id: &'a str,
    /// `UserName`, the API user.
    pub user_name: &'a str,
    /// The API password: sent only inside `HashData`.
    pub password: &'a str,
}

// Credentials print nothing of the password, so a stray `{:?}` cannot leak it.
impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("merchant_id", &self.merchant_id)
            .field("customer_id", &self.customer_id)
            .field("user_name", &self.user_name)
            .finish_non_exhaustive()
    }
}

impl Credentials<'_> {
    /// `HashData` over `MerchantId ‖ MerchantOrderId ‖ Amount ‖ OkUrl ‖ FailUrl ‖ UserName`.
    fn hash(&self, order_id: &str, amount: &str, ok_url: &str, fail_url: &str) -> String {
        hash::request_hash(
            &RequestHashInput {
                merchant_id: self.merchant_id,
                merchant_order_id: order_id,
                amount,
                ok_url,
                fail_url,
                user_name: self.user_name,
            },
            self.password,
        )
    }
}

// ---------------------------------------------------------------------------------------
// Field formats (table 7.6)

/// `CurrencyCode` in requests: `0949` TRY, `0840` USD, `0978` EUR (the library maps only
/// these three; replies write `949`). `None` for any other currency.
pub(crate) fn currency_code(currency: Currency) -> Option<&'static str> {
    match currency {
        Currency::Try => Some("0949"),
        Currency::Usd => Some("0840"),
        Currency::Eur => Some("0978"),
        _ => None,
    }
}

/// A reply's currency code, with or without the leading zero (`0949`, `949`).
pub(crate) fn parse_currency(code: &str) -> Option<Currency> {
    let code = code.trim();
    let code = code
        .strip_prefix('0')
        .filter(|c| c.len() == 3)
        .unwrap_or(code);
    [Currency::Try, Currency::Usd, Currency::Eur]
        .into_iter()
        .find(|c| c.numeric_code() == code)
}

/// `Amount`: integer minor units (`10.01` TRY → `1001`).
pub(crate) fn amount_text(amount: MinorUnits) -> String {
    amount.get().to_string()
}

/// A reply's minor-unit amount (`Amount`, `100`); `None` when not a plain number.
pub(crate) fn parse_minor(text: &str) -> Option<MinorUnits> {
    let text = text.trim();
    if text.is_empty() || text.len() > 15 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().map(MinorUnits::from_stored)
}

/// A status record's major-unit amount (`FirstAmount`, `10.01`) in `currency`'s minor
/// units; `None` when malformed or more precise than the currency.
pub(crate) fn parse_major(text: &str, currency: Currency) -> Option<MinorUnits> {
    let text = text.trim();
    if text.is_empty()
        || text.len() > 24
        || !text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || text.starts_with('.')
        || text.ends_with('.')
    {
        return None;
    }
    let amount: Decimal = text.parse().ok()?;
    MinorUnits::from_decimal_allow_zero(amount, currency).ok()
}

/// `InstallmentCount`: `0` for a single payment (0 or 1), otherwise the count.
pub(crate) fn installment_text(installment: u32) -> String {
    if installment <= 1 {
        "0".to_owned()
    } else {
        installment.to_string()
    }
}

/// `CardType` of the 3D enrolment, from the card's BIN: `Visa`, `MasterCard` or `Troy`;
/// `None` for schemes the bank does not take.
pub(crate) fn card_type(digits: &str) -> Option<&'static str> {
    let prefix = |len: usize| -> u32 {
        digits
            .get(..len)
            .and_then(|p| p.parse().ok())
            .unwrap_or_default()
    };
    match () {
        _ if prefix(4) == 9792 || (650_052..=650_055).contains(&prefix(6)) => Some("Troy"),
        _ if digits.starts_with('4') => Some("Visa"),
        _ if (51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4)) => {
            Some("MasterCard")
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Writing

/// One XML document under construction.
struct Xml {
    xml: String,
    prefix: &'static str,
}

impl Xml {
    fn gate() -> Xml {
        let mut xml = String::with_capacity(1024);
        xml.push_str("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<KuveytTurkVPosMessage>");
        Xml { xml, prefix: "" }
    }

    fn soap(op: SoapOp) -> Xml {
        let mut xml = String::with_capacity(2048);
        xml.push_str("<soapenv:Envelope xmlns:soapenv=\"");
        xml.push_str(SOAP_ENV_NS);
        xml.push_str("\" xmlns:ser=\"");
        xml.push_str(SERVICE_NS);
        xml.push_str("\"><soapenv:Body>");
        let mut soap = Xml {
            xml,
            prefix: "ser:",
        };
        soap.open(op.as_str()).open("request");
        soap
    }

    fn open(&mut self, name: &str) -> &mut Xml {
        self.xml.push('<');
        self.xml.push_str(self.prefix);
        self.xml.push_str(name);
        self.xml.push('>');
        self
    }

    fn close(&mut self, name: &str) -> &mut Xml {
        self.xml.push_str("</");
        self.xml.push_str(self.prefix);
        self.xml.push_str(name);
        self.xml.push('>');
        self
    }

    /// `<name>text</name>`; text holding markup characters goes in CDATA, as the
    /// library's encoder writes it.
    fn element(&mut self, name: &str, text: &str) -> &mut Xml {
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

    /// The gate message's bytes: Latin-1, other characters as references (`&#351;`).
    fn finish_gate(&mut self) -> Vec<u8> {
        self.xml.push_str("</KuveytTurkVPosMessage>\n");
        let mut bytes = Vec::with_capacity(self.xml.len());
        for ch in self.xml.chars() {
            match u8::try_from(u32::from(ch)) {
                Ok(byte) => bytes.push(byte),
                Err(_) => bytes.extend_from_slice(format!("&#{};", u32::from(ch)).as_bytes()),
            }
        }
        bytes
    }

    fn finish_soap(&mut self, op: SoapOp) -> Vec<u8> {
        self.close("request").close(op.as_str());
        self.xml.push_str("</soapenv:Body></soapenv:Envelope>");
        std::mem::take(&mut self.xml).into_bytes()
    }
}

/// The card of a gate message, in clear: the one place it meets the wire.
#[derive(Clone, Copy)]
pub(crate) struct CardFields<'a> {
    pub holder_name: &'a str,
    pub number: &'a str,
    /// `YY`.
    pub expiry_year: &'a str,
    /// `MM`.
    pub expiry_month: &'a str,
    pub cvv: &'a str,
}

/// The order of a payment message.
#[derive(Clone, Copy)]
pub(crate) struct OrderFields<'a> {
    pub order_id: &'a str,
    pub amount: MinorUnits,
    /// A [`currency_code`].
    pub currency_code: &'a str,
    pub installment: u32,
}

/// The 3D enrolment, posted to `ThreeDModelPayGate` (vector R7.1).
pub(crate) fn enrolment_body(
    credentials: Credentials<'_>,
    order: &OrderFields<'_>,
    ok_url: &str,
    fail_url: &str,
    client_ip: &str,
    card_type: &str,
    card: &CardFields<'_>,
) -> Vec<u8> {
    let amount = amount_text(order.amount);
    let hash_data = credentials.hash(order.order_id, &amount, ok_url, fail_url);
    let mut xml = Xml::gate();
    xml.element("MerchantId", credentials.merchant_id)
        .element("CustomerId", credentials.customer_id)
        .element("UserName", credentials.user_name)
        .element("APIVersion", API_VERSION)
        .element("TransactionType", "Sale")
        .element("TransactionSecurity", "3")
        .element("InstallmentCount", &installment_text(order.installment))
        .element("Amount", &amount)
        .element("DisplayAmount", &amount)
        .element("CurrencyCode", order.currency_code)
        .element("MerchantOrderId", order.order_id)
        .element("OkUrl", ok_url)
        .element("FailUrl", fail_url)
        .open("DeviceData")
        .element("ClientIP", client_ip)
        .close("DeviceData")
        .element("CardHolderName", card.holder_name)
        .element("CardType", card_type)
        .element("CardNumber", card.number)
        .element("CardExpireDateYear", card.expiry_year)
        .element("CardExpireDateMonth", card.expiry_month)
        .element("CardCVV2", card.cvv)
        .element("HashData", &hash_data);
    xml.finish_gate()
}

/// The provision after a 3D authentication, posted to `ThreeDModelProvisionGate` (vector
/// R7.6): the order again with the callback's `MD`.
pub(crate) fn provision_body(
    credentials: Credentials<'_>,
    order: &OrderFields<'_>,
    md: &str,
    client_ip: &str,
) -> Vec<u8> {
    let amount = amount_text(order.amount);
    let hash_data = credentials.hash(order.order_id, &amount, "", "");
    let mut xml = Xml::gate();
    xml.element("MerchantId", credentials.merchant_id)
        .element("CustomerId", credentials.customer_id)
        .element("UserName", credentials.user_name)
        .element("APIVersion", API_VERSION)
        .element("HashData", &hash_data)
        .element("CustomerIPAddress", client_ip)
        .open("KuveytTurkVPosAdditionalData")
        .open("AdditionalData")
        .element("Key", "MD")
        .element("Data", md)
        .close("AdditionalData")
        .close("KuveytTurkVPosAdditionalData")
        .element("TransactionType", "Sale")
        .element("InstallmentCount", &installment_text(order.installment))
        .element("Amount", &amount)
        .element("DisplayAmount", &amount)
        .element("CurrencyCode", order.currency_code)
        .element("MerchantOrderId", order.order_id)
        .element("TransactionSecurity", "3");
    xml.finish_gate()
}

/// A sale without 3D Secure, posted to `Non3DPayGate` (vector R7.7).
pub(crate) fn non_secure_body(
    credentials: Credentials<'_>,
    order: &OrderFields<'_>,
    card: &CardFields<'_>,
) -> Vec<u8> {
    let amount = amount_text(order.amount);
    let hash_data = credentials.hash(order.order_id, &amount, "", "");
    let mut xml = Xml::gate();
    xml.element("MerchantId", credentials.merchant_id)
        .element("CustomerId", credentials.customer_id)
        .element("UserName", credentials.user_name)
        .element("APIVersion", API_VERSION)
        .element("HashData", &hash_data)
        .element("TransactionType", "Sale")
        .element("TransactionSecurity", "1")
        .element("MerchantOrderId", order.order_id)
        .element("Amount", &amount)
        .element("DisplayAmount", &amount)
        .element("CurrencyCode", order.currency_code)
        .element("InstallmentCount", &installment_text(order.installment))
        .element("CardHolderName", card.holder_name)
        .element("CardNumber", card.number)
        .element("CardExpireDateYear", card.expiry_year)
        .element("CardExpireDateMonth", card.expiry_month)
        .element("CardCVV2", card.cvv);
    xml.finish_gate()
}

/// The bank's references of an approved order, which cancel and refunds must name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct OrderRefs {
    /// The bank's numeric `OrderId`.
    pub order_id: String,
    pub rrn: String,
    pub stan: String,
    pub provision_number: String,
}

/// `SaleReversal`, `DrawBack` or `PartialDrawback` (vectors R7.2–R7.4). `amount` is what
/// is cancelled or refunded; a cancel also shows it as `DisplayAmount`, refunds send `0`.
pub(crate) fn reversal_body(
    credentials: Credentials<'_>,
    op: SoapOp,
    merchant_order_id: &str,
    refs: &OrderRefs,
    amount: MinorUnits,
    currency_code: &str,
) -> Vec<u8> {
    let amount = amount_text(amount);
    let hash_data = credentials.hash(merchant_order_id, &amount, "", "");
    let display_amount = if op == SoapOp::SaleReversal {
        amount.as_str()
    } else {
        "0"
    };
    let mut xml = Xml::soap(op);
    soap_request_head(&mut xml, credentials);
    xml.element("Amount", &amount)
        .element("MerchantId", credentials.merchant_id)
        .element("OrderId", &refs.order_id)
        .element("RRN", &refs.rrn)
        .element("Stan", &refs.stan)
        .element("ProvisionNumber", &refs.provision_number);
    vpos_message_head(&mut xml, credentials, &hash_data, op);
    xml.element("Amount", &amount)
        .element("DisplayAmount", display_amount)
        .element("CancelAmount", &amount)
        .element("MerchantOrderId", merchant_order_id)
        .element("FECAmount", "0")
        .element("CurrencyCode", currency_code);
    vpos_message_tail(&mut xml);
    xml.finish_soap(op)
}

/// `GetMerchantOrderDetail` of one order (vector R7.5); `start`/`end` bound the order date
/// (`YYYY-MM-DDTHH:MM:SS`).
pub(crate) fn status_body(
    credentials: Credentials<'_>,
    merchant_order_id: &str,
    start: &str,
    end: &str,
) -> Vec<u8> {
    let op = SoapOp::GetMerchantOrderDetail;
    let hash_data = credentials.hash(merchant_order_id, "0", "", "");
    let mut xml = Xml::soap(op);
    soap_request_head(&mut xml, credentials);
    xml.element("Amount", "0")
        .element("MerchantId", credentials.merchant_id)
        .element("MerchantOrderId", merchant_order_id)
        .element("OrderId", "0")
        .element("StartDate", start)
        .element("EndDate", end)
        .element("TransactionType", "0");
    vpos_message_head(&mut xml, credentials, &hash_data, op);
    xml.element("Amount", "0")
        .element("DisplayAmount", "0")
        .element("CancelAmount", "0")
        .element("MerchantOrderId", merchant_order_id)
        // The library writes the status message's currency before `FECAmount`.
        .element("CurrencyCode", "0949")
        .element("FECAmount", "0");
    vpos_message_tail(&mut xml);
    xml.finish_soap(op)
}

fn soap_request_head(xml: &mut Xml, credentials: Credentials<'_>) {
    xml.element("IsFromExternalNetwork", "1")
        .element("BusinessKey", "0")
        .element("ResourceId", "0")
        .element("ActionId", "0")
        .element("LanguageId", "0")
        .element("CustomerId", credentials.customer_id)
        .element("MailOrTelephoneOrder", "1");
}

fn vpos_message_head(xml: &mut Xml, credentials: Credentials<'_>, hash_data: &str, op: SoapOp) {
    xml.open("VPosMessage")
        .element("MerchantId", credentials.merchant_id)
        .element("CustomerId", credentials.customer_id)
        .element("UserName", credentials.user_name)
        .element("APIVersion", API_VERSION)
        .element("InstallmentMaturityCommisionFlag", "0")
        .element("HashData", hash_data)
        .element("SubMerchantId", "0")
        .element("CardType", "Visa")
        .element("BatchID", "0")
        .element("TransactionType", op.as_str())
        .element("InstallmentCount", "0");
}

fn vpos_message_tail(xml: &mut Xml) {
    xml.element("QeryId", "0")
        .element("DebtId", "0")
        .element("SurchargeAmount", "0")
        .element("SGKDebtAmount", "0")
        .element("TransactionSecurity", "1")
        .close("VPosMessage");
}

// ---------------------------------------------------------------------------------------
// Reading XML

/// Largest reply read into memory; a real one (even a status record) is a few KiB.
pub(crate) const RESPONSE_BYTES_MAX: usize = 512 << 10;

/// Nesting deeper than any real reply (a SOAP status record is 7 levels).
const DEPTH_MAX: usize = 32;

/// Elements in one reply, at most.
const NODES_MAX: usize = 4096;

/// One XML element: its local name (namespace prefix dropped), text and children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Node {
    pub name: String,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child called `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// A child's trimmed text; `""` when absent.
    pub fn get(&self, name: &str) -> &str {
        self.child(name).map(|c| c.text.trim()).unwrap_or_default()
    }

    /// The element at `path` below this one.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, name| node.child(name))
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

/// Decodes a reply to text: UTF-8 when the bytes are valid UTF-8 (what the bank sends),
/// otherwise the declared encoding, windows-1254 by default. Undecodable bytes become
/// U+FFFD: they can only be in free text such as `ResponseMessage`.
pub(crate) fn decode_body(body: &[u8]) -> String {
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

/// Parses one complete XML document into its root [`Node`]. A truncated document, text
/// after the root, an HTML page or anything quick-xml refuses is
/// [`ConnectorError::BadResponse`].
pub(crate) fn parse_xml(body: &[u8]) -> Result<Node, ConnectorError> {
    if body.len() > RESPONSE_BYTES_MAX {
        return Err(bad("body too large"));
    }
    parse_xml_text(&decode_body(body))
}

pub(crate) fn parse_xml_text(text: &str) -> Result<Node, ConnectorError> {
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Err(bad("empty body"));
    }
    let lower: String = text
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    if lower.starts_with("<!doctype") || lower.starts_with("<html") {
        return Err(bad("html instead of xml"));
    }
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut nodes = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| bad(format!("malformed xml: {e}")))?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(bad("content after the root element"));
            }
            Event::Start(start) => {
                nodes += 1;
                if stack.len() >= DEPTH_MAX || nodes > NODES_MAX {
                    return Err(bad("xml too deep or too large"));
                }
                stack.push(Node {
                    name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
                    ..Node::default()
                });
            }
            Event::Empty(start) => {
                nodes += 1;
                if nodes > NODES_MAX {
                    return Err(bad("xml too large"));
                }
                let node = Node {
                    name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(text) => {
                let text = text
                    .unescape()
                    .map_err(|e| bad(format!("malformed xml text: {e}")))?;
                match stack.last_mut() {
                    Some(node) => node.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(bad("text outside the root element")),
                }
            }
            Event::CData(cdata) => {
                let text = String::from_utf8_lossy(&cdata.into_inner()).into_owned();
                match stack.last_mut() {
                    Some(node) => node.text.push_str(&text),
                    None => return Err(bad("cdata outside the root element")),
                }
            }
            Event::End(_) => {
                let node = stack.pop().ok_or_else(|| bad("unbalanced xml"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(bad("truncated xml"));
    }
    root.ok_or_else(|| bad("no xml root element"))
}

// ---------------------------------------------------------------------------------------
// Payment replies (`VPosTransactionResponseContract`)

/// Reads a payment gate's reply (non-secure sale or 3D provision): a
/// `VPosTransactionResponseContract` document.
pub(crate) fn parse_contract(body: &[u8]) -> Result<Node, ConnectorError> {
    let root = parse_xml(body)?;
    if root.name != "VPosTransactionResponseContract" {
        return Err(bad(format!(
            "unexpected root element <{}>",
            clip(&root.name)
        )));
    }
    Ok(root)
}

/// A payment reply as a fact (vectors P7.1–P7.3, P7.5, P7.6, P7.8, P7.9).
///
/// Approved only when `ResponseCode` is `00` in a complete document that names our order
/// (`MerchantOrderId`, when echoed, must be ours) and, when it echoes the amount
/// (`VPosMessage.Amount`), our amount. Any other code is a decline with that code. A reply
/// without a `ResponseCode` (P7.2, which the library reads as declined) proves nothing and
/// is [`ConnectorError::BadResponse`].
pub(crate) fn outcome(
    contract: &Node,
    order_id: &str,
    amount: MinorUnits,
) -> Result<Outcome, ConnectorError> {
    let code = contract.get("ResponseCode");
    if code.is_empty() {
        return Err(bad("reply has no ResponseCode"));
    }
    let echoed_order = contract.get("MerchantOrderId");
    if !echoed_order.is_empty() && echoed_order != order_id {
        return Err(bad(format!(
            "reply names another order {:?}",
            clip(echoed_order)
        )));
    }
    if code != "00" {
        return Ok(Outcome::Declined(decline_from(
            code,
            contract.get("ResponseMessage"),
        )));
    }
    if let Some(echoed) = contract.child("VPosMessage").map(|m| m.get("Amount"))
        && !echoed.is_empty()
        && parse_minor(echoed) != Some(amount)
    {
        return Err(bad(format!(
            "approval for another amount {:?}",
            clip(echoed)
        )));
    }
    Ok(Outcome::Approved(Approval {
        auth_code: non_empty(contract.get("ProvisionNumber")),
        host_reference: non_empty(contract.get("RRN")),
        transaction_id: non_empty(contract.get("Stan")),
    }))
}

/// The decline a bank code and its message stand for.
pub(crate) fn decline_from(code: &str, message: &str) -> Decline {
    let code = code.trim();
    Decline {
        group: error_group(code),
        code: code.to_owned(),
        message: message.trim().to_owned(),
    }
}

/// The bank's `ResponseCode` (or SOAP `ErrorCode`) to Craftgate's error group. Kuveyt Türk
/// answers either the issuer's ISO 8583 code (two digits) or a symbolic platform code
/// (`vpos-protocols.md` §7.3 lists those seen in the reference fixtures):
///
/// | code | group | meaning |
/// |---|---|---|
/// | 51 | NotSufficientFunds | insufficient funds |
/// | 05 | DoNotHonour | do not honour |
/// | 12, 28, 21 | InvalidTransaction | invalid transaction; "a cancelled order cannot be refunded" (P7.20); already cancelled (P7.18) |
/// | 57 | NotPermittedToCardholder | not permitted to cardholder |
/// | 43 | StolenCard | stolen card |
/// | 41 | LostCard | lost card |
/// | 04, 07 | PickupCard | pick up card |
/// | 54, 33 | ExpiredCard | expired card |
/// | 82, N7 | InvalidCvc2 | CVV check failed |
/// | 58 | NotPermittedToTerminal | not permitted to terminal |
/// | 59, 34 | FraudSuspect | suspected fraud |
/// | 93 | RestrictedByLaw | violation of law |
/// | 62 | CardNotPermitted | restricted card |
/// | 14, 15 | InvalidCard | invalid card number / no such issuer |
/// | 13 | InvalidAmount | invalid amount |
/// | 61, 65 | ExceedsWithdrawalLimit | amount / frequency limit exceeded |
/// | 91, 96, ServiceUnavailable, IntegrationFatalException | BankNotAvailable | issuer or bank system unavailable |
/// | 03, HashDataError, ApiUserNotDefined, MerchantNotDefined, PosMerchantIPError, InvalidTransactionSecurity | InvalidMerchantOrPos | credentials, hash, IP or POS settings |
/// | MPIAuthenticationStatusN, CardNotEnrolled | ThreedsAuthenticationFailed | 3D authentication failed / card not enrolled |
/// | EmptyMDException, MetaDataNotFound, OrderDataNotFound, InvalidRequestError, DbLayerError | InvalidTransaction | no such authentication / order, refused request |
/// | other two digits | Declined | call bank, reject, … |
/// | anything else (NonResult, 99, …) | Unknown | |
pub(crate) fn error_group(code: &str) -> ErrorGroup {
    match code {
        "51" => ErrorGroup::NotSufficientFunds,
        "05" => ErrorGroup::DoNotHonour,
        "12" | "28" | "21" => ErrorGroup::InvalidTransaction,
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
        "91" | "96" | "ServiceUnavailable" | "IntegrationFatalException" => {
            ErrorGroup::BankNotAvailable
        }
        "03"
        | "HashDataError"
        | "ApiUserNotDefined"
        | "MerchantNotDefined"
        | "PosMerchantIPError"
        | "InvalidTransactionSecurity" => ErrorGroup::InvalidMerchantOrPos,
        "MPIAuthenticationStatusN" | "CardNotEnrolled" => ErrorGroup::ThreedsAuthenticationFailed,
        "EmptyMDException"
        | "MetaDataNotFound"
        | "OrderDataNotFound"
        | "InvalidRequestError"
        | "DbLayerError" => ErrorGroup::InvalidTransaction,
        "99" => ErrorGroup::Unknown,
        code if code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()) => ErrorGroup::Declined,
        _ => ErrorGroup::Unknown,
    }
}

// ---------------------------------------------------------------------------------------
// SOAP replies

/// A SOAP reply's `{Op}Result` (vectors S7.11–S7.13). A SOAP fault or any other document
/// is [`ConnectorError::BadResponse`].
pub(crate) fn parse_soap(body: &[u8], op: SoapOp) -> Result<Node, ConnectorError> {
    let root = parse_xml(body)?;
    if root.name != "Envelope" {
        return Err(bad(format!(
            "unexpected root element <{}>",
            clip(&root.name)
        )));
    }
    let soap_body = root
        .child("Body")
        .ok_or_else(|| bad("soap reply without Body"))?;
    if let Some(fault) = soap_body.child("Fault") {
        return Err(bad(format!(
            "soap fault: {}",
            clip(fault.get("faultstring"))
        )));
    }
    let response = format!("{}Response", op.as_str());
    let result = format!("{}Result", op.as_str());
    soap_body
        .at(&[&response, &result])
        .cloned()
        .ok_or_else(|| bad(format!("soap reply without {result}")))
}

/// The first `Results/Result` error of a SOAP result: `(ErrorCode, ErrorMessage)`.
fn soap_error(result: &Node) -> Option<(&str, &str)> {
    let first = result.child("Results")?.child("Result")?;
    let code = first.get("ErrorCode");
    let message = first.get("ErrorMessage");
    (!code.is_empty() || !message.is_empty()).then_some((code, message))
}

/// A cancel or refund reply as a fact (vectors P7.16–P7.25).
///
/// Approved only when `Value.ResponseCode` is `00`, `Success` is not `false`, no error is
/// listed and the reply names our order when it echoes one. A decline takes the listed
/// `ErrorCode` (P7.18: `21`, "already cancelled") when there is one, else `ResponseCode`
/// (P7.20: `28`; P7.22: `DbLayerError` with the listed message). A reply with neither
/// (P7.17, P7.21) proves nothing: [`ConnectorError::BadResponse`].
pub(crate) fn soap_outcome(result: &Node, order_id: &str) -> Result<Outcome, ConnectorError> {
    let value = result.child("Value");
    let code = value.map(|v| v.get("ResponseCode")).unwrap_or_default();
    let success = result.get("Success");
    let error = soap_error(result);
    if code == "00" && error.is_none() && !success.eq_ignore_ascii_case("false") {
        let echoed = value.map(|v| v.get("MerchantOrderId")).unwrap_or_default();
        if !echoed.is_empty() && echoed != order_id {
            return Err(bad(format!("reply names another order {:?}", clip(echoed))));
        }
        let value = value.ok_or_else(|| bad("approval without Value"))?;
        return Ok(Outcome::Approved(Approval {
            auth_code: non_empty(value.get("ProvisionNumber")),
            host_reference: non_empty(value.get("RRN")),
            transaction_id: non_empty(value.get("Stan")),
        }));
    }
    let message = error
        .map(|(_, message)| message)
        .filter(|m| !m.is_empty())
        .or_else(|| value.map(|v| v.get("ResponseMessage")))
        .unwrap_or_default();
    match (error.map(|(code, _)| code).filter(|c| !c.is_empty()), code) {
        (Some(error_code), _) => Ok(Outcome::Declined(decline_from(error_code, message))),
        (None, "00") => Err(bad("ResponseCode 00 with Success false")),
        (None, "") => Err(bad("reply has no ResponseCode and no error")),
        (None, code) => Ok(Outcome::Declined(decline_from(code, message))),
    }
}

/// One order of a `GetMerchantOrderDetail` reply, as the connector uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OrderRecord {
    pub refs: OrderRefs,
    pub response_code: String,
    pub response_explain: String,
    /// `LastOrderStatus`: 1 completed, 4 refunded, 5 partially refunded, 6 cancelled.
    pub last_order_status: String,
    pub currency: Option<Currency>,
    pub first_amount: Option<MinorUnits>,
    pub drawback_amount: Option<MinorUnits>,
}

/// The record of `order_id` in a status reply; `None` when the bank has none (P7.10:
/// `Success` true, empty `Value`). A failed inquiry (P7.12: `HashDataError`, or `Success`
/// false) or an unreadable record is [`ConnectorError::BadResponse`].
///
/// The bank may list several `OrderContract`s; only those naming our `MerchantOrderId`
/// count, an approved one first.
pub(crate) fn order_record(
    result: &Node,
    order_id: &str,
) -> Result<Option<OrderRecord>, ConnectorError> {
    if let Some((code, message)) = soap_error(result) {
        return Err(bad(format!(
            "status inquiry failed: {} {}",
            clip(code),
            clip(message)
        )));
    }
    if !result.get("Success").eq_ignore_ascii_case("true") {
        return Err(bad("status inquiry without Success true"));
    }
    let Some(value) = result.child("Value") else {
        return Ok(None);
    };
    let mut contracts: Vec<&Node> = value
        .children_named("OrderContract")
        .filter(|c| c.get("MerchantOrderId") == order_id)
        .collect();
    if contracts.is_empty() {
        if value.children_named("OrderContract").next().is_some() {
            return Err(bad("status reply lists only other orders"));
        }
        return Ok(None);
    }
    contracts.sort_by_key(|c| c.get("ResponseCode") != "00");
    let contract = contracts[0];
    let currency = parse_currency(contract.get("FEC"));
    let amount = |name: &str| -> Result<Option<MinorUnits>, ConnectorError> {
        match (contract.get(name), currency) {
            ("", _) => Ok(None),
            (text, Some(currency)) => parse_major(text, currency)
                .map(Some)
                .ok_or_else(|| bad(format!("{name} {:?}", clip(text)))),
            (_, None) => Err(bad(format!("currency {:?}", clip(contract.get("FEC"))))),
        }
    };
    Ok(Some(OrderRecord {
        refs: OrderRefs {
            order_id: contract.get("OrderId").to_owned(),
            rrn: contract.get("RRN").to_owned(),
            stan: contract.get("Stan").to_owned(),
            provision_number: contract.get("ProvNumber").to_owned(),
        },
        response_code: contract.get("ResponseCode").to_owned(),
        response_explain: contract.get("ResponseExplain").to_owned(),
        last_order_status: contract.get("LastOrderStatus").to_owned(),
        currency,
        first_amount: amount("FirstAmount")?,
        drawback_amount: amount("DrawbackAmount")?,
    }))
}

/// A status reply as the state of the order at the bank (vectors P7.10–P7.15).
///
/// * no record → [`PaymentSync::NotFound`];
/// * `ResponseCode` other than `00` → [`PaymentSync::Declined`] with that code; an empty
///   one is unreadable;
/// * `00`: `LastOrderStatus` 1 → `Captured`, 4 (refunded) or 5 (partially refunded) →
///   `Refunded`, 6 → `Voided`; any other status is a reply we cannot read as a fact.
pub(crate) fn payment_sync(result: &Node, order_id: &str) -> Result<PaymentSync, ConnectorError> {
    let Some(record) = order_record(result, order_id)? else {
        return Ok(PaymentSync::NotFound);
    };
    match record.response_code.as_str() {
        "" => return Err(bad("order record without ResponseCode")),
        "00" => {}
        code => {
            return Ok(PaymentSync::Declined(decline_from(
                code,
                &record.response_explain,
            )));
        }
    }
    let state = match record.last_order_status.as_str() {
        "1" => BankOrderState::Captured,
        "4" | "5" => BankOrderState::Refunded,
        "6" => BankOrderState::Voided,
        other => return Err(bad(format!("order status {:?}", clip(other)))),
    };
    Ok(PaymentSync::Approved {
        approval: Approval {
            auth_code: non_empty(&record.refs.provision_number),
            host_reference: non_empty(&record.refs.rrn),
            transaction_id: non_empty(&record.refs.stan),
        },
        state,
    })
}

/// The credits (refunds) of an order, from its status record.
///
/// The record gives only the total refunded (`DrawbackAmount`), not each refund, so an
/// order with refunds shows as one credit of that total (no transaction id). An unknown or
/// declined order has none.
pub(crate) fn bank_credits(
    result: &Node,
    order_id: &str,
) -> Result<Vec<BankCredit>, ConnectorError> {
    let Some(record) = order_record(result, order_id)? else {
        return Ok(Vec::new());
    };
    if record.response_code != "00" {
        return Ok(Vec::new());
    }
    match record.drawback_amount {
        Some(amount) if !amount.is_zero() => Ok(vec![BankCredit {
            amount,
            approved: true,
            transaction_id: None,
        }]),
        _ => Ok(Vec::new()),
    }
}

// ---------------------------------------------------------------------------------------
// The enrolment's HTML form

/// The form in the bank's enrolment answer: where it posts and its named inputs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct HtmlForm {
    pub action: String,
    pub inputs: Vec<(String, String)>,
}

impl HtmlForm {
    pub fn input(&self, name: &str) -> Option<&str> {
        self.inputs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Inputs in one form, at most (a real ACS form has about ten).
const INPUTS_MAX: usize = 64;

/// Reads the first `<form>` of an HTML page: its `action` and every `<input>` with a
/// `name` and a `value` (except the `submit`/`submitBtn` buttons), entities decoded, as
/// the reference library's serializer reads it (vectors S7.6–S7.9). `None` when the page
/// has no form with an action.
pub(crate) fn parse_html_form(html: &str) -> Option<HtmlForm> {
    let lower = html.to_ascii_lowercase();
    let form_at = find_tag(&lower, "form", 0)?;
    let (form_attrs, _) = tag_attributes(html, form_at + "<form".len())?;
    let action = attribute(&form_attrs, "action")?;
    let mut form = HtmlForm {
        action,
        inputs: Vec::new(),
    };
    let mut at = form_at;
    while let Some(input_at) = find_tag(&lower, "input", at) {
        let (attrs, end) = tag_attributes(html, input_at + "<input".len())?;
        at = end;
        let (Some(name), Some(value)) = (attribute(&attrs, "name"), attribute(&attrs, "value"))
        else {
            continue;
        };
        if name.is_empty() || name == "submit" || name == "submitBtn" {
            continue;
        }
        form.inputs.push((name, value));
        if form.inputs.len() > INPUTS_MAX {
            return None;
        }
    }
    Some(form)
}

/// The byte offset of the next `<{tag}` (followed by space, `>` or `/`) at or after `from`.
fn find_tag(lower: &str, tag: &str, from: usize) -> Option<usize> {
    let needle = format!("<{tag}");
    let mut at = from;
    while let Some(found) = lower.get(at..)?.find(&needle) {
        let start = at + found;
        let next = lower.as_bytes().get(start + needle.len()).copied();
        if matches!(next, Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')) {
            return Some(start);
        }
        at = start + needle.len();
    }
    None
}

/// The attributes of a tag whose name ends at `from`, and the offset after its `>`.
fn tag_attributes(html: &str, from: usize) -> Option<(Vec<(String, String)>, usize)> {
    let bytes = html.as_bytes();
    let mut at = from;
    let mut attrs = Vec::new();
    loop {
        while bytes
            .get(at)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            at += 1;
        }
        if *bytes.get(at)? == b'>' {
            return Some((attrs, at + 1));
        }
        let name_start = at;
        while bytes
            .get(at)
            .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'))
        {
            at += 1;
        }
        let name = html.get(name_start..at)?.to_ascii_lowercase();
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        let value = if bytes.get(at) == Some(&b'=') {
            at += 1;
            while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
                at += 1;
            }
            match bytes.get(at)? {
                quote @ (b'"' | b'\'') => {
                    let end = at + 1 + html.get(at + 1..)?.find(*quote as char)?;
                    let raw = html.get(at + 1..end)?;
                    at = end + 1;
                    decode_entities(raw)
                }
                _ => {
                    let start = at;
                    while bytes
                        .get(at)
                        .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>')
                    {
                        at += 1;
                    }
                    decode_entities(html.get(start..at)?)
                }
            }
        } else {
            String::new()
        };
        if name.is_empty() {
            at += 1;
            continue;
        }
        attrs.push((name, value));
    }
}

fn attribute(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
}

/// Decodes the HTML entities a form attribute may hold (`&amp;`, `&quot;`, `&#39;`,
/// `&#x2F;`, …); unknown ones stay as written.
pub(crate) fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find(';').filter(|end| *end <= 10);
        let decoded = end.and_then(|end| {
            let entity = &rest[1..end];
            let ch = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            ch.map(|ch| (ch, end))
        });
        match decoded {
            Some((ch, end)) => {
                out.push(ch);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// URL-decodes a form value (`+` → space, `%XX` → byte), as the bank encodes the XML of
/// `AuthenticationResponse`; the bytes are read as UTF-8, or windows-1254 when they are not
/// UTF-8. `None` for a broken escape.
pub(crate) fn url_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text.get(at + 1..at + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                at += 2;
            }
            byte => out.push(byte),
        }
        at += 1;
    }
    Some(match String::from_utf8(out) {
        Ok(text) => text,
        Err(error) => encoding_rs::WINDOWS_1254
            .decode_without_bom_handling(error.as_bytes())
            .0
            .into_owned(),
    })
}
