//! PayFlex V4 (Innova's "MPI + VPOS 7/24" v4, `PayFlexV4Pos` in the reference library):
//! VakıfBank (`VAKIFBANK`) and Ziraat Bankası's PayFlex POS (`ZIRAATBANK_INNOVA`; Ziraat's
//! other POS, `ZIRAATBANK`, is NestPay). Reference: `vpos-protocols.md` §9, vectors in
//! `vpos-test-vectors.md` §9 (from mewebstudio/pos).
//!
//! Two servers on different hosts:
//!
//! * the **VPOS** (the POS's `path`, e.g. `…/VposService/v3/Vposreq.aspx`): every payment
//!   operation is a form POST with one field, `prmstr=<VposRequest>…</VposRequest>` (no XML
//!   prolog), answered by a `VposResponse` document; the status search is a `SearchRequest`
//!   (with prolog) posted the same way to the search page next to it (`…/UIService/
//!   Search.aspx` for VakıfBank, `…/UIWebService/Search.aspx` for Ziraat, derived from the
//!   VPOS URL by [`search_url`]);
//! * the **MPI** (the POS's `threedsPath`, `…/MPIAPI/MPI_Enrollment.aspx`): the 3D
//!   enrolment, a plain form POST answered with XML (see `threeds.rs`).
//!
//! Orkestra builds a POS's URLs as `hostname + path` (VPOS) and `hostname + threedsPath`
//! (MPI). The banks' MPIs are on other hosts than their VPOSes, so [`mpi_url`] moves an
//! MPI URL built on a bank's known VPOS host to that bank's MPI host
//! (`onlineodeme[test].vakifbank.com.tr:4443` → `3dsecure[test].vakifbank.com.tr:4443`,
//! `sanalpos.ziraatbank.com.tr` → `mpi.ziraatbank.com.tr`); any other host (the
//! simulator's, a proxy's) is used as it is. `threedsPath` (and `path`) may also be a full
//! `https://…` URL: when a URL built that way holds a second `http(s)://`, the part from
//! there is used as it is ([`resolve_url`]).
//!
//! PayFlex signs nothing: the merchant password travels in every request body (over TLS),
//! and the MPI's callback is not signed. What the callback is trusted for is documented in
//! `threeds.rs`.
//!
//! # Credentials
//!
//! | [`PosConfig`] (merchant POS API field) | PayFlex | example (bank test account) |
//! |---|---|---|
//! | `client_id` (`clientId`) | `MerchantId` (HostMerchantId) | `000000000111111` |
//! | `terminal_id` (`terminalId`) | `TerminalNo` | `VP999999` |
//! | `password` (`merchantPosUsers[].posPassword`) | `Password` / `MerchantPassword` | `3XTgER89as` |
//! | `username` (`merchantPosUsers[].posUsername`) | not used (PayFlex has no API user) | |
//! | `store_key` (`threedsKey`) | not used (nothing is signed) | |
//!
//! `MerchantType` is always `0` (a standard merchant; main/sub-dealer POSes are not
//! supported).
//!
//! # Operations
//!
//! `Sale`/`Auth` with the card (`TransactionId` = Orkestra's order id, so follow-ups can
//! name it), `Capture` of a pre-authorisation, `Cancel` (same day, before end of day:
//! cancelling the original cancels the order), `Refund` (full or partial, always with
//! `CurrencyAmount`) — each follow-up names the original by `ReferenceTransactionId` =
//! the order id — and `SearchRequest` by order id for [`Connector::sync_payment`] and
//! [`Connector::sync_refunds`] (the order's `Refund` records). Amounts are major units with
//! two decimals (`100.00`); currencies ISO 4217 numeric (`949`); `NumberOfInstallments`
//! only for 2 or more; expiry `YYYYMM` (VPOS) and `YYMM` (MPI). Result codes and their
//! error groups: `wire::error_group`. Only the `3d` model exists in PayFlex V4 (the
//! bank's `3d_pay`/hosted page is the separate Common Payment product).

mod seal;
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

pub struct Payflex {
    client: reqwest::Client,
}

impl Payflex {
    pub fn new(client: reqwest::Client) -> Payflex {
        Payflex { client }
    }

    /// POSTs one form body and parses the XML reply. Every failure here leaves the outcome
    /// unknown, except a configuration error found before anything was sent.
    async fn call(
        &self,
        pos: &PosConfig,
        url: &str,
        operation: &'static str,
        order_id: &str,
        body: Vec<u8>,
    ) -> Result<wire::Reply, ConnectorError> {
        let started = std::time::Instant::now();
        let result = self.exchange(pos, url, body).await;
        match &result {
            Ok(reply) => tracing::debug!(
                connector = "payflex",
                operation,
                order_id,
                result_code = reply.get("ResultCode"),
                search_code = reply.get("ResponseInfo/ResponseCode"),
                enrolment_status = reply.get("Message/VERes/Status"),
                elapsed_ms = started.elapsed().as_millis(),
                "bank answered"
            ),
            Err(error) => tracing::warn!(
                connector = "payflex",
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
        body: Vec<u8>,
    ) -> Result<wire::Reply, ConnectorError> {
        let request = self
            .client
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .timeout(pos.timeout)
            .body(body);
        let bytes = crate::http::exchange(request, wire::RESPONSE_BYTES_MAX).await?;
        wire::parse_reply(&bytes)
    }

    async fn vpos(
        &self,
        pos: &PosConfig,
        operation: &'static str,
        order_id: &str,
        xml: &str,
    ) -> Result<Outcome, ConnectorError> {
        let url = resolve_url(&pos.api_url);
        let reply = self
            .call(pos, &url, operation, order_id, wire::prmstr_body(xml))
            .await?;
        wire::outcome(&reply)
    }

    async fn search(&self, pos: &PosConfig, order_id: &str) -> Result<wire::Reply, ConnectorError> {
        let credentials = credentials(pos, order_id)?;
        let url = search_url(&pos.api_url)?;
        let xml = wire::search_xml(credentials.merchant_id, credentials.password, order_id, "");
        self.call(pos, &url, "search", order_id, wire::prmstr_body(&xml))
            .await
    }
}

/// The sign-in fields of every request; refuses before sending when one is missing.
fn credentials<'a>(
    pos: &'a PosConfig,
    order_id: &str,
) -> Result<wire::Credentials<'a>, ConnectorError> {
    let terminal_no = pos.terminal_id.as_deref().unwrap_or_default().trim();
    let missing = [
        (pos.api_url.trim().is_empty(), "VPOS url"),
        (pos.client_id.trim().is_empty(), "merchant id"),
        (terminal_no.is_empty(), "terminal no"),
        (pos.password.is_empty(), "merchant password"),
        (order_id.trim().is_empty(), "order id"),
    ];
    if let Some((_, what)) = missing.iter().find(|(is_missing, _)| *is_missing) {
        return Err(ConnectorError::Config(format!("missing {what}")));
    }
    Ok(wire::Credentials {
        merchant_id: pos.client_id.trim(),
        password: pos.password.expose(),
        terminal_no,
    })
}

/// A URL built as `hostname + path` where `path` is itself a full URL: the full URL.
pub fn resolve_url(url: &str) -> String {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let inner = [lower.rfind("https://"), lower.rfind("http://")]
        .into_iter()
        .flatten()
        .filter(|at| *at > 0)
        .max();
    match inner {
        Some(at) => url[at..].to_owned(),
        None => url.to_owned(),
    }
}

/// The status search page next to the VPOS page: `…/VposService/v3/Vposreq.aspx` →
/// `…/UIService/Search.aspx` (VakıfBank), `…/v3/Vposreq.aspx` → `…/UIWebService/
/// Search.aspx` (Ziraat: `…/v4/v3/Vposreq.aspx` → `…/v4/UIWebService/Search.aspx`).
pub fn search_url(api_url: &str) -> Result<String, ConnectorError> {
    const VPOS: &str = "/v3/vposreq.aspx";
    const SERVICE: &str = "/vposservice";
    let url = resolve_url(api_url);
    let lower = url.to_ascii_lowercase();
    if !lower.ends_with(VPOS) {
        return Err(ConnectorError::Config(
            "VPOS url does not end in /v3/Vposreq.aspx: no search page to derive".into(),
        ));
    }
    let base = &url[..url.len() - VPOS.len()];
    Ok(if base.to_ascii_lowercase().ends_with(SERVICE) {
        format!(
            "{}/UIService/Search.aspx",
            &base[..base.len() - SERVICE.len()]
        )
    } else {
        format!("{base}/UIWebService/Search.aspx")
    })
}

/// The banks' VPOS hosts and the MPI host next to each (`vpos-protocols.md` §9.1).
const MPI_HOSTS: [(&str, &str); 3] = [
    (
        "https://onlineodemetest.vakifbank.com.tr:4443",
        "https://3dsecuretest.vakifbank.com.tr:4443",
    ),
    (
        "https://onlineodeme.vakifbank.com.tr:4443",
        "https://3dsecure.vakifbank.com.tr:4443",
    ),
    (
        "https://sanalpos.ziraatbank.com.tr",
        "https://mpi.ziraatbank.com.tr",
    ),
];

/// The MPI enrolment URL of a POS (see the module documentation).
pub fn mpi_url(threeds_url: &str) -> String {
    let url = resolve_url(threeds_url);
    for (vpos_host, mpi_host) in MPI_HOSTS {
        if let Some(rest) = url.strip_prefix(vpos_host)
            && rest.starts_with('/')
        {
            return format!("{mpi_host}{rest}");
        }
    }
    url
}

/// The bank's hosts and paths (`vpos-protocols.md` §9.1); the MPI paths are on the MPI
/// hosts [`mpi_url`] maps the VPOS hosts to (Ziraat's test MPI shares its VPOS host).
pub fn default_endpoints(integrator: PosIntegrator, production: bool) -> DefaultEndpoints {
    let (hostname, path, threeds_path) = match (integrator, production) {
        (PosIntegrator::ZiraatbankInnova, false) => (
            "https://preprod.payflex.com.tr",
            "/Ziraatbank/VposWeb/v3/Vposreq.aspx",
            "/ZiraatBank/MpiWeb/MPI_Enrollment.aspx",
        ),
        (PosIntegrator::ZiraatbankInnova, true) => (
            "https://sanalpos.ziraatbank.com.tr",
            "/v4/v3/Vposreq.aspx",
            "/Enrollment.aspx",
        ),
        (_, false) => (
            "https://onlineodemetest.vakifbank.com.tr:4443",
            "/VposService/v3/Vposreq.aspx",
            "/MPIAPI/MPI_Enrollment.aspx",
        ),
        (_, true) => (
            "https://onlineodeme.vakifbank.com.tr:4443",
            "/VposService/v3/Vposreq.aspx",
            "/MPIAPI/MPI_Enrollment.aspx",
        ),
    };
    DefaultEndpoints {
        hostname: hostname.to_owned(),
        path: path.to_owned(),
        threeds_path: threeds_path.to_owned(),
    }
}

/// `ClientIp`: the shopper's address when known; the bank wants the element.
fn client_ip(ip: Option<&str>) -> &str {
    ip.map(str::trim).filter(|ip| !ip.is_empty()).unwrap_or("")
}

#[async_trait]
impl Connector for Payflex {
    fn family(&self) -> ConnectorFamily {
        ConnectorFamily::Payflex
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            threeds_models: &[ThreeDsModel::ThreeD],
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

    /// The callback's MD is the sealed card (CVV included) the VPOS wants again: it is
    /// used at once and never stored.
    fn provisions_at_callback(&self) -> bool {
        true
    }

    async fn authorize(
        &self,
        pos: &PosConfig,
        request: &AuthorizeRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let credentials = credentials(pos, request.order_id)?;
        let card = request.card;
        if wire::brand_name(&card.number).is_none() {
            return Err(ConnectorError::Unsupported {
                operation: "payment with this card scheme",
            });
        }
        let expiry = format!("{}{}", card.expiry.yyyy(), card.expiry.mm());
        let xml = wire::payment_xml(
            credentials,
            &wire::PaymentFields {
                kind: request.kind,
                transaction_id: Some(request.order_id),
                order_id: request.order_id,
                amount: request.amount,
                currency: request.currency,
                installment: request.installment,
                client_ip: client_ip(request.client_ip),
                card: wire::CardFields {
                    pan: card.number.expose_number(),
                    expiry: &expiry,
                    cvv: card.cvc.as_ref().map(|c| c.expose_cvc()),
                    holder: &card.holder_name,
                },
                mpi: None,
            },
        );
        self.vpos(pos, "authorize", request.order_id, &xml).await
    }

    async fn capture(
        &self,
        pos: &PosConfig,
        request: &CaptureRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let credentials = credentials(pos, request.order_id)?;
        let xml = wire::capture_xml(
            credentials,
            request.order_id,
            request.amount,
            request.currency,
            None,
        );
        self.vpos(pos, "capture", request.order_id, &xml).await
    }

    async fn void(
        &self,
        pos: &PosConfig,
        request: &VoidRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let credentials = credentials(pos, request.order_id)?;
        let xml = wire::cancel_xml(credentials, request.order_id, None);
        self.vpos(pos, "void", request.order_id, &xml).await
    }

    async fn refund(
        &self,
        pos: &PosConfig,
        request: &RefundRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let credentials = credentials(pos, request.order_id)?;
        let xml = wire::refund_xml(
            credentials,
            request.order_id,
            request.amount,
            request.currency,
            None,
        );
        self.vpos(pos, "refund", request.order_id, &xml).await
    }

    async fn sync_payment(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<PaymentSync, ConnectorError> {
        let reply = self.search(pos, order_id).await?;
        wire::payment_sync(&reply, order_id)
    }

    async fn sync_refunds(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<Vec<BankCredit>, ConnectorError> {
        let reply = self.search(pos, order_id).await?;
        wire::bank_credits(&reply)
    }

    /// The MPI enrolment, then the form that sends the browser to the ACS.
    async fn threeds_form(
        &self,
        pos: &PosConfig,
        request: &ThreeDsInitRequest<'_>,
    ) -> Result<BrowserForm, ConnectorError> {
        let body = threeds::enrolment_request(pos, request)?;
        let url = mpi_url(&pos.threeds_url);
        let reply = self
            .call(pos, &url, "enrolment", request.order_id, body)
            .await?;
        threeds::acs_form(&reply, request.order_id)
    }

    fn parse_threeds_callback(
        &self,
        pos: &PosConfig,
        fields: &[(String, String)],
    ) -> Result<ThreeDsResult, CallbackError> {
        let result = threeds::parse_callback(pos, fields);
        match &result {
            Ok(parsed) => tracing::debug!(
                connector = "payflex",
                order_id = parsed.order_id.as_str(),
                status = parsed.md_status.as_deref().unwrap_or_default(),
                "3D callback read"
            ),
            Err(error) => tracing::warn!(connector = "payflex", %error, "3D callback refused"),
        }
        result
    }

    /// The VPOS provision after authentication: the order again, the card again (opened
    /// from the callback's sealed `SessionInfo`), and the MPI's `ECI`, `CAVV` and
    /// `MpiTransactionId` (= `VerifyEnrollmentRequestId` = the order id).
    async fn authorize_3d(
        &self,
        pos: &PosConfig,
        request: &ThreeDsAuthorizeRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let credentials = credentials(pos, request.order_id)?;
        let sealed = request
            .auth
            .md
            .as_deref()
            .ok_or_else(|| ConnectorError::Config("missing 3D card data".into()))?;
        let card = seal::open(
            sealed,
            credentials.password,
            credentials.merchant_id,
            request.order_id,
        )
        .ok_or_else(|| ConnectorError::Config("3D card data does not open".into()))?;
        let (Some(eci), Some(cavv)) = (request.auth.eci.as_deref(), request.auth.cavv.as_deref())
        else {
            return Err(ConnectorError::Config("missing 3D ECI or CAVV".into()));
        };
        let xml = wire::payment_xml(
            credentials,
            &wire::PaymentFields {
                kind: request.kind,
                transaction_id: Some(request.order_id),
                order_id: request.order_id,
                amount: request.amount,
                currency: request.currency,
                installment: request.installment,
                client_ip: client_ip(request.client_ip),
                card: wire::CardFields {
                    pan: &card.pan,
                    expiry: &card.expiry,
                    cvv: (!card.cvv.is_empty()).then_some(card.cvv.as_str()),
                    holder: &card.holder,
                },
                mpi: Some(wire::MpiFields {
                    eci,
                    cavv,
                    mpi_transaction_id: request.order_id,
                }),
            },
        );
        self.vpos(pos, "authorize_3d", request.order_id, &xml).await
    }
}
