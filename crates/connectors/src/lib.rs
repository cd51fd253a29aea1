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

pub mod akbank;
pub mod garanti;
pub mod http;
pub mod interpos;
pub mod kuveyt;
pub mod nestpay;
pub mod payflex;
pub mod payfor;
pub mod posnet;

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

/// The bank's 3D Secure models (NestPay `storetype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ThreeDsModel {
    /// The bank authenticates; Orkestra then provisions server-to-server with the 3D data.
    #[serde(rename = "3d")]
    ThreeD,
    /// The bank authenticates and provisions; the callback carries the payment's result.
    #[serde(rename = "3d_pay")]
    ThreeDPay,
    /// The bank hosts the card form too; the callback carries the result.
    #[serde(rename = "3d_host")]
    ThreeDHost,
}

impl ThreeDsModel {
    pub fn as_str(self) -> &'static str {
        match self {
            ThreeDsModel::ThreeD => "3d",
            ThreeDsModel::ThreeDPay => "3d_pay",
            ThreeDsModel::ThreeDHost => "3d_host",
        }
    }

    pub fn parse(raw: &str) -> Option<ThreeDsModel> {
        match raw {
            "3d" => Some(ThreeDsModel::ThreeD),
            "3d_pay" => Some(ThreeDsModel::ThreeDPay),
            "3d_host" => Some(ThreeDsModel::ThreeDHost),
            _ => None,
        }
    }

    /// Whether the bank's callback already carries the payment's outcome.
    pub fn bank_provisions(self) -> bool {
        !matches!(self, ThreeDsModel::ThreeD)
    }
}

/// Starting a 3D Secure payment: what the shopper's browser must post to the bank.
#[derive(Debug, Clone)]
pub struct ThreeDsInitRequest<'a> {
    pub order_id: &'a str,
    pub kind: AuthorizeKind,
    pub model: ThreeDsModel,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub installment: u32,
    /// Required for `3d` and `3d_pay`; the bank's own page collects it for `3d_host`.
    pub card: Option<&'a CardDetails>,
    /// Orkestra's URL the bank posts the result back to (as both its ok and fail URL).
    pub callback_url: &'a str,
    /// `tr` or `en`, for the bank's pages.
    pub lang: &'a str,
    pub client_ip: Option<&'a str>,
}

/// An HTML form the shopper's browser posts (method POST) to `action`.
#[derive(Clone, PartialEq, Eq)]
pub struct BrowserForm {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

impl std::fmt::Debug for BrowserForm {
    // The fields may hold the card number and CVC (3d/3d_pay forms): never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserForm")
            .field("action", &self.action)
            .field("fields", &self.fields.len())
            .finish()
    }
}

/// What a 3D-model provision needs from the authentication (NestPay: md, xid, eci, cavv).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ThreeDsAuthData {
    pub md: Option<String>,
    pub xid: Option<String>,
    pub eci: Option<String>,
    pub cavv: Option<String>,
}

/// A bank's 3D callback after its signature was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreeDsResult {
    /// The order id the bank reports (must equal the attempt's).
    pub order_id: String,
    /// The family's accepted authentication result (NestPay: `mdStatus == "1"`).
    pub authenticated: bool,
    pub md_status: Option<String>,
    /// The amount and currency the bank reports (checked against the attempt).
    pub amount: Option<MinorUnits>,
    pub currency: Option<Currency>,
    pub auth: ThreeDsAuthData,
    /// For `3d_pay` and `3d_host`: the bank's provision result.
    pub outcome: Option<Outcome>,
    /// The bank's message (mdErrorMsg / ErrMsg), for the payment's error.
    pub message: Option<String>,
}

/// Why a 3D callback was refused. Nothing in it may be trusted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallbackError {
    #[error("callback signature does not verify")]
    BadSignature,
    #[error("callback lacks {0}")]
    MissingField(&'static str),
    #[error("callback is malformed: {0}")]
    Malformed(String),
    #[error("pos has no 3D store key")]
    NoStoreKey,
}

/// Provisioning a payment after 3D authentication (`3d` model).
#[derive(Debug, Clone)]
pub struct ThreeDsAuthorizeRequest<'a> {
    pub order_id: &'a str,
    pub kind: AuthorizeKind,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub installment: u32,
    pub auth: &'a ThreeDsAuthData,
    pub client_ip: Option<&'a str>,
}

/// Which operations a connector really performs. A registry-wide test checks each
/// declared capability end to end against the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// The 3D Secure models the connector implements (empty: none).
    pub threeds_models: &'static [ThreeDsModel],
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
    /// No connection to the bank could be made (refused, no route, TLS handshake failed):
    /// the request never left.
    #[error("bank unreachable: {0}")]
    Unreachable(String),
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
            ConnectorError::Config(_)
                | ConnectorError::Unsupported { .. }
                | ConnectorError::Unreachable(_)
        )
    }

    /// True when the bank's HTTP answer came back (unreadable or an error status): the
    /// request is no longer in flight, so a status inquiry that finds no order proves the
    /// bank did not act on it. After a timeout or a broken connection it proves nothing yet.
    pub fn answer_received(&self) -> bool {
        matches!(self, ConnectorError::BadResponse(_))
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
    /// The form that sends the shopper's browser to the bank's 3D gate.
    async fn threeds_form(
        &self,
        pos: &PosConfig,
        request: &ThreeDsInitRequest<'_>,
    ) -> Result<BrowserForm, ConnectorError>;
    /// Verifies the bank's 3D callback (signature first, with the POS's store key) and
    /// reads it.
    fn parse_threeds_callback(
        &self,
        pos: &PosConfig,
        fields: &[(String, String)],
    ) -> Result<ThreeDsResult, CallbackError>;
    /// Whether the `3d` provision must follow the callback at once: the callback's MD then
    /// carries something that must not be kept (PayFlex: the sealed card the VPOS wants
    /// again), so the engine provisions from memory and never stores the MD.
    fn provisions_at_callback(&self) -> bool {
        false
    }
    /// Provisions a payment authenticated with the `3d` model.
    async fn authorize_3d(
        &self,
        pos: &PosConfig,
        request: &ThreeDsAuthorizeRequest<'_>,
    ) -> Result<Outcome, ConnectorError>;
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
    garanti: garanti::Garanti,
    posnet: posnet::Posnet,
    payfor: payfor::Payfor,
    interpos: interpos::Interpos,
    akbank: akbank::Akbank,
    kuveyt: kuveyt::Kuveyt,
    payflex: payflex::Payflex,
}

impl Registry {
    pub fn new(client: reqwest::Client) -> Registry {
        Registry {
            nestpay: nestpay::Nestpay::new(client.clone()),
            garanti: garanti::Garanti::new(client.clone()),
            posnet: posnet::Posnet::new(client.clone()),
            payfor: payfor::Payfor::new(client.clone()),
            interpos: interpos::Interpos::new(client.clone()),
            akbank: akbank::Akbank::new(client.clone()),
            kuveyt: kuveyt::Kuveyt::new(client.clone()),
            payflex: payflex::Payflex::new(client),
        }
    }

    pub fn get(&self, family: ConnectorFamily) -> &dyn Connector {
        match family {
            ConnectorFamily::Nestpay => &self.nestpay,
            ConnectorFamily::Garanti => &self.garanti,
            ConnectorFamily::Posnet => &self.posnet,
            ConnectorFamily::Payfor => &self.payfor,
            ConnectorFamily::Interpos => &self.interpos,
            ConnectorFamily::AkbankJson => &self.akbank,
            ConnectorFamily::Kuveyt => &self.kuveyt,
            ConnectorFamily::Payflex => &self.payflex,
        }
    }

    pub fn all(&self) -> Vec<&dyn Connector> {
        vec![
            &self.nestpay,
            &self.garanti,
            &self.posnet,
            &self.payfor,
            &self.interpos,
            &self.akbank,
            &self.kuveyt,
            &self.payflex,
        ]
    }

    /// The bank's real endpoints for this integrator in `TEST` or `PROD` mode.
    pub fn default_endpoints(
        integrator: PosIntegrator,
        production: bool,
    ) -> Option<DefaultEndpoints> {
        match integrator.family()? {
            ConnectorFamily::Nestpay => Some(nestpay::default_endpoints(integrator, production)),
            ConnectorFamily::Garanti => Some(garanti::default_endpoints(integrator, production)),
            ConnectorFamily::Posnet => Some(posnet::default_endpoints(integrator, production)),
            ConnectorFamily::Payfor => Some(payfor::default_endpoints(integrator, production)),
            ConnectorFamily::Interpos => Some(interpos::default_endpoints(integrator, production)),
            ConnectorFamily::AkbankJson => Some(akbank::default_endpoints(integrator, production)),
            ConnectorFamily::Kuveyt => Some(kuveyt::default_endpoints(integrator, production)),
            ConnectorFamily::Payflex => Some(payflex::default_endpoints(integrator, production)),
        }
    }
}
