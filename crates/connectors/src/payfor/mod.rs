//! PayFor (Cordis "PayFor", `PayForPos` in the reference library): QNB Finansbank
//! (`FINANSBANK`), Enpara (`ENPARA`, a QNB brand on the same POS) and Ziraat Katılım
//! (`ZIRAATKATILIM`). Reference: `vpos-protocols.md` §5, vectors in `vpos-test-vectors.md`
//! §5 (from mewebstudio/pos).
//!
//! Every operation is one `PayforRequest` XML document (UTF-8) POSTed to
//! `…/Gateway/XMLGate.aspx` (`…/Mpi/XMLGate.aspx` for Ziraat Katılım), answered by a flat
//! `PayforResponse` (an order history by a `TxnHistoryReport`); `wire.rs` builds and reads
//! them. 3D Secure (`3d` = `3DModel`, `3d_pay` = `3DPay`, `3d_host` = `3DHost`): the browser
//! form and the bank's callback are in `threeds.rs`, their hashes in [`hash`]; a `3d`
//! payment is then provisioned with `SecureType=3DModelPayment` and the callback's
//! `RequestGuid`.
//!
//! # Credentials
//!
//! | [`PosConfig`] | PayFor | example (bank test account) |
//! |---|---|---|
//! | `client_id` | `MerchantId` (`MerchantID` on forms), the merchant number | `085300000009704` |
//! | `username` | `UserCode`, the API user | `QNB_API_KULLANICI_3DPAY` |
//! | `password` | `UserPass`, its password | `UcBN0` |
//! | `store_key` | `MerchantPass`, the 3D key ("üye işyeri anahtarı") | `12345678` |
//! | `terminal_id` | not used: PayFor requests carry no terminal (replies name it, `TerminalID`) | |
//! | `integrator` | `MbrId`: `ZIRAATKATILIM` → `12`, `FINANSBANK`/`ENPARA` → `5` | |
//!
//! # Operations
//!
//! `Auth`/`PreAuth` (`SecureType=NonSecure`), `PostAuth`, `Void` (the whole order, before
//! end of day), `Refund` (full or partial, always with `PurchAmount`; the bank refuses it
//! before end of day with `V014`), `OrderInquiry` for [`Connector::sync_payment`], and
//! `TxnHistory` by order for [`Connector::sync_refunds`]. Amounts are major units with `.`
//! (`100.01`, `5`), currencies ISO 4217 numeric (`949`), `InstallmentCount` `0` for a
//! single payment. Result codes and their error groups: `wire::error_group`.

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

pub struct Payfor {
    client: reqwest::Client,
}

impl Payfor {
    pub fn new(client: reqwest::Client) -> Payfor {
        Payfor { client }
    }

    /// POSTs one request body and parses the reply. Every failure here leaves the outcome
    /// unknown, except a configuration error found before anything was sent.
    async fn call(
        &self,
        pos: &PosConfig,
        operation: &'static str,
        order_id: &str,
        body: Vec<u8>,
    ) -> Result<wire::Document, ConnectorError> {
        let started = std::time::Instant::now();
        let result = self.exchange(pos, body).await;
        match &result {
            Ok(document) => tracing::debug!(
                connector = "payfor",
                operation,
                order_id,
                proc_return_code = document.fields.get("ProcReturnCode"),
                records = document.records.len(),
                elapsed_ms = started.elapsed().as_millis(),
                "bank answered"
            ),
            Err(error) => tracing::warn!(
                connector = "payfor",
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
    ) -> Result<wire::Document, ConnectorError> {
        let request = self
            .client
            .post(&pos.api_url)
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=UTF-8")
            .timeout(pos.timeout)
            .body(body);
        let bytes = crate::http::exchange(request, wire::RESPONSE_BYTES_MAX).await?;
        wire::parse_document(&bytes)
    }
}

/// The sign-in fields of every request; refuses before sending when one is missing.
fn credentials<'a>(
    pos: &'a PosConfig,
    order_id: &str,
) -> Result<wire::Credentials<'a>, ConnectorError> {
    let missing = [
        (pos.api_url.trim().is_empty(), "api url"),
        (pos.client_id.trim().is_empty(), "merchant id"),
        (pos.username.trim().is_empty(), "api user code"),
        (pos.password.is_empty(), "api password"),
        (order_id.trim().is_empty(), "order id"),
    ];
    if let Some((_, what)) = missing.iter().find(|(is_missing, _)| *is_missing) {
        return Err(ConnectorError::Config(format!("missing {what}")));
    }
    Ok(wire::Credentials {
        merchant_id: pos.client_id.trim(),
        user_code: pos.username.trim(),
        user_pass: pos.password.expose(),
        mbr_id: threeds::mbr_id(pos.integrator),
    })
}

const QNB_TEST_HOST: &str = "https://vpostest.qnbfinansbank.com";
const QNB_PROD_HOST: &str = "https://vpos.qnbfinansbank.com";
const ZIRAAT_KATILIM_TEST_HOST: &str = "https://payfortestziraatkatilim.cordisnetwork.com";
const ZIRAAT_KATILIM_PROD_HOST: &str = "https://vpos.ziraatkatilim.com.tr";

/// The bank's PayFor host and paths for this integrator (`vpos-protocols.md` §5.1):
/// QNB Finansbank and Enpara under `/Gateway/`, Ziraat Katılım under `/Mpi/`. The 3D path
/// is the gate (`Default.aspx`); the `3d_host` page (`3DHost.aspx`) is derived from it.
/// Integrators of other families never reach here through the registry and get QNB's.
pub fn default_endpoints(integrator: PosIntegrator, production: bool) -> DefaultEndpoints {
    let (hostname, prefix) = match (integrator, production) {
        (PosIntegrator::Ziraatkatilim, false) => (ZIRAAT_KATILIM_TEST_HOST, "/Mpi"),
        (PosIntegrator::Ziraatkatilim, true) => (ZIRAAT_KATILIM_PROD_HOST, "/Mpi"),
        (_, false) => (QNB_TEST_HOST, "/Gateway"),
        (_, true) => (QNB_PROD_HOST, "/Gateway"),
    };
    DefaultEndpoints {
        hostname: hostname.to_owned(),
        path: format!("{prefix}/XMLGate.aspx"),
        threeds_path: format!("{prefix}/Default.aspx"),
    }
}

#[async_trait]
impl Connector for Payfor {
    fn family(&self) -> ConnectorFamily {
        ConnectorFamily::Payfor
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
        let body = wire::authorize_request(credentials(pos, request.order_id)?, request);
        let document = self.call(pos, "authorize", request.order_id, body).await?;
        wire::outcome(&document)
    }

    async fn capture(
        &self,
        pos: &PosConfig,
        request: &CaptureRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let body = wire::capture_request(credentials(pos, request.order_id)?, request);
        let document = self.call(pos, "capture", request.order_id, body).await?;
        wire::outcome(&document)
    }

    async fn void(
        &self,
        pos: &PosConfig,
        request: &VoidRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let body = wire::void_request(credentials(pos, request.order_id)?, request.order_id);
        let document = self.call(pos, "void", request.order_id, body).await?;
        wire::outcome(&document)
    }

    async fn refund(
        &self,
        pos: &PosConfig,
        request: &RefundRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let body = wire::refund_request(credentials(pos, request.order_id)?, request);
        let document = self.call(pos, "refund", request.order_id, body).await?;
        wire::outcome(&document)
    }

    async fn sync_payment(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<PaymentSync, ConnectorError> {
        let body = wire::status_request(credentials(pos, order_id)?, order_id);
        let document = self.call(pos, "sync_payment", order_id, body).await?;
        wire::payment_sync(&document)
    }

    async fn sync_refunds(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<Vec<BankCredit>, ConnectorError> {
        let body = wire::history_request(credentials(pos, order_id)?, order_id);
        let document = self.call(pos, "sync_refunds", order_id, body).await?;
        wire::bank_credits(&document)
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
                connector = "payfor",
                order_id = parsed.order_id.as_str(),
                md_status = parsed.md_status.as_deref().unwrap_or_default(),
                "3D callback verified"
            ),
            Err(error) => tracing::warn!(connector = "payfor", %error, "3D callback refused"),
        }
        result
    }

    /// `3DModelPayment`: only the callback's `RequestGuid` (carried in `auth.md`), the API
    /// user and the order id go to the bank, which takes amount, currency, installments and
    /// card from the authenticated 3D session; the request's own amount is not sent.
    async fn authorize_3d(
        &self,
        pos: &PosConfig,
        request: &ThreeDsAuthorizeRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let credentials = credentials(pos, request.order_id)?;
        let request_guid = request
            .auth
            .md
            .as_deref()
            .map(str::trim)
            .filter(|guid| !guid.is_empty())
            .ok_or_else(|| ConnectorError::Config("missing 3D RequestGuid".into()))?;
        let body = wire::authorize_3d_body(
            credentials.user_code,
            credentials.user_pass,
            request_guid,
            request.order_id,
        );
        let document = self
            .call(pos, "authorize_3d", request.order_id, body)
            .await?;
        wire::outcome(&document)
    }
}
