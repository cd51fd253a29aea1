//! Sign-in, sign-out and the gate in front of every other panel page.
//!
//! The session cookie is `HttpOnly`, `SameSite=Lax`, scoped to `/panel`, and `Secure`
//! when Orkestra's public URL is HTTPS. Every POST must carry the session's CSRF token
//! (checked here, once, for all routes); the sign-in form, which has no session yet, uses
//! a double-submit cookie instead. Signing in always issues a fresh token, so a token
//! planted before sign-in is worth nothing after it.

use axum::body::{Body, to_bytes};
use std::collections::HashMap;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use engine::users::{SESSION_TTL, SignIn, SignInError};
use subtle::ConstantTimeEq;

use crate::ui::{self, Lang, escape};
use crate::{Ctx, PanelState};

pub const SESSION_COOKIE: &str = "orkestra_panel";
pub const LOGIN_CSRF_COOKIE: &str = "orkestra_panel_login";
pub const LANG_COOKIE: &str = "orkestra_lang";
/// Largest form the panel accepts (bytes).
const FORM_LEN_MAX: usize = 64 * 1024;

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn set_cookie(response: &mut Response, state: &PanelState, name: &str, value: &str, max_age: u64) {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let path = if name == LANG_COOKIE { "/" } else { "/panel" };
    let text =
        format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    if let Ok(v) = HeaderValue::from_str(&text) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// In front of every page but sign-in and the stylesheet: no live session → the sign-in
/// page; a POST without the session's CSRF token → 403. The handler gets a [`Ctx`].
pub async fn gate(State(state): State<PanelState>, request: Request, next: Next) -> Response {
    let lang = Lang::of(request.headers());
    let token = cookie(request.headers(), SESSION_COOKIE).unwrap_or_default();
    let session = match state.app.engine.panel_session(&token).await {
        Ok(Some(session)) => session,
        Ok(None) => return ui::see_other("/panel/login"),
        Err(error) => {
            tracing::error!(%error, "panel session lookup failed");
            return unavailable(lang);
        }
    };
    let (parts, body) = request.into_parts();
    let mut form = Vec::new();
    let body = if parts.method == Method::POST {
        let Ok(bytes) = to_bytes(body, FORM_LEN_MAX).await else {
            return ui::message_page(
                lang,
                StatusCode::PAYLOAD_TOO_LARGE,
                lang.pick("Form too large", "Form çok büyük"),
                lang.pick("The form sent was too large.", "Gönderilen form çok büyük."),
            );
        };
        form = api::pages::parse_form(&bytes);
        if !same(field(&form, "csrf"), &session.csrf_token) {
            tracing::warn!(user_id = session.user.id, path = %parts.uri.path(), "panel form without a valid CSRF token refused");
            return ui::message_page(
                lang,
                StatusCode::FORBIDDEN,
                lang.pick("Request refused", "İstek reddedildi"),
                lang.pick(
                    "The form's security token is missing or stale. Reload the page and try again.",
                    "Formun güvenlik anahtarı eksik ya da eski. Sayfayı yenileyip tekrar deneyin.",
                ),
            );
        }
        Body::from(bytes)
    } else {
        body
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let mut request = Request::from_parts(parts, body);
    request.extensions_mut().insert(Ctx {
        path,
        session,
        token,
        lang,
        form,
        zone: state.app.engine.config().zone,
    });
    next.run(request).await
}

fn unavailable(lang: Lang) -> Response {
    ui::message_page(
        lang,
        StatusCode::SERVICE_UNAVAILABLE,
        lang.pick("Temporarily unavailable", "Geçici olarak kullanılamıyor"),
        lang.pick(
            "Please try again in a moment.",
            "Lütfen biraz sonra tekrar deneyin.",
        ),
    )
}

fn login_page(
    state: &PanelState,
    lang: Lang,
    notice: Option<&str>,
    email: &str,
    ask_code: bool,
    status: StatusCode,
) -> Response {
    let login_csrf = engine::merchants::random_key(32);
    let notice = notice
        .map(|n| format!("<p class=\"notice bad\" role=\"alert\">{}</p>", escape(n)))
        .unwrap_or_default();
    let code = if ask_code {
        format!(
            "<p><label for=\"totp\">{}</label><input id=\"totp\" name=\"totp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{{6}}\" maxlength=\"6\" autofocus></p>",
            lang.pick(
                "Code from your authenticator app",
                "Doğrulama uygulamanızdaki kod"
            )
        )
    } else {
        String::new()
    };
    let body = format!(
        "<main id=\"main\" class=\"narrow\"><h1>{title}</h1>{notice}\
<form method=\"post\" action=\"/panel/login\"><input type=\"hidden\" name=\"csrf\" value=\"{login_csrf}\">\
<p><label for=\"email\">{email_label}</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{email}\"></p>\
<p><label for=\"password\">{password_label}</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required></p>\
{code}<p><button type=\"submit\">{submit}</button></p></form>\
<p class=\"help\"><a href=\"/panel/lang/{other}?next=/panel/login\">{other_name}</a></p></main>",
        title = lang.pick("Sign in to the merchant panel", "Üye işyeri paneline giriş"),
        email_label = lang.pick("Email", "E-posta"),
        email = escape(email),
        password_label = lang.pick("Password", "Parola"),
        submit = lang.pick("Sign in", "Giriş yap"),
        other = if lang == Lang::Tr { "en" } else { "tr" },
        other_name = if lang == Lang::Tr {
            "English"
        } else {
            "Türkçe"
        },
    );
    let mut response = ui::document(lang, lang.pick("Sign in", "Giriş"), &body, status);
    set_cookie(&mut response, state, LOGIN_CSRF_COOKIE, &login_csrf, 3600);
    response
}

pub async fn login_form(State(state): State<PanelState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    // Already signed in: straight to the dashboard.
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Ok(Some(_)) = state.app.engine.panel_session(&token).await
    {
        return ui::see_other("/panel");
    }
    login_page(&state, lang, None, "", false, StatusCode::OK)
}

pub async fn login(
    State(state): State<PanelState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let lang = Lang::of(&headers);
    let form = api::pages::parse_form(&body);
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !same(field(&form, "csrf"), &expected) {
        return login_page(
            &state,
            lang,
            Some(lang.pick(
                "The sign-in form expired. Please try again.",
                "Giriş formunun süresi doldu. Lütfen tekrar deneyin.",
            )),
            "",
            false,
            StatusCode::FORBIDDEN,
        );
    }
    let email = field(&form, "email");
    let totp = Some(field(&form, "totp")).filter(|c| !c.is_empty());
    let outcome = match state
        .app
        .engine
        .sign_in(email, field(&form, "password"), totp)
        .await
    {
        Ok(outcome) => outcome,
        Err(error) => {
            tracing::error!(%error, "panel sign-in failed");
            return unavailable(lang);
        }
    };
    match outcome {
        SignIn::Ok { token, session } => {
            tracing::info!(user_id = session.user.id, "panel sign-in");
            let mut response = ui::see_other("/panel");
            // A token the browser held before (planted or stale) is replaced, never reused.
            set_cookie(
                &mut response,
                &state,
                SESSION_COOKIE,
                &token,
                SESSION_TTL.as_secs(),
            );
            set_cookie(&mut response, &state, LOGIN_CSRF_COOKIE, "", 0);
            response
        }
        SignIn::Failed(SignInError::Locked { .. }) => login_page(
            &state,
            lang,
            Some(lang.pick(
                "Too many failed attempts: this account is locked for 15 minutes.",
                "Çok fazla hatalı deneme: bu hesap 15 dakika kilitlendi.",
            )),
            email,
            false,
            StatusCode::TOO_MANY_REQUESTS,
        ),
        SignIn::Failed(SignInError::TotpRequired) => login_page(
            &state,
            lang,
            totp.map(|_| lang.pick("The code is not right.", "Kod doğru değil.")),
            email,
            true,
            StatusCode::UNAUTHORIZED,
        ),
        SignIn::Failed(SignInError::InvalidCredentials) => login_page(
            &state,
            lang,
            Some(lang.pick("Wrong email or password.", "E-posta ya da parola hatalı.")),
            email,
            false,
            StatusCode::UNAUTHORIZED,
        ),
    }
}

pub async fn logout(
    State(state): State<PanelState>,
    axum::Extension(ctx): axum::Extension<Ctx>,
) -> Response {
    if let Err(error) = state
        .app
        .engine
        .sign_out(&ctx.token, &ctx.session.user)
        .await
    {
        tracing::error!(%error, "panel sign-out failed");
    }
    let mut response = ui::see_other("/panel/login");
    set_cookie(&mut response, &state, SESSION_COOKIE, "", 0);
    response
}

/// Switches the language and goes back where the user was (only to a panel page: the
/// panel sends no Referer, so the page says where it is in `next`).
pub async fn switch_lang(
    State(state): State<PanelState>,
    Path(code): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = Lang::parse(&code).unwrap_or(Lang::Tr);
    let back = q
        .get("next")
        .filter(|p| p.starts_with("/panel") && !p.contains("//") && !p.contains('\\'))
        .cloned()
        .unwrap_or_else(|| "/panel".into());
    let mut response = ui::see_other(&back);
    set_cookie(
        &mut response,
        &state,
        LANG_COOKIE,
        lang.code(),
        365 * 24 * 3600,
    );
    response
}
