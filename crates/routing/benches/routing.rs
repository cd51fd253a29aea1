//! Routing benchmarks: one decision for a merchant with 50 POSes, 2,000 commission rows and
//! 500 rules (most of which do not match, as in a real rule book), and the installment offer for
//! one BIN over the same merchant.
//!
//! `cargo bench -p routing` runs criterion (median and confidence intervals), then times
//! 100,000 single decisions and 20,000 offers one by one with `Instant` and prints percentiles,
//! which criterion does not report. Under `cargo test` each benchmark runs once.

// Benchmark set-up: a failed unwrap is a broken fixture, reported at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use domain::enums::{CardAssociation, CardType, OrderingRule, PosStatus};
use domain::money::{Currency, MinorUnits};
use routing::{
    Action, CardFacts, Commission, Condition, OfferQuery, PaymentFacts, PosCandidate,
    RoutingOptions, Rule, RuleSet, SplitWeight, decide, installment_offer, validate_rules,
};
use rust_decimal::Decimal;

const BANKS: [u32; 10] = [10, 12, 15, 32, 46, 62, 64, 67, 99, 111];
const BRANDS: [&str; 6] = ["Bonus", "World", "Axess", "Maximum", "Paraf", "CardFinans"];

fn rate(hundredths: i64) -> Option<Decimal> {
    Some(Decimal::new(hundredths, 2))
}

/// 50 POSes with 40 commission rows each: a generic row per installment count, rows for two
/// programmes per count, and four passive rows.
fn poses() -> Vec<PosCandidate> {
    (0..50i64)
        .map(|i| {
            let bank = BANKS[usize::try_from(i).unwrap() % BANKS.len()];
            let mut pos =
                PosCandidate::new(i + 1, format!("{bank}-pos-{}", i + 1), bank, Currency::Try);
            pos.order_number = (i * 7) % 50;
            pos.status = match i {
                3 | 17 | 29 => PosStatus::Passive,
                8 | 41 => PosStatus::Autopilot,
                22 => PosStatus::RefundOnly,
                _ => PosStatus::Active,
            };
            if i % 10 == 9 {
                pos.currency = Currency::Usd;
            }
            if i % 12 == 5 {
                pos.supported_associations =
                    vec![CardAssociation::Visa, CardAssociation::MasterCard];
            }
            if i % 15 == 14 {
                pos.installments_enabled = false;
            }
            let base = 150 + (i * 37) % 90;
            let mut rows = Vec::with_capacity(40);
            for n in 1..=12u32 {
                let extra = i64::from(n - 1) * 45;
                let row = |brand: Option<&str>, discount: i64| Commission {
                    installment: n,
                    card_brand: brand.map(str::to_owned),
                    on_us_credit: rate(base + extra - 40 - discount),
                    not_on_us_credit: rate(base + extra - discount),
                    on_us_debit: rate(base - 60),
                    not_on_us_debit: rate(base - 20),
                    foreign: rate(350),
                    merchant_rate: Decimal::new(extra * 2, 2),
                    blockage_days: 30,
                    label: (n > 1).then(|| format!("{n} taksit")),
                    active: true,
                };
                rows.push(row(None, 0));
                let b = usize::try_from(i).unwrap();
                rows.push(row(Some(BRANDS[b % BRANDS.len()]), 10));
                rows.push(row(Some(BRANDS[(b + 1) % BRANDS.len()]), 15));
            }
            for n in [2u32, 4, 8, 10] {
                let mut passive = Commission::flat(n, Decimal::new(99, 2));
                passive.active = false;
                rows.push(passive);
            }
            pos.commissions = rows;
            pos
        })
        .collect()
}

fn alias(i: usize) -> String {
    let bank = BANKS[i % BANKS.len()];
    format!("{bank}-pos-{}", i + 1)
}

/// 500 rules. The card is a Garanti (62) Bonus Visa credit card, BIN 45467100, domestic,
/// 1,234.56 TRY in 3 installments without 3DS. Five rules match it: one exclusion, one split,
/// one preference, and two whose installment condition then fails; the rest fail on issuer,
/// BIN range, amount, programme, association, currency, 3DS or installment count, usually on
/// their second or third condition.
fn rules() -> Vec<Rule> {
    let mut rules = Vec::with_capacity(500);
    let mut push = |priority: i32, conditions: Vec<Condition>, action: Action| {
        let id = i64::try_from(rules.len()).unwrap() + 1;
        rules.push(Rule {
            id,
            name: format!("rule {id}"),
            priority,
            conditions,
            action,
        });
    };
    let prefer = |i: usize| Action::Prefer {
        aliases: vec![alias(i % 50), alias((i + 7) % 50)],
    };
    let exclude = |i: usize| Action::Exclude {
        aliases: vec![alias((i + 3) % 50)],
    };
    let other_banks = [10u32, 12, 15, 32, 46, 64, 67, 99, 111];
    for i in 0..120 {
        push(
            i32::try_from(i % 20).unwrap(),
            vec![
                Condition::Domestic { value: true },
                Condition::IssuerBank {
                    values: vec![other_banks[i % 9], other_banks[(i + 4) % 9]],
                },
                Condition::Installment {
                    values: vec![1, 2, 3],
                },
            ],
            if i % 3 == 0 { exclude(i) } else { prefer(i) },
        );
    }
    for i in 0..100u32 {
        let from = 400_000 + i * 1_000;
        let from = if from == 454_000 { 455_000 } else { from };
        push(
            5,
            vec![
                Condition::CardType {
                    values: vec![CardType::CreditCard],
                },
                Condition::BinRange {
                    from: from.to_string(),
                    to: (from + 999).to_string(),
                },
            ],
            prefer(usize::try_from(i).unwrap()),
        );
    }
    for i in 0..100i64 {
        push(
            7,
            vec![
                Condition::Currency {
                    values: vec![Currency::Try],
                },
                Condition::AmountRange {
                    currency: Currency::Try,
                    min: Some(500_000 + i * 10_000),
                    max: Some(600_000 + i * 10_000),
                },
            ],
            exclude(usize::try_from(i).unwrap()),
        );
    }
    for i in 0..80usize {
        push(
            3,
            vec![
                Condition::Domestic { value: true },
                Condition::CardBrand {
                    values: vec![BRANDS[1 + i % 5].to_owned()],
                },
            ],
            prefer(i),
        );
    }
    for i in 0..50usize {
        push(
            9,
            vec![Condition::CardAssociation {
                values: vec![CardAssociation::Amex, CardAssociation::Troy],
            }],
            Action::Pin { alias: alias(i) },
        );
    }
    for i in 0..25usize {
        push(
            4,
            vec![
                Condition::Currency {
                    values: vec![Currency::Usd, Currency::Eur],
                },
                Condition::Domestic { value: false },
            ],
            prefer(i),
        );
    }
    for i in 0..20usize {
        push(
            6,
            vec![
                Condition::CardType {
                    values: vec![CardType::CreditCard],
                },
                Condition::ThreeDs { value: true },
            ],
            exclude(i),
        );
    }
    // The five that match this card (two then fail on the installment count).
    push(
        1,
        vec![
            Condition::CardBrand {
                values: vec!["Bonus".into()],
            },
            Condition::Installment { values: vec![3, 6] },
        ],
        Action::Exclude {
            aliases: vec![alias(12), alias(33)],
        },
    );
    push(
        2,
        vec![
            Condition::Domestic { value: true },
            Condition::AmountRange {
                currency: Currency::Try,
                min: Some(100_000),
                max: Some(500_000),
            },
        ],
        Action::Split {
            weights: vec![
                SplitWeight {
                    alias: alias(5),
                    weight: 50,
                },
                SplitWeight {
                    alias: alias(15),
                    weight: 30,
                },
                SplitWeight {
                    alias: alias(25),
                    weight: 20,
                },
            ],
        },
    );
    push(
        8,
        vec![Condition::IssuerBank { values: vec![62] }],
        prefer(40),
    );
    for _ in 0..2 {
        push(
            8,
            vec![
                Condition::CardAssociation {
                    values: vec![CardAssociation::Visa],
                },
                Condition::Installment {
                    values: vec![9, 12],
                },
            ],
            prefer(20),
        );
    }
    assert_eq!(rules.len(), 500);
    rules
}

fn card() -> CardFacts<'static> {
    CardFacts {
        bank_code: Some(62),
        card_type: Some(CardType::CreditCard),
        association: Some(CardAssociation::Visa),
        brand: Some("Bonus"),
        domestic: true,
        bin: "45467100",
    }
}

fn facts() -> PaymentFacts<'static> {
    PaymentFacts {
        amount: MinorUnits::from_stored(123_456),
        currency: Currency::Try,
        installment: 3,
        three_ds: false,
        card: card(),
    }
}

fn offer_query() -> OfferQuery<'static> {
    OfferQuery {
        price: MinorUnits::from_stored(123_456),
        currency: Currency::Try,
        card: card(),
        three_ds: None,
    }
}

struct Fixture {
    poses: Vec<PosCandidate>,
    rules: RuleSet,
}

fn fixture() -> Fixture {
    let poses = poses();
    let rules = rules();
    assert_eq!(
        poses.iter().map(|p| p.commissions.len()).sum::<usize>(),
        2_000
    );
    validate_rules(&rules, &poses).unwrap();
    let rules = RuleSet::new(rules);
    // The scenario is what the comments say it is.
    let options = RoutingOptions::ordered_by(OrderingRule::LowCommissionRate);
    let decision = decide(&poses, &rules, &facts(), &options);
    assert_eq!(
        decision.applied_rules.len(),
        3,
        "{:?}",
        decision.applied_rules
    );
    assert!(decision.candidates.len() > 30);
    Fixture { poses, rules }
}

fn bench_decide(c: &mut Criterion) {
    let f = fixture();
    let mut group = c.benchmark_group("decide/50pos_2000rows_500rules");
    for ordering_rule in [
        OrderingRule::LowCommissionRate,
        OrderingRule::OnUs,
        OrderingRule::InOrder,
    ] {
        group.bench_function(ordering_rule.as_str(), |b| {
            let mut seed = 0u64;
            b.iter(|| {
                seed = seed.wrapping_add(1);
                let options = RoutingOptions {
                    split_seed: seed,
                    ..RoutingOptions::ordered_by(ordering_rule)
                };
                decide(
                    black_box(&f.poses),
                    black_box(&f.rules),
                    black_box(&facts()),
                    &options,
                )
            });
        });
    }
    group.finish();
}

fn bench_offer(c: &mut Criterion) {
    let f = fixture();
    let options = RoutingOptions::ordered_by(OrderingRule::LowCommissionRate);
    c.bench_function("installment_offer/one_bin", |b| {
        b.iter(|| {
            installment_offer(
                black_box(&f.poses),
                black_box(&f.rules),
                black_box(&offer_query()),
                &options,
            )
        });
    });
}

/// Times `runs` calls one by one and prints percentiles.
fn percentiles(name: &str, runs: usize, mut call: impl FnMut(u64)) {
    for seed in 0..(runs as u64 / 10) {
        call(seed);
    }
    let mut samples: Vec<Duration> = Vec::with_capacity(runs);
    for seed in 0..runs as u64 {
        let start = Instant::now();
        call(seed);
        samples.push(start.elapsed());
    }
    samples.sort_unstable();
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
    println!(
        "{name}: {runs} runs  p50 {:.2?}  p90 {:.2?}  p99 {:.2?}  p99.9 {:.2?}  max {:.2?}",
        at(0.50),
        at(0.90),
        at(0.99),
        at(0.999),
        samples[samples.len() - 1],
    );
}

criterion_group!(benches, bench_decide, bench_offer);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();

    // `cargo bench` passes `--bench`; under `cargo test` a few runs show the loop works.
    let full = std::env::args().any(|a| a == "--bench");
    let (decisions, offers) = if full { (100_000, 20_000) } else { (100, 10) };
    let f = fixture();
    let facts = facts();
    let query = offer_query();
    percentiles("decide (LOW_COMMISSION_RATE)", decisions, |seed| {
        let options = RoutingOptions {
            split_seed: seed,
            ..RoutingOptions::ordered_by(OrderingRule::LowCommissionRate)
        };
        black_box(decide(
            black_box(&f.poses),
            &f.rules,
            black_box(&facts),
            &options,
        ));
    });
    percentiles("installment_offer (one BIN)", offers, |seed| {
        let options = RoutingOptions {
            split_seed: seed,
            ..RoutingOptions::ordered_by(OrderingRule::LowCommissionRate)
        };
        black_box(installment_offer(
            black_box(&f.poses),
            &f.rules,
            black_box(&query),
            &options,
        ));
    });
}
