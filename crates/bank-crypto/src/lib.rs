//! The cryptography the banks' protocols prescribe, where it is more than one hash call:
//! one implementation shared by Orkestra's connectors (which speak the protocol) and the
//! bank simulators (which check it). Each module is checked against outside oracles (the
//! standards' vectors, OpenSSL, the bank's own toolkit), not only against its other user.
//!
//! * [`posnet`] — Yapı Kredi PosNet's OOS 3D packets: MD5, CRC-32 and Triple-DES-CBC.
//! * [`hex_upper`] — the upper-case hex that PosNet and Garanti send their digests in.

pub mod posnet;

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
