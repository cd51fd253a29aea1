//! PosNet's 3D MACs: the double SHA-256 over `;`-joined values (`vpos-protocols.md` §3.3).
//!
//! * `firstHash = b64(SHA256(ENCKEY ";" terminalId))`
//! * request `mac = b64(SHA256(xid ";" amount ";" currency ";" merchantNo ";" firstHash))`,
//!   sent with `oosResolveMerchantData` and `oosTranData`: it binds the order, amount and
//!   currency Orkestra expects to the key, so the bank refuses (`E216`) packets of another
//!   payment;
//! * the resolve reply's `mac = b64(SHA256(mdStatus ";" xid ";" amount ";" currency ";"
//!   merchantNo ";" firstHash))`, checked before anything in the reply is believed.
//!
//! `xid` is the 20-character padded order id, `amount` minor units, `currency` YKB's
//! letters (`TL`). Inputs are the UTF-8 bytes of the strings (all ASCII in practice).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest as _, Sha256};

use super::crypto::constant_time_eq;
use super::wire::ResolveData;

/// `b64(SHA256(parts joined by ";"))`.
fn sha256_b64(parts: &[&str]) -> String {
    BASE64.encode(Sha256::digest(parts.join(";").as_bytes()))
}

/// The merchant's key material for the MACs.
#[derive(Clone, Copy)]
pub struct MacKey<'a> {
    /// `mid`.
    pub merchant_no: &'a str,
    /// `tid`.
    pub terminal_id: &'a str,
    /// ENCKEY (`10,10,10,10,10,10,10,10` style).
    pub enc_key: &'a str,
}

// Never print the ENCKEY.
impl std::fmt::Debug for MacKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MacKey")
            .field("merchant_no", &self.merchant_no)
            .field("terminal_id", &self.terminal_id)
            .finish_non_exhaustive()
    }
}

impl MacKey<'_> {
    /// `firstHash = b64(SHA256(ENCKEY;terminalId))`.
    pub fn first_hash(&self) -> String {
        sha256_b64(&[self.enc_key, self.terminal_id])
    }

    /// The request MAC over the expected order (`xid`), amount and currency.
    pub fn request_mac(&self, xid: &str, amount: &str, currency: &str) -> String {
        sha256_b64(&[xid, amount, currency, self.merchant_no, &self.first_hash()])
    }

    /// The MAC a resolve reply must carry for these values.
    pub fn response_mac(&self, md_status: &str, xid: &str, amount: &str, currency: &str) -> String {
        sha256_b64(&[
            md_status,
            xid,
            amount,
            currency,
            self.merchant_no,
            &self.first_hash(),
        ])
    }

    /// Whether a resolve reply's `mac` verifies over its own values (constant time).
    pub(crate) fn verify_resolve(&self, resolve: &ResolveData) -> bool {
        let expected = self.response_mac(
            resolve.md_status.trim(),
            resolve.xid.trim(),
            resolve.amount.trim(),
            resolve.currency.trim(),
        );
        constant_time_eq(expected.as_bytes(), resolve.mac.trim().as_bytes())
    }
}
