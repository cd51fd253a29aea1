//! `/payment/v1/refunds` (full refund or same-day cancel) and
//! `/payment/v1/refund-transactions` (partial refund of one item).

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use domain::enums::RefundDestinationType;
use domain::money::{Currency, MinorUnits};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Authenticated;
use crate::envelope::{ApiError, data};
use crate::json::{decimal_opt, money_error, parse_body, path_id, text_max};
use crate::render;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefundPaymentRequest {
    payment_id: Option<i64>,
    conversation_id: Option<String>,
    refund_destination_type: Option<String>,
    charge_from_me: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefundTransactionRequest {
    payment_transaction_id: Option<i64>,
    conversation_id: Option<String>,
    #[serde(default, deserialize_with = "decimal_opt")]
    refund_price: Option<Decimal>,
    refund_destination_type: Option<String>,
    charge_from_me: Option<bool>,
}

fn destination(raw: &Option<String>) -> Result<Option<RefundDestinationType>, ApiError> {
    raw.as_deref()
        .map(|d| {
            RefundDestinationType::parse(d).ok_or_else(|| {
                ApiError::bad_request("4002", format!("unknown refundDestinationType {d}"))
            })
        })
        .transpose()
}

pub async fn refund_payment(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let r: RefundPaymentRequest = parse_body(&auth.body)?;
    text_max("conversationId", &r.conversation_id, 255)?;
    let _ = r.charge_from_me;
    let payment_id = r
        .payment_id
        .ok_or_else(|| ApiError::bad_request("4001", "paymentId is required"))?;
    let view = state
        .engine
        .refund_payment(
            auth.merchant.id,
            payment_id,
            r.conversation_id,
            destination(&r.refund_destination_type)?,
        )
        .await?;
    Ok(data(refund_body(&view, state.engine.config().zone)))
}

/// A refund into a wallet moved no bank money: its whole amount is `refundWalletPrice`.
fn wallet_prices(value: &mut serde_json::Value, to_wallet: bool) {
    if !to_wallet {
        return;
    }
    let price = value["refundPrice"].clone();
    value["refundWalletPrice"] = price;
    value["refundBankPrice"] = serde_json::json!(0);
    if let Some(items) = value["paymentTransactionRefunds"].as_array_mut() {
        for item in items {
            wallet_prices(item, true);
        }
    }
}

fn to_wallet(refund: &store::rows::RefundRow) -> bool {
    refund.doc.refund_destination_type == RefundDestinationType::Wallet.as_str()
}

/// `PaymentRefundResponse`, wallet refunds included.
fn refund_body(view: &engine::refunds::RefundView, zone: chrono::FixedOffset) -> serde_json::Value {
    let mut body = render::refund(view, zone);
    wallet_prices(&mut body, to_wallet(&view.refund));
    body
}

pub async fn refund_transaction(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let r: RefundTransactionRequest = parse_body(&auth.body)?;
    text_max("conversationId", &r.conversation_id, 255)?;
    let _ = r.charge_from_me;
    let item_id = r
        .payment_transaction_id
        .ok_or_else(|| ApiError::bad_request("4001", "paymentTransactionId is required"))?;
    let item = state
        .engine
        .store()
        .payment_item(auth.merchant.id, item_id)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| ApiError::not_found("payment transaction"))?;
    let payment = state
        .engine
        .payment_view(auth.merchant.id, item.payment_id)
        .await?;
    let currency: Currency = payment
        .payment
        .currency
        .parse()
        .map_err(|_| ApiError::internal("stored currency"))?;
    let price = r
        .refund_price
        .ok_or_else(|| ApiError::bad_request("4001", "refundPrice is required"))?;
    let price =
        MinorUnits::from_decimal(price, currency).map_err(|e| money_error("refundPrice", e))?;
    let view = state
        .engine
        .refund_payment_transaction(
            auth.merchant.id,
            item_id,
            price,
            r.conversation_id,
            destination(&r.refund_destination_type)?,
        )
        .await?;
    let zone = state.engine.config().zone;
    let transaction = view
        .transactions
        .first()
        .ok_or_else(|| ApiError::internal("refund without transaction"))?;
    let mut body =
        render::refund_transaction(transaction, Some(&view.refund), &view.refund.currency, zone);
    wallet_prices(&mut body, to_wallet(&view.refund));
    Ok(data(body))
}

pub async fn retrieve_refund(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "refund")?;
    let view = state.engine.refund_view(auth.merchant.id, id).await?;
    Ok(data(refund_body(&view, state.engine.config().zone)))
}

pub async fn retrieve_refund_transaction(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "refund transaction")?;
    let store = state.engine.store();
    let t = store
        .refund_transaction(auth.merchant.id, id)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| ApiError::not_found("refund transaction"))?;
    let refund = match t.refund_id {
        Some(rid) => store
            .refund(auth.merchant.id, rid)
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?,
        None => None,
    };
    let currency = refund
        .as_ref()
        .map(|r| r.currency.clone())
        .unwrap_or_else(|| "TRY".into());
    let mut body =
        render::refund_transaction(&t, refund.as_ref(), &currency, state.engine.config().zone);
    wallet_prices(&mut body, refund.as_ref().is_some_and(to_wallet));
    Ok(data(body))
}
