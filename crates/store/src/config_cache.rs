//! A merchant's POSes and routing settings, kept for a moment after they are read.
//!
//! Every payment routes over all of the merchant's POSes and its routing settings, which
//! change rarely: reading and decoding them per payment was two queries and a dozen JSON
//! documents on the hot path. Entries live [`TTL`]; every write through this [`Store`]
//! drops the merchant's entry at once, so on one node a change is seen by the next payment,
//! and another node of the same database sees it within [`TTL`] (as it sees the POS health
//! of its own bank calls only).
//!
//! A read that raced a write must not put the old rows back: each write bumps a generation
//! counter, and a read only fills the cache if no write happened while it ran.
//!
//! [`Store`]: crate::Store

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::rows::PosRow;

/// How long another node may keep serving a POS change it has not seen.
pub(crate) const TTL: Duration = Duration::from_secs(1);
/// Expired entries are dropped when the map grows past this many merchants.
const PRUNE_ABOVE: usize = 1_024;

#[derive(Clone)]
struct Entry<T> {
    read_at: Instant,
    value: T,
}

/// One cached value per merchant.
pub(crate) struct PerMerchant<T> {
    entries: Mutex<HashMap<i64, Entry<T>>>,
    generation: AtomicU64,
}

impl<T: Clone> Default for PerMerchant<T> {
    fn default() -> Self {
        PerMerchant {
            entries: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }
}

impl<T: Clone> PerMerchant<T> {
    /// The cached value if fresh, and the generation to hand back to [`PerMerchant::fill`].
    pub(crate) fn get(&self, merchant_id: i64) -> (Option<T>, u64) {
        let generation = self.generation.load(Ordering::Acquire);
        let Ok(entries) = self.entries.lock() else {
            return (None, generation);
        };
        let value = entries
            .get(&merchant_id)
            .filter(|e| e.read_at.elapsed() < TTL)
            .map(|e| e.value.clone());
        (value, generation)
    }

    /// Keeps what was read, unless a write happened since `generation` was taken.
    pub(crate) fn fill(&self, merchant_id: i64, generation: u64, value: T) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        // Checked under the lock that `forget` also takes, so a write cannot slip between.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= PRUNE_ABOVE {
            // Merchants that stopped paying leave nothing behind.
            entries.retain(|_, e| e.read_at.elapsed() < TTL);
        }
        entries.insert(
            merchant_id,
            Entry {
                read_at: Instant::now(),
                value,
            },
        );
    }

    /// After a write (or before one commits): the merchant's next read goes to the database.
    pub(crate) fn forget(&self, merchant_id: Option<i64>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        self.generation.fetch_add(1, Ordering::AcqRel);
        match merchant_id {
            Some(id) => {
                entries.remove(&id);
            }
            None => entries.clear(),
        }
    }
}

/// What the payment path reads per merchant.
#[derive(Default)]
pub(crate) struct ConfigCache {
    pub(crate) poses: PerMerchant<Vec<PosRow>>,
    pub(crate) routing: PerMerchant<Option<serde_json::Value>>,
}

impl ConfigCache {
    pub(crate) fn forget(&self, merchant_id: Option<i64>) {
        self.poses.forget(merchant_id);
        self.routing.forget(merchant_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_raced_a_write_is_not_kept() {
        let cache = PerMerchant::<u32>::default();
        let (cached, generation) = cache.get(7);
        assert_eq!(cached, None);
        // A write lands while the read is on its way back with the old value.
        cache.forget(Some(7));
        cache.fill(7, generation, 1);
        assert_eq!(cache.get(7).0, None);
        // The next read fills it.
        let (_, generation) = cache.get(7);
        cache.fill(7, generation, 2);
        assert_eq!(cache.get(7).0, Some(2));
    }

    #[test]
    fn a_write_drops_only_its_merchant() {
        let cache = PerMerchant::<u32>::default();
        for id in [1, 2] {
            let (_, generation) = cache.get(id);
            cache.fill(id, generation, 10 + id as u32);
        }
        cache.forget(Some(1));
        assert_eq!(cache.get(1).0, None);
        assert_eq!(cache.get(2).0, Some(12));
        cache.forget(None);
        assert_eq!(cache.get(2).0, None);
    }
}
