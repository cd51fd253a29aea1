//! InterPos (DenizBank "InterVPOS", `InterPos` in the reference library): DenizBank
//! (`DENIZBANK`). Reference: `vpos-protocols.md` §6, vectors in `vpos-test-vectors.md` §6
//! (from mewebstudio/pos).
//!
//! Every operation is one form-urlencoded POST to `…/mpi/Default.aspx`, answered by plain
//! text `Key=Value` pairs separated by `;;` (vector S6.1); `wire.rs` builds and reads them.
//! 3D Secure (`3d` = `3DModel`, `3d_pay` = `3DPay`, `3d_host` = `3DHost`): the browser form
//! and the bank's callback are in `threeds.rs`, their hashes in [`hash`]; a `3d` payment is
//! then provisioned with `SecureType=NonSecure` and the callback's `MD`, `PayerTxnId`,
//! `Eci` and `PayerAuthenticationCode`.
//!
//! # Credentials
//!
//! | [`PosConfig`] (merchant POS API field) | InterPos | example (bank test account) |
//! |---|---|---|
//! | `client_id` (`clientId`) | `ShopCode`, the merchant number | `3123` |
//! | `username` (`merchantPosUsers[].posUsername`) | `UserCode`, the API user | `InterTestApi` |
//! | `password` (`merchantPosUsers[].posPassword`) | `UserPass`, its password | `3` |
//! | `store_key` (`threedsKey`) | `MerchantPass`, the 3D key ("üye işyeri anahtarı") | `gDg1N` |
//! | `terminal_id` (`terminalId`) | not used: InterPos requests carry no terminal | |
//!
//! # Operations
//!
//! `Auth`/`PreAuth` (`SecureType=NonSecure`, with `CardType` from the card's BIN: `0` Visa,
//! `1` MasterCard, `2` Amex, `3` Troy; other schemes are refused before sending),
//! `PostAuth`, `Void` (the whole order, before end of day), `Refund` (full or partial,
//! always with `PurchAmount`), and `StatusHistory` for [`Connector::sync_payment`].
//! Follow-up operations name the order by `orgOrderId`. Amounts are major units with `.`
//! in requests (`100.25`, `10`) and a decimal comma in replies (`1,01`); currencies ISO 4217
//! numeric (`949`); `InstallmentCount` empty for a single payment. Result codes and their
//! error groups: `wire::error_group`.
//!
//! [`Connector::sync_refunds`] reads the same `StatusHistory` record: InterPos has no order
//! history (the reference library does not implement one), and the record gives only the
//! total refunded (`RefundedAmount`). The credits are therefore that total as one credit,
//! which proves a refund of unknown outcome only when it is the order's only refund; with
//! several partial refunds the engine cannot match one and keeps the refund unresolved
//! until its in-flight window passes.

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

pub struct Interpos {
    client: reqwest::Client,
}

impl Interpos {
    pub fn new(client: reqwest::Client) -> Interpos {
        Interpos { client }
    }

    /// POSTs one request body and parses the reply. Every failure here leaves the outcome
    /// unknown, except a configuration error found before anything was sent.
    async fn call(
        &self,
        pos: &PosConfig,
        operation: &'static str,
        order_id: &str,
        body: Vec<u8>,
    ) -> Result<wire::Reply, ConnectorError> {
        let started = std::time::Instant::now();
        let result = self.exchange(pos, body).await;
        match &result {
            Ok(reply) => tracing::debug!(
                connector = "interpos",
                operation,
                order_id,
                proc_return_code = reply.get("ProcReturnCode"),
                error_code = reply.get("ErrorCode"),
                elapsed_ms = started.elapsed().as_millis(),
                "bank answered"
            ),
            Err(error) => tracing::warn!(
                connector = "interpos",
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
        body: Vec<u8>,
    ) -> Result<wire::Reply, ConnectorError> {
        let request = self
            .client
            .post(&pos.api_url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .timeout(pos.timeout)
            .body(body);
        let bytes = crate::http::exchange(request, wire::RESPONSE_BYTES_MAX).await?;
        wire::parse_reply(&bytes)
    }
}

/// The sign-in fields of every request; refuses before sending when one is missing.
fn credentials<'a>(
    pos: &'a PosConfig,
    order_id: &str,
) -> Result<wire::Credentials<'a>, ConnectorError> {
    let missing = [
        (pos.api_url.trim().is_empty(), "api url"),
        (pos.client_id.trim().is_empty(), "shop code"),
        (pos.username.trim().is_empty(), "api user code"),
        (pos.password.is_empty(), "api password"),
        (order_id.trim().is_empty(), "order id"),
    ];
    if let Some((_, what)) = missing.iter().find(|(is_missing, _)| *is_missing) {
        return Err(ConnectorError::Config(format!("missing {what}")));
    }
    Ok(wire::Credentials {
        shop_code: pos.client_id.trim(),
        user_code: pos.username.trim(),
        user_pass: pos.password.expose(),
    })
}

const TEST_HOST: &str = "https://test.inter-vpos.com.tr";
const PROD_HOST: &str = "https://inter-vpos.com.tr";

/// DenizBank's InterVPOS host and paths (`vpos-protocols.md` §6): the API and the 3D gate
/// are the same page, `/mpi/Default.aspx`; the `3d_host` page (`/mpi/3DHost.aspx`) is
/// derived from the gate.
pub fn default_endpoints(_integrator: PosIntegrator, production: bool) -> DefaultEndpoints {
    DefaultEndpoints {
        hostname: if production { PROD_HOST } else { TEST_HOST }.to_owned(),
        path: "/mpi/Default.aspx".to_owned(),
        threeds_path: "/mpi/Default.aspx".to_owned(),
    }
}

#[async_trait]
impl Connector for Interpos {
    fn family(&self) -> ConnectorFamily {
        ConnectorFamily::Interpos
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
        let body = wire::authorize_request(credentials(pos, request.order_id)?, request).ok_or(
            ConnectorError::Unsupported {
                operation: "payment with this card scheme",
            },
        )?;
        let reply = self.call(pos, "authorize", request.order_id, body).await?;
        wire::outcome(&reply)
    }

    async fn capture(
        &self,
        pos: &PosConfig,
        request: &CaptureRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let body = wire::capture_request(credentials(pos, request.order_id)?, request);
        let reply = self.call(pos, "capture", request.order_id, body).await?;
        wire::outcome(&reply)
    }

    async fn void(
        &self,
        pos: &PosConfig,
        request: &VoidRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let body = wire::void_request(credentials(pos, request.order_id)?, request.order_id);
        let reply = self.call(pos, "void", request.order_id, body).await?;
        wire::outcome(&reply)
    }

    async fn refund(
        &self,
        pos: &PosConfig,
        request: &RefundRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let body = wire::refund_request(credentials(pos, request.order_id)?, request);
        let reply = self.call(pos, "refund", request.order_id, body).await?;
        wire::outcome(&reply)
    }

    async fn sync_payment(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<PaymentSync, ConnectorError> {
        let body = wire::status_request(credentials(pos, order_id)?, order_id);
        let reply = self.call(pos, "sync_payment", order_id, body).await?;
        wire::payment_sync(&reply)
    }

    async fn sync_refunds(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<Vec<BankCredit>, ConnectorError> {
        let body = wire::status_request(credentials(pos, order_id)?, order_id);
        let reply = self.call(pos, "sync_refunds", order_id, body).await?;
        wire::bank_credits(&reply)
    }

    async fn threeds_form(
        &self,
        pos: &PosConfig,
        request: &ThreeDsInitRequest<'_>,
    ) -> Result<BrowserForm, ConnectorError> {
        threeds::form(pos, request, &hash::new_rnd())
    }

    fn parse_threeds_callback(
        &self,
        pos: &PosConfig,
        fields: &[(String, String)],
    ) -> Result<ThreeDsResult, CallbackError> {
        let result = threeds::parse_callback(pos, fields);
        match &result {
            Ok(parsed) => tracing::debug!(
                connector = "interpos",
                order_id = parsed.order_id.as_str(),
                md_status = parsed.md_status.as_deref().unwrap_or_default(),
                "3D callback verified"
            ),
            Err(error) => tracing::warn!(connector = "interpos", %error, "3D callback refused"),
        }
        result
    }

    /// The provision of a `3DModel` authentication: the order again (amount, currency,
    /// installments) with the callback's `MD` and 3D values; the bank checks them against
    /// the authentication it recorded under `MD`.
    async fn authorize_3d(
        &self,
        pos: &PosConfig,
        request: &ThreeDsAuthorizeRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let credentials = credentials(pos, request.order_id)?;
        if request
            .auth
            .md
            .as_deref()
            .is_none_or(|md| md.trim().is_empty())
        {
            return Err(ConnectorError::Config("missing 3D MD".into()));
        }
        let body = wire::authorize_3d_request(credentials, request);
        let reply = self
            .call(pos, "authorize_3d", request.order_id, body)
            .await?;
        wire::outcome(&reply)
    }
}
