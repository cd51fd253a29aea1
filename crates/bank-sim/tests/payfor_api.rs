//! The PayFor simulator's API (`/payfor/Gateway/XMLGate.aspx`): the reference library's
//! request bodies, the reply layouts of the real bank (`vpos-test-vectors.md` §5), every
//! rule of the books, the decline cards, and the admin endpoints.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "payfor_support.rs"]
mod support;

use serde_json::json;
use support::*;

/// S5.2's field order: what every payment-style reply carries.
const PAYMENT_REPLY: [&str; 10] = [
    "AuthCode",
    "HostRefNum",
    "ProcReturnCode",
    "TransId",
    "ErrMsg",
    "CardHolderName",
    "ArtiTaksit",
    "BankInternalResponseMessage",
    "PAYFORFROMXMLREQUEST",
    "SESSION_SYSTEM_USER",
];

#[tokio::test]
async fn sale_is_approved_in_the_banks_layout() {
    let app = app();
    let r = send(&app, &payment("api-1", "1.01", GOOD_CARD, "Auth")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "text/xml; charset=utf-8");
    assert!(
        r.text.starts_with(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<PayforResponse>\n<AuthCode>"
        )
    );
    assert_eq!(r.root, "PayforResponse");
    assert_eq!(r.field_names(), PAYMENT_REPLY);
    assert_eq!(r.code(), "00");
    assert_eq!(r.get("ErrMsg"), "Onaylandı");
    assert_eq!(r.get("TransId"), "api-1");
    assert_eq!(r.get("CardHolderName"), "John Doe");
    assert!(r.get("AuthCode").starts_with('S') && r.get("AuthCode").len() == 6);
    assert_eq!(r.get("HostRefNum").len(), 12);
    let view = order(&app, "api-1").await.unwrap();
    assert_eq!(view["status"], "Captured");
    assert_eq!(view["amountMinor"], 101);
    assert_eq!(view["pan"], "525864******0001");
    assert_eq!(view["transactions"][0]["type"], "Auth");
}

/// R5.3 / R5.4 — the library's own bodies carry the non-Luhn card 5555444433332222, which
/// the bank refuses with M041 "Geçersiz kart numarası" (P5.2's code and text).
#[tokio::test]
async fn library_vector_bodies_are_read_and_their_card_is_refused() {
    let app = app();
    let r5_3 = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PayforRequest><MerchantId>085300000009704</MerchantId><UserCode>QNB_API_KULLANICI_3DPAY</UserCode><UserPass>UcBN0</UserPass><MbrId>5</MbrId><MOTO>0</MOTO><OrderId>2020110828BC</OrderId><SecureType>NonSecure</SecureType><TxnType>Auth</TxnType><PurchAmount>100.01</PurchAmount><Currency>949</Currency><InstallmentCount>0</InstallmentCount><Lang>tr</Lang><CardHolderName>ahmet</CardHolderName><Pan>5555444433332222</Pan><Expiry>0122</Expiry><Cvv2>123</Cvv2></PayforRequest>\n";
    let r = send(&app, r5_3).await;
    assert_eq!(
        (r.code(), r.get("ErrMsg")),
        ("M041", "Geçersiz kart numarası")
    );
    assert_eq!(r.get("TransId"), "2020110828BC");
    let r5_4 = r5_3
        .replace("QNB_API_KULLANICI_3DPAY", ZK_USER)
        .replace("<MbrId>5</MbrId>", "<MbrId>12</MbrId>");
    let r = post_raw(&app, "/payfor/Mpi/XMLGate.aspx", r5_4.into_bytes()).await;
    assert_eq!(r.code(), "M041");
    assert!(order(&app, "2020110828BC").await.is_none());
}

#[tokio::test]
async fn format_errors_are_refused_and_book_nothing() {
    let app = app();
    for (body, code, message) in [
        (
            payment("", "1", GOOD_CARD, "Auth"),
            "M012",
            "Sipariş numarası geçersiz.",
        ),
        (
            payment("a b", "1", GOOD_CARD, "Auth"),
            "M012",
            "Sipariş numarası geçersiz.",
        ),
        (
            payment(&"x".repeat(65), "1", GOOD_CARD, "Auth"),
            "M012",
            "Sipariş numarası geçersiz.",
        ),
        (
            payment("f-1", "1", "5258640000000002", "Auth"),
            "M041",
            "Geçersiz kart numarası",
        ),
        (
            payment("f-1", "1", "52586400", "Auth"),
            "M041",
            "Geçersiz kart numarası",
        ),
        (
            payment_with("f-1", "1", GOOD_CARD, "Auth", "12/30", "0"),
            "M012",
            "Son kullanma tarihi geçersiz.",
        ),
        (
            payment_with("f-1", "1", GOOD_CARD, "Auth", "1330", "0"),
            "M012",
            "Son kullanma tarihi geçersiz.",
        ),
        (
            payment("f-1", "1,01", GOOD_CARD, "Auth"),
            "M012",
            "Tutar geçersiz.",
        ),
        (
            payment("f-1", "0", GOOD_CARD, "Auth"),
            "M012",
            "Tutar geçersiz.",
        ),
        (
            payment("f-1", "1.001", GOOD_CARD, "Auth"),
            "M012",
            "Tutar geçersiz.",
        ),
        (
            payment_with("f-1", "1", GOOD_CARD, "Auth", "1230", "13"),
            "M012",
            "Taksit sayısı geçersiz.",
        ),
        (
            payment("f-1", "1", GOOD_CARD, "Sale"),
            "M012",
            "Geçersiz işlem tipi.",
        ),
        (
            payment("f-1", "1", GOOD_CARD, "Auth").replace("<Cvv2>123</Cvv2>", "<Cvv2>12</Cvv2>"),
            "M012",
            "Güvenlik kodu (CVV2) geçersiz.",
        ),
        (
            payment("f-1", "1", GOOD_CARD, "Auth")
                .replace("<Currency>949</Currency>", "<Currency>999</Currency>"),
            "M012",
            "Para birimi geçersiz.",
        ),
        (
            payment("f-1", "1", GOOD_CARD, "Auth").replace("NonSecure", "Secure"),
            "M012",
            "Geçersiz işlem tipi.",
        ),
    ] {
        let r = send(&app, &body).await;
        assert_eq!((r.code(), r.get("ErrMsg")), (code, message), "{body}");
        assert_eq!(r.get("AuthCode"), "");
    }
    assert!(order(&app, "f-1").await.is_none());
    // Installments only in TRY, and "1" is a single payment.
    let usd = payment_with("f-2", "1", GOOD_CARD, "Auth", "1230", "3")
        .replace("<Currency>949</Currency>", "<Currency>840</Currency>");
    assert_eq!(send(&app, &usd).await.code(), "M012");
    let single = payment_with("f-3", "1", GOOD_CARD, "Auth", "1230", "1");
    assert_eq!(send(&app, &single).await.code(), "00");
    let three = payment_with("f-4", "1", GOOD_CARD, "Auth", "1230", "3");
    assert_eq!(send(&app, &three).await.code(), "00");
    assert_eq!(order(&app, "f-4").await.unwrap()["installment"], 3);
    // No CVV: a card-on-file payment with a stored card.
    let stored =
        payment("f-5", "1", GOOD_CARD, "Auth").replace("<Cvv2>123</Cvv2>", "<Cvv2></Cvv2>");
    assert_eq!(send(&app, &stored).await.code(), "00");
}

#[tokio::test]
async fn malformed_bodies_get_an_xml_refusal() {
    let app = app();
    for body in [
        &b""[..],
        b"<html><body>hi</body></html>",
        b"<PayforRequest><MerchantId>",
        b"<CC5Request><Name>x</Name></CC5Request>",
        b"\xff\xfe\x00<",
    ] {
        let r = post_raw(&app, API, body.to_vec()).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            (r.code(), r.get("ErrMsg")),
            ("M012", "İstek okunamadı: XML hatalı.")
        );
    }
}

#[tokio::test]
async fn credentials_are_checked_like_the_bank() {
    let app = app();
    let body = payment("c-1", "1", GOOD_CARD, "Auth");
    let r = send(
        &app,
        &body.replace("<UserPass>UcBN0</UserPass>", "<UserPass>x</UserPass>"),
    )
    .await;
    assert_eq!(r.code(), "V001");
    let r = send(&app, &body.replace(USER, "SOMEONE")).await;
    assert_eq!(r.code(), "V001");
    let r = send(&app, &body.replace(MERCHANT, "085300000000000")).await;
    assert_eq!(r.code(), "V004");
    let r = send(&app, &body.replace("<MbrId>5</MbrId>", "<MbrId>12</MbrId>")).await;
    assert_eq!(r.code(), "V004");
    let r = send(&app, &body.replace("<MbrId>5</MbrId>", "")).await;
    assert_eq!(r.code(), "V004");
    assert!(order(&app, "c-1").await.is_none());
    // The Ziraat Katılım user of the same merchant signs in with MbrId 12.
    let zk = body
        .replace(USER, ZK_USER)
        .replace("<MbrId>5</MbrId>", "<MbrId>12</MbrId>");
    assert_eq!(send(&app, &zk).await.code(), "00");
    // Element names are read case-insensitively (forms say MerchantID).
    let r = send(
        &app,
        &payment("c-2", "1", GOOD_CARD, "Auth").replace("MerchantId>", "MerchantID>"),
    )
    .await;
    assert_eq!(r.code(), "00");
}

#[tokio::test]
async fn decline_cards_are_declined_with_their_iso_codes_and_may_be_retried() {
    let app = app();
    for (i, (pan, decline)) in bank_sim::nestpay::codes::decline_cards().enumerate() {
        let order_id = format!("d-{i}");
        let r = send(&app, &payment(&order_id, "1", pan, "Auth")).await;
        assert_eq!(
            (r.code(), r.get("ErrMsg")),
            (decline.code, decline.message),
            "{pan}"
        );
        assert_eq!(r.get("AuthCode"), "");
        let s = send(&app, &status(&order_id)).await;
        assert_eq!(
            (s.code(), s.get("TxnStatus"), s.get("TxnResult")),
            (decline.code, "N", "Failed")
        );
        assert_eq!(order(&app, &order_id).await.unwrap()["status"], "Declined");
    }
    // A declined order id can be retried; an approved one cannot.
    assert_eq!(
        send(&app, &payment("d-0", "1", GOOD_CARD, "Auth"))
            .await
            .code(),
        "00"
    );
    let r = send(&app, &payment("d-0", "1", GOOD_CARD, "Auth")).await;
    assert_eq!(
        (r.code(), r.get("ErrMsg")),
        ("101310", "Verilen sipariş no önceden kullanılmıştır.")
    );
    let view = order(&app, "d-0").await.unwrap();
    assert_eq!(view["transactions"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn expired_cards_are_declined_by_the_banks_clock() {
    let app = app();
    let r = send(
        &app,
        &payment_with("e-1", "1", GOOD_CARD, "Auth", "0120", "0"),
    )
    .await;
    assert_eq!(r.code(), "54");
    // Move the bank past 12/2030: the card used everywhere else expires too.
    let (code, _) = admin(
        &app,
        "POST",
        "/payfor/_sim/clock",
        Some(json!({"now": "2031-01-02T10:00:00Z"})),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        send(&app, &payment("e-2", "1", GOOD_CARD, "Auth"))
            .await
            .code(),
        "54"
    );
}

#[tokio::test]
async fn post_auth_rules() {
    let app = app();
    assert_eq!(
        send(&app, &payment("p-1", "2.01", GOOD_CARD, "PreAuth"))
            .await
            .code(),
        "00"
    );
    let s = send(&app, &status("p-1")).await;
    assert_eq!((s.get("TxnType"), s.get("TxnStatus")), ("PreAuth", "Y"));

    let r = send(&app, &post_auth("p-1", "2.02")).await;
    assert_eq!(
        (r.code(), r.get("ErrMsg")),
        ("V015", "Kapama tutarı ön provizyon tutarını aşıyor.")
    );
    let r = send(
        &app,
        &post_auth("p-1", "1").replace("<Currency>949</Currency>", "<Currency>840</Currency>"),
    )
    .await;
    assert_eq!(
        r.get("ErrMsg"),
        "Para birimi siparişin para birimi ile uyuşmuyor."
    );
    let r = send(&app, &post_auth("p-1", "2.01")).await;
    assert_eq!((r.code(), r.get("TransId")), ("00", "p-1"));
    let r = send(&app, &post_auth("p-1", "2.01")).await;
    assert_eq!(r.get("ErrMsg"), "Ön provizyon daha önce kapatılmış.");
    // P5.13: after a post-auth the status describes it.
    let s = send(&app, &status("p-1")).await;
    assert_eq!(
        (
            s.get("TxnType"),
            s.get("OrgOrderId"),
            s.get("PurchAmount"),
            s.get("TxnStatus")
        ),
        ("PostAuth", "p-1", "2.01", "Y")
    );

    // Empty PurchAmount captures everything pre-authorised.
    send(&app, &payment("p-2", "3.50", GOOD_CARD, "PreAuth")).await;
    assert_eq!(send(&app, &post_auth("p-2", "")).await.code(), "00");
    assert_eq!(order(&app, "p-2").await.unwrap()["capturedMinor"], 350);

    // Not a pre-auth, unknown, voided.
    send(&app, &payment("p-3", "1", GOOD_CARD, "Auth")).await;
    assert_eq!(
        send(&app, &post_auth("p-3", "1")).await.get("ErrMsg"),
        "Kapatılacak ön provizyon bulunamadı."
    );
    let r = send(&app, &post_auth("p-none", "1")).await;
    assert_eq!(
        (r.code(), r.get("ErrMsg")),
        ("V013", "Seçili İşlem Bulunamadı!")
    );
    send(&app, &payment("p-4", "1", GOOD_CARD, "PreAuth")).await;
    assert_eq!(send(&app, &void("p-4")).await.code(), "00");
    assert_eq!(send(&app, &post_auth("p-4", "1")).await.code(), "V015");
    let view = order(&app, "p-1").await.unwrap();
    let kinds: Vec<(&str, bool)> = view["transactions"]
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
            ("PostAuth", false),
        ]
    );
}

#[tokio::test]
async fn void_rules() {
    let app = app();
    send(&app, &payment("v-1", "1", GOOD_CARD, "Auth")).await;
    let r = send(&app, &void("v-1")).await;
    assert_eq!((r.code(), r.get("TransId")), ("00", "v-1"));
    let r = send(&app, &void("v-1")).await;
    assert_eq!(
        (r.code(), r.get("ErrMsg")),
        ("V015", "İptal edilebilecek işlem bulunamadı.")
    );
    // P5.14: the voided sale's status.
    let s = send(&app, &status("v-1")).await;
    assert_eq!(
        (s.get("TxnType"), s.get("TxnStatus"), s.get("IsVoided")),
        ("Auth", "V", "true")
    );
    assert_eq!(s.get("VoidDate").len(), 8);
    assert_eq!(send(&app, &void("v-none")).await.code(), "V013");

    // A post-authorised pre-auth is voided whole.
    send(&app, &payment("v-2", "2", GOOD_CARD, "PreAuth")).await;
    send(&app, &post_auth("v-2", "2")).await;
    assert_eq!(send(&app, &void("v-2")).await.code(), "00");
    assert_eq!(order(&app, "v-2").await.unwrap()["status"], "Voided");

    // Not after end of day, and not of a declined order.
    send(&app, &payment("v-3", "1", GOOD_CARD, "Auth")).await;
    send(&app, &payment("v-4", "1", "5100050000006661", "Auth")).await;
    settle(&app).await;
    assert_eq!(send(&app, &void("v-3")).await.code(), "V015");
    assert_eq!(send(&app, &void("v-4")).await.code(), "V015");
}

#[tokio::test]
async fn refund_rules() {
    let app = app();
    send(&app, &payment("r-1", "10", GOOD_CARD, "Auth")).await;
    // Same day: the real V014.
    let r = send(&app, &refund("r-1", "1")).await;
    assert_eq!(
        (r.code(), r.get("ErrMsg")),
        (
            "V014",
            "Bu işlem geri alınamaz, lüften asıl işlemi iptal edin."
        )
    );
    settle(&app).await;
    assert_eq!(send(&app, &refund("r-1", "2.5")).await.code(), "00");
    let s = send(&app, &status("r-1")).await;
    assert_eq!(
        (s.get("RefundedAmount"), s.get("IsRefunded")),
        ("2.5", "true")
    );
    let r = send(&app, &refund("r-1", "7.51")).await;
    assert_eq!(
        (r.code(), r.get("ErrMsg")),
        ("V015", "İade tutarı, iade edilebilir tutarı aşıyor.")
    );
    let r = send(
        &app,
        &refund("r-1", "1").replace("<Currency>949</Currency>", "<Currency>978</Currency>"),
    )
    .await;
    assert_eq!(
        r.get("ErrMsg"),
        "Para birimi siparişin para birimi ile uyuşmuyor."
    );
    // Empty PurchAmount refunds the rest; then there is nothing left.
    assert_eq!(send(&app, &refund("r-1", "")).await.code(), "00");
    assert_eq!(send(&app, &refund("r-1", "0.01")).await.code(), "V015");
    let view = order(&app, "r-1").await.unwrap();
    assert_eq!(
        (view["status"].as_str(), view["refundedMinor"].as_i64()),
        (Some("Refunded"), Some(1000))
    );

    // History lists every refund attempt, refused ones included (P5.23).
    let h = send(&app, &history("r-1")).await;
    assert_eq!(h.root, "TxnHistoryReport");
    let rows: Vec<(&str, &str, &str, &str)> = (0..h.records.len())
        .map(|i| {
            (
                h.record(i, "TxnType"),
                h.record(i, "TxnStatus"),
                h.record(i, "ProcReturnCode"),
                h.record(i, "PurchAmount"),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("Auth", "Y", "00", "10"),
            ("Refund", "N", "V014", "1"),
            ("Refund", "Y", "00", "2.5"),
            ("Refund", "N", "V015", "7.51"),
            ("Refund", "N", "V015", "1"),
            ("Refund", "Y", "00", "7.5"),
            ("Refund", "N", "V015", "0.01"),
        ]
    );
    assert_eq!(h.record(1, "OrgOrderId"), "r-1");
    assert_eq!(h.record(1, "OrgTxnType"), "Auth");

    // Nothing to refund: unknown, voided, uncaptured pre-auth.
    assert_eq!(send(&app, &refund("r-none", "1")).await.code(), "V013");
    send(&app, &payment("r-2", "1", GOOD_CARD, "PreAuth")).await;
    settle(&app).await;
    assert_eq!(
        send(&app, &refund("r-2", "1")).await.get("ErrMsg"),
        "İade edilecek satış işlemi bulunamadı."
    );
}

#[tokio::test]
async fn status_and_history_of_unknown_orders() {
    let app = app();
    // P5.16 layout.
    let s = send(&app, &status("nope")).await;
    assert_eq!(
        (
            s.code(),
            s.get("TxnType"),
            s.get("OrgOrderId"),
            s.get("ErrMsg"),
            s.get("RequestGuid")
        ),
        (
            "V013",
            "OrderInquiry",
            "nope",
            "Seçili İşlem Bulunamadı!",
            "0"
        )
    );
    // P5.24 layout.
    let h = send(&app, &history("nope")).await;
    assert_eq!(h.records.len(), 1);
    assert_eq!(
        (
            h.record(0, "TxnType"),
            h.record(0, "ProcReturnCode"),
            h.record(0, "OrderId")
        ),
        ("TxnHistory", "V013", "nope")
    );
}

#[tokio::test]
async fn status_record_follows_vector_p5_11() {
    let app = app();
    send(&app, &payment("s-1", "1.01", "4155650100416111", "Auth")).await;
    let s = send(&app, &status("s-1")).await;
    for (name, value) in [
        ("ProcReturnCode", "00"),
        ("OrderId", "s-1"),
        ("MerchantID", MERCHANT),
        ("MbrId", "5"),
        ("SecureType", "NonSecure"),
        ("TxnType", "Auth"),
        ("PurchAmount", "1.01"),
        ("Currency", "949"),
        ("InstallmentCount", "0"),
        ("TxnStatus", "Y"),
        ("TxnResult", "Success"),
        ("ErrMsg", "Onaylandı"),
        ("CardMask", "415565******6111"),
        ("CardType", "V"),
        ("AlphaCode", "TL"),
        ("RefundedAmount", "0"),
        ("IsVoided", "false"),
        ("IsRefunded", "false"),
        ("HostRefNum", ""),
        ("D3Status", "-1"),
    ] {
        assert_eq!(s.get(name), value, "{name}");
    }
    assert_eq!(s.get("F37").len(), 12);
    assert_eq!(s.get("InsertDatetime").len(), 19);
}

#[tokio::test]
async fn admin_endpoints() {
    let app = app();
    // A new merchant with a Ziraat Katılım user.
    let (code, v) = admin(
        &app,
        "POST",
        "/payfor/_sim/stores",
        Some(json!({"clientId": "099900000000001", "name": "ZK_USER", "password": "pw", "storeKey": "key", "mbrId": "12"})),
    )
    .await;
    assert_eq!((code, v["mbrId"].as_str()), (200, Some("12")));
    let body = payment("adm-1", "1", GOOD_CARD, "Auth")
        .replace(MERCHANT, "099900000000001")
        .replace(USER, "ZK_USER")
        .replace(PASS, "pw")
        .replace("<MbrId>5</MbrId>", "<MbrId>12</MbrId>");
    assert_eq!(
        post_raw(&app, "/payfor/Mpi/XMLGate.aspx", body.into_bytes())
            .await
            .code(),
        "00"
    );
    let (code, list) = admin(&app, "GET", "/payfor/_sim/orders/099900000000001", None).await;
    assert_eq!(code, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["clientId"], "099900000000001");
    let (code, v) = admin(
        &app,
        "GET",
        "/payfor/_sim/orders/099900000000001/none",
        None,
    )
    .await;
    assert_eq!(code, 404);
    assert!(v["error"].is_string());

    for bad in [
        json!({"clientId": "", "name": "x", "password": "y"}),
        json!({"clientId": "1", "name": "x", "password": "y", "mbrId": "7"}),
    ] {
        assert_eq!(
            admin(&app, "POST", "/payfor/_sim/stores", Some(bad))
                .await
                .0,
            400
        );
    }
    let (code, v) = admin(
        &app,
        "POST",
        "/payfor/_sim/faults",
        Some(json!({"clientId": MERCHANT, "mode": "html", "count": 2})),
    )
    .await;
    assert_eq!((code, v["pending"][0]["count"].as_u64()), (200, Some(2)));
    let (_, v) = admin(
        &app,
        "GET",
        &format!("/payfor/_sim/faults/{MERCHANT}"),
        None,
    )
    .await;
    assert_eq!(v["pending"][0]["mode"], "html");
    assert_eq!(
        admin(
            &app,
            "POST",
            "/payfor/_sim/faults",
            Some(json!({"clientId": MERCHANT, "mode": "boom"}))
        )
        .await
        .0,
        400
    );
    assert_eq!(
        admin(
            &app,
            "POST",
            "/payfor/_sim/faults",
            Some(json!({"clientId": MERCHANT, "mode": "delay"}))
        )
        .await
        .0,
        400
    );
    let (code, v) = admin(
        &app,
        "DELETE",
        &format!("/payfor/_sim/faults?clientId={MERCHANT}"),
        None,
    )
    .await;
    assert_eq!((code, v["cleared"].as_str()), (200, Some(MERCHANT)));
    let (_, v) = admin(
        &app,
        "GET",
        &format!("/payfor/_sim/faults/{MERCHANT}"),
        None,
    )
    .await;
    assert_eq!(v["pending"].as_array().unwrap().len(), 0);
    let (code, v) = admin(&app, "POST", "/payfor/_sim/settle", None).await;
    assert_eq!((code, v["settled"].as_u64()), (200, Some(1)));
    let (code, v) = admin(
        &app,
        "POST",
        "/payfor/_sim/clock",
        Some(json!({"advanceMs": 1000})),
    )
    .await;
    assert_eq!(
        (code, v["offsetMs"].as_i64().map(|ms| ms >= 1000)),
        (200, Some(true))
    );
    assert_eq!(
        admin(&app, "POST", "/payfor/_sim/clock", Some(json!({})))
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn direct_answers_without_http() {
    let sims = bank_sim::Simulators::new();
    let sim = bank_sim::payfor::PayforSim::new(sims.clock().clone());
    let bytes = sim.answer(payment("direct-1", "1", GOOD_CARD, "Auth").as_bytes());
    let reply = read_reply(200, String::new(), bytes);
    assert_eq!(reply.code(), "00");
    assert_eq!(
        sim.order(MERCHANT, "direct-1").unwrap().unwrap().status,
        "Captured"
    );
    assert_eq!(sim.orders(MERCHANT).unwrap().len(), 1);
    assert_eq!(
        sim.merchant_pass(MERCHANT).unwrap().as_deref(),
        Some(MERCHANT_PASS)
    );
}
