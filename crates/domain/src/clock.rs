//! Time, injected. Expiry, same-day void rules and response timestamps read the clock
//! through [`Clock`] so tests can pin it.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that reads the system clock
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Turkey has used UTC+3 all year since 2016; the API renders local times in it, as Craftgate
/// clients expect (`yyyy-MM-ddTHH:mm:ss`, no zone).
pub fn istanbul() -> FixedOffset {
    FixedOffset::east_opt(3 * 3600).unwrap_or(Utc.fix())
}

/// A stored UTC instant as the local date-time the API shows.
pub fn to_local(instant: DateTime<Utc>, zone: FixedOffset) -> NaiveDateTime {
    instant.with_timezone(&zone).naive_local()
}

/// Parses a request date-time as the SDKs send it: `yyyy-MM-ddTHH:mm:ss`, `yyyy-MM-ddTHH:mm`
/// (Java), or ISO with fraction and `Z` (Node). Naive values are local time in `zone`.
pub fn parse_request_datetime(raw: &str, zone: FixedOffset) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(raw) {
        return Some(dt.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(raw, format) {
            return zone
                .from_local_datetime(&naive)
                .single()
                .map(|d| d.with_timezone(&Utc));
        }
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let naive = date.and_hms_opt(0, 0, 0)?;
        return zone
            .from_local_datetime(&naive)
            .single()
            .map(|d| d.with_timezone(&Utc));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_datetimes_of_every_sdk_parse() {
        let z = istanbul();
        let a = parse_request_datetime("2026-11-26T10:00:00", z).unwrap();
        let b = parse_request_datetime("2026-11-26T10:00", z).unwrap();
        let c = parse_request_datetime("2026-11-26T07:00:00.000Z", z).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert!(parse_request_datetime("yesterday", z).is_none());
    }
}
