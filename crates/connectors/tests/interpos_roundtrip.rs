//! The InterPos connector against the InterPos simulator over loopback, for every capability
//! the connector declares: sale, pre-auth + post-auth, void, partial refunds after end of
//! day, status and refunded total, and each 3D model driven through the ACS page as a
//! shopper's browser would (gate form → challenge page → auto-submitting callback →
//! `parse_threeds_callback` → `authorize_3d` for `3d`).

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use bank_sim::page_form::form_of;
use connectors::interpos::Interpos;
use connectors::{
    AuthorizeKind, BankCredit, BankOrderState, CaptureRequest, Connector, ConnectorError, Outcome,
    PaymentSync, PosConfig, RefundRequest, ThreeDsModel, VoidRequest,
};
use domain::card::Expiry;
use domain::enums::{ErrorGroup, PosIntegrator};
use domain::money::Currency;
use domain::secret::Secret;
use serde_json::{Value, json};

use support::*;

const SHOP: &str = "3123";

/// The bank's public test shop (`vpos-test-vectors.md` §6), preloaded in every simulator.
fn pos(base: &str) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Denizbank,
        api_url: format!("{base}/interpos/mpi/Default.aspx"),
        threeds_url: format!("{base}/interpos/mpi/Default.aspx"),
        client_id: SHOP.into(),
        terminal_id: None,
        username: "InterTestApi".into(),
        password: Secret::new("3"),
        store_key: Some(Secret::new("gDg1N")),
        timeout: Duration::from_secs(10),
    }
}

fn connector() -> Interpos {
    Interpos::new(connectors::http::client().unwrap())
}

async fn admin(base: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    sim_admin(base, "interpos", method, path, body).await
}

async fn settle(base: &str) {
    admin(base, "POST", "settle", Some(json!({ "clientId": SHOP }))).await;
}

async fn sim_order(base: &str, order_id: &str) -> Value {
    admin(base, "GET", &format!("orders/{SHOP}/{order_id}"), None).await
}

// ---------------------------------------------------------------------------------------
// API

#[tokio::test]
async fn sale_status_void() {
    let base = serve().await;
    let pos = pos(&base);
    let interpos = connector();
    let card = card("5258640000000001");

    let outcome = interpos
        .authorize(&pos, &authorize("rt-sale-1", AuthorizeKind::Sale, &card))
        .await
        .unwrap();
    let Outcome::Approved(approval) = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(approval.auth_code.as_deref().map(str::len), Some(6));
    assert_eq!(approval.host_reference.as_deref().map(str::len), Some(12));
    assert!(approval.transaction_id.is_some());

    match interpos.sync_payment(&pos, "rt-sale-1").await.unwrap() {
        PaymentSync::Approved {
            approval: synced,
            state,
        } => {
            assert_eq!(state, BankOrderState::Captured);
            assert_eq!(synced.auth_code, approval.auth_code);
            assert_eq!(synced.transaction_id, approval.transaction_id);
        }
        other => panic!("{other:?}"),
    }
    let void = VoidRequest {
        order_id: "rt-sale-1",
    };
    approved(&interpos.void(&pos, &void).await.unwrap());
    assert_eq!(
        state_of(interpos.sync_payment(&pos, "rt-sale-1").await.unwrap()),
        BankOrderState::Voided
    );
    // Voided once: a second void is refused.
    let decline = decline_of(interpos.void(&pos, &void).await.unwrap());
    assert_eq!(
        (decline.code.as_str(), decline.group),
        ("E31", ErrorGroup::InvalidTransaction)
    );
    assert_eq!(sim_order(&base, "rt-sale-1").await["status"], "Voided");
}

#[tokio::test]
async fn stored_card_without_cvc_and_every_scheme_are_charged() {
    let base = serve().await;
    let interpos = connector();
    let mut stored = card("5258640000000001");
    stored.cvc = None;
    approved(
        &interpos
            .authorize(
                &pos(&base),
                &authorize("rt-cof-1", AuthorizeKind::Sale, &stored),
            )
            .await
            .unwrap(),
    );
    // Visa, Amex and Troy cards carry their own CardType, which the bank checks.
    for (order_id, pan) in [
        ("rt-visa", "4155650100416111"),
        ("rt-amex", "374245455400126"),
        ("rt-troy", "9792030394440796"),
    ] {
        approved(
            &interpos
                .authorize(
                    &pos(&base),
                    &authorize(order_id, AuthorizeKind::Sale, &card(pan)),
                )
                .await
                .unwrap(),
        );
    }
}

#[tokio::test]
async fn installments_and_other_currencies() {
    let base = serve().await;
    let interpos = connector();
    let card = card("5258640000000001");
    let mut request = authorize("rt-inst-1", AuthorizeKind::Sale, &card);
    request.installment = 6;
    approved(&interpos.authorize(&pos(&base), &request).await.unwrap());
    assert_eq!(sim_order(&base, "rt-inst-1").await["installment"], 6);
    // Installments are for the lira only: the bank refuses them in euros.
    let mut request = authorize("rt-inst-2", AuthorizeKind::Sale, &card);
    request.installment = 3;
    request.currency = Currency::Eur;
    assert_eq!(
        decline_of(interpos.authorize(&pos(&base), &request).await.unwrap()).code,
        "E31"
    );
    request.installment = 1;
    approved(&interpos.authorize(&pos(&base), &request).await.unwrap());
    assert_eq!(sim_order(&base, "rt-inst-2").await["currency"], "EUR");
}

#[tokio::test]
async fn pre_auth_then_post_auth() {
    let base = serve().await;
    let pos = pos(&base);
    let interpos = connector();
    let card = card("4155650100416111");
    approved(
        &interpos
            .authorize(&pos, &authorize("rt-pre-1", AuthorizeKind::PreAuth, &card))
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(interpos.sync_payment(&pos, "rt-pre-1").await.unwrap()),
        BankOrderState::PreAuthorized
    );
    let capture = |amount| CaptureRequest {
        order_id: "rt-pre-1",
        amount: try_(amount),
        pre_auth_amount: try_(12_550),
        currency: Currency::Try,
    };
    // Above the pre-authorised amount: refused, nothing captured.
    let decline = decline_of(interpos.capture(&pos, &capture(12_551)).await.unwrap());
    assert_eq!(decline.code, "E31");
    approved(&interpos.capture(&pos, &capture(10_000)).await.unwrap());
    assert_eq!(
        state_of(interpos.sync_payment(&pos, "rt-pre-1").await.unwrap()),
        BankOrderState::Captured
    );
    assert_eq!(sim_order(&base, "rt-pre-1").await["capturedMinor"], 10_000);
    // Post-auth once.
    assert_eq!(
        decline_of(interpos.capture(&pos, &capture(10_000)).await.unwrap()).code,
        "E31"
    );
    // A captured pre-auth is voided whole, the same day.
    approved(
        &interpos
            .void(
                &pos,
                &VoidRequest {
                    order_id: "rt-pre-1",
                },
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(interpos.sync_payment(&pos, "rt-pre-1").await.unwrap()),
        BankOrderState::Voided
    );
}

#[tokio::test]
async fn partial_refunds_after_end_of_day() {
    let base = serve().await;
    let pos = pos(&base);
    let interpos = connector();
    let card = card("5258640000000001");
    approved(
        &interpos
            .authorize(&pos, &authorize("rt-ref-1", AuthorizeKind::Sale, &card))
            .await
            .unwrap(),
    );
    let refund = |amount| RefundRequest {
        order_id: "rt-ref-1",
        amount: try_(amount),
        currency: Currency::Try,
    };
    // Same day: the bank wants a void instead.
    let decline = decline_of(interpos.refund(&pos, &refund(5_000)).await.unwrap());
    assert_eq!(decline.code, "E31");
    assert!(decline.message.contains("iptal"), "{}", decline.message);
    assert_eq!(interpos.sync_refunds(&pos, "rt-ref-1").await.unwrap(), []);
    settle(&base).await;
    // After end of day a void is refused and a refund goes through.
    assert_eq!(
        decline_of(
            interpos
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
        "E31"
    );
    approved(&interpos.refund(&pos, &refund(5_000)).await.unwrap());
    assert_eq!(
        state_of(interpos.sync_payment(&pos, "rt-ref-1").await.unwrap()),
        BankOrderState::Refunded
    );
    assert_eq!(
        interpos.sync_refunds(&pos, "rt-ref-1").await.unwrap(),
        [BankCredit {
            amount: try_(5_000),
            approved: true,
            transaction_id: None,
        }]
    );
    // Never above what is left.
    assert_eq!(
        decline_of(interpos.refund(&pos, &refund(7_551)).await.unwrap()).code,
        "E31"
    );
    approved(&interpos.refund(&pos, &refund(7_550)).await.unwrap());
    // InterPos reports the refunded total only.
    let credits = interpos.sync_refunds(&pos, "rt-ref-1").await.unwrap();
    assert_eq!(
        credits
            .iter()
            .map(|c| (c.amount.get(), c.approved))
            .collect::<Vec<_>>(),
        [(12_550, true)]
    );
    let order = sim_order(&base, "rt-ref-1").await;
    assert_eq!(order["status"], "Refunded");
    assert_eq!(order["refundedMinor"], 12_550);
}

#[tokio::test]
async fn declines_unknown_orders_and_bad_credentials() {
    let base = serve().await;
    let pos = pos(&base);
    let interpos = connector();

    let declining = card("5100050000006661");
    let decline = decline_of(
        interpos
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
    match interpos.sync_payment(&pos, "rt-dec-1").await.unwrap() {
        PaymentSync::Declined(d) => assert_eq!(d.code, "51"),
        other => panic!("{other:?}"),
    }
    assert_eq!(interpos.sync_refunds(&pos, "rt-dec-1").await.unwrap(), []);

    let good = card("5258640000000001");
    approved(
        &interpos
            .authorize(&pos, &authorize("rt-dup-1", AuthorizeKind::Sale, &good))
            .await
            .unwrap(),
    );
    let decline = decline_of(
        interpos
            .authorize(&pos, &authorize("rt-dup-1", AuthorizeKind::Sale, &good))
            .await
            .unwrap(),
    );
    assert_eq!(decline.code, "E31");

    assert_eq!(
        interpos.sync_payment(&pos, "rt-none").await.unwrap(),
        PaymentSync::NotFound
    );
    assert_eq!(interpos.sync_refunds(&pos, "rt-none").await.unwrap(), []);
    assert_eq!(
        decline_of(
            interpos
                .void(
                    &pos,
                    &VoidRequest {
                        order_id: "rt-none"
                    }
                )
                .await
                .unwrap()
        )
        .code,
        "E39"
    );

    let mut wrong = pos.clone();
    wrong.password = Secret::new("nope");
    let decline = decline_of(
        interpos
            .authorize(&wrong, &authorize("rt-bad-1", AuthorizeKind::Sale, &good))
            .await
            .unwrap(),
    );
    assert_eq!(
        (decline.group, decline.code.as_str()),
        (ErrorGroup::InvalidMerchantOrPos, "81")
    );
    // A failed sign-in says nothing about the order: the inquiry is asked again.
    assert!(matches!(
        interpos.sync_payment(&wrong, "rt-dup-1").await,
        Err(ConnectorError::BadResponse(_))
    ));
    assert!(matches!(
        interpos.sync_refunds(&wrong, "rt-dup-1").await,
        Err(ConnectorError::BadResponse(_))
    ));
    // An unknown shop: the real "Terminal Aktif Degil" answer.
    let mut unknown = pos.clone();
    unknown.client_id = "9999".into();
    let decline = decline_of(
        interpos
            .authorize(&unknown, &authorize("rt-bad-2", AuthorizeKind::Sale, &good))
            .await
            .unwrap(),
    );
    assert_eq!(
        (decline.code.as_str(), decline.message.as_str()),
        ("81", "Terminal Aktif Degil")
    );
}

#[tokio::test]
async fn expired_and_every_decline_card_are_declined_with_their_codes() {
    let base = serve().await;
    let pos = pos(&base);
    let interpos = connector();
    let mut expired = card("5258640000000001");
    expired.expiry = Expiry::parse("01", "2020").unwrap();
    let decline = decline_of(
        interpos
            .authorize(&pos, &authorize("rt-exp-1", AuthorizeKind::Sale, &expired))
            .await
            .unwrap(),
    );
    assert_eq!(
        (decline.group, decline.code.as_str()),
        (ErrorGroup::ExpiredCard, "54")
    );
    for (i, (pan, expected)) in [
        ("5100560000006669", ErrorGroup::DoNotHonour),
        ("5101380000006661", ErrorGroup::InvalidTransaction),
        ("5101510000006663", ErrorGroup::NotPermittedToCardholder),
        ("5101520000006662", ErrorGroup::StolenCard),
    ]
    .into_iter()
    .enumerate()
    {
        let order_id = format!("rt-dc-{i}");
        let decline = decline_of(
            interpos
                .authorize(&pos, &authorize(&order_id, AuthorizeKind::Sale, &card(pan)))
                .await
                .unwrap(),
        );
        assert_eq!(decline.group, expected, "{pan}");
    }
}

#[tokio::test]
async fn faults_leave_the_outcome_unknown_and_status_settles_it() {
    let base = serve().await;
    faults_leave_the_outcome_unknown(
        &connector(),
        pos(&base),
        &base,
        "interpos",
        SHOP,
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
    let interpos = connector();
    let card = card("5258640000000001");

    let gate = interpos
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
    assert_eq!(get(&callback.fields, "ProcReturnCode"), "");
    assert_eq!(get(&callback.fields, "PurchAmount"), "125,5");
    assert_eq!(get(&callback.fields, "Pan"), "525864******0001");

    let result = interpos
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert_eq!(result.order_id, "rt-3d-1");
    assert!(result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("1"));
    assert_eq!(result.amount, Some(try_(12_550)));
    assert_eq!(result.currency, Some(Currency::Try));
    assert_eq!(result.outcome, None);
    assert!(result.auth.md.is_some());
    assert_eq!(result.auth.eci.as_deref(), Some("02"));

    // The provision must repeat what was authenticated: another amount is refused.
    let mut other_amount = provision("rt-3d-1", AuthorizeKind::Sale, &result);
    other_amount.amount = try_(12_551);
    assert_eq!(
        decline_of(interpos.authorize_3d(&pos, &other_amount).await.unwrap()).code,
        "E31"
    );
    // So are forged 3D values.
    let mut forged = result.clone();
    forged.auth.cavv = Some("AAAAAAAAAAAAAAAAAAAAAAAAAAA=".into());
    assert_eq!(
        decline_of(
            interpos
                .authorize_3d(&pos, &provision("rt-3d-1", AuthorizeKind::Sale, &forged))
                .await
                .unwrap()
        )
        .code,
        "E31"
    );

    let outcome = interpos
        .authorize_3d(&pos, &provision("rt-3d-1", AuthorizeKind::Sale, &result))
        .await
        .unwrap();
    approved(&outcome);
    assert_eq!(
        state_of(interpos.sync_payment(&pos, "rt-3d-1").await.unwrap()),
        BankOrderState::Captured
    );
    // The MD is spent: a replay is refused and charges nothing more.
    let replay = decline_of(
        interpos
            .authorize_3d(&pos, &provision("rt-3d-1", AuthorizeKind::Sale, &result))
            .await
            .unwrap(),
    );
    assert_eq!(replay.code, "E31");
    assert_eq!(
        sim_order(&base, "rt-3d-1").await["transactions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A tampered callback is refused.
    let mut tampered = callback.fields.clone();
    for (k, v) in &mut tampered {
        if k == "PurchAmount" {
            *v = "1,00".into();
        }
    }
    assert!(interpos.parse_threeds_callback(&pos, &tampered).is_err());
    // And another shop's key does not verify it.
    let mut other = pos.clone();
    other.store_key = Some(Secret::new("SANDBOXKEYD"));
    assert!(
        interpos
            .parse_threeds_callback(&other, &callback.fields)
            .is_err()
    );
}

#[tokio::test]
async fn three_d_pre_auth_then_capture() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let interpos = connector();
    let card = card("4355084355084358");
    let gate = interpos
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
    let result = interpos
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    assert_eq!(result.auth.eci.as_deref(), Some("05"));
    // The type must be the authenticated one too.
    assert_eq!(
        decline_of(
            interpos
                .authorize_3d(&pos, &provision("rt-3d-pre", AuthorizeKind::Sale, &result))
                .await
                .unwrap()
        )
        .code,
        "E31"
    );
    approved(
        &interpos
            .authorize_3d(
                &pos,
                &provision("rt-3d-pre", AuthorizeKind::PreAuth, &result),
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(interpos.sync_payment(&pos, "rt-3d-pre").await.unwrap()),
        BankOrderState::PreAuthorized
    );
    approved(
        &interpos
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
async fn three_d_wrong_otp_and_forced_statuses() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let interpos = connector();
    for (order_id, pan, otp, status, authenticated) in [
        ("rt-3d-otp", "5258640000000001", "654321", "0", false),
        ("rt-3d-s0", "5406670000000009", TEST_OTP, "0", false),
        ("rt-3d-s5", "4355080000005004", TEST_OTP, "5", false),
        ("rt-3d-s7", "5406670000007004", TEST_OTP, "7", false),
        ("rt-3d-s4", "4355080000004007", TEST_OTP, "4", true),
        ("rt-3d-s2", "5406670000002005", TEST_OTP, "2", true),
    ] {
        let card = card(pan);
        let gate = interpos
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
        let result = interpos
            .parse_threeds_callback(&pos, &callback.fields)
            .unwrap();
        assert_eq!(result.authenticated, authenticated, "{order_id}");
        assert_eq!(result.md_status.as_deref(), Some(status));
        assert_eq!(result.outcome, None);
        let answer = interpos
            .authorize_3d(&pos, &provision(order_id, AuthorizeKind::Sale, &result))
            .await
            .unwrap();
        if authenticated {
            // Half secure (2, 4) is provisioned, as the bank's policy allows.
            approved(&answer);
        } else {
            assert_eq!(
                result.message.as_deref(),
                Some("3D Secure dogrulamasi basarisiz")
            );
            assert_eq!(decline_of(answer).code, "E31");
            assert_eq!(
                interpos.sync_payment(&pos, order_id).await.unwrap(),
                PaymentSync::NotFound
            );
        }
    }
}

#[tokio::test]
async fn three_d_pay_round_trip_carries_the_outcome() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let interpos = connector();
    let card = card("4355084355084358");
    let gate = interpos
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
    assert_eq!(get(&gate.fields, "SecureType"), "3DPay");
    let callback = browser.authenticate_3d(&gate, None, TEST_OTP).await;
    assert_eq!(get(&callback.fields, "Response"), "Approved");
    let result = interpos
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    assert_eq!(result.amount, Some(try_(12_550)));
    let Some(Outcome::Approved(approval)) = &result.outcome else {
        panic!("{:?}", result.outcome);
    };
    assert!(approval.auth_code.is_some() && approval.host_reference.is_some());
    match interpos.sync_payment(&pos, "rt-pay-1").await.unwrap() {
        PaymentSync::Approved {
            approval: synced,
            state: BankOrderState::Captured,
        } => assert_eq!(synced.auth_code, approval.auth_code),
        other => panic!("{other:?}"),
    }

    // A decline card: authenticated, declined by the bank's provision.
    let declining = self::card("5100050000006661");
    let gate = interpos
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
    let result = interpos
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    let decline = decline_of(result.outcome.unwrap());
    assert_eq!(
        (decline.group, decline.code.as_str()),
        (ErrorGroup::NotSufficientFunds, "51")
    );

    // A failed authentication (wrong OTP): nothing booked, no outcome to read.
    let plain = self::card("5258640000000001");
    let gate = interpos
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
    let result = interpos
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(!result.authenticated);
    assert_eq!(result.outcome, None);
    assert_eq!(
        interpos.sync_payment(&pos, "rt-pay-3").await.unwrap(),
        PaymentSync::NotFound
    );
}

#[tokio::test]
async fn three_d_host_round_trip_collects_the_card_at_the_bank() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let interpos = connector();
    let gate = interpos
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
    assert_eq!(gate.action, format!("{base}/interpos/mpi/3DHost.aspx"));
    assert!(gate.fields.iter().all(|(k, _)| k != "Pan"));
    let callback = browser
        .authenticate_3d(&gate, Some("4155650100416111"), TEST_OTP)
        .await;
    let result = interpos
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    approved(result.outcome.as_ref().unwrap());
    assert_eq!(
        state_of(interpos.sync_payment(&pos, "rt-host-1").await.unwrap()),
        BankOrderState::PreAuthorized
    );
}

#[tokio::test]
async fn gate_refusal_is_signed_and_read() {
    let base = serve().await;
    let pos = pos(&base);
    let browser = Browser::new(&base);
    let interpos = connector();
    let card = card("5258640000000001");
    approved(
        &interpos
            .authorize(&pos, &authorize("rt-gate-dup", AuthorizeKind::Sale, &card))
            .await
            .unwrap(),
    );
    // The gate refuses a used order id at once, posting back to the fail URL.
    let gate = interpos
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
    let callback = form_of(&browser.post(&gate.action, &gate.fields).await);
    assert_eq!(callback.action, CALLBACK_URL);
    assert_eq!(get(&callback.fields, "ProcReturnCode"), "E31");
    let result = interpos
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(!result.authenticated);
    assert_eq!(
        result.message.as_deref(),
        Some("Siparis numarasi daha once kullanilmis")
    );
    // A form signed with the wrong key is refused the same way.
    let mut wrong = pos.clone();
    wrong.store_key = Some(Secret::new("not-the-key"));
    let gate = interpos
        .threeds_form(
            &wrong,
            &init(
                "rt-gate-key",
                ThreeDsModel::ThreeD,
                AuthorizeKind::Sale,
                Some(&card),
            ),
        )
        .await
        .unwrap();
    let callback = form_of(&browser.post(&gate.action, &gate.fields).await);
    assert_eq!(get(&callback.fields, "ErrorMessage"), "Hash degeri hatali");
    assert!(
        interpos
            .parse_threeds_callback(&pos, &callback.fields)
            .is_ok()
    );
}

#[tokio::test]
async fn three_d_works_when_the_simulator_is_nested() {
    let base = serve_at("/sim").await;
    let pos = pos(&base);
    assert!(pos.threeds_url.contains("/sim/interpos/mpi/Default.aspx"));
    let browser = Browser::new(&base);
    let interpos = connector();
    let card = card("5258640000000001");
    let gate = interpos
        .threeds_form(
            &pos,
            &init(
                "rt-nest-3d",
                ThreeDsModel::ThreeD,
                AuthorizeKind::Sale,
                Some(&card),
            ),
        )
        .await
        .unwrap();
    let page = browser.post(&gate.action, &gate.fields).await;
    let challenge = form_of(&page);
    assert!(
        challenge.action.starts_with("/sim/interpos/mpi/Acs/"),
        "{}",
        challenge.action
    );
    let answer =
        [("otp", TEST_OTP), ("action", "confirm")].map(|(k, v)| (k.to_owned(), v.to_owned()));
    let callback = form_of(&browser.post(&challenge.action, &answer).await);
    let result = interpos
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert!(result.authenticated);
    approved(
        &interpos
            .authorize_3d(&pos, &provision("rt-nest-3d", AuthorizeKind::Sale, &result))
            .await
            .unwrap(),
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
