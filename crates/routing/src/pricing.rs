//! The two roundings routing does, shared by the installment offer and the charge.
//!
//! * [`total_price`]: what the buyer pays, `price × (1 + merchant_rate / 100)`, rounded **once**,
//!   half-up (half away from zero; amounts are never negative), to the currency's minor units.
//!   The offer's `totalPrice` and the amount charged both come from this function, so they
//!   agree to the minor unit.
//! * [`cost_amount`]: the bank's commission, `amount × rate / 100`, rounded the same way. It
//!   explains a decision; the bank's own statement is authoritative.
//!
//! Per-installment prices are `totalPrice / n` rounded **down** to minor units (see
//! [`installment_price`]); the bank absorbs the remainder in the last installment, the charge
//! is always `totalPrice`.

use domain::money::{Currency, MinorUnits};
use rust_decimal::{Decimal, RoundingStrategy};

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

/// What the buyer pays for `price` when the merchant passes on `merchant_rate` percent:
/// `price × (1 + merchant_rate / 100)`, rounded half-up once to `currency`'s minor units.
/// A negative rate counts as zero, so the total is never below the price.
///
/// ```
/// use domain::money::{Currency, MinorUnits};
/// use rust_decimal::Decimal;
/// let price = MinorUnits::from_stored(10_000); // 100.00 TRY
/// let total = routing::total_price(price, Decimal::new(2_345, 3), Currency::Try); // 2.345 %
/// assert_eq!(total.get(), 10_235); // 102.345 → 102.35
/// ```
pub fn total_price(price: MinorUnits, merchant_rate: Decimal, currency: Currency) -> MinorUnits {
    let pass_on = percent_of(price, merchant_rate.max(Decimal::ZERO), currency);
    price
        .checked_add(pass_on)
        .unwrap_or(MinorUnits::from_stored(i64::MAX))
}

/// The bank's commission on `amount` at `rate` percent, rounded half-up to minor units.
pub fn cost_amount(amount: MinorUnits, rate: Decimal, currency: Currency) -> MinorUnits {
    percent_of(amount, rate.max(Decimal::ZERO), currency)
}

/// One installment of `total` paid in `installment` parts: rounded down to minor units.
pub fn installment_price(total: MinorUnits, installment: u32) -> MinorUnits {
    MinorUnits::from_stored(total.get() / i64::from(installment.max(1)))
}

/// `amount × rate / 100` in `currency`, rounded half-up to its minor units (saturating on an
/// absurd rate rather than overflowing). Usually done in 64-bit integers (see
/// [`percent_of_in_integers`]); with `Decimal` otherwise, where dividing by 100 moves the
/// decimal point instead of dividing.
fn percent_of(amount: MinorUnits, rate: Decimal, currency: Currency) -> MinorUnits {
    if let Some(exact) = percent_of_in_integers(amount, rate) {
        return exact;
    }
    let saturated = MinorUnits::from_stored(i64::MAX);
    let Some(mut exact) = amount.to_decimal(currency).checked_mul(rate) else {
        return saturated;
    };
    if exact.set_scale(exact.scale() + 2).is_err() {
        exact /= HUNDRED;
    }
    let digits = currency.minor_units();
    let mut rounded = exact.round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(digits);
    if rounded.scale() != digits {
        return saturated;
    }
    // With the scale equal to the currency's digits, the mantissa is the amount in minor units.
    i64::try_from(rounded.mantissa()).map_or(saturated, MinorUnits::from_stored)
}

/// The same result in integers, when they suffice: the rate is `mantissa / 10^scale`, so
/// `minor × rate / 100 = minor × mantissa / 10^(scale + 2)`, rounded half-up on the remainder.
/// Rounding the amount in minor units to a whole number is rounding it in the currency to its
/// minor digits. `None` for a negative rate or when a product would not fit in an `i64`.
fn percent_of_in_integers(amount: MinorUnits, rate: Decimal) -> Option<MinorUnits> {
    if rate.is_sign_negative() {
        return None;
    }
    let mantissa = i64::try_from(rate.mantissa()).ok()?;
    let divisor = 10i64.checked_pow(rate.scale().checked_add(2)?)?;
    let product = amount.get().checked_mul(mantissa)?;
    let (quotient, remainder) = (product / divisor, product % divisor);
    let round_up = remainder >= divisor - remainder;
    Some(MinorUnits::from_stored(quotient + i64::from(round_up)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn total_price_rounds_half_up_once() {
        let price = MinorUnits::from_stored(10_000);
        assert_eq!(
            total_price(price, dec("2.345"), Currency::Try).get(),
            10_235
        );
        assert_eq!(
            total_price(price, dec("2.344"), Currency::Try).get(),
            10_234
        );
        assert_eq!(total_price(price, dec("0"), Currency::Try).get(), 10_000);
        // 0.5 of a minor unit rounds up.
        assert_eq!(
            total_price(MinorUnits::from_stored(50), dec("1"), Currency::Try).get(),
            51
        );
        // JPY has no minor units: 1001 × 1.5 % = 15.015 → 15.
        assert_eq!(
            total_price(MinorUnits::from_stored(1001), dec("1.5"), Currency::Jpy).get(),
            1016
        );
        // KWD has three: 1.000 × 0.05 % = 0.0005 → 0.001.
        assert_eq!(
            total_price(MinorUnits::from_stored(1000), dec("0.05"), Currency::Kwd).get(),
            1001
        );
    }

    #[test]
    fn products_too_large_for_integers_take_the_decimal_path() {
        let price = MinorUnits::from_stored(domain::money::AMOUNT_MINOR_MAX);
        let rate = dec("1.23456785");
        assert_eq!(percent_of_in_integers(price, rate), None);
        // 10^13 × 1.23456785 / 100 = 123456785000 exactly; and a half to round up.
        assert_eq!(
            cost_amount(price, rate, Currency::Try).get(),
            123_456_785_000
        );
        let odd = MinorUnits::from_stored(domain::money::AMOUNT_MINOR_MAX - 1);
        assert_eq!(percent_of_in_integers(odd, dec("0.50000000")), None);
        // 9999999999999 × 0.5 / 100 = 49999999999.995 → 50000000000
        assert_eq!(
            cost_amount(odd, dec("0.50000000"), Currency::Try).get(),
            50_000_000_000
        );
    }

    #[test]
    fn a_negative_pass_on_rate_counts_as_zero() {
        let price = MinorUnits::from_stored(10_000);
        assert_eq!(total_price(price, dec("-3"), Currency::Try), price);
    }

    #[test]
    fn cost_amount_rounds_half_up() {
        let amount = MinorUnits::from_stored(12_345);
        assert_eq!(cost_amount(amount, dec("1.79"), Currency::Try).get(), 221); // 220.9755
        assert_eq!(
            cost_amount(MinorUnits::from_stored(50), dec("1"), Currency::Try).get(),
            1
        ); // 0.5
    }

    #[test]
    fn installment_prices_round_down() {
        let total = MinorUnits::from_stored(10_000);
        assert_eq!(installment_price(total, 3).get(), 3_333);
        assert_eq!(installment_price(total, 1).get(), 10_000);
        assert_eq!(installment_price(total, 0).get(), 10_000);
    }

    proptest::proptest! {
        #[test]
        fn the_integer_path_agrees_with_decimal_arithmetic(
            minor in 0i64..=domain::money::AMOUNT_MINOR_MAX,
            mantissa in 0i64..1_000_000_000,
            scale in 0u32..12,
        ) {
            let amount = MinorUnits::from_stored(minor);
            let rate = Decimal::new(mantissa, scale);
            let Some(fast) = percent_of_in_integers(amount, rate) else {
                return Ok(());
            };
            let exact = (Decimal::from(minor) * rate / HUNDRED)
                .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
            proptest::prop_assert_eq!(Decimal::from(fast.get()), exact);
        }
    }

    #[test]
    fn absurd_rates_saturate_instead_of_overflowing() {
        let price = MinorUnits::from_stored(domain::money::AMOUNT_MINOR_MAX);
        assert_eq!(
            total_price(price, Decimal::MAX, Currency::Try).get(),
            i64::MAX
        );
    }
}
