//! The bank's side of NestPay's 3D hashes: it checks the merchant's form with them and
//! signs its callbacks with them (`vpos-protocols.md` §1.3).
//!
//! * ver3: `b64(SHA-512(v1|v2|…|storeKey))` over every field except `hash`, `encoding` and
//!   `nationalidno` (any case), keys in PHP `ksort(SORT_NATURAL | SORT_FLAG_CASE)` order
//!   ([`natural_case_cmp`]), `\` then `|` escaped in every value and in the key; a key
//!   posted twice counts with its last value.
//! * v1 request: `b64(SHA-1(clientid || oid || amount || okUrl || failUrl || islemtipi ||
//!   taksit || rnd || storeKey))`.
//! * v1 callback: `HASHPARAMS` names the signed fields (`a:b:c:`), `HASHPARAMSVAL` is their
//!   concatenation, `HASH = b64(SHA-1(HASHPARAMSVAL || storeKey))`.
//!
//! This is the simulator's own implementation, written from the protocol notes; the tests
//! check it against the reference library's vectors and against Orkestra's connector.

use std::cmp::Ordering;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::{Digest as _, Sha1};
use sha2::Sha512;

/// The ver3 hash of a form or callback.
pub fn ver3<K: AsRef<str>, V: AsRef<str>>(fields: &[(K, V)], store_key: &str) -> String {
    let mut signed: Vec<(&str, &str)> = Vec::new();
    for (key, value) in fields {
        let (key, value) = (key.as_ref(), value.as_ref());
        let excluded = ["hash", "encoding", "nationalidno"]
            .iter()
            .any(|name| key.eq_ignore_ascii_case(name));
        if excluded {
            continue;
        }
        if let Some(slot) = signed.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            signed.push((key, value));
        }
    }
    // Stable: keys that compare equal keep their posting order, as in PHP 8.
    signed.sort_by(|a, b| natural_case_cmp(a.0, b.0));
    let mut text = String::new();
    for (_, value) in signed {
        escape_into(&mut text, value);
        text.push('|');
    }
    escape_into(&mut text, store_key);
    BASE64.encode(Sha512::digest(text.as_bytes()))
}

fn escape_into(out: &mut String, value: &str) {
    out.push_str(&value.replace('\\', "\\\\").replace('|', "\\|"));
}

/// The legacy request hash.
#[allow(clippy::too_many_arguments)] // the bank's own field list
pub fn v1_request(
    client_id: &str,
    oid: &str,
    amount: &str,
    ok_url: &str,
    fail_url: &str,
    transaction_type: &str,
    installment: &str,
    rnd: &str,
    store_key: &str,
) -> String {
    let text = [
        client_id,
        oid,
        amount,
        ok_url,
        fail_url,
        transaction_type,
        installment,
        rnd,
        store_key,
    ]
    .concat();
    BASE64.encode(Sha1::digest(text.as_bytes()))
}

/// Signs a legacy callback over `names`: `(HASHPARAMS, HASHPARAMSVAL, HASH)`. A named field
/// that is absent counts as empty.
pub fn v1_callback(
    fields: &[(String, String)],
    names: &[&str],
    store_key: &str,
) -> (String, String, String) {
    let mut params = String::new();
    let mut values = String::new();
    for name in names {
        params.push_str(name);
        params.push(':');
        let value = fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        values.push_str(value);
    }
    let signature = BASE64.encode(Sha1::digest(format!("{values}{store_key}").as_bytes()));
    (params, values, signature)
}

/// Equality whose time depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// PHP's `strnatcasecmp`: case folded to upper case (so `_` sorts after letters), digit
/// runs compared as numbers (a run starting with `0` as a decimal fraction), leading zeros
/// of the whole string and whitespace skipped; reading past the end gives NUL, as C does.
pub fn natural_case_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.is_empty() || b.is_empty() {
        return a.len().cmp(&b.len());
    }
    let mut x = Cursor { s: a, i: 0 };
    let mut y = Cursor { s: b, i: 0 };
    x.skip_leading_zeros();
    y.skip_leading_zeros();
    loop {
        x.skip_space();
        y.skip_space();
        if x.digit() && y.digit() {
            let by_value = if x.peek() == b'0' || y.peek() == b'0' {
                digits_left(&mut x, &mut y)
            } else {
                digits_right(&mut x, &mut y)
            };
            if by_value != Ordering::Equal {
                return by_value;
            }
            match (x.at_end(), y.at_end()) {
                (true, true) => return Ordering::Equal,
                (true, false) => return Ordering::Less,
                (false, true) => return Ordering::Greater,
                (false, false) => {}
            }
        }
        let order = x
            .peek()
            .to_ascii_uppercase()
            .cmp(&y.peek().to_ascii_uppercase());
        if order != Ordering::Equal {
            return order;
        }
        x.i += 1;
        y.i += 1;
        match (x.at_end(), y.at_end()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> u8 {
        self.s.get(self.i).copied().unwrap_or(0)
    }

    fn digit(&self) -> bool {
        self.peek().is_ascii_digit()
    }

    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    fn skip_leading_zeros(&mut self) {
        while self.peek() == b'0' && self.s.get(self.i + 1).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            self.i += 1;
        }
    }
}

/// Integer digit runs: the longer run is greater; equal lengths go by the first difference.
fn digits_right(x: &mut Cursor<'_>, y: &mut Cursor<'_>) -> Ordering {
    let mut bias = Ordering::Equal;
    loop {
        match (x.digit(), y.digit()) {
            (false, false) => return bias,
            (false, true) => return Ordering::Less,
            (true, false) => return Ordering::Greater,
            (true, true) => {
                if bias == Ordering::Equal {
                    bias = x.peek().cmp(&y.peek());
                }
            }
        }
        x.i += 1;
        y.i += 1;
    }
}

/// Fractional digit runs: the first difference decides, a shorter run is smaller.
fn digits_left(x: &mut Cursor<'_>, y: &mut Cursor<'_>) -> Ordering {
    loop {
        match (x.digit(), y.digit()) {
            (false, false) => return Ordering::Equal,
            (false, true) => return Ordering::Less,
            (true, false) => return Ordering::Greater,
            (true, true) => {
                let order = x.peek().cmp(&y.peek());
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
        x.i += 1;
        y.i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R1.21–R1.23 and H1.3/H1.4 of vpos-test-vectors.md (store key 123456).
    #[test]
    fn ver3_matches_the_reference_vectors() {
        let base = [
            ("clientid", "190100000"),
            ("storetype", "3d"),
            ("amount", "100.25"),
            ("oid", "order222"),
            ("okUrl", "https://domain.com/success"),
            ("failUrl", "https://domain.com/fail_url"),
            ("rnd", "rand-21212"),
            ("lang", "tr"),
            ("currency", "949"),
            ("taksit", ""),
            ("TranType", "Auth"),
            ("hashAlgorithm", "ver3"),
        ];
        assert_eq!(
            ver3(&base, "123456"),
            "7tt3i3SMhzR3jYjCMwNrolSn7ksY7eKz2kVsqt/nUGK6XNw9/dMMZPVqHK9pQROGEIW3PJWut6v1Xv6ZDtnuSA=="
        );
        let mut with_card = base.to_vec();
        with_card.extend([
            ("pan", "5555444433332222"),
            ("Ecom_Payment_Card_ExpDate_Month", "01"),
            ("Ecom_Payment_Card_ExpDate_Year", "22"),
            ("cv2", "123"),
            ("hash", "ignored"),
        ]);
        assert_eq!(
            ver3(&with_card, "123456"),
            "YYdcmVm5+WExAKjbgcjtU2M2HgbH9XrPGSYakO4Ahq4NLZfXLqHIoacxNuG6MrTzpyugqZXequJKychrkHB9Cg=="
        );
        let h1_4 = [
            ("clientid", "190100000"),
            ("storetype", "3d"),
            ("amount", "100.25"),
            ("oid", "order222"),
            ("okUrl", "https://domain.com/success"),
            ("failUrl", "https://domain.com/fail_url"),
            ("rnd", "12345"),
            ("hashAlgorithm", "ver3"),
            ("lang", "tr"),
            ("currency", "949"),
            ("islemtipi", "Auth"),
            ("taksit", ""),
        ];
        assert_eq!(
            ver3(&h1_4, "123456"),
            "4aUsG5hqlIFLc9s8PKc5rWb2OLhmxDDewNgKa2XrwoYCIxlyVq8Fjl4IVaZzoqL983CfTseicmnTA0PjZr74xg=="
        );
    }

    /// H1.1 and R1.11.
    #[test]
    fn v1_request_matches_the_reference_vectors() {
        let hash = |rnd| {
            v1_request(
                "700655000200",
                "order222",
                "100.25",
                "https://domain.com/success",
                "https://domain.com/fail_url",
                "Auth",
                "",
                rnd,
                "TRPS0200",
            )
        };
        assert_eq!(hash("rand"), "S7UxUAohxaxzl35WxHyDfuQx0sg=");
        assert_eq!(hash("rand-21212"), "V0uvjkD6soGz8s4w/ZwjDiTS+Cs=");
    }

    /// C1.4's HASHPARAMSVAL and HASH.
    #[test]
    fn v1_callback_matches_a_real_callback() {
        let fields: Vec<(String, String)> = [
            ("clientid", "190100000"),
            ("oid", "202210304547"),
            ("mdStatus", "1"),
            ("cavv", "ABABCSQDGQAAAABllJMDdUQAEJI="),
            ("eci", "05"),
            (
                "md",
                "435508:4328956B2D668C558B0AECFF49A883EEFF2CD4168F54758441F31C79840636B8:3827:##190100000",
            ),
            ("rnd", "yVCgrF4/9i3p9R0rQvw8"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let (params, values, hash) = v1_callback(
            &fields,
            &["clientid", "oid", "mdStatus", "cavv", "eci", "md", "rnd"],
            "123456",
        );
        assert_eq!(params, "clientid:oid:mdStatus:cavv:eci:md:rnd:");
        assert_eq!(
            values,
            "1901000002022103045471ABABCSQDGQAAAABllJMDdUQAEJI=05435508:4328956B2D668C558B0AECFF49A883EEFF2CD4168F54758441F31C79840636B8:3827:##190100000yVCgrF4/9i3p9R0rQvw8"
        );
        assert_eq!(hash, "MyL35j/zA22D90nUkW0on1k2njE=");
    }

    #[test]
    fn natural_case_order() {
        // The fixture key order of vpos-protocols.md §1.3.
        let expected = [
            "ACQBIN",
            "acqStan",
            "amount",
            "AuthCode",
            "callbackCall",
            "cavv",
            "clientid",
            "clientIp",
            "currency",
            "digest",
            "dsId",
            "eci",
            "Ecom_Payment_Card_ExpDate_Month",
            "Ecom_Payment_Card_ExpDate_Year",
            "Email",
            "ErrMsg",
            "EXTRA_CARDBRAND",
            "ReturnOid",
            "rnd",
            "SettleId",
            "sID",
            "storetype",
            "taksit",
            "TRANID",
            "TransId",
            "txstatus",
            "version",
            "xid",
        ];
        let mut keys: Vec<&str> = expected.iter().rev().copied().collect();
        keys.sort_by(|a, b| natural_case_cmp(a, b));
        assert_eq!(keys, expected);
        assert_eq!(natural_case_cmp("TRX2", "TRX10"), Ordering::Less);
        assert_eq!(natural_case_cmp("a_b", "ab"), Ordering::Greater);
        assert_eq!(natural_case_cmp("x.05", "x.5"), Ordering::Less);
        assert_eq!(natural_case_cmp("007", "7"), Ordering::Equal);
        assert_eq!(natural_case_cmp("", "a"), Ordering::Less);
        assert_eq!(natural_case_cmp("Hash", "hASH"), Ordering::Equal);
    }

    #[test]
    fn escapes_backslash_then_pipe() {
        let a = ver3(&[("a", r"x\|y")], r"k\|");
        let text = r"x\\\|y|k\\\|";
        assert_eq!(a, BASE64.encode(Sha512::digest(text.as_bytes())));
    }
}
