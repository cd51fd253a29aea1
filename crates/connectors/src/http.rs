//! The one HTTP client every connector uses: rustls, connect timeout, no redirects.

use std::time::Duration;

/// Connecting to a bank should never take long; a slow answer is bounded per call
/// by [`crate::PosConfig::timeout`].
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
}
