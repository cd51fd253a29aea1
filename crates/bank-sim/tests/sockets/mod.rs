//! What the simulators' fault tests share: a simulator on a real socket, and a raw HTTP/1.1
//! POST that sees exactly what a bank client would (a dropped connection is no response at
//! all, a delay arrives late). Each fault test keeps its bank's path, headers and body.

#![allow(dead_code)] // each test binary uses a different subset
// Test helpers: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Serves a fresh simulator on 127.0.0.1:0; its address and an in-process router on the
/// same state for admin calls.
pub async fn serve() -> (SocketAddr, axum::Router) {
    let app = bank_sim::router(bank_sim::Simulators::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = app.clone();
    tokio::spawn(async move {
        axum::serve(listener, served).await.unwrap();
    });
    (addr, app)
}

/// One raw HTTP/1.1 POST of `body` to `path` with `headers` (besides Host, Content-Length
/// and `Connection: close`) on a plain socket; everything the server sent before closing,
/// and how long that took. A reset counts as "closed" (what a client sees is the same: no
/// response).
pub async fn raw_post(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (Vec<u8>, Duration) {
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body).unwrap();
        let mut received = Vec::new();
        match stream.read_to_end(&mut received) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("reading the answer: {e}"),
        }
        (received, started.elapsed())
    })
    .await
    .unwrap()
}
