//! The hosted checkout page's sessions and pay-by-link products.
//!
//! A session (`/payment/v1/checkout-payments/init`, or a shopper opening a product link)
//! holds the payment's terms. The page posts the card to [`Engine::pay_checkout`], which
//! makes an ordinary payment — directly, or through 3D Secure when the merchant forces it
//! or the POS requires it. A declined try leaves the session open for another card; a
//! success completes it. A product's stock is taken atomically before the bank is called
//! and given back if the payment fails, so a link never oversells.

use domain::card::CardDetails;
use domain::enums::{PaymentGroup, PaymentPhase, PaymentSource, PaymentStatus};
use domain::money::{Currency, MinorUnits};
use serde::{Deserialize, Serialize};
use store::rows::{CheckoutRow, ProductRow};

use crate::payments::{CreatePayment, PaymentItemInput, PaymentView};
use crate::threeds::{ThreeDsReturn, ThreeDsStart};
use crate::{Engine, EngineError, Result, validation};

pub const CHECKOUT_ACTIVE: &str = "ACTIVE";
/// A card is being charged for this checkout right now: nobody else may pay it.
pub const CHECKOUT_PROCESSING: &str = "PROCESSING";
pub const CHECKOUT_COMPLETED: &str = "COMPLETED";
pub const CHECKOUT_EXPIRED: &str = "EXPIRED";

/// Default and longest checkout token lifetimes.
pub const CHECKOUT_TTL_DEFAULT_SECS: i64 = 30 * 60;
pub const CHECKOUT_TTL_MAX_SECS: i64 = 3 * 24 * 3600;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutItem {
    pub name: Option<String>,
    pub external_id: Option<String>,
    pub price_minor: i64,
}

/// A custom total for an installment count (`customInstallments`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CustomInstallment {
    pub number: u32,
    pub total_price_minor: i64,
}

/// The terms of a checkout session, as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutTerms {
    pub price_minor: i64,
    pub paid_price_minor: i64,
    pub currency: Currency,
    pub payment_group: String,
    pub payment_phase: String,
    pub conversation_id: Option<String>,
    pub external_id: Option<String>,
    pub callback_url: Option<String>,
    pub buyer_member_id: Option<i64>,
    pub enabled_installments: Vec<u32>,
    pub custom_installments: Vec<CustomInstallment>,
    /// Installment options per card programme ("Bonus", "World", ...): a card of a listed
    /// programme is offered these (count and total) instead of `enabled_installments`.
    #[serde(default)]
    pub card_brand_installments: std::collections::BTreeMap<String, Vec<CustomInstallment>>,
    /// Where the token is POSTed (JSON) when a payment on the session ends.
    #[serde(default)]
    pub merchant_webhook_url: Option<String>,
    pub force_three_ds: bool,
    pub allow_only_credit_card: bool,
    pub pos_alias: Option<String>,
    pub items: Vec<CheckoutItem>,
    /// Shown on the page (the merchant's or the product's name).
    pub title: String,
    pub description: Option<String>,
    pub source: String,
    /// The shopper's card user (`cardUserKey`): the page offers their stored cards, and a
    /// card they choose to save is stored under this key.
    #[serde(default)]
    pub card_user_key: Option<String>,
}

/// The card the page submitted.
#[derive(Debug)]
pub enum CheckoutCard {
    /// Typed in; `save`: the shopper ticked "save my card".
    New { card: CardDetails, save: bool },
    /// One of the shopper's stored cards, with the CVC they typed.
    Stored {
        card_token: String,
        cvc: Option<domain::card::Cvc>,
    },
}

/// One installment option as the page offers it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InstallmentOption {
    pub installment: u32,
    pub total_price_minor: i64,
    pub installment_price_minor: i64,
}

/// What happened when the page submitted a card.
#[derive(Debug)]
pub enum CheckoutPay {
    /// Paid: the session is complete.
    Paid(PaymentView),
    /// The shopper must authenticate at the bank first.
    ThreeDs(ThreeDsStart),
    /// The bank's answer is not known yet; the session waits for recovery.
    Waiting(PaymentView),
    /// Declined or refused: the page shows the error and the shopper may try again.
    Failed(EngineError),
}

impl Engine {
    pub async fn init_checkout(
        &self,
        merchant_id: i64,
        terms: CheckoutTerms,
        ttl_secs: Option<i64>,
        product_id: Option<i64>,
    ) -> Result<CheckoutRow> {
        let ttl = ttl_secs.unwrap_or(CHECKOUT_TTL_DEFAULT_SECS);
        if !(60..=CHECKOUT_TTL_MAX_SECS).contains(&ttl) {
            return Err(validation(
                "4002",
                format!("ttl must be between 60 and {CHECKOUT_TTL_MAX_SECS} seconds"),
            ));
        }
        if terms
            .enabled_installments
            .iter()
            .any(|n| !(1..=12).contains(n))
        {
            return Err(validation(
                "4103",
                "enabledInstallments must be between 1 and 12",
            ));
        }
        for c in terms
            .custom_installments
            .iter()
            .chain(terms.card_brand_installments.values().flatten())
        {
            if !(1..=12).contains(&c.number) || c.total_price_minor < terms.price_minor {
                return Err(validation(
                    "4103",
                    "customInstallments need a number 1-12 and a totalPrice not below price",
                ));
            }
        }
        let now = self.now_ms();
        let row = CheckoutRow {
            token: crate::merchants::random_key(32),
            merchant_id,
            status: CHECKOUT_ACTIVE.to_owned(),
            product_id,
            payment_id: None,
            doc: serde_json::to_value(&terms).map_err(|e| EngineError::Internal(e.to_string()))?,
            expires_at: now + ttl * 1000,
            created_at: now,
            updated_at: now,
            merchant_webhook_url: terms.merchant_webhook_url.clone(),
        };
        self.store.insert_checkout(&row).await?;
        Ok(row)
    }

    /// A session by token, with its terms; expired sessions read as `EXPIRED`.
    pub async fn checkout(&self, token: &str) -> Result<(CheckoutRow, CheckoutTerms)> {
        let mut row = self
            .store
            .checkout(token)
            .await?
            .ok_or(EngineError::NotFound("checkout"))?;
        if row.status == CHECKOUT_ACTIVE && row.expires_at <= self.now_ms() {
            row.status = CHECKOUT_EXPIRED.to_owned();
        }
        let terms: CheckoutTerms = serde_json::from_value(row.doc.clone())
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        Ok((row, terms))
    }

    /// `DELETE /payment/v1/checkout-payments/{token}`.
    pub async fn expire_checkout(&self, merchant_id: i64, token: &str) -> Result<()> {
        let (row, _) = self.checkout(token).await?;
        if row.merchant_id != merchant_id {
            return Err(EngineError::NotFound("checkout"));
        }
        if row.status == CHECKOUT_COMPLETED {
            return Err(EngineError::Refused {
                code: "4501",
                message: "the checkout is already paid".into(),
            });
        }
        self.store
            .update_checkout(
                token,
                CHECKOUT_ACTIVE,
                CHECKOUT_EXPIRED,
                None,
                self.now_ms(),
            )
            .await?;
        Ok(())
    }

    /// The installment options for a card on this session's terms.
    pub async fn checkout_installments(
        &self,
        terms: &CheckoutTerms,
        merchant_id: i64,
        bin: Option<&str>,
    ) -> Result<Vec<InstallmentOption>> {
        let info = bin.and_then(domain::bin::lookup);
        let credit = info
            .as_ref()
            .is_some_and(|i| i.card_type == Some(domain::enums::CardType::CreditCard));
        let poses = self.store.poses(merchant_id).await?;
        let installments_possible = poses.iter().any(|p| {
            p.status == "ACTIVE" && p.currency == terms.currency.code() && p.doc.enable_installment
        });
        let brand_options = info.as_ref().and_then(|i| i.card_brand).and_then(|brand| {
            terms
                .card_brand_installments
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(brand))
                .map(|(_, options)| options)
                .filter(|options| !options.is_empty())
        });
        let mut counts: Vec<u32> = match brand_options {
            Some(options) => options.iter().map(|o| o.number).collect(),
            None if terms.enabled_installments.is_empty() => vec![1],
            None => terms.enabled_installments.clone(),
        };
        counts.sort_unstable();
        counts.dedup();
        Ok(counts
            .into_iter()
            .filter(|n| *n == 1 || (credit && installments_possible))
            .map(|n| {
                let total = brand_options
                    .into_iter()
                    .flatten()
                    .chain(&terms.custom_installments)
                    .find(|c| c.number == n)
                    .map(|c| c.total_price_minor)
                    .unwrap_or(terms.paid_price_minor);
                InstallmentOption {
                    installment: n,
                    total_price_minor: total,
                    installment_price_minor: total / i64::from(n),
                }
            })
            .collect())
    }

    /// The page submitted a card for this session.
    pub async fn pay_checkout(
        &self,
        token: &str,
        card: CheckoutCard,
        installment: u32,
        lang: &str,
        client_ip: Option<String>,
    ) -> Result<CheckoutPay> {
        let (row, terms) = self.checkout(token).await?;
        match row.status.as_str() {
            CHECKOUT_ACTIVE => {}
            CHECKOUT_COMPLETED => {
                return Err(EngineError::Refused {
                    code: "4501",
                    message: "the checkout is already paid".into(),
                });
            }
            CHECKOUT_PROCESSING => return Err(in_progress()),
            _ => {
                return Err(EngineError::Refused {
                    code: "4502",
                    message: "the checkout has expired".into(),
                });
            }
        }
        // A stored card is opened only to pay (audited then); its BIN is kept beside it.
        let (card, stored_card, store_card_after_success, bin) = match card {
            CheckoutCard::New { card, save } => {
                let keep = save.then(|| crate::payments::StoreCardAfter {
                    card_user_key: terms.card_user_key.clone(),
                    card_alias: None,
                });
                let bin = card.number.bin8().to_owned();
                (Some(card), None, keep, bin)
            }
            CheckoutCard::Stored { card_token, cvc } => {
                let user_key = terms
                    .card_user_key
                    .clone()
                    .ok_or(EngineError::NotFound("card"))?;
                let stored = self
                    .store
                    .card(row.merchant_id, &user_key, &card_token)
                    .await?
                    .ok_or(EngineError::NotFound("card"))?;
                let reference = crate::payments::StoredCardRef {
                    card_user_key: user_key,
                    card_token,
                    cvc,
                };
                (None, Some(reference), None, stored.bin_number)
            }
        };
        let options = self
            .checkout_installments(&terms, row.merchant_id, Some(&bin))
            .await?;
        let option = options
            .into_iter()
            .find(|o| o.installment == installment)
            .ok_or_else(|| {
                validation(
                    "4103",
                    "this installment count is not offered for this card",
                )
            })?;
        if terms.allow_only_credit_card {
            let credit = domain::bin::lookup(&bin)
                .is_some_and(|i| i.card_type == Some(domain::enums::CardType::CreditCard));
            if !credit {
                return Err(EngineError::Refused {
                    code: "4503",
                    message: "only credit cards are accepted".into(),
                });
            }
        }
        let currency = terms.currency;
        let source = PaymentSource::parse(&terms.source).unwrap_or(PaymentSource::CheckoutForm);
        let request = CreatePayment {
            price: MinorUnits::from_stored(terms.price_minor),
            paid_price: MinorUnits::from_stored(option.total_price_minor),
            currency,
            installment,
            phase: PaymentPhase::parse(&terms.payment_phase).unwrap_or(PaymentPhase::Auth),
            payment_group: PaymentGroup::parse(&terms.payment_group)
                .unwrap_or(PaymentGroup::Product),
            source,
            conversation_id: terms.conversation_id.clone(),
            external_id: terms.external_id.clone(),
            bank_order_id: None,
            buyer_member_id: terms.buyer_member_id,
            pos_alias: None,
            client_ip,
            payment_channel: Some("WEB".into()),
            card,
            items: terms
                .items
                .iter()
                .map(|i| PaymentItemInput {
                    name: i.name.clone(),
                    external_id: i.external_id.clone(),
                    price: MinorUnits::from_stored(i.price_minor),
                    sub_merchant_member_id: None,
                    sub_merchant_member_price: None,
                })
                .collect(),
            additional_params: None,
            checkout_token: Some(token.to_owned()),
            product_id: row.product_id,
            routing: crate::payments::RoutingChoice {
                pos_aliases: terms.pos_alias.clone().into_iter().collect(),
                ..Default::default()
            },
            retry: true,
            stored_card,
            store_card_after_success,
        };
        let needs_3ds =
            terms.force_three_ds || !self.non_3ds_possible(row.merchant_id, &request).await?;
        // Claim the session: two tabs (or a double click) never charge one checkout twice.
        if !self
            .store
            .update_checkout(
                token,
                CHECKOUT_ACTIVE,
                CHECKOUT_PROCESSING,
                None,
                self.now_ms(),
            )
            .await?
        {
            return Err(in_progress());
        }
        let result = if needs_3ds {
            self.init_3ds_payment(
                row.merchant_id,
                request,
                ThreeDsReturn::Checkout(token.to_owned()),
                lang,
            )
            .await
            .map(CheckoutPay::ThreeDs)
        } else {
            match self.create_payment(row.merchant_id, request).await {
                Ok(view) if view.payment.status == PaymentStatus::Success.as_str() => {
                    Ok(CheckoutPay::Paid(view))
                }
                Ok(view) => Ok(CheckoutPay::Waiting(view)),
                Err(error) => Ok(CheckoutPay::Failed(error)),
            }
        };
        self.settle_checkout(token, &result).await?;
        result
    }

    /// Whether some POS would take this payment without 3D Secure.
    async fn non_3ds_possible(&self, merchant_id: i64, request: &CreatePayment) -> Result<bool> {
        let poses = self.store.poses(merchant_id).await?;
        Ok(poses.iter().any(|p| {
            p.status == "ACTIVE"
                && p.currency == request.currency.code()
                && request.pos_alias.as_ref().is_none_or(|a| a == &p.alias)
                && {
                    let t = &p.doc.enabled_payment_authentication_types;
                    t.is_empty() || t.iter().any(|x| x == "NON_THREE_DS")
                }
        }))
    }

    /// Points the session at its newest payment. (Completing the session on success and
    /// giving back a product's stock on failure happen with the payment's own update, in
    /// `Store::update_payment`.)
    async fn settle_checkout(&self, token: &str, result: &Result<CheckoutPay>) -> Result<()> {
        let now = self.now_ms();
        if let Some(payment_id) = self.store.latest_checkout_payment(token).await? {
            self.store
                .set_checkout_payment(token, payment_id, now)
                .await?;
        }
        match result {
            Ok(CheckoutPay::Paid(view)) => {
                self.store
                    .update_checkout(
                        token,
                        CHECKOUT_PROCESSING,
                        CHECKOUT_COMPLETED,
                        Some(view.payment.id),
                        now,
                    )
                    .await?;
            }
            // The bank has not answered: the session stays claimed until recovery settles
            // the payment (a failure then frees it, in `Store::update_payment`).
            Ok(CheckoutPay::Waiting(_)) => {}
            // 3D Secure: the shopper may abandon the bank's page, so the session is freed;
            // the callback claims it again before anything is charged.
            Ok(CheckoutPay::ThreeDs(_)) | Ok(CheckoutPay::Failed(_)) | Err(_) => {
                self.store
                    .update_checkout(token, CHECKOUT_PROCESSING, CHECKOUT_ACTIVE, None, now)
                    .await?;
            }
        }
        Ok(())
    }

    /// After a 3D callback on a checkout payment: provision it if the `3d` model left that
    /// to Orkestra — once the session is claimed, so two tabs finishing 3D Secure never
    /// both pay — and cancel at once a charge the bank made (`3d_pay`) for a checkout that
    /// another payment completed first.
    pub async fn finish_checkout_threeds(
        &self,
        token: &str,
        payment_id: i64,
        merchant_id: i64,
    ) -> Result<PaymentView> {
        let view = self.payment_view(merchant_id, payment_id).await?;
        if view.payment.status == PaymentStatus::CallbackThreeds.as_str() {
            if !self
                .store
                .update_checkout(
                    token,
                    CHECKOUT_ACTIVE,
                    CHECKOUT_PROCESSING,
                    Some(payment_id),
                    self.now_ms(),
                )
                .await?
            {
                self.abandon_threeds(merchant_id, payment_id).await?;
                return Err(EngineError::Refused {
                    code: "4501",
                    message: "the checkout is already paid".into(),
                });
            }
            return match self.complete_3ds_payment(merchant_id, payment_id).await {
                Ok(view) => Ok(view),
                Err(EngineError::Declined { .. }) => {
                    self.payment_view(merchant_id, payment_id).await
                }
                Err(other) => Err(other),
            };
        }
        if view.payment.status == PaymentStatus::Success.as_str() {
            let (row, _) = self.checkout(token).await?;
            if row.payment_id.is_some_and(|id| id != payment_id) && row.status == CHECKOUT_COMPLETED
            {
                tracing::warn!(
                    payment_id,
                    "a second charge for a paid checkout: cancelling it"
                );
                self.refund_payment(merchant_id, payment_id, None, None)
                    .await?;
                return Err(EngineError::Refused {
                    code: "4501",
                    message: "the checkout was already paid; this second charge was cancelled"
                        .into(),
                });
            }
            self.store
                .update_checkout(
                    token,
                    CHECKOUT_ACTIVE,
                    CHECKOUT_COMPLETED,
                    Some(payment_id),
                    self.now_ms(),
                )
                .await?;
        }
        Ok(view)
    }

    /// Fails an authenticated 3D payment that will never be provisioned.
    async fn abandon_threeds(&self, merchant_id: i64, payment_id: i64) -> Result<()> {
        let view = self.payment_view(merchant_id, payment_id).await?;
        if let Some(attempt) = view
            .attempts
            .iter()
            .rev()
            .find(|a| a.state == store::rows::attempt_state::THREEDS_AUTHENTICATED)
        {
            let mut payment = view.payment.clone();
            payment.status = PaymentStatus::Failure.as_str().to_owned();
            payment.doc.error = Some(store::rows::ErrorDoc {
                error_code: "4501".into(),
                error_description: "the checkout was already paid".into(),
                error_group: domain::enums::ErrorGroup::InvalidTransaction
                    .as_str()
                    .to_owned(),
                provider_error_code: None,
                provider_error_message: None,
            });
            self.store
                .transition_attempt(
                    attempt.id,
                    &attempt.state,
                    store::rows::attempt_state::DECLINED,
                    None,
                    Some(&payment),
                    None,
                    self.now_ms(),
                )
                .await?;
        }
        Ok(())
    }

    // ---- products --------------------------------------------------------------------

    pub async fn create_product(&self, product: ProductRow) -> Result<ProductRow> {
        let mut product = product;
        product.token = crate::merchants::random_key(24);
        let now = self.now_ms();
        product.created_at = now;
        product.updated_at = now;
        product.id = self.store.insert_product(&product).await?;
        self.store
            .product(product.merchant_id, product.id)
            .await?
            .ok_or(EngineError::NotFound("product"))
    }

    /// A shopper opened a product link and chose to pay: a checkout session for it.
    pub async fn checkout_for_product(&self, product_token: &str) -> Result<CheckoutRow> {
        let product = self
            .store
            .product_by_token(product_token)
            .await?
            .ok_or(EngineError::NotFound("product"))?;
        self.check_product_available(&product)?;
        let doc = &product.doc;
        let currency: Currency = product
            .currency
            .parse()
            .map_err(|_| EngineError::Internal("currency".into()))?;
        let enabled_installments: Vec<u32> = doc
            .get("enabledInstallments")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_else(|| vec![1]);
        let terms = CheckoutTerms {
            price_minor: product.price_minor,
            paid_price_minor: product.price_minor,
            currency,
            payment_group: "PRODUCT".into(),
            payment_phase: "AUTH".into(),
            conversation_id: doc
                .get("conversationId")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            external_id: doc
                .get("externalId")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            callback_url: None,
            buyer_member_id: None,
            enabled_installments,
            custom_installments: Vec::new(),
            card_brand_installments: Default::default(),
            merchant_webhook_url: None,
            force_three_ds: doc
                .get("forceThreeDs")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            allow_only_credit_card: false,
            pos_alias: None,
            items: vec![CheckoutItem {
                name: Some(product.name.clone()),
                external_id: None,
                price_minor: product.price_minor,
            }],
            title: product.name.clone(),
            description: doc
                .get("description")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            source: PaymentSource::PayByLink.as_str().to_owned(),
            card_user_key: None,
        };
        self.init_checkout(product.merchant_id, terms, None, Some(product.id))
            .await
    }

    /// Refuses a product that cannot be bought now, saying why.
    pub fn check_product_available(&self, product: &ProductRow) -> Result<()> {
        if product.status != "ACTIVE" {
            return Err(EngineError::Refused {
                code: "4505",
                message: "this link is not active".into(),
            });
        }
        if product.expires_at.is_some_and(|t| t <= self.now_ms()) {
            return Err(EngineError::Refused {
                code: "4506",
                message: "this link has expired".into(),
            });
        }
        if product
            .stock
            .is_some_and(|stock| product.sold_count >= stock)
        {
            return Err(EngineError::Refused {
                code: "4504",
                message: "sold out".into(),
            });
        }
        Ok(())
    }
}

fn in_progress() -> EngineError {
    EngineError::Refused {
        code: "4507",
        message: "a payment for this checkout is already in progress".into(),
    }
}
