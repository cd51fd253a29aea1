//! Merchants and their API credentials.

use std::sync::Arc;

use domain::secret::Secret;
use rand::Rng;
use store::rows::NewMerchant;

use crate::{Engine, EngineError, Result};

/// An authenticated merchant, with its keys opened for use.
#[derive(Debug, Clone)]
pub struct Merchant {
    pub id: i64,
    pub name: String,
    pub api_key: String,
    pub secret_key: Secret,
    pub threeds_callback_key: Secret,
    pub hook_key: Secret,
}

/// What `orkestra merchant create` prints, once.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedMerchant {
    pub merchant_id: i64,
    pub api_key: String,
    pub secret_key: String,
    pub three_ds_callback_key: String,
    pub hook_key: String,
}

/// How long an API key → merchant lookup is trusted without asking the database.
pub const MERCHANT_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

pub const PURPOSE_SECRET_KEY: &str = "merchant-secret-key";
pub const PURPOSE_THREEDS_KEY: &str = "merchant-3ds-callback-key";
pub const PURPOSE_HOOK_KEY: &str = "merchant-hook-key";

/// A random key of `len` URL-safe characters from the OS CSPRNG.
pub fn random_key(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

impl Engine {
    pub async fn create_merchant(
        &self,
        name: &str,
        api_key: Option<String>,
        secret_key: Option<String>,
    ) -> Result<CreatedMerchant> {
        let name = name.trim();
        if name.is_empty() {
            return Err(crate::validation("4001", "merchant name is required"));
        }
        let api_key = api_key.unwrap_or_else(|| format!("ork-{}", random_key(28)));
        let secret_key = secret_key.unwrap_or_else(|| random_key(40));
        if api_key.len() < 8 || secret_key.len() < 16 {
            return Err(crate::validation(
                "4002",
                "api key must have at least 8 and secret key at least 16 characters",
            ));
        }
        let threeds = random_key(32);
        let hook = random_key(32);
        let key = &self.master_key;
        let id = self
            .store
            .insert_merchant(&NewMerchant {
                name: name.to_owned(),
                api_key: api_key.clone(),
                secret_key_sealed: key.seal_str(&secret_key, PURPOSE_SECRET_KEY)?,
                threeds_callback_key_sealed: key.seal_str(&threeds, PURPOSE_THREEDS_KEY)?,
                hook_key_sealed: key.seal_str(&hook, PURPOSE_HOOK_KEY)?,
                created_at: self.now_ms(),
            })
            .await
            .map_err(|e| match e {
                store::StoreError::Duplicate(_) => {
                    crate::validation("4003", "a merchant with this api key exists")
                }
                other => other.into(),
            })?;
        Ok(CreatedMerchant {
            merchant_id: id,
            api_key,
            secret_key,
            three_ds_callback_key: threeds,
            hook_key: hook,
        })
    }

    /// The merchant owning `api_key`, if any.
    pub async fn merchant_by_api_key(&self, api_key: &str) -> Result<Option<Arc<Merchant>>> {
        if let Ok(cache) = self.merchant_cache.read()
            && let Some((m, at)) = cache.get(api_key)
            && at.elapsed() < MERCHANT_CACHE_TTL
        {
            return Ok(Some(m.clone()));
        }
        let Some(row) = self.store.merchant_by_api_key(api_key).await? else {
            return Ok(None);
        };
        let key = &self.master_key;
        let merchant = Arc::new(Merchant {
            id: row.id,
            name: row.name,
            api_key: row.api_key,
            secret_key: Secret::new(key.open_str(&row.secret_key_sealed, PURPOSE_SECRET_KEY)?),
            threeds_callback_key: Secret::new(
                key.open_str(&row.threeds_callback_key_sealed, PURPOSE_THREEDS_KEY)?,
            ),
            hook_key: Secret::new(key.open_str(&row.hook_key_sealed, PURPOSE_HOOK_KEY)?),
        });
        if let Ok(mut cache) = self.merchant_cache.write() {
            cache.retain(|_, (_, at)| at.elapsed() < MERCHANT_CACHE_TTL);
            cache.insert(
                api_key.to_owned(),
                (merchant.clone(), std::time::Instant::now()),
            );
        }
        Ok(Some(merchant))
    }

    /// Replaces the merchant's API key and secret key (the panel's "rotate keys"): the old
    /// pair stops working at once here and within [`MERCHANT_CACHE_TTL`] on other nodes.
    /// Returns the new pair, to be shown once.
    pub async fn rotate_api_keys(&self, merchant_id: i64) -> Result<(String, String)> {
        let api_key = format!("ork-{}", random_key(28));
        let secret_key = random_key(40);
        let sealed = self.master_key.seal_str(&secret_key, PURPOSE_SECRET_KEY)?;
        self.store
            .set_merchant_api_keys(merchant_id, &api_key, &sealed)
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict(_) => EngineError::NotFound("merchant"),
                other => other.into(),
            })?;
        if let Ok(mut cache) = self.merchant_cache.write() {
            cache.retain(|_, (m, _)| m.id != merchant_id);
        }
        Ok((api_key, secret_key))
    }

    pub async fn merchant_count(&self) -> Result<i64> {
        self.store
            .count_merchants()
            .await
            .map_err(EngineError::from)
    }
}
