//! Orkestra's routing engine: which merchant POS takes a card payment, in which order, at what
//! cost, and why; and which installment counts a card is offered. Pure: no IO, no clock, no
//! randomness of its own (weighted splits draw from a seed the caller passes).
//!
//! Principal items: [`PosCandidate`] and [`Commission`] (a merchant's POSes and their rates),
//! [`PaymentFacts`] and [`CardFacts`] (one payment), [`Rule`] and [`RuleSet`] (the merchant's
//! routing rules, checked by [`validate_rules`]), [`decide`] returning a [`Decision`] (ordered
//! candidates, exclusions and applied rules, serializable as the explanation), and
//! [`installment_offer`] with [`total_price`], the one rounding offer and charge share.
//!
//! ```
//! use domain::enums::{CardAssociation, CardType, OrderingRule};
//! use domain::money::{Currency, MinorUnits};
//! use routing::{
//!     decide, Action, CardFacts, Commission, Condition, PaymentFacts, PosCandidate,
//!     RoutingOptions, Rule, RuleSet,
//! };
//! use rust_decimal::Decimal;
//!
//! let mut akbank = PosCandidate::new(1, "46-akbank-1", 46, Currency::Try);
//! akbank.commissions.push(Commission::flat(1, Decimal::new(189, 2)));
//! let mut garanti = PosCandidate::new(2, "62-garanti-2", 62, Currency::Try);
//! garanti.commissions.push(Commission::flat(1, Decimal::new(179, 2)));
//! let mut amex = PosCandidate::new(3, "64-isbank-3", 64, Currency::Try);
//! amex.supported_associations = vec![CardAssociation::Amex];
//! let poses = vec![akbank, garanti, amex];
//!
//! let rules = vec![Rule {
//!     id: 1,
//!     name: "no Amex-only POS for Troy".into(),
//!     priority: 0,
//!     conditions: vec![Condition::CardAssociation { values: vec![CardAssociation::Troy] }],
//!     action: Action::Exclude { aliases: vec!["46-akbank-1".into()] },
//! }];
//! routing::validate_rules(&rules, &poses).unwrap();
//! let rules = RuleSet::new(rules);
//!
//! let facts = PaymentFacts {
//!     amount: MinorUnits::from_stored(10_000), // 100.00 TRY
//!     currency: Currency::Try,
//!     installment: 1,
//!     three_ds: false,
//!     card: CardFacts {
//!         bank_code: Some(67),
//!         card_type: Some(CardType::CreditCard),
//!         association: Some(CardAssociation::MasterCard),
//!         brand: Some("World"),
//!         domestic: true,
//!         bin: "52586400",
//!     },
//! };
//! let options = RoutingOptions::ordered_by(OrderingRule::LowCommissionRate);
//! let decision = decide(&poses, &rules, &facts, &options);
//!
//! let order: Vec<&str> = decision.candidates.iter().map(|c| c.alias).collect();
//! assert_eq!(order, ["62-garanti-2", "46-akbank-1"]);
//! assert_eq!(decision.candidates[0].cost_amount.unwrap().get(), 179); // 1.79 % of 100.00
//! assert_eq!(decision.excluded[0].alias, "64-isbank-3"); // Amex only
//! ```

mod decide;
mod model;
mod offer;
mod pricing;
mod rules;

pub use decide::{
    Candidate, Decision, Excluded, ExclusionReason, Reason, Reasons, RoutingOptions, RuleEffect,
    RuleTrace, decide,
};
pub use model::{CardFacts, Commission, INSTALLMENT_MAX, PaymentFacts, PosCandidate};
pub use offer::{BrandOffer, InstallmentOption, OfferQuery, brand_offers, installment_offer};
pub use pricing::{cost_amount, installment_price, total_price};
pub use rules::{
    Action, BIN_RANGE_DIGITS_MAX, Condition, Rule, RuleError, RuleSet, SplitWeight, validate_rules,
};
