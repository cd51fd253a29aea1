//! The one HTTP client every connector uses (rustls, connect timeout, no redirects), the
//! one exchange each makes with its bank, and how that exchange's failures read. Every
//! failure here leaves the bank's outcome unknown, except a request that could not even be
//! built: that one never left.

use std::time::Duration;

use reqwest::{RequestBuilder, StatusCode};

use crate::ConnectorError;

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

/// Sends `request` (the POS's URL, timeout, headers and body already on it) and reads the
/// whole reply, refusing one over `max_bytes`. A status other than 2xx is `BadResponse`:
/// whatever the bank did, its answer cannot be read.
pub(crate) async fn exchange(
    request: RequestBuilder,
    max_bytes: usize,
) -> Result<Vec<u8>, ConnectorError> {
    let (_, body) = exchange_reading(request, |status| status.is_success(), max_bytes).await?;
    Ok(body)
}

/// [`exchange`], reading the reply of every status `readable` accepts.
pub(crate) async fn exchange_reading(
    request: RequestBuilder,
    readable: impl Fn(StatusCode) -> bool,
    max_bytes: usize,
) -> Result<(StatusCode, Vec<u8>), ConnectorError> {
    let mut response = request.send().await.map_err(error)?;
    let status = response.status();
    if !readable(status) {
        return Err(ConnectorError::BadResponse(format!(
            "http status {}",
            status.as_u16()
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(error)? {
        if body.len() + chunk.len() > max_bytes {
            return Err(ConnectorError::BadResponse("body too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}

/// reqwest's error, with its causes, without the URL. A request that could not even be
/// built (a malformed `api_url`) never left, so it is a configuration error.
fn error(error: reqwest::Error) -> ConnectorError {
    if error.is_timeout() {
        return ConnectorError::Timeout;
    }
    let is_builder = error.is_builder();
    let is_connect = error.is_connect();
    let error = error.without_url();
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    if is_builder {
        ConnectorError::Config(format!("cannot build request: {detail}"))
    } else if is_connect {
        ConnectorError::Unreachable(detail)
    } else {
        ConnectorError::Transport(detail)
    }
}

/// PHP `urlencode` (what `http_build_query` uses): `A-Za-z0-9-_.` kept, space → `+`,
/// every other UTF-8 byte → `%XX`.
pub(crate) fn urlencode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(byte as char),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[usize::from(byte >> 4)] as char);
                out.push(HEX[usize::from(byte & 0x0f)] as char);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A bank that answers one request with `reply` (a whole HTTP/1.1 response), or with
    /// nothing for `None`, and the URL it listens at.
    async fn bank(reply: Option<&'static str>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            match reply {
                Some(reply) => socket.write_all(reply.as_bytes()).await.unwrap(),
                // Hold the connection open without answering.
                None => tokio::time::sleep(Duration::from_secs(5)).await,
            }
        });
        url
    }

    fn post(url: &str) -> RequestBuilder {
        client()
            .unwrap()
            .post(url)
            .timeout(Duration::from_millis(300))
            .body("<x/>")
    }

    #[tokio::test]
    async fn reads_a_2xx_reply_and_refuses_other_statuses_and_oversized_bodies() {
        let ok = bank(Some("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")).await;
        assert_eq!(exchange(post(&ok), 5).await.unwrap(), b"hello");

        let big = bank(Some("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")).await;
        match exchange(post(&big), 4).await {
            Err(ConnectorError::BadResponse(why)) => assert_eq!(why, "body too large"),
            other => panic!("{other:?}"),
        }

        let failed = "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n";
        match exchange(post(&bank(Some(failed)).await), 64).await {
            Err(ConnectorError::BadResponse(why)) => assert_eq!(why, "http status 500"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn reads_the_statuses_a_bank_answers_with_a_body() {
        let refusal = "HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}";
        let (status, body) =
            exchange_reading(post(&bank(Some(refusal)).await), |s| s.as_u16() == 400, 64)
                .await
                .unwrap();
        assert_eq!((status.as_u16(), body.as_slice()), (400, b"{}".as_slice()));
    }

    #[tokio::test]
    async fn transport_failures_read_as_unknown_and_a_bad_url_as_configuration() {
        let silent = bank(None).await;
        assert!(matches!(
            exchange(post(&silent), 64).await,
            Err(ConnectorError::Timeout)
        ));

        // A port nobody listens on.
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api", closed.local_addr().unwrap());
        drop(closed);
        assert!(matches!(
            exchange(post(&url), 64).await,
            Err(ConnectorError::Unreachable(_))
        ));

        match exchange(post("http://exa mple/api?password=secret"), 64).await {
            Err(ConnectorError::Config(why)) => assert!(!why.contains("secret"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
