//! The primitives of Yapı Kredi's OOS 3D packets: MD5 (RFC 1321, the `md-5` crate),
//! CRC-32 (IEEE 802.3, as PHP's `crc32`; `crc32fast`), and Triple-DES (FIPS 46-3, EDE with
//! three keys; `des`) in CBC mode (`cbc`), with the packet layout built on them.
//!
//! They are used the way YKB's own merchant toolkit (`posnet_oos.php`, `posnet_enc.php`)
//! uses them, which is also what the bank simulator produces:
//!
//! * `Sign` of the 3D callback = upper-case hex `MD5(MerchantPacket || BankPacket || ENCKEY)`
//!   ([`callback_sign`]).
//! * `MerchantPacket` = upper-case hex of an 8-byte IV, then upper-case hex of the
//!   3DES-CBC ciphertext (PKCS#7 padding) of the merchant data, then the upper-case hex
//!   CRC-32 of everything before it. The 3DES key is the 24 ASCII characters that begin the
//!   upper-case hex MD5 of the ENCKEY string ([`packet_key`]); see [`decrypt_packet`].
//!
//! MD5 and DES are weak by today's standards; they are what the bank speaks. Nothing here
//! is used for anything but reading the bank's packets and checking its signature.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{
    BlockDecrypt, BlockDecryptMut, BlockEncrypt, BlockEncryptMut, InnerIvInit, KeyInit,
};
use des::TdesEde3;
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

/// Upper-case hexadecimal of `bytes`.
pub fn hex_upper(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0F)]));
    }
    out
}

/// Bytes of a hexadecimal string (either case); `None` for odd lengths or other characters.
pub fn hex_decode(text: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some((nibble(pair[0])? << 4) | nibble(pair[1])?))
        .collect()
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

// ---------------------------------------------------------------------------------------
// MD5 and CRC-32

/// The MD5 digest of `data`.
pub fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

/// Upper-case hex MD5, as PHP's `strtoupper(md5(...))`.
pub fn md5_upper_hex(data: &[u8]) -> String {
    hex_upper(&md5(data))
}

/// CRC-32 (reflected, polynomial 0xEDB88320), the value PHP's `crc32` returns.
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

// ---------------------------------------------------------------------------------------
// Triple-DES

/// Triple-DES (EDE, three independent keys) over single 8-byte blocks and in CBC mode.
#[derive(Clone)]
pub struct TripleDes {
    cipher: TdesEde3,
}

// The key schedule is key material: never print it.
impl std::fmt::Debug for TripleDes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TripleDes(***)")
    }
}

impl TripleDes {
    /// `key` is K1 ‖ K2 ‖ K3; parity bits are ignored, as everywhere.
    pub fn new(key: &[u8; 24]) -> TripleDes {
        TripleDes {
            cipher: TdesEde3::new(key.into()),
        }
    }

    /// `E_K3(D_K2(E_K1(block)))`, the block read big-endian.
    pub fn encrypt_block(&self, block: u64) -> u64 {
        let mut bytes = block.to_be_bytes().into();
        self.cipher.encrypt_block(&mut bytes);
        u64::from_be_bytes(bytes.into())
    }

    /// `D_K1(E_K2(D_K3(block)))`, the block read big-endian.
    pub fn decrypt_block(&self, block: u64) -> u64 {
        let mut bytes = block.to_be_bytes().into();
        self.cipher.decrypt_block(&mut bytes);
        u64::from_be_bytes(bytes.into())
    }

    /// CBC encryption with PKCS#7 padding (always at least one byte of padding).
    pub fn encrypt_cbc(&self, iv: [u8; 8], plaintext: &[u8]) -> Vec<u8> {
        cbc::Encryptor::<TdesEde3>::inner_iv_init(self.cipher.clone(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(plaintext)
    }

    /// CBC decryption; `None` when the length is not whole blocks or the PKCS#7 padding is
    /// not well-formed.
    pub fn decrypt_cbc(&self, iv: [u8; 8], ciphertext: &[u8]) -> Option<Vec<u8>> {
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(8) {
            return None;
        }
        cbc::Decryptor::<TdesEde3>::inner_iv_init(self.cipher.clone(), &iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .ok()
    }
}

// ---------------------------------------------------------------------------------------
// YKB packets

/// The 3DES key YKB derives from an ENCKEY: the first 24 characters of the upper-case hex
/// MD5 of the ENCKEY text (`posnet_enc.php` `GetKey`).
pub fn packet_key(enc_key: &str) -> [u8; 24] {
    let hex = md5_upper_hex(enc_key.as_bytes());
    let mut key = [0u8; 24];
    key.copy_from_slice(&hex.as_bytes()[..24]);
    key
}

/// Why a packet could not be read. Carries no packet content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketError {
    /// Shorter than an IV and a CRC, or not hexadecimal.
    Format,
    /// The CRC-32 does not match.
    Crc,
    /// The ciphertext does not decrypt to well-padded data with this key.
    Decrypt,
}

/// Encrypts `plaintext` into a packet with the given IV (`posnet_enc.php` `Encrypt`).
pub fn encrypt_packet(plaintext: &[u8], enc_key: &str, iv: [u8; 8]) -> String {
    let cipher = TripleDes::new(&packet_key(enc_key));
    let mut packet = hex_upper(&iv);
    packet.push_str(&hex_upper(&cipher.encrypt_cbc(iv, plaintext)));
    let crc = crc32(packet.as_bytes());
    packet.push_str(&format!("{crc:08X}"));
    packet
}

/// Decrypts a packet (`posnet_enc.php` `Decrypt`): checks the CRC-32 of the hex text, then
/// decrypts with the ENCKEY-derived key and the leading IV.
pub fn decrypt_packet(packet: &str, enc_key: &str) -> Result<Vec<u8>, PacketError> {
    let packet = packet.trim();
    if packet.len() < 16 + 8 || !packet.is_ascii() {
        return Err(PacketError::Format);
    }
    let (body, crc_text) = packet.split_at(packet.len() - 8);
    let crc = hex_decode(crc_text).ok_or(PacketError::Format)?;
    let expected = crc32(body.as_bytes()).to_be_bytes();
    if crc != expected {
        return Err(PacketError::Crc);
    }
    let (iv_text, cipher_text) = body.split_at(16);
    let iv_bytes = hex_decode(iv_text).ok_or(PacketError::Format)?;
    let ciphertext = hex_decode(cipher_text).ok_or(PacketError::Format)?;
    let mut iv = [0u8; 8];
    iv.copy_from_slice(&iv_bytes);
    TripleDes::new(&packet_key(enc_key))
        .decrypt_cbc(iv, &ciphertext)
        .ok_or(PacketError::Decrypt)
}

/// The callback's `Sign`: upper-case hex `MD5(MerchantPacket || BankPacket || ENCKEY)`
/// (`posnet_oos.php` `CheckSignForMercSite`).
pub fn callback_sign(merchant_packet: &str, bank_packet: &str, enc_key: &str) -> String {
    let mut data = Vec::with_capacity(merchant_packet.len() + bank_packet.len() + enc_key.len());
    data.extend_from_slice(merchant_packet.as_bytes());
    data.extend_from_slice(bank_packet.as_bytes());
    data.extend_from_slice(enc_key.as_bytes());
    md5_upper_hex(&data)
}
