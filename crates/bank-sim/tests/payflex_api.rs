//! The PayFlex simulator's VPOS and search pages: the bank's checks, its books and the
//! Craftgate decline cards, through the router with the reference library's request
//! layouts (`vpos-test-vectors.md` §9.3).

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "payflex_support.rs"]
mod support;

use support::*;

#[tokio::test]
async fn a_library_sale_is_approved_and_booked() {
    let app = app();
    // R9.7 as the library sends it (no TransactionId: the bank makes one up).
    let body = prmstr(&xml(
        "VposRequest",
        &[
            ("MerchantId", MERCHANT),
            ("Password", PASSWORD),
            ("TerminalNo", TERMINAL),
            ("TransactionType", "Sale"),
            ("OrderId", "order123"),
            ("CurrencyAmount", "5.00"),
            ("CurrencyCode", "949"),
            ("ClientIp", "127.0.0.1"),
            ("TransactionDeviceSource", "0"),
            ("Pan", GOOD_CARD),
            ("Expiry", "203012"),
            ("Cvv", "122"),
        ],
    ));
    let reply = vpos(&app, body).await;
    assert_eq!(code(&reply), "0000", "{reply}");
    assert_eq!(tag(&reply, "ResultDetail"), Some("İŞLEM BAŞARILI"));
    assert_eq!(tag(&reply, "OrderId"), Some("order123"));
    assert_eq!(tag(&reply, "CurrencyAmount"), Some("5.00"));
    assert_eq!(tag(&reply, "AuthCode").unwrap().len(), 6);
    assert_eq!(tag(&reply, "Rrn").unwrap().len(), 12);
    assert_eq!(tag(&reply, "HostDate").unwrap().len(), 14);
    let generated = tag(&reply, "TransactionId").unwrap();
    assert_eq!(generated.len(), 32);
    let order = order(&app, "order123").await.unwrap();
    assert_eq!(order["status"], "Captured");
    assert_eq!(order["amountMinor"], 500);
    assert_eq!(order["pan"], "525864******0001");
    // Follow-ups name the generated TransactionId.
    let cancel = vpos(&app, follow_up("Cancel", generated, None)).await;
    assert_eq!(code(&cancel), "0000", "{cancel}");
    assert_eq!(tag(&cancel, "ReferenceTransactionId"), Some(generated));
}

#[tokio::test]
async fn sign_in_and_field_checks() {
    let app = app();
    let wrong_password = payment("A1", "Sale", "1.00", GOOD_CARD).replace(PASSWORD, "nope");
    let reply = vpos(&app, wrong_password).await;
    assert_eq!(code(&reply), "9039");
    assert_eq!(tag(&reply, "ResultDetail"), Some("Üye işyeri bulunamadı."));
    assert!(reply.contains("<InstallmentTable />"));
    let wrong_terminal = payment("A2", "Sale", "1.00", GOOD_CARD).replace(TERMINAL, "VP000001");
    assert_eq!(code(&vpos(&app, wrong_terminal).await), "9039");
    for (what, body, expected) in [
        ("type", payment("A3", "Satis", "1.00", GOOD_CARD), "1001"),
        (
            "one decimal",
            payment("A4", "Sale", "1.0", GOOD_CARD),
            "1001",
        ),
        ("comma", payment("A5", "Sale", "1,00", GOOD_CARD), "1001"),
        ("zero", payment("A6", "Sale", "0.00", GOOD_CARD), "1001"),
        (
            "luhn",
            payment("A7", "Sale", "1.00", "5258640000000002"),
            "0014",
        ),
        (
            "expiry",
            payment_with("A8", "Sale", "1.00", GOOD_CARD, "1230", &[]),
            "1001",
        ),
        (
            "expired",
            payment_with("A9", "Sale", "1.00", GOOD_CARD, "202001", &[]),
            "0054",
        ),
        (
            "installments",
            payment_with(
                "A10",
                "Sale",
                "1.00",
                GOOD_CARD,
                "203012",
                &[("NumberOfInstallments", "13")],
            ),
            "1001",
        ),
        ("no body", "x=1".to_owned(), "1001"),
    ] {
        assert_eq!(code(&vpos(&app, body).await), expected, "{what}");
    }
    assert!(order(&app, "A4").await.is_none());
    // The expired card's attempt is booked as declined.
    assert_eq!(order(&app, "A9").await.unwrap()["status"], "Declined");
}

#[tokio::test]
async fn decline_cards_decline_with_their_codes() {
    let app = app();
    for (pan, expected) in [
        ("5100050000006661", "0051"),
        ("5100560000006669", "0005"),
        ("5101520000006662", "0043"),
        ("5136620000006669", "0041"),
        ("5164580000006660", "0082"),
        ("5200170000006666", "0099"),
    ] {
        let id = format!("DC{}", &pan[..8]);
        let reply = vpos(&app, payment(&id, "Sale", "1.00", pan)).await;
        assert_eq!(code(&reply), expected, "{pan}");
        assert_eq!(tag(&reply, "AuthCode"), Some("000000"));
        // A declined attempt may be retried under the same id.
    }
    let retry = vpos(&app, payment("DC51000500", "Sale", "1.00", GOOD_CARD)).await;
    assert_eq!(code(&retry), "0000");
}

#[tokio::test]
async fn books_capture_cancel_and_refund() {
    let app = app();
    assert_eq!(
        code(&vpos(&app, payment("P1", "Auth", "100.00", GOOD_CARD)).await),
        "0000"
    );
    assert_eq!(order(&app, "P1").await.unwrap()["status"], "Authorized");
    assert_eq!(
        code(&vpos(&app, follow_up("Capture", "P1", Some("100.01"))).await),
        "1003"
    );
    assert_eq!(
        code(&vpos(&app, follow_up("Capture", "P1", None)).await),
        "1001"
    );
    let capture = vpos(&app, follow_up("Capture", "P1", Some("60.00"))).await;
    assert_eq!(code(&capture), "0000", "{capture}");
    assert_eq!(
        code(&vpos(&app, follow_up("Capture", "P1", Some("1.00"))).await),
        "1003"
    );
    assert_eq!(order(&app, "P1").await.unwrap()["capturedMinor"], 6000);
    assert_eq!(
        code(&vpos(&app, follow_up("Capture", "NOPE", Some("1.00"))).await),
        "1002"
    );

    // Sale: refund refused before end of day, cancel refused after it.
    assert_eq!(
        code(&vpos(&app, payment("S1", "Sale", "10.00", GOOD_CARD)).await),
        "0000"
    );
    assert_eq!(
        code(&vpos(&app, follow_up("Capture", "S1", Some("1.00"))).await),
        "1003"
    );
    assert_eq!(
        code(&vpos(&app, follow_up("Refund", "S1", Some("1.00"))).await),
        "1003"
    );
    assert_eq!(
        code(&vpos(&app, payment("S2", "Sale", "10.00", GOOD_CARD)).await),
        "0000"
    );
    assert_eq!(
        code(&vpos(&app, follow_up("Cancel", "S2", None)).await),
        "0000"
    );
    let again = vpos(&app, follow_up("Cancel", "S2", None)).await;
    assert_eq!(code(&again), "1083");
    assert_eq!(
        tag(&again, "ResultDetail"),
        Some("Referans islem daha önceden iptal edilmis.")
    );
    assert_eq!(
        code(&vpos(&app, follow_up("Refund", "S2", Some("1.00"))).await),
        "1083"
    );
    settle(&app).await;
    assert_eq!(
        code(&vpos(&app, follow_up("Cancel", "S1", None)).await),
        "1003"
    );
    assert_eq!(
        code(&vpos(&app, follow_up("Refund", "S1", Some("4.00"))).await),
        "0000"
    );
    assert_eq!(
        code(&vpos(&app, follow_up("Refund", "S1", Some("6.01"))).await),
        "1003"
    );
    assert_eq!(
        code(&vpos(&app, follow_up("Refund", "S1", Some("6.00"))).await),
        "0000"
    );
    let full = vpos(&app, follow_up("Refund", "S1", Some("0.01"))).await;
    assert_eq!(code(&full), "1059");
    let view = order(&app, "S1").await.unwrap();
    assert_eq!(view["status"], "Refunded");
    assert_eq!(view["refundedMinor"], 1000);
    // Refunds of a captured pre-auth stop at the captured amount.
    assert_eq!(
        code(&vpos(&app, follow_up("Refund", "P1", Some("60.01"))).await),
        "1003"
    );
    assert_eq!(
        code(&vpos(&app, follow_up("Refund", "P1", Some("60.00"))).await),
        "0000"
    );
}

#[tokio::test]
async fn search_lists_the_orders_transactions() {
    let app = app();
    assert_eq!(
        code(&vpos(&app, payment("Q1", "Sale", "90.50", GOOD_CARD)).await),
        "0000"
    );
    settle(&app).await;
    assert_eq!(
        code(&vpos(&app, follow_up("Refund", "Q1", Some("10.00"))).await),
        "0000"
    );
    let (status, reply) = post(&app, SEARCH, search("Q1")).await;
    assert_eq!(status, 200);
    assert_eq!(tag(&reply, "ResponseCode"), Some("0000"));
    assert_eq!(tag(&reply, "TotalItemCount"), Some("2"));
    assert_eq!(tags(&reply, "TransactionType"), vec!["Sale", "Refund"]);
    assert_eq!(tags(&reply, "CurrencyAmount"), vec!["90.50", "10.00"]);
    assert_eq!(tags(&reply, "OrderId"), vec!["Q1", "Q1"]);
    assert_eq!(tags(&reply, "AmountCode"), vec!["949", "949"]);
    let (_, none) = post(&app, SEARCH, search("Q2")).await;
    assert_eq!(tag(&none, "ResponseCode"), Some("0000"));
    assert_eq!(tag(&none, "TotalItemCount"), Some("0"));
    let (_, refused) = post(&app, SEARCH, search("Q1").replace(PASSWORD, "x")).await;
    assert_eq!(tag(&refused, "Status"), Some("Error"));
    assert_eq!(tag(&refused, "ResponseCode"), Some("9065"));
}

#[tokio::test]
async fn admin_adds_merchants_and_terminals() {
    let app = app();
    let (status, _) = admin(
        &app,
        "POST",
        "/payflex/_sim/stores",
        Some(serde_json::json!({"clientId": MERCHANT, "name": "VP777777", "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 200);
    let other_terminal = payment("T1", "Sale", "1.00", GOOD_CARD).replace(TERMINAL, "VP777777");
    assert_eq!(code(&vpos(&app, other_terminal).await), "0000");
    let (status, orders) = admin(
        &app,
        "GET",
        &format!("/payflex/_sim/orders/{MERCHANT}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(orders.as_array().unwrap().len(), 1);
    // The sandbox merchant is preloaded too.
    let sandbox = payment("T2", "Sale", "1.00", GOOD_CARD)
        .replace(MERCHANT, "000000000222222")
        .replace(PASSWORD, "ORKESTRA-PF1")
        .replace(TERMINAL, "VP000222");
    assert_eq!(code(&vpos(&app, sandbox).await), "0000");
}

#[tokio::test]
async fn ziraat_paths_serve_the_same_pages() {
    let app = app();
    for (i, (vpos_path, search_path)) in [
        (
            "/payflex/Ziraatbank/VposWeb/v3/Vposreq.aspx",
            "/payflex/Ziraatbank/VposWeb/UIWebService/Search.aspx",
        ),
        (
            "/payflex/v4/v3/Vposreq.aspx",
            "/payflex/v4/UIWebService/Search.aspx",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("Z{i}");
        let (status, reply) = post(&app, vpos_path, payment(&id, "Sale", "1.00", GOOD_CARD)).await;
        assert_eq!((status, code(&reply)), (200, "0000"), "{reply}");
        let (_, found) = post(&app, search_path, search(&id)).await;
        assert_eq!(tag(&found, "TotalItemCount"), Some("1"), "{found}");
    }
}
