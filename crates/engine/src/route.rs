//! Smart routing, wired to the stored merchant POSes: builds the `routing` crate's
//! candidates from POS rows (commission rows, health), asks it for a decision, and keeps the
//! merchant's routing settings. The decision is stored with the payment as its explanation.
//!
//! POS health lives here: consecutive technical failures take a POS out of rotation for a
//! while (Craftgate's AUTOPILOT); after the pause one payment may try it again (the probe),
//! and a success puts it back. Health is per node and in memory: a restarted node trusts
//! every POS again, which costs at most one failed attempt per POS.

use std::time::{Duration, Instant};

use domain::bin::{self, BinInfo};
use domain::enums::{OrderingRule, PosIntegrator, PosStatus};
use domain::money::{Currency, MinorUnits};
use routing::{CardFacts, Commission, PaymentFacts, PosCandidate, RoutingOptions, Rule, RuleSet};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use store::rows::PosRow;

use crate::{Engine, EngineError, Result, validation};

/// Consecutive technical failures that take a POS out of rotation.
pub const POS_FAILURES_MAX: u32 = 3;
/// How long an unhealthy POS rests before it is probed again (default of
/// [`crate::EngineConfig::pos_rest`]).
pub const POS_REST: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
pub(crate) struct PosHealth {
    consecutive_failures: u32,
    resting_until: Option<Instant>,
}

/// The merchant's routing settings (an Orkestra extension: `/merchant/v1/routing`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoutingSettings {
    pub ordering_rule: OrderingRule,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        RoutingSettings {
            ordering_rule: OrderingRule::InOrder,
            rules: Vec::new(),
        }
    }
}

/// What a payment asks of routing.
#[derive(Debug, Clone)]
pub struct RouteRequest {
    pub price: MinorUnits,
    pub currency: Currency,
    pub installment: u32,
    pub three_ds: bool,
    pub bin: Option<String>,
    pub ordering_rule: Option<OrderingRule>,
    pub pos_aliases: Vec<String>,
    pub ignore_rules: bool,
}

/// One POS the payment may go to, in order, with what it would cost.
#[derive(Debug, Clone)]
pub struct RoutedPos {
    pub pos: PosRow,
    pub cost_rate: Option<Decimal>,
    pub cost_minor: Option<i64>,
    pub merchant_rate: Decimal,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub candidates: Vec<RoutedPos>,
    /// The decision as JSON (candidates, exclusions and the rules that applied).
    pub explanation: Box<serde_json::value::RawValue>,
}

fn rate(value: &Option<String>) -> Option<Decimal> {
    value.as_deref().and_then(|v| v.parse::<Decimal>().ok())
}

fn commission_of(doc: &store::rows::CommissionDoc) -> Commission {
    Commission {
        installment: u32::try_from(doc.installment).unwrap_or(1),
        card_brand: doc.card_brand_name.clone().filter(|b| !b.is_empty()),
        on_us_credit: rate(&doc.bank_on_us_credit_card_commission_rate),
        not_on_us_credit: rate(&doc.bank_not_on_us_credit_card_commission_rate),
        on_us_debit: rate(&doc.bank_on_us_debit_card_commission_rate),
        not_on_us_debit: rate(&doc.bank_not_on_us_debit_card_commission_rate),
        foreign: rate(&doc.bank_foreign_card_commission_rate),
        merchant_rate: rate(&doc.merchant_commission_rate).unwrap_or(Decimal::ZERO),
        blockage_days: u32::try_from(doc.blockage_day.unwrap_or(0)).unwrap_or(0),
        label: doc.installment_label.clone(),
        active: doc.status == "ACTIVE",
    }
}

pub(crate) fn card_facts<'a>(info: Option<&'a BinInfo>, bin: &'a str) -> CardFacts<'a> {
    CardFacts {
        bank_code: info.and_then(|i| i.bank_code),
        card_type: info.and_then(|i| i.card_type),
        association: info.and_then(|i| i.association),
        brand: info.and_then(|i| i.card_brand),
        // A BIN missing from the tables is most likely a Turkish card.
        domestic: info.is_none_or(bin::is_domestic),
        bin,
    }
}

impl Engine {
    fn pos_resting(&self, pos_id: i64) -> bool {
        self.pos_health
            .lock()
            .ok()
            .and_then(|h| h.get(&pos_id).and_then(|p| p.resting_until))
            .is_some_and(|until| until > Instant::now())
    }

    /// Counts a bank call's health and, when the POS leaves or rejoins the rotation, tells
    /// the merchant with an `AUTOPILOT` webhook (status `FAILURE`: taken out; `SUCCESS`:
    /// back; payload: the POS id).
    pub(crate) async fn note_pos_health(&self, pos: &PosRow, technical_failure: bool) {
        let Some(up) = self.record_pos_health(pos.id, technical_failure) else {
            return;
        };
        let status = if up { "SUCCESS" } else { "FAILURE" };
        if let Err(error) = self
            .store
            .enqueue_event(
                pos.merchant_id,
                "AUTOPILOT",
                status,
                &pos.id.to_string(),
                self.now_ms(),
            )
            .await
        {
            tracing::warn!(pos_id = pos.id, %error, "AUTOPILOT event not queued");
        }
    }

    /// Counts a bank call's health: a technical failure (no answer, unreadable answer,
    /// bank-side error) or a healthy answer (approved or declined by the bank). Returns
    /// `Some(false)` when the POS just left the rotation, `Some(true)` when it just came back.
    pub(crate) fn record_pos_health(&self, pos_id: i64, technical_failure: bool) -> Option<bool> {
        let Ok(mut health) = self.pos_health.lock() else {
            return None;
        };
        let entry = health.entry(pos_id).or_insert_with(PosHealth::default);
        if technical_failure {
            entry.consecutive_failures += 1;
            if entry.consecutive_failures >= POS_FAILURES_MAX {
                entry.resting_until = Some(Instant::now() + self.config.pos_rest);
                entry.consecutive_failures = 0;
                tracing::warn!(
                    pos_id,
                    rest_ms = self.config.pos_rest.as_millis() as u64,
                    "POS taken out of rotation after repeated technical failures"
                );
                return Some(false);
            }
            None
        } else {
            let was_resting = entry.resting_until.is_some();
            *entry = PosHealth::default();
            if was_resting {
                tracing::info!(pos_id, "POS back in rotation");
            }
            was_resting.then_some(true)
        }
    }

    /// Whether a POS is currently in rotation (for `autopilotState`).
    pub fn pos_is_up(&self, pos_id: i64) -> bool {
        !self.pos_resting(pos_id)
    }

    fn candidate_of(&self, row: &PosRow) -> Option<PosCandidate> {
        let integrator = PosIntegrator::parse(&row.pos_integrator)?;
        integrator.family()?;
        let currency: Currency = row.currency.parse().ok()?;
        let mut candidate =
            PosCandidate::new(row.id, row.alias.clone(), integrator.bank().0, currency);
        candidate.status = match PosStatus::parse(&row.status) {
            Some(PosStatus::Active) if self.pos_resting(row.id) => PosStatus::Autopilot,
            Some(PosStatus::Autopilot) if !self.pos_resting(row.id) => PosStatus::Active,
            Some(status) => status,
            None => PosStatus::Passive,
        };
        candidate.order_number = row.order_number;
        let types = &row.doc.enabled_payment_authentication_types;
        candidate.supports_three_ds = types.is_empty() || types.iter().any(|t| t == "THREE_DS");
        candidate.supports_non_three_ds =
            types.is_empty() || types.iter().any(|t| t == "NON_THREE_DS");
        candidate.installments_enabled = row.doc.enable_installment;
        candidate.accepts_foreign_cards = row.doc.enable_foreign_card;
        candidate.payment_without_cvc = row.doc.enable_payment_without_cvc;
        candidate.loyalty_enabled = row.doc.enable_loyalty;
        candidate.supported_associations = row
            .doc
            .supported_card_associations
            .iter()
            .filter_map(|a| domain::enums::CardAssociation::parse(a))
            .collect();
        candidate.commissions = row.commissions.iter().map(commission_of).collect();
        Some(candidate)
    }

    pub async fn routing_settings(&self, merchant_id: i64) -> Result<RoutingSettings> {
        match self.store.routing_settings(merchant_id).await? {
            Some(doc) => serde_json::from_value(doc)
                .map_err(|e| EngineError::Internal(format!("routing settings: {e}"))),
            None => Ok(RoutingSettings::default()),
        }
    }

    /// Saves routing settings after validating every rule against the merchant's POSes.
    pub async fn set_routing_settings(
        &self,
        merchant_id: i64,
        settings: RoutingSettings,
    ) -> Result<RoutingSettings> {
        let rows = self.store.poses(merchant_id).await?;
        let candidates: Vec<PosCandidate> =
            rows.iter().filter_map(|r| self.candidate_of(r)).collect();
        routing::validate_rules(&settings.rules, &candidates)
            .map_err(|e| validation("4601", format!("invalid routing rule: {e}")))?;
        let doc =
            serde_json::to_value(&settings).map_err(|e| EngineError::Internal(e.to_string()))?;
        self.store
            .put_routing_settings(merchant_id, &doc, self.now_ms())
            .await?;
        Ok(settings)
    }

    /// Where a payment should go, best first, and why.
    pub async fn route(&self, merchant_id: i64, request: &RouteRequest) -> Result<Route> {
        let rows = self.store.poses(merchant_id).await?;
        let settings = self.routing_settings(merchant_id).await?;
        let candidates: Vec<PosCandidate> =
            rows.iter().filter_map(|r| self.candidate_of(r)).collect();
        let rules = RuleSet::new(settings.rules.clone());
        let bin = request.bin.clone().unwrap_or_default();
        let info = if bin.is_empty() {
            None
        } else {
            bin::lookup(&bin)
        };
        let facts = PaymentFacts {
            amount: request.price,
            currency: request.currency,
            installment: request.installment,
            three_ds: request.three_ds,
            card: card_facts(info.as_ref(), &bin),
        };
        let options = RoutingOptions {
            ordering_rule: request.ordering_rule.unwrap_or(settings.ordering_rule),
            pos_aliases: &request.pos_aliases,
            ignore_rules: request.ignore_rules,
            split_seed: rand::random(),
        };
        let decision = routing::decide(&candidates, &rules, &facts, &options);
        let explanation = serde_json::value::to_raw_value(&decision)
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let routed = decision
            .candidates
            .iter()
            .filter_map(|c| {
                rows.iter().find(|r| r.id == c.pos_id).map(|pos| RoutedPos {
                    pos: pos.clone(),
                    cost_rate: c.cost_rate,
                    cost_minor: c.cost_amount.map(MinorUnits::get),
                    merchant_rate: c.merchant_rate,
                })
            })
            .collect();
        Ok(Route {
            candidates: routed,
            explanation,
        })
    }

    /// Craftgate's installment search for a card (or, without a BIN, per card programme).
    pub async fn installment_offer(
        &self,
        merchant_id: i64,
        bin: &str,
        price: MinorUnits,
        currency: Currency,
    ) -> Result<Vec<OfferLine>> {
        let rows = self.store.poses(merchant_id).await?;
        let settings = self.routing_settings(merchant_id).await?;
        let candidates: Vec<PosCandidate> =
            rows.iter().filter_map(|r| self.candidate_of(r)).collect();
        let rules = RuleSet::new(settings.rules.clone());
        let info = bin::lookup(bin);
        let query = routing::OfferQuery {
            price,
            currency,
            card: card_facts(info.as_ref(), bin),
            three_ds: None,
        };
        let options = RoutingOptions {
            ordering_rule: settings.ordering_rule,
            pos_aliases: &[],
            ignore_rules: false,
            split_seed: 0,
        };
        Ok(
            routing::installment_offer(&candidates, &rules, &query, &options)
                .into_iter()
                .map(|o| OfferLine {
                    installment: o.installment,
                    pos_alias: o.pos_alias.to_owned(),
                    bank_rate: o.bank_rate,
                    merchant_rate: o.merchant_rate,
                    installment_price: o.installment_price,
                    total_price: o.total_price,
                    label: o.label.map(str::to_owned),
                    force_3ds: o.force_3ds,
                    cvc_required: o.cvc_required,
                    loyalty_supported: o.loyalty_supported,
                })
                .collect(),
        )
    }
}

/// One line of an installment offer, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferLine {
    pub installment: u32,
    pub pos_alias: String,
    pub bank_rate: Option<Decimal>,
    pub merchant_rate: Decimal,
    pub installment_price: MinorUnits,
    pub total_price: MinorUnits,
    pub label: Option<String>,
    pub force_3ds: bool,
    pub cvc_required: bool,
    pub loyalty_supported: bool,
}

/// What a period's payments cost in commissions, against what they would have cost on the
/// merchant's default POS (the first by `orderNumber`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CostReport {
    pub currency: Currency,
    pub payment_count: i64,
    pub paid_minor: i64,
    pub commission_minor: i64,
    pub default_pos_alias: Option<String>,
    /// Payments the default POS could not have taken are counted at their real cost.
    pub default_pos_commission_minor: i64,
    pub savings_minor: i64,
}

impl Engine {
    /// Commission cost of the successful payments created in `[from_ms, to_ms]`.
    pub async fn cost_report(
        &self,
        merchant_id: i64,
        currency: Currency,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<CostReport> {
        let rows = self.store.poses(merchant_id).await?;
        let candidates: Vec<PosCandidate> =
            rows.iter().filter_map(|r| self.candidate_of(r)).collect();
        let default_pos = rows
            .iter()
            .filter(|r| r.currency == currency.code())
            .min_by_key(|r| (r.order_number, r.id));
        let mut report = CostReport {
            currency,
            payment_count: 0,
            paid_minor: 0,
            commission_minor: 0,
            default_pos_alias: default_pos.map(|p| p.alias.clone()),
            default_pos_commission_minor: 0,
            savings_minor: 0,
        };
        let filter = store::rows::PaymentFilter {
            payment_status: Some("SUCCESS".into()),
            currency: Some(currency.code().into()),
            min_created_at: Some(from_ms),
            max_created_at: Some(to_ms),
            ..Default::default()
        };
        let mut page = 0;
        loop {
            let batch = self
                .store
                .search_payments(merchant_id, &filter, store::rows::Page { page, size: 100 })
                .await?;
            for payment in &batch.items {
                let actual = payment.doc.bank_commission_minor.unwrap_or(0);
                report.payment_count += 1;
                report.paid_minor += payment.paid_price_minor;
                report.commission_minor += actual;
                let on_default = default_pos.and_then(|default| {
                    let bin = payment.bin_number.clone().unwrap_or_default();
                    let info = bin::lookup(&bin);
                    let facts = PaymentFacts {
                        amount: MinorUnits::from_stored(payment.price_minor),
                        currency,
                        installment: u32::try_from(payment.installment).unwrap_or(1),
                        three_ds: payment.doc.is_three_ds,
                        card: card_facts(info.as_ref(), &bin),
                    };
                    let aliases = [default.alias.clone()];
                    let options = RoutingOptions {
                        ordering_rule: OrderingRule::InOrder,
                        pos_aliases: &aliases,
                        ignore_rules: true,
                        split_seed: 0,
                    };
                    let decision =
                        routing::decide(&candidates, &RuleSet::new(Vec::new()), &facts, &options);
                    decision
                        .candidates
                        .first()
                        .and_then(|c| c.cost_amount)
                        .map(MinorUnits::get)
                });
                report.default_pos_commission_minor += on_default.unwrap_or(actual);
            }
            if batch.items.len() < 100 {
                break;
            }
            page += 1;
        }
        report.savings_minor = report.default_pos_commission_minor - report.commission_minor;
        Ok(report)
    }
}
