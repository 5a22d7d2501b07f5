//! A message's round trip through a function, by Lambda runtime: a two-way route answered by
//! an echo function in the server's process (`ws_runtime::lambda::Lambda` with a Rust closure),
//! and by one in a process of its own (`asyncapi-rs local`'s serving of `benches/functions/
//! template.yaml`): Rust on `lambda_runtime` (`src/bin/echo.rs`), Node.js through asyncapi-rs's
//! Runtime API client, Python through AWS's `awslambdaric`. Warm: one client, `messages`
//! round trips one after another on a warm instance (p50, p99, per second). Cold: the first
//! round trip of a fresh server, which starts the function's process (median of `colds`).
//!
//! `cargo bench -p lambda-chat --bench functions -- [--messages N] [--colds C]` (defaults 2,000
//! and 5). Needs what `tests/run` installs: `target/python-functions` (or `FUNCTIONS_PYTHON`)
//! and Node.js. Server and client share this process and its two tokio workers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use asyncapi_cli::local_server::{self, Options, Serve, Template};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use test_support::functions::python;
use test_support::option;
use test_support::ws::{Client, connect};
use tokio_tungstenite::tungstenite::Message as Frame;
use ws_runtime::Router;
use ws_runtime::lambda::Lambda;

fn template() -> Template {
    Template::read(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/functions/template.yaml"),
    )
    .unwrap()
}

fn options() -> Options {
    Options {
        python: python().into(),
        bootstraps: BTreeMap::from([(
            "RustFunction".to_owned(),
            PathBuf::from(env!("CARGO_BIN_EXE_echo")),
        )]),
        ..Options::default()
    }
}

/// One round trip: `{"action": route, "n": i}` out, its echo back.
async fn round_trip(client: &mut Client, route: &str, i: usize) -> Duration {
    let message = json!({ "action": route, "n": i }).to_string();
    let began = Instant::now();
    client.send(Frame::text(message.clone())).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(30), client.next())
        .await
        .expect("an answer within 30 s")
        .unwrap()
        .unwrap();
    let elapsed = began.elapsed();
    assert_eq!(answer.into_text().unwrap().as_str(), message);
    elapsed
}

/// `messages` round trips on `route` after a warm-up: (per second, p50, p99).
async fn warm(client: &mut Client, route: &str, messages: usize) -> (f64, Duration, Duration) {
    for i in 0..50 {
        round_trip(client, route, i).await;
    }
    let began = Instant::now();
    let mut times = Vec::with_capacity(messages);
    for i in 0..messages {
        times.push(round_trip(client, route, i).await);
    }
    let rate = messages as f64 / began.elapsed().as_secs_f64();
    times.sort();
    (rate, times[times.len() / 2], times[times.len() * 99 / 100])
}

async fn serve_template() -> (local_server::Served, std::net::SocketAddr) {
    let template = template();
    let options = options();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let what = Serve {
        template: &template,
        parameters: &[],
        api: None,
        options: &options,
    };
    let served = local_server::serve(listener, what).await.unwrap();
    let addr = served.server.local_addr();
    (served, addr)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let messages = option(&args, "--messages", 2_000);
    let colds = option(&args, "--colds", 5);
    ws_runtime::runtime().build().unwrap().block_on(async {
        // In the server's process: the same route, a Rust closure.
        let echo = |event: serde_json::Value| async move {
            Ok::<_, std::convert::Infallible>(json!({ "statusCode": 200, "body": event["body"] }))
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .channel("/", Lambda::new().two_way_route("inprocess", echo))
            .build()
            .unwrap();
        let server = app.serve(listener).await.unwrap();
        let mut client = connect(addr, "/").await;
        let (base_rate, base_p50, base_p99) = warm(&mut client, "inprocess", messages).await;
        drop(client);
        server.shutdown().await;
        println!("warm round trips, {messages} in sequence on one client:");
        println!(
            "  {:<26} {:>8.0}/s  p50 {:>7.3} ms  p99 {:>7.3} ms",
            "in the server's process",
            base_rate,
            base_p50.as_secs_f64() * 1e3,
            base_p99.as_secs_f64() * 1e3
        );
        let (server, addr) = serve_template().await;
        let mut client = connect(addr, "/").await;
        for route in ["rust", "node", "python"] {
            let (rate, p50, p99) = warm(&mut client, route, messages).await;
            println!(
                "  {:<26} {:>8.0}/s  p50 {:>7.3} ms  p99 {:>7.3} ms  ({:.2}x the in-process rate)",
                format!("{route}, its own process"),
                rate,
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3,
                rate / base_rate
            );
        }
        drop(client);
        server.shutdown().await;

        println!("cold starts, the first round trip of a fresh server (median of {colds}):");
        for route in ["rust", "node", "python"] {
            let mut times = Vec::with_capacity(colds);
            for _ in 0..colds {
                let (server, addr) = serve_template().await;
                let mut client = connect(addr, "/").await;
                times.push(round_trip(&mut client, route, 0).await);
                drop(client);
                server.shutdown().await;
            }
            times.sort();
            println!(
                "  {:<26} {:>7.1} ms  (min {:.1}, max {:.1})",
                route,
                times[times.len() / 2].as_secs_f64() * 1e3,
                times[0].as_secs_f64() * 1e3,
                times[times.len() - 1].as_secs_f64() * 1e3
            );
        }
    });
}
