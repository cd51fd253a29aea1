//! Payments: search with filters, CSV export, the detail page with its timeline (routing
//! decision, each bank attempt, refunds), and cancel/refund with a confirmation step.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use chrono::NaiveDate;
use domain::money::{Currency, MinorUnits};
use engine::payments::PaymentView;
use rust_decimal::Decimal;
use serde_json::Value;
use store::rows::{Page, PaymentFilter, PaymentRow, PosRow};

use crate::ui::{self, Lang, Nav, badge, csrf_field, datetime, escape, money, url_encode};
use crate::{Ctx, PageResult, PanelState};

const PAGE_SIZE: i64 = 25;
/// Rows per CSV export (a page of the database at a time, up to this many).
const CSV_ROWS_MAX: i64 = 100_000;
const STATUSES: [&str; 4] = ["SUCCESS", "FAILURE", "INIT_THREEDS", "CALLBACK_THREEDS"];

/// The list's filters, as typed in the form (kept to refill it and to build links).
#[derive(Default)]
struct Filters {
    values: Vec<(&'static str, String)>,
}

impl Filters {
    fn from_query(q: &HashMap<String, String>) -> Filters {
        let names = [
            "from",
            "to",
            "status",
            "pos",
            "bin",
            "last4",
            "min",
            "max",
            "conversationId",
            "paymentId",
        ];
        Filters {
            values: names
                .iter()
                .filter_map(|n| {
                    q.get(*n)
                        .map(|v| v.trim())
                        .filter(|v| !v.is_empty() && v.len() <= 100)
                        .map(|v| (*n, v.to_owned()))
                })
                .collect(),
        }
    }

    fn get(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    fn query(&self) -> String {
        self.values
            .iter()
            .map(|(n, v)| format!("{n}={}", url_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The store filter, or the first field that is not valid.
    fn to_store(&self, zone: chrono::FixedOffset) -> Result<PaymentFilter, &'static str> {
        let day = |name: &'static str, end: bool| -> Result<Option<i64>, &'static str> {
            let v = self.get(name);
            if v.is_empty() {
                return Ok(None);
            }
            let date = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| name)?;
            let date = if end {
                date.succ_opt().ok_or(name)?
            } else {
                date
            };
            let at = date
                .and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(zone).single())
                .ok_or(name)?
                .timestamp_millis();
            Ok(Some(if end { at - 1 } else { at }))
        };
        let amount = |name: &'static str| -> Result<Option<i64>, &'static str> {
            let v = self.get(name);
            if v.is_empty() {
                return Ok(None);
            }
            parse_amount(v, Currency::Try)
                .map(|m| Some(m.get()))
                .ok_or(name)
        };
        let digits = |name: &'static str, len: usize| -> Result<Option<String>, &'static str> {
            let v = self.get(name);
            if v.is_empty() {
                return Ok(None);
            }
            if v.len() == len && v.chars().all(|c| c.is_ascii_digit()) {
                Ok(Some(v.to_owned()))
            } else {
                Err(name)
            }
        };
        let id = |name: &'static str| -> Result<Option<i64>, &'static str> {
            let v = self.get(name);
            if v.is_empty() {
                return Ok(None);
            }
            v.parse().map(Some).map_err(|_| name)
        };
        let status = Some(self.get("status").to_owned()).filter(|s| !s.is_empty());
        if status.as_deref().is_some_and(|s| !STATUSES.contains(&s)) {
            return Err("status");
        }
        Ok(PaymentFilter {
            payment_id: id("paymentId")?,
            payment_status: status,
            pos_id: id("pos")?,
            bin_number: digits("bin", 6)?,
            last_four: digits("last4", 4)?,
            min_paid_price_minor: amount("min")?,
            max_paid_price_minor: amount("max")?,
            conversation_id: Some(self.get("conversationId").to_owned()).filter(|s| !s.is_empty()),
            min_created_at: day("from", false)?,
            max_created_at: day("to", true)?,
            ..PaymentFilter::default()
        })
    }
}

/// An amount typed by a person: `1234.5`, `1234,50` or `1.234,50` (Turkish grouping).
pub fn parse_amount(text: &str, currency: Currency) -> Option<MinorUnits> {
    let text = text.trim().replace(' ', "");
    let normalized = match (text.rfind(','), text.rfind('.')) {
        (Some(c), Some(d)) if c > d => text.replace('.', "").replace(',', "."),
        (Some(_), Some(_)) => text.replace(',', ""),
        (Some(_), None) => text.replace(',', "."),
        _ => text,
    };
    let value: Decimal = normalized.parse().ok()?;
    MinorUnits::from_decimal(value, currency).ok()
}

fn pos_name(poses: &[PosRow], id: Option<i64>) -> String {
    id.and_then(|id| poses.iter().find(|p| p.id == id))
        .map(|p| p.name.clone())
        .unwrap_or_default()
}

fn card(p: &PaymentRow) -> String {
    match (&p.bin_number, &p.last_four) {
        (Some(bin), Some(last)) => format!("{bin}******{last}"),
        _ => String::new(),
    }
}

fn filter_form(l: Lang, f: &Filters, poses: &[PosRow]) -> String {
    let input = |name: &str, label: &str, kind: &str, extra: &str| {
        format!(
            "<div><label for=\"f-{name}\">{label}</label><input id=\"f-{name}\" name=\"{name}\" type=\"{kind}\" value=\"{}\"{extra}></div>",
            escape(f.get(name))
        )
    };
    let option = |value: &str, label: &str, current: &str| {
        let selected = if value == current { " selected" } else { "" };
        format!(
            "<option value=\"{}\"{selected}>{}</option>",
            escape(value),
            escape(label)
        )
    };
    let statuses: String = std::iter::once(option("", l.pick("Any", "Tümü"), f.get("status")))
        .chain(STATUSES.iter().map(|s| option(s, s, f.get("status"))))
        .collect();
    let pos_options: String = std::iter::once(option("", l.pick("Any", "Tümü"), f.get("pos")))
        .chain(
            poses
                .iter()
                .map(|p| option(&p.id.to_string(), &p.name, f.get("pos"))),
        )
        .collect();
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/panel/payments\" role=\"search\">{from}{to}\
<div><label for=\"f-status\">{l_status}</label><select id=\"f-status\" name=\"status\">{statuses}</select></div>\
<div><label for=\"f-pos\">POS</label><select id=\"f-pos\" name=\"pos\">{pos_options}</select></div>\
{bin}{last4}{min}{max}{conv}{pid}<div><button type=\"submit\">{search}</button></div></form>",
        from = input("from", l.pick("From", "Başlangıç"), "date", ""),
        to = input("to", l.pick("To", "Bitiş"), "date", ""),
        l_status = l.pick("Status", "Durum"),
        bin = input(
            "bin",
            l.pick("Card BIN", "Kart BIN"),
            "text",
            " inputmode=\"numeric\" maxlength=\"6\""
        ),
        last4 = input(
            "last4",
            l.pick("Last four digits", "Son dört hane"),
            "text",
            " inputmode=\"numeric\" maxlength=\"4\""
        ),
        min = input(
            "min",
            l.pick("Min amount", "En az tutar"),
            "text",
            " inputmode=\"decimal\""
        ),
        max = input(
            "max",
            l.pick("Max amount", "En çok tutar"),
            "text",
            " inputmode=\"decimal\""
        ),
        conv = input(
            "conversationId",
            l.pick("Conversation id", "Conversation id"),
            "text",
            ""
        ),
        pid = input(
            "paymentId",
            l.pick("Payment id", "Ödeme no"),
            "text",
            " inputmode=\"numeric\""
        ),
        search = l.pick("Search", "Ara"),
    )
}

pub async fn list(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let l = ctx.lang;
    let store = state.app.engine.store();
    let poses = store
        .poses(ctx.merchant_id())
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    let filters = Filters::from_query(&q);
    let page_no = q
        .get("page")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(0)
        .clamp(0, 100_000);
    let form = filter_form(l, &filters, &poses);
    let filter = match filters.to_store(ctx.zone) {
        Ok(filter) => filter,
        Err(field) => {
            let content = format!(
                "{form}<p class=\"notice bad\" role=\"alert\">{} <code>{}</code></p>",
                l.pick("This filter is not valid:", "Bu filtre geçerli değil:"),
                escape(field)
            );
            let mut response = ui::page(
                &ctx,
                l.pick("Payments", "Ödemeler"),
                Nav::Payments,
                &content,
            );
            *response.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(response);
        }
    };
    let result = store
        .search_payments(
            ctx.merchant_id(),
            &filter,
            Page {
                page: page_no,
                size: PAGE_SIZE,
            },
        )
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    let rows: String = result
        .items
        .iter()
        .map(|p| {
            format!(
                "<tr><td><a href=\"/panel/payments/{id}\">#{id}</a></td><td>{when}</td><td class=\"num\">{amount}</td><td class=\"num\">{inst}</td><td>{status}</td><td>{pos}</td><td>{card}</td><td>{conv}</td></tr>",
                id = p.id,
                when = datetime(p.created_at, ctx.zone),
                amount = money(l, p.paid_price_minor, &p.currency),
                inst = p.installment,
                status = badge(&p.status),
                pos = escape(&pos_name(&poses, p.pos_id)),
                card = escape(&card(p)),
                conv = escape(p.conversation_id.as_deref().unwrap_or_default()),
            )
        })
        .collect();
    let query = filters.query();
    let link = |page: i64| {
        let sep = if query.is_empty() { "" } else { "&" };
        format!("/panel/payments?{query}{sep}page={page}")
    };
    let mut pager = String::new();
    if page_no > 0 {
        pager.push_str(&format!(
            "<a href=\"{}\" rel=\"prev\">← {}</a>",
            escape(&link(page_no - 1)),
            l.pick("Newer", "Daha yeni")
        ));
    }
    if (page_no + 1) * PAGE_SIZE < result.total_size {
        pager.push_str(&format!(
            "<a href=\"{}\" rel=\"next\">{} →</a>",
            escape(&link(page_no + 1)),
            l.pick("Older", "Daha eski")
        ));
    }
    let empty = if result.items.is_empty() {
        format!(
            "<p>{}</p>",
            l.pick("No payment matches.", "Eşleşen ödeme yok.")
        )
    } else {
        String::new()
    };
    let content = format!(
        "{form}<div class=\"actions\"><span>{total} {l_found}</span><a class=\"button secondary\" href=\"/panel/payments.csv?{query}\" download>{l_csv}</a></div>\
<div class=\"table-wrap\"><table data-testid=\"payments\"><thead><tr><th>{l_id}</th><th>{l_date}</th><th class=\"num\">{l_amount}</th><th class=\"num\">{l_inst}</th><th>{l_status}</th><th>POS</th><th>{l_card}</th><th>{l_conv}</th></tr></thead><tbody>{rows}</tbody></table></div>{empty}<nav class=\"pager\" aria-label=\"{l_pages}\">{pager}</nav>",
        total = result.total_size,
        l_found = l.pick("payments", "ödeme"),
        query = escape(&query),
        l_csv = l.pick("Export CSV", "CSV indir"),
        l_id = l.pick("Payment", "Ödeme"),
        l_date = l.pick("Date", "Tarih"),
        l_amount = l.pick("Amount", "Tutar"),
        l_inst = l.pick("Inst.", "Taksit"),
        l_status = l.pick("Status", "Durum"),
        l_card = l.pick("Card", "Kart"),
        l_conv = l.pick("Conversation id", "Conversation id"),
        l_pages = l.pick("Pages", "Sayfalar"),
    );
    Ok(ui::page(
        &ctx,
        l.pick("Payments", "Ödemeler"),
        Nav::Payments,
        &content,
    ))
}

/// A CSV cell: quoted, and text that a spreadsheet would run as a formula is defused.
fn csv_cell(text: &str) -> String {
    let defused = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

pub async fn csv(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let store = state.app.engine.store();
    let filter = Filters::from_query(&q)
        .to_store(ctx.zone)
        .map_err(|field| {
            ui::message_page(
                ctx.lang,
                StatusCode::BAD_REQUEST,
                ctx.lang.pick("Invalid filter", "Geçersiz filtre"),
                field,
            )
        })?;
    let poses = store
        .poses(ctx.merchant_id())
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    let mut out = String::from(
        "paymentId,createdDate,status,price,paidPrice,refunded,currency,installment,pos,posIntegrator,bankCommission,card,cardType,cardAssociation,authCode,hostReference,orderId,conversationId,externalId\r\n",
    );
    let mut page = 0;
    let mut written = 0;
    loop {
        let batch = store
            .search_payments(ctx.merchant_id(), &filter, Page { page, size: 100 })
            .await
            .map_err(|e| ctx.fail(e.into()))?;
        for p in &batch.items {
            let c = p.currency.parse::<Currency>().unwrap_or(Currency::Try);
            let amount =
                |m: i64| domain::money::format_decimal_fixed(MinorUnits::from_stored(m), c);
            let pos = p.pos_id.and_then(|id| poses.iter().find(|x| x.id == id));
            let cells = [
                p.id.to_string(),
                datetime(p.created_at, ctx.zone),
                p.status.clone(),
                amount(p.price_minor),
                amount(p.paid_price_minor),
                amount(p.refunded_minor),
                p.currency.clone(),
                p.installment.to_string(),
                pos.map(|x| x.name.clone()).unwrap_or_default(),
                pos.map(|x| x.pos_integrator.clone()).unwrap_or_default(),
                p.doc.bank_commission_minor.map(amount).unwrap_or_default(),
                card(p),
                p.doc.card_type.clone().unwrap_or_default(),
                p.doc.card_association.clone().unwrap_or_default(),
                p.doc.auth_code.clone().unwrap_or_default(),
                p.doc.host_reference.clone().unwrap_or_default(),
                p.doc.order_id.clone().unwrap_or_default(),
                p.conversation_id.clone().unwrap_or_default(),
                p.external_id.clone().unwrap_or_default(),
            ];
            out.push_str(
                &cells
                    .iter()
                    .map(|c| csv_cell(c))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push_str("\r\n");
        }
        written += batch.items.len() as i64;
        if batch.items.len() < 100 || written >= CSV_ROWS_MAX {
            break;
        }
        page += 1;
    }
    let mut response = out.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"payments.csv\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The routing decision stored with the payment, as sentences.
pub(crate) fn routing_lines(l: Lang, routing: &serde_json::value::RawValue) -> String {
    // Written by the engine from a `routing::Decision`, so it always parses; were it not to,
    // the page shows no sentences rather than failing.
    let routing: Value = serde_json::from_str(routing.get()).unwrap_or_default();
    let mut lines = Vec::new();
    if let Some(rule) = routing.get("orderingRule").and_then(Value::as_str) {
        lines.push(format!(
            "{} <code>{}</code>",
            l.pick("Ordering rule", "Sıralama kuralı"),
            escape(rule)
        ));
    }
    for (i, c) in routing
        .get("candidates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let alias = c.get("alias").and_then(Value::as_str).unwrap_or_default();
        let on_us = c.get("onUs").and_then(Value::as_bool).unwrap_or(false);
        let rate = c
            .get("costRate")
            .map(|v| v.to_string().trim_matches('"').to_owned());
        let reasons: Vec<String> = c
            .get("reasons")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("type").and_then(Value::as_str))
            .map(|t| format!("<code>{}</code>", escape(t)))
            .collect();
        lines.push(format!(
            "{}. {}{}{} — {}",
            i + 1,
            escape(alias),
            if on_us {
                l.pick(" (on-us)", " (kendi bankası)")
            } else {
                ""
            },
            rate.filter(|r| r != "null")
                .map(|r| format!(", {} %{}", l.pick("commission", "komisyon"), escape(&r)))
                .unwrap_or_default(),
            reasons.join(", "),
        ));
    }
    for e in routing
        .get("excluded")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let alias = e.get("alias").and_then(Value::as_str).unwrap_or_default();
        let reason = e
            .get("reason")
            .map(|r| {
                r.get("type")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| r.to_string())
            })
            .unwrap_or_default();
        lines.push(format!(
            "{} {}: <code>{}</code>",
            l.pick("Excluded", "Elendi"),
            escape(alias),
            escape(reason.trim_matches('"'))
        ));
    }
    lines.iter().map(|s| format!("<li>{s}</li>")).collect()
}

fn timeline(
    l: Lang,
    ctx: &Ctx,
    view: &PaymentView,
    poses: &[PosRow],
    refunds: &[store::rows::RefundRow],
) -> String {
    let p = &view.payment;
    let mut events: Vec<(i64, String)> = Vec::new();
    let routing = p
        .doc
        .routing
        .as_ref()
        .map(|r| format!("<ul>{}</ul>", routing_lines(l, r)))
        .unwrap_or_default();
    events.push((
        p.created_at,
        format!(
            "<strong>{}</strong>{routing}",
            l.pick(
                "Payment created, POS chosen",
                "Ödeme oluşturuldu, POS seçildi"
            )
        ),
    ));
    if p.doc.is_three_ds {
        events.push((
            p.created_at,
            format!(
                "<strong>3D Secure</strong> mdStatus <code>{}</code>",
                escape(p.doc.md_status.as_deref().unwrap_or("–"))
            ),
        ));
    }
    for a in &view.attempts {
        let error = match (&a.error_code, &a.error_message) {
            (Some(code), message) => format!(
                " — {} <code>{}</code> {}",
                l.pick("bank code", "banka kodu"),
                escape(code),
                escape(message.as_deref().unwrap_or_default())
            ),
            _ => String::new(),
        };
        events.push((
            a.created_at,
            format!(
                "<strong>{} {}</strong> {} · {} <code>{}</code> · {}{error}",
                l.pick("Bank call:", "Banka çağrısı:"),
                escape(&a.operation),
                escape(&pos_name(poses, Some(a.pos_id))),
                l.pick("order", "sipariş"),
                escape(&a.order_id),
                badge(&a.state),
            ),
        ));
    }
    for r in refunds {
        events.push((
            r.created_at,
            format!(
                "<strong>{} {}</strong> {} · {}",
                l.pick("Refund", "İade"),
                escape(&r.bank_operation),
                money(l, r.amount_minor, &r.currency),
                badge(&r.status),
            ),
        ));
    }
    events.sort_by_key(|(at, _)| *at);
    events
        .iter()
        .map(|(at, text)| {
            format!(
                "<li><div class=\"when\">{}</div>{text}</li>",
                datetime(*at, ctx.zone)
            )
        })
        .collect()
}

pub async fn detail(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    let l = ctx.lang;
    let id = ctx.id(&id)?;
    let engine = &state.app.engine;
    let view = engine
        .payment_view(ctx.merchant_id(), id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let store = engine.store();
    let poses = store
        .poses(ctx.merchant_id())
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    let refunds = store
        .refunds_of_payment(id)
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    let p = &view.payment;
    let c = &p.currency;
    let refundable = p.paid_price_minor - p.refunded_minor;
    let facts = [
        (l.pick("Status", "Durum"), badge(&p.status)),
        (l.pick("Date", "Tarih"), datetime(p.created_at, ctx.zone)),
        (l.pick("Price", "Tutar"), money(l, p.price_minor, c)),
        (
            l.pick("Paid price", "Tahsil edilen"),
            money(l, p.paid_price_minor, c),
        ),
        (
            l.pick("Refunded", "İade edilen"),
            money(l, p.refunded_minor, c),
        ),
        (l.pick("Installments", "Taksit"), p.installment.to_string()),
        (l.pick("Phase", "Aşama"), escape(&p.phase)),
        ("POS", escape(&pos_name(&poses, p.pos_id))),
        (l.pick("Card", "Kart"), escape(&card(p))),
        (
            l.pick("Card details", "Kart bilgisi"),
            escape(
                &[
                    &p.doc.card_association,
                    &p.doc.card_type,
                    &p.doc.card_issuer_bank_name,
                ]
                .iter()
                .filter_map(|v| v.as_deref())
                .collect::<Vec<_>>()
                .join(" · "),
            ),
        ),
        (
            l.pick("Auth code", "Onay kodu"),
            escape(p.doc.auth_code.as_deref().unwrap_or("–")),
        ),
        (
            l.pick("Bank reference", "Banka referansı"),
            escape(p.doc.host_reference.as_deref().unwrap_or("–")),
        ),
        (
            l.pick("Bank commission", "Banka komisyonu"),
            p.doc
                .bank_commission_minor
                .map(|m| money(l, m, c))
                .unwrap_or_else(|| "–".into()),
        ),
        (
            "Conversation id",
            escape(p.conversation_id.as_deref().unwrap_or("–")),
        ),
        (
            l.pick("Error", "Hata"),
            p.doc
                .error
                .as_ref()
                .map(|e| {
                    format!(
                        "{} <code>{}</code> {}",
                        escape(&e.error_group),
                        escape(&e.error_code),
                        escape(&e.error_description)
                    )
                })
                .unwrap_or_else(|| "–".into()),
        ),
    ];
    let facts: String = facts
        .iter()
        .map(|(k, v)| format!("<dt>{k}</dt><dd>{v}</dd>"))
        .collect();
    let can_refund = ctx.session.user.role.can_refund() && p.status == "SUCCESS" && !p.voided;
    let actions = if can_refund && (refundable > 0 || p.phase == "PRE_AUTH") {
        let items: String = view
            .items
            .iter()
            .filter(|i| i.paid_price_minor > i.refunded_minor && p.phase != "PRE_AUTH")
            .map(|i| {
                format!(
                    "<form method=\"post\" action=\"/panel/payments/{pid}/items/{iid}/refund\" class=\"actions\">{csrf}\
<div><label for=\"amount-{iid}\">{label} — {name} ({left})</label><input id=\"amount-{iid}\" name=\"amount\" inputmode=\"decimal\" required></div>\
<button type=\"submit\" class=\"secondary\">{button}</button></form>",
                    pid = p.id,
                    iid = i.id,
                    csrf = csrf_field(&ctx),
                    label = l.pick("Partial refund", "Kısmi iade"),
                    name = escape(i.name.as_deref().unwrap_or("")),
                    left = money(l, i.paid_price_minor - i.refunded_minor, c),
                    button = l.pick("Refund amount…", "Tutarı iade et…"),
                )
            })
            .collect();
        format!(
            "<h2>{h}</h2><div class=\"actions\"><form method=\"post\" action=\"/panel/payments/{pid}/refund\">{csrf}<button type=\"submit\" class=\"danger\">{full}</button></form></div>{items}",
            h = l.pick("Cancel or refund", "İptal veya iade"),
            pid = p.id,
            csrf = csrf_field(&ctx),
            full = l.pick("Cancel / refund everything…", "Tamamını iptal / iade et…"),
        )
    } else {
        String::new()
    };
    let content = format!(
        "<p><a href=\"/panel/payments\">← {back}</a></p><div class=\"grid2\"><dl class=\"facts\" data-testid=\"payment-facts\">{facts}</dl>\
<section><h2>{h_timeline}</h2><ol class=\"timeline\">{timeline}</ol></section></div>{actions}",
        back = l.pick("All payments", "Tüm ödemeler"),
        h_timeline = l.pick("Timeline", "Zaman çizelgesi"),
        timeline = timeline(l, &ctx, &view, &poses, &refunds),
    );
    Ok(ui::page(
        &ctx,
        &format!("{} #{}", l.pick("Payment", "Ödeme"), p.id),
        Nav::Payments,
        &content,
    ))
}

async fn audit_refund(state: &PanelState, ctx: &Ctx, payment_id: i64, detail: &str) {
    ctx.audit(
        state,
        "payment.refund",
        Some(&payment_id.to_string()),
        Some(detail),
    )
    .await;
}

/// Cancels (same day, or a pre-authorisation) or refunds everything still refundable.
pub async fn refund(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    let l = ctx.lang;
    ctx.require_refund()?;
    let id = ctx.id(&id)?;
    let engine = &state.app.engine;
    let view = engine
        .payment_view(ctx.merchant_id(), id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let p = &view.payment;
    if ctx.field("confirm") != "yes" {
        let what = format!(
            "{} #{} — {}",
            l.pick(
                "Cancel or refund all of payment",
                "Ödemenin tamamı iptal / iade edilecek:"
            ),
            p.id,
            money(l, p.paid_price_minor - p.refunded_minor, &p.currency)
        );
        return Ok(ui::confirm_page(
            &ctx,
            ui::Confirm {
                what: &what,
                action: &format!("/panel/payments/{id}/refund"),
                fields: &[],
                back: &format!("/panel/payments/{id}"),
                nav: Nav::Payments,
            },
        ));
    }
    let result = engine
        .refund_payment(
            ctx.merchant_id(),
            id,
            Some(format!("panel:{}", ctx.session.user.email)),
            None,
        )
        .await;
    audit_refund(
        &state,
        &ctx,
        id,
        if result.is_ok() {
            "full: done"
        } else {
            "full: failed"
        },
    )
    .await;
    result.map_err(|e| ctx.fail(e))?;
    Ok(ui::see_other(&format!("/panel/payments/{id}")))
}

/// Refunds part of one item (a payment transaction).
pub async fn refund_item(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
    Path((id, item)): Path<(String, String)>,
) -> PageResult {
    let l = ctx.lang;
    ctx.require_refund()?;
    let (Ok(id), Ok(item)) = (id.parse::<i64>(), item.parse::<i64>()) else {
        return Err(ctx.not_found());
    };
    let engine = &state.app.engine;
    let view = engine
        .payment_view(ctx.merchant_id(), id)
        .await
        .map_err(|e| ctx.fail(e))?;
    if !view.items.iter().any(|i| i.id == item) {
        return Err(ctx.not_found());
    }
    let currency = view
        .payment
        .currency
        .parse::<Currency>()
        .unwrap_or(Currency::Try);
    let typed = ctx.field("amount").to_owned();
    let Some(amount) = parse_amount(&typed, currency).filter(|a| !a.is_zero()) else {
        return Err(ui::message_page(
            l,
            StatusCode::BAD_REQUEST,
            l.pick("Invalid amount", "Geçersiz tutar"),
            l.pick(
                "Type an amount above zero, such as 12.50.",
                "Sıfırdan büyük bir tutar yazın, örneğin 12,50.",
            ),
        ));
    };
    if ctx.field("confirm") != "yes" {
        let what = format!(
            "{} #{} — {}",
            l.pick(
                "Refund part of payment",
                "Ödemenin bir kısmı iade edilecek:"
            ),
            id,
            money(l, amount.get(), currency.code())
        );
        return Ok(ui::confirm_page(
            &ctx,
            ui::Confirm {
                what: &what,
                action: &format!("/panel/payments/{id}/items/{item}/refund"),
                fields: &[("amount", &typed)],
                back: &format!("/panel/payments/{id}"),
                nav: Nav::Payments,
            },
        ));
    }
    let result = engine
        .refund_payment_transaction(
            ctx.merchant_id(),
            item,
            amount,
            Some(format!("panel:{}", ctx.session.user.email)),
            None,
        )
        .await;
    let detail = format!(
        "item {item}, {}: {}",
        amount.get(),
        if result.is_ok() { "done" } else { "failed" }
    );
    audit_refund(&state, &ctx, id, &detail).await;
    result.map_err(|e| ctx.fail(e))?;
    Ok(ui::see_other(&format!("/panel/payments/{id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_as_people_type_them() {
        let m = |t: &str| parse_amount(t, Currency::Try).map(|m| m.get());
        assert_eq!(m("12.50"), Some(1250));
        assert_eq!(m("12,5"), Some(1250));
        assert_eq!(m("1.234,56"), Some(123_456));
        assert_eq!(m("1,234.56"), Some(123_456));
        assert_eq!(m("abc"), None);
        assert_eq!(m("1.001"), None, "more decimals than the currency has");
    }

    #[test]
    fn csv_cells_defuse_formulas_and_quote() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("plain"), "\"plain\"");
        assert_eq!(csv_cell("-1"), "\"'-1\"");
    }
}
