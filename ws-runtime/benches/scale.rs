//! Many connections on one node: resident memory per idle connection, and one broadcast to all of
//! them, timed from the server's call to each client's receipt.
//!
//! `cargo bench -p ws-runtime --bench scale -- --connections 100000` starts the server (one
//! ws-runtime node, `Limits::max_connections` raised to fit) in a child process, and the clients
//! in `--clients K` more, each opening its share from its own loopback source address
//! (127.0.0.2, 127.0.0.3, …), so that no address runs out of ephemeral ports (about 28,000 each
//! by default). When every connection is open and has settled, the server broadcasts one frame
//! carrying the time it was sent; each client reports, per connection, when it arrived.
//!
//! Options: `--connections N` (20000), `--clients K` (enough for 15,000 connections each),
//! `--workers W` (the server's tokio workers; all cores).
//!
//! Each process needs a file descriptor per connection: the server `N + 64`, a client its share.
//! This is checked first, against the limit this process was started with (children inherit it);
//! raise it with `ulimit -n` before running (here, not in any test).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// How many connections each client process opens at once.
const BATCH: usize = 250;
/// How long a client waits for the broadcast before it counts a connection as missed.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("serve") => serve(args[2].parse().unwrap(), args[3].parse().unwrap()),
        Some("hold") => hold(
            args[2].parse().unwrap(),
            args[3].parse().unwrap(),
            args[4].parse().unwrap(),
        ),
        _ => return measure(&args),
    }
    ExitCode::SUCCESS
}

fn measure(args: &[String]) -> ExitCode {
    let option = |name: &str, default: usize| test_support::option(args, name, default);
    let connections = option("--connections", 20_000);
    let clients = option("--clients", connections.div_ceil(15_000)).max(1);
    let workers = option(
        "--workers",
        std::thread::available_parallelism().map_or(1, usize::from),
    );
    let per_client = connections.div_ceil(clients);
    let (soft, hard) = open_files_limit();
    let needed = connections + 64;
    if soft < needed as u64 || soft < (per_client + 64) as u64 {
        eprintln!(
            "scale: the server needs {needed} file descriptors and each client {}; this process \
             may open {soft} (hard limit {hard}). Raise it with `ulimit -n {needed}` (a hard limit \
             is raised by root), or ask for fewer with --connections.",
            per_client + 64
        );
        return ExitCode::FAILURE;
    }
    println!(
        "{connections} connections from {clients} client process(es), server on {workers} worker(s); open files limit {soft}"
    );

    let (mut server, mut server_in, mut server_out) =
        spawn(&["serve", &connections.to_string(), &workers.to_string()]);
    let addr: SocketAddr = expect_line(&mut server_out, "LISTENING ").parse().unwrap();
    let before = test_support::process::resident_kib(server.id());

    let mut holders: Vec<(Child, BufReader<ChildStdout>)> = (0..clients)
        .map(|k| {
            let share = per_client.min(connections - k * per_client);
            // 127.0.0.2 onwards: each client its own source address, its own ports.
            let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + k as u8));
            let (child, _, out) = spawn(&[
                "hold",
                &addr.to_string(),
                &source.to_string(),
                &share.to_string(),
            ]);
            (child, out)
        })
        .collect();
    let opened: usize = holders
        .iter_mut()
        .map(|(_, out)| expect_line(out, "READY ").parse::<usize>().unwrap())
        .sum();
    // Let the server settle (tasks parked, buffers at rest) before reading its memory.
    std::thread::sleep(Duration::from_secs(2));
    let after = test_support::process::resident_kib(server.id());
    println!(
        "open: {opened}; server resident memory {before} KiB before, {after} KiB after: {:.2} KiB per idle connection",
        after.saturating_sub(before) as f64 / opened as f64
    );

    writeln!(server_in, "BROADCAST").unwrap();
    let queued = expect_line(&mut server_out, "SENT ");
    let mut latencies: Vec<u64> = Vec::with_capacity(opened);
    let mut missed = 0;
    for (_, out) in &mut holders {
        let line = expect_line(out, "RECEIVED ");
        let (missing, values) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        missed += missing.parse::<usize>().unwrap();
        latencies.extend(
            values
                .split(',')
                .filter(|v| !v.is_empty())
                .map(|v| v.parse::<u64>().unwrap()),
        );
    }
    latencies.sort_unstable();
    let percentile = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(f64::NAN, |&us| us as f64 / 1000.0)
    };
    println!("broadcast: {queued}");
    println!(
        "delivered to {} of {opened} ({missed} missed within {} s): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        RECEIPT_TIMEOUT.as_secs(),
        percentile(0.50),
        percentile(0.99),
        percentile(1.0),
    );
    for (mut child, _) in holders {
        child.kill().ok();
        child.wait().ok();
    }
    server.kill().ok();
    server.wait().ok();
    if missed == 0 && latencies.len() == connections {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// This process's limit on open files (soft, hard), as `/proc/self/limits` gives it.
fn open_files_limit() -> (u64, u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap_or_default();
    let mut numbers = line.split_whitespace().filter_map(|w| {
        w.parse::<u64>()
            .ok()
            .or((w == "unlimited").then_some(u64::MAX))
    });
    (
        numbers.next().unwrap_or(1024),
        numbers.next().unwrap_or(1024),
    )
}

fn spawn(args: &[&str]) -> (Child, ChildStdin, BufReader<ChildStdout>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    (child, stdin, stdout)
}

/// The rest of the next line, which must start with `prefix` (a child that died says so).
fn expect_line(out: &mut BufReader<ChildStdout>, prefix: &str) -> String {
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    line.trim_end()
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("expected `{prefix}…` from a child process, got {line:?}"))
        .to_owned()
}

fn micros_since_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Idle connections answer nothing; the benchmark is about holding them and reaching them.
struct Quiet;

impl ws_runtime::Handler<support::ChatRoute> for Quiet {
    async fn message(
        &self,
        _: &ws_runtime::Context,
        _: support::ChatRoute,
    ) -> Result<ws_runtime::Reply, ws_runtime::HandlerError> {
        Ok(ws_runtime::Reply::none())
    }
}

/// The server: one node until killed. `BROADCAST` on stdin sends one frame to every connection
/// and answers how many it was queued for and how long queueing took.
fn serve(connections: usize, workers: usize) {
    let runtime = ws_runtime::runtime()
        .worker_threads(workers)
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = ws_runtime::Limits {
            max_connections: connections,
            ..ws_runtime::Limits::default()
        };
        let app = ws_runtime::Router::new()
            .channel("/chat", Quiet)
            .limits(limits)
            .build()
            .unwrap();
        let server = app.serve(listener).await.unwrap();
        println!("LISTENING {addr}");
        let mut lines = BufReader::new(std::io::stdin()).lines();
        while let Some(Ok(line)) = tokio::task::block_in_place(|| lines.next()) {
            if line == "BROADCAST" {
                // From a task on a worker, as a handler or a publisher would call it.
                let connections = server.connections();
                let (queued, took) = tokio::spawn(async move {
                    let started = std::time::Instant::now();
                    let frame = format!(r#"{{"sentAt":{}}}"#, micros_since_epoch());
                    let queued = connections.broadcast(frame).await.unwrap();
                    (queued, started.elapsed())
                })
                .await
                .unwrap();
                println!(
                    "SENT queued for {queued} connections in {:.1} ms",
                    took.as_secs_f64() * 1000.0
                );
            }
        }
    });
}

/// A client process: `count` connections to `addr` from `source`, then one receipt each.
fn hold(addr: SocketAddr, source: IpAddr, count: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let mut clients = Vec::with_capacity(count);
        while clients.len() < count {
            let batch =
                (clients.len()..count.min(clients.len() + BATCH)).map(|_| open(addr, source));
            clients.extend(futures_util::future::join_all(batch).await);
        }
        println!("READY {}", clients.len());
        // Each connection stays open until every receipt is in: a close would be work for the
        // server in the middle of the broadcast.
        let receipts = clients.into_iter().map(|mut client| {
            tokio::spawn(async move {
                let frame = tokio::time::timeout(RECEIPT_TIMEOUT, client.next()).await;
                let arrived = micros_since_epoch();
                let latency = match frame {
                    Ok(Some(Ok(WsMessage::Text(text)))) => {
                        serde_json::from_str::<serde_json::Value>(&text)
                            .ok()
                            .and_then(|sent| sent["sentAt"].as_u64())
                            .map(|sent| arrived.saturating_sub(sent))
                    }
                    _ => None,
                };
                (latency, client)
            })
        });
        let (latencies, clients): (Vec<Option<u64>>, Vec<_>) =
            futures_util::future::join_all(receipts)
                .await
                .into_iter()
                .map(|r| r.map_or((None, None), |(latency, client)| (latency, Some(client))))
                .unzip();
        let missed = latencies.iter().filter(|l| l.is_none()).count();
        let values: Vec<String> = latencies.iter().flatten().map(u64::to_string).collect();
        println!("RECEIVED {missed} {}", values.join(","));
        drop(clients);
    });
}

/// One client connection from `source`.
async fn open(
    addr: SocketAddr,
    source: IpAddr,
) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(source, 0)).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
    let (client, _) = tokio::time::timeout(
        Duration::from_secs(30),
        tokio_tungstenite::client_async_with_config(
            format!("ws://{addr}/chat"),
            stream,
            Some(config),
        ),
    )
    .await
    .expect("the handshake timed out")
    .unwrap();
    client
}
