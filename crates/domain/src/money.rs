//! Exact money: ISO 4217 currencies with their minor units, and amounts as integer minor units.
//!
//! Amounts arrive as JSON decimals (`100.5`) and are converted once, at the edge, into
//! [`MinorUnits`]; everything after that is integer arithmetic. Over-precise amounts
//! (`1.001` TRY) are rejected rather than rounded.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Currencies accepted by the Craftgate API (its `Currency` enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    Try,
    Usd,
    Eur,
    Gbp,
    Ars,
    Brl,
    Cny,
    Aed,
    Iqd,
    Azn,
    Kzt,
    Kwd,
    Sar,
    Bhd,
    Rub,
    Jpy,
    Egp,
    Mxn,
    Ron,
}

impl Currency {
    pub const ALL: [Currency; 19] = [
        Currency::Try,
        Currency::Usd,
        Currency::Eur,
        Currency::Gbp,
        Currency::Ars,
        Currency::Brl,
        Currency::Cny,
        Currency::Aed,
        Currency::Iqd,
        Currency::Azn,
        Currency::Kzt,
        Currency::Kwd,
        Currency::Sar,
        Currency::Bhd,
        Currency::Rub,
        Currency::Jpy,
        Currency::Egp,
        Currency::Mxn,
        Currency::Ron,
    ];

    /// Digits after the decimal point (ISO 4217 exponent).
    pub fn minor_units(self) -> u32 {
        match self {
            Currency::Jpy => 0,
            Currency::Kwd | Currency::Bhd | Currency::Iqd => 3,
            _ => 2,
        }
    }

    /// ISO 4217 numeric code, as most Turkish bank protocols want it (`949` for TRY).
    pub fn numeric_code(self) -> &'static str {
        match self {
            Currency::Try => "949",
            Currency::Usd => "840",
            Currency::Eur => "978",
            Currency::Gbp => "826",
            Currency::Ars => "032",
            Currency::Brl => "986",
            Currency::Cny => "156",
            Currency::Aed => "784",
            Currency::Iqd => "368",
            Currency::Azn => "944",
            Currency::Kzt => "398",
            Currency::Kwd => "414",
            Currency::Sar => "682",
            Currency::Bhd => "048",
            Currency::Rub => "643",
            Currency::Jpy => "392",
            Currency::Egp => "818",
            Currency::Mxn => "484",
            Currency::Ron => "946",
        }
    }

    pub fn from_numeric_code(code: &str) -> Option<Currency> {
        Currency::ALL.into_iter().find(|c| c.numeric_code() == code)
    }

    pub fn code(self) -> &'static str {
        match self {
            Currency::Try => "TRY",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
            Currency::Ars => "ARS",
            Currency::Brl => "BRL",
            Currency::Cny => "CNY",
            Currency::Aed => "AED",
            Currency::Iqd => "IQD",
            Currency::Azn => "AZN",
            Currency::Kzt => "KZT",
            Currency::Kwd => "KWD",
            Currency::Sar => "SAR",
            Currency::Bhd => "BHD",
            Currency::Rub => "RUB",
            Currency::Jpy => "JPY",
            Currency::Egp => "EGP",
            Currency::Mxn => "MXN",
            Currency::Ron => "RON",
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::ALL
            .into_iter()
            .find(|c| c.code() == s)
            .ok_or_else(|| MoneyError::UnknownCurrency(s.chars().take(8).collect()))
    }
}

/// Largest amount Orkestra accepts in one payment, in minor units (10^13, i.e. 100 billion
/// in a two-decimal currency). Keeps every sum of amounts far away from `i64` overflow.
pub const AMOUNT_MINOR_MAX: i64 = 10_000_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency {0:?}")]
    UnknownCurrency(String),
    #[error("amount must be greater than zero")]
    NotPositive,
    #[error("amount has more decimal places than {currency} allows ({allowed})")]
    TooPrecise { currency: Currency, allowed: u32 },
    #[error("amount is too large")]
    TooLarge,
}

/// An amount in a currency's minor units (kuruş for TRY). Always `>= 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MinorUnits(i64);

impl MinorUnits {
    pub const ZERO: MinorUnits = MinorUnits(0);

    /// Converts a positive decimal amount, refusing to round.
    pub fn from_decimal(amount: Decimal, currency: Currency) -> Result<MinorUnits, MoneyError> {
        if amount <= Decimal::ZERO {
            return Err(MoneyError::NotPositive);
        }
        Self::from_decimal_allow_zero(amount, currency)
    }

    /// Like [`MinorUnits::from_decimal`] but accepts zero (wallet prices, refunds of nothing).
    pub fn from_decimal_allow_zero(
        amount: Decimal,
        currency: Currency,
    ) -> Result<MinorUnits, MoneyError> {
        if amount < Decimal::ZERO {
            return Err(MoneyError::NotPositive);
        }
        let allowed = currency.minor_units();
        let normalized = amount.normalize();
        if normalized.scale() > allowed {
            return Err(MoneyError::TooPrecise { currency, allowed });
        }
        let scaled = normalized
            .checked_mul(Decimal::from(10i64.pow(allowed)))
            .ok_or(MoneyError::TooLarge)?;
        let minor: i64 = scaled
            .trunc()
            .try_into()
            .map_err(|_| MoneyError::TooLarge)?;
        if minor > AMOUNT_MINOR_MAX {
            return Err(MoneyError::TooLarge);
        }
        Ok(MinorUnits(minor))
    }

    /// For values read back from storage, which were validated when written.
    pub fn from_stored(minor: i64) -> MinorUnits {
        MinorUnits(minor.max(0))
    }

    pub fn get(self) -> i64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The amount as a decimal with exactly the currency's number of decimal places.
    pub fn to_decimal(self, currency: Currency) -> Decimal {
        Decimal::new(self.0, currency.minor_units())
    }

    pub fn checked_add(self, other: MinorUnits) -> Option<MinorUnits> {
        self.0.checked_add(other.0).map(MinorUnits)
    }

    pub fn checked_sub(self, other: MinorUnits) -> Option<MinorUnits> {
        self.0
            .checked_sub(other.0)
            .filter(|v| *v >= 0)
            .map(MinorUnits)
    }

    pub fn saturating_sub(self, other: MinorUnits) -> MinorUnits {
        MinorUnits((self.0 - other.0).max(0))
    }
}

/// Formats an amount the way NestPay-style banks want it: `.` separator, the currency's
/// decimals, trailing zeros dropped (`100.50` → `"100.5"`, `1.00` → `"1"`).
pub fn format_decimal_trimmed(amount: MinorUnits, currency: Currency) -> String {
    amount.to_decimal(currency).normalize().to_string()
}

/// Formats an amount with exactly the currency's decimals (`1` → `"1.00"`).
pub fn format_decimal_fixed(amount: MinorUnits, currency: Currency) -> String {
    amount.to_decimal(currency).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn two_decimal_amounts_convert_exactly() {
        assert_eq!(
            MinorUnits::from_decimal(dec("100"), Currency::Try)
                .unwrap()
                .get(),
            10000
        );
        assert_eq!(
            MinorUnits::from_decimal(dec("0.29"), Currency::Try)
                .unwrap()
                .get(),
            29
        );
        assert_eq!(
            MinorUnits::from_decimal(dec("19.99"), Currency::Try)
                .unwrap()
                .get(),
            1999
        );
        assert_eq!(
            MinorUnits::from_decimal(dec("100.00000000"), Currency::Try)
                .unwrap()
                .get(),
            10000
        );
    }

    #[test]
    fn over_precise_amounts_are_rejected_not_rounded() {
        assert_eq!(
            MinorUnits::from_decimal(dec("1.001"), Currency::Try),
            Err(MoneyError::TooPrecise {
                currency: Currency::Try,
                allowed: 2
            })
        );
        assert!(MinorUnits::from_decimal(dec("1.5"), Currency::Jpy).is_err());
        assert_eq!(
            MinorUnits::from_decimal(dec("1.234"), Currency::Kwd)
                .unwrap()
                .get(),
            1234
        );
    }

    #[test]
    fn zero_and_negative_amounts_are_rejected() {
        assert_eq!(
            MinorUnits::from_decimal(dec("0"), Currency::Try),
            Err(MoneyError::NotPositive)
        );
        assert_eq!(
            MinorUnits::from_decimal(dec("-1"), Currency::Try),
            Err(MoneyError::NotPositive)
        );
        assert!(MinorUnits::from_decimal_allow_zero(dec("0"), Currency::Try).is_ok());
    }

    #[test]
    fn huge_amounts_are_rejected() {
        assert_eq!(
            MinorUnits::from_decimal(dec("1000000000000000"), Currency::Try),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn bank_formats() {
        let a = MinorUnits::from_decimal(dec("100.50"), Currency::Try).unwrap();
        assert_eq!(format_decimal_trimmed(a, Currency::Try), "100.5");
        assert_eq!(format_decimal_fixed(a, Currency::Try), "100.50");
        let b = MinorUnits::from_decimal(dec("1"), Currency::Try).unwrap();
        assert_eq!(format_decimal_trimmed(b, Currency::Try), "1");
    }

    #[test]
    fn currency_codes_round_trip() {
        for c in Currency::ALL {
            assert_eq!(c.code().parse::<Currency>().unwrap(), c);
            assert_eq!(Currency::from_numeric_code(c.numeric_code()), Some(c));
        }
        assert!("XXX".parse::<Currency>().is_err());
    }

    proptest! {
        #[test]
        fn minor_units_round_trip_through_decimal(minor in 1i64..AMOUNT_MINOR_MAX) {
            for c in [Currency::Try, Currency::Jpy, Currency::Kwd] {
                let d = MinorUnits::from_stored(minor).to_decimal(c);
                prop_assert_eq!(MinorUnits::from_decimal(d, c).unwrap().get(), minor);
            }
        }

        #[test]
        fn conversion_never_panics(mantissa in any::<i64>(), scale in 0u32..28) {
            let _ = MinorUnits::from_decimal(Decimal::new(mantissa, scale), Currency::Try);
        }
    }
}
