//! InterPos's wire format: form-urlencoded request bodies, the `Key=Value;;Key=Value` reply,
//! and the translation of a parsed reply into facts: [`Outcome`], [`PaymentSync`],
//! [`BankCredit`].
//!
//! Field order follows the reference library (mewebstudio/pos, vectors R6.1–R6.10), which
//! the byte-exact tests in `tests.rs` pin; bodies are encoded like PHP's `http_build_query`
//! (RFC 1738: space → `+`, everything but `A-Za-z0-9-_.` percent-encoded, upper-case hex).
//! Every reply that is not clearly an approval or clearly a decline becomes
//! [`ConnectorError::BadResponse`], so the engine treats the outcome as unknown and asks
//! the bank again instead of guessing.

use domain::card::CardNumber;
use domain::enums::ErrorGroup;
use domain::money::{Currency, MinorUnits, format_decimal_trimmed};
use rust_decimal::Decimal;

use crate::http;
use crate::{
    Approval, AuthorizeKind, AuthorizeRequest, BankCredit, BankOrderState, CaptureRequest,
    ConnectorError, Decline, Outcome, PaymentSync, RefundRequest, ThreeDsAuthData,
    ThreeDsAuthorizeRequest,
};

/// API sign-in, sent first in every request body.
#[derive(Clone, Copy)]
pub(crate) struct Credentials<'a> {
    /// `ShopCode`, the merchant number.
    pub shop_code: &'a str,
    pub user_code: &'a str,
    pub user_pass: &'a str,
}

// Credentials print nothing of the password, so a stray `{:?}` cannot leak it.
impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("shop_code", &self.shop_code)
            .field("user_code", &self.user_code)
            .finish_non_exhaustive()
    }
}

/// A form body under construction, fields in emission order.
struct FormBody {
    body: String,
}

impl FormBody {
    /// A body opened with the account fields, as the library's `getRequestAccountData`.
    fn new(credentials: Credentials<'_>) -> FormBody {
        let mut form = FormBody {
            body: String::with_capacity(384),
        };
        form.field("UserCode", credentials.user_code)
            .field("UserPass", credentials.user_pass)
            .field("ShopCode", credentials.shop_code);
        form
    }

    fn field(&mut self, name: &str, value: &str) -> &mut FormBody {
        if !self.body.is_empty() {
            self.body.push('&');
        }
        http::urlencode_into(&mut self.body, name);
        self.body.push('=');
        http::urlencode_into(&mut self.body, value);
        self
    }

    fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.body).into_bytes()
    }
}

/// `TxnType` of a sale or pre-authorisation.
pub(crate) fn transaction_type(kind: AuthorizeKind) -> &'static str {
    match kind {
        AuthorizeKind::Sale => "Auth",
        AuthorizeKind::PreAuth => "PreAuth",
    }
}

/// `InstallmentCount`: `""` for a single payment (0 or 1), otherwise the count (table 6.6).
pub(crate) fn installment_text(installment: u32) -> String {
    if installment <= 1 {
        String::new()
    } else {
        installment.to_string()
    }
}

/// `PurchAmount`: major units, `.` separator, trailing zeros dropped (`100.25`, `10`,
/// `123.1`), computed in decimal from minor units.
pub(crate) fn amount_text(amount: MinorUnits, currency: Currency) -> String {
    format_decimal_trimmed(amount, currency)
}

/// `CardType`: `0` Visa, `1` MasterCard, `2` American Express, `3` Troy (table 6.6), from
/// the card's BIN; `None` for schemes InterPos does not take.
pub(crate) fn card_type(number: &CardNumber) -> Option<&'static str> {
    let digits = number.expose_number();
    let prefix = |len: usize| -> u32 {
        digits
            .get(..len)
            .and_then(|p| p.parse().ok())
            .unwrap_or_default()
    };
    match () {
        // Troy first: its 65 range overlaps nothing InterPos also takes, 9792 is Troy's own.
        _ if prefix(4) == 9792 || (650_052..=650_055).contains(&prefix(6)) => Some("3"),
        _ if digits.starts_with('4') => Some("0"),
        _ if (51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4)) => Some("1"),
        _ if matches!(prefix(2), 34 | 37) => Some("2"),
        _ => None,
    }
}

/// The language the API answers its messages in; the reference library sends `tr`.
const API_LANG: &str = "tr";

/// The fields of a sale or pre-authorisation, card in clear: the one place they meet.
#[derive(Clone, Copy)]
pub(crate) struct AuthorizeFields<'a> {
    pub kind: AuthorizeKind,
    pub order_id: &'a str,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub installment: u32,
    pub lang: &'a str,
    pub card_type: &'a str,
    pub pan: &'a str,
    /// `MMYY`.
    pub expiry: &'a str,
    pub cvv: &'a str,
}

/// Sale (`Auth`) or pre-authorisation (`PreAuth`) with the card (vector R6.2); `None` when
/// the card's scheme has no InterPos `CardType`.
pub(crate) fn authorize_request(
    credentials: Credentials<'_>,
    request: &AuthorizeRequest<'_>,
) -> Option<Vec<u8>> {
    let card = request.card;
    let expiry = format!("{}{}", card.expiry.mm(), card.expiry.yy());
    Some(authorize_body(
        credentials,
        &AuthorizeFields {
            kind: request.kind,
            order_id: request.order_id,
            amount: request.amount,
            currency: request.currency,
            installment: request.installment,
            lang: API_LANG,
            card_type: card_type(&card.number)?,
            pan: card.number.expose_number(),
            expiry: &expiry,
            cvv: card
                .cvc
                .as_ref()
                .map(|cvc| cvc.expose_cvc())
                .unwrap_or_default(),
        },
    ))
}

pub(crate) fn authorize_body(
    credentials: Credentials<'_>,
    fields: &AuthorizeFields<'_>,
) -> Vec<u8> {
    FormBody::new(credentials)
        .field("TxnType", transaction_type(fields.kind))
        .field("SecureType", "NonSecure")
        .field("OrderId", fields.order_id)
        .field("PurchAmount", &amount_text(fields.amount, fields.currency))
        .field("Currency", fields.currency.numeric_code())
        .field("InstallmentCount", &installment_text(fields.installment))
        .field("MOTO", "0")
        .field("Lang", fields.lang)
        .field("CardType", fields.card_type)
        .field("Pan", fields.pan)
        .field("Expiry", fields.expiry)
        .field("Cvv2", fields.cvv)
        .finish()
}

/// The provision after a `3DModel` authentication (vector R6.4): the order again, with the
/// callback's `MD`, `PayerTxnId`, `Eci` and `PayerAuthenticationCode`.
pub(crate) fn authorize_3d_request(
    credentials: Credentials<'_>,
    request: &ThreeDsAuthorizeRequest<'_>,
) -> Vec<u8> {
    authorize_3d_body(
        credentials,
        request.kind,
        request.order_id,
        request.amount,
        request.currency,
        request.installment,
        request.auth,
        API_LANG,
    )
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn authorize_3d_body(
    credentials: Credentials<'_>,
    kind: AuthorizeKind,
    order_id: &str,
    amount: MinorUnits,
    currency: Currency,
    installment: u32,
    auth: &ThreeDsAuthData,
    lang: &str,
) -> Vec<u8> {
    FormBody::new(credentials)
        .field("TxnType", transaction_type(kind))
        .field("SecureType", "NonSecure")
        .field("OrderId", order_id)
        .field("PurchAmount", &amount_text(amount, currency))
        .field("Currency", currency.numeric_code())
        .field("InstallmentCount", &installment_text(installment))
        .field("MD", auth.md.as_deref().unwrap_or_default())
        .field("PayerTxnId", auth.xid.as_deref().unwrap_or_default())
        .field("Eci", auth.eci.as_deref().unwrap_or_default())
        .field(
            "PayerAuthenticationCode",
            auth.cavv.as_deref().unwrap_or_default(),
        )
        .field("MOTO", "0")
        .field("Lang", lang)
        .finish()
}

/// `PostAuth` of a pre-authorisation (vector R6.1): the capture amount only; the
/// pre-authorised amount is the bank's own record.
pub(crate) fn capture_request(
    credentials: Credentials<'_>,
    request: &CaptureRequest<'_>,
) -> Vec<u8> {
    FormBody::new(credentials)
        .field("TxnType", "PostAuth")
        .field("SecureType", "NonSecure")
        .field("orgOrderId", request.order_id)
        .field(
            "PurchAmount",
            &amount_text(request.amount, request.currency),
        )
        .field("Currency", request.currency.numeric_code())
        .field("MOTO", "0")
        .finish()
}

/// `Void` of a whole order (vector R6.3).
pub(crate) fn void_request(credentials: Credentials<'_>, order_id: &str) -> Vec<u8> {
    FormBody::new(credentials)
        .field("orgOrderId", order_id)
        .field("TxnType", "Void")
        .field("SecureType", "NonSecure")
        .field("Lang", API_LANG)
        .finish()
}

/// `Refund`, full or partial: always with the amount (vectors R6.9, R6.10). The library
/// sends no currency: the bank refunds in the order's.
pub(crate) fn refund_request(credentials: Credentials<'_>, request: &RefundRequest<'_>) -> Vec<u8> {
    FormBody::new(credentials)
        .field("orgOrderId", request.order_id)
        .field(
            "PurchAmount",
            &amount_text(request.amount, request.currency),
        )
        .field("TxnType", "Refund")
        .field("SecureType", "NonSecure")
        .field("Lang", API_LANG)
        .field("MOTO", "0")
        .finish()
}

/// Status inquiry, `StatusHistory` (vector R6.8).
pub(crate) fn status_request(credentials: Credentials<'_>, order_id: &str) -> Vec<u8> {
    FormBody::new(credentials)
        .field("orgOrderId", order_id)
        .field("TxnType", "StatusHistory")
        .field("SecureType", "NonSecure")
        .field("Lang", API_LANG)
        .finish()
}

// ---------------------------------------------------------------------------------------
// Replies

/// Largest reply read into memory. A real reply is about 1 KiB.
pub(crate) const RESPONSE_BYTES_MAX: usize = 256 << 10;

/// A parsed `Key=Value;;Key=Value` reply (vector S6.1), fields in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Reply {
    fields: Vec<(String, String)>,
}

impl Reply {
    /// A field's trimmed text; `""` when absent.
    pub fn get(&self, name: &str) -> &str {
        self.raw(name).map(str::trim).unwrap_or_default()
    }

    /// A field's text as sent, `None` when absent.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.fields.len()
    }
}

fn bad(detail: impl Into<String>) -> ConnectorError {
    ConnectorError::BadResponse(detail.into())
}

/// Keeps bank-supplied text in error messages short.
fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// A field name as the bank writes them (`ProcReturnCode`, `TRXDATE`, `3DStatus`).
fn is_field_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Reads a reply body: UTF-8, or windows-1254 (ISO-8859-9) when it is not valid UTF-8;
/// split on `;;` (a `;;;` counts as one separator), each pair on its first `=`. Anything
/// else — an HTML page, a pair without `=`, a key that is not a field name, a key sent
/// twice with different values — is [`ConnectorError::BadResponse`].
pub(crate) fn parse_reply(body: &[u8]) -> Result<Reply, ConnectorError> {
    if body.len() > RESPONSE_BYTES_MAX {
        return Err(bad("body too large"));
    }
    let text = match std::str::from_utf8(body) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => {
            encoding_rs::WINDOWS_1254
                .decode_without_bom_handling(body)
                .0
        }
    };
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Err(bad("empty body"));
    }
    if text.starts_with('<') {
        return Err(bad("html or xml instead of key=value pairs"));
    }
    let mut reply = Reply::default();
    for segment in text.split(";;") {
        // `;;;` splits into `…` and `;…`: the extra `;` belongs to the separator.
        let segment = segment.strip_prefix(';').unwrap_or(segment);
        if segment.trim().is_empty() {
            continue;
        }
        let (key, value) = segment
            .split_once('=')
            .ok_or_else(|| bad(format!("pair without '=': {:?}", clip(segment))))?;
        let key = key.trim();
        if !is_field_name(key) {
            return Err(bad(format!("not a field name: {:?}", clip(key))));
        }
        match reply.raw(key) {
            Some(earlier) if earlier.trim() != value.trim() => {
                return Err(bad(format!("field {key} sent twice")));
            }
            Some(_) => {}
            None => reply.fields.push((key.to_owned(), value.to_owned())),
        }
    }
    if reply.fields.is_empty() {
        return Err(bad("no fields"));
    }
    Ok(reply)
}

/// The reply to `Auth`, `PreAuth`, `PostAuth`, `Void`, `Refund` or a 3D provision, as a
/// fact.
///
/// Approved only when `ProcReturnCode` is `00` *and* `TxnResult` is `Success` (every real
/// approval carries both, S6.1/P6.4; a reply cut before `TxnResult` proves nothing). A
/// reply in which the two disagree, or without a `ProcReturnCode`, is
/// [`ConnectorError::BadResponse`]. Any other code is a decline with that code. (The
/// reference library reads an empty reply, P6.2, as declined; here it is unreadable.)
pub(crate) fn outcome(reply: &Reply) -> Result<Outcome, ConnectorError> {
    if !reply.has("ProcReturnCode") {
        return Err(bad("reply has no ProcReturnCode"));
    }
    let code = reply.get("ProcReturnCode");
    let result = reply.get("TxnResult");
    let says_success = result.eq_ignore_ascii_case("Success");
    match code {
        "" => Err(bad("empty ProcReturnCode")),
        "00" if says_success => Ok(Outcome::Approved(approval(reply))),
        "00" => Err(bad(format!(
            "ProcReturnCode 00 with TxnResult {:?}",
            clip(result)
        ))),
        code if says_success => Err(bad(format!(
            "ProcReturnCode {:?} disagrees with TxnResult Success",
            clip(code)
        ))),
        code => Ok(Outcome::Declined(decline_from(
            code,
            reply.get("ErrorMessage"),
        ))),
    }
}

fn approval(reply: &Reply) -> Approval {
    Approval {
        auth_code: non_empty(reply.get("AuthCode")),
        host_reference: non_empty(reply.get("HostRefNum")),
        transaction_id: non_empty(reply.get("TransId")),
    }
}

/// The decline a `ProcReturnCode` and a message stand for; shared by API replies and 3D
/// callbacks. The bank's finer `ErrorCode` (`B810002`) stays in the reply's log line.
pub(crate) fn decline_from(proc_return_code: &str, message: &str) -> Decline {
    let code = proc_return_code.trim();
    Decline {
        group: error_group(code),
        code: code.to_owned(),
        message: message.trim().to_owned(),
    }
}

/// `ProcReturnCode` to Craftgate's error group. InterPos relays the issuer's ISO 8583
/// answer as a two-digit code and adds its own platform codes; the reference library knows
/// `81` (invalid credentials, "Terminal Aktif Degil", P6.1) and `E31`/`E39` (invalid
/// transaction) (`vpos-protocols.md` §6):
///
/// | code | group | meaning |
/// |---|---|---|
/// | 51 | NotSufficientFunds | insufficient funds |
/// | 05 | DoNotHonour | do not honour |
/// | 12 | InvalidTransaction | invalid transaction |
/// | 57 | NotPermittedToCardholder | not permitted to cardholder |
/// | 43 | StolenCard | stolen card, pick up |
/// | 41 | LostCard | lost card, pick up |
/// | 04, 07 | PickupCard | pick up card |
/// | 54, 33 | ExpiredCard | expired card |
/// | 82, N7 | InvalidCvc2 | CVV/CVC2 check failed |
/// | 58 | NotPermittedToTerminal | not permitted to terminal |
/// | 59, 34 | FraudSuspect | suspected fraud |
/// | 93 | RestrictedByLaw | violation of law |
/// | 62 | CardNotPermitted | restricted card |
/// | 14, 15 | InvalidCard | invalid card number / no such issuer |
/// | 13 | InvalidAmount | invalid amount |
/// | 61, 65 | ExceedsWithdrawalLimit | amount / frequency limit exceeded |
/// | 91, 96 | BankNotAvailable | issuer inoperative / system malfunction |
/// | 03, 81 | InvalidMerchantOrPos | invalid merchant / credentials, terminal inactive |
/// | 99 | Unknown | general error |
/// | E31, E39 | InvalidTransaction | invalid transaction |
/// | other two digits | Declined | call bank, reject, … |
/// | anything else | Unknown | |
pub(crate) fn error_group(proc_return_code: &str) -> ErrorGroup {
    match proc_return_code {
        "51" => ErrorGroup::NotSufficientFunds,
        "05" => ErrorGroup::DoNotHonour,
        "12" => ErrorGroup::InvalidTransaction,
        "57" => ErrorGroup::NotPermittedToCardholder,
        "43" => ErrorGroup::StolenCard,
        "41" => ErrorGroup::LostCard,
        "04" | "07" => ErrorGroup::PickupCard,
        "54" | "33" => ErrorGroup::ExpiredCard,
        "82" | "N7" => ErrorGroup::InvalidCvc2,
        "58" => ErrorGroup::NotPermittedToTerminal,
        "59" | "34" => ErrorGroup::FraudSuspect,
        "93" => ErrorGroup::RestrictedByLaw,
        "62" => ErrorGroup::CardNotPermitted,
        "14" | "15" => ErrorGroup::InvalidCard,
        "13" => ErrorGroup::InvalidAmount,
        "61" | "65" => ErrorGroup::ExceedsWithdrawalLimit,
        "91" | "96" => ErrorGroup::BankNotAvailable,
        "03" | "81" => ErrorGroup::InvalidMerchantOrPos,
        "99" => ErrorGroup::Unknown,
        "E31" | "E39" => ErrorGroup::InvalidTransaction,
        code if code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()) => ErrorGroup::Declined,
        _ => ErrorGroup::Unknown,
    }
}

/// The code the bank answers a status inquiry for an order it does not know with.
pub(crate) const ORDER_NOT_FOUND: &str = "E39";

/// `VoidDate` of an order never voided (.NET's `DateTime.MinValue`, P6.7).
const NO_VOID_DATE: &str = "1.1.0001 00:00:00";

/// Codes of a status reply that say the inquiry itself failed (credentials, terminal,
/// system), not that the order was declined.
fn inquiry_failed(code: &str) -> bool {
    !(code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()))
        || matches!(code, "03" | "81" | "91" | "96" | "99")
}

/// The reply to a `StatusHistory` inquiry, as the state of the order at the bank.
///
/// The bank answers one flat record (P6.7: `OrderId, ProcReturnCode, BatchNo, TransId,
/// TRXDATE, TxnStat, PurchAmount, VoidDate, TxnStatus, ChargeTypeCd, ErrorCode,
/// ErrorMessage, RefundedAmount, AuthCode`). The reference library has no approved sample
/// ("todo success cevap ornegi"), so the reading of an approved record is Orkestra's, and
/// the simulator answers the same way:
///
/// * `E39` ([`ORDER_NOT_FOUND`]) with no `TransId` and no `AuthCode` →
///   [`PaymentSync::NotFound`];
/// * `81` (P6.7: credentials, terminal inactive), `91`/`96`/`99`/`03` or any code that is
///   not two digits → the inquiry failed → [`ConnectorError::BadResponse`];
/// * another two-digit code → the order was declined → [`PaymentSync::Declined`];
/// * `00`: voided when `VoidDate` is a date (not `1.1.0001 00:00:00`, P6.7) or `TxnStat` is
///   `V`; refunded when `RefundedAmount` (decimal comma) is above zero; else by
///   `ChargeTypeCd`: `S` (sale) or `C` (pre-authorisation closed by a post-auth) →
///   `Captured`, `P` (open pre-authorisation) → `PreAuthorized`. Any other `ChargeTypeCd`,
///   a `TxnStat` other than `Y`/`V` (or absent) or an unreadable `RefundedAmount` is a reply
///   we cannot read as a fact.
pub(crate) fn payment_sync(reply: &Reply) -> Result<PaymentSync, ConnectorError> {
    if !reply.has("ProcReturnCode") {
        return Err(bad("status reply has no ProcReturnCode"));
    }
    let code = reply.get("ProcReturnCode");
    if code == ORDER_NOT_FOUND
        && reply.get("TransId").is_empty()
        && reply.get("AuthCode").is_empty()
    {
        return Ok(PaymentSync::NotFound);
    }
    match code {
        "" => return Err(bad("status reply with empty ProcReturnCode")),
        "00" => {}
        code if inquiry_failed(code) => {
            return Err(bad(format!(
                "status inquiry failed with code {:?}: {}",
                clip(code),
                clip(reply.get("ErrorMessage"))
            )));
        }
        code => {
            return Ok(PaymentSync::Declined(decline_from(
                code,
                reply.get("ErrorMessage"),
            )));
        }
    }
    let stat = reply.get("TxnStat");
    if !matches!(stat, "Y" | "V" | "") {
        return Err(bad(format!("order status {:?}", clip(stat))));
    }
    let refunded = refunded_amount(reply)?;
    let void_date = reply.get("VoidDate");
    let voided = stat == "V" || !(void_date.is_empty() || void_date == NO_VOID_DATE);
    let charge_type = reply.get("ChargeTypeCd");
    let open_pre_auth = match charge_type {
        "S" | "C" => false,
        "P" => true,
        other => return Err(bad(format!("charge type {:?}", clip(other)))),
    };
    let state = if voided {
        BankOrderState::Voided
    } else if refunded > Decimal::ZERO {
        BankOrderState::Refunded
    } else if open_pre_auth {
        BankOrderState::PreAuthorized
    } else {
        BankOrderState::Captured
    };
    Ok(PaymentSync::Approved {
        approval: approval(reply),
        state,
    })
}

fn refunded_amount(reply: &Reply) -> Result<Decimal, ConnectorError> {
    match reply.get("RefundedAmount") {
        "" => Ok(Decimal::ZERO),
        text => parse_decimal(text).ok_or_else(|| bad(format!("RefundedAmount {:?}", clip(text)))),
    }
}

/// The credits (refunds) of an order, from its `StatusHistory` record.
///
/// InterPos reports only the total refunded (`RefundedAmount`), not each refund, so an
/// order with refunds shows as one credit of that total (no transaction id). An unknown or
/// declined order has none. A refund whose outcome is unknown is therefore proven only
/// when it is the order's only refund; see the module documentation.
pub(crate) fn bank_credits(reply: &Reply) -> Result<Vec<BankCredit>, ConnectorError> {
    match payment_sync(reply)? {
        PaymentSync::NotFound | PaymentSync::Declined(_) => Ok(Vec::new()),
        PaymentSync::Approved { .. } => {
            let refunded = refunded_amount(reply)?;
            if refunded <= Decimal::ZERO {
                return Ok(Vec::new());
            }
            // The record carries no currency; InterPos POSes in Orkestra are TRY (two
            // decimals), and an amount with more precision is refused below.
            let amount = MinorUnits::from_decimal(refunded, Currency::Try)
                .map_err(|_| bad("RefundedAmount is not an amount"))?;
            Ok(vec![BankCredit {
                amount,
                approved: true,
                transaction_id: None,
            }])
        }
    }
}

/// A non-negative amount as InterPos writes it: Turkish style with a decimal comma and
/// optional `.` thousands separators (`1,01`, `1.056,20`, `0`), or, without a comma, the
/// request style with a `.` decimal point (`100.25`) unless every `.` group has exactly
/// three digits (`1.000` is a thousand, as the bank's locale writes it).
pub(crate) fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    if text.is_empty()
        || text.len() > 32
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
    {
        return None;
    }
    let (integer, fraction) = match text.split_once(',') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => {
            let groups: Vec<&str> = text.split('.').collect();
            let thousands = groups.len() > 1 && groups[1..].iter().all(|g| g.len() == 3);
            if groups.len() == 2 && !thousands {
                (groups[0], Some(groups[1]))
            } else {
                (text, None)
            }
        }
    };
    if fraction.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let groups: Vec<&str> = integer.split('.').collect();
    let well_grouped = !groups[0].is_empty()
        && groups[0].len() <= 18
        && (groups.len() == 1
            || (groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3)));
    if !well_grouped || !groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let mut plain: String = groups.concat();
    if let Some(fraction) = fraction {
        plain.push('.');
        plain.push_str(fraction);
    }
    plain.parse().ok()
}

/// A bank amount in `currency`'s minor units; `None` when malformed or more precise than
/// the currency.
pub(crate) fn parse_amount(text: &str, currency: Currency) -> Option<MinorUnits> {
    MinorUnits::from_decimal_allow_zero(parse_decimal(text)?, currency).ok()
}
