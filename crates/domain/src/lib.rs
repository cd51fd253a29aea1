//! Orkestra's domain vocabulary, shared by every other crate.
//!
//! Principal types: [`money::Currency`] and [`money::MinorUnits`] (exact money),
//! [`card::CardNumber`] (a Luhn-checked PAN that never prints itself),
//! [`card::CardDetails`], the Craftgate enums in [`enums`], and the BIN table in [`bin`].
//! This crate does no IO and has no async code.
//!
//! ```
//! use domain::money::{Currency, MinorUnits};
//! use rust_decimal::Decimal;
//! let amount = MinorUnits::from_decimal(Decimal::new(10001, 2), Currency::Try).unwrap();
//! assert_eq!(amount.get(), 10001);
//! assert_eq!(amount.to_decimal(Currency::Try).to_string(), "100.01");
//! ```

pub mod bin;
pub mod card;
pub mod clock;
pub mod enums;
pub mod money;
pub mod secret;
