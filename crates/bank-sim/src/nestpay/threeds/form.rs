//! Browser form posts (`application/x-www-form-urlencoded`), as the gate and the ACS page
//! receive them.
//!
//! Browsers encode a form in the charset of the page that holds it, so a merchant page in
//! ISO-8859-9 posts Turkish letters as single bytes and a UTF-8 page as two. The charset is
//! taken from the `Content-Type` parameter when there is one; otherwise the body is UTF-8
//! if its decoded bytes are valid UTF-8, else ISO-8859-9 (windows-1254), as the bank
//! tolerates both.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1254};

/// The fields of a form body in posting order (a repeated name appears twice).
pub fn parse(body: &[u8], content_type: Option<&str>) -> Vec<(String, String)> {
    let raw: Vec<(Vec<u8>, Vec<u8>)> = body
        .split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let at = pair.iter().position(|b| *b == b'=');
            let (name, value) = match at {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            (percent_decode(name), percent_decode(value))
        })
        .collect();
    let declared = content_type
        .and_then(charset)
        .and_then(|label| Encoding::for_label(label.as_bytes()));
    let encoding = match declared {
        Some(encoding) if encoding != UTF_8 && encoding.is_ascii_compatible() => encoding,
        _ => {
            let all_utf8 = raw
                .iter()
                .all(|(n, v)| std::str::from_utf8(n).is_ok() && std::str::from_utf8(v).is_ok());
            if all_utf8 { UTF_8 } else { WINDOWS_1254 }
        }
    };
    raw.into_iter()
        .map(|(name, value)| (decode(encoding, &name), decode(encoding, &value)))
        .collect()
}

fn decode(encoding: &'static Encoding, bytes: &[u8]) -> String {
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

/// The `charset` parameter of a `Content-Type`.
fn charset(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; a `%` not
/// followed by two hex digits stays as it is.
fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = input
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    out
}

/// Encodes fields as a UTF-8 form body (tests and tools).
pub fn encode(fields: &[(String, String)]) -> String {
    fn push(out: &mut String, text: &str) {
        for byte in text.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                    out.push(char::from(byte));
                }
                b' ' => out.push('+'),
                other => out.push_str(&format!("%{other:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        push(&mut out, name);
        out.push('=');
        push(&mut out, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utf8_and_iso_8859_9_forms() {
        let utf8 = parse(b"a=%C5%9Ei%C4%9F&b=x+y&c=&d", None);
        assert_eq!(
            utf8,
            [
                ("a".to_owned(), "Şiğ".to_owned()),
                ("b".to_owned(), "x y".to_owned()),
                ("c".to_owned(), String::new()),
                ("d".to_owned(), String::new()),
            ]
        );
        // ISO-8859-9: Ş is 0xDE, ğ 0xF0; not valid UTF-8, so read as the Turkish code page.
        let iso = parse(b"a=%DEi%F0", None);
        assert_eq!(iso[0].1, "Şiğ");
        // A declared charset wins.
        let declared = parse(
            b"a=%DEi%F0",
            Some("application/x-www-form-urlencoded; charset=ISO-8859-9"),
        );
        assert_eq!(declared[0].1, "Şiğ");
        assert_eq!(parse(b"a=%zz%4", None)[0].1, "%zz%4");
    }

    #[test]
    fn encode_round_trips() {
        let fields = vec![
            ("HASH".to_owned(), "a+b/c==".to_owned()),
            ("msg".to_owned(), "İşlem & onay".to_owned()),
        ];
        assert_eq!(parse(encode(&fields).as_bytes(), None), fields);
    }
}
