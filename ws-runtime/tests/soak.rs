//! Soak: 1,000 concurrent clients each send 100 routed messages and get every reply exactly
//! once, then all receive one broadcast exactly once; after they leave, no task is left behind.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use support::*;
use tokio_tungstenite::tungstenite::Message as WsMessage;

const CLIENTS: usize = 1_000;
const MESSAGES: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_clients_a_hundred_messages_each() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline = metrics.num_alive_tasks();
    let (server, chat) = start(|r| r).await;
    let addr = server.local_addr();
    let started = std::time::Instant::now();

    // Connect everyone first (concurrently, in batches the backlog can take).
    let mut clients = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS / 100 {
        let connects = (0..100).map(|_| connect(addr, "/chat"));
        clients.extend(futures_util::future::join_all(connects).await);
    }
    assert_eq!(server.connections().len(), CLIENTS);

    // Every client sends its messages and checks each reply, in order, exactly once.
    let runs = clients.into_iter().enumerate().map(|(n, mut client)| {
        tokio::spawn(async move {
            for i in 0..MESSAGES {
                let text = format!("{n}/{i}");
                send(&mut client, json!({"action": "echo", "text": text})).await;
                let reply = recv(&mut client).await;
                assert_eq!(reply, json!({"type": "echo", "text": text}));
            }
            client
        })
    });
    let clients: Vec<Client> = tokio::time::timeout(
        Duration::from_secs(240),
        futures_util::future::join_all(runs),
    )
    .await
    .expect("the soak took longer than 240 s")
    .into_iter()
    .map(Result::unwrap)
    .collect();
    let routed = chat
        .events()
        .iter()
        .filter(|e| matches!(e, Event::Message { route, .. } if route == "echo"))
        .count();
    assert_eq!(
        routed,
        CLIENTS * MESSAGES,
        "every message reached its handler once"
    );

    // One broadcast, received once by everyone.
    assert_eq!(
        server
            .connections()
            .broadcast(r#"{"type":"broadcast"}"#)
            .await
            .unwrap(),
        CLIENTS
    );
    let receives = clients.into_iter().map(|mut client| {
        tokio::spawn(async move {
            assert_eq!(recv(&mut client).await, json!({"type": "broadcast"}));
            let extra = tokio::time::timeout(Duration::from_millis(300), client.next()).await;
            assert!(extra.is_err(), "a second frame arrived: {extra:?}");
            client.send(WsMessage::Close(None)).await.unwrap();
            // Wait for the server's close reply so the connection is really over.
            while let Ok(Some(Ok(_))) =
                tokio::time::timeout(Duration::from_secs(5), client.next()).await
            {}
        })
    });
    tokio::time::timeout(
        Duration::from_secs(60),
        futures_util::future::join_all(receives),
    )
    .await
    .expect("the broadcast round took longer than 60 s")
    .into_iter()
    .for_each(Result::unwrap);

    // Everyone left: every $disconnect ran once, and no task is left.
    for _ in 0..200 {
        if server.connections().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(server.connections().is_empty());
    let disconnects = chat
        .events()
        .iter()
        .filter(|e| matches!(e, Event::Disconnect { .. }))
        .count();
    assert_eq!(disconnects, CLIENTS);
    server.shutdown().await;
    let mut alive = metrics.num_alive_tasks();
    for _ in 0..200 {
        if alive <= baseline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        alive = metrics.num_alive_tasks();
    }
    assert!(
        alive <= baseline,
        "{alive} tasks alive, {baseline} before the server started"
    );
    println!(
        "soak: {CLIENTS} clients × {MESSAGES} messages in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
