//! `/file-reporting/v1/*`: bad queries are refused in the envelope; files are merchant's own.

use serde_json::{Value, json};

use crate::app::{GOOD_CARD, TestApp, payment_body};

#[tokio::test]
async fn bad_report_queries_get_clear_errors() {
    let app = TestApp::spawn().await;
    for (path, needle) in [
        (
            "/file-reporting/v1/payment-reports",
            "reportDate is required",
        ),
        (
            "/file-reporting/v1/payment-reports?reportDate=27.11.2026",
            "reportDate must be",
        ),
        (
            "/file-reporting/v1/transaction-reports?reportDate=2026-11-27&fileType=PDF",
            "fileType",
        ),
        ("/file-reporting/v1/reports/abc", "report"),
    ] {
        let (status, body) = app.call("GET", path, None).await;
        assert!(status == 400 || status == 404, "{path}: {status} {body}");
        assert!(
            body["errors"]["errorDescription"]
                .as_str()
                .unwrap_or_default()
                .contains(needle),
            "{path}: {body}"
        );
    }
    let (status, body) = app
        .call("POST", "/file-reporting/v1/report-demands", Some(&json!({"startDate": "2026-11-01T00:00:00", "endDate": "2026-11-02T00:00:00", "reportType": "REFUNDS"})))
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = app
        .call("GET", "/file-reporting/v1/reports/999999", None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_daily_report_lists_the_days_payments() {
    let app = TestApp::spawn().await;
    let (status, payment) = app
        .call(
            "POST",
            "/payment/v1/card-payments",
            Some(&payment_body(GOOD_CARD)),
        )
        .await;
    assert_eq!(status, 200, "{payment}");
    let id = payment["data"]["id"].as_i64().unwrap();
    let day = payment["data"]["createdDate"].as_str().unwrap()[..10].to_owned();
    let (status, body) = app
        .call(
            "GET",
            &format!("/file-reporting/v1/payment-reports?reportDate={day}&fileType=CSV"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let Value::String(text) = body else {
        panic!("a CSV file, not JSON: {body}")
    };
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("paymentId,createdDate,paymentStatus"));
    let row = lines
        .iter()
        .find(|l| l.starts_with(&format!("{id},")))
        .expect("the payment's row");
    assert!(
        row.contains(",SUCCESS,AUTH,100.00,100.00,0.00,TRY,1,"),
        "{row}"
    );
    assert!(!text.contains(GOOD_CARD));
}
