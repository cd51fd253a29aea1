//! The routing decision: which POSes may take a payment, in which order, and why.
//!
//! [`decide`] runs four steps, each recorded in the [`Decision`]:
//!
//! 1. **Eligibility**, per POS, first failing check wins ([`ExclusionReason`]): status `ACTIVE`
//!    (`PASSIVE`, `DELETED`, `REFUND_ONLY` and `AUTOPILOT` — temporarily unhealthy — are
//!    skipped); the payment's currency; 3DS or non-3DS enabled as the payment needs; the card's
//!    association in `supportedCardAssociations` (empty = all; an unknown association passes);
//!    foreign cards only where enabled. For more than one installment: not a debit or prepaid
//!    card, not a foreign card, installments enabled on the POS, and an active commission row
//!    for that installment count (one for the card's programme, or a generic one). A POS with
//!    no commission rows at all is eligible for every count at an unknown cost (a POS just
//!    created must still take payments); a single payment needs no row either.
//! 2. **Exclusions**: every matched `EXCLUDE` rule removes its POSes. Exclusions are
//!    constraints, so they apply before, and regardless of, any placement.
//! 3. **Placement**. With `routingOptions.posAliases`, only those POSes remain, in that order,
//!    and placement rules are overridden. Otherwise matched placement rules run in rule order:
//!    `PIN` keeps only its POS and ends placement (a pin whose POS is not eligible has no
//!    effect); `SPLIT` draws one of its eligible, not yet placed POSes by weight (weights of
//!    ineligible POSes drop out, the rest keep their shares) and places it; `PREFER` places its
//!    eligible, not yet placed POSes. Each placing rule forms a group behind the groups of
//!    earlier rules; POSes no rule placed come last.
//! 4. **Ordering** within each group by the ordering rule: `LOW_COMMISSION_RATE` by the bank
//!    rate for this card (unknown rates last), `ON_US` the issuer's own bank first and then by
//!    rate, `IN_ORDER` by `orderNumber` only. Ties go to the lower `orderNumber`, then the lower
//!    id, so a decision is a function of its inputs and `split_seed`.
//!
//! The bank rate for a card: the foreign rate for a foreign card; otherwise the on-us or
//! not-on-us rate (issuer code = POS bank code), credit or debit (prepaid is debit; an unknown
//! type is credit), from the card programme's row for the installment count if there is one,
//! else the generic row.

use std::cmp::Ordering;
use std::ops::Deref;

use domain::enums::{OrderingRule, PosStatus};
use domain::money::{Currency, MinorUnits};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

use crate::model::{CardFacts, Commission, INSTALLMENT_MAX, PaymentFacts, PosCandidate};
use crate::pricing::{cost_amount, total_price};
use crate::rules::{Action, MatchFacts, Rule, RuleSet};

/// Craftgate's `routingOptions` plus the seed for weighted splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutingOptions<'r> {
    /// `routingOptions.orderingRule`, else the merchant's default.
    pub ordering_rule: OrderingRule,
    /// `routingOptions.posAliases`: only these POSes, in this order (empty: no restriction).
    /// Aliases the merchant does not have are ignored; the caller refuses them if it wants to.
    pub pos_aliases: &'r [String],
    /// `routingOptions.ignoreAdvancedPosRoutingRules`: skip the merchant's rules entirely.
    pub ignore_rules: bool,
    /// Drives `SPLIT` rules: pass a random number, or a hash of the payment id to make a retry
    /// route the same way. Over many seeds each POS gets its weight's share.
    pub split_seed: u64,
}

impl RoutingOptions<'_> {
    /// No requested aliases, rules applied, seed 0.
    pub fn ordered_by(ordering_rule: OrderingRule) -> RoutingOptions<'static> {
        RoutingOptions {
            ordering_rule,
            pos_aliases: &[],
            ignore_rules: false,
            split_seed: 0,
        }
    }
}

/// The outcome of routing one payment, and its explanation.
///
/// Serialized (camelCase) as the explainability document:
///
/// ```json
/// {
///   "orderingRule": "LOW_COMMISSION_RATE",
///   "currency": "TRY",
///   "installment": 3,
///   "candidates": [
///     { "posId": 2, "alias": "62-garanti-2", "onUs": false, "costRate": "1.79",
///       "costAmountMinor": 183, "merchantRate": "2.5", "totalPriceMinor": 10250,
///       "reasons": [ { "type": "PREFERRED", "ruleId": 7 },
///                    { "type": "ORDERED", "orderingRule": "LOW_COMMISSION_RATE" } ] }
///   ],
///   "excluded": [
///     { "posId": 1, "alias": "46-akbank-1",
///       "reason": { "type": "POS_STATUS", "status": "AUTOPILOT" } }
///   ],
///   "appliedRules": [ { "ruleId": 7, "effect": { "type": "PREFERRED", "count": 1 } } ]
/// }
/// ```
///
/// `candidates` is the order to try; every POS given appears exactly once, either there or in
/// `excluded` (in the merchant's order). Rates are percent, as decimal strings; `*Minor`
/// amounts are in the currency's minor units: `totalPriceMinor` is what the buyer pays through
/// that POS ([`total_price`] of the price and the POS's pass-on rate) and `costAmountMinor` the
/// bank's commission on it. `appliedRules` lists the rules that matched: exclusions first, then
/// placements, each in rule order; rules after a `PIN` that took effect are not listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision<'a> {
    pub ordering_rule: OrderingRule,
    pub currency: Currency,
    pub installment: u32,
    pub candidates: Vec<Candidate<'a>>,
    pub excluded: Vec<Excluded<'a>>,
    pub applied_rules: Vec<RuleTrace>,
}

impl<'a> Decision<'a> {
    /// The POS to try first, if any is eligible.
    pub fn chosen(&self) -> Option<&Candidate<'a>> {
        self.candidates.first()
    }
}

/// One POS that may take the payment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate<'a> {
    pub pos_id: i64,
    pub alias: &'a str,
    /// The card's issuer runs this POS's bank.
    pub on_us: bool,
    /// The bank's commission rate for this card, percent; `None` when no row gives it.
    pub cost_rate: Option<Decimal>,
    #[serde(rename = "costAmountMinor", serialize_with = "minor_opt")]
    pub cost_amount: Option<MinorUnits>,
    /// The pass-on rate of the commission row used (0 without a row).
    pub merchant_rate: Decimal,
    #[serde(rename = "totalPriceMinor", serialize_with = "minor")]
    pub total_price: MinorUnits,
    pub reasons: Reasons,
    /// The commission row that priced this candidate (for its label and blockage days).
    #[serde(skip)]
    pub commission: Option<&'a Commission>,
}

/// Why a candidate stands where it does: its placement (if a request or a rule placed it),
/// then the ordering within its group (unless a request or a pin fixed its place).
/// Serialized as a JSON array; dereferences to a slice. Holds at most two reasons, inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reasons {
    items: [Reason; 2],
    len: u8,
}

impl Reasons {
    fn new(placed: Option<Reason>, ordering_rule: OrderingRule) -> Reasons {
        let ordered = Reason::Ordered { ordering_rule };
        match placed {
            Some(fixed @ (Reason::Requested { .. } | Reason::Pinned { .. })) => Reasons {
                items: [fixed, ordered],
                len: 1,
            },
            Some(group) => Reasons {
                items: [group, ordered],
                len: 2,
            },
            None => Reasons {
                items: [ordered, ordered],
                len: 1,
            },
        }
    }
}

impl Deref for Reasons {
    type Target = [Reason];
    fn deref(&self) -> &[Reason] {
        &self.items[..usize::from(self.len)]
    }
}

impl Serialize for Reasons {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum Reason {
    /// `routingOptions.posAliases[position]`.
    Requested { position: u32 },
    /// A `PIN` rule: the only candidate.
    Pinned { rule_id: i64 },
    /// Drawn by a `SPLIT` rule with `weight` out of the `total_weight` of its eligible POSes.
    Split {
        rule_id: i64,
        weight: u32,
        total_weight: u64,
    },
    /// Placed by a `PREFER` rule.
    Preferred { rule_id: i64 },
    /// Ordered within its group by this rule, then by `orderNumber` and id.
    Ordered { ordering_rule: OrderingRule },
}

/// A POS that will not be tried, and the first reason why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Excluded<'a> {
    pub pos_id: i64,
    pub alias: &'a str,
    pub reason: ExclusionReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum ExclusionReason {
    /// Not `ACTIVE`: `PASSIVE`, `DELETED`, `REFUND_ONLY` (refunds only) or `AUTOPILOT`
    /// (temporarily unhealthy).
    PosStatus {
        status: PosStatus,
    },
    CurrencyMismatch {
        pos_currency: Currency,
    },
    ThreeDsNotSupported,
    NonThreeDsNotSupported,
    /// Neither 3DS nor non-3DS is enabled (installment offers, where either would do).
    NoAuthenticationType,
    AssociationNotSupported,
    ForeignCardNotAccepted,
    InstallmentOnDebitCard,
    InstallmentOnForeignCard,
    InstallmentsNotEnabled,
    /// The POS has commission rows, but no active one for this installment count and card.
    NoCommissionForInstallment,
    /// `routingOptions.posAliases` did not name it.
    NotRequested,
    ExcludedByRule {
        rule_id: i64,
    },
    /// A `PIN` rule chose another POS.
    NotPinned {
        rule_id: i64,
    },
}

/// A rule that matched the payment, and what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleTrace {
    pub rule_id: i64,
    pub effect: RuleEffect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum RuleEffect {
    /// Removed `count` eligible POSes.
    Excluded {
        count: u32,
    },
    Pinned {
        pos_id: i64,
    },
    /// Its POS was not eligible (or already excluded); the rule did nothing.
    PinUnavailable,
    /// Placed `count` POSes.
    Preferred {
        count: u32,
    },
    SplitPicked {
        pos_id: i64,
    },
    /// None of its POSes with a weight was eligible and unplaced.
    SplitUnavailable,
    /// `routingOptions.posAliases` fixed the order instead.
    OverriddenByRequest,
}

/// Routes one payment: which of `poses` may take it, in which order, and why. Pure and
/// deterministic; see the module documentation for the steps.
pub fn decide<'a>(
    poses: &'a [PosCandidate],
    rules: &RuleSet,
    facts: &PaymentFacts<'_>,
    options: &RoutingOptions<'_>,
) -> Decision<'a> {
    let match_facts = MatchFacts {
        amount_minor: facts.amount.get(),
        currency: facts.currency,
        three_ds: Some(facts.three_ds),
        card: facts.card,
    };
    let installment = facts.installment.max(1);
    let prepared = Prepared::new(poses, rules, match_facts, options.ignore_rules);
    let ranked = prepared.rank(installment, options, |_, pos| {
        best_row(pos, facts.card.brand, installment)
    });
    ranked.into_decision(facts.amount, facts.currency, installment, options)
}

/// Eligibility and rule matching that do not depend on the installment count, done once and
/// then ranked for one count (a payment) or for each (an installment offer).
pub(crate) struct Prepared<'a, 'r, 'c> {
    poses: &'a [PosCandidate],
    rules: &'r [Rule],
    facts: MatchFacts<'c>,
    /// Per POS: the first failed check that does not depend on the installment count.
    base: Vec<Option<ExclusionReason>>,
    /// Indices into `rules` of the rules whose conditions other than `INSTALLMENT` hold.
    matched: Vec<u32>,
}

/// One POS while a decision is made.
struct Work<'a> {
    pos: &'a PosCandidate,
    index: u32,
    row: Option<&'a Commission>,
    rate: Option<Decimal>,
    /// `rate` × 10^18 as an integer when that is exact and fits: compares much faster.
    rate_key: Option<i128>,
    on_us: bool,
    tier: u32,
    placed: Option<Reason>,
    removed: Option<ExclusionReason>,
}

impl Work<'_> {
    fn is_live(&self) -> bool {
        self.removed.is_none()
    }

    fn is_free(&self) -> bool {
        self.removed.is_none() && self.placed.is_none()
    }
}

/// POSes sorted into try order: the first `live` are candidates, the rest excluded.
pub(crate) struct Ranked<'a> {
    work: Vec<Work<'a>>,
    live: usize,
    traces: Vec<RuleTrace>,
}

const UNPLACED: u32 = u32::MAX;

impl<'a, 'r, 'c> Prepared<'a, 'r, 'c> {
    pub(crate) fn new(
        poses: &'a [PosCandidate],
        rules: &'r RuleSet,
        facts: MatchFacts<'c>,
        ignore_rules: bool,
    ) -> Self {
        let base = poses.iter().map(|pos| base_check(pos, &facts)).collect();
        let rules = rules.rules();
        let matched = if ignore_rules {
            Vec::new()
        } else {
            (0u32..)
                .zip(rules)
                .filter(|(_, rule)| rule.matches_except_installment(&facts))
                .map(|(i, _)| i)
                .collect()
        };
        Prepared {
            poses,
            rules,
            facts,
            base,
            matched,
        }
    }

    pub(crate) fn card(&self) -> &CardFacts<'c> {
        &self.facts.card
    }

    /// The rules that match for `installment`, in rule order.
    fn matched_rules(&self, installment: u32) -> impl Iterator<Item = &'r Rule> + '_ {
        let rules = self.rules;
        self.matched
            .iter()
            .filter_map(move |i| rules.get(usize::try_from(*i).ok()?))
            .filter(move |rule| rule.matches_installment(installment))
    }

    /// Orders the POSes for `installment`; `row_of(index, pos)` gives each POS's commission
    /// row for it.
    pub(crate) fn rank(
        &self,
        installment: u32,
        options: &RoutingOptions<'_>,
        row_of: impl Fn(usize, &'a PosCandidate) -> Option<&'a Commission>,
    ) -> Ranked<'a> {
        let (mut work, traces) = self.arrange(installment, options, row_of);
        let ordering_rule = options.ordering_rule;
        work.sort_unstable_by(|a, b| compare(a, b, ordering_rule));
        let live = work.iter().take_while(|w| w.is_live()).count();
        Ranked { work, live, traces }
    }

    /// The first candidate [`Prepared::rank`] would give (its POS, row and bank rate), found
    /// with one scan instead of a sort.
    pub(crate) fn first(
        &self,
        installment: u32,
        options: &RoutingOptions<'_>,
        row_of: impl Fn(usize, &'a PosCandidate) -> Option<&'a Commission>,
    ) -> Option<(&'a PosCandidate, Option<&'a Commission>, Option<Decimal>)> {
        let (work, _) = self.arrange(installment, options, row_of);
        let ordering_rule = options.ordering_rule;
        work.iter()
            .filter(|w| w.is_live())
            .min_by(|a, b| compare(a, b, ordering_rule))
            .map(|w| (w.pos, w.row, w.rate))
    }

    /// Eligibility for `installment`, exclusions and placement; not yet in order.
    fn arrange(
        &self,
        installment: u32,
        options: &RoutingOptions<'_>,
        row_of: impl Fn(usize, &'a PosCandidate) -> Option<&'a Commission>,
    ) -> (Vec<Work<'a>>, Vec<RuleTrace>) {
        let card = self.facts.card;
        let mut work: Vec<Work<'a>> = (0u32..)
            .zip(self.poses.iter().zip(&self.base))
            .map(|(index, (pos, base))| {
                let row = usize::try_from(index).ok().and_then(|i| row_of(i, pos));
                let removed = base.or_else(|| installment_check(pos, &card, installment, row));
                let rate = row.and_then(|row| bank_rate(row, pos, &card));
                Work {
                    pos,
                    index,
                    row,
                    rate,
                    rate_key: rate.and_then(fixed_point),
                    on_us: card.on_us(pos),
                    tier: UNPLACED,
                    placed: None,
                    removed,
                }
            })
            .collect();
        let mut traces = Vec::new();

        for rule in self.matched_rules(installment) {
            if let Action::Exclude { aliases } = &rule.action {
                let reason = ExclusionReason::ExcludedByRule { rule_id: rule.id };
                let mut count = 0u32;
                for w in work.iter_mut().filter(|w| w.is_live()) {
                    if aliases.contains(&w.pos.alias) {
                        w.removed = Some(reason);
                        count += 1;
                    }
                }
                traces.push(RuleTrace {
                    rule_id: rule.id,
                    effect: RuleEffect::Excluded { count },
                });
            }
        }

        if !options.pos_aliases.is_empty() {
            for (position, alias) in (0u32..).zip(options.pos_aliases) {
                if let Some(w) = work
                    .iter_mut()
                    .find(|w| w.is_free() && w.pos.alias == *alias)
                {
                    w.tier = position;
                    w.placed = Some(Reason::Requested { position });
                }
            }
            for w in work.iter_mut().filter(|w| w.is_free()) {
                w.removed = Some(ExclusionReason::NotRequested);
            }
            for rule in self.matched_rules(installment) {
                if !matches!(rule.action, Action::Exclude { .. }) {
                    traces.push(RuleTrace {
                        rule_id: rule.id,
                        effect: RuleEffect::OverriddenByRequest,
                    });
                }
            }
        } else {
            self.place(&mut work, &mut traces, installment, options.split_seed);
        }
        (work, traces)
    }

    /// Runs the matched `PIN`, `SPLIT` and `PREFER` rules in rule order.
    fn place(
        &self,
        work: &mut [Work<'a>],
        traces: &mut Vec<RuleTrace>,
        installment: u32,
        split_seed: u64,
    ) {
        let mut next_tier = 0u32;
        for rule in self.matched_rules(installment) {
            let rule_id = rule.id;
            let effect = match &rule.action {
                Action::Exclude { .. } => continue,
                Action::Pin { alias } => {
                    match work
                        .iter()
                        .position(|w| w.is_live() && w.pos.alias == *alias)
                    {
                        Some(pinned) => {
                            for (i, w) in work.iter_mut().enumerate() {
                                if i == pinned {
                                    w.tier = 0;
                                    w.placed = Some(Reason::Pinned { rule_id });
                                } else if w.is_live() {
                                    w.removed = Some(ExclusionReason::NotPinned { rule_id });
                                }
                            }
                            traces.push(RuleTrace {
                                rule_id,
                                effect: RuleEffect::Pinned {
                                    pos_id: work[pinned].pos.id,
                                },
                            });
                            return;
                        }
                        None => RuleEffect::PinUnavailable,
                    }
                }
                Action::Prefer { aliases } => {
                    let mut count = 0u32;
                    for alias in aliases {
                        if let Some(w) = work
                            .iter_mut()
                            .find(|w| w.is_free() && w.pos.alias == *alias)
                        {
                            w.tier = next_tier;
                            w.placed = Some(Reason::Preferred { rule_id });
                            count += 1;
                        }
                    }
                    if count > 0 {
                        next_tier += 1;
                    }
                    RuleEffect::Preferred { count }
                }
                Action::Split { weights } => {
                    let free = |alias: &str| {
                        work.iter()
                            .position(|w| w.is_free() && w.pos.alias == alias)
                    };
                    let total: u64 = weights
                        .iter()
                        .filter(|w| w.weight > 0 && free(&w.alias).is_some())
                        .map(|w| u64::from(w.weight))
                        .sum();
                    let mut target = split_draw(split_seed, rule_id, total);
                    let mut picked = None;
                    for weight in weights.iter().filter(|w| w.weight > 0) {
                        let Some(i) = free(&weight.alias) else {
                            continue;
                        };
                        if target < u64::from(weight.weight) {
                            picked = Some((i, weight.weight));
                            break;
                        }
                        target -= u64::from(weight.weight);
                    }
                    match picked {
                        Some((i, weight)) => {
                            work[i].tier = next_tier;
                            work[i].placed = Some(Reason::Split {
                                rule_id,
                                weight,
                                total_weight: total,
                            });
                            next_tier += 1;
                            RuleEffect::SplitPicked {
                                pos_id: work[i].pos.id,
                            }
                        }
                        None => RuleEffect::SplitUnavailable,
                    }
                }
            };
            traces.push(RuleTrace { rule_id, effect });
        }
    }
}

impl<'a> Ranked<'a> {
    pub(crate) fn into_decision(
        self,
        price: MinorUnits,
        currency: Currency,
        installment: u32,
        options: &RoutingOptions<'_>,
    ) -> Decision<'a> {
        let ordering_rule = options.ordering_rule;
        let (live, removed) = self.work.split_at(self.live);
        let candidates = live
            .iter()
            .map(|w| {
                let merchant_rate = w.row.map_or(Decimal::ZERO, |row| row.merchant_rate);
                let total = total_price(price, merchant_rate, currency);
                Candidate {
                    pos_id: w.pos.id,
                    alias: &w.pos.alias,
                    on_us: w.on_us,
                    cost_rate: w.rate,
                    cost_amount: w.rate.map(|rate| cost_amount(total, rate, currency)),
                    merchant_rate,
                    total_price: total,
                    reasons: Reasons::new(w.placed, ordering_rule),
                    commission: w.row,
                }
            })
            .collect();
        let excluded = removed
            .iter()
            .filter_map(|w| {
                Some(Excluded {
                    pos_id: w.pos.id,
                    alias: &w.pos.alias,
                    reason: w.removed?,
                })
            })
            .collect();
        Decision {
            ordering_rule,
            currency,
            installment,
            candidates,
            excluded,
            applied_rules: self.traces,
        }
    }
}

/// Candidates first (by group, ordering rule, `orderNumber`, id), then the excluded POSes in the
/// merchant's order. Every key ends in the POS's index, so the order is total.
fn compare(a: &Work<'_>, b: &Work<'_>, ordering_rule: OrderingRule) -> Ordering {
    match (a.is_live(), b.is_live()) {
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        (false, false) => return a.index.cmp(&b.index),
        (true, true) => {}
    }
    let by_rule = || match ordering_rule {
        OrderingRule::InOrder => Ordering::Equal,
        OrderingRule::LowCommissionRate => compare_rates(a, b),
        OrderingRule::OnUs => b.on_us.cmp(&a.on_us).then_with(|| compare_rates(a, b)),
    };
    a.tier
        .cmp(&b.tier)
        .then_with(by_rule)
        .then(a.pos.order_number.cmp(&b.pos.order_number))
        .then(a.pos.id.cmp(&b.pos.id))
        .then(a.index.cmp(&b.index))
}

/// Known rates ascending, unknown ones last.
fn compare_rates(a: &Work<'_>, b: &Work<'_>) -> Ordering {
    match (a.rate_key, b.rate_key) {
        (Some(x), Some(y)) => return x.cmp(&y),
        (None, None) if a.rate.is_none() && b.rate.is_none() => return Ordering::Equal,
        _ => {}
    }
    match (a.rate, b.rate) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Decimal places of [`fixed_point`] keys: more than any commission rate has.
const FIXED_POINT_SCALE: u32 = 18;

/// `rate` × 10^18 as an integer, when the rate has at most 18 decimal places and the product
/// fits (every real rate); ordering by it is ordering by the rate.
fn fixed_point(rate: Decimal) -> Option<i128> {
    let shift = FIXED_POINT_SCALE.checked_sub(rate.scale())?;
    rate.mantissa().checked_mul(10i128.checked_pow(shift)?)
}

/// The checks that do not depend on the installment count.
fn base_check(pos: &PosCandidate, facts: &MatchFacts<'_>) -> Option<ExclusionReason> {
    let card = &facts.card;
    if pos.status != PosStatus::Active {
        return Some(ExclusionReason::PosStatus { status: pos.status });
    }
    if pos.currency != facts.currency {
        return Some(ExclusionReason::CurrencyMismatch {
            pos_currency: pos.currency,
        });
    }
    match facts.three_ds {
        Some(true) if !pos.supports_three_ds => return Some(ExclusionReason::ThreeDsNotSupported),
        Some(false) if !pos.supports_non_three_ds => {
            return Some(ExclusionReason::NonThreeDsNotSupported);
        }
        None if !pos.supports_three_ds && !pos.supports_non_three_ds => {
            return Some(ExclusionReason::NoAuthenticationType);
        }
        _ => {}
    }
    let association_refused = card.association.is_some_and(|association| {
        !pos.supported_associations.is_empty() && !pos.supported_associations.contains(&association)
    });
    if association_refused {
        return Some(ExclusionReason::AssociationNotSupported);
    }
    if !card.domestic && !pos.accepts_foreign_cards {
        return Some(ExclusionReason::ForeignCardNotAccepted);
    }
    None
}

/// The checks for `installment`, given the POS's commission row for it.
fn installment_check(
    pos: &PosCandidate,
    card: &CardFacts<'_>,
    installment: u32,
    row: Option<&Commission>,
) -> Option<ExclusionReason> {
    if installment > 1 {
        if card.is_debit_like() {
            return Some(ExclusionReason::InstallmentOnDebitCard);
        }
        if !card.domestic {
            return Some(ExclusionReason::InstallmentOnForeignCard);
        }
        if !pos.installments_enabled {
            return Some(ExclusionReason::InstallmentsNotEnabled);
        }
        if row.is_none() && !pos.commissions.is_empty() {
            return Some(ExclusionReason::NoCommissionForInstallment);
        }
    }
    None
}

/// The active row pricing `installment` for a card of programme `brand`: the programme's own
/// row if there is one, else the generic row; the first such row when several qualify.
pub(crate) fn best_row<'a>(
    pos: &'a PosCandidate,
    brand: Option<&str>,
    installment: u32,
) -> Option<&'a Commission> {
    let mut best = None;
    for row in &pos.commissions {
        if row.installment == installment && row.active && row.applies_to(brand) {
            best = better(best, row);
        }
    }
    best
}

/// Every installment count's row at once (index = count), chosen exactly as [`best_row`] does.
pub(crate) fn rows_by_installment<'a>(
    pos: &'a PosCandidate,
    brand: Option<&str>,
) -> [Option<&'a Commission>; INSTALLMENT_MAX as usize + 1] {
    let mut rows = [None; INSTALLMENT_MAX as usize + 1];
    for row in &pos.commissions {
        let slot = usize::try_from(row.installment)
            .ok()
            .filter(|_| row.active && row.applies_to(brand))
            .and_then(|i| rows.get_mut(i));
        if let Some(slot) = slot {
            *slot = better(*slot, row);
        }
    }
    rows
}

/// A programme row beats a generic one; otherwise the first stays.
fn better<'a>(current: Option<&'a Commission>, row: &'a Commission) -> Option<&'a Commission> {
    match current {
        None => Some(row),
        Some(kept) if kept.card_brand.is_none() && row.card_brand.is_some() => Some(row),
        kept => kept,
    }
}

/// The bank's rate for this card on this POS, from its row.
fn bank_rate(row: &Commission, pos: &PosCandidate, card: &CardFacts<'_>) -> Option<Decimal> {
    if !card.domestic {
        return row.foreign;
    }
    match (card.on_us(pos), card.is_debit_like()) {
        (true, false) => row.on_us_credit,
        (false, false) => row.not_on_us_credit,
        (true, true) => row.on_us_debit,
        (false, true) => row.not_on_us_debit,
    }
}

/// A number in `0..total` drawn from the seed, independently per rule (splitmix64 of the seed
/// and the rule id, scaled by a 128-bit multiply so there is no modulo bias worth naming).
fn split_draw(seed: u64, rule_id: i64, total: u64) -> u64 {
    let mut z =
        seed ^ u64::from_ne_bytes(rule_id.to_ne_bytes()).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let scaled = (u128::from(z) * u128::from(total)) >> 64;
    u64::try_from(scaled).unwrap_or(0)
}

fn minor<S: Serializer>(amount: &MinorUnits, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_i64(amount.get())
}

fn minor_opt<S: Serializer>(amount: &Option<MinorUnits>, serializer: S) -> Result<S::Ok, S::Error> {
    match amount {
        Some(amount) => serializer.serialize_i64(amount.get()),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use domain::enums::{CardAssociation, CardType};

    use super::*;
    use crate::rules::{Condition, SplitWeight};

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// A POS whose rows price installments 1, 2, 3 and 6 at `rate` + 0.5 per extra count.
    fn pos(id: i64, alias: &str, bank_code: u32, rate: &str) -> PosCandidate {
        let mut pos = PosCandidate::new(id, alias, bank_code, Currency::Try);
        for (n, extra) in [(1, "0"), (2, "0.5"), (3, "1"), (6, "2.5")] {
            let mut row = Commission::flat(n, dec(rate) + dec(extra));
            row.on_us_credit = row.on_us_credit.map(|r| r - dec("0.5"));
            row.on_us_debit = row.on_us_debit.map(|r| r - dec("0.7"));
            row.not_on_us_debit = row.not_on_us_debit.map(|r| r - dec("0.2"));
            row.foreign = Some(dec("3.5"));
            row.merchant_rate = if n == 1 { Decimal::ZERO } else { dec("2.5") };
            pos.commissions.push(row);
        }
        pos
    }

    fn three_poses() -> Vec<PosCandidate> {
        vec![
            pos(1, "a", 46, "1.89"),
            pos(2, "b", 62, "1.79"),
            pos(3, "c", 67, "1.99"),
        ]
    }

    fn card() -> CardFacts<'static> {
        CardFacts {
            bank_code: Some(67),
            card_type: Some(CardType::CreditCard),
            association: Some(CardAssociation::MasterCard),
            brand: Some("World"),
            domestic: true,
            bin: "52586400",
        }
    }

    fn facts(installment: u32) -> PaymentFacts<'static> {
        PaymentFacts {
            amount: MinorUnits::from_stored(10_000),
            currency: Currency::Try,
            installment,
            three_ds: false,
            card: card(),
        }
    }

    fn tag<T: Serialize>(value: &T) -> String {
        let json = serde_json::to_value(value).unwrap();
        let mut text = json["type"].as_str().unwrap().to_owned();
        let fields: Vec<String> = json
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| *k != "type")
            .map(|(_, v)| v.to_string().trim_matches('"').to_owned())
            .collect();
        if !fields.is_empty() {
            text.push_str(&format!("({})", fields.join(",")));
        }
        text
    }

    /// `alias@rate` per candidate in order, then `alias=REASON` per excluded POS, then
    /// `rule:EFFECT` per applied rule.
    fn summary(decision: &Decision<'_>) -> String {
        let candidates: Vec<String> = decision
            .candidates
            .iter()
            .map(|c| match c.cost_rate {
                Some(rate) => format!("{}@{rate}", c.alias),
                None => format!("{}@?", c.alias),
            })
            .collect();
        let excluded: Vec<String> = decision
            .excluded
            .iter()
            .map(|e| format!("{}={}", e.alias, tag(&e.reason)))
            .collect();
        let rules: Vec<String> = decision
            .applied_rules
            .iter()
            .map(|t| format!("{}:{}", t.rule_id, tag(&t.effect)))
            .collect();
        format!(
            "{} | {} | {}",
            candidates.join(" "),
            excluded.join(" "),
            rules.join(" ")
        )
        .trim()
        .to_owned()
    }

    fn check(
        poses: &[PosCandidate],
        rules: Vec<Rule>,
        facts: &PaymentFacts<'_>,
        options: &RoutingOptions<'_>,
        expected: &str,
    ) {
        let rules = RuleSet::new(rules);
        let decision = decide(poses, &rules, facts, options);
        assert_eq!(summary(&decision), expected);
    }

    fn low() -> RoutingOptions<'static> {
        RoutingOptions::ordered_by(OrderingRule::LowCommissionRate)
    }

    fn rule(id: i64, conditions: Vec<Condition>, action: Action) -> Rule {
        Rule {
            id,
            name: String::new(),
            priority: 0,
            conditions,
            action,
        }
    }

    fn aliases(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn low_commission_rate_orders_by_the_bank_rate_for_this_card() {
        // The card is Yapı Kredi's (67): "c" is on-us, 1.99 - 0.5.
        check(
            &three_poses(),
            vec![],
            &facts(1),
            &low(),
            "c@1.49 b@1.79 a@1.89 |  |",
        );
    }

    #[test]
    fn on_us_puts_the_issuers_bank_first_then_orders_by_rate() {
        let mut poses = three_poses();
        poses[2].commissions[0].on_us_credit = Some(dec("5"));
        let options = RoutingOptions::ordered_by(OrderingRule::OnUs);
        check(
            &poses,
            vec![],
            &facts(1),
            &options,
            "c@5 b@1.79 a@1.89 |  |",
        );
        check(&poses, vec![], &facts(1), &low(), "b@1.79 a@1.89 c@5 |  |");
    }

    #[test]
    fn in_order_follows_order_number_then_id() {
        let mut poses = three_poses();
        poses[0].order_number = 3;
        poses[1].order_number = 1;
        poses[2].order_number = 1;
        let options = RoutingOptions::ordered_by(OrderingRule::InOrder);
        check(
            &poses,
            vec![],
            &facts(1),
            &options,
            "b@1.79 c@1.49 a@1.89 |  |",
        );
    }

    #[test]
    fn equal_rates_are_broken_by_order_number_then_id() {
        let poses = vec![
            pos(9, "x", 46, "1.5"),
            pos(4, "y", 46, "1.5"),
            pos(5, "z", 46, "1.5"),
        ];
        let mut poses = poses;
        poses[0].order_number = 1;
        poses[1].order_number = 2;
        poses[2].order_number = 2;
        check(&poses, vec![], &facts(1), &low(), "x@1.5 y@1.5 z@1.5 |  |");
    }

    #[test]
    fn unknown_rates_sort_after_known_ones() {
        let mut poses = three_poses();
        poses[1].commissions.clear();
        check(&poses, vec![], &facts(1), &low(), "c@1.49 a@1.89 b@? |  |");
    }

    #[test]
    fn only_active_poses_are_eligible() {
        let mut poses = vec![
            pos(1, "active", 46, "2"),
            pos(2, "passive", 46, "1"),
            pos(3, "refund-only", 46, "1"),
            pos(4, "autopilot", 46, "1"),
            pos(5, "deleted", 46, "1"),
        ];
        poses[1].status = PosStatus::Passive;
        poses[2].status = PosStatus::RefundOnly;
        poses[3].status = PosStatus::Autopilot;
        poses[4].status = PosStatus::Deleted;
        check(
            &poses,
            vec![],
            &facts(1),
            &low(),
            "active@2 | passive=POS_STATUS(PASSIVE) refund-only=POS_STATUS(REFUND_ONLY) \
             autopilot=POS_STATUS(AUTOPILOT) deleted=POS_STATUS(DELETED) |",
        );
    }

    #[test]
    fn currency_authentication_association_and_foreign_cards_are_checked() {
        let mut poses = vec![
            pos(1, "ok", 46, "2"),
            pos(2, "usd", 46, "1"),
            pos(3, "3ds-only", 46, "1"),
            pos(4, "visa-only", 46, "1"),
        ];
        poses[1].currency = Currency::Usd;
        poses[2].supports_non_three_ds = false;
        poses[3].supported_associations = vec![CardAssociation::Visa];
        check(
            &poses,
            vec![],
            &facts(1),
            &low(),
            "ok@2 | usd=CURRENCY_MISMATCH(USD) 3ds-only=NON_THREE_DS_NOT_SUPPORTED \
             visa-only=ASSOCIATION_NOT_SUPPORTED |",
        );

        let mut three_ds = facts(1);
        three_ds.three_ds = true;
        poses[0].supports_three_ds = false;
        check(
            &poses,
            vec![],
            &three_ds,
            &low(),
            "3ds-only@1 | ok=THREE_DS_NOT_SUPPORTED usd=CURRENCY_MISMATCH(USD) \
             visa-only=ASSOCIATION_NOT_SUPPORTED |",
        );
    }

    #[test]
    fn foreign_cards_need_a_pos_that_accepts_them_and_pay_the_foreign_rate() {
        let mut poses = three_poses();
        poses[0].accepts_foreign_cards = false;
        let mut foreign = facts(1);
        foreign.card = CardFacts {
            bank_code: None,
            domestic: false,
            brand: None,
            ..card()
        };
        check(
            &poses,
            vec![],
            &foreign,
            &low(),
            "b@3.5 c@3.5 | a=FOREIGN_CARD_NOT_ACCEPTED |",
        );
        check(
            &poses,
            vec![],
            &PaymentFacts {
                installment: 3,
                ..foreign
            },
            &low(),
            "| a=FOREIGN_CARD_NOT_ACCEPTED b=INSTALLMENT_ON_FOREIGN_CARD \
             c=INSTALLMENT_ON_FOREIGN_CARD |",
        );
    }

    #[test]
    fn debit_cards_pay_debit_rates_and_get_no_installments() {
        let mut debit = facts(1);
        debit.card.card_type = Some(CardType::DebitCard);
        // Debit: on-us 1.99 - 0.7, not-on-us rate - 0.2.
        check(
            &three_poses(),
            vec![],
            &debit,
            &low(),
            "c@1.29 b@1.59 a@1.69 |  |",
        );
        debit.installment = 2;
        check(
            &three_poses(),
            vec![],
            &debit,
            &low(),
            "| a=INSTALLMENT_ON_DEBIT_CARD b=INSTALLMENT_ON_DEBIT_CARD \
             c=INSTALLMENT_ON_DEBIT_CARD |",
        );
    }

    #[test]
    fn installments_need_the_pos_to_allow_them_and_a_row_for_the_count() {
        let mut poses = three_poses();
        poses[0].installments_enabled = false;
        poses[1].commissions[2].active = false; // b's 3-installment row
        poses[2].commissions.clear(); // c: no rows at all, allowed at unknown cost
        check(
            &poses,
            vec![],
            &facts(3),
            &low(),
            "c@? | a=INSTALLMENTS_NOT_ENABLED b=NO_COMMISSION_FOR_INSTALLMENT |",
        );
        check(
            &poses,
            vec![],
            &facts(12),
            &low(),
            "c@? | a=INSTALLMENTS_NOT_ENABLED b=NO_COMMISSION_FOR_INSTALLMENT |",
        );
        check(
            &poses,
            vec![],
            &facts(2),
            &low(),
            "b@2.29 c@? | a=INSTALLMENTS_NOT_ENABLED |",
        );
    }

    #[test]
    fn a_programme_row_beats_the_generic_row() {
        let mut poses = three_poses();
        let mut world = Commission::flat(3, dec("0.99"));
        world.card_brand = Some("WORLD".into());
        poses[0].commissions.push(world.clone());
        let mut bonus = Commission::flat(3, dec("0.5"));
        bonus.card_brand = Some("Bonus".into());
        poses[1].commissions.push(bonus);
        check(
            &poses,
            vec![],
            &facts(3),
            &low(),
            "a@0.99 c@2.49 b@2.79 |  |",
        );
        // A programme row for another count does not price this one.
        check(
            &poses,
            vec![],
            &facts(2),
            &low(),
            "c@1.99 b@2.29 a@2.39 |  |",
        );
    }

    #[test]
    fn cost_and_total_use_the_rows_rates_rounded_half_up() {
        let poses = three_poses();
        let rules = RuleSet::default();
        let decision = decide(&poses, &rules, &facts(3), &low());
        let first = decision.chosen().unwrap();
        assert_eq!(first.alias, "c");
        assert_eq!(first.merchant_rate, dec("2.5"));
        assert_eq!(first.total_price.get(), 10_250);
        // 102.50 × 2.49 % = 2.55225 → 2.55
        assert_eq!(first.cost_amount.unwrap().get(), 255);
        assert_eq!(
            first.total_price,
            total_price(facts(3).amount, dec("2.5"), Currency::Try)
        );
    }

    #[test]
    fn requested_aliases_restrict_and_order_the_candidates() {
        let poses = three_poses();
        let requested = aliases(&["a", "nope", "b", "a"]);
        let options = RoutingOptions {
            pos_aliases: &requested,
            ..low()
        };
        check(
            &poses,
            vec![],
            &facts(1),
            &options,
            "a@1.89 b@1.79 | c=NOT_REQUESTED |",
        );
        let no_rules = RuleSet::default();
        let decision = decide(&poses, &no_rules, &facts(1), &options);
        assert_eq!(
            decision.candidates[1].reasons.to_vec(),
            [Reason::Requested { position: 2 }]
        );
    }

    #[test]
    fn requested_aliases_override_placement_rules_but_not_exclusions() {
        let poses = three_poses();
        let requested = aliases(&["a", "b"]);
        let options = RoutingOptions {
            pos_aliases: &requested,
            ..low()
        };
        let rules = vec![
            rule(1, vec![], Action::Pin { alias: "c".into() }),
            rule(
                2,
                vec![],
                Action::Exclude {
                    aliases: aliases(&["a"]),
                },
            ),
        ];
        check(
            &poses,
            rules.clone(),
            &facts(1),
            &options,
            "b@1.79 | a=EXCLUDED_BY_RULE(2) c=NOT_REQUESTED | 2:EXCLUDED(1) 1:OVERRIDDEN_BY_REQUEST",
        );
        let ignoring = RoutingOptions {
            ignore_rules: true,
            ..options
        };
        check(
            &poses,
            rules,
            &facts(1),
            &ignoring,
            "a@1.89 b@1.79 | c=NOT_REQUESTED |",
        );
    }

    #[test]
    fn pin_keeps_only_its_pos_and_skips_an_ineligible_one() {
        let mut poses = three_poses();
        poses[2].status = PosStatus::Autopilot;
        let rules = vec![
            rule(1, vec![], Action::Pin { alias: "c".into() }),
            rule(2, vec![], Action::Pin { alias: "a".into() }),
            rule(3, vec![], Action::Pin { alias: "b".into() }),
        ];
        check(
            &poses,
            rules,
            &facts(1),
            &low(),
            "a@1.89 | b=NOT_PINNED(2) c=POS_STATUS(AUTOPILOT) | 1:PIN_UNAVAILABLE 2:PINNED(1)",
        );
    }

    #[test]
    fn exclusions_apply_whatever_their_priority() {
        let mut pin = rule(1, vec![], Action::Pin { alias: "b".into() });
        pin.priority = 0;
        let mut exclude = rule(
            2,
            vec![],
            Action::Exclude {
                aliases: aliases(&["b"]),
            },
        );
        exclude.priority = 5;
        check(
            &three_poses(),
            vec![pin, exclude],
            &facts(1),
            &low(),
            "c@1.49 a@1.89 | b=EXCLUDED_BY_RULE(2) | 2:EXCLUDED(1) 1:PIN_UNAVAILABLE",
        );
    }

    #[test]
    fn prefer_moves_its_poses_ahead_in_rule_order() {
        let poses = vec![
            pos(1, "a", 46, "1.89"),
            pos(2, "b", 62, "1.79"),
            pos(3, "c", 67, "1.99"),
            pos(4, "d", 10, "1.10"),
        ];
        let mut second = rule(
            1,
            vec![],
            Action::Prefer {
                aliases: aliases(&["a", "b"]),
            },
        );
        second.priority = 2;
        let first = rule(
            2,
            vec![],
            Action::Prefer {
                aliases: aliases(&["a"]),
            },
        );
        // Rule 2 runs first (priority 0) and places "a"; rule 1 then places only "b", which
        // forms the second group; the unplaced rest follows by rate.
        check(
            &poses,
            vec![second, first],
            &facts(1),
            &low(),
            "a@1.89 b@1.79 d@1.10 c@1.49 |  | 2:PREFERRED(1) 1:PREFERRED(1)",
        );
        let both = rule(
            3,
            vec![],
            Action::Prefer {
                aliases: aliases(&["c", "a"]),
            },
        );
        check(
            &poses,
            vec![both],
            &facts(1),
            &low(),
            "c@1.49 a@1.89 d@1.10 b@1.79 |  | 3:PREFERRED(2)",
        );
    }

    #[test]
    fn rules_match_on_their_conditions_only() {
        let rules = vec![
            rule(
                1,
                vec![Condition::CardAssociation {
                    values: vec![CardAssociation::Visa],
                }],
                Action::Pin { alias: "a".into() },
            ),
            rule(
                2,
                vec![Condition::Installment { values: vec![2, 3] }],
                Action::Exclude {
                    aliases: aliases(&["c"]),
                },
            ),
            rule(
                3,
                vec![Condition::AmountRange {
                    currency: Currency::Try,
                    min: Some(5_000),
                    max: Some(10_000),
                }],
                Action::Prefer {
                    aliases: aliases(&["a"]),
                },
            ),
        ];
        check(
            &three_poses(),
            rules.clone(),
            &facts(1),
            &low(),
            "a@1.89 c@1.49 b@1.79 |  | 3:PREFERRED(1)",
        );
        check(
            &three_poses(),
            rules,
            &facts(3),
            &low(),
            "a@2.89 b@2.79 | c=EXCLUDED_BY_RULE(2) | 2:EXCLUDED(1) 3:PREFERRED(1)",
        );
    }

    #[test]
    fn split_picks_by_weight_among_eligible_poses_and_is_deterministic() {
        let mut poses = three_poses();
        let split = rule(
            4,
            vec![],
            Action::Split {
                weights: vec![
                    SplitWeight {
                        alias: "a".into(),
                        weight: 1,
                    },
                    SplitWeight {
                        alias: "b".into(),
                        weight: 1,
                    },
                    SplitWeight {
                        alias: "c".into(),
                        weight: 0,
                    },
                ],
            },
        );
        let rules = RuleSet::new(vec![split]);
        let mut firsts = std::collections::BTreeSet::new();
        for seed in 0..64 {
            let options = RoutingOptions {
                split_seed: seed,
                ..low()
            };
            let decision = decide(&poses, &rules, &facts(1), &options);
            let again = decide(&poses, &rules, &facts(1), &options);
            assert_eq!(decision, again);
            let first = decision.chosen().unwrap();
            assert!(matches!(
                first.reasons[0],
                Reason::Split {
                    rule_id: 4,
                    weight: 1,
                    total_weight: 2
                }
            ));
            firsts.insert(first.alias);
            assert_eq!(decision.candidates.len(), 3);
        }
        assert_eq!(firsts.into_iter().collect::<Vec<_>>(), ["a", "b"]);

        // With "a" down, "b" takes the whole share.
        poses[0].status = PosStatus::Autopilot;
        for seed in 0..16 {
            let options = RoutingOptions {
                split_seed: seed,
                ..low()
            };
            let decision = decide(&poses, &rules, &facts(1), &options);
            assert_eq!(decision.chosen().unwrap().alias, "b");
        }

        poses[1].status = PosStatus::Passive;
        check(
            &poses,
            rules.rules().to_vec(),
            &facts(1),
            &low(),
            "c@1.49 | a=POS_STATUS(AUTOPILOT) b=POS_STATUS(PASSIVE) | 4:SPLIT_UNAVAILABLE",
        );
    }

    #[test]
    fn ignore_rules_skips_every_rule() {
        let rules = vec![rule(1, vec![], Action::Pin { alias: "a".into() })];
        let options = RoutingOptions {
            ignore_rules: true,
            ..low()
        };
        check(
            &three_poses(),
            rules,
            &facts(1),
            &options,
            "c@1.49 b@1.79 a@1.89 |  |",
        );
    }

    #[test]
    fn an_installment_count_of_zero_is_read_as_one() {
        check(
            &three_poses(),
            vec![],
            &facts(0),
            &low(),
            "c@1.49 b@1.79 a@1.89 |  |",
        );
    }

    #[test]
    fn rates_of_any_scale_or_size_compare_exactly() {
        let rates = [
            "79228162514264337593543950335",
            "1.50000000000000000001",
            "1.5",
            "1.49",
        ];
        let poses: Vec<PosCandidate> = (0i64..)
            .zip(rates)
            .map(|(i, rate)| {
                let mut pos = PosCandidate::new(i, rate, 46, Currency::Try);
                pos.commissions.push(Commission::flat(1, dec(rate)));
                pos
            })
            .collect();
        assert_eq!(fixed_point(dec("1.5")), Some(1_500_000_000_000_000_000));
        assert_eq!(fixed_point(dec("1.50000000000000000001")), None);
        assert_eq!(fixed_point(Decimal::MAX), None);
        check(
            &poses,
            vec![],
            &facts(1),
            &low(),
            "1.49@1.49 1.5@1.5 1.50000000000000000001@1.50000000000000000001 \
             79228162514264337593543950335@79228162514264337593543950335 |  |",
        );
    }

    #[test]
    fn split_draws_cover_the_range_without_bias() {
        let mut counts = [0u32; 3];
        for seed in 0..30_000u64 {
            let draw = split_draw(seed, 7, 3);
            counts[usize::try_from(draw).unwrap()] += 1;
        }
        for count in counts {
            assert!((9_500..=10_500).contains(&count), "{counts:?}");
        }
        assert_eq!(split_draw(5, 1, 0), 0);
    }
}
