//! `/merchant/v1/merchant-poses`: the merchant's virtual POSes, their credentials
//! (write-only), endpoints and commissions.
//!
//! Extension to Craftgate: `hostname` may carry a scheme and port
//! (`http://127.0.0.1:9000`), and `hostname`, `path`, `threedsPath`, `port` and `mode`
//! are accepted on create as well as update, so one POS can be pointed at the bank's
//! test system, production, or Orkestra's simulator.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use domain::enums::{PosIntegrator, PosStatus, Status};
use domain::money::Currency;
use engine::pos::{PosInput, PosUserInput};
use serde::Deserialize;
use store::rows::{CommissionDoc, PosFilter};

use crate::AppState;
use crate::auth::Authenticated;
use crate::envelope::{ApiError, data, empty};
use crate::json::{decimal_opt, parse_body, path_id};
use crate::render;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PosUserRequest {
    id: Option<i64>,
    pos_username: Option<String>,
    pos_password: Option<String>,
    pos_user_type: Option<String>,
    pos_operation_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PosRequest {
    status: Option<String>,
    name: Option<String>,
    client_id: Option<String>,
    currency: Option<String>,
    posnet_id: Option<String>,
    terminal_id: Option<String>,
    threeds_posnet_id: Option<String>,
    threeds_terminal_id: Option<String>,
    threeds_key: Option<String>,
    enable_foreign_card: Option<bool>,
    enable_installment: Option<bool>,
    enable_payment_without_cvc: Option<bool>,
    enable_loyalty: Option<bool>,
    new_integration: Option<bool>,
    order_number: Option<i64>,
    pos_integrator: Option<String>,
    enabled_payment_authentication_types: Option<Vec<String>>,
    supported_card_associations: Option<Vec<String>>,
    enabled_payment_phases: Option<Vec<String>>,
    merchant_pos_users: Option<Vec<PosUserRequest>>,
    hostname: Option<String>,
    path: Option<String>,
    threeds_path: Option<String>,
    port: Option<i64>,
    mode: Option<String>,
    threeds_model: Option<String>,
}

fn input_of(r: PosRequest) -> Result<PosInput, ApiError> {
    let status = r
        .status
        .as_deref()
        .map(|s| {
            PosStatus::parse(s)
                .ok_or_else(|| ApiError::bad_request("4002", format!("unknown status {s}")))
        })
        .transpose()?;
    let pos_integrator = r
        .pos_integrator
        .as_deref()
        .map(|s| {
            PosIntegrator::parse(s)
                .ok_or_else(|| ApiError::bad_request("4002", format!("unknown posIntegrator {s}")))
        })
        .transpose()?;
    let currency = r
        .currency
        .as_deref()
        .map(|c| {
            c.parse::<Currency>()
                .map_err(|_| ApiError::bad_request("4102", format!("unknown currency {c}")))
        })
        .transpose()?;
    Ok(PosInput {
        name: r.name,
        status,
        pos_integrator,
        currency,
        order_number: r.order_number,
        hostname: r.hostname,
        path: r.path,
        threeds_path: r.threeds_path,
        port: r.port,
        mode: r.mode,
        client_id: r.client_id,
        terminal_id: r.terminal_id,
        posnet_id: r.posnet_id,
        threeds_posnet_id: r.threeds_posnet_id,
        threeds_terminal_id: r.threeds_terminal_id,
        threeds_key: r.threeds_key,
        enable_foreign_card: r.enable_foreign_card,
        enable_installment: r.enable_installment,
        enable_payment_without_cvc: r.enable_payment_without_cvc,
        enable_loyalty: r.enable_loyalty,
        new_integration: r.new_integration,
        supported_card_associations: r.supported_card_associations,
        enabled_payment_authentication_types: r.enabled_payment_authentication_types,
        enabled_payment_phases: r.enabled_payment_phases,
        threeds_model: r.threeds_model,
        users: r.merchant_pos_users.map(|users| {
            users
                .into_iter()
                .map(|u| PosUserInput {
                    id: u.id,
                    pos_username: u.pos_username,
                    pos_password: u.pos_password,
                    pos_user_type: u.pos_user_type,
                    pos_operation_type: u.pos_operation_type,
                })
                .collect()
        }),
    })
}

pub async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let request: PosRequest = parse_body(&auth.body)?;
    let pos = state
        .engine
        .create_pos(auth.merchant.id, input_of(request)?)
        .await?;
    Ok(data(render::pos(&pos, state.engine.pos_is_up(pos.id))))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "merchant pos")?;
    let request: PosRequest = parse_body(&auth.body)?;
    if request.pos_integrator.is_some() {
        return Err(ApiError::bad_request(
            "4002",
            "posIntegrator cannot be changed; create a new POS",
        ));
    }
    let pos = state
        .engine
        .update_pos(auth.merchant.id, id, input_of(request)?)
        .await?;
    Ok(data(render::pos(&pos, state.engine.pos_is_up(pos.id))))
}

async fn load(
    state: &AppState,
    merchant_id: i64,
    id: &str,
) -> Result<store::rows::PosRow, ApiError> {
    let id = path_id(id, "merchant pos")?;
    state
        .engine
        .store()
        .pos(merchant_id, id)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| ApiError::not_found("merchant pos"))
}

pub async fn retrieve(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let pos = load(&state, auth.merchant.id, &id).await?;
    Ok(data(render::pos(&pos, state.engine.pos_is_up(pos.id))))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let pos = load(&state, auth.merchant.id, &id).await?;
    state
        .engine
        .store()
        .set_pos_status(
            auth.merchant.id,
            pos.id,
            PosStatus::Deleted.as_str(),
            state.engine.now_ms(),
        )
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(empty())
}

pub async fn set_status(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path((id, status)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let pos = load(&state, auth.merchant.id, &id).await?;
    let status = PosStatus::parse(&status)
        .filter(|s| *s != PosStatus::Deleted)
        .ok_or_else(|| {
            ApiError::bad_request("4002", format!("unknown or not settable status {status}"))
        })?;
    state
        .engine
        .store()
        .set_pos_status(
            auth.merchant.id,
            pos.id,
            status.as_str(),
            state.engine.now_ms(),
        )
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(empty())
}

pub async fn search(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let page = crate::reporting::page_of(&q)?;
    let filter = PosFilter {
        name: q.get("name").filter(|v| !v.is_empty()).cloned(),
        alias: q.get("alias").filter(|v| !v.is_empty()).cloned(),
        currency: q.get("currency").filter(|v| !v.is_empty()).cloned(),
        enable_installment: crate::reporting::bool_of(&q, "enableInstallment")?,
        enable_foreign_card: crate::reporting::bool_of(&q, "enableForeignCard")?,
        bank_name: q.get("bankName").filter(|v| !v.is_empty()).cloned(),
    };
    // Filters on the stored JSON document are applied before paging, over the merchant's
    // (few) POSes.
    let all = state
        .engine
        .store()
        .search_poses(
            auth.merchant.id,
            &filter,
            store::rows::Page {
                page: 0,
                size: 10_000,
            },
        )
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let matching: Vec<_> = all
        .items
        .iter()
        .filter(|p| {
            filter
                .enable_installment
                .is_none_or(|v| p.doc.enable_installment == v)
        })
        .filter(|p| {
            filter
                .enable_foreign_card
                .is_none_or(|v| p.doc.enable_foreign_card == v)
        })
        .filter(|p| {
            filter.bank_name.as_ref().is_none_or(|name| {
                PosIntegrator::parse(&p.pos_integrator)
                    .is_some_and(|i| i.bank().1.to_lowercase().contains(&name.to_lowercase()))
            })
        })
        .collect();
    let total = i64::try_from(matching.len()).unwrap_or(0);
    let start = usize::try_from(page.page.saturating_mul(page.size))
        .unwrap_or(usize::MAX)
        .min(matching.len());
    let end = start
        .saturating_add(usize::try_from(page.size).unwrap_or(10))
        .min(matching.len());
    let items = matching[start..end]
        .iter()
        .map(|p| render::pos(p, state.engine.pos_is_up(p.id)))
        .collect();
    Ok(data(render::paged(items, page.page, page.size, total)))
}

pub async fn commissions(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let pos = load(&state, auth.merchant.id, &id).await?;
    let items: Vec<_> = pos.commissions.iter().map(render::commission).collect();
    let total = i64::try_from(items.len()).unwrap_or(0);
    Ok(data(render::paged(items, 0, total, total)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommissionRequest {
    card_brand_name: Option<String>,
    installment: Option<i64>,
    status: Option<String>,
    blockage_day: Option<i64>,
    installment_label: Option<String>,
    #[serde(default, deserialize_with = "decimal_opt")]
    bank_on_us_credit_card_commission_rate: Option<rust_decimal::Decimal>,
    #[serde(default, deserialize_with = "decimal_opt")]
    bank_on_us_debit_card_commission_rate: Option<rust_decimal::Decimal>,
    #[serde(default, deserialize_with = "decimal_opt")]
    bank_not_on_us_credit_card_commission_rate: Option<rust_decimal::Decimal>,
    #[serde(default, deserialize_with = "decimal_opt")]
    bank_not_on_us_debit_card_commission_rate: Option<rust_decimal::Decimal>,
    #[serde(default, deserialize_with = "decimal_opt")]
    bank_foreign_card_commission_rate: Option<rust_decimal::Decimal>,
    #[serde(default, deserialize_with = "decimal_opt")]
    merchant_commission_rate: Option<rust_decimal::Decimal>,
}

#[derive(Debug, Deserialize)]
struct CommissionsRequest {
    commissions: Option<Vec<CommissionRequest>>,
}

fn rate(field: &str, value: Option<rust_decimal::Decimal>) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v < rust_decimal::Decimal::ZERO || v > rust_decimal::Decimal::ONE_HUNDRED => {
            Err(ApiError::bad_request(
                "4002",
                format!("{field} must be a percentage between 0 and 100"),
            ))
        }
        other => Ok(other.map(|v| v.normalize().to_string())),
    }
}

pub async fn set_commissions(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let pos = load(&state, auth.merchant.id, &id).await?;
    let request: CommissionsRequest = parse_body(&auth.body)?;
    let mut docs = Vec::new();
    for c in request.commissions.unwrap_or_default() {
        let installment = c
            .installment
            .ok_or_else(|| ApiError::bad_request("4001", "installment is required"))?;
        if !(1..=12).contains(&installment) {
            return Err(ApiError::bad_request(
                "4103",
                "installment must be between 1 and 12",
            ));
        }
        let status = c.status.unwrap_or_else(|| "ACTIVE".into());
        Status::parse(&status)
            .ok_or_else(|| ApiError::bad_request("4002", format!("unknown status {status}")))?;
        if c.blockage_day.is_some_and(|d| !(0..=365).contains(&d)) {
            return Err(ApiError::bad_request(
                "4002",
                "blockageDay must be between 0 and 365",
            ));
        }
        docs.push(CommissionDoc {
            id: 0,
            status,
            installment,
            blockage_day: c.blockage_day,
            installment_label: c.installment_label,
            card_brand_name: c.card_brand_name,
            bank_on_us_credit_card_commission_rate: rate(
                "bankOnUsCreditCardCommissionRate",
                c.bank_on_us_credit_card_commission_rate,
            )?,
            bank_not_on_us_credit_card_commission_rate: rate(
                "bankNotOnUsCreditCardCommissionRate",
                c.bank_not_on_us_credit_card_commission_rate,
            )?,
            bank_on_us_debit_card_commission_rate: rate(
                "bankOnUsDebitCardCommissionRate",
                c.bank_on_us_debit_card_commission_rate,
            )?,
            bank_not_on_us_debit_card_commission_rate: rate(
                "bankNotOnUsDebitCardCommissionRate",
                c.bank_not_on_us_debit_card_commission_rate,
            )?,
            bank_foreign_card_commission_rate: rate(
                "bankForeignCardCommissionRate",
                c.bank_foreign_card_commission_rate,
            )?,
            merchant_commission_rate: rate("merchantCommissionRate", c.merchant_commission_rate)?,
        });
    }
    let pos = state
        .engine
        .set_pos_commissions(auth.merchant.id, pos.id, docs)
        .await?;
    let items: Vec<_> = pos.commissions.iter().map(render::commission).collect();
    let total = i64::try_from(items.len()).unwrap_or(0);
    Ok(data(render::paged(items, 0, total, total)))
}
