//! InterPos 3D Secure hashes: the request form's `Hash` and the callback's `HASH`, both
//! `b64(SHA1(…))` over a plain concatenation that ends with the merchant's 3D key
//! (`MerchantPass`). Hash inputs are the UTF-8 bytes of the strings exactly as posted, as in
//! the reference library (`vpos-protocols.md` §6).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::Rng as _;
use sha1::{Digest as _, Sha1};

/// The fields of a 3D form that its `Hash` covers, exactly as posted.
#[derive(Debug, Clone, Copy)]
pub struct FormHashInput<'a> {
    /// `ShopCode`, the merchant number.
    pub shop_code: &'a str,
    pub order_id: &'a str,
    /// `PurchAmount` as posted (`"100.25"`).
    pub amount: &'a str,
    pub ok_url: &'a str,
    pub fail_url: &'a str,
    /// `TxnType`: `Auth` or `PreAuth`.
    pub transaction_type: &'a str,
    /// `InstallmentCount`: `""` for a single payment.
    pub installment: &'a str,
    pub rnd: &'a str,
}

/// `b64(SHA1(ShopCode || OrderId || PurchAmount || OkUrl || FailUrl || TxnType ||
/// InstallmentCount || Rnd || MerchantPass))`.
pub fn form_hash(input: &FormHashInput<'_>, merchant_pass: &str) -> String {
    sha1_b64([
        input.shop_code,
        input.order_id,
        input.amount,
        input.ok_url,
        input.fail_url,
        input.transaction_type,
        input.installment,
        input.rnd,
        merchant_pass,
    ])
}

/// The callback's `HASH`: `b64(SHA1(v1 || v2 || … || MerchantPass))`, where `v1, v2, …` are
/// the posted values of the fields `HASHPARAMS` names (`:`-separated, a trailing `:`
/// included), each `""` when the field was not posted — as the reference library reads it.
pub fn callback_hash<'a>(values: impl IntoIterator<Item = &'a str>, merchant_pass: &str) -> String {
    let mut sha1 = Sha1::new();
    for value in values {
        sha1.update(value.as_bytes());
    }
    sha1.update(merchant_pass.as_bytes());
    BASE64.encode(sha1.finalize())
}

/// The field names a `HASHPARAMS` lists, in order (empty names from the trailing `:` are
/// dropped: they contribute nothing to the hash).
pub fn hash_params(hash_params: &str) -> impl Iterator<Item = &str> {
    hash_params.split(':').filter(|name| !name.is_empty())
}

/// Checks a posted `HASH` against the values `HASHPARAMS` names.
pub fn verify_callback_hash<'a>(
    values: impl IntoIterator<Item = &'a str>,
    merchant_pass: &str,
    posted: &str,
) -> bool {
    let expected = callback_hash(values, merchant_pass);
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

/// A fresh `Rnd` for a 3D form: 24 upper-case hex characters, like the reference library's
/// `generateRandomString`.
pub fn new_rnd() -> String {
    let bytes: [u8; 12] = rand::thread_rng().r#gen();
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
