//! Cluster mode through an engine that fails over: a Redis primary watched by Sentinel, a Redis
//! Cluster primary, and one NATS server of three, each killed (SIGKILL) under a steady load of
//! cross-node sends. Each
//! test starts its own servers on free loopback ports; the engines' own failure detection is
//! set to one second.
//!
//! What must hold: delivery resumes within 10 s of the kill, and every message is delivered
//! exactly once or reported failed to its sender. A send reported failed may still have arrived
//! (delivery is at most once: a failure means "perhaps not delivered"), and is counted apart.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use ws_runtime::{Cluster, ConnectionId, Server};

use crate::support::*;
use test_support::bounded;
use test_support::nats::NatsCluster;
use test_support::redis::{RedisCluster, Sentinels};

/// How long delivery may stop after a primary is killed.
const RESUME_WITHIN: Duration = Duration::from_secs(10);
/// The pause between two sends of the steady load.
const PACE: Duration = Duration::from_millis(10);

/// What the sender saw and the receiver got.
#[derive(Debug, Default)]
struct Tally {
    sent: u64,
    ok: Vec<u64>,
    failed: Vec<u64>,
    received: Vec<u64>,
    /// From the kill to the first send delivered after it failed (or to the kill's first send,
    /// if none failed).
    resumed_after: Option<Duration>,
}

impl Tally {
    /// Delivered exactly once or reported failed; nothing that was not sent; counted.
    fn check(&self, engine: &str) {
        let mut seen = HashSet::new();
        for seq in &self.received {
            assert!(seen.insert(*seq), "{engine}: message {seq} arrived twice");
            assert!(*seq < self.sent, "{engine}: message {seq} was never sent");
        }
        let lost: Vec<&u64> = self.ok.iter().filter(|s| !seen.contains(*s)).collect();
        assert!(
            lost.is_empty(),
            "{engine}: sends reported delivered never arrived: {lost:?}"
        );
        assert_eq!(
            self.ok.len() + self.failed.len(),
            usize::try_from(self.sent).unwrap(),
            "{engine}: every send has an outcome"
        );
        let failed_but_arrived = self.failed.iter().filter(|s| seen.contains(*s)).count();
        let resumed = self.resumed_after.unwrap();
        assert!(
            resumed <= RESUME_WITHIN,
            "{engine}: delivery resumed {resumed:?} after the kill"
        );
        println!(
            "{engine}: {} sent, {} delivered and reported so, {} reported failed ({} of them arrived \
             anyway), none lost, none twice; delivery resumed {:.1} s after the kill",
            self.sent,
            self.ok.len(),
            self.failed.len(),
            failed_but_arrived,
            resumed.as_secs_f64()
        );
    }
}

/// Two nodes of `cluster`; a client of the second; the first sends to it every [`PACE`]. After
/// a second, `kill` runs (on a blocking thread, given the second node's id); the load goes on
/// until one second after delivery resumed.
async fn steady_sends_through(
    cluster: impl Fn() -> Cluster,
    kill: impl FnOnce(&str) + Send + 'static,
) -> (Tally, Vec<Server>) {
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let (server, _) = start(|r| r.cluster(cluster()).metrics()).await;
        server.cluster().unwrap().ready().await;
        nodes.push(server);
    }
    for server in &nodes {
        while server.cluster().unwrap().live_nodes().len() < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let mut client = connect(nodes[1].local_addr(), "/chat").await;
    send(&mut client, json!({"action": "whoami"})).await;
    let id = ConnectionId::from(recv(&mut client).await["connectionId"].as_str().unwrap());
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let receiver = tokio::spawn(async move {
        let mut received = Vec::new();
        // Until the load is over and two quiet seconds have passed.
        let mut load_over = false;
        loop {
            let message = tokio::select! {
                _ = &mut stopped, if !load_over => {
                    load_over = true;
                    continue;
                }
                message = tokio::time::timeout(Duration::from_secs(2), client.next()) => message,
            };
            let text = match message {
                Ok(Some(Ok(message))) => message.into_text().unwrap(),
                Ok(_) => panic!("the receiving client's connection ended"),
                Err(_) if load_over => break,
                Err(_) => continue,
            };
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            received.push(value["seq"].as_u64().unwrap());
        }
        received
    });

    let mut tally = Tally::default();
    let started = Instant::now();
    let mut kill = Some(kill);
    let mut killed_at: Option<Instant> = None;
    let mut failed_since_kill = false;
    let mut killer = None;
    loop {
        if killed_at.is_none() && started.elapsed() >= Duration::from_secs(1) {
            let kill = kill.take().unwrap();
            let owner = nodes[1].cluster().unwrap().id().to_owned();
            killed_at = Some(Instant::now());
            killer = Some(tokio::task::spawn_blocking(move || kill(&owner)));
        }
        let seq = tally.sent;
        tally.sent += 1;
        let outcome = nodes[0]
            .connections()
            .send_json(&id, &json!({"seq": seq}))
            .await;
        match outcome {
            Ok(()) => {
                tally.ok.push(seq);
                if let Some(at) = killed_at
                    && tally.resumed_after.is_none()
                    && (failed_since_kill || at.elapsed() > Duration::from_secs(3))
                {
                    tally.resumed_after = Some(at.elapsed());
                }
            }
            Err(_) => {
                tally.failed.push(seq);
                failed_since_kill |= killed_at.is_some();
            }
        }
        if let Some(at) = killed_at {
            let done = tally
                .resumed_after
                .is_some_and(|resumed| at.elapsed() > resumed + Duration::from_secs(1));
            if done || at.elapsed() > RESUME_WITHIN + Duration::from_secs(5) {
                break;
            }
        }
        tokio::time::sleep(PACE).await;
    }
    killer.unwrap().await.unwrap();
    let _ = stop.send(());
    tally.received = receiver.await.unwrap();
    (tally, nodes)
}

/// The node's `ws_cluster_links_total{event="rejoined"}`.
async fn rejoined(server: &Server) -> u64 {
    let text = test_support::http::get(server.local_addr(), "/metrics").await;
    text.lines()
        .find(|line| line.starts_with("ws_cluster_links_total{event=\"rejoined\"}"))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_failover_loses_nothing_silently() {
    let redis = Arc::new(Mutex::new(Sentinels::start()));
    let url = redis.lock().unwrap().url();
    let replica = redis.lock().unwrap().replica.port;
    let killer = Arc::clone(&redis);
    bounded(90, async {
        let (tally, nodes) = steady_sends_through(
            || Cluster::redis(&url).unwrap(),
            move |_| killer.lock().unwrap().primary.stop(),
        )
        .await;
        tally.check("Sentinel");
        assert_eq!(
            redis.lock().unwrap().primary_port(),
            Some(replica),
            "the sentinels promoted the replica"
        );
        for server in &nodes {
            assert!(rejoined(server).await >= 1, "each node counts its rejoin");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_cluster_failover_loses_nothing_silently() {
    let redis = Arc::new(Mutex::new(RedisCluster::start()));
    let url = redis.lock().unwrap().url();
    let killer = Arc::clone(&redis);
    bounded(90, async {
        let (tally, nodes) = steady_sends_through(
            || Cluster::redis(&url).unwrap(),
            move |owner| {
                // The primary of the shard that carries the receiving node's channel.
                let mut cluster = killer.lock().unwrap();
                let victim = cluster.primary_for(&format!("ws-runtime:node:{owner}"));
                cluster.servers[victim].stop();
            },
        )
        .await;
        tally.check("Redis Cluster");
        assert!(
            rejoined(&nodes[1]).await >= 1,
            "the receiving node rejoined"
        );
        redis.lock().unwrap().wait_ok();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_server_killed_out_of_three_loses_nothing_silently() {
    let nats = Arc::new(Mutex::new(NatsCluster::start()));
    let url = nats.lock().unwrap().url();
    let killer = Arc::clone(&nats);
    bounded(90, async {
        let (tally, nodes) = steady_sends_through(
            || Cluster::nats(&url).unwrap(),
            move |owner| {
                // The server the receiving node is connected to.
                let mut nats = killer.lock().unwrap();
                let victim = nats.holding(&format!("ws-runtime:node:{owner}")).unwrap();
                nats.servers[victim].stop();
            },
        )
        .await;
        tally.check("NATS");
        assert!(
            rejoined(&nodes[1]).await >= 1,
            "the receiving node rejoined"
        );
    })
    .await;
}
