//! The simulator's result codes: YKB's `respCode`s and the issuer declines it relays.
//!
//! A refusal is `<approved>0</approved><respCode>…</respCode><respText>…</respText>` (vector
//! P3.2). Codes and texts come from the reference where it has them (`vpos-protocols.md`
//! §3.4, vectors P3.2, P3.3, P3.7): `0148` invalid mid/tid, `0127` order id used, `0123`
//! transaction not found, `E216` MAC verification failed, and the ISO 8583 issuer answers
//! YKB relays as four digits (`0051`, `0005`, `0054`…). The others are the simulator's
//! choice — four digits in ranges the reference does not use (`01xx` format errors, `02xx`
//! order rules, `03xx` 3D data, `0999` internal), ASCII-only upper-case Turkish texts like
//! the real ones — and marked so below.

/// One refusal: `respCode` and `respText`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub text: &'static str,
}

/// Body is not `xmldata=` with a well-formed `posnetRequest` (simulator's choice).
pub const MALFORMED: Refusal = Refusal {
    code: "0100",
    text: "XML FORMATI HATALI",
};
/// No operation element, an unknown one, or a `transaction`/`tranType` the operation does
/// not take (simulator's choice).
pub const BAD_OPERATION: Refusal = Refusal {
    code: "0101",
    text: "GECERSIZ ISLEM TIPI",
};
/// `orderID`/`XID` missing, longer than 20 (24 for follow-ups) or outside `[A-Za-z0-9_]`
/// (simulator's choice).
pub const BAD_ORDER_ID: Refusal = Refusal {
    code: "0102",
    text: "ORDERID FORMATI HATALI",
};
/// `expDate` missing or not `YYMM` (simulator's choice).
pub const BAD_EXPIRY: Refusal = Refusal {
    code: "0104",
    text: "SON KULLANMA TARIHI HATALI",
};
/// `cvc` missing or not 3–4 digits (simulator's choice).
pub const BAD_CVC: Refusal = Refusal {
    code: "0105",
    text: "CVC HATALI",
};
/// `currencyCode` missing or not one of YKB's letters (simulator's choice).
pub const BAD_CURRENCY: Refusal = Refusal {
    code: "0106",
    text: "GECERSIZ PARA BIRIMI",
};
/// `installment` not `00` or `02`..`12`, installments outside TL, or a `capt` installment
/// other than `00` or the pre-authorisation's (simulator's choice).
pub const BAD_INSTALLMENT: Refusal = Refusal {
    code: "0107",
    text: "GECERSIZ TAKSIT SAYISI",
};
/// A follow-up without `hostLogKey` or `orderID` (simulator's choice).
pub const MISSING_REFERENCE: Refusal = Refusal {
    code: "0108",
    text: "HOSTLOGKEY VEYA ORDERID EKSIK",
};
/// `ccno` missing, not 12–19 digits or failing Luhn (ISO 8583 14, relayed as YKB does).
pub const BAD_CARD_NUMBER: Refusal = Refusal {
    code: "0014",
    text: "GECERSIZ KART NUMARASI",
};
/// `amount` missing, zero, not an integer of minor units, or a non-zero `wpAmount` (ISO 8583
/// 13).
pub const BAD_AMOUNT: Refusal = Refusal {
    code: "0013",
    text: "GECERSIZ TUTAR",
};
/// No transaction or order matches the `hostLogKey`/`orderID` (and `authCode`) given
/// (reference: "0123 transaction not found"; text the simulator's choice).
pub const NOT_FOUND: Refusal = Refusal {
    code: "0123",
    text: "ISLEM BULUNAMADI",
};
/// A sale/pre-auth or 3D enrolment whose order id already has an approved order (vector P3.3:
/// the real bank answers `approved=2` with the earlier order's `hostlogkey` and `authCode`).
pub const DUPLICATE_ORDER: Refusal = Refusal {
    code: "0127",
    text: "ORDERID DAHA ONCE KULLANILMIS 0127",
};
/// `mid` unknown or `tid` not the merchant's (vector P3.2's code and text; the real bank
/// appends the caller's IP).
pub const INVALID_MERCHANT: Refusal = Refusal {
    code: "0148",
    text: "INVALID MID TID IP.",
};
/// `posnetid` not the merchant's (simulator's choice).
pub const BAD_POSNET_ID: Refusal = Refusal {
    code: "0149",
    text: "GECERSIZ POSNET ID",
};
/// The request `mac` does not verify for the authentication's order, amount and currency
/// (vector P3.7's code and text).
pub const MAC_ERROR: Refusal = Refusal {
    code: "E216",
    text: "Mac Doğrulama hatalı",
};
/// Reverse refused: the transaction was reversed already, or the order went through end
/// of day (simulator's choice).
pub const NOT_REVERSIBLE: Refusal = Refusal {
    code: "0201",
    text: "IPTAL EDILEMEZ, ISLEM IPTAL EDILMIS VEYA GUNSONU YAPILMIS",
};
/// Return before end of day: the sale must be reversed instead (simulator's choice).
pub const NOT_SETTLED: Refusal = Refusal {
    code: "0202",
    text: "IADE YAPILAMAZ, ISLEM GUNSONUNA GIRMEMIS",
};
/// Return above what is left to refund (simulator's choice).
pub const OVER_REFUND: Refusal = Refusal {
    code: "0203",
    text: "IADE TUTARI IADE EDILEBILIR TUTARI ASIYOR",
};
/// Capture above the pre-authorised amount (simulator's choice).
pub const OVER_CAPTURE: Refusal = Refusal {
    code: "0204",
    text: "PROVIZYON KAPAMA TUTARI PROVIZYON TUTARINI ASIYOR",
};
/// A second capture of the same pre-authorisation (simulator's choice).
pub const ALREADY_CAPTURED: Refusal = Refusal {
    code: "0205",
    text: "PROVIZYON DAHA ONCE KAPATILMIS",
};
/// Capture or return in another currency than the order's (simulator's choice).
pub const CURRENCY_MISMATCH: Refusal = Refusal {
    code: "0206",
    text: "PARA BIRIMI ISLEM ILE UYUSMUYOR",
};
/// Return on an order that is declined, voided or not captured (simulator's choice).
pub const NOTHING_TO_REFUND: Refusal = Refusal {
    code: "0207",
    text: "IADE EDILECEK ISLEM BULUNAMADI",
};
/// Capture of something that is not an approved, unvoided pre-authorisation (simulator's
/// choice).
pub const NO_PREAUTH: Refusal = Refusal {
    code: "0208",
    text: "KAPATILACAK PROVIZYON BULUNAMADI",
};
/// `bankData` unknown to the bank for this merchant, or older than the authentication's
/// lifetime (simulator's choice).
pub const THREEDS_UNKNOWN: Refusal = Refusal {
    code: "0301",
    text: "3D VERISI BULUNAMADI VEYA SURESI DOLDU",
};
/// `oosTranData` with 3D data already provisioned once (simulator's choice).
pub const THREEDS_USED: Refusal = Refusal {
    code: "0302",
    text: "3D VERISI DAHA ONCE KULLANILMIS",
};
/// `oosTranData` of an authentication whose `mdStatus` is not 1–4 (simulator's choice).
pub const THREEDS_NOT_AUTHENTICATED: Refusal = Refusal {
    code: "0303",
    text: "3D DOGRULAMA BASARISIZ, PROVIZYON ALINAMAZ",
};
/// `merchantData` or `sign` differ from what the bank posted with that `bankData`
/// (simulator's choice).
pub const THREEDS_BAD_SIGN: Refusal = Refusal {
    code: "0304",
    text: "3D IMZA GECERSIZ",
};
/// The simulator itself failed (a poisoned lock); never expected (simulator's choice).
pub const INTERNAL: Refusal = Refusal {
    code: "0999",
    text: "SISTEM HATASI",
};

/// What an expired card (expiry before the bank's date) gets (ISO 8583 54).
pub const EXPIRED_CARD: Refusal = Refusal {
    code: "0054",
    text: "VADESI DOLMUS KART",
};

const INSUFFICIENT_FUNDS: Refusal = Refusal {
    code: "0051",
    text: "YETERSIZ BAKIYE",
};

/// Craftgate sandbox decline cards (craftgate-api.md Appendix B, the table of
/// `nestpay/codes.rs`) → the ISO 8583 answer YKB relays, as four digits. `DECLINED` has no
/// ISO code of its own; like NestPay's table it gets 28 (`0028`), a plain reject.
const DECLINE_CARDS: [(&str, Refusal); 18] = [
    ("5100050000006661", INSUFFICIENT_FUNDS),
    ("5115830000006669", INSUFFICIENT_FUNDS),
    ("5117280000006665", INSUFFICIENT_FUNDS),
    ("5117580000006668", INSUFFICIENT_FUNDS),
    (
        "5100560000006669",
        Refusal {
            code: "0005",
            text: "RED-ONAYLANMADI",
        },
    ),
    (
        "5101380000006661",
        Refusal {
            code: "0012",
            text: "GECERSIZ ISLEM",
        },
    ),
    (
        "5101510000006663",
        Refusal {
            code: "0057",
            text: "KART SAHIBI BU ISLEMI YAPAMAZ",
        },
    ),
    (
        "5101520000006662",
        Refusal {
            code: "0043",
            text: "CALINTI KART",
        },
    ),
    (
        "5102210000006669",
        Refusal {
            code: "0028",
            text: "ISLEM REDDEDILDI",
        },
    ),
    (
        "5136620000006669",
        Refusal {
            code: "0041",
            text: "KAYIP KART",
        },
    ),
    ("5163080000006662", EXPIRED_CARD),
    (
        "5164580000006660",
        Refusal {
            code: "0082",
            text: "CVV HATALI",
        },
    ),
    (
        "5188960000006666",
        Refusal {
            code: "0058",
            text: "TERMINALIN BU ISLEMI YAPMA YETKISI YOK",
        },
    ),
    (
        "5192610000006661",
        Refusal {
            code: "0059",
            text: "SAHTEKARLIK SUPHESI",
        },
    ),
    (
        "5193240000006666",
        Refusal {
            code: "0093",
            text: "ISLEM YASAL NEDENLERLE TAMAMLANAMIYOR",
        },
    ),
    (
        "5200170000006666",
        Refusal {
            code: "0099",
            text: "GENEL HATA",
        },
    ),
    (
        "5209220000006660",
        Refusal {
            code: "0062",
            text: "KISITLI KART",
        },
    ),
    // The last Appendix B card, APPROVED_COMPLETED, is simply approved like any other.
    (
        "5213940000006667",
        Refusal {
            code: "0000",
            text: "",
        },
    ),
];

/// The decline a test card triggers, `None` for cards that are approved.
pub fn decline_for_card(pan: &str) -> Option<Refusal> {
    DECLINE_CARDS
        .iter()
        .find(|(card, _)| *card == pan)
        .map(|(_, refusal)| *refusal)
        .filter(|refusal| refusal.code != "0000")
}

/// Every decline card with its refusal, for documentation and tests.
pub fn decline_cards() -> impl Iterator<Item = (&'static str, Refusal)> {
    DECLINE_CARDS
        .iter()
        .copied()
        .filter(|(_, refusal)| refusal.code != "0000")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decline_cards_are_luhn_valid_and_match_nestpays_table() {
        assert_eq!(decline_cards().count(), 17);
        for (pan, refusal) in decline_cards() {
            assert!(domain::card::luhn_valid(pan), "{pan}");
            assert_eq!(decline_for_card(pan), Some(refusal));
            // Same cards, same ISO code as the NestPay simulator, four digits here.
            let nestpay = crate::nestpay::codes::decline_for_card(pan).unwrap();
            assert_eq!(refusal.code, format!("00{}", nestpay.code), "{pan}");
        }
        assert_eq!(decline_for_card("5213940000006667"), None);
        assert_eq!(decline_for_card("5258640000000001"), None);
    }
}
