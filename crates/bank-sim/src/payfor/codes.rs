//! The simulator's PayFor result codes.
//!
//! PayFor answers every refusal the same way: a `PayforResponse` whose `ProcReturnCode` is
//! the code and whose `ErrMsg` is the bank's text. Codes come in four kinds:
//!
//! * issuer declines relayed as ISO 8583 two-digit codes (`51`, `05`, `54`…): the Craftgate
//!   sandbox decline cards (craftgate-api.md Appendix B), with the same codes and texts as
//!   the NestPay simulator ([`crate::nestpay::codes::decline_for_card`]), and expired cards
//!   (`54`);
//! * platform codes `Vnnn`, MPI codes `Mnnn`/`MRnn` and `101310`. Where a real bank answer
//!   shows the code and its text, both are used verbatim (vectors of `vpos-test-vectors.md`
//!   §5): `V013` no such transaction (P5.3, P5.16), `V014` refund of an unsettled order
//!   (P5.19, P5.23), `V033`/`V034` 3D authentication succeeded/failed (C5.1, C5.2), `MR15`
//!   3D failure on `3DPay`/`3DHost` (C5.4, C5.6), `M041` invalid card number (P5.2),
//!   `101310` order id already used (P5.5);
//! * other refusals use codes the reference library lists with the matching meaning
//!   (`vpos-protocols.md` §5.4: `V001`/`V004`/`M049` invalid credentials, `V015` request
//!   rejected, `M012` invalid transaction, `96` general error) with texts of the
//!   simulator's choice, marked below.

/// A refusal: `ProcReturnCode` and `ErrMsg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub code: &'static str,
    pub message: &'static str,
}

/// The approval text of the real bank (S5.2, P5.1).
pub const APPROVED_MESSAGE: &str = "Onaylandı";

/// `UserCode`/`UserPass` do not match a user of the merchant (text: simulator's choice).
pub const BAD_CREDENTIALS: Code = Code {
    code: "V001",
    message: "Kullanıcı adı veya şifre hatalı.",
};
/// `MerchantId` unknown, or `MbrId` not the institution of the API user (text: simulator's
/// choice).
pub const UNKNOWN_MERCHANT: Code = Code {
    code: "V004",
    message: "Üye işyeri veya kurum bilgisi hatalı.",
};
/// The 3D form's `Hash` is missing or wrong (text: simulator's choice).
pub const BAD_HASH: Code = Code {
    code: "M049",
    message: "Güvenlik kodu (Hash) hatalı.",
};
/// Body is not a well-formed `PayforRequest` (text: simulator's choice).
pub const MALFORMED_XML: Code = Code {
    code: "M012",
    message: "İstek okunamadı: XML hatalı.",
};
/// `SecureType`/`TxnType` missing, unknown or not offered (text: simulator's choice).
pub const BAD_TXN_TYPE: Code = Code {
    code: "M012",
    message: "Geçersiz işlem tipi.",
};
/// `OrderId` missing, longer than 64 or outside `[A-Za-z0-9_.-]` (text: simulator's choice).
pub const BAD_ORDER_ID: Code = Code {
    code: "M012",
    message: "Sipariş numarası geçersiz.",
};
/// `Pan` missing, not 12–19 digits or failing Luhn (real code and text, P5.2).
pub const BAD_CARD_NUMBER: Code = Code {
    code: "M041",
    message: "Geçersiz kart numarası",
};
/// `Expiry` missing or not `MMYY` (text: simulator's choice).
pub const BAD_EXPIRY: Code = Code {
    code: "M012",
    message: "Son kullanma tarihi geçersiz.",
};
/// `Cvv2` missing or not 3–4 digits (text: simulator's choice).
pub const BAD_CVV: Code = Code {
    code: "M012",
    message: "Güvenlik kodu (CVV2) geçersiz.",
};
/// `PurchAmount` missing, zero, not a `.`-decimal or too precise (text: simulator's choice).
pub const BAD_AMOUNT: Code = Code {
    code: "M012",
    message: "Tutar geçersiz.",
};
/// `Currency` missing or not a known ISO 4217 numeric code (text: simulator's choice).
pub const BAD_CURRENCY: Code = Code {
    code: "M012",
    message: "Para birimi geçersiz.",
};
/// `InstallmentCount` not `0`/`1` or 2..12, or installments outside TRY (text: simulator's
/// choice).
pub const BAD_INSTALLMENT: Code = Code {
    code: "M012",
    message: "Taksit sayısı geçersiz.",
};
/// `OkUrl`/`FailUrl` of a 3D form missing or not http(s) (text: simulator's choice).
pub const BAD_URL: Code = Code {
    code: "M012",
    message: "OkUrl veya FailUrl geçersiz.",
};
/// An approved order already carries this `OrderId` (real code and text, P5.5).
pub const DUPLICATE_ORDER: Code = Code {
    code: "101310",
    message: "Verilen sipariş no önceden kullanılmıştır.",
};
/// No order `OrgOrderId` names (real code and text, P5.3, P5.16, P5.18).
pub const NOT_FOUND: Code = Code {
    code: "V013",
    message: "Seçili İşlem Bulunamadı!",
};
/// Refund before end of day (real code and text, P5.19).
pub const REFUND_NOT_SETTLED: Code = Code {
    code: "V014",
    message: "Bu işlem geri alınamaz, lüften asıl işlemi iptal edin.",
};
/// PostAuth on an order that is not an approved, open pre-authorisation (text: simulator's
/// choice).
pub const NO_PREAUTH: Code = Code {
    code: "V015",
    message: "Kapatılacak ön provizyon bulunamadı.",
};
/// A second PostAuth (text: simulator's choice).
pub const ALREADY_CAPTURED: Code = Code {
    code: "V015",
    message: "Ön provizyon daha önce kapatılmış.",
};
/// PostAuth above the pre-authorised amount (text: simulator's choice).
pub const OVER_CAPTURE: Code = Code {
    code: "V015",
    message: "Kapama tutarı ön provizyon tutarını aşıyor.",
};
/// PostAuth or Refund in another currency than the order's (text: simulator's choice).
pub const CURRENCY_MISMATCH: Code = Code {
    code: "V015",
    message: "Para birimi siparişin para birimi ile uyuşmuyor.",
};
/// Void of a declined, voided or settled order (text: simulator's choice).
pub const NOT_VOIDABLE: Code = Code {
    code: "V015",
    message: "İptal edilebilecek işlem bulunamadı.",
};
/// Refund of a declined, voided or uncaptured order (text: simulator's choice).
pub const NOTHING_TO_REFUND: Code = Code {
    code: "V015",
    message: "İade edilecek satış işlemi bulunamadı.",
};
/// Refund above what is left to refund, or of nothing (text: simulator's choice).
pub const OVER_REFUND: Code = Code {
    code: "V015",
    message: "İade tutarı, iade edilebilir tutarı aşıyor.",
};
/// `3DModelPayment` whose `RequestGuid` the bank does not know, or whose authentication
/// expired (text: simulator's choice).
pub const THREEDS_UNKNOWN_GUID: Code = Code {
    code: "V013",
    message: "3D doğrulama kaydı (RequestGuid) bulunamadı veya süresi doldu.",
};
/// `3DModelPayment` of an authentication already provisioned (text: simulator's choice).
pub const THREEDS_GUID_USED: Code = Code {
    code: "V015",
    message: "3D doğrulaması daha önce kullanılmış.",
};
/// `3DModelPayment` whose `OrderId` differs from the authentication's (text: simulator's
/// choice).
pub const THREEDS_MISMATCH: Code = Code {
    code: "V015",
    message: "Sipariş numarası 3D doğrulaması ile uyuşmuyor.",
};
/// 3D authentication succeeded (`3DModel`; real code and text, C5.2).
pub const THREEDS_AUTHENTICATED: Code = Code {
    code: "V033",
    message: "3D Kullanıcı Doğrulama Adımı Başarılı",
};
/// 3D authentication failed (`3DModel`, and a `3DModelPayment` of it; real, C5.1).
pub const THREEDS_FAILED: Code = Code {
    code: "V034",
    message: "3D Kullanıcı Doğrulama Adımı Başarısız",
};
/// 3D authentication failed on `3DPay`/`3DHost` (real code and text, C5.4, C5.6).
pub const THREEDS_PAY_FAILED: Code = Code {
    code: "MR15",
    message: "3D Secure Authorize Error",
};
/// The simulator itself failed (a poisoned lock); never expected.
pub const INTERNAL: Code = Code {
    code: "96",
    message: "Genel hata.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_never_approvals() {
        for code in [
            BAD_CREDENTIALS,
            UNKNOWN_MERCHANT,
            BAD_HASH,
            MALFORMED_XML,
            BAD_CARD_NUMBER,
            DUPLICATE_ORDER,
            NOT_FOUND,
            REFUND_NOT_SETTLED,
            NOT_VOIDABLE,
            THREEDS_FAILED,
            THREEDS_PAY_FAILED,
            INTERNAL,
        ] {
            assert_ne!(code.code, "00");
            assert!(!code.message.is_empty());
        }
    }
}
