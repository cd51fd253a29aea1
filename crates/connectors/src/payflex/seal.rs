//! The sealed card of a 3D payment.
//!
//! PayFlex's VPOS wants the card again in the provision after 3D authentication
//! (`vpos-protocols.md` §9.2, pitfall 15.5), but the engine keeps no card between
//! `3ds-init` and `3ds-complete`, and a connector keeps no state. So the enrolment carries
//! the card, sealed, in the MPI's `SessionInfo` field, which the MPI posts back unchanged
//! in its callback; the callback's `SessionInfo` becomes [`crate::ThreeDsAuthData::md`],
//! and `authorize_3d` opens it.
//!
//! Sealing: AES-256-GCM, random 96-bit nonce, under a key derived from the POS's API
//! password (`HMAC-SHA256(password, "orkestra/payflex/session-info/v1" ‖ MerchantId)`),
//! with the order id as associated data: a blob opens only for the POS and the order it
//! was made for, and any change to it is detected. Wire form: `pf1.` + base64url (no
//! padding) of `nonce ‖ ciphertext+tag`. Inside: `Pan`, `Expiry` (`YYYYMM`), `Cvv`,
//! holder name, separated by U+001F.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const PREFIX: &str = "pf1.";
const KEY_CONTEXT: &[u8] = b"orkestra/payflex/session-info/v1";
const SEPARATOR: char = '\u{1f}';
/// Longest blob accepted for opening (a 19-digit card and a 100-character name fit).
pub(crate) const SEALED_LEN_MAX: usize = 512;

/// The card of a 3D provision, in clear. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SealedCard {
    pub pan: String,
    /// `YYYYMM`.
    pub expiry: String,
    /// Empty for a card-on-file payment.
    pub cvv: String,
    pub holder: String,
}

impl std::fmt::Debug for SealedCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedCard(..)")
    }
}

fn cipher(password: &str, merchant_id: &str) -> Aes256Gcm {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(password.as_bytes())
        .unwrap_or_else(|_| unreachable!("hmac takes any key length"));
    mac.update(KEY_CONTEXT);
    mac.update(merchant_id.as_bytes());
    let key = mac.finalize().into_bytes();
    Aes256Gcm::new(&key)
}

fn aad(order_id: &str) -> Vec<u8> {
    format!("payflex-card:{order_id}").into_bytes()
}

/// Seals `card` for `order_id` under the POS's password; `None` if the card's fields hold
/// the separator (they cannot: numbers, digits and a validated name).
pub(crate) fn seal(
    card: &SealedCard,
    password: &str,
    merchant_id: &str,
    order_id: &str,
) -> Option<String> {
    let parts = [&card.pan, &card.expiry, &card.cvv, &card.holder];
    if parts.iter().any(|p| p.contains(SEPARATOR)) {
        return None;
    }
    let plain = parts
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(&SEPARATOR.to_string());
    let mut nonce = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut nonce);
    let sealed = cipher(password, merchant_id)
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plain.as_bytes(),
                aad: &aad(order_id),
            },
        )
        .ok()?;
    let mut blob = nonce.to_vec();
    blob.extend_from_slice(&sealed);
    Some(format!("{PREFIX}{}", B64.encode(blob)))
}

/// Opens a blob made by [`seal`] for this POS and order; `None` for anything else.
pub(crate) fn open(
    sealed: &str,
    password: &str,
    merchant_id: &str,
    order_id: &str,
) -> Option<SealedCard> {
    if sealed.len() > SEALED_LEN_MAX {
        return None;
    }
    let blob = B64.decode(sealed.trim().strip_prefix(PREFIX)?).ok()?;
    if blob.len() < 12 + 16 {
        return None;
    }
    let (nonce, ciphertext) = blob.split_at(12);
    let plain = cipher(password, merchant_id)
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: &aad(order_id),
            },
        )
        .ok()?;
    let plain = String::from_utf8(plain).ok()?;
    let mut parts = plain.split(SEPARATOR);
    let card = SealedCard {
        pan: parts.next()?.to_owned(),
        expiry: parts.next()?.to_owned(),
        cvv: parts.next()?.to_owned(),
        holder: parts.next()?.to_owned(),
    };
    parts.next().is_none().then_some(card)
}
