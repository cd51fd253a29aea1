//! The closed-loop wallet: members' wallets (`/wallet/v1/members/{memberId}/wallet[s]`), the
//! merchant's wallet (`/wallet/v1/merchants/me/wallet`), wallet transactions, remittances,
//! withdrawals, card top-ups (`/payment/v1/deposits`, 3D Secure included) and refunds of a
//! top-up back to its card (`/payment/v1/wallet-transactions/{id}/refunds`).

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::FixedOffset;
use domain::clock::parse_request_datetime;
use domain::enums::PaymentStatus;
use domain::money::{Currency, MinorUnits};
use engine::payments::PaymentView;
use engine::threeds::ThreeDsReturn;
use engine::wallet::{RemittanceInput, TransferCode, wallet_amounts};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use store::rows::RefundRow;
use store::{AccountRow, TransferRow, WalletTransactionFilter, WithdrawFilter, WithdrawRow};

use crate::AppState;
use crate::auth::Authenticated;
use crate::envelope::{ApiError, data};
use crate::json::{
    amount, decimal_opt, local_datetime, money_error, number, parse_body, parse_decimal, path_id,
    text_max,
};
use crate::payments::{CreatePaymentRequest, create_payment_of};
use crate::render;
use crate::reporting::page_of;

/// A money value that may be negative (balances within a negative limit, debits).
fn signed_money(minor: i64, currency: &str) -> Value {
    let currency: Currency = currency.parse().unwrap_or(Currency::Try);
    number(Decimal::new(minor, currency.minor_units()))
}

fn currency_of(raw: Option<&str>) -> Result<Currency, ApiError> {
    raw.unwrap_or("TRY")
        .parse()
        .map_err(|e| money_error("currency", e))
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e.to_string())
}

/// `WalletResponse`.
fn wallet(w: &AccountRow, zone: FixedOffset) -> Value {
    let (amount, withdrawable) = wallet_amounts(w);
    let c = w.currency.as_str();
    json!({
        "id": w.id,
        "createdDate": local_datetime(w.created_at, zone),
        "updatedDate": local_datetime(w.updated_at, zone),
        "amount": signed_money(amount, c),
        "withdrawalAmount": signed_money(withdrawable, c),
        "negativeAmountLimit": signed_money(w.negative_amount_limit.unwrap_or(0), c),
        "currency": c,
        "memberId": (w.member_id != 0).then_some(w.member_id),
    })
}

fn code_name(code: i64) -> &'static str {
    u16::try_from(code)
        .ok()
        .and_then(TransferCode::from_code)
        .map(TransferCode::as_str)
        .unwrap_or("UNKNOWN")
}

/// `WalletTransactionResponse`, from `wallet_id`'s side: credits positive, debits negative.
fn wallet_transaction(t: &TransferRow, wallet_id: i64, zone: FixedOffset) -> Value {
    let tr = &t.transfer;
    let amount = if tr.debit_account_id == wallet_id {
        -tr.amount
    } else {
        tr.amount
    };
    json!({
        "id": t.seq,
        "createdDate": local_datetime(tr.created_at, zone),
        "walletTransactionType": code_name(tr.code),
        "amount": signed_money(amount, &tr.currency),
        // What the movement belongs to: the payment, refund or withdrawal; a remittance is
        // its own transaction.
        "transactionId": if tr.ref_kind.as_deref() == Some(store::ref_kind::REMITTANCE) {
            Some(t.seq)
        } else {
            tr.ref_id
        },
        "walletId": wallet_id,
    })
}

/// `RemittanceResponse`.
fn remittance(t: &TransferRow, zone: FixedOffset) -> Value {
    let doc: Value = t
        .transfer
        .doc
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or(Value::Null);
    json!({
        "id": t.seq,
        "createdDate": local_datetime(t.transfer.created_at, zone),
        "status": "ACTIVE",
        "price": signed_money(t.transfer.amount, &t.transfer.currency),
        "currency": t.transfer.currency,
        "memberId": doc["memberId"],
        "remittanceType": doc["remittanceType"],
        "remittanceReasonType": doc["remittanceReasonType"],
        "description": doc["description"],
    })
}

/// `WithdrawResponse`.
fn withdraw(w: &WithdrawRow, zone: FixedOffset) -> Value {
    json!({
        "id": w.id,
        "createdDate": local_datetime(w.created_at, zone),
        "status": w.status,
        "price": signed_money(w.amount_minor, &w.currency),
        "description": w.description,
        "currency": w.currency,
        "payoutStatus": w.payout_status,
        "memberId": w.member_id,
        "payoutId": Value::Null,
    })
}

fn paged(items: Vec<Value>, page: i64, size: i64, total: i64) -> Value {
    render::paged(items, page, size, total)
}

// ---- wallets ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateWalletRequest {
    #[serde(default, deserialize_with = "decimal_opt")]
    negative_amount_limit: Option<Decimal>,
    currency: Option<String>,
}

fn limit_of(value: Option<Decimal>, currency: Currency) -> Result<MinorUnits, ApiError> {
    value
        .map(|v| {
            MinorUnits::from_decimal_allow_zero(v, currency)
                .map_err(|e| money_error("negativeAmountLimit", e))
        })
        .transpose()
        .map(|v| v.unwrap_or(MinorUnits::ZERO))
}

pub async fn create_wallet(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(member_id): Path<String>,
) -> Result<Response, ApiError> {
    let member_id = path_id(&member_id, "member")?;
    let r: CreateWalletRequest = parse_body(&auth.body)?;
    let currency = currency_of(r.currency.as_deref())?;
    let limit = limit_of(r.negative_amount_limit, currency)?;
    let w = state
        .engine
        .create_wallet(auth.merchant.id, member_id, currency, limit)
        .await?;
    Ok(data(wallet(&w, state.engine.config().zone)))
}

pub async fn retrieve_member_wallet(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(member_id): Path<String>,
) -> Result<Response, ApiError> {
    let member_id = path_id(&member_id, "member")?;
    let w = state
        .engine
        .member_wallet(auth.merchant.id, member_id)
        .await?;
    Ok(data(wallet(&w, state.engine.config().zone)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateWalletRequest {
    #[serde(default, deserialize_with = "decimal_opt")]
    negative_amount_limit: Option<Decimal>,
}

pub async fn update_wallet(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path((member_id, wallet_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let member_id = path_id(&member_id, "member")?;
    let wallet_id = path_id(&wallet_id, "wallet")?;
    let r: UpdateWalletRequest = parse_body(&auth.body)?;
    let current = state.engine.wallet(auth.merchant.id, wallet_id).await?;
    let currency = currency_of(Some(&current.currency))?;
    let value = r
        .negative_amount_limit
        .ok_or_else(|| ApiError::bad_request("4001", "negativeAmountLimit is required"))?;
    let limit = limit_of(Some(value), currency)?;
    let w = state
        .engine
        .update_wallet(auth.merchant.id, member_id, wallet_id, limit)
        .await?;
    Ok(data(wallet(&w, state.engine.config().zone)))
}

pub async fn retrieve_merchant_wallet(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let w = state
        .engine
        .merchant_wallet(auth.merchant.id, Currency::Try)
        .await?;
    Ok(data(wallet(&w, state.engine.config().zone)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResetBalanceRequest {
    #[serde(default, deserialize_with = "decimal_opt")]
    wallet_amount: Option<Decimal>,
}

pub async fn reset_merchant_wallet(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let r: ResetBalanceRequest = parse_body(&auth.body)?;
    let value = r
        .wallet_amount
        .ok_or_else(|| ApiError::bad_request("4001", "walletAmount is required"))?;
    let target = MinorUnits::from_decimal_allow_zero(value, Currency::Try)
        .map_err(|e| money_error("walletAmount", e))?;
    let w = state
        .engine
        .reset_merchant_wallet(auth.merchant.id, target)
        .await?;
    Ok(data(wallet(&w, state.engine.config().zone)))
}

// ---- wallet transactions ---------------------------------------------------------------

fn text_q(q: &HashMap<String, String>, name: &str) -> Option<String> {
    q.get(name).filter(|v| !v.is_empty()).cloned()
}

fn time_q(
    q: &HashMap<String, String>,
    name: &str,
    zone: FixedOffset,
) -> Result<Option<i64>, ApiError> {
    text_q(q, name)
        .map(|v| {
            parse_request_datetime(&v, zone)
                .map(|t| t.timestamp_millis())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "4002",
                        format!("{name} must be a date-time like 2026-01-31T10:00:00"),
                    )
                })
        })
        .transpose()
}

fn amount_q(
    q: &HashMap<String, String>,
    name: &str,
    currency: Currency,
) -> Result<Option<i64>, ApiError> {
    text_q(q, name)
        .map(|v| {
            let d = parse_decimal(&v)
                .map_err(|e| ApiError::bad_request("4002", format!("{name}: {e}")))?;
            MinorUnits::from_decimal_allow_zero(d.abs(), currency)
                .map(MinorUnits::get)
                .map_err(|e| money_error(name, e))
        })
        .transpose()
}

pub async fn search_wallet_transactions(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(wallet_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let wallet_id = path_id(&wallet_id, "wallet")?;
    let page = page_of(&q)?;
    let zone = state.engine.config().zone;
    let w = state.engine.wallet(auth.merchant.id, wallet_id).await?;
    let currency = currency_of(Some(&w.currency))?;
    let mut codes = Vec::new();
    for name in text_q(&q, "walletTransactionTypes")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let code = TransferCode::ALL
            .into_iter()
            .find(|c| c.as_str() == name)
            .ok_or_else(|| {
                ApiError::bad_request("4002", format!("unknown walletTransactionType {name}"))
            })?;
        codes.push(i64::from(code.code()));
    }
    let filter = WalletTransactionFilter {
        codes,
        min_created: time_q(&q, "minCreatedDate", zone)?,
        max_created: time_q(&q, "maxCreatedDate", zone)?,
        min_amount: amount_q(&q, "minAmount", currency)?,
        max_amount: amount_q(&q, "maxAmount", currency)?,
    };
    let result = state
        .engine
        .wallet_transactions(auth.merchant.id, wallet_id, &filter, page)
        .await?;
    let items = result
        .items
        .iter()
        .map(|t| wallet_transaction(t, wallet_id, zone))
        .collect();
    Ok(data(paged(
        items,
        result.page,
        result.size,
        result.total_size,
    )))
}

// ---- remittances -----------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RemittanceRequest {
    member_id: Option<i64>,
    #[serde(default, deserialize_with = "decimal_opt")]
    price: Option<Decimal>,
    currency: Option<String>,
    description: Option<String>,
    remittance_reason_type: Option<String>,
}

const REMITTANCE_REASONS: [&str; 2] = ["SUBMERCHANT_SEND_RECEIVE", "REDEEM_ONLY_LOYALTY"];

async fn remit(state: AppState, auth: Authenticated, send: bool) -> Result<Response, ApiError> {
    let r: RemittanceRequest = parse_body(&auth.body)?;
    text_max("description", &r.description, 255)?;
    let member_id = r
        .member_id
        .ok_or_else(|| ApiError::bad_request("4001", "memberId is required"))?;
    let currency = currency_of(r.currency.as_deref())?;
    let price = amount("price", r.price, currency)?;
    if let Some(reason) = &r.remittance_reason_type
        && !REMITTANCE_REASONS.contains(&reason.as_str())
    {
        return Err(ApiError::bad_request(
            "4002",
            format!("unknown remittanceReasonType {reason}"),
        ));
    }
    let t = state
        .engine
        .remittance(
            auth.merchant.id,
            RemittanceInput {
                member_id,
                amount: price,
                currency,
                description: r.description,
                reason: r.remittance_reason_type,
                send,
            },
        )
        .await?;
    Ok(data(remittance(&t, state.engine.config().zone)))
}

pub async fn send_remittance(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    remit(state, auth, true).await
}

pub async fn receive_remittance(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    remit(state, auth, false).await
}

pub async fn retrieve_remittance(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "remittance")?;
    let t = state.engine.remittance_by_id(auth.merchant.id, id).await?;
    Ok(data(remittance(&t, state.engine.config().zone)))
}

// ---- withdrawals -----------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WithdrawRequest {
    #[serde(default, deserialize_with = "decimal_opt")]
    price: Option<Decimal>,
    member_id: Option<i64>,
    description: Option<String>,
    currency: Option<String>,
}

pub async fn create_withdraw(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let r: WithdrawRequest = parse_body(&auth.body)?;
    text_max("description", &r.description, 255)?;
    let member_id = r
        .member_id
        .ok_or_else(|| ApiError::bad_request("4001", "memberId is required"))?;
    let currency = currency_of(r.currency.as_deref())?;
    let price = amount("price", r.price, currency)?;
    let w = state
        .engine
        .create_withdraw(auth.merchant.id, member_id, price, currency, r.description)
        .await?;
    Ok(data(withdraw(&w, state.engine.config().zone)))
}

pub async fn cancel_withdraw(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "withdraw")?;
    let w = state.engine.cancel_withdraw(auth.merchant.id, id).await?;
    Ok(data(withdraw(&w, state.engine.config().zone)))
}

pub async fn retrieve_withdraw(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "withdraw")?;
    let w = state.engine.withdraw(auth.merchant.id, id).await?;
    Ok(data(withdraw(&w, state.engine.config().zone)))
}

const PAYOUT_STATUSES: [&str; 5] = [
    "CANCELLED",
    "NO_PAYOUT",
    "WAITING_FOR_PAYOUT",
    "PAYOUT_STARTED",
    "PAYOUT_COMPLETED",
];

pub async fn search_withdraws(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let page = page_of(&q)?;
    let zone = state.engine.config().zone;
    let currency = text_q(&q, "currency")
        .map(|c| currency_of(Some(&c)))
        .transpose()?;
    let payout_status = text_q(&q, "payoutStatus");
    if let Some(s) = &payout_status
        && !PAYOUT_STATUSES.contains(&s.as_str())
    {
        return Err(ApiError::bad_request(
            "4002",
            format!("unknown payoutStatus {s}"),
        ));
    }
    let member_id = text_q(&q, "memberId")
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| ApiError::bad_request("4002", "memberId must be a number"))
        })
        .transpose()?;
    let money_currency = currency.unwrap_or(Currency::Try);
    let filter = WithdrawFilter {
        member_id,
        currency: currency.map(|c| c.code().to_owned()),
        payout_status,
        min_amount: amount_q(&q, "minWithdrawPrice", money_currency)?,
        max_amount: amount_q(&q, "maxWithdrawPrice", money_currency)?,
        min_created: time_q(&q, "minCreatedDate", zone)?,
        max_created: time_q(&q, "maxCreatedDate", zone)?,
    };
    let result = state
        .engine
        .search_withdraws(auth.merchant.id, &filter, page)
        .await?;
    let items = result.items.iter().map(|w| withdraw(w, zone)).collect();
    Ok(data(paged(
        items,
        result.page,
        result.size,
        result.total_size,
    )))
}

// ---- deposits ----------------------------------------------------------------------------

/// A `CreateDepositPaymentRequest` read as a one-item card payment of `price`, so the card,
/// stored-card and routing fields are validated exactly as for card payments.
fn deposit_request(body: &[u8]) -> Result<(CreatePaymentRequest, Option<String>), ApiError> {
    let mut value: Value = parse_body(body)?;
    let object = value
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("4000", "the body must be a JSON object"))?;
    if object.get("buyerMemberId").is_none_or(Value::is_null) {
        return Err(ApiError::bad_request("4001", "buyerMemberId is required"));
    }
    let price = object.get("price").cloned().unwrap_or(Value::Null);
    let callback = object
        .get("callbackUrl")
        .and_then(Value::as_str)
        .map(str::to_owned);
    for field in [
        "paidPrice",
        "walletPrice",
        "items",
        "paymentPhase",
        "installment",
    ] {
        object.remove(field);
    }
    object.insert("paidPrice".into(), price.clone());
    object.insert("items".into(), json!([{"name": "Deposit", "price": price}]));
    let request: CreatePaymentRequest = serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request("4000", format!("invalid request: {e}")))?;
    Ok((request, callback))
}

/// `DepositPaymentResponse`.
async fn deposit_body(state: &AppState, view: &PaymentView) -> Result<Value, ApiError> {
    let zone = state.engine.config().zone;
    let p = render::payment(view, zone);
    let transaction = state
        .engine
        .deposit_transaction(view.payment.id)
        .await?
        .map(|t| {
            json!({
                "id": t.seq,
                "walletTransactionType": code_name(t.transfer.code),
                "amount": signed_money(t.transfer.amount, &t.transfer.currency),
                "walletId": t.transfer.credit_account_id,
            })
        });
    Ok(json!({
        "id": p["id"],
        "price": p["price"],
        "currency": p["currency"],
        "buyerMemberId": p["buyerMemberId"],
        "conversationId": p["conversationId"],
        "bankCommissionRate": p["bankCommissionRate"],
        "bankCommissionRateAmount": p["bankCommissionRateAmount"],
        "authCode": p["authCode"],
        "hostReference": p["hostReference"],
        "transId": p["transId"],
        "orderId": p["orderId"],
        "paymentType": view.payment.doc.payment_type,
        "createdDate": p["createdDate"],
        "paymentStatus": p["paymentStatus"],
        "cardUserKey": p["cardUserKey"],
        "cardToken": p["cardToken"],
        "walletTransaction": transaction,
        "fraudId": Value::Null,
        "fraudAction": Value::Null,
    }))
}

async fn deposit_response(state: &AppState, view: &PaymentView) -> Result<Response, ApiError> {
    let body = deposit_body(state, view).await?;
    if view.payment.status == PaymentStatus::Waiting.as_str() {
        // The bank has not answered yet: the top-up stays pending until recovery knows.
        return Ok((StatusCode::ACCEPTED, axum::Json(json!({"data": body}))).into_response());
    }
    Ok(data(body))
}

pub async fn create_deposit(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let (request, _) = deposit_request(&auth.body)?;
    let command = create_payment_of(request)?;
    crate::payments::check_buyer(&state, auth.merchant.id, command.buyer_member_id).await?;
    let view = state
        .engine
        .create_deposit(auth.merchant.id, command)
        .await?;
    deposit_response(&state, &view).await
}

fn check_callback_url(url: Option<String>) -> Result<String, ApiError> {
    let url = url
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::bad_request("4001", "callbackUrl is required"))?;
    let valid = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 1024
        && !url.contains(char::is_whitespace);
    if !valid {
        return Err(ApiError::bad_request(
            "4002",
            "callbackUrl must be an http(s) URL",
        ));
    }
    Ok(url)
}

pub async fn init_3ds_deposit(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let (request, callback) = deposit_request(&auth.body)?;
    let callback_url = check_callback_url(callback)?;
    let command = create_payment_of(request)?;
    crate::payments::check_buyer(&state, auth.merchant.id, command.buyer_member_id).await?;
    let lang = match headers.get("lang").and_then(|v| v.to_str().ok()) {
        Some(l) if l.eq_ignore_ascii_case("en") => "en",
        _ => "tr",
    };
    let started = state
        .engine
        .init_3ds_deposit(
            auth.merchant.id,
            command,
            ThreeDsReturn::Merchant(callback_url),
            lang,
        )
        .await?;
    let page = crate::pages::auto_submit_form(
        &started.form.action,
        &started.form.fields,
        "Bankanıza yönlendiriliyorsunuz / Redirecting to your bank",
    );
    let html_content = base64::engine::general_purpose::STANDARD.encode(page.as_bytes());
    state.pages.put(started.token.clone(), page);
    let public = state
        .engine
        .config()
        .public_url
        .trim_end_matches('/')
        .to_owned();
    Ok(data(json!({
        "paymentId": started.payment.payment.id,
        "htmlContent": html_content,
        "redirectUrl": format!("{public}/threeds/redirect/{}", started.token),
        "paymentStatus": started.payment.payment.status,
        "additionalAction": "REDIRECT_TO_URL",
    })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompleteRequest {
    payment_id: Option<i64>,
}

pub async fn complete_3ds_deposit(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let r: CompleteRequest = parse_body(&auth.body)?;
    let payment_id = r
        .payment_id
        .ok_or_else(|| ApiError::bad_request("4001", "paymentId is required"))?;
    let view = state
        .engine
        .complete_3ds_deposit(auth.merchant.id, payment_id)
        .await?;
    deposit_response(&state, &view).await
}

// ---- refunds of a top-up to its card ------------------------------------------------------

/// `RefundWalletTransactionResponse`.
fn wallet_tx_refund(r: &RefundRow, wallet_transaction_id: i64, zone: FixedOffset) -> Value {
    let error = r.doc.error.as_ref().map(|e| {
        json!({
            "errorCode": e.error_code,
            "errorDescription": e.error_description,
            "errorGroup": e.error_group,
        })
    });
    json!({
        "id": r.id,
        "createdDate": local_datetime(r.created_at, zone),
        "refundStatus": r.status,
        "refundPrice": signed_money(r.amount_minor, &r.currency),
        "authCode": r.doc.auth_code,
        "hostReference": r.doc.host_reference,
        "transId": r.doc.trans_id,
        "transactionId": r.payment_id,
        "transactionType": "WALLET_TX",
        "paymentError": error,
        "walletTransactionId": wallet_transaction_id,
    })
}

pub async fn refundable_amount(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "wallet transaction")?;
    let (amount, currency) = state
        .engine
        .wallet_transaction_refundable(auth.merchant.id, id)
        .await?;
    Ok(data(
        json!({"refundableAmount": signed_money(amount, &currency)}),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefundWalletTransactionRequest {
    #[serde(default, deserialize_with = "decimal_opt")]
    refund_price: Option<Decimal>,
}

pub async fn refund_wallet_transaction(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "wallet transaction")?;
    let r: RefundWalletTransactionRequest = parse_body(&auth.body)?;
    let tx = state
        .engine
        .store()
        .transfer_by_seq(auth.merchant.id, id)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found("wallet transaction"))?;
    let currency = currency_of(Some(&tx.transfer.currency))?;
    let price = amount("refundPrice", r.refund_price, currency)?;
    let view = state
        .engine
        .refund_wallet_transaction(auth.merchant.id, id, price)
        .await?;
    Ok(data(wallet_tx_refund(
        &view.refund,
        id,
        state.engine.config().zone,
    )))
}

pub async fn wallet_transaction_refunds(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "wallet transaction")?;
    let zone = state.engine.config().zone;
    let refunds = state
        .engine
        .wallet_transaction_refunds(auth.merchant.id, id)
        .await?;
    let total = i64::try_from(refunds.len()).unwrap_or(i64::MAX);
    let items: Vec<Value> = refunds
        .iter()
        .map(|r| wallet_tx_refund(r, id, zone))
        .collect();
    Ok(data(paged(items, 0, total.max(1), total)))
}
