//! Akbank's JSON virtual POS (2024, `AkbankPos` in the reference library; Craftgate
//! `posIntegrator` `AKBANK_VPOS`, not to be confused with `AKBANK`, Akbank's older NestPay
//! POS). Reference: `vpos-protocols.md` §11, vectors in `vpos-test-vectors.md` §11 (from
//! mewebstudio/pos).
//!
//! Every operation is one JSON document POSTed to `…/api/v1/payment/virtualpos/transaction/
//! process` with `Content-Type: application/json` and `auth-hash: b64(HMAC-SHA512(secretKey,
//! body))` over the exact bytes sent ([`hash`]); the bank answers JSON (`responseCode`
//! `VPS-0000` = success), or HTTP 400 `{code, message}` when validation refuses the request.
//! `wire.rs` builds and reads them. 3D Secure (`3d` = `3D`, `3d_pay` = `3D_PAY`, `3d_host`
//! = `3D_PAY_HOSTING`): the browser form and the bank's callback are in `threeds.rs`; a `3d`
//! payment is then provisioned with `1000`/`1004` and the callback's `secureTransaction`.
//!
//! # Credentials
//!
//! | [`PosConfig`] | Akbank | example (reference library's test terminal) |
//! |---|---|---|
//! | `client_id` | `merchantSafeId` (32 characters) | `2023090417500272654BD9A49CF07574` |
//! | `terminal_id` | `terminalSafeId` (32 characters), required | `2023090417500284633D137A249DBBEB` |
//! | `store_key` (Craftgate `threedsKey`) | `secretKey`, the HMAC key of every request, form and callback, used as the ASCII characters issued (not hex-decoded) | `3230323330…` |
//! | `password` | `secretKey` too, when the POS has no `threedsKey` | |
//! | `username` | not used | |
//!
//! `subMerchantId` (payment facilitators) is not sent: Craftgate's POS has no field for it.
//!
//! # Operations
//!
//! Sale `1000` / pre-authorisation `1004` (card, `motoInd 0`), post-authorisation `1005`,
//! cancel `1003` (the order's last transaction, before end of day), refund `1002` (full or
//! partial, with the amount), and order history `1010` for both [`Connector::sync_payment`]
//! and [`Connector::sync_refunds`] (the bank has no separate status inquiry). Amounts are
//! strings with two decimals (`"100.25"`), `currencyCode` an integer (`949`), `installCount`
//! an integer, `1` for a single payment. Response codes and their error groups:
//! `wire::error_group`.

pub mod hash;
mod threeds;
mod wire;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod threeds_tests;

use async_trait::async_trait;
use domain::enums::{ConnectorFamily, PosIntegrator};

use crate::{
    AuthorizeRequest, BankCredit, BrowserForm, CallbackError, Capabilities, CaptureRequest,
    Connector, ConnectorError, DefaultEndpoints, Outcome, PaymentSync, PosConfig, RefundRequest,
    ThreeDsAuthorizeRequest, ThreeDsInitRequest, ThreeDsModel, ThreeDsResult, VoidRequest,
};

pub struct Akbank {
    client: reqwest::Client,
}

impl Akbank {
    pub fn new(client: reqwest::Client) -> Akbank {
        Akbank { client }
    }

    /// Signs and POSTs one body and parses the reply. Every failure here leaves the outcome
    /// unknown.
    async fn call(
        &self,
        pos: &PosConfig,
        credentials: wire::Credentials<'_>,
        operation: &'static str,
        order_id: &str,
        body: String,
    ) -> Result<wire::Reply, ConnectorError> {
        let started = std::time::Instant::now();
        let result = self.exchange(pos, credentials, body).await;
        match &result {
            Ok(reply) => tracing::debug!(
                connector = "akbank",
                operation,
                order_id,
                http_status = reply.status,
                response_code = reply.text("responseCode").as_str(),
                elapsed_ms = started.elapsed().as_millis(),
                "bank answered"
            ),
            Err(error) => tracing::warn!(
                connector = "akbank",
                operation,
                order_id,
                elapsed_ms = started.elapsed().as_millis(),
                %error,
                "bank call failed"
            ),
        }
        result
    }

    async fn exchange(
        &self,
        pos: &PosConfig,
        credentials: wire::Credentials<'_>,
        body: String,
    ) -> Result<wire::Reply, ConnectorError> {
        let signature = hash::auth_hash(credentials.secret_key, body.as_bytes());
        let request = self
            .client
            .post(&pos.api_url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("auth-hash", signature)
            .timeout(pos.timeout)
            .body(body);
        // 400 is the bank's validation refusal, with a JSON body; any other non-200 is not
        // an answer we can read.
        let (status, bytes) = crate::http::exchange_reading(
            request,
            |status| matches!(status.as_u16(), 200 | 400),
            wire::RESPONSE_BYTES_MAX,
        )
        .await?;
        wire::parse_reply(status.as_u16(), &bytes)
    }
}

/// The secret key of a POS: its `threedsKey`, else its API user's password.
pub(crate) fn secret_key(pos: &PosConfig) -> Option<&str> {
    pos.store_key
        .as_ref()
        .filter(|key| !key.is_empty())
        .or(Some(&pos.password).filter(|password| !password.is_empty()))
        .map(|key| key.expose())
}

/// The terminal and key of every request; refuses before sending when one is missing.
fn credentials<'a>(
    pos: &'a PosConfig,
    order_id: &str,
) -> Result<wire::Credentials<'a>, ConnectorError> {
    let terminal = pos
        .terminal_id
        .as_deref()
        .map(str::trim)
        .unwrap_or_default();
    let missing = [
        (pos.api_url.trim().is_empty(), "api url"),
        (pos.client_id.trim().is_empty(), "merchantSafeId (clientId)"),
        (terminal.is_empty(), "terminalSafeId (terminalId)"),
        (order_id.trim().is_empty(), "order id"),
    ];
    if let Some((_, what)) = missing.iter().find(|(is_missing, _)| *is_missing) {
        return Err(ConnectorError::Config(format!("missing {what}")));
    }
    let secret_key = secret_key(pos)
        .ok_or_else(|| ConnectorError::Config("missing secretKey (threedsKey)".into()))?;
    Ok(wire::Credentials {
        merchant_safe_id: pos.client_id.trim(),
        terminal_safe_id: terminal,
        secret_key,
    })
}

pub(crate) const TEST_API_HOST: &str = "https://apipre.akbank.com";
pub(crate) const PROD_API_HOST: &str = "https://api.akbank.com";
pub(crate) const TEST_GATE_HOST: &str = "https://virtualpospaymentgatewaypre.akbank.com";
pub(crate) const PROD_GATE_HOST: &str = "https://virtualpospaymentgateway.akbank.com";
pub(crate) const API_PATH: &str = "/api/v1/payment/virtualpos/transaction/process";
pub(crate) const GATE_PATH: &str = "/securepay";
pub(crate) const HOSTING_PATH: &str = "/payhosting";

/// Akbank's API host and paths (`vpos-protocols.md` §11.1). The 3D gate is on another host
/// (`virtualpospaymentgateway[pre].akbank.com/securepay`); a POS has one hostname, so
/// `threeds.rs` moves a gate URL on the API host to the gate host of the same environment.
pub fn default_endpoints(_integrator: PosIntegrator, production: bool) -> DefaultEndpoints {
    DefaultEndpoints {
        hostname: if production {
            PROD_API_HOST
        } else {
            TEST_API_HOST
        }
        .to_owned(),
        path: API_PATH.to_owned(),
        threeds_path: GATE_PATH.to_owned(),
    }
}

#[async_trait]
impl Connector for Akbank {
    fn family(&self) -> ConnectorFamily {
        ConnectorFamily::AkbankJson
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            threeds_models: &[
                ThreeDsModel::ThreeD,
                ThreeDsModel::ThreeDPay,
                ThreeDsModel::ThreeDHost,
            ],
            sale: true,
            pre_auth: true,
            post_auth: true,
            void: true,
            refund: true,
            partial_refund: true,
            sync_payment: true,
            sync_refund: true,
        }
    }

    async fn authorize(
        &self,
        pos: &PosConfig,
        request: &AuthorizeRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let credentials = credentials(pos, request.order_id)?;
        let card = request.card;
        let expiry = format!("{}{}", card.expiry.mm(), card.expiry.yy());
        let body = wire::authorize_body(
            credentials,
            &wire::Stamp::now(),
            request.kind,
            request.order_id,
            wire::Terms {
                amount: request.amount,
                currency: request.currency,
                installment: request.installment,
            },
            wire::Card {
                number: card.number.expose_number(),
                cvv: card
                    .cvc
                    .as_ref()
                    .map(|cvc| cvc.expose_cvc())
                    .unwrap_or_default(),
                expiry: &expiry,
            },
            request.client_ip,
        )?;
        let reply = self
            .call(pos, credentials, "authorize", request.order_id, body)
            .await?;
        wire::outcome(&reply)
    }

    async fn capture(
        &self,
        pos: &PosConfig,
        request: &CaptureRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let credentials = credentials(pos, request.order_id)?;
        let body = wire::capture_body(
            credentials,
            &wire::Stamp::now(),
            request.order_id,
            request.amount,
            request.currency,
            None,
        )?;
        let reply = self
            .call(pos, credentials, "capture", request.order_id, body)
            .await?;
        wire::outcome(&reply)
    }

    /// Cancel `1003`. Akbank cancels an order's last transaction, so cancelling a
    /// post-authorised pre-authorisation reverses the capture and reopens the hold
    /// (P11.34); a void means the whole order, so when the order history then shows an open
    /// pre-authorisation a second cancel releases it. The outcome is the first cancel's (the
    /// capture is reversed either way); a second cancel that fails is logged.
    async fn void(
        &self,
        pos: &PosConfig,
        request: &VoidRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let credentials = credentials(pos, request.order_id)?;
        let cancel = || async {
            let body = wire::void_body(credentials, &wire::Stamp::now(), request.order_id);
            let reply = self
                .call(pos, credentials, "void", request.order_id, body)
                .await?;
            wire::outcome(&reply)
        };
        let outcome = cancel().await?;
        if !matches!(outcome, Outcome::Approved(_)) {
            return Ok(outcome);
        }
        let reopened = matches!(
            self.sync_payment(pos, request.order_id).await,
            Ok(PaymentSync::Approved {
                state: crate::BankOrderState::PreAuthorized,
                ..
            })
        );
        if reopened {
            match cancel().await {
                Ok(Outcome::Approved(_)) => {}
                other => tracing::warn!(
                    connector = "akbank",
                    order_id = request.order_id,
                    result = ?other.map(|o| matches!(o, Outcome::Approved(_))),
                    "post-authorisation cancelled but its pre-authorisation is still open"
                ),
            }
        }
        Ok(outcome)
    }

    async fn refund(
        &self,
        pos: &PosConfig,
        request: &RefundRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let credentials = credentials(pos, request.order_id)?;
        let body = wire::refund_body(
            credentials,
            &wire::Stamp::now(),
            request.order_id,
            request.amount,
            request.currency,
        )?;
        let reply = self
            .call(pos, credentials, "refund", request.order_id, body)
            .await?;
        wire::outcome(&reply)
    }

    async fn sync_payment(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<PaymentSync, ConnectorError> {
        let credentials = credentials(pos, order_id)?;
        let body = wire::order_history_body(credentials, &wire::Stamp::now(), order_id);
        let reply = self
            .call(pos, credentials, "sync_payment", order_id, body)
            .await?;
        wire::payment_sync(&reply, order_id)
    }

    async fn sync_refunds(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<Vec<BankCredit>, ConnectorError> {
        let credentials = credentials(pos, order_id)?;
        let body = wire::order_history_body(credentials, &wire::Stamp::now(), order_id);
        let reply = self
            .call(pos, credentials, "sync_refunds", order_id, body)
            .await?;
        wire::bank_credits(&reply, order_id)
    }

    async fn threeds_form(
        &self,
        pos: &PosConfig,
        request: &ThreeDsInitRequest<'_>,
    ) -> Result<BrowserForm, ConnectorError> {
        threeds::form(pos, request, &wire::Stamp::now())
    }

    fn parse_threeds_callback(
        &self,
        pos: &PosConfig,
        fields: &[(String, String)],
    ) -> Result<ThreeDsResult, CallbackError> {
        let result = threeds::parse_callback(pos, fields);
        match &result {
            Ok(parsed) => tracing::debug!(
                connector = "akbank",
                order_id = parsed.order_id.as_str(),
                authenticated = parsed.authenticated,
                "3D callback verified"
            ),
            Err(error) => tracing::warn!(connector = "akbank", %error, "3D callback refused"),
        }
        result
    }

    /// The provision after a `3d` authentication: `1000` (`1004` for a pre-authorisation)
    /// with the request's amount and the callback's `secureTransaction` (`secureId` as
    /// `auth.xid`, `secureEcomInd` as `eci`, `secureData` as `cavv`, `secureMd` as `md`).
    async fn authorize_3d(
        &self,
        pos: &PosConfig,
        request: &ThreeDsAuthorizeRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let credentials = credentials(pos, request.order_id)?;
        let field = |value: &Option<String>, what: &str| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| ConnectorError::Config(format!("missing 3D {what}")))
        };
        let secure_md = field(&request.auth.md, "secureMd")?;
        let secure_id = field(&request.auth.xid, "secureId")?;
        let secure_ecom_ind = field(&request.auth.eci, "secureEcomInd")?;
        let secure_data = request.auth.cavv.clone().unwrap_or_default();
        let body = wire::provision_3d_body(
            credentials,
            &wire::Stamp::now(),
            request.kind,
            request.order_id,
            wire::Terms {
                amount: request.amount,
                currency: request.currency,
                installment: request.installment,
            },
            wire::Secure {
                secure_id: &secure_id,
                secure_ecom_ind: &secure_ecom_ind,
                secure_data: secure_data.trim(),
                secure_md: &secure_md,
            },
            request.client_ip,
        )?;
        let reply = self
            .call(pos, credentials, "authorize_3d", request.order_id, body)
            .await?;
        wire::outcome(&reply)
    }
}
