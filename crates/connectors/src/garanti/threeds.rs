//! Garanti 3D Secure: the form that sends the shopper's browser to `gt3dengine`, and the
//! bank's callback, verified and then read.
//!
//! **Models.** `3d` posts `secure3dsecuritylevel=3D` (the bank authenticates, Orkestra
//! provisions through the API with `Secure3D{AuthenticationCode, SecurityLevel, TxnID, Md}`),
//! `3d_pay` posts `3D_PAY` (the bank authenticates and provisions), `3d_host` posts
//! `3D_OOS_PAY`: Garanti's hosted common payment page ("Güvenli Ortak Ödeme Sayfası"),
//! where the bank collects the card, authenticates and provisions. The reference library
//! implements only `3D`/`3D_PAY`; the `3D_OOS_PAY` form is the `3D_PAY` form without the
//! card, plus `lang`, and with `txninstallmentcount=1` for a single payment (public
//! integrations report that the hosted page refuses an empty count).
//!
//! **Form.** Laid out like the reference library's (vectors R2.9, R2.10):
//! `secure3dsecuritylevel, mode, apiversion, terminalprovuserid, terminaluserid,
//! terminalmerchantid, terminalid, txntype, txnamount, txncurrencycode, txninstallmentcount,
//! orderid, successurl, errorurl, customeripaddress`, the card for `3d`/`3d_pay`
//! (`cardnumber, cardexpiredatemonth, cardexpiredateyear, cardcvv2`), `lang` for `3d_host`,
//! then `secure3dhash` (v512, see [`hash::form_hash`]). Orkestra's one callback URL is both
//! `successurl` and `errorurl`.
//!
//! **Callback.** Nothing is read before the `hash` verifies with the POS's store key:
//! `hashparams` names the signed fields (`clientid:oid:authcode:procreturncode:response:
//! mdstatus:cavv:eci:md:rnd:` in every real callback, C2.1–C2.6); the `hash` is v512
//! (128 upper-case hex) or the legacy v0.01 (base64 SHA-1), told apart by shape. The
//! signature must cover `clientid`, `oid`, `mdstatus` and `response`, or the callback is
//! refused. `clientid` is the terminal id there, and must be the POS's.
//!
//! The amount is not in `hashparams`. It is authenticated another way: the bank echoes the
//! form's fields and its `secure3dhash` (a keyed hash over terminal, order, amount,
//! currency, URLs, type and installments, made with the store key and the provision
//! password, vector H2.12), so when the echoed `secure3dhash` verifies for the signed `oid`
//! and the POS's terminal, `txnamount` (and, for v512, `txncurrencycode`) are the ones
//! Orkestra signed for that order. Otherwise `amount`/`currency` read as absent (and the
//! engine refuses the callback as not matching its attempt).
//!
//! `authenticated` follows the reference policy table: `mdstatus` 1, 2, 3 or 4 (full or
//! half secure) and `response` not `Error`. For `3D_PAY`/`3D_OOS_PAY` the callback carries
//! the provision: approved only when authenticated, `procreturncode` is `00` and `response`
//! is `Approved`, all signed. Descriptive fields (`xid`, `hostrefnum`, messages,
//! `secure3dsecuritylevel`) are read as posted: the bank does not sign them and forging
//! them gains nothing (the bank checks the 3D data of a provision itself; the security
//! level only says whether the callback carries a result).
//!
//! A callback without `hash` is refused even when it looks like an error report (vector
//! P2.9 is one): an unsigned "declined" could be forged to fail a payment that succeeded.

use domain::enums::ErrorGroup;
use domain::money::{Currency, MinorUnits};

use super::hash::{self, FormHashInput};
use super::wire;
use crate::{
    Approval, AuthorizeKind, BrowserForm, CallbackError, ConnectorError, Decline, Outcome,
    PosConfig, ThreeDsAuthData, ThreeDsInitRequest, ThreeDsModel, ThreeDsResult,
};

/// `secure3dsecuritylevel` for each model Orkestra offers.
pub(crate) fn security_level(model: ThreeDsModel) -> &'static str {
    match model {
        ThreeDsModel::ThreeD => "3D",
        ThreeDsModel::ThreeDPay => "3D_PAY",
        ThreeDsModel::ThreeDHost => "3D_OOS_PAY",
    }
}

/// The card fields of a `3d`/`3d_pay` form, as posted.
pub(crate) struct FormCard<'a> {
    pub number: &'a str,
    /// `MM`.
    pub month: String,
    /// `YY`.
    pub year: String,
    pub cvv: &'a str,
}

/// Everything a gate form is made of, card in clear.
pub(crate) struct FormInput<'a> {
    pub mode: &'a str,
    pub model: ThreeDsModel,
    pub user: &'a str,
    pub merchant_id: &'a str,
    pub terminal_id: &'a str,
    pub kind: AuthorizeKind,
    /// Hundredths, as posted.
    pub amount: &'a str,
    pub currency_code: &'a str,
    pub installment: u32,
    pub order_id: &'a str,
    pub success_url: &'a str,
    pub error_url: &'a str,
    pub client_ip: &'a str,
    pub lang: &'a str,
    pub card: Option<FormCard<'a>>,
}

/// The gate form for `request`. No IO.
pub(crate) fn form(
    pos: &PosConfig,
    request: &ThreeDsInitRequest<'_>,
) -> Result<BrowserForm, ConnectorError> {
    let store_key = pos
        .store_key
        .as_ref()
        .filter(|key| !key.is_empty())
        .ok_or_else(|| ConnectorError::Config("missing 3D store key".into()))?;
    let terminal_id = pos.terminal_id.as_deref().unwrap_or_default().trim();
    let missing = [
        (pos.threeds_url.trim().is_empty(), "3D gate url"),
        (pos.client_id.trim().is_empty(), "merchant id"),
        (terminal_id.is_empty(), "terminal id"),
        (pos.username.trim().is_empty(), "provision user"),
        (pos.password.is_empty(), "provision password"),
        (request.order_id.trim().is_empty(), "order id"),
        (request.callback_url.trim().is_empty(), "callback url"),
    ];
    if let Some((_, what)) = missing.iter().find(|(is_missing, _)| *is_missing) {
        return Err(ConnectorError::Config(format!("missing {what}")));
    }
    let amount = wire::amount_text(request.amount, request.currency).ok_or_else(|| {
        ConnectorError::Config(format!(
            "Garanti cannot charge {} in {}",
            request.amount.get(),
            request.currency.code()
        ))
    })?;
    let card = match (request.model, request.card) {
        // The bank's own page collects the card; never post it.
        (ThreeDsModel::ThreeDHost, _) => None,
        (_, Some(card)) => Some(FormCard {
            number: card.number.expose_number(),
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
        mode: super::mode_for(&pos.threeds_url),
        model: request.model,
        user: pos.username.trim(),
        merchant_id: pos.client_id.trim(),
        terminal_id,
        kind: request.kind,
        amount: &amount,
        currency_code: request.currency.numeric_code(),
        installment: request.installment,
        order_id: request.order_id,
        success_url: request.callback_url,
        error_url: request.callback_url,
        client_ip: request.client_ip.unwrap_or(super::FALLBACK_IP),
        lang: request.lang,
        card,
    };
    let security = hash::security_data(pos.password.expose(), terminal_id);
    Ok(BrowserForm {
        action: pos.threeds_url.clone(),
        fields: form_fields(&input, store_key.expose(), &security),
    })
}

/// The form's fields in posting order, `secure3dhash` last.
pub(crate) fn form_fields(
    input: &FormInput<'_>,
    store_key: &str,
    security_data: &str,
) -> Vec<(String, String)> {
    let host = input.model == ThreeDsModel::ThreeDHost;
    let installment = match (host, input.installment) {
        (true, 0 | 1) => "1".to_owned(),
        (_, n) => wire::installment_text(n),
    };
    let transaction_type = wire::transaction_type(input.kind);
    let mut fields: Vec<(String, String)> = Vec::with_capacity(22);
    let mut push = |name: &str, value: &str| fields.push((name.to_owned(), value.to_owned()));
    push("secure3dsecuritylevel", security_level(input.model));
    push("mode", input.mode);
    push("apiversion", wire::API_VERSION);
    push("terminalprovuserid", input.user);
    push("terminaluserid", input.user);
    push("terminalmerchantid", input.merchant_id);
    push("terminalid", input.terminal_id);
    push("txntype", transaction_type);
    push("txnamount", input.amount);
    push("txncurrencycode", input.currency_code);
    push("txninstallmentcount", &installment);
    push("orderid", input.order_id);
    push("successurl", input.success_url);
    push("errorurl", input.error_url);
    push("customeripaddress", input.client_ip);
    if let Some(card) = input.card.as_ref().filter(|_| !host) {
        push("cardnumber", card.number);
        push("cardexpiredatemonth", &card.month);
        push("cardexpiredateyear", &card.year);
        push("cardcvv2", card.cvv);
    }
    if host {
        let lang = if input.lang.trim().eq_ignore_ascii_case("en") {
            "en"
        } else {
            "tr"
        };
        push("lang", lang);
    }
    let signature = hash::form_hash(
        &FormHashInput {
            terminal_id: input.terminal_id,
            order_id: input.order_id,
            amount: input.amount,
            currency_code: input.currency_code,
            success_url: input.success_url,
            error_url: input.error_url,
            transaction_type,
            installment: &installment,
        },
        store_key,
        security_data,
    );
    push("secure3dhash", &signature);
    fields
}

/// Fields `hashparams` must name for the callback to be read at all.
const REQUIRED_SIGNED: [&str; 4] = ["clientid", "oid", "mdstatus", "response"];

/// `mdstatus` values the reference library accepts as authenticated (full: 1; half: 2, 3, 4).
const AUTHENTICATED_MD_STATUS: [&str; 4] = ["1", "2", "3", "4"];

/// A callback whose signature verified, and which of its fields the signature covers.
struct Verified<'a> {
    fields: &'a [(String, String)],
    signed: Vec<&'a str>,
}

impl<'a> Verified<'a> {
    fn verify(
        fields: &'a [(String, String)],
        store_key: &str,
    ) -> Result<Verified<'a>, CallbackError> {
        let (Some(posted_hash), Some(hash_params)) =
            (last(fields, "hash"), last(fields, "hashparams"))
        else {
            return Err(CallbackError::BadSignature);
        };
        let signed: Vec<&str> = hash_params
            .split(':')
            .filter(|name| !name.is_empty())
            .collect();
        if REQUIRED_SIGNED.iter().any(|name| !signed.contains(name)) {
            return Err(CallbackError::BadSignature);
        }
        if !hash::verify_callback(
            posted_hash.trim(),
            hash_params,
            |name| last(fields, name),
            store_key,
        ) {
            return Err(CallbackError::BadSignature);
        }
        Ok(Verified { fields, signed })
    }

    /// A signed field (last value posted under exactly `name`), trimmed; `None` when it was
    /// not posted, is empty, or is not signed.
    fn signed(&self, name: &str) -> Option<&'a str> {
        if self.signed.contains(&name) {
            self.posted(name)
        } else {
            None
        }
    }

    /// A descriptive field as posted, trimmed; `None` when absent or empty.
    fn posted(&self, name: &str) -> Option<&'a str> {
        last(self.fields, name)
            .map(str::trim)
            .filter(|value| !value.is_empty())
    }
}

/// The last value posted under exactly `name`, as PHP's `$_POST` and the hash take it.
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

    let terminal_id = pos.terminal_id.as_deref().unwrap_or_default().trim();
    let client_id = callback
        .signed("clientid")
        .ok_or(CallbackError::MissingField("clientid"))?;
    if terminal_id.is_empty() || client_id != terminal_id {
        return Err(malformed(format!(
            "callback is for terminal {:?}",
            wire::clip(client_id)
        )));
    }
    let order_id = callback
        .signed("oid")
        .ok_or(CallbackError::MissingField("oid"))?
        .to_owned();
    let md_status = callback.signed("mdstatus");
    let response = callback.signed("response");
    let authenticated = md_status.is_some_and(|md| AUTHENTICATED_MD_STATUS.contains(&md))
        && !response.is_some_and(|r| r.eq_ignore_ascii_case("Error"));

    let (amount, currency) =
        signed_terms(pos, &callback, &order_id, terminal_id, store_key.expose());

    let auth = ThreeDsAuthData {
        md: callback.posted("md").map(str::to_owned),
        xid: callback.posted("xid").map(str::to_owned),
        eci: callback.posted("eci").map(str::to_owned),
        cavv: callback.posted("cavv").map(str::to_owned),
    };
    let md_error = callback.posted("mderrormessage");
    let err_msg = callback
        .posted("errmsg")
        .or_else(|| callback.posted("hostmsg"));
    // After a successful authentication the provision's message says more.
    let message = if authenticated {
        err_msg.or(md_error)
    } else {
        md_error.or(err_msg)
    };

    let level = callback
        .posted("secure3dsecuritylevel")
        .ok_or(CallbackError::MissingField("secure3dsecuritylevel"))?;
    let bank_provisions = match level.to_ascii_uppercase().as_str() {
        "3D" | "3D_FULL" | "3D_HALF" => false,
        "3D_PAY" | "3D_OOS_PAY" | "3D_OOS_FULL" | "3D_OOS_HALF" | "OOS_PAY" => true,
        _ => {
            return Err(malformed(format!(
                "unknown secure3dsecuritylevel {:?}",
                wire::clip(level)
            )));
        }
    };
    let outcome =
        bank_provisions.then(|| provision_outcome(&callback, authenticated, md_status, message));

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

/// The amount and currency of the callback, when the echoed `secure3dhash` proves them
/// (see the module documentation); `(None, None)` otherwise.
fn signed_terms(
    pos: &PosConfig,
    callback: &Verified<'_>,
    order_id: &str,
    terminal_id: &str,
    store_key: &str,
) -> (Option<MinorUnits>, Option<Currency>) {
    let posted = |name: &str| last(callback.fields, name).unwrap_or_default();
    let echoed = posted("secure3dhash").trim();
    if echoed.is_empty() || pos.password.is_empty() {
        return (None, None);
    }
    if posted("orderid").trim() != order_id || posted("terminalid").trim() != terminal_id {
        return (None, None);
    }
    let input = FormHashInput {
        terminal_id: posted("terminalid"),
        order_id: posted("orderid"),
        amount: posted("txnamount"),
        currency_code: posted("txncurrencycode"),
        success_url: posted("successurl"),
        error_url: posted("errorurl"),
        transaction_type: posted("txntype"),
        installment: posted("txninstallmentcount"),
    };
    let security = hash::security_data(pos.password.expose(), terminal_id);
    let echoed = echoed.to_ascii_uppercase();
    let (covers_currency, verified) = match echoed.len() {
        128 => (
            true,
            hash::constant_time_eq(
                echoed.as_bytes(),
                hash::form_hash(&input, store_key, &security).as_bytes(),
            ),
        ),
        40 => (
            false,
            hash::constant_time_eq(
                echoed.as_bytes(),
                hash::form_hash_v001(&input, store_key, &security).as_bytes(),
            ),
        ),
        _ => (false, false),
    };
    if !verified {
        return (None, None);
    }
    // A currency or amount that reads as nothing proves nothing either.
    let Some(currency) = Currency::from_numeric_code(input.currency_code.trim()) else {
        return (None, None);
    };
    let Some(amount) = wire::minor_from_hundredths(input.amount, currency) else {
        return (None, None);
    };
    // The legacy hash does not cover the currency: report it only when it is signed.
    (Some(amount), covers_currency.then_some(currency))
}

/// The provision result a `3D_PAY`/`3D_OOS_PAY` callback carries.
fn provision_outcome(
    callback: &Verified<'_>,
    authenticated: bool,
    md_status: Option<&str>,
    message: Option<&str>,
) -> Outcome {
    let proc_return_code = callback.signed("procreturncode");
    if authenticated
        && proc_return_code == Some("00")
        && callback.signed("response") == Some("Approved")
    {
        return Outcome::Approved(Approval {
            auth_code: callback.signed("authcode").map(str::to_owned),
            host_reference: callback.posted("hostrefnum").map(str::to_owned),
            transaction_id: None,
        });
    }
    let message = message.unwrap_or_default().to_owned();
    let decline = if !authenticated {
        // Authentication failed (or the gate reported an error): the bank did not provision.
        Decline {
            group: ErrorGroup::ThreedsAuthenticationFailed,
            code: format!("mdStatus:{}", md_status.unwrap_or_default()),
            message,
        }
    } else {
        match proc_return_code {
            Some(code) if code != "00" => wire::decline_from(code, "", &message),
            // Looks approved but not by the rule above (`response` disagreeing), or
            // authenticated without any result: not a fact we can act on as an approval.
            Some(code) => Decline {
                group: ErrorGroup::Unknown,
                code: code.to_owned(),
                message,
            },
            None => Decline {
                group: ErrorGroup::Unknown,
                code: String::new(),
                message,
            },
        }
    };
    Outcome::Declined(decline)
}
