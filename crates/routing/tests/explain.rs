//! Snapshots of the explanation document: the JSON a decision serializes to, which the engine
//! stores with the payment and returns to explain it.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use domain::enums::{CardAssociation, CardType, OrderingRule, PosStatus};
use domain::money::{Currency, MinorUnits};
use routing::{
    Action, CardFacts, Commission, Condition, PaymentFacts, PosCandidate, RoutingOptions, Rule,
    RuleSet, SplitWeight, decide,
};
use rust_decimal::Decimal;

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn pos(id: i64, alias: &str, bank_code: u32, rate: &str, pass_on: &str) -> PosCandidate {
    let mut pos = PosCandidate::new(id, alias, bank_code, Currency::Try);
    let mut row = Commission::flat(3, dec(rate));
    row.merchant_rate = dec(pass_on);
    pos.commissions.push(row);
    pos
}

fn facts() -> PaymentFacts<'static> {
    PaymentFacts {
        amount: MinorUnits::from_stored(10_000),
        currency: Currency::Try,
        installment: 3,
        three_ds: true,
        card: CardFacts {
            bank_code: Some(62),
            card_type: Some(CardType::CreditCard),
            association: Some(CardAssociation::Visa),
            brand: Some("Bonus"),
            domestic: true,
            bin: "45467100",
        },
    }
}

fn rule(id: i64, priority: i32, conditions: Vec<Condition>, action: Action) -> Rule {
    Rule {
        id,
        name: format!("rule {id}"),
        priority,
        conditions,
        action,
    }
}

/// Compares the decision's pretty JSON with `expected`.
fn check(poses: &[PosCandidate], rules: Vec<Rule>, options: &RoutingOptions<'_>, expected: &str) {
    let rules = RuleSet::new(rules);
    let decision = decide(poses, &rules, &facts(), options);
    let json = serde_json::to_string_pretty(&decision).unwrap();
    assert_eq!(json, expected.trim(), "actual:\n{json}");
}

#[test]
fn a_decision_with_rules_explains_every_candidate_and_exclusion() {
    let mut poses = vec![
        pos(1, "46-akbank-1", 46, "2.19", "4.5"),
        pos(2, "62-garanti-2", 62, "1.99", "4.5"),
        pos(3, "67-ykb-3", 67, "2.05", "4"),
        pos(4, "64-isbank-4", 64, "1.89", "4"),
        pos(5, "12-halkbank-5", 12, "1.70", "3"),
    ];
    poses[4].status = PosStatus::Autopilot;
    let rules = vec![
        rule(
            10,
            0,
            vec![Condition::CardBrand {
                values: vec!["Bonus".into()],
            }],
            Action::Split {
                weights: vec![
                    SplitWeight {
                        alias: "67-ykb-3".into(),
                        weight: 30,
                    },
                    SplitWeight {
                        alias: "12-halkbank-5".into(),
                        weight: 70,
                    },
                ],
            },
        ),
        rule(
            11,
            1,
            vec![Condition::ThreeDs { value: true }],
            Action::Prefer {
                aliases: vec!["46-akbank-1".into()],
            },
        ),
        rule(
            12,
            2,
            vec![Condition::Installment { values: vec![3] }],
            Action::Exclude {
                aliases: vec!["64-isbank-4".into()],
            },
        ),
        rule(
            13,
            3,
            vec![Condition::CardAssociation {
                values: vec![CardAssociation::Amex],
            }],
            Action::Pin {
                alias: "46-akbank-1".into(),
            },
        ),
    ];
    let options = RoutingOptions::ordered_by(OrderingRule::OnUs);
    check(
        &poses,
        rules,
        &options,
        r#"
{
  "orderingRule": "ON_US",
  "currency": "TRY",
  "installment": 3,
  "candidates": [
    {
      "posId": 3,
      "alias": "67-ykb-3",
      "onUs": false,
      "costRate": "2.05",
      "costAmountMinor": 213,
      "merchantRate": "4",
      "totalPriceMinor": 10400,
      "reasons": [
        {
          "type": "SPLIT",
          "ruleId": 10,
          "weight": 30,
          "totalWeight": 30
        },
        {
          "type": "ORDERED",
          "orderingRule": "ON_US"
        }
      ]
    },
    {
      "posId": 1,
      "alias": "46-akbank-1",
      "onUs": false,
      "costRate": "2.19",
      "costAmountMinor": 229,
      "merchantRate": "4.5",
      "totalPriceMinor": 10450,
      "reasons": [
        {
          "type": "PREFERRED",
          "ruleId": 11
        },
        {
          "type": "ORDERED",
          "orderingRule": "ON_US"
        }
      ]
    },
    {
      "posId": 2,
      "alias": "62-garanti-2",
      "onUs": true,
      "costRate": "1.99",
      "costAmountMinor": 208,
      "merchantRate": "4.5",
      "totalPriceMinor": 10450,
      "reasons": [
        {
          "type": "ORDERED",
          "orderingRule": "ON_US"
        }
      ]
    }
  ],
  "excluded": [
    {
      "posId": 4,
      "alias": "64-isbank-4",
      "reason": {
        "type": "EXCLUDED_BY_RULE",
        "ruleId": 12
      }
    },
    {
      "posId": 5,
      "alias": "12-halkbank-5",
      "reason": {
        "type": "POS_STATUS",
        "status": "AUTOPILOT"
      }
    }
  ],
  "appliedRules": [
    {
      "ruleId": 12,
      "effect": {
        "type": "EXCLUDED",
        "count": 1
      }
    },
    {
      "ruleId": 10,
      "effect": {
        "type": "SPLIT_PICKED",
        "posId": 3
      }
    },
    {
      "ruleId": 11,
      "effect": {
        "type": "PREFERRED",
        "count": 1
      }
    }
  ]
}
"#,
    );
}

#[test]
fn a_requested_alias_decision_with_a_pos_of_unknown_cost() {
    let mut poses = vec![
        pos(1, "46-akbank-1", 46, "2.19", "4.5"),
        PosCandidate::new(2, "62-garanti-2", 62, Currency::Try),
        pos(3, "67-ykb-3", 67, "2.05", "4"),
    ];
    poses[2].supports_three_ds = false;
    let requested = vec!["62-garanti-2".to_owned(), "67-ykb-3".to_owned()];
    let options = RoutingOptions {
        ordering_rule: OrderingRule::LowCommissionRate,
        pos_aliases: &requested,
        ignore_rules: false,
        split_seed: 99,
    };
    check(
        &poses,
        vec![rule(
            1,
            0,
            vec![],
            Action::Pin {
                alias: "46-akbank-1".into(),
            },
        )],
        &options,
        r#"
{
  "orderingRule": "LOW_COMMISSION_RATE",
  "currency": "TRY",
  "installment": 3,
  "candidates": [
    {
      "posId": 2,
      "alias": "62-garanti-2",
      "onUs": true,
      "costRate": null,
      "costAmountMinor": null,
      "merchantRate": "0",
      "totalPriceMinor": 10000,
      "reasons": [
        {
          "type": "REQUESTED",
          "position": 0
        }
      ]
    }
  ],
  "excluded": [
    {
      "posId": 1,
      "alias": "46-akbank-1",
      "reason": {
        "type": "NOT_REQUESTED"
      }
    },
    {
      "posId": 3,
      "alias": "67-ykb-3",
      "reason": {
        "type": "THREE_DS_NOT_SUPPORTED"
      }
    }
  ],
  "appliedRules": [
    {
      "ruleId": 1,
      "effect": {
        "type": "OVERRIDDEN_BY_REQUEST"
      }
    }
  ]
}
"#,
    );
}
