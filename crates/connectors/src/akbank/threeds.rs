//! Akbank 3D Secure: the form that sends the shopper's browser to the bank's gate, and the
//! bank's callback, verified and then read.
//!
//! **Form.** Laid out like the reference library's (vectors R11.1–R11.4): `paymentModel
//! (3D | 3D_PAY | 3D_PAY_HOSTING), txnCode (3000 sale | 3004 pre-auth), merchantSafeId,
//! terminalSafeId, orderId, lang (TR | EN), amount ("1.00"), currencyCode ("949"),
//! installCount ("1"), okUrl, failUrl, randomNumber, requestDateTime`, the card for
//! `3d`/`3d_pay` (`creditCard, expiredDate (MMYY), cvv`), then `hash` (see
//! [`hash::form_hash`]). Orkestra's one callback URL is both `okUrl` and `failUrl`. `3d`
//! and `3d_pay` post to `…/securepay`, `3d_host` to `…/payhosting` next to it; a gate URL on
//! Akbank's API host (the default endpoints) is moved to the gate host of the same
//! environment (`virtualpospaymentgateway[pre].akbank.com`).
//!
//! **Callback.** Nothing is read before `hash` verifies: `b64(HMAC-SHA512(secretKey, the
//! values of the fields hashParams names, concatenated)))`, compared in constant time.
//! Because the bank chooses which fields it signs (`hashParams`), every field that decides
//! something must be among them, or the callback is refused:
//!
//! * always `responseCode` and `orderId`; `merchantSafeId`/`terminalSafeId` must be the
//!   POS's own when signed and non-empty (a failed authentication signs them empty, C11.2);
//! * a success (`VPS-0000`) must also sign `txnCode`, `merchantSafeId` and
//!   `terminalSafeId`; a `3D` authentication (`txnCode 3001`) its `secureId`,
//!   `secureEcomInd`, `secureData`, `secureMd`; a provision (`txnCode 1000`/`1004`,
//!   `3D_PAY` and `3D_PAY_HOSTING`) its `hostResponseCode` when one was posted;
//! * `amount` and `currencyCode` are read as posted, signed or not: they feed the engine's
//!   consistency check only. The amount the bank acts on is the one our signed form bound
//!   to this `orderId` (the gate refuses a form whose `hash` does not verify, and only we
//!   hold the key), so a forged amount can only make the engine refuse the callback. The
//!   reference fixtures' callbacks do not carry them; a callback without them is refused by
//!   that check (fail closed). The simulator echoes them.
//!
//! `authenticated` is `responseCode == VPS-0000`, or a provision the issuer answered
//! (`VPS-1005`: the 3D step passed, the payment did not). A `3001` callback carries no
//! provision (the `3d` model: Orkestra provisions with `secureTransaction`); a `1000`/`1004`
//! one carries the bank's result: approved only on `VPS-0000` with `hostResponseCode` `00`
//! (or absent). A callback without `txnCode` (failed authentication, `VPS-1279`) carries
//! neither. Akbank has no `mdStatus`; `md_status` stays empty.

use domain::money::{Currency, MinorUnits};

use super::hash::{self, FormHashInput};
use super::wire::{self, Stamp, txn_code};
use super::{
    API_PATH, GATE_PATH, HOSTING_PATH, PROD_API_HOST, PROD_GATE_HOST, TEST_API_HOST,
    TEST_GATE_HOST, secret_key,
};
use crate::{
    Approval, AuthorizeKind, BrowserForm, CallbackError, ConnectorError, Outcome, PosConfig,
    ThreeDsAuthData, ThreeDsInitRequest, ThreeDsModel, ThreeDsResult,
};

/// `paymentModel` of a 3D model.
pub(crate) fn payment_model(model: ThreeDsModel) -> &'static str {
    match model {
        ThreeDsModel::ThreeD => "3D",
        ThreeDsModel::ThreeDPay => "3D_PAY",
        ThreeDsModel::ThreeDHost => "3D_PAY_HOSTING",
    }
}

/// Where the browser posts the form (see the module documentation).
pub(crate) fn gate_url(threeds_url: &str, model: ThreeDsModel) -> String {
    let url = threeds_url.trim().trim_end_matches('/');
    let mut url = match url.strip_prefix(TEST_API_HOST) {
        Some(rest) if !rest.starts_with(API_PATH) => format!("{TEST_GATE_HOST}{rest}"),
        _ => match url.strip_prefix(PROD_API_HOST) {
            Some(rest) if !rest.starts_with(API_PATH) => format!("{PROD_GATE_HOST}{rest}"),
            _ => url.to_owned(),
        },
    };
    if model == ThreeDsModel::ThreeDHost && url.ends_with(GATE_PATH) {
        url.truncate(url.len() - GATE_PATH.len());
        url.push_str(HOSTING_PATH);
    }
    url
}

/// The card fields of a `3d`/`3d_pay` form, in clear.
pub(crate) struct FormCard<'a> {
    pub number: &'a str,
    /// `MMYY`.
    pub expiry: String,
    pub cvv: &'a str,
}

/// Everything a gate form is made of.
pub(crate) struct FormInput<'a> {
    pub merchant_safe_id: &'a str,
    pub terminal_safe_id: &'a str,
    pub model: ThreeDsModel,
    pub kind: AuthorizeKind,
    pub order_id: &'a str,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub installment: u32,
    pub ok_url: &'a str,
    pub fail_url: &'a str,
    pub lang: &'a str,
    pub card: Option<FormCard<'a>>,
}

/// The gate form for `request`, stamped with `stamp`. No IO.
pub(crate) fn form(
    pos: &PosConfig,
    request: &ThreeDsInitRequest<'_>,
    stamp: &Stamp,
) -> Result<BrowserForm, ConnectorError> {
    let key = secret_key(pos)
        .ok_or_else(|| ConnectorError::Config("missing secretKey (threedsKey)".into()))?;
    let terminal = pos
        .terminal_id
        .as_deref()
        .map(str::trim)
        .unwrap_or_default();
    let missing = [
        (pos.threeds_url.trim().is_empty(), "3D gate url"),
        (pos.client_id.trim().is_empty(), "merchantSafeId (clientId)"),
        (terminal.is_empty(), "terminalSafeId (terminalId)"),
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
            number: card.number.expose_number(),
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
        merchant_safe_id: pos.client_id.trim(),
        terminal_safe_id: terminal,
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
        fields: form_fields(&input, stamp, key)?,
    })
}

/// The form's fields in posting order, `hash` last.
pub(crate) fn form_fields(
    input: &FormInput<'_>,
    stamp: &Stamp,
    secret_key: &str,
) -> Result<Vec<(String, String)>, ConnectorError> {
    let lang = if input.lang.trim().eq_ignore_ascii_case("en") {
        "EN"
    } else {
        "TR"
    };
    let amount = wire::amount_text(input.amount, input.currency)?;
    let currency = wire::currency_code(input.currency)?.to_string();
    let install_count = wire::install_count(input.installment).to_string();
    let model = payment_model(input.model);
    let txn = wire::form_txn_code(input.kind);
    // 3d_host: the bank's own page collects the card, so it is never posted.
    let card = input
        .card
        .as_ref()
        .filter(|_| input.model != ThreeDsModel::ThreeDHost);
    let signature = hash::form_hash(
        &FormHashInput {
            payment_model: model,
            txn_code: txn,
            merchant_safe_id: input.merchant_safe_id,
            terminal_safe_id: input.terminal_safe_id,
            order_id: input.order_id,
            lang,
            amount: &amount,
            currency_code: &currency,
            install_count: &install_count,
            ok_url: input.ok_url,
            fail_url: input.fail_url,
            credit_card: card.map(|c| c.number).unwrap_or_default(),
            expired_date: card.map(|c| c.expiry.as_str()).unwrap_or_default(),
            cvv: card.map(|c| c.cvv).unwrap_or_default(),
            random_number: &stamp.random_number,
            request_date_time: &stamp.request_date_time,
            ..FormHashInput::default()
        },
        secret_key,
    );
    let mut fields: Vec<(String, String)> = vec![
        ("paymentModel".into(), model.to_owned()),
        ("txnCode".into(), txn.to_owned()),
        ("merchantSafeId".into(), input.merchant_safe_id.to_owned()),
        ("terminalSafeId".into(), input.terminal_safe_id.to_owned()),
        ("orderId".into(), input.order_id.to_owned()),
        ("lang".into(), lang.to_owned()),
        ("amount".into(), amount),
        ("currencyCode".into(), currency),
        ("installCount".into(), install_count),
        ("okUrl".into(), input.ok_url.to_owned()),
        ("failUrl".into(), input.fail_url.to_owned()),
        ("randomNumber".into(), stamp.random_number.clone()),
        ("requestDateTime".into(), stamp.request_date_time.clone()),
    ];
    if let Some(card) = card {
        fields.push(("creditCard".into(), card.number.to_owned()));
        fields.push(("expiredDate".into(), card.expiry.clone()));
        fields.push(("cvv".into(), card.cvv.to_owned()));
    }
    fields.push(("hash".into(), signature));
    Ok(fields)
}

/// The last value posted under exactly `name`, as PHP's `$_POST` keeps it.
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

/// A callback whose `hash` verified: what its `hashParams` covers, and only that.
struct Signed<'a> {
    fields: &'a [(String, String)],
    names: Vec<&'a str>,
}

impl<'a> Signed<'a> {
    /// Verifies `hash` over the fields `hashParams` names (see the module documentation).
    fn verify(
        fields: &'a [(String, String)],
        secret_key: &str,
    ) -> Result<Signed<'a>, CallbackError> {
        let posted = last(fields, "hash")
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .ok_or(CallbackError::BadSignature)?;
        let params = last(fields, "hashParams")
            .filter(|p| !p.trim().is_empty())
            .ok_or(CallbackError::BadSignature)?;
        let expected = hash::callback_hash(
            params,
            |name| last(fields, name).unwrap_or_default(),
            secret_key,
        );
        if !hash::verify(&expected, posted) {
            return Err(CallbackError::BadSignature);
        }
        Ok(Signed {
            fields,
            names: hash::hash_param_names(params),
        })
    }

    fn covers(&self, name: &str) -> bool {
        self.names.contains(&name)
    }

    /// A signed field, trimmed (`""` when posted empty or absent).
    fn get(&self, name: &str) -> Option<&'a str> {
        self.covers(name)
            .then(|| last(self.fields, name).unwrap_or_default().trim())
    }

    /// A field the signature must cover.
    fn require(&self, name: &'static str) -> Result<&'a str, CallbackError> {
        self.get(name)
            .ok_or_else(|| malformed(format!("hashParams does not cover {name}")))
    }

    /// A signed, non-empty field.
    fn non_empty(&self, name: &str) -> Option<&'a str> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

/// Verifies and reads a callback (see the module documentation).
pub(crate) fn parse_callback(
    pos: &PosConfig,
    fields: &[(String, String)],
) -> Result<ThreeDsResult, CallbackError> {
    let key = secret_key(pos).ok_or(CallbackError::NoStoreKey)?;
    let signed = Signed::verify(fields, key)?;

    let code = signed.require("responseCode")?;
    let order_id = signed.require("orderId")?;
    if order_id.is_empty() {
        return Err(CallbackError::MissingField("orderId"));
    }
    let terminal = pos
        .terminal_id
        .as_deref()
        .map(str::trim)
        .unwrap_or_default();
    for (name, own) in [
        ("merchantSafeId", pos.client_id.trim()),
        ("terminalSafeId", terminal),
    ] {
        if signed.non_empty(name).is_some_and(|posted| posted != own) {
            return Err(malformed(format!("{name} is not this POS's")));
        }
    }
    let success = code == wire::SUCCESS;
    let txn = if success {
        for name in ["merchantSafeId", "terminalSafeId"] {
            if signed.non_empty(name).is_none() {
                return Err(malformed(format!("approval does not sign {name}")));
            }
        }
        signed.require("txnCode")?
    } else {
        signed.get("txnCode").unwrap_or_default()
    };
    let provision = matches!(txn, txn_code::SALE | txn_code::PRE_AUTH);
    if !txn.is_empty() && !provision && txn != txn_code::THREEDS_AUTHENTICATION {
        return Err(malformed(format!("unknown txnCode {:?}", wire::clip(txn))));
    }

    let message = signed.non_empty("responseMessage").or_else(|| {
        last(fields, "responseMessage")
            .map(str::trim)
            .filter(|m| !m.is_empty())
    });
    let posted = |name: &str| {
        last(fields, name)
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    let currency = match posted("currencyCode") {
        None => None,
        Some(code) => Some(
            wire::parse_currency(code)
                .ok_or_else(|| malformed(format!("unknown currency {:?}", wire::clip(code))))?,
        ),
    };
    let amount = match posted("amount") {
        None => None,
        Some(text) => {
            let currency = currency.ok_or_else(|| malformed("amount without currency"))?;
            Some(
                wire::parse_amount(text, currency)
                    .filter(|amount| !amount.is_zero())
                    .ok_or_else(|| malformed(format!("amount {:?}", wire::clip(text))))?,
            )
        }
    };

    let mut auth = ThreeDsAuthData::default();
    if success && txn == txn_code::THREEDS_AUTHENTICATION {
        auth = ThreeDsAuthData {
            md: Some(signed.require("secureMd")?.to_owned()).filter(|v| !v.is_empty()),
            xid: Some(signed.require("secureId")?.to_owned()).filter(|v| !v.is_empty()),
            eci: Some(signed.require("secureEcomInd")?.to_owned()).filter(|v| !v.is_empty()),
            cavv: Some(signed.require("secureData")?.to_owned()).filter(|v| !v.is_empty()),
        };
        if auth.md.is_none() || auth.xid.is_none() {
            return Err(malformed("authentication without secureMd or secureId"));
        }
    }

    let outcome = if provision {
        Some(provision_outcome(&signed, code, fields)?)
    } else {
        None
    };
    let authenticated = success || (provision && code == "VPS-1005");
    let message = match &outcome {
        Some(Outcome::Declined(decline)) if !decline.message.is_empty() => {
            Some(decline.message.clone())
        }
        _ => message.map(str::to_owned),
    };
    Ok(ThreeDsResult {
        order_id: order_id.to_owned(),
        authenticated,
        md_status: None,
        amount,
        currency,
        auth,
        outcome,
        message,
    })
}

/// The provision result of a `3D_PAY`/`3D_PAY_HOSTING` callback, from its signed fields.
fn provision_outcome(
    signed: &Signed<'_>,
    code: &str,
    fields: &[(String, String)],
) -> Result<Outcome, CallbackError> {
    let host_posted = last(fields, "hostResponseCode").is_some_and(|h| !h.trim().is_empty());
    let host_code = if host_posted {
        signed.require("hostResponseCode")?
    } else {
        ""
    };
    if code == wire::SUCCESS {
        if !host_code.is_empty() && host_code != "00" {
            return Err(malformed(format!(
                "responseCode VPS-0000 with hostResponseCode {:?}",
                wire::clip(host_code)
            )));
        }
        return Ok(Outcome::Approved(Approval {
            auth_code: signed.non_empty("authCode").map(str::to_owned),
            host_reference: signed
                .non_empty("rrn")
                .filter(|rrn| rrn.bytes().any(|b| b != b'0'))
                .map(str::to_owned),
            transaction_id: None,
        }));
    }
    Ok(Outcome::Declined(wire::decline_from(
        code,
        signed.get("responseMessage").unwrap_or_default(),
        host_code,
        signed.get("hostMessage").unwrap_or_default(),
    )))
}
