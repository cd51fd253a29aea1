//! Page building: the layout every panel page shares, the two languages, and the
//! formatting of money and times. Pages are plain server-rendered HTML with one stylesheet;
//! no script runs, so the strict CSP allows none.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::FixedOffset;
use domain::money::{Currency, MinorUnits, format_decimal_fixed};

pub use api::pages::escape;

use crate::Ctx;

/// The panel's two languages. Every text is written in both where it is used, so none can
/// be missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Tr,
    En,
}

impl Lang {
    pub fn pick(self, en: &'static str, tr: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Tr => tr,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Tr => "tr",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "tr" => Some(Lang::Tr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The `lang` cookie if set, else the browser's first choice, else Turkish.
    pub fn of(headers: &axum::http::HeaderMap) -> Lang {
        if let Some(lang) = crate::session::cookie(headers, crate::session::LANG_COOKIE)
            .as_deref()
            .and_then(Lang::parse)
        {
            return lang;
        }
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if accept.starts_with("en") {
            Lang::En
        } else {
            Lang::Tr
        }
    }
}

/// An amount as people read it: `1.234,56 TRY` in Turkish, `1,234.56 TRY` in English.
pub fn money(lang: Lang, minor: i64, currency: &str) -> String {
    let Ok(c) = currency.parse::<Currency>() else {
        return format!("{minor} {}", escape(currency));
    };
    let sign = if minor < 0 { "-" } else { "" };
    let plain = format_decimal_fixed(MinorUnits::from_stored(minor.saturating_abs()), c);
    let (whole, fraction) = plain.split_once('.').unwrap_or((&plain, ""));
    let (group, point) = match lang {
        Lang::Tr => ('.', ','),
        Lang::En => (',', '.'),
    };
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(ch);
    }
    if fraction.is_empty() {
        format!("{sign}{grouped} {}", c.code())
    } else {
        format!("{sign}{grouped}{point}{fraction} {}", c.code())
    }
}

/// Local date and time of an epoch-ms instant, `2026-11-27 14:05`.
pub fn datetime(epoch_ms: i64, zone: FixedOffset) -> String {
    chrono::DateTime::from_timestamp_millis(epoch_ms)
        .map(|t| {
            t.with_timezone(&zone)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

/// A status as a coloured badge.
pub fn badge(status: &str) -> String {
    let class = match status {
        "SUCCESS" | "ACTIVE" | "delivered" | "Accepted" => "ok",
        "FAILURE" | "DELETED" | "dead" => "bad",
        _ => "neutral",
    };
    format!("<span class=\"badge {class}\">{}</span>", escape(status))
}

/// The hidden CSRF field every form of a signed-in page carries.
pub fn csrf_field(ctx: &Ctx) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(&ctx.session.csrf_token)
    )
}

/// Which menu entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Dashboard,
    Payments,
    Poses,
    Links,
    Wallets,
    Routing,
    Settings,
    Audit,
    Account,
}

/// A full page for a signed-in user: header, menu, language switch, content.
pub fn page(ctx: &Ctx, title: &str, nav: Nav, content: &str) -> Response {
    let l = ctx.lang;
    let entries = [
        (
            Nav::Dashboard,
            "/panel",
            l.pick("Dashboard", "Gösterge paneli"),
        ),
        (
            Nav::Payments,
            "/panel/payments",
            l.pick("Payments", "Ödemeler"),
        ),
        (
            Nav::Poses,
            "/panel/poses",
            l.pick("Virtual POSes", "Sanal POS'lar"),
        ),
        (
            Nav::Links,
            "/panel/links",
            l.pick("Payment links", "Ödeme bağlantıları"),
        ),
        (
            Nav::Wallets,
            "/panel/wallets",
            l.pick("Wallets", "Cüzdanlar"),
        ),
        (
            Nav::Routing,
            "/panel/routing",
            l.pick("Routing", "Yönlendirme"),
        ),
        (
            Nav::Settings,
            "/panel/settings",
            l.pick("Settings", "Ayarlar"),
        ),
        (
            Nav::Audit,
            "/panel/audit",
            l.pick("Audit log", "İşlem kayıtları"),
        ),
        (Nav::Account, "/panel/account", l.pick("Account", "Hesap")),
    ];
    let menu: String = entries
        .iter()
        .map(|(n, href, label)| {
            let current = if *n == nav {
                " aria-current=\"page\""
            } else {
                ""
            };
            format!("<li><a href=\"{href}\"{current}>{label}</a></li>")
        })
        .collect();
    let other = match l {
        Lang::Tr => ("en", "English"),
        Lang::En => ("tr", "Türkçe"),
    };
    let body = format!(
        "<header class=\"top\"><a class=\"brand\" href=\"/panel\">Orkestra</a>\
<nav aria-label=\"{menu_label}\"><ul>{menu}</ul></nav>\
<div class=\"who\"><span>{email} · {role}</span>\
<a href=\"/panel/lang/{other_code}?next={next}\" lang=\"{other_code}\">{other_name}</a>\
<form method=\"post\" action=\"/panel/logout\">{csrf}<button type=\"submit\" class=\"link\">{sign_out}</button></form></div></header>\
<main id=\"main\"><h1>{title}</h1>{content}</main>",
        menu_label = l.pick("Main menu", "Ana menü"),
        email = escape(&ctx.session.user.email),
        role = ctx.session.user.role.as_str(),
        other_code = other.0,
        next = escape(&url_encode(&ctx.path)),
        other_name = other.1,
        csrf = csrf_field(ctx),
        sign_out = l.pick("Sign out", "Çıkış"),
        title = escape(title),
    );
    document(l, title, &body, StatusCode::OK)
}

/// The HTML document around a body, with the panel's security headers.
pub fn document(lang: Lang, title: &str, body: &str, status: StatusCode) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · Orkestra</title><link rel=\"stylesheet\" href=\"/panel/assets/panel.css\"></head>\
<body><a class=\"skip\" href=\"#main\">{skip}</a>{body}</body></html>",
        code = lang.code(),
        title = escape(title),
        skip = lang.pick("Skip to content", "İçeriğe geç"),
    );
    api::pages::html(status, html, "'none'", "'self'")
}

/// A small page with a message (errors, refusals) and a way back.
pub fn message_page(lang: Lang, status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!(
        "<main id=\"main\" class=\"narrow\"><h1>{}</h1><p>{}</p><p><a href=\"/panel\">{}</a></p></main>",
        escape(title),
        escape(text),
        lang.pick("Back to the panel", "Panele dön"),
    );
    document(lang, title, &body, status)
}

/// 303 to a panel path (after a successful POST).
pub fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}

/// The stylesheet, served from the binary.
pub async fn stylesheet() -> Response {
    let mut response = include_str!("../assets/panel.css").into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

/// What a confirmation page asks: the sentence, where "yes" posts (with these fields kept),
/// and where "no" goes back to.
pub struct Confirm<'a> {
    pub what: &'a str,
    pub action: &'a str,
    pub fields: &'a [(&'a str, &'a str)],
    pub back: &'a str,
    pub nav: Nav,
}

/// The step before anything that moves money or cannot be undone: say what will happen,
/// and post the same form again with `confirm=yes` only if the user says so.
pub fn confirm_page(ctx: &Ctx, c: Confirm<'_>) -> Response {
    let l = ctx.lang;
    let hidden: String = c
        .fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    let content = format!(
        "<p class=\"notice\" role=\"alert\">{what}</p><div class=\"actions\"><form method=\"post\" action=\"{action}\">{csrf}{hidden}\
<input type=\"hidden\" name=\"confirm\" value=\"yes\"><button type=\"submit\" class=\"danger\" autofocus>{yes}</button></form>\
<a class=\"button secondary\" href=\"{back}\">{no}</a></div>",
        what = escape(c.what),
        action = escape(c.action),
        csrf = csrf_field(ctx),
        back = escape(c.back),
        yes = l.pick("Yes, do it", "Evet, onaylıyorum"),
        no = l.pick("No, go back", "Hayır, geri dön"),
    );
    page(
        ctx,
        l.pick("Please confirm", "Lütfen onaylayın"),
        c.nav,
        &content,
    )
}

/// Percent-encodes a query parameter value.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped_per_language() {
        assert_eq!(money(Lang::Tr, 123_456_789, "TRY"), "1.234.567,89 TRY");
        assert_eq!(money(Lang::En, 123_456_789, "TRY"), "1,234,567.89 TRY");
        assert_eq!(money(Lang::En, 5, "USD"), "0.05 USD");
        assert_eq!(money(Lang::Tr, -100_000, "EUR"), "-1.000,00 EUR");
        assert_eq!(money(Lang::En, 100, "XYZ"), "100 XYZ");
    }
}
