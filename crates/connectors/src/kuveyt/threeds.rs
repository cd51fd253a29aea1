//! Kuveyt Türk 3D Secure (`3d` model only, `TransactionSecurity=3`), in two steps:
//!
//! **Enrolment.** Unlike the other families, the browser does not post a signed form to the
//! bank: Orkestra posts the card and order (`KuveytTurkVPosMessage`, vector R7.1) to
//! `ThreeDModelPayGate` server to server, and the bank answers an HTML page with an
//! auto-submitting form — to the card's ACS when the card may authenticate, or straight
//! back to our `FailUrl` with an `AuthenticationResponse` when the bank refuses the
//! enrolment (S7.8: `HashDataError`, S7.9: `PosMerchantIPError`). [`read_enrolment`] turns
//! the first (and any intermediate page without a result code, S7.6) into the [`BrowserForm`] the shopper's browser posts, as the reference library
//! does (form `action` and named inputs, `submit`/`submitBtn` skipped). The second came to
//! us directly from the bank, so it is a fact: the enrolment failed and nothing can be
//! provisioned; it is reported as [`ConnectorError::BadResponse`] with the bank's code, and
//! the engine fails the payment (an enrolment never moves money).
//!
//! **Callback.** The bank posts `AuthenticationResponse`, the URL-encoded XML of a
//! `VPosTransactionResponseContract` (S7.6, S7.10), to Orkestra's callback URL. Nothing is
//! read before its `HashData` verifies: `b64(SHA1(MerchantOrderId ‖ ResponseCode ‖ OrderId ‖
//! HashedPassword))`, keyed by the API password (Kuveyt Türk has no separate 3D key), a
//! formula recomputed from the real callbacks in the reference fixtures (P7.5, P7.9). It
//! covers the order and the result (`ResponseCode == "00"` means authenticated, the
//! library's policy); callbacks without it (the bank's error reports, P7.4, P7.7) are
//! refused: an unsigned "failed" could be forged to fail a payment.
//!
//! The amount, currency and installments (`VPosMessage`) and `MD` are not signed. They
//! decide nothing on their own: the engine checks the amount and currency against the
//! attempt, and the provision that charges is built from the attempt's own amount,
//! currency and installments, signed with our `HashData`; the bank provisions only what it
//! authenticated under `MD`, so a forged value can only make the provision fail.
//!
//! **Provision.** `authorize_3d` posts `ThreeDModelProvisionGate` (R7.6) with the `MD`.

use domain::money::MinorUnits;

use super::wire::{self, CardFields, Credentials, OrderFields};
use super::{currency_code, hash};
use crate::{
    AuthorizeKind, BrowserForm, CallbackError, ConnectorError, PosConfig, ThreeDsAuthData,
    ThreeDsInitRequest, ThreeDsModel, ThreeDsResult,
};

/// The enrolment message for a 3D sale; refuses before sending what the bank cannot take.
pub(crate) fn enrolment_body(
    credentials: Credentials<'_>,
    request: &ThreeDsInitRequest<'_>,
) -> Result<Vec<u8>, ConnectorError> {
    if request.model != ThreeDsModel::ThreeD {
        return Err(ConnectorError::Unsupported {
            operation: "3D models other than 3d",
        });
    }
    if request.kind != AuthorizeKind::Sale {
        return Err(ConnectorError::Unsupported {
            operation: "3D pre-authorisation",
        });
    }
    if request.callback_url.trim().is_empty() {
        return Err(ConnectorError::Config("missing callback url".into()));
    }
    let card = request
        .card
        .ok_or_else(|| ConnectorError::Config("3D model 3d needs the card".into()))?;
    let digits = card.number.expose_number();
    let card_type = wire::card_type(digits).ok_or(ConnectorError::Unsupported {
        operation: "3D payment with this card scheme",
    })?;
    let currency_code = currency_code(request.currency)?;
    let (year, month) = (card.expiry.yy(), card.expiry.mm());
    Ok(wire::enrolment_body(
        credentials,
        &OrderFields {
            order_id: request.order_id,
            amount: request.amount,
            currency_code,
            installment: request.installment,
        },
        request.callback_url,
        request.callback_url,
        request.client_ip.unwrap_or_default(),
        card_type,
        &CardFields {
            holder_name: card.holder_name.trim(),
            number: digits,
            expiry_year: &year,
            expiry_month: &month,
            cvv: card
                .cvc
                .as_ref()
                .map(|cvc| cvc.expose_cvc())
                .unwrap_or_default(),
        },
    ))
}

/// The bank's answer to the enrolment, as the form the browser posts (see the module
/// documentation).
pub(crate) fn read_enrolment(body: &[u8]) -> Result<BrowserForm, ConnectorError> {
    let html = wire::decode_body(body);
    let form = wire::parse_html_form(&html).ok_or_else(|| {
        // A bank that answers the enrolment with a bare contract (no page) refuses it too.
        match wire::parse_contract(body) {
            Ok(contract) => refused(
                contract.get("ResponseCode"),
                contract.get("ResponseMessage"),
            ),
            Err(_) => ConnectorError::BadResponse("enrolment answer has no form".into()),
        }
    })?;
    let action = form.action.trim();
    if !(action.starts_with("https://") || action.starts_with("http://")) {
        return Err(ConnectorError::BadResponse(
            "enrolment form posts nowhere usable".into(),
        ));
    }
    if let Some(response) = form.input("AuthenticationResponse") {
        let contract = authentication_response(response)
            .map_err(|e| ConnectorError::BadResponse(format!("enrolment answer: {e}")))?;
        // An intermediate page (S7.6) carries no result; an error report (S7.8) does.
        let code = contract.get("ResponseCode");
        if !code.is_empty() && code != "00" {
            return Err(refused(code, contract.get("ResponseMessage")));
        }
    }
    if form.inputs.is_empty() {
        return Err(ConnectorError::BadResponse(
            "enrolment form has no fields".into(),
        ));
    }
    Ok(BrowserForm {
        action: action.to_owned(),
        fields: form.inputs,
    })
}

fn refused(code: &str, message: &str) -> ConnectorError {
    ConnectorError::BadResponse(format!(
        "3D enrolment refused by the bank: {} {}",
        wire::clip(if code.is_empty() { "(no code)" } else { code }),
        wire::clip(message)
    ))
}

/// The `VPosTransactionResponseContract` inside an `AuthenticationResponse` value: URL-
/// encoded XML (or, from a lenient proxy that decoded it already, the XML itself).
pub(crate) fn authentication_response(value: &str) -> Result<wire::Node, CallbackError> {
    let value = value.trim();
    let xml = if value.starts_with('<') {
        value.to_owned()
    } else {
        wire::url_decode(value)
            .ok_or_else(|| malformed("AuthenticationResponse is not url-encoded"))?
    };
    if xml.len() > wire::RESPONSE_BYTES_MAX {
        return Err(malformed("AuthenticationResponse too large"));
    }
    let root = wire::parse_xml_text(&xml).map_err(|e| malformed(e.to_string()))?;
    if root.name != "VPosTransactionResponseContract" {
        return Err(malformed(format!(
            "unexpected element <{}>",
            wire::clip(&root.name)
        )));
    }
    Ok(root)
}

fn malformed(detail: impl Into<String>) -> CallbackError {
    CallbackError::Malformed(detail.into())
}

/// The last value posted under exactly `name`, as PHP's `$_POST` keeps it.
fn last<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Verifies and reads a callback (see the module documentation).
pub(crate) fn parse_callback(
    pos: &PosConfig,
    fields: &[(String, String)],
) -> Result<ThreeDsResult, CallbackError> {
    if pos.password.is_empty() {
        // The API password is this family's 3D key.
        return Err(CallbackError::NoStoreKey);
    }
    let value = last(fields, "AuthenticationResponse")
        .filter(|v| !v.trim().is_empty())
        .ok_or(CallbackError::MissingField("AuthenticationResponse"))?;
    let contract = authentication_response(value)?;

    let posted_hash = contract.get("HashData");
    if posted_hash.is_empty() {
        return Err(CallbackError::BadSignature);
    }
    let order_id = contract.get("MerchantOrderId");
    let response_code = contract.get("ResponseCode");
    let bank_order_id = contract.get("OrderId");
    if !hash::verify_callback_hash(
        order_id,
        response_code,
        bank_order_id,
        pos.password.expose(),
        posted_hash,
    ) {
        return Err(CallbackError::BadSignature);
    }
    if order_id.is_empty() {
        return Err(CallbackError::MissingField("MerchantOrderId"));
    }
    let authenticated = response_code == "00";

    let vpos = contract
        .child("VPosMessage")
        .ok_or(CallbackError::MissingField("VPosMessage"))?;
    let echoed = vpos.get("MerchantOrderId");
    if !echoed.is_empty() && echoed != order_id {
        return Err(malformed("VPosMessage names another order"));
    }
    let amount_text = vpos.get("Amount");
    if amount_text.is_empty() {
        return Err(CallbackError::MissingField("Amount"));
    }
    let amount: MinorUnits = wire::parse_minor(amount_text)
        .filter(|amount| !amount.is_zero())
        .ok_or_else(|| malformed(format!("amount {:?}", wire::clip(amount_text))))?;
    let currency_code = vpos.get("CurrencyCode");
    if currency_code.is_empty() {
        return Err(CallbackError::MissingField("CurrencyCode"));
    }
    let currency = wire::parse_currency(currency_code)
        .ok_or_else(|| malformed(format!("currency {:?}", wire::clip(currency_code))))?;

    let md = Some(contract.get("MD"))
        .filter(|md| !md.is_empty())
        .map(str::to_owned);
    if authenticated && md.is_none() {
        return Err(CallbackError::MissingField("MD"));
    }
    let bank_message = Some(contract.get("ResponseMessage"))
        .filter(|m| !m.is_empty())
        .map(|m| {
            if authenticated {
                m.to_owned()
            } else {
                format!("{response_code}: {m}")
            }
        });
    Ok(ThreeDsResult {
        order_id: order_id.to_owned(),
        authenticated,
        md_status: None,
        amount: Some(amount),
        currency: Some(currency),
        auth: ThreeDsAuthData {
            md,
            xid: None,
            eci: None,
            cavv: None,
        },
        // The `3d` model only: the bank never provisions at the callback.
        outcome: None,
        message: bank_message,
    })
}
