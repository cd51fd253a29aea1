//! `/onboarding/v1/members`: buyers and sub-merchants.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use domain::enums::{MemberType, SettlementEarningsDestination};
use serde::Deserialize;
use serde_json::{Value, json};
use store::rows::{MemberFilter, MemberRow};

use crate::AppState;
use crate::auth::Authenticated;
use crate::envelope::{ApiError, data};
use crate::json::{decimal_opt, parse_body, path_id, text_max};
use crate::render;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberRequest {
    member_external_id: Option<String>,
    name: Option<String>,
    address: Option<String>,
    email: Option<String>,
    phone_number: Option<String>,
    contact_name: Option<String>,
    contact_surname: Option<String>,
    member_type: Option<String>,
    legal_company_title: Option<String>,
    tax_office: Option<String>,
    tax_number: Option<String>,
    iban: Option<String>,
    settlement_earnings_destination: Option<String>,
    #[serde(default, deserialize_with = "decimal_opt")]
    negative_wallet_amount_limit: Option<rust_decimal::Decimal>,
    #[serde(default, deserialize_with = "decimal_opt")]
    sub_merchant_maximum_allowed_negative_balance: Option<rust_decimal::Decimal>,
    is_buyer: Option<bool>,
    is_sub_merchant: Option<bool>,
    settlement_delay_count: Option<i64>,
}

const TEXT_MAX: usize = 255;

fn validate(r: &MemberRequest) -> Result<(), ApiError> {
    for (field, value) in [
        ("memberExternalId", &r.member_external_id),
        ("name", &r.name),
        ("address", &r.address),
        ("email", &r.email),
        ("phoneNumber", &r.phone_number),
        ("contactName", &r.contact_name),
        ("contactSurname", &r.contact_surname),
        ("legalCompanyTitle", &r.legal_company_title),
        ("taxOffice", &r.tax_office),
        ("taxNumber", &r.tax_number),
        ("iban", &r.iban),
    ] {
        text_max(field, value, TEXT_MAX)?;
    }
    if let Some(t) = &r.member_type {
        MemberType::parse(t)
            .ok_or_else(|| ApiError::bad_request("4002", format!("unknown memberType {t}")))?;
    }
    if let Some(d) = &r.settlement_earnings_destination {
        SettlementEarningsDestination::parse(d).ok_or_else(|| {
            ApiError::bad_request("4002", format!("unknown settlementEarningsDestination {d}"))
        })?;
    }
    if let Some(email) = &r.email
        && !email.contains('@')
    {
        return Err(ApiError::bad_request(
            "4002",
            "email is not an email address",
        ));
    }
    Ok(())
}

/// Merges the request's fields into the stored document (absent fields keep their value).
fn merge_doc(doc: &mut Value, r: &MemberRequest) {
    if !doc.is_object() {
        *doc = json!({});
    }
    let mut set = |k: &str, v: Value| {
        if !v.is_null() {
            doc[k] = v;
        }
    };
    set("address", json!(r.address));
    set("phoneNumber", json!(r.phone_number));
    set("contactName", json!(r.contact_name));
    set("contactSurname", json!(r.contact_surname));
    set("legalCompanyTitle", json!(r.legal_company_title));
    set("taxOffice", json!(r.tax_office));
    set("taxNumber", json!(r.tax_number));
    set("iban", json!(r.iban));
    set(
        "settlementEarningsDestination",
        json!(r.settlement_earnings_destination),
    );
    set(
        "negativeWalletAmountLimit",
        r.negative_wallet_amount_limit
            .map(crate::json::number)
            .unwrap_or(Value::Null),
    );
    set(
        "subMerchantMaximumAllowedNegativeBalance",
        r.sub_merchant_maximum_allowed_negative_balance
            .map(crate::json::number)
            .unwrap_or(Value::Null),
    );
    set("settlementDelayCount", json!(r.settlement_delay_count));
}

pub async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let r: MemberRequest = parse_body(&auth.body)?;
    validate(&r)?;
    let is_buyer = r.is_buyer.unwrap_or(false);
    let is_sub_merchant = r.is_sub_merchant.unwrap_or(false);
    if !is_buyer && !is_sub_merchant {
        return Err(ApiError::bad_request(
            "4001",
            "a member must be a buyer, a sub-merchant or both",
        ));
    }
    let name = r
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("4001", "name is required"))?;
    let external_id = r.member_external_id.clone().filter(|e| !e.is_empty());
    let now = state.engine.now_ms();
    let mut doc = json!({});
    merge_doc(&mut doc, &r);
    let mut row = MemberRow {
        id: 0,
        merchant_id: auth.merchant.id,
        external_id,
        name: Some(name),
        email: r.email.clone(),
        is_buyer,
        is_sub_merchant,
        member_type: r.member_type.clone().or(Some("PERSONAL".into())),
        status: "ACTIVE".into(),
        doc,
        created_at: now,
        updated_at: now,
    };
    row.id = state
        .engine
        .store()
        .insert_member(&row)
        .await
        .map_err(|e| match e {
            store::StoreError::Duplicate(_) => {
                ApiError::bad_request("4003", "a member with this memberExternalId exists")
            }
            other => ApiError::internal(other.to_string()),
        })?;
    Ok(data(render::member(&row, state.engine.config().zone)))
}

async fn load(state: &AppState, merchant_id: i64, id: &str) -> Result<MemberRow, ApiError> {
    let id = path_id(id, "member")?;
    state
        .engine
        .store()
        .member(merchant_id, id)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| ApiError::not_found("member"))
}

pub async fn retrieve(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = load(&state, auth.merchant.id, &id).await?;
    Ok(data(render::member(&row, state.engine.config().zone)))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let mut row = load(&state, auth.merchant.id, &id).await?;
    let r: MemberRequest = parse_body(&auth.body)?;
    validate(&r)?;
    if let Some(name) = r.name.clone().filter(|n| !n.trim().is_empty()) {
        row.name = Some(name);
    }
    if r.email.is_some() {
        row.email = r.email.clone();
    }
    if let Some(b) = r.is_buyer {
        row.is_buyer = b;
    }
    if let Some(s) = r.is_sub_merchant {
        row.is_sub_merchant = s;
    }
    if r.member_type.is_some() {
        row.member_type = r.member_type.clone();
    }
    merge_doc(&mut row.doc, &r);
    row.updated_at = state.engine.now_ms();
    state
        .engine
        .store()
        .update_member(&row)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(data(render::member(&row, state.engine.config().zone)))
}

pub async fn search(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let page = crate::reporting::page_of(&q)?;
    let member_ids = match q.get("memberIds").filter(|v| !v.is_empty()) {
        Some(ids) => ids
            .split(',')
            .map(|i| {
                i.trim()
                    .parse::<i64>()
                    .map_err(|_| ApiError::bad_request("4002", "memberIds must be numbers"))
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let filter = MemberFilter {
        is_buyer: crate::reporting::bool_of(&q, "isBuyer")?,
        is_sub_merchant: crate::reporting::bool_of(&q, "isSubMerchant")?,
        name: q.get("name").filter(|v| !v.is_empty()).cloned(),
        member_ids,
        member_type: q.get("memberType").filter(|v| !v.is_empty()).cloned(),
        external_id: q.get("memberExternalId").filter(|v| !v.is_empty()).cloned(),
    };
    let result = state
        .engine
        .store()
        .search_members(auth.merchant.id, &filter, page)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let zone = state.engine.config().zone;
    let items = result
        .items
        .iter()
        .map(|m| render::member(m, zone))
        .collect();
    Ok(data(render::paged(
        items,
        result.page,
        result.size,
        result.total_size,
    )))
}
