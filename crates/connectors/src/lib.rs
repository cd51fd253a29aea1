//! Connectors: Orkestra's side of each bank's virtual-POS wire protocol.
//!
//! Principal types: the [`Connector`] trait (one plain async method per operation),
//! [`PosConfig`] (everything a connector needs about one merchant POS: endpoints and
//! credentials, passed in on every call so connectors stay stateless), [`Outcome`]
//! (approved or declined: facts from the bank) and [`ConnectorError`] (we do not know
//! what happened: the engine records the attempt as unknown and resolves it later with
//! [`Connector::sync_payment`]). [`Registry`] maps a [`ConnectorFamily`] to its connector.
//!
//! Connectors never touch the database and never decide business rules; they translate.

pub mod http;
pub mod nestpay;

use std::time::Duration;

use async_trait::async_trait;
use domain::card::CardDetails;
use domain::enums::{ConnectorFamily, ErrorGroup, PosIntegrator};
use domain::money::{Currency, MinorUnits};
use domain::secret::Secret;

/// One merchant POS as a connector sees it: where the bank is and how to sign in.
#[derive(Debug, Clone)]
pub struct PosConfig {
    pub integrator: PosIntegrator,
    /// Full URL of the bank's server-to-server API (NestPay: `…/fim/api`).
    pub api_url: String,
    /// Full URL of the bank's 3D Secure gate (NestPay: `…/fim/est3Dgate`).
    pub threeds_url: String,
    /// Merchant/store number at the bank (NestPay `ClientId`).
    pub client_id: String,
    pub terminal_id: Option<String>,
    /// API user name (NestPay `Name`).
    pub username: String,
    /// API password (NestPay `Password`).
    pub password: Secret,
    /// 3D store key (NestPay "işyeri anahtarı"); only 3D flows need it.
    pub store_key: Option<Secret>,
    /// How long one bank call may take before its outcome is treated as unknown.
    pub timeout: Duration,
}

/// Sale (`Auth`) or pre-authorisation (`PreAuth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizeKind {
    Sale,
    PreAuth,
}

#[derive(Debug, Clone)]
pub struct AuthorizeRequest<'a> {
    /// The bank order id of this attempt (unique per attempt, never reused).
    pub order_id: &'a str,
    pub kind: AuthorizeKind,
    pub amount: MinorUnits,
    pub currency: Currency,
    /// Installment count; `1` means a single payment.
    pub installment: u32,
    pub card: &'a CardDetails,
    pub client_ip: Option<&'a str>,
}

#[derive(Debug, Clone)]
pub struct CaptureRequest<'a> {
    pub order_id: &'a str,
    /// Amount to capture (post-auth).
    pub amount: MinorUnits,
    /// What was pre-authorised; banks want it when capturing a different amount.
    pub pre_auth_amount: MinorUnits,
    pub currency: Currency,
}

#[derive(Debug, Clone)]
pub struct VoidRequest<'a> {
    pub order_id: &'a str,
}

#[derive(Debug, Clone)]
pub struct RefundRequest<'a> {
    pub order_id: &'a str,
    pub amount: MinorUnits,
    pub currency: Currency,
}

/// What the bank said, as facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Approved(Approval),
    Declined(Decline),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Approval {
    pub auth_code: Option<String>,
    /// Bank reference / RRN (NestPay `HostRefNum`).
    pub host_reference: Option<String>,
    /// Bank transaction id (NestPay `TransId`).
    pub transaction_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decline {
    pub group: ErrorGroup,
    /// The bank's own code (NestPay `ProcReturnCode`, or `Extra.ERRORCODE` when more precise).
    pub code: String,
    /// The bank's own message, as it sent it.
    pub message: String,
}

/// The state of one order at the bank, from its status inquiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentSync {
    /// The bank has no record of the order: the attempt charged nothing.
    NotFound,
    /// The bank has the order, declined.
    Declined(Decline),
    /// The bank approved the order; `state` says what happened to it since.
    Approved {
        approval: Approval,
        state: BankOrderState,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BankOrderState {
    /// A sale, approved (captured).
    Captured,
    /// A pre-authorisation not yet captured.
    PreAuthorized,
    Voided,
    Refunded,
}

/// One credit (refund) the bank holds for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankCredit {
    pub amount: MinorUnits,
    pub approved: bool,
    pub transaction_id: Option<String>,
}

/// Which operations a connector really performs. A registry-wide test checks each
/// declared capability end to end against the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    pub sale: bool,
    pub pre_auth: bool,
    pub post_auth: bool,
    pub void: bool,
    pub refund: bool,
    pub partial_refund: bool,
    pub sync_payment: bool,
    pub sync_refund: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The request may have reached the bank but no answer came in time.
    #[error("bank did not answer in time")]
    Timeout,
    /// The connection failed or broke; the bank may or may not have acted.
    #[error("transport error: {0}")]
    Transport(String),
    /// The bank answered something we cannot read (HTML error page, truncated XML, HTTP 5xx).
    #[error("unreadable bank response: {0}")]
    BadResponse(String),
    /// The POS configuration cannot produce a request (missing credential); nothing was sent.
    #[error("pos configuration error: {0}")]
    Config(String),
    /// This connector does not implement the operation; nothing was sent.
    #[error("operation {operation} is not supported by this connector")]
    Unsupported { operation: &'static str },
}

impl ConnectorError {
    /// True when the request certainly never left: the bank cannot have acted on it.
    pub fn nothing_was_sent(&self) -> bool {
        matches!(
            self,
            ConnectorError::Config(_) | ConnectorError::Unsupported { .. }
        )
    }
}

/// A bank wire-protocol family. Every method is one bank operation; a decline is
/// `Ok(Outcome::Declined)`, and `Err` means the outcome is unknown.
#[async_trait]
pub trait Connector: Send + Sync {
    fn family(&self) -> ConnectorFamily;
    fn capabilities(&self) -> Capabilities;
    async fn authorize(
        &self,
        pos: &PosConfig,
        request: &AuthorizeRequest<'_>,
    ) -> Result<Outcome, ConnectorError>;
    async fn capture(
        &self,
        pos: &PosConfig,
        request: &CaptureRequest<'_>,
    ) -> Result<Outcome, ConnectorError>;
    async fn void(
        &self,
        pos: &PosConfig,
        request: &VoidRequest<'_>,
    ) -> Result<Outcome, ConnectorError>;
    async fn refund(
        &self,
        pos: &PosConfig,
        request: &RefundRequest<'_>,
    ) -> Result<Outcome, ConnectorError>;
    /// The bank's status inquiry for one order.
    async fn sync_payment(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<PaymentSync, ConnectorError>;
    /// Every credit the bank holds for one order (order history).
    async fn sync_refunds(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<Vec<BankCredit>, ConnectorError>;
}

/// Default bank endpoints for a POS, by integrator and mode (`TEST` or `PROD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultEndpoints {
    /// Scheme and host, e.g. `https://entegrasyon.asseco-see.com.tr`.
    pub hostname: String,
    pub path: String,
    pub threeds_path: String,
}

/// All connectors, built once at start-up around one shared HTTP client.
pub struct Registry {
    nestpay: nestpay::Nestpay,
}

impl Registry {
    pub fn new(client: reqwest::Client) -> Registry {
        Registry {
            nestpay: nestpay::Nestpay::new(client),
        }
    }

    pub fn get(&self, family: ConnectorFamily) -> &dyn Connector {
        match family {
            ConnectorFamily::Nestpay => &self.nestpay,
        }
    }

    pub fn all(&self) -> Vec<&dyn Connector> {
        vec![&self.nestpay]
    }

    /// The bank's real endpoints for this integrator in `TEST` or `PROD` mode.
    pub fn default_endpoints(
        integrator: PosIntegrator,
        production: bool,
    ) -> Option<DefaultEndpoints> {
        match integrator.family()? {
            ConnectorFamily::Nestpay => Some(nestpay::default_endpoints(integrator, production)),
        }
    }
}
