//! The signed-in user's account (second factor) and the merchant's audit log.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use engine::users::base32;

use crate::ui::{self, Nav, csrf_field, datetime, escape};
use crate::{Ctx, PageResult, PanelState};

const AUDIT_ROWS: i64 = 200;

pub async fn audit(State(state): State<PanelState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    let l = ctx.lang;
    let entries = state
        .app
        .engine
        .store()
        .audit_log(ctx.merchant_id(), AUDIT_ROWS)
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    let rows: String = entries
        .iter()
        .map(|e| {
            format!(
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                datetime(e.created_at, ctx.zone),
                escape(&e.actor),
                escape(&e.action),
                escape(e.subject.as_deref().unwrap_or_default()),
                escape(e.detail.as_deref().unwrap_or_default()),
            )
        })
        .collect();
    let content = format!(
        "<p class=\"help\">{help}</p><div class=\"table-wrap\"><table data-testid=\"audit\"><thead><tr><th>{t}</th><th>{w}</th><th>{a}</th><th>{s}</th><th>{d}</th></tr></thead><tbody>{rows}</tbody></table></div>",
        help = l.pick(
            "Who did what, newest first (last 200).",
            "Kim ne yaptı, en yeniler önce (son 200)."
        ),
        t = l.pick("Time", "Zaman"),
        w = l.pick("Who", "Kim"),
        a = l.pick("Action", "İşlem"),
        s = l.pick("Subject", "Konu"),
        d = l.pick("Detail", "Ayrıntı"),
    );
    Ok(ui::page(
        &ctx,
        l.pick("Audit log", "İşlem kayıtları"),
        Nav::Audit,
        &content,
    ))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 128 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

pub async fn page(State(state): State<PanelState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    let l = ctx.lang;
    let user = &ctx.session.user;
    let second_factor = if user.totp_enabled {
        format!(
            "<p class=\"notice ok\">{}</p>",
            l.pick("Two-step sign-in is on.", "İki adımlı giriş açık.")
        )
    } else {
        // The secret goes to this user's browser once; it is stored only after a code
        // from their app proves they have it.
        let secret = state.app.engine.new_totp_secret();
        let encoded = base32(&secret);
        let uri = format!(
            "otpauth://totp/Orkestra:{}?secret={encoded}&issuer=Orkestra&digits=6&period=30",
            ui::url_encode(&user.email)
        );
        format!(
            "<p>{intro}</p><dl class=\"facts\"><dt>{l_key}</dt><dd><code data-testid=\"totp-secret\">{encoded}</code></dd><dt>URI</dt><dd><code>{uri}</code></dd></dl>\
<form method=\"post\" action=\"/panel/account/totp\" class=\"actions\">{csrf}<input type=\"hidden\" name=\"secret\" value=\"{secret_hex}\">\
<div><label for=\"code\">{l_code}</label><input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" maxlength=\"6\" required></div>\
<button type=\"submit\">{turn_on}</button></form>",
            intro = l.pick(
                "Add this key to an authenticator app, then type the code it shows to turn on two-step sign-in.",
                "Bu anahtarı bir doğrulama uygulamasına ekleyin, ardından gösterdiği kodu yazarak iki adımlı girişi açın.",
            ),
            l_key = l.pick("Key", "Anahtar"),
            uri = escape(&uri),
            csrf = csrf_field(&ctx),
            secret_hex = hex(&secret),
            l_code = l.pick("Code", "Kod"),
            turn_on = l.pick("Turn on", "Aç"),
        )
    };
    let content = format!(
        "<dl class=\"facts\"><dt>{l_email}</dt><dd>{email}</dd><dt>{l_role}</dt><dd>{role}</dd></dl><h2>{h_2fa}</h2>{second_factor}",
        l_email = l.pick("Email", "E-posta"),
        email = escape(&user.email),
        l_role = l.pick("Role", "Rol"),
        role = user.role.as_str(),
        h_2fa = l.pick("Two-step sign-in", "İki adımlı giriş"),
    );
    Ok(ui::page(
        &ctx,
        l.pick("Account", "Hesap"),
        Nav::Account,
        &content,
    ))
}

pub async fn enable_totp(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
) -> PageResult {
    let l = ctx.lang;
    let Some(secret) = unhex(ctx.field("secret")) else {
        return Err(ui::message_page(
            l,
            StatusCode::BAD_REQUEST,
            l.pick("Invalid request", "Geçersiz istek"),
            "",
        ));
    };
    match state
        .app
        .engine
        .enable_totp(&ctx.session.user, &secret, ctx.field("code"))
        .await
    {
        Ok(()) => Ok(ui::see_other("/panel/account")),
        Err(engine::EngineError::Validation { .. }) => Err(ui::message_page(
            l,
            StatusCode::UNPROCESSABLE_ENTITY,
            l.pick("The code does not match", "Kod eşleşmiyor"),
            l.pick(
                "Go back, check the app's clock and try the newest code.",
                "Geri dönün, uygulamanın saatini kontrol edip en yeni kodu deneyin.",
            ),
        )),
        Err(e) => Err(ctx.fail(e)),
    }
}
