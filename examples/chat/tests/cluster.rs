//! The chat on two nodes and a real Redis: one room across both, the management API on either
//! node for a client of the other, and a node killed with SIGKILL; and the same room on two
//! nodes through two routed NATS servers (`--nats`).

#![allow(clippy::unwrap_used)]

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message as Frame;

use support::{Server, join, recv, start_args};
use test_support::nats::NatsCluster;
use test_support::redis::RedisServer;

const TOKEN: &str = "test-token";

fn node(redis: &RedisServer) -> Server {
    node_on("--redis", &redis.url())
}

/// A chat node on the engine `flag` (`--redis`, `--nats`) names at `url`.
fn node_on(flag: &str, url: &str) -> Server {
    start_args(
        &[flag, url, "--management-token", TOKEN, "--verbose"],
        Stdio::piped(),
    )
}

/// A management API request; the status code.
async fn manage(server: &Server, method: &str, id: &str, body: &str) -> u16 {
    let request = format!(
        "{method} /@connections/{id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    test_support::http::http(server.address.as_str(), &request)
        .await
        .0
}

/// The connection id the node logged for `name`'s `$connect` (bounded in time).
async fn connection_id(server: &Server, name: &str) -> String {
    let needle = format!("name=\"{name}\"");
    for _ in 0..200 {
        let log = server.log();
        if let Some(line) = log
            .lines()
            .find(|l| l.contains(&needle) && l.contains("joined"))
        {
            let id = line.split("connection_id=").nth(1).unwrap_or_default();
            return id.split_whitespace().next().unwrap_or_default().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no `joined` line for {name} in:\n{}", server.log());
}

/// Waits (bounded) until `server`'s log has a line with `text`.
async fn logged(server: &Server, text: &str) {
    for _ in 0..400 {
        if server.log().contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no line with {text:?} in:\n{}", server.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_room_across_two_nodes_through_a_redis_restart() {
    let mut redis = RedisServer::start();
    let mut one = node(&redis);
    let two = node(&redis);
    one.keep_log();
    let mut ada = join(&one, "Ada").await;
    let mut bob = join(&two, "Bob").await;
    assert_eq!(
        recv(&mut ada).await,
        json!({"type": "joined", "name": "Bob"})
    );
    ada.send(Frame::text(
        r#"{"action":"sendMessage","text":"hi from one"}"#,
    ))
    .await
    .unwrap();
    assert_eq!(
        recv(&mut bob).await,
        json!({"type": "message", "from": "Ada", "text": "hi from one"})
    );
    bob.send(Frame::text(
        r#"{"action":"sendMessage","text":"hi from two"}"#,
    ))
    .await
    .unwrap();
    assert_eq!(
        recv(&mut ada).await,
        json!({"type": "message", "from": "Bob", "text": "hi from two"})
    );

    // Redis goes away and comes back: each node says so, and the room is one again.
    redis.stop();
    logged(&one, "cluster unreachable").await;
    redis.restart();
    logged(&one, "reconnected to the cluster").await;
    let started = Instant::now();
    loop {
        bob.send(Frame::text(r#"{"action":"sendMessage","text":"back"}"#))
            .await
            .unwrap();
        if let Ok(frame) = tokio::time::timeout(Duration::from_millis(500), recv(&mut ada)).await {
            assert_eq!(
                frame,
                json!({"type": "message", "from": "Bob", "text": "back"})
            );
            break;
        }
        // Until node two is back too, Bob is told his message did not reach everyone.
        assert_eq!(recv(&mut bob).await["message"], "Internal server error");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the room was not one again within 10 s"
        );
    }
    bob.close(None).await.unwrap();
    assert_eq!(recv(&mut ada).await, json!({"type": "left", "name": "Bob"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_management_api_of_one_node_reaches_a_client_of_the_other_until_it_is_killed() {
    let redis = RedisServer::start();
    let mut one = node(&redis);
    let mut two = node(&redis);
    one.keep_log();
    two.keep_log();
    let mut bob = join(&two, "Bob").await;
    let id = connection_id(&two, "Bob").await;
    assert_eq!(manage(&one, "POST", &id, r#"{"type":"note"}"#).await, 200);
    assert_eq!(recv(&mut bob).await, json!({"type": "note"}));
    assert_eq!(manage(&one, "GET", &id, "").await, 200);

    // SIGKILL: no goodbye. Node one answers 503 while the lease lasts (the node may only be
    // cut off), then 410 within the default lease of 10 s.
    two.kill();
    let killed = Instant::now();
    let status = loop {
        let status = manage(&one, "POST", &id, "{}").await;
        if status == 410 || killed.elapsed() > Duration::from_secs(15) {
            break status;
        }
        assert_eq!(status, 503, "while the lease lasts");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status, 410, "still not gone 15 s after SIGKILL");
    let gone_after = killed.elapsed();
    assert!(
        gone_after <= Duration::from_secs(11),
        "gone after {gone_after:?}"
    );
    assert!(one.log().contains("joined the cluster"), "{}", one.log());
}

/// A node that hangs (SIGSTOP) still holds its lease and its subscription: what is sent to it
/// fails after the request timeout, reported, never hung; the other node's own clients still get
/// the room's messages; and when it resumes, it catches up by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_node_makes_sends_fail_in_bounded_time_not_hang() {
    let redis = RedisServer::start();
    let mut one = node(&redis);
    let mut two = node(&redis);
    one.keep_log();
    two.keep_log();
    let mut ada = join(&one, "Ada").await;
    let mut cy = join(&one, "Cy").await;
    assert_eq!(
        recv(&mut ada).await,
        json!({"type": "joined", "name": "Cy"})
    );
    let mut bob = join(&two, "Bob").await;
    let bob_id = connection_id(&two, "Bob").await;
    for client in [&mut ada, &mut cy] {
        assert_eq!(recv(client).await, json!({"type": "joined", "name": "Bob"}));
    }

    two.signal("STOP");
    let started = Instant::now();
    assert_eq!(manage(&one, "POST", &bob_id, "{}").await, 503);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(4), "the send took {waited:?}");
    // Ada's message reaches Cy on her node; the room's broadcast reports that node two did not
    // answer, and Ada is told.
    ada.send(Frame::text(r#"{"action":"sendMessage","text":"anyone?"}"#))
        .await
        .unwrap();
    assert_eq!(
        recv(&mut cy).await,
        json!({"type": "message", "from": "Ada", "text": "anyone?"})
    );
    assert_eq!(recv(&mut ada).await["message"], "Internal server error");

    two.signal("CONT");
    // Bob's node resumes: it reads what Redis kept for it, in order, and answers again. The
    // POST answered 503 arrives too: `Backend` means "may or may not have arrived".
    assert_eq!(recv(&mut bob).await, json!({}));
    assert_eq!(
        recv(&mut bob).await,
        json!({"type": "message", "from": "Ada", "text": "anyone?"})
    );
    let resumed = Instant::now();
    loop {
        let status = manage(&one, "POST", &bob_id, r#"{"type":"back"}"#).await;
        if status == 200 {
            break;
        }
        assert!(
            resumed.elapsed() < Duration::from_secs(10),
            "still {status} after SIGCONT"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    loop {
        if recv(&mut bob).await == json!({"type": "back"}) {
            break;
        }
    }
}

/// Each node on its own NATS server of a routed cluster: the room and the management API cross
/// the route, and a node that stops is gone from the other at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_room_across_two_nodes_on_two_nats_servers() {
    let nats = NatsCluster::start();
    let mut one = node_on("--nats", &nats.servers[0].url());
    let mut two = node_on("--nats", &nats.servers[1].url());
    one.keep_log();
    two.keep_log();
    logged(&one, "joined the cluster").await;
    logged(&two, "joined the cluster").await;
    let mut ada = join(&one, "Ada").await;
    let mut bob = join(&two, "Bob").await;
    assert_eq!(
        recv(&mut ada).await,
        json!({"type": "joined", "name": "Bob"})
    );
    bob.send(Frame::text(
        r#"{"action":"sendMessage","text":"over NATS"}"#,
    ))
    .await
    .unwrap();
    assert_eq!(
        recv(&mut ada).await,
        json!({"type": "message", "from": "Bob", "text": "over NATS"})
    );
    let id = connection_id(&two, "Bob").await;
    assert_eq!(manage(&one, "POST", &id, r#"{"type":"note"}"#).await, 200);
    assert_eq!(recv(&mut bob).await, json!({"type": "note"}));
    // A graceful stop (SIGTERM) says goodbye: gone everywhere at once, not after the lease.
    let (status, _) = two.terminate();
    assert!(status.success(), "{status}");
    assert_eq!(manage(&one, "POST", &id, "{}").await, 410);
}
