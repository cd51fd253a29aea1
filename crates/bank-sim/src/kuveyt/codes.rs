//! The simulator's Kuveyt Türk result codes.
//!
//! The bank answers a refusal with a `ResponseCode` and a `ResponseMessage` (gates), or
//! with a `Results/Result` entry (`ErrorCode`, `ErrorMessage`) and `Success=false` (SOAP).
//! Codes come in two kinds (`vpos-protocols.md` §7.3):
//!
//! * symbolic platform codes, with the real texts where the reference fixtures show them:
//!   `MerchantNotDefined`, `ApiUserNotDefined`, `HashDataError` (S7.8),
//!   `InvalidTransactionSecurity` (P7.4), `EmptyMDException` (P7.6), `MetaDataNotFound`
//!   (P7.1), `MPIAuthenticationStatusN`, `CardNotEnrolled`, `InvalidRequestError` (S7.11)
//!   and `DbLayerError` (P7.22); `InvalidRequestError` also covers a missing or malformed
//!   field, with a text of the simulator's choice;
//! * issuer declines as ISO 8583 two-digit codes: the Craftgate sandbox decline cards
//!   (craftgate-api.md Appendix B, the NestPay simulator's table
//!   [`crate::nestpay::codes::decline_for_card`]), `54` for an expired card, `14` for a card
//!   number the bank cannot read, `21` "already cancelled" (P7.18) and `28` "a cancelled
//!   order cannot be refunded" (P7.20).

/// A refusal: `ResponseCode` / `ErrorCode` and its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub code: &'static str,
    pub message: &'static str,
}

const fn invalid(message: &'static str) -> Code {
    Code {
        code: "InvalidRequestError",
        message,
    }
}

/// `MerchantId` unknown, or `CustomerId` not the merchant's.
pub const MERCHANT_NOT_DEFINED: Code = Code {
    code: "MerchantNotDefined",
    message: "Üye işyeri bulunamadı.",
};
/// `UserName` is no API user of the merchant.
pub const API_USER_NOT_DEFINED: Code = Code {
    code: "ApiUserNotDefined",
    message: "Api kullanıcısı bulunamadı.",
};
/// `HashData` missing or wrong (real text, S7.8).
pub const HASH_ERROR: Code = Code {
    code: "HashDataError",
    message: "Şifrelenen veriler (Hashdata) uyuşmamaktadır.",
};
/// `TransactionSecurity` not the gate's (real text, P7.4).
pub const BAD_TRANSACTION_SECURITY: Code = Code {
    code: "InvalidTransactionSecurity",
    message: "İşlem türü geçersizdir.",
};
/// Provision without `MD` (real text, P7.6).
pub const EMPTY_MD: Code = Code {
    code: "EmptyMDException",
    message: "Geçerli bir MD değeri giriniz.",
};
/// Provision whose `MD` is unknown, expired or spent (real text, P7.1).
pub const UNKNOWN_MD: Code = Code {
    code: "MetaDataNotFound",
    message: "Ödeme detayı bulunamadı.",
};
/// The cardholder did not authenticate (wrong OTP, cancel, failing test card).
pub const NOT_AUTHENTICATED: Code = Code {
    code: "MPIAuthenticationStatusN",
    message: "Kart doğrulanamadı.",
};
/// The card takes no part in 3D Secure (forced by the test cards of status 2 and 3).
pub const NOT_ENROLLED: Code = Code {
    code: "CardNotEnrolled",
    message: "Kart 3D Secure programına kayıtlı değil.",
};
/// `APIVersion` or `TransactionType` missing or not the operation's.
pub const BAD_TRANSACTION_TYPE: Code = invalid("İşlem tipi geçersiz.");
/// `MerchantOrderId` missing, longer than 64 or outside `[A-Za-z0-9_.-]`.
pub const BAD_ORDER_ID: Code = invalid("Sipariş numarası geçersiz.");
/// `Amount` missing, zero, not an integer of minor units, or `DisplayAmount` differs.
pub const BAD_AMOUNT: Code = invalid("Tutar geçersiz.");
/// `CurrencyCode` not `0949`, `0840` or `0978`.
pub const BAD_CURRENCY: Code = invalid("Para birimi geçersiz.");
/// `InstallmentCount` not `0` or 2..12, or installments outside TRY.
pub const BAD_INSTALLMENT: Code = invalid("Taksit sayısı geçersiz.");
/// `OkUrl`/`FailUrl` missing or not http(s).
pub const BAD_URL: Code = invalid("OkUrl veya FailUrl geçersiz.");
/// `CardType` missing or not the card number's scheme.
pub const BAD_CARD_TYPE: Code = invalid("Kart tipi geçersiz.");
/// Expiry missing or not `YY`/`MM`.
pub const BAD_EXPIRY: Code = invalid("Son kullanma tarihi geçersiz.");
/// `CardCVV2` not 3–4 digits.
pub const BAD_CVV: Code = invalid("Güvenlik kodu geçersiz.");
/// The card number is not 12–19 digits or fails Luhn.
pub const BAD_CARD_NUMBER: Code = Code {
    code: "14",
    message: "Geçersiz kart numarası.",
};
/// An approved order already carries this `MerchantOrderId`.
pub const DUPLICATE_ORDER: Code = invalid("Sipariş numarası daha önce kullanılmış.");
/// The provision's order, amount, currency or installments differ from the
/// authentication's.
pub const THREEDS_MISMATCH: Code = invalid("İşlem bilgileri 3D doğrulaması ile uyuşmuyor.");
/// No approved order with this `MerchantOrderId` and these references.
pub const ORDER_NOT_FOUND: Code = Code {
    code: "OrderDataNotFound",
    message: "Sipariş bulunamadı.",
};
/// Cancel of a cancelled order (real code and text, P7.18).
pub const ALREADY_CANCELLED: Code = Code {
    code: "21",
    message: "İşlem daha önce iptal edilmiştir.",
};
/// Cancel after end of day (real text, S7.11).
pub const CANCEL_NOT_SAME_DAY: Code =
    invalid("İptal işlemi satışla aynı gün yapılmalıdır. Geçmiş tarihli işlem için iade yapınız.");
/// Cancel of a refunded order, or for another amount than the order's.
pub const NOT_CANCELLABLE: Code = invalid("İptal edilebilecek işlem bulunamadı.");
/// Refund of a cancelled order (real code and text, P7.20).
pub const REFUND_OF_CANCELLED: Code = Code {
    code: "28",
    message: "İptal Edilen İşlem İade Yapılamaz",
};
/// Refund before end of day (real text, P7.22).
pub const REFUND_NOT_SETTLED: Code = Code {
    code: "DbLayerError",
    message: "Kısmi iade işlemi, satışla aynı gün içerisindeyse tutarın tamamı için yapılamaz. Tutarın tamamı için iptal işlemi yapabilirsiniz.",
};
/// Refund above what is left to refund, a `DrawBack` of less than all of it, or in another
/// currency than the order's.
pub const BAD_REFUND_AMOUNT: Code = invalid("İade tutarı, iade edilebilir tutar ile uyuşmuyor.");
/// The status inquiry's `StartDate`/`EndDate` are not dates.
pub const BAD_DATES: Code = invalid("Başlangıç veya bitiş tarihi geçersiz.");
/// The simulator itself failed (a poisoned lock); never expected.
pub const INTERNAL: Code = Code {
    code: "96",
    message: "Sistem hatası.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_never_approvals() {
        for code in [
            MERCHANT_NOT_DEFINED,
            API_USER_NOT_DEFINED,
            HASH_ERROR,
            EMPTY_MD,
            UNKNOWN_MD,
            DUPLICATE_ORDER,
            ORDER_NOT_FOUND,
            ALREADY_CANCELLED,
            REFUND_NOT_SETTLED,
            INTERNAL,
        ] {
            assert_ne!(code.code, "00");
            assert!(!code.code.is_empty() && !code.message.is_empty());
        }
    }
}
