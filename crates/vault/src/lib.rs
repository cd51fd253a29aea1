//! Encryption at rest for Orkestra's secrets: POS passwords, 3D store keys and merchant API
//! secrets (card numbers join them with the card vault).
//!
//! Envelope encryption: every record gets its own random 256-bit data key; the record is
//! sealed with AES-256-GCM under that data key, and the data key is itself sealed under the
//! [`MasterKey`]. Rotating the master key therefore re-wraps small data keys only. The
//! record's purpose is bound in as associated data, so a sealed POS password cannot be
//! swapped into a merchant's secret-key column.
//!
//! ```
//! let key = vault::MasterKey::from_bytes([7u8; 32]);
//! let sealed = key.seal(b"ISBANK07", "pos-password").unwrap();
//! assert!(!sealed.contains("ISBANK07"));
//! assert_eq!(key.open(&sealed, "pos-password").unwrap(), b"ISBANK07");
//! assert!(key.open(&sealed, "merchant-secret").is_err());
//! ```

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;
use rand::rngs::OsRng;

const FORMAT_V1: &str = "v1";

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("master key must be 32 bytes, given as 64 hex characters or base64")]
    BadMasterKey,
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value does not open under this key and purpose")]
    Tampered,
}

/// The key that wraps every data key. Loaded from `ORKESTRA_MASTER_KEY` or a key file.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        MasterKey(bytes)
    }

    /// A fresh random key (for a new sandbox or dev installation).
    pub fn generate() -> MasterKey {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        MasterKey(bytes)
    }

    /// Parses 64 hex characters or standard base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<MasterKey, VaultError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| VaultError::BadMasterKey)?
        } else {
            B64.decode(text).map_err(|_| VaultError::BadMasterKey)?
        };
        let array: [u8; 32] = bytes.try_into().map_err(|_| VaultError::BadMasterKey)?;
        Ok(MasterKey(array))
    }

    /// The key as 64 hex characters, for writing a new key file.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Seals `plaintext` for `purpose`: `v1.<wrapped data key>.<ciphertext>`, both parts
    /// base64 of nonce followed by AES-GCM output.
    pub fn seal(&self, plaintext: &[u8], purpose: &str) -> Result<String, VaultError> {
        let mut data_key = [0u8; 32];
        OsRng.fill_bytes(&mut data_key);
        let wrapped = encrypt(&self.0, &data_key, purpose.as_bytes())?;
        let body = encrypt(&data_key, plaintext, purpose.as_bytes())?;
        Ok(format!(
            "{FORMAT_V1}.{}.{}",
            B64.encode(wrapped),
            B64.encode(body)
        ))
    }

    pub fn open(&self, sealed: &str, purpose: &str) -> Result<Vec<u8>, VaultError> {
        let mut parts = sealed.split('.');
        let (Some(FORMAT_V1), Some(wrapped), Some(body), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VaultError::Malformed);
        };
        let wrapped = B64.decode(wrapped).map_err(|_| VaultError::Malformed)?;
        let body = B64.decode(body).map_err(|_| VaultError::Malformed)?;
        let data_key = decrypt(&self.0, &wrapped, purpose.as_bytes())?;
        let data_key: [u8; 32] = data_key.try_into().map_err(|_| VaultError::Malformed)?;
        decrypt(&data_key, &body, purpose.as_bytes())
    }

    /// Seals a UTF-8 string.
    pub fn seal_str(&self, plaintext: &str, purpose: &str) -> Result<String, VaultError> {
        self.seal(plaintext.as_bytes(), purpose)
    }

    /// Opens a value sealed with [`MasterKey::seal_str`].
    pub fn open_str(&self, sealed: &str, purpose: &str) -> Result<String, VaultError> {
        String::from_utf8(self.open(sealed, purpose)?).map_err(|_| VaultError::Malformed)
    }
}

fn encrypt(key: &[u8; 32], plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
    let cipher = Aes256Gcm::new(key.into());
    let mut nonce = [0u8; 12];
    OsRng.fill_bytes(&mut nonce);
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| VaultError::Malformed)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

fn decrypt(key: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
    if sealed.len() < 12 + 16 {
        return Err(VaultError::Malformed);
    }
    let (nonce, ciphertext) = sealed.split_at(12);
    Aes256Gcm::new(key.into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| VaultError::Tampered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_round_trip_and_hide_the_plaintext() {
        let key = MasterKey::generate();
        let sealed = key.seal_str("TRPS0200", "pos-store-key").unwrap();
        assert!(!sealed.contains("TRPS0200"));
        assert_eq!(key.open_str(&sealed, "pos-store-key").unwrap(), "TRPS0200");
        // Two seals of one value differ (fresh data key and nonce).
        assert_ne!(sealed, key.seal_str("TRPS0200", "pos-store-key").unwrap());
    }

    #[test]
    fn wrong_key_purpose_or_tampering_is_refused() {
        let key = MasterKey::generate();
        let sealed = key.seal_str("secret", "a").unwrap();
        assert!(MasterKey::generate().open(&sealed, "a").is_err());
        assert!(key.open(&sealed, "b").is_err());
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(
            key.open(std::str::from_utf8(&tampered).unwrap(), "a")
                .is_err()
        );
        assert!(key.open("v2.x.y", "a").is_err());
        assert!(key.open("", "a").is_err());
    }

    #[test]
    fn master_keys_parse_from_hex_and_base64() {
        let key = MasterKey::generate();
        let hex = key.to_hex();
        assert_eq!(MasterKey::parse(&hex).unwrap().0, key.0);
        assert_eq!(MasterKey::parse(&B64.encode(key.0)).unwrap().0, key.0);
        assert!(MasterKey::parse("short").is_err());
        assert!(!format!("{key:?}").contains(&hex));
    }
}
