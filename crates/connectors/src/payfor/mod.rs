//! Payfor connector: placeholder until the family lands (declares no capability).

use async_trait::async_trait;
use domain::enums::{ConnectorFamily, PosIntegrator};

use crate::{
    AuthorizeRequest, BankCredit, BrowserForm, CallbackError, Capabilities, CaptureRequest,
    Connector, ConnectorError, DefaultEndpoints, Outcome, PaymentSync, PosConfig, RefundRequest,
    ThreeDsAuthorizeRequest, ThreeDsInitRequest, ThreeDsResult, VoidRequest,
};

pub struct Payfor {
    #[allow(dead_code)]
    client: reqwest::Client,
}

impl Payfor {
    pub fn new(client: reqwest::Client) -> Payfor {
        Payfor { client }
    }
}

pub fn default_endpoints(_integrator: PosIntegrator, _production: bool) -> DefaultEndpoints {
    DefaultEndpoints {
        hostname: String::new(),
        path: String::new(),
        threeds_path: String::new(),
    }
}

#[async_trait]
impl Connector for Payfor {
    fn family(&self) -> ConnectorFamily {
        ConnectorFamily::Payfor
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
    async fn threeds_form(
        &self,
        _: &PosConfig,
        _: &ThreeDsInitRequest<'_>,
    ) -> Result<BrowserForm, ConnectorError> {
        Err(ConnectorError::Unsupported {
            operation: "threeds_form",
        })
    }
    fn parse_threeds_callback(
        &self,
        _: &PosConfig,
        _: &[(String, String)],
    ) -> Result<ThreeDsResult, CallbackError> {
        Err(CallbackError::Malformed("not implemented".into()))
    }
    async fn authorize_3d(
        &self,
        _: &PosConfig,
        _: &ThreeDsAuthorizeRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        Err(ConnectorError::Unsupported {
            operation: "authorize_3d",
        })
    }
}
