//! The NestPay simulator's bank API, driven in-process with real ISO-8859-9 XML bodies laid
//! out like the reference library's requests (vpos-test-vectors.md §1.3), checked against
//! the shapes of the real bank's answers (§1.5).

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bank_sim::nestpay::codes;
use chrono::{Duration, TimeZone, Utc};
use common::*;
use serde_json::json;

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[tokio::test]
async fn approves_a_sale_with_the_banks_answer_shape() {
    let app = app();
    let r = send(&app, &payment("order-1", "10.01", GOOD_CARD, "Auth")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "text/xml;charset=ISO-8859-9");
    assert!(
        r.raw
            .starts_with(b"<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<CC5Response>")
    );
    // Element order of vector S1.2 / P1.1.
    assert_eq!(
        r.field_names(),
        [
            "OrderId",
            "GroupId",
            "Response",
            "AuthCode",
            "HostRefNum",
            "ProcReturnCode",
            "TransId",
            "ErrMsg"
        ]
    );
    assert_eq!(
        r.extra_names(),
        [
            "SETTLEID",
            "TRXDATE",
            "ERRORCODE",
            "TERMINALID",
            "MERCHANTID",
            "CARDBRAND",
            "CARDISSUER",
            "HOSTDATE",
            "NUMCODE"
        ]
    );
    assert_eq!(r.get("OrderId"), "order-1");
    assert_eq!(r.get("GroupId"), "order-1");
    assert_eq!(r.get("Response"), "Approved");
    assert_eq!(r.get("ProcReturnCode"), "00");
    assert_eq!(r.get("ErrMsg"), "");
    let auth = r.get("AuthCode");
    assert_eq!(auth.len(), 6);
    assert!(auth.starts_with('P'));
    assert_eq!(r.get("HostRefNum").len(), 12);
    assert!(is_digits(r.get("HostRefNum")));
    let trans_id = r.get("TransId");
    assert_eq!(trans_id.len(), 14, "{trans_id}");
    assert!(is_digits(&trans_id[..5]) && is_digits(&trans_id[9..]));
    assert!(is_digits(r.extra("SETTLEID")));
    let trxdate = r.extra("TRXDATE");
    assert!(
        chrono::NaiveDateTime::parse_from_str(trxdate, "%Y%m%d %H:%M:%S").is_ok(),
        "{trxdate}"
    );
    assert_eq!(r.extra("ERRORCODE"), "");
    assert_eq!(r.extra("NUMCODE"), "00");
    assert_eq!(r.extra("CARDBRAND"), "MASTERCARD");
    assert_eq!(r.extra("MERCHANTID"), "655000200");
    assert_eq!(r.extra("HOSTDATE").len(), 11);
    // The issuer name carries Ş, which must travel as the single ISO-8859-9 byte 0xDE.
    assert_eq!(r.extra("CARDISSUER"), "ORKESTRA TEST BANKASI A.Ş.");
    assert!(r.raw.contains(&0xDE));
    assert!(std::str::from_utf8(&r.raw).is_err(), "body is not UTF-8");
}

/// Vector R1.4, byte for byte.
const R1_4: &str = "<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<CC5Request><Name>ISBANKAPI</Name><Password>ISBANK07</Password><ClientId>700655000200</ClientId><Type>Auth</Type><IPAddress>127.0.0.1</IPAddress><OrderId>order222</OrderId><Total>10.01</Total><Currency>949</Currency><Taksit></Taksit><Number>5555444433332222</Number><Expires>01/22</Expires><Cvv2Val>123</Cvv2Val><Mode>P</Mode></CC5Request>\n";

#[tokio::test]
async fn reads_the_reference_library_sale_body_verbatim() {
    let sims = bank_sim::Simulators::new();
    sims.clock()
        .set_now(Utc.with_ymd_and_hms(2021, 6, 1, 9, 0, 0).unwrap());
    let app = bank_sim::router(sims);
    // The library's test card fails Luhn: the bank answers exactly vector P1.3.
    let r = api(&app, R1_4.as_bytes().to_vec()).await;
    assert_eq!(r.get("OrderId"), "order222");
    assert_eq!(r.get("Response"), "Error");
    assert_eq!(r.extra("ERRORCODE"), "CORE-2012");
    // With a Luhn-valid card (and the clock back in 2021 for its 01/22 expiry) it passes.
    let valid = R1_4.replace("5555444433332222", "4355084355084358");
    let r = api(&app, valid.clone().into_bytes()).await;
    assert_eq!(r.get("Response"), "Approved", "{}", r.text);
    assert_eq!(r.extra("CARDBRAND"), "VISA");
    assert!(r.extra("TRXDATE").starts_with("20210601 12:00"));
    // Today the same card is expired: the issuer declines with 54.
    let app = common::app();
    let r = api(&app, valid.into_bytes()).await;
    assert_eq!(r.get("Response"), "Declined");
    assert_eq!(r.get("ProcReturnCode"), "54");
    assert_eq!(r.extra("ERRORCODE"), "ISO8583-54");
    let s = send(&app, &status("order222")).await;
    assert_eq!(s.extra("TRANS_STAT"), "D");
    assert_eq!(s.extra("PROC_RET_CD"), "54");
    assert_eq!(s.extra("PAN"), "4355 08** **** 4358");
}

#[tokio::test]
async fn every_decline_card_answers_its_iso_code() {
    let app = app();
    for (i, (pan, decline)) in codes::decline_cards().enumerate() {
        let order = format!("decline-{i}");
        let r = send(&app, &payment(&order, "1.01", pan, "Auth")).await;
        assert_eq!(r.get("Response"), "Declined", "{pan}");
        assert_eq!(r.get("ProcReturnCode"), decline.code, "{pan}");
        assert_eq!(r.get("ErrMsg"), decline.message, "{pan}");
        assert_eq!(r.get("AuthCode"), "");
        assert_eq!(r.extra("ERRORCODE"), format!("ISO8583-{}", decline.code));
        assert_eq!(r.extra("NUMCODE"), decline.code);
        // Declines are recorded; the order shows TRANS_STAT D with the decline code.
        let s = send(&app, &status(&order)).await;
        assert_eq!(s.get("ProcReturnCode"), "00");
        assert_eq!(s.extra("TRANS_STAT"), "D");
        assert_eq!(s.extra("PROC_RET_CD"), decline.code);
        assert_eq!(s.extra("AUTH_CODE"), "");
    }
    let expected = [
        ("5100050000006661", "51"),
        ("5115830000006669", "51"),
        ("5117280000006665", "51"),
        ("5117580000006668", "51"),
        ("5100560000006669", "05"),
        ("5101380000006661", "12"),
        ("5101510000006663", "57"),
        ("5101520000006662", "43"),
        ("5102210000006669", "28"),
        ("5136620000006669", "41"),
        ("5163080000006662", "54"),
        ("5164580000006660", "82"),
        ("5188960000006666", "58"),
        ("5192610000006661", "59"),
        ("5193240000006666", "93"),
        ("5200170000006666", "99"),
        ("5209220000006660", "62"),
    ];
    for (pan, code) in expected {
        assert_eq!(
            codes::decline_for_card(pan).map(|d| d.code),
            Some(code),
            "{pan}"
        );
    }
    // The APPROVED_COMPLETED sandbox card is approved; so are pre-auths on good cards.
    let r = send(&app, &payment("ok-1", "1", "5213940000006667", "Auth")).await;
    assert_eq!(r.get("Response"), "Approved");
    // Pre-auths are declined the same way.
    let r = send(
        &app,
        &payment("pre-decl", "1", "5100050000006661", "PreAuth"),
    )
    .await;
    assert_eq!(r.get("ProcReturnCode"), "51");
}

#[tokio::test]
async fn bad_credentials_are_errors() {
    let app = app();
    let wrong_password = payment("c-1", "1", GOOD_CARD, "Auth").replace("ISBANK07", "nope");
    let r = send(&app, &wrong_password).await;
    assert_eq!(r.get("Response"), "Error");
    assert_eq!(r.get("ProcReturnCode"), "99");
    assert_eq!(r.extra("ERRORCODE"), "CORE-2001");
    assert_eq!(r.get("ErrMsg"), "Kullanici adi veya sifre hatali.");
    assert_eq!(r.extra("NUMCODE"), "992001");
    let wrong_name = payment("c-1", "1", GOOD_CARD, "Auth").replace("ISBANKAPI", "X");
    assert_eq!(
        send(&app, &wrong_name).await.extra("ERRORCODE"),
        "CORE-2001"
    );
    let unknown = payment("c-1", "1", GOOD_CARD, "Auth").replace("700655000200", "999");
    let r = send(&app, &unknown).await;
    assert_eq!(r.extra("ERRORCODE"), "CORE-2002");
    assert_eq!(r.get("Response"), "Error");
    // Queries are guarded too.
    let r = send(&app, &status("c-1").replace("ISBANK07", "nope")).await;
    assert_eq!(r.extra("ERRORCODE"), "CORE-2001");
    // Nothing was booked.
    let (code, _) = admin(&app, "GET", "/nestpay/_sim/orders/700655000200/c-1", None).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn card_format_errors_use_the_banks_codes() {
    let app = app();
    // Vector P1.3: CORE-2012 with the bank's text and NUMCODE.
    let r = send(&app, &payment("f-1", "1", "5258640000000002", "Auth")).await;
    assert_eq!(r.get("Response"), "Error");
    assert_eq!(r.get("ProcReturnCode"), "99");
    assert_eq!(
        r.get("ErrMsg"),
        "Kredi karti numarasi gecerli formatta degil."
    );
    assert_eq!(r.extra("ERRORCODE"), "CORE-2012");
    assert_eq!(r.extra("NUMCODE"), "992012");
    assert_eq!(r.get("AuthCode"), "");
    assert_eq!(r.get("HostRefNum"), "");
    assert_eq!(r.extra("SETTLEID"), "");
    assert_eq!(r.field_names().len(), 8);
    assert_eq!(
        r.extra_names(),
        ["SETTLEID", "TRXDATE", "ERRORCODE", "NUMCODE"]
    );
    for pan in ["52586400", "5258a40000000001", "", "52586400000000000001"] {
        let r = send(&app, &payment("f-2", "1", pan, "Auth")).await;
        assert_eq!(r.extra("ERRORCODE"), "CORE-2012", "{pan:?}");
    }
    let bad_cvv = payment("f-3", "1", GOOD_CARD, "Auth").replace(">123<", ">12<");
    assert_eq!(send(&app, &bad_cvv).await.extra("ERRORCODE"), "CORE-2013");
    for expires in ["13/30", "1230", "12-30", ""] {
        let body = payment_with("f-4", "1", GOOD_CARD, "Auth", expires, "");
        let code = send(&app, &body).await.extra("ERRORCODE").to_owned();
        let want = if expires == "1230" { "" } else { "CORE-2014" };
        assert_eq!(code, want, "{expires:?}");
    }
    // Format errors are not booked (f-4 was approved with MMYY above).
    let (code, _) = admin(&app, "GET", "/nestpay/_sim/orders/700655000200/f-1", None).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn amounts_and_currencies_are_checked() {
    let app = app();
    for total in ["0", "-1", "1,50", "1.001", "abc", ""] {
        let r = send(&app, &payment("a-1", total, GOOD_CARD, "Auth")).await;
        assert_eq!(r.extra("ERRORCODE"), "CORE-2102", "{total:?}");
    }
    let usd = payment("a-2", "1", GOOD_CARD, "Auth").replace(">949<", ">840<");
    assert_eq!(send(&app, &usd).await.get("Response"), "Approved");
    let unknown = payment("a-3", "1", GOOD_CARD, "Auth").replace(">949<", ">999<");
    assert_eq!(send(&app, &unknown).await.extra("ERRORCODE"), "CORE-2103");
    let (_, order) = admin(&app, "GET", "/nestpay/_sim/orders/700655000200/a-2", None).await;
    assert_eq!(order["currency"], "USD");
    assert_eq!(order["amountMinor"], 100);
}

#[tokio::test]
async fn installments_must_be_empty_or_2_to_12() {
    let app = app();
    for taksit in ["1", "0", "13", "x"] {
        let body = payment_with("t-1", "1", GOOD_CARD, "Auth", "12/30", taksit);
        let r = send(&app, &body).await;
        assert_eq!(r.extra("ERRORCODE"), "CORE-2603", "{taksit}");
        assert_eq!(r.get("ErrMsg"), "Taksit tablosu icin gecersiz deger");
        assert_eq!(r.extra("NUMCODE"), "992603");
    }
    let body = payment_with("t-2", "1", GOOD_CARD, "Auth", "12/30", "12");
    assert_eq!(send(&app, &body).await.get("Response"), "Approved");
    let (_, order) = admin(&app, "GET", "/nestpay/_sim/orders/700655000200/t-2", None).await;
    assert_eq!(order["installment"], 12);
    // Installments exist only in TRY.
    let body = payment_with("t-3", "1", GOOD_CARD, "Auth", "12/30", "3").replace(">949<", ">978<");
    assert_eq!(send(&app, &body).await.extra("ERRORCODE"), "CORE-2603");
}

#[tokio::test]
async fn expiry_follows_the_bank_clock() {
    let sims = bank_sim::Simulators::new();
    let app = bank_sim::router(sims.clone());
    sims.clock()
        .set_now(Utc.with_ymd_and_hms(2030, 12, 31, 12, 0, 0).unwrap());
    let r = send(&app, &payment("e-1", "1", GOOD_CARD, "Auth")).await;
    assert_eq!(
        r.get("Response"),
        "Approved",
        "valid through the end of its month"
    );
    sims.clock().advance(Duration::days(1));
    let r = send(&app, &payment("e-2", "1", GOOD_CARD, "Auth")).await;
    assert_eq!(r.get("Response"), "Declined");
    assert_eq!(r.get("ProcReturnCode"), "54");
    assert!(r.extra("TRXDATE").starts_with("20310101"));
    // The admin clock route moves the same clock.
    let (code, v) = admin(
        &app,
        "POST",
        "/nestpay/_sim/clock",
        Some(json!({"offsetMs": 0})),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(v["offsetMs"], 0);
    let r = send(&app, &payment("e-3", "1", GOOD_CARD, "Auth")).await;
    assert_eq!(r.get("Response"), "Approved");
}

#[tokio::test]
async fn pre_auth_then_post_auth_shows_captured() {
    let app = app();
    let r = send(&app, &payment("pa-1", "2.05", GOOD_CARD, "PreAuth")).await;
    assert_eq!(r.get("Response"), "Approved");
    assert!(r.get("AuthCode").starts_with('T'));
    let pre_trans_id = r.get("TransId").to_owned();
    // Vector P1.17: an open pre-auth is TRANS_STAT A with an empty CAPTURE_AMT.
    let s = send(&app, &status("pa-1")).await;
    assert_eq!(s.get("ErrMsg"), "Record(s) found for pa-1");
    assert_eq!(s.get("Response"), "Approved");
    assert_eq!(s.get("TransId"), pre_trans_id);
    assert_eq!(s.extra("TRANS_STAT"), "A");
    assert_eq!(s.extra("CHARGE_TYPE_CD"), "S");
    assert_eq!(s.extra("ORIG_TRANS_AMT"), "205");
    assert_eq!(s.extra("CAPTURE_AMT"), "");
    assert_eq!(s.extra("CAPTURE_DTTM"), "");
    assert_eq!(s.extra("PAN"), "5258 64** **** 0001");
    assert_eq!(
        s.extra("ORDERSTATUS"),
        format!(
            "ORD_ID:pa-1\tCHARGE_TYPE_CD:S\tORIG_TRANS_AMT:205\tCAPTURE_AMT:\tTRANS_STAT:A\tAUTH_DTTM:{}\tCAPTURE_DTTM:\tAUTH_CODE:{}\tTRANS_ID:{}",
            s.extra("AUTH_DTTM"),
            s.extra("AUTH_CODE"),
            pre_trans_id
        )
    );
    // Capturing more than pre-authorised without PREAMT is refused.
    let r = send(&app, &post_auth("pa-1", Some("2.06"), None)).await;
    assert_eq!(r.get("Response"), "Error");
    assert_eq!(r.extra("ERRORCODE"), "CORE-2511");
    let r = send(&app, &post_auth("pa-1", Some("2"), None)).await;
    assert_eq!(r.get("Response"), "Approved", "{}", r.text);
    assert_eq!(r.get("ProcReturnCode"), "00");
    let s = send(&app, &status("pa-1")).await;
    assert_eq!(s.extra("TRANS_STAT"), "C");
    assert_eq!(s.extra("ORIG_TRANS_AMT"), "205");
    assert_eq!(s.extra("CAPTURE_AMT"), "200");
    assert_ne!(s.extra("CAPTURE_DTTM"), "");
    // A second post-auth is refused.
    let r = send(&app, &post_auth("pa-1", None, None)).await;
    assert_eq!(r.extra("ERRORCODE"), "CORE-2513");
    // Unknown order, or a sale: nothing to capture.
    let r = send(&app, &post_auth("nope", Some("1"), None)).await;
    assert_eq!(r.extra("ERRORCODE"), "CORE-2507");
    let (_, order) = admin(&app, "GET", "/nestpay/_sim/orders/700655000200/pa-1", None).await;
    assert_eq!(order["type"], "PreAuth");
    assert_eq!(order["status"], "Captured");
    assert_eq!(order["amountMinor"], 205);
    assert_eq!(order["capturedMinor"], 200);
}

#[tokio::test]
async fn post_auth_up_to_115_percent_with_preamt() {
    let app = app();
    send(&app, &payment("pa-2", "100", GOOD_CARD, "PreAuth")).await;
    // Vector R1.3 layout: Total above the pre-auth plus Extra.PREAMT.
    let r = send(&app, &post_auth("pa-2", Some("115.01"), Some("100"))).await;
    assert_eq!(r.extra("ERRORCODE"), "CORE-2511");
    let r = send(&app, &post_auth("pa-2", Some("110"), Some("90"))).await;
    assert_eq!(r.extra("ERRORCODE"), "CORE-2512");
    let r = send(&app, &post_auth("pa-2", Some("115"), Some("100"))).await;
    assert_eq!(r.get("Response"), "Approved");
    let s = send(&app, &status("pa-2")).await;
    assert_eq!(s.extra("CAPTURE_AMT"), "11500");
}

#[tokio::test]
async fn void_same_day_then_status_v() {
    let app = app();
    send(&app, &payment("v-1", "1.01", GOOD_CARD, "Auth")).await;
    let r = send(&app, &void("v-1")).await;
    assert_eq!(r.get("Response"), "Approved", "{}", r.text);
    assert_eq!(r.get("OrderId"), "v-1");
    assert_eq!(r.extra("NUMCODE"), "00");
    // Vector P1.18.
    let s = send(&app, &status("v-1")).await;
    assert_eq!(s.extra("TRANS_STAT"), "V");
    assert_eq!(s.extra("CHARGE_TYPE_CD"), "S");
    assert_eq!(s.extra("CAPTURE_AMT"), "101");
    assert_ne!(s.extra("VOID_DTTM"), "");
    let names = s.extra_names();
    let at = names.iter().position(|n| *n == "VOID_DTTM").unwrap();
    assert_eq!(names[at - 1], "TRANS_STAT");
    assert_eq!(names[at + 1], "XID_3D");
    // Second void: refused with the bank's CORE-2008 text, in ISO-8859-9.
    let r = send(&app, &void("v-1")).await;
    assert_eq!(r.get("Response"), "Error");
    assert_eq!(r.extra("ERRORCODE"), "CORE-2008");
    assert_eq!(
        r.get("ErrMsg"),
        "İptal edilmeye uygun satış işlemi bulunamadı."
    );
    assert_eq!(r.extra("NUMCODE"), "992008");
    assert!(r.raw.contains(&0xDD), "İ is one ISO-8859-9 byte");
    // Unknown order: vector P1.23, OrderId and GroupId empty.
    let r = send(&app, &void("never-seen")).await;
    assert_eq!(r.extra("ERRORCODE"), "CORE-2008");
    assert_eq!(r.get("OrderId"), "");
    assert_eq!(r.get("GroupId"), "");
    // Pre-auths can be voided too.
    send(&app, &payment("v-2", "3", GOOD_CARD, "PreAuth")).await;
    assert_eq!(send(&app, &void("v-2")).await.get("Response"), "Approved");
    let s = send(&app, &status("v-2")).await;
    assert_eq!(s.extra("TRANS_STAT"), "V");
    assert_eq!(s.extra("CAPTURE_AMT"), "");
    // A voided pre-auth cannot be captured.
    let r = send(&app, &post_auth("v-2", None, None)).await;
    assert_eq!(r.extra("ERRORCODE"), "CORE-2507");
    let (_, order) = admin(&app, "GET", "/nestpay/_sim/orders/700655000200/v-1", None).await;
    assert_eq!(order["voided"], true);
    assert_eq!(order["status"], "Voided");
}

#[tokio::test]
async fn credit_needs_end_of_day_and_never_exceeds_the_capture() {
    let app = app();
    send(&app, &payment("r-1", "2.01", GOOD_CARD, "Auth")).await;
    // Vector P1.27: refund before end of day.
    let r = send(&app, &credit("r-1", Some("1"))).await;
    assert_eq!(r.get("Response"), "Error");
    assert_eq!(r.get("OrderId"), "r-1");
    assert_eq!(r.extra("ERRORCODE"), "CORE-2508");
    assert_eq!(
        r.get("ErrMsg"),
        "Iade yapilamaz, siparis gunsonuna girmemis."
    );
    assert_eq!(r.extra("NUMCODE"), "992508");

    let (code, v) = admin(
        &app,
        "POST",
        "/nestpay/_sim/settle",
        Some(json!({"clientId": CLIENT})),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(v["settled"], 1);
    // After end of day the sale can no longer be voided.
    let r = send(&app, &void("r-1")).await;
    assert_eq!(r.extra("ERRORCODE"), "CORE-2008");

    let r = send(&app, &credit("r-1", Some("1"))).await;
    assert_eq!(r.get("Response"), "Approved", "{}", r.text);
    assert_eq!(r.get("ProcReturnCode"), "00");
    let credit_trans_id = r.get("TransId").to_owned();
    // Over-refund: 1.02 left, 1.50 asked.
    let r = send(&app, &credit("r-1", Some("1.50"))).await;
    assert_eq!(r.get("Response"), "Error");
    assert_eq!(r.extra("ERRORCODE"), "CORE-2509");
    // Another currency than the order's.
    let usd = credit("r-1", Some("0.01")).replace(">949<", ">840<");
    assert_eq!(send(&app, &usd).await.extra("ERRORCODE"), "CORE-2510");
    // Vector P1.19: after a credit the status describes it.
    let s = send(&app, &status("r-1")).await;
    assert_eq!(s.extra("CHARGE_TYPE_CD"), "C");
    assert_eq!(s.extra("TRANS_STAT"), "C");
    assert_eq!(s.extra("ORIG_TRANS_AMT"), "100");
    assert_eq!(s.extra("TRANS_ID"), credit_trans_id);
    // Without Total: the rest.
    let r = send(&app, &credit("r-1", None)).await;
    assert_eq!(r.get("Response"), "Approved");
    let (_, order) = admin(&app, "GET", "/nestpay/_sim/orders/700655000200/r-1", None).await;
    assert_eq!(order["refundedMinor"], 201);
    assert_eq!(order["status"], "Refunded");
    assert_eq!(order["settled"], true);
    // Nothing left.
    let r = send(&app, &credit("r-1", None)).await;
    assert_eq!(r.extra("ERRORCODE"), "CORE-2509");
    // No such order / a pre-auth never captured: nothing to refund.
    assert_eq!(
        send(&app, &credit("nope", None)).await.extra("ERRORCODE"),
        "CORE-2506"
    );
}

#[tokio::test]
async fn status_of_an_unknown_order_is_no_record_found() {
    let app = app();
    // Vector P1.15.
    let r = send(&app, &status("2022103088D22")).await;
    assert_eq!(r.get("ErrMsg"), "No record found for 2022103088D22");
    assert_eq!(r.get("ProcReturnCode"), "99");
    assert_eq!(r.get("Response"), "Declined");
    assert_eq!(r.get("OrderId"), "");
    assert_eq!(r.get("TransId"), "");
    assert_eq!(r.extra("NUMCODE"), "0");
    assert_eq!(
        r.extra("ORDERSTATUS"),
        "ORD_ID:\tCHARGE_TYPE_CD:\tORIG_TRANS_AMT:\tCAPTURE_AMT:\tTRANS_STAT:\tAUTH_DTTM:\tCAPTURE_DTTM:\tAUTH_CODE:"
    );
}

#[tokio::test]
async fn sale_status_matches_the_vector_shape() {
    let app = app();
    let sale = send(&app, &payment("st-1", "1.01", GOOD_CARD, "Auth")).await;
    let s = send(&app, &status("st-1")).await;
    // Vector P1.16.
    assert_eq!(
        s.field_names(),
        ["ErrMsg", "ProcReturnCode", "Response", "OrderId", "TransId"]
    );
    assert_eq!(
        s.extra_names(),
        [
            "AUTH_CODE",
            "AUTH_DTTM",
            "CAPTURE_AMT",
            "CAPTURE_DTTM",
            "CAVV_3D",
            "CHARGE_TYPE_CD",
            "ECI_3D",
            "HOSTDATE",
            "HOST_REF_NUM",
            "MDSTATUS",
            "NUMCODE",
            "ORDERSTATUS",
            "ORD_ID",
            "ORIG_TRANS_AMT",
            "PAN",
            "PROC_RET_CD",
            "SETTLEID",
            "TRANS_ID",
            "TRANS_STAT",
            "XID_3D"
        ]
    );
    assert_eq!(s.extra("TRANS_STAT"), "C");
    assert_eq!(s.extra("ORIG_TRANS_AMT"), "101");
    assert_eq!(s.extra("CAPTURE_AMT"), "101");
    assert_eq!(s.extra("AUTH_CODE"), sale.get("AuthCode"));
    assert_eq!(s.extra("HOST_REF_NUM"), sale.get("HostRefNum"));
    assert_eq!(s.extra("TRANS_ID"), sale.get("TransId"));
    assert_eq!(s.extra("PROC_RET_CD"), "00");
    assert_eq!(s.extra("AUTH_DTTM"), s.extra("CAPTURE_DTTM"));
    assert!(
        chrono::NaiveDateTime::parse_from_str(s.extra("AUTH_DTTM"), "%Y-%m-%d %H:%M:%S%.3f")
            .is_ok()
    );
    assert_eq!(s.extra("SETTLEID"), "");
}

#[tokio::test]
async fn order_history_lines() {
    let app = app();
    let sale = send(&app, &payment("oh-1", "1.01", GOOD_CARD, "Auth")).await;
    let refused = send(&app, &credit("oh-1", Some("1"))).await;
    assert_eq!(refused.extra("ERRORCODE"), "CORE-2508");
    // Vector P1.29: the refused credit is the newest line.
    let h = send(&app, &history("oh-1")).await;
    assert_eq!(
        h.field_names(),
        ["ErrMsg", "ProcReturnCode", "Response", "OrderId"]
    );
    assert_eq!(h.get("Response"), "Approved");
    assert_eq!(h.get("OrderId"), "oh-1");
    assert_eq!(
        h.extra_names(),
        [
            "TERMINALID",
            "MERCHANTID",
            "NUMCODE",
            "TRX1",
            "TRX2",
            "TRXCOUNT"
        ]
    );
    assert_eq!(h.extra("TRXCOUNT"), "2");
    let trx1: Vec<&str> = h.extra("TRX1").split('\t').collect();
    assert_eq!(trx1.len(), 11);
    assert_eq!(&trx1[..4], ["C", "D", "100", "100"]);
    assert_eq!(&trx1[6..10], ["", "", "", "99"]);
    assert_eq!(trx1[10], refused.get("TransId"));
    let trx2: Vec<&str> = h.extra("TRX2").split('\t').collect();
    assert_eq!(&trx2[..4], ["S", "C", "101", "101"]);
    assert_eq!(trx2[4], trx2[5]);
    assert_eq!(trx2[6], "");
    assert_eq!(trx2[7], sale.get("HostRefNum"));
    assert_eq!(trx2[8], sale.get("AuthCode"));
    assert_eq!(trx2[9], "00");
    assert_eq!(trx2[10], sale.get("TransId"));
    // Vector P1.30: a void shows as status V and a void time on the sale line.
    send(&app, &void("oh-1")).await;
    let h = send(&app, &history("oh-1")).await;
    assert_eq!(h.extra("TRXCOUNT"), "2");
    let trx2: Vec<&str> = h.extra("TRX2").split('\t').collect();
    assert_eq!(trx2[1], "V");
    assert_ne!(trx2[6], "");
    // Vector P1.32: an open pre-auth has no capture amount.
    send(&app, &payment("oh-2", "2.05", GOOD_CARD, "PreAuth")).await;
    let h = send(&app, &history("oh-2")).await;
    let trx1: Vec<&str> = h.extra("TRX1").split('\t').collect();
    assert_eq!(&trx1[..4], ["S", "A", "205", ""]);
    assert!(trx1[8].starts_with('T'));
    // Vector P1.34: unknown order.
    let h = send(&app, &history("20221030B3FF2")).await;
    assert_eq!(h.get("ErrMsg"), "No record found for 20221030B3FF2");
    assert_eq!(h.get("ProcReturnCode"), "05");
    assert_eq!(h.get("Response"), "Declined");
    assert_eq!(h.get("OrderId"), "20221030B3FF2");
    assert_eq!(h.extra("TRXCOUNT"), "0");
}

#[tokio::test]
async fn refunds_add_history_lines_after_settlement() {
    let app = app();
    send(&app, &payment("oh-3", "5", GOOD_CARD, "Auth")).await;
    admin(&app, "POST", "/nestpay/_sim/settle", None).await;
    send(&app, &credit("oh-3", Some("1"))).await;
    send(&app, &credit("oh-3", Some("2"))).await;
    let h = send(&app, &history("oh-3")).await;
    assert_eq!(h.extra("TRXCOUNT"), "3");
    assert!(h.extra("TRX1").starts_with("C\tC\t200\t200\t"));
    assert!(h.extra("TRX2").starts_with("C\tC\t100\t100\t"));
    assert!(h.extra("TRX3").starts_with("S\tC\t500\t500\t"));
    let (_, order) = admin(&app, "GET", "/nestpay/_sim/orders/700655000200/oh-3", None).await;
    assert_eq!(order["status"], "PartiallyRefunded");
    assert_eq!(order["refundedMinor"], 300);
    let types: Vec<&str> = order["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Auth", "Credit", "Credit"]);
}

#[tokio::test]
async fn duplicate_order_ids_and_retries_after_declines() {
    let app = app();
    let first = send(&app, &payment("d-1", "1", GOOD_CARD, "Auth")).await;
    assert_eq!(first.get("Response"), "Approved");
    let again = send(&app, &payment("d-1", "1", GOOD_CARD, "Auth")).await;
    assert_eq!(again.get("Response"), "Error");
    assert_eq!(again.extra("ERRORCODE"), "CORE-2007");
    // The original is untouched.
    let s = send(&app, &status("d-1")).await;
    assert_eq!(s.extra("TRANS_ID"), first.get("TransId"));
    // A declined order id may be retried.
    let declined = send(&app, &payment("d-2", "1", "5100050000006661", "Auth")).await;
    assert_eq!(declined.get("ProcReturnCode"), "51");
    let retry = send(&app, &payment("d-2", "1", GOOD_CARD, "Auth")).await;
    assert_eq!(retry.get("Response"), "Approved");
    let h = send(&app, &history("d-2")).await;
    assert_eq!(h.extra("TRXCOUNT"), "2");
    assert!(h.extra("TRX1").starts_with("S\tC\t"));
    assert!(h.extra("TRX2").starts_with("S\tD\t"));
}

#[tokio::test]
async fn missing_order_id_is_generated() {
    let app = app();
    let body = payment("", "1", GOOD_CARD, "Auth");
    let r = send(&app, &body).await;
    assert_eq!(r.get("Response"), "Approved");
    let order_id = r.get("OrderId").to_owned();
    assert!(order_id.starts_with("ORDER-"), "{order_id}");
    assert_eq!(r.get("GroupId"), order_id);
    let s = send(&app, &status(&order_id)).await;
    assert_eq!(s.extra("TRANS_STAT"), "C");
    // Order ids the bank would not accept.
    let long = "x".repeat(65);
    let r = send(&app, &payment(&long, "1", GOOD_CARD, "Auth")).await;
    assert_eq!(r.extra("ERRORCODE"), "CORE-2010");
}

#[tokio::test]
async fn malformed_and_unknown_requests_are_errors() {
    let app = app();
    for body in [
        &b"<CC5Request><Name>ISBANKAPI</Name>"[..],
        b"hello",
        b"",
        b"<CC5Response/>",
    ] {
        let r = api(&app, body.to_vec()).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.get("Response"), "Error");
        assert_eq!(r.get("ProcReturnCode"), "99");
        assert_eq!(r.extra("ERRORCODE"), "CORE-1001");
        assert_eq!(r.extra("NUMCODE"), "991001");
    }
    let unknown_type = payment("u-1", "1", GOOD_CARD, "Sale");
    assert_eq!(
        send(&app, &unknown_type).await.extra("ERRORCODE"),
        "CORE-2003"
    );
}

#[tokio::test]
async fn utf8_bodies_and_turkish_text_are_tolerated() {
    let app = app();
    // Extra elements a merchant may add (billing names) carry Turkish letters.
    let body = payment("tr-1", "1", GOOD_CARD, "Auth").replace(
        "<Mode>P</Mode>",
        "<Mode>P</Mode><BillTo><Name>Şükrü Gümüşçü</Name></BillTo>",
    );
    let r = send(&app, &body).await;
    assert_eq!(r.get("Response"), "Approved");
    let utf8 = body.replace("tr-1", "tr-2").replace("ISO-8859-9", "UTF-8");
    let r = api(&app, utf8.into_bytes()).await;
    assert_eq!(r.get("Response"), "Approved");
    // Responses are ISO-8859-9 whatever the request used.
    assert!(
        r.raw
            .starts_with(b"<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>")
    );
}

#[tokio::test]
async fn admin_stores_orders_and_settlement() {
    let app = app();
    let (code, v) = admin(
        &app,
        "POST",
        "/nestpay/_sim/stores",
        Some(json!({"clientId": "555000111", "name": "NEWAPI", "password": "NEWPASS", "storeKey": "K"})),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(v["clientId"], "555000111");
    let body = payment("n-1", "12.34", GOOD_CARD, "Auth")
        .replace(CLIENT, "555000111")
        .replace(NAME, "NEWAPI")
        .replace(PASSWORD, "NEWPASS");
    let r = send(&app, &body).await;
    assert_eq!(r.get("Response"), "Approved", "{}", r.text);
    let (code, list) = admin(&app, "GET", "/nestpay/_sim/orders/555000111", None).await;
    assert_eq!(code, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    let order = &list[0];
    assert_eq!(order["orderId"], "n-1");
    assert_eq!(order["type"], "Auth");
    assert_eq!(order["status"], "Captured");
    assert_eq!(order["amountMinor"], 1234);
    assert_eq!(order["capturedMinor"], 1234);
    assert_eq!(order["refundedMinor"], 0);
    assert_eq!(order["voided"], false);
    assert_eq!(order["settled"], false);
    assert_eq!(order["currency"], "TRY");
    assert_eq!(order["installment"], 1);
    let txn = &order["transactions"][0];
    assert_eq!(txn["type"], "Auth");
    assert_eq!(txn["amountMinor"], 1234);
    assert_eq!(txn["approved"], true);
    assert_eq!(txn["transId"], r.get("TransId"));
    // Settling another store leaves this one open; settling everything closes it.
    let (_, v) = admin(
        &app,
        "POST",
        "/nestpay/_sim/settle",
        Some(json!({"clientId": CLIENT})),
    )
    .await;
    assert_eq!(v["settled"], 0);
    let (_, v) = admin(&app, "POST", "/nestpay/_sim/settle", None).await;
    assert_eq!(v["settled"], 1);
    let (_, order) = admin(&app, "GET", "/nestpay/_sim/orders/555000111/n-1", None).await;
    assert_eq!(order["settled"], true);
    let (code, v) = admin(&app, "GET", "/nestpay/_sim/orders/555000111/none", None).await;
    assert_eq!(code, 404);
    assert!(v["error"].is_string());
    // Bad admin bodies are 400 with a JSON error.
    let (code, v) = admin(&app, "POST", "/nestpay/_sim/stores", Some(json!({"x": 1}))).await;
    assert_eq!(code, 400);
    assert!(v["error"].is_string());
}

#[tokio::test]
async fn preloaded_stores_answer() {
    let app = app();
    for (client_id, name, password, _) in bank_sim::nestpay::PRELOADED_STORES {
        let body = payment("pl-1", "1", GOOD_CARD, "Auth")
            .replace(CLIENT, client_id)
            .replace(NAME, name)
            .replace(PASSWORD, password);
        let r = send(&app, &body).await;
        assert_eq!(r.get("Response"), "Approved", "{client_id}: {}", r.text);
    }
}
