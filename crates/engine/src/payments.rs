//! Card payments: create (sale or pre-authorisation), capture (post-auth), and applying a
//! bank outcome or a status-inquiry result to a payment.

use std::time::Instant;

use connectors::{
    Approval, AuthorizeKind, AuthorizeRequest, BankOrderState, CaptureRequest, Decline, Outcome,
    PaymentSync,
};
use domain::bin;
use domain::card::CardDetails;
use domain::enums::{
    ConnectorFamily, ErrorGroup, PaymentAuthenticationType, PaymentGroup, PaymentPhase,
    PaymentSource, PaymentStatus, PosIntegrator, PosStatus,
};
use domain::money::{Currency, MinorUnits};
use store::rows::{
    AttemptRow, ErrorDoc, InsertedPayment, NewAttempt, NewPayment, NewPaymentItem, PaymentDoc,
    PaymentItemRow, PaymentRow, PosRow, Resolution, attempt_state,
};

use crate::route::{RouteRequest, RoutedPos};
use crate::wallet::{PAYMENT_TYPE_CARD, PAYMENT_TYPE_CARD_AND_WALLET, WalletHold};
use crate::{Engine, EngineError, Result, new_order_id, validation};

pub const OPERATION_SALE: &str = "sale";
pub const OPERATION_PRE_AUTH: &str = "pre_auth";
pub const OPERATION_CAPTURE: &str = "capture";

/// Installments Turkish banks offer: 1 (single payment) up to 12.
pub const INSTALLMENT_MAX: u32 = 12;

#[derive(Debug, Clone)]
pub struct PaymentItemInput {
    pub name: Option<String>,
    pub external_id: Option<String>,
    pub price: MinorUnits,
    pub sub_merchant_member_id: Option<i64>,
    pub sub_merchant_member_price: Option<MinorUnits>,
}

/// A validated `CreatePaymentRequest`.
#[derive(Debug, Clone)]
pub struct CreatePayment {
    pub price: MinorUnits,
    pub paid_price: MinorUnits,
    pub currency: Currency,
    pub installment: u32,
    pub phase: PaymentPhase,
    pub payment_group: PaymentGroup,
    pub source: PaymentSource,
    pub conversation_id: Option<String>,
    pub external_id: Option<String>,
    pub bank_order_id: Option<String>,
    pub buyer_member_id: Option<i64>,
    pub pos_alias: Option<String>,
    pub client_ip: Option<String>,
    pub payment_channel: Option<String>,
    /// Required except for 3D models where the bank's page collects the card.
    pub card: Option<CardDetails>,
    pub items: Vec<PaymentItemInput>,
    pub additional_params: Option<serde_json::Value>,
    /// Set for payments made on the hosted checkout page.
    pub checkout_token: Option<String>,
    /// Set for pay-by-link purchases.
    pub product_id: Option<i64>,
    /// `routingOptions`: ordering rule, POS aliases to restrict to, skip advanced rules.
    pub routing: RoutingChoice,
    /// `retry`: try the next POS after a technical decline (default true).
    pub retry: bool,
    /// Pay with a stored card (`card.cardUserKey` + `card.cardToken`) instead of `card`.
    pub stored_card: Option<StoredCardRef>,
    /// `card.storeCardAfterSuccessPayment`: keep the card in the vault once paid.
    pub store_card_after_success: Option<StoreCardAfter>,
}

#[derive(Debug, Clone)]
pub struct StoredCardRef {
    pub card_user_key: String,
    pub card_token: String,
    /// The CVC the shopper typed for this payment (the hosted page asks for it), if any.
    pub cvc: Option<domain::card::Cvc>,
}

#[derive(Debug, Clone, Default)]
pub struct StoreCardAfter {
    pub card_user_key: Option<String>,
    pub card_alias: Option<String>,
}

/// Craftgate's `routingOptions`.
#[derive(Debug, Clone, Default)]
pub struct RoutingChoice {
    pub ordering_rule: Option<domain::enums::OrderingRule>,
    pub pos_aliases: Vec<String>,
    pub ignore_rules: bool,
}

/// A payment checked and shaped, not yet written.
pub(crate) struct PreparedPayment {
    pub(crate) order_id: String,
    pub(crate) pos: PosRow,
    pub(crate) pos_config: connectors::PosConfig,
    pub(crate) family: ConnectorFamily,
    pub(crate) payment: NewPayment,
    pub(crate) items: Vec<NewPaymentItem>,
    pub(crate) operation: &'static str,
    pub(crate) kind: AuthorizeKind,
    pub(crate) now_ms: i64,
    /// Every POS the payment may go to, best first (the first is `pos`).
    pub(crate) route: Vec<RoutedPos>,
}

/// A payment with its items, as the API renders it.
#[derive(Debug, Clone)]
pub struct PaymentView {
    pub payment: PaymentRow,
    pub items: Vec<PaymentItemRow>,
    /// Every bank attempt, in order (retries on other POSes, captures).
    pub attempts: Vec<AttemptRow>,
}

/// How often a payment write that lost a race with another writer reads and tries again
/// before giving up (each loss means the other writer made progress).
const PAYMENT_WRITE_TRIES: usize = 64;

fn payment_kept_changing(payment_id: i64) -> EngineError {
    EngineError::Internal(format!(
        "payment {payment_id} kept changing while it was being written; try again"
    ))
}

/// Splits `paid` over items in proportion to their prices, exactly: each item gets the
/// floor of its share and the last item the remainder, so the parts always sum to `paid`.
pub fn split_paid_price(paid: i64, prices: &[i64]) -> Vec<i64> {
    let total: i128 = prices.iter().map(|p| i128::from(*p)).sum();
    if total == 0 || prices.is_empty() {
        return prices.to_vec();
    }
    let mut parts: Vec<i64> = prices
        .iter()
        .map(|p| i64::try_from(i128::from(paid) * i128::from(*p) / total).unwrap_or(0))
        .collect();
    let assigned: i64 = parts.iter().sum();
    if let Some(last) = parts.last_mut() {
        *last += paid - assigned;
    }
    parts
}

fn error_doc(decline: &Decline, turkish: bool) -> ErrorDoc {
    ErrorDoc {
        error_code: decline.group.error_code().to_owned(),
        error_description: decline.group.description(turkish).to_owned(),
        error_group: decline.group.as_str().to_owned(),
        provider_error_code: Some(decline.code.clone()).filter(|c| !c.is_empty()),
        provider_error_message: Some(decline.message.clone()).filter(|m| !m.is_empty()),
    }
}

fn decline_error(decline: &Decline) -> EngineError {
    EngineError::Declined {
        group: decline.group,
        provider_code: Some(decline.code.clone()).filter(|c| !c.is_empty()),
        provider_message: Some(decline.message.clone()).filter(|m| !m.is_empty()),
    }
}

fn apply_approval(doc: &mut PaymentDoc, approval: &Approval) {
    doc.auth_code = approval.auth_code.clone();
    doc.host_reference = approval.host_reference.clone();
    doc.trans_id = approval.transaction_id.clone();
    doc.error = None;
}

fn pos_allows_non_3ds(pos: &PosRow) -> bool {
    let types = &pos.doc.enabled_payment_authentication_types;
    types.is_empty()
        || types
            .iter()
            .any(|t| t == PaymentAuthenticationType::NonThreeDs.as_str())
}

fn pos_allows_3ds(pos: &PosRow) -> bool {
    let types = &pos.doc.enabled_payment_authentication_types;
    types.is_empty()
        || types
            .iter()
            .any(|t| t == PaymentAuthenticationType::ThreeDs.as_str())
}

pub(crate) fn pos_family(pos: &PosRow) -> Option<ConnectorFamily> {
    PosIntegrator::parse(&pos.pos_integrator).and_then(|i| i.family())
}

fn pos_takes_payments(pos: &PosRow) -> bool {
    pos.status == PosStatus::Active.as_str() || pos.status == PosStatus::Autopilot.as_str()
}

/// What a status inquiry established.
#[derive(Debug)]
pub(crate) enum Inquiry {
    Approved,
    Declined(Decline),
    /// The bank could not say yet: the attempt may have charged.
    Unresolved,
}

/// A decline that says the POS or the bank failed, not the card: another POS may succeed.
/// Issuer declines (stolen, lost, fraud, funds, expired, CVC…) are never retried.
pub fn is_retryable(group: ErrorGroup) -> bool {
    matches!(
        group,
        ErrorGroup::BankNotAvailable
            | ErrorGroup::InvalidMerchantOrPos
            | ErrorGroup::NotPermittedToTerminal
            | ErrorGroup::InvalidInstallment
            | ErrorGroup::DuplicateOrder
    )
}

/// A decline caused on the acquirer's side, which counts against the POS's health.
fn is_acquirer_side(group: ErrorGroup) -> bool {
    matches!(
        group,
        ErrorGroup::BankNotAvailable | ErrorGroup::InvalidMerchantOrPos
    )
}

/// The bank's commission on what is actually charged (`paidPrice`), rounded half-up once.
fn commission_minor(
    rate: Option<rust_decimal::Decimal>,
    paid_minor: i64,
    currency: &str,
) -> Option<i64> {
    let currency: Currency = currency.parse().ok()?;
    rate.map(|r| routing::cost_amount(MinorUnits::from_stored(paid_minor), r, currency).get())
}

fn commission_of(routed: &RoutedPos, payment: &PaymentRow) -> Option<i64> {
    commission_minor(
        routed.cost_rate,
        payment.paid_price_minor,
        &payment.currency,
    )
}

fn commission_of_new(routed: &RoutedPos, payment: &NewPayment) -> Option<i64> {
    commission_minor(
        routed.cost_rate,
        payment.paid_price_minor,
        &payment.currency,
    )
}

/// Writes a POS's identity and cost into a payment.
fn set_pos(payment: &mut PaymentRow, routed: &RoutedPos) {
    let (bank_id, _) = PosIntegrator::parse(&routed.pos.pos_integrator)
        .map(|i| i.bank())
        .unwrap_or((0, ""));
    payment.pos_id = Some(routed.pos.id);
    payment.doc.pos_name = Some(routed.pos.name.clone());
    payment.doc.pos_alias = Some(routed.pos.alias.clone());
    payment.doc.pos_bank_id = Some(i64::from(bank_id));
    payment.doc.bank_commission_rate = routed.cost_rate.map(|r| r.normalize().to_string());
    payment.doc.bank_commission_minor = commission_of(routed, payment);
    payment.doc.merchant_commission_rate = Some(routed.merchant_rate.normalize().to_string());
}

impl Engine {
    /// Picks the POS for a payment: the requested alias, else the first active POS (by
    /// `orderNumber`) for the currency. Smart routing replaces the second rule later.
    async fn choose_pos(
        &self,
        merchant_id: i64,
        request: &CreatePayment,
        three_ds: bool,
    ) -> Result<PosRow> {
        let allows = |pos: &PosRow| {
            if three_ds {
                pos_allows_3ds(pos)
            } else {
                pos_allows_non_3ds(pos)
            }
        };
        let poses = self.store.poses(merchant_id).await?;
        if let Some(alias) = &request.pos_alias {
            let pos = poses
                .into_iter()
                .find(|p| &p.alias == alias)
                .ok_or_else(|| validation("4004", format!("no merchant POS with alias {alias}")))?;
            if !pos_takes_payments(&pos) {
                return Err(validation(
                    "4006",
                    format!("merchant POS {alias} is not active"),
                ));
            }
            if pos.currency != request.currency.code() {
                return Err(validation(
                    "4007",
                    format!("merchant POS {alias} does not take {}", request.currency),
                ));
            }
            if !pos_allows_non_3ds(&pos) {
                return Err(validation(
                    "4008",
                    format!("merchant POS {alias} requires 3D Secure"),
                ));
            }
            if pos_family(&pos).is_none() {
                return Err(validation("4005", "merchant POS has no connector"));
            }
            return Ok(pos);
        }
        poses
            .into_iter()
            .find(|p| {
                pos_takes_payments(p)
                    && p.currency == request.currency.code()
                    && allows(p)
                    && pos_family(p).is_some()
                    && (request.installment <= 1 || p.doc.enable_installment)
            })
            .ok_or_else(|| {
                validation(
                    "4009",
                    format!("no active merchant POS takes {} payments", request.currency),
                )
            })
    }

    /// Everything about a new payment that does not depend on how it authenticates:
    /// checks, the POS, card facts, items, the first attempt's order id.
    /// The POSes that may take this payment, best first, and the decision as JSON.
    async fn route_payment(
        &self,
        merchant_id: i64,
        request: &CreatePayment,
        three_ds: bool,
    ) -> Result<(Vec<RoutedPos>, Box<serde_json::value::RawValue>)> {
        let aliases = match &request.pos_alias {
            // `posAlias` names one POS: check it for a precise error, then route to it alone.
            Some(alias) => {
                self.choose_pos(merchant_id, request, three_ds).await?;
                vec![alias.clone()]
            }
            None => request.routing.pos_aliases.clone(),
        };
        let route = self
            .route(
                merchant_id,
                &RouteRequest {
                    price: request.price,
                    currency: request.currency,
                    installment: request.installment,
                    three_ds,
                    bin: request.card.as_ref().map(|c| c.number.bin8().to_owned()),
                    ordering_rule: request.routing.ordering_rule,
                    pos_aliases: aliases,
                    ignore_rules: request.routing.ignore_rules,
                },
            )
            .await?;
        if route.candidates.is_empty() {
            if let Some(alias) = &request.pos_alias {
                return Err(validation(
                    "4006",
                    format!(
                        "merchant POS {alias} cannot take this payment now (out of rotation after repeated failures, or not eligible for this card)"
                    ),
                ));
            }
            let reason = if request.installment > 1 {
                format!(
                    "no active merchant POS takes {} payments in {} installments for this card",
                    request.currency, request.installment
                )
            } else {
                format!(
                    "no active merchant POS takes {} payments for this card",
                    request.currency
                )
            };
            return Err(validation("4009", reason));
        }
        Ok((route.candidates, route.explanation))
    }

    pub(crate) async fn prepare_payment(
        &self,
        merchant_id: i64,
        request: &CreatePayment,
        three_ds: bool,
    ) -> Result<PreparedPayment> {
        let now = self.clock.now();
        let today = now.with_timezone(&self.config.zone).date_naive();
        if request
            .card
            .as_ref()
            .is_some_and(|c| c.expiry.is_expired_on(today))
        {
            return Err(EngineError::Declined {
                group: ErrorGroup::ExpiredCard,
                provider_code: None,
                provider_message: None,
            });
        }
        let (route, explanation) = self.route_payment(merchant_id, request, three_ds).await?;
        let pos = route[0].pos.clone();
        if request.installment > 1 && !pos.doc.enable_installment {
            return Err(validation(
                "4103",
                "installments are not enabled on this POS",
            ));
        }
        if request.stored_card.is_none()
            && request.card.as_ref().is_some_and(|c| c.cvc.is_none())
            && !pos.doc.enable_payment_without_cvc
        {
            return Err(validation("4012", "cvc is required"));
        }
        let family = pos_family(&pos).ok_or(EngineError::NotFound("connector"))?;
        let pos_config = self.pos_config(&pos)?;
        let bin_info = request
            .card
            .as_ref()
            .and_then(|c| bin::lookup(c.number.bin8()));
        let (bank_id, _) = PosIntegrator::parse(&pos.pos_integrator)
            .map(|i| i.bank())
            .unwrap_or((0, ""));
        let doc = PaymentDoc {
            payment_type: "CARD_PAYMENT".into(),
            is_three_ds: three_ds,
            payment_channel: request.payment_channel.clone(),
            client_ip: request.client_ip.clone(),
            card_holder_name: request.card.as_ref().map(|c| c.holder_name.clone()),
            card_type: bin_info
                .as_ref()
                .and_then(|b| b.card_type)
                .map(|t| t.as_str().to_owned()),
            card_association: bin_info
                .as_ref()
                .and_then(|b| b.association)
                .map(|a| a.as_str().to_owned()),
            card_brand: bin_info
                .as_ref()
                .and_then(|b| b.card_brand)
                .map(str::to_owned),
            card_issuer_bank_name: bin_info.as_ref().and_then(|b| b.bank_name.clone()),
            card_issuer_bank_id: bin_info.as_ref().and_then(|b| b.bank_code).map(i64::from),
            requested_pos_alias: request.pos_alias.clone(),
            pos_name: Some(pos.name.clone()),
            pos_alias: Some(pos.alias.clone()),
            pos_bank_id: Some(i64::from(bank_id)),
            additional_params: request.additional_params.clone(),
            ..PaymentDoc::default()
        };
        let prices: Vec<i64> = request.items.iter().map(|i| i.price.get()).collect();
        let paid_parts = split_paid_price(request.paid_price.get(), &prices);
        let items = request
            .items
            .iter()
            .zip(paid_parts)
            .map(|(item, paid)| NewPaymentItem {
                name: item.name.clone(),
                external_id: item.external_id.clone(),
                price_minor: item.price.get(),
                paid_price_minor: paid,
                sub_merchant_member_id: item.sub_merchant_member_id,
                sub_merchant_member_price_minor: item
                    .sub_merchant_member_price
                    .map(MinorUnits::get),
            })
            .collect();
        let (operation, kind) = match request.phase {
            PaymentPhase::PreAuth => (OPERATION_PRE_AUTH, AuthorizeKind::PreAuth),
            PaymentPhase::Auth | PaymentPhase::PostAuth => (OPERATION_SALE, AuthorizeKind::Sale),
        };
        let now_ms = now.timestamp_millis();
        let payment = NewPayment {
            merchant_id,
            status: PaymentStatus::Waiting.as_str().to_owned(),
            phase: request.phase.as_str().to_owned(),
            price_minor: request.price.get(),
            paid_price_minor: request.paid_price.get(),
            currency: request.currency.code().to_owned(),
            installment: i64::from(request.installment.max(1)),
            payment_group: request.payment_group.as_str().to_owned(),
            payment_source: request.source.as_str().to_owned(),
            conversation_id: request.conversation_id.clone(),
            external_id: request.external_id.clone(),
            buyer_member_id: request.buyer_member_id,
            pos_id: pos.id,
            bin_number: request.card.as_ref().map(|c| c.number.bin6().to_owned()),
            last_four: request
                .card
                .as_ref()
                .map(|c| c.number.last_four().to_owned()),
            doc,
            checkout_token: request.checkout_token.clone(),
            product_id: request.product_id,
            created_at: now_ms,
        };
        let mut payment = payment;
        payment.doc.routing = Some(explanation);
        if let Some(first) = route.first() {
            payment.doc.bank_commission_rate = first.cost_rate.map(|r| r.normalize().to_string());
            payment.doc.bank_commission_minor = commission_of_new(first, &payment);
            payment.doc.merchant_commission_rate =
                Some(first.merchant_rate.normalize().to_string());
        }
        Ok(PreparedPayment {
            order_id: request.bank_order_id.clone().unwrap_or_else(new_order_id),
            route,
            pos,
            pos_config,
            family,
            payment,
            items,
            operation,
            kind,
            now_ms,
        })
    }

    /// Writes a prepared payment and its first attempt, before any bank call.
    pub(crate) async fn insert_prepared(
        &self,
        prepared: &PreparedPayment,
        attempt: &NewAttempt,
    ) -> Result<InsertedPayment> {
        let started = Instant::now();
        let inserted = self
            .store
            .insert_payment(
                &prepared.payment,
                &prepared.items,
                attempt,
                self.inquiry_due_after_call(prepared.now_ms),
            )
            .await;
        tracing::debug!(
            elapsed_us = started.elapsed().as_micros(),
            "payment written"
        );
        inserted.map_err(|e| match e {
            store::StoreError::Duplicate(_) => validation("4010", "bankOrderId was used before"),
            store::StoreError::Conflict(_) => EngineError::Refused {
                code: "4504",
                message: "sold out".into(),
            },
            other => other.into(),
        })
    }

    pub async fn create_payment(
        &self,
        merchant_id: i64,
        request: CreatePayment,
    ) -> Result<PaymentView> {
        self.create_payment_with(merchant_id, request, None).await
    }

    /// A card payment, optionally holding money in a wallet while the bank is asked (a
    /// top-up, or the wallet part of a card-and-wallet payment): the hold is written after
    /// the payment and before the bank call, and settled where the outcome is applied.
    pub(crate) async fn create_payment_with(
        &self,
        merchant_id: i64,
        request: CreatePayment,
        hold: Option<WalletHold>,
    ) -> Result<PaymentView> {
        let request = self.resolve_stored_card(merchant_id, request).await?;
        let mut prepared = self.prepare_payment(merchant_id, &request, false).await?;
        let card = request
            .card
            .as_ref()
            .ok_or_else(|| validation("4001", "card is required"))?;
        // What the card is charged: all of it, or what the wallet does not pay.
        let card_amount = match &hold {
            Some(hold) => {
                prepared.payment.doc.payment_type = hold.payment_type().to_owned();
                hold.card_amount(request.paid_price)
            }
            None => request.paid_price,
        };
        let candidates = prepared.route.clone();
        let first = NewAttempt::direct(
            prepared.pos.id,
            prepared.order_id.clone(),
            prepared.operation,
            card_amount.get(),
            prepared.now_ms,
        );
        let inserted = self.insert_prepared(&prepared, &first).await?;
        let payment_id = inserted.payment.id;
        let first_attempt_id = inserted.attempt.id;
        if let Some(hold) = &hold
            && let Err(error) = self.place_payment_hold(merchant_id, payment_id, hold).await
        {
            // The wallet refused (balance, limit): the payment fails before any bank call.
            tracing::info!(payment_id, %error, "wallet hold refused; the card is not charged");
            self.apply_outcome(
                &inserted.attempt,
                Outcome::Declined(Decline {
                    group: ErrorGroup::NotSufficientFunds,
                    code: String::new(),
                    message: "the wallet does not cover its part".into(),
                }),
                true,
            )
            .await?;
            return Err(error);
        }
        // The rows as this request wrote them. While the first attempt is in flight nobody
        // else writes this payment (the recovery task waits for the bank timeout, refunds need
        // a settled payment), so its outcome is written from them, checked by the row's
        // version, and the answer built from them, without reading the payment back. A
        // wallet hold changed the row already: that path reads it again.
        let mut known = hold.is_none().then_some(inserted);
        let kind = prepared.kind;
        let mut last_decline: Option<Decline> = None;
        for (index, routed) in candidates.iter().enumerate() {
            let retry_allowed = request.retry && index + 1 < candidates.len();
            let (attempt_id, order_id) = if index == 0 {
                (first_attempt_id, prepared.order_id.clone())
            } else {
                known = None;
                // A retry is a new attempt with its own bank order id, never a reuse.
                self.move_payment_to(merchant_id, payment_id, routed)
                    .await?;
                let order_id = new_order_id();
                let now = self.now_ms();
                let id = self
                    .store
                    .insert_attempt(
                        payment_id,
                        merchant_id,
                        &NewAttempt::direct(
                            routed.pos.id,
                            order_id.clone(),
                            prepared.operation,
                            card_amount.get(),
                            now,
                        ),
                        self.inquiry_due_after_call(now),
                    )
                    .await?;
                (id, order_id)
            };
            let family = pos_family(&routed.pos).ok_or(EngineError::NotFound("connector"))?;
            let config = self.pos_config(&routed.pos)?;
            tracing::info!(
                payment_id,
                attempt_id,
                connector = family.as_str(),
                pos_id = routed.pos.id,
                retry = index,
                "authorizing"
            );
            let outcome = self
                .connectors
                .get(family)
                .authorize(
                    &config,
                    &AuthorizeRequest {
                        order_id: &order_id,
                        kind,
                        amount: card_amount,
                        currency: request.currency,
                        installment: request.installment,
                        card,
                        client_ip: request.client_ip.as_deref(),
                    },
                )
                .await;
            let attempt = match &known {
                Some(rows) => rows.attempt.clone(),
                None => self
                    .store
                    .attempt(attempt_id)
                    .await?
                    .ok_or(EngineError::NotFound("attempt"))?,
            };
            let decline = match outcome {
                Ok(Outcome::Approved(approval)) => {
                    self.note_pos_health(&routed.pos, false).await;
                    let written = self
                        .apply_outcome_from(
                            &attempt,
                            Outcome::Approved(approval),
                            true,
                            known.as_ref().map(|rows| &rows.payment),
                        )
                        .await?;
                    let card_kept = self
                        .keep_card_if_asked(merchant_id, payment_id, &request)
                        .await?;
                    return match (known, written, card_kept) {
                        (Some(rows), Some((payment, attempt)), false) => Ok(PaymentView {
                            payment,
                            items: rows.items,
                            attempts: vec![attempt],
                        }),
                        _ => self.payment_view(merchant_id, payment_id).await,
                    };
                }
                Ok(Outcome::Declined(decline)) => {
                    self.note_pos_health(&routed.pos, is_acquirer_side(decline.group))
                        .await;
                    decline
                }
                Err(error) if error.nothing_was_sent() => {
                    self.note_pos_health(&routed.pos, true).await;
                    Decline {
                        group: ErrorGroup::InvalidMerchantOrPos,
                        code: String::new(),
                        message: error.to_string(),
                    }
                }
                Err(error) => {
                    self.note_pos_health(&routed.pos, true).await;
                    tracing::warn!(payment_id, attempt_id, %error, "bank outcome unknown; asking the bank");
                    self.store
                        .mark_attempt_unknown(
                            attempt_id,
                            self.now_ms() + self.inquiry_retry_ms(),
                            self.now_ms(),
                        )
                        .await?;
                    // One immediate status inquiry settles most blips. When the bank answered
                    // (unreadably), the request is no longer in flight and "no such order"
                    // proves no charge; after a timeout it proves nothing yet.
                    match self
                        .inquire(&attempt, error.answer_received(), !retry_allowed)
                        .await?
                    {
                        Inquiry::Approved => {
                            return self.payment_view(merchant_id, payment_id).await;
                        }
                        Inquiry::Declined(decline)
                            if retry_allowed && is_retryable(decline.group) =>
                        {
                            last_decline = Some(decline);
                            continue;
                        }
                        Inquiry::Declined(decline) => {
                            self.fail_payment(&attempt, &decline).await?;
                            return Err(decline_error(&decline));
                        }
                        // Possibly charged: never try elsewhere; recovery settles it.
                        Inquiry::Unresolved => {
                            return self.payment_view(merchant_id, payment_id).await;
                        }
                    }
                }
            };
            let known_payment = known.as_ref().map(|rows| &rows.payment);
            let retry = retry_allowed && is_retryable(decline.group);
            if retry {
                tracing::info!(payment_id, attempt_id, group = %decline.group, "declined for a technical reason; trying the next POS");
            }
            // The last decline settles the payment; one before a retry only its attempt.
            self.apply_outcome_from(
                &attempt,
                Outcome::Declined(decline.clone()),
                !retry,
                known_payment,
            )
            .await?;
            if retry {
                last_decline = Some(decline);
                continue;
            }
            return Err(decline_error(&decline));
        }
        let decline = last_decline.unwrap_or(Decline {
            group: ErrorGroup::BankNotAvailable,
            code: String::new(),
            message: String::new(),
        });
        Err(decline_error(&decline))
    }

    /// Replaces a stored-card reference by the card itself, opened from the vault (audited).
    pub(crate) async fn resolve_stored_card(
        &self,
        merchant_id: i64,
        mut request: CreatePayment,
    ) -> Result<CreatePayment> {
        if let Some(stored) = &request.stored_card {
            let (_, card) = self
                .open_card(
                    merchant_id,
                    &stored.card_user_key,
                    &stored.card_token,
                    crate::cards::CardUse::Payment,
                    "api",
                )
                .await?;
            request.card = Some(CardDetails {
                cvc: stored.cvc.clone(),
                ..card
            });
        }
        Ok(request)
    }

    /// After a successful payment: store the card if asked, and record which stored card
    /// paid. Returns whether the payment was written.
    pub(crate) async fn keep_card_if_asked(
        &self,
        merchant_id: i64,
        payment_id: i64,
        request: &CreatePayment,
    ) -> Result<bool> {
        let stored = match (
            &request.stored_card,
            &request.store_card_after_success,
            &request.card,
        ) {
            (Some(stored), _, _) => Some((
                stored.card_user_key.clone(),
                stored.card_token.clone(),
                true,
            )),
            (None, Some(keep), Some(card)) => {
                let row = self
                    .store_card(
                        merchant_id,
                        keep.card_user_key.clone(),
                        card,
                        keep.card_alias.clone(),
                    )
                    .await?;
                Some((row.card_user_key, row.card_token, false))
            }
            _ => None,
        };
        if let Some((user_key, token, paid_with_stored)) = stored {
            self.change_payment(merchant_id, payment_id, |payment| {
                payment.doc.card_user_key = Some(user_key.clone());
                payment.doc.card_token = Some(token.clone());
                payment.doc.paid_with_stored_card = paid_with_stored;
            })
            .await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Changes a payment as read now and writes it only if nobody wrote it meanwhile (its
    /// `version`); otherwise reads it again and retries. Returns the payment as written.
    pub async fn change_payment(
        &self,
        merchant_id: i64,
        payment_id: i64,
        change: impl Fn(&mut PaymentRow),
    ) -> Result<PaymentRow> {
        for _ in 0..PAYMENT_WRITE_TRIES {
            let mut payment = self
                .store
                .payment_fresh(merchant_id, payment_id)
                .await?
                .ok_or(EngineError::NotFound("payment"))?;
            let previous_status = payment.status.clone();
            change(&mut payment);
            let now = self.now_ms();
            if self
                .store
                .update_payment_from(&payment, &previous_status, now)
                .await?
            {
                payment.version += 1;
                payment.updated_at = now;
                return Ok(payment);
            }
        }
        Err(payment_kept_changing(payment_id))
    }

    /// Points a payment at the POS of its next attempt (retry), with that POS's cost.
    pub(crate) async fn move_payment_to(
        &self,
        merchant_id: i64,
        payment_id: i64,
        routed: &RoutedPos,
    ) -> Result<()> {
        self.change_payment(merchant_id, payment_id, |payment| {
            set_pos(payment, routed);
            payment.doc.retry_count += 1;
        })
        .await?;
        Ok(())
    }

    /// Fails a payment whose last attempt was already resolved (retry stopped).
    async fn fail_payment(&self, attempt: &AttemptRow, decline: &Decline) -> Result<()> {
        let payment = self
            .change_payment(attempt.merchant_id, attempt.payment_id, |payment| {
                payment.status = PaymentStatus::Failure.as_str().to_owned();
                payment.doc.error = Some(error_doc(decline, false));
                payment.doc.order_id = Some(attempt.order_id.clone());
            })
            .await?;
        if payment.doc.payment_type != PAYMENT_TYPE_CARD {
            self.follow_payment_hold(attempt.merchant_id, attempt.payment_id)
                .await;
        }
        Ok(())
    }

    /// When the recovery task may look at an attempt that is in flight now: after the bank
    /// timeout, with a margin, so it never races a live request.
    pub(crate) fn inquiry_due_after_call(&self, now_ms: i64) -> i64 {
        let timeout_ms = i64::try_from(self.config.bank_timeout.as_millis()).unwrap_or(30_000);
        now_ms + timeout_ms + 5_000
    }

    pub async fn payment_view(&self, merchant_id: i64, payment_id: i64) -> Result<PaymentView> {
        let payment = self
            .store
            .payment_fresh(merchant_id, payment_id)
            .await?
            .ok_or(EngineError::NotFound("payment"))?;
        let items = self.store.payment_items(payment_id).await?;
        let attempts = self.store.attempts_of_payment(payment_id).await?;
        Ok(PaymentView {
            payment,
            items,
            attempts,
        })
    }

    /// Applies a fact from the bank to an attempt and its payment, exactly once.
    pub(crate) async fn apply_outcome(
        &self,
        attempt: &AttemptRow,
        outcome: Outcome,
        settle_payment: bool,
    ) -> Result<()> {
        self.apply_outcome_from(attempt, outcome, settle_payment, None)
            .await
            .map(|_| ())
    }

    /// [`Engine::apply_outcome`] from the payment as the caller holds it (`known`), written
    /// only if the stored row is still that version; otherwise, or without `known`, from the
    /// payment read again. Returns the payment and the attempt as written when this call
    /// applied the outcome from `known`; `None` otherwise (someone else wrote the payment
    /// meanwhile: only a read tells what it looks like now).
    pub(crate) async fn apply_outcome_from(
        &self,
        attempt: &AttemptRow,
        outcome: Outcome,
        settle_payment: bool,
        known: Option<&PaymentRow>,
    ) -> Result<Option<(PaymentRow, AttemptRow)>> {
        let mut known = known.cloned();
        let from_known = known.is_some();
        for round in 0..PAYMENT_WRITE_TRIES {
            let payment = match known.take() {
                Some(payment) => payment,
                None => self
                    .store
                    .payment_fresh(attempt.merchant_id, attempt.payment_id)
                    .await?
                    .ok_or(EngineError::NotFound("payment"))?,
            };
            // `None`: the payment changed since it was read; apply to a fresh read.
            if let Some(written) = self
                .apply_outcome_to(attempt, &outcome, settle_payment, payment)
                .await?
            {
                return Ok(written.filter(|_| from_known && round == 0));
            }
        }
        Err(payment_kept_changing(attempt.payment_id))
    }

    /// One try of [`Engine::apply_outcome_from`] on `payment` as read: `None` when its
    /// version moved on meanwhile (nothing written).
    async fn apply_outcome_to(
        &self,
        attempt: &AttemptRow,
        outcome: &Outcome,
        settle_payment: bool,
        mut payment: PaymentRow,
    ) -> Result<Option<Option<(PaymentRow, AttemptRow)>>> {
        let previous_status = payment.status.clone();
        let now = self.now_ms();
        let (state, error) = match outcome {
            Outcome::Approved(approval) => {
                match attempt.operation.as_str() {
                    OPERATION_CAPTURE => {
                        payment.doc.pre_auth_minor = Some(payment.paid_price_minor);
                        payment.paid_price_minor = attempt.amount_minor;
                        payment.captured_minor = attempt.amount_minor;
                        payment.phase = PaymentPhase::PostAuth.as_str().to_owned();
                        payment.doc.auth_code =
                            approval.auth_code.clone().or(payment.doc.auth_code);
                        payment.doc.host_reference = approval
                            .host_reference
                            .clone()
                            .or(payment.doc.host_reference);
                        payment.doc.trans_id =
                            approval.transaction_id.clone().or(payment.doc.trans_id);
                    }
                    OPERATION_PRE_AUTH => {
                        apply_approval(&mut payment.doc, approval);
                        payment.status = PaymentStatus::Success.as_str().to_owned();
                        payment.captured_minor = 0;
                        payment.doc.order_id = Some(attempt.order_id.clone());
                    }
                    _ => {
                        apply_approval(&mut payment.doc, approval);
                        payment.status = PaymentStatus::Success.as_str().to_owned();
                        // A card-and-wallet payment captured all of it: the card part at
                        // the bank, the wallet part in the ledger (posted with the hold).
                        payment.captured_minor =
                            if payment.doc.payment_type == PAYMENT_TYPE_CARD_AND_WALLET {
                                payment.paid_price_minor
                            } else {
                                attempt.amount_minor
                            };
                        payment.doc.order_id = Some(attempt.order_id.clone());
                    }
                }
                (attempt_state::APPROVED, None)
            }
            Outcome::Declined(decline) => {
                if attempt.operation != OPERATION_CAPTURE && settle_payment {
                    payment.status = PaymentStatus::Failure.as_str().to_owned();
                    payment.doc.error = Some(error_doc(decline, false));
                    payment.doc.order_id = Some(attempt.order_id.clone());
                }
                (
                    attempt_state::DECLINED,
                    Some((decline.code.as_str(), decline.message.as_str())),
                )
            }
        };
        let started = Instant::now();
        let resolution = self
            .store
            .resolve_attempt_from(attempt.id, state, error, &payment, &previous_status, now)
            .await?;
        tracing::debug!(
            elapsed_us = started.elapsed().as_micros(),
            "outcome written"
        );
        let applied = match resolution {
            Resolution::Applied => true,
            Resolution::AlreadyResolved => false,
            Resolution::PaymentChanged => return Ok(None),
        };
        if applied && state == attempt_state::APPROVED && attempt.operation == OPERATION_CAPTURE {
            // A smaller capture than authorised: the items share what was captured.
            let items = self.store.payment_items(payment.id).await?;
            let prices: Vec<i64> = items.iter().map(|i| i.price_minor).collect();
            let paid = split_paid_price(attempt.amount_minor, &prices);
            let pairs: Vec<(i64, i64)> = items.iter().map(|i| i.id).zip(paid).collect();
            self.store.set_item_paid_prices(payment.id, &pairs).await?;
        }
        if !applied {
            tracing::info!(
                attempt_id = attempt.id,
                "attempt was already resolved; outcome ignored"
            );
        }
        if applied {
            self.settle_pending_card(attempt, &payment).await?;
        }
        if payment.doc.payment_type != PAYMENT_TYPE_CARD {
            // A top-up or card-and-wallet payment: its wallet hold follows the payment.
            self.follow_payment_hold(attempt.merchant_id, attempt.payment_id)
                .await;
        }
        if !applied {
            return Ok(Some(None));
        }
        // The rows as just written (what a read would return now).
        payment.updated_at = now;
        payment.version += 1;
        let mut attempt = attempt.clone();
        attempt.state = state.to_owned();
        attempt.error_code = error.map(|e| e.0.to_owned());
        attempt.error_message = error.map(|e| e.1.to_owned());
        attempt.updated_at = now;
        Ok(Some(Some((payment, attempt))))
    }

    /// Asks the bank what became of an attempt and applies the answer. `Ok(false)` means the
    /// bank could not say yet (the attempt stays unknown).
    pub async fn sync_attempt(&self, attempt: &AttemptRow) -> Result<bool> {
        Ok(!matches!(
            self.inquire(attempt, false, true).await?,
            Inquiry::Unresolved
        ))
    }

    /// The bank's status inquiry for one attempt, applied. `not_found_final`: the original
    /// request is known to be finished (its answer came back), so "no such order" proves no
    /// charge at once. `settle_payment`: a decline also fails the payment (not when the
    /// caller may still retry on another POS).
    pub(crate) async fn inquire(
        &self,
        attempt: &AttemptRow,
        not_found_final: bool,
        settle_payment: bool,
    ) -> Result<Inquiry> {
        let pos = self
            .store
            .pos_any_status(attempt.merchant_id, attempt.pos_id)
            .await?
            .ok_or(EngineError::NotFound("merchant pos"))?;
        let family = pos_family(&pos).ok_or(EngineError::NotFound("connector"))?;
        let config = self.pos_config(&pos)?;
        let sync = match self
            .connectors
            .get(family)
            .sync_payment(&config, &attempt.order_id)
            .await
        {
            Ok(sync) => sync,
            Err(error) => {
                tracing::warn!(attempt_id = attempt.id, %error, "status inquiry failed; will ask again");
                return Ok(Inquiry::Unresolved);
            }
        };
        tracing::info!(attempt_id = attempt.id, ?sync, "status inquiry answered");
        let settled_by_bank = !matches!(
            (attempt.operation.as_str(), &sync),
            (_, PaymentSync::NotFound)
                | (
                    OPERATION_CAPTURE,
                    PaymentSync::Approved {
                        state: BankOrderState::PreAuthorized,
                        ..
                    }
                )
        );
        if !settled_by_bank
            && !not_found_final
            && self.now_ms() - attempt.created_at < self.config.not_found_final_after_ms()
        {
            // The request may still be on its way through the bank: ask again later.
            return Ok(Inquiry::Unresolved);
        }
        let outcome = match (attempt.operation.as_str(), sync) {
            (_, PaymentSync::NotFound) => Outcome::Declined(Decline {
                group: ErrorGroup::BankNotAvailable,
                code: String::new(),
                message: "the bank has no record of this order".into(),
            }),
            (_, PaymentSync::Declined(decline)) => Outcome::Declined(decline),
            (OPERATION_CAPTURE, PaymentSync::Approved { approval, state }) => match state {
                BankOrderState::Captured | BankOrderState::Refunded => Outcome::Approved(approval),
                BankOrderState::PreAuthorized => Outcome::Declined(Decline {
                    group: ErrorGroup::BankNotAvailable,
                    code: String::new(),
                    message: "the capture did not reach the bank".into(),
                }),
                BankOrderState::Voided => Outcome::Declined(Decline {
                    group: ErrorGroup::InvalidTransaction,
                    code: String::new(),
                    message: "the order is voided".into(),
                }),
            },
            (_, PaymentSync::Approved { approval, .. }) => Outcome::Approved(approval),
        };
        let result = match &outcome {
            Outcome::Approved(_) => Inquiry::Approved,
            Outcome::Declined(decline) => Inquiry::Declined(decline.clone()),
        };
        let settle = settle_payment || matches!(result, Inquiry::Approved);
        self.apply_outcome(attempt, outcome, settle).await?;
        Ok(result)
    }

    /// Captures a pre-authorisation (post-auth) for `paid_price`, at most what was authorised.
    pub async fn post_auth(
        &self,
        merchant_id: i64,
        payment_id: i64,
        paid_price: Option<MinorUnits>,
    ) -> Result<PaymentView> {
        let payment = self
            .store
            .payment_fresh(merchant_id, payment_id)
            .await?
            .ok_or(EngineError::NotFound("payment"))?;
        if payment.status != PaymentStatus::Success.as_str()
            || payment.phase != PaymentPhase::PreAuth.as_str()
        {
            return Err(EngineError::Refused {
                code: "4201",
                message: "only a successful PRE_AUTH payment can be captured".into(),
            });
        }
        if payment.voided {
            return Err(EngineError::Refused {
                code: "4202",
                message: "the pre-authorisation was cancelled".into(),
            });
        }
        let amount = paid_price.unwrap_or(MinorUnits::from_stored(payment.paid_price_minor));
        if amount.get() > payment.paid_price_minor {
            return Err(validation(
                "4203",
                "paidPrice cannot exceed the pre-authorised amount",
            ));
        }
        let currency: Currency = payment
            .currency
            .parse()
            .map_err(|_| EngineError::Internal("currency".into()))?;
        let order_id = payment
            .doc
            .order_id
            .clone()
            .ok_or(EngineError::Internal("missing order id".into()))?;
        let pos_id = payment
            .pos_id
            .ok_or(EngineError::Internal("missing pos".into()))?;
        let pos = self
            .store
            .pos_any_status(merchant_id, pos_id)
            .await?
            .ok_or(EngineError::NotFound("merchant pos"))?;
        let family = pos_family(&pos).ok_or(EngineError::NotFound("connector"))?;
        let config = self.pos_config(&pos)?;
        let now = self.now_ms();
        let attempt_id = self
            .store
            .insert_attempt(
                payment_id,
                merchant_id,
                &NewAttempt::direct(
                    pos_id,
                    order_id.clone(),
                    OPERATION_CAPTURE,
                    amount.get(),
                    now,
                ),
                self.inquiry_due_after_call(now),
            )
            .await
            .map_err(|e| match e {
                store::StoreError::Duplicate(_) => EngineError::Refused {
                    code: "4204",
                    message: "this pre-authorisation is already being captured".into(),
                },
                other => other.into(),
            })?;
        let attempt = self
            .store
            .attempt(attempt_id)
            .await?
            .ok_or(EngineError::NotFound("attempt"))?;
        let outcome = self
            .connectors
            .get(family)
            .capture(
                &config,
                &CaptureRequest {
                    order_id: &order_id,
                    amount,
                    pre_auth_amount: MinorUnits::from_stored(payment.paid_price_minor),
                    currency,
                },
            )
            .await;
        match outcome {
            Ok(outcome) => {
                self.apply_outcome(&attempt, outcome.clone(), true).await?;
                if let Outcome::Declined(decline) = outcome {
                    return Err(decline_error(&decline));
                }
                self.payment_view(merchant_id, payment_id).await
            }
            Err(error) => {
                tracing::warn!(payment_id, attempt_id, %error, "capture outcome unknown; asking the bank");
                self.store
                    .mark_attempt_unknown(
                        attempt_id,
                        self.now_ms() + self.inquiry_retry_ms(),
                        self.now_ms(),
                    )
                    .await?;
                if self.sync_attempt(&attempt).await? {
                    let view = self.payment_view(merchant_id, payment_id).await?;
                    if view.payment.phase == PaymentPhase::PostAuth.as_str() {
                        return Ok(view);
                    }
                    return Err(EngineError::Refused {
                        code: "4205",
                        message: "the bank did not capture the payment".into(),
                    });
                }
                Err(EngineError::OutcomeUnknown)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_paid_price;

    #[test]
    fn paid_price_split_is_exact() {
        assert_eq!(split_paid_price(10000, &[5000, 5000]), vec![5000, 5000]);
        assert_eq!(
            split_paid_price(10001, &[3333, 3333, 3334]),
            vec![3333, 3333, 3335]
        );
        assert_eq!(split_paid_price(11000, &[3000, 7000]), vec![3300, 7700]);
        let parts = split_paid_price(99_999, &[1, 2, 3, 4]);
        assert_eq!(parts.iter().sum::<i64>(), 99_999);
    }
}
