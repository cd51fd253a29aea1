//! NestPay 3D Secure form hashes: the legacy v1 SHA-1 request hash and its `HASHPARAMS`
//! callback check, and the ver3 SHA-512 hash over sorted form fields (one function signs
//! the request form and verifies the bank's callback).
//!
//! Byte-for-byte parity with the bank matters more than elegance here: the ver3 key order
//! is PHP's `ksort(SORT_NATURAL | SORT_FLAG_CASE)`, reproduced in [`php_natural_case_cmp`],
//! because both the bank and the reference library sort that way. Hash inputs are the UTF-8
//! bytes of the strings, as in the reference library.

use std::cmp::Ordering;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::Rng as _;
use sha1::{Digest as _, Sha1};
use sha2::Sha512;

/// The fields of a legacy (v1) 3D form that its hash covers, as posted.
#[derive(Debug, Clone, Copy)]
pub struct V1FormHashInput<'a> {
    pub client_id: &'a str,
    /// `oid`, the bank order id.
    pub order_id: &'a str,
    /// `amount`, exactly as posted (`"100.25"`).
    pub amount: &'a str,
    pub ok_url: &'a str,
    pub fail_url: &'a str,
    /// `islemtipi`: `Auth` or `PreAuth`.
    pub transaction_type: &'a str,
    /// `taksit`: `""` for a single payment.
    pub installment: &'a str,
    pub rnd: &'a str,
}

/// `b64(SHA1(clientid || oid || amount || okUrl || failUrl || islemtipi || taksit || rnd || storeKey))`.
pub fn v1_form_hash(input: &V1FormHashInput<'_>, store_key: &str) -> String {
    let mut sha1 = Sha1::new();
    for part in [
        input.client_id,
        input.order_id,
        input.amount,
        input.ok_url,
        input.fail_url,
        input.transaction_type,
        input.installment,
        input.rnd,
        store_key,
    ] {
        sha1.update(part.as_bytes());
    }
    BASE64.encode(sha1.finalize())
}

/// Checks a legacy (v1) callback: the bank names the signed fields in `HASHPARAMS`
/// (`clientid:oid:mdStatus:…:`), and `HASH` must equal `b64(SHA1(values || storeKey))`.
///
/// Like the reference library, the values are taken from the posted fields themselves and
/// `HASHPARAMSVAL` is ignored: trusting the bank's own concatenation would let a tampered
/// field pass. A named field that is absent counts as `""`. False when `HASH` or
/// `HASHPARAMS` is missing.
pub fn verify_v1_callback<K: AsRef<str>, V: AsRef<str>>(
    fields: &[(K, V)],
    store_key: &str,
) -> bool {
    let (Some(expected), Some(hash_params)) = (field(fields, "HASH"), field(fields, "HASHPARAMS"))
    else {
        return false;
    };
    let mut sha1 = Sha1::new();
    for name in hash_params.split(':').filter(|name| !name.is_empty()) {
        sha1.update(field(fields, name).unwrap_or_default().as_bytes());
    }
    sha1.update(store_key.as_bytes());
    let actual = BASE64.encode(sha1.finalize());
    constant_time_eq(actual.as_bytes(), expected.as_bytes())
}

/// The ver3 (SHA-512) hash of a form: of the request form before posting it, or of the
/// bank's callback to verify it.
///
/// Keys named `hash`, `encoding` or `nationalidno` (any case) are left out: the bank does
/// not sign them (Ziraat adds `NATIONALIDNO` to callbacks after signing). A key posted twice
/// keeps its last value, as PHP's form parsing does.
pub fn ver3_hash<K: AsRef<str>, V: AsRef<str>>(fields: &[(K, V)], store_key: &str) -> String {
    let mut signed: Vec<(&str, &str)> = Vec::with_capacity(fields.len());
    for (key, value) in fields {
        let (key, value) = (key.as_ref(), value.as_ref());
        if ["hash", "encoding", "nationalidno"]
            .iter()
            .any(|excluded| key.eq_ignore_ascii_case(excluded))
        {
            continue;
        }
        match signed.iter_mut().find(|(seen, _)| *seen == key) {
            Some(slot) => slot.1 = value,
            None => signed.push((key, value)),
        }
    }
    // A stable sort keeps keys that compare equal in posting order, as PHP 8's sort does.
    signed.sort_by(|(a, _), (b, _)| php_natural_case_cmp(a, b));

    let mut plaintext = String::new();
    for (_, value) in &signed {
        push_ver3_escaped(&mut plaintext, value);
        plaintext.push('|');
    }
    push_ver3_escaped(&mut plaintext, store_key);
    BASE64.encode(Sha512::digest(plaintext.as_bytes()))
}

/// Checks a ver3 callback: its `HASH` field against [`ver3_hash`] of all posted fields.
/// False when no `HASH` field was posted.
pub fn verify_ver3_callback<K: AsRef<str>, V: AsRef<str>>(
    fields: &[(K, V)],
    store_key: &str,
) -> bool {
    let Some(expected) = fields
        .iter()
        .rev()
        .find(|(key, _)| key.as_ref().eq_ignore_ascii_case("hash"))
        .map(|(_, value)| value.as_ref())
    else {
        return false;
    };
    let actual = ver3_hash(fields, store_key);
    constant_time_eq(actual.as_bytes(), expected.as_bytes())
}

/// Compares two byte strings in time that depends only on their lengths, so a forged
/// callback cannot learn the right hash one byte at a time. (Hash lengths are public.)
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// A fresh `rnd` for a 3D form: 24 upper-case hex characters, as the reference library makes.
pub fn new_rnd() -> String {
    let bytes: [u8; 12] = rand::thread_rng().r#gen();
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Escapes a ver3 value: `\` first, then `|`, so the separator cannot be forged by a value.
fn push_ver3_escaped(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            c => out.push(c),
        }
    }
}

/// The last value posted under `name` (exact, case-sensitive), as PHP's `$_POST` keeps it.
fn field<'a, K: AsRef<str>, V: AsRef<str>>(fields: &'a [(K, V)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .rev()
        .find(|(key, _)| key.as_ref() == name)
        .map(|(_, value)| value.as_ref())
}

/// PHP's `strnatcmp_ex(a, b, fold_case = true)`, the comparison behind
/// `ksort(SORT_NATURAL | SORT_FLAG_CASE)`: ASCII upper-case folding (so `_` sorts after
/// letters), runs of digits compared by value (a run starting with `0` is compared as a
/// fraction, left-aligned), leading zeros of the whole string and whitespace skipped.
/// Bytes past the end read as NUL, as they do on PHP's NUL-terminated strings.
pub fn php_natural_case_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.is_empty() || b.is_empty() {
        return a.len().cmp(&b.len());
    }
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let (mut ai, mut bi) = (0usize, 0usize);
    let mut leading = true;
    loop {
        let mut ca = at(a, ai);
        let mut cb = at(b, bi);

        if leading {
            while ca == b'0' && ai + 1 < a.len() && at(a, ai + 1).is_ascii_digit() {
                ai += 1;
                ca = at(a, ai);
            }
            while cb == b'0' && bi + 1 < b.len() && at(b, bi + 1).is_ascii_digit() {
                bi += 1;
                cb = at(b, bi);
            }
            leading = false;
        }

        while is_c_space(ca) {
            ai += 1;
            ca = at(a, ai);
        }
        while is_c_space(cb) {
            bi += 1;
            cb = at(b, bi);
        }

        if ca.is_ascii_digit() && cb.is_ascii_digit() {
            let fractional = ca == b'0' || cb == b'0';
            let result = if fractional {
                compare_left(a, &mut ai, b, &mut bi)
            } else {
                compare_right(a, &mut ai, b, &mut bi)
            };
            if result != Ordering::Equal {
                return result;
            }
            match (ai >= a.len(), bi >= b.len()) {
                (true, true) => return Ordering::Equal,
                (true, false) => return Ordering::Less,
                (false, true) => return Ordering::Greater,
                (false, false) => {
                    ca = at(a, ai);
                    cb = at(b, bi);
                }
            }
        }

        let (ca, cb) = (ca.to_ascii_uppercase(), cb.to_ascii_uppercase());
        match ca.cmp(&cb) {
            Ordering::Equal => {}
            unequal => return unequal,
        }

        ai += 1;
        bi += 1;
        match (ai >= a.len(), bi >= b.len()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
    }
}

/// C's `isspace` in the "C" locale.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn digit_at(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

/// Right-aligned digit runs: the longer run wins, otherwise the first differing digit.
fn compare_right(a: &[u8], ai: &mut usize, b: &[u8], bi: &mut usize) -> Ordering {
    let mut bias = Ordering::Equal;
    loop {
        match (digit_at(a, *ai), digit_at(b, *bi)) {
            (false, false) => return bias,
            (false, true) => return Ordering::Less,
            (true, false) => return Ordering::Greater,
            (true, true) => {
                if bias == Ordering::Equal {
                    bias = a[*ai].cmp(&b[*bi]);
                }
            }
        }
        *ai += 1;
        *bi += 1;
    }
}

/// Left-aligned (fractional) digit runs: the first differing digit wins.
fn compare_left(a: &[u8], ai: &mut usize, b: &[u8], bi: &mut usize) -> Ordering {
    loop {
        match (digit_at(a, *ai), digit_at(b, *bi)) {
            (false, false) => return Ordering::Equal,
            (false, true) => return Ordering::Less,
            (true, false) => return Ordering::Greater,
            (true, true) => match a[*ai].cmp(&b[*bi]) {
                Ordering::Equal => {}
                unequal => return unequal,
            },
        }
        *ai += 1;
        *bi += 1;
    }
}
