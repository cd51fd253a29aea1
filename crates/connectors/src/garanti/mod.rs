//! Garanti BBVA virtual POS (GVPS).
//!
//! Every operation is one `GVPSRequest` XML document (UTF-8) POSTed to `…/VPServlet`,
//! answered by a `GVPSResponse` (`wire.rs` builds and reads them); each request is signed
//! with a SHA-512 `HashData` (`hash.rs`). 3D Secure (`3d`, `3d_pay`, `3d_host`): the browser
//! form for `…/servlet/gt3dengine` and the bank's callback are in `threeds.rs`. Reference:
//! `vpos-protocols.md` §2, vectors in `vpos-test-vectors.md` §2 (from mewebstudio/pos).
//!
//! # Credentials
//!
//! | `PosConfig` | Garanti | example (the bank's public test terminal) |
//! |---|---|---|
//! | `client_id` | `MerchantID` / `terminalmerchantid` (üye işyeri no) | `7000679` |
//! | `terminal_id` | `TerminalID` / `terminalid` (required) | `30691298` |
//! | `username` | provision user, `ProvUserID`/`UserID` of sales, pre-auths, post-auths and inquiries | `PROVAUT` |
//! | `password` | that user's provision password (its `SecurityData`) | `123qweASD/` |
//! | `store_key` | 3D store key (`storeKey`), for the gate form and the callback | `12345678` |
//!
//! Void and refund must go out as Garanti's refund user, `PROVRFN` (§2.2, pitfall 3).
//! A POS holds one user, so the connector sends them as [`REFUND_USER`] with the same
//! password, as on the bank's test terminal, where both users share `123qweASD/` (vectors
//! R2.4, R2.12). A terminal whose refund user has a password of its own needs a second
//! credential that `PosConfig` does not carry. `api_url`/`threeds_url` decide `Mode`:
//! `PROD` on Garanti's production host, `TEST` anywhere else (its test host, the
//! simulator).
//!
//! # Operations
//!
//! `sales`, `preauth` (card in the request), `postauth`, `void`, `refund` (whole or partial),
//! `orderinq` (status) and `orderhistoryinq` (order history, refunds included). Garanti's
//! post-auth, void and refund reference the original transaction by `OriginalRetrefNum`
//! (R2.1, R2.4, R2.12); Orkestra keeps only the order id, so these first ask the bank
//! (`orderinq`) for the order's `RetrefNum`. When that inquiry is refused (no such order,
//! bad credentials) the operation is not sent and the refusal is its decline.
//!
//! The customer IP is mandatory at the bank; follow-ups and requests without a shopper IP
//! send [`FALLBACK_IP`]. Void and the inquiries send the fixed amount `100` in `949`, as the
//! reference library does.
//!
//! # Results
//!
//! Approved only on `Code=00` with `Message=Approved`; a decline carries `ReasonCode` when it
//! is more precise than `Code` (`0002`, `0208`…), `ErrorMsg` (else `SysErrMsg`) as its
//! message, and the group of the table on `wire::error_group`. A reply that is not a
//! complete `GVPSResponse` with `Transaction.Response.Code` is `BadResponse`; a failed
//! connection `Unreachable` (nothing sent), a broken one `Transport`, a slow one `Timeout`.

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
    Connector, ConnectorError, Decline, DefaultEndpoints, Outcome, PaymentSync, PosConfig,
    RefundRequest, ThreeDsAuthorizeRequest, ThreeDsInitRequest, ThreeDsModel, ThreeDsResult,
    VoidRequest,
};

/// Garanti's refund user: void and refund go out under it.
pub const REFUND_USER: &str = "PROVRFN";

/// `Customer.IPAddress` when no shopper IP is known (the bank requires one).
pub const FALLBACK_IP: &str = "127.0.0.1";

const API_PATH: &str = "/VPServlet";
const THREEDS_PATH: &str = "/servlet/gt3dengine";
const TEST_HOST: &str = "https://sanalposprovtest.garantibbva.com.tr";
const PROD_HOST: &str = "https://sanalposprov.garanti.com.tr";
/// Hosts that take `Mode=PROD` (the bank's production host, under both brand names).
const PROD_HOSTNAMES: [&str; 2] = [
    "sanalposprov.garanti.com.tr",
    "sanalposprov.garantibbva.com.tr",
];

/// The bank's endpoints (`vpos-protocols.md` §2.1); only Garanti BBVA speaks GVPS.
pub fn default_endpoints(_integrator: PosIntegrator, production: bool) -> DefaultEndpoints {
    DefaultEndpoints {
        hostname: if production { PROD_HOST } else { TEST_HOST }.to_owned(),
        path: API_PATH.to_owned(),
        threeds_path: THREEDS_PATH.to_owned(),
    }
}

/// `Mode` for requests to `url`: `PROD` on the production host, `TEST` otherwise.
pub(crate) fn mode_for(url: &str) -> &'static str {
    let rest = url.trim().split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .split(':')
        .next()
        .unwrap_or_default();
    if PROD_HOSTNAMES
        .iter()
        .any(|prod| host.eq_ignore_ascii_case(prod))
    {
        "PROD"
    } else {
        "TEST"
    }
}

/// Which Garanti user a request goes out as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Provision,
    Refund,
}

/// The `Terminal` of a request, or the configuration error that keeps it from being sent.
fn terminal<'a>(
    pos: &'a PosConfig,
    role: Role,
    order_id: &str,
) -> Result<wire::Terminal<'a>, ConnectorError> {
    let terminal_id = pos.terminal_id.as_deref().unwrap_or_default().trim();
    let missing = [
        (pos.api_url.trim().is_empty(), "api url"),
        (pos.client_id.trim().is_empty(), "merchant id"),
        (terminal_id.is_empty(), "terminal id"),
        (pos.username.trim().is_empty(), "provision user"),
        (pos.password.is_empty(), "provision password"),
        (order_id.trim().is_empty(), "order id"),
    ];
    if let Some((_, what)) = missing.iter().find(|(is_missing, _)| *is_missing) {
        return Err(ConnectorError::Config(format!("missing {what}")));
    }
    Ok(wire::Terminal {
        mode: mode_for(&pos.api_url),
        user: match role {
            Role::Provision => pos.username.trim(),
            Role::Refund => REFUND_USER,
        },
        password: pos.password.expose(),
        terminal_id,
        merchant_id: pos.client_id.trim(),
    })
}

/// The amount in Garanti's format, or why it has none (nothing was sent).
fn amount(
    amount: domain::money::MinorUnits,
    currency: domain::money::Currency,
) -> Result<String, ConnectorError> {
    wire::amount_text(amount, currency).ok_or_else(|| {
        ConnectorError::Config(format!(
            "Garanti cannot charge {} minor units of {}",
            amount.get(),
            currency.code()
        ))
    })
}

pub struct Garanti {
    client: reqwest::Client,
}

impl Garanti {
    pub fn new(client: reqwest::Client) -> Garanti {
        Garanti { client }
    }

    /// POSTs one request body and parses the reply. Every failure here leaves the outcome
    /// unknown.
    async fn call(
        &self,
        pos: &PosConfig,
        operation: &'static str,
        order_id: &str,
        body: Vec<u8>,
    ) -> Result<wire::GvpsResponse, ConnectorError> {
        let started = std::time::Instant::now();
        let result = self.exchange(pos, body).await;
        match &result {
            Ok(response) => tracing::debug!(
                connector = "garanti",
                operation,
                order_id,
                code = response.code(),
                reason_code = response.reason_code.as_str(),
                elapsed_ms = started.elapsed().as_millis(),
                "bank answered"
            ),
            Err(error) => tracing::warn!(
                connector = "garanti",
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
    ) -> Result<wire::GvpsResponse, ConnectorError> {
        let request = self
            .client
            .post(&pos.api_url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/xml; charset=UTF-8",
            )
            .timeout(pos.timeout)
            .body(body);
        let bytes = crate::http::exchange(request, wire::RESPONSE_BYTES_MAX).await?;
        wire::parse_response(&bytes)
    }

    /// The `RetrefNum` a follow-up references, from an `orderinq`.
    async fn original(
        &self,
        pos: &PosConfig,
        operation: &'static str,
        order_id: &str,
    ) -> Result<wire::Original, ConnectorError> {
        let body = wire::inquiry_body(
            &terminal(pos, Role::Provision, order_id)?,
            "orderinq",
            order_id,
            FALLBACK_IP,
        );
        let response = self.call(pos, operation, order_id, body).await?;
        wire::original(&response)
    }
}

fn refused(decline: Decline) -> Outcome {
    Outcome::Declined(decline)
}

#[async_trait]
impl Connector for Garanti {
    fn family(&self) -> ConnectorFamily {
        ConnectorFamily::Garanti
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
        let terminal = terminal(pos, Role::Provision, request.order_id)?;
        let amount = amount(request.amount, request.currency)?;
        let card = request.card;
        let expire_date = format!("{}{}", card.expiry.mm(), card.expiry.yy());
        let body = wire::payment_body(
            &terminal,
            &wire::PaymentFields {
                kind: request.kind,
                order_id: request.order_id,
                amount: &amount,
                currency_code: request.currency.numeric_code(),
                installment: request.installment,
                client_ip: request.client_ip.unwrap_or(FALLBACK_IP),
                card: Some(wire::CardFields {
                    number: card.number.expose_number(),
                    expire_date: &expire_date,
                    cvv: card
                        .cvc
                        .as_ref()
                        .map(|cvc| cvc.expose_cvc())
                        .unwrap_or_default(),
                }),
                secure3d: None,
            },
        );
        let response = self.call(pos, "authorize", request.order_id, body).await?;
        wire::outcome(&response)
    }

    async fn capture(
        &self,
        pos: &PosConfig,
        request: &CaptureRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let terminal = terminal(pos, Role::Provision, request.order_id)?;
        let amount = amount(request.amount, request.currency)?;
        let retref = match self.original(pos, "capture", request.order_id).await? {
            wire::Original::RetrefNum(retref) => retref,
            wire::Original::Refused(decline) => return Ok(refused(decline)),
        };
        let body = wire::post_auth_body(
            &terminal,
            request.order_id,
            &amount,
            request.currency.numeric_code(),
            FALLBACK_IP,
            &retref,
        );
        let response = self.call(pos, "capture", request.order_id, body).await?;
        wire::outcome(&response)
    }

    async fn void(
        &self,
        pos: &PosConfig,
        request: &VoidRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let terminal = terminal(pos, Role::Refund, request.order_id)?;
        let retref = match self.original(pos, "void", request.order_id).await? {
            wire::Original::RetrefNum(retref) => retref,
            wire::Original::Refused(decline) => return Ok(refused(decline)),
        };
        let body = wire::reversal_body(
            &terminal,
            "void",
            request.order_id,
            wire::FIXED_AMOUNT,
            wire::FIXED_CURRENCY,
            FALLBACK_IP,
            &retref,
        );
        let response = self.call(pos, "void", request.order_id, body).await?;
        wire::outcome(&response)
    }

    async fn refund(
        &self,
        pos: &PosConfig,
        request: &RefundRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let terminal = terminal(pos, Role::Refund, request.order_id)?;
        let amount = amount(request.amount, request.currency)?;
        let retref = match self.original(pos, "refund", request.order_id).await? {
            wire::Original::RetrefNum(retref) => retref,
            wire::Original::Refused(decline) => return Ok(refused(decline)),
        };
        let body = wire::reversal_body(
            &terminal,
            "refund",
            request.order_id,
            &amount,
            request.currency.numeric_code(),
            FALLBACK_IP,
            &retref,
        );
        let response = self.call(pos, "refund", request.order_id, body).await?;
        wire::outcome(&response)
    }

    async fn sync_payment(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<PaymentSync, ConnectorError> {
        let body = wire::inquiry_body(
            &terminal(pos, Role::Provision, order_id)?,
            "orderinq",
            order_id,
            FALLBACK_IP,
        );
        let response = self.call(pos, "sync_payment", order_id, body).await?;
        wire::payment_sync(&response)
    }

    async fn sync_refunds(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<Vec<BankCredit>, ConnectorError> {
        let body = wire::inquiry_body(
            &terminal(pos, Role::Provision, order_id)?,
            "orderhistoryinq",
            order_id,
            FALLBACK_IP,
        );
        let response = self.call(pos, "sync_refunds", order_id, body).await?;
        wire::bank_credits(&response)
    }

    async fn threeds_form(
        &self,
        pos: &PosConfig,
        request: &ThreeDsInitRequest<'_>,
    ) -> Result<BrowserForm, ConnectorError> {
        threeds::form(pos, request)
    }

    fn parse_threeds_callback(
        &self,
        pos: &PosConfig,
        fields: &[(String, String)],
    ) -> Result<ThreeDsResult, CallbackError> {
        let result = threeds::parse_callback(pos, fields);
        match &result {
            Ok(parsed) => tracing::debug!(
                connector = "garanti",
                order_id = parsed.order_id.as_str(),
                md_status = parsed.md_status.as_deref().unwrap_or_default(),
                "3D callback verified"
            ),
            Err(error) => tracing::warn!(connector = "garanti", %error, "3D callback refused"),
        }
        result
    }

    async fn authorize_3d(
        &self,
        pos: &PosConfig,
        request: &ThreeDsAuthorizeRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let terminal = terminal(pos, Role::Provision, request.order_id)?;
        let amount = amount(request.amount, request.currency)?;
        let md = request
            .auth
            .md
            .as_deref()
            .filter(|md| !md.trim().is_empty())
            .ok_or_else(|| ConnectorError::Config("missing 3D md".into()))?;
        let body = wire::payment_body(
            &terminal,
            &wire::PaymentFields {
                kind: request.kind,
                order_id: request.order_id,
                amount: &amount,
                currency_code: request.currency.numeric_code(),
                installment: request.installment,
                client_ip: request.client_ip.unwrap_or(FALLBACK_IP),
                card: None,
                secure3d: Some(wire::Secure3dFields {
                    cavv: request.auth.cavv.as_deref().unwrap_or_default(),
                    eci: request.auth.eci.as_deref().unwrap_or_default(),
                    xid: request.auth.xid.as_deref().unwrap_or_default(),
                    md,
                }),
            },
        );
        let response = self
            .call(pos, "authorize_3d", request.order_id, body)
            .await?;
        wire::outcome(&response)
    }
}
