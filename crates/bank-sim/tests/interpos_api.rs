//! The InterPos simulator's API rules, through its HTTP router in-process: the reference
//! library's request bodies (`vpos-test-vectors.md` §6.3), formats, credentials, decline
//! cards, post-auth/void/refund books, the status record, and the admin endpoints.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "interpos_support.rs"]
mod support;

use serde_json::json;
use support::*;

#[tokio::test]
async fn sale_is_approved_in_the_banks_layout() {
    let app = app();
    let reply = send(&app, &payment("api-1", "100.25", GOOD_CARD, "Auth")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type, "text/plain; charset=utf-8");
    assert_eq!(reply.code(), "00");
    assert_eq!(reply.get("TxnResult"), "Success");
    assert_eq!(reply.get("Amount"), "100,25");
    assert_eq!(reply.get("OrderId"), "api-1");
    assert_eq!(reply.get("AuthCode").len(), 6);
    // The field order of the bank's reply (vector S6.1).
    let names = reply.field_names();
    assert_eq!(names.len(), 38);
    assert_eq!(
        names[..6],
        [
            "OrderId",
            "ProcReturnCode",
            "HostRefNum",
            "AuthCode",
            "TxnResult",
            "ErrorMessage"
        ]
    );
    assert_eq!(names[names.len() - 1], "QrFastPaymentResultDesc");
    let order = order(&app, "api-1").await.unwrap();
    assert_eq!(
        (order["status"].as_str(), order["amountMinor"].as_i64()),
        (Some("Captured"), Some(10_025))
    );
    assert_eq!(order["pan"], "525864******0001");
}

/// R6.2 (`InterPosRequestDataMapperTest::testCreateNonSecurePaymentRequestData`): the
/// library's own body is read; its test card fails Luhn and its `CardType` (visa) does not
/// match the MasterCard number, so the bank refuses it.
#[tokio::test]
async fn library_vector_body_is_read_and_its_card_is_refused() {
    let app = app();
    let r6_2 = "UserCode=InterTestApi&UserPass=3&ShopCode=3123&TxnType=Auth&SecureType=NonSecure&OrderId=order222&PurchAmount=100.25&Currency=949&InstallmentCount=&MOTO=0&Lang=tr&CardType=0&Pan=5555444433332222&Expiry=1221&Cvv2=122";
    let reply = send(&app, r6_2).await;
    assert_eq!((reply.code(), reply.get("ErrorCode")), ("14", "14"));
    assert_eq!(reply.get("TxnResult"), "Failed");
    assert_eq!(order(&app, "order222").await, None);
    // R6.8: a status inquiry of that order.
    let r6_8 = "UserCode=InterTestApi&UserPass=3&ShopCode=3123&orgOrderId=order222&TxnType=StatusHistory&SecureType=NonSecure&Lang=tr";
    assert_eq!(send(&app, r6_8).await.code(), "E39");
}

#[tokio::test]
async fn format_errors_are_refused_and_book_nothing() {
    let app = app();
    for (i, (amount, pan, expiry, installment, card_type, code)) in [
        ("1", "5258640000000002", "1230", "", "1", "14"),
        ("1", "52586400", "1230", "", "1", "14"),
        ("1", GOOD_CARD, "1330", "", "1", "E31"),
        ("1", GOOD_CARD, "12/30", "", "1", "E31"),
        ("1", GOOD_CARD, "1230", "", "0", "E31"),
        ("1", GOOD_CARD, "1230", "", "", "E31"),
        ("1,00", GOOD_CARD, "1230", "", "1", "E31"),
        ("0", GOOD_CARD, "1230", "", "1", "E31"),
        ("1.001", GOOD_CARD, "1230", "", "1", "E31"),
        ("", GOOD_CARD, "1230", "", "1", "E31"),
        ("1", GOOD_CARD, "1230", "13", "1", "E31"),
        ("1", GOOD_CARD, "1230", "x", "1", "E31"),
    ]
    .into_iter()
    .enumerate()
    {
        let order_id = format!("fmt-{i}");
        let reply = send(
            &app,
            &payment_with(
                &order_id,
                amount,
                pan,
                "Auth",
                expiry,
                installment,
                card_type,
            ),
        )
        .await;
        assert_eq!(reply.code(), code, "case {i}: {}", reply.text);
        assert_eq!(reply.get("TxnResult"), "Failed");
        assert_eq!(order(&app, &order_id).await, None, "case {i}");
    }
    for (body, code) in [
        (payment("bad id", "1", GOOD_CARD, "Auth"), "E31"),
        (payment("x", "1", GOOD_CARD, "Sale"), "E31"),
        (
            payment("x", "1", GOOD_CARD, "Auth").replace("Currency=949", "Currency=999"),
            "E31",
        ),
        (
            payment("x", "1", GOOD_CARD, "Auth")
                .replace("SecureType=NonSecure", "SecureType=Report"),
            "E31",
        ),
        ("garbage".to_owned(), "81"),
        (String::new(), "81"),
    ] {
        assert_eq!(send(&app, &body).await.code(), code, "{body}");
    }
}

#[tokio::test]
async fn installments_are_for_the_lira_only_and_cvv_may_be_absent() {
    let app = app();
    let reply = send(
        &app,
        &payment_with("inst-1", "12", GOOD_CARD, "Auth", "1230", "6", "1"),
    )
    .await;
    assert_eq!(reply.code(), "00");
    assert_eq!(order(&app, "inst-1").await.unwrap()["installment"], 6);
    let euros = payment_with("inst-2", "12", GOOD_CARD, "Auth", "1230", "3", "1")
        .replace("Currency=949", "Currency=978");
    assert_eq!(send(&app, &euros).await.code(), "E31");
    let no_cvv = payment("cof-1", "1", GOOD_CARD, "Auth").replace("&Cvv2=123", "");
    assert_eq!(send(&app, &no_cvv).await.code(), "00");
    let bad_cvv = payment("cvv-1", "1", GOOD_CARD, "Auth").replace("Cvv2=123", "Cvv2=12");
    assert_eq!(send(&app, &bad_cvv).await.code(), "E31");
}

#[tokio::test]
async fn credentials_are_checked_like_the_bank() {
    let app = app();
    let wrong_pass = payment("cr-1", "1", GOOD_CARD, "Auth").replace("UserPass=3", "UserPass=4");
    let reply = send(&app, &wrong_pass).await;
    assert_eq!((reply.code(), reply.get("OrderId")), ("81", "cr-1"));
    let wrong_user =
        payment("cr-2", "1", GOOD_CARD, "Auth").replace("UserCode=InterTestApi", "UserCode=X");
    assert_eq!(send(&app, &wrong_user).await.code(), "81");
    // An unknown shop: the real answer of vector P6.1.
    let unknown = payment("cr-3", "1", GOOD_CARD, "Auth").replace("ShopCode=3123", "ShopCode=9");
    let reply = send(&app, &unknown).await;
    assert_eq!(
        (
            reply.code(),
            reply.get("ErrorCode"),
            reply.get("ErrorMessage")
        ),
        ("81", "B810002", "Terminal Aktif Degil")
    );
    // The sandbox shop's user cannot sign in to the test shop.
    let other = payment("cr-4", "1", GOOD_CARD, "Auth")
        .replace("UserCode=InterTestApi", "UserCode=ORKESTRA_API")
        .replace("UserPass=3", "UserPass=ORKESTRA1");
    assert_eq!(send(&app, &other).await.code(), "81");
    assert_eq!(
        send(&app, &other.replace("ShopCode=3123", "ShopCode=3124"))
            .await
            .code(),
        "00"
    );
    for id in ["cr-1", "cr-2", "cr-3", "cr-4"] {
        assert_eq!(order(&app, id).await, None);
    }
}

#[tokio::test]
async fn decline_cards_are_declined_with_their_iso_codes_and_may_be_retried() {
    let app = app();
    for (pan, code) in [
        ("5100050000006661", "51"),
        ("5100560000006669", "05"),
        ("5101380000006661", "12"),
        ("5101510000006663", "57"),
        ("5101520000006662", "43"),
    ] {
        let order_id = format!("dc-{code}");
        let reply = send(&app, &payment(&order_id, "1", pan, "Auth")).await;
        assert_eq!(reply.code(), code, "{pan}");
        assert_eq!(reply.get("ErrorCode"), code);
        assert_eq!(reply.get("TxnResult"), "Failed");
        assert!(reply.get("AuthCode").is_empty());
        assert_eq!(order(&app, &order_id).await.unwrap()["status"], "Declined");
        let s = send(&app, &status(&order_id)).await;
        assert_eq!((s.code(), s.get("TxnStat")), (code, "N"));
    }
    // A declined order id may be retried; then it is taken.
    assert_eq!(
        send(&app, &payment("dc-51", "1", GOOD_CARD, "Auth"))
            .await
            .code(),
        "00"
    );
    assert_eq!(
        send(&app, &payment("dc-51", "1", GOOD_CARD, "Auth"))
            .await
            .code(),
        "E31"
    );
    assert_eq!(
        order(&app, "dc-51").await.unwrap()["transactions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn expired_cards_are_declined_by_the_banks_clock() {
    let app = app();
    let expired = payment_with("exp-1", "1", GOOD_CARD, "Auth", "0120", "", "1");
    assert_eq!(send(&app, &expired).await.code(), "54");
    // Move the bank's clock past the card's expiry.
    let (code, _) = admin(
        &app,
        "POST",
        "/interpos/_sim/clock",
        Some(json!({"now": "2031-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        send(&app, &payment("exp-2", "1", GOOD_CARD, "Auth"))
            .await
            .code(),
        "54"
    );
}

#[tokio::test]
async fn post_auth_rules() {
    let app = app();
    assert_eq!(send(&app, &post_auth("none", "1")).await.code(), "E39");
    assert_eq!(
        send(&app, &payment("pa-s", "10", GOOD_CARD, "Auth"))
            .await
            .code(),
        "00"
    );
    assert_eq!(send(&app, &post_auth("pa-s", "10")).await.code(), "E31");
    assert_eq!(
        send(&app, &payment("pa-1", "100", GOOD_CARD, "PreAuth"))
            .await
            .code(),
        "00"
    );
    let s = send(&app, &status("pa-1")).await;
    assert_eq!(
        (s.get("ChargeTypeCd"), s.get("PurchAmount")),
        ("P", "100,00")
    );
    assert_eq!(send(&app, &post_auth("pa-1", "100.01")).await.code(), "E31");
    let usd = post_auth("pa-1", "50").replace("Currency=949", "Currency=840");
    assert_eq!(send(&app, &usd).await.code(), "E31");
    let reply = send(&app, &post_auth("pa-1", "80.5")).await;
    assert_eq!((reply.code(), reply.get("Amount")), ("00", "80,50"));
    assert_eq!(send(&app, &post_auth("pa-1", "10")).await.code(), "E31");
    let s = send(&app, &status("pa-1")).await;
    assert_eq!(
        (s.get("ChargeTypeCd"), s.get("PurchAmount")),
        ("C", "80,50")
    );
    let order = order(&app, "pa-1").await.unwrap();
    assert_eq!(order["capturedMinor"], 8_050);
    // The refused post-auths are on the order's record too.
    let kinds: Vec<(&str, bool)> = order["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["type"].as_str().unwrap(),
                t["approved"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("PreAuth", true),
            ("PostAuth", false),
            ("PostAuth", false),
            ("PostAuth", true),
            ("PostAuth", false)
        ]
    );
}

#[tokio::test]
async fn void_rules() {
    let app = app();
    assert_eq!(send(&app, &void("none")).await.code(), "E39");
    assert_eq!(
        send(&app, &payment("v-dec", "1", "5100050000006661", "Auth"))
            .await
            .code(),
        "51"
    );
    assert_eq!(send(&app, &void("v-dec")).await.code(), "E31");
    assert_eq!(
        send(&app, &payment("v-1", "7.5", GOOD_CARD, "Auth"))
            .await
            .code(),
        "00"
    );
    let reply = send(&app, &void("v-1")).await;
    assert_eq!((reply.code(), reply.get("Amount")), ("00", "7,50"));
    assert_eq!(send(&app, &void("v-1")).await.code(), "E31");
    let s = send(&app, &status("v-1")).await;
    assert_eq!(s.get("TxnStat"), "V");
    assert_ne!(s.get("VoidDate"), "1.1.0001 00:00:00");
    // After end of day a void is refused.
    assert_eq!(
        send(&app, &payment("v-2", "1", GOOD_CARD, "Auth"))
            .await
            .code(),
        "00"
    );
    settle(&app).await;
    assert_eq!(send(&app, &void("v-2")).await.code(), "E31");
    assert_eq!(order(&app, "v-2").await.unwrap()["status"], "Captured");
}

#[tokio::test]
async fn refund_rules() {
    let app = app();
    assert_eq!(send(&app, &refund("none", "1")).await.code(), "E39");
    assert_eq!(
        send(&app, &payment("r-1", "100", GOOD_CARD, "Auth"))
            .await
            .code(),
        "00"
    );
    // Not before end of day.
    let reply = send(&app, &refund("r-1", "10")).await;
    assert_eq!(reply.code(), "E31");
    assert!(reply.get("ErrorMessage").contains("iptal"));
    settle(&app).await;
    assert_eq!(send(&app, &refund("r-1", "100.01")).await.code(), "E31");
    assert_eq!(send(&app, &refund("r-1", "0")).await.code(), "E31");
    assert_eq!(send(&app, &refund("r-1", "30")).await.code(), "00");
    assert_eq!(send(&app, &refund("r-1", "70.01")).await.code(), "E31");
    let s = send(&app, &status("r-1")).await;
    assert_eq!(s.get("RefundedAmount"), "30,00");
    // Empty amount: everything left.
    assert_eq!(send(&app, &refund("r-1", "")).await.code(), "00");
    let order = order(&app, "r-1").await.unwrap();
    assert_eq!(
        (order["status"].as_str(), order["refundedMinor"].as_i64()),
        (Some("Refunded"), Some(10_000))
    );
    assert_eq!(send(&app, &refund("r-1", "1")).await.code(), "E31");
    // A pre-auth never captured has nothing to refund.
    assert_eq!(
        send(&app, &payment("r-2", "5", GOOD_CARD, "PreAuth"))
            .await
            .code(),
        "00"
    );
    settle(&app).await;
    assert_eq!(send(&app, &refund("r-2", "5")).await.code(), "E31");
}

#[tokio::test]
async fn status_record_follows_vector_p6_7() {
    let app = app();
    let unknown = send(&app, &status("nope")).await;
    assert_eq!(
        unknown.field_names(),
        [
            "OrderId",
            "ProcReturnCode",
            "BatchNo",
            "TransId",
            "TRXDATE",
            "TxnStat",
            "PurchAmount",
            "VoidDate",
            "TxnStatus",
            "ChargeTypeCd",
            "ErrorCode",
            "ErrorMessage",
            "RefundedAmount",
            "AuthCode"
        ]
    );
    assert_eq!(
        (
            unknown.code(),
            unknown.get("TransId"),
            unknown.get("AuthCode")
        ),
        ("E39", "", "")
    );
    let paid = send(&app, &payment("st-1", "1.01", GOOD_CARD, "Auth")).await;
    let s = send(&app, &status("st-1")).await;
    assert_eq!(s.field_names(), unknown.field_names());
    assert_eq!(
        (
            s.code(),
            s.get("TxnStat"),
            s.get("ChargeTypeCd"),
            s.get("PurchAmount"),
            s.get("RefundedAmount"),
            s.get("VoidDate"),
        ),
        ("00", "Y", "S", "1,01", "0,00", "1.1.0001 00:00:00")
    );
    assert_eq!(s.get("AuthCode"), paid.get("AuthCode"));
    assert_eq!(s.get("TransId"), paid.get("TransId"));
}

#[tokio::test]
async fn admin_endpoints() {
    let app = app();
    let (code, v) = admin(
        &app,
        "POST",
        "/interpos/_sim/stores",
        Some(json!({"clientId": "4000", "name": "NEW_USER", "password": "pw", "storeKey": "key"})),
    )
    .await;
    assert_eq!((code, v["clientId"].as_str()), (200, Some("4000")));
    let body = payment("adm-1", "1", GOOD_CARD, "Auth")
        .replace("ShopCode=3123", "ShopCode=4000")
        .replace("UserCode=InterTestApi", "UserCode=NEW_USER")
        .replace("UserPass=3", "UserPass=pw");
    assert_eq!(send(&app, &body).await.code(), "00");
    let (code, list) = admin(&app, "GET", "/interpos/_sim/orders/4000", None).await;
    assert_eq!(code, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["clientId"], "4000");
    let (code, v) = admin(&app, "GET", "/interpos/_sim/orders/4000/none", None).await;
    assert_eq!(code, 404);
    assert!(v["error"].is_string());
    assert_eq!(
        admin(
            &app,
            "POST",
            "/interpos/_sim/stores",
            Some(json!({"clientId": "", "name": "x", "password": "y"}))
        )
        .await
        .0,
        400
    );
    let (code, v) = admin(
        &app,
        "POST",
        "/interpos/_sim/faults",
        Some(json!({"clientId": SHOP, "mode": "html", "count": 2})),
    )
    .await;
    assert_eq!((code, v["pending"][0]["count"].as_u64()), (200, Some(2)));
    let (_, v) = admin(&app, "GET", &format!("/interpos/_sim/faults/{SHOP}"), None).await;
    assert_eq!(v["pending"][0]["mode"], "html");
    for bad in [
        json!({"clientId": SHOP, "mode": "boom"}),
        json!({"clientId": SHOP, "mode": "delay"}),
    ] {
        assert_eq!(
            admin(&app, "POST", "/interpos/_sim/faults", Some(bad))
                .await
                .0,
            400
        );
    }
    let (code, v) = admin(
        &app,
        "DELETE",
        &format!("/interpos/_sim/faults?clientId={SHOP}"),
        None,
    )
    .await;
    assert_eq!((code, v["cleared"].as_str()), (200, Some(SHOP)));
    let (code, v) = admin(&app, "POST", "/interpos/_sim/settle", None).await;
    assert_eq!((code, v["settled"].as_u64()), (200, Some(1)));
    let (code, v) = admin(
        &app,
        "POST",
        "/interpos/_sim/clock",
        Some(json!({"advanceMs": 1000})),
    )
    .await;
    assert_eq!(
        (code, v["offsetMs"].as_i64().map(|ms| ms >= 1000)),
        (200, Some(true))
    );
    assert_eq!(
        admin(&app, "POST", "/interpos/_sim/clock", Some(json!({})))
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn direct_answers_without_http() {
    let sims = bank_sim::Simulators::new();
    let sim = bank_sim::interpos::InterposSim::new(sims.clock().clone());
    let bytes = sim.answer(payment("direct-1", "1", GOOD_CARD, "Auth").as_bytes());
    let reply = read_reply(200, String::new(), bytes);
    assert_eq!(reply.code(), "00");
    assert_eq!(
        sim.order(SHOP, "direct-1").unwrap().unwrap().status,
        "Captured"
    );
    assert_eq!(sim.orders(SHOP).unwrap().len(), 1);
    assert_eq!(
        sim.merchant_pass(SHOP).unwrap().as_deref(),
        Some(MERCHANT_PASS)
    );
    // Orkestra's sandbox shop is preloaded too.
    assert_eq!(
        sim.merchant_pass("3124").unwrap().as_deref(),
        Some("SANDBOXKEYD")
    );
}
