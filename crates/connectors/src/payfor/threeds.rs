//! PayFor 3D Secure: the form that sends the shopper's browser to the bank's gate, and the
//! bank's callback, verified and then read.
//!
//! **Form.** Laid out like the reference library's `PayForPosRequestDataMapper` (vectors
//! R5.12–R5.15): `MbrId, MerchantID, UserCode, OrderId, Lang, SecureType (3DModel | 3DPay |
//! 3DHost), TxnType, PurchAmount, InstallmentCount, Currency, OkUrl, FailUrl, Rnd`, the card
//! for `3d`/`3d_pay` (`CardHolderName, Pan, Expiry (MMYY), Cvv2`), then `Hash` =
//! `b64(SHA1(MbrId‖OrderId‖PurchAmount‖OkUrl‖FailUrl‖TxnType‖InstallmentCount‖Rnd‖MerchantPass))`.
//! Orkestra's one callback URL is both `OkUrl` and `FailUrl`. `3d` and `3d_pay` post to the
//! POS's `threeds_url` (`…/Gateway/Default.aspx`); `3d_host` posts to the bank's hosted
//! page next to it (`…/Gateway/3DHost.aspx`, `…/Mpi/3DHost.aspx` for Ziraat Katılım): a
//! `threeds_url` ending in `/Default.aspx` gets that last segment replaced, any other is
//! used as it is.
//!
//! **Callback.** Nothing is read before `ResponseHash` verifies with the POS's store key
//! (`MerchantPass`): `b64(DIGEST(MerchantId‖MerchantPass‖OrderId‖AuthCode‖ProcReturnCode‖
//! 3DStatus‖ResponseRnd‖UserCode))`, with the POS's own `MerchantId` and `UserCode` (never
//! the posted ones). DIGEST is SHA-1 (28 Base64 characters, `HashType=Sha1`, vectors
//! C5.1–C5.6) or SHA-256 (44 characters, newer replies without `HashType`, vector P5.5).
//!
//! The signature covers only `OrderId`, `AuthCode`, `ProcReturnCode` and `3DStatus` of
//! what the bank says, so those alone decide anything: the order id, `authenticated`
//! (`3DStatus == "1"`, the reference library's policy), and for `3DPay`/`3DHost` the
//! outcome — approved only when `ProcReturnCode` is `00` *and* `3DStatus` is `1`; any other
//! code is a decline with that code. Unsigned fields are read only where forging them
//! cannot move money:
//!
//! * `PurchAmount`/`Currency` feed the engine's consistency check only. The amount the bank
//!   acts on is the one our signed form bound to this `OrderId` (the gate refuses a form
//!   whose `Hash` does not verify, and only we hold `MerchantPass`), so a forged amount can
//!   only make the engine refuse the callback.
//! * `RequestGuid` (carried as [`ThreeDsAuthData::md`]; `0` counts as absent), `PayerTxnId`
//!   (xid), `Eci`, `PayerAuthenticationCode` (cavv) and `HostRefNum`, `ErrMsg` are
//!   descriptive: the bank checks a `3DModelPayment`'s `RequestGuid` against the order
//!   itself.
//! * `SecureType` only says whether the callback carries a provision result.
//!
//! Ziraat Katılım: the reference library skips this check for Ziraat Katılım because the
//! bank's hashes reportedly do not verify; Orkestra does not skip it, so a Ziraat Katılım
//! callback that does not verify is refused (fail closed).

use domain::enums::{ErrorGroup, PosIntegrator};
use domain::money::{Currency, MinorUnits};

use super::hash::{self, CallbackHashInput, FormHashInput};
use super::wire;
use crate::{
    Approval, AuthorizeKind, BrowserForm, CallbackError, ConnectorError, Decline, Outcome,
    PosConfig, ThreeDsAuthData, ThreeDsInitRequest, ThreeDsModel, ThreeDsResult,
};

/// `MbrId` of the institution: `12` for Ziraat Katılım, `5` for QNB Finansbank and Enpara.
pub(crate) fn mbr_id(integrator: PosIntegrator) -> &'static str {
    match integrator {
        PosIntegrator::Ziraatkatilim => "12",
        _ => "5",
    }
}

/// `SecureType` of a 3D model.
pub(crate) fn secure_type(model: ThreeDsModel) -> &'static str {
    match model {
        ThreeDsModel::ThreeD => "3DModel",
        ThreeDsModel::ThreeDPay => "3DPay",
        ThreeDsModel::ThreeDHost => "3DHost",
    }
}

/// Where the browser posts the form: the gate for `3d`/`3d_pay`, the hosted page for
/// `3d_host` (see the module documentation).
pub(crate) fn gate_url(threeds_url: &str, model: ThreeDsModel) -> String {
    const GATE: &str = "/default.aspx";
    let url = threeds_url.trim();
    if model != ThreeDsModel::ThreeDHost {
        return url.to_owned();
    }
    let lower = url.to_ascii_lowercase();
    if lower.ends_with(GATE) {
        format!("{}/3DHost.aspx", &url[..url.len() - GATE.len()])
    } else {
        url.to_owned()
    }
}

/// The card fields of a `3d`/`3d_pay` form, as posted.
pub(crate) struct FormCard<'a> {
    pub holder_name: &'a str,
    pub pan: &'a str,
    /// `MMYY`.
    pub expiry: String,
    pub cvv: &'a str,
}

/// Everything a gate form is made of, card in clear.
pub(crate) struct FormInput<'a> {
    pub mbr_id: &'a str,
    pub merchant_id: &'a str,
    pub user_code: &'a str,
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
    let merchant_pass = pos
        .store_key
        .as_ref()
        .filter(|key| !key.is_empty())
        .ok_or_else(|| ConnectorError::Config("missing 3D store key".into()))?;
    let missing = [
        (pos.threeds_url.trim().is_empty(), "3D gate url"),
        (pos.client_id.trim().is_empty(), "merchant id"),
        (pos.username.trim().is_empty(), "api user code"),
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
            holder_name: card.holder_name.trim(),
            pan: card.number.expose_number(),
            expiry: format!("{}{}", card.expiry.mm(), card.expiry.yy()),
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
        mbr_id: mbr_id(pos.integrator),
        merchant_id: pos.client_id.trim(),
        user_code: pos.username.trim(),
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
        action: gate_url(&pos.threeds_url, request.model),
        fields: form_fields(&input, rnd, merchant_pass.expose()),
    })
}

/// The form's fields in posting order, `Hash` last.
pub(crate) fn form_fields(
    input: &FormInput<'_>,
    rnd: &str,
    merchant_pass: &str,
) -> Vec<(String, String)> {
    let lang = if input.lang.trim().eq_ignore_ascii_case("en") {
        "en"
    } else {
        "tr"
    };
    let amount = wire::amount_text(input.amount, input.currency);
    let installment = wire::installment_text(input.installment);
    let transaction_type = wire::transaction_type(input.kind);
    let signature = hash::form_hash(
        &FormHashInput {
            mbr_id: input.mbr_id,
            order_id: input.order_id,
            amount: &amount,
            ok_url: input.ok_url,
            fail_url: input.fail_url,
            transaction_type,
            installment: &installment,
            rnd,
        },
        merchant_pass,
    );
    let mut fields: Vec<(String, String)> = vec![
        ("MbrId".into(), input.mbr_id.to_owned()),
        ("MerchantID".into(), input.merchant_id.to_owned()),
        ("UserCode".into(), input.user_code.to_owned()),
        ("OrderId".into(), input.order_id.to_owned()),
        ("Lang".into(), lang.to_owned()),
        ("SecureType".into(), secure_type(input.model).to_owned()),
        ("TxnType".into(), transaction_type.to_owned()),
        ("PurchAmount".into(), amount),
        ("InstallmentCount".into(), installment),
        ("Currency".into(), input.currency.numeric_code().to_owned()),
        ("OkUrl".into(), input.ok_url.to_owned()),
        ("FailUrl".into(), input.fail_url.to_owned()),
        ("Rnd".into(), rnd.to_owned()),
    ];
    // 3d_host: the bank's own page collects the card, so it is never posted.
    if let Some(card) = input
        .card
        .as_ref()
        .filter(|_| input.model != ThreeDsModel::ThreeDHost)
    {
        fields.push(("CardHolderName".into(), card.holder_name.to_owned()));
        fields.push(("Pan".into(), card.pan.to_owned()));
        fields.push(("Expiry".into(), card.expiry.clone()));
        fields.push(("Cvv2".into(), card.cvv.to_owned()));
    }
    fields.push(("Hash".into(), signature));
    fields
}

/// The last value posted under exactly `name`, as PHP's `$_POST` keeps it.
fn last<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// A field as posted, trimmed; `None` when absent or empty.
fn posted<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    last(fields, name)
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

fn malformed(detail: impl Into<String>) -> CallbackError {
    CallbackError::Malformed(detail.into())
}

/// Keeps callback-supplied text in error messages short.
fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

/// The fields `ResponseHash` signs, once it verified.
struct Signed<'a> {
    order_id: &'a str,
    auth_code: &'a str,
    proc_return_code: &'a str,
    three_d_status: &'a str,
}

/// Verifies `ResponseHash` (see the module documentation) and hands back what it signs,
/// trimmed.
fn verify<'a>(
    pos: &PosConfig,
    fields: &'a [(String, String)],
    merchant_pass: &str,
) -> Result<Signed<'a>, CallbackError> {
    let posted_hash = posted(fields, "ResponseHash").ok_or(CallbackError::BadSignature)?;
    let raw = |name| last(fields, name).unwrap_or_default();
    let input = CallbackHashInput {
        merchant_id: pos.client_id.trim(),
        order_id: raw("OrderId"),
        auth_code: raw("AuthCode"),
        proc_return_code: raw("ProcReturnCode"),
        three_d_status: raw("3DStatus"),
        response_rnd: raw("ResponseRnd"),
        user_code: pos.username.trim(),
    };
    if !hash::verify_callback_hash(&input, merchant_pass, posted_hash) {
        return Err(CallbackError::BadSignature);
    }
    Ok(Signed {
        order_id: raw("OrderId").trim(),
        auth_code: raw("AuthCode").trim(),
        proc_return_code: raw("ProcReturnCode").trim(),
        three_d_status: raw("3DStatus").trim(),
    })
}

/// Verifies and reads a callback (see the module documentation).
pub(crate) fn parse_callback(
    pos: &PosConfig,
    fields: &[(String, String)],
) -> Result<ThreeDsResult, CallbackError> {
    let merchant_pass = pos
        .store_key
        .as_ref()
        .filter(|key| !key.is_empty())
        .ok_or(CallbackError::NoStoreKey)?;
    let signed = verify(pos, fields, merchant_pass.expose())?;

    if signed.order_id.is_empty() {
        return Err(CallbackError::MissingField("OrderId"));
    }
    let md_status = (!signed.three_d_status.is_empty()).then_some(signed.three_d_status);
    let authenticated = signed.three_d_status == "1";

    let currency = match posted(fields, "Currency") {
        None => None,
        Some(code) => Some(
            Currency::from_numeric_code(code)
                .ok_or_else(|| malformed(format!("unknown currency {:?}", clip(code))))?,
        ),
    };
    let amount = match posted(fields, "PurchAmount") {
        None => None,
        Some(text) => {
            let currency = currency.ok_or_else(|| malformed("amount without currency"))?;
            Some(
                wire::parse_amount(text, currency)
                    .filter(|amount| !amount.is_zero())
                    .ok_or_else(|| malformed(format!("amount {:?}", clip(text))))?,
            )
        }
    };

    let auth = ThreeDsAuthData {
        md: posted(fields, "RequestGuid")
            .filter(|guid| *guid != "0")
            .map(str::to_owned),
        xid: posted(fields, "PayerTxnId").map(str::to_owned),
        eci: posted(fields, "Eci").map(str::to_owned),
        cavv: posted(fields, "PayerAuthenticationCode").map(str::to_owned),
    };
    let message = posted(fields, "ErrMsg").or_else(|| posted(fields, "IrcDet"));

    let model = posted(fields, "SecureType").ok_or(CallbackError::MissingField("SecureType"))?;
    let bank_provisions = if model.eq_ignore_ascii_case("3DModel") {
        false
    } else if model.eq_ignore_ascii_case("3DPay") || model.eq_ignore_ascii_case("3DHost") {
        true
    } else {
        return Err(malformed(format!("unknown SecureType {:?}", clip(model))));
    };
    let outcome = bank_provisions.then(|| {
        provision_outcome(
            &signed,
            md_status,
            posted(fields, "HostRefNum"),
            message.unwrap_or_default(),
        )
    });

    Ok(ThreeDsResult {
        order_id: signed.order_id.to_owned(),
        authenticated,
        md_status: md_status.map(str::to_owned),
        amount,
        currency,
        auth,
        outcome,
        message: message.map(str::to_owned),
    })
}

/// The provision result a `3DPay`/`3DHost` callback carries, from its signed fields.
fn provision_outcome(
    signed: &Signed<'_>,
    md_status: Option<&str>,
    host_reference: Option<&str>,
    message: &str,
) -> Outcome {
    let authenticated = md_status == Some("1");
    let code = signed.proc_return_code;
    if authenticated && code == "00" {
        return Outcome::Approved(Approval {
            auth_code: (!signed.auth_code.is_empty()).then(|| signed.auth_code.to_owned()),
            host_reference: host_reference.map(str::to_owned),
            transaction_id: None,
        });
    }
    let decline = if code == "00" {
        // Approved without full authentication: not a fact we act on as an approval.
        Decline {
            group: ErrorGroup::Unknown,
            code: code.to_owned(),
            message: message.to_owned(),
        }
    } else if !code.is_empty() {
        wire::decline_from(code, message)
    } else if !authenticated {
        // Authentication failed, so the bank did not provision.
        Decline {
            group: ErrorGroup::ThreedsAuthenticationFailed,
            code: format!("3DStatus:{}", md_status.unwrap_or_default()),
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
