//! Request-signature verification cost: what `api::auth::layer` does per request once the
//! body is read and the merchant is known (cached). The layer itself needs a running engine,
//! so this bench repeats its exact steps: percent-decode the target, build each candidate
//! URL (`http://host` and `https://host`, each with the decoded and the raw path: four
//! candidates when no public URL is configured), SHA-256 + Base64 each, and compare each
//! to the sent signature in constant time.
//!
//! `cargo bench -p api --bench signature`

use std::hint::black_box;
use std::time::Duration;

use api::auth::{percent_decode, signature};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use subtle::ConstantTimeEq;

const API_KEY: &str = "ork-AbCdEfGhIjKlMnOpQrStUvWxYz01";
const SECRET_KEY: &str = "S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr";
const RND: &str = "5f0c1e9a2b7d4c3e8f6a1b2c3d4e5f60";
const HOST: &str = "127.0.0.1:8080";
const TARGET: &str = "/payment/v1/card-payments";

/// A typical card-payment body of about 1 KB (basket of several items, buyer, metadata).
fn payment_body() -> Vec<u8> {
    let mut items = Vec::new();
    for n in 0..6 {
        items.push(format!(
            "{{\"name\":\"Ürün {n} — kablosuz kulaklık\",\"externalId\":\"sku-{n:05}\",\"price\":16.67}}"
        ));
    }
    format!(
        "{{\"price\":100.0,\"paidPrice\":100.0,\"walletPrice\":0,\"installment\":1,\"currency\":\"TRY\",\
\"paymentGroup\":\"PRODUCT\",\"paymentPhase\":\"AUTH\",\"paymentChannel\":\"WEB\",\
\"conversationId\":\"456d1297-908e-4bd6-a13b-4be31a6e47d5\",\"externalId\":\"order-2024-000123\",\
\"clientIp\":\"203.0.113.10\",\"buyerMemberId\":1,\
\"card\":{{\"cardHolderName\":\"Haluk Demir\",\"cardNumber\":\"5258640000000001\",\"expireYear\":\"2044\",\"expireMonth\":\"07\",\"cvc\":\"000\"}},\
\"items\":[{}],\"additionalParams\":{{\"campaign\":\"spring-sale\",\"channel\":\"mobile-web\"}}}}",
        items.join(",")
    )
    .into_bytes()
}

/// The layer's candidate bases without a configured public URL.
fn candidate_bases(host: &str) -> Vec<String> {
    vec![format!("http://{host}"), format!("https://{host}")]
}

/// The layer's whole check, step by step (see `api::auth::layer`).
fn verify(target: &str, host: &str, body: &[u8], sent: &str) -> bool {
    let decoded_target = percent_decode(target);
    let mut valid = false;
    for base in candidate_bases(host) {
        for path in [&decoded_target, &target.to_owned()] {
            let expected = signature(&format!("{base}{path}"), API_KEY, SECRET_KEY, RND, body);
            valid |= bool::from(expected.as_bytes().ct_eq(sent.as_bytes()));
        }
    }
    valid
}

fn benches(c: &mut Criterion) {
    let body = payment_body();
    let url = format!("http://{HOST}{TARGET}");
    let sent = signature(&url, API_KEY, SECRET_KEY, RND, &body);
    // The bench would be meaningless if the check failed.
    if !verify(TARGET, HOST, &body, &sent) || verify(TARGET, HOST, &body, "x") {
        eprintln!("signature check does not behave as the server's");
        std::process::exit(1);
    }

    let mut group = c.benchmark_group("signature");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function(format!("one_candidate_{}B_body", body.len()), |b| {
        b.iter(|| signature(black_box(&url), API_KEY, SECRET_KEY, RND, black_box(&body)))
    });
    group.bench_function(format!("verify_4_candidates_{}B_body", body.len()), |b| {
        b.iter(|| verify(black_box(TARGET), HOST, black_box(&body), black_box(&sent)))
    });
    group.finish();
}

criterion_group! {
    name = signature_benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = benches
}
criterion_main!(signature_benches);
