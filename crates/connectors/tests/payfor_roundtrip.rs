//! The PayFor connector against the PayFor simulator over loopback, for every capability the
//! connector declares: sale, pre-auth + post-auth, void, partial refund after end of day,
//! status, order history, and each 3D model driven through the ACS page as a shopper's
//! browser would (gate form → challenge page → auto-submitting callback →
//! `parse_threeds_callback` → `authorize_3d` for `3d`).

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use bank_sim::page_form::form_of;
use connectors::payfor::Payfor;
use connectors::{
    AuthorizeKind, BankCredit, BankOrderState, CaptureRequest, Connector, ConnectorError, Outcome,
    PaymentSync, PosConfig, RefundRequest, ThreeDsModel, VoidRequest,
};
use domain::enums::{ErrorGroup, PosIntegrator};
use domain::money::Currency;
use domain::secret::Secret;
use serde_json::{Value, json};

use support::*;

const MERCHANT: &str = "085300000009704";

/// Orkestra's sandbox merchant (the bank's QNB test account), preloaded in every simulator.
fn pos(base: &str) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Finansbank,
        api_url: format!("{base}/payfor/Gateway/XMLGate.aspx"),
        threeds_url: format!("{base}/payfor/Gateway/Default.aspx"),
        client_id: MERCHANT.into(),
        terminal_id: None,
        username: "QNB_API_KULLANICI_3DPAY".into(),
        password: Secret::new("UcBN0"),
        store_key: Some(Secret::new("12345678")),
        timeout: Duration::from_secs(10),
    }
}

/// The same merchant through its Ziraat Katılım user (`MbrId` 12, `/Mpi/` paths).
fn ziraat_katilim(base: &str) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Ziraatkatilim,
        api_url: format!("{base}/payfor/Mpi/XMLGate.aspx"),
        threeds_url: format!("{base}/payfor/Mpi/Default.aspx"),
        username: "ZIRAATKATILIM_API_KULLANICI_3DPAY".into(),
        ..pos(base)
    }
}

fn connector() -> Payfor {
    Payfor::new(connectors::http::client().unwrap())
}

async fn admin(base: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    sim_admin(base, "payfor", method, path, body).await
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
async fn sale_status_void() {
    let base = serve().await;
    let pos = pos(&base);
    let payfor = connector();
    let card = card("5258640000000001");

    let outcome = payfor
        .authorize(&pos, &authorize("rt-sale-1", AuthorizeKind::Sale, &card))
        .await
        .unwrap();
    let Outcome::Approved(approval) = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(approval.auth_code.as_deref().unwrap().starts_with('S'));
    assert_eq!(approval.host_reference.as_deref().map(str::len), Some(12));
    assert_eq!(approval.transaction_id.as_deref(), Some("rt-sale-1"));

    match payfor.sync_payment(&pos, "rt-sale-1").await.unwrap() {
        PaymentSync::Approved {
            approval: synced,
            state,
        } => {
            assert_eq!(state, BankOrderState::Captured);
            assert_eq!(synced.auth_code, approval.auth_code);
            assert_eq!(synced.host_reference, approval.host_reference);
        }
        other => panic!("{other:?}"),
    }
    approved(
        &payfor
            .void(
                &pos,
                &VoidRequest {
                    order_id: "rt-sale-1",
                },
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(payfor.sync_payment(&pos, "rt-sale-1").await.unwrap()),
        BankOrderState::Voided
    );
    // Voided once: a second void is refused.
    let decline = decline_of(
        payfor
            .void(
                &pos,
                &VoidRequest {
                    order_id: "rt-sale-1",
                },
            )
            .await
            .unwrap(),
    );
    assert_eq!(decline.code, "V015");
    assert_eq!(sim_order(&base, "rt-sale-1").await["status"], "Voided");
}

#[tokio::test]
async fn stored_card_without_cvc_is_charged() {
    let base = serve().await;
    let payfor = connector();
    let mut stored = card("5258640000000001");
    stored.cvc = None;
    approved(
        &payfor
            .authorize(
                &pos(&base),
                &authorize("rt-cof-1", AuthorizeKind::Sale, &stored),
            )
            .await
            .unwrap(),
    );
}

#[tokio::test]
async fn pre_auth_then_post_auth() {
    let base = serve().await;
    let pos = pos(&base);
    let payfor = connector();
    let card = card("4155650100416111");
    approved(
        &payfor
            .authorize(&pos, &authorize("rt-pre-1", AuthorizeKind::PreAuth, &card))
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(payfor.sync_payment(&pos, "rt-pre-1").await.unwrap()),
        BankOrderState::PreAuthorized
    );
    let capture = |amount| CaptureRequest {
        order_id: "rt-pre-1",
        amount: try_(amount),
        pre_auth_amount: try_(12_550),
        currency: Currency::Try,
    };
    // Above the pre-authorised amount: refused, nothing captured.
    let decline = decline_of(payfor.capture(&pos, &capture(12_551)).await.unwrap());
    assert_eq!(
        (decline.code.as_str(), decline.group),
        ("V015", ErrorGroup::Declined)
    );
    approved(&payfor.capture(&pos, &capture(10_000)).await.unwrap());
    assert_eq!(
        state_of(payfor.sync_payment(&pos, "rt-pre-1").await.unwrap()),
        BankOrderState::Captured
    );
    let order = sim_order(&base, "rt-pre-1").await;
    assert_eq!(order["capturedMinor"], 10_000);
    // Post-auth once.
    assert_eq!(
        decline_of(payfor.capture(&pos, &capture(10_000)).await.unwrap()).code,
        "V015"
    );
}

#[tokio::test]
async fn partial_refunds_after_end_of_day() {
    let base = serve().await;
    let pos = pos(&base);
    let payfor = connector();
    let card = card("5258640000000001");
    approved(
        &payfor
            .authorize(&pos, &authorize("rt-ref-1", AuthorizeKind::Sale, &card))
            .await
            .unwrap(),
    );
    let refund = |amount| RefundRequest {
        order_id: "rt-ref-1",
        amount: try_(amount),
        currency: Currency::Try,
    };
    // Same day: the bank wants a void instead (V014, the real answer).
    let decline = decline_of(payfor.refund(&pos, &refund(5_000)).await.unwrap());
    assert_eq!(decline.code, "V014");
    assert_eq!(
        decline.message,
        "Bu işlem geri alınamaz, lüften asıl işlemi iptal edin."
    );
    settle(&base).await;
    // After end of day a void is refused and a refund goes through.
    assert_eq!(
        decline_of(
            payfor
                .void(
                    &pos,
                    &VoidRequest {
                        order_id: "rt-ref-1"
                    }
                )
                .await
                .unwrap()
        )
        .code,
        "V015"
    );
    approved(&payfor.refund(&pos, &refund(5_000)).await.unwrap());
    assert_eq!(
        state_of(payfor.sync_payment(&pos, "rt-ref-1").await.unwrap()),
        BankOrderState::Refunded
    );
    // Never above what is left.
    assert_eq!(
        decline_of(payfor.refund(&pos, &refund(7_551)).await.unwrap()).code,
        "V015"
    );
    approved(&payfor.refund(&pos, &refund(7_550)).await.unwrap());

    let credits = payfor.sync_refunds(&pos, "rt-ref-1").await.unwrap();
    let summary: Vec<(i64, bool)> = credits
        .iter()
        .map(|c| (c.amount.get(), c.approved))
        .collect();
    assert_eq!(
        summary,
        [(5_000, false), (5_000, true), (7_551, false), (7_550, true)]
    );
    assert!(
        credits
            .iter()
            .all(|c: &BankCredit| c.transaction_id.is_some())
    );
    let order = sim_order(&base, "rt-ref-1").await;
    assert_eq!(order["status"], "Refunded");
    assert_eq!(order["refundedMinor"], 12_550);
}

#[tokio::test]
async fn declines_unknown_orders_and_bad_credentials() {
    let base = serve().await;
    let pos = pos(&base);
    let payfor = connector();

    let declining = card("5100050000006661");
    let decline = decline_of(
        payfor
            .authorize(
                &pos,
                &authorize("rt-dec-1", AuthorizeKind::Sale, &declining),
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        (decline.group, decline.code.as_str()),
        (ErrorGroup::NotSufficientFunds, "51")
    );
    match payfor.sync_payment(&pos, "rt-dec-1").await.unwrap() {
        PaymentSync::Declined(d) => assert_eq!(d.code, "51"),
        other => panic!("{other:?}"),
    }

    let good = card("5258640000000001");
    approved(
        &payfor
            .authorize(&pos, &authorize("rt-dup-1", AuthorizeKind::Sale, &good))
            .await
            .unwrap(),
    );
    let decline = decline_of(
        payfor
            .authorize(&pos, &authorize("rt-dup-1", AuthorizeKind::Sale, &good))
            .await
            .unwrap(),
    );
    assert_eq!(decline.group, ErrorGroup::DuplicateOrder);

    assert_eq!(
        payfor.sync_payment(&pos, "rt-none").await.unwrap(),
        PaymentSync::NotFound
    );
    assert_eq!(payfor.sync_refunds(&pos, "rt-none").await.unwrap(), []);

    let mut wrong = pos.clone();
    wrong.password = Secret::new("nope");
    let decline = decline_of(
        payfor
            .authorize(&wrong, &authorize("rt-bad-1", AuthorizeKind::Sale, &good))
            .await
            .unwrap(),
    );
    assert_eq!(
        (decline.group, decline.code.as_str()),
        (ErrorGroup::InvalidMerchantOrPos, "V001")
    );
    // A failed sign-in says nothing about the order: the inquiry is asked again.
    assert!(matches!(
        payfor.sync_payment(&wrong, "rt-dup-1").await,
        Err(ConnectorError::BadResponse(_))
    ));
    assert!(matches!(
        payfor.sync_refunds(&wrong, "rt-dup-1").await,
        Err(ConnectorError::BadResponse(_))
    ));
}

#[tokio::test]
async fn ziraat_katilim_user_on_the_mpi_paths() {
    let base = serve().await;
    let zk = ziraat_katilim(&base);
    let payfor = connector();
    let card = card("5258640000000001");
    approved(
        &payfor
            .authorize(&zk, &authorize("rt-zk-1", AuthorizeKind::Sale, &card))
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(payfor.sync_payment(&zk, "rt-zk-1").await.unwrap()),
        BankOrderState::Captured
    );
    // The institution is part of the sign-in: the ZK user with QNB's MbrId is refused.
    let mut wrong = zk.clone();
    wrong.integrator = PosIntegrator::Finansbank;
    assert_eq!(
        decline_of(
            payfor
                .authorize(&wrong, &authorize("rt-zk-2", AuthorizeKind::Sale, &card))
                .await
                .unwrap()
        )
        .code,
        "V004"
    );
}

#[tokio::test]
async fn faults_leave_the_outcome_unknown_and_status_settles_it() {
    let base = serve().await;
    faults_leave_the_outcome_unknown(
        &connector(),
        pos(&base),
        &base,
        "payfor",
        MERCHANT,
        ["rt-f-1", "rt-f-2", "rt-f-3", "rt-f-4"],
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
    let payfor = connector();
    let card = card("5258640000000001");

    let gate = payfor
        .threeds_form(
            &pos,
            &init(
                "rt-3d-1",
                ThreeDsModel::ThreeD,
                AuthorizeKind::Sale,
                Some(&card),
            ),
        )
        .await
        .unwrap();
    assert_eq!(gate.action, pos.threeds_url);
    let callback = browser.authenticate_3d(&gate, None, TEST_OTP).await;
    assert_eq!(get(&callback.fields, "ProcReturnCode"), "V033");
    assert_eq!(get(&callback.fields, "HashType"), "Sha1");

    let result = payfor
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert_eq!(result.order_id, "rt-3d-1");
    assert!(result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("1"));
    assert_eq!(result.amount, Some(try_(12_550)));
    assert_eq!(result.currency, Some(Currency::Try));
    assert_eq!(result.outcome, None);
    assert_eq!(result.auth.md.as_deref().map(str::len), Some(16));
    assert_eq!(result.auth.eci.as_deref(), Some("02"));

    let outcome = payfor
        .authorize_3d(&pos, &provision("rt-3d-1", AuthorizeKind::Sale, &result))
        .await
        .unwrap();
    approved(&outcome);
    assert_eq!(
        state_of(payfor.sync_payment(&pos, "rt-3d-1").await.unwrap()),
        BankOrderState::Captured
    );
    // The RequestGuid is spent: a replay is refused and charges nothing more.
    let replay = decline_of(
        payfor
            .authorize_3d(&pos, &provision("rt-3d-1", AuthorizeKind::Sale, &result))
            .await
            .unwrap(),
    );
    assert_eq!(replay.code, "V015");

    // A tampered callback is refused.
    let mut tampered = callback.fields.clone();
    for (k, v) in &mut tampered {
        if k == "3DStatus" {
            *v = "1 ".into();
        }
    }
    assert!(payfor.parse_threeds_callback(&pos, &tampered).is_err());
    // And another merchant's key does not verify it.
    let mut other = pos.clone();
    other.store_key = Some(Secret::new("SANDBOXKEY5"));
    assert!(
        payfor
            .parse_threeds_callback(&other, &callback.fields)
            .is_err()
    );
}

#[tokio::test]
async fn three_d_pre_auth_then_capture() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let payfor = connector();
    let card = card("4355084355084358");
    let gate = payfor
        .threeds_form(
            &pos,
            &init(
                "rt-3d-pre",
                ThreeDsModel::ThreeD,
                AuthorizeKind::PreAuth,
                Some(&card),
            ),
        )
        .await
        .unwrap();
    // A forced-status card authenticates whatever the OTP.
    let callback = browser.authenticate_3d(&gate, None, "000000").await;
    let result = payfor
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    assert_eq!(result.auth.eci.as_deref(), Some("05"));
    approved(
        &payfor
            .authorize_3d(
                &pos,
                &provision("rt-3d-pre", AuthorizeKind::PreAuth, &result),
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(payfor.sync_payment(&pos, "rt-3d-pre").await.unwrap()),
        BankOrderState::PreAuthorized
    );
    approved(
        &payfor
            .capture(
                &pos,
                &CaptureRequest {
                    order_id: "rt-3d-pre",
                    amount: try_(12_550),
                    pre_auth_amount: try_(12_550),
                    currency: Currency::Try,
                },
            )
            .await
            .unwrap(),
    );
}

#[tokio::test]
async fn three_d_wrong_otp_and_forced_statuses_are_not_authenticated() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let payfor = connector();
    for (order_id, pan, otp, status) in [
        ("rt-3d-otp", "5258640000000001", "654321", "-1"),
        ("rt-3d-s4", "4355080000004007", TEST_OTP, "4"),
        ("rt-3d-s0", "5406670000000009", TEST_OTP, "0"),
    ] {
        let card = card(pan);
        let gate = payfor
            .threeds_form(
                &pos,
                &init(
                    order_id,
                    ThreeDsModel::ThreeD,
                    AuthorizeKind::Sale,
                    Some(&card),
                ),
            )
            .await
            .unwrap();
        let callback = browser.authenticate_3d(&gate, None, otp).await;
        let result = payfor
            .parse_threeds_callback(&pos, &callback.fields)
            .unwrap();
        assert!(!result.authenticated, "{order_id}");
        assert_eq!(result.md_status.as_deref(), Some(status));
        assert_eq!(
            result.message.as_deref(),
            Some("3D Kullanıcı Doğrulama Adımı Başarısız")
        );
        // The bank refuses to provision an authentication that failed.
        let refused = decline_of(
            payfor
                .authorize_3d(&pos, &provision(order_id, AuthorizeKind::Sale, &result))
                .await
                .unwrap(),
        );
        assert_eq!(refused.code, "V034");
        assert_eq!(
            payfor.sync_payment(&pos, order_id).await.unwrap(),
            PaymentSync::NotFound
        );
    }
}

#[tokio::test]
async fn three_d_pay_round_trip_carries_the_outcome() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let payfor = connector();
    let card = card("4355084355084358");
    let gate = payfor
        .threeds_form(
            &pos,
            &init(
                "rt-pay-1",
                ThreeDsModel::ThreeDPay,
                AuthorizeKind::Sale,
                Some(&card),
            ),
        )
        .await
        .unwrap();
    let callback = browser.authenticate_3d(&gate, None, TEST_OTP).await;
    let result = payfor
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    assert_eq!(result.amount, Some(try_(12_550)));
    let Some(Outcome::Approved(approval)) = &result.outcome else {
        panic!("{:?}", result.outcome);
    };
    assert!(approval.auth_code.is_some() && approval.host_reference.is_some());
    match payfor.sync_payment(&pos, "rt-pay-1").await.unwrap() {
        PaymentSync::Approved {
            approval: synced,
            state: BankOrderState::Captured,
        } => assert_eq!(synced.auth_code, approval.auth_code),
        other => panic!("{other:?}"),
    }

    // A decline card: authenticated, declined by the bank's provision.
    let declining = self::card("5100050000006661");
    let gate = payfor
        .threeds_form(
            &pos,
            &init(
                "rt-pay-2",
                ThreeDsModel::ThreeDPay,
                AuthorizeKind::Sale,
                Some(&declining),
            ),
        )
        .await
        .unwrap();
    let callback = browser.authenticate_3d(&gate, None, TEST_OTP).await;
    let result = payfor
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    let decline = decline_of(result.outcome.unwrap());
    assert_eq!(
        (decline.group, decline.code.as_str()),
        (ErrorGroup::NotSufficientFunds, "51")
    );

    // A failed authentication (wrong OTP): MR15, nothing booked.
    let plain = self::card("5258640000000001");
    let gate = payfor
        .threeds_form(
            &pos,
            &init(
                "rt-pay-3",
                ThreeDsModel::ThreeDPay,
                AuthorizeKind::Sale,
                Some(&plain),
            ),
        )
        .await
        .unwrap();
    let callback = browser.authenticate_3d(&gate, None, "111111").await;
    let result = payfor
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    let decline = decline_of(result.outcome.unwrap());
    assert_eq!(
        (decline.group, decline.code.as_str()),
        (ErrorGroup::ThreedsAuthenticationFailed, "MR15")
    );
    assert_eq!(
        payfor.sync_payment(&pos, "rt-pay-3").await.unwrap(),
        PaymentSync::NotFound
    );
}

#[tokio::test]
async fn three_d_host_round_trip_collects_the_card_at_the_bank() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let payfor = connector();
    let gate = payfor
        .threeds_form(
            &pos,
            &init(
                "rt-host-1",
                ThreeDsModel::ThreeDHost,
                AuthorizeKind::PreAuth,
                None,
            ),
        )
        .await
        .unwrap();
    assert_eq!(gate.action, format!("{base}/payfor/Gateway/3DHost.aspx"));
    assert!(gate.fields.iter().all(|(k, _)| k != "Pan"));
    let callback = browser
        .authenticate_3d(&gate, Some("4155650100416111"), TEST_OTP)
        .await;
    let result = payfor
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    approved(result.outcome.as_ref().unwrap());
    assert_eq!(
        state_of(payfor.sync_payment(&pos, "rt-host-1").await.unwrap()),
        BankOrderState::PreAuthorized
    );
}

#[tokio::test]
async fn gate_refusal_is_signed_with_sha256_and_read() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let payfor = connector();
    let card = card("5258640000000001");
    approved(
        &payfor
            .authorize(&pos, &authorize("rt-gate-dup", AuthorizeKind::Sale, &card))
            .await
            .unwrap(),
    );
    // The gate refuses a used order id at once, posting back to the fail URL.
    let gate = payfor
        .threeds_form(
            &pos,
            &init(
                "rt-gate-dup",
                ThreeDsModel::ThreeD,
                AuthorizeKind::Sale,
                Some(&card),
            ),
        )
        .await
        .unwrap();
    let page = browser.post(&gate.action, &gate.fields).await;
    let callback = form_of(&page);
    assert_eq!(callback.action, CALLBACK_URL);
    assert_eq!(get(&callback.fields, "ProcReturnCode"), "101310");
    assert_eq!(get(&callback.fields, "ResponseHash").len(), 44);
    let result = payfor
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(!result.authenticated);
    assert_eq!(
        result.message.as_deref(),
        Some("Verilen sipariş no önceden kullanılmıştır.")
    );
}

#[tokio::test]
async fn three_d_works_when_the_simulator_is_nested_and_for_ziraat_katilim() {
    let base = serve_at("/sim").await;
    let zk = ziraat_katilim(&base);
    assert!(zk.threeds_url.contains("/sim/payfor/Mpi/Default.aspx"));
    let browser = Browser::new(&base);
    let payfor = connector();
    let card = card("5258640000000001");
    let gate = payfor
        .threeds_form(
            &zk,
            &init(
                "rt-zk-3d",
                ThreeDsModel::ThreeD,
                AuthorizeKind::Sale,
                Some(&card),
            ),
        )
        .await
        .unwrap();
    assert_eq!(get(&gate.fields, "MbrId"), "12");
    let page = browser.post(&gate.action, &gate.fields).await;
    let challenge = form_of(&page);
    assert!(
        challenge.action.starts_with("/sim/payfor/Mpi/Acs/"),
        "{}",
        challenge.action
    );
    let answer =
        [("otp", TEST_OTP), ("action", "confirm")].map(|(k, v)| (k.to_owned(), v.to_owned()));
    let callback = form_of(&browser.post(&challenge.action, &answer).await);
    let result = payfor
        .parse_threeds_callback(&zk, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    approved(
        &payfor
            .authorize_3d(&zk, &provision("rt-zk-3d", AuthorizeKind::Sale, &result))
            .await
            .unwrap(),
    );
    // The QNB user of the same merchant cannot verify a callback signed for the ZK user.
    let qnb = pos(&base);
    assert!(
        payfor
            .parse_threeds_callback(&qnb, &callback.fields)
            .is_err()
    );
}

#[test]
fn capabilities_are_what_these_tests_cover() {
    let capabilities = connector().capabilities();
    assert!(
        capabilities.sale
            && capabilities.pre_auth
            && capabilities.post_auth
            && capabilities.void
            && capabilities.refund
            && capabilities.partial_refund
            && capabilities.sync_payment
            && capabilities.sync_refund
    );
    assert_eq!(
        capabilities.threeds_models,
        [
            ThreeDsModel::ThreeD,
            ThreeDsModel::ThreeDPay,
            ThreeDsModel::ThreeDHost
        ]
    );
}
