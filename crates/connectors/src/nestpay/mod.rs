//! NestPay / EST v3 (Asseco-Payten): İşbank, Halkbank, Ziraat, TEB, Şekerbank, Akbank
//! (legacy), Anadolubank, ING and Fibabanka's Asseco POS all speak it.
//!
//! Every operation is one `CC5Request` XML document POSTed to `…/fim/api`, answered by a
//! `CC5Response` (`wire.rs` builds and reads them). 3D Secure (`3d`, `3d_pay`, `3d_host`):
//! the browser form for `…/fim/est3Dgate` and the bank's callback are in `threeds.rs`, their
//! hashes in [`hash`]; a `3d` payment is then provisioned through the API with the
//! authentication's `md`/`xid`/`eci`/`cavv`. Reference: `vpos-protocols.md` §1, vectors in
//! `vpos-test-vectors.md` §1 (from mewebstudio/pos).

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

pub struct Nestpay {
    client: reqwest::Client,
}

impl Nestpay {
    pub fn new(client: reqwest::Client) -> Nestpay {
        Nestpay { client }
    }

    /// POSTs one request body and parses the reply. Every failure here leaves the outcome
    /// unknown, except a configuration error found before anything was sent.
    async fn call(
        &self,
        pos: &PosConfig,
        operation: &'static str,
        order_id: &str,
        body: Vec<u8>,
    ) -> Result<wire::Cc5Response, ConnectorError> {
        let started = std::time::Instant::now();
        let result = self.exchange(pos, body).await;
        match &result {
            Ok(response) => tracing::debug!(
                connector = "nestpay",
                operation,
                order_id,
                proc_return_code = response.proc_return_code.as_deref().unwrap_or_default(),
                elapsed_ms = started.elapsed().as_millis(),
                "bank answered"
            ),
            Err(error) => tracing::warn!(
                connector = "nestpay",
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
    ) -> Result<wire::Cc5Response, ConnectorError> {
        let request = self
            .client
            .post(&pos.api_url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/xml; charset=ISO-8859-9",
            )
            .timeout(pos.timeout)
            .body(body);
        let bytes = crate::http::exchange(request, wire::RESPONSE_BYTES_MAX).await?;
        wire::parse_response(&bytes)
    }
}

/// The sign-in fields of every request; refuses before sending when one is missing.
fn credentials<'a>(
    pos: &'a PosConfig,
    order_id: &str,
) -> Result<wire::Credentials<'a>, ConnectorError> {
    let missing = [
        (pos.api_url.trim().is_empty(), "api url"),
        (pos.client_id.trim().is_empty(), "client id"),
        (pos.username.trim().is_empty(), "api user name"),
        (pos.password.is_empty(), "api password"),
        (order_id.trim().is_empty(), "order id"),
    ];
    if let Some((_, what)) = missing.iter().find(|(is_missing, _)| *is_missing) {
        return Err(ConnectorError::Config(format!("missing {what}")));
    }
    Ok(wire::Credentials {
        name: &pos.username,
        password: pos.password.expose(),
        client_id: &pos.client_id,
    })
}

const THREEDS_PATH: &str = "/fim/est3Dgate";
const API_PATH: &str = "/fim/api";
/// Payten's generic test system; banks without their own test host use it.
const PAYTEN_TEST_HOST: &str = "https://entegrasyon.asseco-see.com.tr";

/// The bank's NestPay host for this integrator (`vpos-protocols.md` §1.1).
///
/// Fibabanka's Asseco POS has no published host, so it gets Payten's generic one in both
/// modes; a production merchant must set its real URL. Integrators of other families never
/// reach here through the registry and get the generic host too.
pub fn default_endpoints(integrator: PosIntegrator, production: bool) -> DefaultEndpoints {
    let hostname = if production {
        match integrator {
            PosIntegrator::Akbank => "https://www.sanalakpos.com",
            PosIntegrator::Isbank => "https://sanalpos.isbank.com.tr",
            PosIntegrator::Halkbank => "https://sanalpos.halkbank.com.tr",
            PosIntegrator::Teb => "https://sanalpos.teb.com.tr",
            PosIntegrator::Sekerbank => "https://sanalpos.sekerbank.com.tr",
            PosIntegrator::Ziraatbank => "https://sanalpos2.ziraatbank.com.tr",
            PosIntegrator::Anadolubank => "https://anadolusanalpos.est.com.tr",
            PosIntegrator::Ingbank => "https://sanalpos.ingbank.com.tr",
            PosIntegrator::FibabankAsseco
            | PosIntegrator::AkbankVpos
            | PosIntegrator::Denizbank
            | PosIntegrator::Enpara
            | PosIntegrator::Fibabank
            | PosIntegrator::Finansbank
            | PosIntegrator::Garanti
            | PosIntegrator::HalkbankVpos
            | PosIntegrator::IsbankVpos
            | PosIntegrator::Kuveytturk
            | PosIntegrator::Vakifbank
            | PosIntegrator::Vakifkatilim
            | PosIntegrator::Ykb
            | PosIntegrator::ZiraatbankInnova
            | PosIntegrator::Ziraatkatilim
            | PosIntegrator::Finanskatilim => PAYTEN_TEST_HOST,
        }
    } else {
        match integrator {
            PosIntegrator::Isbank => "https://istest.asseco-see.com.tr",
            PosIntegrator::Ziraatbank => "https://torus-stage-ziraat.asseco-see.com.tr",
            PosIntegrator::Akbank
            | PosIntegrator::Halkbank
            | PosIntegrator::Teb
            | PosIntegrator::Sekerbank
            | PosIntegrator::Anadolubank
            | PosIntegrator::Ingbank
            | PosIntegrator::FibabankAsseco
            | PosIntegrator::AkbankVpos
            | PosIntegrator::Denizbank
            | PosIntegrator::Enpara
            | PosIntegrator::Fibabank
            | PosIntegrator::Finansbank
            | PosIntegrator::Garanti
            | PosIntegrator::HalkbankVpos
            | PosIntegrator::IsbankVpos
            | PosIntegrator::Kuveytturk
            | PosIntegrator::Vakifbank
            | PosIntegrator::Vakifkatilim
            | PosIntegrator::Ykb
            | PosIntegrator::ZiraatbankInnova
            | PosIntegrator::Ziraatkatilim
            | PosIntegrator::Finanskatilim => PAYTEN_TEST_HOST,
        }
    };
    DefaultEndpoints {
        hostname: hostname.to_owned(),
        path: API_PATH.to_owned(),
        threeds_path: THREEDS_PATH.to_owned(),
    }
}

#[async_trait]
impl Connector for Nestpay {
    fn family(&self) -> ConnectorFamily {
        ConnectorFamily::Nestpay
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
        let response = self.call(pos, "authorize", request.order_id, body).await?;
        wire::outcome(&response)
    }

    async fn capture(
        &self,
        pos: &PosConfig,
        request: &CaptureRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let body = wire::capture_request(credentials(pos, request.order_id)?, request);
        let response = self.call(pos, "capture", request.order_id, body).await?;
        wire::outcome(&response)
    }

    async fn void(
        &self,
        pos: &PosConfig,
        request: &VoidRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let body = wire::void_request(credentials(pos, request.order_id)?, request.order_id);
        let response = self.call(pos, "void", request.order_id, body).await?;
        wire::outcome(&response)
    }

    async fn refund(
        &self,
        pos: &PosConfig,
        request: &RefundRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let body = wire::refund_request(credentials(pos, request.order_id)?, request);
        let response = self.call(pos, "refund", request.order_id, body).await?;
        wire::outcome(&response)
    }

    async fn sync_payment(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<PaymentSync, ConnectorError> {
        let body = wire::status_request(credentials(pos, order_id)?, order_id);
        let response = self.call(pos, "sync_payment", order_id, body).await?;
        wire::payment_sync(&response)
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
                connector = "nestpay",
                order_id = parsed.order_id.as_str(),
                md_status = parsed.md_status.as_deref().unwrap_or_default(),
                "3D callback verified"
            ),
            Err(error) => tracing::warn!(connector = "nestpay", %error, "3D callback refused"),
        }
        result
    }

    async fn authorize_3d(
        &self,
        pos: &PosConfig,
        request: &ThreeDsAuthorizeRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let credentials = credentials(pos, request.order_id)?;
        let md = request
            .auth
            .md
            .as_deref()
            .filter(|md| !md.trim().is_empty())
            .ok_or_else(|| ConnectorError::Config("missing 3D md".into()))?;
        let body = wire::authorize_3d_body(
            credentials,
            &wire::Authorize3dFields {
                kind: request.kind,
                order_id: request.order_id,
                amount: request.amount,
                currency: request.currency,
                installment: request.installment,
                client_ip: request.client_ip,
                md,
                xid: request.auth.xid.as_deref().unwrap_or_default(),
                eci: request.auth.eci.as_deref().unwrap_or_default(),
                cavv: request.auth.cavv.as_deref().unwrap_or_default(),
            },
        );
        let response = self
            .call(pos, "authorize_3d", request.order_id, body)
            .await?;
        wire::outcome(&response)
    }

    async fn sync_refunds(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<Vec<BankCredit>, ConnectorError> {
        let body = wire::history_request(credentials(pos, order_id)?, order_id);
        let response = self.call(pos, "sync_refunds", order_id, body).await?;
        wire::bank_credits(&response)
    }
}
