//! The Kuveyt Türk connector against the Kuveyt Türk simulator over loopback, for every
//! capability the connector declares: sale, cancel, full and partial refunds after end of
//! day, status and refunded total, declines, faults, and the `3d` model driven as a
//! shopper's browser would (server-side enrolment → the bank's form → challenge page →
//! auto-submitting `AuthenticationResponse` → `parse_threeds_callback` → `authorize_3d`).

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use connectors::kuveyt::Kuveyt;
use connectors::{
    AuthorizeKind, AuthorizeRequest, BankOrderState, Connector, ConnectorError, Outcome,
    PaymentSync, PosConfig, RefundRequest, ThreeDsAuthData, ThreeDsAuthorizeRequest,
    ThreeDsInitRequest, ThreeDsModel, ThreeDsResult, VoidRequest,
};
use domain::card::{CardDetails, Expiry};
use domain::enums::{ErrorGroup, PosIntegrator};
use domain::money::Currency;
use domain::secret::Secret;
use serde_json::{Value, json};

use support::*;

const MERCHANT: &str = "80";

/// The bank's public test merchant (`vpos-test-vectors.md` §7), preloaded in every
/// simulator.
fn pos(base: &str) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Kuveytturk,
        api_url: format!("{base}/kuveyt/boa.virtualpos.services/Home"),
        threeds_url: format!("{base}/kuveyt/boa.virtualpos.services/Home/ThreeDModelPayGate"),
        client_id: MERCHANT.into(),
        terminal_id: Some("400235".into()),
        username: "apiuser".into(),
        password: Secret::new("Api123"),
        store_key: None,
        timeout: Duration::from_secs(10),
    }
}

const VISA: &str = "4155650100416111";

fn connector() -> Kuveyt {
    Kuveyt::new(connectors::http::client().unwrap())
}

fn sale<'a>(order_id: &'a str, card: &'a CardDetails) -> AuthorizeRequest<'a> {
    AuthorizeRequest {
        order_id,
        kind: AuthorizeKind::Sale,
        amount: try_(12_550),
        currency: Currency::Try,
        installment: 1,
        card,
        client_ip: Some("203.0.113.7"),
    }
}

fn refund(order_id: &str, minor: i64) -> RefundRequest<'_> {
    RefundRequest {
        order_id,
        amount: try_(minor),
        currency: Currency::Try,
    }
}

async fn admin(base: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    sim_admin(base, "kuveyt", method, path, body).await
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

async fn fault(base: &str, mode: &str, delay_ms: u64) {
    admin(
        base,
        "POST",
        "faults",
        Some(json!({ "clientId": MERCHANT, "mode": mode, "delayMs": delay_ms })),
    )
    .await;
}

#[tokio::test]
async fn sale_status_void() {
    let base = serve().await;
    let (kuveyt, pos) = (connector(), pos(&base));
    let card = card(VISA);
    let outcome = kuveyt
        .authorize(&pos, &sale("KTSALE1", &card))
        .await
        .unwrap();
    let Outcome::Approved(approval) = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(approval.auth_code.as_deref().map(str::len), Some(6));
    assert_eq!(approval.host_reference.as_deref().map(str::len), Some(12));
    let order = sim_order(&base, "KTSALE1").await;
    assert_eq!(order["status"], "Captured");
    assert_eq!(order["amountMinor"], 12_550);
    assert_eq!(order["pan"], "415565******6111");
    match kuveyt.sync_payment(&pos, "KTSALE1").await.unwrap() {
        PaymentSync::Approved {
            approval: synced,
            state,
        } => {
            assert_eq!(state, BankOrderState::Captured);
            assert_eq!(&synced, approval);
        }
        other => panic!("{other:?}"),
    }
    approved(
        &kuveyt
            .void(
                &pos,
                &VoidRequest {
                    order_id: "KTSALE1",
                },
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(kuveyt.sync_payment(&pos, "KTSALE1").await.unwrap()),
        BankOrderState::Voided
    );
    assert_eq!(sim_order(&base, "KTSALE1").await["status"], "Voided");
    // A second cancel: "already cancelled" (P7.18's code).
    let again = decline_of(
        kuveyt
            .void(
                &pos,
                &VoidRequest {
                    order_id: "KTSALE1",
                },
            )
            .await
            .unwrap(),
    );
    assert_eq!(again.code, "21");
    // A cancelled order cannot be refunded (P7.20's code), even after end of day.
    settle(&base).await;
    let refused = decline_of(kuveyt.refund(&pos, &refund("KTSALE1", 100)).await.unwrap());
    assert_eq!(
        (refused.code.as_str(), refused.group),
        ("28", ErrorGroup::InvalidTransaction)
    );
    // The same order id cannot be charged twice.
    let duplicate = decline_of(
        kuveyt
            .authorize(&pos, &sale("KTSALE1", &card))
            .await
            .unwrap(),
    );
    assert_eq!(duplicate.code, "InvalidRequestError");
}

#[tokio::test]
async fn refunds_only_after_end_of_day_never_above_the_sale() {
    let base = serve().await;
    let (kuveyt, pos) = (connector(), pos(&base));
    let card = card("5188961939192544");
    approved(
        &kuveyt
            .authorize(&pos, &sale("KTREFUND1", &card))
            .await
            .unwrap(),
    );
    // Same day: the bank wants a cancel (P7.22).
    let early = decline_of(
        kuveyt
            .refund(&pos, &refund("KTREFUND1", 2_500))
            .await
            .unwrap(),
    );
    assert_eq!(early.code, "DbLayerError");
    settle(&base).await;
    // After end of day a cancel is refused (S7.11).
    let late = decline_of(
        kuveyt
            .void(
                &pos,
                &VoidRequest {
                    order_id: "KTREFUND1",
                },
            )
            .await
            .unwrap(),
    );
    assert_eq!(late.code, "InvalidRequestError");
    approved(
        &kuveyt
            .refund(&pos, &refund("KTREFUND1", 2_500))
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(kuveyt.sync_payment(&pos, "KTREFUND1").await.unwrap()),
        BankOrderState::Refunded
    );
    let credits = kuveyt.sync_refunds(&pos, "KTREFUND1").await.unwrap();
    assert_eq!(credits.len(), 1);
    assert_eq!(credits[0].amount, try_(2_500));
    let over = decline_of(
        kuveyt
            .refund(&pos, &refund("KTREFUND1", 10_051))
            .await
            .unwrap(),
    );
    assert_eq!(over.code, "InvalidRequestError");
    approved(
        &kuveyt
            .refund(&pos, &refund("KTREFUND1", 10_050))
            .await
            .unwrap(),
    );
    let credits = kuveyt.sync_refunds(&pos, "KTREFUND1").await.unwrap();
    assert_eq!(credits[0].amount, try_(12_550));
    let order = sim_order(&base, "KTREFUND1").await;
    assert_eq!(order["status"], "Refunded");
    let kinds: Vec<&str> = order["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["approved"] == true)
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Sale", "PartialDrawback", "PartialDrawback"]);
    let nothing_left = decline_of(kuveyt.refund(&pos, &refund("KTREFUND1", 1)).await.unwrap());
    assert_eq!(nothing_left.code, "InvalidRequestError");
}

#[tokio::test]
async fn a_whole_refund_is_a_drawback() {
    let base = serve().await;
    let (kuveyt, pos) = (connector(), pos(&base));
    let card = card(VISA);
    approved(
        &kuveyt
            .authorize(&pos, &sale("KTDRAWBACK", &card))
            .await
            .unwrap(),
    );
    settle(&base).await;
    approved(
        &kuveyt
            .refund(&pos, &refund("KTDRAWBACK", 12_550))
            .await
            .unwrap(),
    );
    let order = sim_order(&base, "KTDRAWBACK").await;
    assert_eq!(order["transactions"][1]["type"], "DrawBack");
    assert_eq!(order["refundedMinor"], 12_550);
}

#[tokio::test]
async fn installments_and_currencies() {
    let base = serve().await;
    let (kuveyt, pos) = (connector(), pos(&base));
    let card = card(VISA);
    let mut request = sale("KTINST3", &card);
    request.installment = 3;
    approved(&kuveyt.authorize(&pos, &request).await.unwrap());
    assert_eq!(sim_order(&base, "KTINST3").await["installment"], 3);
    let mut request = sale("KTUSD", &card);
    request.currency = Currency::Usd;
    approved(&kuveyt.authorize(&pos, &request).await.unwrap());
    assert_eq!(sim_order(&base, "KTUSD").await["currency"], "USD");
    let mut request = sale("KTUSDINST", &card);
    request.currency = Currency::Eur;
    request.installment = 3;
    let refused = decline_of(kuveyt.authorize(&pos, &request).await.unwrap());
    assert_eq!(refused.code, "InvalidRequestError");
    let mut request = sale("KTGBP", &card);
    request.currency = Currency::Gbp;
    let error = kuveyt.authorize(&pos, &request).await.unwrap_err();
    assert!(error.nothing_was_sent(), "{error}");
}

#[tokio::test]
async fn declines_unknown_orders_and_bad_credentials() {
    let base = serve().await;
    let (kuveyt, pos) = (connector(), pos(&base));
    let card = card(VISA);
    assert_eq!(
        kuveyt.sync_payment(&pos, "KTNOSUCHORDER").await.unwrap(),
        PaymentSync::NotFound
    );
    assert!(
        kuveyt
            .sync_refunds(&pos, "KTNOSUCHORDER")
            .await
            .unwrap()
            .is_empty()
    );
    let void = decline_of(
        kuveyt
            .void(
                &pos,
                &VoidRequest {
                    order_id: "KTNOSUCHORDER",
                },
            )
            .await
            .unwrap(),
    );
    assert_eq!(void.code, "OrderDataNotFound");
    let mut wrong = pos.clone();
    wrong.password = Secret::new("wrong");
    let decline = decline_of(
        kuveyt
            .authorize(&wrong, &sale("KTBADPASS", &card))
            .await
            .unwrap(),
    );
    assert_eq!(
        (decline.code.as_str(), decline.group),
        ("HashDataError", ErrorGroup::InvalidMerchantOrPos)
    );
    // A status inquiry that fails proves nothing about the order.
    assert!(matches!(
        kuveyt.sync_payment(&wrong, "KTBADPASS").await,
        Err(ConnectorError::BadResponse(_))
    ));
    let mut wrong = pos.clone();
    wrong.terminal_id = Some("999999".into());
    let decline = decline_of(
        kuveyt
            .authorize(&wrong, &sale("KTBADCUST", &card))
            .await
            .unwrap(),
    );
    assert_eq!(decline.code, "MerchantNotDefined");
    let mut wrong = pos.clone();
    wrong.username = "nobody".into();
    let decline = decline_of(
        kuveyt
            .authorize(&wrong, &sale("KTBADUSER", &card))
            .await
            .unwrap(),
    );
    assert_eq!(decline.code, "ApiUserNotDefined");
    let mut request = sale("KTPREAUTH", &card);
    request.kind = AuthorizeKind::PreAuth;
    assert!(matches!(
        kuveyt.authorize(&pos, &request).await,
        Err(ConnectorError::Unsupported { .. })
    ));
}

#[tokio::test]
async fn expired_and_every_decline_card_are_declined_with_their_codes() {
    let base = serve().await;
    let (kuveyt, pos) = (connector(), pos(&base));
    for (n, (pan, expected)) in bank_sim::nestpay::codes::decline_cards().enumerate() {
        let card = card(pan);
        let order_id = format!("KTDECLINE{n}");
        let decline = decline_of(
            kuveyt
                .authorize(&pos, &sale(&order_id, &card))
                .await
                .unwrap(),
        );
        assert_eq!(decline.code, expected.code, "{pan}");
        assert_eq!(decline.message, expected.message, "{pan}");
        // The bank keeps the declined order: the status inquiry says so.
        assert!(matches!(
            kuveyt.sync_payment(&pos, &order_id).await.unwrap(),
            PaymentSync::Declined(_)
        ));
    }
    let mut expired = card(VISA);
    expired.expiry = Expiry::parse("01", "2020").unwrap();
    let decline = decline_of(
        kuveyt
            .authorize(&pos, &sale("KTEXPIRED", &expired))
            .await
            .unwrap(),
    );
    assert_eq!(
        (decline.code.as_str(), decline.group),
        ("54", ErrorGroup::ExpiredCard)
    );
}

#[tokio::test]
async fn faults_leave_the_outcome_unknown_and_status_settles_it() {
    let base = serve().await;
    let kuveyt = connector();
    let mut pos = pos(&base);
    pos.timeout = Duration::from_millis(800);
    let card = card(VISA);

    fault(&base, "drop_before", 0).await;
    let error = kuveyt
        .authorize(&pos, &sale("KTDROPB", &card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Transport(_)), "{error}");
    assert_eq!(
        kuveyt.sync_payment(&pos, "KTDROPB").await.unwrap(),
        PaymentSync::NotFound
    );

    fault(&base, "drop_after", 0).await;
    let error = kuveyt
        .authorize(&pos, &sale("KTDROPA", &card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Transport(_)), "{error}");
    assert_eq!(
        state_of(kuveyt.sync_payment(&pos, "KTDROPA").await.unwrap()),
        BankOrderState::Captured
    );

    for (mode, order_id) in [
        ("http500", "KTH500"),
        ("malformed", "KTMALF"),
        ("html", "KTHTML"),
    ] {
        fault(&base, mode, 0).await;
        let error = kuveyt
            .authorize(&pos, &sale(order_id, &card))
            .await
            .unwrap_err();
        assert!(
            matches!(error, ConnectorError::BadResponse(_)),
            "{mode}: {error}"
        );
        assert!(error.answer_received());
        assert_eq!(
            kuveyt.sync_payment(&pos, order_id).await.unwrap(),
            PaymentSync::NotFound
        );
    }

    fault(&base, "delay", 1_500).await;
    let error = kuveyt
        .authorize(&pos, &sale("KTSLOW", &card))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Timeout), "{error}");
    assert_eq!(
        state_of(kuveyt.sync_payment(&pos, "KTSLOW").await.unwrap()),
        BankOrderState::Captured
    );

    // A refund's lookup that fails: the refund itself never left.
    settle(&base).await;
    fault(&base, "html", 0).await;
    let error = kuveyt
        .refund(&pos, &refund("KTSLOW", 100))
        .await
        .unwrap_err();
    assert!(error.nothing_was_sent(), "{error}");
    // The refund itself lost after the bank booked it: unknown, and the credits show it.
    fault(&base, "delay", 0).await;
    fault(&base, "drop_after", 0).await;
    let error = kuveyt
        .refund(&pos, &refund("KTSLOW", 100))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Transport(_)), "{error}");
    let credits = kuveyt.sync_refunds(&pos, "KTSLOW").await.unwrap();
    assert_eq!(credits.len(), 1);
    assert_eq!(credits[0].amount, try_(100));
}

// ---------------------------------------------------------------------------------------
// 3D Secure through the bank's pages

fn init<'a>(order_id: &'a str, card: &'a CardDetails) -> ThreeDsInitRequest<'a> {
    ThreeDsInitRequest {
        order_id,
        kind: AuthorizeKind::Sale,
        model: ThreeDsModel::ThreeD,
        amount: try_(12_550),
        currency: Currency::Try,
        installment: 1,
        card: Some(card),
        callback_url: CALLBACK_URL,
        lang: "tr",
        client_ip: Some("203.0.113.7"),
    }
}

fn provision<'a>(order_id: &'a str, auth: &'a ThreeDsAuthData) -> ThreeDsAuthorizeRequest<'a> {
    ThreeDsAuthorizeRequest {
        order_id,
        kind: AuthorizeKind::Sale,
        amount: try_(12_550),
        currency: Currency::Try,
        installment: 1,
        auth,
        client_ip: Some("203.0.113.7"),
    }
}

async fn authenticate(
    base: &str,
    pos: &PosConfig,
    order_id: &str,
    pan: &str,
    otp: &str,
) -> ThreeDsResult {
    let kuveyt = connector();
    let card = card(pan);
    let form = kuveyt
        .threeds_form(pos, &init(order_id, &card))
        .await
        .unwrap();
    assert!(form.action.starts_with("http://"), "{}", form.action);
    // The card never reaches the browser: it went to the bank server to server.
    assert!(form.fields.iter().all(|(_, v)| !v.contains(pan)));
    let callback = Browser::new(base).authenticate_3d(&form, None, otp).await;
    kuveyt
        .parse_threeds_callback(pos, &callback.fields)
        .unwrap()
}

#[tokio::test]
async fn three_d_round_trip_then_provision() {
    let base = serve().await;
    let (kuveyt, pos) = (connector(), pos(&base));
    let result = authenticate(&base, &pos, "KT3DOK", VISA, TEST_OTP).await;
    assert!(result.authenticated);
    assert_eq!(result.order_id, "KT3DOK");
    assert_eq!(result.amount, Some(try_(12_550)));
    assert_eq!(result.currency, Some(Currency::Try));
    assert!(result.outcome.is_none());
    let md = result.auth.md.clone().unwrap();
    // Authentication books nothing; the provision does.
    assert_eq!(
        kuveyt.sync_payment(&pos, "KT3DOK").await.unwrap(),
        PaymentSync::NotFound
    );
    // A provision for another amount than authenticated is refused.
    let mut other = provision("KT3DOK", &result.auth);
    other.amount = try_(12_551);
    let mismatch = decline_of(kuveyt.authorize_3d(&pos, &other).await.unwrap());
    assert_eq!(mismatch.code, "InvalidRequestError");
    approved(
        &kuveyt
            .authorize_3d(&pos, &provision("KT3DOK", &result.auth))
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(kuveyt.sync_payment(&pos, "KT3DOK").await.unwrap()),
        BankOrderState::Captured
    );
    // The MD is spent.
    let again = decline_of(
        kuveyt
            .authorize_3d(&pos, &provision("KT3DOK", &result.auth))
            .await
            .unwrap(),
    );
    assert_eq!(again.code, "MetaDataNotFound");
    let forged = ThreeDsAuthData {
        md: Some(format!("{md}x")),
        ..ThreeDsAuthData::default()
    };
    let unknown = decline_of(
        kuveyt
            .authorize_3d(&pos, &provision("KT3DOK2", &forged))
            .await
            .unwrap(),
    );
    assert_eq!(unknown.code, "MetaDataNotFound");
    // A 3D sale is cancelled like any other.
    approved(
        &kuveyt
            .void(&pos, &VoidRequest { order_id: "KT3DOK" })
            .await
            .unwrap(),
    );
}

#[tokio::test]
async fn three_d_wrong_otp_forced_statuses_and_decline_cards() {
    let base = serve().await;
    let (kuveyt, pos) = (connector(), pos(&base));
    let result = authenticate(&base, &pos, "KT3DBADOTP", VISA, "000000").await;
    assert!(!result.authenticated);
    assert!(result.auth.md.is_none());
    assert!(
        result
            .message
            .unwrap()
            .starts_with("MPIAuthenticationStatusN")
    );
    for (pan, authenticated, code) in [
        ("4355080000002001", false, "CardNotEnrolled"),
        ("5406670000000009", false, "MPIAuthenticationStatusN"),
        ("4355080000004007", true, ""),
        ("5406675406675403", true, ""),
    ] {
        let order_id = format!("KT3DF{}", &pan[12..]);
        let result = authenticate(&base, &pos, &order_id, pan, "000000").await;
        assert_eq!(result.authenticated, authenticated, "{pan}");
        if authenticated {
            approved(
                &kuveyt
                    .authorize_3d(&pos, &provision(&order_id, &result.auth))
                    .await
                    .unwrap(),
            );
        } else {
            assert!(result.message.unwrap().starts_with(code), "{pan}");
        }
    }
    // The issuer declines at the provision: the decline card authenticates, then fails.
    let (pan, expected) = bank_sim::nestpay::codes::decline_cards()
        .find(|(_, d)| d.code == "51")
        .unwrap();
    let result = authenticate(&base, &pos, "KT3DDECLINE", pan, TEST_OTP).await;
    assert!(result.authenticated);
    let decline = decline_of(
        kuveyt
            .authorize_3d(&pos, &provision("KT3DDECLINE", &result.auth))
            .await
            .unwrap(),
    );
    assert_eq!(decline.code, expected.code);
    assert_eq!(decline.group, ErrorGroup::NotSufficientFunds);
}

#[tokio::test]
async fn refused_enrolments_fail_before_the_browser() {
    let base = serve().await;
    let (kuveyt, pos) = (connector(), pos(&base));
    let card = card(VISA);
    let mut wrong = pos.clone();
    wrong.password = Secret::new("wrong");
    match kuveyt
        .threeds_form(&wrong, &init("KT3DBADHASH", &card))
        .await
    {
        Err(ConnectorError::BadResponse(detail)) => {
            assert!(detail.contains("HashDataError"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
    approved(
        &kuveyt
            .authorize(&pos, &sale("KT3DTAKEN", &card))
            .await
            .unwrap(),
    );
    match kuveyt.threeds_form(&pos, &init("KT3DTAKEN", &card)).await {
        Err(ConnectorError::BadResponse(detail)) => {
            assert!(detail.contains("InvalidRequestError"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
    let mut pre_auth = init("KT3DPRE", &card);
    pre_auth.kind = AuthorizeKind::PreAuth;
    assert!(matches!(
        kuveyt.threeds_form(&pos, &pre_auth).await,
        Err(ConnectorError::Unsupported { .. })
    ));
    let mut pay = init("KT3DPAY", &card);
    pay.model = ThreeDsModel::ThreeDPay;
    assert!(matches!(
        kuveyt.threeds_form(&pos, &pay).await,
        Err(ConnectorError::Unsupported { .. })
    ));
}

#[tokio::test]
async fn callbacks_signed_for_another_merchant_are_refused() {
    let base = serve().await;
    let (kuveyt, pos) = (connector(), pos(&base));
    let card = card(VISA);
    let form = kuveyt
        .threeds_form(&pos, &init("KT3DSIGNED", &card))
        .await
        .unwrap();
    let callback = Browser::new(&base)
        .authenticate_3d(&form, None, TEST_OTP)
        .await;
    let mut other = pos.clone();
    other.password = Secret::new("ORKESTRA1");
    assert_eq!(
        kuveyt.parse_threeds_callback(&other, &callback.fields),
        Err(connectors::CallbackError::BadSignature)
    );
    assert!(
        kuveyt
            .parse_threeds_callback(&pos, &callback.fields)
            .is_ok()
    );
}

#[tokio::test]
async fn three_d_works_when_the_simulator_is_nested() {
    let base = serve_at("/sim").await;
    let (kuveyt, pos) = (connector(), pos(&base));
    let result = authenticate(&base, &pos, "KT3DNESTED", VISA, TEST_OTP).await;
    assert!(result.authenticated);
    approved(
        &kuveyt
            .authorize_3d(&pos, &provision("KT3DNESTED", &result.auth))
            .await
            .unwrap(),
    );
    // The SOAP service is found under the same prefix.
    assert_eq!(
        state_of(kuveyt.sync_payment(&pos, "KT3DNESTED").await.unwrap()),
        BankOrderState::Captured
    );
}

#[test]
fn capabilities_are_what_these_tests_cover() {
    let caps = connector().capabilities();
    assert_eq!(caps.threeds_models, &[ThreeDsModel::ThreeD]);
    assert!(caps.sale && caps.void && caps.refund && caps.partial_refund);
    assert!(caps.sync_payment && caps.sync_refund);
    // The bank offers no pre-authorisation (vpos-protocols.md §7.3).
    assert!(!caps.pre_auth && !caps.post_auth);
}
