//! The Garanti connector against the bank simulator over loopback, for every capability it
//! declares: sale, pre-auth + post-auth, void, partial refunds after end of day, status and
//! order history, and each 3D model through the simulator's gate and ACS page as a
//! shopper's browser drives it (the callback is then verified by `parse_threeds_callback`;
//! a `3d` payment is provisioned with `authorize_3d`).

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use connectors::garanti::Garanti;
use connectors::{
    AuthorizeKind, AuthorizeRequest, BankCredit, BankOrderState, CallbackError, CaptureRequest,
    Connector, Decline, Outcome, PaymentSync, PosConfig, RefundRequest, ThreeDsModel, VoidRequest,
};
use domain::card::CardDetails;
use domain::enums::{ErrorGroup, PosIntegrator};
use domain::money::Currency;
use domain::secret::Secret;

use support::*;

const MERCHANT: &str = "7000679";

/// Orkestra's sandbox terminal (the bank's public test terminal), preloaded in every
/// simulator.
fn pos(base: &str) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Garanti,
        api_url: format!("{base}/garanti/VPServlet"),
        threeds_url: format!("{base}/garanti/servlet/gt3dengine"),
        client_id: MERCHANT.into(),
        terminal_id: Some("30691298".into()),
        username: "PROVAUT".into(),
        password: Secret::new("123qweASD/"),
        store_key: Some(Secret::new("12345678")),
        timeout: Duration::from_secs(10),
    }
}

fn connector() -> Garanti {
    Garanti::new(connectors::http::client().unwrap())
}

fn authorize<'a>(
    order_id: &'a str,
    kind: AuthorizeKind,
    minor: i64,
    card: &'a CardDetails,
) -> AuthorizeRequest<'a> {
    AuthorizeRequest {
        order_id,
        kind,
        amount: try_(minor),
        currency: Currency::Try,
        installment: 1,
        card,
        client_ip: Some("203.0.113.7"),
    }
}

async fn settle(base: &str) {
    let response = reqwest::Client::new()
        .post(format!("{base}/garanti/_sim/settle"))
        .body(format!("{{\"clientId\":\"{MERCHANT}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[track_caller]
fn assert_approved(outcome: &Outcome) {
    assert!(matches!(outcome, Outcome::Approved(_)), "{outcome:?}");
}

#[track_caller]
fn assert_declined(outcome: &Outcome, code: &str) {
    assert!(
        matches!(outcome, Outcome::Declined(Decline { code: c, .. }) if c == code),
        "{outcome:?}"
    );
}

#[track_caller]
fn assert_state(sync: &PaymentSync, state: BankOrderState) {
    assert!(
        matches!(sync, PaymentSync::Approved { state: s, .. } if *s == state),
        "{sync:?}"
    );
}

#[tokio::test]
async fn every_declared_capability_is_exercised() {
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
        &[
            ThreeDsModel::ThreeD,
            ThreeDsModel::ThreeDPay,
            ThreeDsModel::ThreeDHost
        ]
    );
}

#[tokio::test]
async fn sale_status_and_void() {
    let base = serve().await;
    let pos = pos(&base);
    let garanti = connector();
    let card = card("5258640000000001");

    let outcome = garanti
        .authorize(
            &pos,
            &authorize("RT-SALE-1", AuthorizeKind::Sale, 10_025, &card),
        )
        .await
        .unwrap();
    let Outcome::Approved(approval) = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(approval.auth_code.is_some() && approval.host_reference.is_some());
    let sync = garanti.sync_payment(&pos, "RT-SALE-1").await.unwrap();
    match &sync {
        PaymentSync::Approved {
            approval: synced,
            state: BankOrderState::Captured,
        } => assert_eq!(synced.host_reference, approval.host_reference),
        other => panic!("{other:?}"),
    }
    // The same order id again is refused: the order exists.
    let again = garanti
        .authorize(
            &pos,
            &authorize("RT-SALE-1", AuthorizeKind::Sale, 10_025, &card),
        )
        .await
        .unwrap();
    assert_declined(&again, "0104");

    let voided = garanti
        .void(
            &pos,
            &VoidRequest {
                order_id: "RT-SALE-1",
            },
        )
        .await
        .unwrap();
    assert_approved(&voided);
    let sync = garanti.sync_payment(&pos, "RT-SALE-1").await.unwrap();
    assert_state(&sync, BankOrderState::Voided);
    let twice = garanti
        .void(
            &pos,
            &VoidRequest {
                order_id: "RT-SALE-1",
            },
        )
        .await
        .unwrap();
    assert_declined(&twice, "0202");

    // A stored card pays without its CVC (card on file).
    let on_file = CardDetails {
        cvc: None,
        ..card.clone()
    };
    let outcome = garanti
        .authorize(
            &pos,
            &authorize("RT-SALE-2", AuthorizeKind::Sale, 700, &on_file),
        )
        .await
        .unwrap();
    assert_approved(&outcome);

    // Unknown orders.
    assert_eq!(
        garanti.sync_payment(&pos, "RT-NONE").await.unwrap(),
        PaymentSync::NotFound
    );
    assert_eq!(garanti.sync_refunds(&pos, "RT-NONE").await.unwrap(), vec![]);
    let void = garanti
        .void(
            &pos,
            &VoidRequest {
                order_id: "RT-NONE",
            },
        )
        .await
        .unwrap();
    assert_declined(&void, "0110");
}

#[tokio::test]
async fn declines_carry_the_issuers_code() {
    let base = serve().await;
    let pos = pos(&base);
    let garanti = connector();
    for (pan, code, group) in [
        ("5100050000006661", "51", ErrorGroup::NotSufficientFunds),
        ("5101520000006662", "43", ErrorGroup::StolenCard),
        ("5164580000006660", "82", ErrorGroup::InvalidCvc2),
        ("5163080000006662", "54", ErrorGroup::ExpiredCard),
    ] {
        let card = card(pan);
        let order = format!("RT-DECL-{code}");
        let outcome = garanti
            .authorize(&pos, &authorize(&order, AuthorizeKind::Sale, 500, &card))
            .await
            .unwrap();
        match &outcome {
            Outcome::Declined(decline) => {
                assert_eq!((decline.code.as_str(), decline.group), (code, group));
                assert!(!decline.message.is_empty());
            }
            other => panic!("{other:?}"),
        }
        // The bank keeps the declined order: its status says so.
        let sync = garanti.sync_payment(&pos, &order).await.unwrap();
        assert!(
            matches!(&sync, PaymentSync::Declined(d) if d.code == code && d.group == group),
            "{sync:?}"
        );
    }
}

#[tokio::test]
async fn pre_auth_then_post_auth() {
    let base = serve().await;
    let pos = pos(&base);
    let garanti = connector();
    let card = card("4355084355084358");
    let outcome = garanti
        .authorize(
            &pos,
            &authorize("RT-PRE-1", AuthorizeKind::PreAuth, 20_000, &card),
        )
        .await
        .unwrap();
    assert_approved(&outcome);
    let sync = garanti.sync_payment(&pos, "RT-PRE-1").await.unwrap();
    assert_state(&sync, BankOrderState::PreAuthorized);

    let capture = |minor| CaptureRequest {
        order_id: "RT-PRE-1",
        amount: try_(minor),
        pre_auth_amount: try_(20_000),
        currency: Currency::Try,
    };
    // Above the pre-authorised amount: the host declines with 13.
    let over = garanti.capture(&pos, &capture(20_001)).await.unwrap();
    assert!(
        matches!(&over, Outcome::Declined(d) if d.code == "13" && d.group == ErrorGroup::InvalidAmount),
        "{over:?}"
    );
    let captured = garanti.capture(&pos, &capture(15_000)).await.unwrap();
    assert_approved(&captured);
    let sync = garanti.sync_payment(&pos, "RT-PRE-1").await.unwrap();
    assert_state(&sync, BankOrderState::Captured);
    let twice = garanti.capture(&pos, &capture(15_000)).await.unwrap();
    assert_declined(&twice, "0302");
    // A sale cannot be post-authorised.
    let sale_card = self::card("5258640000000001");
    garanti
        .authorize(
            &pos,
            &authorize("RT-PRE-2", AuthorizeKind::Sale, 100, &sale_card),
        )
        .await
        .unwrap();
    let not_pre = garanti
        .capture(
            &pos,
            &CaptureRequest {
                order_id: "RT-PRE-2",
                ..capture(100)
            },
        )
        .await
        .unwrap();
    assert_declined(&not_pre, "0301");
}

#[tokio::test]
async fn partial_refunds_after_end_of_day() {
    let base = serve().await;
    let pos = pos(&base);
    let garanti = connector();
    let card = card("5258640000000001");
    assert_approved(
        &garanti
            .authorize(
                &pos,
                &authorize("RT-RFN-1", AuthorizeKind::Sale, 10_000, &card),
            )
            .await
            .unwrap(),
    );
    let refund = |minor| RefundRequest {
        order_id: "RT-RFN-1",
        amount: try_(minor),
        currency: Currency::Try,
    };
    // Before end of day the bank wants a void.
    let early = garanti.refund(&pos, &refund(2_500)).await.unwrap();
    assert_declined(&early, "0209");
    settle(&base).await;
    // A void after end of day is refused.
    let late_void = garanti
        .void(
            &pos,
            &VoidRequest {
                order_id: "RT-RFN-1",
            },
        )
        .await
        .unwrap();
    assert_declined(&late_void, "0202");

    assert_approved(&garanti.refund(&pos, &refund(2_500)).await.unwrap());
    let sync = garanti.sync_payment(&pos, "RT-RFN-1").await.unwrap();
    assert_state(&sync, BankOrderState::Refunded);
    let over = garanti.refund(&pos, &refund(7_501)).await.unwrap();
    assert_declined(&over, "0210");
    assert_approved(&garanti.refund(&pos, &refund(7_500)).await.unwrap());
    let credits = garanti.sync_refunds(&pos, "RT-RFN-1").await.unwrap();
    let approved: Vec<&BankCredit> = credits.iter().filter(|c| c.approved).collect();
    assert_eq!(
        approved.iter().map(|c| c.amount.get()).collect::<Vec<_>>(),
        vec![2_500, 7_500]
    );
    assert!(approved.iter().all(|c| c.transaction_id.is_some()));
    // The refused ones are listed too, not approved.
    assert_eq!(credits.iter().filter(|c| !c.approved).count(), 2);
    let nothing_left = garanti.refund(&pos, &refund(1)).await.unwrap();
    assert_declined(&nothing_left, "0210");
}

// ---------------------------------------------------------------------------------------
// 3D Secure through the simulator's pages

#[tokio::test]
async fn three_d_round_trip_then_provision() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let garanti = connector();
    let card = card("5258640000000001");

    let gate = garanti
        .threeds_form(
            &pos,
            &init(
                "RT-3D-1",
                ThreeDsModel::ThreeD,
                AuthorizeKind::Sale,
                Some(&card),
            ),
        )
        .await
        .unwrap();
    assert_eq!(gate.action, pos.threeds_url);
    let callback = browser
        .authenticate_3d_at(&gate, None, TEST_OTP, "/garanti/servlet/gt3dacs/")
        .await;
    let result = garanti
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert_eq!(result.order_id, "RT-3D-1");
    assert!(result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("1"));
    assert_eq!(result.amount, Some(try_(12_550)));
    assert_eq!(result.currency, Some(Currency::Try));
    assert_eq!(result.outcome, None);
    assert_eq!(result.auth.eci.as_deref(), Some("02"));
    assert!(result.auth.md.is_some() && result.auth.xid.is_some() && result.auth.cavv.is_some());

    let outcome = garanti
        .authorize_3d(&pos, &provision("RT-3D-1", AuthorizeKind::Sale, &result))
        .await
        .unwrap();
    assert_approved(&outcome);
    let sync = garanti.sync_payment(&pos, "RT-3D-1").await.unwrap();
    assert_state(&sync, BankOrderState::Captured);
    // The md is spent: a replay is refused and charges nothing more.
    let replay = garanti
        .authorize_3d(&pos, &provision("RT-3D-1", AuthorizeKind::Sale, &result))
        .await
        .unwrap();
    assert_declined(&replay, "0802");

    // A tampered callback is refused.
    let mut tampered = callback.fields.clone();
    for (k, v) in &mut tampered {
        if k == "mdstatus" {
            *v = "2".into();
        }
    }
    assert_eq!(
        garanti.parse_threeds_callback(&pos, &tampered),
        Err(CallbackError::BadSignature)
    );
    // An amount changed on the way is not taken for the signed one.
    let mut cheaper = callback.fields.clone();
    for (k, v) in &mut cheaper {
        if k == "txnamount" {
            *v = "100".into();
        }
    }
    assert_eq!(
        garanti
            .parse_threeds_callback(&pos, &cheaper)
            .unwrap()
            .amount,
        None
    );
}

#[tokio::test]
async fn three_d_pre_auth_then_capture_and_a_provision_for_other_terms_is_refused() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let garanti = connector();
    let card = card("4355084355084358");
    let gate = garanti
        .threeds_form(
            &pos,
            &init(
                "RT-3D-PRE",
                ThreeDsModel::ThreeD,
                AuthorizeKind::PreAuth,
                Some(&card),
            ),
        )
        .await
        .unwrap();
    let callback = browser
        .authenticate_3d_at(&gate, None, TEST_OTP, "/garanti/servlet/gt3dacs/")
        .await;
    let result = garanti
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert_eq!(result.auth.eci.as_deref(), Some("05"));
    // Another amount than the authenticated one is refused, and does not spend the md.
    let mut other = provision("RT-3D-PRE", AuthorizeKind::PreAuth, &result);
    other.amount = try_(12_551);
    assert_declined(&garanti.authorize_3d(&pos, &other).await.unwrap(), "0804");
    let outcome = garanti
        .authorize_3d(
            &pos,
            &provision("RT-3D-PRE", AuthorizeKind::PreAuth, &result),
        )
        .await
        .unwrap();
    assert_approved(&outcome);
    assert_state(
        &garanti.sync_payment(&pos, "RT-3D-PRE").await.unwrap(),
        BankOrderState::PreAuthorized,
    );
    let captured = garanti
        .capture(
            &pos,
            &CaptureRequest {
                order_id: "RT-3D-PRE",
                amount: try_(12_550),
                pre_auth_amount: try_(12_550),
                currency: Currency::Try,
            },
        )
        .await
        .unwrap();
    assert_approved(&captured);
}

#[tokio::test]
async fn three_d_wrong_otp_and_half_secure() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let garanti = connector();
    let card = card("5258640000000001");
    let gate = garanti
        .threeds_form(
            &pos,
            &init(
                "RT-3D-OTP",
                ThreeDsModel::ThreeD,
                AuthorizeKind::Sale,
                Some(&card),
            ),
        )
        .await
        .unwrap();
    let callback = browser
        .authenticate_3d_at(&gate, None, "654321", "/garanti/servlet/gt3dacs/")
        .await;
    let result = garanti
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(!result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("0"));
    assert_eq!(result.amount, Some(try_(12_550)));
    assert_eq!(result.message.as_deref(), Some("Not authenticated"));
    let refused = garanti
        .authorize_3d(&pos, &provision("RT-3D-OTP", AuthorizeKind::Sale, &result))
        .await
        .unwrap();
    assert_declined(&refused, "0803");

    // Card not enrolled (mdstatus 2): half secure, which Garanti's policy accepts.
    let half = self::card("4355080000002001");
    let gate = garanti
        .threeds_form(
            &pos,
            &init(
                "RT-3D-HALF",
                ThreeDsModel::ThreeD,
                AuthorizeKind::Sale,
                Some(&half),
            ),
        )
        .await
        .unwrap();
    let callback = browser
        .authenticate_3d_at(&gate, None, TEST_OTP, "/garanti/servlet/gt3dacs/")
        .await;
    let result = garanti
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("2"));
    assert_eq!(result.auth.eci.as_deref(), Some("06"));
    let outcome = garanti
        .authorize_3d(&pos, &provision("RT-3D-HALF", AuthorizeKind::Sale, &result))
        .await
        .unwrap();
    assert_approved(&outcome);
}

#[tokio::test]
async fn three_d_pay_round_trip_carries_the_outcome() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let garanti = connector();
    let card = card("4355084355084358");
    let gate = garanti
        .threeds_form(
            &pos,
            &init(
                "RT-PAY-1",
                ThreeDsModel::ThreeDPay,
                AuthorizeKind::Sale,
                Some(&card),
            ),
        )
        .await
        .unwrap();
    let callback = browser
        .authenticate_3d_at(&gate, None, TEST_OTP, "/garanti/servlet/gt3dacs/")
        .await;
    let result = garanti
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    assert_eq!(result.amount, Some(try_(12_550)));
    let Some(Outcome::Approved(approval)) = &result.outcome else {
        panic!("{:?}", result.outcome);
    };
    assert!(approval.auth_code.is_some() && approval.host_reference.is_some());
    match garanti.sync_payment(&pos, "RT-PAY-1").await.unwrap() {
        PaymentSync::Approved {
            approval: synced,
            state: BankOrderState::Captured,
        } => {
            assert_eq!(synced.auth_code, approval.auth_code);
            assert_eq!(synced.host_reference, approval.host_reference);
        }
        other => panic!("{other:?}"),
    }
    // It can be voided like any sale.
    assert_approved(
        &garanti
            .void(
                &pos,
                &VoidRequest {
                    order_id: "RT-PAY-1",
                },
            )
            .await
            .unwrap(),
    );

    // A decline card: authenticated, declined by the bank's provision.
    let declining = self::card("5100050000006661");
    let gate = garanti
        .threeds_form(
            &pos,
            &init(
                "RT-PAY-2",
                ThreeDsModel::ThreeDPay,
                AuthorizeKind::Sale,
                Some(&declining),
            ),
        )
        .await
        .unwrap();
    let callback = browser
        .authenticate_3d_at(&gate, None, TEST_OTP, "/garanti/servlet/gt3dacs/")
        .await;
    let result = garanti
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
    // System error at the ACS (mdstatus 7): not authenticated, nothing booked.
    let broken = self::card("4355080000007000");
    let gate = garanti
        .threeds_form(
            &pos,
            &init(
                "RT-PAY-3",
                ThreeDsModel::ThreeDPay,
                AuthorizeKind::Sale,
                Some(&broken),
            ),
        )
        .await
        .unwrap();
    let callback = browser
        .authenticate_3d_at(&gate, None, TEST_OTP, "/garanti/servlet/gt3dacs/")
        .await;
    let result = garanti
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(!result.authenticated);
    assert!(matches!(
        &result.outcome,
        Some(Outcome::Declined(Decline {
            group: ErrorGroup::ThreedsAuthenticationFailed,
            ..
        }))
    ));
    assert_eq!(
        garanti.sync_payment(&pos, "RT-PAY-3").await.unwrap(),
        PaymentSync::NotFound
    );
}

#[tokio::test]
async fn three_d_host_round_trip_collects_the_card_at_the_bank() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let garanti = connector();
    let gate = garanti
        .threeds_form(
            &pos,
            &init(
                "RT-HOST-1",
                ThreeDsModel::ThreeDHost,
                AuthorizeKind::PreAuth,
                None,
            ),
        )
        .await
        .unwrap();
    assert!(gate.fields.iter().all(|(k, _)| k != "cardnumber"));
    let callback = browser
        .authenticate_3d_at(
            &gate,
            Some("4355084355084358"),
            TEST_OTP,
            "/garanti/servlet/gt3dacs/",
        )
        .await;
    let result = garanti
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    assert_eq!(result.amount, Some(try_(12_550)));
    assert!(
        matches!(result.outcome, Some(Outcome::Approved(_))),
        "{:?}",
        result.outcome
    );
    assert_state(
        &garanti.sync_payment(&pos, "RT-HOST-1").await.unwrap(),
        BankOrderState::PreAuthorized,
    );
}
