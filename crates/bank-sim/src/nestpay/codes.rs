//! The simulator's result codes: NestPay `CORE-nnnn` errors and ISO 8583 declines.
//!
//! Two kinds of refusal exist on the real bank, and the simulator keeps them apart because
//! connectors treat them differently:
//!
//! * **Errors** — the request itself is refused by the NestPay platform before any card
//!   network is involved: `Response=Error`, `ProcReturnCode=99`, `Extra.ERRORCODE=CORE-nnnn`,
//!   `Extra.NUMCODE=99nnnn`. Codes and texts taken from real bank answers (see
//!   `vpos-test-vectors.md` P1.3, P1.7, P1.23, P1.27): CORE-2008, CORE-2012, CORE-2508,
//!   CORE-2603. The others are the simulator's choice — plausible numbers in the same
//!   ranges, ASCII-only Turkish texts like the real ones — and are listed in [`CoreError`]'s
//!   constants.
//! * **Declines** — the issuer said no: `Response=Declined`, `ProcReturnCode` = the ISO 8583
//!   response code, `Extra.ERRORCODE=ISO8583-nn`, `Extra.NUMCODE=nn` (vector P1.8). The
//!   simulator declines the Craftgate sandbox decline cards (craftgate-api.md Appendix B)
//!   and expired cards (54); [`decline_for_card`] holds the table.

/// A platform-level refusal (`Response=Error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreError {
    /// `CORE-nnnn`, sent in `Extra.ERRORCODE`.
    pub code: &'static str,
    /// Sent in `ErrMsg`.
    pub message: &'static str,
}

impl CoreError {
    /// `Extra.NUMCODE` as the bank derives it: `99` followed by the CORE number.
    pub fn numcode(&self) -> String {
        format!("99{}", self.code.trim_start_matches("CORE-"))
    }
}

/// Body is not a well-formed `CC5Request` (simulator's choice).
pub const MALFORMED_XML: CoreError = CoreError {
    code: "CORE-1001",
    message: "XML formati gecersiz.",
};
/// `Name`/`Password` do not match the store (simulator's choice).
pub const BAD_CREDENTIALS: CoreError = CoreError {
    code: "CORE-2001",
    message: "Kullanici adi veya sifre hatali.",
};
/// `ClientId` missing or unknown (simulator's choice).
pub const UNKNOWN_CLIENT: CoreError = CoreError {
    code: "CORE-2002",
    message: "Isyeri bulunamadi.",
};
/// `Type` missing, unknown or not offered by the simulator (simulator's choice).
pub const BAD_TYPE: CoreError = CoreError {
    code: "CORE-2003",
    message: "Islem tipi gecersiz veya desteklenmiyor.",
};
/// An approved order already carries this `OrderId` (simulator's choice).
pub const DUPLICATE_ORDER: CoreError = CoreError {
    code: "CORE-2007",
    message: "Siparis numarasi daha once kullanilmis.",
};
/// Void refused: no such order, already voided, declined, or settled (real bank text).
pub const NOT_VOIDABLE: CoreError = CoreError {
    code: "CORE-2008",
    message: "İptal edilmeye uygun satış işlemi bulunamadı.",
};
/// `OrderId` of a sale/pre-auth longer than 64 characters or with characters outside
/// `[A-Za-z0-9_.-]` (simulator's choice). A missing `OrderId` on a follow-up gets that
/// operation's "nothing to act on" code (CORE-2507, CORE-2008, CORE-2506).
pub const BAD_ORDER_ID: CoreError = CoreError {
    code: "CORE-2010",
    message: "Siparis numarasi gecerli formatta degil.",
};
/// `Number` missing, not 12–19 digits, or failing Luhn (real bank text).
pub const BAD_CARD_NUMBER: CoreError = CoreError {
    code: "CORE-2012",
    message: "Kredi karti numarasi gecerli formatta degil.",
};
/// `Cvv2Val` missing or not 3–4 digits (simulator's choice).
pub const BAD_CVV: CoreError = CoreError {
    code: "CORE-2013",
    message: "CVV2 gecerli formatta degil.",
};
/// `Expires` missing or not `MM/YY` (simulator's choice).
pub const BAD_EXPIRY: CoreError = CoreError {
    code: "CORE-2014",
    message: "Son kullanma tarihi gecerli formatta degil.",
};
/// `Total` missing, zero, negative, not `.`-decimal or too precise (simulator's choice).
pub const BAD_AMOUNT: CoreError = CoreError {
    code: "CORE-2102",
    message: "Tutar gecerli formatta degil.",
};
/// `Currency` missing or not a known ISO 4217 numeric code (simulator's choice).
pub const BAD_CURRENCY: CoreError = CoreError {
    code: "CORE-2103",
    message: "Para birimi gecersiz.",
};
/// Credit refused: no approved, captured, unvoided order to refund (simulator's choice).
pub const NOTHING_TO_REFUND: CoreError = CoreError {
    code: "CORE-2506",
    message: "Iade edilecek satis islemi bulunamadi.",
};
/// PostAuth refused: no approved, open pre-authorisation on this order (simulator's choice).
pub const NO_PREAUTH: CoreError = CoreError {
    code: "CORE-2507",
    message: "Kapatilacak on otorizasyon bulunamadi.",
};
/// Credit before end of day (real bank text).
pub const NOT_SETTLED: CoreError = CoreError {
    code: "CORE-2508",
    message: "Iade yapilamaz, siparis gunsonuna girmemis.",
};
/// Credit above what is left to refund (simulator's choice).
pub const OVER_REFUND: CoreError = CoreError {
    code: "CORE-2509",
    message: "Iade tutari, iade edilebilir tutari asiyor.",
};
/// Credit in another currency than the order's (simulator's choice).
pub const CURRENCY_MISMATCH: CoreError = CoreError {
    code: "CORE-2510",
    message: "Para birimi siparisin para birimi ile uyusmuyor.",
};
/// PostAuth above the allowed capture amount (simulator's choice).
pub const OVER_CAPTURE: CoreError = CoreError {
    code: "CORE-2511",
    message: "Kapama tutari on otorizasyon tutarini asiyor.",
};
/// `Extra.PREAMT` differs from the pre-authorised amount (simulator's choice).
pub const PREAMT_MISMATCH: CoreError = CoreError {
    code: "CORE-2512",
    message: "PREAMT on otorizasyon tutari ile uyusmuyor.",
};
/// A second PostAuth on the same pre-authorisation (simulator's choice).
pub const ALREADY_CAPTURED: CoreError = CoreError {
    code: "CORE-2513",
    message: "On otorizasyon daha once kapatilmis.",
};
/// `Taksit` not empty and not 2..12, or installments in a currency other than TRY (real
/// bank code and text).
pub const BAD_INSTALLMENT: CoreError = CoreError {
    code: "CORE-2603",
    message: "Taksit tablosu icin gecersiz deger",
};
/// 3D provision whose `md` the bank does not know for this store, or whose
/// authentication expired (simulator's choice).
pub const THREEDS_UNKNOWN_MD: CoreError = CoreError {
    code: "CORE-2301",
    message: "3D dogrulama bilgisi (md) bulunamadi veya suresi doldu.",
};
/// 3D provision with an `md` already provisioned once (simulator's choice).
pub const THREEDS_MD_USED: CoreError = CoreError {
    code: "CORE-2302",
    message: "3D dogrulama bilgisi daha once kullanilmis.",
};
/// 3D provision of an authentication whose `mdStatus` is not 1 (simulator's choice).
pub const THREEDS_NOT_AUTHENTICATED: CoreError = CoreError {
    code: "CORE-2303",
    message: "3D dogrulamasi basarisiz, provizyon alinamaz.",
};
/// 3D provision whose order, amount, currency, xid, eci or cavv differ from the
/// authentication (simulator's choice).
pub const THREEDS_MISMATCH: CoreError = CoreError {
    code: "CORE-2304",
    message: "Islem bilgileri 3D dogrulama bilgileri ile uyusmuyor.",
};
/// The simulator itself failed (a poisoned lock); never expected (simulator's choice).
pub const INTERNAL: CoreError = CoreError {
    code: "CORE-9999",
    message: "Sistem hatasi.",
};

/// A refusal of the 3D gate (`est3Dgate`), posted straight back to `failUrl` with
/// `Response=Error`, `ErrorCode` and `ErrMsg` (vector P1.6 layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateError {
    pub code: &'static str,
    pub message: &'static str,
}

/// `pan` missing, not 12–19 digits or failing Luhn (real bank code and text, P1.6).
pub const GATE_BAD_CARD_NUMBER: GateError = GateError {
    code: "HPP-1001",
    message: "Girilen kart numarası doğru formatta değildir. Kart numarasını kontrol ederek tekrar işlem deneyiniz.",
};
/// Expiry month/year missing or invalid (simulator's choice).
pub const GATE_BAD_EXPIRY: GateError = GateError {
    code: "HPP-1002",
    message: "Son kullanma tarihi hatalı.",
};
/// `cv2` missing or not 3–4 digits (simulator's choice).
pub const GATE_BAD_CVV: GateError = GateError {
    code: "HPP-1003",
    message: "Güvenlik kodu (CVV2) hatalı.",
};
/// `amount` missing, zero or not a `.`-decimal the currency allows (simulator's choice).
pub const GATE_BAD_AMOUNT: GateError = GateError {
    code: "HPP-1004",
    message: "Tutar geçerli formatta değil.",
};
/// `currency` missing or unknown (simulator's choice).
pub const GATE_BAD_CURRENCY: GateError = GateError {
    code: "HPP-1005",
    message: "Para birimi geçersiz.",
};
/// `oid` missing, longer than 64 or outside `[A-Za-z0-9_.-]` (simulator's choice).
pub const GATE_BAD_ORDER_ID: GateError = GateError {
    code: "HPP-1006",
    message: "Sipariş numarası geçerli formatta değil.",
};
/// `okUrl` or `failUrl` missing or not an http(s) URL (simulator's choice).
pub const GATE_BAD_URL: GateError = GateError {
    code: "HPP-1007",
    message: "okUrl veya failUrl geçersiz.",
};
/// `storetype` not `3d`, `3d_pay` or `3d_host` (simulator's choice).
pub const GATE_BAD_STORE_TYPE: GateError = GateError {
    code: "HPP-1008",
    message: "Geçersiz storetype.",
};
/// `taksit` not empty or 2..12, or installments outside TRY (simulator's choice).
pub const GATE_BAD_INSTALLMENT: GateError = GateError {
    code: "HPP-1009",
    message: "Taksit sayısı geçersiz.",
};
/// `TranType`/`islemtipi` not `Auth` or `PreAuth` (simulator's choice).
pub const GATE_BAD_TRAN_TYPE: GateError = GateError {
    code: "HPP-1010",
    message: "İşlem tipi geçersiz.",
};
/// `clientid` unknown to the bank (simulator's choice); this callback carries no `HASH`.
pub const GATE_UNKNOWN_CLIENT: GateError = GateError {
    code: "HPP-1011",
    message: "Üye işyeri bulunamadı.",
};
/// The form's `hash` is missing or wrong. The text is the real bank's (merchants report
/// "Error - Guvenlik Kodu hatali."); the code is the simulator's choice.
pub const GATE_HASH_ERROR: GateError = GateError {
    code: "HASH_ERROR",
    message: "Guvenlik Kodu hatali.",
};

/// An issuer decline (`Response=Declined`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decline {
    /// ISO 8583 response code, sent as `ProcReturnCode` and in `ERRORCODE=ISO8583-nn`.
    pub code: &'static str,
    /// Sent in `ErrMsg`.
    pub message: &'static str,
}

impl Decline {
    pub fn error_code(&self) -> String {
        format!("ISO8583-{}", self.code)
    }
}

/// What an expired card (Expires in the past by the bank's clock) gets.
pub const EXPIRED_CARD: Decline = Decline {
    code: "54",
    message: "Kartin son kullanma tarihi gecmis.",
};

/// Craftgate sandbox decline cards (craftgate-api.md Appendix B) → ISO 8583 code and text.
/// `DECLINED` has no ISO code of its own and `05` already means `DO_NOT_HONOUR`, so it gets
/// `28`, which NestPay clients treat as a plain "reject" (vpos-protocols.md §1.4).
const DECLINE_CARDS: [(&str, Decline); 18] = [
    ("5100050000006661", INSUFFICIENT_FUNDS),
    ("5115830000006669", INSUFFICIENT_FUNDS),
    ("5117280000006665", INSUFFICIENT_FUNDS),
    ("5117580000006668", INSUFFICIENT_FUNDS),
    (
        "5100560000006669",
        Decline {
            code: "05",
            message: "Islem onaylanmadi.",
        },
    ),
    (
        "5101380000006661",
        Decline {
            code: "12",
            message: "Gecersiz islem.",
        },
    ),
    (
        "5101510000006663",
        Decline {
            code: "57",
            message: "Kart sahibine bu islem izni verilmemis.",
        },
    ),
    (
        "5101520000006662",
        Decline {
            code: "43",
            message: "Calinti kart, karta el koyunuz.",
        },
    ),
    (
        "5102210000006669",
        Decline {
            code: "28",
            message: "Islem reddedildi.",
        },
    ),
    (
        "5136620000006669",
        Decline {
            code: "41",
            message: "Kayip kart, karta el koyunuz.",
        },
    ),
    ("5163080000006662", EXPIRED_CARD),
    (
        "5164580000006660",
        // Text of the real bank's answer in vector P1.8.
        Decline {
            code: "82",
            message: "CVV Hatasi veya girilen CVV gecersiz.",
        },
    ),
    (
        "5188960000006666",
        Decline {
            code: "58",
            message: "Terminalin bu islemi yapmaya yetkisi yok.",
        },
    ),
    (
        "5192610000006661",
        Decline {
            code: "59",
            message: "Sahtekarlik suphesi.",
        },
    ),
    (
        "5193240000006666",
        Decline {
            code: "93",
            message: "Islem yasal nedenlerle tamamlanamiyor.",
        },
    ),
    (
        "5200170000006666",
        Decline {
            code: "99",
            message: "Genel hata.",
        },
    ),
    (
        "5209220000006660",
        Decline {
            code: "62",
            message: "Kisitli kart.",
        },
    ),
    // The last Appendix B card, APPROVED_COMPLETED, is simply approved like any other.
    (
        "5213940000006667",
        Decline {
            code: "00",
            message: "",
        },
    ),
];

const INSUFFICIENT_FUNDS: Decline = Decline {
    code: "51",
    message: "Bakiyesi yetersiz.",
};

/// The decline a test card triggers, `None` for cards that are approved.
pub fn decline_for_card(pan: &str) -> Option<Decline> {
    DECLINE_CARDS
        .iter()
        .find(|(card, _)| *card == pan)
        .map(|(_, d)| *d)
        .filter(|d| d.code != "00")
}

/// Every decline card with its code, for documentation and tests.
pub fn decline_cards() -> impl Iterator<Item = (&'static str, Decline)> {
    DECLINE_CARDS
        .iter()
        .copied()
        .filter(|(_, d)| d.code != "00")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decline_cards_are_luhn_valid_and_mapped() {
        assert_eq!(decline_cards().count(), 17);
        for (pan, d) in decline_cards() {
            assert!(domain::card::luhn_valid(pan), "{pan}");
            assert_eq!(decline_for_card(pan), Some(d));
        }
        assert_eq!(decline_for_card("5213940000006667"), None);
        assert_eq!(decline_for_card("5258640000000001"), None);
    }

    #[test]
    fn numcodes_follow_the_bank() {
        assert_eq!(BAD_CARD_NUMBER.numcode(), "992012");
        assert_eq!(EXPIRED_CARD.error_code(), "ISO8583-54");
    }
}
