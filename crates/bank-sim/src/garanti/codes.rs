//! The simulator's result codes: GVPS gateway refusals and issuer (HOST) declines.
//!
//! Garanti answers every refusal with `Message=Declined` and one of two sources, and the
//! simulator keeps them apart because connectors read them differently:
//!
//! * **Gateway refusals** (`Source=GVPS`): the request itself is refused before any card
//!   network is involved: `Code=92`, `ReasonCode` = a four-digit GVPS error id,
//!   `SysErrMsg=ErrorId: nnnn` (or the failed rule). Real ids and texts (vectors P2.2, P2.13,
//!   P2.15, P2.18, P2.21; Garanti's support pages): `0002` mandatory/format rule, `0108`,
//!   `0110` no record, `0208` refund not valid, `0651` user password (hash) wrong, `0752`
//!   no terminal record. The others are the simulator's choice, listed below.
//! * **Issuer declines** (`Source=HOST`): `Code` = `ReasonCode` = the ISO 8583 response
//!   code, `ErrorMsg` the generic "İşleminizi gerçekleştiremiyoruz.Tekrar deneyiniz" and
//!   `SysErrMsg` the host's own text (vector P2.4). The simulator declines the Craftgate
//!   sandbox decline cards with the same ISO codes as the NestPay simulator
//!   ([`crate::nestpay::codes::decline_for_card`]), a Luhn-invalid card with `14` (as P2.19's
//!   history shows), an expired one with `54`, and a post-auth above the pre-authorised
//!   amount with `13` (Garanti's documentation of pre-authorisation closure).

/// Who refused: the gateway or the card network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Gvps,
    Host,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Gvps => "GVPS",
            Source::Host => "HOST",
        }
    }
}

/// A refusal, as `Transaction.Response` carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub source: Source,
    pub code: &'static str,
    pub reason_code: &'static str,
    pub error_msg: &'static str,
    pub sys_err_msg: String,
}

/// The text of every gateway refusal of a missing or malformed field (P2.2, P2.21).
pub const MANDATORY_TEXT: &str = "Giriş yaptığınız işlem tipi için zorunlu alanları kontrol ediniz";

/// The generic text of an issuer decline (P2.4).
pub const HOST_DECLINE_TEXT: &str = "İşleminizi gerçekleştiremiyoruz.Tekrar deneyiniz";

/// A gateway refusal with the generic `ErrorId: nnnn` detail.
const fn gvps(reason_code: &'static str, error_msg: &'static str) -> GvpsError {
    GvpsError {
        reason_code,
        error_msg,
    }
}

/// A gateway refusal that is always the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GvpsError {
    pub reason_code: &'static str,
    pub error_msg: &'static str,
}

impl GvpsError {
    pub fn refusal(self) -> Refusal {
        Refusal {
            source: Source::Gvps,
            code: "92",
            reason_code: self.reason_code,
            error_msg: self.error_msg,
            sys_err_msg: format!("ErrorId: {}", self.reason_code),
        }
    }
}

/// `0002`: a field is missing or breaks its rule; `detail` is the rule, in the bank's words
/// (`CustomerIPAddress field must contain value because of the Mandatory Rule:null`).
pub fn mandatory(detail: impl Into<String>) -> Refusal {
    Refusal {
        source: Source::Gvps,
        code: "92",
        reason_code: "0002",
        error_msg: MANDATORY_TEXT,
        sys_err_msg: detail.into(),
    }
}

/// No order with this id (`orderinq`, P2.13; real).
pub const NO_TRANSACTION: GvpsError = gvps("0110", "İşlem bulunamadı");
/// No order with this id (`orderhistoryinq`, P2.18; real).
pub const NO_ORDER: GvpsError = gvps(
    "0108",
    "Gönderilen sipariş numarasına ait kayıt bulunmamaktadır",
);
/// Refund of an order that has nothing captured to refund (P2.15; real).
pub const NOT_REFUNDABLE: GvpsError = gvps("0208", "İade etmek istediğiniz işlem geçerli değil");
/// `HashData` does not verify with the user's password (real, Garanti's support pages).
pub const BAD_HASH: GvpsError = gvps("0651", "User password is incorrect");
/// `MerchantID`/`ID` name no terminal (real, Garanti's support pages).
pub const UNKNOWN_TERMINAL: GvpsError = gvps("0752", "No terminal record");

/// The body is not a `GVPSRequest` document (simulator's choice).
pub const MALFORMED_XML: GvpsError = gvps("0001", "XML formatı hatalı");
/// `ProvUserID`/`UserID` is not this terminal's user for the operation: void and refund
/// need the refund user, the rest the provision user (simulator's choice).
pub const WRONG_USER: GvpsError = gvps("0654", "Kullanıcının bu işlem tipi için yetkisi yok");
/// An approved order already carries this `OrderID` (simulator's choice).
pub const DUPLICATE_ORDER: GvpsError = gvps(
    "0104",
    "Bu sipariş numarası ile daha önce başarılı işlem yapılmış",
);
/// Void of an order that is not voidable: declined, voided or past end of day
/// (simulator's choice).
pub const NOT_VOIDABLE: GvpsError = gvps("0202", "İptal edilecek işlem bulunamadı");
/// Refund before end of day: the bank wants a void then (simulator's choice).
pub const NOT_SETTLED: GvpsError = gvps(
    "0209",
    "Gün sonu yapılmamış işlem iade edilemez, iptal ediniz",
);
/// Refund above what is left to refund (simulator's choice).
pub const OVER_REFUND: GvpsError = gvps("0210", "İade tutarı iade edilebilir tutarı aşıyor");
/// Post-auth without an approved, open pre-authorisation (simulator's choice).
pub const NO_PREAUTH: GvpsError = gvps("0301", "Kapatılacak ön otorizasyon bulunamadı");
/// A second post-auth of the same pre-authorisation (simulator's choice).
pub const ALREADY_CAPTURED: GvpsError = gvps("0302", "Ön otorizasyon daha önce kapatılmış");
/// `OriginalRetrefNum` missing or not a transaction of the order the operation may act
/// on (simulator's choice).
pub const BAD_ORIGINAL: GvpsError = gvps("0303", "Orijinal işlem referans numarası hatalı");
/// `CurrencyCode` of a follow-up differs from the order's (simulator's choice).
pub const CURRENCY_MISMATCH: GvpsError = gvps("0304", "Para birimi sipariş ile uyuşmuyor");
/// `InstallmentCnt` not empty/0/1/2..12, or installments outside TRY (simulator's choice).
pub const BAD_INSTALLMENT: GvpsError = gvps("0605", "Taksit sayısı geçersiz");
/// 3D provision whose `Md` the bank does not know for this terminal, or whose
/// authentication expired (simulator's choice).
pub const THREEDS_UNKNOWN_MD: GvpsError = gvps(
    "0801",
    "3D doğrulama bilgisi (Md) bulunamadı veya süresi doldu",
);
/// 3D provision with an `Md` already provisioned once (simulator's choice).
pub const THREEDS_MD_USED: GvpsError = gvps("0802", "3D doğrulama bilgisi daha önce kullanılmış");
/// 3D provision of an authentication whose `mdstatus` is not 1–4 (simulator's choice).
pub const THREEDS_NOT_AUTHENTICATED: GvpsError =
    gvps("0803", "3D doğrulaması başarısız, provizyon alınamaz");
/// 3D provision whose order, type, amount, currency, `TxnID`, `SecurityLevel` or
/// `AuthenticationCode` differ from the authentication (simulator's choice).
pub const THREEDS_MISMATCH: GvpsError = gvps(
    "0804",
    "İşlem bilgileri 3D doğrulama bilgileri ile uyuşmuyor",
);
/// The simulator itself failed (a poisoned lock); never expected (simulator's choice).
pub const INTERNAL: GvpsError = gvps("0999", "Sistem hatası");

/// An issuer decline with its ISO 8583 code and the host's text.
pub fn host_decline(code: &'static str) -> Refusal {
    Refusal {
        source: Source::Host,
        code,
        reason_code: code,
        error_msg: HOST_DECLINE_TEXT,
        sys_err_msg: host_text(code).to_owned(),
    }
}

/// The host's own text for a decline code (`SysErrMsg`), in its upper-case ASCII style.
pub fn host_text(code: &str) -> &'static str {
    match code {
        "05" => "RED-ONAYLANMADI",
        "12" => "GECERSIZ ISLEM",
        "13" => "GECERSIZ TUTAR",
        "14" => "HATALI KART NUMARASI.",
        "28" => "ISLEM REDDEDILDI",
        "41" => "KAYIP KART, KARTA EL KOYUNUZ",
        "43" => "CALINTI KART, KARTA EL KOYUNUZ",
        "51" => "LIMIT YETERSIZ",
        "54" => "VADESI DOLMUS KART",
        "57" => "KART SAHIBINE ACIK OLMAYAN ISLEM",
        "58" => "TERMINALE ACIK OLMAYAN ISLEM",
        "59" => "SAHTEKARLIK SUPHESI",
        "62" => "KISITLI KART",
        "82" => "CVC2/4CSC HATALI",
        "93" => "YASAL NEDENLERLE RED",
        "99" => "GENEL HATA",
        _ => "RED",
    }
}

/// The decline a card triggers (the Craftgate decline cards, as the NestPay simulator maps
/// them), `None` for cards that are approved.
pub fn decline_for_card(pan: &str) -> Option<&'static str> {
    crate::nestpay::codes::decline_for_card(pan).map(|d| d.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decline_cards_get_their_iso_codes_and_texts() {
        assert_eq!(decline_for_card("5100050000006661"), Some("51"));
        assert_eq!(decline_for_card("5164580000006660"), Some("82"));
        assert_eq!(decline_for_card("5258640000000001"), None);
        for (pan, d) in crate::nestpay::codes::decline_cards() {
            let refusal = host_decline(decline_for_card(pan).unwrap_or_default());
            assert_eq!(refusal.code, d.code);
            assert_ne!(refusal.sys_err_msg, "RED", "{}", d.code);
        }
        assert_eq!(BAD_HASH.refusal().sys_err_msg, "ErrorId: 0651");
        assert_eq!(mandatory("x").reason_code, "0002");
    }
}
