//! `/payment/v1/card-payments`: non-3DS card payments, retrieval and post-auth.
//! Every field is validated here, at the edge, before anything is written.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::card::{CardDetails, CardError, CardNumber, Cvc, Expiry, validate_holder_name};
use domain::enums::{PaymentGroup, PaymentPhase, PaymentSource, PaymentStatus};
use domain::money::{Currency, MinorUnits};
use engine::payments::{CreatePayment, INSTALLMENT_MAX, PaymentItemInput};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::auth::Authenticated;
use crate::envelope::{ApiError, data};
use crate::json::{amount, decimal_opt, money_error, parse_body, path_id, text_max};
use crate::render;

/// Items in one payment, at most. Craftgate baskets are small; this bounds the work.
pub const ITEMS_MAX: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CardRequest {
    card_holder_name: Option<String>,
    card_number: Option<String>,
    expire_year: Option<Value>,
    expire_month: Option<Value>,
    cvc: Option<Value>,
    card_user_key: Option<String>,
    card_token: Option<String>,
    card_alias: Option<String>,
    store_card_after_success_payment: Option<bool>,
}

/// The card of a payment: a card number, or a stored card's key and token.
pub(crate) enum CardInput {
    Raw(CardDetails, Option<engine::payments::StoreCardAfter>),
    Stored(engine::payments::StoredCardRef),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemRequest {
    name: Option<String>,
    external_id: Option<String>,
    #[serde(default, deserialize_with = "decimal_opt")]
    price: Option<Decimal>,
    sub_merchant_member_id: Option<i64>,
    #[serde(default, deserialize_with = "decimal_opt")]
    sub_merchant_member_price: Option<Decimal>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePaymentRequest {
    #[serde(default, deserialize_with = "decimal_opt")]
    price: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal_opt")]
    paid_price: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal_opt")]
    wallet_price: Option<Decimal>,
    pos_alias: Option<String>,
    installment: Option<i64>,
    currency: Option<String>,
    payment_group: Option<String>,
    conversation_id: Option<String>,
    external_id: Option<String>,
    client_ip: Option<String>,
    payment_phase: Option<String>,
    payment_channel: Option<String>,
    buyer_member_id: Option<i64>,
    bank_order_id: Option<String>,
    card: Option<CardRequest>,
    items: Option<Vec<ItemRequest>>,
    additional_params: Option<Value>,
    /// 3DS only: where the shopper's browser returns.
    pub(crate) callback_url: Option<String>,
    routing_options: Option<RoutingOptionsRequest>,
    retry: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoutingOptionsRequest {
    ordering_rule: Option<String>,
    pos_aliases: Option<Vec<String>>,
    ignore_advanced_pos_routing_rules: Option<bool>,
}

/// Card fields may arrive as strings or numbers (`expireMonth: 7`).
pub(crate) fn text_of(value: &Option<Value>) -> Option<String> {
    match value {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn card_error(e: CardError) -> ApiError {
    let code = match e {
        CardError::NumberFormat | CardError::NumberLuhn => "4010",
        CardError::Expired => "4011",
        CardError::Cvc => "4012",
        CardError::ExpiryMonth => "4151",
        CardError::ExpiryYear => "4152",
        CardError::HolderName => "4013",
    };
    ApiError::bad_request(code, e.to_string())
}

fn card_of(card: Option<CardRequest>) -> Result<CardInput, ApiError> {
    let card = card.ok_or_else(|| ApiError::bad_request("4001", "card is required"))?;
    text_max("card.cardAlias", &card.card_alias, 255)?;
    if card.card_number.is_none()
        && let (Some(user_key), Some(token)) = (card.card_user_key.clone(), card.card_token.clone())
    {
        if user_key.len() > 64 || token.len() > 64 {
            return Err(ApiError::bad_request(
                "4002",
                "cardUserKey and cardToken are at most 64 characters",
            ));
        }
        return Ok(CardInput::Stored(engine::payments::StoredCardRef {
            card_user_key: user_key,
            card_token: token,
            cvc: None,
        }));
    }
    let number = card.card_number.as_deref().ok_or_else(|| {
        ApiError::bad_request(
            "4001",
            "card.cardNumber (or cardUserKey and cardToken) is required",
        )
    })?;
    let number = CardNumber::parse(number).map_err(card_error)?;
    let month = text_of(&card.expire_month)
        .ok_or_else(|| ApiError::bad_request("4001", "card.expireMonth is required"))?;
    let year = text_of(&card.expire_year)
        .ok_or_else(|| ApiError::bad_request("4001", "card.expireYear is required"))?;
    let expiry = Expiry::parse(&month, &year).map_err(card_error)?;
    let cvc = text_of(&card.cvc)
        .filter(|c| !c.is_empty())
        .map(|c| Cvc::parse(&c))
        .transpose()
        .map_err(card_error)?;
    let holder = validate_holder_name(card.card_holder_name.as_deref().unwrap_or_default())
        .map_err(card_error)?;
    let keep = card
        .store_card_after_success_payment
        .unwrap_or(false)
        .then(|| engine::payments::StoreCardAfter {
            card_user_key: card.card_user_key.clone(),
            card_alias: card.card_alias.clone(),
        });
    Ok(CardInput::Raw(
        CardDetails {
            number,
            expiry,
            cvc,
            holder_name: holder,
        },
        keep,
    ))
}

/// A card from the stored-card API (`POST /payment/v1/cards`): number, expiry, holder.
pub(crate) fn plain_card(
    number: Option<&str>,
    month: Option<&Value>,
    year: Option<&Value>,
    holder: Option<&str>,
) -> Result<CardDetails, ApiError> {
    let number = CardNumber::parse(
        number.ok_or_else(|| ApiError::bad_request("4001", "cardNumber is required"))?,
    )
    .map_err(card_error)?;
    let month = text_of(&month.cloned())
        .ok_or_else(|| ApiError::bad_request("4001", "expireMonth is required"))?;
    let year = text_of(&year.cloned())
        .ok_or_else(|| ApiError::bad_request("4001", "expireYear is required"))?;
    let expiry = Expiry::parse(&month, &year).map_err(card_error)?;
    let holder = validate_holder_name(holder.unwrap_or_default()).map_err(card_error)?;
    Ok(CardDetails {
        number,
        expiry,
        cvc: None,
        holder_name: holder,
    })
}

pub(crate) fn create_payment_of(r: CreatePaymentRequest) -> Result<CreatePayment, ApiError> {
    create_payment_checked(r, true)
}

/// A `CreatePaymentRequest` with its `walletPrice` (zero for card payments). A payment
/// paid entirely from the wallet needs no card.
pub(crate) fn create_payment_with_wallet_of(
    mut r: CreatePaymentRequest,
) -> Result<(CreatePayment, MinorUnits), ApiError> {
    let wallet_price = r.wallet_price.take();
    let currency: Currency = r
        .currency
        .as_deref()
        .unwrap_or("TRY")
        .parse()
        .map_err(|e| money_error("currency", e))?;
    let wallet = wallet_price
        .map(|w| {
            MinorUnits::from_decimal_allow_zero(w, currency)
                .map_err(|e| money_error("walletPrice", e))
        })
        .transpose()?
        .unwrap_or(MinorUnits::ZERO);
    if wallet.is_zero() {
        return Ok((create_payment_checked(r, true)?, wallet));
    }
    if r.buyer_member_id.is_none() {
        return Err(ApiError::bad_request(
            "4104",
            "a payment with a walletPrice needs buyerMemberId, the wallet's owner",
        ));
    }
    let paid = r
        .paid_price
        .map(|p| MinorUnits::from_decimal(p, currency).map_err(|e| money_error("paidPrice", e)))
        .transpose()?;
    if paid.is_some_and(|p| wallet > p) {
        return Err(ApiError::bad_request(
            "4104",
            "walletPrice cannot exceed paidPrice",
        ));
    }
    let card_needed = paid != Some(wallet);
    Ok((create_payment_checked(r, card_needed)?, wallet))
}

fn create_payment_checked(
    r: CreatePaymentRequest,
    card_needed: bool,
) -> Result<CreatePayment, ApiError> {
    for (field, value, max) in [
        ("conversationId", &r.conversation_id, 255),
        ("externalId", &r.external_id, 255),
        ("posAlias", &r.pos_alias, 255),
        ("clientIp", &r.client_ip, 64),
        ("paymentChannel", &r.payment_channel, 255),
        ("bankOrderId", &r.bank_order_id, 64),
    ] {
        text_max(field, value, max)?;
    }
    let currency_text = r.currency.as_deref().unwrap_or("TRY");
    let currency: Currency = currency_text
        .parse()
        .map_err(|e| money_error("currency", e))?;
    let price = amount("price", r.price, currency)?;
    let paid_price = amount("paidPrice", r.paid_price, currency)?;
    if r.wallet_price.is_some_and(|w| !w.is_zero()) {
        return Err(ApiError::bad_request(
            "4104",
            "walletPrice is taken by non-3DS card payments only (POST /payment/v1/card-payments)",
        ));
    }
    if paid_price < price {
        return Err(ApiError::bad_request(
            "4105",
            "paidPrice cannot be less than price",
        ));
    }
    let installment = r.installment.unwrap_or(1);
    if !(1..=i64::from(INSTALLMENT_MAX)).contains(&installment) {
        return Err(ApiError::bad_request(
            "4103",
            format!("installment must be between 1 and {INSTALLMENT_MAX}"),
        ));
    }
    let phase = match r.payment_phase.as_deref() {
        None => PaymentPhase::Auth,
        Some(p) => match PaymentPhase::parse(p) {
            Some(PaymentPhase::PostAuth) | None => {
                return Err(ApiError::bad_request(
                    "4002",
                    "paymentPhase must be AUTH or PRE_AUTH",
                ));
            }
            Some(phase) => phase,
        },
    };
    let payment_group = match r.payment_group.as_deref() {
        None => PaymentGroup::Product,
        Some(g) => PaymentGroup::parse(g)
            .ok_or_else(|| ApiError::bad_request("4002", format!("unknown paymentGroup {g}")))?,
    };
    let items_in = r.items.unwrap_or_default();
    if items_in.is_empty() {
        return Err(ApiError::bad_request("4001", "items are required"));
    }
    if items_in.len() > ITEMS_MAX {
        return Err(ApiError::bad_request(
            "4002",
            format!("at most {ITEMS_MAX} items"),
        ));
    }
    let mut items = Vec::with_capacity(items_in.len());
    let mut sum = MinorUnits::ZERO;
    for (index, item) in items_in.into_iter().enumerate() {
        text_max("items.name", &item.name, 255)?;
        text_max("items.externalId", &item.external_id, 255)?;
        let price = amount(&format!("items[{index}].price"), item.price, currency)?;
        let sub_price = item
            .sub_merchant_member_price
            .map(|p| {
                MinorUnits::from_decimal_allow_zero(p, currency)
                    .map_err(|e| money_error("subMerchantMemberPrice", e))
            })
            .transpose()?;
        sum = sum
            .checked_add(price)
            .ok_or_else(|| ApiError::bad_request("4101", "items total is too large"))?;
        items.push(PaymentItemInput {
            name: item.name,
            external_id: item.external_id,
            price,
            sub_merchant_member_id: item.sub_merchant_member_id,
            sub_merchant_member_price: sub_price,
        });
    }
    if sum != price {
        return Err(ApiError::bad_request(
            "4100",
            "price must equal the sum of the items' prices",
        ));
    }
    let (card, stored_card, store_card_after_success) = match r.card {
        None if !card_needed => (None, None, None),
        card => match card_of(card)? {
            CardInput::Raw(card, keep) => (Some(card), None, keep),
            CardInput::Stored(stored) => (None, Some(stored), None),
        },
    };
    let routing = match r.routing_options {
        None => engine::payments::RoutingChoice::default(),
        Some(o) => engine::payments::RoutingChoice {
            ordering_rule: o
                .ordering_rule
                .as_deref()
                .map(|rule| {
                    domain::enums::OrderingRule::parse(rule).ok_or_else(|| {
                        ApiError::bad_request("4002", format!("unknown orderingRule {rule}"))
                    })
                })
                .transpose()?,
            pos_aliases: o.pos_aliases.unwrap_or_default(),
            ignore_rules: o.ignore_advanced_pos_routing_rules.unwrap_or(false),
        },
    };
    Ok(CreatePayment {
        routing,
        retry: r.retry.unwrap_or(true),
        price,
        paid_price,
        currency,
        installment: u32::try_from(installment).unwrap_or(1),
        phase,
        payment_group,
        source: PaymentSource::Api,
        conversation_id: r.conversation_id,
        external_id: r.external_id,
        bank_order_id: r.bank_order_id.filter(|o| !o.is_empty()),
        buyer_member_id: r.buyer_member_id,
        pos_alias: r.pos_alias.filter(|a| !a.is_empty()),
        client_ip: r.client_ip,
        payment_channel: r.payment_channel,
        card,
        stored_card,
        store_card_after_success,
        items,
        additional_params: r.additional_params,
        checkout_token: None,
        product_id: None,
    })
}

pub async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let request: CreatePaymentRequest = parse_body(&auth.body)?;
    let (command, wallet_price) = create_payment_with_wallet_of(request)?;
    check_buyer(&state, auth.merchant.id, command.buyer_member_id).await?;
    let view = if wallet_price.is_zero() {
        state
            .engine
            .create_payment(auth.merchant.id, command)
            .await?
    } else {
        state
            .engine
            .create_wallet_payment(auth.merchant.id, command, wallet_price)
            .await?
    };
    let body = render_payment(&state, &view).await?;
    if view.payment.status == PaymentStatus::Waiting.as_str() {
        // The bank has not answered yet; the status inquiry will settle it.
        return Ok((
            StatusCode::ACCEPTED,
            axum::Json(serde_json::json!({"data": body})),
        )
            .into_response());
    }
    Ok(data(body))
}

/// A `buyerMemberId` must be a member of the same merchant.
pub(crate) async fn check_buyer(
    state: &AppState,
    merchant_id: i64,
    buyer: Option<i64>,
) -> Result<(), ApiError> {
    if let Some(member_id) = buyer {
        let member = state
            .engine
            .store()
            .member(merchant_id, member_id)
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
        if member.is_none() {
            return Err(ApiError::bad_request(
                "4015",
                "buyerMemberId is not a member of this merchant",
            ));
        }
    }
    Ok(())
}

pub async fn retrieve(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "payment")?;
    let view = state.engine.payment_view(auth.merchant.id, id).await?;
    Ok(data(render_payment(&state, &view).await?))
}

/// `PaymentResponse`, with the wallet part of a wallet or card-and-wallet payment.
pub(crate) async fn render_payment(
    state: &AppState,
    view: &engine::payments::PaymentView,
) -> Result<Value, ApiError> {
    let mut body = render::payment(view, state.engine.config().zone);
    let wallet_price = state.engine.payment_wallet_price(&view.payment).await?;
    if wallet_price > 0 {
        let currency = view.payment.currency.as_str();
        body["walletPrice"] = crate::json::money(wallet_price, currency);
        if view.payment.doc.payment_type == engine::wallet::PAYMENT_TYPE_WALLET {
            body["paymentProvider"] = Value::from("CG_WALLET");
        }
        let paid: Vec<i64> = view.items.iter().map(|i| i.paid_price_minor).collect();
        let parts = engine::payments::split_paid_price(wallet_price, &paid);
        if let Some(items) = body["paymentTransactions"].as_array_mut() {
            for (item, part) in items.iter_mut().zip(parts) {
                item["walletPrice"] = crate::json::money(part, currency);
            }
        }
    }
    Ok(body)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostAuthRequest {
    #[serde(default, deserialize_with = "decimal_opt")]
    paid_price: Option<Decimal>,
}

pub async fn post_auth(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "payment")?;
    let request: PostAuthRequest = if auth.body.is_empty() {
        PostAuthRequest { paid_price: None }
    } else {
        parse_body(&auth.body)?
    };
    let payment = state.engine.payment_view(auth.merchant.id, id).await?;
    let currency: Currency = payment
        .payment
        .currency
        .parse()
        .map_err(|_| ApiError::internal("stored currency"))?;
    let paid = request
        .paid_price
        .map(|p| MinorUnits::from_decimal(p, currency).map_err(|e| money_error("paidPrice", e)))
        .transpose()?;
    let view = state.engine.post_auth(auth.merchant.id, id, paid).await?;
    Ok(data(render_payment(&state, &view).await?))
}
