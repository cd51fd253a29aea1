//! The card vault: stored cards (Craftgate's `/payment/v1/cards`), paying with them, and
//! key rotation.
//!
//! A card number is sealed with its own data key under the master key (envelope
//! encryption, purpose `card-number`) and opened only to build a bank request; every
//! opening is written to the audit log (who, which token, why) without the number. A keyed
//! fingerprint (HMAC-SHA-256 under a vault key kept sealed in the database) recognises the
//! same card for a user without decrypting anything. The CVC is never stored. Tokens are
//! random and scoped to one merchant: another merchant's token is simply not found.

use domain::bin;
use domain::card::{CardDetails, CardNumber, Expiry};
use store::rows::{StoredCardDoc, StoredCardRow};

use crate::merchants::random_key;
use crate::{Engine, EngineError, Result};

pub const PURPOSE_CARD_NUMBER: &str = "card-number";
const FINGERPRINT_KEY: &str = "card-fingerprint-key";

/// How a stored card was opened, for the audit log.
#[derive(Debug, Clone, Copy)]
pub enum CardUse {
    Payment,
    Clone,
}

impl CardUse {
    fn as_str(self) -> &'static str {
        match self {
            CardUse::Payment => "payment",
            CardUse::Clone => "clone",
        }
    }
}

impl Engine {
    /// The fingerprint key: made once, kept sealed in the database, opened on first use.
    async fn fingerprint_key(&self) -> Result<Vec<u8>> {
        let key = self
            .fingerprint_key
            .get_or_try_init(|| async {
                let sealed = match self.store.vault_setting(FINGERPRINT_KEY).await? {
                    Some(sealed) => sealed,
                    None => {
                        let fresh = vault::MasterKey::generate().to_hex();
                        let sealed = self.master_key.seal_str(&fresh, FINGERPRINT_KEY)?;
                        // Several nodes may race here: the first stored key wins for all.
                        self.store
                            .init_vault_setting(FINGERPRINT_KEY, &sealed)
                            .await?
                    }
                };
                self.master_key
                    .open(&sealed, FINGERPRINT_KEY)
                    .map_err(EngineError::from)
            })
            .await?;
        Ok(key.clone())
    }

    async fn card_fingerprint(&self, number: &CardNumber) -> Result<String> {
        let key = self.fingerprint_key().await?;
        Ok(vault::fingerprint(&key, number.expose_number().as_bytes())?)
    }

    /// Stores a card for a card user (a new user key when none is given). The same number
    /// stored again for the same user returns the card already stored, updated.
    pub async fn store_card(
        &self,
        merchant_id: i64,
        card_user_key: Option<String>,
        card: &CardDetails,
        alias: Option<String>,
    ) -> Result<StoredCardRow> {
        self.store_card_as(merchant_id, card_user_key, card, alias, "ACTIVE")
            .await
    }

    /// Keeps a card `PENDING` for a 3D payment that asked to store it: invisible and
    /// unusable until the payment succeeds ([`Engine::settle_pending_card`]). A card the
    /// user already has is returned as it is.
    pub(crate) async fn store_card_pending(
        &self,
        merchant_id: i64,
        card_user_key: Option<String>,
        card: &CardDetails,
        alias: Option<String>,
    ) -> Result<StoredCardRow> {
        self.store_card_as(merchant_id, card_user_key, card, alias, "PENDING")
            .await
    }

    /// After a 3D attempt is decided: its pending card becomes a stored card (and the
    /// payment says which) if the payment succeeded, and is forgotten if it failed.
    pub(crate) async fn settle_pending_card(
        &self,
        attempt: &store::rows::AttemptRow,
        payment: &store::rows::PaymentRow,
    ) -> Result<()> {
        let Some((user_key, token)) = attempt
            .threeds
            .as_ref()
            .and_then(|t| t.pending_card.clone())
        else {
            return Ok(());
        };
        let now = self.now_ms();
        match payment.status.as_str() {
            "SUCCESS" => {
                self.store
                    .activate_pending_card(payment.merchant_id, &token, now)
                    .await?;
                self.change_payment(payment.merchant_id, payment.id, |fresh| {
                    fresh.doc.card_user_key = Some(user_key.clone());
                    fresh.doc.card_token = Some(token.clone());
                })
                .await?;
            }
            "FAILURE" => {
                self.store
                    .discard_pending_cards(Some(payment.merchant_id), Some(&token), i64::MAX, now)
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Forgets cards kept for 3D payments that never finished (abandoned at the bank):
    /// anything pending longer than twice the 3D Secure time limit.
    pub async fn discard_abandoned_pending_cards(&self) -> Result<u64> {
        let ttl = i64::try_from(self.config.threeds_ttl.as_millis()).unwrap_or(900_000);
        let now = self.now_ms();
        Ok(self
            .store
            .discard_pending_cards(None, None, now - 2 * ttl, now)
            .await?)
    }

    async fn store_card_as(
        &self,
        merchant_id: i64,
        card_user_key: Option<String>,
        card: &CardDetails,
        alias: Option<String>,
        status: &str,
    ) -> Result<StoredCardRow> {
        let user_key = card_user_key
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| random_key(32));
        let fingerprint = self.card_fingerprint(&card.number).await?;
        let now = self.now_ms();
        if let Some(mut existing) = self
            .store
            .card_by_fingerprint(merchant_id, &user_key, &fingerprint)
            .await?
        {
            existing.expire_month = card.expiry.mm();
            existing.expire_year = card.expiry.yyyy();
            if alias.is_some() {
                existing.doc.card_alias = alias;
            }
            existing.updated_at = now;
            self.store.update_card(&existing).await?;
            return Ok(existing);
        }
        let info = bin::lookup(card.number.bin8());
        let mut row = StoredCardRow {
            id: 0,
            merchant_id,
            card_user_key: user_key,
            card_token: random_key(32),
            status: status.into(),
            fingerprint,
            pan_sealed: self
                .master_key
                .seal_str(card.number.expose_number(), PURPOSE_CARD_NUMBER)?,
            bin_number: card.number.bin6().to_owned(),
            last_four: card.number.last_four().to_owned(),
            expire_month: card.expiry.mm(),
            expire_year: card.expiry.yyyy(),
            doc: StoredCardDoc {
                card_alias: alias,
                card_holder_name: Some(card.holder_name.clone()),
                card_type: info
                    .as_ref()
                    .and_then(|i| i.card_type)
                    .map(|t| t.as_str().to_owned()),
                card_association: info
                    .as_ref()
                    .and_then(|i| i.association)
                    .map(|a| a.as_str().to_owned()),
                card_brand: info.as_ref().and_then(|i| i.card_brand).map(str::to_owned),
                card_bank_name: info.as_ref().and_then(|i| i.bank_name.clone()),
                card_bank_id: info.as_ref().and_then(|i| i.bank_code).map(i64::from),
                commercial: info.as_ref().is_some_and(|i| i.commercial),
            },
            created_at: now,
            updated_at: now,
        };
        row.id = self.store.insert_card(&row).await?;
        Ok(row)
    }

    /// Opens a stored card for `why`, writing the audit entry first.
    pub async fn open_card(
        &self,
        merchant_id: i64,
        card_user_key: &str,
        card_token: &str,
        why: CardUse,
        actor: &str,
    ) -> Result<(StoredCardRow, CardDetails)> {
        let row = self
            .store
            .card(merchant_id, card_user_key, card_token)
            .await?
            .ok_or(EngineError::NotFound("card"))?;
        self.store
            .audit_card_access(merchant_id, card_token, why.as_str(), actor, self.now_ms())
            .await?;
        let number = self
            .master_key
            .open_str(&row.pan_sealed, PURPOSE_CARD_NUMBER)?;
        let number = CardNumber::parse(&number)
            .map_err(|_| EngineError::Internal("stored card number is invalid".into()))?;
        let expiry = Expiry::parse(&row.expire_month, &row.expire_year)
            .map_err(|_| EngineError::Internal("stored card expiry is invalid".into()))?;
        let card = CardDetails {
            number,
            expiry,
            cvc: None,
            holder_name: row.doc.card_holder_name.clone().unwrap_or_default(),
        };
        Ok((row, card))
    }

    /// Copies a stored card to another card user of the same merchant.
    pub async fn clone_card(
        &self,
        merchant_id: i64,
        source_user_key: &str,
        source_token: &str,
        target_user_key: Option<String>,
        actor: &str,
    ) -> Result<StoredCardRow> {
        let (row, card) = self
            .open_card(
                merchant_id,
                source_user_key,
                source_token,
                CardUse::Clone,
                actor,
            )
            .await?;
        self.store_card(
            merchant_id,
            target_user_key,
            &card,
            row.doc.card_alias.clone(),
        )
        .await
    }

    /// Re-wraps every sealed value under the keyring's current master key (key rotation).
    /// The server can keep serving meanwhile: it opens values under the old or the new key.
    /// Returns how many values were re-wrapped.
    pub async fn rotate_master_key(&self) -> Result<usize> {
        let mut rewrapped = 0;
        for value in self.store.sealed_values().await? {
            if value.value.is_empty() {
                continue;
            }
            if let Some(new_value) = self.master_key.rewrap(&value.value, &value.purpose)?
                && self.store.replace_sealed(&value, &new_value).await?
            {
                rewrapped += 1;
            }
        }
        Ok(rewrapped)
    }
}
