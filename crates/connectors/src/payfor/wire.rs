//! PayFor's wire format: `PayforRequest` XML bodies (UTF-8), `PayforResponse` and
//! `TxnHistoryReport` parsing, and the translation of a parsed reply into facts:
//! [`Outcome`], [`PaymentSync`], [`BankCredit`].
//!
//! Element order follows the reference library (mewebstudio/pos, vectors R5.1–R5.20), which
//! the byte-exact tests in `tests.rs` pin. Every reply that is not clearly an approval or
//! clearly a decline becomes [`ConnectorError::BadResponse`], so the engine treats the
//! outcome as unknown and asks the bank again instead of guessing.

use std::collections::BTreeMap;

use domain::enums::ErrorGroup;
use domain::money::{Currency, MinorUnits, format_decimal_trimmed};
use quick_xml::events::Event;
use rust_decimal::Decimal;

use crate::{
    Approval, AuthorizeKind, AuthorizeRequest, BankCredit, BankOrderState, CaptureRequest,
    ConnectorError, Decline, Outcome, PaymentSync, RefundRequest,
};

const PROLOG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// API sign-in, sent in every request body (the "account block").
#[derive(Clone, Copy)]
pub(crate) struct Credentials<'a> {
    pub merchant_id: &'a str,
    pub user_code: &'a str,
    pub user_pass: &'a str,
    /// `5` QNB Finansbank and Enpara, `12` Ziraat Katılım.
    pub mbr_id: &'a str,
}

// Credentials print nothing of the password, so a stray `{:?}` cannot leak it.
impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("merchant_id", &self.merchant_id)
            .field("user_code", &self.user_code)
            .field("mbr_id", &self.mbr_id)
            .finish_non_exhaustive()
    }
}

/// A `PayforRequest` document under construction: one line, elements in emission order.
struct PayforRequest {
    xml: String,
}

impl PayforRequest {
    /// An empty document (the 3D provision has no account block).
    fn bare() -> PayforRequest {
        let mut xml = String::with_capacity(512);
        xml.push_str(PROLOG);
        xml.push_str("<PayforRequest>");
        PayforRequest { xml }
    }

    /// A document opened with the account block.
    fn new(credentials: Credentials<'_>) -> PayforRequest {
        let mut request = PayforRequest::bare();
        request
            .element("MerchantId", credentials.merchant_id)
            .element("UserCode", credentials.user_code)
            .element("UserPass", credentials.user_pass)
            .element("MbrId", credentials.mbr_id);
        request
    }

    fn element(&mut self, name: &str, text: &str) -> &mut PayforRequest {
        self.xml.push('<');
        self.xml.push_str(name);
        self.xml.push('>');
        self.xml.push_str(&quick_xml::escape::partial_escape(text));
        self.xml.push_str("</");
        self.xml.push_str(name);
        self.xml.push('>');
        self
    }

    fn finish(&mut self) -> Vec<u8> {
        self.xml.push_str("</PayforRequest>\n");
        std::mem::take(&mut self.xml).into_bytes()
    }
}

/// `TxnType` of a sale or pre-authorisation.
pub(crate) fn transaction_type(kind: AuthorizeKind) -> &'static str {
    match kind {
        AuthorizeKind::Sale => "Auth",
        AuthorizeKind::PreAuth => "PreAuth",
    }
}

/// `InstallmentCount`: `"0"` for a single payment (0 or 1), otherwise the count.
pub(crate) fn installment_text(installment: u32) -> String {
    if installment <= 1 {
        "0".to_owned()
    } else {
        installment.to_string()
    }
}

/// `PurchAmount`: major units, `.` separator, trailing zeros dropped (`100.01`, `5`).
pub(crate) fn amount_text(amount: MinorUnits, currency: Currency) -> String {
    format_decimal_trimmed(amount, currency)
}

/// The language the API answers its messages in; the reference library always sends `tr`.
const API_LANG: &str = "tr";

/// The fields of a sale or pre-authorisation, card in clear: the one place they meet.
#[derive(Clone, Copy)]
pub(crate) struct AuthorizeFields<'a> {
    pub kind: AuthorizeKind,
    pub order_id: &'a str,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub installment: u32,
    pub holder_name: &'a str,
    pub pan: &'a str,
    /// `MMYY`.
    pub expiry: &'a str,
    pub cvv: &'a str,
}

/// Sale (`Auth`) or pre-authorisation (`PreAuth`) with the card (vector R5.3).
pub(crate) fn authorize_request(
    credentials: Credentials<'_>,
    request: &AuthorizeRequest<'_>,
) -> Vec<u8> {
    let card = request.card;
    let expiry = format!("{}{}", card.expiry.mm(), card.expiry.yy());
    authorize_body(
        credentials,
        &AuthorizeFields {
            kind: request.kind,
            order_id: request.order_id,
            amount: request.amount,
            currency: request.currency,
            installment: request.installment,
            holder_name: card.holder_name.trim(),
            pan: card.number.expose_number(),
            expiry: &expiry,
            cvv: card
                .cvc
                .as_ref()
                .map(|cvc| cvc.expose_cvc())
                .unwrap_or_default(),
        },
    )
}

pub(crate) fn authorize_body(
    credentials: Credentials<'_>,
    fields: &AuthorizeFields<'_>,
) -> Vec<u8> {
    PayforRequest::new(credentials)
        .element("MOTO", "0")
        .element("OrderId", fields.order_id)
        .element("SecureType", "NonSecure")
        .element("TxnType", transaction_type(fields.kind))
        .element("PurchAmount", &amount_text(fields.amount, fields.currency))
        .element("Currency", fields.currency.numeric_code())
        .element("InstallmentCount", &installment_text(fields.installment))
        .element("Lang", API_LANG)
        .element("CardHolderName", fields.holder_name)
        .element("Pan", fields.pan)
        .element("Expiry", fields.expiry)
        .element("Cvv2", fields.cvv)
        .finish()
}

/// `PostAuth` of a pre-authorisation (vector R5.1). PayFor takes the capture amount only;
/// the pre-authorised amount is the bank's own record.
pub(crate) fn capture_request(
    credentials: Credentials<'_>,
    request: &CaptureRequest<'_>,
) -> Vec<u8> {
    PayforRequest::new(credentials)
        .element("OrgOrderId", request.order_id)
        .element("SecureType", "NonSecure")
        .element("TxnType", "PostAuth")
        .element(
            "PurchAmount",
            &amount_text(request.amount, request.currency),
        )
        .element("Currency", request.currency.numeric_code())
        .element("Lang", API_LANG)
        .finish()
}

/// `Void` of a whole order (vector R5.5). The library sends the order's currency; a
/// [`crate::VoidRequest`] carries none, so this is always `949` (TRY): the bank voids the
/// order `OrgOrderId` names.
pub(crate) fn void_request(credentials: Credentials<'_>, order_id: &str) -> Vec<u8> {
    PayforRequest::new(credentials)
        .element("OrgOrderId", order_id)
        .element("SecureType", "NonSecure")
        .element("TxnType", "Void")
        .element("Currency", Currency::Try.numeric_code())
        .element("Lang", API_LANG)
        .finish()
}

/// `Refund`, full or partial: always with the amount (vectors R5.18, R5.20).
pub(crate) fn refund_request(credentials: Credentials<'_>, request: &RefundRequest<'_>) -> Vec<u8> {
    PayforRequest::new(credentials)
        .element("SecureType", "NonSecure")
        .element("Lang", API_LANG)
        .element("OrgOrderId", request.order_id)
        .element("TxnType", "Refund")
        .element(
            "PurchAmount",
            &amount_text(request.amount, request.currency),
        )
        .element("Currency", request.currency.numeric_code())
        .finish()
}

/// Status inquiry, `OrderInquiry` (vector R5.16).
pub(crate) fn status_request(credentials: Credentials<'_>, order_id: &str) -> Vec<u8> {
    PayforRequest::new(credentials)
        .element("OrgOrderId", order_id)
        .element("SecureType", "Inquiry")
        .element("Lang", API_LANG)
        .element("TxnType", "OrderInquiry")
        .finish()
}

/// Order history, `TxnHistory` by `OrderId` (vector R5.7).
pub(crate) fn history_request(credentials: Credentials<'_>, order_id: &str) -> Vec<u8> {
    PayforRequest::new(credentials)
        .element("SecureType", "Report")
        .element("OrderId", order_id)
        .element("TxnType", "TxnHistory")
        .element("Lang", API_LANG)
        .finish()
}

/// The provision after a `3DModel` authentication (vector R5.11): the callback's
/// `RequestGuid`, the API user and the order id are the only fields; the bank takes the
/// amount, currency, installments and card from the 3D session.
pub(crate) fn authorize_3d_body(
    user_code: &str,
    user_pass: &str,
    request_guid: &str,
    order_id: &str,
) -> Vec<u8> {
    PayforRequest::bare()
        .element("RequestGuid", request_guid)
        .element("UserCode", user_code)
        .element("UserPass", user_pass)
        .element("OrderId", order_id)
        .element("SecureType", "3DModelPayment")
        .finish()
}

// ---------------------------------------------------------------------------------------
// Replies

/// One flat record: a `PayforResponse`'s children, or one `PaymentRequest` of a history.
/// Values are trimmed (the bank sometimes pads them with `\r\n`, as the library notes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Record {
    fields: BTreeMap<String, String>,
}

impl Record {
    /// A field's trimmed text; `""` when absent.
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map(|v| v.trim()).unwrap_or_default()
    }

    pub fn has(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }
}

/// A parsed reply: its root element, the root's direct fields, and (for a
/// `TxnHistoryReport`) the `PaymentRequestExtended/PaymentRequest` records in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Document {
    pub root: String,
    pub fields: Record,
    pub records: Vec<Record>,
}

/// The root of an answer to a payment, status or 3D provision request.
pub(crate) const RESPONSE_ROOT: &str = "PayforResponse";
/// The root of an answer to an order history request.
pub(crate) const HISTORY_ROOT: &str = "TxnHistoryReport";

/// Largest reply read into memory. A history record is about 5 KiB; an order has a few.
pub(crate) const RESPONSE_BYTES_MAX: usize = 4 << 20;

fn bad(detail: impl Into<String>) -> ConnectorError {
    ConnectorError::BadResponse(detail.into())
}

/// Keeps bank-supplied text in error messages short.
fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Parses a reply body into a [`Document`]. Anything that is not one complete
/// `PayforResponse` or `TxnHistoryReport` document is [`ConnectorError::BadResponse`].
pub(crate) fn parse_document(body: &[u8]) -> Result<Document, ConnectorError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("empty body"));
    }
    if body.len() > RESPONSE_BYTES_MAX {
        return Err(bad("body too large"));
    }
    let text = decode_body(body);
    let mut reader = quick_xml::Reader::from_str(&text);

    let mut document = Document::default();
    // Local element names from the root down to the current element.
    let mut path: Vec<String> = Vec::new();
    let mut text_buf = String::new();
    let mut record: Option<Record> = None;
    let mut root_closed = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| bad(format!("malformed xml: {e}")))?;
        match event {
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                if path.is_empty() {
                    check_root(&name)?;
                    document.root.clone_from(&name);
                }
                path.push(name);
                if is_record(&path) {
                    record = Some(Record::default());
                }
                text_buf.clear();
            }
            Event::Empty(start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                if path.is_empty() {
                    check_root(&name)?;
                    document.root = name;
                    root_closed = true;
                    break;
                }
                path.push(name);
                if is_record(&path) {
                    document.records.push(Record::default());
                } else {
                    store(&mut document, record.as_mut(), &path, String::new());
                }
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
                if is_record(&path) {
                    if let Some(finished) = record.take() {
                        document.records.push(finished);
                    }
                } else {
                    store(
                        &mut document,
                        record.as_mut(),
                        &path,
                        std::mem::take(&mut text_buf),
                    );
                }
                text_buf.clear();
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
        return Err(bad(format!("truncated or missing {RESPONSE_ROOT}")));
    }
    Ok(document)
}

fn check_root(name: &str) -> Result<(), ConnectorError> {
    if name == RESPONSE_ROOT || name == HISTORY_ROOT {
        Ok(())
    } else {
        Err(bad(format!("unexpected root element <{}>", clip(name))))
    }
}

/// `TxnHistoryReport/PaymentRequestExtended/PaymentRequest`.
fn is_record(path: &[String]) -> bool {
    matches!(path, [root, extended, request]
        if root == HISTORY_ROOT && extended == "PaymentRequestExtended" && request == "PaymentRequest")
}

/// Records one element's text if it is a field we read: a child of the root, or a child of
/// a history record. Other elements are ignored.
fn store(document: &mut Document, record: Option<&mut Record>, path: &[String], text: String) {
    match path {
        [_, name] => {
            document.fields.fields.insert(name.clone(), text);
        }
        [root, extended, request, name]
            if root == HISTORY_ROOT
                && extended == "PaymentRequestExtended"
                && request == "PaymentRequest" =>
        {
            if let Some(record) = record {
                record.fields.insert(name.clone(), text);
            }
        }
        _ => {}
    }
}

/// The body as text: UTF-8 as the bank sends it (a BOM is skipped). A body that is not
/// valid UTF-8 is read in the encoding its prolog declares, or else as windows-1254, so a
/// stray byte in free text such as `ErrMsg` cannot make an approval unreadable.
fn decode_body(body: &[u8]) -> String {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if let Ok(text) = std::str::from_utf8(body) {
        return text.to_owned();
    }
    let encoding = declared_encoding(body)
        .and_then(encoding_rs::Encoding::for_label)
        // A UTF-16 label on a document whose prolog we just read as ASCII is a lie.
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

/// Parses the answer to a payment, capture, void, refund, status or 3D provision request:
/// a `PayforResponse` carrying a `ProcReturnCode`.
#[cfg(test)]
pub(crate) fn parse_response(body: &[u8]) -> Result<Document, ConnectorError> {
    let document = parse_document(body)?;
    require_response(&document)?;
    Ok(document)
}

/// A `PayforResponse` with a `ProcReturnCode`, or [`ConnectorError::BadResponse`].
fn require_response(document: &Document) -> Result<(), ConnectorError> {
    if document.root != RESPONSE_ROOT {
        return Err(bad(format!(
            "expected {RESPONSE_ROOT}, got <{}>",
            clip(&document.root)
        )));
    }
    if !document.fields.has("ProcReturnCode") {
        return Err(bad("PayforResponse has no ProcReturnCode"));
    }
    Ok(())
}

/// The bank's message for a reply: `ErrMsg`, else `BankInternalResponseMessage`.
fn message(record: &Record) -> &str {
    match record.get("ErrMsg") {
        "" => record.get("BankInternalResponseMessage"),
        message => message,
    }
}

/// The reply to `Auth`, `PreAuth`, `PostAuth`, `Void`, `Refund` or `3DModelPayment`, as a
/// fact.
///
/// Approved only when `ProcReturnCode` is `00` (the bank's and the library's one success
/// rule) and `TxnResult`, when the reply carries it, does not say otherwise; a reply in
/// which the two disagree, or with an empty `ProcReturnCode`, is
/// [`ConnectorError::BadResponse`]. Any other code is a decline.
pub(crate) fn outcome(document: &Document) -> Result<Outcome, ConnectorError> {
    require_response(document)?;
    let reply = &document.fields;
    let code = reply.get("ProcReturnCode");
    let result = reply.get("TxnResult");
    let says_success = result.eq_ignore_ascii_case("Success");
    match code {
        "" => Err(bad("empty ProcReturnCode")),
        "00" if result.is_empty() || says_success => Ok(Outcome::Approved(Approval {
            auth_code: non_empty(reply.get("AuthCode")),
            host_reference: non_empty(reply.get("HostRefNum")),
            transaction_id: non_empty(reply.get("TransId")),
        })),
        "00" => Err(bad(format!(
            "ProcReturnCode 00 disagrees with TxnResult {:?}",
            clip(result)
        ))),
        code if says_success => Err(bad(format!(
            "ProcReturnCode {:?} disagrees with TxnResult Success",
            clip(code)
        ))),
        code => Ok(Outcome::Declined(decline_from(code, message(reply)))),
    }
}

/// The decline a `ProcReturnCode` and a message stand for; shared by API replies and 3D
/// callbacks.
pub(crate) fn decline_from(proc_return_code: &str, message: &str) -> Decline {
    let code = proc_return_code.trim();
    Decline {
        group: error_group(code),
        code: code.to_owned(),
        message: message.trim().to_owned(),
    }
}

/// `ProcReturnCode` to Craftgate's error group. PayFor relays the issuer's ISO 8583 answer
/// as a two-digit code and adds its own platform (`Vnnn`), MPI (`Mnnn`, `MRnn`) and order
/// (`101310`) codes; meanings from the reference library's table (`vpos-protocols.md`
/// §5.4) and the vectors' bank messages:
///
/// | code | group | meaning |
/// |---|---|---|
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
/// | 13 | InvalidAmount | invalid amount |
/// | 61, 65 | ExceedsWithdrawalLimit | amount / frequency limit exceeded |
/// | 91, 96 | BankNotAvailable | issuer inoperative / system malfunction ("general error") |
/// | 03 | InvalidMerchantOrPos | invalid merchant |
/// | 99 | Unknown | general error (Craftgate's `UNKNOWN`) |
/// | other two digits | Declined | call bank, reject, … |
/// | V001, V004, M049 | InvalidMerchantOrPos | invalid credentials |
/// | V013 | InvalidTransaction | "Seçili İşlem Bulunamadı!": no such transaction |
/// | V014, V015 | Declined | request rejected (V014: refund of an unsettled order) |
/// | V034, MR15 | ThreedsAuthenticationFailed | 3D authentication failed |
/// | M041 | InvalidCard | "Geçersiz kart numarası" |
/// | M002, M012 | InvalidTransaction | invalid transaction |
/// | 101310 | DuplicateOrder | "Verilen sipariş no önceden kullanılmıştır." |
/// | V000, V025, V029, V036, V111, M025, M042 | Declined | general error |
/// | anything else (V033 included: it is a 3D success, never a decline) | Unknown | |
pub(crate) fn error_group(proc_return_code: &str) -> ErrorGroup {
    match proc_return_code {
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
        "V001" | "V004" | "M049" => ErrorGroup::InvalidMerchantOrPos,
        "V013" => ErrorGroup::InvalidTransaction,
        "V014" | "V015" => ErrorGroup::Declined,
        "V034" | "MR15" => ErrorGroup::ThreedsAuthenticationFailed,
        "M041" => ErrorGroup::InvalidCard,
        "M002" | "M012" => ErrorGroup::InvalidTransaction,
        "101310" => ErrorGroup::DuplicateOrder,
        "V000" | "V025" | "V029" | "V036" | "V111" | "M025" | "M042" => ErrorGroup::Declined,
        code if code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()) => ErrorGroup::Declined,
        _ => ErrorGroup::Unknown,
    }
}

/// `TxnType`s that describe an order's own transactions (as opposed to the inquiry itself).
fn is_order_transaction(txn_type: &str) -> bool {
    ["Auth", "PreAuth", "PostAuth", "Void", "Refund"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(txn_type))
}

/// `"true"`/`"True"`.
fn is_true(text: &str) -> bool {
    text.eq_ignore_ascii_case("true")
}

/// The reply to an `OrderInquiry`, as the state of the order at the bank.
///
/// The bank answers one flat record (vectors P5.11–P5.16). When the order exists, the record
/// is its latest sale-side transaction (`TxnType` `Auth`, `PreAuth` or `PostAuth`) with
/// `TxnStatus` (`Y` done, `V` voided, `N` failed), `IsVoided`, `IsRefunded`,
/// `RefundedAmount` and `VoidDate` folded in. When it does not, the record describes the
/// inquiry itself (`TxnType=OrderInquiry`, `RequestGuid=0`) with `V013` "Seçili İşlem
/// Bulunamadı!" (P5.16):
///
/// * inquiry record (`TxnType=OrderInquiry`) with `V013` → [`PaymentSync::NotFound`]; any
///   other code on it, or a record of no known type, means the inquiry itself failed
///   (credentials, system) → [`ConnectorError::BadResponse`];
/// * order record, code ≠ `00` → [`PaymentSync::Declined`];
/// * order record, `00`: voided (`TxnStatus=V`, `IsVoided=true` or a `Void` record) →
///   `Voided`; refunded (`RefundedAmount` > 0, `IsRefunded=true`, `TxnStatus=R` or a
///   `Refund` record) → `Refunded`; else `Auth`/`PostAuth` → `Captured`, `PreAuth` →
///   `PreAuthorized`. `TxnResult` other than `Success`, or a `TxnStatus` other than `Y`,
///   `V`, `R` (or absent) on an approved record, is a reply we cannot read as a fact.
pub(crate) fn payment_sync(document: &Document) -> Result<PaymentSync, ConnectorError> {
    require_response(document)?;
    let record = &document.fields;
    let code = record.get("ProcReturnCode");
    let txn_type = record.get("TxnType");
    if !is_order_transaction(txn_type) {
        return match code {
            "V013" if txn_type.eq_ignore_ascii_case("OrderInquiry") => Ok(PaymentSync::NotFound),
            code => Err(bad(format!(
                "status inquiry failed with code {:?}: {}",
                clip(code),
                clip(message(record))
            ))),
        };
    }
    match code {
        "" => return Err(bad("status record without ProcReturnCode")),
        "00" => {}
        code => return Ok(PaymentSync::Declined(decline_from(code, message(record)))),
    }
    let result = record.get("TxnResult");
    if !result.is_empty() && !result.eq_ignore_ascii_case("Success") {
        return Err(bad(format!(
            "approved order with TxnResult {:?}",
            clip(result)
        )));
    }
    let status = record.get("TxnStatus");
    if !matches!(status, "Y" | "V" | "R" | "") {
        return Err(bad(format!("order status {:?}", clip(status))));
    }
    let refunded_amount = match record.get("RefundedAmount") {
        "" => Decimal::ZERO,
        text => {
            parse_decimal(text).ok_or_else(|| bad(format!("RefundedAmount {:?}", clip(text))))?
        }
    };
    let voided =
        status == "V" || is_true(record.get("IsVoided")) || txn_type.eq_ignore_ascii_case("Void");
    let refunded = refunded_amount > Decimal::ZERO
        || is_true(record.get("IsRefunded"))
        || status == "R"
        || txn_type.eq_ignore_ascii_case("Refund");
    let state = if voided {
        BankOrderState::Voided
    } else if refunded {
        BankOrderState::Refunded
    } else if txn_type.eq_ignore_ascii_case("PreAuth") {
        BankOrderState::PreAuthorized
    } else {
        // Auth or PostAuth: the only order transactions left.
        BankOrderState::Captured
    };
    let host_reference = match record.get("HostRefNum") {
        "" => non_empty(record.get("F37")),
        reference => non_empty(reference),
    };
    Ok(PaymentSync::Approved {
        approval: Approval {
            auth_code: non_empty(record.get("AuthCode")),
            host_reference,
            transaction_id: non_empty(record.get("TransId")),
        },
        state,
    })
}

/// A non-negative decimal as the bank writes amounts: digits with at most one `.`.
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

/// A bank amount (`"1.01"`, `"5"`) in `currency`'s minor units; `None` when malformed or
/// more precise than the currency.
pub(crate) fn parse_amount(text: &str, currency: Currency) -> Option<MinorUnits> {
    let value = parse_decimal(text)?;
    MinorUnits::from_decimal_allow_zero(value, currency).ok()
}

/// One transaction of an order history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HistoryEntry {
    /// `Auth`, `PreAuth`, `PostAuth`, `Void`, `Refund`.
    pub txn_type: String,
    /// `Y` done, `N` failed, `V` voided later, …
    pub status: String,
    pub proc_return_code: String,
    pub amount: MinorUnits,
    pub request_guid: String,
}

/// The transactions of a `TxnHistory` reply; empty when the bank has no such order.
///
/// The bank answers a `TxnHistoryReport` with one `PaymentRequest` per transaction (vectors
/// S5.3, P5.21–P5.23). For an unknown order the one record describes the query itself
/// (`TxnType=TxnHistory`) with `V013` (P5.24); any other code there, or a bare
/// `PayforResponse` (refused sign-in, whatever its code), means the history could not be
/// read.
pub(crate) fn history(document: &Document) -> Result<Vec<HistoryEntry>, ConnectorError> {
    if document.root == RESPONSE_ROOT {
        return Err(bad(format!(
            "order history failed with code {:?}: {}",
            clip(document.fields.get("ProcReturnCode")),
            clip(message(&document.fields))
        )));
    }
    let mut entries = Vec::with_capacity(document.records.len());
    for record in &document.records {
        let txn_type = record.get("TxnType");
        let code = record.get("ProcReturnCode");
        if !is_order_transaction(txn_type) {
            // The query's own record: only "not found" is an answer.
            if code == "V013"
                && txn_type.eq_ignore_ascii_case("TxnHistory")
                && document.records.len() == 1
            {
                return Ok(Vec::new());
            }
            return Err(bad(format!(
                "order history failed with code {:?}: {}",
                clip(code),
                clip(message(record))
            )));
        }
        let currency_code = record.get("Currency");
        let currency = Currency::from_numeric_code(currency_code)
            .ok_or_else(|| bad(format!("history currency {:?}", clip(currency_code))))?;
        let amount_text = match record.get("PurchAmount") {
            "" => record.get("TxnAmount"),
            text => text,
        };
        let amount = parse_amount(amount_text, currency)
            .ok_or_else(|| bad(format!("history amount {:?}", clip(amount_text))))?;
        entries.push(HistoryEntry {
            txn_type: txn_type.to_owned(),
            status: record.get("TxnStatus").to_owned(),
            proc_return_code: code.to_owned(),
            amount,
            request_guid: record.get("RequestGuid").to_owned(),
        });
    }
    Ok(entries)
}

/// The credits (refunds) of an order, from its history. A refund holds when the bank
/// approved it (`00`) and it still stands (`TxnStatus` `Y`, or absent); a failed (`N`) or
/// voided (`V`) one is reported with `approved: false`. The transaction id is the record's
/// `RequestGuid`, the one id PayFor gives each transaction (`TransId` echoes the order id).
pub(crate) fn bank_credits(document: &Document) -> Result<Vec<BankCredit>, ConnectorError> {
    Ok(history(document)?
        .into_iter()
        .filter(|entry| entry.txn_type.eq_ignore_ascii_case("Refund"))
        .map(|entry| BankCredit {
            amount: entry.amount,
            approved: entry.proc_return_code == "00" && matches!(entry.status.as_str(), "Y" | ""),
            transaction_id: non_empty(&entry.request_guid),
        })
        .collect())
}
