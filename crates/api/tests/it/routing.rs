use serde_json::{Value, json};

use crate::app::{GOOD_CARD, HALKBANK_CLIENT, ISBANK_CLIENT, TestApp, payment_body};

const HALKBANK_CARD: &str = "4025260000000011";
const ZIRAAT_CARD: &str = "4045910000000017";
const GARANTI_CARD: &str = "4043080000000003";
const ZIRAAT_CLIENT: &str = "190100000";

/// The test app's two POSes plus a Ziraat one, each with commission rows.
async fn three_banks(app: &TestApp) -> Value {
    let (status, ziraat) = app
        .call(
            "POST",
            "/merchant/v1/merchant-poses",
            Some(&json!({
                "name": "Ziraat", "posIntegrator": "ZIRAATBANK", "currency": "TRY", "clientId": ZIRAAT_CLIENT,
                "hostname": app.base, "path": "/sim/nestpay/fim/api", "threedsPath": "/sim/nestpay/fim/est3Dgate",
                "threedsKey": "123456", "orderNumber": 3, "enableInstallment": true,
                "merchantPosUsers": [{"posUsername": "ZIRAATAPI", "posPassword": "ZIRAAT19"}],
            })),
        )
        .await;
    assert_eq!(status, 200, "{ziraat}");
    let (_, poses) = app.call("GET", "/merchant/v1/merchant-poses", None).await;
    for pos in poses["data"]["items"].as_array().unwrap() {
        let (on_us, not_on_us) = match pos["posIntegrator"].as_str().unwrap() {
            "ISBANK" => (1.5, 2.5),
            "HALKBANK" => (1.8, 1.9),
            _ => (1.2, 2.2),
        };
        let rows: Vec<Value> = (1..=3)
            .map(|n| json!({"installment": n, "status": "ACTIVE", "bankOnUsCreditCardCommissionRate": on_us + f64::from(n - 1), "bankNotOnUsCreditCardCommissionRate": not_on_us + f64::from(n - 1), "bankOnUsDebitCardCommissionRate": on_us, "bankNotOnUsDebitCardCommissionRate": not_on_us, "merchantCommissionRate": if n == 1 { 0.0 } else { 3.0 }}))
            .collect();
        let (status, body) = app
            .call(
                "POST",
                &format!("/merchant/v1/merchant-poses/{}/commissions", pos["id"]),
                Some(&json!({"commissions": rows})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    ziraat["data"].clone()
}

fn paid_on(body: &Value) -> String {
    body["data"]["pos"]["alias"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn on_us_sends_a_card_to_its_own_bank_and_low_commission_finds_the_cheapest() {
    let app = TestApp::spawn().await;
    let ziraat = three_banks(&app).await;
    let (status, _) = app
        .call(
            "PUT",
            "/merchant/v1/routing",
            Some(&json!({"orderingRule": "ON_US"})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, halk) = app.pay(&payment_body(HALKBANK_CARD)).await;
    assert_eq!(paid_on(&halk), app.halkbank_alias);
    assert_eq!(halk["data"]["bankCommissionRate"].to_string(), "1.8");
    assert_eq!(halk["data"]["bankCommissionRateAmount"].to_string(), "1.80");
    let (_, zir) = app.pay(&payment_body(ZIRAAT_CARD)).await;
    assert_eq!(paid_on(&zir), ziraat["alias"].as_str().unwrap());
    assert_eq!(app.bank_orders(ZIRAAT_CLIENT).await.len(), 1);

    // A Garanti card is on-us nowhere: LOW_COMMISSION_RATE picks Halkbank's 1.9 %.
    let mut body = payment_body(GARANTI_CARD);
    body["routingOptions"] = json!({"orderingRule": "LOW_COMMISSION_RATE"});
    let (_, cheap) = app.pay(&body).await;
    assert_eq!(paid_on(&cheap), app.halkbank_alias);
    let candidates = cheap["data"]["routing"]["decision"]["candidates"]
        .as_array()
        .unwrap();
    let rates: Vec<String> = candidates
        .iter()
        .map(|c| c["costRate"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(rates, vec!["1.9", "2.2", "2.5"]);

    // IN_ORDER keeps orderNumber.
    body["routingOptions"] = json!({"orderingRule": "IN_ORDER"});
    let (_, first) = app.pay(&body).await;
    assert_eq!(paid_on(&first), app.isbank_alias);
    assert_eq!(app.bank_orders(ISBANK_CLIENT).await.len(), 1);
    assert_eq!(app.bank_orders(HALKBANK_CLIENT).await.len(), 2);
}

#[tokio::test]
async fn rules_are_validated_applied_and_explained_by_a_dry_run() {
    let app = TestApp::spawn().await;
    three_banks(&app).await;
    let (status, bad) = app
        .call("PUT", "/merchant/v1/routing", Some(&json!({"orderingRule": "IN_ORDER", "rules": [{"id": 1, "name": "x", "priority": 1, "conditions": [], "action": {"type": "PIN", "alias": "no-such-pos"}}]})))
        .await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(bad["errors"]["errorCode"], "4601");
    let rules = json!({"orderingRule": "IN_ORDER", "rules": [
        {"id": 7, "name": "Visa to Halkbank", "priority": 1,
         "conditions": [{"type": "CARD_ASSOCIATION", "values": ["VISA"]}],
         "action": {"type": "PIN", "alias": app.halkbank_alias}}
    ]});
    let (status, saved) = app.call("PUT", "/merchant/v1/routing", Some(&rules)).await;
    assert_eq!(status, 200, "{saved}");
    let (status, dry) = app
        .call(
            "POST",
            "/merchant/v1/routing/dry-run",
            Some(&json!({"binNumber": "40430800", "price": 100, "currency": "TRY"})),
        )
        .await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["data"]["chosenPosAlias"], app.halkbank_alias.as_str());
    assert_eq!(dry["data"]["decision"]["appliedRules"][0]["ruleId"], 7);
    assert!(
        app.bank_orders(HALKBANK_CLIENT).await.is_empty(),
        "a dry run charges nothing"
    );
    // A Mastercard is not pinned.
    let (_, dry) = app
        .call(
            "POST",
            "/merchant/v1/routing/dry-run",
            Some(&json!({"binNumber": "52586400", "price": 100})),
        )
        .await;
    assert_eq!(dry["data"]["chosenPosAlias"], app.isbank_alias.as_str());
    let (_, paid) = app.pay(&payment_body(GARANTI_CARD)).await;
    assert_eq!(paid_on(&paid), app.halkbank_alias);
    let (status, read) = app.call("GET", "/merchant/v1/routing", None).await;
    assert_eq!(status, 200);
    assert_eq!(read["data"]["rules"][0]["id"], 7);
}

#[tokio::test]
async fn installment_offers_and_charges_agree_and_the_cost_report_adds_up() {
    let app = TestApp::spawn().await;
    three_banks(&app).await;
    let (status, offer) = app
        .call(
            "GET",
            "/installment/v1/installments?binNumber=52586400&price=100&currency=TRY",
            None,
        )
        .await;
    assert_eq!(status, 200, "{offer}");
    let item = &offer["data"]["items"][0];
    assert_eq!(item["cardBrand"], "World");
    let prices = item["installmentPrices"].as_array().unwrap();
    assert_eq!(prices.len(), 3, "{prices:?}");
    let three = prices.iter().find(|p| p["installmentNumber"] == 3).unwrap();
    assert_eq!(three["totalPrice"].to_string(), "103.00");
    assert_eq!(three["installmentPrice"].to_string(), "34.33");
    // Charging the offered total in 3 installments works on the offered POS.
    let mut body = payment_body(GOOD_CARD);
    body["paidPrice"] = json!(103.0);
    body["installment"] = json!(3);
    let (status, paid) = app.pay(&body).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid_on(&paid), three["posAlias"].as_str().unwrap());
    let (status, _) = app
        .call(
            "GET",
            "/installment/v1/installments?binNumber=abc&price=100",
            None,
        )
        .await;
    assert_eq!(status, 400);

    let (_, single) = app.pay(&payment_body(GOOD_CARD)).await;
    assert_eq!(single["data"]["bankCommissionRate"].to_string(), "2.5");
    let (status, report) = app
        .call(
            "GET",
            "/merchant/v1/routing/cost-report?startDate=2020-01-01&endDate=2099-01-01",
            None,
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["data"]["paymentCount"], 2);
    assert_eq!(report["data"]["defaultPosAlias"], app.isbank_alias.as_str());
}
