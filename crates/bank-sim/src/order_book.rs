//! What every simulated bank's books keep alike: orders by store and id, listed oldest
//! first and settled at end of day into the store's open batch, and the 3D
//! authentications the gate finished, each valid for a while. Every family keeps its own
//! order, store and authentication types and its own rules for everything else.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

/// Orders by (store, order id). The store is the bank's merchant key: NestPay's client
/// id, InterPos's shop code, PosNet's `mid`, …
pub(crate) type Orders<O> = HashMap<(String, String), O>;

/// An order, as the shared book reads and settles it.
pub(crate) trait BookedOrder {
    /// The store the order belongs to.
    fn store(&self) -> &str;
    /// When the book took it, as a sequence number: lists go oldest first.
    fn created(&self) -> u64;
    fn is_settled(&self) -> bool;
    /// End of day: the order closes into its store's open `batch`.
    fn settle_into(&mut self, batch: u32);
}

/// The order `order_id` of `store`.
pub(crate) fn order<'a, O>(orders: &'a Orders<O>, store: &str, order_id: &str) -> Option<&'a O> {
    orders.get(&(store.to_owned(), order_id.to_owned()))
}

/// A store's orders, oldest first.
pub(crate) fn orders_of<'a, O: BookedOrder>(orders: &'a Orders<O>, store: &str) -> Vec<&'a O> {
    let mut list: Vec<&O> = orders.values().filter(|o| o.store() == store).collect();
    list.sort_by_key(|o| o.created());
    list
}

/// End of day for one store (`scope`) or all (`None`): every unsettled order closes into
/// its store's open batch (`batch` finds a store's number), and each store that had one
/// opens the next batch. Returns how many orders were settled. `stores` is keyed by the
/// same store key as the orders.
pub(crate) fn settle<O: BookedOrder, S>(
    orders: &mut Orders<O>,
    stores: &mut HashMap<String, S>,
    scope: Option<&str>,
    batch: impl Fn(&mut S) -> &mut u32,
) -> usize {
    let mut count = 0;
    let mut touched: HashSet<String> = HashSet::new();
    for order in orders.values_mut() {
        if order.is_settled() || scope.is_some_and(|s| s != order.store()) {
            continue;
        }
        let open = stores
            .get_mut(order.store())
            .map_or(0, |store| *batch(store));
        order.settle_into(open);
        touched.insert(order.store().to_owned());
        count += 1;
    }
    for store in touched {
        if let Some(store) = stores.get_mut(&store) {
            *batch(store) += 1;
        }
    }
    count
}

/// A finished 3D authentication, as the shared book keeps it.
pub(crate) trait Authenticated {
    /// How long after the shopper finished it the merchant may still use it.
    const TTL: Duration;
    /// When the shopper finished it.
    fn at(&self) -> DateTime<Utc>;
}

/// 3D authentications by the key the bank hands the merchant (`md`, `BankPacket`, a
/// request GUID, …).
#[derive(Debug)]
pub(crate) struct Authentications<A> {
    by_key: HashMap<String, A>,
}

// Not derived: a derive would ask `A: Default`.
impl<A> Default for Authentications<A> {
    fn default() -> Self {
        Authentications {
            by_key: HashMap::new(),
        }
    }
}

impl<A: Authenticated> Authentications<A> {
    /// Records one under `key`, dropping those expired by its time.
    pub(crate) fn register(&mut self, key: &str, authentication: A) {
        let now = authentication.at();
        self.by_key.retain(|_, a| now - a.at() <= A::TTL);
        self.by_key.insert(key.to_owned(), authentication);
    }

    /// The one under `key`, expired or not (tests and the admin view).
    pub(crate) fn get(&self, key: &str) -> Option<&A> {
        self.by_key.get(key)
    }

    /// The one under `key` if it is still valid at `now`.
    pub(crate) fn valid(&self, key: &str, now: DateTime<Utc>) -> Option<&A> {
        self.get(key).filter(|a| now - a.at() <= A::TTL)
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut A> {
        self.by_key.get_mut(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Order {
        store: &'static str,
        created: u64,
        settled_batch: Option<u32>,
    }

    impl BookedOrder for Order {
        fn store(&self) -> &str {
            self.store
        }
        fn created(&self) -> u64 {
            self.created
        }
        fn is_settled(&self) -> bool {
            self.settled_batch.is_some()
        }
        fn settle_into(&mut self, batch: u32) {
            self.settled_batch = Some(batch);
        }
    }

    struct Store(u32);

    fn book() -> (Orders<Order>, HashMap<String, Store>) {
        let mut orders = Orders::new();
        for (store, id, created) in [("a", "1", 2), ("a", "2", 1), ("b", "1", 3)] {
            let order = Order {
                store,
                created,
                settled_batch: None,
            };
            orders.insert((store.to_owned(), id.to_owned()), order);
        }
        let stores = HashMap::from([
            ("a".to_owned(), Store(7)),
            ("b".to_owned(), Store(40)),
            ("c".to_owned(), Store(1)),
        ]);
        (orders, stores)
    }

    #[test]
    fn lists_a_stores_orders_oldest_first() {
        let (orders, _) = book();
        let created: Vec<u64> = orders_of(&orders, "a").iter().map(|o| o.created).collect();
        assert_eq!(created, [1, 2]);
        assert!(orders_of(&orders, "c").is_empty());
        assert_eq!(order(&orders, "b", "1").map(|o| o.created), Some(3));
        assert!(order(&orders, "b", "2").is_none());
    }

    #[test]
    fn settles_one_store_into_its_open_batch_then_the_rest() {
        let (mut orders, mut stores) = book();
        assert_eq!(settle(&mut orders, &mut stores, Some("a"), |s| &mut s.0), 2);
        assert!(
            orders_of(&orders, "a")
                .iter()
                .all(|o| o.settled_batch == Some(7))
        );
        assert_eq!(order(&orders, "b", "1").and_then(|o| o.settled_batch), None);
        assert_eq!((stores["a"].0, stores["b"].0, stores["c"].0), (8, 40, 1));

        // Settled orders stay in their batch; a store with nothing to settle keeps its own.
        assert_eq!(settle(&mut orders, &mut stores, None, |s| &mut s.0), 1);
        assert_eq!(
            order(&orders, "a", "1").and_then(|o| o.settled_batch),
            Some(7)
        );
        assert_eq!(
            order(&orders, "b", "1").and_then(|o| o.settled_batch),
            Some(40)
        );
        assert_eq!((stores["a"].0, stores["b"].0, stores["c"].0), (8, 41, 1));
        assert_eq!(settle(&mut orders, &mut stores, None, |s| &mut s.0), 0);
    }

    struct Authentication(DateTime<Utc>);

    impl Authenticated for Authentication {
        const TTL: Duration = Duration::minutes(10);
        fn at(&self) -> DateTime<Utc> {
            self.0
        }
    }

    #[test]
    fn authentications_expire_after_their_ttl() {
        let start = DateTime::<Utc>::UNIX_EPOCH;
        let mut book = Authentications::default();
        book.register("old", Authentication(start));
        assert!(book.valid("old", start + Duration::minutes(10)).is_some());
        assert!(book.valid("old", start + Duration::minutes(11)).is_none());
        assert!(
            book.get("old").is_some(),
            "kept until a newer one is registered"
        );

        book.register("new", Authentication(start + Duration::minutes(11)));
        assert!(book.get("old").is_none(), "dropped as expired");
        assert!(book.get_mut("new").is_some());
        assert!(book.valid("missing", start).is_none());
    }
}
