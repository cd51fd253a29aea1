//! The hosted checkout page (Ortak Ödeme Sayfası): `/payment/v1/checkout-payments/*` for
//! the merchant, and the shopper-facing page at `/checkout/{token}`.
//!
//! The page is Orkestra's own: one HTML document, one stylesheet and one script, all served
//! from this binary (no CDN, no third-party script), with a strict CSP, `no-store` caching
//! and `frame-ancestors 'none'` unless the merchant asks for `iframe=true`. Card data is
//! posted only to Orkestra's own `/checkout/{token}/pay`.

use std::collections::HashMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::card::{CardDetails, CardNumber, Cvc, Expiry, validate_holder_name};
use domain::money::{Currency, MinorUnits};
use engine::EngineError;
use engine::checkout::{CheckoutCard, CheckoutItem, CheckoutPay, CheckoutTerms, CustomInstallment};
use engine::threeds::ThreeDsCallbackResult;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Authenticated;
use crate::envelope::{ApiError, data, empty};
use crate::json::{amount, decimal_opt, local_datetime, money_error, parse_body, text_max};
use crate::pages::{auto_submit_form, escape, html, parse_form};
use crate::render;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemRequest {
    name: Option<String>,
    external_id: Option<String>,
    #[serde(default, deserialize_with = "decimal_opt")]
    price: Option<Decimal>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomInstallmentRequest {
    number: Option<u32>,
    #[serde(default, deserialize_with = "decimal_opt")]
    total_price: Option<Decimal>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitCheckoutRequest {
    #[serde(default, deserialize_with = "decimal_opt")]
    price: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal_opt")]
    paid_price: Option<Decimal>,
    currency: Option<String>,
    payment_group: Option<String>,
    payment_phase: Option<String>,
    conversation_id: Option<String>,
    external_id: Option<String>,
    callback_url: Option<String>,
    buyer_member_id: Option<i64>,
    enabled_installments: Option<Vec<u32>>,
    custom_installments: Option<Vec<CustomInstallmentRequest>>,
    card_brand_installments:
        Option<std::collections::BTreeMap<String, Vec<CustomInstallmentRequest>>>,
    merchant_webhook_url: Option<String>,
    force_three_ds: Option<bool>,
    allow_only_credit_card: Option<bool>,
    ttl: Option<i64>,
    items: Option<Vec<ItemRequest>>,
    routing_options: Option<Value>,
    card_user_key: Option<String>,
}

/// `customInstallments`-shaped options; a missing `totalPrice` means `default_total` (when
/// given) rather than an error.
fn custom_installments(
    field: &str,
    options: Vec<CustomInstallmentRequest>,
    default_total: Option<MinorUnits>,
    currency: Currency,
) -> Result<Vec<CustomInstallment>, ApiError> {
    options
        .into_iter()
        .map(|c| {
            let number = c.number.ok_or_else(|| {
                ApiError::bad_request("4001", format!("{field}.number is required"))
            })?;
            let total = match (c.total_price, default_total) {
                (None, Some(total)) => total,
                (price, _) => amount(&format!("{field}.totalPrice"), price, currency)?,
            };
            Ok(CustomInstallment {
                number,
                total_price_minor: total.get(),
            })
        })
        .collect()
}

fn page_lang(query: &HashMap<String, String>, headers: &HeaderMap) -> &'static str {
    let asked = query
        .get("lang")
        .map(String::as_str)
        .or_else(|| headers.get("lang").and_then(|v| v.to_str().ok()));
    match asked {
        Some(l) if l.eq_ignore_ascii_case("en") => "en",
        _ => "tr",
    }
}

pub async fn init(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let r: InitCheckoutRequest = parse_body(&auth.body)?;
    text_max("conversationId", &r.conversation_id, 255)?;
    text_max("externalId", &r.external_id, 255)?;
    text_max("cardUserKey", &r.card_user_key, 255)?;
    let currency: Currency = r
        .currency
        .as_deref()
        .unwrap_or("TRY")
        .parse()
        .map_err(|e| money_error("currency", e))?;
    let price = amount("price", r.price, currency)?;
    let paid_price = match r.paid_price {
        Some(p) => {
            MinorUnits::from_decimal(p, currency).map_err(|e| money_error("paidPrice", e))?
        }
        None => price,
    };
    if paid_price < price {
        return Err(ApiError::bad_request(
            "4105",
            "paidPrice cannot be less than price",
        ));
    }
    let callback_url = r
        .callback_url
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::bad_request("4001", "callbackUrl is required"))?;
    if !(callback_url.starts_with("https://") || callback_url.starts_with("http://"))
        || callback_url.len() > 1024
    {
        return Err(ApiError::bad_request(
            "4002",
            "callbackUrl must be an http(s) URL",
        ));
    }
    let items_in = r.items.unwrap_or_default();
    if items_in.is_empty() || items_in.len() > crate::payments::ITEMS_MAX {
        return Err(ApiError::bad_request(
            "4001",
            "items are required (at most 100)",
        ));
    }
    let mut items = Vec::new();
    let mut sum = MinorUnits::ZERO;
    for (i, item) in items_in.into_iter().enumerate() {
        let p = amount(&format!("items[{i}].price"), item.price, currency)?;
        sum = sum
            .checked_add(p)
            .ok_or_else(|| ApiError::bad_request("4101", "items total is too large"))?;
        items.push(CheckoutItem {
            name: item.name,
            external_id: item.external_id,
            price_minor: p.get(),
        });
    }
    if sum != price {
        return Err(ApiError::bad_request(
            "4100",
            "price must equal the sum of the items' prices",
        ));
    }
    let phase = r.payment_phase.unwrap_or_else(|| "AUTH".into());
    if phase != "AUTH" && phase != "PRE_AUTH" {
        return Err(ApiError::bad_request(
            "4002",
            "paymentPhase must be AUTH or PRE_AUTH",
        ));
    }
    let custom = custom_installments(
        "customInstallments",
        r.custom_installments.unwrap_or_default(),
        None,
        currency,
    )?;
    let mut card_brand_installments = std::collections::BTreeMap::new();
    for (brand, options) in r.card_brand_installments.unwrap_or_default() {
        if brand.is_empty() || brand.len() > 50 {
            return Err(ApiError::bad_request(
                "4002",
                "cardBrandInstallments keys must be card brand names",
            ));
        }
        let options =
            custom_installments("cardBrandInstallments", options, Some(paid_price), currency)?;
        card_brand_installments.insert(brand, options);
    }
    let merchant_webhook_url = r.merchant_webhook_url.filter(|u| !u.is_empty());
    if let Some(url) = &merchant_webhook_url
        && (!(url.starts_with("https://") || url.starts_with("http://"))
            || url.len() > 1024
            || url.contains(char::is_whitespace))
    {
        return Err(ApiError::bad_request(
            "4002",
            "merchantWebhookUrl must be an http(s) URL",
        ));
    }
    crate::payments::check_buyer(&state, auth.merchant.id, r.buyer_member_id).await?;
    let pos_alias = r
        .routing_options
        .as_ref()
        .and_then(|o| o.get("posAliases"))
        .and_then(|a| a.as_array())
        .and_then(|a| a.first())
        .and_then(|a| a.as_str())
        .map(str::to_owned);
    let terms = CheckoutTerms {
        price_minor: price.get(),
        paid_price_minor: paid_price.get(),
        currency,
        payment_group: r.payment_group.unwrap_or_else(|| "PRODUCT".into()),
        payment_phase: phase,
        conversation_id: r.conversation_id,
        external_id: r.external_id,
        callback_url: Some(callback_url),
        buyer_member_id: r.buyer_member_id,
        enabled_installments: r.enabled_installments.unwrap_or_else(|| vec![1]),
        custom_installments: custom,
        card_brand_installments,
        merchant_webhook_url,
        force_three_ds: r.force_three_ds.unwrap_or(false),
        allow_only_credit_card: r.allow_only_credit_card.unwrap_or(false),
        pos_alias,
        items,
        title: auth.merchant.name.clone(),
        description: None,
        source: "CHECKOUT_FORM".into(),
        card_user_key: r.card_user_key.filter(|k| !k.is_empty()),
    };
    let row = state
        .engine
        .init_checkout(auth.merchant.id, terms, r.ttl, None)
        .await?;
    let public = state
        .engine
        .config()
        .public_url
        .trim_end_matches('/')
        .to_owned();
    Ok(data(json!({
        "token": row.token,
        "pageUrl": format!("{public}/checkout/{}", row.token),
        "tokenExpireDate": local_datetime(row.expires_at, state.engine.config().zone),
    })))
}

async fn own_session(
    state: &AppState,
    merchant_id: i64,
    token: &str,
) -> Result<store::rows::CheckoutRow, ApiError> {
    let (row, _) = state.engine.checkout(token).await?;
    if row.merchant_id != merchant_id {
        return Err(ApiError::not_found("checkout"));
    }
    Ok(row)
}

pub async fn retrieve(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let row = own_session(&state, auth.merchant.id, &token).await?;
    let payment_id = row
        .payment_id
        .ok_or_else(|| ApiError::not_found("payment for this checkout"))?;
    let view = state
        .engine
        .payment_view(auth.merchant.id, payment_id)
        .await?;
    Ok(data(render::payment(&view, state.engine.config().zone)))
}

pub async fn expire(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    own_session(&state, auth.merchant.id, &token).await?;
    state
        .engine
        .expire_checkout(auth.merchant.id, &token)
        .await?;
    Ok(empty())
}

// ---- the shopper's page ---------------------------------------------------------------

struct Texts {
    lang: &'static str,
}

impl Texts {
    fn t(&self, tr: &'static str, en: &'static str) -> &'static str {
        if self.lang == "en" { en } else { tr }
    }
}

/// `1234.5` TRY as `1.234,50 TL` (Turkish) or `1,234.50 TRY`.
pub fn format_money(minor: i64, currency: Currency, lang: &str) -> String {
    let decimals = currency.minor_units();
    let value = MinorUnits::from_stored(minor).to_decimal(currency);
    let text = format!(
        "{value:.prec$}",
        prec = usize::try_from(decimals).unwrap_or(2)
    );
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let (sep, dec) = if lang == "tr" { ('.', ',') } else { (',', '.') };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(sep);
        }
        grouped.push(c);
    }
    let symbol = if currency == Currency::Try && lang == "tr" {
        "TL"
    } else {
        currency.code()
    };
    if frac.is_empty() {
        format!("{grouped} {symbol}")
    } else {
        format!("{grouped}{dec}{frac} {symbol}")
    }
}

fn frame_ancestors(query: &HashMap<String, String>) -> String {
    if query.get("iframe").is_some_and(|v| v == "true") {
        std::env::var("ORKESTRA_CHECKOUT_FRAME_ANCESTORS").unwrap_or_else(|_| "*".into())
    } else {
        "'none'".into()
    }
}

/// One of the shopper's stored cards, with the installments its BIN is offered.
pub struct SavedCard {
    pub card: store::rows::StoredCardRow,
    pub options: Vec<engine::checkout::InstallmentOption>,
}

/// The stored cards of the checkout's `cardUserKey` (none without one).
async fn saved_cards(state: &AppState, merchant_id: i64, terms: &CheckoutTerms) -> Vec<SavedCard> {
    let Some(user_key) = terms.card_user_key.clone() else {
        return Vec::new();
    };
    let filter = store::rows::StoredCardFilter {
        card_user_key: Some(user_key),
        ..Default::default()
    };
    let cards = match state
        .engine
        .store()
        .search_cards(
            merchant_id,
            &filter,
            store::rows::Page { page: 0, size: 20 },
        )
        .await
    {
        Ok(found) => found.items,
        Err(error) => {
            tracing::warn!(%error, "stored cards not listed on the checkout page");
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(cards.len());
    for card in cards {
        let options = state
            .engine
            .checkout_installments(terms, merchant_id, Some(&card.bin_number))
            .await
            .unwrap_or_default();
        if !options.is_empty() {
            out.push(SavedCard { card, options });
        }
    }
    out
}

/// One form per stored card: its CVC and installments, then pay.
fn saved_cards_html(
    token: &str,
    terms: &CheckoutTerms,
    saved: &[SavedCard],
    lang: &'static str,
    iframe_q: &str,
) -> String {
    if saved.is_empty() {
        return String::new();
    }
    let t = Texts { lang };
    let forms: String = saved
        .iter()
        .map(|s| {
            let c = &s.card;
            let options: String = s
                .options
                .iter()
                .map(|o| {
                    let total = format_money(o.total_price_minor, terms.currency, lang);
                    let label = if o.installment == 1 {
                        format!("{} — {total}", t.t("Tek çekim", "Single payment"))
                    } else {
                        format!("{} {} — {total}", o.installment, t.t("taksit", "installments"))
                    };
                    format!("<option value=\"{}\">{}</option>", o.installment, escape(&label))
                })
                .collect();
            let name = [
                match c.doc.card_association.as_deref() {
                    Some("MASTER_CARD") => "Mastercard".to_owned(),
                    Some("VISA") => "Visa".to_owned(),
                    Some("AMEX") => "American Express".to_owned(),
                    Some("TROY") => "Troy".to_owned(),
                    other => other.unwrap_or_default().replace('_', " "),
                },
                format!("•••• {}", c.last_four),
                c.doc.card_alias.clone().unwrap_or_default(),
            ]
            .join(" ");
            format!(
                r#"<form class="saved-card" method="post" action="/checkout/{token}/pay?lang={lang}{iframe_q}" data-last-four="{last}">
<input type="hidden" name="storedCard" value="{card_token}"><p class="saved-name">{name}</p>
<div class="row"><div><label for="cvc-{id}">{l_cvc}</label><input id="cvc-{id}" name="cvc" inputmode="numeric" autocomplete="cc-csc" required maxlength="4" placeholder="123"></div>
<div><label for="installment-{id}">{l_installment}</label><select id="installment-{id}" name="installment">{options}</select></div></div>
<button type="submit">{pay}</button></form>"#,
                token = escape(token),
                last = escape(&c.last_four),
                card_token = escape(&c.card_token),
                name = escape(name.trim()),
                id = c.id,
                l_cvc = t.t("Güvenlik kodu (CVC)", "Security code (CVC)"),
                l_installment = t.t("Taksit", "Installments"),
                pay = t.t("Bu kartla öde", "Pay with this card"),
            )
        })
        .collect();
    format!(
        "<section class=\"saved-cards\" aria-labelledby=\"saved-title\"><h2 id=\"saved-title\">{}</h2>{forms}</section><h2 class=\"new-card\">{}</h2>",
        t.t("Kayıtlı kartlarınız", "Your saved cards"),
        t.t("veya yeni bir kartla ödeyin", "or pay with a new card"),
    )
}

#[allow(clippy::too_many_arguments)] // one page, many parts; a struct would only rename them
fn render_page(
    token: &str,
    terms: &CheckoutTerms,
    lang: &'static str,
    iframe: bool,
    error: Option<&str>,
    holder: &str,
    saved: &[SavedCard],
) -> String {
    let t = Texts { lang };
    let total = format_money(terms.paid_price_minor, terms.currency, lang);
    let texts = json!({
        "lang": lang,
        "currency": if terms.currency == Currency::Try && lang == "tr" { "TL" } else { terms.currency.code() },
        "decimals": terms.currency.minor_units(),
        "installmentsUrl": format!("/checkout/{token}/installments"),
        "single": t.t("Tek çekim", "Single payment"),
        "installments": t.t("taksit", "installments"),
        "total": t.t("toplam", "total"),
        "debit": t.t("banka kartı", "debit card"),
        "processing": t.t("İşleniyor…", "Processing…"),
    });
    let other_lang = if lang == "tr" {
        ("en", "English")
    } else {
        ("tr", "Türkçe")
    };
    let iframe_q = if iframe { "&iframe=true" } else { "" };
    let error_html = error
        .map(|e| {
            format!(
                "<p class=\"alert\" role=\"alert\" id=\"error\">{}</p>",
                escape(e)
            )
        })
        .unwrap_or_default();
    let description = terms
        .description
        .as_ref()
        .map(|d| format!("<p class=\"muted product-desc\">{}</p>", escape(d)))
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title_text} — {pay}</title><link rel="stylesheet" href="/assets/orkestra.css"><script src="/assets/checkout.js" defer></script></head>
<body class="{body_class}"><main>
<p class="lang"><a href="/checkout/{token}?lang={other_code}{iframe_q}" hreflang="{other_code}">{other_name}</a></p>
<h1>{title}</h1>{description}
<p class="amount" id="amount">{total}</p>
{saved}<form id="pay-form" method="post" action="/checkout/{token}/pay?lang={lang}{iframe_q}" autocomplete="on" novalidate>
<label for="cardHolderName">{l_holder}</label>
<input id="cardHolderName" name="cardHolderName" autocomplete="cc-name" required maxlength="100" value="{holder}">
<label for="cardNumber">{l_number} <span class="brand" id="brand" aria-live="polite"></span></label>
<input id="cardNumber" name="cardNumber" inputmode="numeric" autocomplete="cc-number" required maxlength="23" placeholder="0000 0000 0000 0000">
<p class="muted card-info" id="card-info" aria-live="polite"></p>
<div class="row"><div><label for="expiry">{l_expiry}</label>
<input id="expiry" name="expiry" inputmode="numeric" autocomplete="cc-exp" required maxlength="5" placeholder="{ph_expiry}"></div>
<div><label for="cvc">{l_cvc}</label>
<input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" required maxlength="4" placeholder="123"></div></div>
<label for="installment">{l_installment}</label>
<select id="installment" name="installment"><option value="1">{single} — {total}</option></select>
<label class="check"><input type="checkbox" id="saveCard" name="saveCard" value="yes"> {l_save}</label>
{error_html}
<button type="submit" id="pay">{pay} {total}</button>
</form>
<p class="muted secure">{secure}</p>
<script type="application/json" id="texts">{texts}</script>
</main></body></html>"#,
        lang = lang,
        title_text = escape(&terms.title),
        title = escape(&terms.title),
        description = description,
        pay = t.t("Öde", "Pay"),
        body_class = if iframe { "iframe" } else { "" },
        token = escape(token),
        other_code = other_lang.0,
        other_name = other_lang.1,
        iframe_q = iframe_q,
        total = escape(&total),
        l_holder = t.t("Kart üzerindeki isim", "Name on card"),
        holder = escape(holder),
        l_number = t.t("Kart numarası", "Card number"),
        l_expiry = t.t("Son kullanma (AA/YY)", "Expiry (MM/YY)"),
        ph_expiry = t.t("AA/YY", "MM/YY"),
        l_cvc = t.t("Güvenlik kodu (CVC)", "Security code (CVC)"),
        l_installment = t.t("Taksit", "Installments"),
        single = t.t("Tek çekim", "Single payment"),
        error_html = error_html,
        saved = saved_cards_html(token, terms, saved, lang, iframe_q),
        l_save = t.t(
            "Kartımı sonraki alışverişlerim için kaydet",
            "Save my card for next time"
        ),
        secure = t.t(
            "Kart bilgileriniz yalnızca bu sayfa üzerinden bankaya iletilir; kaydetmeyi seçmedikçe saklanmaz (kaydedilen kart şifreli tutulur, güvenlik kodu hiç saklanmaz).",
            "Your card details go only from this page to the bank and are not kept unless you choose to save the card (then encrypted; the security code is never kept)."
        ),
        texts = texts.to_string().replace("</", "<\\/"),
    )
}

fn closed_page(status: StatusCode, lang: &str, tr: &str, en: &str) -> Response {
    let (first, second) = if lang == "en" { (en, tr) } else { (tr, en) };
    crate::threeds::message_page(status, first, second)
}

pub async fn page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = page_lang(&query, &headers);
    let (row, terms) = match state.engine.checkout(&token).await {
        Ok(found) => found,
        Err(_) => {
            return closed_page(
                StatusCode::NOT_FOUND,
                lang,
                "Ödeme sayfası bulunamadı.",
                "Checkout not found.",
            );
        }
    };
    match row.status.as_str() {
        "ACTIVE" => {}
        "COMPLETED" => {
            return closed_page(
                StatusCode::OK,
                lang,
                "Bu ödeme tamamlandı.",
                "This payment is complete.",
            );
        }
        "PROCESSING" => {
            return closed_page(
                StatusCode::CONFLICT,
                lang,
                "Bu ödeme şu anda işleniyor; lütfen biraz sonra tekrar bakınız.",
                "This payment is being processed; please check again shortly.",
            );
        }
        _ => {
            return closed_page(
                StatusCode::GONE,
                lang,
                "Bu ödeme sayfasının süresi doldu.",
                "This checkout has expired.",
            );
        }
    }
    let iframe = query.get("iframe").is_some_and(|v| v == "true");
    html(
        StatusCode::OK,
        render_page(
            &token,
            &terms,
            lang,
            iframe,
            None,
            "",
            &saved_cards(&state, row.merchant_id, &terms).await,
        ),
        &frame_ancestors(&query),
        "'self'",
    )
}

pub async fn installments(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let (row, terms) = state
        .engine
        .checkout(&token)
        .await
        .map_err(|_| ApiError::not_found("checkout"))?;
    if row.status != "ACTIVE" {
        return Err(ApiError::not_found("checkout"));
    }
    let bin = query.get("bin").cloned().unwrap_or_default();
    if !(6..=8).contains(&bin.len()) || !bin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request("4016", "bin must be 6 to 8 digits"));
    }
    let info = domain::bin::lookup(&bin);
    let options = state
        .engine
        .checkout_installments(&terms, row.merchant_id, Some(&bin))
        .await?;
    let mut response = axum::Json(json!({
        "bankName": info.as_ref().and_then(|i| i.bank_name.clone()),
        "cardBrand": info.as_ref().and_then(|i| i.card_brand),
        "cardType": info.as_ref().and_then(|i| i.card_type).map(|t| t.as_str()),
        "cardAssociation": info.as_ref().and_then(|i| i.association).map(|a| a.as_str()),
        "options": options,
    }))
    .into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

fn card_of_form(fields: &[(String, String)], t: &Texts) -> Result<CardDetails, &'static str> {
    let number = CardNumber::parse(field(fields, "cardNumber"))
        .map_err(|_| t.t("Kart numarası geçersiz.", "The card number is not valid."))?;
    let expiry = field(fields, "expiry");
    let (mm, yy) = expiry.split_once('/').unwrap_or((
        expiry.get(..2).unwrap_or_default(),
        expiry.get(2..).unwrap_or_default(),
    ));
    let expiry = Expiry::parse(mm, yy).map_err(|_| {
        t.t(
            "Son kullanma tarihi geçersiz.",
            "The expiry date is not valid.",
        )
    })?;
    let cvc = Cvc::parse(field(fields, "cvc"))
        .map_err(|_| t.t("Güvenlik kodu geçersiz.", "The security code is not valid."))?;
    let holder = validate_holder_name(field(fields, "cardHolderName")).map_err(|_| {
        t.t(
            "Kart üzerindeki ismi yazınız.",
            "Enter the name on the card.",
        )
    })?;
    Ok(CardDetails {
        number,
        expiry,
        cvc: Some(cvc),
        holder_name: holder,
    })
}

fn error_text(error: &EngineError, t: &Texts) -> String {
    match error {
        EngineError::Declined { group, .. } => group.description(t.lang == "tr").to_owned(),
        EngineError::Validation { message, .. } | EngineError::Refused { message, .. } => {
            match message.as_str() {
                "sold out" => t
                    .t("Bu ürün tükendi.", "This product is sold out.")
                    .to_owned(),
                _ => message.clone(),
            }
        }
        EngineError::NotFound(_) => t
            .t("Ödeme sayfası bulunamadı.", "Checkout not found.")
            .to_owned(),
        EngineError::OutcomeUnknown | EngineError::Internal(_) => t
            .t(
                "İşlem şu anda tamamlanamadı, lütfen tekrar deneyiniz.",
                "The payment could not be completed now; please try again.",
            )
            .to_owned(),
    }
}

pub async fn pay(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = page_lang(&query, &headers);
    let t = Texts { lang };
    let iframe = query.get("iframe").is_some_and(|v| v == "true");
    let ancestors = frame_ancestors(&query);
    let (row, terms) = match state.engine.checkout(&token).await {
        Ok(found) => found,
        Err(_) => {
            return closed_page(
                StatusCode::NOT_FOUND,
                lang,
                "Ödeme sayfası bulunamadı.",
                "Checkout not found.",
            );
        }
    };
    if row.status == "PROCESSING" {
        return closed_page(
            StatusCode::CONFLICT,
            lang,
            "Bu ödeme için başka bir işlem sürüyor.",
            "Another payment for this checkout is in progress.",
        );
    }
    if row.status != "ACTIVE" {
        return closed_page(
            StatusCode::GONE,
            lang,
            "Bu ödeme sayfası artık kullanılamaz.",
            "This checkout can no longer be used.",
        );
    }
    let fields = parse_form(&body);
    let holder = field(&fields, "cardHolderName")
        .chars()
        .take(100)
        .collect::<String>();
    // The page again, with the error; the shopper's stored cards are read only then.
    let retry = async |status: StatusCode, message: &str| {
        let saved = saved_cards(&state, row.merchant_id, &terms).await;
        html(
            status,
            render_page(&token, &terms, lang, iframe, Some(message), &holder, &saved),
            &ancestors,
            "'self'",
        )
    };
    let stored_token = field(&fields, "storedCard");
    let card = if stored_token.is_empty() {
        match card_of_form(&fields, &t) {
            Ok(card) => CheckoutCard::New {
                card,
                save: field(&fields, "saveCard") == "yes",
            },
            Err(message) => return retry(StatusCode::BAD_REQUEST, message).await,
        }
    } else {
        let cvc = match Cvc::parse(field(&fields, "cvc")) {
            Ok(cvc) => cvc,
            Err(_) => {
                return retry(
                    StatusCode::BAD_REQUEST,
                    t.t("Güvenlik kodu geçersiz.", "The security code is not valid."),
                )
                .await;
            }
        };
        CheckoutCard::Stored {
            card_token: stored_token.to_owned(),
            cvc: Some(cvc),
        }
    };
    let installment: u32 = field(&fields, "installment").parse().unwrap_or(1);
    let client_ip = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned());
    match state
        .engine
        .pay_checkout(&token, card, installment, lang, client_ip)
        .await
    {
        Ok(CheckoutPay::Paid(view)) => finished(&state, &token, &terms, &view.payment, lang),
        Ok(CheckoutPay::Waiting(view)) => finished(&state, &token, &terms, &view.payment, lang),
        Ok(CheckoutPay::ThreeDs(start)) => html(
            StatusCode::OK,
            auto_submit_form(
                &start.form.action,
                &start.form.fields,
                t.t(
                    "Bankanıza yönlendiriliyorsunuz…",
                    "Redirecting to your bank…",
                ),
            ),
            &ancestors,
            "https: http:",
        ),
        Ok(CheckoutPay::Failed(error)) | Err(error) => {
            retry(StatusCode::UNPROCESSABLE_ENTITY, &error_text(&error, &t)).await
        }
    }
}

/// The shopper is done: back to the merchant (posting the token, as Craftgate does), or
/// Orkestra's own result page when there is no merchant site (pay-by-link).
fn finished(
    _state: &AppState,
    token: &str,
    terms: &CheckoutTerms,
    payment: &store::rows::PaymentRow,
    lang: &'static str,
) -> Response {
    let t = Texts { lang };
    if let Some(url) = &terms.callback_url {
        return html(
            StatusCode::OK,
            auto_submit_form(
                url,
                &[("token".to_owned(), token.to_owned())],
                t.t("Mağazaya dönülüyor…", "Returning to the store…"),
            ),
            "'none'",
            "https: http:",
        );
    }
    let (tr, en) = match payment.status.as_str() {
        "SUCCESS" => (
            "Ödemeniz alındı. Teşekkür ederiz!",
            "Your payment was received. Thank you!",
        ),
        "WAITING" => (
            "Ödemeniz bankadan onay bekliyor.",
            "Your payment is awaiting the bank's confirmation.",
        ),
        _ => (
            "Ödeme tamamlanamadı.",
            "The payment could not be completed.",
        ),
    };
    let amount = format_money(
        payment.paid_price_minor,
        payment.currency.parse().unwrap_or(Currency::Try),
        lang,
    );
    let body = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Orkestra</title><link rel=\"stylesheet\" href=\"/assets/orkestra.css\"></head>\
<body><main><h1 class=\"ok\" id=\"result\">{msg}</h1><p class=\"amount\">{amount}</p><p class=\"muted\">{label} #{id}</p></main></body></html>",
        msg = escape(t.t(tr, en)),
        amount = escape(&amount),
        label = t.t("Ödeme numarası", "Payment number"),
        id = payment.id,
    );
    html(StatusCode::OK, body, "'none'", "'self'")
}

/// The bank's 3D callback for a checkout payment has been verified: provision if needed,
/// then finish like a direct payment — or show the page again with the error.
pub async fn after_threeds(
    state: &AppState,
    token: &str,
    result: ThreeDsCallbackResult,
) -> Response {
    let (_, terms) = match state.engine.checkout(token).await {
        Ok(found) => found,
        Err(_) => {
            return closed_page(
                StatusCode::NOT_FOUND,
                "tr",
                "Ödeme sayfası bulunamadı.",
                "Checkout not found.",
            );
        }
    };
    let lang: &'static str = if result.lang == "en" { "en" } else { "tr" };
    let t = Texts { lang };
    let view = match state
        .engine
        .finish_checkout_threeds(token, result.payment.id, result.merchant_id)
        .await
    {
        Ok(view) => view,
        Err(error) => {
            return html(
                StatusCode::UNPROCESSABLE_ENTITY,
                render_page(
                    token,
                    &terms,
                    lang,
                    false,
                    Some(&error_text(&error, &t)),
                    "",
                    &saved_cards(state, result.merchant_id, &terms).await,
                ),
                "'none'",
                "'self'",
            );
        }
    };
    if view.payment.status == "FAILURE" {
        let message = view
            .payment
            .doc
            .error
            .as_ref()
            .and_then(|e| domain::enums::ErrorGroup::parse(&e.error_group))
            .map(|g| g.description(lang == "tr").to_owned())
            .unwrap_or_else(|| {
                t.t(
                    "Ödeme tamamlanamadı.",
                    "The payment could not be completed.",
                )
                .to_owned()
            });
        return html(
            StatusCode::UNPROCESSABLE_ENTITY,
            render_page(
                token,
                &terms,
                lang,
                false,
                Some(&message),
                "",
                &saved_cards(state, result.merchant_id, &terms).await,
            ),
            "'none'",
            "'self'",
        );
    }
    finished(state, token, &terms, &view.payment, lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_formatted_for_people() {
        assert_eq!(format_money(123450, Currency::Try, "tr"), "1.234,50 TL");
        assert_eq!(format_money(123450, Currency::Try, "en"), "1,234.50 TRY");
        assert_eq!(format_money(5, Currency::Jpy, "en"), "5 JPY");
        assert_eq!(
            format_money(100000000, Currency::Usd, "tr"),
            "1.000.000,00 USD"
        );
    }
}
