use std::sync::Arc;

use serde_json::{Value, json};

use crate::app::{GOOD_CARD, TestApp};

/// The hidden inputs and action of the first form in a page.
pub fn form_of(html: &str) -> (String, Vec<(String, String)>) {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(
            tag[start..end]
                .replace("&amp;", "&")
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&#39;", "'"),
        )
    };
    let form_start = html.find("<form").expect("a form");
    let form_tag = &html[form_start..form_start + html[form_start..].find('>').unwrap()];
    let action = attr(form_tag, "action").unwrap_or_default();
    let mut fields = Vec::new();
    let mut rest = &html[form_start..];
    while let Some(i) = rest.find("<input") {
        let tag = &rest[i..i + rest[i..].find('>').unwrap()];
        if let Some(name) = attr(tag, "name") {
            fields.push((name, attr(tag, "value").unwrap_or_default()));
        }
        rest = &rest[i + 6..];
    }
    (action, fields)
}

fn init_body(price: f64) -> Value {
    json!({
        "price": price, "paidPrice": price, "currency": "TRY", "paymentGroup": "PRODUCT",
        "conversationId": "co-1", "callbackUrl": "https://merchant.example/return",
        "enabledInstallments": [1, 2, 3],
        "items": [{"name": "Kitap", "price": price}],
    })
}

async fn get_page(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = app
        .http
        .get(format!("{}{}", app.base, path))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let body: String = fields
        .iter()
        .map(|(k, v)| format!("{}={}", k, v.replace(' ', "+").replace('/', "%2F")))
        .collect::<Vec<_>>()
        .join("&");
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        format!("{}{}", app.base, path)
    };
    let response = app
        .http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn card_fields<'a>(number: &'a str, installment: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("cardHolderName", "Haluk Demir"),
        ("cardNumber", number),
        ("expiry", "07/44"),
        ("cvc", "000"),
        ("installment", installment),
    ]
}

#[tokio::test]
async fn checkout_page_is_self_contained_and_strict() {
    let app = TestApp::spawn().await;
    let (status, init) = app
        .call(
            "POST",
            "/payment/v1/checkout-payments/init",
            Some(&init_body(250.0)),
        )
        .await;
    assert_eq!(status, 200, "{init}");
    let token = init["data"]["token"].as_str().unwrap().to_owned();
    assert!(
        init["data"]["pageUrl"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/checkout/{token}"))
    );
    let (status, headers, page) = get_page(&app, &format!("/checkout/{token}")).await;
    assert_eq!(status, 200);
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(headers["cache-control"], "no-store, max-age=0");
    // No external resource: every src/href is same-origin.
    for attr in ["src=\"", "href=\""] {
        for part in page.split(attr).skip(1) {
            assert!(
                part.starts_with('/') || part.starts_with('#'),
                "external resource: {}",
                &part[..part.find('"').unwrap()]
            );
        }
    }
    assert!(page.contains("250,00 TL"));
    let (_, headers, _) = get_page(&app, &format!("/checkout/{token}?iframe=true&lang=en")).await;
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors *")
    );

    let (status, _, options) = get_page(
        &app,
        &format!("/checkout/{token}/installments?bin=52586400"),
    )
    .await;
    assert_eq!(status, 200);
    let options: Value = serde_json::from_str(&options).unwrap();
    assert_eq!(options["cardBrand"], "World");
    assert_eq!(options["options"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_declined_card_can_retry_and_the_success_returns_the_token() {
    let app = TestApp::spawn().await;
    let (_, init) = app
        .call(
            "POST",
            "/payment/v1/checkout-payments/init",
            Some(&init_body(100.0)),
        )
        .await;
    let token = init["data"]["token"].as_str().unwrap().to_owned();

    let (status, page) = post_form(
        &app,
        &format!("/checkout/{token}/pay"),
        &card_fields("5100050000006661", "1"),
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("Kart limiti yetersiz"), "{page}");

    let (status, page) = post_form(
        &app,
        &format!("/checkout/{token}/pay"),
        &card_fields(GOOD_CARD, "3"),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let (action, fields) = form_of(&page);
    assert_eq!(action, "https://merchant.example/return");
    assert_eq!(fields, vec![("token".to_owned(), token.clone())]);

    let (status, payment) = app
        .call(
            "GET",
            &format!("/payment/v1/checkout-payments/{token}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{payment}");
    assert_eq!(payment["data"]["paymentStatus"], "SUCCESS");
    assert_eq!(payment["data"]["paymentSource"], "CHECKOUT_FORM");
    assert_eq!(payment["data"]["installment"], 3);
    // A paid token is single use.
    let (status, _) = post_form(
        &app,
        &format!("/checkout/{token}/pay"),
        &card_fields(GOOD_CARD, "1"),
    )
    .await;
    assert_eq!(status, 410);
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/payment/v1/checkout-payments/{token}"),
            None,
        )
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn expired_tokens_and_other_merchants_are_refused() {
    let app = TestApp::spawn().await;
    let (_, init) = app
        .call(
            "POST",
            "/payment/v1/checkout-payments/init",
            Some(&init_body(10.0)),
        )
        .await;
    let token = init["data"]["token"].as_str().unwrap().to_owned();
    let other = app
        .engine
        .create_merchant("Other", None, None)
        .await
        .unwrap();
    let (status, _) = app
        .call_as(
            &other.api_key,
            &other.secret_key,
            "DELETE",
            &format!("/payment/v1/checkout-payments/{token}"),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/payment/v1/checkout-payments/{token}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, _) = get_page(&app, &format!("/checkout/{token}")).await;
    assert_eq!(status, 410);
    let (status, bad) = app
        .call(
            "POST",
            "/payment/v1/checkout-payments/init",
            Some(&json!({"price": 10, "items": [{"price": 10}]})),
        )
        .await;
    assert_eq!(status, 400, "{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pay_by_link_product_never_oversells() {
    let app = Arc::new(TestApp::spawn().await);
    let (status, product) = app
        .call("POST", "/craftlink/v1/products", Some(&json!({"name": "Konser bileti", "price": 75.5, "currency": "TRY", "stock": 2, "description": "Ön sıra"})))
        .await;
    assert_eq!(status, 200, "{product}");
    let url = product["data"]["url"].as_str().unwrap().to_owned();
    let link_token = product["data"]["token"].as_str().unwrap().to_owned();
    let (status, headers, png) = {
        let r = app
            .http
            .get(product["data"]["qrCodeUrl"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        (
            r.status().as_u16(),
            r.headers().clone(),
            r.bytes().await.unwrap(),
        )
    };
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(&png[..4], b"\x89PNG");
    let (_, _, page) = get_page(&app, &url.replace(&app.base, "")).await;
    assert!(
        page.contains("Konser bileti") && page.contains("75,50 TL"),
        "{page}"
    );

    // Five shoppers open the link and pay at once; two units exist.
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let app = app.clone();
        let link_token = link_token.clone();
        tasks.push(tokio::spawn(async move {
            let response = app
                .http
                .post(format!("{}/pay/{link_token}/checkout", app.base))
                .send()
                .await
                .unwrap();
            // reqwest follows the redirect to the checkout page.
            let checkout_path = response.url().path().to_owned();
            if !checkout_path.starts_with("/checkout/") {
                return false;
            }
            let (status, _) = post_form(
                &app,
                &format!("{checkout_path}/pay"),
                &card_fields(GOOD_CARD, "1"),
            )
            .await;
            status == 200
        }));
    }
    let mut paid = 0;
    for task in tasks {
        if task.await.unwrap() {
            paid += 1;
        }
    }
    assert_eq!(paid, 2);
    let (_, read) = app
        .call(
            "GET",
            &format!("/craftlink/v1/products/{}", product["data"]["id"]),
            None,
        )
        .await;
    assert_eq!(read["data"]["soldCount"], 2);
    let (_, _, page) = get_page(&app, &format!("/pay/{link_token}")).await;
    assert!(page.contains("tükendi"), "{page}");
    let (_, search) = app
        .call(
            "GET",
            "/payment-reporting/v1/payments?paymentSource=PAY_BY_LINK&paymentStatus=SUCCESS",
            None,
        )
        .await;
    assert_eq!(search["data"]["totalSize"], 2);
}

#[tokio::test]
async fn a_declined_link_purchase_gives_the_unit_back() {
    let app = TestApp::spawn().await;
    let (_, product) = app
        .call(
            "POST",
            "/craftlink/v1/products",
            Some(&json!({"name": "Tek ürün", "price": 10, "currency": "TRY", "stock": 1})),
        )
        .await;
    let link_token = product["data"]["token"].as_str().unwrap().to_owned();
    let response = app
        .http
        .post(format!("{}/pay/{link_token}/checkout", app.base))
        .send()
        .await
        .unwrap();
    let checkout_path = response.url().path().to_owned();
    let (status, _) = post_form(
        &app,
        &format!("{checkout_path}/pay"),
        &card_fields("5100050000006661", "1"),
    )
    .await;
    assert_eq!(status, 422);
    let (_, read) = app
        .call(
            "GET",
            &format!("/craftlink/v1/products/{}", product["data"]["id"]),
            None,
        )
        .await;
    assert_eq!(read["data"]["soldCount"], 0);
    let (status, _) = post_form(
        &app,
        &format!("{checkout_path}/pay"),
        &card_fields(GOOD_CARD, "1"),
    )
    .await;
    assert_eq!(status, 200);
    let (_, read) = app
        .call(
            "GET",
            &format!("/craftlink/v1/products/{}", product["data"]["id"]),
            None,
        )
        .await;
    assert_eq!(read["data"]["soldCount"], 1);

    let (status, list) = app
        .call("GET", "/craftlink/v1/products?name=Tek", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["data"]["totalSize"], 1);
    let (status, _) = app
        .call(
            "PUT",
            &format!("/craftlink/v1/products/{}", product["data"]["id"]),
            Some(&json!({"status": "PASSIVE"})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, _, page) = get_page(&app, &format!("/pay/{link_token}")).await;
    assert!(page.contains("unavailable"), "{page}");
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/craftlink/v1/products/{}", product["data"]["id"]),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, _) = get_page(&app, &format!("/pay/{link_token}")).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_checkout_paid_from_two_tabs_at_once_charges_once() {
    let app = Arc::new(TestApp::spawn().await);
    let (_, init) = app
        .call(
            "POST",
            "/payment/v1/checkout-payments/init",
            Some(&init_body(100.0)),
        )
        .await;
    let token = init["data"]["token"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let app = app.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            post_form(
                &app,
                &format!("/checkout/{token}/pay"),
                &card_fields(GOOD_CARD, "1"),
            )
            .await
            .0
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(app.bank_orders(crate::app::ISBANK_CLIENT).await.len(), 1);
    let (_, search) = app
        .call(
            "GET",
            "/payment-reporting/v1/payments?paymentStatus=SUCCESS",
            None,
        )
        .await;
    assert_eq!(search["data"]["totalSize"], 1);
}

#[tokio::test]
async fn card_brand_installments_and_the_merchant_webhook_url() {
    let app = TestApp::spawn().await;
    let (hook_url, site) = crate::webhooks::merchant_site(0).await;
    let mut body = init_body(100.0);
    body["cardBrandInstallments"] = json!({
        "World": [{"number": 2, "totalPrice": 104.5}, {"number": 6}],
    });
    body["merchantWebhookUrl"] = json!(hook_url);
    let (status, init) = app
        .call("POST", "/payment/v1/checkout-payments/init", Some(&body))
        .await;
    assert_eq!(status, 200, "{init}");
    let token = init["data"]["token"].as_str().unwrap().to_owned();

    let options = |bin: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            let (status, _, options) =
                get_page(app, &format!("/checkout/{token}/installments?bin={bin}")).await;
            assert_eq!(status, 200, "{options}");
            let options: Value = serde_json::from_str(&options).unwrap();
            options["options"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| (o["installment"].as_u64().unwrap(), o["totalPrice"].clone()))
                .collect::<Vec<_>>()
        }
    };
    // A World card gets the World list (its totals, or paidPrice when none is given) ...
    let world = options("52586400").await;
    assert_eq!(
        world.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        vec![2, 6],
        "{world:?}"
    );
    // ... a Bonus card the general enabledInstallments.
    let bonus = options("40430800").await;
    assert_eq!(
        bonus.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        vec![1, 2, 3],
        "{bonus:?}"
    );
    // An installment count outside the card's list is refused.
    let (status, _) = post_form(
        &app,
        &format!("/checkout/{token}/pay"),
        &card_fields(GOOD_CARD, "3"),
    )
    .await;
    assert_eq!(status, 422);
    let (status, page) = post_form(
        &app,
        &format!("/checkout/{token}/pay"),
        &card_fields(GOOD_CARD, "2"),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let (_, payment) = app
        .call(
            "GET",
            &format!("/payment/v1/checkout-payments/{token}"),
            None,
        )
        .await;
    assert_eq!(payment["data"]["paidPrice"], 104.5);

    // The token reaches merchantWebhookUrl as JSON, through the webhook outbox, even though
    // the merchant has no webhook URL of its own.
    assert_eq!(app.engine.deliver_webhooks().await.unwrap(), 1);
    let received = site.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].1, json!({"token": token}));

    body["merchantWebhookUrl"] = json!("javascript:alert(1)");
    let (status, _) = app
        .call("POST", "/payment/v1/checkout-payments/init", Some(&body))
        .await;
    assert_eq!(status, 400);
}
