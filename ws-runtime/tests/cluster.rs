//! Cluster mode: three nodes and real `redis-server`s on loopback, real WebSocket clients.
//! Leases are 1 s here (10 s by default) so that faults show within a test's time.
//!
//! The suite runs on every engine ([`on_every_engine`]): one Redis, a primary named by Sentinel,
//! a Redis Cluster of three shards (sharded pub/sub), and a cluster of three NATS servers. What
//! only one Redis can show (its outage, and what it holds) runs there.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::json;
use ws_runtime::{BackendError, Cluster, ConnectionId, SendError, Server};

use crate::support::*;
use test_support::bounded;
use test_support::nats::NatsCluster;
use test_support::redis::{RedisCluster, RedisServer, Sentinels};

const LEASE: Duration = Duration::from_secs(1);

/// The engine `url` names: NATS's, or Redis's.
fn engine(url: &str) -> Result<Cluster, ws_runtime::ClusterError> {
    if url.starts_with("nats://") {
        Cluster::nats(url)
    } else {
        Cluster::redis(url)
    }
}

/// A cluster on the engine `url` names.
fn cluster(url: &str) -> Cluster {
    engine(url)
        .unwrap()
        .lease(LEASE)
        .request_timeout(Duration::from_secs(1))
}

/// `count` nodes on one Redis, each connected and seeing all the others.
async fn nodes(redis: &str, count: usize, token: Option<&str>) -> Vec<(Server, Chat)> {
    let mut nodes = Vec::new();
    for _ in 0..count {
        let (server, chat) = start(|r| {
            let r = r.cluster(cluster(redis));
            match token {
                Some(token) => r.management_api(token),
                None => r,
            }
        })
        .await;
        server.cluster().unwrap().ready().await;
        nodes.push((server, chat));
    }
    for (server, _) in &nodes {
        wait_for_live(server, count).await;
    }
    nodes
}

/// Waits (bounded) until `server` sees `count` live nodes.
async fn wait_for_live(server: &Server, count: usize) {
    let node = server.cluster().unwrap();
    for _ in 0..200 {
        if node.live_nodes().len() == count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "node {} sees {:?}, not {count} nodes",
        node.id(),
        node.live_nodes()
    );
}

async fn whoami(client: &mut Client) -> ConnectionId {
    send(client, json!({"action": "whoami"})).await;
    ConnectionId::from(recv(client).await["connectionId"].as_str().unwrap())
}

async fn send_get_and_disconnect_reach_the_node_that_holds_the_connection(redis: &str) {
    bounded(60, async {
        let nodes = nodes(redis, 3, None).await;
        let (a, b, c) = (&nodes[0].0, &nodes[1].0, &nodes[2].0);
        let mut on_b = connect(b.local_addr(), "/chat?name=bee").await;
        let mut on_c = connect(c.local_addr(), "/chat").await;
        let id_b = whoami(&mut on_b).await;
        let id_c = whoami(&mut on_c).await;
        assert!(
            id_b.as_str().starts_with(b.cluster().unwrap().id()),
            "{id_b}"
        );

        a.connections().send(&id_b, r#"{"to":"b"}"#).await.unwrap();
        assert_eq!(recv(&mut on_b).await, json!({"to": "b"}));
        a.connections()
            .send_json(&id_c, &json!({"to": "c"}))
            .await
            .unwrap();
        assert_eq!(recv(&mut on_c).await, json!({"to": "c"}));
        // Bytes that are not text cross nodes as they are, as a binary frame.
        let bytes: &[u8] = &[0xff, 0x00, 0x80, b'x'];
        a.connections().send_binary(&id_b, bytes).await.unwrap();
        assert_eq!(binary(&mut on_b).await, bytes);

        let info = c.connections().get(&id_b).await.unwrap();
        assert_eq!(info.identity.source_ip.to_string(), "127.0.0.1");
        assert!(info.last_active_at >= info.connected_at);

        a.connections().disconnect(&id_c).await.unwrap();
        assert_eq!(closed(&mut on_c).await, 1000);
        assert_eq!(nodes[2].1.wait_disconnect(id_c.as_str()).await, [1000]);
        for node in [a, b, c] {
            assert!(matches!(
                node.connections().send(&id_c, "x").await,
                Err(SendError::Gone)
            ));
            assert!(matches!(
                node.connections().get(&id_c).await,
                Err(SendError::Gone)
            ));
        }
        // Ids of no live node, of no node at all, of no connection of a live node.
        let b_id = b.cluster().unwrap().id().to_owned();
        for id in [
            "nosuchnode0.abc",
            "no-dot-at-all",
            &format!("{b_id}.missing"),
        ] {
            let id = ConnectionId::from(id);
            assert!(
                matches!(a.connections().send(&id, "x").await, Err(SendError::Gone)),
                "{id}"
            );
            assert!(matches!(
                a.connections().disconnect(&id).await,
                Err(SendError::Gone)
            ));
            assert!(matches!(
                a.connections().join(&id, "g").await,
                Err(SendError::Gone)
            ));
        }
        assert_eq!(a.connections().count().await.unwrap(), 1);
        silent(&mut on_b).await;
    })
    .await;
}

async fn broadcasts_and_groups_span_every_node_and_arrive_once(redis: &str) {
    bounded(60, async {
        let nodes = nodes(redis, 3, None).await;
        let mut clients = Vec::new();
        let mut ids = Vec::new();
        for (server, _) in &nodes {
            for _ in 0..2 {
                let mut client = connect(server.local_addr(), "/chat?name=n").await;
                ids.push(whoami(&mut client).await);
                clients.push(client);
            }
        }
        for (server, _) in &nodes {
            assert_eq!(server.connections().len(), 2);
            assert_eq!(server.connections().count().await.unwrap(), 6);
        }

        assert_eq!(
            nodes[0]
                .0
                .connections()
                .broadcast(r#"{"all":1}"#)
                .await
                .unwrap(),
            6
        );
        for client in &mut clients {
            assert_eq!(recv(client).await, json!({"all": 1}));
        }
        // A client's message to the room (broadcast_except in the handler).
        send(
            &mut clients[3],
            json!({"action": "sendMessage", "text": "hi"}),
        )
        .await;
        for (i, client) in clients.iter_mut().enumerate() {
            if i != 3 {
                assert_eq!(recv(client).await["text"], "hi", "client {i}");
            }
        }
        // Groups: members on nodes 0, 1 and 2, joined from a client and from another node.
        send(&mut clients[0], json!({"action": "join", "group": "red"})).await;
        assert_eq!(recv(&mut clients[0]).await, json!({"joined": "red"}));
        nodes[0].0.connections().join(&ids[2], "red").await.unwrap();
        nodes[1].0.connections().join(&ids[5], "red").await.unwrap();
        for (server, _) in &nodes {
            let mut members = server.connections().members("red").await.unwrap();
            members.sort();
            let mut expected = vec![ids[0].clone(), ids[2].clone(), ids[5].clone()];
            expected.sort();
            assert_eq!(members, expected);
        }
        send(&mut clients[4], json!({"action": "shout", "group": "red"})).await;
        assert_eq!(recv(&mut clients[4]).await, json!({"delivered": 3}));
        for i in [0, 2, 5] {
            assert_eq!(
                recv(&mut clients[i]).await,
                json!({"shout": "red"}),
                "client {i}"
            );
        }
        nodes[2]
            .0
            .connections()
            .leave(&ids[0], "red")
            .await
            .unwrap();
        assert_eq!(
            nodes[1]
                .0
                .connections()
                .broadcast_group("red", r#"{"red":2}"#)
                .await
                .unwrap(),
            2
        );
        assert_eq!(recv(&mut clients[2]).await, json!({"red": 2}));
        assert_eq!(recv(&mut clients[5]).await, json!({"red": 2}));
        // Exactly once: nothing more for anyone.
        for client in &mut clients {
            silent(client).await;
        }
    })
    .await;
}

async fn the_management_api_answers_the_same_on_every_node(redis: &str) {
    bounded(60, async {
            let nodes = nodes(redis, 3, Some("s3cret")).await;
            let mut on_c = connect(nodes[2].0.local_addr(), "/chat").await;
            let id = whoami(&mut on_c).await;
            let request = |method: &str, body: &str| {
                format!(
                    "{method} /@connections/{id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            };
            for (i, (node, _)) in nodes.iter().enumerate() {
                let (status, _) = http(node.local_addr(), &request("POST", &format!("{{\"via\":{i}}}"))).await;
                assert_eq!(status, 200, "POST on node {i}");
                assert_eq!(recv(&mut on_c).await, json!({"via": i}));
                let (status, body) = http(node.local_addr(), &request("GET", "")).await;
                assert_eq!(status, 200, "GET on node {i}");
                let info: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(info["identity"]["sourceIp"], "127.0.0.1", "{body}");
            }
            let (status, _) = http(nodes[0].0.local_addr(), &request("DELETE", "")).await;
            assert_eq!(status, 204);
            assert_eq!(closed(&mut on_c).await, 1000);
            nodes[2].1.wait_disconnect(id.as_str()).await;
            for (node, _) in &nodes {
                for method in ["POST", "GET", "DELETE"] {
                    let (status, _) = http(node.local_addr(), &request(method, "x")).await;
                    assert_eq!(status, 410, "{method} after the close");
                }
            }
        })
        .await;
}

/// A node that joins says so: it is reachable at once, not at the others' next renewal
/// (every 6 s with this 30 s lease).
async fn a_node_that_joins_is_reachable_at_once(redis: &str) {
    bounded(60, async {
        let long = || cluster(redis).lease(Duration::from_secs(30));
        let (a, _) = start(|r| r.cluster(long())).await;
        a.cluster().unwrap().ready().await;
        let (b, _) = start(|r| r.cluster(long())).await;
        b.cluster().unwrap().ready().await;
        let mut on_b = connect(b.local_addr(), "/chat").await;
        let id = whoami(&mut on_b).await;
        let started = Instant::now();
        loop {
            match a.connections().send(&id, r#"{"hello":1}"#).await {
                Ok(()) => break,
                Err(error) => assert!(
                    started.elapsed() < Duration::from_secs(1),
                    "still {error:?} after 1 s"
                ),
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(recv(&mut on_b).await, json!({"hello": 1}));
    })
    .await;
}

async fn messages_from_one_sender_to_one_connection_stay_in_order(redis: &str) {
    bounded(60, async {
        let nodes = nodes(redis, 2, None).await;
        let mut on_b = connect(nodes[1].0.local_addr(), "/chat").await;
        let id = whoami(&mut on_b).await;
        let connections = nodes[0].0.connections();
        // Awaited one by one, and also all in flight at once from one task.
        for n in 0..200 {
            connections
                .send(&id, json!({"n": n}).to_string())
                .await
                .unwrap();
        }
        let sends = (200..400).map(|n| connections.send(&id, json!({"n": n}).to_string()));
        for sent in futures_util::future::join_all(sends).await {
            sent.unwrap();
        }
        for n in 0..400 {
            assert_eq!(recv(&mut on_b).await, json!({"n": n}));
        }
    })
    .await;
}

/// A node in a runtime of its own, to crash: `shutdown_background` drops every task of it
/// at once, as a killed process would (no `$disconnect`, no goodbye to Redis).
fn node_to_crash(redis: &str) -> (tokio::runtime::Runtime, std::net::SocketAddr, String) {
    let cluster = cluster(redis);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (addr, id) = runtime.block_on(async {
            let (server, _) = start(|r| r.cluster(cluster)).await;
            let node = server.cluster().unwrap();
            node.ready().await;
            let addr = server.local_addr();
            // Never shut down: the runtime's end is the node's.
            std::mem::forget(server);
            (addr, node.id().to_owned())
        });
        (runtime, addr, id)
    })
    .join()
    .unwrap()
}

async fn a_node_that_leaves_or_crashes_has_its_connections_gone(redis: &str) {
    bounded(60, async {
        let mut nodes = nodes(redis, 2, None).await;
        let (runtime, crash_addr, crash_id) = node_to_crash(redis);
        wait_for_live(&nodes[0].0, 3).await;
        let mut on_b = connect(nodes[1].0.local_addr(), "/chat").await;
        let mut on_crash = connect(crash_addr, "/chat").await;
        let id_b = whoami(&mut on_b).await;
        let id_crash = whoami(&mut on_crash).await;
        assert!(id_crash.as_str().starts_with(&crash_id));
        let a = nodes[0].0.connections();
        a.send(&id_crash, r#"{"before":1}"#).await.unwrap();
        assert_eq!(recv(&mut on_crash).await, json!({"before": 1}));

        // A graceful shutdown gives the lease up: gone at once, not after the lease. The
        // goodbye crosses Redis to the other nodes, so "at once" is within milliseconds: a
        // quarter of the lease, which alone would take a full lease to end.
        let (b, _) = nodes.pop().unwrap();
        b.shutdown().await;
        assert_eq!(closed(&mut on_b).await, 1001);
        let deadline = Instant::now() + LEASE / 4;
        loop {
            match a.send(&id_b, "x").await {
                Err(SendError::Gone) => break,
                other if Instant::now() < deadline => {
                    assert!(matches!(other, Err(SendError::Backend(_))), "{other:?}");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                other => panic!("not gone within a quarter of the lease: {other:?}"),
            }
        }

        // A crash: while the lease lasts a send is a backend error (the node holds a lease
        // and does not answer); once it ends, `Gone`, within the lease.
        let crashed = Instant::now();
        runtime.shutdown_background();
        let mut gone_after = None;
        while crashed.elapsed() < LEASE * 4 {
            match a.send(&id_crash, "x").await {
                Err(SendError::Gone) => {
                    gone_after = Some(crashed.elapsed());
                    break;
                }
                // It holds a lease, and its subscription is gone or it does not answer.
                Err(SendError::Backend(
                    BackendError::NotListening { node } | BackendError::NoAnswer { node, .. },
                )) => {
                    assert!(id_crash.as_str().starts_with(&format!("{node}.")), "{node}");
                }
                other => panic!("a send to a crashed node: {other:?}"),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let gone_after = gone_after.expect("the crashed node's connection never became Gone");
        assert!(gone_after <= LEASE + LEASE / 4, "gone after {gone_after:?}");
        wait_for_live(&nodes[0].0, 1).await;
        assert_eq!(a.count().await.unwrap(), 0);
        // Broadcasts wait for the nodes that received them, not for a count of nodes that
        // includes the dead one (socket.io-redis-adapter#295).
        let started = Instant::now();
        assert_eq!(a.broadcast(r#"{"after":1}"#).await.unwrap(), 0);
        assert!(started.elapsed() < Duration::from_millis(500));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_fails_fast_and_the_nodes_come_back_by_themselves() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    bounded(60, async {
        let nodes = nodes(&url, 3, None).await;
        let mut on_a = connect(nodes[0].0.local_addr(), "/chat").await;
        let mut on_b = connect(nodes[1].0.local_addr(), "/chat").await;
        let id_a = whoami(&mut on_a).await;
        let id_b = whoami(&mut on_b).await;
        let a = nodes[0].0.connections();

        redis.stop();
        for (server, _) in &nodes {
            let node = server.cluster().unwrap();
            for _ in 0..200 {
                if !node.is_connected() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert!(!node.is_connected(), "node {} did not notice", node.id());
        }
        let readyz = "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        assert_eq!(
            http(nodes[0].0.local_addr(), readyz).await,
            (503, "not ready: the cluster is unreachable\n".to_owned())
        );
        // Local connections keep working; remote and cluster-wide operations fail at once.
        a.send(&id_a, r#"{"local":1}"#).await.unwrap();
        assert_eq!(recv(&mut on_a).await, json!({"local": 1}));
        let started = Instant::now();
        // Redis is down: this node knows it has no link, and says so.
        let unreachable = |result: Result<_, SendError>| {
            matches!(result, Err(SendError::Backend(BackendError::NotConnected)))
        };
        assert!(unreachable(a.send(&id_b, "x").await.map(drop)));
        assert!(unreachable(a.broadcast(r#"{"b":1}"#).await.map(drop)));
        assert!(unreachable(a.count().await.map(drop)));
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );
        // The broadcast still reached this node's own client.
        assert_eq!(recv(&mut on_a).await, json!({"b": 1}));
        // The handler's broadcast fails too, and the sender is told.
        send(&mut on_a, json!({"action": "sendMessage", "text": "lost"})).await;
        assert_eq!(recv(&mut on_a).await["message"], "Internal server error");

        // Redis is back, empty: every node reconnects, subscribes and renews by itself.
        redis.restart();
        for (server, _) in &nodes {
            let node = server.cluster().unwrap();
            tokio::time::timeout(Duration::from_secs(10), node.ready())
                .await
                .expect("a node did not reconnect within 10 s");
        }
        for (server, _) in &nodes {
            wait_for_live(server, 3).await;
        }
        assert_eq!(http(nodes[0].0.local_addr(), readyz).await.0, 200);
        a.send(&id_b, r#"{"again":1}"#).await.unwrap();
        assert_eq!(recv(&mut on_b).await, json!({"again": 1}));
        assert_eq!(a.broadcast(r#"{"all":2}"#).await.unwrap(), 2);
        assert_eq!(recv(&mut on_a).await, json!({"all": 2}));
        assert_eq!(recv(&mut on_b).await, json!({"all": 2}));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_in_redis_outlives_the_nodes() {
    let redis = RedisServer::start();
    bounded(60, async {
        let nodes = nodes(&redis.url(), 2, None).await;
        let mut clients = Vec::new();
        for (server, _) in &nodes {
            for _ in 0..20 {
                clients.push(connect(server.local_addr(), "/chat").await);
            }
        }
        // One key for the whole cluster, whatever the number of connections.
        assert_eq!(redis.command("DBSIZE").as_deref(), Some(":1"));
        assert_eq!(
            redis.command("ZCARD ws-runtime:nodes").as_deref(),
            Some(":2")
        );
        let ttl = redis.command("PTTL ws-runtime:nodes").unwrap();
        let ttl: i64 = ttl.trim_start_matches(':').parse().unwrap();
        assert!(
            ttl > 0 && ttl <= 1000,
            "the key expires with the leases: {ttl}"
        );
        for (server, _) in nodes {
            server.shutdown().await;
        }
        assert_eq!(redis.command("DBSIZE").as_deref(), Some(":0"));
    })
    .await;
}

/// A node's goodbye answers what waits for it at once. A "node" made by hand in Redis holds a
/// lease and a subscription but never answers: a send to it waits; its goodbye ends the wait
/// with `Gone` well before the request timeout, and a renewal that still lists it (its lease
/// is left in Redis) does not bring it back. An absurd lease score (`1e300`) breaks nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_goodbye_ends_the_wait_for_its_nodes_answers() {
    let redis = RedisServer::start();
    bounded(30, async {
        let timeout = Duration::from_secs(3);
        let (a, _) = start(|r| r.cluster(cluster(&redis.url()).request_timeout(timeout))).await;
        a.cluster().unwrap().ready().await;
        let mut subscriber = tokio::net::TcpStream::connect(("127.0.0.1", redis.port))
            .await
            .unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut subscriber, b"SUBSCRIBE ws-runtime:node:mute\r\n")
            .await
            .unwrap();
        let time = redis.cli(&["time"]);
        let seconds: u64 = time.lines().next().unwrap().trim().parse().unwrap();
        let lease_end = (seconds * 1000 + 60_000).to_string();
        redis.cli(&["zadd", "ws-runtime:nodes", &lease_end, "mute"]);
        redis.cli(&["zadd", "ws-runtime:nodes", "1e300", "forever"]);
        wait_for_live(&a, 3).await;

        let connections = a.connections();
        let sent = tokio::spawn(async move {
            let started = Instant::now();
            let result = connections.send(&ConnectionId::from("mute.abc"), "x").await;
            (result, started.elapsed())
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let bye = "{\"op\":\"bye\",\"from\":\"mute\",\"req\":0}\n";
        redis.cli(&["publish", "ws-runtime:all", bye]);
        let (result, took) = sent.await.unwrap();
        assert!(matches!(result, Err(SendError::Gone)), "{result:?}");
        assert!(took < timeout / 2, "gone after {took:?}");
        // Two renewals later, the lease still in Redis has not brought it back.
        tokio::time::sleep(LEASE / 2).await;
        assert!(
            !a.cluster()
                .unwrap()
                .live_nodes()
                .contains(&"mute".to_owned())
        );
        drop(subscriber);
    })
    .await;
}

/// `cmdstat_{command}` calls of a server, from `INFO commandstats`.
fn calls(server: &RedisServer, command: &str) -> u64 {
    let stats = server.cli(&["info", "commandstats"]);
    let prefix = format!("cmdstat_{command}:calls=");
    stats
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_redis_cluster_each_nodes_traffic_stays_on_the_shard_of_its_channel() {
    let redis = RedisCluster::start();
    bounded(60, async {
        let nodes = nodes(&redis.url(), 3, None).await;
        let mut clients = Vec::new();
        let mut ids = Vec::new();
        for (server, _) in &nodes {
            let mut client = connect(server.local_addr(), "/chat").await;
            ids.push(whoami(&mut client).await);
            clients.push(client);
        }
        for round in 0..20 {
            for (server, _) in &nodes {
                let text = json!({"round": round}).to_string();
                assert_eq!(server.connections().broadcast(&text).await.unwrap(), 3);
            }
            for id in &ids {
                nodes[0].0.connections().send(id, "{}").await.unwrap();
            }
        }
        // Which shard owns each node's channel, and which shards carried messages.
        let owners: HashSet<usize> = nodes
            .iter()
            .map(|(server, _)| {
                redis.primary_for(&format!(
                    "ws-runtime:node:{}",
                    server.cluster().unwrap().id()
                ))
            })
            .collect();
        let mut carried = HashSet::new();
        for (index, server) in redis.servers.iter().enumerate() {
            // No unsharded publish: a cluster forwards those to every shard.
            assert_eq!(calls(server, "publish"), 0, "server {index} got PUBLISH");
            if calls(server, "spublish") > 0 {
                carried.insert(index);
            }
        }
        assert_eq!(
            carried, owners,
            "the shards that carried messages are those of the nodes' channels"
        );
        println!(
            "3 nodes' channels on {} of 3 shards; SPUBLISH per server: {:?}",
            owners.len(),
            redis
                .servers
                .iter()
                .map(|s| calls(s, "spublish"))
                .collect::<Vec<_>>()
        );
    })
    .await;
}

/// Each test of the suite, on one Redis, through Sentinel, on a Redis Cluster, and on a cluster
/// of three NATS servers.
macro_rules! on_every_engine {
    ($($test:ident),* $(,)?) => {
        on_engine!(one_redis, RedisServer, $($test),*);
        on_engine!(sentinel, Sentinels, $($test),*);
        on_engine!(redis_cluster, RedisCluster, $($test),*);
        on_engine!(nats, NatsCluster, $($test),*);
    };
}

/// The suite's tests in `module`, each on its own `fixture` (something with `start()` and
/// `url()`).
macro_rules! on_engine {
    ($module:ident, $fixture:ident, $($test:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let engine = super::$fixture::start();
                    super::$test(&engine.url()).await;
                }
            )*
        }
    };
}

on_every_engine!(
    send_get_and_disconnect_reach_the_node_that_holds_the_connection,
    broadcasts_and_groups_span_every_node_and_arrive_once,
    the_management_api_answers_the_same_on_every_node,
    a_node_that_joins_is_reachable_at_once,
    messages_from_one_sender_to_one_connection_stay_in_order,
    a_node_that_leaves_or_crashes_has_its_connections_gone,
);
