//! `/payment-reporting/v1/payments`: search and detail views of payments, their
//! transactions and refunds.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use domain::clock::parse_request_datetime;
use domain::enums::{PaymentSource, PaymentStatus};
use domain::money::{Currency, MinorUnits};
use serde_json::{Value, json};
use store::rows::{Page, PaymentFilter};

use crate::AppState;
use crate::auth::Authenticated;
use crate::envelope::{ApiError, data};
use crate::json::{money_error, parse_decimal, path_id};
use crate::render;

pub const PAGE_SIZE_MAX: i64 = 100;
const PAGE_SIZE_DEFAULT: i64 = 10;

pub fn page_of(q: &HashMap<String, String>) -> Result<Page, ApiError> {
    let number = |name: &str, default: i64| -> Result<i64, ApiError> {
        match q.get(name).filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some(v) => v
                .parse::<i64>()
                .map_err(|_| ApiError::bad_request("4002", format!("{name} must be a number"))),
        }
    };
    let page = number("page", 0)?;
    let size = number("size", PAGE_SIZE_DEFAULT)?;
    if !(0..=1_000_000).contains(&page) {
        return Err(ApiError::bad_request("4002", "page must be 0 or more"));
    }
    if !(1..=PAGE_SIZE_MAX).contains(&size) {
        return Err(ApiError::bad_request(
            "4002",
            format!("size must be between 1 and {PAGE_SIZE_MAX}"),
        ));
    }
    Ok(Page { page, size })
}

pub fn bool_of(q: &HashMap<String, String>, name: &str) -> Result<Option<bool>, ApiError> {
    match q.get(name).map(String::as_str) {
        None | Some("") => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::bad_request(
            "4002",
            format!("{name} must be true or false"),
        )),
    }
}

fn int_of(q: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    q.get(name)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| ApiError::bad_request("4002", format!("{name} must be a number")))
        })
        .transpose()
}

fn text_of(q: &HashMap<String, String>, name: &str) -> Option<String> {
    q.get(name).filter(|v| !v.is_empty()).cloned()
}

pub async fn search_payments(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let page = page_of(&q)?;
    let zone = state.engine.config().zone;
    let time = |name: &str| -> Result<Option<i64>, ApiError> {
        text_of(&q, name)
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
    };
    let currency = text_of(&q, "currency")
        .map(|c| {
            c.parse::<Currency>()
                .map_err(|e| money_error("currency", e))
        })
        .transpose()?;
    let price_bound = |name: &str| -> Result<Option<i64>, ApiError> {
        text_of(&q, name)
            .map(|v| {
                let d = parse_decimal(&v)
                    .map_err(|e| ApiError::bad_request("4002", format!("{name}: {e}")))?;
                MinorUnits::from_decimal_allow_zero(d, currency.unwrap_or(Currency::Try))
                    .map(MinorUnits::get)
                    .map_err(|e| money_error(name, e))
            })
            .transpose()
    };
    let status = text_of(&q, "paymentStatus");
    if let Some(s) = &status {
        PaymentStatus::parse(s)
            .ok_or_else(|| ApiError::bad_request("4002", format!("unknown paymentStatus {s}")))?;
    }
    let source = text_of(&q, "paymentSource");
    if let Some(s) = &source {
        PaymentSource::parse(s)
            .ok_or_else(|| ApiError::bad_request("4002", format!("unknown paymentSource {s}")))?;
    }
    let filter = PaymentFilter {
        payment_id: int_of(&q, "paymentId")?,
        payment_transaction_id: int_of(&q, "paymentTransactionId")?,
        buyer_member_id: int_of(&q, "buyerMemberId")?,
        conversation_id: text_of(&q, "conversationId"),
        external_id: text_of(&q, "externalId"),
        order_id: text_of(&q, "orderId"),
        payment_status: status,
        payment_source: source,
        payment_type: text_of(&q, "paymentType"),
        bin_number: text_of(&q, "binNumber"),
        last_four: text_of(&q, "lastFourDigits"),
        currency: currency.map(|c| c.code().to_owned()),
        min_paid_price_minor: price_bound("minPaidPrice")?,
        max_paid_price_minor: price_bound("maxPaidPrice")?,
        installment: int_of(&q, "installment")?,
        min_created_at: time("minCreatedDate")?,
        max_created_at: time("maxCreatedDate")?,
        pos_id: None,
    };
    let store = state.engine.store();
    let result = store
        .search_payments(auth.merchant.id, &filter, page)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let mut items = Vec::with_capacity(result.items.len());
    for payment in result.items {
        let items_of = store
            .payment_items(payment.id)
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let view = engine::payments::PaymentView {
            payment,
            items: items_of,
            attempts: Vec::new(),
        };
        items.push(crate::payments::render_payment(&state, &view).await?);
    }
    Ok(data(render::paged(
        items,
        result.page,
        result.size,
        result.total_size,
    )))
}

async fn refunds_json(
    state: &AppState,
    merchant_id: i64,
    payment_id: i64,
) -> Result<Vec<Value>, ApiError> {
    let refunds = state
        .engine
        .store()
        .refunds_of_payment(payment_id)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let zone = state.engine.config().zone;
    let mut out = Vec::new();
    for r in refunds {
        let view = state.engine.refund_view(merchant_id, r.id).await?;
        out.push(render::refund(&view, zone));
    }
    Ok(out)
}

pub async fn retrieve_payment(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "payment")?;
    let view = state.engine.payment_view(auth.merchant.id, id).await?;
    let mut body = crate::payments::render_payment(&state, &view).await?;
    body["refunds"] = Value::Array(refunds_json(&state, auth.merchant.id, id).await?);
    Ok(data(body))
}

pub async fn payment_transactions(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "payment")?;
    let view = state.engine.payment_view(auth.merchant.id, id).await?;
    let payment = crate::payments::render_payment(&state, &view).await?;
    let items: Vec<Value> = payment["paymentTransactions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let items: Vec<Value> = items
        .into_iter()
        .map(|mut item| {
            item["createdDate"] = payment["createdDate"].clone();
            item
        })
        .collect();
    Ok(data(json!({ "items": items })))
}

pub async fn payment_refunds(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "payment")?;
    state.engine.payment_view(auth.merchant.id, id).await?;
    Ok(data(
        json!({ "items": refunds_json(&state, auth.merchant.id, id).await? }),
    ))
}
