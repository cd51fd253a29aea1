//! Kuveyt Türk virtual POS (BOA, `APIVersion` TDV2.0.0; `KuveytPos` in the reference
//! library): Kuveyt Türk (`KUVEYTTURK`). Reference: `vpos-protocols.md` §7, vectors in
//! `vpos-test-vectors.md` §7 (from mewebstudio/pos).
//!
//! Payments are `KuveytTurkVPosMessage` XML posts to the gates under the POS's API URL
//! (`…/Home`): `Non3DPayGate` (sale without 3D Secure) and `ThreeDModelProvisionGate` (the
//! provision after 3D); the 3D enrolment goes to the POS's 3D URL (`…/Home/ThreeDModelPayGate`),
//! see `threeds.rs`. Cancel, refunds and the status inquiry are SOAP 1.1 calls to the bank's
//! `VirtualPosService` (`soap_url`). Hashes in [`hash`], formats in `wire.rs`.
//!
//! # Credentials
//!
//! | [`PosConfig`] (merchant POS API field) | Kuveyt Türk | example (bank test account) |
//! |---|---|---|
//! | `client_id` (`clientId`) | `MerchantId`, the merchant number | `80` |
//! | `terminal_id` (`terminalId`) | `CustomerId`, the merchant's customer number | `400235` |
//! | `username` (`merchantPosUsers[].posUsername`) | `UserName`, the API user | `apiuser` |
//! | `password` (`merchantPosUsers[].posPassword`) | the API user's password (sent only hashed; it also keys the 3D callback's hash) | `Api123` |
//! | `store_key` (`threedsKey`) | not used: Kuveyt Türk has no separate 3D key | |
//!
//! # Operations
//!
//! * Sale without 3D (`TransactionSecurity=1`) and the `3d` model (`TransactionSecurity=3`).
//!   The bank offers sales only (the reference library implements no pre-authorisation), so
//!   pre-auth and post-auth are not declared; they are refused before anything is sent.
//! * Cancel (`SaleReversal`, the whole order on its day), refund (`DrawBack` for the whole
//!   order, `PartialDrawback` for part of it; the bank refunds only after end of day), and
//!   the status inquiry (`GetMerchantOrderDetail`) for [`Connector::sync_payment`].
//! * Amounts are integer minor units (`1001`), currencies `0949` TRY, `0840` USD, `0978`
//!   EUR (other currencies are refused before sending), installments `0` for a single
//!   payment. Result codes and their error groups: `wire::error_group`.
//!
//! The SOAP operations name the order by the bank's own references (`OrderId`, `RRN`,
//! `Stan`, `ProvisionNumber`), which Orkestra does not store; a cancel or refund therefore
//! first reads them with a status inquiry (a read, which moves no money). When that
//! inquiry fails, the cancel or refund was never sent, so it is reported as
//! [`ConnectorError::Unreachable`]; when the bank has no approved order, as a decline.
//!
//! [`Connector::sync_refunds`] reads the same status record, which gives only the total
//! refunded (`DrawbackAmount`): the credits are that total as one credit (as InterPos).

pub mod hash;
mod threeds;
mod wire;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod threeds_tests;

use async_trait::async_trait;
use chrono::{Duration, FixedOffset, Offset as _, Utc};
use domain::enums::{ConnectorFamily, ErrorGroup, PosIntegrator};
use domain::money::Currency;

use crate::{
    AuthorizeKind, AuthorizeRequest, BankCredit, BrowserForm, CallbackError, Capabilities,
    CaptureRequest, Connector, ConnectorError, Decline, DefaultEndpoints, Outcome, PaymentSync,
    PosConfig, RefundRequest, ThreeDsAuthorizeRequest, ThreeDsInitRequest, ThreeDsModel,
    ThreeDsResult, VoidRequest,
};
use wire::{CardFields, Credentials, OrderFields, SoapOp};

pub struct Kuveyt {
    client: reqwest::Client,
}

/// How a body is posted.
#[derive(Debug, Clone, Copy)]
enum Transport {
    /// A payment gate: plain XML.
    Gate,
    /// The SOAP service, with this operation's `SOAPAction`.
    Soap(SoapOp),
}

impl Kuveyt {
    pub fn new(client: reqwest::Client) -> Kuveyt {
        Kuveyt { client }
    }

    /// POSTs one body and returns the reply's bytes. Every failure here leaves the outcome
    /// unknown, except a configuration error found before anything was sent.
    async fn call(
        &self,
        pos: &PosConfig,
        url: &str,
        transport: Transport,
        operation: &'static str,
        order_id: &str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, ConnectorError> {
        let started = std::time::Instant::now();
        let result = self.exchange(pos, url, transport, body).await;
        match &result {
            Ok(reply) => tracing::debug!(
                connector = "kuveyt",
                operation,
                order_id,
                reply_bytes = reply.len(),
                elapsed_ms = started.elapsed().as_millis(),
                "bank answered"
            ),
            Err(error) => tracing::warn!(
                connector = "kuveyt",
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
        url: &str,
        transport: Transport,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, ConnectorError> {
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=UTF-8")
            .timeout(pos.timeout)
            .body(body);
        if let Transport::Soap(op) = transport {
            request = request.header("SOAPAction", op.soap_action());
        }
        // SOAP faults come as HTTP 500: either way the outcome is unknown.
        crate::http::exchange(request, wire::RESPONSE_BYTES_MAX).await
    }

    /// The status record of one order (`GetMerchantOrderDetail`).
    async fn order_detail(
        &self,
        pos: &PosConfig,
        operation: &'static str,
        order_id: &str,
    ) -> Result<wire::Node, ConnectorError> {
        let credentials = credentials(pos, order_id)?;
        let url = soap_url(&pos.api_url)?;
        let (start, end) = status_window();
        let body = wire::status_body(credentials, order_id, &start, &end);
        let op = SoapOp::GetMerchantOrderDetail;
        let reply = self
            .call(pos, &url, Transport::Soap(op), operation, order_id, body)
            .await?;
        wire::parse_soap(&reply, op)
    }

    /// The bank's references of an approved order, read before a cancel or refund (see the
    /// module documentation): `Err(Ok(decline))` when the bank has no approved order.
    async fn approved_order(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<Result<wire::OrderRecord, Decline>, ConnectorError> {
        let result = match self.order_detail(pos, "order_lookup", order_id).await {
            Ok(result) => result,
            Err(error) if error.nothing_was_sent() => return Err(error),
            // The cancel or refund itself was never sent.
            Err(error) => {
                return Err(ConnectorError::Unreachable(format!(
                    "order lookup before the operation failed: {error}"
                )));
            }
        };
        let record = wire::order_record(&result, order_id).map_err(|error| {
            ConnectorError::Unreachable(format!("order lookup before the operation: {error}"))
        })?;
        Ok(match record {
            Some(record) if record.response_code == "00" && !record.refs.order_id.is_empty() => {
                Ok(record)
            }
            Some(record) => Err(Decline {
                group: ErrorGroup::InvalidTransaction,
                code: "OrderDataNotFound".into(),
                message: format!(
                    "the bank's order is not approved ({})",
                    wire::clip(&record.response_code)
                ),
            }),
            None => Err(Decline {
                group: ErrorGroup::InvalidTransaction,
                code: "OrderDataNotFound".into(),
                message: "the bank has no such order".into(),
            }),
        })
    }

    async fn reversal(
        &self,
        pos: &PosConfig,
        op: SoapOp,
        order_id: &str,
        record: &wire::OrderRecord,
        amount: domain::money::MinorUnits,
        currency: Currency,
    ) -> Result<Outcome, ConnectorError> {
        let operation = if op == SoapOp::SaleReversal {
            "void"
        } else {
            "refund"
        };
        let credentials = credentials(pos, order_id)?;
        let url = soap_url(&pos.api_url)?;
        let body = wire::reversal_body(
            credentials,
            op,
            order_id,
            &record.refs,
            amount,
            currency_code(currency)?,
        );
        let reply = self
            .call(pos, &url, Transport::Soap(op), operation, order_id, body)
            .await?;
        wire::soap_outcome(&wire::parse_soap(&reply, op)?, order_id)
    }
}

/// The sign-in fields of every request; refuses before sending when one is missing.
fn credentials<'a>(pos: &'a PosConfig, order_id: &str) -> Result<Credentials<'a>, ConnectorError> {
    let customer_id = pos.terminal_id.as_deref().unwrap_or_default().trim();
    let missing = [
        (pos.api_url.trim().is_empty(), "api url"),
        (pos.client_id.trim().is_empty(), "merchant id"),
        (customer_id.is_empty(), "customer id (terminal id)"),
        (pos.username.trim().is_empty(), "api user name"),
        (pos.password.is_empty(), "api password"),
        (order_id.trim().is_empty(), "order id"),
    ];
    if let Some((_, what)) = missing.iter().find(|(is_missing, _)| *is_missing) {
        return Err(ConnectorError::Config(format!("missing {what}")));
    }
    Ok(Credentials {
        merchant_id: pos.client_id.trim(),
        customer_id,
        user_name: pos.username.trim(),
        password: pos.password.expose(),
    })
}

/// The request currency code, or a refusal before sending.
pub(crate) fn currency_code(currency: Currency) -> Result<&'static str, ConnectorError> {
    wire::currency_code(currency).ok_or(ConnectorError::Unsupported {
        operation: "payment in this currency",
    })
}

/// A payment gate's URL: the POS's API URL (`…/Home`) and the gate's name.
fn gate_url(api_url: &str, gate: &str) -> String {
    format!("{}/{gate}", api_url.trim().trim_end_matches('/'))
}

/// The SOAP service's path, relative to the host's root.
const SOAP_PATH: &str =
    "/BOA.Integration.WCFService/BOA.Integration.VirtualPos/VirtualPosService.svc/Basic";

/// The production payment host, and the host of its SOAP service (the bank splits them).
const PROD_PAYMENT_ORIGIN: &str = "https://sanalpos.kuveytturk.com.tr";
const PROD_SOAP_ORIGIN: &str = "https://boa.kuveytturk.com.tr";

/// The SOAP service's URL: the API URL (`{root}/{application}/Home`) with its last two
/// path segments replaced by the service's path — the bank's test host and the simulator
/// serve both from one root; the production payment host's service lives on
/// `boa.kuveytturk.com.tr` (`vpos-protocols.md` §7.1).
pub(crate) fn soap_url(api_url: &str) -> Result<String, ConnectorError> {
    let url = api_url.trim().trim_end_matches('/');
    let root = url
        .rsplit_once('/')
        .and_then(|(rest, _)| rest.rsplit_once('/'))
        .map(|(root, _)| root)
        .filter(|root| root.contains("://") && !root.ends_with('/') && !root.ends_with(':'))
        .ok_or_else(|| {
            ConnectorError::Config("api url must end with /{application}/Home".into())
        })?;
    let root = if root.eq_ignore_ascii_case(PROD_PAYMENT_ORIGIN) {
        PROD_SOAP_ORIGIN
    } else {
        root
    };
    Ok(format!("{root}{SOAP_PATH}"))
}

/// The order-date window of a status inquiry: a year back to a day ahead, in Turkish time
/// (`YYYY-MM-DDTHH:MM:SS`). Orkestra's order ids are unique, so the window only bounds the
/// bank's search.
fn status_window() -> (String, String) {
    let turkey = FixedOffset::east_opt(3 * 3600).unwrap_or_else(|| Utc.fix());
    let now = Utc::now().with_timezone(&turkey);
    let format = "%Y-%m-%dT%H:%M:%S";
    (
        (now - Duration::days(365)).format(format).to_string(),
        (now + Duration::days(1)).format(format).to_string(),
    )
}

const TEST_HOST: &str = "https://boatest.kuveytturk.com.tr";

/// Kuveyt Türk's hosts and paths (`vpos-protocols.md` §7.1): the payment gates under
/// `…/Home`, the 3D enrolment gate `…/Home/ThreeDModelPayGate`; the SOAP service is derived
/// from the API URL (`soap_url`).
pub fn default_endpoints(_integrator: PosIntegrator, production: bool) -> DefaultEndpoints {
    let (hostname, home) = if production {
        (PROD_PAYMENT_ORIGIN, "/ServiceGateWay/Home")
    } else {
        (TEST_HOST, "/boa.virtualpos.services/Home")
    };
    DefaultEndpoints {
        hostname: hostname.to_owned(),
        path: home.to_owned(),
        threeds_path: format!("{home}/ThreeDModelPayGate"),
    }
}

#[async_trait]
impl Connector for Kuveyt {
    fn family(&self) -> ConnectorFamily {
        ConnectorFamily::Kuveyt
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            threeds_models: &[ThreeDsModel::ThreeD],
            sale: true,
            pre_auth: false,
            post_auth: false,
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
        if request.kind != AuthorizeKind::Sale {
            return Err(ConnectorError::Unsupported {
                operation: "pre-authorisation",
            });
        }
        let credentials = credentials(pos, request.order_id)?;
        let card = request.card;
        let (year, month) = (card.expiry.yy(), card.expiry.mm());
        let body = wire::non_secure_body(
            credentials,
            &OrderFields {
                order_id: request.order_id,
                amount: request.amount,
                currency_code: currency_code(request.currency)?,
                installment: request.installment,
            },
            &CardFields {
                holder_name: card.holder_name.trim(),
                number: card.number.expose_number(),
                expiry_year: &year,
                expiry_month: &month,
                cvv: card
                    .cvc
                    .as_ref()
                    .map(|cvc| cvc.expose_cvc())
                    .unwrap_or_default(),
            },
        );
        let url = gate_url(&pos.api_url, "Non3DPayGate");
        let reply = self
            .call(
                pos,
                &url,
                Transport::Gate,
                "authorize",
                request.order_id,
                body,
            )
            .await?;
        wire::outcome(
            &wire::parse_contract(&reply)?,
            request.order_id,
            request.amount,
        )
    }

    async fn capture(
        &self,
        _pos: &PosConfig,
        _request: &CaptureRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        Err(ConnectorError::Unsupported {
            operation: "post-authorisation",
        })
    }

    /// `SaleReversal` of the whole order, for the amount the bank approved.
    async fn void(
        &self,
        pos: &PosConfig,
        request: &VoidRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let record = match self.approved_order(pos, request.order_id).await? {
            Ok(record) => record,
            Err(decline) => return Ok(Outcome::Declined(decline)),
        };
        let (Some(amount), Some(currency)) = (record.first_amount, record.currency) else {
            return Err(ConnectorError::Unreachable(
                "order lookup before the cancel: no amount or currency".into(),
            ));
        };
        self.reversal(
            pos,
            SoapOp::SaleReversal,
            request.order_id,
            &record,
            amount,
            currency,
        )
        .await
    }

    /// `DrawBack` when the refund is the whole order and nothing was refunded yet,
    /// `PartialDrawback` otherwise.
    async fn refund(
        &self,
        pos: &PosConfig,
        request: &RefundRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        currency_code(request.currency)?;
        let record = match self.approved_order(pos, request.order_id).await? {
            Ok(record) => record,
            Err(decline) => return Ok(Outcome::Declined(decline)),
        };
        let nothing_refunded = record.drawback_amount.is_none_or(|a| a.is_zero());
        let op = if nothing_refunded && record.first_amount == Some(request.amount) {
            SoapOp::DrawBack
        } else {
            SoapOp::PartialDrawback
        };
        self.reversal(
            pos,
            op,
            request.order_id,
            &record,
            request.amount,
            request.currency,
        )
        .await
    }

    async fn sync_payment(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<PaymentSync, ConnectorError> {
        let result = self.order_detail(pos, "sync_payment", order_id).await?;
        wire::payment_sync(&result, order_id)
    }

    async fn sync_refunds(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<Vec<BankCredit>, ConnectorError> {
        let result = self.order_detail(pos, "sync_refunds", order_id).await?;
        wire::bank_credits(&result, order_id)
    }

    /// Posts the enrolment server to server and hands the browser the bank's form (see
    /// `threeds.rs`).
    async fn threeds_form(
        &self,
        pos: &PosConfig,
        request: &ThreeDsInitRequest<'_>,
    ) -> Result<BrowserForm, ConnectorError> {
        let credentials = credentials(pos, request.order_id)?;
        if pos.threeds_url.trim().is_empty() {
            return Err(ConnectorError::Config("missing 3D gate url".into()));
        }
        let body = threeds::enrolment_body(credentials, request)?;
        let reply = self
            .call(
                pos,
                pos.threeds_url.trim(),
                Transport::Gate,
                "threeds_enrolment",
                request.order_id,
                body,
            )
            .await?;
        threeds::read_enrolment(&reply)
    }

    fn parse_threeds_callback(
        &self,
        pos: &PosConfig,
        fields: &[(String, String)],
    ) -> Result<ThreeDsResult, CallbackError> {
        let result = threeds::parse_callback(pos, fields);
        match &result {
            Ok(parsed) => tracing::debug!(
                connector = "kuveyt",
                order_id = parsed.order_id.as_str(),
                authenticated = parsed.authenticated,
                "3D callback verified"
            ),
            Err(error) => tracing::warn!(connector = "kuveyt", %error, "3D callback refused"),
        }
        result
    }

    /// The provision of a 3D authentication: the attempt's own order (amount, currency,
    /// installments) with the callback's `MD`; the bank checks them against the
    /// authentication it recorded under `MD`.
    async fn authorize_3d(
        &self,
        pos: &PosConfig,
        request: &ThreeDsAuthorizeRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        if request.kind != AuthorizeKind::Sale {
            return Err(ConnectorError::Unsupported {
                operation: "3D pre-authorisation",
            });
        }
        let credentials = credentials(pos, request.order_id)?;
        let md = request
            .auth
            .md
            .as_deref()
            .map(str::trim)
            .filter(|md| !md.is_empty())
            .ok_or_else(|| ConnectorError::Config("missing 3D MD".into()))?;
        let body = wire::provision_body(
            credentials,
            &OrderFields {
                order_id: request.order_id,
                amount: request.amount,
                currency_code: currency_code(request.currency)?,
                installment: request.installment,
            },
            md,
            request.client_ip.unwrap_or_default(),
        );
        let url = gate_url(&pos.api_url, "ThreeDModelProvisionGate");
        let reply = self
            .call(
                pos,
                &url,
                Transport::Gate,
                "authorize_3d",
                request.order_id,
                body,
            )
            .await?;
        wire::outcome(
            &wire::parse_contract(&reply)?,
            request.order_id,
            request.amount,
        )
    }
}
