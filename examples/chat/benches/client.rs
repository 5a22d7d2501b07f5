//! The generated client against a bare tokio-tungstenite client, on the same chat server in the
//! same run: round trips per second of `echo` (send, wait for the reply), one connection each.
//!
//! `cargo bench -p chat --bench client [-- --requests N --rounds R]` (defaults 20,000 and 5).
//! The typed client serializes the `Echo` value with its route key, and validates and
//! deserializes the reply into `EchoReply` (outgoing checks are off in release builds, as by
//! default); the bare client sends a prepared string and waits for any text frame, once with
//! tokio-tungstenite's default settings and once with reads in 8 KiB chunks and a 1 MiB bound
//! (the typed client's own bound; it runs on yawc, the server's library, and offers
//! permessage-deflate, which these 60-byte replies are under the server's threshold for). The server runs on its own thread (one tokio worker); the clients run one at a time,
//! in turn each round.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chat::api::chat::{ChatClient, ChatQuery};
use chat::api::types::Echo;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as Frame;

const TEXT: &str = "the quick brown fox jumps over the lazy dog";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let option = |name: &str, default: usize| test_support::option(&args, name, default);
    let requests = option("--requests", 20_000);
    let rounds = option("--rounds", 5);

    // The server, on a thread and a runtime of its own.
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let server = chat::server().unwrap().serve(listener).await.unwrap();
            addr_tx.send(server.local_addr()).unwrap();
            std::future::pending::<()>().await;
        });
    });
    let addr = addr_rx.recv().unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tuned = || {
        Some(
            tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
                .read_buffer_size(8 * 1024)
                .max_message_size(Some(1 << 20))
                .max_frame_size(Some(1 << 20)),
        )
    };
    let (mut typed, mut bare, mut bare_tuned) = (Vec::new(), Vec::new(), Vec::new());
    runtime.block_on(async {
        // A warm-up of each, not counted.
        typed_client(addr, requests / 10).await;
        bare_client(addr, requests / 10, None).await;
        for _ in 0..rounds {
            let elapsed = bare_client(addr, requests, tuned()).await;
            bare_tuned.push(per_second(requests, elapsed));
            typed.push(per_second(requests, typed_client(addr, requests).await));
            bare.push(per_second(
                requests,
                bare_client(addr, requests, None).await,
            ));
        }
    });
    // Each round's ratio is of runs side by side; the median of those is what the noise of a
    // shared machine moves least.
    let ratio = |other: &[f64]| median(typed.iter().zip(other).map(|(t, o)| t / o).collect());
    let (to_bare, to_tuned) = (ratio(&bare), ratio(&bare_tuned));
    println!("echo round trips/s, one connection, {requests} requests × {rounds} rounds (median)");
    println!(
        "  (a) bare tokio-tungstenite client, default settings     {:>10.0}",
        median(bare)
    );
    println!(
        "  (b) bare tokio-tungstenite client, 8 KiB reads          {:>10.0}",
        median(bare_tuned)
    );
    println!(
        "  (c) generated typed client                              {:>10.0}",
        median(typed)
    );
    println!(
        "  typed / bare (median of the rounds' ratios): (c)/(a) {to_bare:.2}, (c)/(b) {to_tuned:.2}"
    );
}

async fn typed_client(addr: SocketAddr, requests: usize) -> Duration {
    let query = ChatQuery {
        name: "typed".into(),
    };
    let mut client = ChatClient::connect(&format!("ws://{addr}"), &query)
        .await
        .unwrap();
    let start = Instant::now();
    for _ in 0..requests {
        let reply = client.echo(Echo::new(TEXT)).await.unwrap();
        assert_eq!(reply.text.len(), TEXT.len());
    }
    let elapsed = start.elapsed();
    client.close().await.unwrap();
    elapsed
}

async fn bare_client(
    addr: SocketAddr,
    requests: usize,
    config: Option<tokio_tungstenite::tungstenite::protocol::WebSocketConfig>,
) -> Duration {
    // Without Nagle's delay, as the typed client connects.
    let url = format!("ws://{addr}/?name=bare");
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(url, config, true)
        .await
        .unwrap();
    let frame = format!(r#"{{"action":"echo","text":"{TEXT}"}}"#);
    let start = Instant::now();
    for _ in 0..requests {
        socket.send(Frame::text(frame.as_str())).await.unwrap();
        loop {
            if let Frame::Text(text) = socket.next().await.unwrap().unwrap() {
                assert!(text.len() > TEXT.len());
                break;
            }
        }
    }
    let elapsed = start.elapsed();
    socket.close(None).await.unwrap();
    elapsed
}

fn per_second(requests: usize, elapsed: Duration) -> f64 {
    requests as f64 / elapsed.as_secs_f64()
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}
