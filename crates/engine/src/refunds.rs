//! Cancels and refunds. A full refund on the payment's own (local) day is a void (`CANCEL`);
//! otherwise, and for every partial refund, a credit (`REFUND`). Refundable money is
//! reserved before the bank call (see `Store::reserve_refund`), so concurrent refunds can
//! never exceed what was captured; a bank decline releases the reservation.

use connectors::{BankOrderState, Outcome, PaymentSync, RefundRequest, VoidRequest};
use domain::enums::{
    ErrorGroup, PaymentPhase, PaymentStatus, PosIntegrator, RefundDestinationType, RefundType,
};
use domain::money::{Currency, MinorUnits};
use store::rows::{
    ErrorDoc, PaymentRow, RefundDoc, RefundReservation, RefundRow, RefundTransactionRow,
};

use crate::wallet::{
    PAYMENT_TYPE_CARD_AND_WALLET, PAYMENT_TYPE_DEPOSIT, PAYMENT_TYPE_WALLET, RefundHold,
};
use crate::{Engine, EngineError, Result, validation};
use ledger::TransferCode;

/// Where a refund goes: into the buyer's wallet when asked, and always for payments paid
/// (partly) from a wallet; otherwise back through the bank.
fn refunds_to_wallet(payment: &PaymentRow, destination: Option<RefundDestinationType>) -> bool {
    destination == Some(RefundDestinationType::Wallet)
        || payment.doc.payment_type == PAYMENT_TYPE_WALLET
        || payment.doc.payment_type == PAYMENT_TYPE_CARD_AND_WALLET
}

pub const BANK_VOID: &str = "void";
pub const BANK_CREDIT: &str = "credit";

#[derive(Debug, Clone)]
pub struct RefundView {
    pub refund: RefundRow,
    pub transactions: Vec<RefundTransactionRow>,
}

impl Engine {
    pub(crate) fn check_refundable(
        &self,
        payment: &PaymentRow,
        destination: Option<RefundDestinationType>,
    ) -> Result<()> {
        if destination == Some(RefundDestinationType::Wallet)
            && payment.phase == PaymentPhase::PreAuth.as_str()
        {
            return Err(validation(
                "4301",
                "a pre-authorisation is cancelled at the bank, not refunded to a wallet",
            ));
        }
        if payment.status != PaymentStatus::Success.as_str() {
            return Err(EngineError::Refused {
                code: "4302",
                message: "only a successful payment can be refunded".into(),
            });
        }
        if payment.voided {
            return Err(EngineError::Refused {
                code: "4303",
                message: "the payment is already cancelled".into(),
            });
        }
        Ok(())
    }

    pub(crate) fn same_local_day(&self, payment: &PaymentRow) -> bool {
        let zone = self.config.zone;
        let created = chrono::DateTime::from_timestamp_millis(payment.created_at)
            .map(|t| t.with_timezone(&zone).date_naive());
        created == Some(self.clock.now().with_timezone(&zone).date_naive())
    }

    /// `POST /payment/v1/refunds`: refund (or cancel) everything still refundable.
    pub async fn refund_payment(
        &self,
        merchant_id: i64,
        payment_id: i64,
        conversation_id: Option<String>,
        destination: Option<RefundDestinationType>,
    ) -> Result<RefundView> {
        let payment = self
            .store
            .payment_fresh(merchant_id, payment_id)
            .await?
            .ok_or(EngineError::NotFound("payment"))?;
        self.check_refundable(&payment, destination)?;
        let items = self.store.payment_items(payment_id).await?;
        let pre_auth = payment.phase == PaymentPhase::PreAuth.as_str();
        let is_void = pre_auth || (payment.refunded_minor == 0 && self.same_local_day(&payment));
        let reserve: Vec<(i64, i64)> = if pre_auth {
            Vec::new()
        } else {
            items
                .iter()
                .map(|i| (i.id, i.paid_price_minor - i.refunded_minor))
                .filter(|(_, amount)| *amount > 0)
                .collect()
        };
        if !pre_auth && reserve.is_empty() {
            return Err(EngineError::Refused {
                code: "4304",
                message: "nothing left to refund".into(),
            });
        }
        let amount = if pre_auth {
            payment.paid_price_minor
        } else {
            reserve.iter().map(|(_, a)| a).sum()
        };
        if refunds_to_wallet(&payment, destination) {
            return self
                .refund_into_wallet(&payment, reserve, amount, is_void, false, conversation_id)
                .await;
        }
        let hold = self.deposit_refund_hold(&payment).await?;
        let first = self
            .refund(
                payment.clone(),
                reserve.clone(),
                amount,
                is_void,
                false,
                conversation_id.clone(),
                hold.clone(),
            )
            .await;
        match first {
            // The bank may have settled the day already (its cut-off is not midnight): a
            // refused same-day cancel of a captured payment becomes a refund.
            Err(EngineError::Declined { group, .. })
                if is_void && !pre_auth && group != ErrorGroup::NotSufficientFunds =>
            {
                tracing::info!(payment_id, "cancel refused by the bank; refunding instead");
                self.refund(
                    payment,
                    reserve,
                    amount,
                    false,
                    false,
                    conversation_id,
                    hold,
                )
                .await
            }
            other => other,
        }
    }

    /// `POST /payment/v1/refund-transactions`: refund part of one item.
    pub async fn refund_payment_transaction(
        &self,
        merchant_id: i64,
        payment_transaction_id: i64,
        refund_price: MinorUnits,
        conversation_id: Option<String>,
        destination: Option<RefundDestinationType>,
    ) -> Result<RefundView> {
        let item = self
            .store
            .payment_item(merchant_id, payment_transaction_id)
            .await?
            .ok_or(EngineError::NotFound("payment transaction"))?;
        let payment = self
            .store
            .payment_fresh(merchant_id, item.payment_id)
            .await?
            .ok_or(EngineError::NotFound("payment"))?;
        self.check_refundable(&payment, destination)?;
        if payment.phase == PaymentPhase::PreAuth.as_str() {
            return Err(EngineError::Refused {
                code: "4305",
                message: "a pre-authorisation is cancelled whole through /payment/v1/refunds"
                    .into(),
            });
        }
        if refund_price.get() > item.paid_price_minor - item.refunded_minor {
            return Err(EngineError::Refused {
                code: "4306",
                message: "refundPrice exceeds the transaction's refundable amount".into(),
            });
        }
        if refunds_to_wallet(&payment, destination) {
            return self
                .refund_into_wallet(
                    &payment,
                    vec![(item.id, refund_price.get())],
                    refund_price.get(),
                    false,
                    true,
                    conversation_id,
                )
                .await;
        }
        let hold = self.deposit_refund_hold(&payment).await?;
        self.refund(
            payment,
            vec![(item.id, refund_price.get())],
            refund_price.get(),
            false,
            true,
            conversation_id,
            hold,
        )
        .await
    }

    /// A refund of a top-up (`DEPOSIT_PAYMENT`) takes the money back out of the wallet.
    async fn deposit_refund_hold(&self, payment: &PaymentRow) -> Result<Option<RefundHold>> {
        if payment.doc.payment_type != PAYMENT_TYPE_DEPOSIT {
            return Ok(None);
        }
        let Some(buyer) = payment.buyer_member_id else {
            return Ok(None);
        };
        let wallet = self.member_wallet(payment.merchant_id, buyer).await?;
        Ok(Some(RefundHold {
            wallet,
            code: TransferCode::RefundDeposit,
        }))
    }

    /// Refunds through the bank. With `hold`, the refunded amount is first held in the
    /// buyer's wallet (a top-up going back to its card): posted once the bank refunded,
    /// voided otherwise; a wallet that no longer holds the money refuses the refund.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn refund(
        &self,
        payment: PaymentRow,
        reserve: Vec<(i64, i64)>,
        amount: i64,
        is_void: bool,
        single_item: bool,
        conversation_id: Option<String>,
        hold: Option<RefundHold>,
    ) -> Result<RefundView> {
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
            .pos_any_status(payment.merchant_id, pos_id)
            .await?
            .ok_or(EngineError::NotFound("merchant pos"))?;
        let family = PosIntegrator::parse(&pos.pos_integrator)
            .and_then(|i| i.family())
            .ok_or(EngineError::NotFound("connector"))?;
        let config = self.pos_config(&pos)?;
        let now = self.now_ms();
        let reservation = RefundReservation {
            merchant_id: payment.merchant_id,
            payment_id: payment.id,
            refund_type: if is_void {
                RefundType::Cancel
            } else {
                RefundType::Refund
            }
            .as_str()
            .to_owned(),
            bank_operation: if is_void { BANK_VOID } else { BANK_CREDIT }.to_owned(),
            currency: currency.code().to_owned(),
            conversation_id,
            order_id: order_id.clone(),
            doc: RefundDoc {
                refund_destination_type: RefundDestinationType::Provider.as_str().to_owned(),
                single_item,
                ..RefundDoc::default()
            },
            items: reserve,
            is_void,
            is_after_settlement: !is_void,
            created_at: now,
            amount_minor: amount,
        };
        let (refund_id, _) = self
            .store
            .reserve_refund(&reservation, self.inquiry_due_after_call(now))
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict(message) => EngineError::Refused {
                    code: "4306",
                    message: message.into(),
                },
                other => other.into(),
            })?;
        if let Some(hold) = &hold
            && let Err(error) = self
                .place_refund_hold(payment.merchant_id, refund_id, amount, hold)
                .await
        {
            // The wallet cannot give the money back: nothing goes to the bank.
            let refund = self
                .store
                .refund(payment.merchant_id, refund_id)
                .await?
                .ok_or(EngineError::NotFound("refund"))?;
            self.apply_refund_outcome(
                &refund,
                Outcome::Declined(connectors::Decline {
                    group: ErrorGroup::NotSufficientFunds,
                    code: String::new(),
                    message: "the wallet does not hold the amount any more".into(),
                }),
            )
            .await?;
            return Err(error);
        }
        let connector = self.connectors.get(family);
        tracing::info!(
            refund_id,
            payment_id = payment.id,
            operation = reservation.bank_operation,
            "refunding"
        );
        let outcome = if is_void {
            connector
                .void(
                    &config,
                    &VoidRequest {
                        order_id: &order_id,
                    },
                )
                .await
        } else {
            connector
                .refund(
                    &config,
                    &RefundRequest {
                        order_id: &order_id,
                        amount: MinorUnits::from_stored(amount),
                        currency,
                    },
                )
                .await
        };
        let refund = self
            .store
            .refund(payment.merchant_id, refund_id)
            .await?
            .ok_or(EngineError::NotFound("refund"))?;
        match outcome {
            Ok(outcome) => self.apply_refund_outcome(&refund, outcome).await?,
            Err(error) if error.nothing_was_sent() => {
                self.apply_refund_outcome(
                    &refund,
                    Outcome::Declined(connectors::Decline {
                        group: ErrorGroup::InvalidMerchantOrPos,
                        code: String::new(),
                        message: error.to_string(),
                    }),
                )
                .await?
            }
            Err(error) => {
                tracing::warn!(refund_id, %error, "refund outcome unknown; asking the bank");
                self.store
                    .reschedule_refund(refund_id, self.now_ms() + self.inquiry_retry_ms())
                    .await?;
                let _ = self.sync_refund(&refund).await;
            }
        }
        let view = self.refund_view(payment.merchant_id, refund_id).await?;
        if view.refund.status == "FAILURE"
            && let Some(e) = &view.refund.doc.error
        {
            return Err(EngineError::Declined {
                group: ErrorGroup::parse(&e.error_group).unwrap_or(ErrorGroup::Unknown),
                provider_code: e.provider_error_code.clone(),
                provider_message: e.provider_error_message.clone(),
            });
        }
        Ok(view)
    }

    pub async fn refund_view(&self, merchant_id: i64, refund_id: i64) -> Result<RefundView> {
        let refund = self
            .store
            .refund(merchant_id, refund_id)
            .await?
            .ok_or(EngineError::NotFound("refund"))?;
        let transactions = self.store.refund_transactions_of_refund(refund_id).await?;
        Ok(RefundView {
            refund,
            transactions,
        })
    }

    pub(crate) async fn apply_refund_outcome(
        &self,
        refund: &RefundRow,
        outcome: Outcome,
    ) -> Result<()> {
        let mut doc = refund.doc.clone();
        let success = match outcome {
            Outcome::Approved(approval) => {
                doc.auth_code = approval.auth_code;
                doc.host_reference = approval.host_reference;
                doc.trans_id = approval.transaction_id;
                true
            }
            Outcome::Declined(decline) => {
                doc.error = Some(ErrorDoc {
                    error_code: decline.group.error_code().to_owned(),
                    error_description: decline.group.description(false).to_owned(),
                    error_group: decline.group.as_str().to_owned(),
                    provider_error_code: Some(decline.code).filter(|c| !c.is_empty()),
                    provider_error_message: Some(decline.message).filter(|m| !m.is_empty()),
                });
                false
            }
        };
        self.store
            .resolve_refund(refund.id, success, &doc, self.now_ms())
            .await?;
        // A refund that takes money out of a wallet settles its hold with it.
        self.follow_refund_hold(refund.merchant_id, refund.id).await;
        Ok(())
    }

    /// Asks the bank whether a refund of unknown outcome happened. A void is proven by the
    /// order's state; a credit by a bank credit of the same amount that no successful
    /// refund of ours accounts for yet.
    pub async fn sync_refund(&self, refund: &RefundRow) -> Result<bool> {
        let payment = self
            .store
            .payment_fresh(refund.merchant_id, refund.payment_id)
            .await?
            .ok_or(EngineError::NotFound("payment"))?;
        let pos_id = payment
            .pos_id
            .ok_or(EngineError::Internal("missing pos".into()))?;
        let pos = self
            .store
            .pos_any_status(refund.merchant_id, pos_id)
            .await?
            .ok_or(EngineError::NotFound("merchant pos"))?;
        let family = PosIntegrator::parse(&pos.pos_integrator)
            .and_then(|i| i.family())
            .ok_or(EngineError::NotFound("connector"))?;
        let config = self.pos_config(&pos)?;
        let connector = self.connectors.get(family);
        let not_done = |message: &str| {
            Outcome::Declined(connectors::Decline {
                group: ErrorGroup::BankNotAvailable,
                code: String::new(),
                message: message.to_owned(),
            })
        };
        let may_be_in_flight =
            self.now_ms() - refund.created_at < self.config.not_found_final_after_ms();
        let outcome = if refund.bank_operation == BANK_VOID {
            match connector.sync_payment(&config, &refund.order_id).await {
                Ok(PaymentSync::Approved {
                    approval,
                    state: BankOrderState::Voided,
                }) => Outcome::Approved(approval),
                Ok(_) => not_done("the cancel did not reach the bank"),
                Err(error) => {
                    tracing::warn!(refund_id = refund.id, %error, "status inquiry failed; will ask again");
                    return Ok(false);
                }
            }
        } else {
            match connector.sync_refunds(&config, &refund.order_id).await {
                Ok(credits) => {
                    let ours = self.store.successful_credits(refund.payment_id).await?;
                    let bank_same_amount = credits
                        .iter()
                        .filter(|c| c.approved && c.amount.get() == refund.amount_minor)
                        .count();
                    let ours_same_amount = ours
                        .iter()
                        .filter(|r| r.amount_minor == refund.amount_minor)
                        .count();
                    match credits
                        .iter()
                        .filter(|c| c.approved && c.amount.get() == refund.amount_minor)
                        .nth(ours_same_amount)
                    {
                        Some(credit) if bank_same_amount > ours_same_amount => {
                            Outcome::Approved(connectors::Approval {
                                transaction_id: credit.transaction_id.clone(),
                                ..connectors::Approval::default()
                            })
                        }
                        _ if may_be_in_flight => return Ok(false),
                        _ => not_done("the refund did not reach the bank"),
                    }
                }
                Err(error) => {
                    tracing::warn!(refund_id = refund.id, %error, "order history failed; will ask again");
                    return Ok(false);
                }
            }
        };
        self.apply_refund_outcome(refund, outcome).await?;
        Ok(true)
    }
}
