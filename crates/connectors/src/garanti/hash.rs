//! Garanti GVPS hashes (`vpos-protocols.md` §2.2), all over the UTF-8 bytes of the
//! concatenated strings:
//!
//! * `SecurityData = HEX(SHA1(password || leftpad(TerminalID, 9, '0')))`, the password of the
//!   user the request goes out as (provision user, or refund user for void/refund).
//! * API `HashData`, v512: `HEX(SHA512(OrderID || TerminalID || CardNumber || Amount ||
//!   CurrencyCode || SecurityData))`; legacy v0.01: `HEX(SHA1(OrderID || TerminalID ||
//!   CardNumber || Amount || SecurityData))` (no currency).
//! * 3D form `secure3dhash`, v512: `HEX(SHA512(terminalid || orderid || txnamount ||
//!   txncurrencycode || successurl || errorurl || txntype || txninstallmentcount || storeKey
//!   || SecurityData))`; legacy v0.01 the same without `txncurrencycode`, SHA-1.
//! * Callback `hash`: the values of the fields `hashparams` names (`a:b:c:`, a missing one
//!   counts as `""`), then the store key; v512 `HEX(SHA512(…))`, v0.01 `b64(SHA1(…))`.
//!
//! `HEX` is upper-case. Verifications compare in constant time.

use bank_crypto::hex_upper;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::{Digest as _, Sha1};
use sha2::Sha512;

fn sha512_hex(parts: &[&str]) -> String {
    let mut sha = Sha512::new();
    for part in parts {
        sha.update(part.as_bytes());
    }
    hex_upper(&sha.finalize())
}

fn sha1_hex(parts: &[&str]) -> String {
    let mut sha = Sha1::new();
    for part in parts {
        sha.update(part.as_bytes());
    }
    hex_upper(&sha.finalize())
}

/// `SecurityData`: the user's password bound to the terminal, as every other hash uses it.
pub fn security_data(password: &str, terminal_id: &str) -> String {
    sha1_hex(&[password, &format!("{terminal_id:0>9}")])
}

/// The fields an API request's `HashData` covers, as they appear in the request.
#[derive(Clone, Copy)]
pub struct ApiHashInput<'a> {
    pub order_id: &'a str,
    pub terminal_id: &'a str,
    /// `""` when the request carries no card (3D provision, follow-ups, inquiries).
    pub card_number: &'a str,
    /// `Transaction.Amount` as sent (`10025`, or the fixed `100` of void and inquiries).
    pub amount: &'a str,
    /// `""` when the request has no `CurrencyCode`.
    pub currency_code: &'a str,
}

// The card number must never reach a log line through `{:?}`.
impl std::fmt::Debug for ApiHashInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiHashInput")
            .field("order_id", &self.order_id)
            .field("terminal_id", &self.terminal_id)
            .field("amount", &self.amount)
            .finish_non_exhaustive()
    }
}

/// v512 `HashData`.
pub fn api_hash(input: &ApiHashInput<'_>, security_data: &str) -> String {
    sha512_hex(&[
        input.order_id,
        input.terminal_id,
        input.card_number,
        input.amount,
        input.currency_code,
        security_data,
    ])
}

/// Legacy v0.01 `HashData` (no currency). Orkestra sends v512; this reads old fixtures.
pub fn api_hash_v001(input: &ApiHashInput<'_>, security_data: &str) -> String {
    sha1_hex(&[
        input.order_id,
        input.terminal_id,
        input.card_number,
        input.amount,
        security_data,
    ])
}

/// The fields a 3D form's `secure3dhash` covers, exactly as posted.
#[derive(Debug, Clone, Copy)]
pub struct FormHashInput<'a> {
    pub terminal_id: &'a str,
    pub order_id: &'a str,
    pub amount: &'a str,
    pub currency_code: &'a str,
    pub success_url: &'a str,
    pub error_url: &'a str,
    /// `sales` or `preauth`.
    pub transaction_type: &'a str,
    pub installment: &'a str,
}

/// v512 `secure3dhash`.
pub fn form_hash(input: &FormHashInput<'_>, store_key: &str, security_data: &str) -> String {
    sha512_hex(&[
        input.terminal_id,
        input.order_id,
        input.amount,
        input.currency_code,
        input.success_url,
        input.error_url,
        input.transaction_type,
        input.installment,
        store_key,
        security_data,
    ])
}

/// Legacy v0.01 `secure3dhash` (no currency), still echoed by the bank in old callbacks.
pub fn form_hash_v001(input: &FormHashInput<'_>, store_key: &str, security_data: &str) -> String {
    sha1_hex(&[
        input.terminal_id,
        input.order_id,
        input.amount,
        input.success_url,
        input.error_url,
        input.transaction_type,
        input.installment,
        store_key,
        security_data,
    ])
}

/// Which digest a callback `hash` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackHashKind {
    /// 128 hex characters: `HEX(SHA512(…))`.
    V512,
    /// 28 base64 characters: `b64(SHA1(…))`.
    V001,
}

impl CallbackHashKind {
    /// Tells the two apart by shape; `None` for anything else.
    pub fn of(hash: &str) -> Option<CallbackHashKind> {
        if hash.len() == 128 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            Some(CallbackHashKind::V512)
        } else if hash.len() == 28 && hash.ends_with('=') {
            Some(CallbackHashKind::V001)
        } else {
            None
        }
    }
}

/// The callback hash over `hashparams`' fields, in the given flavour. Values are looked up
/// with `value_of` (absent → `""`).
pub fn callback_hash<'a>(
    kind: CallbackHashKind,
    hash_params: &str,
    value_of: impl Fn(&str) -> Option<&'a str>,
    store_key: &str,
) -> String {
    let mut text = String::new();
    for name in hash_params.split(':').filter(|name| !name.is_empty()) {
        text.push_str(value_of(name).unwrap_or_default());
    }
    text.push_str(store_key);
    match kind {
        CallbackHashKind::V512 => sha512_hex(&[&text]),
        CallbackHashKind::V001 => BASE64.encode(Sha1::digest(text.as_bytes())),
    }
}

/// Checks a callback's `hash` against its `hashparams` and the store key. The posted hash
/// is compared in constant time; hex is compared case-insensitively (the bank sends upper
/// case, some proxies lower it).
pub fn verify_callback<'a>(
    posted_hash: &str,
    hash_params: &str,
    value_of: impl Fn(&str) -> Option<&'a str>,
    store_key: &str,
) -> bool {
    let Some(kind) = CallbackHashKind::of(posted_hash) else {
        return false;
    };
    let expected = callback_hash(kind, hash_params, value_of, store_key);
    match kind {
        CallbackHashKind::V512 => constant_time_eq(
            posted_hash.to_ascii_uppercase().as_bytes(),
            expected.as_bytes(),
        ),
        CallbackHashKind::V001 => constant_time_eq(posted_hash.as_bytes(), expected.as_bytes()),
    }
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}
