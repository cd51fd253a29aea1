//! Properties of routing over random merchants, payments, rules and options: every candidate is
//! eligible (by an independent reading of the rules of eligibility), every POS is accounted for
//! exactly once, the lowest commission really is lowest, weights converge to their shares, and
//! the installment offer agrees with `total_price` and with the payment's own decision.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;

use domain::enums::{CardAssociation, CardType, OrderingRule, PosStatus};
use domain::money::{Currency, MinorUnits};
use proptest::prelude::*;
use routing::{
    Action, CardFacts, Commission, Condition, Decision, OfferQuery, PaymentFacts, PosCandidate,
    RoutingOptions, Rule, RuleSet, SplitWeight, decide, installment_offer, total_price,
    validate_rules,
};
use rust_decimal::Decimal;

const BANKS: [u32; 5] = [10, 46, 62, 64, 67];
const BRANDS: [&str; 3] = ["Bonus", "World", "Axess"];

fn rate() -> impl Strategy<Value = Option<Decimal>> {
    prop_oneof![
        9 => (0i64..500).prop_map(|c| Some(Decimal::new(c, 2))),
        1 => Just(None),
    ]
}

fn commission() -> impl Strategy<Value = Commission> {
    (
        (
            1u32..=13,
            prop::option::of(prop::sample::select(&BRANDS[..])),
        ),
        (rate(), rate(), rate(), rate(), rate()),
        (0i64..1500, prop::bool::weighted(0.85)),
    )
        .prop_map(
            |((installment, brand), (a, b, c, d, e), (pass_on, active))| Commission {
                installment,
                card_brand: brand.map(str::to_owned),
                on_us_credit: a,
                not_on_us_credit: b,
                on_us_debit: c,
                not_on_us_debit: d,
                foreign: e,
                merchant_rate: Decimal::new(pass_on, 2),
                blockage_days: 0,
                label: None,
                active,
            },
        )
}

fn pos_status() -> impl Strategy<Value = PosStatus> {
    prop_oneof![
        6 => Just(PosStatus::Active),
        1 => prop::sample::select(PosStatus::ALL),
    ]
}

fn pos(index: usize) -> impl Strategy<Value = PosCandidate> {
    (
        (
            prop::sample::select(&BANKS[..]),
            pos_status(),
            0i64..4,
            prop::bool::weighted(0.9),
        ),
        (
            any::<bool>(),
            prop::bool::weighted(0.8),
            prop::bool::weighted(0.8),
            prop::bool::weighted(0.8),
        ),
        prop::sample::subsequence(CardAssociation::ALL, 0..3),
        prop::collection::vec(commission(), 0..10),
    )
        .prop_map(
            move |(
                (bank, status, order, try_currency),
                (foreign, inst, tds, ntds),
                assoc,
                rows,
            )| {
                let id = i64::try_from(index).unwrap() + 100;
                let mut pos = PosCandidate::new(id, format!("p{index}"), bank, Currency::Try);
                pos.status = status;
                pos.order_number = order;
                pos.currency = if try_currency {
                    Currency::Try
                } else {
                    Currency::Usd
                };
                pos.accepts_foreign_cards = foreign;
                pos.installments_enabled = inst;
                pos.supports_three_ds = tds;
                pos.supports_non_three_ds = ntds;
                pos.supported_associations = assoc;
                pos.commissions = rows;
                pos
            },
        )
}

fn poses() -> impl Strategy<Value = Vec<PosCandidate>> {
    (1usize..10).prop_flat_map(|n| (0..n).map(pos).collect::<Vec<_>>())
}

#[derive(Debug, Clone)]
struct Card {
    bank_code: Option<u32>,
    card_type: Option<CardType>,
    association: Option<CardAssociation>,
    brand: Option<&'static str>,
    domestic: bool,
    bin: String,
}

impl Card {
    fn facts(&self) -> CardFacts<'_> {
        CardFacts {
            bank_code: self.bank_code,
            card_type: self.card_type,
            association: self.association,
            brand: self.brand,
            domestic: self.domestic,
            bin: &self.bin,
        }
    }
}

fn card() -> impl Strategy<Value = Card> {
    (
        prop::option::of(prop::sample::select(&BANKS[..])),
        prop::option::of(prop::sample::select(CardType::ALL)),
        prop::option::of(prop::sample::select(CardAssociation::ALL)),
        prop::option::of(prop::sample::select(&BRANDS[..])),
        prop::bool::weighted(0.8),
        100_000u32..999_999,
    )
        .prop_map(
            |(bank_code, card_type, association, brand, domestic, bin)| Card {
                bank_code,
                card_type,
                association,
                brand,
                domestic,
                bin: bin.to_string(),
            },
        )
}

#[derive(Debug, Clone)]
struct Payment {
    amount: i64,
    currency: Currency,
    installment: u32,
    three_ds: bool,
    card: Card,
}

impl Payment {
    fn facts(&self) -> PaymentFacts<'_> {
        PaymentFacts {
            amount: MinorUnits::from_stored(self.amount),
            currency: self.currency,
            installment: self.installment,
            three_ds: self.three_ds,
            card: self.card.facts(),
        }
    }
}

fn payment() -> impl Strategy<Value = Payment> {
    (
        1i64..10_000_000_000,
        prop::bool::weighted(0.9),
        0u32..=12,
        any::<bool>(),
        card(),
    )
        .prop_map(
            |(amount, try_currency, installment, three_ds, card)| Payment {
                amount,
                currency: if try_currency {
                    Currency::Try
                } else {
                    Currency::Usd
                },
                installment,
                three_ds,
                card,
            },
        )
}

fn alias() -> impl Strategy<Value = String> {
    (0usize..11).prop_map(|i| format!("p{i}"))
}

fn condition() -> impl Strategy<Value = Condition> {
    prop_oneof![
        prop::sample::subsequence(CardAssociation::ALL, 1..4)
            .prop_map(|values| Condition::CardAssociation { values }),
        prop::sample::subsequence(CardType::ALL, 1..3)
            .prop_map(|values| Condition::CardType { values }),
        prop::sample::subsequence(&BRANDS[..], 1..3).prop_map(|values| Condition::CardBrand {
            values: values.into_iter().map(str::to_owned).collect()
        }),
        prop::sample::subsequence(&BANKS[..], 1..3)
            .prop_map(|values| Condition::IssuerBank { values }),
        (100_000u32..999_999, 0u32..400_000).prop_map(|(from, span)| Condition::BinRange {
            from: from.to_string(),
            to: (from + span).min(999_999).to_string(),
        }),
        any::<bool>().prop_map(|value| Condition::Domestic { value }),
        (0i64..1_000_000, 0i64..1_000_000_000).prop_map(|(min, span)| {
            Condition::AmountRange {
                currency: Currency::Try,
                min: Some(min),
                max: Some(min + span),
            }
        }),
        prop::sample::subsequence(&[1u32, 2, 3, 6, 9, 12][..], 1..4)
            .prop_map(|values| Condition::Installment { values }),
        any::<bool>().prop_map(|value| Condition::ThreeDs { value }),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        prop::collection::vec(alias(), 1..4).prop_map(|aliases| Action::Prefer { aliases }),
        prop::collection::vec(alias(), 1..3).prop_map(|aliases| Action::Exclude { aliases }),
        alias().prop_map(|alias| Action::Pin { alias }),
        prop::collection::vec((alias(), 0u32..10), 1..4).prop_map(|weights| Action::Split {
            weights: weights
                .into_iter()
                .map(|(alias, weight)| SplitWeight { alias, weight })
                .collect()
        }),
    ]
}

fn rules() -> impl Strategy<Value = Vec<Rule>> {
    prop::collection::vec(
        (-3i32..3, prop::collection::vec(condition(), 0..3), action()),
        0..8,
    )
    .prop_map(|rules| {
        (1i64..)
            .zip(rules)
            .map(|(id, (priority, conditions, action))| Rule {
                id,
                name: String::new(),
                priority,
                conditions,
                action,
            })
            .collect()
    })
}

fn ordering_rule() -> impl Strategy<Value = OrderingRule> {
    prop::sample::select(OrderingRule::ALL)
}

// ---------------------------------------------------------------------------------------------
// An independent reading of the rules of eligibility and pricing.
// ---------------------------------------------------------------------------------------------

fn row_for<'a>(pos: &'a PosCandidate, card: &CardFacts<'_>, n: u32) -> Option<&'a Commission> {
    let usable: Vec<&Commission> = pos
        .commissions
        .iter()
        .filter(|r| r.active && r.installment == n)
        .collect();
    let for_brand = usable.iter().find(|r| {
        r.card_brand
            .as_deref()
            .zip(card.brand)
            .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
    });
    for_brand
        .or_else(|| usable.iter().find(|r| r.card_brand.is_none()))
        .copied()
}

fn rate_for(pos: &PosCandidate, card: &CardFacts<'_>, n: u32) -> Option<Decimal> {
    let row = row_for(pos, card, n)?;
    let debit = matches!(
        card.card_type,
        Some(CardType::DebitCard | CardType::PrepaidCard)
    );
    let on_us = card.bank_code == Some(pos.bank_code);
    if !card.domestic {
        row.foreign
    } else if debit {
        if on_us {
            row.on_us_debit
        } else {
            row.not_on_us_debit
        }
    } else if on_us {
        row.on_us_credit
    } else {
        row.not_on_us_credit
    }
}

fn eligible(pos: &PosCandidate, facts: &PaymentFacts<'_>) -> bool {
    let card = &facts.card;
    let n = facts.installment.max(1);
    let debit = matches!(
        card.card_type,
        Some(CardType::DebitCard | CardType::PrepaidCard)
    );
    pos.status == PosStatus::Active
        && pos.currency == facts.currency
        && (if facts.three_ds {
            pos.supports_three_ds
        } else {
            pos.supports_non_three_ds
        })
        && card.association.is_none_or(|a| {
            pos.supported_associations.is_empty() || pos.supported_associations.contains(&a)
        })
        && (card.domestic || pos.accepts_foreign_cards)
        && (n == 1
            || (!debit
                && card.domestic
                && pos.installments_enabled
                && (pos.commissions.is_empty() || row_for(pos, card, n).is_some())))
}

fn ids(decision: &Decision<'_>) -> Vec<i64> {
    decision.candidates.iter().map(|c| c.pos_id).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_candidate_is_eligible_and_every_pos_is_accounted_for_once(
        poses in poses(),
        rules in rules(),
        payment in payment(),
        ordering_rule in ordering_rule(),
        requested in prop::collection::vec(alias(), 0..4),
        ignore_rules in prop::bool::weighted(0.2),
        split_seed in any::<u64>(),
    ) {
        let rules = RuleSet::new(rules);
        let facts = payment.facts();
        let options = RoutingOptions { ordering_rule, pos_aliases: &requested, ignore_rules, split_seed };
        let decision = decide(&poses, &rules, &facts, &options);

        for candidate in &decision.candidates {
            let pos = poses.iter().find(|p| p.id == candidate.pos_id).unwrap();
            prop_assert!(eligible(pos, &facts), "{} is not eligible", pos.alias);
            prop_assert_eq!(candidate.cost_rate, rate_for(pos, &facts.card, facts.installment.max(1)));
        }
        for excluded in &decision.excluded {
            let pos = poses.iter().find(|p| p.id == excluded.pos_id).unwrap();
            prop_assert!(pos.alias == excluded.alias);
        }
        // Eligible POSes are removed only by a request or a rule.
        let mut seen = HashSet::new();
        let all = ids(&decision).into_iter().chain(decision.excluded.iter().map(|e| e.pos_id));
        for id in all {
            prop_assert!(seen.insert(id), "POS {} listed twice", id);
        }
        prop_assert_eq!(seen.len(), poses.len());

        if !requested.is_empty() {
            let mut last = None;
            for candidate in &decision.candidates {
                let position = requested.iter().position(|a| a == candidate.alias);
                prop_assert!(position.is_some());
                prop_assert!(last < position, "request order not kept");
                last = position;
            }
        }
        if requested.is_empty() && rules.is_empty() {
            let expected: Vec<i64> = poses.iter().filter(|p| eligible(p, &facts)).map(|p| p.id).collect();
            let mut got = ids(&decision);
            got.sort_unstable();
            let mut expected = expected;
            expected.sort_unstable();
            prop_assert_eq!(got, expected, "eligible POSes missing without rules");
        }
        prop_assert_eq!(&decide(&poses, &rules, &facts, &options), &decision);
    }

    #[test]
    fn lowest_commission_really_is_lowest(poses in poses(), payment in payment()) {
        let facts = payment.facts();
        let options = RoutingOptions::ordered_by(OrderingRule::LowCommissionRate);
        let decision = decide(&poses, &RuleSet::default(), &facts, &options);
        let n = facts.installment.max(1);
        let rates: Vec<Option<Decimal>> = poses
            .iter()
            .filter(|p| eligible(p, &facts))
            .map(|p| rate_for(p, &facts.card, n))
            .collect();
        let lowest = rates.iter().flatten().min().copied();
        match decision.chosen() {
            None => prop_assert!(rates.is_empty()),
            Some(chosen) => prop_assert_eq!(chosen.cost_rate, lowest),
        }
        // And the whole list is ascending, unknown rates last.
        for pair in decision.candidates.windows(2) {
            match (pair[0].cost_rate, pair[1].cost_rate) {
                (Some(a), Some(b)) => prop_assert!(a <= b),
                (None, Some(_)) => prop_assert!(false, "unknown rate before a known one"),
                _ => {}
            }
        }
    }

    #[test]
    fn on_us_puts_an_eligible_issuer_pos_first(poses in poses(), payment in payment()) {
        let facts = payment.facts();
        let options = RoutingOptions::ordered_by(OrderingRule::OnUs);
        let decision = decide(&poses, &RuleSet::default(), &facts, &options);
        let any_on_us = poses
            .iter()
            .any(|p| eligible(p, &facts) && facts.card.bank_code == Some(p.bank_code));
        if let Some(chosen) = decision.chosen() {
            prop_assert_eq!(chosen.on_us, any_on_us);
        }
    }

    #[test]
    fn a_pin_that_applies_leaves_one_candidate(
        poses in poses(),
        payment in payment(),
        target in 0usize..10,
    ) {
        let facts = payment.facts();
        let alias = format!("p{target}");
        let rules = RuleSet::new(vec![Rule {
            id: 1,
            name: String::new(),
            priority: 0,
            conditions: vec![],
            action: Action::Pin { alias: alias.clone() },
        }]);
        let options = RoutingOptions::ordered_by(OrderingRule::InOrder);
        let decision = decide(&poses, &rules, &facts, &options);
        let pinnable = poses.iter().any(|p| p.alias == alias && eligible(p, &facts));
        if pinnable {
            prop_assert_eq!(decision.candidates.len(), 1);
            prop_assert_eq!(decision.candidates[0].alias, alias.as_str());
        } else {
            prop_assert!(decision.candidates.iter().all(|c| c.alias != alias));
        }
    }

    #[test]
    fn the_offer_agrees_with_total_price_and_with_the_payment(
        poses in poses(),
        rules in rules(),
        payment in payment(),
        ordering_rule in ordering_rule(),
        split_seed in any::<u64>(),
    ) {
        let rules = RuleSet::new(rules);
        let query = OfferQuery {
            price: MinorUnits::from_stored(payment.amount),
            currency: payment.currency,
            card: payment.card.facts(),
            three_ds: Some(payment.three_ds),
        };
        let options = RoutingOptions { ordering_rule, pos_aliases: &[], ignore_rules: false, split_seed };
        let offer = installment_offer(&poses, &rules, &query, &options);
        let mut last = 0;
        for option in &offer {
            prop_assert!(option.installment > last && option.installment <= 12);
            last = option.installment;
            prop_assert!(option.total_price >= query.price);
            prop_assert_eq!(
                option.total_price,
                total_price(query.price, option.merchant_rate, query.currency)
            );
            let n = i64::from(option.installment);
            let each = option.installment_price.get();
            prop_assert!(each * n <= option.total_price.get());
            prop_assert!(option.total_price.get() < (each + 1) * n);

            let facts = PaymentFacts {
                amount: query.price,
                currency: query.currency,
                installment: option.installment,
                three_ds: payment.three_ds,
                card: query.card,
            };
            let decision = decide(&poses, &rules, &facts, &options);
            let chosen = decision.chosen().unwrap();
            prop_assert_eq!(chosen.alias, option.pos_alias);
            prop_assert_eq!(chosen.total_price, option.total_price);
            prop_assert_eq!(chosen.cost_rate, option.bank_rate);
        }
        // Every count the payment could use is on offer.
        for n in 1..=12u32 {
            let facts = PaymentFacts { installment: n, ..payment.facts() };
            let facts = PaymentFacts { amount: query.price, ..facts };
            let routable = decide(&poses, &rules, &facts, &options).chosen().is_some();
            prop_assert_eq!(routable, offer.iter().any(|o| o.installment == n), "count {}", n);
        }
    }

    #[test]
    fn validation_never_panics_and_accepted_rules_name_existing_poses(
        poses in poses(),
        rules in rules(),
    ) {
        if validate_rules(&rules, &poses).is_ok() {
            for rule in &rules {
                let named: Vec<&str> = match &rule.action {
                    Action::Prefer { aliases } | Action::Exclude { aliases } => {
                        aliases.iter().map(String::as_str).collect()
                    }
                    Action::Pin { alias } => vec![alias.as_str()],
                    Action::Split { weights } => weights.iter().map(|w| w.alias.as_str()).collect(),
                };
                for alias in named {
                    prop_assert!(poses.iter().any(|p| p.alias == alias));
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn split_weights_converge_to_their_shares(
        weights in prop::collection::vec(0u32..100, 2..5),
        down in prop::option::of(0usize..5),
    ) {
        prop_assume!(weights.iter().any(|w| *w > 0));
        let mut poses: Vec<PosCandidate> = (0i64..)
            .zip(&weights)
            .map(|(i, _)| PosCandidate::new(i, format!("p{i}"), 46, Currency::Try))
            .collect();
        if let Some(pos) = down.and_then(|i| poses.get_mut(i)) {
            pos.status = PosStatus::Autopilot;
        }
        let effective: Vec<u64> = weights
            .iter()
            .zip(&poses)
            .map(|(w, p)| if p.status == PosStatus::Active { u64::from(*w) } else { 0 })
            .collect();
        let total: u64 = effective.iter().sum();
        prop_assume!(total > 0);
        let rules = RuleSet::new(vec![Rule {
            id: 42,
            name: String::new(),
            priority: 0,
            conditions: vec![],
            action: Action::Split {
                weights: (0..weights.len())
                    .zip(&weights)
                    .map(|(i, w)| SplitWeight { alias: format!("p{i}"), weight: *w })
                    .collect(),
            },
        }]);
        let payment = Payment {
            amount: 10_000,
            currency: Currency::Try,
            installment: 1,
            three_ds: false,
            card: Card {
                bank_code: Some(46),
                card_type: Some(CardType::CreditCard),
                association: Some(CardAssociation::Visa),
                brand: None,
                domestic: true,
                bin: "454671".into(),
            },
        };
        let facts = payment.facts();
        const DRAWS: u64 = 20_000;
        let mut counts = vec![0u64; weights.len()];
        for seed in 0..DRAWS {
            let options = RoutingOptions {
                split_seed: seed,
                ..RoutingOptions::ordered_by(OrderingRule::InOrder)
            };
            let decision = decide(&poses, &rules, &facts, &options);
            let chosen = decision.chosen().unwrap();
            counts[usize::try_from(chosen.pos_id).unwrap()] += 1;
        }
        for (count, weight) in counts.iter().zip(&effective) {
            let share = *count as f64 / DRAWS as f64;
            let expected = *weight as f64 / total as f64;
            prop_assert!(
                (share - expected).abs() < 0.02,
                "share {} for weight {}/{} ({:?})", share, weight, total, counts
            );
        }
    }
}
