//! Every registered connector, every capability it declares, end to end against its bank
//! simulator over loopback — so a declared capability can never be a stub.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use connectors::{
    AuthorizeKind, AuthorizeRequest, BankOrderState, CaptureRequest, Outcome, PaymentSync,
    PosConfig, RefundRequest, Registry, ThreeDsInitRequest, VoidRequest,
};
use domain::card::{CardDetails, CardNumber, Cvc, Expiry};
use domain::enums::{ConnectorFamily, PosIntegrator};
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;

async fn serve() -> String {
    let app = bank_sim::router(bank_sim::Simulators::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// Each family's spare sandbox store, preloaded in its simulator.
fn pos(family: ConnectorFamily, base: &str) -> (PosConfig, &'static str) {
    let (integrator, prefix, api, gate, client, terminal, user, password, key) = match family {
        ConnectorFamily::Nestpay => (
            PosIntegrator::Isbank,
            "nestpay",
            "/fim/api",
            "/fim/est3Dgate",
            "100200127",
            None,
            "ORKESTRA",
            "ORKESTRA1",
            "SANDBOXKEY1",
        ),
        ConnectorFamily::Garanti => (
            PosIntegrator::Garanti,
            "garanti",
            "/VPServlet",
            "/servlet/gt3dengine",
            "7000680",
            Some("30691299"),
            "PROVAUT",
            "ORKESTRA-G2",
            "SANDBOXKEYG2",
        ),
        ConnectorFamily::Posnet => (
            PosIntegrator::Ykb,
            "posnet",
            "/PosnetWebService/XML",
            "/3DSWebService/YKBPaymentService",
            "6706598330",
            Some("67005560"),
            "27430",
            "unused",
            "12,34,56,78,90,12,34,56",
        ),
        ConnectorFamily::Payfor => (
            PosIntegrator::Finansbank,
            "payfor",
            "/Gateway/XMLGate.aspx",
            "/Gateway/Default.aspx",
            "085300000009705",
            None,
            "ORKESTRA_API_KULLANICI",
            "ORKESTRA1",
            "SANDBOXKEY5",
        ),
        ConnectorFamily::Interpos => (
            PosIntegrator::Denizbank,
            "interpos",
            "/mpi/Default.aspx",
            "/mpi/Default.aspx",
            "3124",
            None,
            "ORKESTRA_API",
            "ORKESTRA1",
            "SANDBOXKEYD",
        ),
        // Akbank signs with the secret key (threedsKey); no API user.
        ConnectorFamily::AkbankJson => (
            PosIntegrator::AkbankVpos,
            "akbank",
            "/api/v1/payment/virtualpos/transaction/process",
            "/securepay",
            "20251127120000000001A1B2C3D4E5F6",
            Some("20251127120000000002F6E5D4C3B2A1"),
            "",
            "",
            "323032353131323731323030303030303030315f6f726b65737472615f73616e64626f785f616b62616e6b5f6a736f6e5f6b6579",
        ),
        // MerchantId and CustomerId; Kuveyt Türk has no 3D key (the API password keys it).
        ConnectorFamily::Kuveyt => (
            PosIntegrator::Kuveytturk,
            "kuveyt",
            "/boa.virtualpos.services/Home",
            "/boa.virtualpos.services/Home/ThreeDModelPayGate",
            "81",
            Some("400236"),
            "ORKESTRA_API",
            "ORKESTRA1",
            "unused",
        ),
        // PayFlex signs nothing: MerchantId, TerminalNo and the merchant password only.
        ConnectorFamily::Payflex => (
            PosIntegrator::Vakifbank,
            "payflex",
            "/VposService/v3/Vposreq.aspx",
            "/MPIAPI/MPI_Enrollment.aspx",
            "000000000222222",
            Some("VP000222"),
            "",
            "ORKESTRA-PF1",
            "",
        ),
    };
    let config = PosConfig {
        integrator,
        api_url: format!("{base}/{prefix}{api}"),
        threeds_url: format!("{base}/{prefix}{gate}"),
        client_id: client.into(),
        terminal_id: terminal.map(str::to_owned),
        username: user.into(),
        password: Secret::new(password),
        store_key: Some(Secret::new(key)),
        timeout: Duration::from_secs(10),
    };
    (config, prefix)
}

fn card() -> CardDetails {
    CardDetails {
        number: CardNumber::parse("5258640000000001").unwrap(),
        expiry: Expiry::parse("07", "2044").unwrap(),
        cvc: Some(Cvc::parse("000").unwrap()),
        holder_name: "Haluk Demir".into(),
    }
}

fn order_id(tag: &str, family: ConnectorFamily) -> String {
    // The engine's shape: 20 upper-case alphanumerics.
    let stamp = format!("{:?}{tag}", family).to_uppercase();
    format!(
        "{:X<20}",
        stamp
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(20)
            .collect::<String>()
    )
}

fn approved(outcome: Outcome, what: &str) {
    assert!(
        matches!(outcome, Outcome::Approved(_)),
        "{what}: {outcome:?}"
    );
}

async fn settle(base: &str, prefix: &str, client: &str) {
    reqwest::Client::new()
        .post(format!("{base}/{prefix}/_sim/settle"))
        .header("content-type", "application/json")
        .body(format!("{{\"clientId\":\"{client}\"}}"))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn every_declared_capability_works_against_the_simulator() {
    let base = serve().await;
    let registry = Registry::new(connectors::http::client().unwrap());
    let card = card();
    let amount = MinorUnits::from_stored(10_000);
    // Every family some integrator maps to is registered, once.
    let mut registered: Vec<ConnectorFamily> = registry.all().iter().map(|c| c.family()).collect();
    let mut mapped: Vec<ConnectorFamily> = PosIntegrator::ALL
        .iter()
        .filter_map(|i| i.family())
        .collect();
    for list in [&mut registered, &mut mapped] {
        list.sort_by_key(|f| f.as_str());
    }
    mapped.dedup();
    assert_eq!(registered, mapped);
    for connector in registry.all() {
        let family = connector.family();
        let caps = connector.capabilities();
        let (config, prefix) = pos(family, &base);
        assert!(caps.sale, "{family:?} declares no sale");
        let id = order_id("SALE", family);
        approved(
            connector
                .authorize(&config, &sale(&id, &card, amount))
                .await
                .unwrap(),
            "sale",
        );
        if caps.sync_payment {
            match connector.sync_payment(&config, &id).await.unwrap() {
                PaymentSync::Approved { state, .. } => assert!(
                    matches!(state, BankOrderState::Captured),
                    "{family:?}: {state:?}"
                ),
                other => panic!("{family:?} status after sale: {other:?}"),
            }
            let missing = order_id("MISSING", family);
            assert!(
                matches!(
                    connector.sync_payment(&config, &missing).await.unwrap(),
                    PaymentSync::NotFound
                ),
                "{family:?}"
            );
        }
        if caps.void {
            approved(
                connector
                    .void(&config, &VoidRequest { order_id: &id })
                    .await
                    .unwrap(),
                "void",
            );
            if caps.sync_payment {
                let state = connector.sync_payment(&config, &id).await.unwrap();
                assert!(
                    matches!(
                        state,
                        PaymentSync::Approved {
                            state: BankOrderState::Voided,
                            ..
                        }
                    ),
                    "{family:?}: {state:?}"
                );
            }
        }
        if caps.pre_auth {
            let pre = order_id("PREAUTH", family);
            let mut request = sale(&pre, &card, amount);
            request.kind = AuthorizeKind::PreAuth;
            approved(
                connector.authorize(&config, &request).await.unwrap(),
                "pre-auth",
            );
            if caps.post_auth {
                let capture = CaptureRequest {
                    order_id: &pre,
                    amount: MinorUnits::from_stored(8_000),
                    pre_auth_amount: amount,
                    currency: Currency::Try,
                };
                approved(
                    connector.capture(&config, &capture).await.unwrap(),
                    "post-auth",
                );
            }
        }
        if caps.refund {
            let paid = order_id("REFUND", family);
            approved(
                connector
                    .authorize(&config, &sale(&paid, &card, amount))
                    .await
                    .unwrap(),
                "sale to refund",
            );
            settle(&base, prefix, &config.client_id).await;
            let part = if caps.partial_refund {
                MinorUnits::from_stored(2_500)
            } else {
                amount
            };
            let refund = RefundRequest {
                order_id: &paid,
                amount: part,
                currency: Currency::Try,
            };
            approved(connector.refund(&config, &refund).await.unwrap(), "refund");
            if caps.sync_refund {
                let credits = connector.sync_refunds(&config, &paid).await.unwrap();
                assert!(
                    credits.iter().any(|c| c.approved && c.amount == part),
                    "{family:?}: {credits:?}"
                );
            }
        }
        for model in caps.threeds_models {
            let id = order_id("THREEDS", family);
            let form = connector
                .threeds_form(
                    &config,
                    &ThreeDsInitRequest {
                        order_id: &id,
                        kind: AuthorizeKind::Sale,
                        model: *model,
                        amount,
                        currency: Currency::Try,
                        installment: 1,
                        card: Some(&card),
                        callback_url: "https://orkestra.example/threeds/callback/t",
                        lang: "tr",
                        client_ip: Some("127.0.0.1"),
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("{family:?} {model:?}: {e}"));
            assert!(!form.fields.is_empty(), "{family:?} {model:?}");
            // The bank's gate accepts the form (its full round trip is in each family's tests).
            let body: String = form
                .fields
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            let response = reqwest::Client::new()
                .post(&form.action)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            assert!(
                response.status().is_success(),
                "{family:?} {model:?}: {}",
                response.status()
            );
        }
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn sale<'a>(order_id: &'a str, card: &'a CardDetails, amount: MinorUnits) -> AuthorizeRequest<'a> {
    AuthorizeRequest {
        order_id,
        kind: AuthorizeKind::Sale,
        amount,
        currency: Currency::Try,
        installment: 1,
        card,
        client_ip: Some("127.0.0.1"),
    }
}
