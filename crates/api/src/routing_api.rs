//! Routing, an Orkestra extension to Craftgate's API: the merchant's default ordering rule
//! and advanced rules (`GET/PUT /merchant/v1/routing`), a dry run that says where a payment
//! would go and why (`POST /merchant/v1/routing/dry-run`), a commission cost report
//! (`GET /merchant/v1/routing/cost-report`), and Craftgate's installment search
//! (`GET /installment/v1/installments`).

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use domain::clock::parse_request_datetime;
use domain::enums::OrderingRule;
use domain::money::{Currency, MinorUnits};
use engine::route::{RouteRequest, RoutingSettings};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Authenticated;
use crate::envelope::{ApiError, data};
use crate::json::{amount, decimal_opt, money, money_error, number, parse_body, parse_decimal};

pub async fn get_settings(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let settings = state.engine.routing_settings(auth.merchant.id).await?;
    Ok(data(
        serde_json::to_value(settings).map_err(|e| ApiError::internal(e.to_string()))?,
    ))
}

pub async fn put_settings(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let settings: RoutingSettings = parse_body(&auth.body)?;
    if settings.rules.len() > 1000 {
        return Err(ApiError::bad_request("4002", "at most 1000 rules"));
    }
    let saved = state
        .engine
        .set_routing_settings(auth.merchant.id, settings)
        .await?;
    Ok(data(
        serde_json::to_value(saved).map_err(|e| ApiError::internal(e.to_string()))?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DryRunRequest {
    bin_number: Option<String>,
    #[serde(default, deserialize_with = "decimal_opt")]
    price: Option<Decimal>,
    currency: Option<String>,
    installment: Option<u32>,
    three_ds: Option<bool>,
    ordering_rule: Option<OrderingRule>,
    pos_aliases: Option<Vec<String>>,
    ignore_advanced_pos_routing_rules: Option<bool>,
}

pub async fn dry_run(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let r: DryRunRequest = parse_body(&auth.body)?;
    let currency: Currency = r
        .currency
        .as_deref()
        .unwrap_or("TRY")
        .parse()
        .map_err(|e| money_error("currency", e))?;
    let price = amount("price", r.price, currency)?;
    let installment = r.installment.unwrap_or(1);
    if !(1..=12).contains(&installment) {
        return Err(ApiError::bad_request(
            "4103",
            "installment must be between 1 and 12",
        ));
    }
    let bin = r.bin_number.filter(|b| !b.is_empty());
    if bin
        .as_ref()
        .is_some_and(|b| !(6..=8).contains(&b.len()) || !b.bytes().all(|c| c.is_ascii_digit()))
    {
        return Err(ApiError::bad_request(
            "4016",
            "binNumber must be 6 to 8 digits",
        ));
    }
    let route = state
        .engine
        .route(
            auth.merchant.id,
            &RouteRequest {
                price,
                currency,
                installment,
                three_ds: r.three_ds.unwrap_or(false),
                bin,
                ordering_rule: r.ordering_rule,
                pos_aliases: r.pos_aliases.unwrap_or_default(),
                ignore_rules: r.ignore_advanced_pos_routing_rules.unwrap_or(false),
            },
        )
        .await?;
    Ok(data(json!({
        "chosenPosAlias": route.candidates.first().map(|c| c.pos.alias.clone()),
        "decision": route.explanation,
    })))
}

pub async fn cost_report(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let zone = state.engine.config().zone;
    let time = |name: &str| -> Result<i64, ApiError> {
        let raw = q
            .get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::bad_request("4001", format!("{name} is required")))?;
        parse_request_datetime(raw, zone)
            .map(|t| t.timestamp_millis())
            .ok_or_else(|| {
                ApiError::bad_request("4002", format!("{name} must be a date or date-time"))
            })
    };
    let from = time("startDate")?;
    let to = time("endDate")?;
    if to < from {
        return Err(ApiError::bad_request("4002", "endDate is before startDate"));
    }
    let currency: Currency = q
        .get("currency")
        .map(String::as_str)
        .unwrap_or("TRY")
        .parse()
        .map_err(|e| money_error("currency", e))?;
    let report = state
        .engine
        .cost_report(auth.merchant.id, currency, from, to)
        .await?;
    let c = currency.code();
    Ok(data(json!({
        "currency": c,
        "paymentCount": report.payment_count,
        "paidPrice": money(report.paid_minor, c),
        "commission": money(report.commission_minor, c),
        "defaultPosAlias": report.default_pos_alias,
        "commissionOnDefaultPos": money(report.default_pos_commission_minor, c),
        "savings": money(report.savings_minor, c),
    })))
}

/// `GET /installment/v1/installments?binNumber&price&currency`.
pub async fn installments(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let currency: Currency = q
        .get("currency")
        .map(String::as_str)
        .unwrap_or("TRY")
        .parse()
        .map_err(|e| money_error("currency", e))?;
    let price_text = q
        .get("price")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::bad_request("4001", "price is required"))?;
    let price = parse_decimal(price_text)
        .map_err(|e| ApiError::bad_request("4101", format!("price: {e}")))?;
    let price = MinorUnits::from_decimal(price, currency).map_err(|e| money_error("price", e))?;
    let bin = q.get("binNumber").cloned().unwrap_or_default();
    if !(6..=8).contains(&bin.len()) || !bin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(
            "4016",
            "binNumber must be 6 to 8 digits",
        ));
    }
    let info = domain::bin::lookup(&bin);
    let offer = state
        .engine
        .installment_offer(auth.merchant.id, &bin, price, currency)
        .await?;
    let c = currency.code();
    let rate = |r: Option<Decimal>| r.map(number).unwrap_or(Value::Null);
    let prices: Vec<Value> = offer
        .iter()
        .map(|o| {
            json!({
                "posAlias": o.pos_alias,
                "installmentNumber": o.installment,
                "installmentPrice": money(o.installment_price.get(), c),
                "bankCommissionRate": rate(o.bank_rate),
                "merchantCommissionRate": number(o.merchant_rate),
                "totalPrice": money(o.total_price.get(), c),
                "installmentLabel": o.label,
                "loyaltySupported": o.loyalty_supported,
                "force3ds": o.force_3ds,
                "cvcRequired": o.cvc_required,
            })
        })
        .collect();
    Ok(data(json!({
        "items": [{
            "binNumber": bin,
            "price": money(price.get(), c),
            "cardType": info.as_ref().and_then(|i| i.card_type).map(|t| t.as_str()),
            "cardAssociation": info.as_ref().and_then(|i| i.association).map(|a| a.as_str()),
            "cardBrand": info.as_ref().and_then(|i| i.card_brand),
            "bankName": info.as_ref().and_then(|i| i.bank_name.clone()),
            "bankCode": info.as_ref().and_then(|i| i.bank_code),
            "force3ds": prices.iter().all(|p| p["force3ds"] == true) && !prices.is_empty(),
            "cvcRequired": true,
            "commercial": info.as_ref().is_some_and(|i| i.commercial),
            "installmentPrices": prices,
        }],
    })))
}
