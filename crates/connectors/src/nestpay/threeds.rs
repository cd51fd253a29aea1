//! NestPay 3D Secure: the form that sends the shopper's browser to `est3Dgate`, and the
//! bank's callback, verified and then read.
//!
//! **Form.** Always EstV3 (`hashAlgorithm=ver3`, SHA-512 over the sorted fields), laid out
//! like the reference library's `EstV3PosRequestDataMapper` (vectors R1.21–R1.23):
//! `clientid, storetype, amount, oid, okUrl, failUrl, rnd, lang, currency, taksit`, the card
//! for `3d`/`3d_pay` (`pan, Ecom_Payment_Card_ExpDate_Month, Ecom_Payment_Card_ExpDate_Year,
//! cv2`), `TranType, hashAlgorithm`, then `hash`. Orkestra's one callback URL is both
//! `okUrl` and `failUrl`.
//!
//! **Callback.** Nothing is read before the signature verifies with the POS's store key:
//!
//! * ver3 (`hashAlgorithm=ver3`, or a `HASH` as long as a SHA-512 digest): every posted
//!   field is signed except `hash`, `encoding` and `nationalidno`, none of which is read.
//!   A key posted twice is read with its last value, as the hash takes it.
//! * legacy (`HASHPARAMS`, SHA-1): only the fields `HASHPARAMS` names are signed. It must
//!   name `clientid`, `oid` and `mdStatus`, or the callback is refused (a signature over a
//!   useless subset proves nothing). The fields that decide something — order id,
//!   `mdStatus`, `amount`/`currency`, and the provision's `ProcReturnCode`/`Response` — are
//!   read only when signed: an unsigned `amount` reads as absent, and a provision result
//!   whose `ProcReturnCode` and `Response` are not both signed is never an approval.
//!   Descriptive fields (`md`, `xid`, `eci`, `cavv`, `AuthCode`, `HostRefNum`, `TransId`,
//!   messages, `storetype`) are read as posted: the real bank signs only some of them
//!   (vectors C1.1–C1.8), and forging them gains nothing (the bank checks the 3D data of a
//!   provision itself; `storetype` only says whether the callback carries a result).
//!
//! `outcome` for `3d_pay`/`3d_host` is an approval only when `ProcReturnCode` is `00`,
//! `Response` is `Approved` and `mdStatus` is `1`. Unlike the reference library (P1.12), a
//! `3d_host` callback without a provision result is not an approval: it is a decline with
//! group `Unknown`, since nothing says the bank charged.

use domain::enums::ErrorGroup;
use domain::money::{Currency, MinorUnits, format_decimal_trimmed};
use rust_decimal::Decimal;

use super::{hash, wire};
use crate::{
    Approval, AuthorizeKind, BrowserForm, CallbackError, ConnectorError, Decline, Outcome,
    PosConfig, ThreeDsAuthData, ThreeDsInitRequest, ThreeDsModel, ThreeDsResult,
};

/// The card fields of a `3d`/`3d_pay` form, as posted.
pub(crate) struct FormCard<'a> {
    pub pan: &'a str,
    /// `MM`.
    pub month: String,
    /// `YY`.
    pub year: String,
    pub cvv: &'a str,
}

/// Everything a gate form is made of, card in clear.
pub(crate) struct FormInput<'a> {
    pub client_id: &'a str,
    pub model: ThreeDsModel,
    pub kind: AuthorizeKind,
    pub order_id: &'a str,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub installment: u32,
    /// Orkestra posts its one callback URL as both; the reference vectors have two.
    pub ok_url: &'a str,
    pub fail_url: &'a str,
    pub lang: &'a str,
    pub card: Option<FormCard<'a>>,
}

/// The gate form for `request`, signed with `rnd`. No IO.
pub(crate) fn form(
    pos: &PosConfig,
    request: &ThreeDsInitRequest<'_>,
    rnd: &str,
) -> Result<BrowserForm, ConnectorError> {
    let store_key = pos
        .store_key
        .as_ref()
        .filter(|key| !key.is_empty())
        .ok_or_else(|| ConnectorError::Config("missing 3D store key".into()))?;
    let missing = [
        (pos.threeds_url.trim().is_empty(), "3D gate url"),
        (pos.client_id.trim().is_empty(), "client id"),
        (request.order_id.trim().is_empty(), "order id"),
        (request.callback_url.trim().is_empty(), "callback url"),
    ];
    if let Some((_, what)) = missing.iter().find(|(is_missing, _)| *is_missing) {
        return Err(ConnectorError::Config(format!("missing {what}")));
    }
    let card = match (request.model, request.card) {
        // The bank's own page collects the card; never post it.
        (ThreeDsModel::ThreeDHost, _) => None,
        (_, Some(card)) => Some(FormCard {
            pan: card.number.expose_number(),
            month: card.expiry.mm(),
            year: card.expiry.yy(),
            cvv: card
                .cvc
                .as_ref()
                .map(|cvc| cvc.expose_cvc())
                .unwrap_or_default(),
        }),
        (model, None) => {
            return Err(ConnectorError::Config(format!(
                "3D model {} needs the card",
                model.as_str()
            )));
        }
    };
    let input = FormInput {
        client_id: &pos.client_id,
        model: request.model,
        kind: request.kind,
        order_id: request.order_id,
        amount: request.amount,
        currency: request.currency,
        installment: request.installment,
        ok_url: request.callback_url,
        fail_url: request.callback_url,
        lang: request.lang,
        card,
    };
    Ok(BrowserForm {
        action: pos.threeds_url.clone(),
        fields: form_fields(&input, rnd, store_key.expose()),
    })
}

/// The form's fields in posting order, `hash` last.
pub(crate) fn form_fields(
    input: &FormInput<'_>,
    rnd: &str,
    store_key: &str,
) -> Vec<(String, String)> {
    let lang = if input.lang.trim().eq_ignore_ascii_case("en") {
        "en"
    } else {
        "tr"
    };
    let installment = if input.installment <= 1 {
        String::new()
    } else {
        input.installment.to_string()
    };
    let transaction_type = match input.kind {
        AuthorizeKind::Sale => "Auth",
        AuthorizeKind::PreAuth => "PreAuth",
    };
    let mut fields: Vec<(String, String)> = vec![
        ("clientid".into(), input.client_id.to_owned()),
        ("storetype".into(), input.model.as_str().to_owned()),
        (
            "amount".into(),
            format_decimal_trimmed(input.amount, input.currency),
        ),
        ("oid".into(), input.order_id.to_owned()),
        ("okUrl".into(), input.ok_url.to_owned()),
        ("failUrl".into(), input.fail_url.to_owned()),
        ("rnd".into(), rnd.to_owned()),
        ("lang".into(), lang.to_owned()),
        ("currency".into(), input.currency.numeric_code().to_owned()),
        ("taksit".into(), installment),
    ];
    // 3d_host: the bank's own page collects the card, so it is never posted.
    if let Some(card) = input
        .card
        .as_ref()
        .filter(|_| input.model != ThreeDsModel::ThreeDHost)
    {
        fields.push(("pan".into(), card.pan.to_owned()));
        fields.push(("Ecom_Payment_Card_ExpDate_Month".into(), card.month.clone()));
        fields.push(("Ecom_Payment_Card_ExpDate_Year".into(), card.year.clone()));
        fields.push(("cv2".into(), card.cvv.to_owned()));
    }
    fields.push(("TranType".into(), transaction_type.to_owned()));
    fields.push(("hashAlgorithm".into(), "ver3".to_owned()));
    let signature = hash::ver3_hash(&fields, store_key);
    fields.push(("hash".into(), signature));
    fields
}

/// Length of a base64 SHA-512 digest: a `HASH` this long is a ver3 signature.
const VER3_HASH_LEN: usize = 88;

/// Fields a legacy `HASHPARAMS` must name for the callback to be read at all.
const LEGACY_REQUIRED: [&str; 3] = ["clientid", "oid", "mdStatus"];

/// Fields ver3 leaves out of its hash; never read.
const VER3_UNSIGNED: [&str; 3] = ["hash", "encoding", "nationalidno"];

/// A callback whose signature verified, and which of its fields the signature covers.
struct Verified<'a> {
    fields: &'a [(String, String)],
    /// `None` for ver3 (every posted field but [`VER3_UNSIGNED`] is signed), else the
    /// names `HASHPARAMS` lists.
    legacy_signed: Option<Vec<&'a str>>,
}

impl<'a> Verified<'a> {
    fn verify(
        fields: &'a [(String, String)],
        store_key: &str,
    ) -> Result<Verified<'a>, CallbackError> {
        let hash_algorithm = last(fields, "hashAlgorithm");
        let hash_len = fields
            .iter()
            .rev()
            .find(|(key, _)| key.eq_ignore_ascii_case("hash"))
            .map(|(_, value)| value.len());
        let ver3 = hash_algorithm.is_some_and(|a| a.trim().eq_ignore_ascii_case("ver3"))
            || hash_len == Some(VER3_HASH_LEN);
        if ver3 {
            if !hash::verify_ver3_callback(fields, store_key) {
                return Err(CallbackError::BadSignature);
            }
            return Ok(Verified {
                fields,
                legacy_signed: None,
            });
        }
        let Some(hash_params) = last(fields, "HASHPARAMS") else {
            return Err(CallbackError::BadSignature);
        };
        let signed: Vec<&str> = hash_params
            .split(':')
            .filter(|name| !name.is_empty())
            .collect();
        if LEGACY_REQUIRED
            .iter()
            .any(|required| !signed.contains(required))
        {
            return Err(CallbackError::BadSignature);
        }
        if !hash::verify_v1_callback(fields, store_key) {
            return Err(CallbackError::BadSignature);
        }
        Ok(Verified {
            fields,
            legacy_signed: Some(signed),
        })
    }

    /// A field the signature covers (last value posted under exactly `name`); `None` when
    /// it was not posted, is empty, or is not signed.
    fn signed(&self, name: &str) -> Option<&'a str> {
        let covered = match &self.legacy_signed {
            None => !VER3_UNSIGNED
                .iter()
                .any(|unsigned| name.eq_ignore_ascii_case(unsigned)),
            Some(names) => names.contains(&name),
        };
        if covered { self.posted(name) } else { None }
    }

    /// A descriptive field as posted, trimmed; `None` when absent or empty.
    fn posted(&self, name: &str) -> Option<&'a str> {
        last(self.fields, name)
            .map(str::trim)
            .filter(|value| !value.is_empty())
    }
}

/// The last value posted under exactly `name`, as PHP's `$_POST` and the hashes keep it.
fn last<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn malformed(detail: impl Into<String>) -> CallbackError {
    CallbackError::Malformed(detail.into())
}

/// Keeps callback-supplied text in error messages short.
fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

/// Verifies and reads a callback (see the module documentation).
pub(crate) fn parse_callback(
    pos: &PosConfig,
    fields: &[(String, String)],
) -> Result<ThreeDsResult, CallbackError> {
    let store_key = pos
        .store_key
        .as_ref()
        .filter(|key| !key.is_empty())
        .ok_or(CallbackError::NoStoreKey)?;
    let callback = Verified::verify(fields, store_key.expose())?;

    if let Some(client_id) = callback.signed("clientid")
        && client_id != pos.client_id.trim()
    {
        return Err(malformed(format!(
            "callback is for client id {:?}",
            clip(client_id)
        )));
    }
    let order_id = callback
        .signed("oid")
        .or_else(|| callback.signed("ReturnOid"))
        .ok_or(CallbackError::MissingField("oid"))?
        .to_owned();
    let md_status = callback.signed("mdStatus");
    let authenticated = md_status == Some("1");

    let currency = match callback.signed("currency") {
        None => None,
        Some(code) => Some(
            Currency::from_numeric_code(code)
                .ok_or_else(|| malformed(format!("unknown currency {:?}", clip(code))))?,
        ),
    };
    let amount = match callback.signed("amount") {
        None => None,
        Some(text) => {
            let currency = currency.ok_or_else(|| malformed("amount without currency"))?;
            Some(
                parse_amount(text, currency)
                    .ok_or_else(|| malformed(format!("amount {:?}", clip(text))))?,
            )
        }
    };

    let auth = ThreeDsAuthData {
        md: callback.posted("md").map(str::to_owned),
        xid: callback.posted("xid").map(str::to_owned),
        eci: callback.posted("eci").map(str::to_owned),
        cavv: callback.posted("cavv").map(str::to_owned),
    };
    let md_error = callback.posted("mdErrorMsg");
    let err_msg = callback.posted("ErrMsg");
    // After a successful authentication the provision's message says more.
    let message = if authenticated {
        err_msg.or(md_error)
    } else {
        md_error.or(err_msg)
    };

    let model = callback
        .posted("storetype")
        .ok_or(CallbackError::MissingField("storetype"))?;
    let bank_provisions = match model {
        "3d" => false,
        "3d_pay" | "3d_host" | "3d_pay_hosting" => true,
        other => return Err(malformed(format!("unknown storetype {:?}", clip(other)))),
    };
    let outcome = bank_provisions.then(|| provision_outcome(&callback, md_status, message));

    Ok(ThreeDsResult {
        order_id,
        authenticated,
        md_status: md_status.map(str::to_owned),
        amount,
        currency,
        auth,
        outcome,
        message: message.map(str::to_owned),
    })
}

/// The provision result a `3d_pay`/`3d_host` callback carries.
fn provision_outcome(
    callback: &Verified<'_>,
    md_status: Option<&str>,
    message: Option<&str>,
) -> Outcome {
    let authenticated = md_status == Some("1");
    if authenticated
        && callback.signed("ProcReturnCode") == Some("00")
        && callback.signed("Response") == Some("Approved")
    {
        return Outcome::Approved(Approval {
            auth_code: callback.posted("AuthCode").map(str::to_owned),
            host_reference: callback.posted("HostRefNum").map(str::to_owned),
            transaction_id: callback.posted("TransId").map(str::to_owned),
        });
    }
    let message = message.unwrap_or_default();
    let proc_return_code = callback.posted("ProcReturnCode").unwrap_or_default();
    let error_code = ["ErrorCode", "EXTRA_ERRORCODE", "ERRORCODE"]
        .iter()
        .find_map(|name| callback.posted(name))
        .unwrap_or_default();
    let decline = if proc_return_code == "00" {
        // Looks approved, but not by the rule above (authentication not full, the result
        // unsigned, or `Response` disagreeing): not a fact we can act on as an approval.
        Decline {
            group: ErrorGroup::Unknown,
            code: proc_return_code.to_owned(),
            message: message.to_owned(),
        }
    } else if !proc_return_code.is_empty() || !error_code.is_empty() {
        wire::decline_from(proc_return_code, error_code, message)
    } else if !authenticated {
        // Authentication failed, so the bank did not provision.
        Decline {
            group: ErrorGroup::ThreedsAuthenticationFailed,
            code: format!("mdStatus:{}", md_status.unwrap_or_default()),
            message: message.to_owned(),
        }
    } else {
        // Authenticated, yet no provision result at all.
        Decline {
            group: ErrorGroup::Unknown,
            code: String::new(),
            message: message.to_owned(),
        }
    };
    Outcome::Declined(decline)
}

/// A callback `amount`: digits with at most one `.`, no more decimals than the currency
/// has, more than zero.
fn parse_amount(text: &str, currency: Currency) -> Option<MinorUnits> {
    let well_formed = text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && text.bytes().filter(|b| *b == b'.').count() <= 1
        && text.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && text.bytes().last().is_some_and(|b| b.is_ascii_digit());
    if !well_formed || text.len() > 32 {
        return None;
    }
    let value: Decimal = text.parse().ok()?;
    MinorUnits::from_decimal(value, currency).ok()
}
