//! The closed-loop wallet end to end: wallets, the merchant's wallet, remittances,
//! withdrawals, card top-ups (with their holds), wallet and card-and-wallet payments,
//! refunds into a wallet and out of it, and the ledger's guarantees under concurrency.
//! Every test ends by proving the books with `engine::wallet::verify_ledger`.

use std::sync::Arc;
use std::time::Duration;

use domain::money::{Currency, MinorUnits};
use engine::wallet::{LedgerBatcher, TransferCode, TransferId, verify_ledger};
use serde_json::{Value, json};

use crate::app::{GOOD_CARD, ISBANK_CLIENT, TestApp, payment_body};

const DECLINED_CARD: &str = "5100050000006661"; // NOT_SUFFICIENT_FUNDS at the bank

async fn member(app: &TestApp, name: &str) -> i64 {
    let (status, body) = app
        .call(
            "POST",
            "/onboarding/v1/members",
            Some(&json!({"name": name, "isBuyer": true, "email": "m@example.com"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"]["id"].as_i64().unwrap()
}

async fn wallet_of(app: &TestApp, member_id: i64, limit: f64) -> Value {
    let (status, body) = app
        .call(
            "POST",
            &format!("/wallet/v1/members/{member_id}/wallets"),
            Some(&json!({"negativeAmountLimit": limit, "currency": "TRY"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

async fn balance(app: &TestApp, member_id: i64) -> f64 {
    let (status, body) = app
        .call(
            "GET",
            &format!("/wallet/v1/members/{member_id}/wallet"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    m(&body["data"]["amount"])
}

/// A money value as a number (JSON numbers keep their text: `100.00` is not `100.0`).
fn m(v: &Value) -> f64 {
    v.to_string().parse().unwrap_or(f64::NAN)
}

async fn assert_books_balance(app: &TestApp) {
    let report = verify_ledger(app.engine.store()).await.unwrap();
    assert!(
        report.violations.is_empty(),
        "ledger violations: {:?}",
        report.violations
    );
    assert_eq!(report.pending_open, 0, "holds left pending");
}

/// The merchant's wallet holds `amount` TRY.
async fn fund_merchant(app: &TestApp, amount: f64) {
    let (status, body) = app
        .call(
            "POST",
            "/wallet/v1/merchants/me/wallet/reset-balance",
            Some(&json!({"walletAmount": amount})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn send(app: &TestApp, member_id: i64, price: f64) -> (u16, Value) {
    app.call(
        "POST",
        "/wallet/v1/remittances/send",
        Some(
            &json!({"memberId": member_id, "price": price, "currency": "TRY",
                     "description": "bonus", "remittanceReasonType": "REDEEM_ONLY_LOYALTY"}),
        ),
    )
    .await
}

fn deposit_body(member_id: i64, price: f64, card: &str) -> Value {
    json!({
        "buyerMemberId": member_id,
        "price": price,
        "currency": "TRY",
        "conversationId": "deposit-1",
        "card": {"cardHolderName": "Haluk Demir", "cardNumber": card, "expireYear": "2044", "expireMonth": "07", "cvc": "000"},
    })
}

#[tokio::test]
async fn wallets_remittances_and_withdrawals() {
    let app = TestApp::spawn().await;
    let member_id = member(&app, "Ayşe").await;
    let wallet = wallet_of(&app, member_id, 0.0).await;
    assert_eq!(wallet["memberId"], member_id);
    assert_eq!(m(&wallet["amount"]), 0.0);
    assert_eq!(wallet["currency"], "TRY");
    let wallet_id = wallet["id"].as_i64().unwrap();

    // One wallet per member; unknown members have none.
    let (status, body) = app
        .call(
            "POST",
            &format!("/wallet/v1/members/{member_id}/wallets"),
            Some(&json!({"negativeAmountLimit": 0, "currency": "TRY"})),
        )
        .await;
    assert_eq!(
        (status, body["errors"]["errorCode"].clone()),
        (400, json!("4602"))
    );
    let (status, _) = app
        .call("GET", "/wallet/v1/members/999999/wallet", None)
        .await;
    assert_eq!(status, 404);

    // The merchant's wallet funds remittances; it cannot go negative.
    let (status, body) = app
        .call("GET", "/wallet/v1/merchants/me/wallet", None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(m(&body["data"]["amount"]), 0.0);
    assert_eq!(body["data"]["memberId"], Value::Null);
    let (status, body) = send(&app, member_id, 10.0).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"]["errorGroup"], "NOT_SUFFICIENT_FUNDS");
    fund_merchant(&app, 1000.0).await;
    let (status, sent) = send(&app, member_id, 150.25).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["data"]["remittanceType"], "SEND");
    assert_eq!(m(&sent["data"]["price"]), 150.25);
    assert_eq!(sent["data"]["remittanceReasonType"], "REDEEM_ONLY_LOYALTY");
    let (status, read) = app
        .call(
            "GET",
            &format!("/wallet/v1/remittances/{}", sent["data"]["id"]),
            None,
        )
        .await;
    assert_eq!((status, &read["data"]), (200, &sent["data"]));
    let (status, received) = app
        .call(
            "POST",
            "/wallet/v1/remittances/receive",
            Some(&json!({"memberId": member_id, "price": 0.25, "currency": "TRY"})),
        )
        .await;
    assert_eq!(status, 200, "{received}");
    assert_eq!(received["data"]["remittanceType"], "RECEIVE");
    assert_eq!(balance(&app, member_id).await, 150.0);
    let (_, merchant) = app
        .call("GET", "/wallet/v1/merchants/me/wallet", None)
        .await;
    assert_eq!(m(&merchant["data"]["amount"]), 850.0);
    // Reset takes the merchant's wallet to a value, up or down.
    fund_merchant(&app, 100.0).await;
    let (_, merchant) = app
        .call("GET", "/wallet/v1/merchants/me/wallet", None)
        .await;
    assert_eq!(m(&merchant["data"]["amount"]), 100.0);

    // A withdrawal leaves the wallet at once; cancelling returns it, once.
    let (status, body) = app
        .call(
            "POST",
            "/wallet/v1/withdraws",
            Some(&json!({"memberId": member_id, "price": 200.0, "currency": "TRY"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, withdraw) = app
        .call(
            "POST",
            "/wallet/v1/withdraws",
            Some(&json!({"memberId": member_id, "price": 40.0, "currency": "TRY", "description": "to IBAN"})),
        )
        .await;
    assert_eq!(status, 200, "{withdraw}");
    assert_eq!(withdraw["data"]["payoutStatus"], "WAITING_FOR_PAYOUT");
    assert_eq!(balance(&app, member_id).await, 110.0);
    let withdraw_id = withdraw["data"]["id"].as_i64().unwrap();
    let (status, found) = app
        .call(
            "GET",
            &format!("/wallet/v1/withdraws?memberId={member_id}&payoutStatus=WAITING_FOR_PAYOUT"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["data"]["totalSize"], 1);
    let (status, cancelled) = app
        .call(
            "POST",
            &format!("/wallet/v1/withdraws/{withdraw_id}/cancel"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["data"]["payoutStatus"], "CANCELLED");
    let (status, again) = app
        .call(
            "POST",
            &format!("/wallet/v1/withdraws/{withdraw_id}/cancel"),
            None,
        )
        .await;
    assert_eq!(
        (status, again["errors"]["errorCode"].clone()),
        (422, json!("4605"))
    );
    assert_eq!(balance(&app, member_id).await, 150.0);

    // The wallet's transactions, newest first, signed from the wallet's side.
    let (status, txs) = app
        .call(
            "GET",
            &format!("/wallet/v1/wallets/{wallet_id}/wallet-transactions?page=0&size=10"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{txs}");
    let types: Vec<&str> = txs["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["walletTransactionType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["WITHDRAW_CANCEL", "WITHDRAW", "REMITTANCE", "REMITTANCE"]
    );
    assert_eq!(m(&txs["data"]["items"][1]["amount"]), -40.0);
    let (_, only) = app
        .call(
            "GET",
            &format!("/wallet/v1/wallets/{wallet_id}/wallet-transactions?walletTransactionTypes=WITHDRAW,WITHDRAW_CANCEL&minAmount=1"),
            None,
        )
        .await;
    assert_eq!(only["data"]["totalSize"], 2, "{only}");

    // A negative limit lets the wallet go below zero, and cannot be cut below the debt.
    let (status, updated) = app
        .call(
            "PUT",
            &format!("/wallet/v1/members/{member_id}/wallets/{wallet_id}"),
            Some(&json!({"negativeAmountLimit": 50})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(m(&updated["data"]["negativeAmountLimit"]), 50.0);
    let (status, body) = app
        .call(
            "POST",
            "/wallet/v1/remittances/receive",
            Some(&json!({"memberId": member_id, "price": 180.0, "currency": "TRY"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(balance(&app, member_id).await, -30.0);
    // The limit lends for payments and remittances, never for a withdrawal.
    let (status, body) = app
        .call(
            "POST",
            "/wallet/v1/withdraws",
            Some(&json!({"memberId": member_id, "price": 1.0, "currency": "TRY"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"]["errorGroup"], "NOT_SUFFICIENT_FUNDS");
    let (status, body) = app
        .call(
            "PUT",
            &format!("/wallet/v1/members/{member_id}/wallets/{wallet_id}"),
            Some(&json!({"negativeAmountLimit": 10})),
        )
        .await;
    assert_eq!(
        (status, body["errors"]["errorCode"].clone()),
        (422, json!("4606"))
    );
    assert_books_balance(&app).await;
}

#[tokio::test]
async fn deposits_hold_until_the_card_answers() {
    let app = TestApp::spawn().await;
    let member_id = member(&app, "Deniz").await;
    let wallet_id = wallet_of(&app, member_id, 0.0).await["id"]
        .as_i64()
        .unwrap();

    let (status, deposit) = app
        .call(
            "POST",
            "/payment/v1/deposits",
            Some(&deposit_body(member_id, 100.0, GOOD_CARD)),
        )
        .await;
    assert_eq!(status, 200, "{deposit}");
    let d = &deposit["data"];
    assert_eq!(d["paymentType"], "DEPOSIT_PAYMENT");
    assert_eq!(d["paymentStatus"], "SUCCESS");
    assert_eq!(d["buyerMemberId"], member_id);
    assert_eq!(
        d["walletTransaction"]["walletTransactionType"],
        "DEPOSIT_FROM_CARD"
    );
    assert_eq!(m(&d["walletTransaction"]["amount"]), 100.0);
    assert_eq!(d["walletTransaction"]["walletId"], wallet_id);
    assert_eq!(balance(&app, member_id).await, 100.0);

    // A declined card: the hold is voided, nothing reaches the wallet.
    let (status, body) = app
        .call(
            "POST",
            "/payment/v1/deposits",
            Some(&deposit_body(member_id, 50.0, DECLINED_CARD)),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"]["errorGroup"], "NOT_SUFFICIENT_FUNDS");
    assert_eq!(balance(&app, member_id).await, 100.0);

    // Deposits need a wallet in the currency.
    let other = member(&app, "No wallet").await;
    let (status, body) = app
        .call(
            "POST",
            "/payment/v1/deposits",
            Some(&deposit_body(other, 10.0, GOOD_CARD)),
        )
        .await;
    assert_eq!(
        (status, body["errors"]["errorCode"].clone()),
        (400, json!("4603"))
    );

    // Part of the top-up goes back to the card; the wallet pays it.
    let tx_id = d["walletTransaction"]["id"].as_i64().unwrap();
    let (status, refundable) = app
        .call(
            "GET",
            &format!("/payment/v1/wallet-transactions/{tx_id}/refundable-amount"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{refundable}");
    assert_eq!(m(&refundable["data"]["refundableAmount"]), 100.0);
    // Before the bank's end of day a partial credit is refused: the hold is voided.
    let (status, body) = app
        .call(
            "POST",
            &format!("/payment/v1/wallet-transactions/{tx_id}/refunds"),
            Some(&json!({"refundPrice": 30.0})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(balance(&app, member_id).await, 100.0);
    app.settle().await;
    let (status, refund) = app
        .call(
            "POST",
            &format!("/payment/v1/wallet-transactions/{tx_id}/refunds"),
            Some(&json!({"refundPrice": 30.0})),
        )
        .await;
    assert_eq!(status, 200, "{refund}");
    assert_eq!(refund["data"]["refundStatus"], "SUCCESS");
    assert_eq!(refund["data"]["transactionType"], "WALLET_TX");
    assert_eq!(refund["data"]["walletTransactionId"], tx_id);
    assert_eq!(balance(&app, member_id).await, 70.0);
    let (_, refundable) = app
        .call(
            "GET",
            &format!("/payment/v1/wallet-transactions/{tx_id}/refundable-amount"),
            None,
        )
        .await;
    assert_eq!(m(&refundable["data"]["refundableAmount"]), 70.0);
    let (status, list) = app
        .call(
            "GET",
            &format!("/payment/v1/wallet-transactions/{tx_id}/refunds"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"]["totalSize"], 2);
    // The wallet spent the money: the card cannot have it back.
    let (status, _) = app
        .call(
            "POST",
            "/wallet/v1/remittances/receive",
            Some(&json!({"memberId": member_id, "price": 60.0, "currency": "TRY"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .call(
            "POST",
            &format!("/payment/v1/wallet-transactions/{tx_id}/refunds"),
            Some(&json!({"refundPrice": 20.0})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"]["errorGroup"], "NOT_SUFFICIENT_FUNDS");
    assert_eq!(balance(&app, member_id).await, 10.0);
    assert_books_balance(&app).await;
}

#[tokio::test]
async fn wallet_and_card_and_wallet_payments_and_refunds_to_the_wallet() {
    let app = TestApp::spawn().await;
    let member_id = member(&app, "Can").await;
    wallet_of(&app, member_id, 0.0).await;
    fund_merchant(&app, 500.0).await;
    assert_eq!(send(&app, member_id, 80.0).await.0, 200);

    // All from the wallet: no card, no bank.
    let mut body = payment_body(GOOD_CARD);
    body.as_object_mut().unwrap().remove("card");
    body["walletPrice"] = json!(100.0);
    body["buyerMemberId"] = json!(member_id);
    let (status, answer) = app.pay(&body).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["errors"]["errorGroup"], "NOT_SUFFICIENT_FUNDS");
    let mut body = payment_body(GOOD_CARD);
    body["price"] = json!(30.0);
    body["paidPrice"] = json!(30.0);
    body["items"] = json!([{"name": "a", "price": 10.0}, {"name": "b", "price": 20.0}]);
    body["walletPrice"] = json!(30.0);
    body["buyerMemberId"] = json!(member_id);
    let (status, paid) = app.pay(&body).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["data"]["paymentType"], "WALLET_PAYMENT");
    assert_eq!(paid["data"]["paymentStatus"], "SUCCESS");
    assert_eq!(m(&paid["data"]["walletPrice"]), 30.0);
    assert_eq!(
        m(&paid["data"]["paymentTransactions"][1]["walletPrice"]),
        20.0
    );
    assert_eq!(balance(&app, member_id).await, 50.0);
    let orders_before = app.bank_orders(ISBANK_CLIENT).await.len();

    // Card and wallet: the card pays what the wallet does not.
    let mut body = payment_body(GOOD_CARD);
    body["walletPrice"] = json!(20.0);
    body["buyerMemberId"] = json!(member_id);
    body["posAlias"] = json!(app.isbank_alias);
    let (status, mixed) = app.pay(&body).await;
    assert_eq!(status, 200, "{mixed}");
    assert_eq!(mixed["data"]["paymentType"], "CARD_AND_WALLET_PAYMENT");
    assert_eq!(m(&mixed["data"]["walletPrice"]), 20.0);
    assert_eq!(m(&mixed["data"]["paidPrice"]), 100.0);
    // The reporting API shows the same wallet part as the payment API.
    let (status, reported) = app
        .call(
            "GET",
            &format!("/payment-reporting/v1/payments/{}", mixed["data"]["id"]),
            None,
        )
        .await;
    assert_eq!(status, 200, "{reported}");
    assert_eq!(m(&reported["data"]["walletPrice"]), 20.0);
    let (_, search) = app
        .call("GET", "/payment-reporting/v1/payments?size=100", None)
        .await;
    let listed = search["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == mixed["data"]["id"])
        .cloned()
        .unwrap_or_default();
    assert_eq!(m(&listed["walletPrice"]), 20.0, "{search}");
    assert_eq!(balance(&app, member_id).await, 30.0);
    let orders = app.bank_orders(ISBANK_CLIENT).await;
    assert_eq!(orders.len(), orders_before + 1);
    let charged = orders
        .iter()
        .find(|o| o["orderId"] == mixed["data"]["orderId"])
        .expect("the bank's order");
    assert_eq!(
        charged["amountMinor"], 8_000,
        "the card paid 80.00: {charged}"
    );

    // A declined card gives the held wallet part back.
    let mut body = payment_body(DECLINED_CARD);
    body["walletPrice"] = json!(25.0);
    body["buyerMemberId"] = json!(member_id);
    body["retry"] = json!(false);
    let (status, declined) = app.pay(&body).await;
    assert_eq!(status, 422, "{declined}");
    assert_eq!(balance(&app, member_id).await, 30.0);

    // walletPrice needs its owner.
    let mut body = payment_body(GOOD_CARD);
    body["walletPrice"] = json!(5.0);
    let (status, answer) = app.pay(&body).await;
    assert_eq!(
        (status, answer["errors"]["errorCode"].clone()),
        (400, json!("4104"))
    );

    // Refunds of wallet money go back to the wallet, whatever the destination asked.
    let (status, refund) = app
        .call(
            "POST",
            "/payment/v1/refunds",
            Some(&json!({"paymentId": paid["data"]["id"], "refundDestinationType": "PROVIDER"})),
        )
        .await;
    assert_eq!(status, 200, "{refund}");
    assert_eq!(refund["data"]["refundDestinationType"], "WALLET");
    assert_eq!(m(&refund["data"]["refundWalletPrice"]), 30.0);
    assert_eq!(m(&refund["data"]["refundBankPrice"]), 0.0);
    assert_eq!(balance(&app, member_id).await, 60.0);
    let (status, again) = app
        .call(
            "POST",
            "/payment/v1/refunds",
            Some(&json!({"paymentId": paid["data"]["id"]})),
        )
        .await;
    assert_eq!(status, 422, "{again}");
    let item = mixed["data"]["paymentTransactions"][0]["id"].clone();
    let (status, partial) = app
        .call(
            "POST",
            "/payment/v1/refund-transactions",
            Some(&json!({"paymentTransactionId": item, "refundPrice": 15.0})),
        )
        .await;
    assert_eq!(status, 200, "{partial}");
    assert_eq!(m(&partial["data"]["refundWalletPrice"]), 15.0);
    assert_eq!(balance(&app, member_id).await, 75.0);

    // A card payment refunded into the buyer's wallet instead of the card.
    let mut body = payment_body(GOOD_CARD);
    body["buyerMemberId"] = json!(member_id);
    let (status, card) = app.pay(&body).await;
    assert_eq!(status, 200, "{card}");
    let (status, refund) = app
        .call(
            "POST",
            "/payment/v1/refunds",
            Some(&json!({"paymentId": card["data"]["id"], "refundDestinationType": "WALLET"})),
        )
        .await;
    assert_eq!(status, 200, "{refund}");
    assert_eq!(refund["data"]["refundType"], "CANCEL");
    assert_eq!(balance(&app, member_id).await, 175.0);
    let (_, txs) = app
        .call(
            "GET",
            &format!(
                "/wallet/v1/wallets/{}/wallet-transactions?walletTransactionTypes=CANCEL_REFUND_TO_WALLET,REFUND_TX_TO_WALLET,PAYMENT_REDEEM",
                balance_wallet_id(&app, member_id).await
            ),
            None,
        )
        .await;
    assert_eq!(txs["data"]["totalSize"], 5, "{txs}");
    // No buyer, no wallet refund.
    let (status, card) = app.pay(&payment_body(GOOD_CARD)).await;
    assert_eq!(status, 200, "{card}");
    let (status, body) = app
        .call(
            "POST",
            "/payment/v1/refunds",
            Some(&json!({"paymentId": card["data"]["id"], "refundDestinationType": "WALLET"})),
        )
        .await;
    assert_eq!(
        (status, body["errors"]["errorCode"].clone()),
        (400, json!("4301"))
    );
    assert_books_balance(&app).await;
}

async fn balance_wallet_id(app: &TestApp, member_id: i64) -> i64 {
    let (_, body) = app
        .call(
            "GET",
            &format!("/wallet/v1/members/{member_id}/wallet"),
            None,
        )
        .await;
    body["data"]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_hundred_parallel_debits_never_overdraw_one_wallet() {
    let app = Arc::new(TestApp::spawn().await);
    let member_id = member(&app, "Hot").await;
    wallet_of(&app, member_id, 0.0).await;
    fund_merchant(&app, 100.0).await;
    assert_eq!(send(&app, member_id, 50.0).await.0, 200);
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.call(
                "POST",
                "/wallet/v1/remittances/receive",
                Some(&json!({"memberId": member_id, "price": 1.0, "currency": "TRY"})),
            )
            .await
        }));
    }
    let mut ok = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            200 => ok += 1,
            422 => assert_eq!(body["errors"]["errorGroup"], "NOT_SUFFICIENT_FUNDS"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(ok, 50, "exactly the balance was debited");
    assert_eq!(balance(&app, member_id).await, 0.0);
    assert_books_balance(&app).await;
}

#[tokio::test]
async fn the_same_transfer_id_twice_moves_money_once() {
    let app = Arc::new(TestApp::spawn().await);
    let merchant_id = app.merchant.merchant_id;
    let a = member(&app, "A").await;
    let b = member(&app, "B").await;
    let wa = wallet_of(&app, a, 1000.0).await["id"].as_i64().unwrap();
    let wb = wallet_of(&app, b, 0.0).await["id"].as_i64().unwrap();
    let id = TransferId(0xfeed_beef);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.engine
                .wallet_transfer(
                    merchant_id,
                    id,
                    wa,
                    wb,
                    MinorUnits::from_stored(12_345),
                    Currency::Try,
                    TransferCode::Remittance,
                )
                .await
                .unwrap()
                .unwrap()
                .outcome
        }));
    }
    let mut applied = 0;
    for task in tasks {
        if task.await.unwrap() == ledger_applied() {
            applied += 1;
        }
    }
    assert_eq!(applied, 1);
    assert_eq!(balance(&app, b).await, 123.45);
    assert_eq!(balance(&app, a).await, -123.45);
    // The same id with other fields is refused, not applied.
    let other = app
        .engine
        .wallet_transfer(
            merchant_id,
            id,
            wa,
            wb,
            MinorUnits::from_stored(1),
            Currency::Try,
            TransferCode::Remittance,
        )
        .await
        .unwrap();
    assert!(other.is_err(), "{other:?}");

    // Through the group commit: each id twice, and overdrafts refused one by one while the
    // rest of each batch applies. b holds 123.45; 100 distinct debits of 2.00: 61 fit.
    let batcher = Arc::new(LedgerBatcher::start(app.engine.clone(), 2, 32));
    let mut tasks = Vec::new();
    for n in 0..200u128 {
        let batcher = batcher.clone();
        tasks.push(tokio::spawn(async move {
            batcher
                .wallet_transfer(
                    merchant_id,
                    TransferId(1_000_000 + n % 100),
                    wb,
                    wa,
                    MinorUnits::from_stored(200),
                    Currency::Try,
                    TransferCode::Remittance,
                )
                .await
                .unwrap()
        }));
    }
    let (mut moved, mut replayed, mut refused) = (0, 0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(applied) if applied.outcome == ledger_applied() => moved += 1,
            Ok(_) => replayed += 1,
            Err(e) => {
                assert_eq!(e.to_string(), "the debit account's limit would be exceeded");
                refused += 1;
            }
        }
    }
    assert_eq!(moved, 61, "replayed {replayed}, refused {refused}");
    assert!(replayed <= 61);
    assert_eq!(balance(&app, b).await, 1.45);
    assert_books_balance(&app).await;
}

fn ledger_applied() -> engine::wallet::TransferOutcome {
    engine::wallet::TransferOutcome::Applied
}

#[tokio::test]
async fn an_unknown_card_outcome_keeps_the_top_up_pending_until_recovery() {
    let app = TestApp::spawn_with(Duration::from_millis(500)).await;
    let member_id = member(&app, "Ece").await;
    wallet_of(&app, member_id, 0.0).await;
    // The bank charges but the answer and the first inquiry are lost.
    app.fault(ISBANK_CLIENT, "drop_after", 1).await;
    app.fault(ISBANK_CLIENT, "http500", 1).await;
    let mut body = deposit_body(member_id, 40.0, GOOD_CARD);
    body["posAlias"] = json!(app.isbank_alias);
    let (status, deposit) = app.call("POST", "/payment/v1/deposits", Some(&body)).await;
    assert_eq!(status, 202, "{deposit}");
    assert_eq!(deposit["data"]["paymentStatus"], "WAITING");
    assert_eq!(deposit["data"]["walletTransaction"], Value::Null);
    // Pending credits are not spendable.
    assert_eq!(balance(&app, member_id).await, 0.0);
    let report = verify_ledger(app.engine.store()).await.unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert_eq!(report.pending_open, 1);
    for _ in 0..40 {
        app.engine.recover_due().await.unwrap();
        if balance(&app, member_id).await == 40.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(balance(&app, member_id).await, 40.0);
    assert_books_balance(&app).await;
}
