//! Akbank's HMAC-SHA512 signatures (`vpos-protocols.md` §11.1, §11.3): the API's
//! `auth-hash` header over the exact body bytes, the 3D form's `hash`, and the callback's
//! `hash` over the fields its own `hashParams` names. All are `b64(HMAC-SHA512(secretKey,
//! message))` with the secret key's ASCII characters as the HMAC key (it looks like hex but
//! is *not* decoded) and the UTF-8 bytes of the message.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac as _};
use rand::Rng as _;
use sha2::Sha512;
use subtle::ConstantTimeEq as _;

type HmacSha512 = Hmac<Sha512>;

/// `b64(HMAC-SHA512(secret_key, message))`.
pub fn hmac_b64(secret_key: &str, message: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail; an empty MAC would never verify.
    let Ok(mut mac) = HmacSha512::new_from_slice(secret_key.as_bytes()) else {
        return String::new();
    };
    mac.update(message);
    BASE64.encode(mac.finalize().into_bytes())
}

/// The `auth-hash` header of an API request: the HMAC of the body exactly as sent (escaping
/// included), so the body is serialised once and those bytes are both signed and posted.
pub fn auth_hash(secret_key: &str, body: &[u8]) -> String {
    hmac_b64(secret_key, body)
}

/// The fields of a 3D form its `hash` covers, in the hash's order; absent ones are `""`.
#[derive(Debug, Clone, Copy, Default)]
pub struct FormHashInput<'a> {
    /// `3D`, `3D_PAY` or `3D_PAY_HOSTING`.
    pub payment_model: &'a str,
    /// `3000` sale, `3004` pre-authorisation.
    pub txn_code: &'a str,
    pub merchant_safe_id: &'a str,
    pub terminal_safe_id: &'a str,
    pub order_id: &'a str,
    /// `TR` or `EN`.
    pub lang: &'a str,
    /// `"1.00"`.
    pub amount: &'a str,
    pub ccb_reward_amount: &'a str,
    pub pcb_reward_amount: &'a str,
    pub xcb_reward_amount: &'a str,
    /// `"949"`.
    pub currency_code: &'a str,
    /// `"1"` for a single payment.
    pub install_count: &'a str,
    pub ok_url: &'a str,
    pub fail_url: &'a str,
    pub email_address: &'a str,
    pub sub_merchant_id: &'a str,
    pub credit_card: &'a str,
    /// `MMYY`.
    pub expired_date: &'a str,
    pub cvv: &'a str,
    pub random_number: &'a str,
    pub request_date_time: &'a str,
    pub b2b_identity_number: &'a str,
}

/// `b64(HMAC-SHA512(secretKey, paymentModel‖txnCode‖merchantSafeId‖terminalSafeId‖orderId‖
/// lang‖amount‖ccbRewardAmount‖pcbRewardAmount‖xcbRewardAmount‖currencyCode‖installCount‖
/// okUrl‖failUrl‖emailAddress‖subMerchantId‖creditCard‖expiredDate‖cvv‖randomNumber‖
/// requestDateTime‖b2bIdentityNumber))`.
pub fn form_hash(input: &FormHashInput<'_>, secret_key: &str) -> String {
    let message: String = [
        input.payment_model,
        input.txn_code,
        input.merchant_safe_id,
        input.terminal_safe_id,
        input.order_id,
        input.lang,
        input.amount,
        input.ccb_reward_amount,
        input.pcb_reward_amount,
        input.xcb_reward_amount,
        input.currency_code,
        input.install_count,
        input.ok_url,
        input.fail_url,
        input.email_address,
        input.sub_merchant_id,
        input.credit_card,
        input.expired_date,
        input.cvv,
        input.random_number,
        input.request_date_time,
        input.b2b_identity_number,
    ]
    .concat();
    hmac_b64(secret_key, message.as_bytes())
}

/// The names a callback's `hashParams` lists (`txnCode+responseCode+…`), in order. Empty
/// names (a stray `+`) are dropped; they add nothing to the signed string.
pub fn hash_param_names(hash_params: &str) -> Vec<&str> {
    hash_params
        .split('+')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect()
}

/// A callback's `hash`: the HMAC of the values of the fields `hashParams` names, concatenated
/// in that order (an absent field counts as `""`). `value` looks a posted field up by name.
pub fn callback_hash<'a>(
    hash_params: &str,
    value: impl Fn(&str) -> &'a str,
    secret_key: &str,
) -> String {
    let message: String = hash_param_names(hash_params)
        .into_iter()
        .map(value)
        .collect();
    hmac_b64(secret_key, message.as_bytes())
}

/// Compares a posted signature with the expected one in constant time (lengths are public).
pub fn verify(expected: &str, posted: &str) -> bool {
    !expected.is_empty()
        && expected.len() == posted.len()
        && bool::from(expected.as_bytes().ct_eq(posted.as_bytes()))
}

/// A fresh `randomNumber`: 128 upper-case hex characters (64 random bytes), as the bank asks.
pub fn new_random_number() -> String {
    let bytes: [u8; 64] = {
        let mut bytes = [0u8; 64];
        rand::thread_rng().fill(&mut bytes[..]);
        bytes
    };
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// `requestDateTime` now: Istanbul local time, `YYYY-MM-DDTHH:MM:SS.000`. The bank refuses a
/// date far from its own clock (`VPS-1073`).
pub fn request_date_time_now() -> String {
    use domain::clock::{Clock as _, SystemClock, istanbul, to_local};
    to_local(SystemClock.now(), istanbul())
        .format("%Y-%m-%dT%H:%M:%S.000")
        .to_string()
}
