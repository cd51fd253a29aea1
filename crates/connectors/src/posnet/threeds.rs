//! PosNet 3D Secure: YKB's "OOS" flow, model `3d` (the only one YKB's XML service offers).
//!
//! 1. **Enrolment** (server to server, [`super::wire::enrolment_body`], vector R3.7): the card,
//!    amount and padded order id (`XID`) go to the bank in `oosRequestData`; the bank answers
//!    encrypted `data1`, `data2` and their `sign`.
//! 2. **Form** ([`form`], vector R3.9): the shopper's browser posts `mid, posnetID,
//!    posnetData=data1, posnetData2=data2, digest=sign, merchantReturnURL, url="", lang` to
//!    `…/3DSWebService/YKBPaymentService`. Orkestra's callback URL is the `merchantReturnURL`
//!    (YKB has a single return URL for success and failure).
//! 3. **Callback** ([`parse_callback`]): the bank posts `MerchantPacket`, `BankPacket` and
//!    `Sign` (plus unsigned helper fields such as `Xid`, `Amount`, `Currency`, which are never
//!    read). Nothing is read before `Sign` verifies, in constant time, as
//!    `upper(hex(MD5(MerchantPacket ‖ BankPacket ‖ ENCKEY)))` — the check of YKB's own
//!    merchant toolkit (`posnet_oos.php` `CheckSignForMercSite`). `MerchantPacket` is then
//!    decrypted with the ENCKEY (3DES, [`super::crypto::decrypt_packet`]) into
//!    `mid;tid;amount;instalment;xid;totalPoint;totalPointAmount;webURL;hostIP;port;
//!    txStatus;mdStatus;mdErrorMessage;tranTime;currency` (`CheckAndResolveMerchantData`).
//!    Every value that decides something — order, amount, currency, `mdStatus` — comes from
//!    that packet, which the signature covers; its `mid`/`tid` must be this POS's.
//!    `authenticated` follows the reference library's policy for PosNet: `mdStatus` 1, 2, 3
//!    or 4 (`vpos-protocols.md` §0). The order id is the packet's `xid` without the left
//!    padding (so order ids shorter than 20 characters may not start with `0`; the form
//!    refuses them).
//! 4. **Provision** (`authorize_3d`, in `mod.rs`): `oosResolveMerchantData` with the request
//!    MAC over the order, amount and currency Orkestra expects (the bank refuses other
//!    packets with `E216`); the reply's MAC is verified ([`super::hash`]) and its `xid`,
//!    `amount`, `currency` and `mdStatus` (1–4) checked; then `oosTranData` (`wpAmount=0`)
//!    books the sale or pre-authorisation.
//!
//! The callback's packets travel to `authorize_3d` in [`ThreeDsAuthData`]: `md` holds
//! `MerchantPacket`, `cavv` holds `BankPacket`, `eci` holds `Sign` and `xid` the padded order
//! id (PosNet has no ECI/CAVV of its own to report; the fields are opaque to the engine).

use domain::money::{Currency, MinorUnits};

use super::crypto::{self, PacketError};
use super::wire::{self, OosRequestData, PosnetResponse, ResolveData};
use crate::{
    BrowserForm, CallbackError, ConnectorError, Decline, PosConfig, ThreeDsAuthData, ThreeDsResult,
};
use domain::enums::ErrorGroup;

/// The reference library's "3D authentication OK" for PosNet: full (1) or half secure
/// (2, 3, 4).
pub(crate) fn authenticated(md_status: &str) -> bool {
    matches!(md_status.trim(), "1" | "2" | "3" | "4")
}

/// Characters YKB gets in `cardHolderName`: letters (Turkish ones included), digits, space,
/// `.`, `-` and `'`. Anything else (markup, `&`, `+`, `%`, which the unencoded `xmldata=`
/// body cannot carry safely, and letters outside ISO-8859-9) becomes a space; runs of
/// spaces collapse; at most 60 characters are kept.
pub(crate) fn card_holder_name(raw: &str) -> String {
    let cleaned: String = raw
        .chars()
        .map(|c| {
            let kept = c.is_ascii_alphanumeric()
                || matches!(c, ' ' | '.' | '-' | '\'')
                || "çğıöşüÇĞİÖŞÜâîûÂÎÛ".contains(c);
            if kept { c } else { ' ' }
        })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    words.join(" ").chars().take(60).collect()
}

/// The enrolment reply's form data; a refusal or an incomplete reply is an error (nothing
/// was charged, and the trait has no decline for a form).
pub(crate) fn enrolment_data(response: &PosnetResponse) -> Result<OosRequestData, ConnectorError> {
    match response.approved() {
        "1" if response.resp_code().is_empty() => {
            let data = response
                .oos_request
                .clone()
                .ok_or_else(|| wire::bad("enrolment reply without oosRequestDataResponse"))?;
            if [&data.data1, &data.data2, &data.sign]
                .iter()
                .any(|value| value.trim().is_empty())
            {
                return Err(wire::bad("enrolment reply with empty data1, data2 or sign"));
            }
            Ok(data)
        }
        "0" | "2" => Err(wire::bad(format!(
            "3D enrolment refused by the bank: {} {}",
            wire::clip(response.resp_code()),
            wire::clip(&response.resp_text)
        ))),
        other => Err(wire::bad(format!(
            "enrolment reply with approved {:?} and respCode {:?}",
            wire::clip(other),
            wire::clip(response.resp_code())
        ))),
    }
}

/// The browser form for the bank's 3D gate, in the library's field order (vector R3.9).
pub(crate) fn form(
    action: &str,
    mid: &str,
    posnet_id: &str,
    data: &OosRequestData,
    return_url: &str,
    lang: &str,
) -> BrowserForm {
    let lang = if lang.trim().eq_ignore_ascii_case("en") {
        "en"
    } else {
        "tr"
    };
    let fields = [
        ("mid", mid),
        ("posnetID", posnet_id),
        ("posnetData", data.data1.trim()),
        ("posnetData2", data.data2.trim()),
        ("digest", data.sign.trim()),
        ("merchantReturnURL", return_url),
        ("url", ""),
        ("lang", lang),
    ];
    BrowserForm {
        action: action.to_owned(),
        fields: fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
    }
}

/// The merchant data inside a `MerchantPacket` (`posnet_oos.php` field order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MerchantData {
    pub mid: String,
    pub tid: String,
    /// Minor units.
    pub amount: String,
    pub installment: String,
    /// The padded order id.
    pub xid: String,
    pub tx_status: String,
    pub md_status: String,
    pub md_error_message: String,
    /// Epoch milliseconds of the bank.
    pub tran_time: String,
    /// `TL`, `US`…
    pub currency: String,
}

/// Fields a `MerchantPacket` carries.
const MERCHANT_DATA_FIELDS: usize = 15;

/// Decrypts and splits a `MerchantPacket`. Its text is ISO-8859-9 (the toolkit's PHP).
pub(crate) fn merchant_data(packet: &str, enc_key: &str) -> Result<MerchantData, CallbackError> {
    let plain = crypto::decrypt_packet(packet, enc_key).map_err(|error| {
        CallbackError::Malformed(
            match error {
                PacketError::Format => "MerchantPacket is not a packet",
                PacketError::Crc => "MerchantPacket CRC does not match",
                PacketError::Decrypt => "MerchantPacket does not decrypt with the store key",
            }
            .to_owned(),
        )
    })?;
    let (text, _) = encoding_rs::WINDOWS_1254.decode_without_bom_handling(&plain);
    let parts: Vec<&str> = text.split(';').map(str::trim).collect();
    if parts.len() < MERCHANT_DATA_FIELDS {
        return Err(CallbackError::Malformed(format!(
            "MerchantPacket has {} fields",
            parts.len()
        )));
    }
    Ok(MerchantData {
        mid: parts[0].to_owned(),
        tid: parts[1].to_owned(),
        amount: parts[2].to_owned(),
        installment: parts[3].to_owned(),
        xid: parts[4].to_owned(),
        tx_status: parts[10].to_owned(),
        md_status: parts[11].to_owned(),
        md_error_message: parts[12].to_owned(),
        tran_time: parts[13].to_owned(),
        currency: parts[14].to_owned(),
    })
}

/// The last value posted under exactly `name`, trimmed; `None` when absent or empty.
fn posted<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// Verifies and reads a callback (see the module documentation).
pub(crate) fn parse_callback(
    pos: &PosConfig,
    fields: &[(String, String)],
) -> Result<ThreeDsResult, CallbackError> {
    let enc_key = pos
        .store_key
        .as_ref()
        .filter(|key| !key.is_empty())
        .ok_or(CallbackError::NoStoreKey)?;
    let merchant_packet =
        posted(fields, "MerchantPacket").ok_or(CallbackError::MissingField("MerchantPacket"))?;
    let bank_packet =
        posted(fields, "BankPacket").ok_or(CallbackError::MissingField("BankPacket"))?;
    let sign = posted(fields, "Sign").ok_or(CallbackError::MissingField("Sign"))?;
    let expected = crypto::callback_sign(merchant_packet, bank_packet, enc_key.expose());
    if !crypto::constant_time_eq(expected.as_bytes(), sign.as_bytes()) {
        return Err(CallbackError::BadSignature);
    }

    let data = merchant_data(merchant_packet, enc_key.expose())?;
    let terminal_id = pos.terminal_id.as_deref().unwrap_or_default().trim();
    if data.mid != pos.client_id.trim() || data.tid != terminal_id {
        return Err(CallbackError::Malformed(format!(
            "callback is for merchant {:?} terminal {:?}",
            wire::clip(&data.mid),
            wire::clip(&data.tid)
        )));
    }
    let order_id = data.xid.trim_start_matches('0');
    if order_id.is_empty() || data.xid.len() != wire::ORDER_ID_LEN {
        return Err(CallbackError::Malformed(format!(
            "xid {:?}",
            wire::clip(&data.xid)
        )));
    }
    let currency = wire::currency_from_code(&data.currency).ok_or_else(|| {
        CallbackError::Malformed(format!("currency {:?}", wire::clip(&data.currency)))
    })?;
    let amount = wire::minor_amount(&data.amount).ok_or_else(|| {
        CallbackError::Malformed(format!("amount {:?}", wire::clip(&data.amount)))
    })?;
    let md_status = data.md_status.trim();

    Ok(ThreeDsResult {
        order_id: order_id.to_owned(),
        authenticated: authenticated(md_status),
        md_status: (!md_status.is_empty()).then(|| md_status.to_owned()),
        amount: Some(amount),
        currency: Some(currency),
        auth: ThreeDsAuthData {
            md: Some(merchant_packet.to_owned()),
            xid: Some(data.xid.clone()),
            eci: Some(sign.to_owned()),
            cavv: Some(bank_packet.to_owned()),
        },
        outcome: None,
        message: wire::non_empty(&data.md_error_message),
    })
}

/// The callback's packets, back from [`ThreeDsAuthData`] for the provision.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Packets<'a> {
    pub merchant: &'a str,
    pub bank: &'a str,
    pub sign: &'a str,
}

/// Reads the packets out of the stored authentication data; a missing one is a
/// configuration error (nothing is sent).
pub(crate) fn packets(auth: &ThreeDsAuthData) -> Result<Packets<'_>, ConnectorError> {
    fn get<'a>(value: &'a Option<String>, what: &str) -> Result<&'a str, ConnectorError> {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ConnectorError::Config(format!("missing 3D {what}")))
    }
    Ok(Packets {
        merchant: get(&auth.md, "MerchantPacket (md)")?,
        bank: get(&auth.cavv, "BankPacket (cavv)")?,
        sign: get(&auth.eci, "Sign (eci)")?,
    })
}

/// What Orkestra expects the bank to have authenticated.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    pub xid: &'a str,
    pub amount: MinorUnits,
    pub currency: Currency,
}

/// Reads an `oosResolveMerchantData` reply whose MAC already verified: `Ok(None)` when the
/// provision may go ahead, `Ok(Some(decline))` when authentication failed.
///
/// A reply for another order, amount or currency cannot come from a bank that checked our
/// request MAC; it is treated as unreadable rather than as a decline.
pub(crate) fn check_resolve(
    resolve: &ResolveData,
    expected: &Expected<'_>,
) -> Result<Option<Decline>, ConnectorError> {
    let currency = wire::currency_from_code(&resolve.currency);
    let amount = wire::minor_amount(&resolve.amount);
    if resolve.xid.trim() != expected.xid
        || amount != Some(expected.amount)
        || currency != Some(expected.currency)
    {
        return Err(wire::bad(
            "resolved 3D data is for another order, amount or currency",
        ));
    }
    let md_status = resolve.md_status.trim();
    if authenticated(md_status) {
        return Ok(None);
    }
    Ok(Some(Decline {
        group: ErrorGroup::ThreedsAuthenticationFailed,
        code: format!("mdStatus:{md_status}"),
        message: resolve.md_error_message.trim().to_owned(),
    }))
}
