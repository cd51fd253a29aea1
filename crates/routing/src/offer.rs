//! Installment offers: for a card and a price, every installment count the merchant can offer,
//! the POS that would serve it, and what the buyer pays (Craftgate's
//! `GET /installment/v1/installments`).
//!
//! Each count is ranked exactly as [`crate::decide`] ranks a payment with that count (same
//! eligibility, rules, ordering and split seed), so the POS offered is the POS the payment
//! will be routed to when the payment repeats the offer's facts and seed. Prices come from
//! [`crate::total_price`], the function the charge uses, so `totalPrice` is exactly the amount
//! charged; `installmentPrice` is `totalPrice / n` rounded down (the bank absorbs the remainder
//! in the last installment). Debit, prepaid and foreign cards are offered a single payment
//! only.

use domain::enums::{CardType, PosStatus};
use domain::money::{Currency, MinorUnits};
use rust_decimal::Decimal;

use crate::decide::{Prepared, RoutingOptions, rows_by_installment};
use crate::model::{CardFacts, Commission, INSTALLMENT_MAX, PosCandidate};
use crate::pricing::{installment_price, total_price};
use crate::rules::{MatchFacts, RuleSet};

/// What an installment offer is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfferQuery<'c> {
    /// The price before any pass-on (`price`).
    pub price: MinorUnits,
    pub currency: Currency,
    pub card: CardFacts<'c>,
    /// `None` while authentication is not chosen (the usual case): a POS with either 3DS or
    /// non-3DS enabled may serve, and `THREE_DS` rule conditions do not match.
    pub three_ds: Option<bool>,
}

/// One installment count on offer (Craftgate's `InstallmentPrice`).
#[derive(Debug, Clone, PartialEq)]
pub struct InstallmentOption<'a> {
    /// `installmentNumber`, 1..=12.
    pub installment: u32,
    pub pos_id: i64,
    /// `posAlias`: the POS that would serve this count.
    pub pos_alias: &'a str,
    /// `bankCommissionRate`, percent; `None` when the POS has no row giving it.
    pub bank_rate: Option<Decimal>,
    /// `merchantCommissionRate`: the pass-on, percent (0 without a row).
    pub merchant_rate: Decimal,
    /// `installmentPrice`: `total_price / installment`, rounded down.
    pub installment_price: MinorUnits,
    /// `totalPrice`: [`crate::total_price`] of the price and `merchant_rate`.
    pub total_price: MinorUnits,
    /// `installmentLabel` of the commission row.
    pub label: Option<&'a str>,
    /// The POS has non-3DS disabled.
    pub force_3ds: bool,
    /// The POS does not allow payments without CVC.
    pub cvc_required: bool,
    /// `loyaltySupported`: loyalty is enabled on the POS.
    pub loyalty_supported: bool,
}

/// The offer for one card: every installment count 1..=12 some eligible POS can serve, in
/// ascending order, each with the POS the ranking puts first.
pub fn installment_offer<'a>(
    poses: &'a [PosCandidate],
    rules: &RuleSet,
    query: &OfferQuery<'_>,
    options: &RoutingOptions<'_>,
) -> Vec<InstallmentOption<'a>> {
    let facts = MatchFacts {
        amount_minor: query.price.get(),
        currency: query.currency,
        three_ds: query.three_ds,
        card: query.card,
    };
    let prepared = Prepared::new(poses, rules, facts, options.ignore_rules);
    let card = prepared.card();
    let tables: Vec<[Option<&'a Commission>; INSTALLMENT_MAX as usize + 1]> = poses
        .iter()
        .map(|pos| rows_by_installment(pos, card.brand))
        .collect();
    let most = if card.is_debit_like() || !card.domestic {
        1
    } else {
        INSTALLMENT_MAX
    };

    let mut offer = Vec::with_capacity(usize::try_from(most).unwrap_or(0));
    for installment in 1..=most {
        let slot = usize::try_from(installment).unwrap_or(0);
        let first = prepared.first(installment, options, |i, _| {
            tables
                .get(i)
                .and_then(|rows| rows.get(slot).copied().flatten())
        });
        let Some((pos, row, bank_rate)) = first else {
            continue;
        };
        let merchant_rate = row.map_or(Decimal::ZERO, |row| row.merchant_rate);
        let total = total_price(query.price, merchant_rate, query.currency);
        offer.push(InstallmentOption {
            installment,
            pos_id: pos.id,
            pos_alias: &pos.alias,
            bank_rate,
            merchant_rate,
            installment_price: installment_price(total, installment),
            total_price: total,
            label: row.and_then(|row| row.label.as_deref()),
            force_3ds: !pos.supports_non_three_ds,
            cvc_required: !pos.payment_without_cvc,
            loyalty_supported: pos.loyalty_enabled,
        });
    }
    offer
}

/// One card programme's offer, for `distinctCardBrandsWithLowestCommissions` without a BIN.
#[derive(Debug, Clone, PartialEq)]
pub struct BrandOffer<'a> {
    pub brand: &'a str,
    pub options: Vec<InstallmentOption<'a>>,
}

/// An offer per card programme named by an active commission row of an active POS in
/// `currency` (programmes compared case-insensitively, sorted by name), each for a domestic
/// credit card of that programme whose issuer is unknown (so not-on-us rates), with the
/// ranking of `options` — `LOW_COMMISSION_RATE` gives each programme its cheapest POS.
/// Programmes no eligible POS can serve are left out.
pub fn brand_offers<'a>(
    poses: &'a [PosCandidate],
    rules: &RuleSet,
    price: MinorUnits,
    currency: Currency,
    options: &RoutingOptions<'_>,
) -> Vec<BrandOffer<'a>> {
    let mut brands: Vec<&'a str> = Vec::new();
    let rows = poses
        .iter()
        .filter(|pos| pos.status == PosStatus::Active && pos.currency == currency)
        .flat_map(|pos| &pos.commissions)
        .filter(|row| row.active);
    for brand in rows.filter_map(|row| row.card_brand.as_deref()) {
        if !brands.iter().any(|b| b.eq_ignore_ascii_case(brand)) {
            brands.push(brand);
        }
    }
    brands.sort_by_key(|b| b.to_ascii_lowercase());
    brands
        .into_iter()
        .map(|brand| {
            let query = OfferQuery {
                price,
                currency,
                card: CardFacts {
                    brand: Some(brand),
                    card_type: Some(CardType::CreditCard),
                    domestic: true,
                    ..CardFacts::default()
                },
                three_ds: None,
            };
            BrandOffer {
                brand,
                options: installment_offer(poses, rules, &query, options),
            }
        })
        .filter(|offer| !offer.options.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use domain::enums::{CardAssociation, OrderingRule};

    use super::*;
    use crate::decide::decide;
    use crate::model::PaymentFacts;
    use crate::rules::{Action, Condition, Rule};

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn row(installment: u32, rate: &str, pass_on: &str) -> Commission {
        let mut row = Commission::flat(installment, dec(rate));
        row.merchant_rate = dec(pass_on);
        row.label = Some(format!("{installment} taksit"));
        row
    }

    fn poses() -> Vec<PosCandidate> {
        let mut a = PosCandidate::new(1, "a", 46, Currency::Try);
        a.commissions = vec![row(1, "1.5", "0"), row(2, "2.5", "3"), row(3, "3", "4.5")];
        let mut b = PosCandidate::new(2, "b", 62, Currency::Try);
        b.commissions = vec![row(1, "1.6", "0"), row(3, "2.9", "5"), row(6, "4", "9.99")];
        b.supports_non_three_ds = false;
        b.payment_without_cvc = true;
        b.loyalty_enabled = true;
        vec![a, b]
    }

    fn query(card: CardFacts<'_>) -> OfferQuery<'_> {
        OfferQuery {
            price: MinorUnits::from_stored(10_000),
            currency: Currency::Try,
            card,
            three_ds: None,
        }
    }

    fn credit() -> CardFacts<'static> {
        CardFacts {
            bank_code: Some(67),
            card_type: Some(CardType::CreditCard),
            association: Some(CardAssociation::Visa),
            brand: Some("World"),
            domestic: true,
            bin: "454671",
        }
    }

    fn low() -> RoutingOptions<'static> {
        RoutingOptions::ordered_by(OrderingRule::LowCommissionRate)
    }

    /// `n:alias total/installment` per option.
    fn summary(offer: &[InstallmentOption<'_>]) -> String {
        offer
            .iter()
            .map(|o| {
                format!(
                    "{}:{} {}/{}",
                    o.installment,
                    o.pos_alias,
                    o.total_price.get(),
                    o.installment_price.get()
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_credit_card_is_offered_every_count_some_pos_serves_at_its_cheapest_pos() {
        let poses = poses();
        let offer = installment_offer(&poses, &RuleSet::default(), &query(credit()), &low());
        assert_eq!(
            summary(&offer),
            "1:a 10000/10000 2:a 10300/5150 3:b 10500/3500 6:b 10999/1833"
        );
        let six = &offer[3];
        assert_eq!(six.bank_rate, Some(dec("4")));
        assert_eq!(six.merchant_rate, dec("9.99"));
        assert_eq!(six.label, Some("6 taksit"));
        assert!(six.force_3ds && !six.cvc_required && six.loyalty_supported);
        assert!(!offer[0].force_3ds && offer[0].cvc_required && !offer[0].loyalty_supported);
    }

    #[test]
    fn debit_prepaid_and_foreign_cards_are_offered_a_single_payment() {
        let poses = poses();
        let rules = RuleSet::default();
        for card in [
            CardFacts {
                card_type: Some(CardType::DebitCard),
                ..credit()
            },
            CardFacts {
                card_type: Some(CardType::PrepaidCard),
                ..credit()
            },
            CardFacts {
                domestic: false,
                bank_code: None,
                ..credit()
            },
        ] {
            let offer = installment_offer(&poses, &rules, &query(card), &low());
            assert_eq!(summary(&offer), "1:a 10000/10000");
        }
    }

    #[test]
    fn the_offer_follows_the_merchants_rules_for_each_count() {
        let poses = poses();
        let rules = RuleSet::new(vec![Rule {
            id: 1,
            name: "no b for 3".into(),
            priority: 0,
            conditions: vec![Condition::Installment { values: vec![3] }],
            action: Action::Exclude {
                aliases: vec!["b".into()],
            },
        }]);
        let offer = installment_offer(&poses, &rules, &query(credit()), &low());
        assert_eq!(
            summary(&offer),
            "1:a 10000/10000 2:a 10300/5150 3:a 10450/3483 6:b 10999/1833"
        );
    }

    #[test]
    fn offer_and_payment_agree_on_pos_and_total() {
        let poses = poses();
        let rules = RuleSet::default();
        let q = query(credit());
        for option in installment_offer(&poses, &rules, &q, &low()) {
            let facts = PaymentFacts {
                amount: q.price,
                currency: q.currency,
                installment: option.installment,
                three_ds: option.force_3ds,
                card: q.card,
            };
            let decision = decide(&poses, &rules, &facts, &low());
            let chosen = decision.chosen().unwrap();
            assert_eq!(chosen.alias, option.pos_alias);
            assert_eq!(chosen.total_price, option.total_price);
        }
    }

    #[test]
    fn a_pos_without_rows_offers_every_count_at_no_pass_on() {
        let poses = vec![PosCandidate::new(1, "bare", 46, Currency::Try)];
        let offer = installment_offer(&poses, &RuleSet::default(), &query(credit()), &low());
        assert_eq!(offer.len(), 12);
        assert!(
            offer
                .iter()
                .all(|o| o.total_price.get() == 10_000 && o.bank_rate.is_none())
        );
        assert_eq!(offer[11].installment_price.get(), 833);
    }

    #[test]
    fn brand_offers_give_each_programme_its_own_table() {
        let mut poses = poses();
        let mut bonus = row(9, "2", "7");
        bonus.card_brand = Some("Bonus".into());
        poses[0].commissions.push(bonus.clone());
        bonus.card_brand = Some("BONUS".into());
        poses[1].commissions.push(bonus);
        let mut axess = row(4, "2", "5");
        axess.card_brand = Some("Axess".into());
        poses[1].commissions.push(axess);
        let offers = brand_offers(
            &poses,
            &RuleSet::default(),
            MinorUnits::from_stored(10_000),
            Currency::Try,
            &low(),
        );
        let brands: Vec<&str> = offers.iter().map(|o| o.brand).collect();
        assert_eq!(brands, ["Axess", "Bonus"]);
        assert_eq!(
            summary(&offers[0].options),
            "1:a 10000/10000 2:a 10300/5150 3:b 10500/3500 4:b 10500/2625 6:b 10999/1833"
        );
        assert_eq!(
            summary(&offers[1].options),
            "1:a 10000/10000 2:a 10300/5150 3:b 10500/3500 6:b 10999/1833 9:a 10700/1188"
        );
    }
}
