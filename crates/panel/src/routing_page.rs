//! Routing: the default ordering rule, the advanced rules (JSON, validated against the
//! merchant's POSes before saving), and a dry run that says where a payment would go and why.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use domain::enums::OrderingRule;
use domain::money::Currency;
use engine::route::{RouteRequest, RoutingSettings};

use crate::payments::{parse_amount, routing_lines};
use crate::ui::{self, Lang, Nav, csrf_field, escape};
use crate::{Ctx, PageResult, PanelState};

/// What the page shows under its forms: a saved notice, an error, or a dry run's answer.
enum Outcome {
    None,
    Error(String),
    DryRun(String),
}

fn rule_label(l: Lang, rule: OrderingRule) -> &'static str {
    match rule {
        OrderingRule::OnUs => l.pick(
            "On-us first (the card's own bank)",
            "Önce kartın kendi bankası (on-us)",
        ),
        OrderingRule::LowCommissionRate => {
            l.pick("Lowest commission first", "Önce en düşük komisyon")
        }
        OrderingRule::InOrder => l.pick("In the POS order", "POS sırasına göre"),
    }
}

async fn render(
    state: &PanelState,
    ctx: &Ctx,
    rules_text: Option<&str>,
    outcome: Outcome,
    status: StatusCode,
) -> PageResult {
    let l = ctx.lang;
    let settings = state
        .app
        .engine
        .routing_settings(ctx.merchant_id())
        .await
        .map_err(|e| ctx.fail(e))?;
    let rules_json = match rules_text {
        Some(text) => text.to_owned(),
        None => serde_json::to_string_pretty(&settings.rules).unwrap_or_else(|_| "[]".into()),
    };
    let options: String = OrderingRule::ALL
        .iter()
        .map(|r| {
            let selected = if *r == settings.ordering_rule {
                " selected"
            } else {
                ""
            };
            format!(
                "<option value=\"{}\"{selected}>{}</option>",
                r.as_str(),
                rule_label(l, *r)
            )
        })
        .collect();
    let disabled = if ctx.session.user.role.can_configure() {
        ""
    } else {
        " disabled"
    };
    let outcome = match outcome {
        Outcome::None => String::new(),
        Outcome::Error(e) => format!("<p class=\"notice bad\" role=\"alert\">{}</p>", escape(&e)),
        Outcome::DryRun(html) => html,
    };
    let f = |name: &str, default: &str| {
        let v = ctx.field(name);
        escape(if v.is_empty() { default } else { v })
    };
    let content = format!(
        "{outcome}<h2>{h_rules}</h2><form method=\"post\" action=\"/panel/routing\">{csrf}<div class=\"fields\">\
<div><label for=\"orderingRule\">{l_rule}</label><select id=\"orderingRule\" name=\"orderingRule\"{disabled}>{options}</select></div></div>\
<p><label for=\"rules\">{l_adv}</label><textarea id=\"rules\" name=\"rules\" rows=\"10\" spellcheck=\"false\"{disabled}>{rules}</textarea></p>\
<p class=\"help\">{h_adv}</p><p><button type=\"submit\"{disabled}>{save}</button></p></form>\
<h2>{h_dry}</h2><form method=\"post\" action=\"/panel/routing/dry-run\" class=\"filters\">{csrf}\
<div><label for=\"bin\">{l_bin}</label><input id=\"bin\" name=\"bin\" inputmode=\"numeric\" maxlength=\"8\" value=\"{bin}\"></div>\
<div><label for=\"amount\">{l_amount} (TRY)</label><input id=\"amount\" name=\"amount\" inputmode=\"decimal\" value=\"{amount}\"></div>\
<div><label for=\"installment\">{l_inst}</label><input id=\"installment\" name=\"installment\" inputmode=\"numeric\" value=\"{inst}\"></div>\
<div><label><input type=\"checkbox\" name=\"threeDs\" value=\"yes\"> 3D Secure</label></div>\
<div><button type=\"submit\">{run}</button></div></form>",
        h_rules = l.pick("Rules", "Kurallar"),
        csrf = csrf_field(ctx),
        l_rule = l.pick("Default order", "Varsayılan sıralama"),
        l_adv = l.pick("Advanced rules (JSON)", "Gelişmiş kurallar (JSON)"),
        rules = escape(&rules_json),
        h_adv = l.pick(
            "Each rule matches cards, amounts or installments and pins, prefers, excludes or splits POSes by alias; see docs/api.md. Rules are checked against your POSes before they are saved.",
            "Her kural kart, tutar veya taksite göre eşleşir ve POS'ları alias ile sabitler, öne alır, dışlar ya da böler; bkz. docs/api.md. Kurallar kaydedilmeden önce POS'larınıza göre doğrulanır.",
        ),
        save = l.pick("Save routing", "Yönlendirmeyi kaydet"),
        h_dry = l.pick("Dry run: where would this payment go?", "Deneme: bu ödeme nereye gider?"),
        l_bin = l.pick("Card BIN", "Kart BIN"),
        bin = f("bin", ""),
        l_amount = l.pick("Amount", "Tutar"),
        amount = f("amount", "100"),
        l_inst = l.pick("Installments", "Taksit"),
        inst = f("installment", "1"),
        run = l.pick("Show the decision", "Kararı göster"),
    );
    let mut response = ui::page(
        ctx,
        l.pick("Routing", "Yönlendirme"),
        Nav::Routing,
        &content,
    );
    *response.status_mut() = status;
    Ok(response)
}

pub async fn page(State(state): State<PanelState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    render(&state, &ctx, None, Outcome::None, StatusCode::OK).await
}

pub async fn save(State(state): State<PanelState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    let l = ctx.lang;
    ctx.require_configure()?;
    let Some(ordering_rule) = OrderingRule::parse(ctx.field("orderingRule")) else {
        return render(
            &state,
            &ctx,
            None,
            Outcome::Error(
                l.pick("Pick an ordering rule.", "Bir sıralama kuralı seçin.")
                    .into(),
            ),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let text = ctx.field("rules");
    let text = if text.is_empty() { "[]" } else { text };
    let rules = match serde_json::from_str(text) {
        Ok(rules) => rules,
        Err(e) => {
            let message = format!(
                "{} {e}",
                l.pick(
                    "The rules are not valid JSON:",
                    "Kurallar geçerli JSON değil:"
                )
            );
            return render(
                &state,
                &ctx,
                Some(text),
                Outcome::Error(message),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    match state
        .app
        .engine
        .set_routing_settings(
            ctx.merchant_id(),
            RoutingSettings {
                ordering_rule,
                rules,
            },
        )
        .await
    {
        Ok(_) => {}
        Err(engine::EngineError::Validation { message, .. }) => {
            return render(
                &state,
                &ctx,
                Some(text),
                Outcome::Error(message),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(e) => return Err(ctx.fail(e)),
    }
    ctx.audit(&state, "routing.save", None, Some(ordering_rule.as_str()))
        .await;
    Ok(ui::see_other("/panel/routing"))
}

pub async fn dry_run(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
) -> PageResult {
    let l = ctx.lang;
    let bad = |text: &str| Outcome::Error(text.to_owned());
    let Some(price) = parse_amount(ctx.field("amount"), Currency::Try).filter(|p| !p.is_zero())
    else {
        return render(
            &state,
            &ctx,
            None,
            bad(l.pick(
                "Type an amount above zero.",
                "Sıfırdan büyük bir tutar yazın.",
            )),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let installment = match ctx.field("installment").parse::<u32>() {
        Ok(n) if (1..=12).contains(&n) => n,
        _ => {
            return render(
                &state,
                &ctx,
                None,
                bad(l.pick(
                    "Installments must be 1 to 12.",
                    "Taksit 1 ile 12 arasında olmalı.",
                )),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let bin = Some(ctx.field("bin").to_owned()).filter(|b| !b.is_empty());
    if bin
        .as_ref()
        .is_some_and(|b| !(6..=8).contains(&b.len()) || !b.bytes().all(|c| c.is_ascii_digit()))
    {
        return render(
            &state,
            &ctx,
            None,
            bad(l.pick("A BIN is 6 to 8 digits.", "BIN 6 ile 8 hane arasıdır.")),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let route = state
        .app
        .engine
        .route(
            ctx.merchant_id(),
            &RouteRequest {
                price,
                currency: Currency::Try,
                installment,
                three_ds: ctx.field("threeDs") == "yes",
                bin,
                ordering_rule: None,
                pos_aliases: Vec::new(),
                ignore_rules: false,
            },
        )
        .await;
    let outcome = match route {
        Ok(route) => {
            let chosen = route
                .candidates
                .first()
                .map(|c| {
                    format!(
                        "<strong data-testid=\"chosen-pos\">{}</strong> (<code>{}</code>)",
                        escape(&c.pos.name),
                        escape(&c.pos.alias)
                    )
                })
                .unwrap_or_else(|| {
                    l.pick("no POS can take it", "hiçbir POS alamıyor")
                        .to_owned()
                });
            Outcome::DryRun(format!(
                "<section class=\"notice ok\" role=\"status\"><p>{} {chosen}</p><ul>{}</ul></section>",
                l.pick("This payment would go to", "Bu ödeme şuraya gider:"),
                routing_lines(l, &route.explanation)
            ))
        }
        Err(
            engine::EngineError::Validation { message, .. }
            | engine::EngineError::Refused { message, .. },
        ) => Outcome::Error(message),
        Err(e) => return Err(ctx.fail(e)),
    };
    render(&state, &ctx, None, outcome, StatusCode::OK).await
}
