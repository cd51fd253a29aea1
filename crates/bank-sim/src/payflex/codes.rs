//! The simulator's PayFlex result codes (`ResultCode` + `ResultDetail` of a `VposResponse`).
//!
//! * `0000` approved.
//! * Issuer declines relayed as `00` + the ISO 8583 code: the Craftgate sandbox decline
//!   cards with the NestPay simulator's codes and texts
//!   ([`crate::nestpay::codes::decline_for_card`]: `51` → `0051`), `0054` for an expired
//!   card, `0014` for a card number the bank cannot read.
//! * `9039` "Üye işyeri bulunamadı." (vectors S9.1, P9.10) for an unknown `MerchantId`, a
//!   wrong password or a terminal the merchant does not have; the search answers `9065`
//!   (P9.1).
//! * `1083` "Referans islem daha önceden iptal edilmis." (P9.6) and `1059` "İşlemin tamamı
//!   iade edilmiş." (P9.4), the reference's invalid-transaction codes.
//! * The other `1xxx` codes and texts are the simulator's choice (the public references
//!   give no more): `1001` a field missing or malformed, `1002` unknown reference
//!   transaction, `1003` a rule of the books refused (capture twice, cancel after end of
//!   day, refund before it or above what is left, duplicate `TransactionId`), `1004` the 3D
//!   values do not match the MPI's authentication.

/// A refusal: `ResultCode` and `ResultDetail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub code: &'static str,
    pub message: &'static str,
}

pub const APPROVED: &str = "0000";

pub const MERCHANT_NOT_FOUND: Code = Code {
    code: "9039",
    message: "Üye işyeri bulunamadı.",
};
pub const SEARCH_MERCHANT_NOT_FOUND: Code = Code {
    code: "9065",
    message: "Üye isyeri bulunamadi",
};
pub const ALREADY_CANCELLED: Code = Code {
    code: "1083",
    message: "Referans islem daha önceden iptal edilmis.",
};
pub const FULLY_REFUNDED: Code = Code {
    code: "1059",
    message: "İşlemin tamamı iade edilmiş.",
};
pub const INVALID_CARD: Code = Code {
    code: "0014",
    message: "RED-GEÇERSİZ KART NUMARASI",
};
pub const EXPIRED_CARD: Code = Code {
    code: "0054",
    message: "RED-VADESİ DOLMUŞ KART",
};
pub const INTERNAL: Code = Code {
    code: "9999",
    message: "Sistem hatası.",
};

pub const fn invalid(message: &'static str) -> Code {
    Code {
        code: "1001",
        message,
    }
}

pub const fn no_reference(message: &'static str) -> Code {
    Code {
        code: "1002",
        message,
    }
}

pub const fn refused(message: &'static str) -> Code {
    Code {
        code: "1003",
        message,
    }
}

pub const fn three_d(message: &'static str) -> Code {
    Code {
        code: "1004",
        message,
    }
}

/// The PayFlex decline a Craftgate test card triggers (`51` → `0051`), if any.
pub fn decline_for_card(pan: &str) -> Option<(String, &'static str)> {
    crate::nestpay::codes::decline_for_card(pan).map(|d| (format!("00{}", d.code), d.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decline_cards_get_four_digit_codes() {
        assert_eq!(
            decline_for_card("5406670000000009").map(|(c, _)| c),
            None,
            "a 3D status card is not a decline card"
        );
        for (pan, decline) in crate::nestpay::codes::decline_cards() {
            let (code, message) = decline_for_card(pan).unwrap();
            assert_eq!(code.len(), 4);
            assert!(code.starts_with("00"));
            assert_eq!(message, decline.message);
        }
    }
}
