//! The PayFlex V4 connector against the PayFlex simulator over loopback, for every
//! capability the connector declares: sale, pre-auth + capture, cancel, partial refunds
//! after end of day, status and refunds by search, faults, and the 3D flow driven as a
//! shopper's browser would (MPI enrolment in `threeds_form` → ACS challenge page →
//! auto-submitting callback → `parse_threeds_callback` → `authorize_3d`).

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use bank_sim::page_form::form_of;
use connectors::payflex::Payflex;
use connectors::{
    AuthorizeKind, BankCredit, BankOrderState, BrowserForm, CallbackError, CaptureRequest,
    Connector, ConnectorError, Outcome, PaymentSync, PosConfig, RefundRequest,
    ThreeDsAuthorizeRequest, ThreeDsInitRequest, ThreeDsModel, ThreeDsResult, VoidRequest,
};
use domain::card::{CardDetails, CardNumber, Expiry};
use domain::enums::{ErrorGroup, PosIntegrator};
use domain::money::Currency;
use domain::secret::Secret;
use serde_json::{Value, json};

use support::*;

const CALLBACK_URL: &str = "https://orkestra.example/threeds/callback/att_123";
const MERCHANT: &str = "000000000111111";

/// The reference library's test merchant (`vpos-test-vectors.md` §9), preloaded.
fn pos(base: &str) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Vakifbank,
        api_url: format!("{base}/payflex/VposService/v3/Vposreq.aspx"),
        threeds_url: format!("{base}/payflex/MPIAPI/MPI_Enrollment.aspx"),
        client_id: MERCHANT.into(),
        terminal_id: Some("VP999999".into()),
        username: String::new(),
        password: Secret::new("3XTgER89as"),
        store_key: None,
        timeout: Duration::from_secs(10),
    }
}

fn connector() -> Payflex {
    Payflex::new(connectors::http::client().unwrap())
}

async fn admin(base: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    sim_admin(base, "payflex", method, path, body).await
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

fn decline_of(outcome: Outcome) -> connectors::Decline {
    match outcome {
        Outcome::Declined(decline) => decline,
        other => panic!("expected a decline, got {other:?}"),
    }
}

fn state_of(sync: PaymentSync) -> BankOrderState {
    match sync {
        PaymentSync::Approved { state, .. } => state,
        other => panic!("expected an approved order, got {other:?}"),
    }
}

#[tokio::test]
async fn sale_status_void() {
    let base = serve().await;
    let pos = pos(&base);
    let payflex = connector();
    let card = card("5258640000000001");
    let outcome = payflex
        .authorize(&pos, &authorize("RT-SALE-1", AuthorizeKind::Sale, &card))
        .await
        .unwrap();
    match &outcome {
        Outcome::Approved(approval) => {
            assert_eq!(approval.transaction_id.as_deref(), Some("RT-SALE-1"));
            assert_eq!(approval.auth_code.as_ref().map(String::len), Some(6));
            assert!(approval.host_reference.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        state_of(payflex.sync_payment(&pos, "RT-SALE-1").await.unwrap()),
        BankOrderState::Captured
    );
    let order = sim_order(&base, "RT-SALE-1").await;
    assert_eq!(order["amountMinor"], 12_550);
    assert_eq!(order["pan"], "525864******0001");
    // The same TransactionId cannot be approved twice.
    let again = payflex
        .authorize(&pos, &authorize("RT-SALE-1", AuthorizeKind::Sale, &card))
        .await
        .unwrap();
    assert_eq!(decline_of(again).code, "1003");
    approved(
        &payflex
            .void(
                &pos,
                &VoidRequest {
                    order_id: "RT-SALE-1",
                },
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(payflex.sync_payment(&pos, "RT-SALE-1").await.unwrap()),
        BankOrderState::Voided
    );
    let twice = payflex
        .void(
            &pos,
            &VoidRequest {
                order_id: "RT-SALE-1",
            },
        )
        .await
        .unwrap();
    let decline = decline_of(twice);
    assert_eq!(decline.code, "1083");
    assert_eq!(decline.group, ErrorGroup::InvalidTransaction);
    assert_eq!(
        payflex.sync_payment(&pos, "RT-NOPE").await.unwrap(),
        PaymentSync::NotFound
    );
}

#[tokio::test]
async fn every_scheme_installments_and_stored_cards() {
    let base = serve().await;
    let pos = pos(&base);
    let payflex = connector();
    for (i, pan) in [
        "4355084355084358",
        "5406675406675403",
        "9792030394290001",
        "374245455400126",
    ]
    .iter()
    .enumerate()
    {
        let card = card(pan);
        let id = format!("RT-SCHEME-{i}");
        approved(
            &payflex
                .authorize(&pos, &authorize(&id, AuthorizeKind::Sale, &card))
                .await
                .unwrap(),
        );
    }
    let mut stored = card("4355084355084358");
    stored.cvc = None;
    approved(
        &payflex
            .authorize(&pos, &authorize("RT-STORED", AuthorizeKind::Sale, &stored))
            .await
            .unwrap(),
    );
    let card = card("4355084355084358");
    let mut request = authorize("RT-INST", AuthorizeKind::Sale, &card);
    request.installment = 6;
    approved(&payflex.authorize(&pos, &request).await.unwrap());
    assert_eq!(sim_order(&base, "RT-INST").await["installment"], 6);
    let mut usd = authorize("RT-USD", AuthorizeKind::Sale, &card);
    usd.currency = Currency::Usd;
    approved(&payflex.authorize(&pos, &usd).await.unwrap());
    assert_eq!(sim_order(&base, "RT-USD").await["currency"], "USD");
    // Installments only in TRY.
    usd.order_id = "RT-USD-INST";
    usd.installment = 3;
    assert_eq!(
        decline_of(payflex.authorize(&pos, &usd).await.unwrap()).code,
        "1001"
    );
    // A scheme PayFlex does not take is refused before anything is sent.
    let discover = CardDetails {
        number: CardNumber::parse("6011000990139424").unwrap(),
        ..card.clone()
    };
    let error = payflex
        .authorize(&pos, &authorize("RT-DISC", AuthorizeKind::Sale, &discover))
        .await
        .unwrap_err();
    assert!(error.nothing_was_sent(), "{error:?}");
}

#[tokio::test]
async fn pre_auth_then_capture_then_cancel() {
    let base = serve().await;
    let pos = pos(&base);
    let payflex = connector();
    let card = card("5258640000000001");
    approved(
        &payflex
            .authorize(&pos, &authorize("RT-PRE-1", AuthorizeKind::PreAuth, &card))
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(payflex.sync_payment(&pos, "RT-PRE-1").await.unwrap()),
        BankOrderState::PreAuthorized
    );
    let capture = |amount: i64| CaptureRequest {
        order_id: "RT-PRE-1",
        amount: try_(amount),
        pre_auth_amount: try_(12_550),
        currency: Currency::Try,
    };
    // Never above the pre-authorised amount.
    assert_eq!(
        decline_of(payflex.capture(&pos, &capture(12_551)).await.unwrap()).code,
        "1003"
    );
    approved(&payflex.capture(&pos, &capture(10_000)).await.unwrap());
    assert_eq!(
        state_of(payflex.sync_payment(&pos, "RT-PRE-1").await.unwrap()),
        BankOrderState::Captured
    );
    assert_eq!(sim_order(&base, "RT-PRE-1").await["capturedMinor"], 10_000);
    // Once only.
    assert_eq!(
        decline_of(payflex.capture(&pos, &capture(100)).await.unwrap()).code,
        "1003"
    );
    // Cancelling the pre-auth the same day cancels the whole order.
    approved(
        &payflex
            .void(
                &pos,
                &VoidRequest {
                    order_id: "RT-PRE-1",
                },
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(payflex.sync_payment(&pos, "RT-PRE-1").await.unwrap()),
        BankOrderState::Voided
    );
    // A sale cannot be captured; an unknown reference neither.
    approved(
        &payflex
            .authorize(&pos, &authorize("RT-PRE-2", AuthorizeKind::Sale, &card))
            .await
            .unwrap(),
    );
    let mut sale_capture = capture(100);
    sale_capture.order_id = "RT-PRE-2";
    assert_eq!(
        decline_of(payflex.capture(&pos, &sale_capture).await.unwrap()).code,
        "1003"
    );
    sale_capture.order_id = "RT-PRE-NONE";
    assert_eq!(
        decline_of(payflex.capture(&pos, &sale_capture).await.unwrap()).code,
        "1002"
    );
}

#[tokio::test]
async fn partial_refunds_after_end_of_day() {
    let base = serve().await;
    let pos = pos(&base);
    let payflex = connector();
    let card = card("5258640000000001");
    approved(
        &payflex
            .authorize(&pos, &authorize("RT-REF-1", AuthorizeKind::Sale, &card))
            .await
            .unwrap(),
    );
    let refund = |amount: i64| RefundRequest {
        order_id: "RT-REF-1",
        amount: try_(amount),
        currency: Currency::Try,
    };
    // Before end of day a refund is refused (cancel instead).
    assert_eq!(
        decline_of(payflex.refund(&pos, &refund(1_000)).await.unwrap()).code,
        "1003"
    );
    settle(&base).await;
    // After end of day the cancel is refused.
    assert_eq!(
        decline_of(
            payflex
                .void(
                    &pos,
                    &VoidRequest {
                        order_id: "RT-REF-1"
                    }
                )
                .await
                .unwrap()
        )
        .code,
        "1003"
    );
    approved(&payflex.refund(&pos, &refund(2_550)).await.unwrap());
    approved(&payflex.refund(&pos, &refund(5_000)).await.unwrap());
    assert_eq!(
        decline_of(payflex.refund(&pos, &refund(5_001)).await.unwrap()).code,
        "1003"
    );
    approved(&payflex.refund(&pos, &refund(5_000)).await.unwrap());
    let full = decline_of(payflex.refund(&pos, &refund(1)).await.unwrap());
    assert_eq!(full.code, "1059");
    assert_eq!(full.message, "İşlemin tamamı iade edilmiş.");
    assert_eq!(
        state_of(payflex.sync_payment(&pos, "RT-REF-1").await.unwrap()),
        BankOrderState::Refunded
    );
    let credits = payflex.sync_refunds(&pos, "RT-REF-1").await.unwrap();
    let approved_amounts: Vec<i64> = credits
        .iter()
        .filter(|c| c.approved)
        .map(|c| c.amount.get())
        .collect();
    assert_eq!(approved_amounts, vec![2_550, 5_000, 5_000]);
    assert!(credits.iter().all(|c| c.transaction_id.is_some()));
    assert!(credits.iter().any(|c| !c.approved));
    assert_eq!(
        payflex.sync_refunds(&pos, "RT-NONE").await.unwrap(),
        Vec::<BankCredit>::new()
    );
}

#[tokio::test]
async fn bad_credentials_and_decline_cards() {
    let base = serve().await;
    let payflex = connector();
    let card = card("5258640000000001");
    let mut wrong = pos(&base);
    wrong.password = Secret::new("wrong");
    let decline = decline_of(
        payflex
            .authorize(&wrong, &authorize("RT-CRED", AuthorizeKind::Sale, &card))
            .await
            .unwrap(),
    );
    assert_eq!(decline.code, "9039");
    assert_eq!(decline.group, ErrorGroup::InvalidMerchantOrPos);
    // A failed search is not a fact about the order.
    assert!(matches!(
        payflex.sync_payment(&wrong, "RT-CRED").await,
        Err(ConnectorError::BadResponse(_))
    ));
    let mut other_terminal = pos(&base);
    other_terminal.terminal_id = Some("VP000001".into());
    assert_eq!(
        decline_of(
            payflex
                .authorize(
                    &other_terminal,
                    &authorize("RT-TERM", AuthorizeKind::Sale, &card)
                )
                .await
                .unwrap()
        )
        .code,
        "9039"
    );
    let pos = pos(&base);
    for (i, (pan, code, group)) in [
        ("5406670000000009", None, None),
        (
            "5100050000006661",
            Some("0051"),
            Some(ErrorGroup::NotSufficientFunds),
        ),
        (
            "5100560000006669",
            Some("0005"),
            Some(ErrorGroup::DoNotHonour),
        ),
        (
            "5101380000006661",
            Some("0012"),
            Some(ErrorGroup::InvalidTransaction),
        ),
        (
            "5101510000006663",
            Some("0057"),
            Some(ErrorGroup::NotPermittedToCardholder),
        ),
        (
            "5101520000006662",
            Some("0043"),
            Some(ErrorGroup::StolenCard),
        ),
        (
            "5163080000006662",
            Some("0054"),
            Some(ErrorGroup::ExpiredCard),
        ),
        (
            "5209220000006660",
            Some("0062"),
            Some(ErrorGroup::CardNotPermitted),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let card = self::card(pan);
        let id = format!("RT-DC-{i}");
        let outcome = payflex
            .authorize(&pos, &authorize(&id, AuthorizeKind::Sale, &card))
            .await
            .unwrap();
        match (code, outcome) {
            (None, outcome) => approved(&outcome),
            (Some(code), outcome) => {
                let decline = decline_of(outcome);
                assert_eq!(decline.code, code, "{pan}");
                assert_eq!(Some(decline.group), group, "{pan}");
                // A declined attempt is found as declined.
                match payflex.sync_payment(&pos, &id).await.unwrap() {
                    PaymentSync::Declined(d) => assert_eq!(d.code, code),
                    other => panic!("{pan}: {other:?}"),
                }
            }
        }
    }
    let mut expired = card.clone();
    expired.expiry = Expiry::parse("01", "2020").unwrap();
    let decline = decline_of(
        payflex
            .authorize(&pos, &authorize("RT-EXP", AuthorizeKind::Sale, &expired))
            .await
            .unwrap(),
    );
    assert_eq!(
        (decline.code.as_str(), decline.group),
        ("0054", ErrorGroup::ExpiredCard)
    );
}

#[tokio::test]
async fn faults_leave_the_outcome_unknown_and_status_settles_it() {
    let base = serve().await;
    faults_leave_the_outcome_unknown(
        &connector(),
        pos(&base),
        &base,
        "payflex",
        MERCHANT,
        ["RT-F-1", "RT-F-2", "RT-F-3", "RT-F-4"],
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// 3D Secure through the ACS page

impl Browser {
    /// The ACS page, from the enrolment's form to the callback's fields.
    async fn authenticate(
        &self,
        acs: &BrowserForm,
        otp: &str,
        action: &str,
    ) -> Vec<(String, String)> {
        let page = self.post(&acs.action, &acs.fields).await;
        assert!(
            page.contains(&format!("Test OTP: <strong>{TEST_OTP}</strong>")),
            "{page}"
        );
        let challenge = form_of(&page);
        let answer = [("otp", otp), ("action", action)].map(|(k, v)| (k.to_owned(), v.to_owned()));
        let callback = form_of(&self.post(&challenge.action, &answer).await);
        assert_eq!(callback.action, CALLBACK_URL);
        callback.fields
    }
}

fn init<'a>(
    order_id: &'a str,
    kind: AuthorizeKind,
    card: &'a CardDetails,
) -> ThreeDsInitRequest<'a> {
    ThreeDsInitRequest {
        order_id,
        kind,
        model: ThreeDsModel::ThreeD,
        amount: try_(10_125),
        currency: Currency::Try,
        installment: 1,
        card: Some(card),
        callback_url: CALLBACK_URL,
        lang: "tr",
        client_ip: Some("203.0.113.7"),
    }
}

fn provision<'a>(
    order_id: &'a str,
    kind: AuthorizeKind,
    result: &'a ThreeDsResult,
) -> ThreeDsAuthorizeRequest<'a> {
    ThreeDsAuthorizeRequest {
        order_id,
        kind,
        amount: try_(10_125),
        currency: Currency::Try,
        installment: 1,
        auth: &result.auth,
        client_ip: Some("203.0.113.7"),
    }
}

#[tokio::test]
async fn three_d_round_trip_then_provision() {
    let base = serve().await;
    let pos = pos(&base);
    let payflex = connector();
    let card = card("4355084355084358");
    let acs = payflex
        .threeds_form(&pos, &init("RT-3D-1", AuthorizeKind::Sale, &card))
        .await
        .unwrap();
    assert!(
        acs.action.ends_with("/payflex/MPIAPI/Acs"),
        "{}",
        acs.action
    );
    let names: Vec<&str> = acs.fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["PaReq", "TermUrl", "MD"]);
    // The card never reaches the browser in clear.
    assert!(!format!("{:?}", acs.fields).contains("4355084355084358"));
    let fields = Browser::new(&base)
        .authenticate(&acs, TEST_OTP, "confirm")
        .await;
    assert_eq!(get(&fields, "Status"), "Y");
    assert_eq!(get(&fields, "PurchAmount"), "10125");
    assert!(!fields.iter().any(|(_, v)| v.contains("4355084355084358")));
    let result = payflex.parse_threeds_callback(&pos, &fields).unwrap();
    assert!(result.authenticated);
    assert_eq!(result.order_id, "RT-3D-1");
    assert_eq!(result.amount, Some(try_(10_125)));
    assert_eq!(result.currency, Some(Currency::Try));
    assert_eq!(result.auth.eci.as_deref(), Some("05"));
    // Another amount than authenticated is refused by the bank.
    let mut other_amount = provision("RT-3D-1", AuthorizeKind::Sale, &result);
    other_amount.amount = try_(10_126);
    assert_eq!(
        decline_of(payflex.authorize_3d(&pos, &other_amount).await.unwrap()).code,
        "1004"
    );
    // A forged CAVV too.
    let mut forged = result.clone();
    forged.auth.cavv = Some("AAAAAAAAAAAAAAAAAAAAAAAAAAA=".into());
    assert_eq!(
        decline_of(
            payflex
                .authorize_3d(&pos, &provision("RT-3D-1", AuthorizeKind::Sale, &forged))
                .await
                .unwrap()
        )
        .code,
        "1004"
    );
    approved(
        &payflex
            .authorize_3d(&pos, &provision("RT-3D-1", AuthorizeKind::Sale, &result))
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(payflex.sync_payment(&pos, "RT-3D-1").await.unwrap()),
        BankOrderState::Captured
    );
    // The authentication is spent.
    let twice = payflex
        .authorize_3d(&pos, &provision("RT-3D-1", AuthorizeKind::Sale, &result))
        .await
        .unwrap();
    assert_eq!(decline_of(twice).code, "1003");
    // The sealed card opens only for its own order.
    let error = payflex
        .authorize_3d(
            &pos,
            &provision("RT-3D-OTHER", AuthorizeKind::Sale, &result),
        )
        .await
        .unwrap_err();
    assert!(error.nothing_was_sent(), "{error:?}");
}

#[tokio::test]
async fn three_d_pre_auth_then_capture() {
    let base = serve().await;
    let pos = pos(&base);
    let payflex = connector();
    let card = card("5406675406675403");
    let acs = payflex
        .threeds_form(&pos, &init("RT-3D-PRE", AuthorizeKind::PreAuth, &card))
        .await
        .unwrap();
    let fields = Browser::new(&base)
        .authenticate(&acs, "000000", "confirm")
        .await;
    // The forced-status card authenticates whatever the OTP; MasterCard's ECI is 02.
    let result = payflex.parse_threeds_callback(&pos, &fields).unwrap();
    assert!(result.authenticated);
    assert_eq!(result.auth.eci.as_deref(), Some("02"));
    approved(
        &payflex
            .authorize_3d(
                &pos,
                &provision("RT-3D-PRE", AuthorizeKind::PreAuth, &result),
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(payflex.sync_payment(&pos, "RT-3D-PRE").await.unwrap()),
        BankOrderState::PreAuthorized
    );
    approved(
        &payflex
            .capture(
                &pos,
                &CaptureRequest {
                    order_id: "RT-3D-PRE",
                    amount: try_(10_125),
                    pre_auth_amount: try_(10_125),
                    currency: Currency::Try,
                },
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        state_of(payflex.sync_payment(&pos, "RT-3D-PRE").await.unwrap()),
        BankOrderState::Captured
    );
}

#[tokio::test]
async fn three_d_wrong_otp_cancel_and_forced_statuses() {
    let base = serve().await;
    let pos = pos(&base);
    let payflex = connector();
    let browser = Browser::new(&base);
    for (i, (pan, otp, action, status)) in [
        ("4546711234567894", "999999", "confirm", "N"),
        ("5258640000000001", TEST_OTP, "cancel", "N"),
        ("4355080000000005", TEST_OTP, "confirm", "N"),
        ("4355080000004007", TEST_OTP, "confirm", "A"),
        ("4355080000005004", TEST_OTP, "confirm", "U"),
        ("4355080000007000", TEST_OTP, "confirm", "E"),
    ]
    .into_iter()
    .enumerate()
    {
        let card = card(pan);
        let id = format!("RT-3D-S{i}");
        let acs = payflex
            .threeds_form(&pos, &init(&id, AuthorizeKind::Sale, &card))
            .await
            .unwrap();
        let fields = browser.authenticate(&acs, otp, action).await;
        let result = payflex.parse_threeds_callback(&pos, &fields).unwrap();
        assert!(!result.authenticated, "{pan}");
        assert_eq!(result.md_status.as_deref(), Some(status), "{pan}");
        assert!(result.message.is_some());
        assert_eq!(result.auth.md, None);
        // Nothing to provision with.
        let error = payflex
            .authorize_3d(&pos, &provision(&id, AuthorizeKind::Sale, &result))
            .await
            .unwrap_err();
        assert!(error.nothing_was_sent());
    }
    // Not-enrolled cards: the enrolment itself refuses.
    let card = card("4355080000002001");
    let error = payflex
        .threeds_form(&pos, &init("RT-3D-NE", AuthorizeKind::Sale, &card))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("Status \"N\""), "{error}");
}

#[tokio::test]
async fn forged_callbacks_are_refused() {
    let base = serve().await;
    let pos = pos(&base);
    let payflex = connector();
    let card = card("4355084355084358");
    let acs = payflex
        .threeds_form(&pos, &init("RT-3D-FORGE", AuthorizeKind::Sale, &card))
        .await
        .unwrap();
    let fields = Browser::new(&base)
        .authenticate(&acs, TEST_OTP, "confirm")
        .await;
    // Moving the authentication onto another order: the sealed card does not open.
    let mut moved = fields.clone();
    for (k, v) in &mut moved {
        if k == "VerifyEnrollmentRequestId" {
            *v = "RT-3D-ELSE".into();
        }
    }
    assert_eq!(
        payflex.parse_threeds_callback(&pos, &moved).unwrap_err(),
        CallbackError::BadSignature
    );
    // Another POS cannot read it either.
    let mut other_pos = pos.clone();
    other_pos.password = Secret::new("another");
    assert_eq!(
        payflex
            .parse_threeds_callback(&other_pos, &fields)
            .unwrap_err(),
        CallbackError::BadSignature
    );
    // A forged "authenticated" with fake 3D values is declined by the VPOS.
    let result = payflex.parse_threeds_callback(&pos, &fields).unwrap();
    let mut fake = result.clone();
    fake.auth.eci = Some("07".into());
    assert_eq!(
        decline_of(
            payflex
                .authorize_3d(&pos, &provision("RT-3D-FORGE", AuthorizeKind::Sale, &fake))
                .await
                .unwrap()
        )
        .code,
        "1004"
    );
}

#[tokio::test]
async fn three_d_works_when_the_simulator_is_nested() {
    let base = serve_at("/sim").await;
    let pos = pos(&base);
    let payflex = connector();
    let card = card("4355084355084358");
    let acs = payflex
        .threeds_form(&pos, &init("RT-3D-NEST", AuthorizeKind::Sale, &card))
        .await
        .unwrap();
    assert!(
        acs.action.ends_with("/sim/payflex/MPIAPI/Acs"),
        "{}",
        acs.action
    );
    let fields = Browser::new(&base)
        .authenticate(&acs, TEST_OTP, "confirm")
        .await;
    let result = payflex.parse_threeds_callback(&pos, &fields).unwrap();
    approved(
        &payflex
            .authorize_3d(&pos, &provision("RT-3D-NEST", AuthorizeKind::Sale, &result))
            .await
            .unwrap(),
    );
}

#[test]
fn capabilities_are_what_these_tests_cover() {
    let caps = connector().capabilities();
    assert_eq!(caps.threeds_models, &[ThreeDsModel::ThreeD]);
    assert!(caps.sale && caps.pre_auth && caps.post_auth && caps.void);
    assert!(caps.refund && caps.partial_refund && caps.sync_payment && caps.sync_refund);
}
