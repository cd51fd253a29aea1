//! The Akbank connector against the Akbank simulator over loopback, for every capability the
//! connector declares: sale, pre-auth + post-auth, cancel, partial refund after end of day,
//! status and refunds from the order history, faults, and each 3D model driven through the
//! ACS page as a shopper's browser would (gate form → challenge page → auto-submitting
//! callback → `parse_threeds_callback` → `authorize_3d` for `3d`).

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use bank_sim::page_form::form_of;
use connectors::akbank::Akbank;
use connectors::{
    AuthorizeKind, BankOrderState, BrowserForm, CaptureRequest, Connector, ConnectorError, Outcome,
    PaymentSync, PosConfig, RefundRequest, ThreeDsModel, VoidRequest,
};
use domain::card::Expiry;
use domain::enums::{ErrorGroup, PosIntegrator};
use domain::money::Currency;
use domain::secret::Secret;
use serde_json::{Value, json};

use support::*;

/// Orkestra's sandbox terminal, preloaded in the simulator.
const MERCHANT: &str = "20251127120000000001A1B2C3D4E5F6";
const TERMINAL: &str = "20251127120000000002F6E5D4C3B2A1";
const KEY: &str = "323032353131323731323030303030303030315f6f726b65737472615f73616e64626f785f616b62616e6b5f6a736f6e5f6b6579";

fn pos(base: &str) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::AkbankVpos,
        api_url: format!("{base}/akbank/api/v1/payment/virtualpos/transaction/process"),
        threeds_url: format!("{base}/akbank/securepay"),
        client_id: MERCHANT.into(),
        terminal_id: Some(TERMINAL.into()),
        username: String::new(),
        password: Secret::new(""),
        store_key: Some(Secret::new(KEY)),
        timeout: Duration::from_secs(10),
    }
}

fn connector() -> Akbank {
    Akbank::new(connectors::http::client().unwrap())
}

async fn admin(base: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    sim_admin(base, "akbank", method, path, body).await
}

async fn settle(base: &str) {
    admin(
        base,
        "POST",
        "settle",
        Some(json!({ "clientId": MERCHANT })),
    )
    .await;
}

async fn sim_order(base: &str, order_id: &str) -> Value {
    admin(base, "GET", &format!("orders/{MERCHANT}/{order_id}"), None).await
}

// ---------------------------------------------------------------------------------------
// API

#[tokio::test]
async fn sale_status_cancel() {
    let base = serve().await;
    let pos = pos(&base);
    let akbank = connector();
    let card = card("5258640000000001");

    let outcome = akbank
        .authorize(&pos, &authorize("RTSALE1", AuthorizeKind::Sale, &card))
        .await
        .unwrap();
    let Outcome::Approved(approval) = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(approval.auth_code.as_ref().unwrap().len(), 6);
    assert_eq!(approval.host_reference.as_ref().unwrap().len(), 12);
    match akbank.sync_payment(&pos, "RTSALE1").await.unwrap() {
        PaymentSync::Approved { approval: a, state } => {
            assert_eq!(state, BankOrderState::Captured);
            assert_eq!(&a, approval);
        }
        other => panic!("{other:?}"),
    }
    let order = sim_order(&base, "RTSALE1").await;
    assert_eq!(order["status"], "Captured");
    assert_eq!(order["amountMinor"], 12_550);
    assert_eq!(order["pan"], "525864******0001");

    approved(
        &akbank
            .void(
                &pos,
                &VoidRequest {
                    order_id: "RTSALE1",
                },
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(akbank.sync_payment(&pos, "RTSALE1").await.unwrap()),
        BankOrderState::Voided
    );
    // Cancelling twice: the real "already cancelled".
    let again = decline_of(
        akbank
            .void(
                &pos,
                &VoidRequest {
                    order_id: "RTSALE1",
                },
            )
            .await
            .unwrap(),
    );
    assert_eq!(again.code, "VPS-1008");
    assert_eq!(sim_order(&base, "RTSALE1").await["status"], "Voided");
    // The same order id cannot be charged again.
    let duplicate = decline_of(
        akbank
            .authorize(&pos, &authorize("RTSALE1", AuthorizeKind::Sale, &card))
            .await
            .unwrap(),
    );
    assert_eq!(
        (duplicate.group, duplicate.code.as_str()),
        (ErrorGroup::DuplicateOrder, "VPS-1013")
    );
    assert_eq!(
        akbank.sync_payment(&pos, "RTNOSUCH").await.unwrap(),
        PaymentSync::NotFound
    );
}

#[tokio::test]
async fn pre_auth_then_post_auth() {
    let base = serve().await;
    let pos = pos(&base);
    let akbank = connector();
    let card = card("4355084355084358");

    approved(
        &akbank
            .authorize(&pos, &authorize("RTPRE1", AuthorizeKind::PreAuth, &card))
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(akbank.sync_payment(&pos, "RTPRE1").await.unwrap()),
        BankOrderState::PreAuthorized
    );
    let capture = |minor| CaptureRequest {
        order_id: "RTPRE1",
        amount: try_(minor),
        pre_auth_amount: try_(12_550),
        currency: Currency::Try,
    };
    // Above the pre-authorised amount: refused.
    let over = decline_of(akbank.capture(&pos, &capture(12_551)).await.unwrap());
    assert_eq!(over.group, ErrorGroup::InvalidAmount);
    approved(&akbank.capture(&pos, &capture(10_000)).await.unwrap());
    assert_eq!(
        state_of(akbank.sync_payment(&pos, "RTPRE1").await.unwrap()),
        BankOrderState::Captured
    );
    assert_eq!(sim_order(&base, "RTPRE1").await["capturedMinor"], 10_000);
    // Once only.
    let twice = decline_of(akbank.capture(&pos, &capture(10_000)).await.unwrap());
    assert_eq!(twice.code, "VPS-1907");
    // At the bank, cancelling the post-authorisation reopens the pre-authorisation (vector
    // P11.34); a void releases that too, so the whole order ends cancelled.
    approved(
        &akbank
            .void(&pos, &VoidRequest { order_id: "RTPRE1" })
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(akbank.sync_payment(&pos, "RTPRE1").await.unwrap()),
        BankOrderState::Voided
    );
    let order = sim_order(&base, "RTPRE1").await;
    assert_eq!(
        (order["status"].as_str(), order["capturedMinor"].as_i64()),
        (Some("Voided"), Some(0))
    );
    assert_eq!(
        decline_of(
            akbank
                .void(&pos, &VoidRequest { order_id: "RTPRE1" })
                .await
                .unwrap()
        )
        .code,
        "VPS-1008"
    );
    // A sale cannot be post-authorised; an unknown order neither.
    let sale_card = card;
    approved(
        &akbank
            .authorize(&pos, &authorize("RTPRE2", AuthorizeKind::Sale, &sale_card))
            .await
            .unwrap(),
    );
    let mut not_pre = capture(100);
    not_pre.order_id = "RTPRE2";
    assert_eq!(
        decline_of(akbank.capture(&pos, &not_pre).await.unwrap()).code,
        "VPS-1907"
    );
    not_pre.order_id = "RTPRE3";
    assert_eq!(
        decline_of(akbank.capture(&pos, &not_pre).await.unwrap()).code,
        "VPS-1007"
    );
}

#[tokio::test]
async fn partial_refunds_after_end_of_day() {
    let base = serve().await;
    let pos = pos(&base);
    let akbank = connector();
    let card = card("5258640000000001");
    approved(
        &akbank
            .authorize(&pos, &authorize("RTREF1", AuthorizeKind::Sale, &card))
            .await
            .unwrap(),
    );
    let refund = |minor| RefundRequest {
        order_id: "RTREF1",
        amount: try_(minor),
        currency: Currency::Try,
    };
    // Same day: refunds are refused (cancel instead).
    let early = decline_of(akbank.refund(&pos, &refund(2_500)).await.unwrap());
    assert_eq!(early.code, "VPS-1907");
    settle(&base).await;
    approved(&akbank.refund(&pos, &refund(2_500)).await.unwrap());
    assert_eq!(
        state_of(akbank.sync_payment(&pos, "RTREF1").await.unwrap()),
        BankOrderState::Refunded
    );
    approved(&akbank.refund(&pos, &refund(10_050)).await.unwrap());
    // Never above what was captured.
    let over = decline_of(akbank.refund(&pos, &refund(1)).await.unwrap());
    assert_eq!(over.group, ErrorGroup::InvalidAmount);
    // In another currency: refused.
    let mut usd = refund(100);
    usd.currency = Currency::Usd;
    assert_eq!(
        decline_of(akbank.refund(&pos, &usd).await.unwrap()).code,
        "VPS-1907"
    );
    let credits = akbank.sync_refunds(&pos, "RTREF1").await.unwrap();
    assert_eq!(
        credits
            .iter()
            .map(|c| (c.amount, c.approved))
            .collect::<Vec<_>>(),
        vec![(try_(2_500), true), (try_(10_050), true)]
    );
    assert!(credits.iter().all(|c| c.transaction_id.is_some()));
    assert_eq!(sim_order(&base, "RTREF1").await["status"], "Refunded");
    // After end of day a cancel is refused.
    assert_eq!(
        decline_of(
            akbank
                .void(&pos, &VoidRequest { order_id: "RTREF1" })
                .await
                .unwrap()
        )
        .code,
        "VPS-1907"
    );
    assert_eq!(akbank.sync_refunds(&pos, "RTNOSUCH").await.unwrap(), vec![]);
}

#[tokio::test]
async fn declines_cards_and_refuses_bad_credentials() {
    let base = serve().await;
    let pos = pos(&base);
    let akbank = connector();
    // Craftgate's insufficient-funds test card: the issuer's 51 behind VPS-1005.
    let poor = card("5100050000006661");
    let decline = decline_of(
        akbank
            .authorize(&pos, &authorize("RTDEC1", AuthorizeKind::Sale, &poor))
            .await
            .unwrap(),
    );
    assert_eq!(decline.code, "VPS-1005");
    assert_eq!(decline.group, ErrorGroup::NotSufficientFunds);
    assert!(matches!(
        akbank.sync_payment(&pos, "RTDEC1").await.unwrap(),
        PaymentSync::Declined(ref d) if d.group == ErrorGroup::NotSufficientFunds
    ));
    // A declined order id may be retried with another card.
    approved(
        &akbank
            .authorize(
                &pos,
                &authorize("RTDEC1", AuthorizeKind::Sale, &card("5258640000000001")),
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(akbank.sync_payment(&pos, "RTDEC1").await.unwrap()),
        BankOrderState::Captured
    );
    // Expired (by the bank's clock).
    let mut expired = card("5258640000000001");
    expired.expiry = Expiry::parse("01", "2020").unwrap();
    let decline = decline_of(
        akbank
            .authorize(&pos, &authorize("RTDEC2", AuthorizeKind::Sale, &expired))
            .await
            .unwrap(),
    );
    assert_eq!(decline.group, ErrorGroup::ExpiredCard);
    // Installments only in TRY.
    let ok_card = card("5258640000000001");
    let mut usd = authorize("RTDEC3", AuthorizeKind::Sale, &ok_card);
    usd.currency = Currency::Usd;
    usd.installment = 3;
    assert_eq!(
        decline_of(akbank.authorize(&pos, &usd).await.unwrap()).group,
        ErrorGroup::InvalidInstallment
    );
    // Wrong key: the auth-hash does not verify.
    let mut wrong_key = pos.clone();
    wrong_key.store_key = Some(Secret::new("not-the-key"));
    let refused = decline_of(
        akbank
            .authorize(
                &wrong_key,
                &authorize("RTDEC4", AuthorizeKind::Sale, &ok_card),
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        (refused.code.as_str(), refused.group),
        ("VPS-1901", ErrorGroup::InvalidMerchantOrPos)
    );
    // Wrong terminal.
    let mut wrong_terminal = pos.clone();
    wrong_terminal.terminal_id = Some("20251127120000000009AAAAAAAAAAAA".into());
    assert_eq!(
        decline_of(
            akbank
                .authorize(
                    &wrong_terminal,
                    &authorize("RTDEC5", AuthorizeKind::Sale, &ok_card)
                )
                .await
                .unwrap()
        )
        .code,
        "VPS-1902"
    );
    // A status inquiry that the bank refuses is no fact about the order.
    assert!(matches!(
        akbank.sync_payment(&wrong_key, "RTDEC1").await,
        Err(ConnectorError::BadResponse(_))
    ));
    assert_eq!(sim_order(&base, "RTDEC1").await["status"], "Captured");
}

#[tokio::test]
async fn the_reference_terminal_is_preloaded_too() {
    let base = serve().await;
    let mut pos = pos(&base);
    pos.client_id = "2023090417500272654BD9A49CF07574".into();
    pos.terminal_id = Some("2023090417500284633D137A249DBBEB".into());
    pos.store_key = Some(Secret::new(
        "3230323330393034313735303032363031353172675f357637355f3273387373745f7233725f73323333383737335f323272383774767276327672323531355f",
    ));
    let card = card("4355093000315232");
    approved(
        &connector()
            .authorize(&pos, &authorize("20240404A4B0", AuthorizeKind::Sale, &card))
            .await
            .unwrap(),
    );
}

#[tokio::test]
async fn faults_leave_the_outcome_unknown_and_status_settles_it() {
    let base = serve().await;
    faults_leave_the_outcome_unknown(
        &connector(),
        pos(&base),
        &base,
        "akbank",
        MERCHANT,
        ["RTF1", "RTF2", "RTF3", "RTF4"],
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// 3D Secure through the ACS page

#[tokio::test]
async fn three_d_round_trip_then_provision() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let akbank = connector();
    let card = card("5258640000000001");

    let gate = akbank
        .threeds_form(
            &pos,
            &init(
                "RT3D1",
                ThreeDsModel::ThreeD,
                AuthorizeKind::Sale,
                Some(&card),
            ),
        )
        .await
        .unwrap();
    assert_eq!(gate.action, format!("{base}/akbank/securepay"));
    let callback = browser.authenticate_3d(&gate, None, TEST_OTP).await;
    assert_eq!(get(&callback.fields, "txnCode"), "3001");
    let result = akbank
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    assert_eq!(result.order_id, "RT3D1");
    assert_eq!(result.amount, Some(try_(12_550)));
    assert_eq!(result.currency, Some(Currency::Try));
    assert_eq!(result.outcome, None);
    assert_eq!(result.auth.eci.as_deref(), Some("02"));
    // Nothing is booked until the provision.
    assert_eq!(
        akbank.sync_payment(&pos, "RT3D1").await.unwrap(),
        PaymentSync::NotFound
    );
    // A provision for another amount than the authentication's is refused.
    let mut other_amount = provision("RT3D1", AuthorizeKind::Sale, &result);
    other_amount.amount = try_(12_551);
    assert_eq!(
        decline_of(akbank.authorize_3d(&pos, &other_amount).await.unwrap()).code,
        "VPS-1907"
    );
    approved(
        &akbank
            .authorize_3d(&pos, &provision("RT3D1", AuthorizeKind::Sale, &result))
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(akbank.sync_payment(&pos, "RT3D1").await.unwrap()),
        BankOrderState::Captured
    );
    // An authentication is provisioned once.
    assert_eq!(
        decline_of(
            akbank
                .authorize_3d(&pos, &provision("RT3D1", AuthorizeKind::Sale, &result))
                .await
                .unwrap()
        )
        .code,
        "VPS-1907"
    );
    // The gate refuses an order id an approved order carries: a signed failure.
    let again = akbank
        .threeds_form(
            &pos,
            &init(
                "RT3D1",
                ThreeDsModel::ThreeD,
                AuthorizeKind::Sale,
                Some(&card),
            ),
        )
        .await
        .unwrap();
    let refused = form_of(&browser.post(&again.action, &again.fields).await);
    assert_eq!(refused.action, CALLBACK_URL);
    let result = akbank
        .parse_threeds_callback(&pos, &refused.fields)
        .unwrap();
    assert!(!result.authenticated);
    assert_eq!(get(&refused.fields, "responseCode"), "VPS-1013");
}

#[tokio::test]
async fn three_d_pre_auth_then_capture() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let akbank = connector();
    let card = card("4355084355084358");
    let gate = akbank
        .threeds_form(
            &pos,
            &init(
                "RT3DPRE",
                ThreeDsModel::ThreeD,
                AuthorizeKind::PreAuth,
                Some(&card),
            ),
        )
        .await
        .unwrap();
    assert_eq!(get(&gate.fields, "txnCode"), "3004");
    let callback = browser.authenticate_3d(&gate, None, "000000").await;
    // The card forces a full authentication whatever the OTP; Visa's ECI.
    let result = akbank
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    assert_eq!(result.auth.eci.as_deref(), Some("05"));
    // The kind must be the authentication's.
    assert_eq!(
        decline_of(
            akbank
                .authorize_3d(&pos, &provision("RT3DPRE", AuthorizeKind::Sale, &result))
                .await
                .unwrap()
        )
        .code,
        "VPS-1907"
    );
    approved(
        &akbank
            .authorize_3d(&pos, &provision("RT3DPRE", AuthorizeKind::PreAuth, &result))
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(akbank.sync_payment(&pos, "RT3DPRE").await.unwrap()),
        BankOrderState::PreAuthorized
    );
    approved(
        &akbank
            .capture(
                &pos,
                &CaptureRequest {
                    order_id: "RT3DPRE",
                    amount: try_(12_550),
                    pre_auth_amount: try_(12_550),
                    currency: Currency::Try,
                },
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(akbank.sync_payment(&pos, "RT3DPRE").await.unwrap()),
        BankOrderState::Captured
    );
}

#[tokio::test]
async fn three_d_wrong_otp_and_forced_statuses_are_not_authenticated() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let akbank = connector();
    for (order, pan, otp) in [
        ("RT3DF1", "5258640000000001", "999999"),
        ("RT3DF2", "4355080000000005", TEST_OTP),
        ("RT3DF3", "5406670000002005", TEST_OTP),
        ("RT3DF4", "4355080000004007", TEST_OTP),
    ] {
        let card = card(pan);
        let gate = akbank
            .threeds_form(
                &pos,
                &init(
                    order,
                    ThreeDsModel::ThreeD,
                    AuthorizeKind::Sale,
                    Some(&card),
                ),
            )
            .await
            .unwrap();
        let callback = browser.authenticate_3d(&gate, None, otp).await;
        assert_eq!(get(&callback.fields, "responseCode"), "VPS-1279");
        let result = akbank
            .parse_threeds_callback(&pos, &callback.fields)
            .unwrap();
        assert!(!result.authenticated, "{pan}");
        assert_eq!(result.outcome, None);
        assert_eq!(result.order_id, order);
        assert_eq!(result.amount, Some(try_(12_550)));
        assert_eq!(
            akbank.sync_payment(&pos, order).await.unwrap(),
            PaymentSync::NotFound
        );
    }
}

#[tokio::test]
async fn three_d_pay_round_trip_carries_the_outcome() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let akbank = connector();

    let card_ok = card("5258640000000001");
    let gate = akbank
        .threeds_form(
            &pos,
            &init(
                "RT3DPAY1",
                ThreeDsModel::ThreeDPay,
                AuthorizeKind::Sale,
                Some(&card_ok),
            ),
        )
        .await
        .unwrap();
    assert_eq!(get(&gate.fields, "paymentModel"), "3D_PAY");
    let callback = browser.authenticate_3d(&gate, None, TEST_OTP).await;
    let result = akbank
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    let Some(Outcome::Approved(approval)) = &result.outcome else {
        panic!("{result:?}")
    };
    assert!(approval.auth_code.is_some() && approval.host_reference.is_some());
    assert_eq!(
        state_of(akbank.sync_payment(&pos, "RT3DPAY1").await.unwrap()),
        BankOrderState::Captured
    );

    // The issuer declines: the callback carries the decline.
    let poor = card("5100050000006661");
    let gate = akbank
        .threeds_form(
            &pos,
            &init(
                "RT3DPAY2",
                ThreeDsModel::ThreeDPay,
                AuthorizeKind::PreAuth,
                Some(&poor),
            ),
        )
        .await
        .unwrap();
    let callback = browser.authenticate_3d(&gate, None, TEST_OTP).await;
    let result = akbank
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    let Some(Outcome::Declined(decline)) = &result.outcome else {
        panic!("{result:?}")
    };
    assert_eq!(decline.group, ErrorGroup::NotSufficientFunds);
    assert_eq!(get(&callback.fields, "txnCode"), "1004");
    assert!(matches!(
        akbank.sync_payment(&pos, "RT3DPAY2").await.unwrap(),
        PaymentSync::Declined(_)
    ));

    // A tampered callback is refused.
    let mut tampered = callback.fields.clone();
    for field in &mut tampered {
        if field.0 == "responseCode" {
            field.1 = "VPS-0000".into();
        }
    }
    assert!(akbank.parse_threeds_callback(&pos, &tampered).is_err());
}

#[tokio::test]
async fn three_d_host_round_trip_collects_the_card_at_the_bank() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let akbank = connector();
    let gate = akbank
        .threeds_form(
            &pos,
            &init(
                "RT3DHOST",
                ThreeDsModel::ThreeDHost,
                AuthorizeKind::Sale,
                None,
            ),
        )
        .await
        .unwrap();
    assert_eq!(gate.action, format!("{base}/akbank/payhosting"));
    assert!(gate.fields.iter().all(|(k, _)| k != "creditCard"));
    let callback = browser
        .authenticate_3d(&gate, Some("5258640000000001"), TEST_OTP)
        .await;
    let result = akbank
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(matches!(result.outcome, Some(Outcome::Approved(_))));
    assert_eq!(
        state_of(akbank.sync_payment(&pos, "RT3DHOST").await.unwrap()),
        BankOrderState::Captured
    );
    // A hosting form posted to the 3D gate is refused with a signed failure.
    let misrouted = BrowserForm {
        action: format!("{base}/akbank/securepay"),
        fields: akbank
            .threeds_form(
                &pos,
                &init(
                    "RT3DHOST2",
                    ThreeDsModel::ThreeDHost,
                    AuthorizeKind::Sale,
                    None,
                ),
            )
            .await
            .unwrap()
            .fields,
    };
    let refused = form_of(&browser.post(&misrouted.action, &misrouted.fields).await);
    assert_eq!(get(&refused.fields, "responseCode"), "VPS-1903");
    assert!(
        !akbank
            .parse_threeds_callback(&pos, &refused.fields)
            .unwrap()
            .authenticated
    );
}

#[tokio::test]
async fn three_d_works_when_the_simulator_is_nested() {
    let base = serve_at("/sim").await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let akbank = connector();
    let card = card("5258640000000001");
    let gate = akbank
        .threeds_form(
            &pos,
            &init(
                "RTNEST",
                ThreeDsModel::ThreeD,
                AuthorizeKind::Sale,
                Some(&card),
            ),
        )
        .await
        .unwrap();
    let callback = browser.authenticate_3d(&gate, None, TEST_OTP).await;
    let result = akbank
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    approved(
        &akbank
            .authorize_3d(&pos, &provision("RTNEST", AuthorizeKind::Sale, &result))
            .await
            .unwrap(),
    );
}

#[test]
fn capabilities_are_what_these_tests_cover() {
    let caps = connector().capabilities();
    assert!(caps.sale && caps.pre_auth && caps.post_auth && caps.void);
    assert!(caps.refund && caps.partial_refund && caps.sync_payment && caps.sync_refund);
    assert_eq!(
        caps.threeds_models,
        &[
            ThreeDsModel::ThreeD,
            ThreeDsModel::ThreeDPay,
            ThreeDsModel::ThreeDHost
        ]
    );
}
