//! The 3D gates' open sessions: a page waiting for the shopper's card or one-time password,
//! kept in the simulator's memory under a random id for [`SESSION_TTL`] of bank time, at
//! most [`SESSIONS_MAX`] at once. Every family's gate keeps its own session type in one of
//! these, and answers with the same two pages when a session cannot be opened or found.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};

use crate::nestpay::threeds::pages;

/// How long a 3D session (the gate's page waiting for its OTP) lives, in bank time.
pub const SESSION_TTL: Duration = Duration::minutes(10);

/// Sessions kept at most; past it (after expired ones are dropped) the gate refuses new ones.
pub const SESSIONS_MAX: usize = 10_000;

/// A family's session, as the shared store keeps it.
pub trait GateSession {
    /// When the gate opened it, in bank time.
    fn created(&self) -> DateTime<Utc>;
}

/// The open sessions of one family's gate, by id. Every lookup drops the expired first.
#[derive(Debug)]
pub struct Sessions<S> {
    map: HashMap<String, S>,
}

// Not derived: a derive would ask `S: Default`.
impl<S> Default for Sessions<S> {
    fn default() -> Self {
        Sessions {
            map: HashMap::new(),
        }
    }
}

impl<S: GateSession> Sessions<S> {
    fn prune(&mut self, now: DateTime<Utc>) {
        self.map.retain(|_, s| now - s.created() <= SESSION_TTL);
    }

    /// Opens `session` under `id`; `false` (nothing opened) when [`SESSIONS_MAX`] are open.
    pub fn open(&mut self, id: String, session: S, now: DateTime<Utc>) -> bool {
        self.prune(now);
        if self.map.len() >= SESSIONS_MAX {
            return false;
        }
        self.map.insert(id, session);
        true
    }

    /// The session `id` if it is still open at `now`.
    pub fn get(&mut self, id: &str, now: DateTime<Utc>) -> Option<&S> {
        self.prune(now);
        self.map.get(id)
    }

    pub fn get_mut(&mut self, id: &str, now: DateTime<Utc>) -> Option<&mut S> {
        self.prune(now);
        self.map.get_mut(id)
    }

    /// Closes the session `id` and hands it over, if it is still open at `now`.
    pub fn take(&mut self, id: &str, now: DateTime<Utc>) -> Option<S> {
        self.prune(now);
        self.map.remove(id)
    }

    /// Sessions held, expired or not (tests).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// The gate's answer when [`SESSIONS_MAX`] sessions are open (HTTP 503).
pub fn busy_page() -> Response {
    pages::html(
        StatusCode::SERVICE_UNAVAILABLE,
        pages::error(
            "Sistem meşgul",
            "System busy",
            "Çok fazla açık 3D oturumu. / Too many open 3D sessions.",
        ),
    )
}

/// The gate's answer for a session that does not exist or has expired (HTTP 404).
pub fn not_found_page() -> Response {
    pages::html(
        StatusCode::NOT_FOUND,
        pages::error(
            "Oturum bulunamadı",
            "Session not found",
            "3D oturumu bulunamadı veya süresi doldu. / The 3D session does not exist or has expired.",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Session(DateTime<Utc>);

    impl GateSession for Session {
        fn created(&self) -> DateTime<Utc> {
            self.0
        }
    }

    #[test]
    fn sessions_expire_after_their_ttl_and_are_taken_once() {
        let start = DateTime::<Utc>::UNIX_EPOCH;
        let mut sessions = Sessions::default();
        assert!(sessions.open("a".into(), Session(start), start));
        assert!(sessions.get("a", start + SESSION_TTL).is_some());
        assert!(sessions.get_mut("a", start + SESSION_TTL).is_some());
        assert!(sessions.take("a", start + SESSION_TTL).is_some());
        assert!(sessions.take("a", start + SESSION_TTL).is_none());

        assert!(sessions.open("b".into(), Session(start), start));
        let later = start + SESSION_TTL + Duration::seconds(1);
        assert!(sessions.get("b", later).is_none());
        assert!(sessions.is_empty(), "the expired session was dropped");
    }

    #[test]
    fn a_full_gate_refuses_until_sessions_expire() {
        let start = DateTime::<Utc>::UNIX_EPOCH;
        let mut sessions = Sessions::default();
        for i in 0..SESSIONS_MAX {
            assert!(sessions.open(i.to_string(), Session(start), start));
        }
        assert!(!sessions.open("one more".into(), Session(start), start));
        assert_eq!(sessions.len(), SESSIONS_MAX);
        let later = start + SESSION_TTL + Duration::seconds(1);
        assert!(sessions.open("one more".into(), Session(later), later));
        assert_eq!(sessions.len(), 1);
    }
}
