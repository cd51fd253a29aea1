//! NestPay wire-format costs: building a sale `CC5Request` (ISO-8859-9 encoding included),
//! parsing an approved `CC5Response`, parsing and reading an `ORDERSTATUS` reply, and the
//! ver3 SHA-512 form hash (a request form and a bank callback).
//!
//! `cargo bench -p connectors --bench nestpay_xml`
//!
//! The wire module is `pub(crate)`, so this bench compiles the very same source file
//! (`src/nestpay/wire.rs`) into itself; its `crate::…` imports resolve to the glob import
//! of the `connectors` crate root below. The code measured is byte for byte the connector's, built with the same profile.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
// Everything `wire.rs` imports through `crate::` (a glob, so it follows that list).
use connectors::*;
use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::money::{Currency, MinorUnits};

#[allow(dead_code)]
#[path = "../src/nestpay/wire.rs"]
mod wire;

/// An approved sale reply in the shape NestPay sends (real reply from a test system,
/// `vpos-test-vectors.md` S1.2), with a character reference in `CARDISSUER`.
const APPROVED: &str = "<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<CC5Response>\n  <OrderId>20230910AF6A</OrderId>\n  <GroupId>20230910AF6A</GroupId>\n  <Response>Approved</Response>\n  <AuthCode>P18552</AuthCode>\n  <HostRefNum>325300733333</HostRefNum>\n  <ProcReturnCode>00</ProcReturnCode>\n  <TransId>23253WkfD10806</TransId>\n  <ErrMsg></ErrMsg>\n  <Extra>\n    <SETTLEID>2589</SETTLEID>\n    <TRXDATE>20230910 22:36:30</TRXDATE>\n    <ERRORCODE></ERRORCODE>\n    <TERMINALID>00655020</TERMINALID>\n    <MERCHANTID>655000200</MERCHANTID>\n    <CARDBRAND>VISA</CARDBRAND>\n    <CARDISSUER>Z&#x130;RAAT BANKASI</CARDISSUER>\n    <AVSAPPROVE>Y</AVSAPPROVE>\n    <HOSTDATE>0910-223632</HOSTDATE>\n    <AVSERRORCODEDETAIL>avshatali-avshatali-avshatali-avshatali-</AVSERRORCODEDETAIL>\n    <NUMCODE>00</NUMCODE>\n  </Extra>\n</CC5Response>\n";

/// An `ORDERSTATUS` reply for a captured sale (fixture P1.16).
const ORDER_STATUS: &str = "<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<CC5Response><ErrMsg>Record(s) found for 2024010354F1</ErrMsg><ProcReturnCode>00</ProcReturnCode><Response>Approved</Response><OrderId>2024010354F1</OrderId><TransId>24003Vl7F13152</TransId><Extra><AUTH_CODE>P77974</AUTH_CODE><AUTH_DTTM>2024-01-03 21:37:57.259</AUTH_DTTM><CAPTURE_AMT>101</CAPTURE_AMT><CAPTURE_DTTM>2024-01-03 21:37:57.259</CAPTURE_DTTM><CAVV_3D></CAVV_3D><CHARGE_TYPE_CD>S</CHARGE_TYPE_CD><ECI_3D></ECI_3D><HOSTDATE>0103-213757</HOSTDATE><HOST_REF_NUM>400300744233</HOST_REF_NUM><MDSTATUS></MDSTATUS><NUMCODE>0</NUMCODE><ORDERSTATUS>ORD_ID:2024010354F1\tCHARGE_TYPE_CD:S\tORIG_TRANS_AMT:101\tCAPTURE_AMT:101\tTRANS_STAT:C\tAUTH_DTTM:2024-01-03 21:37:57.259\tCAPTURE_DTTM:2024-01-03 21:37:57.259\tAUTH_CODE:P77974\tTRANS_ID:24003Vl7F13152</ORDERSTATUS><ORD_ID>2024010354F1</ORD_ID><ORIG_TRANS_AMT>101</ORIG_TRANS_AMT><PAN>4546 71** **** 7894</PAN><PROC_RET_CD>00</PROC_RET_CD><SETTLEID></SETTLEID><TRANS_ID>24003Vl7F13152</TRANS_ID><TRANS_STAT>C</TRANS_STAT><XID_3D></XID_3D></Extra></CC5Response>\n";

/// A flat JSON fixture as posted form fields (`null` → empty).
fn form_fields(json: &str) -> Vec<(String, String)> {
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let Some(map) = value.as_object() else {
        return Vec::new();
    };
    map.iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

fn fail(what: &str) -> ! {
    eprintln!("bench set-up failed: {what}");
    std::process::exit(1)
}

fn benches(c: &mut Criterion) {
    let card = CardDetails {
        number: CardNumber::parse("5258640000000001").unwrap_or_else(|_| fail("card")),
        expiry: Expiry::parse("07", "2044").unwrap_or_else(|_| fail("expiry")),
        cvc: Some(Cvc::parse("000").unwrap_or_else(|_| fail("cvc"))),
        holder_name: "Haluk Demir".into(),
    };
    let credentials = wire::Credentials {
        name: "ORKESTRA",
        password: "ORKESTRA1",
        client_id: "100200127",
    };
    let request = AuthorizeRequest {
        order_id: "K7M2Q9XW4T8HB3NC6PZR",
        kind: AuthorizeKind::Sale,
        amount: MinorUnits::from_stored(10_000),
        currency: Currency::Try,
        installment: 1,
        card: &card,
        client_ip: Some("203.0.113.10"),
    };
    // Sanity: the replies read as the connector reads them.
    let approved = wire::parse_response(APPROVED.as_bytes()).unwrap_or_else(|_| fail("parse"));
    if !matches!(wire::outcome(&approved), Ok(Outcome::Approved(_))) {
        fail("approved reply did not read as an approval");
    }
    let status = wire::parse_response(ORDER_STATUS.as_bytes()).unwrap_or_else(|_| fail("status"));
    if !matches!(
        wire::payment_sync(&status),
        Ok(PaymentSync::Approved {
            state: BankOrderState::Captured,
            ..
        })
    ) {
        fail("order status did not read as captured");
    }
    let request_form = form_fields(include_str!("../src/nestpay/fixtures/h1_3.json"));
    let callback = form_fields(include_str!("../src/nestpay/fixtures/h1_5.json"));
    if !connectors::nestpay::hash::verify_ver3_callback(&callback, "123456") {
        fail("callback fixture does not verify");
    }

    let mut group = c.benchmark_group("nestpay");
    group.bench_function("build_sale_cc5request_iso8859_9", |b| {
        b.iter(|| wire::authorize_request(black_box(credentials), black_box(&request)))
    });
    group.bench_function("parse_approved_cc5response", |b| {
        b.iter(|| wire::parse_response(black_box(APPROVED.as_bytes())))
    });
    group.bench_function("parse_and_read_approved_outcome", |b| {
        b.iter(|| {
            wire::parse_response(black_box(APPROVED.as_bytes()))
                .and_then(|response| wire::outcome(&response))
        })
    });
    group.bench_function("parse_orderstatus_response", |b| {
        b.iter(|| wire::parse_response(black_box(ORDER_STATUS.as_bytes())))
    });
    group.bench_function("parse_and_read_orderstatus", |b| {
        b.iter(|| {
            wire::parse_response(black_box(ORDER_STATUS.as_bytes()))
                .and_then(|response| wire::payment_sync(&response))
        })
    });
    group.bench_function(
        format!("ver3_sha512_request_form_{}_fields", request_form.len()),
        |b| b.iter(|| connectors::nestpay::hash::ver3_hash(black_box(&request_form), "123456")),
    );
    group.bench_function(
        format!("ver3_sha512_verify_callback_{}_fields", callback.len()),
        |b| {
            b.iter(|| {
                connectors::nestpay::hash::verify_ver3_callback(black_box(&callback), "123456")
            })
        },
    );
    group.finish();
}

criterion_group! {
    name = nestpay_benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = benches
}
criterion_main!(nestpay_benches);
