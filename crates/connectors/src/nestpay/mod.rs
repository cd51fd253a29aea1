//! NestPay / EST v3 (Asseco-Payten): İşbank, Halkbank, Ziraat, TEB, Şekerbank, Akbank legacy…
//! Placeholder until the connector lands.

use async_trait::async_trait;
use domain::enums::{ConnectorFamily, PosIntegrator};

use crate::{
    AuthorizeRequest, BankCredit, Capabilities, CaptureRequest, Connector, ConnectorError,
    DefaultEndpoints, Outcome, PaymentSync, PosConfig, RefundRequest, VoidRequest,
};

pub struct Nestpay {
    #[allow(dead_code)]
    client: reqwest::Client,
}

impl Nestpay {
    pub fn new(client: reqwest::Client) -> Nestpay {
        Nestpay { client }
    }
}

pub fn default_endpoints(_integrator: PosIntegrator, _production: bool) -> DefaultEndpoints {
    DefaultEndpoints {
        hostname: "https://entegrasyon.asseco-see.com.tr".into(),
        path: "/fim/api".into(),
        threeds_path: "/fim/est3Dgate".into(),
    }
}

#[async_trait]
impl Connector for Nestpay {
    fn family(&self) -> ConnectorFamily {
        ConnectorFamily::Nestpay
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    async fn authorize(
        &self,
        _: &PosConfig,
        _: &AuthorizeRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        Err(ConnectorError::Unsupported {
            operation: "authorize",
        })
    }
    async fn capture(
        &self,
        _: &PosConfig,
        _: &CaptureRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        Err(ConnectorError::Unsupported {
            operation: "capture",
        })
    }
    async fn void(&self, _: &PosConfig, _: &VoidRequest<'_>) -> Result<Outcome, ConnectorError> {
        Err(ConnectorError::Unsupported { operation: "void" })
    }
    async fn refund(
        &self,
        _: &PosConfig,
        _: &RefundRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        Err(ConnectorError::Unsupported {
            operation: "refund",
        })
    }
    async fn sync_payment(&self, _: &PosConfig, _: &str) -> Result<PaymentSync, ConnectorError> {
        Err(ConnectorError::Unsupported {
            operation: "sync_payment",
        })
    }
    async fn sync_refunds(
        &self,
        _: &PosConfig,
        _: &str,
    ) -> Result<Vec<BankCredit>, ConnectorError> {
        Err(ConnectorError::Unsupported {
            operation: "sync_refunds",
        })
    }
}
