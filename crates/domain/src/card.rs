//! Card data as it crosses Orkestra: a Luhn-checked [`CardNumber`], a [`Cvc`] and an
//! [`Expiry`]. None of them print their secret part: `Debug` and `Display` show only the
//! BIN and last four digits of a number, and nothing of a CVC. The clear value is reachable
//! only through the explicit `expose_*` methods, which connectors call when they build
//! the bank request.

use std::fmt;

use chrono::{Datelike, NaiveDate};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("card number must be 12 to 19 digits")]
    NumberFormat,
    #[error("card number fails the Luhn check")]
    NumberLuhn,
    #[error("invalid card expiry month")]
    ExpiryMonth,
    #[error("invalid card expiry year")]
    ExpiryYear,
    #[error("card is expired")]
    Expired,
    #[error("cvc must be 3 or 4 digits")]
    Cvc,
    #[error("card holder name is missing or too long")]
    HolderName,
}

/// A primary account number that passed the Luhn check.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber(String);

impl CardNumber {
    /// Accepts digits with optional spaces or dashes between groups.
    pub fn parse(raw: &str) -> Result<CardNumber, CardError> {
        let digits: String = raw.chars().filter(|c| *c != ' ' && *c != '-').collect();
        if !(12..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CardError::NumberFormat);
        }
        if !luhn_valid(&digits) {
            return Err(CardError::NumberLuhn);
        }
        Ok(CardNumber(digits))
    }

    /// The first six digits, as the BIN table and the Craftgate API use them.
    pub fn bin6(&self) -> &str {
        &self.0[..6]
    }

    /// The first eight digits (newer BIN ranges are eight digits long).
    pub fn bin8(&self) -> &str {
        &self.0[..8]
    }

    pub fn last_four(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    /// `552879******0008`, the form shown to people and written to logs.
    pub fn masked(&self) -> String {
        let hidden = self.0.len() - 10;
        format!("{}{}{}", self.bin6(), "*".repeat(hidden), self.last_four())
    }

    /// The clear number. Call only where the bank's wire format needs it.
    pub fn expose_number(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({})", self.masked())
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// The Luhn (mod 10) check over a string of ASCII digits.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return false;
        }
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// Card security code. Never stored, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Cvc(String);

impl Cvc {
    pub fn parse(raw: &str) -> Result<Cvc, CardError> {
        let raw = raw.trim();
        if !(3..=4).contains(&raw.len()) || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CardError::Cvc);
        }
        Ok(Cvc(raw.to_owned()))
    }

    pub fn expose_cvc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Cvc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cvc(***)")
    }
}

/// Card expiry month and four-digit year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    pub month: u32,
    pub year: i32,
}

impl Expiry {
    /// Parses the API's strings: month `"1"`..`"12"` (or `"01"`), year `"2030"` or `"30"`.
    pub fn parse(month: &str, year: &str) -> Result<Expiry, CardError> {
        let month: u32 = month.trim().parse().map_err(|_| CardError::ExpiryMonth)?;
        if !(1..=12).contains(&month) {
            return Err(CardError::ExpiryMonth);
        }
        let year_raw = year.trim();
        let year: i32 = year_raw.parse().map_err(|_| CardError::ExpiryYear)?;
        let year = match year_raw.len() {
            2 => 2000 + year,
            4 => year,
            _ => return Err(CardError::ExpiryYear),
        };
        if !(2000..=2099).contains(&year) {
            return Err(CardError::ExpiryYear);
        }
        Ok(Expiry { month, year })
    }

    /// A card is valid through the last day of its expiry month.
    pub fn is_expired_on(&self, today: NaiveDate) -> bool {
        (self.year, self.month) < (today.year(), today.month())
    }

    /// `MM/YY`, as NestPay's `Expires` element wants it.
    pub fn mm_slash_yy(&self) -> String {
        format!("{:02}/{:02}", self.month, self.year % 100)
    }

    pub fn mm(&self) -> String {
        format!("{:02}", self.month)
    }

    pub fn yy(&self) -> String {
        format!("{:02}", self.year % 100)
    }

    pub fn yyyy(&self) -> String {
        format!("{:04}", self.year)
    }
}

/// Everything a connector needs to charge a card directly.
#[derive(Debug, Clone)]
pub struct CardDetails {
    pub number: CardNumber,
    pub expiry: Expiry,
    pub cvc: Option<Cvc>,
    pub holder_name: String,
}

pub const HOLDER_NAME_LEN_MAX: usize = 100;

/// Trims and checks a card holder name.
pub fn validate_holder_name(raw: &str) -> Result<String, CardError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > HOLDER_NAME_LEN_MAX {
        return Err(CardError::HolderName);
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn luhn_accepts_craftgate_test_cards() {
        for pan in [
            "5258640000000001",
            "4043080000000003",
            "5406670000000009",
            "5100050000006661",
        ] {
            assert!(CardNumber::parse(pan).is_ok(), "{pan}");
        }
    }

    #[test]
    fn luhn_rejects_a_changed_digit() {
        assert_eq!(
            CardNumber::parse("5258640000000002"),
            Err(CardError::NumberLuhn)
        );
        assert_eq!(CardNumber::parse("52586400"), Err(CardError::NumberFormat));
        assert_eq!(
            CardNumber::parse("5258a40000000001"),
            Err(CardError::NumberFormat)
        );
        assert!(!luhn_valid(""));
    }

    #[test]
    fn numbers_never_print_in_clear() {
        let pan = CardNumber::parse("5258 6400 0000 0001").unwrap();
        assert_eq!(pan.masked(), "525864******0001");
        assert_eq!(format!("{pan:?}"), "CardNumber(525864******0001)");
        assert_eq!(format!("{pan}"), "525864******0001");
        let cvc = Cvc::parse("123").unwrap();
        assert!(!format!("{cvc:?}").contains("123"));
    }

    #[test]
    fn expiry_rules() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert!(!Expiry::parse("11", "2026").unwrap().is_expired_on(today));
        assert!(Expiry::parse("10", "2026").unwrap().is_expired_on(today));
        assert_eq!(
            Expiry::parse("7", "44").unwrap(),
            Expiry {
                month: 7,
                year: 2044
            }
        );
        assert_eq!(Expiry::parse("13", "2030"), Err(CardError::ExpiryMonth));
        assert_eq!(Expiry::parse("12", "203"), Err(CardError::ExpiryYear));
        assert_eq!(Expiry::parse("01", "2022").unwrap().mm_slash_yy(), "01/22");
    }

    #[test]
    fn cvc_rules() {
        assert!(Cvc::parse("000").is_ok());
        assert!(Cvc::parse("1234").is_ok());
        assert_eq!(Cvc::parse("12"), Err(CardError::Cvc));
        assert_eq!(Cvc::parse("12a"), Err(CardError::Cvc));
    }

    proptest! {
        #[test]
        fn appending_the_luhn_check_digit_always_validates(body in "[0-9]{11,18}") {
            let check = (0..10u8)
                .map(|d| format!("{body}{d}"))
                .find(|candidate| luhn_valid(candidate))
                .unwrap();
            prop_assert!(CardNumber::parse(&check).is_ok());
        }

        #[test]
        fn parse_never_panics(raw in ".{0,40}") {
            let _ = CardNumber::parse(&raw);
        }
    }
}
