//! Kuveyt Türk (BOA) hashes, all `b64(SHA1(…))` over a plain concatenation of UTF-8 strings
//! that ends with `HashedPassword = b64(SHA1(API password))` (`vpos-protocols.md` §7.2):
//!
//! * every request's `HashData`: `MerchantId ‖ MerchantOrderId ‖ Amount ‖ OkUrl ‖ FailUrl ‖
//!   UserName ‖ HashedPassword`, absent fields contributing `""` (vectors H7.2, H7.3; the
//!   SOAP operations hash their inner `VPosMessage`, R7.2–R7.5);
//! * the bank's 3D authentication callback's `HashData`: `MerchantOrderId ‖ ResponseCode ‖
//!   OrderId ‖ HashedPassword`;
//! * the bank's provision reply's `HashData`: `MerchantOrderId ‖ RRN ‖ ResponseCode ‖
//!   OrderId ‖ HashedPassword`.
//!
//! The reference library verifies no reply (its `check3DHash` is not implemented); the two
//! reply formulas were found by recomputing the bank's own signatures in the library's
//! fixtures (P7.5 and P7.9 callbacks, P7.3/P7.8 and P7.9 provision replies) and are pinned
//! by tests.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::{Digest as _, Sha1};

/// `b64(SHA1(text))` (vector H7.1).
pub fn hash_string(text: &str) -> String {
    sha1_b64([text])
}

/// `HashedPassword`: what the bank stores of the API password, and what every hash ends
/// with.
pub fn hashed_password(password: &str) -> String {
    hash_string(password)
}

/// The fields of a request that its `HashData` covers, exactly as sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestHashInput<'a> {
    pub merchant_id: &'a str,
    pub merchant_order_id: &'a str,
    /// `Amount` in minor units as sent (`"7256"`, `"0"` for the status inquiry).
    pub amount: &'a str,
    /// Only the 3D enrolment sends these two.
    pub ok_url: &'a str,
    pub fail_url: &'a str,
    pub user_name: &'a str,
}

/// A request's `HashData` (see the module documentation).
pub fn request_hash(input: &RequestHashInput<'_>, password: &str) -> String {
    let hashed = hashed_password(password);
    sha1_b64([
        input.merchant_id,
        input.merchant_order_id,
        input.amount,
        input.ok_url,
        input.fail_url,
        input.user_name,
        &hashed,
    ])
}

/// The 3D authentication callback's `HashData`.
pub fn callback_hash(
    merchant_order_id: &str,
    response_code: &str,
    order_id: &str,
    password: &str,
) -> String {
    callback_hash_from_hashed(
        merchant_order_id,
        response_code,
        order_id,
        &hashed_password(password),
    )
}

/// [`callback_hash`] from the stored `HashedPassword` (the bank echoes it as
/// `HashPassword` in some replies, P7.5).
pub fn callback_hash_from_hashed(
    merchant_order_id: &str,
    response_code: &str,
    order_id: &str,
    hashed_password: &str,
) -> String {
    sha1_b64([merchant_order_id, response_code, order_id, hashed_password])
}

/// A provision reply's `HashData`.
pub fn provision_reply_hash(
    merchant_order_id: &str,
    rrn: &str,
    response_code: &str,
    order_id: &str,
    password: &str,
) -> String {
    let hashed = hashed_password(password);
    sha1_b64([merchant_order_id, rrn, response_code, order_id, &hashed])
}

/// Checks a posted callback `HashData`.
pub fn verify_callback_hash(
    merchant_order_id: &str,
    response_code: &str,
    order_id: &str,
    password: &str,
    posted: &str,
) -> bool {
    let expected = callback_hash(merchant_order_id, response_code, order_id, password);
    constant_time_eq(expected.as_bytes(), posted.as_bytes())
}

fn sha1_b64<const N: usize>(parts: [&str; N]) -> String {
    let mut sha1 = Sha1::new();
    for part in parts {
        sha1.update(part.as_bytes());
    }
    BASE64.encode(sha1.finalize())
}

/// Compares two byte strings in time that depends only on their lengths, so a forged
/// callback cannot learn the right hash one byte at a time. (Hash lengths are public.)
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}
