//! The simulator's InterPos result codes.
//!
//! InterPos answers every refusal the same way: a `Key=Value;;…` reply whose
//! `ProcReturnCode` is the code, `ErrorCode` the bank's finer code and `ErrorMessage` its
//! text, with `TxnResult=Failed`. Codes come in three kinds:
//!
//! * issuer declines relayed as ISO 8583 two-digit codes (`51`, `05`, `54`…): the Craftgate
//!   sandbox decline cards (craftgate-api.md Appendix B), with the same codes and texts as
//!   the NestPay simulator ([`crate::nestpay::codes::decline_for_card`]), expired cards
//!   (`54`), and `14` for a card number the bank cannot read;
//! * `81` for a refused sign-in: the reference library's "invalid credentials" code; for an
//!   unknown `ShopCode` with the real answer `B810002` "Terminal Aktif Degil" (vectors
//!   P6.1, P6.7–P6.9);
//! * `E31` (invalid request: a field missing or malformed, a rule of the books refused) and
//!   `E39` (no such order / transaction), the two codes the reference library lists as
//!   "invalid transaction" (`vpos-protocols.md` §6), with texts of the simulator's choice.
//!   The connector reads `E39` on a status inquiry as "the bank has no such order".

/// A refusal: `ProcReturnCode`, `ErrorCode` and `ErrorMessage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub code: &'static str,
    pub error_code: &'static str,
    pub message: &'static str,
}

const fn e31(message: &'static str) -> Code {
    Code {
        code: "E31",
        error_code: "E31",
        message,
    }
}

const fn e39(message: &'static str) -> Code {
    Code {
        code: "E39",
        error_code: "E39",
        message,
    }
}

/// `ShopCode` unknown (real code and text, P6.1).
pub const UNKNOWN_SHOP: Code = Code {
    code: "81",
    error_code: "B810002",
    message: "Terminal Aktif Degil",
};
/// `UserCode`/`UserPass` do not match a user of the shop (text: simulator's choice).
pub const BAD_CREDENTIALS: Code = Code {
    code: "81",
    error_code: "81",
    message: "Kullanici adi veya sifre hatali",
};
/// The 3D form's `Hash` is missing or wrong (text: simulator's choice).
pub const BAD_HASH: Code = e31("Hash degeri hatali");
/// `SecureType`/`TxnType` missing, unknown or not offered (text: simulator's choice).
pub const BAD_TXN_TYPE: Code = e31("Gecersiz islem tipi");
/// `OrderId`/`orgOrderId` missing, longer than 64 or outside `[A-Za-z0-9_.-]`.
pub const BAD_ORDER_ID: Code = e31("Siparis numarasi gecersiz");
/// `Pan` missing, not 12–19 digits or failing Luhn (ISO 8583 "invalid card number").
pub const BAD_CARD_NUMBER: Code = Code {
    code: "14",
    error_code: "14",
    message: "Gecersiz kart numarasi",
};
/// `CardType` missing, not `0`–`3`, or not the card number's scheme.
pub const BAD_CARD_TYPE: Code = e31("Kart tipi gecersiz");
/// `Expiry` missing or not `MMYY`.
pub const BAD_EXPIRY: Code = e31("Son kullanma tarihi gecersiz");
/// `Cvv2` not 3–4 digits.
pub const BAD_CVV: Code = e31("Guvenlik kodu (Cvv2) gecersiz");
/// `PurchAmount` missing, zero, not a `.`-decimal or too precise.
pub const BAD_AMOUNT: Code = e31("Tutar gecersiz");
/// `Currency` missing or not a known ISO 4217 numeric code.
pub const BAD_CURRENCY: Code = e31("Para birimi gecersiz");
/// `InstallmentCount` not empty/`0`/`1` or 2..12, or installments outside TRY.
pub const BAD_INSTALLMENT: Code = e31("Taksit sayisi gecersiz");
/// `OkUrl`/`FailUrl` of a 3D form missing or not http(s).
pub const BAD_URL: Code = e31("OkUrl veya FailUrl gecersiz");
/// An approved order already carries this `OrderId`.
pub const DUPLICATE_ORDER: Code = e31("Siparis numarasi daha once kullanilmis");
/// No order `orgOrderId` names (and the status inquiry of an unknown order).
pub const NOT_FOUND: Code = e39("Islem bulunamadi");
/// Refund before end of day: the order must be voided instead.
pub const REFUND_NOT_SETTLED: Code = e31("Gun sonu yapilmamis islem iade edilemez, iptal ediniz");
/// PostAuth on an order that is not an approved, open pre-authorisation.
pub const NO_PREAUTH: Code = e31("Kapatilacak on provizyon bulunamadi");
/// A second PostAuth.
pub const ALREADY_CAPTURED: Code = e31("On provizyon daha once kapatilmis");
/// PostAuth above the pre-authorised amount.
pub const OVER_CAPTURE: Code = e31("Kapama tutari on provizyon tutarini asiyor");
/// PostAuth or Refund in another currency than the order's.
pub const CURRENCY_MISMATCH: Code = e31("Para birimi siparisin para birimi ile uyusmuyor");
/// Void of a declined, voided or settled order.
pub const NOT_VOIDABLE: Code = e31("Iptal edilebilecek islem bulunamadi");
/// Refund of a declined, voided or uncaptured order.
pub const NOTHING_TO_REFUND: Code = e31("Iade edilecek satis islemi bulunamadi");
/// Refund above what is left to refund, or of nothing.
pub const OVER_REFUND: Code = e31("Iade tutari, iade edilebilir tutari asiyor");
/// 3D provision whose `MD` the bank does not know, or whose authentication expired.
pub const THREEDS_UNKNOWN_MD: Code = e39("3D dogrulama kaydi (MD) bulunamadi veya suresi doldu");
/// 3D provision of an authentication already provisioned.
pub const THREEDS_MD_USED: Code = e31("3D dogrulamasi daha once kullanilmis");
/// 3D provision whose order, amount, currency, installments, type or 3D values differ
/// from the authentication's.
pub const THREEDS_MISMATCH: Code = e31("Islem bilgileri 3D dogrulamasi ile uyusmuyor");
/// 3D provision of an authentication that did not succeed.
pub const THREEDS_NOT_AUTHENTICATED: Code = e31("3D dogrulamasi basarisiz");
/// The ACS did not authenticate the cardholder (`mdStatus` 0, 5, 7, or cancelled).
pub const THREEDS_FAILED: Code = Code {
    code: "",
    error_code: "",
    message: "3D Secure dogrulamasi basarisiz",
};
/// The simulator itself failed (a poisoned lock); never expected.
pub const INTERNAL: Code = Code {
    code: "96",
    error_code: "96",
    message: "Sistem hatasi",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_never_approvals() {
        for code in [
            UNKNOWN_SHOP,
            BAD_CREDENTIALS,
            BAD_HASH,
            BAD_CARD_NUMBER,
            DUPLICATE_ORDER,
            NOT_FOUND,
            REFUND_NOT_SETTLED,
            NOT_VOIDABLE,
            THREEDS_MISMATCH,
            INTERNAL,
        ] {
            assert_ne!(code.code, "00");
            assert!(!code.code.is_empty() && !code.message.is_empty());
            assert!(!code.message.contains(';'));
        }
    }
}
