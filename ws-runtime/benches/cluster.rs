//! Cluster mode against one node, same clients, same run: three nodes on one real
//! `redis-server`, and three nodes on a real Redis Cluster of three shards (sharded pub/sub),
//! all on this machine (the nodes in this process, each with its own connections to Redis),
//! and three nodes on a cluster of three `nats-server`s, against one node alone. For each
//! engine, its servers' CPU time per send and per broadcast; for the Redis Cluster, the share of
//! the publishes its busiest server took.
//!
//! - point to point: 50 senders on node A, each sending to its own client on node B and waiting
//!   for it to arrive before the next send; sends/s, and p50/p99 from `send` to the client's
//!   read (one node: sender and client on the same node);
//! - fan-out: 300 clients (100 per node); broadcasts from node A with at most 16 not yet
//!   delivered to everyone (so that no client falls behind and none is closed as a slow
//!   reader); deliveries/s;
//! - Redis memory per connection: `used_memory` with 1,500 connections open, minus with none.
//!
//! `bash bench/cluster` (or `cargo bench -p ws-runtime --features redis --bench cluster`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use support::{Client, connect, recv, send, start};
use test_support::nats::{NatsCluster, NatsServer};
use test_support::redis::{RedisCluster, RedisServer};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use ws_runtime::{Cluster, ConnectionId, Server};

const SECONDS: u64 = 5;
const SENDERS: usize = 50;
const FAN_CLIENTS: usize = 100;
/// Broadcasts not yet delivered to every client, at most.
const WINDOW: usize = 16;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let redis = RedisServer::start();
    let sharded = RedisCluster::start();
    let nats = NatsCluster::start();
    let single = start(|r| r).await.0;
    println!(
        "{SECONDS} s per measure; 1 node, then 3 nodes on 1 Redis, on a Redis Cluster of 3 shards (each a primary and a replica), and on a cluster of 3 NATS servers, in one run"
    );

    let (rate, p50, p99) = point_to_point(&single, &single).await;
    println!("point to point, 1 node:   {rate:>9.0} sends/s  p50 {p50:>7.3} ms  p99 {p99:>7.3} ms");
    let one = fan_out(std::slice::from_ref(&single), 3 * FAN_CLIENTS).await;
    println!(
        "fan-out, 1 node:          {one:>9.0} deliveries/s  ({} clients)",
        3 * FAN_CLIENTS
    );

    let engines: [(&str, String, Vec<u32>); 3] = [
        ("1 Redis", redis.url(), redis.pid().into_iter().collect()),
        (
            "Redis Cluster",
            sharded.url(),
            sharded
                .servers
                .iter()
                .filter_map(RedisServer::pid)
                .collect(),
        ),
        (
            "NATS cluster",
            nats.url(),
            nats.servers.iter().filter_map(NatsServer::pid).collect(),
        ),
    ];
    for (engine, url, servers) in engines {
        let nodes = three_nodes(&url).await;
        let cpu = cpu_seconds(&servers);
        let (rate, p50, p99) = point_to_point(&nodes[0], &nodes[1]).await;
        let per_send = (cpu_seconds(&servers) - cpu) / (rate * SECONDS as f64) * 1e6;
        println!(
            "point to point, 3 nodes, {engine}: {rate:>9.0} sends/s  p50 {p50:>7.3} ms  p99 {p99:>7.3} ms  (sender on A, clients on B); engine CPU {per_send:.1} µs per send"
        );
        let cpu = cpu_seconds(&servers);
        let started = Instant::now();
        let three = fan_out(&nodes, FAN_CLIENTS).await;
        let broadcasts = three * started.elapsed().as_secs_f64() / (3 * FAN_CLIENTS) as f64;
        let per_broadcast = (cpu_seconds(&servers) - cpu) / broadcasts * 1e6;
        println!(
            "fan-out, 3 nodes, {engine}: {three:>9.0} deliveries/s  ({} clients, 100 per node; {:.2} of one node); engine CPU {per_broadcast:.1} µs per broadcast",
            3 * FAN_CLIENTS,
            three / one
        );
        for node in nodes {
            node.shutdown().await;
        }
    }

    println!(
        "share of the Redis Cluster's publishes on its busiest server: {:.0}%",
        spread(&sharded.servers.iter().collect::<Vec<_>>())
    );
    let nodes = three_nodes(&redis.url()).await;
    let before = used_memory(&redis);
    let mut clients = Vec::new();
    for node in &nodes {
        for _ in 0..500 {
            clients.push(connect(node.local_addr(), "/chat").await);
        }
    }
    let count = nodes[0].connections().count().await.unwrap();
    let after = used_memory(&redis);
    println!(
        "Redis memory: {before} bytes with no connection, {after} with {count}: {:.1} bytes per connection; keys: {}",
        (after as f64 - before as f64) / count as f64,
        redis
            .command("DBSIZE")
            .unwrap_or_default()
            .trim_start_matches(':')
    );
    drop(clients);
    for node in nodes {
        node.shutdown().await;
    }
    single.shutdown().await;
}

/// Three nodes on the engine at `url` (`nats://` or Redis's), each seeing the others.
async fn three_nodes(url: &str) -> Vec<Server> {
    let cluster = || {
        if url.starts_with("nats://") {
            Cluster::nats(url).unwrap()
        } else {
            Cluster::redis(url).unwrap()
        }
    };
    let mut nodes = Vec::new();
    for _ in 0..3 {
        let (server, _) = start(|r| r.cluster(cluster())).await;
        server.cluster().unwrap().ready().await;
        nodes.push(server);
    }
    for node in &nodes {
        while node.cluster().unwrap().live_nodes().len() < 3 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    nodes
}

/// The CPU seconds (user and system) the processes have used.
fn cpu_seconds(pids: &[u32]) -> f64 {
    pids.iter()
        .map(|pid| {
            let (user, system) = test_support::process::cpu_ticks(*pid);
            // USER_HZ: 100 ticks a second.
            (user + system) as f64 / 100.0
        })
        .sum()
}

/// The share (percent) of all publishes so far that the busiest server took.
fn spread(servers: &[&RedisServer]) -> f64 {
    let counts: Vec<f64> = servers
        .iter()
        .map(|server| {
            let stats = server.cli(&["info", "commandstats"]);
            ["cmdstat_publish:calls=", "cmdstat_spublish:calls="]
                .iter()
                .filter_map(|prefix| {
                    stats
                        .lines()
                        .find_map(|line| line.strip_prefix(prefix))?
                        .split(',')
                        .next()?
                        .parse::<f64>()
                        .ok()
                })
                .sum()
        })
        .collect();
    let total: f64 = counts.iter().sum();
    counts.iter().copied().fold(0.0, f64::max) / total.max(1.0) * 100.0
}

async fn whoami(client: &mut Client) -> ConnectionId {
    send(client, json!({"action": "whoami"})).await;
    ConnectionId::from(recv(client).await["connectionId"].as_str().unwrap())
}

/// Sends/s and p50/p99 in milliseconds.
async fn point_to_point(from: &Server, to: &Server) -> (f64, f64, f64) {
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..SENDERS {
        let mut client = connect(to.local_addr(), "/chat").await;
        let id = whoami(&mut client).await;
        let connections = from.connections();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                connections.send(&id, r#"{"n":1}"#).await.unwrap();
                loop {
                    match client.next().await {
                        Some(Ok(WsMessage::Text(_))) => break,
                        Some(Ok(_)) => continue,
                        other => panic!("{other:?}"),
                    }
                }
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    (
        latencies.len() as f64 / elapsed,
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
    )
}

/// Deliveries/s of back-to-back broadcasts to `per_node` clients on each of `nodes`.
async fn fan_out(nodes: &[Server], per_node: usize) -> f64 {
    let received = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for node in nodes {
        for _ in 0..per_node {
            let mut client = connect(node.local_addr(), "/chat").await;
            let received = Arc::clone(&received);
            readers.push(tokio::spawn(async move {
                while let Some(Ok(frame)) = client.next().await {
                    if frame.is_text() {
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
    }
    let clients = nodes.len() * per_node;
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let started = Instant::now();
    let connections = nodes[0].connections();
    let mut in_flight = futures_util::stream::FuturesUnordered::new();
    let mut sent = 0;
    while Instant::now() < deadline {
        let delivered = received.load(Ordering::Relaxed);
        if in_flight.len() < WINDOW && delivered + WINDOW * clients >= (sent + 1) * clients {
            let connections = connections.clone();
            in_flight.push(async move { connections.broadcast(r#"{"all":1}"#).await });
            sent += 1;
            continue;
        }
        tokio::select! {
            Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                assert_eq!(done.unwrap(), clients);
            }
            () = tokio::task::yield_now() => {}
        }
    }
    while let Some(done) = in_flight.next().await {
        assert_eq!(done.unwrap(), clients);
    }
    // What was queued is delivered: wait until the count stops growing.
    let mut last = usize::MAX;
    while received.load(Ordering::Relaxed) != last {
        last = received.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let elapsed = started.elapsed().as_secs_f64() - 0.2;
    for reader in readers {
        reader.abort();
    }
    last as f64 / elapsed
}

fn used_memory(redis: &RedisServer) -> u64 {
    let mut connection = redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query(&mut connection)
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("INFO memory has used_memory")
}
