//! The Akbank simulator's API rules, in-process: signatures and terminal checks, field
//! formats, decline cards, and the books (post-auth once, cancel same day, refunds after end
//! of day and never above the captured amount, order history), plus the admin API.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "akbank_support.rs"]
mod support;

use bank_sim::akbank::wire::hmac_b64;
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn an_approved_sale_looks_like_the_banks() {
    let app = app();
    let answer = send(&app, &payment("API1", "125.50", GOOD_CARD, "1000")).await;
    assert_eq!(code(&answer), "VPS-0000", "{answer}");
    assert_eq!(answer["txnCode"], "1000");
    assert_eq!(answer["responseMessage"], "BAŞARILI");
    assert_eq!(answer["hostResponseCode"], "00");
    assert_eq!(answer["order"]["orderId"], "API1");
    assert_eq!(answer["terminal"]["terminalSafeId"], TERMINAL);
    assert_eq!(answer["transaction"]["authCode"].as_str().unwrap().len(), 6);
    assert_eq!(answer["transaction"]["rrn"].as_str().unwrap().len(), 12);
    assert!(answer["transaction"]["stan"].is_u64());
    assert!(answer["transaction"]["batchNumber"].is_u64());
    assert_eq!(answer["txnDateTime"].as_str().unwrap().len(), 23);
    let order = order(&app, "API1").await.unwrap();
    assert_eq!(order["status"], "Captured");
    assert_eq!(order["amountMinor"], 12_550);
    assert_eq!(order["pan"], "525864******0001");
}

#[tokio::test]
async fn the_auth_hash_and_the_terminal_are_checked() {
    let app = app();
    let body = payment("API2", "1.00", GOOD_CARD, "1000").to_string();
    let good = hmac_b64(KEY, body.as_bytes());
    for hash in [
        None,
        Some(""),
        Some("AAAA"),
        Some(&hmac_b64("other", body.as_bytes())[..]),
    ] {
        let (status, answer) = post_raw(&app, body.as_bytes(), hash).await;
        assert_eq!((status, code(&answer)), (200, "VPS-1901"), "{hash:?}");
    }
    // The body changed after signing.
    let tampered = body.replace("\"1.00\"", "\"2.00\"");
    let (_, answer) = post_raw(&app, tampered.as_bytes(), Some(&good)).await;
    assert_eq!(code(&answer), "VPS-1901");
    assert!(order(&app, "API2").await.is_none());
    // Unknown merchant, or another terminal.
    for (merchant, terminal) in [
        ("X", TERMINAL),
        (MERCHANT, "2023090417500284633D137A249DBBEB"),
    ] {
        let mut request = payment("API2", "1.00", GOOD_CARD, "1000");
        request["terminal"] = json!({"merchantSafeId": merchant, "terminalSafeId": terminal});
        let body = request.to_string();
        let (_, answer) =
            post_raw(&app, body.as_bytes(), Some(&hmac_b64(KEY, body.as_bytes()))).await;
        assert_eq!(code(&answer), "VPS-1902");
    }
    let (_, answer) = post_raw(&app, body.as_bytes(), Some(&good)).await;
    assert_eq!(code(&answer), "VPS-0000");
    // The same signed body again: its randomNumber was used.
    let (_, answer) = post_raw(&app, body.as_bytes(), Some(&good)).await;
    assert_eq!(code(&answer), "VPS-1903");
}

#[tokio::test]
async fn bodies_that_are_not_json_get_http_400() {
    let app = app();
    for body in [&b"<xml/>"[..], b"", b"[1]", b"{\"a\":"] {
        let (status, answer) = post_raw(&app, body, Some("x")).await;
        assert_eq!(status, 400);
        assert_eq!(answer["code"], "VPS-1903");
        assert!(answer["message"].is_string());
    }
}

#[tokio::test]
async fn the_head_is_checked() {
    let app = app();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("version", json!("1.01"), "VPS-1903"),
        ("randomNumber", json!("short"), "VPS-1903"),
        (
            "requestDateTime",
            json!("2020-01-01T00:00:00.000"),
            "VPS-1073",
        ),
        ("requestDateTime", json!("yesterday"), "VPS-1073"),
        ("txnCode", json!("1999"), "VPS-1903"),
    ];
    for (field, value, expected) in cases {
        let mut request = payment("API3", "1.00", GOOD_CARD, "1000");
        request[field] = value;
        let answer = send(&app, &request).await;
        assert_eq!(code(&answer), expected, "{field}");
    }
    assert!(order(&app, "API3").await.is_none());
}

#[tokio::test]
async fn fields_are_checked_as_the_bank_does() {
    let app = app();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/card/cardNumber", json!("5258640000000002"), "VPS-1904"),
        ("/card/cardNumber", json!("12345"), "VPS-1904"),
        ("/card/expireDate", json!("1330"), "VPS-1903"),
        ("/card/expireDate", json!("12/30"), "VPS-1903"),
        ("/card/cvv2", json!("12"), "VPS-1903"),
        ("/transaction/amount", json!("1.1"), "VPS-1905"),
        ("/transaction/amount", json!(1.10), "VPS-1905"),
        ("/transaction/amount", json!("0.00"), "VPS-1905"),
        ("/transaction/currencyCode", json!("949"), "VPS-1903"),
        ("/transaction/currencyCode", json!(999), "VPS-1903"),
        ("/transaction/installCount", json!(0), "VPS-1906"),
        ("/transaction/installCount", json!(13), "VPS-1906"),
        ("/transaction/motoInd", json!(null), "VPS-1903"),
        ("/order/orderId", json!("a b"), "VPS-1903"),
        ("/order/orderId", json!(""), "VPS-1903"),
        ("/customer/ipAddress", json!("localhost"), "VPS-1903"),
    ];
    for (path, value, expected) in cases {
        let mut request = payment("API4", "1.00", GOOD_CARD, "1000");
        *request.pointer_mut(path).unwrap() = value;
        let answer = send(&app, &request).await;
        assert_eq!(code(&answer), expected, "{path}");
    }
    // Installments only in TRY.
    let mut usd = payment("API4", "1.00", GOOD_CARD, "1000");
    usd["transaction"]["currencyCode"] = json!(840);
    usd["transaction"]["installCount"] = json!(3);
    assert_eq!(code(&send(&app, &usd).await), "VPS-1906");
    usd["transaction"]["installCount"] = json!(1);
    // A new request needs a new randomNumber (the bank refuses replays).
    usd["randomNumber"] = json!(random_number());
    assert_eq!(code(&send(&app, &usd).await), "VPS-0000");
    // A stored card pays without CVV; no customer block is fine too.
    let mut stored = payment("API5", "1.00", GOOD_CARD, "1000");
    stored["card"]["cvv2"] = json!("");
    stored.as_object_mut().unwrap().remove("customer");
    assert_eq!(code(&send(&app, &stored).await), "VPS-0000");
}

#[tokio::test]
async fn craftgate_decline_cards_and_expired_cards_are_declined_by_the_issuer() {
    let app = app();
    for (i, (pan, decline)) in bank_sim::nestpay::codes::decline_cards().enumerate() {
        let order_id = format!("DEC{i}");
        let answer = send(&app, &payment(&order_id, "10.00", pan, "1000")).await;
        assert_eq!(code(&answer), "VPS-1005", "{pan}");
        assert_eq!(answer["responseMessage"], "Provizyon Hatası");
        assert_eq!(answer["hostResponseCode"], decline.code, "{pan}");
        assert!(
            answer["hostMessage"]
                .as_str()
                .unwrap()
                .starts_with(&format!("0{}", decline.code))
        );
        assert_eq!(order(&app, &order_id).await.unwrap()["status"], "Declined");
    }
    let mut expired = payment("DECX", "10.00", GOOD_CARD, "1000");
    expired["card"]["expireDate"] = json!("0120");
    let answer = send(&app, &expired).await;
    assert_eq!(
        (code(&answer), answer["hostResponseCode"].as_str()),
        ("VPS-1005", Some("54"))
    );
    // A declined order id may be retried; an approved one not.
    assert_eq!(
        code(&send(&app, &payment("DECX", "10.00", GOOD_CARD, "1000")).await),
        "VPS-0000"
    );
    let duplicate = send(&app, &payment("DECX", "10.00", GOOD_CARD, "1000")).await;
    assert_eq!(code(&duplicate), "VPS-1013");
    assert!(
        duplicate["responseMessage"]
            .as_str()
            .unwrap()
            .contains("DECX")
    );
}

#[tokio::test]
async fn post_auth_is_once_within_the_pre_authorised_amount() {
    let app = app();
    assert_eq!(
        code(&send(&app, &payment("PRE1", "30.00", GOOD_CARD, "1004")).await),
        "VPS-0000"
    );
    assert_eq!(order(&app, "PRE1").await.unwrap()["status"], "Authorized");
    assert_eq!(
        code(&send(&app, &post_auth("PRE1", "30.01")).await),
        "VPS-1905"
    );
    let mut usd = post_auth("PRE1", "10.00");
    usd["transaction"]["currencyCode"] = json!(840);
    assert_eq!(code(&send(&app, &usd).await), "VPS-1907");
    let captured = send(&app, &post_auth("PRE1", "25.00")).await;
    assert_eq!(
        (code(&captured), captured["txnCode"].as_str()),
        ("VPS-0000", Some("1005"))
    );
    assert_eq!(captured["order"]["orderId"], "PRE1");
    assert_eq!(order(&app, "PRE1").await.unwrap()["capturedMinor"], 2_500);
    assert_eq!(
        code(&send(&app, &post_auth("PRE1", "5.00")).await),
        "VPS-1907"
    );
    assert_eq!(
        code(&send(&app, &post_auth("NOPE", "5.00")).await),
        "VPS-1007"
    );
    // A sale has nothing to post-authorise.
    send(&app, &payment("SALE1", "30.00", GOOD_CARD, "1000")).await;
    assert_eq!(
        code(&send(&app, &post_auth("SALE1", "5.00")).await),
        "VPS-1907"
    );

    // The history: the pre-auth closed, the post-auth with an order id of its own.
    let answer = send(&app, &history("PRE1")).await;
    let list = answer["txnDetailList"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["txnCode"], "1004");
    assert_eq!(list[0]["preAuthStatus"], "C");
    assert_eq!(list[0]["preAuthCloseAmount"], json!(25));
    assert_eq!(list[1]["txnCode"], "1005");
    assert_eq!(list[1]["orgOrderId"], "PRE1");
    assert_ne!(list[1]["orderId"], "PRE1");
    assert_eq!(list[1]["amount"], json!(25));
    assert_eq!(list[1]["currencyCode"], 949);

    // Cancelling the post-auth reopens the pre-auth; cancelling again cancels it; then
    // there is nothing left.
    assert_eq!(code(&send(&app, &cancel("PRE1")).await), "VPS-0000");
    let list = send(&app, &history("PRE1")).await["txnDetailList"].clone();
    assert_eq!(
        (
            list[0]["preAuthStatus"].as_str(),
            list[1]["txnStatus"].as_str()
        ),
        (Some("O"), Some("V"))
    );
    assert_eq!(code(&send(&app, &cancel("PRE1")).await), "VPS-0000");
    assert_eq!(order(&app, "PRE1").await.unwrap()["status"], "Voided");
    assert_eq!(code(&send(&app, &cancel("PRE1")).await), "VPS-1008");
    assert_eq!(code(&send(&app, &cancel("NOPE")).await), "VPS-1007");
}

#[tokio::test]
async fn refunds_come_after_end_of_day_and_never_exceed_the_capture() {
    let app = app();
    send(&app, &payment("REF1", "100.00", GOOD_CARD, "1000")).await;
    assert_eq!(
        code(&send(&app, &refund("REF1", "10.00")).await),
        "VPS-1907"
    );
    settle(&app).await;
    // After end of day the sale cannot be cancelled any more.
    assert_eq!(code(&send(&app, &cancel("REF1")).await), "VPS-1907");
    assert_eq!(
        code(&send(&app, &refund("REF1", "40.00")).await),
        "VPS-0000"
    );
    assert_eq!(
        order(&app, "REF1").await.unwrap()["status"],
        "PartiallyRefunded"
    );
    assert_eq!(
        code(&send(&app, &refund("REF1", "60.01")).await),
        "VPS-1905"
    );
    assert_eq!(
        code(&send(&app, &refund("REF1", "60.00")).await),
        "VPS-0000"
    );
    assert_eq!(code(&send(&app, &refund("REF1", "0.01")).await), "VPS-1905");
    let view = order(&app, "REF1").await.unwrap();
    assert_eq!(
        (view["status"].as_str(), view["refundedMinor"].as_i64()),
        (Some("Refunded"), Some(10_000))
    );
    let list = send(&app, &history("REF1")).await["txnDetailList"].clone();
    let refunds: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["txnCode"] == "1002")
        .collect();
    assert_eq!(refunds.len(), 2);
    assert!(
        refunds
            .iter()
            .all(|r| r["orgOrderId"] == "REF1" && r["responseCode"] == "VPS-0000")
    );
    // Nothing to refund on a declined or an unknown order.
    send(&app, &payment("REF2", "1.00", "5100050000006661", "1000")).await;
    settle(&app).await;
    assert_eq!(code(&send(&app, &refund("REF2", "1.00")).await), "VPS-1907");
    assert_eq!(code(&send(&app, &refund("NOPE", "1.00")).await), "VPS-1007");
}

#[tokio::test]
async fn the_order_history_of_an_unknown_order_is_vps_1123() {
    let app = app();
    let answer = send(&app, &history("NOPE")).await;
    assert_eq!(code(&answer), "VPS-1123");
    assert!(answer.get("txnDetailList").is_none());
    send(&app, &payment("HIS1", "1.01", GOOD_CARD, "1000")).await;
    let answer = send(&app, &history("HIS1")).await;
    let entry = &answer["txnDetailList"][0];
    assert_eq!(entry["amount"], json!(1.01));
    assert_eq!(entry["txnStatus"], "N");
    assert_eq!(entry["maskedCardNumber"], "525864******0001");
    assert_eq!(entry["orderId"], "HIS1");
}

#[tokio::test]
async fn the_bank_clock_judges_request_dates() {
    let app = app();
    let (status, _) = admin(
        &app,
        "POST",
        "/akbank/_sim/clock",
        Some(json!({"advanceMs": 2 * 3_600_000})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        code(&send(&app, &payment("CLK1", "1.00", GOOD_CARD, "1000")).await),
        "VPS-1073"
    );
    let (_, clock) = admin(
        &app,
        "POST",
        "/akbank/_sim/clock",
        Some(json!({"offsetMs": 0})),
    )
    .await;
    assert_eq!(clock["offsetMs"], 0);
    assert_eq!(
        code(&send(&app, &payment("CLK1", "1.00", GOOD_CARD, "1000")).await),
        "VPS-0000"
    );
}

#[tokio::test]
async fn admin_adds_terminals_and_shows_orders() {
    let app = app();
    let (status, _) = admin(
        &app,
        "POST",
        "/akbank/_sim/stores",
        Some(json!({"clientId": "M2"})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, answer) = admin(
        &app,
        "POST",
        "/akbank/_sim/stores",
        Some(json!({"clientId": "M2", "terminalId": "T2", "storeKey": "k2"})),
    )
    .await;
    assert_eq!((status, answer["terminalId"].as_str()), (200, Some("T2")));
    let mut request = payment("ADM1", "1.00", GOOD_CARD, "1000");
    request["terminal"] = json!({"merchantSafeId": "M2", "terminalSafeId": "T2"});
    let body = request.to_string();
    let (_, answer) = post_raw(
        &app,
        body.as_bytes(),
        Some(&hmac_b64("k2", body.as_bytes())),
    )
    .await;
    assert_eq!(code(&answer), "VPS-0000");
    let (status, orders) = admin(&app, "GET", "/akbank/_sim/orders/M2", None).await;
    assert_eq!((status, orders.as_array().unwrap().len()), (200, 1));
    let (status, _) = admin(&app, "GET", "/akbank/_sim/orders/M2/NOPE", None).await;
    assert_eq!(status, 404);
    let (status, settled) = admin(&app, "POST", "/akbank/_sim/settle", None).await;
    assert_eq!((status, settled["settled"].as_u64()), (200, Some(1)));
    let (status, _) = admin(
        &app,
        "POST",
        "/akbank/_sim/faults",
        Some(json!({"clientId": "M2", "mode": "drop"})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, clock) = admin(&app, "GET", "/akbank/_sim/clock", None).await;
    assert_eq!((status, clock["offsetMs"].as_i64()), (200, Some(0)));
}
