//! The NestPay 3D Secure round trip over loopback, as a shopper's browser drives it: the
//! connector's gate form is posted to the bank simulator's `est3Dgate`, the ACS page's OTP
//! form is submitted, the auto-submitting callback form is read and handed to
//! `parse_threeds_callback`; then `authorize_3d` provisions a `3d` payment, while a
//! `3d_pay`/`3d_host` callback already carries the outcome.

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use connectors::nestpay::Nestpay;
use connectors::{
    AuthorizeKind, BankOrderState, CaptureRequest, Connector, Outcome, PaymentSync, PosConfig,
    ThreeDsModel,
};
use domain::enums::{ErrorGroup, PosIntegrator};
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;

use support::*;

/// Orkestra's sandbox store, preloaded in every simulator.
fn pos(base: &str) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Isbank,
        api_url: format!("{base}/nestpay/fim/api"),
        threeds_url: format!("{base}/nestpay/fim/est3Dgate"),
        client_id: "100200127".into(),
        terminal_id: None,
        username: "ORKESTRA".into(),
        password: Secret::new("ORKESTRA1"),
        store_key: Some(Secret::new("SANDBOXKEY1")),
        timeout: Duration::from_secs(10),
    }
}

fn connector() -> Nestpay {
    Nestpay::new(connectors::http::client().unwrap())
}

#[tokio::test]
async fn three_d_round_trip_then_provision() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let nestpay = connector();
    let card = card("5258640000000001");

    let gate = nestpay
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

    let result = nestpay
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert_eq!(result.order_id, "rt-3d-1");
    assert!(result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("1"));
    assert_eq!(result.amount, Some(MinorUnits::from_stored(12_550)));
    assert_eq!(result.currency, Some(Currency::Try));
    assert_eq!(result.outcome, None);
    assert!(result.auth.md.as_deref().unwrap().starts_with("525864:"));

    let outcome = nestpay
        .authorize_3d(&pos, &provision("rt-3d-1", AuthorizeKind::Sale, &result))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Approved(_)), "{outcome:?}");
    let sync = nestpay.sync_payment(&pos, "rt-3d-1").await.unwrap();
    assert!(
        matches!(
            sync,
            PaymentSync::Approved {
                state: BankOrderState::Captured,
                ..
            }
        ),
        "{sync:?}"
    );
    // The md is spent: a replay is refused and charges nothing more.
    let replay = nestpay
        .authorize_3d(&pos, &provision("rt-3d-1", AuthorizeKind::Sale, &result))
        .await
        .unwrap();
    assert!(
        matches!(&replay, Outcome::Declined(d) if d.code == "CORE-2302"),
        "{replay:?}"
    );

    // A tampered callback is refused.
    let mut tampered = callback.fields.clone();
    for (k, v) in &mut tampered {
        if k == "mdStatus" {
            *v = "1 ".into();
        }
    }
    assert!(nestpay.parse_threeds_callback(&pos, &tampered).is_err());
}

#[tokio::test]
async fn three_d_pre_auth_then_capture() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let nestpay = connector();
    let card = card("4355084355084358");
    let gate = nestpay
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
    let callback = browser.authenticate_3d(&gate, None, TEST_OTP).await;
    let result = nestpay
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert_eq!(result.auth.eci.as_deref(), Some("05"));
    let outcome = nestpay
        .authorize_3d(
            &pos,
            &provision("rt-3d-pre", AuthorizeKind::PreAuth, &result),
        )
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Approved(_)), "{outcome:?}");
    let captured = nestpay
        .capture(
            &pos,
            &CaptureRequest {
                order_id: "rt-3d-pre",
                amount: MinorUnits::from_stored(12_550),
                pre_auth_amount: MinorUnits::from_stored(12_550),
                currency: Currency::Try,
            },
        )
        .await
        .unwrap();
    assert!(matches!(captured, Outcome::Approved(_)), "{captured:?}");
}

#[tokio::test]
async fn three_d_wrong_otp_is_not_authenticated() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let nestpay = connector();
    let card = card("5258640000000001");
    let gate = nestpay
        .threeds_form(
            &pos,
            &init(
                "rt-3d-otp",
                ThreeDsModel::ThreeD,
                AuthorizeKind::Sale,
                Some(&card),
            ),
        )
        .await
        .unwrap();
    let callback = browser.authenticate_3d(&gate, None, "654321").await;
    let result = nestpay
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(!result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("0"));
    assert_eq!(result.message.as_deref(), Some("Not authenticated"));
}

#[tokio::test]
async fn three_d_pay_round_trip_carries_the_outcome() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let nestpay = connector();
    let card = card("4355084355084358");
    let gate = nestpay
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
    let result = nestpay
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    assert_eq!(result.amount, Some(MinorUnits::from_stored(12_550)));
    let Some(Outcome::Approved(approval)) = &result.outcome else {
        panic!("{:?}", result.outcome);
    };
    assert!(approval.auth_code.is_some() && approval.transaction_id.is_some());
    // The bank booked it: its status says so.
    let sync = nestpay.sync_payment(&pos, "rt-pay-1").await.unwrap();
    match sync {
        PaymentSync::Approved {
            approval: synced,
            state: BankOrderState::Captured,
        } => assert_eq!(synced.auth_code, approval.auth_code),
        other => panic!("{other:?}"),
    }

    // A decline card: authenticated, declined by the bank's provision.
    let declining = self::card("5100050000006661");
    let gate = nestpay
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
    let result = nestpay
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    match &result.outcome {
        Some(Outcome::Declined(decline)) => {
            assert_eq!(decline.group, ErrorGroup::NotSufficientFunds);
            assert_eq!(decline.code, "51");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn three_d_host_round_trip_collects_the_card_at_the_bank() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let nestpay = connector();
    let gate = nestpay
        .threeds_form(
            &pos,
            &init(
                "rt-host-1",
                ThreeDsModel::ThreeDHost,
                AuthorizeKind::Sale,
                None,
            ),
        )
        .await
        .unwrap();
    assert!(gate.fields.iter().all(|(k, _)| k != "pan"));
    let callback = browser
        .authenticate_3d(&gate, Some("4355084355084358"), TEST_OTP)
        .await;
    let result = nestpay
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    assert!(
        matches!(result.outcome, Some(Outcome::Approved(_))),
        "{:?}",
        result.outcome
    );
}
