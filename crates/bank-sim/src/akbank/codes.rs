//! The simulator's Akbank result codes.
//!
//! Akbank answers with a `responseCode` (`VPS-0000` success) and a Turkish
//! `responseMessage`; an issuer decline is `VPS-1005` "Provizyon Hatası" with the issuer's
//! ISO 8583 `hostResponseCode` and `hostMessage` (vector P11.4: `83`, `183 TAKSIT TUTAR
//! HAT`). Where a real reply shows a code and its text (`vpos-test-vectors.md` §11), both
//! are used verbatim; Akbank publishes no code table, so the other refusals use codes of the
//! simulator's choice in the `VPS-19xx` range (marked below), which the connector's table
//! (`connectors::akbank::wire::error_group`) lists too.

/// A refusal: `responseCode` and `responseMessage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub code: &'static str,
    pub message: &'static str,
}

pub const SUCCESS: &str = "VPS-0000";
/// The approval text (P11.1).
pub const APPROVED_MESSAGE: &str = "BAŞARILI";
/// The issuer's approval (`hostMessage` of P11.1).
pub const HOST_APPROVED_MESSAGE: &str = "000 ONAY KODU XXXXXX";

/// An issuer decline (real code and text, P11.4); `hostResponseCode` says why.
pub const PROVISION_ERROR: Code = Code {
    code: "VPS-1005",
    message: "Provizyon Hatası",
};
/// No order `order.orderId` names (real code; text of P11.21 without the order number).
pub const NOT_FOUND: Code = Code {
    code: "VPS-1007",
    message: "Orjinal İşlem bulunamadı.",
};
/// Cancel of a cancelled transaction (real code and text, P11.27).
pub const ALREADY_CANCELLED: Code = Code {
    code: "VPS-1008",
    message: "Daha önce iptal edilmiş işlem",
};
/// An approved order already carries this `orderId` (real code, P11.3; the text names it).
pub const DUPLICATE_ORDER: Code = Code {
    code: "VPS-1013",
    message: "Sipariş Numarası tekil olmalıdır",
};
/// `requestDateTime` missing or too far from the bank's clock (real code and text, P11.2).
pub const BAD_REQUEST_DATE: Code = Code {
    code: "VPS-1073",
    message: "Geçerli talep tarihi giriniz.",
};
/// Order history of an unknown order (real code; text of P11.36 without the order number).
pub const HISTORY_NOT_FOUND: Code = Code {
    code: "VPS-1123",
    message: "İşlem bulunamadı.",
};
/// 3D authentication failed (real code and text, C11.2).
pub const THREEDS_FAILED: Code = Code {
    code: "VPS-1279",
    message: "BKM 3DS Server Doğrulama Başarısız",
};
/// `auth-hash` or the 3D form's `hash` missing or wrong (simulator's choice).
pub const BAD_HASH: Code = Code {
    code: "VPS-1901",
    message: "Hash doğrulaması başarısız.",
};
/// `merchantSafeId` unknown or `terminalSafeId` not its terminal (simulator's choice).
pub const UNKNOWN_TERMINAL: Code = Code {
    code: "VPS-1902",
    message: "Üye işyeri veya terminal bulunamadı.",
};
/// A required field missing or malformed (simulator's choice; the HTTP 400 `code` too).
pub const BAD_FIELD: Code = Code {
    code: "VPS-1903",
    message: "Eksik veya hatalı alan.",
};
/// `randomNumber` seen before on this terminal (simulator's choice).
pub const REPLAYED: Code = Code {
    code: "VPS-1903",
    message: "randomNumber daha önce kullanılmış.",
};
/// Card number not 12–19 digits or failing Luhn (simulator's choice).
pub const BAD_CARD_NUMBER: Code = Code {
    code: "VPS-1904",
    message: "Geçersiz kart numarası.",
};
/// Amount malformed, zero, not two decimals, or above what the order allows (simulator's
/// choice).
pub const BAD_AMOUNT: Code = Code {
    code: "VPS-1905",
    message: "Geçersiz tutar.",
};
/// `installCount` not 1..12, or installments outside TRY (simulator's choice).
pub const BAD_INSTALLMENT: Code = Code {
    code: "VPS-1906",
    message: "Geçersiz taksit sayısı.",
};
/// Post-authorisation of no open pre-authorisation, or a second one (simulator's choice).
pub const NO_PREAUTH: Code = Code {
    code: "VPS-1907",
    message: "Kapatılacak açık ön provizyon bulunamadı.",
};
/// Cancel after end of day (simulator's choice).
pub const CANCEL_SETTLED: Code = Code {
    code: "VPS-1907",
    message: "Gün sonu yapılmış işlem iptal edilemez, iade ediniz.",
};
/// Refund before end of day (simulator's choice).
pub const REFUND_NOT_SETTLED: Code = Code {
    code: "VPS-1907",
    message: "Gün sonu yapılmamış işlem iade edilemez, iptal ediniz.",
};
/// Refund of a declined, cancelled or uncaptured order (simulator's choice).
pub const NOTHING_TO_REFUND: Code = Code {
    code: "VPS-1907",
    message: "İade edilecek satış işlemi bulunamadı.",
};
/// Post-authorisation or refund in another currency than the order's (simulator's choice).
pub const CURRENCY_MISMATCH: Code = Code {
    code: "VPS-1907",
    message: "Para birimi siparişin para birimi ile uyuşmuyor.",
};
/// 3D provision whose `secureMd` the bank does not know, expired or already used, or whose
/// order, amount or secure data differ from the authentication (simulator's choice).
pub const THREEDS_UNKNOWN: Code = Code {
    code: "VPS-1907",
    message: "3D doğrulama bilgisi bulunamadı, kullanılmış veya işlemle uyuşmuyor.",
};
/// Expired card: a provision error with the issuer's `54`.
pub const EXPIRED_HOST_CODE: &str = "54";
/// The simulator itself failed (a poisoned lock); never expected (simulator's choice).
pub const INTERNAL: Code = Code {
    code: "VPS-1999",
    message: "Sistem hatası.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_never_success() {
        for code in [
            PROVISION_ERROR,
            NOT_FOUND,
            ALREADY_CANCELLED,
            DUPLICATE_ORDER,
            BAD_REQUEST_DATE,
            HISTORY_NOT_FOUND,
            THREEDS_FAILED,
            BAD_HASH,
            UNKNOWN_TERMINAL,
            BAD_FIELD,
            BAD_CARD_NUMBER,
            BAD_AMOUNT,
            BAD_INSTALLMENT,
            NO_PREAUTH,
            INTERNAL,
        ] {
            assert_ne!(code.code, SUCCESS);
            assert!(code.code.starts_with("VPS-"));
            assert!(!code.message.is_empty());
        }
    }
}
