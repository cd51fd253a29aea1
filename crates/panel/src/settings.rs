//! Settings: API keys (shown once at rotation), the webhook URL with the delivery log and
//! "resend", and the merchant's panel users.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use engine::users::Role;

use crate::ui::{self, Nav, badge, csrf_field, datetime, escape};
use crate::{Ctx, PageResult, PanelState};

const EVENTS_SHOWN: i64 = 100;

async fn render(
    state: &PanelState,
    ctx: &Ctx,
    notice: Option<(bool, String)>,
    status: StatusCode,
) -> PageResult {
    let l = ctx.lang;
    let engine = &state.app.engine;
    let store = engine.store();
    let merchant = store
        .merchant_by_id(ctx.merchant_id())
        .await
        .map_err(|e| ctx.fail(e.into()))?
        .ok_or_else(|| ctx.not_found())?;
    let events = store
        .webhook_events(ctx.merchant_id(), EVENTS_SHOWN)
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    let users = store
        .panel_users(ctx.merchant_id())
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    let configure = ctx.session.user.role.can_configure();
    let csrf = csrf_field(ctx);
    let disabled = if configure { "" } else { " disabled" };
    let notice = notice
        .map(|(ok, text)| {
            let class = if ok { "ok" } else { "bad" };
            format!("<div class=\"notice {class}\" role=\"alert\">{text}</div>")
        })
        .unwrap_or_default();
    let event_rows: String = events
        .iter()
        .map(|e| {
            let resend = if configure {
                format!(
                    "<form method=\"post\" action=\"/panel/webhooks/{}/resend\">{csrf}<button type=\"submit\" class=\"secondary\">{}</button></form>",
                    e.id,
                    l.pick("Resend", "Yeniden gönder")
                )
            } else {
                String::new()
            };
            format!(
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{resend}</td></tr>",
                datetime(e.event_time, ctx.zone),
                escape(&e.event_type),
                escape(&e.status),
                escape(&e.payload_id),
                badge(&e.state),
                e.attempts,
                escape(e.last_error.as_deref().unwrap_or_default()),
            )
        })
        .collect();
    let user_rows: String = users
        .iter()
        .map(|u| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&u.email),
                escape(&u.role),
                if u.totp_secret_sealed.is_some() {
                    "✓"
                } else {
                    "–"
                },
                datetime(u.created_at, ctx.zone),
            )
        })
        .collect();
    let role_options: String = [Role::Viewer, Role::Operator, Role::Admin, Role::Owner]
        .iter()
        .map(|r| format!("<option value=\"{0}\">{0}</option>", r.as_str()))
        .collect();
    let content = format!(
        "{notice}<h2>{h_keys}</h2><dl class=\"facts\"><dt>API key</dt><dd><code data-testid=\"api-key\">{api_key}</code></dd>\
<dt>Secret key</dt><dd>{secret_note}</dd></dl>\
<div class=\"actions\"><form method=\"post\" action=\"/panel/settings/keys\">{csrf}<button type=\"submit\" class=\"danger\"{disabled}>{rotate}</button></form></div>\
<h2>{h_hook}</h2><form method=\"post\" action=\"/panel/settings/webhook\" class=\"actions\">{csrf}\
<div><label for=\"webhookUrl\">{l_url}</label><input id=\"webhookUrl\" name=\"url\" type=\"url\" value=\"{url}\" placeholder=\"https://…\"{disabled}></div>\
<button type=\"submit\"{disabled}>{save}</button></form><p class=\"help\">{h_sig}</p>\
<div class=\"table-wrap\"><table data-testid=\"webhook-events\"><thead><tr><th>{t_time}</th><th>{t_type}</th><th>{t_status}</th><th>payloadId</th><th>{t_state}</th><th class=\"num\">{t_attempts}</th><th>{t_error}</th><th></th></tr></thead><tbody>{event_rows}</tbody></table></div>\
<h2>{h_users}</h2><div class=\"table-wrap\"><table data-testid=\"users\"><thead><tr><th>{t_email}</th><th>{t_role}</th><th>TOTP</th><th>{t_created}</th></tr></thead><tbody>{user_rows}</tbody></table></div>{new_user}",
        h_keys = l.pick("API keys", "API anahtarları"),
        api_key = escape(&merchant.api_key),
        secret_note = l.pick("stored encrypted; shown only once, when created or rotated", "şifreli saklanır; yalnızca oluşturulduğunda veya yenilendiğinde bir kez gösterilir"),
        rotate = l.pick("Rotate keys…", "Anahtarları yenile…"),
        h_hook = l.pick("Webhooks", "Webhook'lar"),
        l_url = l.pick("Webhook URL (empty: no webhooks)", "Webhook adresi (boş: gönderilmez)"),
        url = escape(merchant.webhook_url.as_deref().unwrap_or_default()),
        save = l.pick("Save", "Kaydet"),
        h_sig = l.pick(
            "Each event is signed: x-cg-signature-v1 = Base64(HMAC-SHA256(hook key, eventType + eventTimestamp + status + payloadId)).",
            "Her olay imzalıdır: x-cg-signature-v1 = Base64(HMAC-SHA256(hook anahtarı, eventType + eventTimestamp + status + payloadId)).",
        ),
        t_time = l.pick("Time", "Zaman"),
        t_type = l.pick("Event", "Olay"),
        t_status = l.pick("Status", "Durum"),
        t_state = l.pick("Delivery", "Teslim"),
        t_attempts = l.pick("Attempts", "Deneme"),
        t_error = l.pick("Last error", "Son hata"),
        h_users = l.pick("Panel users", "Panel kullanıcıları"),
        t_email = l.pick("Email", "E-posta"),
        t_role = l.pick("Role", "Rol"),
        t_created = l.pick("Created", "Oluşturuldu"),
        new_user = if configure {
            format!(
                "<form method=\"post\" action=\"/panel/settings/users\" class=\"filters\">{csrf}\
<div><label for=\"newEmail\">{l_email}</label><input id=\"newEmail\" name=\"email\" type=\"email\" required autocomplete=\"off\"></div>\
<div><label for=\"newRole\">{l_role}</label><select id=\"newRole\" name=\"role\">{role_options}</select></div>\
<div><label for=\"newPassword\">{l_password}</label><input id=\"newPassword\" name=\"password\" type=\"password\" minlength=\"10\" required autocomplete=\"new-password\"></div>\
<div><button type=\"submit\">{add}</button></div></form>",
                l_email = l.pick("Email", "E-posta"),
                l_role = l.pick("Role", "Rol"),
                l_password = l.pick("First password (10+ characters)", "İlk parola (en az 10 karakter)"),
                add = l.pick("Add user", "Kullanıcı ekle"),
            )
        } else {
            String::new()
        },
    );
    let mut response = ui::page(ctx, l.pick("Settings", "Ayarlar"), Nav::Settings, &content);
    *response.status_mut() = status;
    Ok(response)
}

pub async fn page(State(state): State<PanelState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    render(&state, &ctx, None, StatusCode::OK).await
}

pub async fn rotate_keys(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
) -> PageResult {
    let l = ctx.lang;
    ctx.require_configure()?;
    if ctx.field("confirm") != "yes" {
        return Ok(ui::confirm_page(
            &ctx,
            ui::Confirm {
                what: l.pick(
                    "New keys replace the current ones: integrations using the old keys stop working within 30 seconds.",
                    "Yeni anahtarlar mevcutların yerini alır: eski anahtarları kullanan entegrasyonlar 30 saniye içinde çalışmaz olur.",
                ),
                action: "/panel/settings/keys",
                fields: &[],
                back: "/panel/settings",
                nav: Nav::Settings,
            },
        ));
    }
    let (api_key, secret_key) = state
        .app
        .engine
        .rotate_api_keys(ctx.merchant_id())
        .await
        .map_err(|e| ctx.fail(e))?;
    ctx.audit(&state, "keys.rotate", None, None).await;
    let text = format!(
        "{}<dl class=\"facts\"><dt>API key</dt><dd><code>{}</code></dd><dt>Secret key</dt><dd><code data-testid=\"new-secret\">{}</code></dd></dl>",
        l.pick(
            "New keys — copy the secret key now, it is not shown again:",
            "Yeni anahtarlar — gizli anahtarı şimdi kopyalayın, bir daha gösterilmez:"
        ),
        escape(&api_key),
        escape(&secret_key),
    );
    render(&state, &ctx, Some((true, text)), StatusCode::OK).await
}

pub async fn set_webhook(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
) -> PageResult {
    ctx.require_configure()?;
    let url = Some(ctx.field("url")).filter(|u| !u.is_empty());
    match state
        .app
        .engine
        .set_webhook_url(ctx.merchant_id(), url)
        .await
    {
        Ok(()) => {
            ctx.audit(&state, "webhook.url", url, None).await;
            Ok(ui::see_other("/panel/settings"))
        }
        Err(engine::EngineError::Validation { message, .. }) => {
            render(
                &state,
                &ctx,
                Some((false, escape(&message))),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

pub async fn resend(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    ctx.require_configure()?;
    let id = ctx.id(&id)?;
    let engine = &state.app.engine;
    let found = engine
        .store()
        .webhook_resend(ctx.merchant_id(), id, engine.now_ms())
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    if !found {
        return Err(ctx.not_found());
    }
    ctx.audit(&state, "webhook.resend", Some(&id.to_string()), None)
        .await;
    Ok(ui::see_other("/panel/settings"))
}

pub async fn add_user(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
) -> PageResult {
    let l = ctx.lang;
    let me = &ctx.session.user;
    let Some(role) = Role::parse(ctx.field("role")) else {
        return render(
            &state,
            &ctx,
            Some((false, escape(l.pick("Pick a role.", "Bir rol seçin.")))),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    // Admins manage users, but only an owner makes another owner.
    if !me.role.can_configure() || (role == Role::Owner && me.role != Role::Owner) {
        return Err(ctx.forbidden());
    }
    match state
        .app
        .engine
        .create_panel_user(
            ctx.merchant_id(),
            ctx.field("email"),
            ctx.field("password"),
            role,
            &me.email,
        )
        .await
    {
        Ok(_) => Ok(ui::see_other("/panel/settings")),
        Err(engine::EngineError::Validation { message, .. }) => {
            render(
                &state,
                &ctx,
                Some((false, escape(&message))),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(ctx.fail(e)),
    }
}
