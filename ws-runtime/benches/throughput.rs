//! Throughput, latency and memory: ws-runtime against bare echo servers on the maintained Rust
//! WebSocket libraries, its own among them, measured side by side in one run.
//!
//! `cargo bench -p ws-runtime --bench throughput` starts each server in a child process (so its
//! memory is its own), drives it from this process with the same tokio load client, and prints:
//!
//! - messages/s and p50/p99 round-trip latency, C connections each sending M messages in a closed
//!   loop: bare echo servers on each maintained Rust WebSocket library, (a) axum's (tungstenite),
//!   (c) tokio-websockets, (f) yawc (which ws-runtime runs on) and (g) fastwebsockets, and (b)
//!   ws-runtime routing by `$request.body.action`, schema validation, typed dispatch and a typed
//!   reply;
//! - resident memory per idle connection with 10,000 connections open;
//! - with `--compression`: ws-runtime with permessage-deflate accepted and declined, driven by a
//!   client that offers it (yawc's), on a price-like reply: messages/s, the server's CPU per
//!   message, and the bytes per reply on the wire (counted at the client's socket).
//!
//! Options: `--connections C` (100), `--messages M` (200), `--idle N` (10000; 0 skips the
//! memory test), `--rounds R` (3), `--node DIR` (also measure the Node.js peer, `DIR/server.js`:
//! the `ws` package routing by `action` with `ajv` validation; installed by `bench/run`),
//! `--metrics` (also (e): ws-runtime with `Router::metrics()` on, against (b) with them off),
//! `--text-bytes N` (the echoed text N bytes long instead of a 43-byte pangram),
//! `--workers W` (1: each server on W threads: tokio workers for the Rust servers, Node's
//! `cluster` with W processes for the Node one).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A server's name and its per-round throughput, p50, p99 and CPU time per message.
type Samples = (
    &'static str,
    Vec<f64>,
    Vec<Duration>,
    Vec<Duration>,
    Vec<Cpu>,
);

/// The server process's CPU time per message while the messages flowed, in µs: user, system.
type Cpu = (f64, f64);

/// The message every connection sends: `echo` with a pangram, or with `--text-bytes N` bytes.
static PAYLOAD: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        let workers = args.get(3).and_then(|w| w.parse().ok()).unwrap_or(1);
        serve(&args[2], workers);
        return;
    }
    let option = |name: &str, default: usize| test_support::option(&args, name, default);
    let connections = option("--connections", 100);
    let messages = option("--messages", 200);
    let idle = option("--idle", 10_000);
    let rounds = option("--rounds", 3);
    let workers = option("--workers", 1).max(1);
    let text = match option("--text-bytes", 0) {
        0 => "the quick brown fox jumps over the lazy dog".to_owned(),
        n => "x".repeat(n),
    };
    let payload = PAYLOAD.get_or_init(|| format!(r#"{{"action":"echo","text":"{text}"}}"#));
    let node = args
        .iter()
        .position(|a| a == "--node")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{connections} connections × {messages} messages, {rounds} rounds alternating; payload {} bytes; {workers} server worker(s)",
        payload.len()
    );
    println!(
        "{:<34} {:>12} {:>10} {:>10}",
        "server", "messages/s", "p50", "p99"
    );
    let mut kinds = vec![
        "bare",
        "runtime",
        "tokio-websockets",
        "yawc",
        "fastwebsockets",
    ];
    let mut results: Vec<Samples> = vec![
        (
            "(a) bare echo, axum ws (tungstenite)",
            vec![],
            vec![],
            vec![],
            vec![],
        ),
        (
            "(b) ws-runtime routed+validated",
            vec![],
            vec![],
            vec![],
            vec![],
        ),
        (
            "(c) bare echo, tokio-websockets",
            vec![],
            vec![],
            vec![],
            vec![],
        ),
        ("(f) bare echo, yawc", vec![], vec![], vec![], vec![]),
        (
            "(g) bare echo, fastwebsockets",
            vec![],
            vec![],
            vec![],
            vec![],
        ),
    ];
    if node.is_some() {
        kinds.push("node");
        results.push((
            "(d) Node.js ws + ajv, routed",
            vec![],
            vec![],
            vec![],
            vec![],
        ));
    }
    let metrics = args.iter().any(|a| a == "--metrics");
    if metrics {
        kinds.push("runtime-metrics");
        results.push(("(e) ws-runtime + metrics", vec![], vec![], vec![], vec![]));
    }
    for _ in 0..rounds {
        for (i, &kind) in kinds.iter().enumerate() {
            let (mut child, addr) = spawn_server(kind, node.as_deref(), workers);
            let (rate, p50, p99, cpu) =
                runtime.block_on(load(addr, child.id(), connections, messages));
            child.kill().ok();
            child.wait().ok();
            results[i].1.push(rate);
            results[i].2.push(p50);
            results[i].3.push(p99);
            results[i].4.push(cpu);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let median_d = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let mut rates = Vec::new();
    for (name, rate, p50, p99, _) in &mut results {
        let (r, a, b) = (median(rate), median_d(p50), median_d(p99));
        rates.push(r);
        println!("{name:<34} {r:>12.0} {:>8.2}ms {:>8.2}ms", ms(a), ms(b));
    }
    // Where a server's time goes: its process's CPU per message, averaged over the rounds (with
    // `--workers` above 1, Node's workers are child processes and are not counted).
    println!("server CPU per message (user + system, µs), mean of the rounds:");
    for (name, .., cpu) in &results {
        let rounds = cpu.len().max(1) as f64;
        let (user, system) = cpu.iter().fold((0.0, 0.0), |(u, s), (cu, cs)| {
            (u + cu / rounds, s + cs / rounds)
        });
        println!("  {name:<34} {user:>6.2} + {system:>6.2}");
    }
    // The bare echo servers: (a), (c), (f) and (g).
    let fastest = [0, 2, 3, 4].iter().map(|&i| rates[i]).fold(0.0, f64::max);
    println!(
        "ratio (b)/(f) throughput (ws-runtime / its own library's bare echo): {:.2}",
        rates[1] / rates[3]
    );
    println!(
        "ratio (b)/fastest bare echo throughput: {:.2}",
        rates[1] / fastest
    );
    if let Some(node) = kinds.iter().position(|&kind| kind == "node") {
        println!("ratio (b)/(d) throughput: {:.2}", rates[1] / rates[node]);
    }
    if metrics {
        let with = rates[kinds.len() - 1];
        println!(
            "ratio (e)/(b) throughput (metrics on / off): {:.2}",
            with / rates[1]
        );
    }
    if args.iter().any(|a| a == "--compression") {
        compression(&runtime, connections, messages, rounds);
    }
    if idle == 0 {
        return;
    }

    println!("\nidle connections: {idle}");
    for &kind in &kinds {
        let (mut child, addr) = spawn_server(kind, node.as_deref(), workers);
        let before = test_support::process::resident_kib(child.id());
        let per = runtime.block_on(async {
            let mut clients = Vec::with_capacity(idle);
            for _ in 0..idle / 250 {
                let batch = (0..250).map(|_| support::connect(addr, "/chat"));
                clients.extend(futures_util::future::join_all(batch).await);
            }
            // Let the server settle (tasks parked, buffers at rest).
            tokio::time::sleep(Duration::from_secs(1)).await;
            let after = test_support::process::resident_kib(child.id());
            drop(clients);
            (after.saturating_sub(before)) as f64 / idle as f64
        });
        println!(
            "{kind:<17} resident memory per idle connection: {per:.1} KiB (RSS before {before} KiB)"
        );
        child.kill().ok();
        child.wait().ok();
    }
}

/// The compression table: the same routed server with permessage-deflate on and off, the same
/// client offering it, the same price-like messages.
fn compression(
    runtime: &tokio::runtime::Runtime,
    connections: usize,
    messages: usize,
    rounds: usize,
) {
    let text = "ACME 101.23 +0.42% BOLT 55.10 -0.13% CRUX 12.08 +1.02% DYNE 230.51 +0.07%";
    let payload = format!(r#"{{"action":"echo","text":"{text}"}}"#);
    println!(
        "\ncompression (a client offering permessage-deflate; {}-byte messages, replies {} bytes):",
        payload.len(),
        text.len() + 24
    );
    println!(
        "{:<34} {:>12} {:>14} {:>16} {:>14}",
        "server", "messages/s", "CPU µs/msg", "bytes/reply", "KiB/conn"
    );
    for (kind, name) in [
        ("runtime-deflate", "ws-runtime, deflate kept"),
        ("runtime-deflate-reset", "ws-runtime, deflate reset"),
        ("runtime-plain", "ws-runtime, deflate declined"),
    ] {
        let (mut rate, mut cpu, mut bytes, mut memory) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let (mut child, addr) = spawn_server(kind, None, 1);
            let (r, c, b, m) = runtime.block_on(load_compressed(
                addr,
                child.id(),
                connections,
                messages,
                &payload,
            ));
            child.kill().ok();
            child.wait().ok();
            rate.push(r);
            cpu.push(c);
            bytes.push(b);
            memory.push(m);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "{name:<34} {:>12.0} {:>14.2} {:>16.1} {:>14.1}",
            median(&mut rate),
            median(&mut cpu),
            median(&mut bytes),
            median(&mut memory)
        );
    }
}

/// A TCP stream that counts the bytes read from it.
struct Counted {
    stream: tokio::net::TcpStream,
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl tokio::io::AsyncRead for Counted {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = std::pin::Pin::new(&mut self.stream).poll_read(cx, buf);
        let read = (buf.filled().len() - before) as u64;
        self.read
            .fetch_add(read, std::sync::atomic::Ordering::Relaxed);
        poll
    }
}

impl tokio::io::AsyncWrite for Counted {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// C yawc clients offering permessage-deflate, each sending M messages one after the other;
/// returns messages/s, the server's CPU µs per message, the bytes read per reply, and the
/// server's resident memory per connection (KiB) once the messages are through.
async fn load_compressed(
    addr: SocketAddr,
    pid: u32,
    connections: usize,
    messages: usize,
    payload: &str,
) -> (f64, f64, f64, f64) {
    let read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let resident_before = test_support::process::resident_kib(pid);
    let mut clients = Vec::new();
    for _ in 0..connections {
        let stream = Counted {
            stream: tokio::net::TcpStream::connect(addr).await.unwrap(),
            read: std::sync::Arc::clone(&read),
        };
        let url = url::Url::parse(&format!("ws://{addr}/chat")).unwrap();
        let options = yawc::Options::default().with_low_latency_compression();
        clients.push(
            yawc::WebSocket::handshake(url, stream, options)
                .await
                .unwrap(),
        );
    }
    let read_before = read.load(std::sync::atomic::Ordering::Relaxed);
    let cpu_before = test_support::process::cpu_ticks(pid);
    let started = Instant::now();
    let tasks = clients.into_iter().map(|mut client| {
        let payload = payload.to_owned();
        tokio::spawn(async move {
            for _ in 0..messages {
                client
                    .send(yawc::Frame::text(payload.clone()))
                    .await
                    .unwrap();
                loop {
                    let frame = client.next().await.expect("the server went away");
                    if frame.opcode() == yawc::frame::OpCode::Text {
                        break;
                    }
                }
            }
            client
        })
    });
    let clients = futures_util::future::join_all(tasks).await;
    let elapsed = started.elapsed();
    // Every connection open, each having sent and received: what it holds between messages.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let resident = test_support::process::resident_kib(pid).saturating_sub(resident_before);
    drop(clients);
    let cpu_after = test_support::process::cpu_ticks(pid);
    let total = (connections * messages) as f64;
    let ticks = (cpu_after.0 + cpu_after.1).saturating_sub(cpu_before.0 + cpu_before.1);
    let bytes = read.load(std::sync::atomic::Ordering::Relaxed) - read_before;
    (
        total / elapsed.as_secs_f64(),
        ticks as f64 * 10_000.0 / total,
        bytes as f64 / total,
        resident as f64 / connections as f64,
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn spawn_server(kind: &str, node: Option<&str>, workers: usize) -> (Child, SocketAddr) {
    let mut command = match (kind, node) {
        ("node", Some(dir)) => {
            let mut node = Command::new("node");
            node.arg(std::path::Path::new(dir).join("server.js"))
                .env("WORKERS", workers.to_string());
            node
        }
        _ => {
            let mut this = Command::new(std::env::current_exe().unwrap());
            this.args(["serve", kind, &workers.to_string()]);
            this
        }
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("LISTENING ")
        .expect("the server did not start")
        .parse()
        .unwrap();
    (child, addr)
}

/// C connections, each sending M messages one after the other; returns messages/s, p50, p99, and
/// the CPU time the server process `pid` spent per message.
async fn load(
    addr: SocketAddr,
    pid: u32,
    connections: usize,
    messages: usize,
) -> (f64, Duration, Duration, Cpu) {
    let mut clients = Vec::new();
    for _ in 0..connections {
        clients.push(support::connect(addr, "/chat").await);
    }
    let cpu_before = test_support::process::cpu_ticks(pid);
    let started = Instant::now();
    let tasks = clients.into_iter().map(|mut client| {
        tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(messages);
            for _ in 0..messages {
                let sent = Instant::now();
                client
                    .send(WsMessage::text(PAYLOAD.get().unwrap().as_str()))
                    .await
                    .unwrap();
                loop {
                    match client.next().await {
                        Some(Ok(WsMessage::Text(_))) => break,
                        Some(Ok(_)) => continue,
                        other => panic!("the server went away: {other:?}"),
                    }
                }
                latencies.push(sent.elapsed());
            }
            latencies
        })
    });
    let mut all: Vec<Duration> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .flat_map(Result::unwrap)
        .collect();
    let elapsed = started.elapsed();
    let cpu_after = test_support::process::cpu_ticks(pid);
    // `/proc` counts in USER_HZ, 100 a second on Linux.
    let per_message = |before: u64, after: u64| {
        after.saturating_sub(before) as f64 * 10_000.0 / (connections * messages) as f64
    };
    let cpu = (
        per_message(cpu_before.0, cpu_after.0),
        per_message(cpu_before.1, cpu_after.1),
    );
    all.sort();
    let p = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    (
        (connections * messages) as f64 / elapsed.as_secs_f64(),
        p(0.50),
        p(0.99),
        cpu,
    )
}

/// The routed server's handler: the echo route answers with a typed reply; nothing else is kept.
struct EchoOnly;

impl ws_runtime::Handler<support::ChatRoute> for EchoOnly {
    async fn message(
        &self,
        _: &ws_runtime::Context,
        message: support::ChatRoute,
    ) -> Result<ws_runtime::Reply, ws_runtime::HandlerError> {
        match message {
            support::ChatRoute::Echo(m) => ws_runtime::Reply::message(&support::EchoReply {
                kind: "echo".into(),
                text: m.text,
            }),
            _ => Ok(ws_runtime::Reply::none()),
        }
    }
}

/// The child process: one server on `workers` threads until it is killed.
fn serve(kind: &str, workers: usize) {
    // Every Rust server on the runtime ws-runtime's servers start with (the same scheduling).
    let runtime = ws_runtime::runtime()
        .worker_threads(workers)
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        match kind {
            "bare" => {
                let app = axum::Router::new().route(
                    "/chat",
                    axum::routing::get(|ws: axum::extract::ws::WebSocketUpgrade| async move {
                        // ws-runtime's limits and buffers (`socket::configure`).
                        ws.max_frame_size(32 * 1024)
                            .max_message_size(128 * 1024)
                            .read_buffer_size(2 * 1024)
                            .write_buffer_size(0)
                            .on_upgrade(|mut socket| async move {
                                while let Some(Ok(message)) = socket.recv().await {
                                    if let axum::extract::ws::Message::Text(text) = message
                                        && socket
                                            .send(axum::extract::ws::Message::Text(text))
                                            .await
                                            .is_err()
                                    {
                                        break;
                                    }
                                }
                            })
                    }),
                );
                println!("LISTENING {addr}");
                axum::serve(listener, app).await.unwrap();
            }
            "yawc" => {
                let app = axum::Router::new().route(
                    "/chat",
                    axum::routing::get(|ws: yawc::IncomingUpgrade| async move {
                        // ws-runtime's limits and buffers (`socket::Settings`).
                        let options = yawc::Options::default()
                            .with_max_payload_read(32 * 1024 + 1)
                            .with_max_read_buffer(128 * 1024 + 1)
                            .with_read_buffer_capacity(2 * 1024)
                            .with_write_buffer_capacity(0)
                            .with_no_delay()
                            .with_utf8()
                            .without_compression();
                        let (response, upgrade) = ws.upgrade(options).unwrap();
                        tokio::spawn(async move {
                            let Ok(mut socket) = upgrade.await else {
                                return;
                            };
                            while let Some(frame) = socket.next().await {
                                if frame.opcode() == yawc::frame::OpCode::Text
                                    && socket.send(frame).await.is_err()
                                {
                                    break;
                                }
                            }
                        });
                        response
                    }),
                );
                println!("LISTENING {addr}");
                axum::serve(listener, app).await.unwrap();
            }
            "fastwebsockets" => {
                let app = axum::Router::new().route(
                    "/chat",
                    axum::routing::get(|mut request: axum::extract::Request| async move {
                        let (response, upgrade) =
                            fastwebsockets::upgrade::upgrade(&mut request).unwrap();
                        tokio::spawn(async move {
                            let Ok(socket) = upgrade.await else { return };
                            let mut socket = fastwebsockets::FragmentCollector::new(socket);
                            while let Ok(frame) = socket.read_frame().await {
                                let written = match frame.opcode {
                                    fastwebsockets::OpCode::Text => socket.write_frame(frame).await,
                                    fastwebsockets::OpCode::Close => break,
                                    _ => Ok(()),
                                };
                                if written.is_err() {
                                    break;
                                }
                            }
                        });
                        response.map(axum::body::Body::new)
                    }),
                );
                println!("LISTENING {addr}");
                axum::serve(listener, app).await.unwrap();
            }
            "tokio-websockets" => {
                println!("LISTENING {addr}");
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    tokio::spawn(async move {
                        let server = tokio_websockets::ServerBuilder::new().limits(
                            tokio_websockets::Limits::default().max_payload_len(Some(128 * 1024)),
                        );
                        let Ok((_, mut socket)) = server.accept(stream).await else {
                            return;
                        };
                        while let Some(Ok(message)) = socket.next().await {
                            if message.is_text() && socket.send(message).await.is_err() {
                                break;
                            }
                        }
                    });
                }
            }
            _ => {
                let router = ws_runtime::Router::new()
                    .channel("/chat", EchoOnly)
                    .validate_outbound(false);
                let router = match kind {
                    "runtime-plain" => router.compression(ws_runtime::Compression::Off),
                    "runtime-deflate-reset" => {
                        router.compression(ws_runtime::Compression::Deflate {
                            threshold: 64,
                            context_takeover: false,
                            window_bits: 12,
                            max_connections: usize::MAX,
                        })
                    }
                    _ => router,
                };
                let router = if kind == "runtime-metrics" {
                    router.metrics()
                } else {
                    router
                };
                let app = router.build().unwrap();
                let _server = app.serve(listener).await.unwrap();
                println!("LISTENING {addr}");
                std::future::pending::<()>().await;
            }
        }
    });
}
