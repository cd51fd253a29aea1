//! Garanti's wire format on the bank's side: `GVPSRequest` bodies in, `GVPSResponse` out.
//!
//! Requests are raw XML (UTF-8 as the reference library sends it; ISO-8859-9 bytes are
//! tolerated) or, as some integrations post them, a form body `data=<url-encoded XML>`.
//! Every element is read by its path below the root (`Terminal/HashData`,
//! `Transaction/Secure3D/Md`). Answers are one-line UTF-8 documents laid out like the
//! replies in vectors P2.1–P2.21: `Mode, Terminal, Customer, Order{OrderID, GroupID,
//! [OrderInqResult | OrderHistInqResult]}, Transaction{Response{Source, Code, ReasonCode,
//! Message, ErrorMsg, SysErrMsg}, RetrefNum, AuthCode, BatchNum, SequenceNum, ProvDate,
//! CardNumberMasked, CardHolderName, CardType, HashData, HostMsgList, RewardInqResult,
//! GarantiCardInd}`.

use std::collections::HashMap;

use encoding_rs::WINDOWS_1254;
use quick_xml::events::Event;

use super::codes::{Refusal, Source};

/// A request, element text by path below `GVPSRequest`.
#[derive(Debug, Default)]
pub struct GvpsRequest {
    fields: HashMap<String, String>,
}

impl GvpsRequest {
    /// The text of the element at `path` (`Transaction/Type`), if present.
    pub fn field(&self, path: &str) -> Option<&str> {
        self.fields.get(path).map(String::as_str)
    }

    /// The trimmed text at `path`, `""` when absent.
    pub fn text(&self, path: &str) -> &str {
        self.field(path).map(str::trim).unwrap_or_default()
    }

    /// Whether the element at `path` (or anything below it) is present.
    pub fn has(&self, path: &str) -> bool {
        let prefix = format!("{path}/");
        self.fields
            .keys()
            .any(|k| k == path || k.starts_with(&prefix))
    }
}

/// Why a body is not a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable(pub String);

/// Reads a request body.
pub fn parse_request(body: &[u8]) -> Result<GvpsRequest, Unreadable> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let decoded;
    let body = match body[start..].strip_prefix(b"data=") {
        Some(rest) => {
            decoded = form_decode(rest);
            decoded.as_slice()
        }
        None => body,
    };
    let text = match std::str::from_utf8(body) {
        Ok(text) => text.to_owned(),
        Err(_) => WINDOWS_1254
            .decode_without_bom_handling(body)
            .0
            .into_owned(),
    };
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut request = GvpsRequest::default();
    let mut path: Vec<String> = Vec::new();
    let mut value = String::new();
    let mut closed = false;
    loop {
        match reader
            .read_event()
            .map_err(|e| Unreadable(format!("malformed xml: {e}")))?
        {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if path.is_empty() && name != "GVPSRequest" {
                    return Err(Unreadable(format!("root element <{name}>")));
                }
                path.push(name);
                value.clear();
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if path.is_empty() {
                    return Err(Unreadable("empty document".into()));
                }
                let key = key_of(&path, &name);
                request.fields.insert(key, String::new());
            }
            Event::Text(t) => {
                let t = t
                    .unescape()
                    .map_err(|e| Unreadable(format!("malformed text: {e}")))?;
                value.push_str(&t);
            }
            Event::CData(c) => value.push_str(&String::from_utf8_lossy(&c.into_inner())),
            Event::End(_) => {
                let Some(name) = path.pop() else {
                    return Err(Unreadable("unbalanced document".into()));
                };
                if path.is_empty() {
                    closed = true;
                    break;
                }
                let key = key_of(&path, &name);
                // A container's own text is whitespace at most; a leaf keeps its text.
                request
                    .fields
                    .entry(key)
                    .or_insert_with(|| std::mem::take(&mut value));
                value.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !closed {
        return Err(Unreadable("truncated or missing GVPSRequest".into()));
    }
    Ok(request)
}

/// `Terminal/HashData` from the open elements below the root and a child name.
fn key_of(path: &[String], name: &str) -> String {
    let mut key = String::new();
    for part in path.iter().skip(1) {
        key.push_str(part);
        key.push('/');
    }
    key.push_str(name);
    key
}

/// `application/x-www-form-urlencoded` value decoding: `+` is a space, `%XX` a byte.
fn form_decode(input: &[u8]) -> Vec<u8> {
    let input = match input.iter().position(|b| *b == b'&') {
        Some(end) => &input[..end],
        None => input,
    };
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => match input
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(byte) => {
                    out.push(byte);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    out
}

/// `Transaction.Response` of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseBlock {
    pub source: &'static str,
    pub code: String,
    pub reason_code: String,
    pub message: &'static str,
    pub error_msg: String,
    pub sys_err_msg: String,
}

impl ResponseBlock {
    /// An approval from the card network (P2.1).
    pub fn approved_host() -> ResponseBlock {
        ResponseBlock {
            source: Source::Host.as_str(),
            code: "00".into(),
            reason_code: "00".into(),
            message: "Approved",
            error_msg: String::new(),
            sys_err_msg: String::new(),
        }
    }

    /// An approval of the gateway itself: inquiries (P2.12, P2.16).
    pub fn approved_gvps() -> ResponseBlock {
        ResponseBlock {
            source: Source::Gvps.as_str(),
            code: "00".into(),
            reason_code: String::new(),
            message: "Approved",
            error_msg: String::new(),
            sys_err_msg: String::new(),
        }
    }

    pub fn refused(refusal: &Refusal) -> ResponseBlock {
        ResponseBlock {
            source: refusal.source.as_str(),
            code: refusal.code.to_owned(),
            reason_code: refusal.reason_code.to_owned(),
            message: "Declined",
            error_msg: refusal.error_msg.to_owned(),
            sys_err_msg: refusal.sys_err_msg.clone(),
        }
    }
}

/// An answer, field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GvpsResponse {
    pub prov_user: String,
    pub user: String,
    pub terminal_id: String,
    pub merchant_id: String,
    pub ip: String,
    pub order_id: String,
    pub response: ResponseBlock,
    pub retref_num: String,
    pub auth_code: String,
    pub batch_num: String,
    pub sequence_num: String,
    pub prov_date: String,
    pub card_masked: String,
    pub card_type: String,
    pub hash_data: String,
    /// `OrderInqResult`'s children, in order.
    pub order_inq: Option<Vec<(&'static str, String)>>,
    /// `OrderHistInqResult.OrderTxnList.OrderTxn`s, each in order.
    pub history: Option<Vec<Vec<(&'static str, String)>>>,
}

impl GvpsResponse {
    /// An answer carrying only `Transaction.Response` (the rest empty).
    pub fn bare(response: ResponseBlock) -> GvpsResponse {
        GvpsResponse {
            prov_user: String::new(),
            user: String::new(),
            terminal_id: String::new(),
            merchant_id: String::new(),
            ip: String::new(),
            order_id: String::new(),
            response,
            retref_num: String::new(),
            auth_code: String::new(),
            batch_num: String::new(),
            sequence_num: String::new(),
            prov_date: String::new(),
            card_masked: String::new(),
            card_type: String::new(),
            hash_data: String::new(),
            order_inq: None,
            history: None,
        }
    }

    pub fn approved(&self) -> bool {
        self.response.code == "00"
    }
}

fn push(xml: &mut String, name: &str, text: &str) {
    xml.push('<');
    xml.push_str(name);
    xml.push('>');
    xml.push_str(&quick_xml::escape::escape(text));
    xml.push_str("</");
    xml.push_str(name);
    xml.push('>');
}

/// The answer as the bank sends it: UTF-8, one line, trailing newline.
pub fn encode_response(r: &GvpsResponse) -> Vec<u8> {
    let mut xml = String::with_capacity(1024);
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<GVPSResponse>");
    push(&mut xml, "Mode", "");
    xml.push_str("<Terminal>");
    push(&mut xml, "ProvUserID", &r.prov_user);
    push(&mut xml, "UserID", &r.user);
    push(&mut xml, "ID", &r.terminal_id);
    push(&mut xml, "MerchantID", &r.merchant_id);
    xml.push_str("</Terminal><Customer>");
    push(&mut xml, "IPAddress", &r.ip);
    push(&mut xml, "EmailAddress", "");
    xml.push_str("</Customer><Order>");
    push(&mut xml, "OrderID", &r.order_id);
    push(&mut xml, "GroupID", "");
    if let Some(inq) = &r.order_inq {
        xml.push_str("<OrderInqResult>");
        for (name, value) in inq {
            push(&mut xml, name, value);
        }
        xml.push_str("</OrderInqResult>");
    }
    if let Some(history) = &r.history {
        xml.push_str("<OrderHistInqResult>");
        if history.is_empty() {
            xml.push_str("<OrderTxnList></OrderTxnList>");
        } else {
            xml.push_str("<OrderTxnList>");
            for txn in history {
                xml.push_str("<OrderTxn>");
                for (name, value) in txn {
                    push(&mut xml, name, value);
                }
                xml.push_str("</OrderTxn>");
            }
            xml.push_str("</OrderTxnList>");
        }
        xml.push_str("</OrderHistInqResult>");
    }
    xml.push_str("</Order><Transaction><Response>");
    let b = &r.response;
    push(&mut xml, "Source", b.source);
    push(&mut xml, "Code", &b.code);
    push(&mut xml, "ReasonCode", &b.reason_code);
    push(&mut xml, "Message", b.message);
    push(&mut xml, "ErrorMsg", &b.error_msg);
    push(&mut xml, "SysErrMsg", &b.sys_err_msg);
    xml.push_str("</Response>");
    push(&mut xml, "RetrefNum", &r.retref_num);
    push(&mut xml, "AuthCode", &r.auth_code);
    push(&mut xml, "BatchNum", &r.batch_num);
    push(&mut xml, "SequenceNum", &r.sequence_num);
    push(&mut xml, "ProvDate", &r.prov_date);
    push(&mut xml, "CardNumberMasked", &r.card_masked);
    push(&mut xml, "CardHolderName", "");
    push(&mut xml, "CardType", &r.card_type);
    push(&mut xml, "HashData", &r.hash_data);
    push(&mut xml, "HostMsgList", "");
    xml.push_str(
        "<RewardInqResult><RewardList></RewardList><ChequeList></ChequeList></RewardInqResult>",
    );
    push(&mut xml, "GarantiCardInd", "N");
    xml.push_str("</Transaction></GVPSResponse>\n");
    xml.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R2.2 of `vpos-test-vectors.md` (`GarantiPosRequestDataMapperTest.php::
    /// testCreateNonSecurePaymentRequestData` [basic]), as the library sends it.
    const R2_2: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<GVPSRequest><Mode>TEST</Mode><Version>512</Version><Terminal><ProvUserID>PROVAUT</ProvUserID><UserID>PROVAUT</UserID><HashData>2005F771B622399C0EC7B8BBBE9B5F7989B9587175239F0695C1E5D3BFAA0CF6D747A9CEE64D78B7081CB5193541AD9D129B929653E2B68BCAE6939E281D752E</HashData><ID>30691298</ID><MerchantID>7000679</MerchantID></Terminal><Customer><IPAddress>127.0.0.1</IPAddress></Customer><Card><Number>5555444433332222</Number><ExpireDate>0122</ExpireDate><CVV2>123</CVV2></Card><Order><OrderID>order222</OrderID></Order><Transaction><Type>sales</Type><InstallmentCnt></InstallmentCnt><Amount>10025</Amount><CurrencyCode>949</CurrencyCode><CardholderPresentCode>0</CardholderPresentCode><MotoInd>N</MotoInd></Transaction></GVPSRequest>\n";

    #[test]
    fn reads_the_library_request_by_path() {
        let r = parse_request(R2_2.as_bytes()).unwrap();
        assert_eq!(r.text("Terminal/MerchantID"), "7000679");
        assert_eq!(r.text("Card/Number"), "5555444433332222");
        assert_eq!(r.field("Transaction/InstallmentCnt"), Some(""));
        assert_eq!(r.text("Transaction/Amount"), "10025");
        assert!(r.has("Card"));
        assert!(!r.has("Transaction/Secure3D"));
        // As a `data=` form post too.
        let form = format!(
            "data={}",
            R2_2.replace('%', "%25")
                .replace('&', "%26")
                .replace(' ', "+")
        );
        let r = parse_request(form.as_bytes()).unwrap();
        assert_eq!(r.text("Order/OrderID"), "order222");
    }

    #[test]
    fn refuses_what_is_not_a_request() {
        for body in [
            &b""[..],
            b"<CC5Request></CC5Request>",
            b"<GVPSRequest><Mode>TEST</Mode>",
            b"<html><body>x</body></html>",
            b"<GVPSRequest/>",
        ] {
            assert!(
                parse_request(body).is_err(),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn encodes_one_line_utf8_with_escaping() {
        let mut r = GvpsResponse::bare(ResponseBlock::approved_gvps());
        r.order_id = "a&b".into();
        r.order_inq = Some(vec![("Status", "APPROVED".into())]);
        let text = String::from_utf8(encode_response(&r)).unwrap();
        assert!(text.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<GVPSResponse><Mode></Mode>"
        ));
        assert!(text.contains("<OrderID>a&amp;b</OrderID>"));
        assert!(text.contains("<OrderInqResult><Status>APPROVED</Status></OrderInqResult>"));
        assert!(text.ends_with("</Transaction></GVPSResponse>\n"));
        assert_eq!(text.lines().count(), 2);
    }
}
