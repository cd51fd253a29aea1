//! Request parsing and response formatting helpers: a JSON body reader that turns every
//! parse failure into a clear 400, exact decimals in and out, and Craftgate's local
//! date-time format.

use chrono::{DateTime, FixedOffset};
use domain::money::{Currency, MinorUnits, MoneyError};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::envelope::ApiError;

/// Parses a request body. Empty bodies count as `{}` only where the caller allows it.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("4000", "request body is required"));
    }
    if has_escaped_nul(body) {
        return Err(nul_refused());
    }
    serde_json::from_slice(body).map_err(|e| {
        let message = match e.classify() {
            serde_json::error::Category::Data => format!("invalid request: {e}"),
            _ => format!("malformed JSON: {e}"),
        };
        ApiError::bad_request("4000", message)
    })
}

/// The error for text holding a NUL character: no field needs one, and PostgreSQL cannot
/// store it (the insert would fail as a server error after validation).
pub fn nul_refused() -> ApiError {
    ApiError::bad_request("4000", "text fields cannot contain NUL characters")
}

/// Whether a JSON text holds `\u0000` inside a string (raw NUL bytes are invalid JSON and
/// fail parsing anyway). A `\\u0000` (an escaped backslash, then text) does not count.
fn has_escaped_nul(body: &[u8]) -> bool {
    let mut backslashes = 0usize;
    for (i, byte) in body.iter().enumerate() {
        if *byte == b'\\' {
            backslashes += 1;
            continue;
        }
        if backslashes % 2 == 1 && body[i..].starts_with(b"u0000") {
            return true;
        }
        backslashes = 0;
    }
    false
}

/// Accepts a JSON number (kept exact) or a numeric string.
pub fn decimal_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Decimal>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(serde::de::Error::custom(format!(
                "expected a number, got {other}"
            )));
        }
    };
    parse_decimal(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let text = text.trim();
    if text.len() > 40 {
        return Err("number is too long".into());
    }
    Decimal::from_str_exact(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| format!("{text:?} is not a decimal number"))
}

/// Converts a validated decimal amount for `field`, with the error the client should see.
pub fn amount(
    field: &str,
    value: Option<Decimal>,
    currency: Currency,
) -> Result<MinorUnits, ApiError> {
    let value =
        value.ok_or_else(|| ApiError::bad_request("4001", format!("{field} is required")))?;
    MinorUnits::from_decimal(value, currency).map_err(|e| money_error(field, e))
}

pub fn money_error(field: &str, e: MoneyError) -> ApiError {
    match e {
        MoneyError::NotPositive => {
            ApiError::bad_request("4101", format!("{field} must be greater than zero"))
        }
        MoneyError::TooPrecise { allowed, .. } => ApiError::bad_request(
            "4101",
            format!("{field} has more than {allowed} decimal places"),
        ),
        MoneyError::TooLarge => ApiError::bad_request("4101", format!("{field} is too large")),
        MoneyError::UnknownCurrency(c) => {
            ApiError::bad_request("4102", format!("unknown currency {c:?}"))
        }
    }
}

/// A money value for a response: a JSON number with the currency's decimals.
pub fn money(minor: i64, currency: &str) -> Value {
    let currency: Currency = currency.parse().unwrap_or(Currency::Try);
    let decimal = MinorUnits::from_stored(minor).to_decimal(currency);
    number(decimal)
}

pub fn number(decimal: Decimal) -> Value {
    decimal
        .to_string()
        .parse::<serde_json::Number>()
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// `yyyy-MM-ddTHH:mm:ss` in the API's local zone, as the Java and Go clients parse it.
pub fn local_datetime(epoch_ms: i64, zone: FixedOffset) -> Value {
    match DateTime::from_timestamp_millis(epoch_ms) {
        Some(t) => Value::String(
            t.with_timezone(&zone)
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string(),
        ),
        None => Value::Null,
    }
}

/// Parses a path id; a non-numeric id is simply not found.
pub fn path_id(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found(what))
}

/// Checks a free-text field's length.
pub fn text_max(field: &str, value: &Option<String>, max: usize) -> Result<(), ApiError> {
    if value.as_ref().is_some_and(|v| v.chars().count() > max) {
        return Err(ApiError::bad_request(
            "4002",
            format!("{field} is longer than {max} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escaped_nul_is_found_only_inside_an_escape() {
        assert!(has_escaped_nul(br#"{"a":"x\u0000"}"#));
        assert!(has_escaped_nul(br#"{"a":"\\\u0000"}"#));
        assert!(!has_escaped_nul(br#"{"a":"\\u0000"}"#));
        assert!(!has_escaped_nul(br#"{"a":"u0000"}"#));
        assert!(parse_body::<Value>(br#"{"conversationId":"\u0000"}"#).is_err());
    }

    #[derive(Debug, Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "decimal_opt")]
        price: Option<Decimal>,
    }

    #[test]
    fn decimals_arrive_exactly() {
        let p: Probe = parse_body(br#"{"price": 0.1}"#).unwrap();
        assert_eq!(p.price.unwrap().to_string(), "0.1");
        let p: Probe = parse_body(br#"{"price": "100.50"}"#).unwrap();
        assert_eq!(p.price.unwrap().to_string(), "100.50");
        let p: Probe = parse_body(br#"{"price": 100.00000000}"#).unwrap();
        assert_eq!(
            MinorUnits::from_decimal(p.price.unwrap(), Currency::Try)
                .unwrap()
                .get(),
            10000
        );
        assert!(parse_body::<Probe>(br#"{"price": true}"#).is_err());
        assert!(parse_body::<Probe>(br#"{"price": "abc"}"#).is_err());
        assert!(parse_body::<Probe>(b"{").is_err());
        assert!(parse_body::<Probe>(b"").is_err());
    }

    #[test]
    fn money_renders_with_currency_decimals() {
        assert_eq!(money(10050, "TRY").to_string(), "100.50");
        assert_eq!(money(5, "JPY").to_string(), "5");
    }

    proptest! {
        #[test]
        fn body_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_body::<Probe>(&bytes);
            let _ = parse_body::<serde_json::Value>(&bytes);
        }
    }
}
