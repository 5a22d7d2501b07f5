//! Handshakes per second: a ws-runtime server accepting WebSocket handshakes over plain TCP,
//! with a JWT to verify (HS256, and ES256 from a JWKS file), and over TLS (rustls, an ECDSA P-256
//! certificate made at run time), measured alternately in one run, with the same client
//! (`ws_runtime::client`, each handshake a new TCP connection, closed at once). What
//! authentication and the TLS layer cost a connection, before any message.
//!
//! `cargo bench -p ws-runtime --features tls,client,jwt --bench handshakes -- [--handshakes N]
//! [--concurrency C] [--rounds R]` (defaults 2,000, 20, 3). Server and client share this
//! process and its two tokio workers, as the other benchmarks do with their load clients.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use base64::Engine;
use test_support::tls::{Certificates, P256};
use ws_runtime::client::{Client, ClientOptions, Nothing, Target};
use ws_runtime::{
    AnyMessage, ChannelOptions, ClientTls, Context, Handler, HandlerError, Jwt, Location, Reply,
    Router, Scheme, Security, Tls,
};

struct Silent;

impl Handler<AnyMessage> for Silent {
    async fn message(&self, _cx: &Context, _message: AnyMessage) -> Result<Reply, HandlerError> {
        Ok(Reply::none())
    }
}

/// One server as the client reaches it.
struct Case {
    name: &'static str,
    url: String,
    /// `Authorization: Bearer <token>` on every handshake, when there is one.
    bearer: Option<String>,
    options: ClientOptions,
}

/// `handshakes` handshakes, `concurrency` at a time: (handshakes/s, p50, p99).
async fn run(case: &Case, handshakes: usize, concurrency: usize) -> (f64, Duration, Duration) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let url = case.url.clone();
        let bearer = case.bearer.clone();
        let options = case.options.clone();
        let count = handshakes / concurrency + usize::from(worker < handshakes % concurrency);
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(count);
            for _ in 0..count {
                let began = Instant::now();
                let mut target = Target::new(&url, "/");
                if let Some(token) = &bearer {
                    target = target.header("authorization", &format!("Bearer {token}"));
                }
                let client = Client::<AnyMessage, Nothing>::connect(target, options.clone())
                    .await
                    .expect("the handshake succeeds");
                times.push(began.elapsed());
                client.close().await.unwrap();
            }
            times
        }));
    }
    let mut times = Vec::with_capacity(handshakes);
    for task in tasks {
        times.extend(task.await.unwrap());
    }
    let rate = handshakes as f64 / started.elapsed().as_secs_f64();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    (rate, at(0.5), at(0.99))
}

/// A server whose channel needs a bearer JWT, checked by `jwt`.
async fn secured(jwt: Jwt) -> ws_runtime::Server {
    let options = ChannelOptions {
        security: Some(Security::all_of([Scheme::new("jwt", Location::Bearer)])),
        ..ChannelOptions::default()
    };
    Router::new()
        .channel_with("/", Silent, options)
        .verify("jwt", jwt)
        .build()
        .unwrap()
        .listen("127.0.0.1:0")
        .await
        .unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let option = |name: &str, default: usize| test_support::option(&args, name, default);
    let handshakes = option("--handshakes", 2_000);
    let concurrency = option("--concurrency", 20).max(1);
    let rounds = option("--rounds", 3).max(1);
    ws_runtime::runtime().build().unwrap().block_on(async {
        let app = || Router::new().channel("/", Silent).build().unwrap();
        let plain = app().listen("127.0.0.1:0").await.unwrap();

        let claims = serde_json::json!({"sub": "bench", "exp": 4_102_444_800u64});
        let secret = b"a-long-random-secret-for-the-benchmark";
        let hs256_token = jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret).unwrap(),
        )
        .unwrap();
        let hs256 = secured(Jwt::hs256(secret).unwrap()).await;

        let key = P256::generate();
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let jwks = serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "alg": "ES256", "kid": "k1", "x": b64(&key.x), "y": b64(&key.y)}]});
        let file = std::env::temp_dir().join(format!("handshakes-jwks-{}.json", std::process::id()));
        std::fs::write(&file, jwks.to_string()).unwrap();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some("k1".into());
        let signing = jsonwebtoken::EncodingKey::from_ec_der(&key.pkcs8);
        let es256_token = jsonwebtoken::encode(&header, &claims, &signing).unwrap();
        let es256 = secured(Jwt::jwks_file(&file).unwrap()).await;

        let certificates = Certificates::for_names(&["localhost"]);
        let tls = Tls::from_pem(certificates.chain.as_bytes(), certificates.key.as_bytes()).unwrap();
        let secure = app().listen_tls("127.0.0.1:0", tls).await.unwrap();
        let trusted = ClientTls::with_ca_pem(certificates.ca.as_bytes()).unwrap();

        let ws = |server: &ws_runtime::Server| format!("ws://127.0.0.1:{}", server.local_addr().port());
        let cases = [
            Case { name: "(a) ws://, plain TCP", url: ws(&plain), bearer: None, options: ClientOptions::default() },
            Case { name: "(b) ws://, JWT HS256", url: ws(&hs256), bearer: Some(hs256_token), options: ClientOptions::default() },
            Case { name: "(c) ws://, JWT ES256 (JWKS)", url: ws(&es256), bearer: Some(es256_token), options: ClientOptions::default() },
            Case {
                name: "(d) wss://, rustls TLS 1.3",
                url: format!("wss://localhost:{}", secure.local_addr().port()),
                bearer: None,
                options: ClientOptions::default().tls(trusted),
            },
        ];
        println!("{handshakes} handshakes, {concurrency} at a time, {rounds} rounds alternating; medians");
        let mut results: Vec<Vec<(f64, Duration, Duration)>> = vec![Vec::new(); cases.len()];
        for _ in 0..rounds {
            for (i, case) in cases.iter().enumerate() {
                results[i].push(run(case, handshakes, concurrency).await);
            }
        }
        println!("{:<30} {:>14} {:>10} {:>10}", "server", "handshakes/s", "p50", "p99");
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let mut rates = Vec::new();
        for (case, samples) in cases.iter().zip(&results) {
            let rate = median(samples.iter().map(|s| s.0).collect());
            let p50 = median(samples.iter().map(|s| s.1.as_secs_f64() * 1000.0).collect());
            let p99 = median(samples.iter().map(|s| s.2.as_secs_f64() * 1000.0).collect());
            println!("{:<30} {rate:>14.0} {p50:>8.2}ms {p99:>8.2}ms", case.name);
            rates.push(rate);
        }
        for (case, rate) in cases.iter().zip(&rates).skip(1) {
            println!("ratio {}/(a) handshakes/s: {:.2}", &case.name[..3], rate / rates[0]);
        }
        for server in [plain, hs256, es256, secure] {
            server.shutdown().await;
        }
        let _ = std::fs::remove_file(&file);
    });
}
