//! What the workspace's tests share across crates. Every helper is bounded in time and talks to
//! loopback only; each panics with what went wrong, which is how a test should stop.
//!
//! - [`ws`]: a real WebSocket client (tokio-tungstenite) and the reads tests make with it;
//! - [`http`]: one raw HTTP/1.1 request, as a hostile or minimal client writes it;
//! - [`redis`]: a real `redis-server` on a free port, stopped when dropped, or the deployments
//!   that fail over: Sentinel, and a Redis Cluster;
//! - [`nats`]: a real `nats-server`, or a cluster of three;
//! - [`tls`]: certificates made at test time, a CA of the test's own;
//! - [`process`]: a process's memory and CPU time, for benchmarks;
//! - [`bounded`]: a whole test under a deadline;
//! - [`option`]: a benchmark's numeric option.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test that cannot set itself up stops there

pub mod browser;
pub mod functions;
pub mod http;
pub mod nats;
pub mod process;
pub mod redis;
pub mod tls;
pub mod ws;

use std::net::TcpListener;
use std::time::{Duration, Instant};

/// A free loopback port (the system picks it; it is free again when this returns).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (at most 20 s, polling) until `ready` holds, or fails the test saying `what` did not
/// happen in time.
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} within 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `test` for at most `seconds`, or panics saying it took longer.
pub async fn bounded<F: Future>(seconds: u64, test: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(seconds), test).await {
        Ok(output) => output,
        Err(_) => panic!("the test took longer than {seconds} s"),
    }
}

/// A benchmark's numeric option, `--name N` in `args` (the command line), or `default`.
pub fn option(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
