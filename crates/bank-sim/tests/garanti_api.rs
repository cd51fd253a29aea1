//! The Garanti simulator's API (`POST /garanti/VPServlet`): the reference library's request
//! vectors are understood (their hashes verify), the happy paths answer in the shape of the
//! reply vectors, and every rule refuses what it should with the bank's codes.
//!
//! Vectors from `mewebstudio/pos` @ `a4c454a5c1ed` as collected in `vpos-test-vectors.md` §2.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod garanti_common;

use garanti_common::*;
use serde_json::json;

fn vector(one_line: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{one_line}\n")
}

const R2_HEAD: &str = "<Mode>TEST</Mode><Version>512</Version><Terminal><ProvUserID>PROVAUT</ProvUserID><UserID>PROVAUT</UserID>";
const R2_HEAD_RFN: &str = "<Mode>TEST</Mode><Version>512</Version><Terminal><ProvUserID>PROVRFN</ProvUserID><UserID>PROVRFN</UserID>";

/// R2.1, R2.2, R2.4, R2.5, R2.7, R2.11, R2.12 (`GarantiPosRequestDataMapperTest.php`) and the
/// legacy S2.1/S2.2 (`GarantiPosSerializerTest.php`): every hash verifies, and each request
/// gets the answer its content deserves on an empty ledger.
#[tokio::test]
async fn reference_request_vectors_pass_the_hash_check() {
    let app = app();
    let cases = [
        // R2.1: no pre-auth to close.
        (format!("<GVPSRequest>{R2_HEAD}<HashData>0CFE09F107274C6A07292DA061A4EECAB0F5F0CF87F831F2D3626A3346A941126C52D1D95A3B77ADF5AC348B3D25C76BA5D8D98A29557D087D3367BFFACCD25C</HashData><ID>30691298</ID><MerchantID>7000679</MerchantID></Terminal><Customer><IPAddress>127.0.0.1</IPAddress></Customer><Order><OrderID>order222</OrderID></Order><Transaction><Type>postauth</Type><Amount>10025</Amount><CurrencyCode>949</CurrencyCode><OriginalRetrefNum>831803579226</OriginalRetrefNum></Transaction></GVPSRequest>"), "92", "0301"),
        // R2.4: nothing to void.
        (format!("<GVPSRequest>{R2_HEAD_RFN}<HashData>35E8410A78E24949D78F5E025B5E05AF470B01385A2ECBFEE6C5B3CDACFF78011D387ECAFDCE4B8453D80D35C2F344F3DAA6F2EF9143079F64DE88401EC5E4F5</HashData><ID>30691298</ID><MerchantID>7000679</MerchantID></Terminal><Customer><IPAddress>127.0.0.1</IPAddress></Customer><Order><OrderID>2020110828BC</OrderID></Order><Transaction><Type>void</Type><InstallmentCnt></InstallmentCnt><Amount>100</Amount><CurrencyCode>949</CurrencyCode><CardholderPresentCode>0</CardholderPresentCode><MotoInd>N</MotoInd><OriginalRetrefNum>831803579226</OriginalRetrefNum></Transaction></GVPSRequest>"), "92", "0202"),
        // R2.5: no such order (P2.18).
        (format!("<GVPSRequest>{R2_HEAD}<HashData>817BA6A5013BD1E75E1C2FE82AA0F2EFEF89033C31563575701BD05F3C20ADC5DD2AF65D9EF8CF81784E9DA787603E0C1321C6909BE920504BEB3A85992440F5</HashData><ID>30691298</ID><MerchantID>7000679</MerchantID></Terminal><Customer><IPAddress>156.155.154.153</IPAddress></Customer><Order><OrderID>order222</OrderID></Order><Transaction><Type>orderhistoryinq</Type><InstallmentCnt></InstallmentCnt><Amount>100</Amount><CurrencyCode>949</CurrencyCode><CardholderPresentCode>0</CardholderPresentCode><MotoInd>N</MotoInd></Transaction></GVPSRequest>"), "92", "0108"),
        // R2.7: the library's test-data amount `100.25` is not hundredths: refused as a format error.
        (format!("<GVPSRequest>{R2_HEAD}<HashData>C7806BCDC5874CD227C4B7278302077F6B3E463A9C74497F263E8AF08844DEF364F4D7A089084A705D4210B9B36841E0919B72F804729F466BF00472C53AFD8B</HashData><ID>30691298</ID><MerchantID>7000679</MerchantID></Terminal><Customer><IPAddress>127.0.0.1</IPAddress></Customer><Order><OrderID>2020110828BC</OrderID></Order><Transaction><Type>sales</Type><InstallmentCnt></InstallmentCnt><Amount>100.25</Amount><CurrencyCode>949</CurrencyCode><CardholderPresentCode>13</CardholderPresentCode><MotoInd>N</MotoInd><Secure3D><AuthenticationCode>cavv</AuthenticationCode><SecurityLevel>100000005eci</SecurityLevel><TxnID>100000005xid</TxnID><Md>1</Md></Secure3D></Transaction></GVPSRequest>"), "92", "0002"),
        // R2.11: no such order (P2.13).
        (format!("<GVPSRequest>{R2_HEAD}<HashData>35E8410A78E24949D78F5E025B5E05AF470B01385A2ECBFEE6C5B3CDACFF78011D387ECAFDCE4B8453D80D35C2F344F3DAA6F2EF9143079F64DE88401EC5E4F5</HashData><ID>30691298</ID><MerchantID>7000679</MerchantID></Terminal><Customer><IPAddress>127.15.15.1</IPAddress></Customer><Order><OrderID>2020110828BC</OrderID></Order><Transaction><Type>orderinq</Type><InstallmentCnt></InstallmentCnt><Amount>100</Amount><CurrencyCode>949</CurrencyCode><CardholderPresentCode>0</CardholderPresentCode><MotoInd>N</MotoInd></Transaction></GVPSRequest>"), "92", "0110"),
        // R2.12: nothing to refund (P2.15).
        (format!("<GVPSRequest>{R2_HEAD_RFN}<HashData>CF49751B3B793B9E1946A08815451989D0231D68A5B495C6EABA9C400442F2E6B7DF97446CE2D3562780767E634A6ECBAA1DF69F6DF7F447884A71BDE38D12AA</HashData><ID>30691298</ID><MerchantID>7000679</MerchantID></Terminal><Customer><IPAddress>127.15.15.1</IPAddress></Customer><Order><OrderID>2020110828BC</OrderID></Order><Transaction><Type>refund</Type><InstallmentCnt></InstallmentCnt><Amount>12310</Amount><CurrencyCode>949</CurrencyCode><CardholderPresentCode>0</CardholderPresentCode><MotoInd>N</MotoInd><OriginalRetrefNum>831803579226</OriginalRetrefNum></Transaction></GVPSRequest>"), "92", "0208"),
        // R2.2: the vectors' card fails Luhn, so the host declines it with 14 (booked).
        (format!("<GVPSRequest>{R2_HEAD}<HashData>2005F771B622399C0EC7B8BBBE9B5F7989B9587175239F0695C1E5D3BFAA0CF6D747A9CEE64D78B7081CB5193541AD9D129B929653E2B68BCAE6939E281D752E</HashData><ID>30691298</ID><MerchantID>7000679</MerchantID></Terminal><Customer><IPAddress>127.0.0.1</IPAddress></Customer><Card><Number>5555444433332222</Number><ExpireDate>0122</ExpireDate><CVV2>123</CVV2></Card><Order><OrderID>order222</OrderID></Order><Transaction><Type>sales</Type><InstallmentCnt></InstallmentCnt><Amount>10025</Amount><CurrencyCode>949</CurrencyCode><CardholderPresentCode>0</CardholderPresentCode><MotoInd>N</MotoInd></Transaction></GVPSRequest>"), "14", "14"),
        // S2.1 (legacy v0.01 SHA-1 HashData, with an e-mail): Luhn decline.
        ("<GVPSRequest><Mode>TEST</Mode><Version>v0.01</Version><Terminal><ProvUserID>PROVAUT</ProvUserID><UserID>PROVAUT</UserID><HashData>3732634F78053D42304B0966E263629FE44E258B</HashData><ID>30691298</ID><MerchantID>7000679</MerchantID></Terminal><Customer><IPAddress>127.0.0.1</IPAddress><EmailAddress>test@test.com</EmailAddress></Customer><Card><Number>5555444433332222</Number><ExpireDate>1221</ExpireDate><CVV2>122</CVV2></Card><Order><OrderID>order222</OrderID></Order><Transaction><Type>sales</Type><InstallmentCnt></InstallmentCnt><Amount>10025</Amount><CurrencyCode>949</CurrencyCode><CardholderPresentCode>0</CardholderPresentCode><MotoInd>N</MotoInd></Transaction></GVPSRequest>".to_owned(), "14", "14"),
        // S2.2 (legacy orderinq).
        ("<GVPSRequest><Mode>TEST</Mode><Version>v0.01</Version><Terminal><ProvUserID>PROVAUT</ProvUserID><UserID>PROVAUT</UserID><HashData>8DD74209DEEB7D333105E1C69998A827419A3B04</HashData><ID>30691298</ID><MerchantID>7000679</MerchantID></Terminal><Customer><IPAddress>127.15.15.1</IPAddress><EmailAddress>email@example.com</EmailAddress></Customer><Order><OrderID>2020110828BC</OrderID></Order><Transaction><Type>orderinq</Type><InstallmentCnt></InstallmentCnt><Amount>100</Amount><CurrencyCode>949</CurrencyCode><CardholderPresentCode>0</CardholderPresentCode><MotoInd>N</MotoInd></Transaction></GVPSRequest>".to_owned(), "92", "0110"),
    ];
    for (body, code, reason) in cases {
        let reply = api(&app, vector(&body)).await;
        assert_eq!(
            (reply.code(), reply.reason()),
            (code, reason),
            "{body}\n{}",
            reply.text
        );
        assert_eq!(reply.status, 200);
        assert_eq!(reply.content_type, "text/xml;charset=UTF-8");
    }
    // The Luhn decline was booked: the history shows it, failed.
    let history = send(&app, &Req::inquiry("orderhistoryinq", "order222")).await;
    assert_eq!(history.code(), "00");
    assert_eq!(history.txns.len(), 2);
    assert_eq!(txn_field(&history.txns[0], "Status"), "01");
    assert_eq!(txn_field(&history.txns[0], "ReturnCode"), "14");
}

#[tokio::test]
async fn sale_answers_in_the_shape_of_p2_1() {
    let app = app();
    let reply = send(&app, &Req::sale("ok-1", "10025")).await;
    assert_eq!(reply.get("Transaction/Response/Source"), "HOST");
    assert_eq!(reply.code(), "00");
    assert_eq!(reply.reason(), "00");
    assert_eq!(reply.get("Transaction/Response/Message"), "Approved");
    assert_eq!(reply.get("Order/OrderID"), "ok-1");
    assert_eq!(reply.get("Terminal/ID"), TERMINAL);
    assert_eq!(reply.get("Terminal/MerchantID"), MERCHANT);
    assert_eq!(reply.get("Customer/IPAddress"), "127.0.0.1");
    let rrn = reply.retref();
    assert!(
        rrn.len() == 12 && rrn.bytes().all(|b| b.is_ascii_digit()),
        "{rrn}"
    );
    let auth = reply.get("Transaction/AuthCode");
    assert!(
        auth.len() == 6 && auth.bytes().all(|b| b.is_ascii_digit()),
        "{auth}"
    );
    assert_eq!(reply.get("Transaction/BatchNum").len(), 6);
    assert_eq!(reply.get("Transaction/SequenceNum").len(), 6);
    let prov = reply.get("Transaction/ProvDate");
    assert!(prov.len() == 17 && prov.as_bytes()[8] == b' ', "{prov}");
    assert_eq!(
        reply.get("Transaction/CardNumberMasked"),
        "525864******0001"
    );
    assert_eq!(reply.get("Transaction/HashData").len(), 128);
    // Field order of the reply vectors.
    let at = |needle: &str| reply.text.find(needle).unwrap();
    assert!(at("<Mode>") < at("<Terminal>") && at("<Terminal>") < at("<Customer>"));
    assert!(at("<Order>") < at("<Transaction>") && at("<Response>") < at("<RetrefNum>"));
    assert!(!reply.text.contains(GOOD_CARD));

    let view = order(&app, "ok-1").await.unwrap();
    assert_eq!(view["status"], "Captured");
    assert_eq!(view["type"], "sales");
    assert_eq!(view["amountMinor"], 10025);
    assert_eq!(view["capturedMinor"], 10025);
    assert_eq!(view["currency"], "TRY");
    assert_eq!(view["transactions"][0]["hostRefNum"], rrn.as_str());

    // A `data=` form post of the same protocol is read too.
    let body = format!(
        "data={}",
        Req::sale("ok-2", "500")
            .xml()
            .replace('%', "%25")
            .replace('&', "%26")
            .replace('+', "%2B")
            .replace(' ', "+")
    );
    assert_eq!(api(&app, body).await.code(), "00");
}

#[tokio::test]
async fn sign_in_and_request_rules() {
    let app = app();
    let ok = Req::sale("rule-1", "100");
    let cases: Vec<(Req, &str, &str)> = vec![
        (
            Req {
                merchant: "9999999".into(),
                ..ok.clone()
            },
            "92",
            "0752",
        ),
        (
            Req {
                terminal: "30691299".into(),
                ..ok.clone()
            },
            "92",
            "0752",
        ),
        (
            Req {
                password: "wrong".into(),
                ..ok.clone()
            },
            "92",
            "0651",
        ),
        (
            Req {
                hash: Some("00".repeat(64)),
                ..ok.clone()
            },
            "92",
            "0651",
        ),
        (
            Req {
                user: PROVRFN.into(),
                ..ok.clone()
            },
            "92",
            "0654",
        ),
        (
            Req {
                user_id: Some("OTHER".into()),
                ..ok.clone()
            },
            "92",
            "0654",
        ),
        (
            Req {
                user: "NOBODY".into(),
                ..ok.clone()
            },
            "92",
            "0654",
        ),
        (
            Req {
                mode: "LIVE".into(),
                ..ok.clone()
            },
            "92",
            "0002",
        ),
        (
            Req {
                version: "v9".into(),
                ..ok.clone()
            },
            "92",
            "0002",
        ),
        (
            Req {
                kind: "bininq".into(),
                ..ok.clone()
            },
            "92",
            "0002",
        ),
        (
            Req {
                ip: String::new(),
                ..ok.clone()
            },
            "92",
            "0002",
        ),
        (
            Req {
                order_id: "x".repeat(37),
                ..ok.clone()
            },
            "92",
            "0002",
        ),
        (
            Req {
                order_id: "a.b".into(),
                ..ok.clone()
            },
            "92",
            "0002",
        ),
        (
            Req {
                order_id: String::new(),
                ..ok.clone()
            },
            "92",
            "0002",
        ),
        (
            Req::payment("sales", "rule-1", "100", "52586400"),
            "92",
            "0002",
        ),
        (
            Req {
                card: Some((GOOD_CARD.into(), "12/30".into(), "123".into())),
                ..ok.clone()
            },
            "92",
            "0002",
        ),
        (
            Req {
                card: Some((GOOD_CARD.into(), "1330".into(), "123".into())),
                ..ok.clone()
            },
            "92",
            "0002",
        ),
        (
            Req {
                card: Some((GOOD_CARD.into(), "1230".into(), "12".into())),
                ..ok.clone()
            },
            "92",
            "0002",
        ),
        (
            Req {
                amount: "0".into(),
                ..ok.clone()
            },
            "92",
            "0002",
        ),
        (
            Req {
                amount: "1.5".into(),
                ..ok.clone()
            },
            "92",
            "0002",
        ),
        (
            Req {
                currency: Some("414".into()),
                ..ok.clone()
            },
            "92",
            "0002",
        ),
        (
            Req {
                currency: None,
                ..ok.clone()
            },
            "92",
            "0002",
        ),
        (
            Req {
                installment: Some("13".into()),
                ..ok.clone()
            },
            "92",
            "0605",
        ),
        (
            Req {
                installment: Some("3".into()),
                currency: Some("840".into()),
                ..ok.clone()
            },
            "92",
            "0605",
        ),
    ];
    for (req, code, reason) in cases {
        let reply = send(&app, &req).await;
        assert_eq!(
            (reply.code(), reply.reason()),
            (code, reason),
            "{req:?}\n{}",
            reply.text
        );
        assert_eq!(reply.get("Transaction/Response/Source"), "GVPS");
        assert_eq!(reply.get("Transaction/Response/Message"), "Declined");
        assert!(!reply.get("Transaction/Response/ErrorMsg").is_empty());
    }
    // Nothing of that was booked.
    assert!(order(&app, "rule-1").await.is_none());
    let ip = send(
        &app,
        &Req {
            ip: String::new(),
            ..ok.clone()
        },
    )
    .await;
    assert_eq!(
        ip.get("Transaction/Response/SysErrMsg"),
        "CustomerIPAddress field must contain value because of the Mandatory Rule:null"
    );
    let hash = send(
        &app,
        &Req {
            password: "wrong".into(),
            ..ok.clone()
        },
    )
    .await;
    assert_eq!(
        hash.get("Transaction/Response/ErrorMsg"),
        "User password is incorrect"
    );
    assert_eq!(hash.get("Transaction/Response/SysErrMsg"), "ErrorId: 0651");
    // Unreadable bodies.
    for body in [&b"<html>oops</html>"[..], b"", b"<GVPSRequest><Mode>TEST"] {
        let reply = api(&app, body.to_vec()).await;
        assert_eq!((reply.code(), reply.reason()), ("92", "0001"));
    }
    // A stored card pays without CVV2.
    let on_file = Req {
        order_id: "rule-5".into(),
        card: Some((GOOD_CARD.into(), "1230".into(), String::new())),
        ..ok.clone()
    };
    assert_eq!(send(&app, &on_file).await.code(), "00");
    // Then the same sale passes, with installments, in another currency, as PROD.
    assert_eq!(
        send(
            &app,
            &Req {
                installment: Some("3".into()),
                ..ok.clone()
            }
        )
        .await
        .code(),
        "00"
    );
    let usd = Req {
        order_id: "rule-2".into(),
        currency: Some("840".into()),
        installment: Some("1".into()),
        mode: "PROD".into(),
        ..ok.clone()
    };
    assert_eq!(send(&app, &usd).await.code(), "00");
    let jpy = Req {
        order_id: "rule-3".into(),
        currency: Some("392".into()),
        amount: "15000".into(),
        ..ok.clone()
    };
    assert_eq!(send(&app, &jpy).await.code(), "00");
    assert_eq!(order(&app, "rule-3").await.unwrap()["amountMinor"], 150);
    let bad_jpy = Req {
        order_id: "rule-4".into(),
        currency: Some("392".into()),
        amount: "15001".into(),
        ..ok.clone()
    };
    assert_eq!(send(&app, &bad_jpy).await.reason(), "0002");
}

#[tokio::test]
async fn declines_are_booked_and_a_declined_order_may_be_retried() {
    let app = app();
    for (pan, d) in bank_sim::nestpay::codes::decline_cards() {
        let order_id = format!("d-{pan}");
        let reply = send(&app, &Req::payment("sales", &order_id, "100", pan)).await;
        assert_eq!(reply.get("Transaction/Response/Source"), "HOST", "{pan}");
        assert_eq!((reply.code(), reply.reason()), (d.code, d.code), "{pan}");
        assert_eq!(reply.get("Transaction/Response/Message"), "Declined");
        assert_eq!(
            reply.get("Transaction/Response/ErrorMsg"),
            "İşleminizi gerçekleştiremiyoruz.Tekrar deneyiniz"
        );
        assert!(!reply.get("Transaction/Response/SysErrMsg").is_empty());
        assert_eq!(reply.get("Transaction/AuthCode"), "");
        assert_eq!(order(&app, &order_id).await.unwrap()["status"], "Declined");
        let status = send(&app, &Req::inquiry("orderinq", &order_id)).await;
        assert_eq!(status.code(), "00");
        assert_eq!(status.inq("Status"), "DECLINED");
        assert_eq!(status.inq("Code"), d.code);
    }
    // Expired (by the bank's clock) and Luhn-invalid cards.
    let expired = Req {
        card: Some((GOOD_CARD.into(), "0120".into(), "123".into())),
        ..Req::sale("exp-1", "100")
    };
    assert_eq!(send(&app, &expired).await.code(), "54");
    assert_eq!(
        send(
            &app,
            &Req::payment("sales", "luhn-1", "100", "5258640000000002")
        )
        .await
        .code(),
        "14"
    );
    // The declined order is retried with a good card; then it is a duplicate.
    let retry = send(&app, &Req::sale("exp-1", "100")).await;
    assert_eq!(retry.code(), "00");
    let dup = send(&app, &Req::sale("exp-1", "100")).await;
    assert_eq!((dup.code(), dup.reason()), ("92", "0104"));
    let view = order(&app, "exp-1").await.unwrap();
    assert_eq!(view["status"], "Captured");
    assert_eq!(view["transactions"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn post_auth_rules() {
    let app = app();
    assert_eq!(
        send(&app, &Req::post_auth("pa-0", "100", "1"))
            .await
            .reason(),
        "0301"
    );
    let pre = send(&app, &Req::payment("preauth", "pa-1", "10000", GOOD_CARD)).await;
    assert_eq!(pre.code(), "00");
    let rrn = pre.retref();
    let status = send(&app, &Req::inquiry("orderinq", "pa-1")).await;
    assert_eq!(status.inq("Status"), "WAITINGPOSTAUTH");
    assert_eq!(status.inq("PreAuthAmount"), "10000");
    assert_eq!(status.inq("AuthAmount"), "0");
    assert_eq!(status.inq("RetrefNum"), rrn);
    assert_eq!(order(&app, "pa-1").await.unwrap()["status"], "Authorized");

    assert_eq!(
        send(&app, &Req::post_auth("pa-1", "100", "123"))
            .await
            .reason(),
        "0303"
    );
    let wrong_currency = Req {
        currency: Some("840".into()),
        ..Req::post_auth("pa-1", "100", &rrn)
    };
    assert_eq!(send(&app, &wrong_currency).await.reason(), "0304");
    let over = send(&app, &Req::post_auth("pa-1", "10001", &rrn)).await;
    assert_eq!(
        (over.code(), over.get("Transaction/Response/Source")),
        ("13", "HOST")
    );
    let not_hundredths = send(&app, &Req::post_auth("pa-1", "1.5", &rrn)).await;
    assert_eq!(not_hundredths.reason(), "0002");
    let as_refund_user = Req {
        user: PROVRFN.into(),
        ..Req::post_auth("pa-1", "100", &rrn)
    };
    assert_eq!(send(&app, &as_refund_user).await.reason(), "0654");

    let captured = send(&app, &Req::post_auth("pa-1", "9000", &rrn)).await;
    assert_eq!(captured.code(), "00");
    let post_rrn = captured.retref();
    assert_ne!(post_rrn, rrn);
    let status = send(&app, &Req::inquiry("orderinq", "pa-1")).await;
    assert_eq!(status.inq("Status"), "APPROVED");
    assert_eq!(status.inq("AuthAmount"), "9000");
    assert_eq!(status.inq("RetrefNum"), post_rrn);
    assert_eq!(
        send(&app, &Req::post_auth("pa-1", "9000", &rrn))
            .await
            .reason(),
        "0302"
    );
    let view = order(&app, "pa-1").await.unwrap();
    assert_eq!(
        (view["status"].as_str(), view["capturedMinor"].as_i64()),
        (Some("Captured"), Some(9000))
    );

    // A sale is not a pre-auth; a voided pre-auth cannot be closed.
    let sale = send(&app, &Req::sale("pa-2", "100")).await;
    assert_eq!(
        send(&app, &Req::post_auth("pa-2", "100", &sale.retref()))
            .await
            .reason(),
        "0301"
    );
    let pre = send(&app, &Req::payment("preauth", "pa-3", "100", GOOD_CARD)).await;
    assert_eq!(
        send(&app, &Req::void("pa-3", &pre.retref())).await.code(),
        "00"
    );
    assert_eq!(
        send(&app, &Req::post_auth("pa-3", "100", &pre.retref()))
            .await
            .reason(),
        "0301"
    );
}

#[tokio::test]
async fn void_rules() {
    let app = app();
    let sale = send(&app, &Req::sale("v-1", "2500")).await;
    let rrn = sale.retref();
    assert_eq!(
        send(&app, &Req::void("v-1", "000000000000")).await.reason(),
        "0303"
    );
    let as_provision_user = Req {
        user: PROVAUT.into(),
        ..Req::void("v-1", &rrn)
    };
    assert_eq!(send(&app, &as_provision_user).await.reason(), "0654");
    let voided = send(&app, &Req::void("v-1", &rrn)).await;
    assert_eq!(
        (voided.code(), voided.get("Transaction/Response/Message")),
        ("00", "Approved")
    );
    assert_eq!(send(&app, &Req::void("v-1", &rrn)).await.reason(), "0202");
    let status = send(&app, &Req::inquiry("orderinq", "v-1")).await;
    assert_eq!(status.inq("Status"), "VOID");
    let view = order(&app, "v-1").await.unwrap();
    assert_eq!(
        (view["status"].as_str(), view["voided"].as_bool()),
        (Some("Voided"), Some(true))
    );
    // The history dates the void on the sale line and lists the void.
    let history = send(&app, &Req::inquiry("orderhistoryinq", "v-1")).await;
    let lines: Vec<(&str, &str)> = history
        .txns
        .iter()
        .map(|t| (txn_field(t, "Type"), txn_field(t, "Status")))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("sales", "00"),
            ("void", "01"),
            ("void", "00"),
            ("void", "01")
        ]
    );
    assert!(!txn_field(&history.txns[0], "VoidDate").is_empty());
    // A refund of a voided order is not valid.
    settle(&app).await;
    assert_eq!(
        send(&app, &Req::refund("v-1", "100", None)).await.reason(),
        "0208"
    );

    // After end of day, no void; a declined order has nothing to void.
    let sale = send(&app, &Req::sale("v-2", "100")).await;
    settle(&app).await;
    assert_eq!(
        send(&app, &Req::void("v-2", &sale.retref())).await.reason(),
        "0202"
    );
    let declined = send(
        &app,
        &Req::payment("sales", "v-3", "100", "5100050000006661"),
    )
    .await;
    assert_eq!(
        send(&app, &Req::void("v-3", &declined.retref()))
            .await
            .reason(),
        "0202"
    );
    assert_eq!(send(&app, &Req::void("v-none", "1")).await.reason(), "0202");

    // Voiding the post-auth cancels the captured pre-auth.
    let pre = send(&app, &Req::payment("preauth", "v-4", "100", GOOD_CARD)).await;
    let post = send(&app, &Req::post_auth("v-4", "100", &pre.retref())).await;
    assert_eq!(
        send(&app, &Req::void("v-4", &post.retref())).await.code(),
        "00"
    );
    assert_eq!(order(&app, "v-4").await.unwrap()["status"], "Voided");
}

#[tokio::test]
async fn refund_rules_and_history() {
    let app = app();
    let sale = send(&app, &Req::sale("r-1", "10000")).await;
    let rrn = sale.retref();
    let early = send(&app, &Req::refund("r-1", "100", Some(&rrn))).await;
    assert_eq!((early.code(), early.reason()), ("92", "0209"));
    settle(&app).await;
    let as_provision_user = Req {
        user: PROVAUT.into(),
        ..Req::refund("r-1", "100", Some(&rrn))
    };
    assert_eq!(send(&app, &as_provision_user).await.reason(), "0654");
    assert_eq!(
        send(&app, &Req::refund("r-1", "100", Some("1")))
            .await
            .reason(),
        "0303"
    );
    let usd = Req {
        currency: Some("840".into()),
        ..Req::refund("r-1", "100", Some(&rrn))
    };
    assert_eq!(send(&app, &usd).await.reason(), "0304");
    assert_eq!(
        send(&app, &Req::refund("r-1", "10001", Some(&rrn)))
            .await
            .reason(),
        "0210"
    );
    assert_eq!(
        send(&app, &Req::refund("r-1", "0", Some(&rrn)))
            .await
            .reason(),
        "0002"
    );

    let first = send(&app, &Req::refund("r-1", "2500", Some(&rrn))).await;
    assert_eq!(first.code(), "00");
    let status = send(&app, &Req::inquiry("orderinq", "r-1")).await;
    assert_eq!(status.inq("Status"), "PARTIALREFUNDED");
    // The status still references the sale.
    assert_eq!(status.inq("RetrefNum"), rrn);
    // Without OriginalRetrefNum too.
    assert_eq!(
        send(&app, &Req::refund("r-1", "7500", None)).await.code(),
        "00"
    );
    let status = send(&app, &Req::inquiry("orderinq", "r-1")).await;
    assert_eq!(status.inq("Status"), "REFUNDED");
    assert_eq!(
        send(&app, &Req::refund("r-1", "1", None)).await.reason(),
        "0210"
    );
    let view = order(&app, "r-1").await.unwrap();
    assert_eq!(
        (view["status"].as_str(), view["refundedMinor"].as_i64()),
        (Some("Refunded"), Some(10_000))
    );

    let history = send(&app, &Req::inquiry("orderhistoryinq", "r-1")).await;
    let summary: Vec<(&str, &str, &str, &str)> = history
        .txns
        .iter()
        .map(|t| {
            (
                txn_field(t, "Type"),
                txn_field(t, "Status"),
                txn_field(t, "AuthAmount"),
                txn_field(t, "CurrencyCode"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("sales", "00", "10000", "949"),
            ("refund", "01", "100", "0"),
            ("refund", "01", "100", "0"),
            ("refund", "01", "100", "0"),
            ("refund", "01", "10001", "0"),
            ("refund", "00", "2500", "949"),
            ("refund", "00", "7500", "949"),
            ("refund", "01", "1", "0"),
        ]
    );
    assert_eq!(txn_field(&history.txns[5], "ReturnCode"), "00");
    assert_eq!(txn_field(&history.txns[4], "ReturnCode"), "92");

    // A pre-auth not closed has nothing to refund.
    send(&app, &Req::payment("preauth", "r-2", "100", GOOD_CARD)).await;
    settle(&app).await;
    assert_eq!(
        send(&app, &Req::refund("r-2", "100", None)).await.reason(),
        "0208"
    );
    assert_eq!(
        send(&app, &Req::refund("r-none", "100", None))
            .await
            .reason(),
        "0208"
    );
}

#[tokio::test]
async fn inquiries_take_either_user() {
    let app = app();
    send(&app, &Req::sale("q-1", "101")).await;
    for user in [PROVAUT, PROVRFN] {
        let status = send(
            &app,
            &Req {
                user: user.into(),
                ..Req::inquiry("orderinq", "q-1")
            },
        )
        .await;
        assert_eq!(status.code(), "00", "{user}");
        assert_eq!(status.inq("Status"), "APPROVED");
        assert_eq!(status.inq("AuthAmount"), "101");
        assert_eq!(status.inq("CardNumberMasked"), "525864******0001");
        // P2.11's field list, in order.
        let names: Vec<&str> = status.inq.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names.first(), Some(&"ChargeType"));
        assert_eq!(names.len(), 28);
    }
    let unknown = send(&app, &Req::inquiry("orderinq", "q-none")).await;
    assert_eq!((unknown.code(), unknown.reason()), ("92", "0110"));
    assert_eq!(
        unknown.get("Transaction/Response/ErrorMsg"),
        "İşlem bulunamadı"
    );
    assert_eq!(unknown.inq("Status"), "");
}

#[tokio::test]
async fn admin_routes() {
    let app = app();
    // A new terminal, with its own refund password.
    let (code, v) = admin(
        &app,
        "POST",
        "/garanti/_sim/stores",
        Some(json!({"clientId": "7000700", "terminalId": "10000001", "name": "PROVAUT", "password": "P1", "storeKey": "K1", "refundPassword": "R1"})),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    let base = Req {
        merchant: "7000700".into(),
        terminal: "10000001".into(),
        password: "P1".into(),
        ..Req::sale("a-1", "100")
    };
    let sale = send(&app, &base).await;
    assert_eq!(sale.code(), "00");
    let void = Req {
        merchant: "7000700".into(),
        terminal: "10000001".into(),
        password: "R1".into(),
        ..Req::void("a-1", &sale.retref())
    };
    assert_eq!(send(&app, &void).await.code(), "00");
    let (code, list) = admin(&app, "GET", "/garanti/_sim/orders/7000700", None).await;
    assert_eq!(code, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["transactions"][1]["type"], "void");

    for bad in [
        json!({"clientId": "", "terminalId": "1", "name": "x", "password": "y"}),
        json!({"x": 1}),
    ] {
        let (code, _) = admin(&app, "POST", "/garanti/_sim/stores", Some(bad)).await;
        assert_eq!(code, 400);
    }
    let (code, v) = admin(&app, "GET", "/garanti/_sim/orders/7000679/none", None).await;
    assert_eq!(code, 404, "{v}");
    let (code, v) = admin(
        &app,
        "POST",
        "/garanti/_sim/settle",
        Some(json!({"clientId": "7000700"})),
    )
    .await;
    assert_eq!((code, v["settled"].as_u64()), (200, Some(1)));
    let (code, v) = admin(
        &app,
        "POST",
        "/garanti/_sim/clock",
        Some(json!({"advanceMs": 60_000})),
    )
    .await;
    assert_eq!(code, 200);
    assert!(v["offsetMs"].as_i64().unwrap() >= 60_000);
    let (code, _) = admin(&app, "POST", "/garanti/_sim/clock", Some(json!({}))).await;
    assert_eq!(code, 400);
}
