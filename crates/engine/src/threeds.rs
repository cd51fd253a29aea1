//! 3D Secure: start (`3ds-init`), the bank's browser callback, and `3ds-complete`.
//!
//! The bank's callback is untrusted input from the shopper's browser. It reaches Orkestra
//! at `/threeds/callback/{token}`, where the token (random, one per attempt) finds the
//! attempt; then the connector verifies the bank's hash with the POS's store key, and the
//! order id, amount and currency must equal the attempt's. Only then does anything change,
//! through a guarded state transition (`threeds_pending` → …), so a replayed or late
//! callback changes nothing.

use connectors::{
    BrowserForm, Decline, Outcome, ThreeDsAuthData, ThreeDsAuthorizeRequest, ThreeDsInitRequest,
    ThreeDsModel,
};
use domain::enums::{ErrorGroup, PaymentStatus};
use domain::money::{Currency, MinorUnits};
use store::rows::{AttemptRow, ErrorDoc, NewAttempt, PaymentRow, ThreeDsDoc, attempt_state};

use crate::payments::{CreatePayment, PaymentView, pos_family};
use crate::{Engine, EngineError, Result, new_order_id, validation};

/// Where the shopper goes after the bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreeDsReturn {
    /// The merchant's `callbackUrl` (API 3DS): Orkestra posts Craftgate's callback fields.
    Merchant(String),
    /// The hosted checkout page with this token.
    Checkout(String),
}

#[derive(Debug)]
pub struct ThreeDsStart {
    pub payment: PaymentView,
    /// The form the shopper's browser posts to the bank's 3D gate.
    pub form: BrowserForm,
    /// The attempt's callback token.
    pub token: String,
}

/// What became of a verified callback.
#[derive(Debug)]
pub struct ThreeDsCallbackResult {
    pub merchant_id: i64,
    pub payment: PaymentRow,
    pub destination: ThreeDsReturn,
    /// Authentication succeeded (for `3d`: the payment now waits for `3ds-complete`).
    pub authenticated: bool,
    pub model: ThreeDsModel,
    /// The shopper's language (`tr` or `en`), for the pages that follow.
    pub lang: String,
}

/// Callback-token length: 32 characters from a 62-letter alphabet (~190 bits).
const TOKEN_LEN: usize = 32;

fn threeds_failure(message: Option<String>, md_status: Option<&str>) -> ErrorDoc {
    let group = ErrorGroup::ThreedsAuthenticationFailed;
    ErrorDoc {
        error_code: group.error_code().to_owned(),
        error_description: group.description(false).to_owned(),
        error_group: group.as_str().to_owned(),
        provider_error_code: md_status.map(|m| format!("mdStatus={m}")),
        provider_error_message: message,
    }
}

impl Engine {
    fn threeds_callback_url(&self, token: &str) -> String {
        format!(
            "{}/threeds/callback/{token}",
            self.config.public_url.trim_end_matches('/')
        )
    }

    pub async fn init_3ds_payment(
        &self,
        merchant_id: i64,
        request: CreatePayment,
        destination: ThreeDsReturn,
        lang: &str,
    ) -> Result<ThreeDsStart> {
        let request = self.resolve_stored_card(merchant_id, request).await?;
        let mut prepared = self.prepare_payment(merchant_id, &request, true).await?;
        let model_of = |pos: &store::rows::PosRow| {
            pos.doc
                .threeds_model
                .as_deref()
                .and_then(ThreeDsModel::parse)
                .unwrap_or(ThreeDsModel::ThreeD)
        };
        if model_of(&prepared.pos) != ThreeDsModel::ThreeDHost && request.card.is_none() {
            return Err(validation("4001", "card is required"));
        }
        // A card to keep once paid is sealed now, pending: after the bank's pages nothing
        // of the card is left to store.
        let pending_card = match (
            &request.store_card_after_success,
            &request.card,
            &request.stored_card,
        ) {
            (Some(keep), Some(card), None) => {
                let row = self
                    .store_card_pending(
                        merchant_id,
                        keep.card_user_key.clone(),
                        card,
                        keep.card_alias.clone(),
                    )
                    .await?;
                Some((row.card_user_key, row.card_token))
            }
            _ => None,
        };
        let (merchant_callback_url, checkout_token) = match &destination {
            ThreeDsReturn::Merchant(url) => (Some(url.clone()), None),
            ThreeDsReturn::Checkout(t) => (None, Some(t.clone())),
        };
        prepared.payment.status = PaymentStatus::InitThreeds.as_str().to_owned();
        let ttl_ms = i64::try_from(self.config.threeds_ttl.as_millis()).unwrap_or(900_000);
        let route = prepared.route.clone();
        let mut payment_id: Option<i64> = None;
        // Until the shopper is sent to a bank nothing is authenticated and nothing can be
        // charged: a POS whose 3D start fails (its bank unreachable, an enrolment refused)
        // gives way to the next candidate, with no re-authentication to ask for.
        for (index, routed) in route.iter().enumerate() {
            let model = model_of(&routed.pos);
            if model != ThreeDsModel::ThreeDHost && request.card.is_none() {
                continue;
            }
            let (order_id, config, family) = if index == 0 {
                (
                    prepared.order_id.clone(),
                    prepared.pos_config.clone(),
                    prepared.family,
                )
            } else {
                let family = pos_family(&routed.pos).ok_or(EngineError::NotFound("connector"))?;
                (new_order_id(), self.pos_config(&routed.pos)?, family)
            };
            let token = crate::merchants::random_key(TOKEN_LEN);
            let now = self.now_ms();
            let attempt = NewAttempt {
                pos_id: routed.pos.id,
                order_id: order_id.clone(),
                operation: prepared.operation.to_owned(),
                amount_minor: request.paid_price.get(),
                created_at: now,
                state: attempt_state::THREEDS_PENDING,
                threeds_token: Some(token.clone()),
                threeds: Some(ThreeDsDoc {
                    model: model.as_str().to_owned(),
                    merchant_callback_url: merchant_callback_url.clone(),
                    checkout_token: checkout_token.clone(),
                    lang: lang.to_owned(),
                    pending_card: pending_card.clone(),
                    ..ThreeDsDoc::default()
                }),
                expires_at: Some(now + ttl_ms),
            };
            let attempt_id = match payment_id {
                None => {
                    let inserted = self.insert_prepared(&prepared, &attempt).await?;
                    payment_id = Some(inserted.payment.id);
                    inserted.attempt.id
                }
                Some(pid) => {
                    self.move_payment_to(merchant_id, pid, routed).await?;
                    self.store
                        .insert_attempt(pid, merchant_id, &attempt, now + ttl_ms)
                        .await?
                }
            };
            let payment_id = payment_id.unwrap_or_default();
            let callback_url = self.threeds_callback_url(&token);
            let form = self
                .connectors
                .get(family)
                .threeds_form(
                    &config,
                    &ThreeDsInitRequest {
                        order_id: &order_id,
                        kind: prepared.kind,
                        model,
                        amount: request.paid_price,
                        currency: request.currency,
                        installment: request.installment,
                        card: if model == ThreeDsModel::ThreeDHost {
                            None
                        } else {
                            request.card.as_ref()
                        },
                        callback_url: &callback_url,
                        lang,
                        client_ip: request.client_ip.as_deref(),
                    },
                )
                .await;
            let error = match form {
                Ok(form) => {
                    tracing::info!(
                        payment_id,
                        attempt_id,
                        model = model.as_str(),
                        retry = index,
                        "3D Secure started"
                    );
                    return Ok(ThreeDsStart {
                        payment: self.payment_view(merchant_id, payment_id).await?,
                        form,
                        token,
                    });
                }
                Err(error) => error,
            };
            tracing::warn!(payment_id, attempt_id, %error, "3D Secure could not be started");
            // Only a bank that did not answer says something about the POS's health; a
            // refused enrolment is about this card.
            if matches!(
                error,
                connectors::ConnectorError::Timeout
                    | connectors::ConnectorError::Transport(_)
                    | connectors::ConnectorError::Unreachable(_)
            ) {
                self.note_pos_health(&routed.pos, true).await;
            }
            let more = route
                .iter()
                .skip(index + 1)
                .any(|r| request.card.is_some() || model_of(&r.pos) == ThreeDsModel::ThreeDHost);
            if request.retry && more {
                self.store
                    .transition_attempt(
                        attempt_id,
                        attempt_state::THREEDS_PENDING,
                        attempt_state::DECLINED,
                        None,
                        None,
                        None,
                        self.now_ms(),
                    )
                    .await?;
                continue;
            }
            let mut payment = self
                .store
                .payment_fresh(merchant_id, payment_id)
                .await?
                .ok_or(EngineError::NotFound("payment"))?;
            let group = ErrorGroup::InvalidMerchantOrPos;
            payment.status = PaymentStatus::Failure.as_str().to_owned();
            payment.doc.error = Some(ErrorDoc {
                error_code: group.error_code().to_owned(),
                error_description: group.description(false).to_owned(),
                error_group: group.as_str().to_owned(),
                provider_error_code: None,
                provider_error_message: Some(error.to_string()),
            });
            self.store
                .transition_attempt(
                    attempt_id,
                    attempt_state::THREEDS_PENDING,
                    attempt_state::DECLINED,
                    None,
                    Some(&payment),
                    None,
                    self.now_ms(),
                )
                .await?;
            if let Some((_, card_token)) = &pending_card {
                self.store
                    .discard_pending_cards(
                        Some(merchant_id),
                        Some(card_token),
                        i64::MAX,
                        self.now_ms(),
                    )
                    .await?;
            }
            return Err(EngineError::Declined {
                group,
                provider_code: None,
                provider_message: None,
            });
        }
        Err(EngineError::Declined {
            group: ErrorGroup::InvalidMerchantOrPos,
            provider_code: None,
            provider_message: None,
        })
    }

    /// Handles the bank's browser callback for the attempt with this token.
    pub async fn threeds_callback(
        &self,
        token: &str,
        fields: &[(String, String)],
    ) -> Result<ThreeDsCallbackResult> {
        let refused = |message: &str| EngineError::Refused {
            code: "4401",
            message: message.to_owned(),
        };
        let attempt = self
            .store
            .attempt_by_threeds_token(token)
            .await?
            .ok_or(EngineError::NotFound("3D Secure session"))?;
        let doc = attempt
            .threeds
            .clone()
            .ok_or_else(|| EngineError::Internal("3D attempt without document".into()))?;
        if attempt.state != attempt_state::THREEDS_PENDING {
            tracing::warn!(attempt_id = attempt.id, state = %attempt.state, "3D callback for a finished attempt refused");
            return Err(refused("this 3D Secure session is already finished"));
        }
        if attempt.expires_at.is_some_and(|t| t <= self.now_ms()) {
            tracing::warn!(attempt_id = attempt.id, "late 3D callback refused");
            return Err(refused("this 3D Secure session has expired"));
        }
        let payment = self
            .store
            .payment_fresh(attempt.merchant_id, attempt.payment_id)
            .await?
            .ok_or(EngineError::NotFound("payment"))?;
        let pos = self
            .store
            .pos_any_status(attempt.merchant_id, attempt.pos_id)
            .await?
            .ok_or(EngineError::NotFound("merchant pos"))?;
        let family = pos_family(&pos).ok_or(EngineError::NotFound("connector"))?;
        let config = self.pos_config(&pos)?;
        let result = match self
            .connectors
            .get(family)
            .parse_threeds_callback(&config, fields)
        {
            Ok(result) => result,
            Err(error) => {
                let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
                tracing::warn!(attempt_id = attempt.id, %error, fields = ?names, "3D callback refused");
                return Err(refused("the bank's 3D Secure answer could not be verified"));
            }
        };
        let currency: Currency = payment
            .currency
            .parse()
            .map_err(|_| EngineError::Internal("currency".into()))?;
        let amount_matches = result.amount == Some(MinorUnits::from_stored(attempt.amount_minor));
        let currency_matches = result.currency.is_none_or(|c| c == currency);
        if result.order_id != attempt.order_id || !amount_matches || !currency_matches {
            tracing::warn!(
                attempt_id = attempt.id,
                "3D callback does not match its attempt (order, amount or currency)"
            );
            return Err(refused(
                "the bank's 3D Secure answer does not match the payment",
            ));
        }
        let model = ThreeDsModel::parse(&doc.model).unwrap_or(ThreeDsModel::ThreeD);
        let mut new_doc = doc.clone();
        new_doc.md_status = result.md_status.clone();
        new_doc.md = result.auth.md.clone();
        new_doc.xid = result.auth.xid.clone();
        new_doc.eci = result.auth.eci.clone();
        new_doc.cavv = result.auth.cavv.clone();
        new_doc.message = result.message.clone();
        let mut payment = payment;
        payment.doc.md_status = result.md_status.clone();
        let now = self.now_ms();
        let destination = match (&doc.merchant_callback_url, &doc.checkout_token) {
            (_, Some(checkout)) => ThreeDsReturn::Checkout(checkout.clone()),
            (Some(url), None) => ThreeDsReturn::Merchant(url.clone()),
            (None, None) => {
                return Err(EngineError::Internal(
                    "3D attempt without destination".into(),
                ));
            }
        };
        let authenticated = result.authenticated;
        if !authenticated && result.outcome.is_none() {
            payment.status = PaymentStatus::Failure.as_str().to_owned();
            payment.doc.error = Some(threeds_failure(
                result.message.clone(),
                result.md_status.as_deref(),
            ));
            payment.doc.order_id = Some(attempt.order_id.clone());
            let moved = self
                .store
                .transition_attempt(
                    attempt.id,
                    attempt_state::THREEDS_PENDING,
                    attempt_state::DECLINED,
                    Some(&new_doc),
                    Some(&payment),
                    None,
                    now,
                )
                .await?;
            if !moved {
                return Err(refused("this 3D Secure session is already finished"));
            }
        } else if model == ThreeDsModel::ThreeD {
            payment.status = PaymentStatus::CallbackThreeds.as_str().to_owned();
            let immediate = self.connectors.get(family).provisions_at_callback();
            // What is written: without the MD when the provision follows at once from memory.
            let stored = if immediate {
                ThreeDsDoc {
                    md: None,
                    ..new_doc.clone()
                }
            } else {
                new_doc.clone()
            };
            let moved = self
                .store
                .transition_attempt(
                    attempt.id,
                    attempt_state::THREEDS_PENDING,
                    attempt_state::THREEDS_AUTHENTICATED,
                    Some(&stored),
                    Some(&payment),
                    None,
                    now,
                )
                .await?;
            if !moved {
                return Err(refused("this 3D Secure session is already finished"));
            }
            if immediate {
                let fresh = self
                    .store
                    .attempt(attempt.id)
                    .await?
                    .ok_or(EngineError::NotFound("attempt"))?;
                self.provision_3ds_with(&fresh, new_doc.md.clone()).await?;
            }
        } else {
            // The bank provisioned already: record its result like any bank answer. The
            // attempt passes through `sent`, so a crash in between is settled by inquiry.
            let moved = self
                .store
                .transition_attempt(
                    attempt.id,
                    attempt_state::THREEDS_PENDING,
                    attempt_state::SENT,
                    Some(&new_doc),
                    Some(&payment),
                    Some(now),
                    now,
                )
                .await?;
            if !moved {
                return Err(refused("this 3D Secure session is already finished"));
            }
            let fresh = self
                .store
                .attempt(attempt.id)
                .await?
                .ok_or(EngineError::NotFound("attempt"))?;
            match result.outcome {
                Some(outcome) => self.apply_outcome(&fresh, outcome, true).await?,
                None => {
                    self.sync_attempt(&fresh).await?;
                }
            }
        }
        let payment = self
            .store
            .payment_fresh(attempt.merchant_id, attempt.payment_id)
            .await?
            .ok_or(EngineError::NotFound("payment"))?;
        tracing::info!(payment_id = payment.id, attempt_id = attempt.id, authenticated, status = %payment.status, "3D callback accepted");
        Ok(ThreeDsCallbackResult {
            merchant_id: attempt.merchant_id,
            payment,
            destination,
            authenticated,
            model,
            lang: doc.lang.clone(),
        })
    }

    /// `3ds-complete`: provisions a payment authenticated with the `3d` model, exactly once.
    pub async fn complete_3ds_payment(
        &self,
        merchant_id: i64,
        payment_id: i64,
    ) -> Result<PaymentView> {
        let view = self.payment_view(merchant_id, payment_id).await?;
        let status = view.payment.status.as_str();
        if status == PaymentStatus::Success.as_str() || status == PaymentStatus::Waiting.as_str() {
            return Ok(view);
        }
        if status == PaymentStatus::Failure.as_str() {
            let e = view.payment.doc.error.clone().unwrap_or_default();
            return Err(EngineError::Declined {
                group: ErrorGroup::parse(&e.error_group).unwrap_or(ErrorGroup::Unknown),
                provider_code: e.provider_error_code,
                provider_message: e.provider_error_message,
            });
        }
        if status != PaymentStatus::CallbackThreeds.as_str() {
            return Err(EngineError::Refused {
                code: "4402",
                message: "3D Secure authentication is not completed for this payment".into(),
            });
        }
        let attempt = self
            .store
            .attempts_of_payment(payment_id)
            .await?
            .into_iter()
            .rev()
            .find(|a| a.state == attempt_state::THREEDS_AUTHENTICATED);
        match attempt {
            Some(attempt) => self.provision_3ds(&attempt).await?,
            // Another `3ds-complete` is provisioning it right now: wait for its answer.
            None => {
                self.wait_while_provisioning(merchant_id, payment_id)
                    .await?
            }
        }
        let view = self.payment_view(merchant_id, payment_id).await?;
        if view.payment.status == PaymentStatus::Failure.as_str() {
            let e = view.payment.doc.error.clone().unwrap_or_default();
            return Err(EngineError::Declined {
                group: ErrorGroup::parse(&e.error_group).unwrap_or(ErrorGroup::Unknown),
                provider_code: e.provider_error_code,
                provider_message: e.provider_error_message,
            });
        }
        Ok(view)
    }

    /// Waits (bounded by the bank timeout) until a concurrent provision settles the payment.
    async fn wait_while_provisioning(&self, merchant_id: i64, payment_id: i64) -> Result<()> {
        let deadline = std::time::Instant::now()
            + self.config.bank_timeout
            + std::time::Duration::from_secs(1);
        while std::time::Instant::now() < deadline {
            let status = self
                .payment_view(merchant_id, payment_id)
                .await?
                .payment
                .status;
            if status == PaymentStatus::Success.as_str()
                || status == PaymentStatus::Failure.as_str()
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        Ok(())
    }

    /// Sends the 3D provision for an authenticated attempt. The transition to `sent` is the
    /// guard that makes it happen once, even if `3ds-complete` is called concurrently.
    pub(crate) async fn provision_3ds(&self, attempt: &AttemptRow) -> Result<()> {
        let md = attempt.threeds.as_ref().and_then(|d| d.md.clone());
        self.provision_3ds_with(attempt, md).await
    }

    /// [`Engine::provision_3ds`] with the bank's MD given (from the stored attempt, or from
    /// the callback in memory when it must not be stored).
    async fn provision_3ds_with(&self, attempt: &AttemptRow, md: Option<String>) -> Result<()> {
        let doc = attempt.threeds.clone().unwrap_or_default();
        let payment = self
            .store
            .payment_fresh(attempt.merchant_id, attempt.payment_id)
            .await?
            .ok_or(EngineError::NotFound("payment"))?;
        let mut waiting = payment.clone();
        waiting.status = PaymentStatus::Waiting.as_str().to_owned();
        // The bank's MD is spent by this provision (and with PayFlex it carries the sealed
        // card): it is dropped from the attempt as the provision is sent, never kept after.
        let spent = ThreeDsDoc {
            md: None,
            ..doc.clone()
        };
        let now = self.now_ms();
        let moved = self
            .store
            .transition_attempt(
                attempt.id,
                attempt_state::THREEDS_AUTHENTICATED,
                attempt_state::SENT,
                Some(&spent),
                Some(&waiting),
                Some(self.inquiry_due_after_call(now)),
                now,
            )
            .await?;
        if !moved {
            return Ok(());
        }
        let pos = self
            .store
            .pos_any_status(attempt.merchant_id, attempt.pos_id)
            .await?
            .ok_or(EngineError::NotFound("merchant pos"))?;
        let family = pos_family(&pos).ok_or(EngineError::NotFound("connector"))?;
        let config = self.pos_config(&pos)?;
        let currency: Currency = payment
            .currency
            .parse()
            .map_err(|_| EngineError::Internal("currency".into()))?;
        let auth = ThreeDsAuthData {
            md,
            xid: doc.xid.clone(),
            eci: doc.eci.clone(),
            cavv: doc.cavv.clone(),
        };
        let kind = if attempt.operation == crate::payments::OPERATION_PRE_AUTH {
            connectors::AuthorizeKind::PreAuth
        } else {
            connectors::AuthorizeKind::Sale
        };
        let outcome = self
            .connectors
            .get(family)
            .authorize_3d(
                &config,
                &ThreeDsAuthorizeRequest {
                    order_id: &attempt.order_id,
                    kind,
                    amount: MinorUnits::from_stored(attempt.amount_minor),
                    currency,
                    installment: u32::try_from(payment.installment).unwrap_or(1),
                    auth: &auth,
                    client_ip: payment.doc.client_ip.as_deref(),
                },
            )
            .await;
        let sent = self
            .store
            .attempt(attempt.id)
            .await?
            .ok_or(EngineError::NotFound("attempt"))?;
        match outcome {
            Ok(outcome) => self.apply_outcome(&sent, outcome, true).await,
            Err(error) if error.nothing_was_sent() => {
                self.apply_outcome(
                    &sent,
                    Outcome::Declined(Decline {
                        group: ErrorGroup::InvalidMerchantOrPos,
                        code: String::new(),
                        message: error.to_string(),
                    }),
                    true,
                )
                .await
            }
            Err(error) => {
                tracing::warn!(attempt_id = attempt.id, %error, "3D provision outcome unknown; asking the bank");
                self.store
                    .mark_attempt_unknown(
                        attempt.id,
                        self.now_ms() + self.inquiry_retry_ms(),
                        self.now_ms(),
                    )
                    .await?;
                self.sync_attempt(&sent).await.map(|_| ())
            }
        }
    }

    /// Fails 3D attempts whose shopper never came back in time. For models where the bank
    /// provisions, the bank is asked first: it may have charged before the shopper left.
    pub(crate) async fn expire_threeds(&self) -> Result<usize> {
        let now = self.now_ms();
        let mut expired = 0;
        for attempt in self.store.expired_threeds_attempts(now, 50).await? {
            let doc = attempt.threeds.clone().unwrap_or_default();
            let model = ThreeDsModel::parse(&doc.model).unwrap_or(ThreeDsModel::ThreeD);
            let Some(mut payment) = self
                .store
                .payment_fresh(attempt.merchant_id, attempt.payment_id)
                .await?
            else {
                continue;
            };
            if attempt.state == attempt_state::THREEDS_PENDING && model.bank_provisions() {
                let moved = self
                    .store
                    .transition_attempt(
                        attempt.id,
                        attempt_state::THREEDS_PENDING,
                        attempt_state::SENT,
                        None,
                        None,
                        Some(now),
                        now,
                    )
                    .await?;
                if moved {
                    expired += 1;
                }
                continue;
            }
            payment.status = PaymentStatus::Failure.as_str().to_owned();
            payment.doc.error = Some(threeds_failure(
                Some("3D Secure was not completed in time".into()),
                None,
            ));
            payment.doc.order_id = Some(attempt.order_id.clone());
            if self
                .store
                .transition_attempt(
                    attempt.id,
                    &attempt.state,
                    attempt_state::DECLINED,
                    None,
                    Some(&payment),
                    None,
                    now,
                )
                .await?
            {
                expired += 1;
            }
        }
        Ok(expired)
    }
}
