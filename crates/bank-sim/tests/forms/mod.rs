//! What the InterPos and PayFor 3D tests share: posting forms to the in-process simulator
//! as a browser would, reading and changing form fields, and the test card.

#![allow(dead_code)] // each test binary uses a different subset
// Test helpers: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use bank_sim::nestpay::threeds::form::encode;
use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use tower::ServiceExt;

pub type Fields = Vec<(String, String)>;

pub fn get<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no field {name} in {fields:?}"))
}

pub fn set(fields: &mut Fields, name: &str, value: &str) {
    match fields.iter_mut().find(|(k, _)| k == name) {
        Some(slot) => slot.1 = value.to_owned(),
        None => fields.push((name.to_owned(), value.to_owned())),
    }
}

pub struct Page {
    pub status: u16,
    pub html: String,
}

pub async fn post_form(app: &Router, path: &str, body: Vec<u8>, content_type: &str) -> Page {
    let request = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Page {
        status,
        html: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

pub async fn post(app: &Router, path: &str, fields: &[(String, String)]) -> Page {
    post_form(
        app,
        path,
        encode(fields).into_bytes(),
        "application/x-www-form-urlencoded",
    )
    .await
}

pub fn pairs(fields: &[(&str, &str)]) -> Fields {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

pub fn card(pan: &str) -> CardDetails {
    CardDetails {
        number: CardNumber::parse(pan).unwrap(),
        expiry: Expiry::parse("12", "2030").unwrap(),
        cvc: Some(Cvc::parse("000").unwrap()),
        holder_name: "Ayşe Yılmaz".into(),
    }
}
