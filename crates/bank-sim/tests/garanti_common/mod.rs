//! Helpers shared by the Garanti simulator tests: a `GVPSRequest` builder laid out like the
//! reference library's requests (vpos-test-vectors.md §2.3) with real `HashData`, a
//! `GVPSResponse` reader, admin calls and a browser for the 3D pages.

#![allow(dead_code)] // each test binary uses a different subset
// Test helpers: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use bank_sim::garanti::hash;
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use serde_json::Value;
use tower::ServiceExt;

pub const MERCHANT: &str = "7000679";
pub const TERMINAL: &str = "30691298";
pub const PROVAUT: &str = "PROVAUT";
pub const PROVRFN: &str = "PROVRFN";
pub const PASSWORD: &str = "123qweASD/";
pub const STORE_KEY: &str = "12345678";
/// A Craftgate sandbox card that is approved.
pub const GOOD_CARD: &str = "5258640000000001";

/// A `GVPSRequest`, field by field; [`Req::xml`] lays it out like the library does.
#[derive(Debug, Clone)]
pub struct Req {
    pub mode: String,
    pub version: String,
    pub user: String,
    pub user_id: Option<String>,
    pub password: String,
    pub terminal: String,
    pub merchant: String,
    pub ip: String,
    pub card: Option<(String, String, String)>,
    pub order_id: String,
    pub kind: String,
    pub installment: Option<String>,
    pub amount: String,
    pub currency: Option<String>,
    pub cardholder_present: Option<String>,
    pub original: Option<String>,
    /// `(AuthenticationCode, SecurityLevel, TxnID, Md)`.
    pub secure3d: Option<(String, String, String, String)>,
    pub hash: Option<String>,
}

impl Req {
    fn base(kind: &str, order_id: &str, amount: &str) -> Req {
        Req {
            mode: "TEST".into(),
            version: "512".into(),
            user: PROVAUT.into(),
            user_id: None,
            password: PASSWORD.into(),
            terminal: TERMINAL.into(),
            merchant: MERCHANT.into(),
            ip: "127.0.0.1".into(),
            card: None,
            order_id: order_id.into(),
            kind: kind.into(),
            installment: Some(String::new()),
            amount: amount.into(),
            currency: Some("949".into()),
            cardholder_present: Some("0".into()),
            original: None,
            secure3d: None,
            hash: None,
        }
    }

    /// A sale or pre-auth with a card (R2.2 layout), expiry 12/30.
    pub fn payment(kind: &str, order_id: &str, amount: &str, pan: &str) -> Req {
        Req {
            card: Some((pan.into(), "1230".into(), "123".into())),
            ..Req::base(kind, order_id, amount)
        }
    }

    pub fn sale(order_id: &str, amount: &str) -> Req {
        Req::payment("sales", order_id, amount, GOOD_CARD)
    }

    /// R2.1 layout.
    pub fn post_auth(order_id: &str, amount: &str, original: &str) -> Req {
        Req {
            installment: None,
            cardholder_present: None,
            original: Some(original.into()),
            ..Req::base("postauth", order_id, amount)
        }
    }

    /// R2.4 layout: the refund user, the fixed amount.
    pub fn void(order_id: &str, original: &str) -> Req {
        Req {
            user: PROVRFN.into(),
            original: Some(original.into()),
            ..Req::base("void", order_id, "100")
        }
    }

    /// R2.12 layout.
    pub fn refund(order_id: &str, amount: &str, original: Option<&str>) -> Req {
        Req {
            user: PROVRFN.into(),
            original: original.map(str::to_owned),
            ..Req::base("refund", order_id, amount)
        }
    }

    /// R2.11 / R2.5 layout.
    pub fn inquiry(kind: &str, order_id: &str) -> Req {
        Req::base(kind, order_id, "100")
    }

    /// R2.7 layout: a 3D provision.
    pub fn provision(
        kind: &str,
        order_id: &str,
        amount: &str,
        cavv: &str,
        eci: &str,
        xid: &str,
        md: &str,
    ) -> Req {
        Req {
            cardholder_present: Some("13".into()),
            secure3d: Some((cavv.into(), eci.into(), xid.into(), md.into())),
            ..Req::base(kind, order_id, amount)
        }
    }

    pub fn hash_data(&self) -> String {
        let security = hash::security_data(&self.password, &self.terminal);
        hash::api(
            self.version != "512",
            &self.order_id,
            &self.terminal,
            self.card.as_ref().map(|c| c.0.as_str()).unwrap_or_default(),
            &self.amount,
            self.currency.as_deref().unwrap_or_default(),
            &security,
        )
    }

    pub fn xml(&self) -> String {
        fn el(out: &mut String, name: &str, text: &str) {
            out.push_str(&format!(
                "<{name}>{}</{name}>",
                quick_xml::escape::escape(text)
            ));
        }
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<GVPSRequest>");
        el(&mut x, "Mode", &self.mode);
        el(&mut x, "Version", &self.version);
        x.push_str("<Terminal>");
        el(&mut x, "ProvUserID", &self.user);
        el(
            &mut x,
            "UserID",
            self.user_id.as_deref().unwrap_or(&self.user),
        );
        el(
            &mut x,
            "HashData",
            &self.hash.clone().unwrap_or_else(|| self.hash_data()),
        );
        el(&mut x, "ID", &self.terminal);
        el(&mut x, "MerchantID", &self.merchant);
        x.push_str("</Terminal><Customer>");
        el(&mut x, "IPAddress", &self.ip);
        x.push_str("</Customer>");
        if let Some((number, expire, cvv)) = &self.card {
            x.push_str("<Card>");
            el(&mut x, "Number", number);
            el(&mut x, "ExpireDate", expire);
            el(&mut x, "CVV2", cvv);
            x.push_str("</Card>");
        }
        x.push_str("<Order>");
        el(&mut x, "OrderID", &self.order_id);
        x.push_str("</Order><Transaction>");
        el(&mut x, "Type", &self.kind);
        if let Some(installment) = &self.installment {
            el(&mut x, "InstallmentCnt", installment);
        }
        el(&mut x, "Amount", &self.amount);
        if let Some(currency) = &self.currency {
            el(&mut x, "CurrencyCode", currency);
        }
        if let Some(code) = &self.cardholder_present {
            el(&mut x, "CardholderPresentCode", code);
            el(&mut x, "MotoInd", "N");
        }
        if let Some(original) = &self.original {
            el(&mut x, "OriginalRetrefNum", original);
        }
        if let Some((cavv, eci, xid, md)) = &self.secure3d {
            x.push_str("<Secure3D>");
            el(&mut x, "AuthenticationCode", cavv);
            el(&mut x, "SecurityLevel", eci);
            el(&mut x, "TxnID", xid);
            el(&mut x, "Md", md);
            x.push_str("</Secure3D>");
        }
        x.push_str("</Transaction></GVPSRequest>\n");
        x
    }
}

/// A bank answer, raw and read.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub text: String,
    /// Element text by path below the root (`Transaction/Response/Code`).
    pub fields: HashMap<String, String>,
    /// `OrderInqResult` children, in order.
    pub inq: Vec<(String, String)>,
    /// `OrderTxn`s, each in order.
    pub txns: Vec<Vec<(String, String)>>,
}

impl Reply {
    pub fn get(&self, path: &str) -> &str {
        self.fields
            .get(path)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no <{path}> in {}", self.text))
    }

    pub fn code(&self) -> &str {
        self.get("Transaction/Response/Code")
    }

    pub fn reason(&self) -> &str {
        self.get("Transaction/Response/ReasonCode")
    }

    pub fn inq(&self, name: &str) -> &str {
        self.inq
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no OrderInqResult <{name}> in {}", self.text))
    }

    pub fn retref(&self) -> String {
        self.get("Transaction/RetrefNum").to_owned()
    }
}

pub fn txn_field<'a>(txn: &'a [(String, String)], name: &str) -> &'a str {
    txn.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {txn:?}"))
}

/// Reads a `GVPSResponse`.
pub fn read_reply(status: u16, content_type: String, raw: Vec<u8>) -> Reply {
    let text = String::from_utf8(raw).expect("answers are UTF-8");
    let mut fields = HashMap::new();
    let mut inq = Vec::new();
    let mut txns: Vec<Vec<(String, String)>> = Vec::new();
    let mut reader = Reader::from_str(&text);
    let mut path: Vec<String> = Vec::new();
    let mut value = String::new();
    loop {
        match reader.read_event().expect("answer is well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if name == "OrderTxn" {
                    txns.push(Vec::new());
                }
                path.push(name);
                value.clear();
            }
            Event::Text(t) => value.push_str(&t.unescape().unwrap()),
            Event::End(_) => {
                let name = path.pop().unwrap();
                let parent = path.last().cloned().unwrap_or_default();
                if parent == "OrderInqResult" {
                    inq.push((name.clone(), value.clone()));
                } else if parent == "OrderTxn" {
                    txns.last_mut().unwrap().push((name.clone(), value.clone()));
                }
                let key: Vec<&str> = path
                    .iter()
                    .skip(1)
                    .map(String::as_str)
                    .chain([name.as_str()])
                    .collect();
                fields.entry(key.join("/")).or_insert_with(|| value.clone());
                value.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Reply {
        status,
        content_type,
        text,
        fields,
        inq,
        txns,
    }
}

/// Posts a body to `/garanti/VPServlet` in-process.
pub async fn api(app: &Router, body: impl Into<Vec<u8>>) -> Reply {
    let request = Request::builder()
        .method("POST")
        .uri("/garanti/VPServlet")
        .header(header::CONTENT_TYPE, "application/xml; charset=UTF-8")
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
    read_reply(status, content_type, raw)
}

pub async fn send(app: &Router, req: &Req) -> Reply {
    api(app, req.xml()).await
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

/// The admin view of an order, if the sim has it.
pub async fn order(app: &Router, order_id: &str) -> Option<Value> {
    let (code, v) = admin(
        app,
        "GET",
        &format!("/garanti/_sim/orders/{MERCHANT}/{order_id}"),
        None,
    )
    .await;
    (code == 200).then_some(v)
}

pub async fn settle(app: &Router) {
    let (code, _) = admin(app, "POST", "/garanti/_sim/settle", None).await;
    assert_eq!(code, 200);
}

/// A fresh simulator router.
pub fn app() -> Router {
    bank_sim::router(bank_sim::Simulators::new())
}
