//! The HTML the 3D gate serves: the ACS-like challenge page (OTP), the hosted card page of
//! `3d_host`, the auto-submitting callback form, and a plain error page. Self-contained:
//! inline CSS, one inline script (the auto-submit), no external resource. Every value is
//! HTML-escaped; URLs reach a page only after the gate checked they are http(s).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What a challenge or card page shows about the payment.
pub struct Summary<'a> {
    pub merchant: &'a str,
    pub order_id: &'a str,
    /// `1.01 TRY`.
    pub amount: String,
    /// `4355 08** **** 4358`, or `None` before the card is known (`3d_host`).
    pub masked_card: Option<String>,
}

/// The OTP shown on every challenge page.
pub const TEST_OTP: &str = "123456";

const STYLE: &str = "\
body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;background:#eef1f5;color:#1d2733}\
main{max-width:420px;margin:40px auto;background:#fff;border-radius:10px;box-shadow:0 2px 12px rgba(0,0,0,.12);padding:24px 28px}\
h1{font-size:19px;margin:0 0 4px}h1 small{display:block;font-size:13px;font-weight:400;color:#5b6776}\
.brand{font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:#0b5cad;margin-bottom:14px}\
dl{display:grid;grid-template-columns:auto 1fr;gap:6px 14px;margin:18px 0;padding:12px 14px;background:#f6f8fa;border-radius:8px}\
dt{color:#5b6776}dd{margin:0;font-weight:600;text-align:right}\
label{display:block;margin:14px 0 6px;font-weight:600}\
input[type=text],input[type=password]{box-sizing:border-box;width:100%;padding:10px 12px;font-size:17px;border:1px solid #b8c2cc;border-radius:6px}\
.row{display:flex;gap:10px}.row>div{flex:1}\
.hint{margin:8px 0 0;padding:8px 10px;background:#fff8e1;border:1px dashed #e0b400;border-radius:6px;font-size:14px}\
.error{margin:12px 0 0;padding:8px 10px;background:#fdecea;border:1px solid #e57373;border-radius:6px;color:#8e1c14}\
.buttons{display:flex;gap:10px;margin-top:20px}\
button{flex:1;padding:11px 12px;font-size:15px;border-radius:6px;border:1px solid #0b5cad;background:#0b5cad;color:#fff;cursor:pointer}\
button.secondary{background:#fff;color:#0b5cad}\
p.small{font-size:12px;color:#5b6776;margin-top:18px}";

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"tr\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape(title)
    )
}

fn summary_list(summary: &Summary<'_>) -> String {
    let mut out = String::from("<dl>\n");
    let mut row = |label: &str, value: &str| {
        out.push_str(&format!("<dt>{label}</dt><dd>{}</dd>\n", escape(value)));
    };
    row("İşyeri / Merchant", summary.merchant);
    row("Sipariş / Order", summary.order_id);
    row("Tutar / Amount", &summary.amount);
    if let Some(card) = &summary.masked_card {
        row("Kart / Card", card);
    }
    out.push_str("</dl>\n");
    out
}

fn error_note(error: Option<&str>) -> String {
    error
        .map(|e| format!("<p class=\"error\">{}</p>\n", escape(e)))
        .unwrap_or_default()
}

/// The challenge page: OTP, confirm or cancel, posted to `action`.
pub fn challenge(summary: &Summary<'_>, action: &str) -> String {
    let body = format!(
        "<div class=\"brand\">Banka Simülatörü · 3D Secure</div>\n\
<h1>Kimlik Doğrulama<small>Cardholder authentication</small></h1>\n\
{summary}\
<form method=\"post\" action=\"{action}\" accept-charset=\"UTF-8\">\n\
<label for=\"otp\">Cep telefonunuza gönderilen şifre / One-time password</label>\n\
<input id=\"otp\" name=\"otp\" type=\"text\" inputmode=\"numeric\" autocomplete=\"one-time-code\" maxlength=\"6\" autofocus>\n\
<p class=\"hint\">Test OTP: <strong>{TEST_OTP}</strong></p>\n\
<div class=\"buttons\">\n\
<button type=\"submit\" name=\"action\" value=\"confirm\">Onayla / Confirm</button>\n\
<button type=\"submit\" name=\"action\" value=\"cancel\" class=\"secondary\" formnovalidate>İptal / Cancel</button>\n\
</div>\n\
</form>\n\
<p class=\"small\">Bu sayfa bir test simülatörüdür; gerçek kart bilgisi girmeyin. / This page is a test simulator; do not enter real card data.</p>\n",
        summary = summary_list(summary),
        action = escape(action),
    );
    document("3D Secure", &body)
}

/// The hosted card page of `3d_host`: card number, expiry and CVC, posted to `action`.
pub fn card_entry(summary: &Summary<'_>, action: &str, error: Option<&str>) -> String {
    let body = format!(
        "<div class=\"brand\">Banka Simülatörü · Güvenli Ödeme</div>\n\
<h1>Kart Bilgileri<small>Card details</small></h1>\n\
{summary}\
<form method=\"post\" action=\"{action}\" accept-charset=\"UTF-8\" autocomplete=\"off\">\n\
<label for=\"pan\">Kart numarası / Card number</label>\n\
<input id=\"pan\" name=\"pan\" type=\"text\" inputmode=\"numeric\" autocomplete=\"cc-number\" maxlength=\"23\" autofocus>\n\
<div class=\"row\">\n\
<div><label for=\"month\">Ay / Month</label><input id=\"month\" name=\"Ecom_Payment_Card_ExpDate_Month\" type=\"text\" inputmode=\"numeric\" placeholder=\"MM\" maxlength=\"2\"></div>\n\
<div><label for=\"year\">Yıl / Year</label><input id=\"year\" name=\"Ecom_Payment_Card_ExpDate_Year\" type=\"text\" inputmode=\"numeric\" placeholder=\"YY\" maxlength=\"4\"></div>\n\
<div><label for=\"cv2\">CVC</label><input id=\"cv2\" name=\"cv2\" type=\"password\" inputmode=\"numeric\" maxlength=\"4\"></div>\n\
</div>\n\
{error}\
<div class=\"buttons\">\n\
<button type=\"submit\" name=\"action\" value=\"card\">Devam / Continue</button>\n\
<button type=\"submit\" name=\"action\" value=\"cancel\" class=\"secondary\" formnovalidate>İptal / Cancel</button>\n\
</div>\n\
</form>\n\
<p class=\"small\">Bu sayfa bir test simülatörüdür; gerçek kart bilgisi girmeyin. / This page is a test simulator; do not enter real card data.</p>\n",
        summary = summary_list(summary),
        action = escape(action),
        error = error_note(error),
    );
    document("Güvenli Ödeme / Secure Payment", &body)
}

/// The page that posts the callback to the merchant: submits itself at once, and shows a
/// button for browsers without JavaScript. One `<input>` per line.
pub fn auto_submit(url: &str, fields: &[(String, String)]) -> String {
    let mut inputs = String::new();
    for (name, value) in fields {
        inputs.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            escape(name),
            escape(value)
        ));
    }
    let body = format!(
        "<h1>İşleminiz tamamlanıyor<small>Returning to the merchant…</small></h1>\n\
<form id=\"callback\" method=\"post\" action=\"{url}\" accept-charset=\"UTF-8\">\n\
{inputs}\
<div class=\"buttons\"><button type=\"submit\">Devam / Continue</button></div>\n\
</form>\n\
<script>document.getElementById(\"callback\").submit();</script>\n",
        url = escape(url),
    );
    document("Yönlendiriliyor / Redirecting", &body)
}

/// A page for what cannot be posted back anywhere (no valid `failUrl`, unknown session).
pub fn error(title_tr: &str, title_en: &str, detail: &str) -> String {
    let body = format!(
        "<h1>{}<small>{}</small></h1>\n{}",
        escape(title_tr),
        escape(title_en),
        error_note(Some(detail)),
    );
    document("Hata / Error", &body)
}

/// An HTML response with the headers every gate page carries.
pub fn html(status: StatusCode, page: String) -> Response {
    let mut response = (status, page).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; form-action http: https:; base-uri 'none'",
        ),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        let page = auto_submit(
            "https://shop.example/cb?a=1&b=\"2\"",
            &[("x\"><script>".into(), "<b>&'".into())],
        );
        assert!(page.contains("action=\"https://shop.example/cb?a=1&amp;b=&quot;2&quot;\""));
        assert!(page.contains(
            "<input type=\"hidden\" name=\"x&quot;&gt;&lt;script&gt;\" value=\"&lt;b&gt;&amp;&#39;\">"
        ));
        assert!(!page.contains("<b>"));
    }

    #[test]
    fn challenge_shows_the_otp_and_both_buttons() {
        let page = challenge(
            &Summary {
                merchant: "100200127",
                order_id: "o<1>",
                amount: "1.01 TRY".into(),
                masked_card: Some("4355 08** **** 4358".into()),
            },
            "/nestpay/fim/acs/abc",
        );
        for needle in [
            "Test OTP: <strong>123456</strong>",
            "name=\"otp\"",
            "Onayla / Confirm",
            "İptal / Cancel",
            "action=\"/nestpay/fim/acs/abc\"",
            "4355 08** **** 4358",
            "o&lt;1&gt;",
        ] {
            assert!(page.contains(needle), "{needle}");
        }
        assert!(!page.contains("http://") && !page.contains("https://"));
    }
}
