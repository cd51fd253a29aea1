//! `/payment/v1/cards`: the card vault — store, search, update, delete, clone. Card numbers
//! go in and never come out: responses show the BIN and last four digits only.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::Datelike;
use domain::clock::parse_request_datetime;
use serde::Deserialize;
use serde_json::{Value, json};
use store::rows::{StoredCardFilter, StoredCardRow};

use crate::AppState;
use crate::auth::Authenticated;
use crate::envelope::{ApiError, data, empty};
use crate::json::{local_datetime, parse_body, text_max};
use crate::payments::plain_card;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoreCardRequest {
    card_holder_name: Option<String>,
    card_number: Option<String>,
    expire_year: Option<Value>,
    expire_month: Option<Value>,
    card_alias: Option<String>,
    card_user_key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CardRefRequest {
    card_user_key: Option<String>,
    card_token: Option<String>,
    expire_year: Option<Value>,
    expire_month: Option<Value>,
    card_alias: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloneCardRequest {
    source_card_user_key: Option<String>,
    source_card_token: Option<String>,
    target_card_user_key: Option<String>,
    target_merchant_id: Option<i64>,
}

fn expiry_status(card: &StoredCardRow, today: chrono::NaiveDate) -> &'static str {
    let month: u32 = card.expire_month.parse().unwrap_or(1);
    let year: i32 = card.expire_year.parse().unwrap_or(2000);
    let now = (today.year(), today.month());
    let next = if today.month() == 12 {
        (today.year() + 1, 1)
    } else {
        (today.year(), today.month() + 1)
    };
    if (year, month) < now {
        "EXPIRED"
    } else if (year, month) == now || (year, month) == next {
        "WILL_EXPIRE_NEXT_MONTH"
    } else {
        "NOT_EXPIRED"
    }
}

fn render(state: &AppState, card: &StoredCardRow) -> Value {
    let zone = state.engine.config().zone;
    let today = state.engine.clock().now().with_timezone(&zone).date_naive();
    let d = &card.doc;
    json!({
        "binNumber": card.bin_number,
        "lastFourDigits": card.last_four,
        "cardUserKey": card.card_user_key,
        "cardToken": card.card_token,
        "cardHolderName": d.card_holder_name,
        "cardAlias": d.card_alias,
        "cardType": d.card_type,
        "cardAssociation": d.card_association,
        "cardBrand": d.card_brand,
        "cardBankName": d.card_bank_name,
        "cardBankId": d.card_bank_id,
        "expireYear": card.expire_year,
        "expireMonth": card.expire_month,
        "isCommercial": d.commercial,
        "cardExpiryStatus": expiry_status(card, today),
        "createdAt": local_datetime(card.created_at, zone),
    })
}

fn key_and_token(
    user_key: &Option<String>,
    token: &Option<String>,
) -> Result<(String, String), ApiError> {
    text_max("cardUserKey", user_key, 64)?;
    text_max("cardToken", token, 64)?;
    let user_key = user_key
        .clone()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::bad_request("4001", "cardUserKey is required"))?;
    let token = token
        .clone()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad_request("4001", "cardToken is required"))?;
    Ok((user_key, token))
}

pub async fn store(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let r: StoreCardRequest = parse_body(&auth.body)?;
    text_max("cardAlias", &r.card_alias, 255)?;
    text_max("cardUserKey", &r.card_user_key, 64)?;
    let card = plain_card(
        r.card_number.as_deref(),
        r.expire_month.as_ref(),
        r.expire_year.as_ref(),
        r.card_holder_name.as_deref(),
    )?;
    let row = state
        .engine
        .store_card(auth.merchant.id, r.card_user_key, &card, r.card_alias)
        .await?;
    Ok(data(render(&state, &row)))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let r: CardRefRequest = parse_body(&auth.body)?;
    let (user_key, token) = key_and_token(&r.card_user_key, &r.card_token)?;
    text_max("cardAlias", &r.card_alias, 255)?;
    let store = state.engine.store();
    let mut card = store
        .card(auth.merchant.id, &user_key, &token)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| ApiError::not_found("card"))?;
    if let (Some(month), Some(year)) = (&r.expire_month, &r.expire_year) {
        let month = crate::payments::text_of(&Some(month.clone())).unwrap_or_default();
        let year = crate::payments::text_of(&Some(year.clone())).unwrap_or_default();
        let expiry = domain::card::Expiry::parse(&month, &year)
            .map_err(|e| ApiError::bad_request("4152", e.to_string()))?;
        card.expire_month = expiry.mm();
        card.expire_year = expiry.yyyy();
    }
    if r.card_alias.is_some() {
        card.doc.card_alias = r.card_alias;
    }
    card.updated_at = state.engine.now_ms();
    store
        .update_card(&card)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(data(render(&state, &card)))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let r: CardRefRequest = parse_body(&auth.body)?;
    let (user_key, token) = key_and_token(&r.card_user_key, &r.card_token)?;
    let deleted = state
        .engine
        .store()
        .delete_card(auth.merchant.id, &user_key, &token, state.engine.now_ms())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    if !deleted {
        return Err(ApiError::not_found("card"));
    }
    Ok(empty())
}

pub async fn clone(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let r: CloneCardRequest = parse_body(&auth.body)?;
    let (user_key, token) = key_and_token(&r.source_card_user_key, &r.source_card_token)?;
    text_max("targetCardUserKey", &r.target_card_user_key, 64)?;
    if r.target_merchant_id.is_some_and(|m| m != auth.merchant.id) {
        // Cards never cross merchants: another merchant is simply not reachable from here.
        return Err(ApiError::not_found("target merchant"));
    }
    let actor = format!(
        "api:{}",
        auth.merchant.api_key.chars().take(8).collect::<String>()
    );
    let row = state
        .engine
        .clone_card(
            auth.merchant.id,
            &user_key,
            &token,
            r.target_card_user_key,
            &actor,
        )
        .await?;
    Ok(data(render(&state, &row)))
}

pub async fn search(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let page = crate::reporting::page_of(&q)?;
    let zone = state.engine.config().zone;
    let text = |name: &str| q.get(name).filter(|v| !v.is_empty()).cloned();
    let time = |name: &str| -> Result<Option<i64>, ApiError> {
        text(name)
            .map(|v| {
                parse_request_datetime(&v, zone)
                    .map(|t| t.timestamp_millis())
                    .ok_or_else(|| {
                        ApiError::bad_request("4002", format!("{name} must be a date-time"))
                    })
            })
            .transpose()
    };
    let filter = StoredCardFilter {
        card_user_key: text("cardUserKey"),
        card_token: text("cardToken"),
        card_alias: text("cardAlias"),
        card_brand: text("cardBrand"),
        card_type: text("cardType"),
        card_association: text("cardAssociation"),
        card_bank_name: text("cardBankName"),
        min_created_at: time("minCreatedDate")?,
        max_created_at: time("maxCreatedDate")?,
    };
    // Expiry status depends on today: filtered here, over all matching cards, then paged.
    let all = state
        .engine
        .store()
        .search_cards(
            auth.merchant.id,
            &filter,
            store::rows::Page {
                page: 0,
                size: 10_000,
            },
        )
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let wanted_status = text("cardExpiryStatus");
    let today = state.engine.clock().now().with_timezone(&zone).date_naive();
    let matching: Vec<&StoredCardRow> = all
        .items
        .iter()
        .filter(|c| {
            wanted_status
                .as_deref()
                .is_none_or(|s| s == expiry_status(c, today))
        })
        .collect();
    let total = i64::try_from(matching.len()).unwrap_or(0);
    let start = usize::try_from(page.page.saturating_mul(page.size))
        .unwrap_or(usize::MAX)
        .min(matching.len());
    let end = start
        .saturating_add(usize::try_from(page.size).unwrap_or(10))
        .min(matching.len());
    let items: Vec<Value> = matching[start..end]
        .iter()
        .map(|c| render(&state, c))
        .collect();
    Ok(data(crate::render::paged(
        items, page.page, page.size, total,
    )))
}
