//! PayFlex V4 3D Secure (model `3d` only): the MPI enrolment, the form to the ACS, and the
//! MPI's callback.
//!
//! **Enrolment** (`threeds_form`). Unlike the form-signing families, the 3D start is a
//! server-to-server call: the enrolment form (R9.3/R9.4: `MerchantId, MerchantPassword,
//! MerchantType=0, PurchaseAmount, VerifyEnrollmentRequestId, Currency, SuccessUrl,
//! FailureUrl, Pan, ExpiryDate (YYMM), BrandName, IsRecurring=false, [InstallmentCount]`,
//! plus `SessionInfo`, see [`super::seal`]) is POSTed to the MPI (the POS's `threeds_url`).
//! `VerifyEnrollmentRequestId` is the order id. The MPI answers `Message.VERes` with
//! `Status`: `Y` (enrolled) gives the browser form — POST to `ACSUrl` with `PaReq`,
//! `TermUrl`, `MD` (R9.12); `N`/`U`/`E` or a `MessageErrorCode` (e.g. `2005`) is an error:
//! nothing was charged, the payment fails before any provision.
//!
//! **Callback.** The MPI posts `MerchantId, SubMerchantNo, PurchAmount (minor units: `101`
//! for 1.01), PurchCurrency, VerifyEnrollmentRequestId, SessionInfo, InstallmentCount, Pan,
//! Expiry, Xid, Status, Cavv, Eci, ExpSign, ErrorCode, ErrorMessage` (P9.11–P9.13). PayFlex
//! signs none of it, so here is exactly what is trusted and why:
//!
//! * Nothing in the callback can mark a payment paid. `3d` is the only model: the payment
//!   is decided by Orkestra's own provision, whose result the VPOS answers server to
//!   server. The VPOS checks `ECI`/`CAVV` against the MPI's record of `MpiTransactionId`,
//!   so forged 3D values can only make the provision fail.
//! * `Status` is read only to *refuse*: anything but `Y` (the library's policy; `A`,
//!   half-secure, is not accepted) fails the payment before a provision. Forging a refusal
//!   cannot hide money taken: the bank has charged nothing before the provision.
//! * `VerifyEnrollmentRequestId` must be present; the engine then requires it to equal the
//!   attempt's order id (which the callback URL's token already names), and `PurchAmount`
//!   and `PurchCurrency` to equal the attempt's. These are consistency checks; the
//!   provision sends the stored amount, never the callback's.
//! * `SessionInfo` is Orkestra's own sealed card, echoed: it opens only with this POS's
//!   password for this order id (AES-GCM), so an authenticated callback must carry the
//!   blob the enrolment of *this* order made. A blob that does not open refuses the
//!   callback (`BadSignature`).
//! * `MerchantId`, when posted, must be the POS's (else malformed). `Pan`, `Expiry`,
//!   `ErrorCode`, `ErrorMessage`, `Xid` are descriptive.

use domain::money::{Currency, MinorUnits};

use super::seal::{self, SealedCard};
use super::wire;
use crate::{
    BrowserForm, CallbackError, ConnectorError, PosConfig, ThreeDsAuthData, ThreeDsInitRequest,
    ThreeDsModel, ThreeDsResult,
};

/// The enrolment to send for `request`: the form body and the MPI's URL. No IO.
pub(crate) fn enrolment_request(
    pos: &PosConfig,
    request: &ThreeDsInitRequest<'_>,
) -> Result<Vec<u8>, ConnectorError> {
    if request.model != ThreeDsModel::ThreeD {
        return Err(ConnectorError::Unsupported {
            operation: "3D model other than 3d",
        });
    }
    let missing = [
        (pos.threeds_url.trim().is_empty(), "MPI enrolment url"),
        (pos.client_id.trim().is_empty(), "merchant id"),
        (pos.password.is_empty(), "merchant password"),
        (request.order_id.trim().is_empty(), "order id"),
        (request.callback_url.trim().is_empty(), "callback url"),
    ];
    if let Some((_, what)) = missing.iter().find(|(is_missing, _)| *is_missing) {
        return Err(ConnectorError::Config(format!("missing {what}")));
    }
    let card = request
        .card
        .ok_or_else(|| ConnectorError::Config("3D model 3d needs the card".into()))?;
    let brand = wire::brand_name(&card.number).ok_or(ConnectorError::Unsupported {
        operation: "3D payment with this card scheme",
    })?;
    let merchant_id = pos.client_id.trim();
    let sealed = seal::seal(
        &SealedCard {
            pan: card.number.expose_number().to_owned(),
            expiry: format!("{}{}", card.expiry.yyyy(), card.expiry.mm()),
            cvv: card
                .cvc
                .as_ref()
                .map(|c| c.expose_cvc().to_owned())
                .unwrap_or_default(),
            holder: card.holder_name.clone(),
        },
        pos.password.expose(),
        merchant_id,
        request.order_id,
    )
    .ok_or_else(|| ConnectorError::Config("card cannot be sealed".into()))?;
    let expiry = format!("{}{}", card.expiry.yy(), card.expiry.mm());
    Ok(wire::enrolment_body(&wire::EnrolmentFields {
        merchant_id,
        password: pos.password.expose(),
        merchant_type: "0",
        amount: request.amount,
        currency: request.currency,
        verify_enrollment_request_id: request.order_id,
        success_url: request.callback_url,
        failure_url: request.callback_url,
        pan: card.number.expose_number(),
        expiry: &expiry,
        brand_name: brand,
        installment: request.installment,
        session_info: Some(&sealed),
    }))
}

fn is_http_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
        && !url.chars().any(char::is_control)
}

/// The browser form to the ACS from the MPI's reply (R9.12), or why there is none.
pub(crate) fn acs_form(reply: &wire::Reply, order_id: &str) -> Result<BrowserForm, ConnectorError> {
    let enrolment = wire::enrolment(reply);
    if enrolment.status != "Y" {
        return Err(ConnectorError::BadResponse(format!(
            "3D enrolment refused: Status {:?}, MessageErrorCode {:?}: {}",
            wire::clip(&enrolment.status),
            wire::clip(&enrolment.error_code),
            wire::clip(&enrolment.error_message)
        )));
    }
    if !enrolment.verify_enrollment_request_id.is_empty()
        && enrolment.verify_enrollment_request_id != order_id
    {
        return Err(ConnectorError::BadResponse(
            "3D enrolment answers another VerifyEnrollmentRequestId".into(),
        ));
    }
    if !is_http_url(&enrolment.acs_url) || enrolment.pareq.is_empty() {
        return Err(ConnectorError::BadResponse(
            "3D enrolment lacks ACSUrl or PaReq".into(),
        ));
    }
    Ok(BrowserForm {
        action: enrolment.acs_url,
        fields: vec![
            ("PaReq".into(), enrolment.pareq),
            ("TermUrl".into(), enrolment.term_url),
            ("MD".into(), enrolment.md),
        ],
    })
}

/// The last value posted under exactly `name`.
fn last<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn posted<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    last(fields, name)
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

fn malformed(detail: impl Into<String>) -> CallbackError {
    CallbackError::Malformed(detail.into())
}

/// `PurchAmount`: minor units, digits only (`101` = 1.01 TRY in P9.12).
fn minor_units(text: &str) -> Option<MinorUnits> {
    if text.is_empty() || text.len() > 15 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().map(MinorUnits::from_stored)
}

/// Reads the MPI's callback (see the module documentation for what is trusted).
pub(crate) fn parse_callback(
    pos: &PosConfig,
    fields: &[(String, String)],
) -> Result<ThreeDsResult, CallbackError> {
    let order_id = posted(fields, "VerifyEnrollmentRequestId")
        .ok_or(CallbackError::MissingField("VerifyEnrollmentRequestId"))?;
    let status = posted(fields, "Status").ok_or(CallbackError::MissingField("Status"))?;
    if let Some(merchant_id) = posted(fields, "MerchantId")
        && merchant_id != pos.client_id.trim()
    {
        return Err(malformed("callback for another merchant"));
    }
    let amount = posted(fields, "PurchAmount")
        .map(|text| minor_units(text).ok_or_else(|| malformed("PurchAmount is not an amount")))
        .transpose()?;
    let currency = posted(fields, "PurchCurrency")
        .map(|code| {
            Currency::from_numeric_code(code).ok_or_else(|| malformed("unknown PurchCurrency"))
        })
        .transpose()?;
    let error_code = posted(fields, "ErrorCode");
    let eci = posted(fields, "Eci");
    let cavv = posted(fields, "Cavv");
    let session_info = posted(fields, "SessionInfo");
    let says_authenticated = status == "Y" && error_code.is_none();
    if says_authenticated {
        if eci.is_none() || cavv.is_none() {
            return Err(malformed("authenticated callback without Eci or Cavv"));
        }
        let sealed = session_info.ok_or(CallbackError::MissingField("SessionInfo"))?;
        // The sealed card proves this is the enrolment Orkestra made for this order.
        seal::open(
            sealed,
            pos.password.expose(),
            pos.client_id.trim(),
            order_id,
        )
        .ok_or(CallbackError::BadSignature)?;
    }
    let message = posted(fields, "ErrorMessage").map(str::to_owned);
    Ok(ThreeDsResult {
        order_id: order_id.to_owned(),
        authenticated: says_authenticated,
        md_status: Some(status.to_owned()),
        amount,
        currency,
        auth: ThreeDsAuthData {
            md: session_info
                .filter(|_| says_authenticated)
                .map(str::to_owned),
            xid: posted(fields, "Xid").map(str::to_owned),
            eci: eci.map(str::to_owned),
            cavv: cavv.map(str::to_owned),
        },
        outcome: None,
        message: message.or_else(|| error_code.map(|c| format!("ErrorCode {c}"))),
    })
}
