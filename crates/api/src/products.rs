//! Pay-by-link (Craftlink): `/craftlink/v1/products` for the merchant, and the product page
//! at `/pay/{token}` with its QR code (`/pay/{token}/qr.png`, `/pay/{token}/qr.svg`).

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::clock::parse_request_datetime;
use domain::enums::Status;
use domain::money::{Currency, MinorUnits};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use store::rows::{ProductFilter, ProductRow};

use crate::AppState;
use crate::auth::Authenticated;
use crate::checkout::format_money;
use crate::envelope::{ApiError, data, empty};
use crate::json::{
    amount, decimal_opt, local_datetime, money, money_error, parse_body, parse_decimal, path_id,
    text_max,
};
use crate::pages::{escape, html};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductRequest {
    name: Option<String>,
    channel: Option<String>,
    order_id: Option<String>,
    conversation_id: Option<String>,
    external_id: Option<String>,
    status: Option<String>,
    stock: Option<i64>,
    #[serde(default, deserialize_with = "decimal_opt")]
    price: Option<Decimal>,
    currency: Option<String>,
    description: Option<String>,
    expires_at: Option<String>,
    multi_payment: Option<bool>,
    force_three_ds: Option<bool>,
    enabled_installments: Option<Vec<u32>>,
    basket_identifier: Option<String>,
}

fn render(state: &AppState, p: &ProductRow) -> Value {
    let public = state
        .engine
        .config()
        .public_url
        .trim_end_matches('/')
        .to_owned();
    let zone = state.engine.config().zone;
    let d = &p.doc;
    json!({
        "id": p.id,
        "name": p.name,
        "description": d.get("description"),
        "orderId": d.get("orderId"),
        "conversationId": d.get("conversationId"),
        "externalId": d.get("externalId"),
        "status": p.status,
        "price": money(p.price_minor, &p.currency),
        "currency": p.currency,
        "stock": p.stock,
        "soldCount": p.sold_count,
        "token": p.token,
        "enabledInstallments": d.get("enabledInstallments").cloned().unwrap_or(json!([1])),
        "url": format!("{public}/pay/{}", p.token),
        "qrCodeUrl": format!("{public}/pay/{}/qr.png", p.token),
        "qrCodeSvgUrl": format!("{public}/pay/{}/qr.svg", p.token),
        "multiPayment": d.get("multiPayment").cloned().unwrap_or(json!(false)),
        "forceThreeDs": d.get("forceThreeDs").cloned().unwrap_or(json!(false)),
        "channel": p.channel,
        "expiresAt": p.expires_at.map(|t| local_datetime(t, zone)),
        "basketIdentifier": d.get("basketIdentifier"),
    })
}

fn apply(
    state: &AppState,
    product: &mut ProductRow,
    r: ProductRequest,
    creating: bool,
) -> Result<(), ApiError> {
    for (field, value) in [
        ("name", &r.name),
        ("channel", &r.channel),
        ("orderId", &r.order_id),
        ("conversationId", &r.conversation_id),
        ("externalId", &r.external_id),
        ("basketIdentifier", &r.basket_identifier),
    ] {
        text_max(field, value, 255)?;
    }
    text_max("description", &r.description, 2000)?;
    if let Some(name) = r.name.filter(|n| !n.trim().is_empty()) {
        product.name = name.trim().to_owned();
    } else if creating {
        return Err(ApiError::bad_request("4001", "name is required"));
    }
    if let Some(c) = &r.currency {
        let currency: Currency = c.parse().map_err(|e| money_error("currency", e))?;
        product.currency = currency.code().to_owned();
    }
    let currency: Currency = product.currency.parse().unwrap_or(Currency::Try);
    if r.price.is_some() || creating {
        product.price_minor = amount("price", r.price, currency)?.get();
    }
    if let Some(status) = r.status {
        Status::parse(&status)
            .ok_or_else(|| ApiError::bad_request("4002", format!("unknown status {status}")))?;
        product.status = status;
    }
    if let Some(stock) = r.stock {
        if stock < 0 {
            return Err(ApiError::bad_request("4002", "stock cannot be negative"));
        }
        product.stock = Some(stock);
    }
    if r.channel.is_some() {
        product.channel = r.channel;
    }
    if let Some(expires) = r.expires_at.filter(|e| !e.is_empty()) {
        let at = parse_request_datetime(&expires, state.engine.config().zone).ok_or_else(|| {
            ApiError::bad_request(
                "4002",
                "expiresAt must be a date-time like 2026-12-31T23:59:00",
            )
        })?;
        product.expires_at = Some(at.timestamp_millis());
    }
    if let Some(installments) = &r.enabled_installments
        && (installments.is_empty() || installments.iter().any(|n| !(1..=12).contains(n)))
    {
        return Err(ApiError::bad_request(
            "4103",
            "enabledInstallments must be between 1 and 12",
        ));
    }
    if !product.doc.is_object() {
        product.doc = json!({});
    }
    let doc = &mut product.doc;
    let mut set = |k: &str, v: Value| {
        if !v.is_null() {
            doc[k] = v;
        }
    };
    set("description", json!(r.description));
    set("orderId", json!(r.order_id));
    set("conversationId", json!(r.conversation_id));
    set("externalId", json!(r.external_id));
    set("multiPayment", json!(r.multi_payment));
    set("forceThreeDs", json!(r.force_three_ds));
    set("enabledInstallments", json!(r.enabled_installments));
    set("basketIdentifier", json!(r.basket_identifier));
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let r: ProductRequest = parse_body(&auth.body)?;
    let mut product = ProductRow {
        id: 0,
        merchant_id: auth.merchant.id,
        token: String::new(),
        name: String::new(),
        status: "ACTIVE".into(),
        price_minor: 0,
        currency: "TRY".into(),
        stock: None,
        sold_count: 0,
        channel: None,
        expires_at: None,
        doc: json!({}),
        created_at: 0,
        updated_at: 0,
    };
    apply(&state, &mut product, r, true)?;
    let product = state.engine.create_product(product).await?;
    Ok(data(render(&state, &product)))
}

async fn load(state: &AppState, merchant_id: i64, id: &str) -> Result<ProductRow, ApiError> {
    let id = path_id(id, "product")?;
    state
        .engine
        .store()
        .product(merchant_id, id)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| ApiError::not_found("product"))
}

pub async fn retrieve(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(data(render(
        &state,
        &load(&state, auth.merchant.id, &id).await?,
    )))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let mut product = load(&state, auth.merchant.id, &id).await?;
    let r: ProductRequest = parse_body(&auth.body)?;
    apply(&state, &mut product, r, false)?;
    product.updated_at = state.engine.now_ms();
    state
        .engine
        .store()
        .update_product(&product)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(data(render(
        &state,
        &load(&state, auth.merchant.id, &id).await?,
    )))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let product = load(&state, auth.merchant.id, &id).await?;
    state
        .engine
        .store()
        .delete_product(auth.merchant.id, product.id, state.engine.now_ms())
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
    let currency = q
        .get("currency")
        .filter(|v| !v.is_empty())
        .map(|c| {
            c.parse::<Currency>()
                .map_err(|e| money_error("currency", e))
        })
        .transpose()?;
    let bound = |name: &str| -> Result<Option<i64>, ApiError> {
        q.get(name)
            .filter(|v| !v.is_empty())
            .map(|v| {
                let d = parse_decimal(v)
                    .map_err(|e| ApiError::bad_request("4002", format!("{name}: {e}")))?;
                MinorUnits::from_decimal_allow_zero(d, currency.unwrap_or(Currency::Try))
                    .map(MinorUnits::get)
                    .map_err(|e| money_error(name, e))
            })
            .transpose()
    };
    let filter = ProductFilter {
        id: q
            .get("id")
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::bad_request("4002", "id must be a number"))
            })
            .transpose()?,
        name: q.get("name").filter(|v| !v.is_empty()).cloned(),
        currency: currency.map(|c| c.code().to_owned()),
        channel: q.get("channel").filter(|v| !v.is_empty()).cloned(),
        min_price_minor: bound("minPrice")?,
        max_price_minor: bound("maxPrice")?,
    };
    let result = state
        .engine
        .store()
        .search_products(auth.merchant.id, &filter, page)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let items = result.items.iter().map(|p| render(&state, p)).collect();
    Ok(data(crate::render::paged(
        items,
        result.page,
        result.size,
        result.total_size,
    )))
}

// ---- the shopper's pages ---------------------------------------------------------------

fn lang_of(query: &HashMap<String, String>, headers: &HeaderMap) -> &'static str {
    let asked = query
        .get("lang")
        .map(String::as_str)
        .or_else(|| headers.get("lang").and_then(|v| v.to_str().ok()));
    if asked.is_some_and(|l| l.eq_ignore_ascii_case("en")) {
        "en"
    } else {
        "tr"
    }
}

pub async fn page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&query, &headers);
    let t = |tr: &'static str, en: &'static str| if lang == "en" { en } else { tr };
    let product = match state.engine.store().product_by_token(&token).await {
        Ok(Some(p)) => p,
        _ => {
            return crate::threeds::message_page(
                StatusCode::NOT_FOUND,
                "Bu bağlantı bulunamadı.",
                "This link was not found.",
            );
        }
    };
    let unavailable = state
        .engine
        .check_product_available(&product)
        .err()
        .map(|e| match e {
            engine::EngineError::Refused { code: "4504", .. } => {
                t("Bu ürün tükendi.", "This product is sold out.")
            }
            engine::EngineError::Refused { code: "4506", .. } => {
                t("Bu bağlantının süresi doldu.", "This link has expired.")
            }
            _ => t(
                "Bu bağlantı şu anda kullanılamıyor.",
                "This link is not available now.",
            ),
        });
    let currency: Currency = product.currency.parse().unwrap_or(Currency::Try);
    let price = format_money(product.price_minor, currency, lang);
    let description = product
        .doc
        .get("description")
        .and_then(|d| d.as_str())
        .map(|d| format!("<p class=\"product-desc\">{}</p>", escape(d)))
        .unwrap_or_default();
    let stock = product
        .stock
        .map(|s| {
            format!(
                "<p class=\"muted\" id=\"stock\">{}: {}</p>",
                t("Kalan", "Left"),
                (s - product.sold_count).max(0)
            )
        })
        .unwrap_or_default();
    let action = match unavailable {
        Some(reason) => format!(
            "<p class=\"alert\" role=\"alert\" id=\"unavailable\">{}</p>",
            escape(reason)
        ),
        None => format!(
            "<form method=\"post\" action=\"/pay/{token}/checkout?lang={lang}\"><button type=\"submit\" id=\"buy\">{} {}</button></form>",
            t("Öde", "Pay"),
            escape(&price),
            token = escape(&token)
        ),
    };
    let body = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{name}</title><link rel=\"stylesheet\" href=\"/assets/orkestra.css\"></head>\
<body><main><h1 id=\"product-name\">{name}</h1>{description}<p class=\"amount\" id=\"price\">{price}</p>{stock}{action}</main></body></html>",
        name = escape(&product.name),
        price = escape(&price),
    );
    html(StatusCode::OK, body, "'none'", "'self'")
}

/// The shopper chose to pay: a checkout session for the product, then its page.
pub async fn start_checkout(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&query, &headers);
    match state.engine.checkout_for_product(&token).await {
        Ok(session) => {
            Redirect::to(&format!("/checkout/{}?lang={lang}", session.token)).into_response()
        }
        Err(_) => page(State(state), Path(token), Query(query), headers).await,
    }
}

fn qr_matrix(url: &str) -> Option<qrcode::QrCode> {
    qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M).ok()
}

pub async fn qr(State(state): State<AppState>, Path(file): Path<(String, String)>) -> Response {
    let (token, name) = file;
    let found = state
        .engine
        .store()
        .product_by_token(&token)
        .await
        .ok()
        .flatten();
    if found.is_none() {
        return (StatusCode::NOT_FOUND, "").into_response();
    }
    let public = state
        .engine
        .config()
        .public_url
        .trim_end_matches('/')
        .to_owned();
    let url = format!("{public}/pay/{token}");
    let Some(code) = qr_matrix(&url) else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    let (body, content_type) = match name.as_str() {
        "qr.svg" => {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(256, 256)
                .quiet_zone(true)
                .build();
            (svg.into_bytes(), "image/svg+xml")
        }
        "qr.png" => match png_of(&code) {
            Some(bytes) => (bytes, "image/png"),
            None => return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response(),
        },
        _ => return (StatusCode::NOT_FOUND, "").into_response(),
    };
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

/// Renders the QR matrix as a black-and-white PNG, 8 pixels a module, with a 4-module
/// quiet zone.
fn png_of(code: &qrcode::QrCode) -> Option<Vec<u8>> {
    const SCALE: usize = 8;
    const QUIET: usize = 4;
    let width = code.width();
    let side = (width + 2 * QUIET) * SCALE;
    let colors = code.to_colors();
    let mut pixels = vec![255u8; side * side];
    for y in 0..width {
        for x in 0..width {
            if colors[y * width + x] == qrcode::Color::Dark {
                for dy in 0..SCALE {
                    let row = (y + QUIET) * SCALE + dy;
                    let start = row * side + (x + QUIET) * SCALE;
                    pixels[start..start + SCALE].fill(0);
                }
            }
        }
    }
    let mut out = Vec::new();
    {
        let side_u32 = u32::try_from(side).ok()?;
        let mut encoder = png::Encoder::new(&mut out, side_u32, side_u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().ok()?;
        writer.write_image_data(&pixels).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_png_is_a_png() {
        let code = qr_matrix("http://127.0.0.1:8080/pay/abc").unwrap();
        let png = png_of(&code).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}
