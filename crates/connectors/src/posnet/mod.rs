//! PosNet (Yapı Kredi's "Posnet XML" service, OOS 3D Secure).
//!
//! Every operation is one `posnetRequest` XML document in ISO-8859-9, POSTed as
//! `application/x-www-form-urlencoded` with the body `xmldata=<xml>` (not percent-encoded,
//! exactly as the reference library sends it) to `…/PosnetWebService/XML`, answered by a
//! `posnetResponse` (`wire.rs`). 3D Secure is YKB's OOS flow, model `3d` only
//! (`threeds.rs`): a server-to-server enrolment, the browser form to
//! `…/3DSWebService/YKBPaymentService`, a callback signed with MD5 and an ENCKEY-encrypted
//! merchant packet, then the provision with the double SHA-256 MAC (`hash.rs`).
//! Reference: `vpos-protocols.md` §3; vectors in `vpos-test-vectors.md` §3 (from
//! mewebstudio/pos); the callback check follows YKB's own merchant toolkit (`posnet_oos.php`).
//!
//! # Credentials (how a merchant POS maps onto [`PosConfig`])
//!
//! | PosConfig | YKB | example (YKB test terminal) |
//! |---|---|---|
//! | `client_id` | merchant number `mid` (10 digits) | `6706598320` |
//! | `terminal_id` | terminal number `tid` (8 digits), required | `67005551` |
//! | `username` | Posnet ID `posnetid` (3D only) | `27426` |
//! | `password` | not used: the XML service authenticates by `mid`, `tid` and the caller's IP | — |
//! | `store_key` | ENCKEY, the 3D key (3D only) | `10,10,10,10,10,10,10,10` |
//!
//! # Operations
//!
//! * `authorize`: `sale` (sale) or `auth` (pre-authorisation) with the card.
//! * `capture`, `void`, `refund`: YKB's `capt`, `reverse` and `return` address a transaction
//!   by its `hostLogKey`, which the engine does not carry, and 3D orders by a different order
//!   reference (`TDSC…`) than plain ones. So each first asks the bank's status inquiry
//!   (`agreement`) for the order, then acts on the transaction it names: `capt` on the
//!   `Auth`'s key (with installment `00`: the engine does not pass the installment count to
//!   a capture), `reverse` of the `Sale` (`transaction=sale`) or `Auth` (`transaction=auth`)
//!   with its `authCode`, `return` on the standing `Capt`, else on the `Sale`. An order the
//!   bank does not know is declined with the bank's own "not found" (`0123`). A failed
//!   inquiry is reported as it failed (timeout, transport, unreadable reply), although the
//!   operation itself was not sent yet: the engine then asks again, which is harmless.
//! * `sync_payment`: `agreement` for the plain order reference (`0000…`, 24 characters) and,
//!   when the bank does not know it, for the 3D one (`TDSC…`); see `wire::payment_sync`.
//! * `sync_refunds`: YKB has no separate order history; the refunds are the `Return`
//!   transactions of the same `agreement` reply (`wire::bank_credits`).
//!
//! Response codes map to error groups in `wire::error_group`.

pub use bank_crypto::posnet as crypto;
pub mod hash;
mod threeds;
mod wire;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod threeds_tests;

use async_trait::async_trait;
use domain::card::CardDetails;
use domain::enums::{ConnectorFamily, PosIntegrator};

use crate::{
    AuthorizeRequest, BankCredit, BrowserForm, CallbackError, Capabilities, CaptureRequest,
    Connector, ConnectorError, DefaultEndpoints, Outcome, PaymentSync, PosConfig, RefundRequest,
    ThreeDsAuthorizeRequest, ThreeDsInitRequest, ThreeDsModel, ThreeDsResult, VoidRequest,
};
use wire::{Lookup, Reference, Terminal};

pub struct Posnet {
    client: reqwest::Client,
}

const API_PATH: &str = "/PosnetWebService/XML";
const THREEDS_PATH: &str = "/3DSWebService/YKBPaymentService";
const TEST_HOST: &str = "https://setmpos.ykb.com";
const PRODUCTION_HOST: &str = "https://posnet.yapikredi.com.tr";

/// YKB's hosts (`vpos-protocols.md` §3.1): `setmpos.ykb.com` for tests,
/// `posnet.yapikredi.com.tr` in production. Only Yapı Kredi speaks PosNet; other
/// integrators never reach here through the registry and get the same hosts.
pub fn default_endpoints(_integrator: PosIntegrator, production: bool) -> DefaultEndpoints {
    DefaultEndpoints {
        hostname: if production {
            PRODUCTION_HOST
        } else {
            TEST_HOST
        }
        .to_owned(),
        path: API_PATH.to_owned(),
        threeds_path: THREEDS_PATH.to_owned(),
    }
}

/// The terminal every request names; refuses before sending when something is missing.
fn terminal(pos: &PosConfig) -> Result<Terminal<'_>, ConnectorError> {
    let tid = pos
        .terminal_id
        .as_deref()
        .map(str::trim)
        .unwrap_or_default();
    let missing = [
        (pos.api_url.trim().is_empty(), "api url"),
        (
            pos.client_id.trim().is_empty(),
            "merchant number (client id)",
        ),
        (tid.is_empty(), "terminal id"),
    ];
    if let Some((_, what)) = missing.iter().find(|(is_missing, _)| *is_missing) {
        return Err(ConnectorError::Config(format!("missing {what}")));
    }
    Ok(Terminal {
        mid: pos.client_id.trim(),
        tid,
    })
}

/// The card as the wire wants it: number, `YYMM`, CVC.
fn card_fields(card: &CardDetails) -> (String, &str) {
    let exp_date = format!("{}{}", card.expiry.yy(), card.expiry.mm());
    let cvc = card
        .cvc
        .as_ref()
        .map(|cvc| cvc.expose_cvc())
        .unwrap_or_default();
    (exp_date, cvc)
}

impl Posnet {
    pub fn new(client: reqwest::Client) -> Posnet {
        Posnet { client }
    }

    /// POSTs one request body and parses the reply. Every failure here leaves the outcome
    /// unknown, except a configuration error found before anything was sent.
    async fn call(
        &self,
        pos: &PosConfig,
        operation: &'static str,
        order_id: &str,
        body: Vec<u8>,
    ) -> Result<wire::PosnetResponse, ConnectorError> {
        let started = std::time::Instant::now();
        let result = self.exchange(pos, body).await;
        match &result {
            Ok(response) => tracing::debug!(
                connector = "posnet",
                operation,
                order_id,
                approved = response.approved(),
                resp_code = response.resp_code(),
                elapsed_ms = started.elapsed().as_millis(),
                "bank answered"
            ),
            Err(error) => tracing::warn!(
                connector = "posnet",
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
    ) -> Result<wire::PosnetResponse, ConnectorError> {
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
        wire::parse_response(&bytes)
    }

    /// The bank's transactions on an order: the plain order reference first, then the 3D
    /// one (`TDSC…`). Not found only when the bank knows neither.
    async fn find(
        &self,
        pos: &PosConfig,
        terminal: Terminal<'_>,
        operation: &'static str,
        order_id: &str,
    ) -> Result<Lookup, ConnectorError> {
        let mut not_found = None;
        for three_d in [false, true] {
            let body = wire::status_body(terminal, &wire::order_reference(order_id, three_d));
            let response = self.call(pos, operation, order_id, body).await?;
            match wire::lookup(&response)? {
                Lookup::Found(transactions) => return Ok(Lookup::Found(transactions)),
                Lookup::NotFound(decline) => not_found = Some(decline),
            }
        }
        not_found
            .map(Lookup::NotFound)
            .ok_or_else(|| wire::bad("status inquiry gave no answer"))
    }
}

#[async_trait]
impl Connector for Posnet {
    fn family(&self) -> ConnectorFamily {
        ConnectorFamily::Posnet
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

    async fn authorize(
        &self,
        pos: &PosConfig,
        request: &AuthorizeRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let terminal = terminal(pos)?;
        wire::check_order_id(request.order_id)?;
        let currency = wire::currency_code(request.currency)?;
        let installment = wire::installment_text(request.installment)?;
        let (exp_date, cvc) = card_fields(request.card);
        let body = wire::payment_body(
            terminal,
            &wire::PaymentFields {
                kind: request.kind,
                order_id: &wire::padded_order_id(request.order_id),
                installment: &installment,
                amount: &wire::amount_text(request.amount),
                currency,
                card: wire::CardFields {
                    number: request.card.number.expose_number(),
                    exp_date: &exp_date,
                    cvc,
                },
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
        let terminal = terminal(pos)?;
        wire::check_order_id(request.order_id)?;
        let currency = wire::currency_code(request.currency)?;
        let transactions = match self
            .find(pos, terminal, "capture", request.order_id)
            .await?
        {
            Lookup::Found(transactions) => transactions,
            Lookup::NotFound(decline) => return Ok(Outcome::Declined(decline)),
        };
        let provision = wire::provision(&transactions)
            .ok_or_else(|| wire::bad("order without sale or auth"))?;
        let body = wire::capture_body(
            terminal,
            provision.host_log_key.trim(),
            &wire::amount_text(request.amount),
            currency,
            "00",
        );
        let response = self.call(pos, "capture", request.order_id, body).await?;
        wire::outcome(&response)
    }

    async fn void(
        &self,
        pos: &PosConfig,
        request: &VoidRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let terminal = terminal(pos)?;
        wire::check_order_id(request.order_id)?;
        let transactions = match self.find(pos, terminal, "void", request.order_id).await? {
            Lookup::Found(transactions) => transactions,
            Lookup::NotFound(decline) => return Ok(Outcome::Declined(decline)),
        };
        let provision = wire::provision(&transactions)
            .ok_or_else(|| wire::bad("order without sale or auth"))?;
        let transaction = if provision.state.trim().eq_ignore_ascii_case("Auth") {
            "auth"
        } else {
            "sale"
        };
        let body = wire::reverse_body(
            terminal,
            transaction,
            Some(provision.auth_code.trim()),
            Reference::HostLogKey(provision.host_log_key.trim()),
        );
        let response = self.call(pos, "void", request.order_id, body).await?;
        wire::outcome(&response)
    }

    async fn refund(
        &self,
        pos: &PosConfig,
        request: &RefundRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let terminal = terminal(pos)?;
        wire::check_order_id(request.order_id)?;
        let currency = wire::currency_code(request.currency)?;
        let transactions = match self.find(pos, terminal, "refund", request.order_id).await? {
            Lookup::Found(transactions) => transactions,
            Lookup::NotFound(decline) => return Ok(Outcome::Declined(decline)),
        };
        let target = match wire::standing_capture(&transactions)? {
            Some(capture) => capture,
            None => wire::provision(&transactions)
                .ok_or_else(|| wire::bad("order without sale or auth"))?,
        };
        let body = wire::refund_body(
            terminal,
            &wire::amount_text(request.amount),
            currency,
            Reference::HostLogKey(target.host_log_key.trim()),
        );
        let response = self.call(pos, "refund", request.order_id, body).await?;
        wire::outcome(&response)
    }

    async fn sync_payment(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<PaymentSync, ConnectorError> {
        let terminal = terminal(pos)?;
        wire::check_order_id(order_id)?;
        match self.find(pos, terminal, "sync_payment", order_id).await? {
            Lookup::Found(transactions) => wire::payment_sync(&transactions),
            Lookup::NotFound(_) => Ok(PaymentSync::NotFound),
        }
    }

    async fn sync_refunds(
        &self,
        pos: &PosConfig,
        order_id: &str,
    ) -> Result<Vec<BankCredit>, ConnectorError> {
        let terminal = terminal(pos)?;
        wire::check_order_id(order_id)?;
        match self.find(pos, terminal, "sync_refunds", order_id).await? {
            Lookup::Found(transactions) => wire::bank_credits(&transactions),
            Lookup::NotFound(_) => Ok(Vec::new()),
        }
    }

    async fn threeds_form(
        &self,
        pos: &PosConfig,
        request: &ThreeDsInitRequest<'_>,
    ) -> Result<BrowserForm, ConnectorError> {
        if request.model != ThreeDsModel::ThreeD {
            return Err(ConnectorError::Config(format!(
                "PosNet offers only the 3d model, not {}",
                request.model.as_str()
            )));
        }
        let terminal = terminal(pos)?;
        let missing = [
            (pos.threeds_url.trim().is_empty(), "3D gate url"),
            (pos.username.trim().is_empty(), "posnet id (user name)"),
            (
                pos.store_key.as_ref().is_none_or(|key| key.is_empty()),
                "3D store key (ENCKEY)",
            ),
            (request.callback_url.trim().is_empty(), "callback url"),
        ];
        if let Some((_, what)) = missing.iter().find(|(is_missing, _)| *is_missing) {
            return Err(ConnectorError::Config(format!("missing {what}")));
        }
        wire::check_order_id(request.order_id)?;
        if request.order_id.starts_with('0') {
            // The callback's xid is left-padded with 0: such an id would not read back.
            return Err(ConnectorError::Config(
                "PosNet 3D order ids must not start with 0".into(),
            ));
        }
        let card = request
            .card
            .ok_or_else(|| ConnectorError::Config("3D model 3d needs the card".into()))?;
        let currency = wire::currency_code(request.currency)?;
        let installment = wire::installment_text(request.installment)?;
        let (exp_date, cvc) = card_fields(card);
        let body = wire::enrolment_body(
            terminal,
            &wire::EnrolmentFields {
                posnet_id: pos.username.trim(),
                card: wire::CardFields {
                    number: card.number.expose_number(),
                    exp_date: &exp_date,
                    cvc,
                },
                amount: &wire::amount_text(request.amount),
                currency,
                installment: &installment,
                xid: &wire::padded_order_id(request.order_id),
                card_holder_name: &threeds::card_holder_name(&card.holder_name),
                tran_type: wire::tran_type(request.kind),
            },
        );
        let response = self
            .call(pos, "threeds_form", request.order_id, body)
            .await?;
        let data = threeds::enrolment_data(&response)?;
        Ok(threeds::form(
            &pos.threeds_url,
            terminal.mid,
            pos.username.trim(),
            &data,
            request.callback_url,
            request.lang,
        ))
    }

    fn parse_threeds_callback(
        &self,
        pos: &PosConfig,
        fields: &[(String, String)],
    ) -> Result<ThreeDsResult, CallbackError> {
        let result = threeds::parse_callback(pos, fields);
        match &result {
            Ok(parsed) => tracing::debug!(
                connector = "posnet",
                order_id = parsed.order_id.as_str(),
                md_status = parsed.md_status.as_deref().unwrap_or_default(),
                "3D callback verified"
            ),
            Err(error) => tracing::warn!(connector = "posnet", %error, "3D callback refused"),
        }
        result
    }

    async fn authorize_3d(
        &self,
        pos: &PosConfig,
        request: &ThreeDsAuthorizeRequest<'_>,
    ) -> Result<Outcome, ConnectorError> {
        let terminal = terminal(pos)?;
        let enc_key = pos
            .store_key
            .as_ref()
            .filter(|key| !key.is_empty())
            .ok_or_else(|| ConnectorError::Config("missing 3D store key (ENCKEY)".into()))?;
        wire::check_order_id(request.order_id)?;
        let currency = wire::currency_code(request.currency)?;
        let packets = threeds::packets(request.auth)?;
        let expected_sign = crypto::callback_sign(packets.merchant, packets.bank, enc_key.expose());
        if !crypto::constant_time_eq(expected_sign.as_bytes(), packets.sign.as_bytes()) {
            return Err(ConnectorError::Config(
                "3D packets do not verify with the store key".into(),
            ));
        }
        let key = hash::MacKey {
            merchant_no: terminal.mid,
            terminal_id: terminal.tid,
            enc_key: enc_key.expose(),
        };
        let xid = wire::padded_order_id(request.order_id);
        let amount = wire::amount_text(request.amount);
        let mac = key.request_mac(&xid, &amount, currency);
        let fields = wire::PacketFields {
            bank_data: packets.bank,
            merchant_data: packets.merchant,
            sign: packets.sign,
            mac: &mac,
        };

        let resolved = self
            .call(
                pos,
                "authorize_3d_resolve",
                request.order_id,
                wire::resolve_body(terminal, &fields),
            )
            .await?;
        let resolve = match (resolved.approved(), &resolved.resolve) {
            ("1", Some(resolve)) if resolved.resp_code().is_empty() => resolve,
            ("0" | "2", _) => return Ok(Outcome::Declined(wire::decline(&resolved))),
            _ => return Err(wire::bad("resolve reply without its merchant data")),
        };
        if !key.verify_resolve(resolve) {
            return Err(wire::bad("resolve reply MAC does not verify"));
        }
        let expected = threeds::Expected {
            xid: &xid,
            amount: request.amount,
            currency: request.currency,
        };
        if let Some(decline) = threeds::check_resolve(resolve, &expected)? {
            return Ok(Outcome::Declined(decline));
        }
        // The bank books what the enrolment's `tranType` said (sale or pre-authorisation).
        let response = self
            .call(
                pos,
                "authorize_3d",
                request.order_id,
                wire::tran_body(terminal, &fields),
            )
            .await?;
        wire::outcome(&response)
    }
}
