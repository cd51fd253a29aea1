//! Helpers shared by the Kuveyt Türk simulator tests (included by the other `kuveyt_*.rs`
//! files with `#[path]`): message builders in the reference library's layouts
//! (`vpos-test-vectors.md` §7.3), a reply reader, and admin calls. Compiled on its own it
//! is an empty test binary.

#![allow(dead_code)] // each test binary uses a different subset
// Test helpers: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use bank_sim::kuveyt::books::request_hash;
use bank_sim::kuveyt::wire::{Node, parse_xml};
use serde_json::Value;
use tower::ServiceExt;

pub const MERCHANT: &str = "80";
pub const CUSTOMER: &str = "400235";
pub const USER: &str = "apiuser";
pub const PASS: &str = "Api123";
/// A Craftgate sandbox card that is approved (MasterCard).
pub const GOOD_CARD: &str = "5258640000000001";
pub const HOME: &str = "/kuveyt/boa.virtualpos.services/Home";
pub const SOAP: &str =
    "/kuveyt/BOA.Integration.WCFService/BOA.Integration.VirtualPos/VirtualPosService.svc/Basic";

fn element(xml: &mut String, name: &str, text: &str) {
    xml.push_str(&format!(
        "<{name}>{}</{name}>",
        bank_sim::kuveyt::wire::escape(text)
    ));
}

fn gate_message(fields: &[(&str, &str)]) -> String {
    let mut xml =
        String::from("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<KuveytTurkVPosMessage>");
    for (name, text) in fields {
        if *name == "DeviceData" {
            xml.push_str(&format!(
                "<DeviceData><ClientIP>{text}</ClientIP></DeviceData>"
            ));
        } else if *name == "MD" {
            xml.push_str(&format!("<KuveytTurkVPosAdditionalData><AdditionalData><Key>MD</Key><Data>{text}</Data></AdditionalData></KuveytTurkVPosAdditionalData>"));
        } else {
            element(&mut xml, name, text);
        }
    }
    xml.push_str("</KuveytTurkVPosMessage>\n");
    xml
}

/// A sale without 3D, laid out like vector R7.7.
pub fn sale(order_id: &str, amount: &str, pan: &str) -> String {
    sale_with(order_id, amount, pan, "0949", "0", ("30", "12"), PASS)
}

pub fn sale_with(
    order_id: &str,
    amount: &str,
    pan: &str,
    currency: &str,
    installment: &str,
    expiry: (&str, &str),
    password: &str,
) -> String {
    let hash = request_hash(MERCHANT, order_id, amount, "", "", USER, password);
    gate_message(&[
        ("MerchantId", MERCHANT),
        ("CustomerId", CUSTOMER),
        ("UserName", USER),
        ("APIVersion", "TDV2.0.0"),
        ("HashData", &hash),
        ("TransactionType", "Sale"),
        ("TransactionSecurity", "1"),
        ("MerchantOrderId", order_id),
        ("Amount", amount),
        ("DisplayAmount", amount),
        ("CurrencyCode", currency),
        ("InstallmentCount", installment),
        ("CardHolderName", "John Doe"),
        ("CardNumber", pan),
        ("CardExpireDateYear", expiry.0),
        ("CardExpireDateMonth", expiry.1),
        ("CardCVV2", "123"),
    ])
}

/// The 3D enrolment, laid out like vector R7.1.
pub fn enrolment(
    order_id: &str,
    amount: &str,
    pan: &str,
    card_type: &str,
    ok: &str,
    fail: &str,
) -> String {
    let hash = request_hash(MERCHANT, order_id, amount, ok, fail, USER, PASS);
    gate_message(&[
        ("MerchantId", MERCHANT),
        ("CustomerId", CUSTOMER),
        ("UserName", USER),
        ("APIVersion", "TDV2.0.0"),
        ("TransactionType", "Sale"),
        ("TransactionSecurity", "3"),
        ("InstallmentCount", "0"),
        ("Amount", amount),
        ("DisplayAmount", amount),
        ("CurrencyCode", "0949"),
        ("MerchantOrderId", order_id),
        ("OkUrl", ok),
        ("FailUrl", fail),
        ("DeviceData", "127.0.0.1"),
        ("CardHolderName", "John Doe"),
        ("CardType", card_type),
        ("CardNumber", pan),
        ("CardExpireDateYear", "30"),
        ("CardExpireDateMonth", "12"),
        ("CardCVV2", "123"),
        ("HashData", &hash),
    ])
}

/// The 3D provision, laid out like vector R7.6.
pub fn provision(order_id: &str, amount: &str, md: &str) -> String {
    let hash = request_hash(MERCHANT, order_id, amount, "", "", USER, PASS);
    gate_message(&[
        ("MerchantId", MERCHANT),
        ("CustomerId", CUSTOMER),
        ("UserName", USER),
        ("APIVersion", "TDV2.0.0"),
        ("HashData", &hash),
        ("CustomerIPAddress", "127.0.0.1"),
        ("MD", md),
        ("TransactionType", "Sale"),
        ("InstallmentCount", "0"),
        ("Amount", amount),
        ("DisplayAmount", amount),
        ("CurrencyCode", "0949"),
        ("MerchantOrderId", order_id),
        ("TransactionSecurity", "3"),
    ])
}

/// The bank's references of an order, from a sale reply.
#[derive(Debug, Clone, Default)]
pub struct Refs {
    pub order_id: String,
    pub rrn: String,
    pub stan: String,
    pub provision: String,
}

impl Refs {
    pub fn of(reply: &Node) -> Refs {
        Refs {
            order_id: reply.get("OrderId").to_owned(),
            rrn: reply.get("RRN").to_owned(),
            stan: reply.get("Stan").to_owned(),
            provision: reply.get("ProvisionNumber").to_owned(),
        }
    }
}

/// A SOAP call (`SaleReversal`, `DrawBack`, `PartialDrawback`), laid out like R7.2–R7.4.
pub fn reversal(op: &str, merchant_order_id: &str, refs: &Refs, amount: &str) -> String {
    let hash = request_hash(MERCHANT, merchant_order_id, amount, "", "", USER, PASS);
    let display = if op == "SaleReversal" { amount } else { "0" };
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:ser=\"http://boa.net/BOA.Integration.VirtualPos/Service\"><soapenv:Body><ser:{op}><ser:request><ser:IsFromExternalNetwork>1</ser:IsFromExternalNetwork><ser:BusinessKey>0</ser:BusinessKey><ser:ResourceId>0</ser:ResourceId><ser:ActionId>0</ser:ActionId><ser:LanguageId>0</ser:LanguageId><ser:CustomerId>{CUSTOMER}</ser:CustomerId><ser:MailOrTelephoneOrder>1</ser:MailOrTelephoneOrder><ser:Amount>{amount}</ser:Amount><ser:MerchantId>{MERCHANT}</ser:MerchantId><ser:OrderId>{}</ser:OrderId><ser:RRN>{}</ser:RRN><ser:Stan>{}</ser:Stan><ser:ProvisionNumber>{}</ser:ProvisionNumber><ser:VPosMessage><ser:MerchantId>{MERCHANT}</ser:MerchantId><ser:CustomerId>{CUSTOMER}</ser:CustomerId><ser:UserName>{USER}</ser:UserName><ser:APIVersion>TDV2.0.0</ser:APIVersion><ser:InstallmentMaturityCommisionFlag>0</ser:InstallmentMaturityCommisionFlag><ser:HashData>{hash}</ser:HashData><ser:SubMerchantId>0</ser:SubMerchantId><ser:CardType>Visa</ser:CardType><ser:BatchID>0</ser:BatchID><ser:TransactionType>{op}</ser:TransactionType><ser:InstallmentCount>0</ser:InstallmentCount><ser:Amount>{amount}</ser:Amount><ser:DisplayAmount>{display}</ser:DisplayAmount><ser:CancelAmount>{amount}</ser:CancelAmount><ser:MerchantOrderId>{merchant_order_id}</ser:MerchantOrderId><ser:FECAmount>0</ser:FECAmount><ser:CurrencyCode>0949</ser:CurrencyCode><ser:QeryId>0</ser:QeryId><ser:DebtId>0</ser:DebtId><ser:SurchargeAmount>0</ser:SurchargeAmount><ser:SGKDebtAmount>0</ser:SGKDebtAmount><ser:TransactionSecurity>1</ser:TransactionSecurity></ser:VPosMessage></ser:request></ser:{op}></soapenv:Body></soapenv:Envelope>",
        refs.order_id, refs.rrn, refs.stan, refs.provision
    )
}

/// The status inquiry, laid out like vector R7.5, with a wide date window.
pub fn status(merchant_order_id: &str) -> String {
    status_with(
        merchant_order_id,
        "2000-01-01T00:00:00",
        "2099-01-01T00:00:00",
        PASS,
    )
}

pub fn status_with(merchant_order_id: &str, start: &str, end: &str, password: &str) -> String {
    let hash = request_hash(MERCHANT, merchant_order_id, "0", "", "", USER, password);
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:ser=\"http://boa.net/BOA.Integration.VirtualPos/Service\"><soapenv:Body><ser:GetMerchantOrderDetail><ser:request><ser:IsFromExternalNetwork>1</ser:IsFromExternalNetwork><ser:BusinessKey>0</ser:BusinessKey><ser:ResourceId>0</ser:ResourceId><ser:ActionId>0</ser:ActionId><ser:LanguageId>0</ser:LanguageId><ser:CustomerId>{CUSTOMER}</ser:CustomerId><ser:MailOrTelephoneOrder>1</ser:MailOrTelephoneOrder><ser:Amount>0</ser:Amount><ser:MerchantId>{MERCHANT}</ser:MerchantId><ser:MerchantOrderId>{merchant_order_id}</ser:MerchantOrderId><ser:OrderId>0</ser:OrderId><ser:StartDate>{start}</ser:StartDate><ser:EndDate>{end}</ser:EndDate><ser:TransactionType>0</ser:TransactionType><ser:VPosMessage><ser:MerchantId>{MERCHANT}</ser:MerchantId><ser:CustomerId>{CUSTOMER}</ser:CustomerId><ser:UserName>{USER}</ser:UserName><ser:APIVersion>TDV2.0.0</ser:APIVersion><ser:InstallmentMaturityCommisionFlag>0</ser:InstallmentMaturityCommisionFlag><ser:HashData>{hash}</ser:HashData><ser:SubMerchantId>0</ser:SubMerchantId><ser:CardType>Visa</ser:CardType><ser:BatchID>0</ser:BatchID><ser:TransactionType>GetMerchantOrderDetail</ser:TransactionType><ser:InstallmentCount>0</ser:InstallmentCount><ser:Amount>0</ser:Amount><ser:DisplayAmount>0</ser:DisplayAmount><ser:CancelAmount>0</ser:CancelAmount><ser:MerchantOrderId>{merchant_order_id}</ser:MerchantOrderId><ser:CurrencyCode>0949</ser:CurrencyCode><ser:FECAmount>0</ser:FECAmount><ser:QeryId>0</ser:QeryId><ser:DebtId>0</ser:DebtId><ser:SurchargeAmount>0</ser:SurchargeAmount><ser:SGKDebtAmount>0</ser:SGKDebtAmount><ser:TransactionSecurity>1</ser:TransactionSecurity></ser:VPosMessage></ser:request></ser:GetMerchantOrderDetail></soapenv:Body></soapenv:Envelope>"
    )
}

/// A raw answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub text: String,
}

impl Answer {
    /// The answer as XML (panics when it is not).
    pub fn xml(&self) -> Node {
        parse_xml(self.text.as_bytes()).unwrap_or_else(|| panic!("not xml: {}", self.text))
    }

    /// A gate reply's `ResponseCode`.
    pub fn code(&self) -> String {
        self.xml().get("ResponseCode").to_owned()
    }

    /// A SOAP reply's `{op}Result`.
    pub fn result(&self) -> Node {
        let root = self.xml();
        let body = root.child("Body").unwrap();
        body.children[0].children[0].clone()
    }

    /// A SOAP result's first `ErrorCode`, or `Value.ResponseCode`.
    pub fn soap_code(&self) -> String {
        let result = self.result();
        if let Some(error) = result.at(&["Results", "Result"]) {
            return error.get("ErrorCode").to_owned();
        }
        result
            .child("Value")
            .map(|v| v.get("ResponseCode").to_owned())
            .unwrap_or_default()
    }
}

/// Posts a body to a path in-process.
pub async fn post_raw(
    app: &Router,
    path: &str,
    content_type: &str,
    body: impl Into<Vec<u8>>,
) -> Answer {
    let request = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::HOST, "bank.test")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.into()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let raw = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        content_type,
        text: String::from_utf8(raw).unwrap(),
    }
}

pub async fn gate(app: &Router, gate: &str, body: &str) -> Answer {
    post_raw(
        app,
        &format!("{HOME}/{gate}"),
        "text/xml; charset=UTF-8",
        body.as_bytes().to_vec(),
    )
    .await
}

pub async fn soap(app: &Router, body: &str) -> Answer {
    post_raw(
        app,
        SOAP,
        "text/xml; charset=UTF-8",
        body.as_bytes().to_vec(),
    )
    .await
}

/// Calls an admin route; returns the status and the JSON answer.
pub async fn admin(app: &Router, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(match body {
            Some(v) => Body::from(v.to_string()),
            None => Body::empty(),
        })
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, value)
}

/// The simulator's view of one order of the test merchant (`None`: no such order).
pub async fn order(app: &Router, order_id: &str) -> Option<Value> {
    let (code, value) = admin(
        app,
        "GET",
        &format!("/kuveyt/_sim/orders/{MERCHANT}/{order_id}"),
        None,
    )
    .await;
    (code == 200).then_some(value)
}

pub async fn settle(app: &Router) {
    let (code, _) = admin(
        app,
        "POST",
        "/kuveyt/_sim/settle",
        Some(serde_json::json!({ "clientId": MERCHANT })),
    )
    .await;
    assert_eq!(code, 200);
}

/// A fresh simulator router.
pub fn app() -> Router {
    bank_sim::router(bank_sim::Simulators::new())
}
