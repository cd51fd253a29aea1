//! Helpers shared by the PayFlex simulator tests (included by the other `payflex_*.rs`
//! files with `#[path]`): request builders laid out like the reference library's bodies
//! (`vpos-test-vectors.md` §9.3), an XML reader, and admin calls. Compiled on its own it
//! is an empty test binary.

#![allow(dead_code)] // each test binary uses a different subset
// Test helpers: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use serde_json::Value;
use tower::ServiceExt;

/// The reference library's test merchant (§9), preloaded.
pub const MERCHANT: &str = "000000000111111";
pub const TERMINAL: &str = "VP999999";
pub const PASSWORD: &str = "3XTgER89as";
/// A Craftgate sandbox card that is approved.
pub const GOOD_CARD: &str = "5258640000000001";
pub const VPOS: &str = "/payflex/VposService/v3/Vposreq.aspx";
pub const SEARCH: &str = "/payflex/UIService/Search.aspx";
pub const MPI: &str = "/payflex/MPIAPI/MPI_Enrollment.aspx";

pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A form body as `http_build_query` writes it.
pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `<Root><k>v</k>…</Root>` (no prolog, as the library sends `VposRequest`).
pub fn xml(root: &str, fields: &[(&str, &str)]) -> String {
    let mut out = format!("<{root}>");
    for (k, v) in fields {
        out.push_str(&format!("<{k}>{v}</{k}>"));
    }
    out.push_str(&format!("</{root}>"));
    out
}

pub fn prmstr(xml: &str) -> String {
    form(&[("prmstr", xml)])
}

/// A non-3D sale or pre-auth laid out like R9.7, with a `TransactionId`.
pub fn payment(id: &str, kind: &str, amount: &str, pan: &str) -> String {
    payment_with(id, kind, amount, pan, "203012", &[])
}

pub fn payment_with(
    id: &str,
    kind: &str,
    amount: &str,
    pan: &str,
    expiry: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut fields = vec![
        ("MerchantId", MERCHANT),
        ("Password", PASSWORD),
        ("TerminalNo", TERMINAL),
        ("TransactionType", kind),
        ("TransactionId", id),
        ("OrderId", id),
        ("CurrencyAmount", amount),
        ("CurrencyCode", "949"),
        ("ClientIp", "127.0.0.1"),
        ("TransactionDeviceSource", "0"),
        ("Pan", pan),
        ("Expiry", expiry),
        ("Cvv", "000"),
    ];
    fields.extend_from_slice(extra);
    prmstr(&xml("VposRequest", &fields))
}

/// `Capture` (R9.8), `Cancel` (R9.9) or `Refund` (R9.10) of `reference`.
pub fn follow_up(kind: &str, reference: &str, amount: Option<&str>) -> String {
    let mut fields = vec![("MerchantId", MERCHANT), ("Password", PASSWORD)];
    if kind == "Capture" {
        fields.push(("TerminalNo", TERMINAL));
    }
    fields.push(("TransactionType", kind));
    fields.push(("ReferenceTransactionId", reference));
    if let Some(amount) = amount {
        fields.push(("CurrencyAmount", amount));
    }
    prmstr(&xml("VposRequest", &fields))
}

/// A `SearchRequest` laid out like R9.13.
pub fn search(order_id: &str) -> String {
    prmstr(&format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SearchRequest><MerchantCriteria><HostMerchantId>{MERCHANT}</HostMerchantId><MerchantPassword>{PASSWORD}</MerchantPassword></MerchantCriteria><TransactionCriteria><TransactionId></TransactionId><OrderId>{order_id}</OrderId><AuthCode></AuthCode></TransactionCriteria></SearchRequest>\n"
    ))
}

/// The first text of `<name>` in `xml`.
pub fn tag<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

/// Every text of `<name>` in `xml`, in order.
pub fn tags<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(at) = rest.find(&open) {
        let start = at + open.len();
        let Some(end) = rest[start..].find(&close) else {
            break;
        };
        out.push(&rest[start..start + end]);
        rest = &rest[start + end..];
    }
    out
}

/// Posts a form body to `path`; status and body text.
pub async fn post(app: &Router, path: &str, body: String) -> (u16, String) {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "bank.test")
        .body(Body::from(body))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

/// Posts to the VPOS; the reply's text.
pub async fn vpos(app: &Router, body: String) -> String {
    let (status, text) = post(app, VPOS, body).await;
    assert_eq!(status, 200);
    assert!(
        text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><VposResponse>"),
        "{text}"
    );
    text
}

pub fn code(reply: &str) -> &str {
    tag(reply, "ResultCode").unwrap_or_default()
}

/// A JSON admin call; status and body.
pub async fn admin(app: &Router, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

pub async fn order(app: &Router, id: &str) -> Option<Value> {
    let (status, body) = admin(
        app,
        "GET",
        &format!("/payflex/_sim/orders/{MERCHANT}/{id}"),
        None,
    )
    .await;
    (status == 200).then_some(body)
}

pub async fn settle(app: &Router) {
    let (status, _) = admin(
        app,
        "POST",
        "/payflex/_sim/settle",
        Some(serde_json::json!({ "clientId": MERCHANT })),
    )
    .await;
    assert_eq!(status, 200);
}

pub fn app() -> Router {
    bank_sim::router(bank_sim::Simulators::new())
}
