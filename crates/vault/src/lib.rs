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
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

/// `v1.<wrapped data key>.<ciphertext>`: sealed before key ids existed.
const FORMAT_V1: &str = "v1";
/// `v2.<key id>.<wrapped data key>.<ciphertext>`: the key id says which master key wraps.
const FORMAT_V2: &str = "v2";

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("master key must be 32 bytes, given as 64 hex characters or base64")]
    BadMasterKey,
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value does not open under this key and purpose")]
    Tampered,
    #[error("sealed value was made with a master key this keyring does not hold")]
    UnknownKey,
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

    /// A short public identifier of this key (first 8 bytes of a hash), stored with every
    /// value it seals so a keyring knows which key opens it.
    pub fn id(&self) -> String {
        let digest = Sha256::new()
            .chain_update(b"orkestra master key id")
            .chain_update(self.0)
            .finalize();
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// Seals `plaintext` for `purpose`: `v2.<key id>.<wrapped data key>.<ciphertext>`, both
    /// parts base64 of nonce followed by AES-GCM output.
    pub fn seal(&self, plaintext: &[u8], purpose: &str) -> Result<String, VaultError> {
        let mut data_key = [0u8; 32];
        OsRng.fill_bytes(&mut data_key);
        let wrapped = encrypt(&self.0, &data_key, purpose.as_bytes())?;
        let body = encrypt(&data_key, plaintext, purpose.as_bytes())?;
        Ok(format!(
            "{FORMAT_V2}.{}.{}.{}",
            self.id(),
            B64.encode(wrapped),
            B64.encode(body)
        ))
    }

    pub fn open(&self, sealed: &str, purpose: &str) -> Result<Vec<u8>, VaultError> {
        let parts = Parts::parse(sealed)?;
        if parts.key_id.is_some_and(|id| id != self.id()) {
            return Err(VaultError::UnknownKey);
        }
        parts.open_with(&self.0, purpose)
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

/// A sealed value taken apart.
struct Parts<'a> {
    key_id: Option<&'a str>,
    wrapped: Vec<u8>,
    body_b64: &'a str,
}

impl<'a> Parts<'a> {
    fn parse(sealed: &'a str) -> Result<Parts<'a>, VaultError> {
        let parts: Vec<&str> = sealed.split('.').collect();
        let (key_id, wrapped, body) = match parts.as_slice() {
            [FORMAT_V1, wrapped, body] => (None, *wrapped, *body),
            [FORMAT_V2, id, wrapped, body] => (Some(*id), *wrapped, *body),
            _ => return Err(VaultError::Malformed),
        };
        let wrapped = B64.decode(wrapped).map_err(|_| VaultError::Malformed)?;
        Ok(Parts {
            key_id,
            wrapped,
            body_b64: body,
        })
    }

    fn data_key(&self, master: &[u8; 32], purpose: &str) -> Result<[u8; 32], VaultError> {
        let data_key = decrypt(master, &self.wrapped, purpose.as_bytes())?;
        data_key.try_into().map_err(|_| VaultError::Malformed)
    }

    fn open_with(&self, master: &[u8; 32], purpose: &str) -> Result<Vec<u8>, VaultError> {
        let data_key = self.data_key(master, purpose)?;
        let body = B64
            .decode(self.body_b64)
            .map_err(|_| VaultError::Malformed)?;
        decrypt(&data_key, &body, purpose.as_bytes())
    }
}

/// The master keys in use: the current one seals; older ones still open what they sealed
/// until `rewrap` has moved every value to the current key (key rotation without downtime).
#[derive(Clone, Debug)]
pub struct Keyring {
    current: MasterKey,
    previous: Vec<MasterKey>,
}

impl From<MasterKey> for Keyring {
    fn from(current: MasterKey) -> Keyring {
        Keyring {
            current,
            previous: Vec::new(),
        }
    }
}

impl Keyring {
    pub fn new(current: MasterKey, previous: Vec<MasterKey>) -> Keyring {
        Keyring { current, previous }
    }

    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    fn key_for(&self, parts: &Parts<'_>, purpose: &str) -> Result<&MasterKey, VaultError> {
        match parts.key_id {
            Some(id) => std::iter::once(&self.current)
                .chain(&self.previous)
                .find(|k| k.id() == id)
                .ok_or(VaultError::UnknownKey),
            // Values sealed before key ids: the key that unwraps the data key is the one.
            None => std::iter::once(&self.current)
                .chain(&self.previous)
                .find(|k| parts.data_key(&k.0, purpose).is_ok())
                .ok_or(VaultError::Tampered),
        }
    }

    pub fn seal(&self, plaintext: &[u8], purpose: &str) -> Result<String, VaultError> {
        self.current.seal(plaintext, purpose)
    }

    pub fn open(&self, sealed: &str, purpose: &str) -> Result<Vec<u8>, VaultError> {
        let parts = Parts::parse(sealed)?;
        let key = self.key_for(&parts, purpose)?;
        parts.open_with(&key.0, purpose)
    }

    pub fn seal_str(&self, plaintext: &str, purpose: &str) -> Result<String, VaultError> {
        self.seal(plaintext.as_bytes(), purpose)
    }

    pub fn open_str(&self, sealed: &str, purpose: &str) -> Result<String, VaultError> {
        String::from_utf8(self.open(sealed, purpose)?).map_err(|_| VaultError::Malformed)
    }

    /// Re-wraps a sealed value's data key under the current master key, leaving the
    /// ciphertext as it is: rotation touches 32-byte keys, never the data itself.
    /// Returns `None` when the value is already under the current key.
    pub fn rewrap(&self, sealed: &str, purpose: &str) -> Result<Option<String>, VaultError> {
        let parts = Parts::parse(sealed)?;
        if parts.key_id == Some(self.current.id().as_str()) {
            return Ok(None);
        }
        let key = self.key_for(&parts, purpose)?;
        let data_key = parts.data_key(&key.0, purpose)?;
        // Check the body opens before replacing its key.
        parts.open_with(&key.0, purpose)?;
        let wrapped = encrypt(&self.current.0, &data_key, purpose.as_bytes())?;
        Ok(Some(format!(
            "{FORMAT_V2}.{}.{}.{}",
            self.current.id(),
            B64.encode(wrapped),
            parts.body_b64
        )))
    }
}

/// A keyed fingerprint (HMAC-SHA-256, hex) to recognise equal secrets, such as the same
/// card number, without decrypting anything.
pub fn fingerprint(key: &[u8], data: &[u8]) -> Result<String, VaultError> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| VaultError::BadMasterKey)?;
    mac.update(data);
    Ok(mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
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
        assert!(key.open("v3.x.y", "a").is_err());
        assert!(key.open("", "a").is_err());
    }

    #[test]
    fn rotation_rewraps_data_keys_and_old_values_still_open() {
        let old = MasterKey::generate();
        let new = MasterKey::generate();
        let sealed_old = old.seal_str("5258640000000001", "card").unwrap();
        let ring = Keyring::new(new.clone(), vec![old.clone()]);
        assert_eq!(
            ring.open_str(&sealed_old, "card").unwrap(),
            "5258640000000001"
        );
        let rewrapped = ring.rewrap(&sealed_old, "card").unwrap().unwrap();
        assert!(rewrapped.contains(&new.id()));
        // The ciphertext itself did not change, only the wrapped key.
        assert_eq!(rewrapped.rsplit('.').next(), sealed_old.rsplit('.').next());
        assert_eq!(
            Keyring::from(new.clone())
                .open_str(&rewrapped, "card")
                .unwrap(),
            "5258640000000001"
        );
        assert!(Keyring::from(new).open_str(&sealed_old, "card").is_err());
        assert_eq!(ring.rewrap(&rewrapped, "card").unwrap(), None);
        // Values sealed before key ids (v1) open and rewrap too.
        let v1 = format!("v1.{}", sealed_old.splitn(3, '.').nth(2).unwrap());
        assert_eq!(ring.open_str(&v1, "card").unwrap(), "5258640000000001");
    }

    #[test]
    fn fingerprints_are_keyed_and_stable() {
        assert_eq!(
            fingerprint(b"k", b"4111").unwrap(),
            fingerprint(b"k", b"4111").unwrap()
        );
        assert_ne!(
            fingerprint(b"k", b"4111").unwrap(),
            fingerprint(b"other", b"4111").unwrap()
        );
        assert_eq!(fingerprint(b"k", b"x").unwrap().len(), 64);
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
