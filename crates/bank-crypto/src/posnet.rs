//! The primitives of Yapı Kredi's OOS 3D packets: MD5 (RFC 1321, the `md-5` crate),
//! CRC-32 (IEEE 802.3, as PHP's `crc32`; `crc32fast`), and Triple-DES (FIPS 46-3, EDE with
//! three keys; `des`) in CBC mode (`cbc`), with the packet layout built on them.
//!
//! They are used the way YKB's own merchant toolkit (`posnet_oos.php`, `posnet_enc.php`)
//! uses them: the connector reads the bank's packets and checks its signature with them,
//! and the simulator makes the packets and signatures the bank's gate posts back.
//!
//! * `Sign` of the 3D callback = upper-case hex `MD5(MerchantPacket || BankPacket || ENCKEY)`
//!   ([`callback_sign`]).
//! * `MerchantPacket` = upper-case hex of an 8-byte IV, then upper-case hex of the
//!   3DES-CBC ciphertext (PKCS#7 padding) of the merchant data, then the upper-case hex
//!   CRC-32 of everything before it. The 3DES key is the 24 ASCII characters that begin the
//!   upper-case hex MD5 of the ENCKEY string ([`packet_key`]); see [`decrypt_packet`].
//!
//! MD5 and DES are weak by today's standards; they are what the bank speaks. Nothing here
//! is used for anything but the bank's packets and signatures.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{
    BlockDecrypt, BlockDecryptMut, BlockEncrypt, BlockEncryptMut, InnerIvInit, KeyInit,
};
use des::TdesEde3;
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

pub use crate::hex_upper;

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

#[cfg(test)]
mod tests {
    //! Oracles: the RFC 1321 test suite, PHP's `crc32`, the FIPS 46 worked example, the
    //! NIST SP 800-67 sample, and OpenSSL 3 `enc -des-ede3-cbc` for the packet.

    use super::*;

    /// The test ENCKEY of the reference library (mewebstudio/pos).
    const ENC_KEY: &str = "10,10,10,10,10,10,10,10";

    /// The plaintext of the cross-checked packet below (C3.1's values, merchant data layout of
    /// YKB's `posnet_oos.php`).
    const PACKET_PLAIN: &str =
        "6706598320;67005551;5696;00;YKB_0000080603153823;0;0;;;;Y;1;;1700000000000;TL";
    /// `PACKET_PLAIN` encrypted by OpenSSL 3 (`enc -des-ede3-cbc`, PKCS#7) under the test ENCKEY's
    /// packet key with IV `1234567890123456`, then IV hex + ciphertext hex + CRC-32 as YKB's
    /// toolkit lays it out (computed with Python's `zlib.crc32`).
    const PACKET: &str = "12345678901234568EE04BACA26CEE8FC17C9E7DEEC0F6D77CF628257CD6774AE66AF3DCE71E32F7273B8234614FF74BC589D51CCBE8859083ED4D92B51DF6B70CD76627E5A0E77D47FCE853F9C64FDBFC32E740E2BCC777770B949C";
    const BANK_PACKET: &str = "F61E1D0C0FB6EC5203A748124F309998F61E1D0C0FB6EC5203A748124F30";
    /// `upper(md5(PACKET || BANK_PACKET || ENC_KEY))` by Python's hashlib.
    const PACKET_SIGN: &str = "C6F40BF47F41ED311C95CBAB6E8CA1AA";

    #[test]
    fn md5_matches_rfc_1321() {
        for (input, digest) in [
            ("", "D41D8CD98F00B204E9800998ECF8427E"),
            ("a", "0CC175B9C0F1B6A831C399E269772661"),
            ("abc", "900150983CD24FB0D6963F7D28E17F72"),
            ("message digest", "F96B697D7CB7938D525A2F31AAF161D0"),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57EDF4A22BE3C955AC49DA2E2107B67A",
            ),
            (
                "The quick brown fox jumps over the lazy dog",
                "9E107D9D372BB6826BD81D3542A419D6",
            ),
        ] {
            assert_eq!(md5_upper_hex(input.as_bytes()), digest, "{input:?}");
        }
        // Across a block boundary (Python's hashlib as the oracle).
        assert_eq!(
            md5_upper_hex(&[b'a'; 200]),
            "887F30B43B2867F4A9ACCCEEE7D16E6C"
        );
    }

    #[test]
    fn crc32_matches_php() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"abc"), 0x3524_41C2);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn des_and_triple_des_match_the_standards() {
        // FIPS 46 worked example: single DES is EDE with K1 = K2 = K3.
        let key = [0x13, 0x34, 0x57, 0x79, 0x9B, 0xBC, 0xDF, 0xF1];
        let mut triple = [0u8; 24];
        for part in triple.chunks_exact_mut(8) {
            part.copy_from_slice(&key);
        }
        let des = TripleDes::new(&triple);
        assert_eq!(
            des.encrypt_block(0x0123_4567_89AB_CDEF),
            0x85E8_1354_0F0A_B405
        );
        assert_eq!(
            des.decrypt_block(0x85E8_1354_0F0A_B405),
            0x0123_4567_89AB_CDEF
        );
        // NIST SP 800-67 sample: three distinct keys, "The qufc".
        let key: [u8; 24] = hex_decode("0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123")
            .unwrap()
            .try_into()
            .unwrap();
        let tdes = TripleDes::new(&key);
        let block = u64::from_be_bytes(*b"The qufc");
        assert_eq!(tdes.encrypt_block(block), 0xA826_FD8C_E53B_855F);
        assert_eq!(tdes.decrypt_block(0xA826_FD8C_E53B_855F), block);
    }

    #[test]
    fn cbc_pads_and_round_trips() {
        let tdes = TripleDes::new(&packet_key(ENC_KEY));
        let iv = [1, 2, 3, 4, 5, 6, 7, 8];
        for len in 0..40 {
            let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let cipher = tdes.encrypt_cbc(iv, &plain);
            assert_eq!(cipher.len(), (len / 8 + 1) * 8);
            assert_eq!(tdes.decrypt_cbc(iv, &cipher).unwrap(), plain);
        }
        assert_eq!(tdes.decrypt_cbc(iv, &[]), None);
        assert_eq!(tdes.decrypt_cbc(iv, &[0; 7]), None);
    }

    #[test]
    fn packets_match_openssl_and_the_toolkit_layout() {
        assert_eq!(
            &packet_key(ENC_KEY),
            b"A29EA51EE8835738CF4F0533",
            "first 24 characters of upper(md5(ENCKEY))"
        );
        let iv = [0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56];
        assert_eq!(encrypt_packet(PACKET_PLAIN.as_bytes(), ENC_KEY, iv), PACKET);
        assert_eq!(
            decrypt_packet(PACKET, ENC_KEY).unwrap(),
            PACKET_PLAIN.as_bytes()
        );
        assert_eq!(callback_sign(PACKET, BANK_PACKET, ENC_KEY), PACKET_SIGN);
    }

    #[test]
    fn broken_packets_are_refused() {
        // A flipped hex digit breaks the CRC.
        let mut flipped = PACKET.to_owned();
        flipped.replace_range(20..21, if &PACKET[20..21] == "0" { "1" } else { "0" });
        assert_eq!(decrypt_packet(&flipped, ENC_KEY), Err(PacketError::Crc));
        // Another key: the padding does not come out right.
        assert_eq!(
            decrypt_packet(PACKET, "11,11,11,11,11,11,11,11"),
            Err(PacketError::Decrypt)
        );
        for bad in ["", "1234", "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", "ş"] {
            assert_eq!(
                decrypt_packet(bad, ENC_KEY),
                Err(PacketError::Format),
                "{bad:?}"
            );
        }
        // A well-formed packet whose ciphertext is not whole blocks.
        let mut odd = String::from("1234567890123456ABCDEF");
        let crc = crc32(odd.as_bytes());
        odd.push_str(&format!("{crc:08X}"));
        assert_eq!(decrypt_packet(&odd, ENC_KEY), Err(PacketError::Decrypt));
    }

    #[test]
    fn hex_and_constant_time_helpers() {
        assert_eq!(hex_upper(&[0x00, 0xAB, 0x7F]), "00AB7F");
        assert_eq!(hex_decode("00ab7F"), Some(vec![0x00, 0xAB, 0x7F]));
        assert_eq!(hex_decode("0"), None);
        assert_eq!(hex_decode("0g"), None);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!format!("{:?}", TripleDes::new(&[7; 24])).contains('7'));
    }
}
