//! Small HTML building blocks shared by the browser-facing pages (3D redirects, checkout,
//! pay-by-link): escaping, auto-submitting forms, strict security headers, and parsing of
//! form posts from banks (UTF-8 or ISO-8859-9).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The inline script of auto-submitting pages. Inline so that `htmlContent` also works
/// when the merchant renders it on its own site; allowed on Orkestra's pages by its hash.
const AUTO_SUBMIT_SCRIPT: &str = "document.addEventListener('DOMContentLoaded',function(){var f=document.forms[0];if(f){f.submit();}});";
const AUTO_SUBMIT_STYLE: &str = "body{font-family:system-ui,sans-serif;text-align:center;padding:3rem;color:#1d2433}button{font-size:1rem;padding:.6rem 1.2rem}";

fn csp_hash(source: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest;
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(source.as_bytes()))
    )
}

/// A page that posts `fields` to `action` as soon as it loads (with a button for browsers
/// without JavaScript). Used to send the shopper to a bank or back to a merchant. The page
/// needs nothing from Orkestra's origin, so a merchant may render it on its own site.
pub fn auto_submit_form(action: &str, fields: &[(String, String)], title: &str) -> String {
    let inputs: String = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    format!(
        "<!DOCTYPE html><html lang=\"tr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
<style>{AUTO_SUBMIT_STYLE}</style><script>{AUTO_SUBMIT_SCRIPT}</script></head>\
<body><form method=\"post\" action=\"{action}\">{inputs}<p>{title}</p><button type=\"submit\">Devam / Continue</button></form></body></html>",
        title = escape(title),
        action = escape(action),
    )
}

/// An HTML response with the security headers every Orkestra page carries: no caching
/// (card pages), a strict CSP with no third-party origin, and the allowed frame ancestors.
pub fn html(
    status: StatusCode,
    body: String,
    frame_ancestors: &str,
    form_targets: &str,
) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, max-age=0"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    let csp = format!(
        "default-src 'none'; script-src 'self' {script}; style-src 'self' {style}; img-src 'self' data:; connect-src 'self'; form-action {form_targets}; base-uri 'none'; frame-ancestors {frame_ancestors}",
        script = csp_hash(AUTO_SUBMIT_SCRIPT),
        style = csp_hash(AUTO_SUBMIT_STYLE),
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert("content-security-policy", value);
    }
    if frame_ancestors == "'none'" {
        headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    }
    response
}

/// Parses an `application/x-www-form-urlencoded` body as posted by a browser or a bank,
/// keeping every field in order. Values are decoded as UTF-8, falling back to
/// ISO-8859-9 (Turkish banks' encoding) when the bytes are not UTF-8.
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    fn decode(raw: &[u8]) -> String {
        let mut bytes = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            match raw[i] {
                b'+' => bytes.push(b' '),
                b'%' if i + 2 < raw.len() => {
                    let hex = |b: u8| (b as char).to_digit(16);
                    match (hex(raw[i + 1]), hex(raw[i + 2])) {
                        (Some(h), Some(l)) => {
                            bytes.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                            i += 2;
                        }
                        _ => bytes.push(b'%'),
                    }
                }
                b => bytes.push(b),
            }
            i += 1;
        }
        match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => encoding_rs::WINDOWS_1254
                .decode(e.as_bytes())
                .0
                .into_owned(),
        }
    }
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut parts = pair.splitn(2, |b| *b == b'=');
            let key = decode(parts.next().unwrap_or_default());
            let value = decode(parts.next().unwrap_or_default());
            (key, value)
        })
        .collect()
}

/// One-time pages kept in memory for a short while (the 3D redirect page holds card
/// fields for the bank's gate, so it is never written to disk and is served once).
#[derive(Clone, Default)]
pub struct OneTimePages(Arc<Mutex<HashMap<String, (String, Instant)>>>);

/// How long a one-time page waits to be opened.
pub const ONE_TIME_PAGE_TTL: Duration = Duration::from_secs(300);

impl OneTimePages {
    pub fn put(&self, key: String, html: String) {
        if let Ok(mut pages) = self.0.lock() {
            let now = Instant::now();
            pages.retain(|_, (_, expires)| *expires > now);
            pages.insert(key, (html, now + ONE_TIME_PAGE_TTL));
        }
    }

    /// Takes a page out: the second request finds nothing.
    pub fn take(&self, key: &str) -> Option<String> {
        let mut pages = self.0.lock().ok()?;
        let (html, expires) = pages.remove(key)?;
        (expires > Instant::now()).then_some(html)
    }
}

/// The pages' static files, compiled into the binary (no CDN, no third-party script).
pub async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let (body, content_type) = match name.as_str() {
        "orkestra.css" => (
            include_str!("../assets/orkestra.css"),
            "text/css; charset=utf-8",
        ),
        "checkout.js" => (
            include_str!("../assets/checkout.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return (StatusCode::NOT_FOUND, "").into_response(),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_escape_what_they_embed() {
        let page = auto_submit_form(
            "https://m.example/cb?a=1&b=\"2\"",
            &[("x".into(), "<script>".into())],
            "t",
        );
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains("a=1&amp;b=&quot;2&quot;"));
    }

    #[test]
    fn form_bodies_decode_utf8_and_turkish_bytes() {
        let fields = parse_form(b"a=%C4%B0%C5%9F+bank&b=%DDzmir&empty=&c");
        assert_eq!(fields[0], ("a".into(), "İş bank".into()));
        assert_eq!(fields[1], ("b".into(), "İzmir".into()));
        assert_eq!(fields[2], ("empty".into(), String::new()));
        assert_eq!(fields[3], ("c".into(), String::new()));
        assert!(parse_form(b"%zz=%").len() == 1);
    }

    #[test]
    fn one_time_pages_are_served_once() {
        let pages = OneTimePages::default();
        pages.put("k".into(), "<p>".into());
        assert_eq!(pages.take("k").as_deref(), Some("<p>"));
        assert_eq!(pages.take("k"), None);
    }
}
