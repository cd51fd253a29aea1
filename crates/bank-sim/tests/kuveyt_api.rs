//! The Kuveyt Türk simulator's API rules, in-process: sign-in and hash, field checks, the
//! decline cards, the books (cancel on the day, refunds after end of day, never above the
//! sale, cancel once), the status inquiry and the SOAP service's faults.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "kuveyt_support.rs"]
mod support;

use bank_sim::kuveyt::books::reply_hash;
use serde_json::json;
use support::*;

#[tokio::test]
async fn a_sale_is_approved_with_references_and_a_signed_reply() {
    let app = app();
    let answer = gate(&app, "Non3DPayGate", &sale("KT-1", "1001", GOOD_CARD)).await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.content_type.starts_with("text/xml"),
        "{}",
        answer.content_type
    );
    let reply = answer.xml();
    assert_eq!(reply.name, "VPosTransactionResponseContract");
    assert_eq!(reply.get("ResponseCode"), "00");
    assert_eq!(reply.get("ResponseMessage"), "OTORİZASYON VERİLDİ");
    assert_eq!(reply.get("MerchantOrderId"), "KT-1");
    assert_eq!(reply.get("ProvisionNumber").len(), 6);
    assert_eq!(reply.get("RRN").len(), 12);
    assert_eq!(reply.get("Stan").len(), 6);
    let vpos = reply.child("VPosMessage").unwrap();
    assert_eq!(vpos.get("Amount"), "1001");
    assert_eq!(vpos.get("CurrencyCode"), "949");
    assert_eq!(vpos.get("CardNumber"), "525864******0001");
    assert_eq!(
        reply.get("HashData"),
        reply_hash("KT-1", reply.get("RRN"), "00", reply.get("OrderId"), PASS)
    );
    let order = order(&app, "KT-1").await.unwrap();
    assert_eq!(order["status"], "Captured");
    assert_eq!(order["amountMinor"], 1001);
    assert_eq!(order["type"], "Sale");
    // Nothing of the card but its mask is kept.
    assert!(!order.to_string().contains(GOOD_CARD));
}

#[tokio::test]
async fn sign_in_and_hash_are_checked_first() {
    let app = app();
    let body = sale("KT-2", "1001", GOOD_CARD);
    let unknown = body.replace("<MerchantId>80<", "<MerchantId>99<");
    assert_eq!(
        gate(&app, "Non3DPayGate", &unknown).await.code(),
        "MerchantNotDefined"
    );
    let customer = body.replace("<CustomerId>400235<", "<CustomerId>400236<");
    assert_eq!(
        gate(&app, "Non3DPayGate", &customer).await.code(),
        "MerchantNotDefined"
    );
    let user = body.replace("<UserName>apiuser<", "<UserName>nobody<");
    assert_eq!(
        gate(&app, "Non3DPayGate", &user).await.code(),
        "ApiUserNotDefined"
    );
    let wrong = sale_with(
        "KT-2",
        "1001",
        GOOD_CARD,
        "0949",
        "0",
        ("30", "12"),
        "wrong",
    );
    assert_eq!(
        gate(&app, "Non3DPayGate", &wrong).await.code(),
        "HashDataError"
    );
    // The hash covers the amount and the order id.
    let amount = body.replace("<Amount>1001<", "<Amount>1002<");
    assert_eq!(
        gate(&app, "Non3DPayGate", &amount).await.code(),
        "HashDataError"
    );
    let order_id = body.replace("<MerchantOrderId>KT-2<", "<MerchantOrderId>KT-3<");
    assert_eq!(
        gate(&app, "Non3DPayGate", &order_id).await.code(),
        "HashDataError"
    );
    let security = body.replace("<TransactionSecurity>1<", "<TransactionSecurity>3<");
    assert_eq!(
        gate(&app, "Non3DPayGate", &security).await.code(),
        "InvalidTransactionSecurity"
    );
    assert!(order(&app, "KT-2").await.is_none());
    // Not a message at all: a refusal, still a contract.
    let answer = gate(&app, "Non3DPayGate", "<html/>").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.code(), "InvalidRequestError");
}

#[tokio::test]
async fn fields_are_checked_like_the_bank() {
    let app = app();
    let cases = [
        (sale("KT-4", "1001", "5258640000000002"), "14"),
        (sale("KT-4", "0", GOOD_CARD), "InvalidRequestError"),
        (
            sale_with("KT-4", "1001", GOOD_CARD, "0826", "0", ("30", "12"), PASS),
            "InvalidRequestError",
        ),
        (
            sale_with("KT-4", "1001", GOOD_CARD, "0840", "3", ("30", "12"), PASS),
            "InvalidRequestError",
        ),
        (
            sale_with("KT-4", "1001", GOOD_CARD, "0949", "13", ("30", "12"), PASS),
            "InvalidRequestError",
        ),
        (
            sale_with("KT-4", "1001", GOOD_CARD, "0949", "0", ("2030", "12"), PASS),
            "InvalidRequestError",
        ),
        (
            sale("KT-4", "1001", GOOD_CARD).replace("<DisplayAmount>1001<", "<DisplayAmount>1<"),
            "InvalidRequestError",
        ),
        (sale("KT 4", "1001", GOOD_CARD), "InvalidRequestError"),
    ];
    for (body, code) in cases {
        assert_eq!(
            gate(&app, "Non3DPayGate", &body).await.code(),
            code,
            "{body}"
        );
    }
    assert!(order(&app, "KT-4").await.is_none());
    // Installments in TRY and other currencies are taken.
    let installments = sale_with("KT-5", "1001", GOOD_CARD, "0949", "6", ("30", "12"), PASS);
    assert_eq!(gate(&app, "Non3DPayGate", &installments).await.code(), "00");
    let euros = sale_with("KT-6", "1001", GOOD_CARD, "0978", "0", ("30", "12"), PASS);
    assert_eq!(gate(&app, "Non3DPayGate", &euros).await.code(), "00");
    assert_eq!(order(&app, "KT-6").await.unwrap()["currency"], "EUR");
}

#[tokio::test]
async fn decline_cards_expired_cards_and_duplicates() {
    let app = app();
    for (n, (pan, decline)) in bank_sim::nestpay::codes::decline_cards().enumerate() {
        let order_id = format!("KT-D{n}");
        let reply = gate(&app, "Non3DPayGate", &sale(&order_id, "1001", pan))
            .await
            .xml();
        assert_eq!(reply.get("ResponseCode"), decline.code, "{pan}");
        assert_eq!(reply.get("ResponseMessage"), decline.message, "{pan}");
        assert_eq!(reply.get("ProvisionNumber"), "");
        assert_eq!(order(&app, &order_id).await.unwrap()["status"], "Declined");
    }
    let expired = sale_with("KT-E", "1001", GOOD_CARD, "0949", "0", ("20", "01"), PASS);
    assert_eq!(gate(&app, "Non3DPayGate", &expired).await.code(), "54");
    // A declined order id may be tried again; an approved one may not.
    assert_eq!(
        gate(&app, "Non3DPayGate", &sale("KT-E", "1001", GOOD_CARD))
            .await
            .code(),
        "00"
    );
    assert_eq!(
        gate(&app, "Non3DPayGate", &sale("KT-E", "1001", GOOD_CARD))
            .await
            .code(),
        "InvalidRequestError"
    );
}

#[tokio::test]
async fn cancel_on_the_day_once_and_never_refund_a_cancelled_order() {
    let app = app();
    let reply = gate(&app, "Non3DPayGate", &sale("KT-C", "1001", GOOD_CARD))
        .await
        .xml();
    let refs = Refs::of(&reply);
    let status_of = |answer: Answer| {
        let contract = answer
            .result()
            .at(&["Value", "OrderContract"])
            .unwrap()
            .clone();
        (
            contract.get("LastOrderStatus").to_owned(),
            contract.get("FirstAmount").to_owned(),
            contract.get("DrawbackAmount").to_owned(),
        )
    };
    assert_eq!(
        status_of(soap(&app, &status("KT-C")).await),
        ("1".into(), "10.01".into(), "0.00".into())
    );
    let mut wrong = refs.clone();
    wrong.rrn = "000000000000".into();
    assert_eq!(
        soap(&app, &reversal("SaleReversal", "KT-C", &wrong, "1001"))
            .await
            .soap_code(),
        "OrderDataNotFound"
    );
    assert_eq!(
        soap(&app, &reversal("SaleReversal", "KT-C", &refs, "1000"))
            .await
            .soap_code(),
        "InvalidRequestError"
    );
    let cancel = soap(&app, &reversal("SaleReversal", "KT-C", &refs, "1001")).await;
    assert_eq!(cancel.soap_code(), "00");
    assert_eq!(cancel.result().get("Success"), "true");
    assert_eq!(status_of(soap(&app, &status("KT-C")).await).0, "6");
    assert_eq!(
        soap(&app, &reversal("SaleReversal", "KT-C", &refs, "1001"))
            .await
            .soap_code(),
        "21"
    );
    settle(&app).await;
    let refused = soap(&app, &reversal("PartialDrawback", "KT-C", &refs, "100")).await;
    assert_eq!(refused.soap_code(), "28");
    assert_eq!(
        refused
            .result()
            .at(&["Value"])
            .unwrap()
            .get("ResponseMessage"),
        "İptal Edilen İşlem İade Yapılamaz"
    );
    assert_eq!(order(&app, "KT-C").await.unwrap()["status"], "Voided");
}

#[tokio::test]
async fn refunds_after_end_of_day_never_above_the_sale() {
    let app = app();
    let reply = gate(&app, "Non3DPayGate", &sale("KT-R", "1001", GOOD_CARD))
        .await
        .xml();
    let refs = Refs::of(&reply);
    let early = soap(&app, &reversal("PartialDrawback", "KT-R", &refs, "100")).await;
    assert_eq!(early.soap_code(), "DbLayerError");
    assert_eq!(early.result().get("Success"), "false");
    settle(&app).await;
    let late_cancel = soap(&app, &reversal("SaleReversal", "KT-R", &refs, "1001")).await;
    assert_eq!(late_cancel.soap_code(), "InvalidRequestError");
    // A DrawBack is for everything left, nothing less.
    assert_eq!(
        soap(&app, &reversal("DrawBack", "KT-R", &refs, "100"))
            .await
            .soap_code(),
        "InvalidRequestError"
    );
    assert_eq!(
        soap(&app, &reversal("PartialDrawback", "KT-R", &refs, "100"))
            .await
            .soap_code(),
        "00"
    );
    let contract = soap(&app, &status("KT-R")).await.result();
    let contract = contract.at(&["Value", "OrderContract"]).unwrap();
    assert_eq!(contract.get("LastOrderStatus"), "5");
    assert_eq!(contract.get("DrawbackAmount"), "1.00");
    assert_eq!(contract.get("EndOfDayStatus"), "2");
    assert_eq!(
        soap(&app, &reversal("PartialDrawback", "KT-R", &refs, "902"))
            .await
            .soap_code(),
        "InvalidRequestError"
    );
    assert_eq!(
        soap(&app, &reversal("DrawBack", "KT-R", &refs, "901"))
            .await
            .soap_code(),
        "00"
    );
    let contract = soap(&app, &status("KT-R")).await.result();
    assert_eq!(
        contract
            .at(&["Value", "OrderContract"])
            .unwrap()
            .get("LastOrderStatus"),
        "4"
    );
    let order = order(&app, "KT-R").await.unwrap();
    assert_eq!(order["status"], "Refunded");
    assert_eq!(order["refundedMinor"], 1001);
}

#[tokio::test]
async fn the_status_inquiry_and_its_refusals() {
    let app = app();
    let unknown = soap(&app, &status("KT-NONE")).await.result();
    assert_eq!(unknown.get("Success"), "true");
    assert!(unknown.child("Value").unwrap().children.is_empty());
    let bad_hash = soap(
        &app,
        &status_with("KT-NONE", "2000-01-01T00:00:00", "2099-01-01T00:00:00", "x"),
    )
    .await;
    assert_eq!(bad_hash.soap_code(), "HashDataError");
    assert_eq!(bad_hash.result().get("Success"), "false");
    gate(&app, "Non3DPayGate", &sale("KT-S", "1001", GOOD_CARD)).await;
    let outside = soap(
        &app,
        &status_with("KT-S", "2000-01-01T00:00:00", "2000-01-02T00:00:00", PASS),
    )
    .await;
    assert!(outside.result().child("Value").unwrap().children.is_empty());
    let bad_dates = soap(&app, &status_with("KT-S", "yesterday", "today", PASS)).await;
    assert_eq!(bad_dates.soap_code(), "InvalidRequestError");
    let found = soap(&app, &status("KT-S")).await.result();
    let contract = found.at(&["Value", "OrderContract"]).unwrap();
    assert_eq!(contract.get("MerchantOrderId"), "KT-S");
    assert_eq!(contract.get("ResponseCode"), "00");
    assert_eq!(contract.get("FEC"), "0949");
    assert_eq!(contract.get("ProvNumber").len(), 6);
}

#[tokio::test]
async fn what_is_not_a_service_call_is_a_soap_fault() {
    let app = app();
    for body in [
        "not xml".to_owned(),
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><ser:Nope xmlns:ser=\"x\"><ser:request/></ser:Nope></soapenv:Body></soapenv:Envelope>".to_owned(),
    ] {
        let answer = soap(&app, &body).await;
        assert_eq!(answer.status, 500);
        assert!(answer.text.contains("<s:Fault>"), "{}", answer.text);
    }
    // A SOAPAction naming another operation than the body's.
    let response = post_with_action(
        &app,
        &status("KT-X"),
        "http://boa.net/BOA.Integration.VirtualPos/Service/IVirtualPosService/DrawBack",
    )
    .await;
    assert_eq!(response, 500);
    let response = post_with_action(&app, &status("KT-X"), "\"http://boa.net/BOA.Integration.VirtualPos/Service/IVirtualPosService/GetMerchantOrderDetail\"").await;
    assert_eq!(response, 200);
}

async fn post_with_action(app: &axum::Router, body: &str, action: &str) -> u16 {
    use tower::ServiceExt;
    let request = axum::http::Request::builder()
        .method("POST")
        .uri(SOAP)
        .header("content-type", "text/xml; charset=UTF-8")
        .header("SOAPAction", action)
        .body(axum::body::Body::from(body.to_owned()))
        .unwrap();
    app.clone()
        .oneshot(request)
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn admin_adds_merchants_and_users() {
    let app = app();
    let (code, _) = admin(
        &app,
        "POST",
        "/kuveyt/_sim/stores",
        Some(json!({"clientId": "90", "customerId": "500000", "name": "u2", "password": "p2"})),
    )
    .await;
    assert_eq!(code, 200);
    let body = sale("KT-A", "1001", GOOD_CARD)
        .replace("<MerchantId>80<", "<MerchantId>90<")
        .replace("<CustomerId>400235<", "<CustomerId>500000<")
        .replace("<UserName>apiuser<", "<UserName>u2<");
    let hash = bank_sim::kuveyt::books::request_hash("90", "KT-A", "1001", "", "", "u2", "p2");
    let start = body.find("<HashData>").unwrap() + "<HashData>".len();
    let end = body[start..].find('<').unwrap() + start;
    let body = format!("{}{hash}{}", &body[..start], &body[end..]);
    assert_eq!(gate(&app, "Non3DPayGate", &body).await.code(), "00");
    let (code, orders) = admin(&app, "GET", "/kuveyt/_sim/orders/90", None).await;
    assert_eq!(code, 200);
    assert_eq!(orders.as_array().unwrap().len(), 1);
    let (code, clock) = admin(&app, "GET", "/kuveyt/_sim/clock", None).await;
    assert_eq!(code, 200);
    assert!(clock["now"].is_string());
}
