//! Merchant routing rules: conditions on the card and the payment, and an action on POSes.
//!
//! A [`Rule`] matches when all of its conditions hold (no conditions: every payment). Rules are
//! saved as JSON and checked by [`validate_rules`] before they are saved; a [`RuleSet`] holds them
//! in evaluation order (`priority` ascending, then `id`). How matched rules act on the candidate
//! list is described in [`crate::decide`].
//!
//! The JSON shape (camelCase fields, `SCREAMING_SNAKE_CASE` tags):
//!
//! ```json
//! {
//!   "id": 7,
//!   "name": "Big Bonus installments to Garanti",
//!   "priority": 10,
//!   "conditions": [
//!     { "type": "CARD_BRAND", "values": ["Bonus"] },
//!     { "type": "INSTALLMENT", "values": [3, 6, 9] },
//!     { "type": "AMOUNT_RANGE", "currency": "TRY", "min": 100000, "max": null }
//!   ],
//!   "action": { "type": "PREFER", "aliases": ["62-garanti-1"] }
//! }
//! ```
//!
//! Conditions: `CARD_ASSOCIATION`, `CARD_TYPE`, `CARD_BRAND` (case-insensitive), `ISSUER_BANK`
//! (EFT codes), `CURRENCY`, `INSTALLMENT` (each `{"values": [...]}`, any value matches);
//! `BIN_RANGE` (`{"from": "454671", "to": "454679"}`, digit strings of one length, inclusive,
//! compared with the card's first digits); `DOMESTIC` and `THREE_DS` (`{"value": bool}`);
//! `AMOUNT_RANGE` (`{"currency", "min", "max"}`, inclusive bounds in the currency's minor
//! units, either may be `null`; matches only payments in that currency). Actions: `PREFER`,
//! `EXCLUDE` (`{"aliases": [...]}`), `PIN` (`{"alias": "..."}`), `SPLIT`
//! (`{"weights": [{"alias": "...", "weight": 70}, ...]}`).

use domain::enums::{CardAssociation, CardType};
use domain::money::Currency;
use serde::{Deserialize, Serialize};

use crate::model::{CardFacts, INSTALLMENT_MAX, PosCandidate};

/// A merchant's routing rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    /// Unique within the merchant; decisions name rules by id.
    pub id: i64,
    pub name: String,
    /// Lower runs first; equal priorities run by id.
    pub priority: i32,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    pub action: Action,
}

/// One condition on the payment. A condition on a fact the BIN table does not know (an unknown
/// association, type, programme or issuer) does not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Condition {
    CardAssociation {
        values: Vec<CardAssociation>,
    },
    CardType {
        values: Vec<CardType>,
    },
    /// Turkish card programmes ("Bonus", "World"), compared case-insensitively.
    CardBrand {
        values: Vec<String>,
    },
    /// Issuer EFT/BKM codes.
    IssuerBank {
        values: Vec<u32>,
    },
    /// The card's first `from.len()` digits lie in `from..=to`.
    BinRange {
        from: String,
        to: String,
    },
    Domestic {
        value: bool,
    },
    /// Inclusive bounds in `currency`'s minor units; a payment in another currency does not
    /// match.
    AmountRange {
        currency: Currency,
        min: Option<i64>,
        max: Option<i64>,
    },
    Currency {
        values: Vec<Currency>,
    },
    Installment {
        values: Vec<u32>,
    },
    /// In installment offers, where authentication is not chosen yet, this never matches.
    ThreeDs {
        value: bool,
    },
}

/// What a matched rule does to the candidate list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Action {
    /// Move these POSes ahead of every POS not placed by an earlier rule.
    Prefer { aliases: Vec<String> },
    /// Remove these POSes.
    Exclude { aliases: Vec<String> },
    /// Use only this POS (when it is eligible; otherwise the rule has no effect).
    Pin { alias: String },
    /// Pick one of these POSes at random with these weights and put it first.
    Split { weights: Vec<SplitWeight> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SplitWeight {
    pub alias: String,
    pub weight: u32,
}

/// Why a rule was refused when saved. Every variant is the merchant's mistake (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("rule id {rule_id} is used more than once")]
    DuplicateId { rule_id: i64 },
    #[error("rule {rule_id} names POS alias {alias:?}, which the merchant does not have")]
    UnknownPos { rule_id: i64, alias: String },
    #[error("rule {rule_id}: {condition} {problem}")]
    InvalidCondition {
        rule_id: i64,
        condition: &'static str,
        problem: &'static str,
    },
    #[error("rule {rule_id} can never match: {problem}")]
    NeverMatches { rule_id: i64, problem: &'static str },
    #[error("rule {rule_id}: {problem}")]
    InvalidAction { rule_id: i64, problem: &'static str },
}

/// Rules in evaluation order: `priority` ascending, then `id` ascending.
///
/// Built from saved rules without validation (a POS a rule names may have been deleted since;
/// such an alias simply matches nothing). Validate with [`validate_rules`] when saving.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    pub fn new(mut rules: Vec<Rule>) -> RuleSet {
        rules.sort_by_key(|rule| (rule.priority, rule.id));
        RuleSet { rules }
    }

    /// The rules in evaluation order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }
}

/// The payment facts rule conditions read, with `three_ds` unknown in installment offers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MatchFacts<'c> {
    pub amount_minor: i64,
    pub currency: Currency,
    pub three_ds: Option<bool>,
    pub card: CardFacts<'c>,
}

impl Rule {
    /// Every condition other than `INSTALLMENT` holds.
    pub(crate) fn matches_except_installment(&self, facts: &MatchFacts<'_>) -> bool {
        self.conditions.iter().all(|c| c.matches(facts))
    }

    /// Every `INSTALLMENT` condition holds for `installment`.
    pub(crate) fn matches_installment(&self, installment: u32) -> bool {
        self.conditions.iter().all(|c| match c {
            Condition::Installment { values } => values.contains(&installment),
            _ => true,
        })
    }
}

impl Condition {
    /// The condition holds (`INSTALLMENT` is checked separately and counts as holding here).
    fn matches(&self, facts: &MatchFacts<'_>) -> bool {
        let card = &facts.card;
        match self {
            Condition::CardAssociation { values } => {
                card.association.is_some_and(|a| values.contains(&a))
            }
            Condition::CardType { values } => card.card_type.is_some_and(|t| values.contains(&t)),
            Condition::CardBrand { values } => card
                .brand
                .is_some_and(|b| values.iter().any(|v| v.eq_ignore_ascii_case(b))),
            Condition::IssuerBank { values } => card.bank_code.is_some_and(|c| values.contains(&c)),
            Condition::BinRange { from, to } => {
                let prefix = card.bin.as_bytes().get(..from.len());
                prefix.is_some_and(|p| from.as_bytes() <= p && p <= to.as_bytes())
            }
            Condition::Domestic { value } => card.domestic == *value,
            Condition::AmountRange { currency, min, max } => {
                facts.currency == *currency
                    && min.is_none_or(|min| facts.amount_minor >= min)
                    && max.is_none_or(|max| facts.amount_minor <= max)
            }
            Condition::Currency { values } => values.contains(&facts.currency),
            Condition::Installment { .. } => true,
            Condition::ThreeDs { value } => facts.three_ds == Some(*value),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Condition::CardAssociation { .. } => "CARD_ASSOCIATION",
            Condition::CardType { .. } => "CARD_TYPE",
            Condition::CardBrand { .. } => "CARD_BRAND",
            Condition::IssuerBank { .. } => "ISSUER_BANK",
            Condition::BinRange { .. } => "BIN_RANGE",
            Condition::Domestic { .. } => "DOMESTIC",
            Condition::AmountRange { .. } => "AMOUNT_RANGE",
            Condition::Currency { .. } => "CURRENCY",
            Condition::Installment { .. } => "INSTALLMENT",
            Condition::ThreeDs { .. } => "THREE_DS",
        }
    }
}

/// Longest BIN prefix a `BIN_RANGE` may name.
pub const BIN_RANGE_DIGITS_MAX: usize = 8;

/// Checks rules before they are saved: unique ids; every POS alias an action names exists in
/// `poses`; every condition well-formed (non-empty value sets, installments 1..=12, BIN bounds
/// of one length in order, amount bounds non-negative and in order); no rule whose conditions
/// contradict each other so that it can never match; actions that name at least one POS, each
/// once, and split weights that are not all zero. Returns the first problem found.
///
/// Contradictions found: two conditions of one kind with no common value (also BIN ranges of
/// one length, and amount ranges); `DOMESTIC` or `THREE_DS` both true and false; a `CURRENCY`
/// set without the `AMOUNT_RANGE` currency, or amount ranges in two currencies; `ISSUER_BANK`
/// with `DOMESTIC: false` (issuer codes are Turkish EFT codes, known only for Turkish cards);
/// installments above 1 only, with debit/prepaid cards only or with `DOMESTIC: false` (those
/// cards get no installments).
pub fn validate_rules(rules: &[Rule], poses: &[PosCandidate]) -> Result<(), RuleError> {
    for (i, rule) in rules.iter().enumerate() {
        if rules[..i].iter().any(|earlier| earlier.id == rule.id) {
            return Err(RuleError::DuplicateId { rule_id: rule.id });
        }
        validate_conditions(rule)?;
        validate_action(rule, poses)?;
    }
    Ok(())
}

fn validate_conditions(rule: &Rule) -> Result<(), RuleError> {
    let rule_id = rule.id;
    let invalid = |condition: &Condition, problem| RuleError::InvalidCondition {
        rule_id,
        condition: condition.name(),
        problem,
    };
    let never = |problem| RuleError::NeverMatches { rule_id, problem };

    let mut associations: Option<Vec<CardAssociation>> = None;
    let mut card_types: Option<Vec<CardType>> = None;
    let mut brands: Option<Vec<String>> = None;
    let mut banks: Option<Vec<u32>> = None;
    let mut currencies: Option<Vec<Currency>> = None;
    let mut installments: Option<Vec<u32>> = None;
    let mut domestic: Option<bool> = None;
    let mut three_ds: Option<bool> = None;
    let mut amount: Option<(Currency, i64, i64)> = None;
    let mut bin_ranges: Vec<(&str, &str)> = Vec::new();

    for condition in &rule.conditions {
        let empty = match condition {
            Condition::CardAssociation { values } => values.is_empty(),
            Condition::CardType { values } => values.is_empty(),
            Condition::CardBrand { values } => values.is_empty(),
            Condition::IssuerBank { values } => values.is_empty(),
            Condition::Currency { values } => values.is_empty(),
            Condition::Installment { values } => values.is_empty(),
            _ => false,
        };
        if empty {
            return Err(invalid(condition, "has no values"));
        }
        match condition {
            Condition::CardAssociation { values } => intersect(&mut associations, values),
            Condition::CardType { values } => intersect(&mut card_types, values),
            Condition::CardBrand { values } => {
                if values.iter().any(|b| b.trim().is_empty()) {
                    return Err(invalid(condition, "has an empty programme name"));
                }
                let folded: Vec<String> = values.iter().map(|b| b.to_ascii_lowercase()).collect();
                intersect(&mut brands, &folded);
            }
            Condition::IssuerBank { values } => intersect(&mut banks, values),
            Condition::Currency { values } => intersect(&mut currencies, values),
            Condition::Installment { values } => {
                if values.iter().any(|n| !(1..=INSTALLMENT_MAX).contains(n)) {
                    return Err(invalid(condition, "values must be 1 to 12"));
                }
                intersect(&mut installments, values);
            }
            Condition::Domestic { value } => {
                if domestic
                    .replace(*value)
                    .is_some_and(|earlier| earlier != *value)
                {
                    return Err(never("DOMESTIC is both true and false"));
                }
            }
            Condition::ThreeDs { value } => {
                if three_ds
                    .replace(*value)
                    .is_some_and(|earlier| earlier != *value)
                {
                    return Err(never("THREE_DS is both true and false"));
                }
            }
            Condition::BinRange { from, to } => {
                let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                if !digits(from) || !digits(to) {
                    return Err(invalid(condition, "bounds must be digits"));
                }
                if from.len() != to.len() || from.len() > BIN_RANGE_DIGITS_MAX {
                    return Err(invalid(condition, "bounds must have one length of 1 to 8"));
                }
                if from > to {
                    return Err(invalid(condition, "from is greater than to"));
                }
                for (other_from, other_to) in &bin_ranges {
                    if other_from.len() == from.len()
                        && (to.as_str() < *other_from || *other_to < from.as_str())
                    {
                        return Err(never("its BIN ranges do not overlap"));
                    }
                }
                bin_ranges.push((from, to));
            }
            Condition::AmountRange { currency, min, max } => {
                if min.is_none() && max.is_none() {
                    return Err(invalid(condition, "needs min or max"));
                }
                if min.is_some_and(|m| m < 0) || max.is_some_and(|m| m < 0) {
                    return Err(invalid(condition, "bounds must not be negative"));
                }
                let lo = min.unwrap_or(0);
                let hi = max.unwrap_or(i64::MAX);
                if lo > hi {
                    return Err(invalid(condition, "min is greater than max"));
                }
                amount = match amount {
                    None => Some((*currency, lo, hi)),
                    Some((c, _, _)) if c != *currency => {
                        return Err(never("its amount ranges are in different currencies"));
                    }
                    Some((c, l, h)) => Some((c, l.max(lo), h.min(hi))),
                };
                if amount.is_some_and(|(_, l, h)| l > h) {
                    return Err(never("its amount ranges do not overlap"));
                }
            }
        }
    }

    if is_empty_set(&associations)
        || is_empty_set(&card_types)
        || is_empty_set(&banks)
        || is_empty_set(&currencies)
        || is_empty_set(&installments)
        || is_empty_set(&brands)
    {
        return Err(never("two conditions of one kind have no value in common"));
    }
    let amount_currency_excluded = amount
        .zip(currencies.as_ref())
        .is_some_and(|((currency, _, _), currencies)| !currencies.contains(&currency));
    if amount_currency_excluded {
        return Err(never(
            "the AMOUNT_RANGE currency is not among its currencies",
        ));
    }
    if banks.is_some() && domestic == Some(false) {
        return Err(never(
            "issuer banks are known only for domestic cards, and it asks for foreign ones",
        ));
    }
    let installments_only = installments
        .as_ref()
        .is_some_and(|values| values.iter().all(|n| *n > 1));
    if installments_only {
        let debit_only = card_types.as_ref().is_some_and(|types| {
            types
                .iter()
                .all(|t| matches!(t, CardType::DebitCard | CardType::PrepaidCard))
        });
        if debit_only {
            return Err(never("debit and prepaid cards get no installments"));
        }
        if domestic == Some(false) {
            return Err(never("foreign cards get no installments"));
        }
    }
    Ok(())
}

fn is_empty_set<T>(set: &Option<Vec<T>>) -> bool {
    set.as_ref().is_some_and(Vec::is_empty)
}

/// Keeps in `acc` the values that are also in `values` (`None` = no condition of this kind yet).
fn intersect<T: PartialEq + Clone>(acc: &mut Option<Vec<T>>, values: &[T]) {
    match acc {
        None => *acc = Some(values.to_vec()),
        Some(kept) => kept.retain(|v| values.contains(v)),
    }
}

fn validate_action(rule: &Rule, poses: &[PosCandidate]) -> Result<(), RuleError> {
    let rule_id = rule.id;
    let problem = |problem| RuleError::InvalidAction { rule_id, problem };
    let aliases: Vec<&str> = match &rule.action {
        Action::Prefer { aliases } | Action::Exclude { aliases } => {
            aliases.iter().map(String::as_str).collect()
        }
        Action::Pin { alias } => vec![alias.as_str()],
        Action::Split { weights } => {
            if weights.iter().all(|w| w.weight == 0) {
                return Err(problem("split weights are all zero"));
            }
            weights.iter().map(|w| w.alias.as_str()).collect()
        }
    };
    if aliases.is_empty() {
        return Err(problem("the action names no POS"));
    }
    for (i, alias) in aliases.iter().enumerate() {
        if aliases[..i].contains(alias) {
            return Err(problem("the action names one POS twice"));
        }
        if !poses.iter().any(|pos| pos.alias == *alias) {
            return Err(RuleError::UnknownPos {
                rule_id,
                alias: (*alias).to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poses() -> Vec<PosCandidate> {
        vec![
            PosCandidate::new(1, "a", 62, Currency::Try),
            PosCandidate::new(2, "b", 67, Currency::Try),
        ]
    }

    fn rule(id: i64, conditions: Vec<Condition>, action: Action) -> Rule {
        Rule {
            id,
            name: format!("rule {id}"),
            priority: 0,
            conditions,
            action,
        }
    }

    fn prefer_a() -> Action {
        Action::Prefer {
            aliases: vec!["a".into()],
        }
    }

    fn check_err(conditions: Vec<Condition>, expected: &str) {
        let err = validate_rules(&[rule(9, conditions, prefer_a())], &poses()).unwrap_err();
        assert_eq!(err.to_string(), expected);
    }

    #[test]
    fn a_well_formed_rule_is_accepted() {
        let rules = [rule(
            1,
            vec![
                Condition::CardBrand {
                    values: vec!["Bonus".into()],
                },
                Condition::CardBrand {
                    values: vec!["BONUS".into(), "World".into()],
                },
                Condition::BinRange {
                    from: "454600".into(),
                    to: "454699".into(),
                },
                Condition::AmountRange {
                    currency: Currency::Try,
                    min: Some(100),
                    max: None,
                },
                Condition::Currency {
                    values: vec![Currency::Try, Currency::Usd],
                },
                Condition::Installment { values: vec![1, 3] },
                Condition::Domestic { value: true },
                Condition::IssuerBank { values: vec![62] },
            ],
            Action::Split {
                weights: vec![
                    SplitWeight {
                        alias: "a".into(),
                        weight: 0,
                    },
                    SplitWeight {
                        alias: "b".into(),
                        weight: 1,
                    },
                ],
            },
        )];
        assert_eq!(validate_rules(&rules, &poses()), Ok(()));
    }

    #[test]
    fn duplicate_rule_ids_are_rejected() {
        let rules = [rule(3, vec![], prefer_a()), rule(3, vec![], prefer_a())];
        assert_eq!(
            validate_rules(&rules, &poses()),
            Err(RuleError::DuplicateId { rule_id: 3 })
        );
    }

    #[test]
    fn a_rule_naming_a_missing_pos_is_rejected() {
        for action in [
            Action::Pin { alias: "zz".into() },
            Action::Exclude {
                aliases: vec!["a".into(), "zz".into()],
            },
            Action::Prefer {
                aliases: vec!["zz".into()],
            },
            Action::Split {
                weights: vec![SplitWeight {
                    alias: "zz".into(),
                    weight: 1,
                }],
            },
        ] {
            assert_eq!(
                validate_rules(&[rule(4, vec![], action)], &poses()),
                Err(RuleError::UnknownPos {
                    rule_id: 4,
                    alias: "zz".into()
                })
            );
        }
    }

    #[test]
    fn bad_actions_are_rejected() {
        let cases = [
            (
                Action::Prefer { aliases: vec![] },
                "rule 5: the action names no POS",
            ),
            (
                Action::Exclude {
                    aliases: vec!["a".into(), "a".into()],
                },
                "rule 5: the action names one POS twice",
            ),
            (
                Action::Split {
                    weights: vec![
                        SplitWeight {
                            alias: "a".into(),
                            weight: 0,
                        },
                        SplitWeight {
                            alias: "b".into(),
                            weight: 0,
                        },
                    ],
                },
                "rule 5: split weights are all zero",
            ),
        ];
        for (action, expected) in cases {
            let err = validate_rules(&[rule(5, vec![], action)], &poses()).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
    }

    #[test]
    fn malformed_conditions_are_rejected() {
        check_err(
            vec![Condition::CardType { values: vec![] }],
            "rule 9: CARD_TYPE has no values",
        );
        check_err(
            vec![Condition::Installment {
                values: vec![2, 13],
            }],
            "rule 9: INSTALLMENT values must be 1 to 12",
        );
        check_err(
            vec![Condition::BinRange {
                from: "4546".into(),
                to: "454699".into(),
            }],
            "rule 9: BIN_RANGE bounds must have one length of 1 to 8",
        );
        check_err(
            vec![Condition::BinRange {
                from: "45a6".into(),
                to: "4599".into(),
            }],
            "rule 9: BIN_RANGE bounds must be digits",
        );
        check_err(
            vec![Condition::BinRange {
                from: "5000".into(),
                to: "4999".into(),
            }],
            "rule 9: BIN_RANGE from is greater than to",
        );
        check_err(
            vec![Condition::AmountRange {
                currency: Currency::Try,
                min: Some(500),
                max: Some(100),
            }],
            "rule 9: AMOUNT_RANGE min is greater than max",
        );
        check_err(
            vec![Condition::AmountRange {
                currency: Currency::Try,
                min: None,
                max: None,
            }],
            "rule 9: AMOUNT_RANGE needs min or max",
        );
        check_err(
            vec![Condition::CardBrand {
                values: vec![" ".into()],
            }],
            "rule 9: CARD_BRAND has an empty programme name",
        );
    }

    #[test]
    fn rules_that_can_never_match_are_rejected() {
        check_err(
            vec![
                Condition::CardAssociation {
                    values: vec![CardAssociation::Visa],
                },
                Condition::CardAssociation {
                    values: vec![CardAssociation::Amex],
                },
            ],
            "rule 9 can never match: two conditions of one kind have no value in common",
        );
        check_err(
            vec![
                Condition::Domestic { value: false },
                Condition::IssuerBank { values: vec![64] },
            ],
            "rule 9 can never match: issuer banks are known only for domestic cards, and it asks for foreign ones",
        );
        check_err(
            vec![
                Condition::ThreeDs { value: true },
                Condition::ThreeDs { value: false },
            ],
            "rule 9 can never match: THREE_DS is both true and false",
        );
        check_err(
            vec![
                Condition::CardType {
                    values: vec![CardType::DebitCard],
                },
                Condition::Installment { values: vec![3, 6] },
            ],
            "rule 9 can never match: debit and prepaid cards get no installments",
        );
        check_err(
            vec![
                Condition::Domestic { value: false },
                Condition::Installment { values: vec![2] },
            ],
            "rule 9 can never match: foreign cards get no installments",
        );
        check_err(
            vec![
                Condition::AmountRange {
                    currency: Currency::Try,
                    min: Some(100),
                    max: None,
                },
                Condition::Currency {
                    values: vec![Currency::Usd],
                },
            ],
            "rule 9 can never match: the AMOUNT_RANGE currency is not among its currencies",
        );
        check_err(
            vec![
                Condition::AmountRange {
                    currency: Currency::Try,
                    min: Some(100),
                    max: Some(200),
                },
                Condition::AmountRange {
                    currency: Currency::Try,
                    min: Some(300),
                    max: None,
                },
            ],
            "rule 9 can never match: its amount ranges do not overlap",
        );
        check_err(
            vec![
                Condition::BinRange {
                    from: "4000".into(),
                    to: "4100".into(),
                },
                Condition::BinRange {
                    from: "5000".into(),
                    to: "5100".into(),
                },
            ],
            "rule 9 can never match: its BIN ranges do not overlap",
        );
        check_err(
            vec![
                Condition::CardBrand {
                    values: vec!["Bonus".into()],
                },
                Condition::CardBrand {
                    values: vec!["World".into()],
                },
            ],
            "rule 9 can never match: two conditions of one kind have no value in common",
        );
    }

    #[test]
    fn rules_are_evaluated_by_priority_then_id() {
        let mut a = rule(5, vec![], prefer_a());
        a.priority = 2;
        let b = rule(9, vec![], prefer_a());
        let c = rule(1, vec![], prefer_a());
        let set = RuleSet::new(vec![a, b, c]);
        let ids: Vec<i64> = set.rules().iter().map(|r| r.id).collect();
        assert_eq!(ids, [1, 9, 5]);
    }

    #[test]
    fn rules_round_trip_through_json() {
        let json = r#"{
            "id": 7, "name": "bonus", "priority": 10,
            "conditions": [
                {"type": "CARD_BRAND", "values": ["Bonus"]},
                {"type": "AMOUNT_RANGE", "currency": "TRY", "min": 100000, "max": null},
                {"type": "THREE_DS", "value": true},
                {"type": "BIN_RANGE", "from": "454600", "to": "454699"}
            ],
            "action": {"type": "SPLIT", "weights": [{"alias": "a", "weight": 70}, {"alias": "b", "weight": 30}]}
        }"#;
        let parsed: Rule = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.conditions.len(), 4);
        assert!(matches!(parsed.action, Action::Split { .. }));
        let again: Rule = serde_json::from_str(&serde_json::to_string(&parsed).unwrap()).unwrap();
        assert_eq!(again, parsed);
        assert_eq!(validate_rules(&[parsed], &poses()), Ok(()));
    }

    #[test]
    fn unknown_fields_and_kinds_are_refused_when_parsing() {
        let bad_kind = r#"{"id":1,"name":"x","priority":0,"conditions":[{"type":"MOON_PHASE","values":[]}],"action":{"type":"PIN","alias":"a"}}"#;
        assert!(serde_json::from_str::<Rule>(bad_kind).is_err());
        let bad_field =
            r#"{"id":1,"name":"x","priority":0,"action":{"type":"PIN","alias":"a","weight":3}}"#;
        assert!(serde_json::from_str::<Rule>(bad_field).is_err());
    }

    fn facts(card: CardFacts<'_>) -> MatchFacts<'_> {
        MatchFacts {
            amount_minor: 10_000,
            currency: Currency::Try,
            three_ds: Some(false),
            card,
        }
    }

    #[test]
    fn conditions_on_unknown_card_facts_do_not_match() {
        let unknown = CardFacts {
            bin: "999999",
            ..CardFacts::default()
        };
        for condition in [
            Condition::CardAssociation {
                values: CardAssociation::ALL.to_vec(),
            },
            Condition::CardType {
                values: CardType::ALL.to_vec(),
            },
            Condition::CardBrand {
                values: vec!["Bonus".into()],
            },
            Condition::IssuerBank { values: vec![62] },
        ] {
            assert!(!condition.matches(&facts(unknown)), "{condition:?}");
        }
    }

    #[test]
    fn bin_ranges_compare_the_leading_digits() {
        let range = Condition::BinRange {
            from: "454600".into(),
            to: "454699".into(),
        };
        let card = |bin| CardFacts {
            bin,
            ..CardFacts::default()
        };
        assert!(range.matches(&facts(card("45460012"))));
        assert!(range.matches(&facts(card("454699"))));
        assert!(!range.matches(&facts(card("454700"))));
        assert!(!range.matches(&facts(card("45469"))));
    }

    #[test]
    fn amount_ranges_are_inclusive_and_in_one_currency() {
        let range = Condition::AmountRange {
            currency: Currency::Try,
            min: Some(10_000),
            max: Some(20_000),
        };
        let at = |amount_minor, currency| MatchFacts {
            amount_minor,
            currency,
            three_ds: None,
            card: CardFacts::default(),
        };
        assert!(range.matches(&at(10_000, Currency::Try)));
        assert!(range.matches(&at(20_000, Currency::Try)));
        assert!(!range.matches(&at(20_001, Currency::Try)));
        assert!(!range.matches(&at(15_000, Currency::Usd)));
    }

    #[test]
    fn three_ds_conditions_do_not_match_when_authentication_is_unknown() {
        let facts = MatchFacts {
            amount_minor: 1,
            currency: Currency::Try,
            three_ds: None,
            card: CardFacts::default(),
        };
        assert!(!Condition::ThreeDs { value: true }.matches(&facts));
        assert!(!Condition::ThreeDs { value: false }.matches(&facts));
    }
}
