//! InterPos 3D Secure: the form that sends the shopper's browser to the bank's gate, and the
//! bank's callback, verified and then read.
//!
//! **Form.** Laid out like the reference library's `InterPosRequestDataMapper` (vectors
//! R6.5–R6.7): `ShopCode, TxnType, SecureType (3DModel | 3DPay | 3DHost), PurchAmount,
//! OrderId, OkUrl, FailUrl, Rnd, Lang, Currency, InstallmentCount`, the card for
//! `3d`/`3d_pay` (`CardType, Pan, Expiry (MMYY), Cvv2`), then `Hash` =
//! `b64(SHA1(ShopCode‖OrderId‖PurchAmount‖OkUrl‖FailUrl‖TxnType‖InstallmentCount‖Rnd‖MerchantPass))`.
//! Orkestra's one callback URL is both `OkUrl` and `FailUrl`. `3d` and `3d_pay` post to the
//! POS's `threeds_url` (`…/mpi/Default.aspx`); `3d_host` posts to the bank's hosted page
//! next to it (`…/mpi/3DHost.aspx`): a `threeds_url` ending in `/Default.aspx` gets that
//! last segment replaced, any other is used as it is.
//!
//! **Callback.** Nothing is read before `HASH` verifies with the POS's store key
//! (`MerchantPass`): `HASHPARAMS` names the signed fields (`Version:PurchAmount:Exponent:
//! Currency:OkUrl:FailUrl:MD:OrderId:ProcReturnCode:Response:mdStatus:` in every real
//! callback, C6.1–C6.3) and `HASH = b64(SHA1(values as posted ‖ MerchantPass))`. The
//! signature must cover `OrderId`, `PurchAmount`, `Currency`, `MD`, `ProcReturnCode`,
//! `Response` and `mdStatus`, or the callback is refused: those alone decide anything.
//!
//! * `authenticated`: signed `mdStatus` 1, 2, 3 or 4 (full or half secure, the reference
//!   library's InterPos policy, which reads the unsigned `3DStatus`; a `3DStatus` that
//!   disagrees with `mdStatus` makes the callback malformed).
//! * `amount`/`currency`: the signed `PurchAmount` (decimal comma, `1,01`) and `Currency`.
//! * The provision of `3d_pay`/`3d_host`: the callback does not say which model it answers,
//!   so a callback carries an outcome when it is authenticated *and* its signed
//!   `ProcReturnCode` is set — approved only for `00` with a `Response` that is empty,
//!   `Approved` or `Success`; any other code is a decline with that code. A `3d`
//!   authentication leaves `ProcReturnCode` empty (P6.4), so it carries none; an
//!   unauthenticated callback carries none either (the bank did not provision).
//! * `MD` (signed), `PayerTxnId` (xid), `Eci`, `PayerAuthenticationCode` (cavv) are what a
//!   `3d` provision sends back; the bank checks the unsigned three against its own record
//!   of `MD`, so forging them can only make the provision fail. `AuthCode`, `HostRefNum`,
//!   `TransId` and `ErrorMessage` are descriptive.
//!
//! A callback without `HASH` is refused even when it looks like an error report: an
//! unsigned "declined" could be forged to fail a payment that succeeded.

use domain::enums::ErrorGroup;
use domain::money::{Currency, MinorUnits};

use super::hash::{self, FormHashInput};
use super::wire;
use crate::{
    Approval, AuthorizeKind, BrowserForm, CallbackError, ConnectorError, Decline, Outcome,
    PosConfig, ThreeDsAuthData, ThreeDsInitRequest, ThreeDsModel, ThreeDsResult,
};

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
    if url.to_ascii_lowercase().ends_with(GATE) {
        format!("{}/3DHost.aspx", &url[..url.len() - GATE.len()])
    } else {
        url.to_owned()
    }
}

/// The card fields of a `3d`/`3d_pay` form, as posted.
pub(crate) struct FormCard<'a> {
    pub card_type: &'a str,
    pub pan: &'a str,
    /// `MMYY`.
    pub expiry: String,
    pub cvv: &'a str,
}

/// Everything a gate form is made of, card in clear.
pub(crate) struct FormInput<'a> {
    pub shop_code: &'a str,
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
        (pos.client_id.trim().is_empty(), "shop code"),
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
            card_type: wire::card_type(&card.number).ok_or(ConnectorError::Unsupported {
                operation: "3D payment with this card scheme",
            })?,
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
        shop_code: pos.client_id.trim(),
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
            shop_code: input.shop_code,
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
        ("ShopCode".into(), input.shop_code.to_owned()),
        ("TxnType".into(), transaction_type.to_owned()),
        ("SecureType".into(), secure_type(input.model).to_owned()),
        ("PurchAmount".into(), amount),
        ("OrderId".into(), input.order_id.to_owned()),
        ("OkUrl".into(), input.ok_url.to_owned()),
        ("FailUrl".into(), input.fail_url.to_owned()),
        ("Rnd".into(), rnd.to_owned()),
        ("Lang".into(), lang.to_owned()),
        ("Currency".into(), input.currency.numeric_code().to_owned()),
        ("InstallmentCount".into(), installment),
    ];
    // 3d_host: the bank's own page collects the card, so it is never posted.
    if let Some(card) = input
        .card
        .as_ref()
        .filter(|_| input.model != ThreeDsModel::ThreeDHost)
    {
        fields.push(("CardType".into(), card.card_type.to_owned()));
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

/// The fields the signature must cover for the callback to be read at all.
pub(crate) const MUST_BE_SIGNED: [&str; 7] = [
    "OrderId",
    "PurchAmount",
    "Currency",
    "MD",
    "ProcReturnCode",
    "Response",
    "mdStatus",
];

/// `HASHPARAMS` names at most this many fields (the real list has 11).
const HASH_PARAMS_MAX: usize = 64;

/// `mdStatus` values the reference library accepts as authenticated (full: 1; half: 2-4).
const AUTHENTICATED_MD_STATUS: [&str; 4] = ["1", "2", "3", "4"];

/// A callback whose `HASH` verified: its signed fields, trimmed.
struct Signed<'a> {
    fields: &'a [(String, String)],
}

impl<'a> Signed<'a> {
    /// A signed field, trimmed (`""` when not posted).
    fn get(&self, name: &str) -> &'a str {
        last(self.fields, name).unwrap_or_default().trim()
    }
}

/// Verifies `HASH` over the fields `HASHPARAMS` names (see the module documentation).
fn verify<'a>(
    fields: &'a [(String, String)],
    merchant_pass: &str,
) -> Result<Signed<'a>, CallbackError> {
    let posted_hash = posted(fields, "HASH").ok_or(CallbackError::BadSignature)?;
    let params = posted(fields, "HASHPARAMS").ok_or(CallbackError::BadSignature)?;
    let names: Vec<&str> = hash::hash_params(params).collect();
    if names.len() > HASH_PARAMS_MAX
        || MUST_BE_SIGNED
            .iter()
            .any(|required| !names.contains(required))
    {
        return Err(CallbackError::BadSignature);
    }
    let values = names
        .iter()
        .map(|name| last(fields, name).unwrap_or_default());
    if !hash::verify_callback_hash(values, merchant_pass, posted_hash) {
        return Err(CallbackError::BadSignature);
    }
    Ok(Signed { fields })
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
    let signed = verify(fields, merchant_pass.expose())?;

    let order_id = signed.get("OrderId");
    if order_id.is_empty() {
        return Err(CallbackError::MissingField("OrderId"));
    }
    let md_status = Some(signed.get("mdStatus")).filter(|status| !status.is_empty());
    if let Some(three_d_status) =
        posted(fields, "3DStatus").filter(|status| Some(*status) != md_status)
    {
        return Err(malformed(format!(
            "3DStatus {:?} disagrees with mdStatus",
            clip(three_d_status)
        )));
    }
    let authenticated = md_status.is_some_and(|status| AUTHENTICATED_MD_STATUS.contains(&status));

    let currency_code = signed.get("Currency");
    if currency_code.is_empty() {
        return Err(CallbackError::MissingField("Currency"));
    }
    let currency = Currency::from_numeric_code(currency_code)
        .ok_or_else(|| malformed(format!("unknown currency {:?}", clip(currency_code))))?;
    let amount_text = signed.get("PurchAmount");
    if amount_text.is_empty() {
        return Err(CallbackError::MissingField("PurchAmount"));
    }
    let amount = wire::parse_amount(amount_text, currency)
        .filter(|amount| !amount.is_zero())
        .ok_or_else(|| malformed(format!("amount {:?}", clip(amount_text))))?;

    let auth = ThreeDsAuthData {
        md: Some(signed.get("MD"))
            .filter(|md| !md.is_empty())
            .map(str::to_owned),
        xid: posted(fields, "PayerTxnId").map(str::to_owned),
        eci: posted(fields, "Eci").map(str::to_owned),
        cavv: posted(fields, "PayerAuthenticationCode").map(str::to_owned),
    };
    let message = posted(fields, "ErrorMessage");
    let proc_return_code = signed.get("ProcReturnCode");
    let outcome = (authenticated && !proc_return_code.is_empty()).then(|| {
        provision_outcome(
            proc_return_code,
            signed.get("Response"),
            fields,
            message.unwrap_or_default(),
        )
    });

    Ok(ThreeDsResult {
        order_id: order_id.to_owned(),
        authenticated,
        md_status: md_status.map(str::to_owned),
        amount: Some(amount),
        currency: Some(currency),
        auth,
        outcome,
        message: message.map(str::to_owned),
    })
}

/// The provision result an authenticated `3DPay`/`3DHost` callback carries.
fn provision_outcome(
    proc_return_code: &str,
    response: &str,
    fields: &[(String, String)],
    message: &str,
) -> Outcome {
    let response_agrees = response.is_empty()
        || response.eq_ignore_ascii_case("Approved")
        || response.eq_ignore_ascii_case("Success");
    match proc_return_code {
        "00" if response_agrees => Outcome::Approved(Approval {
            auth_code: posted(fields, "AuthCode").map(str::to_owned),
            host_reference: posted(fields, "HostRefNum").map(str::to_owned),
            transaction_id: posted(fields, "TransId").map(str::to_owned),
        }),
        // `00` with a `Response` saying otherwise: not a fact we act on as an approval.
        "00" => Outcome::Declined(Decline {
            group: ErrorGroup::Unknown,
            code: proc_return_code.to_owned(),
            message: message.to_owned(),
        }),
        code => Outcome::Declined(wire::decline_from(code, message)),
    }
}
