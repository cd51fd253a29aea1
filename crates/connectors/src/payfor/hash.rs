//! PayFor 3D Secure hashes: the request form's `Hash` (SHA-1) and the callback's
//! `ResponseHash` (SHA-1, or SHA-256 on newer replies), both Base64 of a digest over a plain
//! concatenation that ends or is interleaved with the merchant's 3D key (`MerchantPass`).
//!
//! Hash inputs are the UTF-8 bytes of the strings, as in the reference library
//! (`vpos-protocols.md` §5.3).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::Rng as _;
use sha1::{Digest as _, Sha1};
use sha2::Sha256;

/// The fields of a 3D form that its `Hash` covers, exactly as posted.
#[derive(Debug, Clone, Copy)]
pub struct FormHashInput<'a> {
    /// `MbrId`: `5` QNB Finansbank (and Enpara), `12` Ziraat Katılım.
    pub mbr_id: &'a str,
    pub order_id: &'a str,
    /// `PurchAmount` as posted (`"100.01"`).
    pub amount: &'a str,
    pub ok_url: &'a str,
    pub fail_url: &'a str,
    /// `TxnType`: `Auth` or `PreAuth`.
    pub transaction_type: &'a str,
    /// `InstallmentCount`: `"0"` for a single payment.
    pub installment: &'a str,
    pub rnd: &'a str,
}

/// `b64(SHA1(MbrId || OrderId || PurchAmount || OkUrl || FailUrl || TxnType ||
/// InstallmentCount || Rnd || MerchantPass))`.
pub fn form_hash(input: &FormHashInput<'_>, merchant_pass: &str) -> String {
    let mut sha1 = Sha1::new();
    for part in [
        input.mbr_id,
        input.order_id,
        input.amount,
        input.ok_url,
        input.fail_url,
        input.transaction_type,
        input.installment,
        input.rnd,
        merchant_pass,
    ] {
        sha1.update(part.as_bytes());
    }
    BASE64.encode(sha1.finalize())
}

/// The fields of a 3D callback that its `ResponseHash` covers. `merchant_id` and
/// `user_code` are the POS's own (`MerchantId`, `UserCode`), never the posted ones, so a
/// callback signed for another merchant or API user cannot verify.
#[derive(Debug, Clone, Copy)]
pub struct CallbackHashInput<'a> {
    pub merchant_id: &'a str,
    pub order_id: &'a str,
    pub auth_code: &'a str,
    pub proc_return_code: &'a str,
    /// `3DStatus`.
    pub three_d_status: &'a str,
    pub response_rnd: &'a str,
    pub user_code: &'a str,
}

/// The digest a `ResponseHash` is made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseDigest {
    /// 28 Base64 characters; callbacks carrying `HashType=Sha1` (vectors C5.1–C5.6).
    Sha1,
    /// 44 Base64 characters; newer callbacks without `HashType` (vector P5.5).
    Sha256,
}

impl ResponseDigest {
    /// The digest a posted `ResponseHash` of this length was made with.
    pub fn for_hash(posted: &str) -> Option<ResponseDigest> {
        match posted.len() {
            28 => Some(ResponseDigest::Sha1),
            44 => Some(ResponseDigest::Sha256),
            _ => None,
        }
    }
}

/// `b64(DIGEST(MerchantId || MerchantPass || OrderId || AuthCode || ProcReturnCode ||
/// 3DStatus || ResponseRnd || UserCode))`.
pub fn callback_hash(
    input: &CallbackHashInput<'_>,
    merchant_pass: &str,
    digest: ResponseDigest,
) -> String {
    let parts = [
        input.merchant_id,
        merchant_pass,
        input.order_id,
        input.auth_code,
        input.proc_return_code,
        input.three_d_status,
        input.response_rnd,
        input.user_code,
    ];
    match digest {
        ResponseDigest::Sha1 => {
            let mut sha1 = Sha1::new();
            parts.iter().for_each(|part| sha1.update(part.as_bytes()));
            BASE64.encode(sha1.finalize())
        }
        ResponseDigest::Sha256 => {
            let mut sha256 = Sha256::new();
            parts.iter().for_each(|part| sha256.update(part.as_bytes()));
            BASE64.encode(sha256.finalize())
        }
    }
}

/// Checks a posted `ResponseHash`; the digest is chosen by its length (both are keyed by
/// the secret `MerchantPass`, so neither can be forged). False for any other length.
pub fn verify_callback_hash(
    input: &CallbackHashInput<'_>,
    merchant_pass: &str,
    posted: &str,
) -> bool {
    let Some(digest) = ResponseDigest::for_hash(posted) else {
        return false;
    };
    let expected = callback_hash(input, merchant_pass, digest);
    constant_time_eq(expected.as_bytes(), posted.as_bytes())
}

/// Compares two byte strings in time that depends only on their lengths, so a forged
/// callback cannot learn the right hash one byte at a time. (Hash lengths are public.)
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// A fresh `Rnd` for a 3D form: 24 lower-case hex characters, like the reference library's
/// (`1deda47050cd38112cbf91f4` in vector R5.12).
pub fn new_rnd() -> String {
    let bytes: [u8; 12] = rand::thread_rng().r#gen();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
