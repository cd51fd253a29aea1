//! Pay-by-link: the merchant's products (Craftlink), a form to create one, each link to copy
//! and its QR code to download.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use domain::money::Currency;
use serde_json::json;
use store::rows::{Page, ProductFilter, ProductRow};

use crate::payments::parse_amount;
use crate::ui::{self, Nav, badge, csrf_field, escape, money};
use crate::{Ctx, PageResult, PanelState};

const NAME_LEN_MAX: usize = 200;

fn public_base(state: &PanelState) -> String {
    state
        .app
        .public_url
        .clone()
        .unwrap_or_else(|| state.app.engine.config().public_url.clone())
        .trim_end_matches('/')
        .to_owned()
}

/// A stock as typed: empty means unlimited; otherwise a whole number, zero or more.
fn stock_of(text: &str) -> Result<Option<i64>, ()> {
    match text {
        "" => Ok(None),
        s => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or(()),
    }
}

/// The inline form that changes a product's price, stock or status.
fn edit_form(ctx: &Ctx, p: &ProductRow) -> String {
    let l = ctx.lang;
    let option = |value: &str, label: &str| {
        let selected = if p.status == value { " selected" } else { "" };
        format!("<option value=\"{value}\"{selected}>{label}</option>")
    };
    let price = domain::money::format_decimal_fixed(
        domain::money::MinorUnits::from_stored(p.price_minor),
        p.currency.parse().unwrap_or(Currency::Try),
    );
    format!(
        "<form method=\"post\" action=\"/panel/links/{id}\" class=\"actions\">{csrf}\
<div><label for=\"price-{id}\">{l_price}</label><input id=\"price-{id}\" name=\"price\" inputmode=\"decimal\" value=\"{price}\"></div>\
<div><label for=\"stock-{id}\">{l_stock}</label><input id=\"stock-{id}\" name=\"stock\" inputmode=\"numeric\" value=\"{stock}\"></div>\
<div><label for=\"status-{id}\">{l_status}</label><select id=\"status-{id}\" name=\"status\">{active}{passive}</select></div>\
<button type=\"submit\" class=\"secondary\">{save}</button></form>",
        id = p.id,
        csrf = csrf_field(ctx),
        l_price = l.pick("Price", "Fiyat"),
        stock = p.stock.map(|s| s.to_string()).unwrap_or_default(),
        l_stock = l.pick("Stock", "Stok"),
        l_status = l.pick("Status", "Durum"),
        active = option("ACTIVE", l.pick("Active", "Aktif")),
        passive = option("PASSIVE", l.pick("Passive", "Pasif")),
        save = l.pick("Save", "Kaydet"),
    )
}

pub async fn list(State(state): State<PanelState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    render(&state, &ctx, None, StatusCode::OK).await
}

async fn render(
    state: &PanelState,
    ctx: &Ctx,
    error: Option<&str>,
    status: StatusCode,
) -> PageResult {
    let l = ctx.lang;
    let products = state
        .app
        .engine
        .store()
        .search_products(
            ctx.merchant_id(),
            &ProductFilter::default(),
            Page { page: 0, size: 100 },
        )
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    let base = public_base(state);
    let configure = ctx.session.user.role.can_configure();
    let rows: String = products
        .items
        .iter()
        .map(|p| {
            let url = format!("{base}/pay/{}", p.token);
            format!(
                "<tr><td>{name}</td><td class=\"num\">{price}</td><td>{status}</td><td class=\"num\">{sold}{stock}</td>\
<td><input readonly aria-label=\"{l_link} {name}\" value=\"{url}\"> <a href=\"{url}\" target=\"_blank\" rel=\"noopener\">{open}</a></td>\
<td><a class=\"button secondary\" href=\"{url}/qr.png\" download=\"qr-{token}.png\">{l_qr}</a></td><td>{edit}</td></tr>",
                name = escape(&p.name),
                price = money(l, p.price_minor, &p.currency),
                status = badge(&p.status),
                sold = p.sold_count,
                stock = p.stock.map(|s| format!(" / {s}")).unwrap_or_default(),
                l_link = l.pick("Link of", "Bağlantı:"),
                url = escape(&url),
                open = l.pick("Open", "Aç"),
                token = escape(&p.token),
                l_qr = l.pick("QR code (PNG)", "QR kod (PNG)"),
                edit = if configure { edit_form(ctx, p) } else { String::new() },
            )
        })
        .collect();
    let error = error
        .map(|e| format!("<p class=\"notice bad\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let form = if configure {
        format!(
            "<h2>{h_new}</h2><form method=\"post\" action=\"/panel/links\">{csrf}<div class=\"fields\">\
<div><label for=\"name\">{l_name}</label><input id=\"name\" name=\"name\" required maxlength=\"{NAME_LEN_MAX}\"></div>\
<div><label for=\"price\">{l_price} (TRY)</label><input id=\"price\" name=\"price\" inputmode=\"decimal\" required></div>\
<div><label for=\"stock\">{l_stock}</label><input id=\"stock\" name=\"stock\" inputmode=\"numeric\"><div class=\"help\">{h_stock}</div></div>\
<div><label for=\"description\">{l_desc}</label><input id=\"description\" name=\"description\" maxlength=\"500\"></div></div>\
<p><button type=\"submit\">{create}</button></p></form>",
            h_new = l.pick("New payment link", "Yeni ödeme bağlantısı"),
            csrf = csrf_field(ctx),
            l_name = l.pick("Product name", "Ürün adı"),
            l_price = l.pick("Price", "Fiyat"),
            l_stock = l.pick("Stock", "Stok"),
            h_stock = l.pick("Empty: unlimited.", "Boş: sınırsız."),
            l_desc = l.pick("Description", "Açıklama"),
            create = l.pick("Create link", "Bağlantı oluştur"),
        )
    } else {
        String::new()
    };
    let content = format!(
        "{error}<div class=\"table-wrap\"><table data-testid=\"links\"><thead><tr><th>{t_name}</th><th class=\"num\">{t_price}</th><th>{t_status}</th><th class=\"num\">{t_sold}</th><th>{t_link}</th><th>QR</th><th>{t_edit}</th></tr></thead><tbody>{rows}</tbody></table></div>{form}",
        t_name = l.pick("Product", "Ürün"),
        t_price = l.pick("Price", "Fiyat"),
        t_status = l.pick("Status", "Durum"),
        t_sold = l.pick("Sold / stock", "Satılan / stok"),
        t_link = l.pick("Link", "Bağlantı"),
        t_edit = l.pick("Change", "Değiştir"),
    );
    let mut response = ui::page(
        ctx,
        l.pick("Payment links", "Ödeme bağlantıları"),
        Nav::Links,
        &content,
    );
    *response.status_mut() = status;
    Ok(response)
}

pub async fn create(State(state): State<PanelState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    let l = ctx.lang;
    ctx.require_configure()?;
    let name = ctx.field("name");
    if name.is_empty() || name.chars().count() > NAME_LEN_MAX {
        return render(
            &state,
            &ctx,
            Some(l.pick("A product name is required.", "Ürün adı zorunlu.")),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let Some(price) = parse_amount(ctx.field("price"), Currency::Try).filter(|p| !p.is_zero())
    else {
        return render(
            &state,
            &ctx,
            Some(l.pick(
                "Type a price above zero, such as 49.90.",
                "Sıfırdan büyük bir fiyat yazın, örneğin 49,90.",
            )),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let Ok(stock) = stock_of(ctx.field("stock")) else {
        return render(
            &state,
            &ctx,
            Some(l.pick("Stock must be a whole number.", "Stok tam sayı olmalı.")),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let description = Some(ctx.field("description")).filter(|d| !d.is_empty());
    let product = ProductRow {
        id: 0,
        merchant_id: ctx.merchant_id(),
        token: String::new(),
        name: name.to_owned(),
        status: "ACTIVE".into(),
        price_minor: price.get(),
        currency: Currency::Try.code().into(),
        stock,
        sold_count: 0,
        channel: Some("PANEL".into()),
        expires_at: None,
        doc: description
            .map(|d| json!({ "description": d }))
            .unwrap_or_else(|| json!({})),
        created_at: 0,
        updated_at: 0,
    };
    let product = state
        .app
        .engine
        .create_product(product)
        .await
        .map_err(|e| ctx.fail(e))?;
    ctx.audit(
        &state,
        "link.create",
        Some(&format!("product {}", product.id)),
        Some(&product.name),
    )
    .await;
    Ok(ui::see_other("/panel/links"))
}

pub async fn update(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> PageResult {
    let l = ctx.lang;
    ctx.require_configure()?;
    let id = ctx.id(&id)?;
    let engine = &state.app.engine;
    let mut product = engine
        .store()
        .product(ctx.merchant_id(), id)
        .await
        .map_err(|e| ctx.fail(e.into()))?
        .ok_or_else(|| ctx.not_found())?;
    let currency = product.currency.parse().unwrap_or(Currency::Try);
    let Some(price) = parse_amount(ctx.field("price"), currency).filter(|p| !p.is_zero()) else {
        return render(
            &state,
            &ctx,
            Some(l.pick(
                "Type a price above zero, such as 49.90.",
                "Sıfırdan büyük bir fiyat yazın, örneğin 49,90.",
            )),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let Ok(stock) = stock_of(ctx.field("stock")) else {
        return render(
            &state,
            &ctx,
            Some(l.pick("Stock must be a whole number.", "Stok tam sayı olmalı.")),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    product.stock = stock;
    product.status = match ctx.field("status") {
        "ACTIVE" => "ACTIVE".into(),
        "PASSIVE" => "PASSIVE".into(),
        _ => {
            return render(
                &state,
                &ctx,
                Some(l.pick("Pick a status.", "Bir durum seçin.")),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    product.price_minor = price.get();
    product.updated_at = engine.now_ms();
    engine
        .store()
        .update_product(&product)
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    let detail = format!(
        "{} {} {:?}",
        product.status, product.price_minor, product.stock
    );
    ctx.audit(
        &state,
        "link.update",
        Some(&format!("product {id}")),
        Some(&detail),
    )
    .await;
    Ok(ui::see_other("/panel/links"))
}
