//! Handshakes per second: a ws-runtime server accepting WebSocket handshakes over plain TCP and
//! over TLS (rustls, an ECDSA P-256 certificate made at run time), measured alternately in one
//! run, with the same client (`ws_runtime::client`, each handshake a new TCP connection, closed
//! at once). What the TLS layer costs a connection, before any message.
//!
//! `cargo bench -p ws-runtime --features tls,client --bench handshakes -- [--handshakes N]
//! [--concurrency C] [--rounds R]` (defaults 2,000, 20, 3). Server and client share this
//! process and its two tokio workers, as the other benchmarks do with their load clients.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use test_support::tls::Certificates;
use ws_runtime::client::{Client, ClientOptions, Nothing, Target};
use ws_runtime::{AnyMessage, ClientTls, Context, Handler, HandlerError, Reply, Router, Tls};

struct Silent;

impl Handler<AnyMessage> for Silent {
    async fn message(&self, _cx: &Context, _message: AnyMessage) -> Result<Reply, HandlerError> {
        Ok(Reply::none())
    }
}

/// `handshakes` handshakes, `concurrency` at a time: (handshakes/s, p50, p99).
async fn run(
    url: &str,
    options: ClientOptions,
    handshakes: usize,
    concurrency: usize,
) -> (f64, Duration, Duration) {
    let url = Arc::new(url.to_owned());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (url, options) = (Arc::clone(&url), options.clone());
        let count = handshakes / concurrency + usize::from(worker < handshakes % concurrency);
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(count);
            for _ in 0..count {
                let began = Instant::now();
                let client =
                    Client::<AnyMessage, Nothing>::connect(Target::new(&url, "/"), options.clone())
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let option = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let handshakes = option("--handshakes", 2_000);
    let concurrency = option("--concurrency", 20).max(1);
    let rounds = option("--rounds", 3).max(1);
    ws_runtime::runtime().build().unwrap().block_on(async {
        let certificates = Certificates::for_names(&["localhost"]);
        let app = || Router::new().channel("/", Silent).build().unwrap();
        let plain = app().listen("127.0.0.1:0").await.unwrap();
        let tls =
            Tls::from_pem(certificates.chain.as_bytes(), certificates.key.as_bytes()).unwrap();
        let secure = app().listen_tls("127.0.0.1:0", tls).await.unwrap();
        let trusted = ClientTls::with_ca_pem(certificates.ca.as_bytes()).unwrap();
        let servers = [
            (
                "(a) ws://, plain TCP",
                format!("ws://127.0.0.1:{}", plain.local_addr().port()),
                ClientOptions::default(),
            ),
            (
                "(b) wss://, rustls TLS 1.3",
                format!("wss://localhost:{}", secure.local_addr().port()),
                ClientOptions::default().tls(trusted),
            ),
        ];
        println!(
            "{handshakes} handshakes, {concurrency} at a time, {rounds} rounds alternating; medians"
        );
        let mut results: Vec<Vec<(f64, Duration, Duration)>> = vec![Vec::new(); servers.len()];
        for _ in 0..rounds {
            for (i, (_, url, options)) in servers.iter().enumerate() {
                results[i].push(run(url, options.clone(), handshakes, concurrency).await);
            }
        }
        println!(
            "{:<30} {:>14} {:>10} {:>10}",
            "server", "handshakes/s", "p50", "p99"
        );
        let mut rates = Vec::new();
        for ((name, _, _), samples) in servers.iter().zip(&mut results) {
            let median = |mut v: Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            };
            let rate = median(samples.iter().map(|s| s.0).collect());
            let p50 = median(samples.iter().map(|s| s.1.as_secs_f64() * 1000.0).collect());
            let p99 = median(samples.iter().map(|s| s.2.as_secs_f64() * 1000.0).collect());
            println!("{name:<30} {rate:>14.0} {p50:>8.2}ms {p99:>8.2}ms");
            rates.push(rate);
        }
        println!("ratio (b)/(a) handshakes/s: {:.2}", rates[1] / rates[0]);
        plain.shutdown().await;
        secure.shutdown().await;
    });
}
