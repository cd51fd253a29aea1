//! NestPay's wire format: `CC5Request` XML bodies (ISO-8859-9), `CC5Response` parsing, and
//! the translation of a parsed reply into facts: [`Outcome`], [`PaymentSync`], [`BankCredit`].
//!
//! Element order follows the reference library (mewebstudio/pos), which is what the bank's
//! test systems have been seeing for years; the byte-exact tests in `tests.rs` pin it.
//! Every reply that is not clearly an approval or clearly a decline becomes
//! [`ConnectorError::BadResponse`], so the engine treats the outcome as unknown and asks
//! the bank again instead of guessing.

use std::collections::BTreeMap;

use domain::enums::ErrorGroup;
use domain::money::{Currency, MinorUnits, format_decimal_trimmed};
use quick_xml::events::Event;

use crate::{
    Approval, AuthorizeKind, AuthorizeRequest, BankCredit, BankOrderState, CaptureRequest,
    ConnectorError, Decline, Outcome, PaymentSync, RefundRequest,
};

/// What the bank's request prolog declares; the body is transcoded to match.
const REQUEST_ENCODING: &encoding_rs::Encoding = encoding_rs::WINDOWS_1254;
const PROLOG: &str = "<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n";

/// API sign-in, sent in every request body.
#[derive(Clone, Copy)]
pub(crate) struct Credentials<'a> {
    pub name: &'a str,
    pub password: &'a str,
    pub client_id: &'a str,
}

// Credentials print nothing of the password, so a stray `{:?}` cannot leak it.
impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A `CC5Request` document under construction: one line, elements in emission order.
struct Cc5Request {
    xml: String,
}

impl Cc5Request {
    fn new(credentials: Credentials<'_>) -> Cc5Request {
        let mut request = Cc5Request {
            xml: String::with_capacity(512),
        };
        request.xml.push_str(PROLOG);
        request.xml.push_str("<CC5Request>");
        request
            .element("Name", credentials.name)
            .element("Password", credentials.password)
            .element("ClientId", credentials.client_id);
        request
    }

    fn element(&mut self, name: &str, text: &str) -> &mut Cc5Request {
        self.xml.push('<');
        self.xml.push_str(name);
        self.xml.push('>');
        self.xml.push_str(&quick_xml::escape::partial_escape(text));
        self.xml.push_str("</");
        self.xml.push_str(name);
        self.xml.push('>');
        self
    }

    /// `<Extra><NAME>text</NAME></Extra>`.
    fn extra(&mut self, name: &str, text: &str) -> &mut Cc5Request {
        self.xml.push_str("<Extra>");
        self.element(name, text);
        self.xml.push_str("</Extra>");
        self
    }

    /// The finished body in ISO-8859-9. A character the code page lacks is written as a
    /// numeric character reference by `encoding_rs`, which is still the same text in XML.
    fn finish(&mut self) -> Vec<u8> {
        self.xml.push_str("</CC5Request>\n");
        let (bytes, _, _) = REQUEST_ENCODING.encode(&self.xml);
        bytes.into_owned()
    }
}

/// `Taksit`: empty for a single payment (0 or 1), otherwise the count.
fn installment_text(installment: u32) -> String {
    if installment <= 1 {
        String::new()
    } else {
        installment.to_string()
    }
}

/// The fields of a sale or pre-authorisation, card in clear: the one place they meet.
#[derive(Clone, Copy)]
pub(crate) struct AuthorizeFields<'a> {
    pub kind: AuthorizeKind,
    pub order_id: &'a str,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub installment: u32,
    pub client_ip: Option<&'a str>,
    pub card_number: &'a str,
    /// `MM/YY`.
    pub expires: &'a str,
    pub cvv: &'a str,
}

/// Sale (`Auth`) or pre-authorisation (`PreAuth`) with the card.
pub(crate) fn authorize_request(
    credentials: Credentials<'_>,
    request: &AuthorizeRequest<'_>,
) -> Vec<u8> {
    let card = request.card;
    authorize_body(
        credentials,
        &AuthorizeFields {
            kind: request.kind,
            order_id: request.order_id,
            amount: request.amount,
            currency: request.currency,
            installment: request.installment,
            client_ip: request.client_ip,
            card_number: card.number.expose_number(),
            expires: &card.expiry.mm_slash_yy(),
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
    let transaction_type = match fields.kind {
        AuthorizeKind::Sale => "Auth",
        AuthorizeKind::PreAuth => "PreAuth",
    };
    Cc5Request::new(credentials)
        .element("Type", transaction_type)
        .element("IPAddress", fields.client_ip.unwrap_or_default())
        .element("OrderId", fields.order_id)
        .element(
            "Total",
            &format_decimal_trimmed(fields.amount, fields.currency),
        )
        .element("Currency", fields.currency.numeric_code())
        .element("Taksit", &installment_text(fields.installment))
        .element("Number", fields.card_number)
        .element("Expires", fields.expires)
        .element("Cvv2Val", fields.cvv)
        .element("Mode", "P")
        .finish()
}

/// The fields of a provision after 3D authentication (`3d` model): the card is the bank's
/// `md` token, and the authentication's `xid`, `eci` and `cavv` ride along.
#[derive(Clone, Copy)]
pub(crate) struct Authorize3dFields<'a> {
    pub kind: AuthorizeKind,
    pub order_id: &'a str,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub installment: u32,
    pub client_ip: Option<&'a str>,
    pub md: &'a str,
    pub xid: &'a str,
    pub eci: &'a str,
    pub cavv: &'a str,
}

/// The 3D provision (vector R1.9): `Number` carries `md`, `PayerTxnId` the `xid`,
/// `PayerSecurityLevel` the `eci` and `PayerAuthenticationCode` the `cavv`.
pub(crate) fn authorize_3d_body(
    credentials: Credentials<'_>,
    fields: &Authorize3dFields<'_>,
) -> Vec<u8> {
    let transaction_type = match fields.kind {
        AuthorizeKind::Sale => "Auth",
        AuthorizeKind::PreAuth => "PreAuth",
    };
    Cc5Request::new(credentials)
        .element("Type", transaction_type)
        .element("IPAddress", fields.client_ip.unwrap_or_default())
        .element("OrderId", fields.order_id)
        .element(
            "Total",
            &format_decimal_trimmed(fields.amount, fields.currency),
        )
        .element("Currency", fields.currency.numeric_code())
        .element("Taksit", &installment_text(fields.installment))
        .element("Number", fields.md)
        .element("PayerTxnId", fields.xid)
        .element("PayerSecurityLevel", fields.eci)
        .element("PayerAuthenticationCode", fields.cavv)
        .element("Mode", "P")
        .finish()
}

/// `PostAuth`. The bank wants the pre-authorised amount (`PREAMT`) only when the capture
/// amount differs from it.
pub(crate) fn capture_request(
    credentials: Credentials<'_>,
    request: &CaptureRequest<'_>,
) -> Vec<u8> {
    let mut xml = Cc5Request::new(credentials);
    xml.element("Type", "PostAuth")
        .element("OrderId", request.order_id)
        .element(
            "Total",
            &format_decimal_trimmed(request.amount, request.currency),
        );
    if request.amount != request.pre_auth_amount {
        xml.extra(
            "PREAMT",
            &format_decimal_trimmed(request.pre_auth_amount, request.currency),
        );
    }
    xml.finish()
}

pub(crate) fn void_request(credentials: Credentials<'_>, order_id: &str) -> Vec<u8> {
    Cc5Request::new(credentials)
        .element("OrderId", order_id)
        .element("Type", "Void")
        .finish()
}

/// `Credit` with an explicit amount: NestPay refunds the whole order when `Total` is left
/// out, and Orkestra always knows how much it means to refund.
pub(crate) fn refund_request(credentials: Credentials<'_>, request: &RefundRequest<'_>) -> Vec<u8> {
    Cc5Request::new(credentials)
        .element("OrderId", request.order_id)
        .element("Currency", request.currency.numeric_code())
        .element("Type", "Credit")
        .element(
            "Total",
            &format_decimal_trimmed(request.amount, request.currency),
        )
        .finish()
}

/// Status inquiry (`ORDERSTATUS`); the library puts `Extra` before `OrderId` here.
pub(crate) fn status_request(credentials: Credentials<'_>, order_id: &str) -> Vec<u8> {
    Cc5Request::new(credentials)
        .extra("ORDERSTATUS", "QUERY")
        .element("OrderId", order_id)
        .finish()
}

/// Order history (`ORDERHISTORY`): every transaction on the order, credits included.
pub(crate) fn history_request(credentials: Credentials<'_>, order_id: &str) -> Vec<u8> {
    Cc5Request::new(credentials)
        .element("OrderId", order_id)
        .extra("ORDERHISTORY", "QUERY")
        .finish()
}

/// A parsed `CC5Response`. Absent elements read as `""`, except the two that decide
/// between "the bank answered" and "this is not an answer".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Cc5Response {
    pub order_id: String,
    pub group_id: String,
    /// `Approved`, `Declined` or `Error`.
    pub response: Option<String>,
    pub auth_code: String,
    pub host_ref_num: String,
    pub proc_return_code: Option<String>,
    pub trans_id: String,
    pub err_msg: String,
    /// Some banks send `ERRORCODE` beside `Extra` instead of inside it.
    pub error_code: String,
    /// Every child of `Extra` (`ERRORCODE`, `TRXDATE`, `TRANS_STAT`, `TRX1`…), by name.
    pub extra: BTreeMap<String, String>,
}

impl Cc5Response {
    /// An `Extra` child's text, trimmed; `""` when absent.
    pub fn extra(&self, name: &str) -> &str {
        self.extra.get(name).map(|v| v.trim()).unwrap_or_default()
    }

    fn proc_return_code(&self) -> &str {
        self.proc_return_code.as_deref().unwrap_or_default().trim()
    }

    fn response(&self) -> &str {
        self.response.as_deref().unwrap_or_default().trim()
    }

    /// `Extra.ERRORCODE` (e.g. `CORE-2008`), or the top-level `ERRORCODE`.
    fn error_code(&self) -> &str {
        match self.extra("ERRORCODE") {
            "" => self.error_code.trim(),
            code => code,
        }
    }

    /// The bank has no such order: "No record found for …" with a non-approval code
    /// (`99` for ORDERSTATUS, `05` for ORDERHISTORY). Matched on the message, not on an
    /// empty `OrderId`, because a failed sign-in also comes back with an empty `OrderId`
    /// and must never read as "nothing was charged".
    fn is_no_record(&self) -> bool {
        let message = self.err_msg.trim().as_bytes();
        let prefix = b"no record found";
        self.proc_return_code() != "00"
            && message.len() >= prefix.len()
            && message[..prefix.len()].eq_ignore_ascii_case(prefix)
    }
}

/// Largest reply read into memory; a real one (even a long order history) is a few KiB.
pub(crate) const RESPONSE_BYTES_MAX: usize = 1 << 20;

fn bad(detail: impl Into<String>) -> ConnectorError {
    ConnectorError::BadResponse(detail.into())
}

/// Parses a reply body. Anything that is not a complete `CC5Response` document carrying a
/// `Response` or a `ProcReturnCode` is [`ConnectorError::BadResponse`].
pub(crate) fn parse_response(body: &[u8]) -> Result<Cc5Response, ConnectorError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("empty body"));
    }
    if body.len() > RESPONSE_BYTES_MAX {
        return Err(bad("body too large"));
    }
    let text = decode_body(body);
    let mut reader = quick_xml::Reader::from_str(&text);

    let mut response = Cc5Response::default();
    // Element names from the root down to the current element.
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
                if path.is_empty() && name != "CC5Response" {
                    return Err(bad(format!("unexpected root element <{}>", clip(&name))));
                }
                path.push(name);
                text_buf.clear();
            }
            Event::Empty(start) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                if path.is_empty() {
                    if name != "CC5Response" {
                        return Err(bad(format!("unexpected root element <{}>", clip(&name))));
                    }
                    root_closed = true;
                    break;
                }
                path.push(name);
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
        return Err(bad("truncated or missing CC5Response"));
    }
    if response.response.is_none() && response.proc_return_code.is_none() {
        return Err(bad("CC5Response has neither Response nor ProcReturnCode"));
    }
    Ok(response)
}

/// Records one element's text if it is a field we read: a child of the root, or a child of
/// the root's `Extra`. Deeper elements are ignored.
fn store(response: &mut Cc5Response, path: &[String], text: String) {
    match path {
        [_, name] => {
            let slot = match name.as_str() {
                "OrderId" => &mut response.order_id,
                "GroupId" => &mut response.group_id,
                "AuthCode" => &mut response.auth_code,
                "HostRefNum" => &mut response.host_ref_num,
                "TransId" => &mut response.trans_id,
                "ErrMsg" => &mut response.err_msg,
                "ERRORCODE" => &mut response.error_code,
                "Response" => {
                    response.response = Some(text);
                    return;
                }
                "ProcReturnCode" => {
                    response.proc_return_code = Some(text);
                    return;
                }
                _ => return,
            };
            *slot = text;
        }
        [_, parent, name] if parent == "Extra" => {
            response.extra.insert(name.clone(), text);
        }
        _ => {}
    }
}

/// Decodes a reply to text. Bytes that are valid UTF-8 are taken as UTF-8 whatever the
/// prolog says (some NestPay installations declare ISO-8859-9 and send UTF-8); otherwise
/// the declared encoding is used, ISO-8859-9 by default. Undecodable bytes become U+FFFD
/// rather than an error: they can only be in free text such as `ErrMsg`.
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

/// Keeps bank-supplied text in error messages short.
fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The reply to `Auth`, `PreAuth`, `PostAuth`, `Void` or `Credit`, as a fact.
///
/// Approved only when `ProcReturnCode` is `00` *and* `Response` is `Approved`; a reply in
/// which the two disagree is not a fact in either direction, so it is
/// [`ConnectorError::BadResponse`].
pub(crate) fn outcome(response: &Cc5Response) -> Result<Outcome, ConnectorError> {
    let approved_code = response.proc_return_code() == "00";
    let approved_text = response.response() == "Approved";
    match (approved_code, approved_text) {
        (true, true) => Ok(Outcome::Approved(Approval {
            auth_code: non_empty(&response.auth_code),
            host_reference: non_empty(&response.host_ref_num),
            transaction_id: non_empty(&response.trans_id),
        })),
        (false, false) => Ok(Outcome::Declined(decline(response))),
        (true, false) | (false, true) => Err(bad(format!(
            "ProcReturnCode {:?} disagrees with Response {:?}",
            clip(response.proc_return_code()),
            clip(response.response())
        ))),
    }
}

/// The decline a non-approved reply stands for. `ProcReturnCode` is the code, unless it is
/// empty or the catch-all `99` and `ERRORCODE` says more (`CORE-2008`, `215021`).
fn decline(response: &Cc5Response) -> Decline {
    decline_from(
        response.proc_return_code(),
        response.error_code(),
        response.err_msg.trim(),
    )
}

/// The decline a `ProcReturnCode`, an `ERRORCODE` and a message stand for; shared by API
/// replies and 3D callbacks (which carry the same fields flattened into the form).
pub(crate) fn decline_from(proc_return_code: &str, error_code: &str, message: &str) -> Decline {
    let (proc_return_code, error_code) = (proc_return_code.trim(), error_code.trim());
    let (code, group) =
        if (proc_return_code.is_empty() || proc_return_code == "99") && !error_code.is_empty() {
            (error_code, error_group_for_error_code(error_code))
        } else if proc_return_code.is_empty() {
            // The bank said Declined/Error without any code: a decline we cannot classify.
            ("", ErrorGroup::Declined)
        } else {
            (proc_return_code, error_group(proc_return_code))
        };
    Decline {
        group,
        code: code.to_owned(),
        message: message.trim().to_owned(),
    }
}

/// `ProcReturnCode` (ISO 8583 response codes, as NestPay relays the issuer's answer) to
/// Craftgate's error group:
///
/// | code | group | meaning |
/// |---|---|---|
/// | 51 | NotSufficientFunds | insufficient funds |
/// | 05 | DoNotHonour | do not honour |
/// | 12 | InvalidTransaction | invalid transaction |
/// | 57 | NotPermittedToCardholder | not permitted to cardholder |
/// | 43 | StolenCard | stolen card, pick up |
/// | 41 | LostCard | lost card, pick up |
/// | 04, 07 | PickupCard | pick up card (07: special conditions) |
/// | 54, 33 | ExpiredCard | expired card (33: expired, pick up) |
/// | 82, N7 | InvalidCvc2 | CVV/CVC2 check failed |
/// | 58 | NotPermittedToTerminal | not permitted to terminal |
/// | 59, 34 | FraudSuspect | suspected fraud |
/// | 93 | RestrictedByLaw | violation of law |
/// | 62 | CardNotPermitted | restricted card |
/// | 14, 15 | InvalidCard | invalid card number / no such issuer |
/// | 13 | InvalidAmount | invalid amount |
/// | 61, 65 | ExceedsWithdrawalLimit | amount / frequency limit exceeded |
/// | 91, 96 | BankNotAvailable | issuer inoperative / system malfunction |
/// | 03 | InvalidMerchantOrPos | invalid merchant |
/// | 99 | Unknown | general error (Craftgate's `UNKNOWN`) |
/// | 01, 02, 09, 28, 77, other two digits | Declined | call bank, try again, rejected |
/// | anything else | Unknown | not an ISO 8583 code we can read |
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
        code if code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()) => ErrorGroup::Declined,
        _ => ErrorGroup::Unknown,
    }
}

/// NestPay's own `ERRORCODE`s (sent with `ProcReturnCode` 99) where the message leaves no
/// doubt; every other one is a plain decline.
fn error_group_for_error_code(error_code: &str) -> ErrorGroup {
    match error_code {
        // "Kredi karti numarasi gecerli formatta degil." (P1.3)
        "CORE-2012" => ErrorGroup::InvalidCard,
        // "Taksit tablosu icin gecersiz deger" (P1.7)
        "CORE-2603" => ErrorGroup::InvalidInstallment,
        // "Girilen kart numarası doğru formatta değildir…", from the 3D gate (P1.6)
        "HPP-1001" => ErrorGroup::InvalidCard,
        // The issuer's own answer, relayed: read it as the ISO 8583 code it is.
        code if code.starts_with("ISO8583-") => error_group(&code["ISO8583-".len()..]),
        _ => ErrorGroup::Declined,
    }
}

/// The reply to an `ORDERSTATUS` inquiry, as the state of the order at the bank.
///
/// `TRANS_STAT`: `A` authorised (a pre-authorisation, or a sale not yet marked captured),
/// `C`/`S` completed, `V`/`CNCL` voided, `D`/`ERR` declined, `PN` pending. `CHARGE_TYPE_CD`
/// is `S` for the sale leg and `C` when the latest transaction is a credit (refund).
/// Anything the table does not cover is [`ConnectorError::BadResponse`]: the engine asks
/// again later rather than settle an attempt on a guess.
pub(crate) fn payment_sync(response: &Cc5Response) -> Result<PaymentSync, ConnectorError> {
    if response.is_no_record() {
        return Ok(PaymentSync::NotFound);
    }
    if response.proc_return_code() != "00" {
        // The inquiry itself failed (bad credentials, system error): says nothing about the order.
        return Err(bad(format!(
            "status inquiry failed with code {:?}: {}",
            clip(decline(response).code.as_str()),
            clip(&response.err_msg)
        )));
    }
    let trans_stat = response.extra("TRANS_STAT");
    let charge_type = response.extra("CHARGE_TYPE_CD");
    let proc_ret_cd = response.extra("PROC_RET_CD");
    let captured = parse_minor_units(response.extra("CAPTURE_AMT"), "CAPTURE_AMT")?
        .is_some_and(|amount| !amount.is_zero());
    let approval = Approval {
        auth_code: non_empty(response.extra("AUTH_CODE")),
        host_reference: non_empty(response.extra("HOST_REF_NUM")),
        transaction_id: non_empty(response.extra("TRANS_ID"))
            .or_else(|| non_empty(&response.trans_id)),
    };

    if trans_stat == "PN" {
        return Err(bad("order is pending at the bank"));
    }
    let declined =
        matches!(trans_stat, "D" | "ERR") || (!proc_ret_cd.is_empty() && proc_ret_cd != "00");
    if !declined && proc_ret_cd.is_empty() {
        return Err(bad(format!(
            "order status {:?} without PROC_RET_CD",
            clip(trans_stat)
        )));
    }
    if !declined && !matches!(trans_stat, "A" | "C" | "S" | "V" | "CNCL") {
        return Err(bad(format!("unknown TRANS_STAT {:?}", clip(trans_stat))));
    }

    match charge_type {
        "C" => {
            // The latest transaction is a credit, so the sale before it was approved and
            // captured. A credit that went through makes the order Refunded; one that was
            // declined or voided leaves it Captured, and its ids are not the sale's.
            if declined || matches!(trans_stat, "V" | "CNCL") {
                Ok(PaymentSync::Approved {
                    approval: Approval::default(),
                    state: BankOrderState::Captured,
                })
            } else {
                Ok(PaymentSync::Approved {
                    approval,
                    state: BankOrderState::Refunded,
                })
            }
        }
        "S" | "" => {
            if declined {
                let code = if !proc_ret_cd.is_empty() && proc_ret_cd != "00" {
                    proc_ret_cd
                } else {
                    trans_stat
                };
                return Ok(PaymentSync::Declined(Decline {
                    group: error_group(proc_ret_cd),
                    code: code.to_owned(),
                    message: status_message(response),
                }));
            }
            let state = match trans_stat {
                "V" | "CNCL" => BankOrderState::Voided,
                "A" if !captured => BankOrderState::PreAuthorized,
                _ => BankOrderState::Captured,
            };
            Ok(PaymentSync::Approved { approval, state })
        }
        other => Err(bad(format!("unknown CHARGE_TYPE_CD {:?}", clip(other)))),
    }
}

/// `ErrMsg` of a status reply, unless it is only the "Record(s) found for …" banner.
fn status_message(response: &Cc5Response) -> String {
    let message = response.err_msg.trim();
    if message.starts_with("Record(s) found") {
        String::new()
    } else {
        message.to_owned()
    }
}

/// A minor-unit amount from an `Extra` field (`"101"` is 1.01 TRY); `None` when empty.
fn parse_minor_units(text: &str, field: &str) -> Result<Option<MinorUnits>, ConnectorError> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u64>()
        .ok()
        .and_then(|minor| i64::try_from(minor).ok())
        .map(|minor| Some(MinorUnits::from_stored(minor)))
        .ok_or_else(|| bad(format!("{field} is not an amount: {:?}", clip(text))))
}

/// One transaction of an `ORDERHISTORY` reply (`Extra.TRXn`, tab-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HistoryEntry {
    /// `S` sale leg (sale, pre-auth, post-auth), `C` credit.
    pub charge_type: String,
    /// `TRANS_STAT` of this transaction: `A`, `C`, `S`, `V`, `D`, `ERR`, `PN`…
    pub status: String,
    pub original_amount: Option<MinorUnits>,
    pub capture_amount: Option<MinorUnits>,
    pub host_ref_num: String,
    pub auth_code: String,
    pub proc_return_code: String,
    pub trans_id: String,
}

/// Fields per `TRXn` line: chargeType, status, origAmount, captureAmount, authDateTime,
/// captureDateTime, voidDateTime, hostRefNum, authCode, procReturnCode, transId.
const HISTORY_FIELDS: usize = 11;

/// The transactions of an `ORDERHISTORY` reply; empty when the bank has no such order.
pub(crate) fn history(response: &Cc5Response) -> Result<Vec<HistoryEntry>, ConnectorError> {
    if response.is_no_record() {
        return Ok(Vec::new());
    }
    if response.proc_return_code() != "00" {
        return Err(bad(format!(
            "order history failed with code {:?}: {}",
            clip(decline(response).code.as_str()),
            clip(&response.err_msg)
        )));
    }
    let count_text = response.extra("TRXCOUNT");
    let count: usize = count_text
        .parse()
        .map_err(|_| bad(format!("TRXCOUNT is not a number: {:?}", clip(count_text))))?;
    // Each transaction is its own Extra child, so a count beyond them is a broken reply.
    if count > response.extra.len() {
        return Err(bad(format!("TRXCOUNT {count} but fewer TRX lines")));
    }
    (1..=count)
        .map(|n| {
            let name = format!("TRX{n}");
            let line = response
                .extra
                .get(&name)
                .ok_or_else(|| bad(format!("{name} missing")))?;
            let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
            if fields.len() < HISTORY_FIELDS {
                return Err(bad(format!("{name} has {} fields", fields.len())));
            }
            Ok(HistoryEntry {
                charge_type: fields[0].to_owned(),
                status: fields[1].to_owned(),
                original_amount: parse_minor_units(fields[2], &name)?,
                capture_amount: parse_minor_units(fields[3], &name)?,
                host_ref_num: fields[7].to_owned(),
                auth_code: fields[8].to_owned(),
                proc_return_code: fields[9].to_owned(),
                trans_id: fields[10].to_owned(),
            })
        })
        .collect()
}

/// The credits (refunds) of an order. A credit holds only when the bank approved it
/// (`00`) and it stands (`A`, `C` or `S`); a declined, voided or pending credit is
/// reported with `approved: false`.
pub(crate) fn bank_credits(response: &Cc5Response) -> Result<Vec<BankCredit>, ConnectorError> {
    Ok(history(response)?
        .into_iter()
        .filter(|entry| entry.charge_type == "C")
        .map(|entry| BankCredit {
            amount: entry
                .capture_amount
                .or(entry.original_amount)
                .unwrap_or(MinorUnits::ZERO),
            approved: entry.proc_return_code == "00"
                && matches!(entry.status.as_str(), "A" | "C" | "S"),
            transaction_id: non_empty(&entry.trans_id),
        })
        .collect())
}
