//! Ready POS integrations: pick a bank, fill only the credentials that bank needs, test
//! the connection with a real call, activate. Also status changes and the commission table.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::enums::{ConnectorFamily, PosIntegrator, PosStatus};
use domain::money::Currency;
use engine::pos::{ConnectionCheck, PosInput, PosUserInput};
use rust_decimal::Decimal;
use store::rows::{CommissionDoc, PosRow};

use crate::ui::{self, Lang, Nav, badge, csrf_field, datetime, escape};
use crate::{Ctx, PageResult, PanelState};

/// One credential field of a bank's form.
struct CredentialField {
    /// The form field (and `PosInput` field) name.
    name: &'static str,
    label: &'static str,
    help_en: &'static str,
    help_tr: &'static str,
    secret: bool,
}

const fn field(
    name: &'static str,
    label: &'static str,
    help_en: &'static str,
    help_tr: &'static str,
    secret: bool,
) -> CredentialField {
    CredentialField {
        name,
        label,
        help_en,
        help_tr,
        secret,
    }
}

/// The credentials each family asks for, named as the bank's own documents name them.
fn credential_fields(family: ConnectorFamily) -> Vec<CredentialField> {
    match family.as_str() {
        "nestpay" => vec![
            field(
                "clientId",
                "Client ID",
                "Your store number (Mağaza No) from the bank's merchant panel.",
                "Banka panelindeki mağaza numaranız (Client ID).",
                false,
            ),
            field(
                "username",
                "API user",
                "The API user created in the bank's panel.",
                "Banka panelinde oluşturulan API kullanıcısı.",
                false,
            ),
            field(
                "password",
                "API password",
                "That user's password.",
                "API kullanıcısının parolası.",
                true,
            ),
            field(
                "threedsKey",
                "Store key",
                "The 3D Secure store key (Üye İşyeri Anahtarı).",
                "3D Secure üye işyeri anahtarı (store key).",
                true,
            ),
        ],
        "garanti" => vec![
            field(
                "clientId",
                "Merchant ID",
                "Üye işyeri numarası.",
                "Üye işyeri numarası.",
                false,
            ),
            field(
                "terminalId",
                "Terminal ID",
                "The 8-digit terminal number.",
                "8 haneli terminal numarası.",
                false,
            ),
            field(
                "username",
                "Provision user",
                "PROVAUT (refunds use PROVRFN with the same password).",
                "PROVAUT (iadeler aynı parolayla PROVRFN ile yapılır).",
                false,
            ),
            field(
                "password",
                "Provision password",
                "The provision user's password.",
                "Provizyon kullanıcısının parolası.",
                true,
            ),
            field(
                "threedsKey",
                "3D store key",
                "The 3D Secure key from the Garanti panel.",
                "Garanti panelindeki 3D Secure anahtarı.",
                true,
            ),
        ],
        "posnet" => vec![
            field(
                "clientId",
                "Merchant ID (mid)",
                "The 10-digit merchant number.",
                "10 haneli üye işyeri numarası.",
                false,
            ),
            field(
                "terminalId",
                "Terminal ID (tid)",
                "The 8-digit terminal number.",
                "8 haneli terminal numarası.",
                false,
            ),
            field(
                "posnetId",
                "Posnet ID",
                "The Posnet ID used for 3D Secure (OOS).",
                "3D Secure (OOS) için Posnet ID.",
                false,
            ),
            field(
                "threedsKey",
                "ENCKEY",
                "The encryption key, as the bank gave it (e.g. 10,10,10,…).",
                "Bankanın verdiği şifreleme anahtarı (ör. 10,10,10,…).",
                true,
            ),
        ],
        "payfor" => vec![
            field(
                "clientId",
                "MerchantId",
                "Your merchant number.",
                "Üye işyeri numaranız.",
                false,
            ),
            field(
                "username",
                "UserCode",
                "The API user code.",
                "API kullanıcı kodu.",
                false,
            ),
            field(
                "password",
                "UserPass",
                "The API user's password.",
                "API kullanıcısının parolası.",
                true,
            ),
            field(
                "threedsKey",
                "MerchantPass",
                "The 3D Secure merchant key.",
                "3D Secure üye işyeri anahtarı.",
                true,
            ),
        ],
        "interpos" => vec![
            field(
                "clientId",
                "ShopCode",
                "Your shop code (mağaza kodu).",
                "Mağaza kodunuz (ShopCode).",
                false,
            ),
            field(
                "username",
                "UserCode",
                "The API user code.",
                "API kullanıcı kodu.",
                false,
            ),
            field(
                "password",
                "UserPass",
                "The API user's password.",
                "API kullanıcısının parolası.",
                true,
            ),
            field(
                "threedsKey",
                "MerchantPass",
                "The 3D Secure merchant key.",
                "3D Secure üye işyeri anahtarı.",
                true,
            ),
        ],
        "akbank" => vec![
            field(
                "clientId",
                "merchantSafeId",
                "The 32-character merchant id from Akbank's panel.",
                "Akbank panelindeki 32 karakterlik üye işyeri kimliği.",
                false,
            ),
            field(
                "terminalId",
                "terminalSafeId",
                "The 32-character terminal id.",
                "32 karakterlik terminal kimliği.",
                false,
            ),
            field(
                "threedsKey",
                "Secret key",
                "The secret key that signs every request (auth-hash).",
                "Her isteği imzalayan gizli anahtar (auth-hash).",
                true,
            ),
        ],
        // Kuveyt Türk signs with the API password itself: there is no separate 3D key.
        "kuveyt" => vec![
            field(
                "clientId",
                "MerchantId",
                "Your merchant number (Üye İşyeri No) from the Kuveyt Türk virtual POS panel.",
                "Kuveyt Türk sanal POS panelindeki üye işyeri numaranız (MerchantId).",
                false,
            ),
            field(
                "terminalId",
                "CustomerId",
                "Your customer number at Kuveyt Türk (Müşteri No).",
                "Kuveyt Türk'teki müşteri numaranız (CustomerId).",
                false,
            ),
            field(
                "username",
                "UserName",
                "The API user created in the virtual POS panel.",
                "Sanal POS panelinde oluşturulan API kullanıcısı.",
                false,
            ),
            field(
                "password",
                "Password",
                "That API user's password; it also signs 3D Secure.",
                "API kullanıcısının parolası; 3D Secure imzası da bununla yapılır.",
                true,
            ),
        ],
        "payflex" => vec![
            field(
                "clientId",
                "MerchantId (HostMerchantId)",
                "Your merchant number at the bank (e.g. 000000000111111).",
                "Bankadaki üye işyeri numaranız (ör. 000000000111111).",
                false,
            ),
            field(
                "terminalId",
                "TerminalNo",
                "The virtual POS terminal number (e.g. VP000579).",
                "Sanal POS terminal numarası (ör. VP000579).",
                false,
            ),
            field(
                "password",
                "Password (MerchantPassword)",
                "The merchant password of the VPOS 7/24 and MPI services; PayFlex signs nothing else.",
                "VPOS 7/24 ve MPI servislerinin üye işyeri şifresi; PayFlex başka imza kullanmaz.",
                true,
            ),
        ],
        _ => vec![
            field(
                "clientId",
                "Merchant / client ID",
                "The merchant number the bank gave you.",
                "Bankanın verdiği üye işyeri numarası.",
                false,
            ),
            field(
                "terminalId",
                "Terminal ID",
                "If the bank gave you one.",
                "Banka verdiyse terminal numarası.",
                false,
            ),
            field(
                "username",
                "API user",
                "The API user.",
                "API kullanıcısı.",
                false,
            ),
            field(
                "password",
                "API password",
                "The API user's password.",
                "API kullanıcısının parolası.",
                true,
            ),
            field(
                "threedsKey",
                "3D Secure key",
                "The 3D Secure key.",
                "3D Secure anahtarı.",
                true,
            ),
        ],
    }
}

/// Integrators Orkestra has a connector for, in the order the list shows them.
fn supported() -> Vec<(PosIntegrator, ConnectorFamily)> {
    PosIntegrator::ALL
        .iter()
        .filter_map(|i| i.family().map(|f| (*i, f)))
        .collect()
}

fn status_label(l: Lang, status: &str) -> &'static str {
    match status {
        "ACTIVE" => l.pick("Active", "Aktif"),
        "PASSIVE" => l.pick("Passive", "Pasif"),
        "REFUND_ONLY" => l.pick("Refunds only", "Yalnızca iade"),
        "AUTOPILOT" => l.pick("Autopilot", "Otopilot"),
        _ => l.pick("Deleted", "Silinmiş"),
    }
}

pub async fn list(State(state): State<PanelState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    let l = ctx.lang;
    let poses = state
        .app
        .engine
        .store()
        .poses(ctx.merchant_id())
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    let rows: String = poses
        .iter()
        .map(|p| {
            format!(
                "<tr><td><a href=\"/panel/poses/{id}\">{name}</a></td><td>{bank}</td><td><code>{alias}</code></td><td>{mode}</td><td>{status}</td><td class=\"num\">{order}</td></tr>",
                id = p.id,
                name = escape(&p.name),
                bank = escape(&p.pos_integrator),
                alias = escape(&p.alias),
                mode = escape(p.doc.mode.as_deref().unwrap_or("TEST")),
                status = badge(status_label(l, &p.status)),
                order = p.order_number,
            )
        })
        .collect();
    let add = if ctx.session.user.role.can_configure() {
        format!(
            "<p><a class=\"button\" href=\"/panel/poses/new\">{}</a></p>",
            l.pick("Add a POS", "POS ekle")
        )
    } else {
        String::new()
    };
    let content = format!(
        "{add}<div class=\"table-wrap\"><table data-testid=\"poses\"><thead><tr><th>{n}</th><th>{b}</th><th>Alias</th><th>{m}</th><th>{s}</th><th class=\"num\">{o}</th></tr></thead><tbody>{rows}</tbody></table></div>",
        n = l.pick("Name", "Ad"),
        b = l.pick("Bank", "Banka"),
        m = l.pick("Mode", "Ortam"),
        s = l.pick("Status", "Durum"),
        o = l.pick("Order", "Sıra"),
    );
    Ok(ui::page(
        &ctx,
        l.pick("Virtual POSes", "Sanal POS'lar"),
        Nav::Poses,
        &content,
    ))
}

pub async fn new_form(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> PageResult {
    let l = ctx.lang;
    ctx.require_configure()?;
    let chosen = q
        .get("integrator")
        .and_then(|i| PosIntegrator::parse(i))
        .filter(|i| i.family().is_some());
    let Some(integrator) = chosen else {
        // Step 1: the list of banks.
        let banks: String = supported()
            .iter()
            .map(|(i, f)| {
                let (_, bank_name) = i.bank();
                let models: Vec<&str> = state
                    .app
                    .engine
                    .connectors()
                    .get(*f)
                    .capabilities()
                    .threeds_models
                    .iter()
                    .map(|m| m.as_str())
                    .collect();
                format!(
                    "<div class=\"bank\"><span class=\"logo\" aria-hidden=\"true\">{initial}</span><strong>{name}</strong>\
<p class=\"help\">{proto}: {family} · 3D: {models}</p><a class=\"button secondary\" href=\"/panel/poses/new?integrator={code}\">{choose}</a></div>",
                    initial = escape(&bank_name.chars().next().unwrap_or('?').to_string()),
                    name = escape(bank_name),
                    proto = l.pick("Protocol", "Protokol"),
                    family = escape(f.as_str()),
                    models = escape(&models.join(", ")),
                    code = i.as_str(),
                    choose = l.pick("Choose", "Seç"),
                )
            })
            .collect();
        let content = format!(
            "<p>{}</p><div class=\"banks\" data-testid=\"banks\">{banks}</div>",
            l.pick(
                "Pick the bank your POS contract is with.",
                "Sanal POS sözleşmenizin olduğu bankayı seçin."
            )
        );
        return Ok(ui::page(
            &ctx,
            l.pick("Add a POS", "POS ekle"),
            Nav::Poses,
            &content,
        ));
    };
    Ok(pos_form(
        &state,
        &ctx,
        integrator,
        None,
        None,
        StatusCode::OK,
    ))
}

/// The value a POS row holds for a form field (editing starts from what is saved).
fn saved_value(pos: &PosRow, name: &str) -> String {
    let d = &pos.doc;
    match name {
        "name" => Some(pos.name.clone()),
        "mode" => d.mode.clone(),
        "clientId" => d.client_id.clone(),
        "terminalId" => d.terminal_id.clone(),
        "posnetId" => d.posnet_id.clone(),
        "username" => d.users.first().map(|u| u.pos_username.clone()),
        "hostname" => d.hostname.clone(),
        "path" => d.path.clone(),
        "threedsPath" => d.threeds_path.clone(),
        _ => None,
    }
    .unwrap_or_default()
}

/// The form of a new POS, or of a saved one (`existing`): secrets are never shown, and
/// left empty when editing they stay as they are.
fn pos_form(
    state: &PanelState,
    ctx: &Ctx,
    integrator: PosIntegrator,
    existing: Option<&PosRow>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = ctx.lang;
    let family = integrator.family().unwrap_or(ConnectorFamily::Nestpay);
    let (_, bank_name) = integrator.bank();
    let posted = !ctx.form.is_empty();
    let previous = |name: &str| match existing {
        Some(pos) if !posted => escape(&saved_value(pos, name)),
        _ => escape(ctx.field(name)),
    };
    let secret_attrs = if existing.is_some() {
        format!(" placeholder=\"{}\"", l.pick("unchanged", "değiştirilmedi"))
    } else {
        " required".to_owned()
    };
    let mode = previous("mode");
    let credentials: String = credential_fields(family)
        .iter()
        .map(|f| {
            let (kind, value, auto, required) = if f.secret {
                ("password", String::new(), " autocomplete=\"new-password\"", secret_attrs.as_str())
            } else {
                ("text", previous(f.name), " autocomplete=\"off\"", " required")
            };
            format!(
                "<div><label for=\"{n}\">{label}</label><input id=\"{n}\" name=\"{n}\" type=\"{kind}\" value=\"{value}\"{required}{auto} aria-describedby=\"{n}-help\"><div class=\"help\" id=\"{n}-help\">{help}</div></div>",
                n = f.name,
                label = escape(f.label),
                help = escape(l.pick(f.help_en, f.help_tr)),
            )
        })
        .collect();
    let sandbox = if state.sandbox {
        format!(
            "<div><label><input type=\"checkbox\" name=\"useSimulator\" value=\"yes\"> {}</label><div class=\"help\">{}</div></div>",
            l.pick(
                "Use Orkestra's built-in bank simulator",
                "Orkestra'nın yerleşik banka simülatörünü kullan"
            ),
            l.pick(
                "Sandbox mode: the simulator answers as this bank does, at /sim/",
                "Sandbox modu: simülatör bu banka gibi yanıt verir, adresi /sim/",
            )
            .to_owned()
                + family.as_str(),
        )
    } else {
        String::new()
    };
    let error = error
        .map(|e| format!("<p class=\"notice bad\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let content = format!(
        "{error}<form method=\"post\" action=\"{action}\">{csrf}<input type=\"hidden\" name=\"integrator\" value=\"{code}\">\
<h2>{bank_name}</h2><div class=\"fields\">\
<div><label for=\"name\">{l_name}</label><input id=\"name\" name=\"name\" required maxlength=\"100\" value=\"{name}\"></div>\
<div><label for=\"mode\">{l_mode}</label><select id=\"mode\" name=\"mode\"><option value=\"TEST\">TEST</option><option value=\"PROD\"{prod}>PROD</option></select>\
<div class=\"help\">{h_mode}</div></div>{credentials}</div>\
<h2>{l_endpoint}</h2><div class=\"fields\">{sandbox}\
<div><label for=\"hostname\">{l_host}</label><input id=\"hostname\" name=\"hostname\" value=\"{hostname}\" placeholder=\"https://…\"><div class=\"help\">{h_host}</div></div>\
<div><label for=\"path\">{l_path}</label><input id=\"path\" name=\"path\" value=\"{path}\"></div>\
<div><label for=\"threedsPath\">{l_3dpath}</label><input id=\"threedsPath\" name=\"threedsPath\" value=\"{threeds_path}\"></div></div>\
<p class=\"help\">{h_after}</p><p><button type=\"submit\">{save}</button></p></form>",
        action = existing
            .map(|p| format!("/panel/poses/{}/edit", p.id))
            .unwrap_or_else(|| "/panel/poses".into()),
        csrf = csrf_field(ctx),
        code = integrator.as_str(),
        bank_name = escape(bank_name),
        prod = if mode == "PROD" { " selected" } else { "" },
        l_name = l.pick("Name shown in reports", "Raporlarda görünecek ad"),
        name = previous("name"),
        l_mode = l.pick("Environment", "Ortam"),
        h_mode = l.pick(
            "TEST uses the bank's test system, PROD takes real money.",
            "TEST bankanın test ortamını kullanır, PROD gerçek tahsilat yapar."
        ),
        l_endpoint = l.pick("Bank endpoint (optional)", "Banka adresi (isteğe bağlı)"),
        l_host = l.pick("Host", "Sunucu"),
        hostname = previous("hostname"),
        h_host = l.pick(
            "Empty: the bank's own test or production address.",
            "Boş bırakılırsa bankanın kendi test veya canlı adresi kullanılır."
        ),
        l_path = l.pick("API path", "API yolu"),
        path = previous("path"),
        l_3dpath = l.pick("3D gate path", "3D geçit yolu"),
        threeds_path = previous("threedsPath"),
        h_after = if existing.is_some() {
            l.pick(
                "Test the connection again after changing credentials.",
                "Giriş bilgilerini değiştirdikten sonra bağlantıyı yeniden test edin.",
            )
        } else {
            l.pick(
                "The POS is saved passive. Test its connection, then activate it.",
                "POS pasif olarak kaydedilir. Bağlantıyı test edip ardından aktifleştirin.",
            )
        },
        save = l.pick("Save POS", "POS'u kaydet"),
    );
    let title = if existing.is_some() {
        l.pick("Edit POS", "POS'u düzenle")
    } else {
        l.pick("Add a POS", "POS ekle")
    };
    let mut response = ui::page(ctx, &format!("{title} — {bank_name}"), Nav::Poses, &content);
    *response.status_mut() = status;
    response
}

pub async fn create(State(state): State<PanelState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    let l = ctx.lang;
    ctx.require_configure()?;
    let Some(integrator) =
        PosIntegrator::parse(ctx.field("integrator")).filter(|i| i.family().is_some())
    else {
        return Err(ui::message_page(
            l,
            StatusCode::BAD_REQUEST,
            l.pick("Unknown bank", "Bilinmeyen banka"),
            ctx.field("integrator"),
        ));
    };
    let family = integrator.family().unwrap_or(ConnectorFamily::Nestpay);
    let text = |name: &str| Some(ctx.field(name).to_owned()).filter(|v| !v.is_empty());
    for f in credential_fields(family) {
        if text(f.name).is_none() {
            let message = format!("{} {}", l.pick("Required:", "Zorunlu alan:"), f.label);
            return Ok(pos_form(
                &state,
                &ctx,
                integrator,
                None,
                Some(&message),
                StatusCode::BAD_REQUEST,
            ));
        }
    }
    let (mut hostname, path, threeds_path) = (text("hostname"), text("path"), text("threedsPath"));
    if state.sandbox && ctx.field("useSimulator") == "yes" {
        hostname = Some(format!(
            "{}/sim/{}",
            state.app.engine.config().public_url.trim_end_matches('/'),
            family.as_str()
        ));
    }
    let mode = if ctx.field("mode") == "PROD" {
        "PROD"
    } else {
        "TEST"
    };
    let order = state
        .app
        .engine
        .store()
        .poses(ctx.merchant_id())
        .await
        .map_err(|e| ctx.fail(e.into()))?
        .len();
    let input = PosInput {
        name: text("name"),
        status: Some(PosStatus::Passive),
        pos_integrator: Some(integrator),
        currency: Some(Currency::Try),
        order_number: Some(i64::try_from(order).unwrap_or(0) + 1),
        hostname,
        path,
        threeds_path,
        mode: Some(mode.into()),
        client_id: text("clientId"),
        terminal_id: text("terminalId"),
        posnet_id: text("posnetId"),
        threeds_key: text("threedsKey"),
        enable_installment: Some(true),
        users: Some(vec![PosUserInput {
            pos_username: text("username")
                .or_else(|| text("posnetId"))
                .or_else(|| Some("-".into())),
            pos_password: text("password").or_else(|| Some("-".into())),
            ..PosUserInput::default()
        }]),
        ..PosInput::default()
    };
    let pos = match state.app.engine.create_pos(ctx.merchant_id(), input).await {
        Ok(pos) => pos,
        Err(engine::EngineError::Validation { message, .. }) => {
            return Ok(pos_form(
                &state,
                &ctx,
                integrator,
                None,
                Some(&message),
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
        Err(e) => return Err(ctx.fail(e)),
    };
    audit(&state, &ctx, "pos.create", pos.id, integrator.as_str()).await;
    Ok(ui::see_other(&format!("/panel/poses/{}", pos.id)))
}

async fn audit(state: &PanelState, ctx: &Ctx, action: &str, pos_id: i64, detail: &str) {
    ctx.audit(state, action, Some(&format!("pos {pos_id}")), Some(detail))
        .await;
}

async fn load(state: &PanelState, ctx: &Ctx, id: &str) -> Result<PosRow, Response> {
    let id = ctx.id(id)?;
    state
        .app
        .engine
        .store()
        .pos(ctx.merchant_id(), id)
        .await
        .map_err(|e| ctx.fail(e.into()))?
        .ok_or_else(|| ctx.not_found())
}

fn rate(value: &Option<String>) -> String {
    value.as_deref().map(escape).unwrap_or_default()
}

fn render_detail(ctx: &Ctx, pos: &PosRow, check: Option<&ConnectionCheck>) -> Response {
    let l = ctx.lang;
    let configure = ctx.session.user.role.can_configure();
    let check = match check {
        None => String::new(),
        Some(ConnectionCheck::Accepted) => format!(
            "<p class=\"notice ok\" role=\"status\" data-testid=\"connection-result\">{}</p>",
            l.pick(
                "Connection works: the bank accepted these credentials.",
                "Bağlantı çalışıyor: banka bu bilgileri kabul etti."
            )
        ),
        Some(ConnectionCheck::Rejected { code, message }) => format!(
            "<p class=\"notice bad\" role=\"alert\" data-testid=\"connection-result\">{} <code>{}</code> {}</p>",
            l.pick(
                "The bank refused these credentials:",
                "Banka bu bilgileri reddetti:"
            ),
            escape(code),
            escape(message)
        ),
        Some(ConnectionCheck::Failed(reason)) => format!(
            "<p class=\"notice bad\" role=\"alert\" data-testid=\"connection-result\">{} {}</p>",
            l.pick(
                "No usable answer from the bank:",
                "Bankadan kullanılabilir yanıt alınamadı:"
            ),
            escape(reason)
        ),
    };
    let facts = [
        (l.pick("Bank", "Banka"), escape(&pos.pos_integrator)),
        ("Alias", format!("<code>{}</code>", escape(&pos.alias))),
        (
            l.pick("Status", "Durum"),
            badge(status_label(l, &pos.status)),
        ),
        (
            l.pick("Environment", "Ortam"),
            escape(pos.doc.mode.as_deref().unwrap_or("TEST")),
        ),
        (
            l.pick("Merchant / client ID", "Üye işyeri no"),
            escape(pos.doc.client_id.as_deref().unwrap_or("–")),
        ),
        (
            "Terminal ID",
            escape(pos.doc.terminal_id.as_deref().unwrap_or("–")),
        ),
        (
            l.pick("Host", "Sunucu"),
            escape(
                pos.doc
                    .hostname
                    .as_deref()
                    .unwrap_or(l.pick("bank default", "banka varsayılanı")),
            ),
        ),
        (
            l.pick("Credentials", "Giriş bilgileri"),
            l.pick(
                "stored encrypted, never shown",
                "şifreli saklanır, gösterilmez",
            )
            .to_owned(),
        ),
        (
            l.pick("Updated", "Güncellendi"),
            datetime(pos.updated_at, ctx.zone),
        ),
    ];
    let facts: String = facts
        .iter()
        .map(|(k, v)| format!("<dt>{k}</dt><dd>{v}</dd>"))
        .collect();
    let csrf = csrf_field(ctx);
    let actions = if configure {
        let status_buttons: String = [
            (PosStatus::Active, l.pick("Activate", "Aktifleştir")),
            (PosStatus::Passive, l.pick("Make passive", "Pasife al")),
            (PosStatus::RefundOnly, l.pick("Refunds only", "Yalnızca iade")),
            (PosStatus::Deleted, l.pick("Delete", "Sil")),
        ]
        .iter()
        .filter(|(s, _)| s.as_str() != pos.status)
        .map(|(s, label)| {
            let class = if *s == PosStatus::Deleted { " class=\"danger\"" } else { " class=\"secondary\"" };
            format!(
                "<form method=\"post\" action=\"/panel/poses/{id}/status\">{csrf}<input type=\"hidden\" name=\"status\" value=\"{s}\"><button type=\"submit\"{class}>{label}</button></form>",
                id = pos.id,
                s = s.as_str(),
            )
        })
        .collect();
        format!(
            "<div class=\"actions\"><form method=\"post\" action=\"/panel/poses/{id}/test\">{csrf}<button type=\"submit\">{test}</button></form>\
<a class=\"button secondary\" href=\"/panel/poses/{id}/edit\">{edit}</a>{status_buttons}</div>",
            id = pos.id,
            test = l.pick("Test connection", "Bağlantıyı test et"),
            edit = l.pick("Edit", "Düzenle"),
        )
    } else {
        String::new()
    };
    // The commission table: the rows there are, plus empty ones to add.
    let mut rows: Vec<CommissionDoc> = pos.commissions.clone();
    let blank = 12usize.saturating_sub(rows.len()).max(2);
    rows.extend((0..blank).map(|_| CommissionDoc::default()));
    let disabled = if configure { "" } else { " disabled" };
    let commission_rows: String = rows
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let installment = if c.installment > 0 { c.installment.to_string() } else { String::new() };
            format!(
                "<tr><td><input aria-label=\"{l_inst} {n}\" name=\"installment_{i}\" inputmode=\"numeric\" value=\"{installment}\"{disabled}></td>\
<td><input aria-label=\"{l_brand} {n}\" name=\"brand_{i}\" value=\"{brand}\"{disabled}></td>\
<td><input aria-label=\"{l_onus} {n}\" name=\"onus_{i}\" inputmode=\"decimal\" value=\"{onus}\"{disabled}></td>\
<td><input aria-label=\"{l_notonus} {n}\" name=\"notonus_{i}\" inputmode=\"decimal\" value=\"{notonus}\"{disabled}></td>\
<td><input aria-label=\"{l_debit} {n}\" name=\"debit_{i}\" inputmode=\"decimal\" value=\"{debit}\"{disabled}></td>\
<td><input aria-label=\"{l_foreign} {n}\" name=\"foreign_{i}\" inputmode=\"decimal\" value=\"{foreign}\"{disabled}></td>\
<td><input aria-label=\"{l_block} {n}\" name=\"blockage_{i}\" inputmode=\"numeric\" value=\"{blockage}\"{disabled}></td></tr>",
                n = i + 1,
                l_inst = l.pick("Installments, row", "Taksit, satır"),
                l_brand = l.pick("Card programme, row", "Kart programı, satır"),
                l_onus = l.pick("On-us credit rate, row", "Kendi kartı kredi oranı, satır"),
                l_notonus = l.pick("Other banks' credit rate, row", "Diğer banka kredi oranı, satır"),
                l_debit = l.pick("Debit rate, row", "Banka kartı oranı, satır"),
                l_foreign = l.pick("Foreign card rate, row", "Yabancı kart oranı, satır"),
                l_block = l.pick("Blockage days, row", "Blokaj günü, satır"),
                brand = escape(c.card_brand_name.as_deref().unwrap_or_default()),
                onus = rate(&c.bank_on_us_credit_card_commission_rate),
                notonus = rate(&c.bank_not_on_us_credit_card_commission_rate),
                debit = rate(&c.bank_on_us_debit_card_commission_rate),
                foreign = rate(&c.bank_foreign_card_commission_rate),
                blockage = c.blockage_day.map(|d| d.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    let save = if configure {
        format!(
            "<p><button type=\"submit\">{}</button></p>",
            l.pick("Save commissions", "Komisyonları kaydet")
        )
    } else {
        String::new()
    };
    let content = format!(
        "<p><a href=\"/panel/poses\">← {back}</a></p>{check}<dl class=\"facts\">{facts}</dl>{actions}\
<h2>{h_comm}</h2><p class=\"help\">{h_help}</p><form method=\"post\" action=\"/panel/poses/{id}/commissions\">{csrf}\
<div class=\"table-wrap\"><table data-testid=\"commissions\"><thead><tr><th>{t_inst}</th><th>{t_brand}</th><th>{t_onus}</th><th>{t_notonus}</th><th>{t_debit}</th><th>{t_foreign}</th><th>{t_block}</th></tr></thead><tbody>{commission_rows}</tbody></table></div>{save}</form>",
        back = l.pick("All POSes", "Tüm POS'lar"),
        h_comm = l.pick("Commissions", "Komisyonlar"),
        h_help = l.pick(
            "Percent per installment count and card programme (empty programme: any card). Routing uses these to pick the cheapest POS.",
            "Taksit sayısı ve kart programı başına yüzde (program boşsa: tüm kartlar). Yönlendirme en ucuz POS'u bu oranlarla seçer.",
        ),
        id = pos.id,
        t_inst = l.pick("Installments", "Taksit"),
        t_brand = l.pick("Card programme", "Kart programı"),
        t_onus = l.pick("On-us credit %", "Kendi kartı kredi %"),
        t_notonus = l.pick("Other credit %", "Diğer kredi %"),
        t_debit = l.pick("Debit %", "Banka kartı %"),
        t_foreign = l.pick("Foreign %", "Yabancı kart %"),
        t_block = l.pick("Blockage days", "Blokaj günü"),
    );
    ui::page(ctx, &pos.name, Nav::Poses, &content)
}

pub async fn detail(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    let pos = load(&state, &ctx, &id).await?;
    Ok(render_detail(&ctx, &pos, None))
}

pub async fn test_connection(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    ctx.require_configure()?;
    let pos = load(&state, &ctx, &id).await?;
    let check = state
        .app
        .engine
        .test_pos_connection(ctx.merchant_id(), pos.id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let outcome = match &check {
        ConnectionCheck::Accepted => "accepted".to_owned(),
        ConnectionCheck::Rejected { code, .. } => format!("rejected {code}"),
        ConnectionCheck::Failed(_) => "failed".to_owned(),
    };
    audit(&state, &ctx, "pos.test_connection", pos.id, &outcome).await;
    Ok(render_detail(&ctx, &pos, Some(&check)))
}

pub async fn set_status(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    let l = ctx.lang;
    ctx.require_configure()?;
    let pos = load(&state, &ctx, &id).await?;
    let Some(status) = PosStatus::parse(ctx.field("status")) else {
        return Err(ui::message_page(
            l,
            StatusCode::BAD_REQUEST,
            l.pick("Unknown status", "Bilinmeyen durum"),
            ctx.field("status"),
        ));
    };
    let engine = &state.app.engine;
    engine
        .store()
        .set_pos_status(ctx.merchant_id(), pos.id, status.as_str(), engine.now_ms())
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    audit(&state, &ctx, "pos.status", pos.id, status.as_str()).await;
    if status == PosStatus::Deleted {
        return Ok(ui::see_other("/panel/poses"));
    }
    Ok(ui::see_other(&format!("/panel/poses/{}", pos.id)))
}

/// A percent typed in the table: `1.75`, `1,75` or empty.
fn percent(ctx: &Ctx, name: &str) -> Result<Option<String>, String> {
    let v = ctx.field(name).replace(',', ".");
    if v.is_empty() {
        return Ok(None);
    }
    match v.parse::<Decimal>() {
        Ok(d) if d >= Decimal::ZERO && d <= Decimal::from(100) => {
            Ok(Some(d.normalize().to_string()))
        }
        _ => Err(name.to_owned()),
    }
}

pub async fn set_commissions(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    let l = ctx.lang;
    ctx.require_configure()?;
    let pos = load(&state, &ctx, &id).await?;
    let invalid = |what: String| {
        ui::message_page(
            l,
            StatusCode::BAD_REQUEST,
            l.pick("Invalid commission table", "Geçersiz komisyon tablosu"),
            &format!(
                "{} {what}",
                l.pick("Check the field:", "Alanı kontrol edin:")
            ),
        )
    };
    let mut rows = Vec::new();
    for i in 0..64 {
        let installment = ctx.field(&format!("installment_{i}"));
        if installment.is_empty() {
            continue;
        }
        let installment: i64 = installment
            .parse()
            .ok()
            .filter(|n| (1..=12).contains(n))
            .ok_or_else(|| invalid(format!("installment_{i}")))?;
        let blockage = ctx.field(&format!("blockage_{i}"));
        let blockage_day = if blockage.is_empty() {
            None
        } else {
            Some(
                blockage
                    .parse::<i64>()
                    .ok()
                    .filter(|d| (0..=365).contains(d))
                    .ok_or_else(|| invalid(format!("blockage_{i}")))?,
            )
        };
        let brand = Some(ctx.field(&format!("brand_{i}")).to_owned()).filter(|b| !b.is_empty());
        let debit = percent(&ctx, &format!("debit_{i}")).map_err(invalid)?;
        rows.push(CommissionDoc {
            status: "ACTIVE".into(),
            installment,
            blockage_day,
            card_brand_name: brand,
            bank_on_us_credit_card_commission_rate: percent(&ctx, &format!("onus_{i}"))
                .map_err(invalid)?,
            bank_not_on_us_credit_card_commission_rate: percent(&ctx, &format!("notonus_{i}"))
                .map_err(invalid)?,
            bank_on_us_debit_card_commission_rate: debit.clone(),
            bank_not_on_us_debit_card_commission_rate: debit,
            bank_foreign_card_commission_rate: percent(&ctx, &format!("foreign_{i}"))
                .map_err(invalid)?,
            ..CommissionDoc::default()
        });
    }
    state
        .app
        .engine
        .set_pos_commissions(ctx.merchant_id(), pos.id, rows.clone())
        .await
        .map_err(|e| ctx.fail(e))?;
    audit(
        &state,
        &ctx,
        "pos.commissions",
        pos.id,
        &format!("{} rows", rows.len()),
    )
    .await;
    Ok(ui::see_other(&format!("/panel/poses/{}", pos.id)))
}

pub async fn edit_form(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    ctx.require_configure()?;
    let pos = load(&state, &ctx, &id).await?;
    let Some(integrator) =
        PosIntegrator::parse(&pos.pos_integrator).filter(|i| i.family().is_some())
    else {
        return Err(ctx.not_found());
    };
    Ok(pos_form(
        &state,
        &ctx,
        integrator,
        Some(&pos),
        None,
        StatusCode::OK,
    ))
}

/// Saves an edited POS: what is typed replaces what is saved; an empty secret keeps the
/// saved one.
pub async fn update(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    ctx.require_configure()?;
    let pos = load(&state, &ctx, &id).await?;
    let Some(integrator) =
        PosIntegrator::parse(&pos.pos_integrator).filter(|i| i.family().is_some())
    else {
        return Err(ctx.not_found());
    };
    let family = integrator.family().unwrap_or(ConnectorFamily::Nestpay);
    let fields = credential_fields(family);
    let asks = |name: &str| fields.iter().any(|f| f.name == name);
    let text = |name: &str| Some(ctx.field(name).to_owned()).filter(|v| !v.is_empty());
    let kept = |name: &str| {
        if asks(name) {
            Some(ctx.field(name).to_owned())
        } else {
            None
        }
    };
    let mut hostname = Some(ctx.field("hostname").to_owned());
    if state.sandbox && ctx.field("useSimulator") == "yes" {
        hostname = Some(format!(
            "{}/sim/{}",
            state.app.engine.config().public_url.trim_end_matches('/'),
            family.as_str()
        ));
    }
    let user = pos.doc.users.first();
    let input = PosInput {
        name: text("name"),
        mode: Some(
            if ctx.field("mode") == "PROD" {
                "PROD"
            } else {
                "TEST"
            }
            .into(),
        ),
        // An empty host keeps the saved one (the API treats it so too).
        hostname: hostname.filter(|h| !h.is_empty()),
        path: Some(ctx.field("path").to_owned()),
        threeds_path: Some(ctx.field("threedsPath").to_owned()),
        client_id: kept("clientId"),
        terminal_id: kept("terminalId"),
        posnet_id: kept("posnetId"),
        threeds_key: text("threedsKey"),
        users: Some(vec![PosUserInput {
            id: user.map(|u| u.id),
            pos_username: text("username").or_else(|| user.map(|u| u.pos_username.clone())),
            pos_password: text("password"),
            ..PosUserInput::default()
        }]),
        ..PosInput::default()
    };
    match state
        .app
        .engine
        .update_pos(ctx.merchant_id(), pos.id, input)
        .await
    {
        Ok(_) => {}
        Err(engine::EngineError::Validation { message, .. }) => {
            return Ok(pos_form(
                &state,
                &ctx,
                integrator,
                Some(&pos),
                Some(&message),
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
        Err(e) => return Err(ctx.fail(e)),
    }
    let changed_secrets = ["password", "threedsKey"]
        .iter()
        .filter(|f| text(f).is_some())
        .count();
    audit(
        &state,
        &ctx,
        "pos.update",
        pos.id,
        &format!("{changed_secrets} secret(s) replaced"),
    )
    .await;
    Ok(ui::see_other(&format!("/panel/poses/{}", pos.id)))
}
