use serde_json::json;

use crate::app::{GOOD_CARD, TestApp, payment_body};

/// Reads the database file and its WAL, as an attacker with the disk would.
fn database_bytes(app: &TestApp) -> Option<Vec<u8>> {
    let path = app.sqlite_path.as_ref()?;
    let mut bytes = std::fs::read(path).ok()?;
    let mut wal = path.clone().into_os_string();
    wal.push("-wal");
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    Some(bytes)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn card_numbers_cvcs_and_pos_secrets_never_reach_the_database_in_clear() {
    let app = TestApp::spawn().await;
    let (status, _) = app.pay(&payment_body(GOOD_CARD)).await;
    assert_eq!(status, 200);
    let (status, _) = app.pay(&payment_body("5100050000006661")).await;
    assert_eq!(status, 422);
    let (status, stored) = app
        .call("POST", "/payment/v1/cards", Some(&json!({"cardHolderName": "A B", "cardNumber": "4043080000000003", "expireYear": "2044", "expireMonth": "07"})))
        .await;
    assert_eq!(status, 200, "{stored}");
    let mut with_token = payment_body("");
    with_token["card"] = json!({"cardUserKey": stored["data"]["cardUserKey"], "cardToken": stored["data"]["cardToken"]});
    assert_eq!(app.pay(&with_token).await.0, 200);
    let mut bad_cvc = payment_body(GOOD_CARD);
    bad_cvc["card"]["cvc"] = json!("9876");
    app.pay(&bad_cvc).await;
    let Some(bytes) = database_bytes(&app) else {
        return; // PostgreSQL: the same code path writes the same columns
    };
    assert!(bytes.len() > 10_000, "read the database");
    // (The Halkbank sandbox user's password equals its user name, which is not secret.)
    for secret in [
        GOOD_CARD,
        "5100050000006661",
        "9876",
        "ORKESTRA1",
        "SANDBOXKEY1",
        "SANDBOXKEY2",
        app.merchant.secret_key.as_str(),
    ] {
        assert!(
            !contains(&bytes, secret),
            "{secret} found in the database file"
        );
    }
    // What is stored: the BIN and the last four digits.
    assert!(contains(&bytes, "525864"));
}
