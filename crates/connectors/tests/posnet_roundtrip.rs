//! The PosNet connector against the bank simulator over loopback, for every capability it
//! declares: sale, pre-auth + post-auth, void, partial refund after end of day, status and
//! refund inquiries, and the `3d` model driven as a shopper's browser drives it — the
//! connector's enrolment and gate form posted to the simulator's `YKBPaymentService`, the
//! ACS page's OTP form submitted, the auto-submitting callback read and handed to
//! `parse_threeds_callback`, then `authorize_3d` (resolve + provision).

// Helpers outside #[test] functions may unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use bank_sim::page_form::{Form, form_of};
use connectors::posnet::Posnet;
use connectors::{
    AuthorizeKind, AuthorizeRequest, BankCredit, BankOrderState, BrowserForm, CaptureRequest,
    Connector, ConnectorError, Outcome, PaymentSync, PosConfig, RefundRequest, ThreeDsModel,
    ThreeDsResult, VoidRequest,
};
use domain::card::CardDetails;
use domain::enums::{ErrorGroup, PosIntegrator};
use domain::money::Currency;
use domain::secret::Secret;
use support::*;

/// Orkestra's sandbox merchant (the reference library's YKB test terminal), preloaded in
/// every simulator.
fn pos(base: &str) -> PosConfig {
    PosConfig {
        integrator: PosIntegrator::Ykb,
        api_url: format!("{base}/posnet/PosnetWebService/XML"),
        threeds_url: format!("{base}/posnet/3DSWebService/YKBPaymentService"),
        client_id: "6706598320".into(),
        terminal_id: Some("67005551".into()),
        username: "27426".into(),
        password: Secret::new("unused"),
        store_key: Some(Secret::new("10,10,10,10,10,10,10,10")),
        timeout: Duration::from_secs(10),
    }
}

fn connector() -> Posnet {
    Posnet::new(connectors::http::client().unwrap())
}

fn authorize<'a>(
    order_id: &'a str,
    kind: AuthorizeKind,
    amount: i64,
    card: &'a CardDetails,
) -> AuthorizeRequest<'a> {
    AuthorizeRequest {
        order_id,
        kind,
        amount: try_(amount),
        currency: Currency::Try,
        installment: 1,
        card,
        client_ip: Some("203.0.113.7"),
    }
}

async fn settle(base: &str) {
    let response = reqwest::Client::new()
        .post(format!("{base}/posnet/_sim/settle"))
        .body("{\"clientId\":\"6706598320\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

fn state_of(sync: &PaymentSync) -> Option<BankOrderState> {
    match sync {
        PaymentSync::Approved { state, .. } => Some(*state),
        _ => None,
    }
}

#[tokio::test]
async fn sale_status_void() {
    let base = serve().await;
    let pos = pos(&base);
    let posnet = connector();
    let card = card("5258640000000001");

    let outcome = posnet
        .authorize(
            &pos,
            &authorize("RTSALE1", AuthorizeKind::Sale, 12_550, &card),
        )
        .await
        .unwrap();
    let Outcome::Approved(approval) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(approval.auth_code.as_deref().map(str::len), Some(6));
    let sync = posnet.sync_payment(&pos, "RTSALE1").await.unwrap();
    assert_eq!(state_of(&sync), Some(BankOrderState::Captured));
    let PaymentSync::Approved {
        approval: synced, ..
    } = &sync
    else {
        panic!();
    };
    assert_eq!(synced.host_reference, approval.host_reference);

    // The same order id again: a duplicate, not a second charge.
    let again = posnet
        .authorize(
            &pos,
            &authorize("RTSALE1", AuthorizeKind::Sale, 12_550, &card),
        )
        .await
        .unwrap();
    assert!(
        matches!(&again, Outcome::Declined(d) if d.group == ErrorGroup::DuplicateOrder && d.code == "0127"),
        "{again:?}"
    );

    let voided = posnet
        .void(
            &pos,
            &VoidRequest {
                order_id: "RTSALE1",
            },
        )
        .await
        .unwrap();
    assert!(matches!(voided, Outcome::Approved(_)), "{voided:?}");
    let sync = posnet.sync_payment(&pos, "RTSALE1").await.unwrap();
    assert_eq!(state_of(&sync), Some(BankOrderState::Voided));
    // Voided once; a second void is refused by the bank.
    let again = posnet
        .void(
            &pos,
            &VoidRequest {
                order_id: "RTSALE1",
            },
        )
        .await
        .unwrap();
    assert!(
        matches!(&again, Outcome::Declined(d) if d.code == "0201"),
        "{again:?}"
    );

    // Unknown orders.
    assert_eq!(
        posnet.sync_payment(&pos, "NEVERSEEN").await.unwrap(),
        PaymentSync::NotFound
    );
    let void = posnet
        .void(
            &pos,
            &VoidRequest {
                order_id: "NEVERSEEN",
            },
        )
        .await
        .unwrap();
    assert!(
        matches!(&void, Outcome::Declined(d) if d.code == "0123"),
        "{void:?}"
    );
}

#[tokio::test]
async fn pre_auth_then_post_auth_then_partial_refunds_after_end_of_day() {
    let base = serve().await;
    let pos = pos(&base);
    let posnet = connector();
    let card = card("4355084355084358");

    let outcome = posnet
        .authorize(
            &pos,
            &authorize("RTPRE1", AuthorizeKind::PreAuth, 10_000, &card),
        )
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Approved(_)), "{outcome:?}");
    let sync = posnet.sync_payment(&pos, "RTPRE1").await.unwrap();
    assert_eq!(state_of(&sync), Some(BankOrderState::PreAuthorized));

    let capture = |amount| CaptureRequest {
        order_id: "RTPRE1",
        amount: try_(amount),
        pre_auth_amount: try_(10_000),
        currency: Currency::Try,
    };
    // Never above the pre-authorised amount.
    let over = posnet.capture(&pos, &capture(10_001)).await.unwrap();
    assert!(
        matches!(&over, Outcome::Declined(d) if d.code == "0204"),
        "{over:?}"
    );
    let captured = posnet.capture(&pos, &capture(9_000)).await.unwrap();
    assert!(matches!(captured, Outcome::Approved(_)), "{captured:?}");
    let twice = posnet.capture(&pos, &capture(9_000)).await.unwrap();
    assert!(
        matches!(&twice, Outcome::Declined(d) if d.code == "0205"),
        "{twice:?}"
    );
    let sync = posnet.sync_payment(&pos, "RTPRE1").await.unwrap();
    assert_eq!(state_of(&sync), Some(BankOrderState::Captured));

    let refund = |amount| RefundRequest {
        order_id: "RTPRE1",
        amount: try_(amount),
        currency: Currency::Try,
    };
    // Before end of day a refund is refused: the sale must be voided instead.
    let early = posnet.refund(&pos, &refund(1_000)).await.unwrap();
    assert!(
        matches!(&early, Outcome::Declined(d) if d.code == "0202"),
        "{early:?}"
    );
    settle(&base).await;
    let first = posnet.refund(&pos, &refund(2_500)).await.unwrap();
    assert!(matches!(first, Outcome::Approved(_)), "{first:?}");
    let second = posnet.refund(&pos, &refund(1_500)).await.unwrap();
    assert!(matches!(second, Outcome::Approved(_)), "{second:?}");
    // Never above what was captured.
    let over = posnet.refund(&pos, &refund(5_001)).await.unwrap();
    assert!(
        matches!(&over, Outcome::Declined(d) if d.code == "0203"),
        "{over:?}"
    );
    // After end of day a void is refused.
    let void = posnet
        .void(&pos, &VoidRequest { order_id: "RTPRE1" })
        .await
        .unwrap();
    assert!(
        matches!(&void, Outcome::Declined(d) if d.code == "0201"),
        "{void:?}"
    );

    let sync = posnet.sync_payment(&pos, "RTPRE1").await.unwrap();
    assert_eq!(state_of(&sync), Some(BankOrderState::Refunded));
    let credits = posnet.sync_refunds(&pos, "RTPRE1").await.unwrap();
    assert_eq!(
        credits
            .iter()
            .map(|c| (c.amount, c.approved))
            .collect::<Vec<_>>(),
        vec![(try_(2_500), true), (try_(1_500), true)]
    );
    assert!(
        credits
            .iter()
            .all(|c: &BankCredit| c.transaction_id.is_some())
    );
    assert!(
        posnet
            .sync_refunds(&pos, "NEVERSEEN")
            .await
            .unwrap()
            .is_empty()
    );
}

/// Craftgate's sandbox decline cards (craftgate-api.md Appendix B) end in their error groups.
#[tokio::test]
async fn every_craftgate_decline_card_gets_its_error_group() {
    let base = serve().await;
    let pos = pos(&base);
    let posnet = connector();
    for (i, (pan, group)) in [
        ("5100050000006661", ErrorGroup::NotSufficientFunds),
        ("5115830000006669", ErrorGroup::NotSufficientFunds),
        ("5117280000006665", ErrorGroup::NotSufficientFunds),
        ("5117580000006668", ErrorGroup::NotSufficientFunds),
        ("5100560000006669", ErrorGroup::DoNotHonour),
        ("5101380000006661", ErrorGroup::InvalidTransaction),
        ("5101510000006663", ErrorGroup::NotPermittedToCardholder),
        ("5101520000006662", ErrorGroup::StolenCard),
        ("5102210000006669", ErrorGroup::Declined),
        ("5136620000006669", ErrorGroup::LostCard),
        ("5163080000006662", ErrorGroup::ExpiredCard),
        ("5164580000006660", ErrorGroup::InvalidCvc2),
        ("5188960000006666", ErrorGroup::NotPermittedToTerminal),
        ("5192610000006661", ErrorGroup::FraudSuspect),
        ("5193240000006666", ErrorGroup::RestrictedByLaw),
        ("5200170000006666", ErrorGroup::Unknown),
        ("5209220000006660", ErrorGroup::CardNotPermitted),
    ]
    .into_iter()
    .enumerate()
    {
        let card = card(pan);
        let order = format!("RTCG{i}");
        let outcome = posnet
            .authorize(&pos, &authorize(&order, AuthorizeKind::Sale, 100, &card))
            .await
            .unwrap();
        assert!(
            matches!(&outcome, Outcome::Declined(d) if d.group == group && !d.message.is_empty()),
            "{pan}: {outcome:?}"
        );
    }
    let approved = card("5213940000006667");
    let outcome = posnet
        .authorize(
            &pos,
            &authorize("RTCGOK", AuthorizeKind::Sale, 100, &approved),
        )
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Approved(_)), "{outcome:?}");
}

#[tokio::test]
async fn decline_cards_and_bad_credentials() {
    let base = serve().await;
    let pos = pos(&base);
    let posnet = connector();
    let declining = card("5100050000006661");
    let outcome = posnet
        .authorize(
            &pos,
            &authorize("RTDEC1", AuthorizeKind::Sale, 100, &declining),
        )
        .await
        .unwrap();
    assert!(
        matches!(&outcome, Outcome::Declined(d) if d.group == ErrorGroup::NotSufficientFunds && d.code == "0051"),
        "{outcome:?}"
    );
    // A declined order charged nothing: the bank has no approved order under it.
    assert_eq!(
        posnet.sync_payment(&pos, "RTDEC1").await.unwrap(),
        PaymentSync::NotFound
    );
    // Another terminal id: the bank refuses the merchant.
    let mut wrong = pos.clone();
    wrong.terminal_id = Some("67005552".into());
    let outcome = posnet
        .authorize(
            &wrong,
            &authorize(
                "RTDEC2",
                AuthorizeKind::Sale,
                100,
                &card("5258640000000001"),
            ),
        )
        .await
        .unwrap();
    assert!(
        matches!(&outcome, Outcome::Declined(d) if d.group == ErrorGroup::InvalidMerchantOrPos && d.code == "0148"),
        "{outcome:?}"
    );
    // A status inquiry with bad credentials is not "not found".
    let error = posnet.sync_payment(&wrong, "RTDEC1").await.unwrap_err();
    assert!(matches!(error, ConnectorError::BadResponse(_)), "{error:?}");
}

// ---------------------------------------------------------------------------------------
// 3D Secure through the ACS page

/// A browser: posts forms, follows nothing.
struct Browser {
    client: reqwest::Client,
    base: String,
}

impl Browser {
    fn new(base: &str) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
        }
    }

    /// Posts a form (`application/x-www-form-urlencoded`, UTF-8) and returns the page.
    async fn post(&self, action: &str, fields: &[(String, String)]) -> String {
        let url = if action.starts_with('/') {
            format!("{}{action}", self.base)
        } else {
            action.to_owned()
        };
        let response = self.client.post(url).form(fields).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// The bank's 3D pages, from the gate form to the callback's fields.
    async fn authenticate(&self, gate: &BrowserForm, action: &str, otp: &str) -> Form {
        let page = self.post(&gate.action, &gate.fields).await;
        assert!(
            page.contains(&format!("Test OTP: <strong>{TEST_OTP}</strong>")),
            "{page}"
        );
        let challenge = form_of(&page);
        assert!(challenge.action.starts_with("/posnet/3DSWebService/acs/"));
        let answer = [("otp", otp), ("action", action)].map(|(k, v)| (k.to_owned(), v.to_owned()));
        let callback_page = self.post(&challenge.action, &answer).await;
        let callback = form_of(&callback_page);
        assert_eq!(callback.action, CALLBACK_URL);
        callback
    }
}

/// Enrols, walks the ACS page and verifies the callback.
async fn three_d(
    base: &str,
    order_id: &str,
    kind: AuthorizeKind,
    pan: &str,
    action: &str,
    otp: &str,
) -> (Form, ThreeDsResult) {
    let pos = pos(base);
    let card = card(pan);
    let gate = connector()
        .threeds_form(
            &pos,
            &init(order_id, ThreeDsModel::ThreeD, kind, Some(&card)),
        )
        .await
        .unwrap();
    assert_eq!(gate.action, pos.threeds_url);
    let callback = Browser::new(base).authenticate(&gate, action, otp).await;
    let result = connector()
        .parse_threeds_callback(&pos, &callback.fields)
        .unwrap();
    assert_eq!(result.order_id, order_id);
    assert_eq!(result.amount, Some(try_(12_550)));
    assert_eq!(result.currency, Some(Currency::Try));
    assert_eq!(result.outcome, None);
    (callback, result)
}

#[tokio::test]
async fn three_d_sale_round_trip_then_status_and_replay() {
    let base = serve().await;
    let pos = pos(&base);
    let posnet = connector();
    let (callback, result) = three_d(
        &base,
        "RT3DSALE1",
        AuthorizeKind::Sale,
        "5258640000000001",
        "confirm",
        TEST_OTP,
    )
    .await;
    assert!(result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("1"));

    let outcome = posnet
        .authorize_3d(&pos, &provision("RT3DSALE1", AuthorizeKind::Sale, &result))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Approved(_)), "{outcome:?}");
    // The bank knows it as a 3D order (TDSC…).
    let sync = posnet.sync_payment(&pos, "RT3DSALE1").await.unwrap();
    assert_eq!(state_of(&sync), Some(BankOrderState::Captured));
    // The packets are spent: a replay is refused and charges nothing more.
    let replay = posnet
        .authorize_3d(&pos, &provision("RT3DSALE1", AuthorizeKind::Sale, &result))
        .await
        .unwrap();
    assert!(
        matches!(&replay, Outcome::Declined(d) if d.code == "0302"),
        "{replay:?}"
    );
    // The packets bind the amount: another amount is refused by the bank's MAC check.
    let mut other = provision("RT3DSALE1", AuthorizeKind::Sale, &result);
    other.amount = try_(12_551);
    let outcome = posnet.authorize_3d(&pos, &other).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Declined(d) if d.code == "E216"),
        "{outcome:?}"
    );
    // Void works on 3D orders too.
    let voided = posnet
        .void(
            &pos,
            &VoidRequest {
                order_id: "RT3DSALE1",
            },
        )
        .await
        .unwrap();
    assert!(matches!(voided, Outcome::Approved(_)), "{voided:?}");

    // A tampered callback is refused.
    for name in ["MerchantPacket", "BankPacket", "Sign"] {
        let mut tampered = callback.fields.clone();
        for (key, value) in &mut tampered {
            if key == name {
                value.replace_range(0..1, if value.starts_with('0') { "1" } else { "0" });
            }
        }
        assert!(
            posnet.parse_threeds_callback(&pos, &tampered).is_err(),
            "{name}"
        );
    }
    // Another merchant's key does not verify it.
    let mut other_pos = pos.clone();
    other_pos.store_key = Some(Secret::new("12,34,56,78,90,12,34,56"));
    assert!(
        posnet
            .parse_threeds_callback(&other_pos, &callback.fields)
            .is_err()
    );
}

#[tokio::test]
async fn three_d_pre_auth_then_capture() {
    let base = serve().await;
    let pos = pos(&base);
    let posnet = connector();
    let (_, result) = three_d(
        &base,
        "RT3DPRE1",
        AuthorizeKind::PreAuth,
        "4355084355084358",
        "confirm",
        "000000",
    )
    .await;
    // A forced mdStatus=1 card authenticates whatever the OTP.
    assert!(result.authenticated);
    let outcome = posnet
        .authorize_3d(
            &pos,
            &provision("RT3DPRE1", AuthorizeKind::PreAuth, &result),
        )
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Approved(_)), "{outcome:?}");
    let sync = posnet.sync_payment(&pos, "RT3DPRE1").await.unwrap();
    assert_eq!(state_of(&sync), Some(BankOrderState::PreAuthorized));
    let captured = posnet
        .capture(
            &pos,
            &CaptureRequest {
                order_id: "RT3DPRE1",
                amount: try_(12_550),
                pre_auth_amount: try_(12_550),
                currency: Currency::Try,
            },
        )
        .await
        .unwrap();
    assert!(matches!(captured, Outcome::Approved(_)), "{captured:?}");
    let sync = posnet.sync_payment(&pos, "RT3DPRE1").await.unwrap();
    assert_eq!(state_of(&sync), Some(BankOrderState::Captured));
}

#[tokio::test]
async fn three_d_failed_and_half_secure_authentications() {
    let base = serve().await;
    let pos = pos(&base);
    let posnet = connector();

    // Wrong OTP: not authenticated; the bank refuses to provision it.
    let (_, result) = three_d(
        &base,
        "RT3DOTP1",
        AuthorizeKind::Sale,
        "5258640000000001",
        "confirm",
        "654321",
    )
    .await;
    assert!(!result.authenticated);
    assert_eq!(result.md_status.as_deref(), Some("0"));
    assert_eq!(result.message.as_deref(), Some("Not authenticated"));
    let outcome = posnet
        .authorize_3d(&pos, &provision("RT3DOTP1", AuthorizeKind::Sale, &result))
        .await
        .unwrap();
    assert!(
        matches!(&outcome, Outcome::Declined(d) if d.group == ErrorGroup::ThreedsAuthenticationFailed && d.code == "mdStatus:0"),
        "{outcome:?}"
    );
    assert_eq!(
        posnet.sync_payment(&pos, "RT3DOTP1").await.unwrap(),
        PaymentSync::NotFound
    );

    // Cancel.
    let (_, result) = three_d(
        &base,
        "RT3DCNCL",
        AuthorizeKind::Sale,
        "5258640000000001",
        "cancel",
        "",
    )
    .await;
    assert!(!result.authenticated);

    // Forced statuses: 2, 3, 4 are half secure (authenticated per the reference library);
    // 5 and 7 are not.
    for (order, pan, md, authenticated) in [
        ("RT3DMD2", "5406670000002005", "2", true),
        ("RT3DMD4", "4355080000004007", "4", true),
        ("RT3DMD5", "4355080000005004", "5", false),
        ("RT3DMD7", "5406670000007004", "7", false),
    ] {
        let (_, result) =
            three_d(&base, order, AuthorizeKind::Sale, pan, "confirm", TEST_OTP).await;
        assert_eq!(result.md_status.as_deref(), Some(md));
        assert_eq!(result.authenticated, authenticated, "{md}");
        let outcome = posnet
            .authorize_3d(&pos, &provision(order, AuthorizeKind::Sale, &result))
            .await
            .unwrap();
        assert_eq!(
            matches!(outcome, Outcome::Approved(_)),
            authenticated,
            "{outcome:?}"
        );
    }

    // A decline card authenticates, then the provision is declined.
    let (_, result) = three_d(
        &base,
        "RT3DDEC1",
        AuthorizeKind::Sale,
        "5101520000006662",
        "confirm",
        TEST_OTP,
    )
    .await;
    assert!(result.authenticated);
    let outcome = posnet
        .authorize_3d(&pos, &provision("RT3DDEC1", AuthorizeKind::Sale, &result))
        .await
        .unwrap();
    assert!(
        matches!(&outcome, Outcome::Declined(d) if d.group == ErrorGroup::StolenCard && d.code == "0043"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn three_d_form_is_refused_for_a_used_order_id() {
    let base = serve().await;
    let pos = pos(&base);
    let posnet = connector();
    let (_, result) = three_d(
        &base,
        "RT3DDUP1",
        AuthorizeKind::Sale,
        "5258640000000001",
        "confirm",
        TEST_OTP,
    )
    .await;
    let outcome = posnet
        .authorize_3d(&pos, &provision("RT3DDUP1", AuthorizeKind::Sale, &result))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Approved(_)));
    let card = card("5258640000000001");
    let error = posnet
        .threeds_form(
            &pos,
            &init(
                "RT3DDUP1",
                ThreeDsModel::ThreeD,
                AuthorizeKind::Sale,
                Some(&card),
            ),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ConnectorError::BadResponse(m) if m.contains("0127")),
        "{error:?}"
    );
}
