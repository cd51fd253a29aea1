//! The simulators' clock: the wall clock plus a settable offset.
//!
//! Banks stamp every answer with their own time (`TRXDATE`, `HOSTDATE`, `AUTH_DTTM`) and
//! judge card expiry by it, so tests that check "expired card" or end-of-day behaviour need
//! to move the bank's clock without touching the process clock. An offset (rather than a
//! frozen instant) keeps time flowing, which keeps transaction timestamps ordered.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};
use domain::clock::{Clock, SystemClock};

/// Wall clock shifted by an offset that tests can change at any time. Clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct SimClock {
    offset_ms: Arc<AtomicI64>,
}

impl SimClock {
    pub fn new() -> SimClock {
        SimClock::default()
    }

    /// Current bank time.
    pub fn now(&self) -> DateTime<Utc> {
        let base = SystemClock.now();
        base + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// The shift from the wall clock currently applied.
    pub fn offset(&self) -> Duration {
        Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Replaces the shift (negative moves the bank into the past).
    pub fn set_offset(&self, offset: Duration) {
        self.offset_ms
            .store(offset.num_milliseconds(), Ordering::Relaxed);
    }

    /// Moves the bank clock forward by `by` (or back, if negative).
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }

    /// Makes the bank clock read `instant` now (and keep running from there).
    pub fn set_now(&self, instant: DateTime<Utc>) {
        let delta = instant - SystemClock.now();
        self.set_offset(delta);
    }
}

impl Clock for SimClock {
    fn now(&self) -> DateTime<Utc> {
        SimClock::now(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_shift_time_and_are_shared_by_clones() {
        let clock = SimClock::new();
        let other = clock.clone();
        clock.set_offset(Duration::days(400));
        let shifted = other.now() - SystemClock.now();
        assert!(shifted > Duration::days(399));
        clock.advance(Duration::days(-400));
        assert!((other.now() - SystemClock.now()).num_seconds().abs() < 5);
        let target = DateTime::parse_from_rfc3339("2030-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        clock.set_now(target);
        assert!((other.now() - target).num_seconds().abs() < 5);
    }
}
