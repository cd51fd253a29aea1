//! Wallets: the merchant's own wallet and its members' wallets with their balances, and
//! adjustments (money from the merchant's wallet to a member's, or back) that go through
//! the ledger as remittances, after a confirmation, into the audit log.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::money::Currency;
use engine::wallet::RemittanceInput;
use store::AccountRow;

use crate::payments::parse_amount;
use crate::ui::{self, Nav, csrf_field, escape, money};
use crate::{Ctx, PageResult, PanelState};

const WALLETS_SHOWN: i64 = 200;

/// What a wallet can spend now: posted credits less posted and pending debits.
fn available(a: &AccountRow) -> i64 {
    a.credits_posted - a.debits_posted - a.debits_pending
}

pub async fn list(State(state): State<PanelState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    let l = ctx.lang;
    let engine = &state.app.engine;
    let own = engine
        .merchant_wallet(ctx.merchant_id(), Currency::Try)
        .await
        .map_err(|e| ctx.fail(e))?;
    let wallets = engine
        .store()
        .member_wallets(ctx.merchant_id(), WALLETS_SHOWN)
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    let configure = ctx.session.user.role.can_configure();
    let mut rows = String::new();
    for w in &wallets {
        let member = engine
            .store()
            .member(ctx.merchant_id(), w.member_id)
            .await
            .map_err(|e| ctx.fail(e.into()))?;
        let name = member.and_then(|m| m.name).unwrap_or_default();
        let adjust = if configure {
            format!(
                "<form method=\"post\" action=\"/panel/wallets/{member}/adjust\" class=\"actions\">{csrf}\
<div><label for=\"amount-{member}\">{l_amount}</label><input id=\"amount-{member}\" name=\"amount\" inputmode=\"decimal\" required></div>\
<div><label for=\"direction-{member}\">{l_dir}</label><select id=\"direction-{member}\" name=\"direction\"><option value=\"credit\">{credit}</option><option value=\"debit\">{debit}</option></select></div>\
<div><label for=\"note-{member}\">{l_note}</label><input id=\"note-{member}\" name=\"description\" maxlength=\"200\"></div>\
<button type=\"submit\" class=\"secondary\">{go}</button></form>",
                member = w.member_id,
                csrf = csrf_field(&ctx),
                l_amount = l.pick("Amount", "Tutar"),
                l_dir = l.pick("Direction", "Yön"),
                credit = l.pick("Add to the wallet", "Cüzdana ekle"),
                debit = l.pick("Take from the wallet", "Cüzdandan al"),
                l_note = l.pick("Reason", "Açıklama"),
                go = l.pick("Adjust…", "Düzelt…"),
            )
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "<tr><td>{member} {name}</td><td>{id}</td><td class=\"num\">{balance}</td><td class=\"num\">{limit}</td><td>{adjust}</td></tr>",
            member = w.member_id,
            name = escape(&name),
            id = w.id,
            balance = money(l, available(w), &w.currency),
            limit = money(l, w.negative_amount_limit.unwrap_or(0), &w.currency),
        ));
    }
    let content = format!(
        "<dl class=\"facts\"><dt>{l_own}</dt><dd data-testid=\"merchant-wallet\">{own}</dd></dl>\
<h2>{h_members}</h2><div class=\"table-wrap\"><table data-testid=\"wallets\"><thead><tr><th>{t_member}</th><th>{t_wallet}</th><th class=\"num\">{t_balance}</th><th class=\"num\">{t_limit}</th><th>{t_adjust}</th></tr></thead><tbody>{rows}</tbody></table></div>",
        l_own = l.pick("Merchant wallet", "Üye işyeri cüzdanı"),
        own = money(l, available(&own), &own.currency),
        h_members = l.pick("Member wallets", "Üye cüzdanları"),
        t_member = l.pick("Member", "Üye"),
        t_wallet = l.pick("Wallet", "Cüzdan"),
        t_balance = l.pick("Balance", "Bakiye"),
        t_limit = l.pick("Overdraft limit", "Eksi bakiye limiti"),
        t_adjust = l.pick("Adjust", "Düzeltme"),
    );
    Ok(ui::page(
        &ctx,
        l.pick("Wallets", "Cüzdanlar"),
        Nav::Wallets,
        &content,
    ))
}

pub async fn adjust(
    State(state): State<PanelState>,
    Extension(ctx): Extension<Ctx>,
    Path(member_id): Path<String>,
) -> PageResult {
    let l = ctx.lang;
    ctx.require_configure()?;
    let member_id = ctx.id(&member_id)?;
    let engine = &state.app.engine;
    let wallet = engine
        .member_wallet(ctx.merchant_id(), member_id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let currency: Currency = wallet.currency.parse().unwrap_or(Currency::Try);
    let typed = ctx.field("amount").to_owned();
    let Some(amount) = parse_amount(&typed, currency).filter(|a| !a.is_zero()) else {
        return Err(ui::message_page(
            l,
            StatusCode::BAD_REQUEST,
            l.pick("Invalid amount", "Geçersiz tutar"),
            l.pick(
                "Type an amount above zero, such as 25.00.",
                "Sıfırdan büyük bir tutar yazın, örneğin 25,00.",
            ),
        ));
    };
    let send = match ctx.field("direction") {
        "credit" => true,
        "debit" => false,
        _ => {
            return Err(ui::message_page(
                l,
                StatusCode::BAD_REQUEST,
                l.pick("Pick a direction", "Bir yön seçin"),
                "",
            ));
        }
    };
    let description = ctx.field("description").to_owned();
    if ctx.field("confirm") != "yes" {
        let what = format!(
            "{} {} — {}",
            if send {
                l.pick("Add to the wallet of member", "Üyenin cüzdanına eklenecek:")
            } else {
                l.pick(
                    "Take from the wallet of member",
                    "Üyenin cüzdanından alınacak:",
                )
            },
            member_id,
            money(l, amount.get(), currency.code()),
        );
        return Ok(ui::confirm_page(
            &ctx,
            ui::Confirm {
                what: &what,
                action: &format!("/panel/wallets/{member_id}/adjust"),
                fields: &[
                    ("amount", &typed),
                    ("direction", if send { "credit" } else { "debit" }),
                    ("description", &description),
                ],
                back: "/panel/wallets",
                nav: Nav::Wallets,
            },
        ));
    }
    let result = engine
        .remittance(
            ctx.merchant_id(),
            RemittanceInput {
                member_id,
                amount,
                currency,
                description: Some(description.clone()).filter(|d| !d.is_empty()),
                reason: Some("PANEL_ADJUSTMENT".into()),
                send,
            },
        )
        .await;
    let detail = format!(
        "{} {} {}: {}{}",
        if send { "credit" } else { "debit" },
        amount.get(),
        currency.code(),
        if result.is_ok() { "done" } else { "refused" },
        if description.is_empty() {
            String::new()
        } else {
            format!(" ({description})")
        },
    );
    ctx.audit(
        &state,
        "wallet.adjust",
        Some(&format!("member {member_id}")),
        Some(&detail),
    )
    .await;
    result.map_err(|e| ctx.fail(e))?;
    Ok(ui::see_other("/panel/wallets"))
}
