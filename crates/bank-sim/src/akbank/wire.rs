//! Akbank's wire format on the bank's side: the JSON request (read by path), the
//! HMAC-SHA512 signatures, and the replies.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use domain::clock::{istanbul, to_local};
use hmac::{Hmac, Mac as _};
use serde_json::{Map, Value};
use sha2::Sha512;

use super::codes::Code;

/// `b64(HMAC-SHA512(secret_key, message))`; the key is the ASCII characters as issued.
pub fn hmac_b64(secret_key: &str, message: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha512>::new_from_slice(secret_key.as_bytes()) else {
        return String::new();
    };
    mac.update(message);
    BASE64.encode(mac.finalize().into_bytes())
}

/// Constant-time comparison of a posted signature with the expected one.
pub fn signature_matches(expected: &str, posted: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    !expected.is_empty()
        && expected.len() == posted.len()
        && bool::from(expected.as_bytes().ct_eq(posted.as_bytes()))
}

/// A parsed API request: the JSON object as sent.
#[derive(Debug, Clone)]
pub struct Request {
    pub body: Map<String, Value>,
}

/// Why a body is not a request.
#[derive(Debug)]
pub struct Unreadable(pub String);

pub fn parse_request(body: &[u8]) -> Result<Request, Unreadable> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(body)) => Ok(Request { body }),
        Ok(_) => Err(Unreadable("body is not a JSON object".into())),
        Err(e) => Err(Unreadable(format!("malformed JSON: {e}"))),
    }
}

impl Request {
    /// The value at `path` (`"transaction.amount"`).
    pub fn get(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('.');
        let mut value = self.body.get(parts.next()?)?;
        for part in parts {
            value = value.get(part)?;
        }
        Some(value)
    }

    /// A string member, trimmed; `""` when absent or not a string.
    pub fn text(&self, path: &str) -> &str {
        self.get(path)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
    }

    /// An integer member; `None` when absent or not a JSON integer (`"949"` is not one).
    pub fn int(&self, path: &str) -> Option<i64> {
        self.get(path)
            .filter(|v| v.is_number())
            .and_then(|v| v.to_string().parse().ok())
    }

    pub fn has(&self, path: &str) -> bool {
        self.get(path).is_some_and(|v| !v.is_null())
    }
}

/// `txnDateTime`: bank-local time with milliseconds (`2024-04-18T20:15:38.036`).
pub fn txn_date_time(at: DateTime<Utc>) -> String {
    to_local(at, istanbul())
        .format("%Y-%m-%dT%H:%M:%S%.3f")
        .to_string()
}

/// What the API answers: an HTTP status (200, or 400 for a body the bank cannot read) and
/// a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn ok(body: Value) -> Answer {
        Answer { status: 200, body }
    }

    /// HTTP 400 `{code, message}`: validation refused a request it could not read.
    pub fn bad_request(code: Code, detail: &str) -> Answer {
        Answer {
            status: 400,
            body: serde_json::json!({
                "code": code.code,
                "message": format!("{} {detail}", code.message).trim().to_owned(),
            }),
        }
    }

    pub fn code(&self) -> &str {
        self.body
            .get("responseCode")
            .or_else(|| self.body.get("code"))
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(&self.body).unwrap_or_default()
    }
}
