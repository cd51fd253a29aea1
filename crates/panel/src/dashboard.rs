//! The dashboard: volume, success rate and commission cost per day and per POS over the
//! last two weeks, as charts (inline SVG, drawn on the server) with the figures beside them.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::State;
use chrono::{Duration, NaiveDate};
use store::rows::PaymentRow;

use crate::ui::{self, Lang, Nav, escape, money};
use crate::{Ctx, PageResult, PanelState};

const DAYS: i64 = 14;
/// Payments read per dashboard view; beyond this the figures say they are partial.
const ROWS_MAX: i64 = 50_000;

#[derive(Default, Clone)]
struct Tally {
    payments: i64,
    successes: i64,
    volume_minor: i64,
    commission_minor: i64,
}

impl Tally {
    fn add(&mut self, p: &PaymentRow) {
        self.payments += 1;
        if p.status == "SUCCESS" {
            self.successes += 1;
            self.volume_minor += p.paid_price_minor - p.refunded_minor;
            self.commission_minor += p.doc.bank_commission_minor.unwrap_or(0);
        }
    }

    fn success_percent(&self) -> Option<i64> {
        (self.payments > 0).then(|| self.successes * 100 / self.payments)
    }
}

/// The figures of one currency: per local day (all of the window) and per POS.
struct Figures {
    days: BTreeMap<NaiveDate, Tally>,
    poses: BTreeMap<i64, Tally>,
    total: Tally,
}

fn figures(
    payments: &[PaymentRow],
    currency: &str,
    first_day: NaiveDate,
    zone: chrono::FixedOffset,
) -> Figures {
    let mut days: BTreeMap<NaiveDate, Tally> = (0..DAYS)
        .map(|i| (first_day + Duration::days(i), Tally::default()))
        .collect();
    let mut poses: BTreeMap<i64, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    for p in payments.iter().filter(|p| p.currency == currency) {
        let Some(day) = chrono::DateTime::from_timestamp_millis(p.created_at)
            .map(|t| t.with_timezone(&zone).date_naive())
        else {
            continue;
        };
        if let Some(t) = days.get_mut(&day) {
            t.add(p);
        }
        poses.entry(p.pos_id.unwrap_or(0)).or_default().add(p);
        total.add(p);
    }
    Figures { days, poses, total }
}

/// Daily volume as vertical bars; each bar's exact figure is in its `<title>`.
fn volume_chart(lang: Lang, f: &Figures, currency: &str) -> String {
    let (w, h, pad) = (720.0_f64, 220.0_f64, 28.0_f64);
    let max = f
        .days
        .values()
        .map(|t| t.volume_minor)
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = (w - 2.0 * pad) / DAYS as f64;
    let mut bars = String::new();
    for (i, (day, t)) in f.days.iter().enumerate() {
        // Display geometry only: exact amounts are in the titles and the table.
        let height = (h - 2.0 * pad) * (t.volume_minor as f64 / max as f64);
        let x = pad + slot * i as f64 + slot * 0.15;
        let y = h - pad - height;
        bars.push_str(&format!(
            "<g><title>{day}: {amount}, {n} {payments}</title><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{height:.1}\" rx=\"3\" fill=\"#2446a8\"></rect>\
<text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\">{label}</text></g>",
            day = day.format("%Y-%m-%d"),
            amount = money(lang, t.volume_minor, currency),
            n = t.successes,
            payments = lang.pick("successful payments", "başarılı ödeme"),
            bw = slot * 0.7,
            tx = x + slot * 0.35,
            ty = h - pad + 16.0,
            label = day.format("%d.%m"),
        ));
    }
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"volume-title\"><title id=\"volume-title\">{title}</title>\
<line x1=\"{pad}\" y1=\"{base}\" x2=\"{end}\" y2=\"{base}\" stroke=\"#dde1e8\"></line>{bars}\
<text x=\"{pad}\" y=\"16\">{top}</text></svg>",
        title = lang.pick("Successful volume per day", "Günlük başarılı işlem hacmi"),
        base = h - pad,
        end = w - pad,
        top = money(lang, max, currency),
    )
}

/// Success rate per POS as horizontal bars.
fn success_chart(lang: Lang, rows: &[(String, Tally)]) -> String {
    let (w, row_h) = (720.0_f64, 30.0_f64);
    let h = row_h * rows.len().max(1) as f64 + 10.0;
    let mut bars = String::new();
    for (i, (name, t)) in rows.iter().enumerate() {
        let percent = t.success_percent().unwrap_or(0);
        let y = 5.0 + row_h * i as f64;
        let width = (w - 260.0) * percent as f64 / 100.0;
        let fill = if percent >= 80 {
            "#1b7f4b"
        } else if percent >= 50 {
            "#a15c00"
        } else {
            "#b42318"
        };
        bars.push_str(&format!(
            "<g><title>{name}: {percent}% ({s}/{n})</title><text x=\"4\" y=\"{ty:.1}\">{name}</text>\
<rect x=\"200\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{bh:.1}\" rx=\"3\" fill=\"{fill}\"></rect>\
<text x=\"{vx:.1}\" y=\"{ty:.1}\">{percent}%</text></g>",
            name = escape(name),
            s = t.successes,
            n = t.payments,
            ty = y + row_h * 0.6,
            bh = row_h * 0.65,
            vx = 206.0 + width,
        ));
    }
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"success-title\"><title id=\"success-title\">{title}</title>{bars}</svg>",
        title = lang.pick("Success rate per POS", "POS bazında başarı oranı"),
    )
}

fn table_head(l: Lang, first: &str) -> String {
    format!(
        "<thead><tr><th>{first}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th></tr></thead>",
        l.pick("Payments", "Ödemeler"),
        l.pick("Success", "Başarı"),
        l.pick("Volume", "Hacim"),
        l.pick("Commission", "Komisyon"),
    )
}

pub async fn page(State(state): State<PanelState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    let l = ctx.lang;
    let engine = &state.app.engine;
    let today = chrono::DateTime::from_timestamp_millis(engine.now_ms())
        .map(|t| t.with_timezone(&ctx.zone).date_naive())
        .unwrap_or_default();
    let first_day = today - Duration::days(DAYS - 1);
    let from = first_day
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(ctx.zone).single())
        .map(|t| t.timestamp_millis())
        .unwrap_or(0);
    let store = engine.store();
    let payments = store
        .payments_between(ctx.merchant_id(), from, i64::MAX, ROWS_MAX)
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    let poses = store
        .poses(ctx.merchant_id())
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    // The currency with the most payments leads; others are listed below it.
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &payments {
        *counts.entry(p.currency.as_str()).or_default() += 1;
    }
    let currency = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(c, _)| (*c).to_owned())
        .unwrap_or_else(|| "TRY".into());
    let f = figures(&payments, &currency, first_day, ctx.zone);
    let today_tally = f.days.get(&today).cloned().unwrap_or_default();
    let pos_name = |id: i64| {
        poses
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| l.pick("(no POS)", "(POS yok)").to_owned())
    };
    let pos_rows: Vec<(String, Tally)> = f
        .poses
        .iter()
        .map(|(id, t)| (pos_name(*id), t.clone()))
        .collect();
    let percent = |t: &Tally| {
        t.success_percent()
            .map(|p| format!("{p}%"))
            .unwrap_or_else(|| "–".into())
    };
    let cards = format!(
        "<div class=\"cards\">\
<div class=\"card\"><div class=\"label\">{l_today}</div><div class=\"value\" data-testid=\"today-volume\">{today_volume}</div><div class=\"label\">{today_n} {l_payments}</div></div>\
<div class=\"card\"><div class=\"label\">{l_window}</div><div class=\"value\" data-testid=\"window-volume\">{volume}</div><div class=\"label\">{n} {l_payments}</div></div>\
<div class=\"card\"><div class=\"label\">{l_rate}</div><div class=\"value\">{rate}</div><div class=\"label\">{s}/{n}</div></div>\
<div class=\"card\"><div class=\"label\">{l_cost}</div><div class=\"value\">{cost}</div></div></div>",
        l_today = l.pick("Today", "Bugün"),
        today_volume = money(l, today_tally.volume_minor, &currency),
        today_n = today_tally.successes,
        l_payments = l.pick("successful payments", "başarılı ödeme"),
        l_window = l.pick("Last 14 days", "Son 14 gün"),
        volume = money(l, f.total.volume_minor, &currency),
        n = f.total.payments,
        s = f.total.successes,
        l_rate = l.pick("Success rate", "Başarı oranı"),
        rate = percent(&f.total),
        l_cost = l.pick("Bank commission cost", "Banka komisyon maliyeti"),
        cost = money(l, f.total.commission_minor, &currency),
    );
    let table_rows: String = pos_rows
        .iter()
        .map(|(name, t)| {
            format!(
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(name),
                t.payments,
                percent(t),
                money(l, t.volume_minor, &currency),
                money(l, t.commission_minor, &currency),
            )
        })
        .collect();
    let day_rows: String = f
        .days
        .iter()
        .map(|(d, t)| {
            format!(
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                d.format("%Y-%m-%d"),
                t.payments,
                percent(t),
                money(l, t.volume_minor, &currency),
                money(l, t.commission_minor, &currency),
            )
        })
        .collect();
    let others: Vec<String> = counts
        .iter()
        .filter(|(c, _)| **c != currency)
        .map(|(c, n)| format!("{} ({n})", escape(c)))
        .collect();
    let others = if others.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"help\">{} {}</p>",
            l.pick("Also payments in:", "Diğer para birimlerinde ödemeler:"),
            others.join(", ")
        )
    };
    let partial = if payments.len() as i64 >= ROWS_MAX {
        format!(
            "<p class=\"notice\">{}</p>",
            l.pick(
                "Figures cover the first 50,000 payments of the period.",
                "Rakamlar dönemin ilk 50.000 ödemesini kapsar."
            )
        )
    } else {
        String::new()
    };
    let content = format!(
        "{partial}{cards}{others}<h2>{h_volume} ({currency})</h2>{volume_chart}\
<h2>{h_success}</h2>{success_chart}\
<h2>{h_poses}</h2><div class=\"table-wrap\"><table data-testid=\"pos-table\">{pos_head}<tbody>{table_rows}</tbody></table></div>\
<details><summary>{h_days}</summary><div class=\"table-wrap\"><table>{day_head}<tbody>{day_rows}</tbody></table></div></details>",
        h_volume = l.pick("Successful volume per day", "Günlük başarılı işlem hacmi"),
        volume_chart = volume_chart(l, &f, &currency),
        h_success = l.pick("Success rate per POS", "POS bazında başarı oranı"),
        success_chart = success_chart(l, &pos_rows),
        h_poses = l.pick("Per POS", "POS bazında"),
        pos_head = table_head(l, "POS"),
        h_days = l.pick("Figures per day", "Günlük rakamlar"),
        day_head = table_head(l, l.pick("Day", "Gün")),
    );
    Ok(ui::page(
        &ctx,
        l.pick("Dashboard", "Gösterge paneli"),
        Nav::Dashboard,
        &content,
    ))
}
