//! The PosNet simulator's API, in-process: the reference library's request bodies are
//! answered in the bank's layout, and every rule of `posnet/books.rs` holds — credentials,
//! formats, decline cards, duplicates, capture/reverse/return rules, end of day, status.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "posnet_support.rs"]
mod support;

use serde_json::json;
use support::*;

/// A sale and its host log key.
async fn sold(app: &axum::Router, kind: &str, order: &str, amount: &str) -> (String, String) {
    let r = send(app, &payment(kind, order, amount, GOOD_CARD)).await;
    assert_eq!(r.approved(), "1", "{}", r.text);
    (r.get("hostlogkey").to_owned(), r.get("authCode").to_owned())
}

async fn settle(app: &axum::Router) {
    let (code, v) = admin(
        app,
        "POST",
        "/posnet/_sim/settle",
        Some(json!({"clientId": MID})),
    )
    .await;
    assert_eq!(code, 200, "{v}");
}

/// R3.2 (vpos-test-vectors.md §3.3; mewebstudio/pos `PosNetRequestDataMapperTest.php::
/// testCreateNonSecurePaymentRequestData` [#0]) answered in P3.1's layout
/// (`PosNetResponseDataMapperTest.php::paymentTestDataProvider[success1]`).
#[tokio::test]
async fn r3_2_sale_is_answered_like_p3_1() {
    let app = app();
    // R3.2 verbatim (its card is not Luhn-valid, so the bank refuses it) ...
    let r3_2 = "xmldata=<?xml version=\"1.0\" encoding=\"ISO-8859-9\"?>\n<posnetRequest><mid>6706598320</mid><tid>67005551</tid><tranDateRequired>1</tranDateRequired><sale><orderID>TST_190620093100_024</orderID><installment>00</installment><amount>175</amount><currencyCode>TL</currencyCode><ccno>5555444433332222</ccno><expDate>2201</expDate><cvc>123</cvc></sale></posnetRequest>\n";
    let r = send(&app, r3_2).await;
    assert_eq!((r.approved(), r.code()), ("0", "0014"));
    // ... and with a valid card it is approved in P3.1's layout.
    let r = send(
        &app,
        &r3_2
            .replace("5555444433332222", GOOD_CARD)
            .replace("2201", "3012"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "text/xml;charset=ISO-8859-9");
    assert!(
        r.text
            .starts_with("<?xml version='1.0' encoding='iso-8859-9'?><posnetResponse>")
    );
    assert_eq!(
        r.root.names(),
        [
            "approved",
            "respCode",
            "respText",
            "hostlogkey",
            "authCode",
            "instInfo",
            "pointInfo",
            "tranDate"
        ]
    );
    assert_eq!((r.approved(), r.code(), r.get("respText")), ("1", "", ""));
    assert_eq!(r.get("hostlogkey").len(), 18);
    assert_eq!(r.get("authCode").len(), 6);
    assert_eq!(r.root.child("instInfo").get("inst1"), "00");
    assert_eq!(r.root.child("instInfo").get("amnt1"), "000000000000");
    assert_eq!(r.get("tranDate").len(), 12);
    // Without tranDateRequired, no tranDate.
    let r = send(
        &app,
        &body(
            &element(
                "sale",
                &[
                    ("orderID", "NODATE"),
                    ("installment", "03"),
                    ("amount", "300"),
                    ("currencyCode", "TL"),
                    ("ccno", GOOD_CARD),
                    ("expDate", "3012"),
                    ("cvc", "123"),
                ],
            ),
            false,
        ),
    )
    .await;
    assert_eq!(r.approved(), "1");
    assert!(r.root.try_get("tranDate").is_none());
    assert_eq!(r.root.child("instInfo").get("inst1"), "03");
    assert_eq!(r.root.child("instInfo").get("amnt1"), "000000000100");
    // The order is booked under its padded id.
    let (code, v) = admin(
        &app,
        "GET",
        &format!("/posnet/_sim/orders/{MID}/TST_190620093100_024"),
        None,
    )
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["orderId"], "TST_190620093100_024");
    assert_eq!(v["status"], "Captured");
    assert_eq!(v["amountMinor"], 175);
}

#[tokio::test]
async fn form_encoded_xmldata_is_read_too() {
    let app = app();
    let xml = payment("sale", "ENCODED1", "100", GOOD_CARD);
    let xml = xml.strip_prefix("xmldata=").unwrap();
    let mut encoded = String::from("xmldata=");
    encoded.push_str(&form_body(&pairs(&[("x", xml)]))[2..]);
    let r = send(&app, &encoded).await;
    assert_eq!(r.approved(), "1", "{}", r.text);
}

#[tokio::test]
async fn credentials_and_unreadable_requests() {
    let app = app();
    let sale = element(
        "sale",
        &[
            ("orderID", "C1"),
            ("installment", "00"),
            ("amount", "100"),
            ("currencyCode", "TL"),
            ("ccno", GOOD_CARD),
            ("expDate", "3012"),
            ("cvc", "123"),
        ],
    );
    for body in [
        body_for("6706598399", TID, &sale, true),
        body_for(MID, "67005552", &sale, true),
        body_for("", TID, &sale, true),
    ] {
        let r = send(&app, &body).await;
        assert_eq!((r.approved(), r.code()), ("0", "0148"), "{body}");
        assert_eq!(r.get("respText"), "INVALID MID TID IP.");
        assert_eq!(r.root.names(), ["approved", "respCode", "respText"]);
    }
    for bad in [
        "",
        "xmldata=",
        "xmldata=<posnetRequest>",
        "<posnetRequest/>",
        "garbage",
    ] {
        let r = send(&app, bad).await;
        assert_eq!(r.code(), "0100", "{bad:?}");
    }
    // No operation, an unknown one.
    let r = send(&app, &body("", false)).await;
    assert_eq!(r.code(), "0101");
    let r = send(
        &app,
        &body("<pointUsage><amount>1</amount></pointUsage>", false),
    )
    .await;
    assert_eq!(r.code(), "0101");
    assert!(app_orders_empty(&app).await);
}

async fn app_orders_empty(app: &axum::Router) -> bool {
    let (_, v) = admin(app, "GET", &format!("/posnet/_sim/orders/{MID}"), None).await;
    v.as_array().unwrap().is_empty()
}

#[tokio::test]
async fn formats_are_checked_like_the_bank() {
    let app = app();
    for (body, code) in [
        (payment("sale", "", "100", GOOD_CARD), "0102"),
        (payment("sale", "A-1", "100", GOOD_CARD), "0102"),
        (
            payment("sale", "123456789012345678901", "100", GOOD_CARD),
            "0102",
        ),
        (payment("sale", "F1", "100", "5258640000000002"), "0014"),
        (payment("sale", "F1", "100", "52586400"), "0014"),
        (
            payment_with("sale", "F1", "100", GOOD_CARD, "12/30", "00", "TL"),
            "0104",
        ),
        (
            payment_with("sale", "F1", "100", GOOD_CARD, "3013", "00", "TL"),
            "0104",
        ),
        (payment("sale", "F1", "1.00", GOOD_CARD), "0013"),
        (payment("sale", "F1", "0", GOOD_CARD), "0013"),
        (
            payment_with("sale", "F1", "100", GOOD_CARD, "3012", "00", "TRY"),
            "0106",
        ),
        (
            payment_with("sale", "F1", "100", GOOD_CARD, "3012", "13", "TL"),
            "0107",
        ),
        (
            payment_with("sale", "F1", "100", GOOD_CARD, "3012", "03", "US"),
            "0107",
        ),
        (
            payment("sale", "F1", "100", GOOD_CARD).replace("<cvc>123</cvc>", "<cvc>12</cvc>"),
            "0105",
        ),
    ] {
        let r = send(&app, &body).await;
        assert_eq!((r.approved(), r.code()), ("0", code), "{body}");
    }
    // Format errors are not booked.
    assert!(app_orders_empty(&app).await);
    // Other currencies and installments in TL are fine.
    let r = send(
        &app,
        &payment_with("sale", "F2", "100", GOOD_CARD, "3012", "00", "EU"),
    )
    .await;
    assert_eq!(r.approved(), "1");
    let r = send(
        &app,
        &payment_with("auth", "F3", "1200", GOOD_CARD, "3012", "12", "TL"),
    )
    .await;
    assert_eq!(r.approved(), "1");
}

#[tokio::test]
async fn decline_cards_expired_cards_and_retries() {
    let app = app();
    for (i, (pan, refusal)) in bank_sim::posnet::codes::decline_cards().enumerate() {
        let order = format!("DEC{i}");
        let r = send(&app, &payment("sale", &order, "100", pan)).await;
        assert_eq!((r.approved(), r.code()), ("0", refusal.code), "{pan}");
        assert_eq!(r.get("respText"), refusal.text);
        let (_, v) = admin(
            &app,
            "GET",
            &format!("/posnet/_sim/orders/{MID}/{order}"),
            None,
        )
        .await;
        assert_eq!(v["status"], "Declined", "declines are recorded");
        assert_eq!(v["transactions"][0]["errorCode"], refusal.code);
    }
    // APPROVED_COMPLETED is approved.
    let r = send(&app, &payment("sale", "OKCARD", "100", "5213940000006667")).await;
    assert_eq!(r.approved(), "1");
    // An expired card (by the bank's clock).
    let r = send(
        &app,
        &payment_with("sale", "EXP1", "100", GOOD_CARD, "2001", "00", "TL"),
    )
    .await;
    assert_eq!((r.approved(), r.code()), ("0", "0054"));
    let (code, _) = admin(
        &app,
        "POST",
        "/posnet/_sim/clock",
        Some(json!({"now": "2031-01-15T10:00:00Z"})),
    )
    .await;
    assert_eq!(code, 200);
    let r = send(&app, &payment("sale", "EXP2", "100", GOOD_CARD)).await;
    assert_eq!((r.approved(), r.code()), ("0", "0054"));
    admin(
        &app,
        "POST",
        "/posnet/_sim/clock",
        Some(json!({"offsetMs": 0})),
    )
    .await;
    // A declined order id may be retried; the retry is approved.
    let r = send(&app, &payment("sale", "EXP2", "100", GOOD_CARD)).await;
    assert_eq!(r.approved(), "1");
    let (_, v) = admin(
        &app,
        "GET",
        &format!("/posnet/_sim/orders/{MID}/EXP2"),
        None,
    )
    .await;
    assert_eq!(v["status"], "Captured");
    assert_eq!(v["transactions"].as_array().unwrap().len(), 2);
}

/// P3.3 (`PosNetResponseDataMapperTest.php::paymentTestDataProvider[fail2]`).
#[tokio::test]
async fn a_used_order_id_is_refused_as_p3_3() {
    let app = app();
    let (key, auth) = sold(&app, "sale", "DUP1", "100").await;
    for kind in ["sale", "auth"] {
        let r = send(&app, &payment(kind, "DUP1", "999", GOOD_CARD)).await;
        assert_eq!(r.approved(), "2", "{}", r.text);
        assert_eq!(r.code(), "0127");
        assert_eq!(r.get("respText"), "ORDERID DAHA ONCE KULLANILMIS 0127");
        assert_eq!(r.get("hostlogkey"), key);
        assert_eq!(r.get("authCode"), auth);
    }
    // The padded and unpadded ids are the same order.
    let r = send(
        &app,
        &payment("sale", "0000000000000000DUP1", "100", GOOD_CARD),
    )
    .await;
    assert_eq!(r.code(), "0127");
    let (_, v) = admin(
        &app,
        "GET",
        &format!("/posnet/_sim/orders/{MID}/DUP1"),
        None,
    )
    .await;
    assert_eq!(v["amountMinor"], 100);
}

#[tokio::test]
async fn capture_rules() {
    let app = app();
    let (auth_key, _) = sold(&app, "auth", "CAP1", "10000").await;
    let (sale_key, _) = sold(&app, "sale", "CAP2", "10000").await;
    for (body, code) in [
        (capture("nope", "100", "00"), "0123"),
        (capture(&sale_key, "100", "00"), "0208"),
        (capture(&auth_key, "10001", "00"), "0204"),
        (capture(&auth_key, "abc", "00"), "0013"),
        (capture(&auth_key, "100", "03"), "0107"),
        (
            capture(&auth_key, "100", "00").replace(">TL<", ">US<"),
            "0206",
        ),
        (
            body(
                &element("capt", &[("amount", "100"), ("currencyCode", "TL")]),
                true,
            ),
            "0108",
        ),
    ] {
        let r = send(&app, &body).await;
        assert_eq!((r.approved(), r.code()), ("0", code), "{body}");
    }
    let r = send(&app, &capture(&auth_key, "9000", "00")).await;
    assert_eq!(r.approved(), "1", "{}", r.text);
    assert_eq!(
        r.root.names(),
        [
            "approved",
            "respCode",
            "respText",
            "hostlogkey",
            "authCode",
            "tranDate"
        ]
    );
    let r = send(&app, &capture(&auth_key, "9000", "00")).await;
    assert_eq!(r.code(), "0205");
    let (_, v) = admin(
        &app,
        "GET",
        &format!("/posnet/_sim/orders/{MID}/CAP1"),
        None,
    )
    .await;
    assert_eq!(v["status"], "Captured");
    assert_eq!(v["capturedMinor"], 9000);
    // Refused captures on the order are recorded.
    let refused = v["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "PostAuth" && t["approved"] == false)
        .count();
    assert_eq!(refused, 5);
    // The pre-auth's own installment count is accepted too.
    let r = send(
        &app,
        &payment_with("auth", "CAP3", "1200", GOOD_CARD, "3012", "03", "TL"),
    )
    .await;
    let key = r.get("hostlogkey").to_owned();
    let r = send(&app, &capture(&key, "1200", "03")).await;
    assert_eq!(r.approved(), "1", "{}", r.text);
}

#[tokio::test]
async fn reverse_rules() {
    let app = app();
    let (key, auth) = sold(&app, "sale", "REV1", "500").await;
    for (body, code) in [
        (reverse("refund", None, ("hostLogKey", &key)), "0101"),
        (
            reverse("sale", Some("000000"), ("hostLogKey", &key)),
            "0123",
        ),
        (reverse("auth", None, ("hostLogKey", &key)), "0123"),
        (reverse("capt", None, ("orderID", "REV1")), "0123"),
        (reverse("sale", None, ("orderID", "NOPE")), "0123"),
        (reverse("sale", None, ("hostLogKey", "123")), "0123"),
        (
            body(&element("reverse", &[("transaction", "sale")]), true),
            "0108",
        ),
    ] {
        let r = send(&app, &body).await;
        assert_eq!((r.approved(), r.code()), ("0", code), "{body}");
    }
    // By host log key with its auth code (R3.5's fields).
    let r = send(&app, &reverse("sale", Some(&auth), ("hostLogKey", &key))).await;
    assert_eq!(r.approved(), "1", "{}", r.text);
    assert_eq!(r.get("authCode"), auth);
    let r = send(&app, &reverse("sale", None, ("hostLogKey", &key))).await;
    assert_eq!(r.code(), "0201", "once");
    let (_, v) = admin(
        &app,
        "GET",
        &format!("/posnet/_sim/orders/{MID}/REV1"),
        None,
    )
    .await;
    assert_eq!(v["status"], "Voided");
    assert_eq!(v["voided"], true);

    // By order id, in both the 20- and the 24-character forms (R3.11's padding).
    sold(&app, "sale", "REV2", "500").await;
    let r = send(
        &app,
        &reverse("sale", None, ("orderID", &format!("{:0>24}", "REV2"))),
    )
    .await;
    assert_eq!(r.approved(), "1", "{}", r.text);
    sold(&app, "auth", "REV3", "500").await;
    let r = send(
        &app,
        &reverse("auth", None, ("orderID", &format!("{:0>20}", "REV3"))),
    )
    .await;
    assert_eq!(r.approved(), "1", "{}", r.text);

    // Not after end of day.
    sold(&app, "sale", "REV4", "500").await;
    settle(&app).await;
    let r = send(&app, &reverse("sale", None, ("orderID", "REV4"))).await;
    assert_eq!(r.code(), "0201");
}

#[tokio::test]
async fn return_rules_and_partial_refunds() {
    let app = app();
    let (key, _) = sold(&app, "sale", "RET1", "10000").await;
    let r = send(&app, &refund("1000", ("hostLogKey", &key))).await;
    assert_eq!(r.code(), "0202", "not before end of day");
    settle(&app).await;
    for (body, code) in [
        (refund("10001", ("hostLogKey", &key)), "0203"),
        (refund("0", ("hostLogKey", &key)), "0013"),
        (
            refund("100", ("hostLogKey", &key)).replace(">TL<", ">EU<"),
            "0206",
        ),
        (refund("100", ("orderID", "NOPE")), "0123"),
        (refund("100", ("hostLogKey", "NOPE")), "0123"),
    ] {
        let r = send(&app, &body).await;
        assert_eq!((r.approved(), r.code()), ("0", code), "{body}");
    }
    let r = send(&app, &refund("4000", ("hostLogKey", &key))).await;
    assert_eq!(r.approved(), "1", "{}", r.text);
    let r = send(&app, &refund("5000", ("orderID", "RET1"))).await;
    assert_eq!(r.approved(), "1", "{}", r.text);
    let r = send(&app, &refund("1001", ("orderID", "RET1"))).await;
    assert_eq!(r.code(), "0203", "never above what was captured");
    let r = send(&app, &refund("1000", ("orderID", "RET1"))).await;
    assert_eq!(r.approved(), "1");
    let (_, v) = admin(
        &app,
        "GET",
        &format!("/posnet/_sim/orders/{MID}/RET1"),
        None,
    )
    .await;
    assert_eq!(v["status"], "Refunded");
    assert_eq!(v["refundedMinor"], 10000);

    // Nothing to refund on a voided or uncaptured order.
    sold(&app, "sale", "RET2", "100").await;
    send(&app, &reverse("sale", None, ("orderID", "RET2"))).await;
    sold(&app, "auth", "RET3", "100").await;
    settle(&app).await;
    for order in ["RET2", "RET3"] {
        let r = send(&app, &refund("100", ("orderID", order))).await;
        assert_eq!(r.code(), "0207", "{order}");
    }
}

/// P3.8 (`PosNetResponseDataMapperTest.php::statusTestDataProvider[success1]`) layout.
#[tokio::test]
async fn agreement_lists_the_orders_transactions_as_p3_8() {
    let app = app();
    let (auth_key, auth_code) = sold(&app, "auth", "AGR1", "10025").await;
    let r = send(&app, &capture(&auth_key, "10000", "00")).await;
    let capt_key = r.get("hostlogkey").to_owned();
    settle(&app).await;
    send(&app, &refund("116", ("orderID", "AGR1"))).await;

    let r = send(&app, &agreement(&format!("{:0>24}", "AGR1"))).await;
    assert_eq!(r.approved(), "1", "{}", r.text);
    let transactions = r.root.child("transactions").all("transaction");
    assert_eq!(transactions.len(), 3);
    let first = transactions[0];
    assert_eq!(
        first.names(),
        [
            "orderID",
            "ccno",
            "amount",
            "currencyCode",
            "authCode",
            "tranDate",
            "state",
            "txnStatus",
            "hostlogkey"
        ]
    );
    assert_eq!(first.get("orderID"), "00000000000000000000AGR1");
    assert_eq!(first.get("ccno"), "5258 64** **** 0001");
    assert_eq!(first.get("amount"), "100,25");
    assert_eq!(first.get("currencyCode"), "TL");
    assert_eq!(first.get("authCode"), auth_code);
    assert_eq!(first.get("tranDate").len(), "2019-10-10 11:21:14.281".len());
    assert_eq!((first.get("state"), first.get("txnStatus")), ("Auth", "1"));
    assert_eq!(first.get("hostlogkey"), auth_key);
    assert_eq!(
        (
            transactions[1].get("state"),
            transactions[1].get("amount"),
            transactions[1].get("hostlogkey")
        ),
        ("Capt", "100,00", capt_key.as_str())
    );
    assert_eq!(
        (transactions[2].get("state"), transactions[2].get("amount")),
        ("Return", "1,16")
    );
    // The 20-character id finds it too; unknown orders and declined ones are not found.
    let r = send(&app, &agreement("AGR1")).await;
    assert_eq!(r.approved(), "1");
    let r = send(&app, &agreement("TDSC0000000000000000AGR1")).await;
    assert_eq!((r.approved(), r.code()), ("0", "0123"));
    send(&app, &payment("sale", "AGR2", "100", "5100050000006661")).await;
    let r = send(&app, &agreement("AGR2")).await;
    assert_eq!(r.code(), "0123");

    // A reversed sale stays listed, with txnStatus R.
    let (key, _) = sold(&app, "sale", "AGR3", "100").await;
    send(&app, &reverse("sale", None, ("hostLogKey", &key))).await;
    let r = send(&app, &agreement("AGR3")).await;
    let transactions = r.root.child("transactions").all("transaction");
    assert_eq!(transactions.len(), 1);
    assert_eq!(transactions[0].get("txnStatus"), "R");
}

#[tokio::test]
async fn texts_are_iso_8859_9_on_the_wire() {
    let app = app();
    // E216's text has Turkish letters: ğ is 0xF0 and ı 0xFD in ISO-8859-9.
    let r = send(&app, &resolve("X", "Y", "Z", "W")).await;
    assert_eq!(r.code(), "0301");
    let enrol = send(&app, &enrolment("ISO1", GOOD_CARD, "100", "Sale")).await;
    assert_eq!(enrol.approved(), "1");
    // An unknown `bankData` is refused before any MAC; E216 is exercised in posnet_3ds.rs.
    let bytes = bank_sim::posnet::wire::encode_response(&bank_sim::posnet::books::refused(
        bank_sim::posnet::codes::MAC_ERROR,
    ));
    assert!(bytes.windows(2).any(|w| w == [0xF0, b'r']));
    assert!(bytes.contains(&0xFD));
}

#[tokio::test]
async fn admin_routes() {
    let app = app();
    // A new merchant, then used.
    let (code, v) = admin(
        &app,
        "POST",
        "/posnet/_sim/stores",
        Some(json!({"clientId": "1234567890", "terminalId": "12345678", "posnetId": "11111", "encKey": "1,2,3,4,5,6,7,8"})),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(
        v,
        json!({"clientId": "1234567890", "terminalId": "12345678", "posnetId": "11111"})
    );
    let sale = element(
        "sale",
        &[
            ("orderID", "NEW1"),
            ("installment", "00"),
            ("amount", "100"),
            ("currencyCode", "TL"),
            ("ccno", GOOD_CARD),
            ("expDate", "3012"),
            ("cvc", "123"),
        ],
    );
    let r = send(&app, &body_for("1234567890", "12345678", &sale, true)).await;
    assert_eq!(r.approved(), "1");
    let (code, v) = admin(&app, "GET", "/posnet/_sim/orders/1234567890", None).await;
    assert_eq!(code, 200);
    let order = &v[0];
    for field in [
        "clientId",
        "orderId",
        "type",
        "status",
        "amountMinor",
        "capturedMinor",
        "refundedMinor",
        "voided",
        "settled",
        "currency",
        "installment",
        "pan",
        "transactions",
    ] {
        assert!(order.get(field).is_some(), "{field} in {order}");
    }
    assert_eq!(order["clientId"], "1234567890");
    assert_eq!(order["orderId"], "0000000000000000NEW1");
    assert_eq!(order["type"], "Auth");
    assert_eq!(order["currency"], "TRY");
    assert_eq!(order["pan"], "5258 64** **** 0001");
    let txn = &order["transactions"][0];
    assert_eq!(txn["type"], "Auth");
    assert_eq!(txn["procReturnCode"], "1");
    assert_eq!(txn["transId"], r.get("hostlogkey"));
    assert_eq!(txn["hostRefNum"], r.get("hostlogkey"));
    // Errors.
    let (code, v) = admin(&app, "GET", "/posnet/_sim/orders/1234567890/NOPE", None).await;
    assert_eq!(code, 404, "{v}");
    let (code, _) = admin(
        &app,
        "POST",
        "/posnet/_sim/stores",
        Some(json!({"clientId": "1"})),
    )
    .await;
    assert_eq!(code, 400);
    let (code, _) = admin(
        &app,
        "POST",
        "/posnet/_sim/stores",
        Some(json!({"clientId": " ", "terminalId": "1"})),
    )
    .await;
    assert_eq!(code, 400);
    let (code, _) = admin(
        &app,
        "POST",
        "/posnet/_sim/faults",
        Some(json!({"clientId": MID, "mode": "explode"})),
    )
    .await;
    assert_eq!(code, 400);
    let (code, _) = admin(
        &app,
        "POST",
        "/posnet/_sim/faults",
        Some(json!({"clientId": MID, "mode": "delay"})),
    )
    .await;
    assert_eq!(code, 400);
    // Settle and the clock.
    let (code, v) = admin(&app, "POST", "/posnet/_sim/settle", None).await;
    assert_eq!((code, v["settled"].as_u64()), (200, Some(1)));
    let (code, v) = admin(
        &app,
        "POST",
        "/posnet/_sim/clock",
        Some(json!({"advanceMs": 60_000})),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(v["offsetMs"], 60_000);
    let (code, _) = admin(&app, "POST", "/posnet/_sim/clock", Some(json!({}))).await;
    assert_eq!(code, 400);
    // Faults: queued, listed, cleared.
    let (code, v) = admin(
        &app,
        "POST",
        "/posnet/_sim/faults",
        Some(json!({"clientId": MID, "mode": "html", "count": 2})),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(v["pending"][0]["count"], 2);
    let (_, v) = admin(&app, "GET", &format!("/posnet/_sim/faults/{MID}"), None).await;
    assert_eq!(v["pending"][0]["mode"], "html");
    let (_, v) = admin(
        &app,
        "DELETE",
        &format!("/posnet/_sim/faults?clientId={MID}"),
        None,
    )
    .await;
    assert_eq!(v["cleared"], MID);
    let (_, v) = admin(&app, "GET", &format!("/posnet/_sim/faults/{MID}"), None).await;
    assert!(v["pending"].as_array().unwrap().is_empty());
}

#[test]
fn the_vectors_test_terminal_and_a_sandbox_terminal_are_preloaded() {
    let merchants = bank_sim::posnet::PRELOADED_MERCHANTS;
    assert_eq!(merchants[0], (MID, TID, POSNET_ID, ENC_KEY));
    assert_eq!(merchants.len(), 2);
}
