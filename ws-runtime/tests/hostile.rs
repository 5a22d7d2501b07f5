//! Hostile clients, over real sockets on 127.0.0.1: bursts that must not evict the readers,
//! clients that never read, handshakes that never finish, handshakes RFC 6455 refuses, and
//! requests that do not ask for a WebSocket.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use support::*;
use test_support::bounded;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use ws_runtime::*;

/// Reads `count` text frames; panics on anything else (a close above all).
async fn read_frames(client: &mut Client, count: usize) -> Vec<serde_json::Value> {
    let mut frames = Vec::with_capacity(count);
    while frames.len() < count {
        frames.push(recv(client).await);
    }
    frames
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_from_one_client_reaches_every_reader_and_closes_none() {
    bounded(60, async {
        let (server, chat) = start(|r| r).await;
        let addr = server.local_addr();
        let mut readers = Vec::new();
        for _ in 0..5 {
            let mut client = connect(addr, "/chat").await;
            send(&mut client, json!({"action": "whoami"})).await;
            recv(&mut client).await;
            readers.push(client);
        }
        let mut sender = connect(addr, "/chat").await;
        // 1,000 frames in one write: the server handles them back to back, far faster than the
        // readers' tasks get scheduled.
        const BURST: usize = 1_000;
        let frames = (0..BURST).map(|i| {
            Ok(WsMessage::text(
                json!({"action": "sendMessage", "text": format!("m{i}")}).to_string(),
            ))
        });
        sender
            .send_all(&mut futures_util::stream::iter(frames))
            .await
            .unwrap();
        let reads = readers.iter_mut().map(|reader| read_frames(reader, BURST));
        for frames in futures_util::future::join_all(reads).await {
            let texts: Vec<&str> = frames.iter().map(|f| f["text"].as_str().unwrap()).collect();
            let expected: Vec<String> = (0..BURST).map(|i| format!("m{i}")).collect();
            assert_eq!(texts, expected, "every frame, in order");
        }
        for reader in &mut readers {
            silent(reader).await;
        }
        let closed = chat
            .events()
            .into_iter()
            .filter(|e| matches!(e, Event::Disconnect { .. }))
            .count();
        assert_eq!(closed, 0, "no connection was closed");
        assert_eq!(server.connections().len(), 6);
    })
    .await;
}

/// Completes a WebSocket handshake by hand and then never reads.
async fn connect_and_never_read(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8];
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{head:?}");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_closed_with_1008_and_holds_bounded_memory() {
    bounded(60, async {
        let limits = Limits {
            outbound_queue: 64,
            outbound_queue_bytes: 64 * 1024,
            slow_reader_grace: Duration::from_millis(500),
            ..Limits::default()
        };
        let (server, chat) = start(|r| r.limits(limits)).await;
        let _stalled = connect_and_never_read(server.local_addr()).await;
        let connections = server.connections();
        let id = loop {
            if let Some(id) = connections.ids().pop() {
                break id;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        // 16 KiB frames until the server refuses: the socket's buffers fill, then the queue,
        // and a queue never holds more than twice its bounds (128 KiB here).
        let frame = "x".repeat(16 * 1024);
        let mut sent = 0usize;
        let refused = loop {
            match connections.send(&id, frame.clone()).await {
                Ok(()) => sent += 1,
                Err(error) => break error,
            }
            assert!(sent < 100_000, "1.6 GB queued and never refused");
            if sent.is_multiple_of(64) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        assert!(
            matches!(refused, SendError::SlowReader | SendError::Gone),
            "{refused:?}"
        );
        assert_eq!(chat.wait_disconnect(id.as_str()).await, [1008]);
        assert_eq!(
            chat.closes(id.as_str()),
            [(1008, Some(CloseReason::SlowReader))]
        );
        assert!(matches!(connections.get(&id).await, Err(SendError::Gone)));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_loris_clients_are_dropped_after_the_handshake_timeout_and_starve_no_one() {
    bounded(90, async {
        let timeout = Duration::from_secs(2);
        let limits = Limits {
            handshake_timeout: timeout,
            ..Limits::default()
        };
        let (server, _chat) = start(|r| r.limits(limits)).await;
        let addr = server.local_addr();
        let started = Instant::now();
        // 300 connections that send nothing, 300 that send half a handshake.
        let mut lorises = Vec::new();
        for i in 0..600 {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            if i % 2 == 1 {
                stream
                    .write_all(b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
                    .await
                    .unwrap();
            }
            lorises.push(stream);
        }
        // Real clients are served meanwhile.
        for _ in 0..20 {
            let mut client = connect(addr, "/chat").await;
            send(&mut client, json!({"action": "echo", "text": "hi"})).await;
            assert_eq!(recv(&mut client).await["text"], "hi");
            client.close(None).await.unwrap();
        }
        // Every slow one is dropped by the server within the timeout (plus a margin).
        let reads = lorises.into_iter().map(|mut stream| async move {
            let mut buf = [0u8; 64];
            let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await;
            matches!(read, Ok(Ok(0) | Err(_)))
        });
        let dropped = futures_util::future::join_all(reads).await;
        assert!(dropped.iter().all(|d| *d), "a slow connection was kept");
        let took = started.elapsed();
        assert!(
            took < timeout + Duration::from_secs(8),
            "dropped only after {took:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn past_the_bound_on_pending_handshakes_the_oldest_is_dropped() {
    bounded(30, async {
        let limits = Limits {
            handshake_timeout: Duration::from_secs(60),
            max_pending_handshakes: 8,
            ..Limits::default()
        };
        let (server, _chat) = start(|r| r.limits(limits)).await;
        let addr = server.local_addr();
        let mut idle = Vec::new();
        for _ in 0..16 {
            idle.push(TcpStream::connect(addr).await.unwrap());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The first eight made room for the next eight, long before the 60 s timeout.
        for (i, stream) in idle.iter_mut().enumerate() {
            let mut buf = [0u8; 8];
            let read =
                tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buf)).await;
            let dropped = matches!(read, Ok(Ok(0) | Err(_)));
            assert_eq!(dropped, i < 8, "connection {i}");
        }
        // And a real client still gets in.
        let mut client = connect(addr, "/chat").await;
        send(&mut client, json!({"action": "echo", "text": "in"})).await;
        assert_eq!(recv(&mut client).await["text"], "in");
    })
    .await;
}

/// The whole response to a raw request: status line, headers and body.
async fn raw(addr: std::net::SocketAddr, request: String) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut response)).await;
    String::from_utf8_lossy(&response).into_owned()
}

fn upgrade(path: &str, key: &str, version: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n\r\n"
    )
}

#[tokio::test]
async fn handshakes_that_rfc_6455_refuses_get_400() {
    bounded(30, async {
        let (server, chat) = start(|r| r).await;
        let addr = server.local_addr();
        for key in [
            "abc",
            "AAAAAAAAAAAAAAAAAAAA",
            "",
            "dGhlIHNhbXBsZSBub25jZQ=!",
        ] {
            let response = raw(addr, upgrade("/chat", key, "13")).await;
            assert!(
                response.starts_with("HTTP/1.1 400"),
                "key {key:?}: {response}"
            );
            assert!(response.contains("Sec-WebSocket-Key must be 16 bytes in base64"));
        }
        for version in ["12", "", "13, 8"] {
            let response = raw(addr, upgrade("/chat", "dGhlIHNhbXBsZSBub25jZQ==", version)).await;
            assert!(response.starts_with("HTTP/1.1 400"), "{response}");
            assert!(
                response
                    .to_ascii_lowercase()
                    .contains("sec-websocket-version: 13\r\n"),
                "§4.2.2: the versions the server speaks: {response}"
            );
        }
        // A query that is not UTF-8 once decoded is refused, not changed behind `$connect`.
        let response = raw(
            addr,
            upgrade("/chat?name=%FF", "dGhlIHNhbXBsZSBub25jZQ==", "13"),
        )
        .await;
        assert!(response.starts_with("HTTP/1.1 400"), "{response}");
        assert!(
            response.contains("the query parameter `%FF` is not UTF-8"),
            "{response}"
        );
        assert!(
            !chat.events().iter().any(|e| matches!(e, Event::Connect(_))),
            "$connect never ran"
        );
        // The good key of RFC 6455 §1.3 gets its 101.
        let response = raw(
            addr,
            upgrade("/chat?name=%C3%A9", "dGhlIHNhbXBsZSBub25jZQ==", "13"),
        )
        .await;
        assert!(response.starts_with("HTTP/1.1 101"), "{response}");
        assert!(
            response.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            "{response}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_request_that_does_not_ask_for_a_websocket_gets_426() {
    bounded(30, async {
        let (server, chat) = start(|r| r).await;
        let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
        for (case, headers) in [
            ("a plain GET", String::new()),
            ("no Upgrade", format!("Connection: Upgrade\r\n{key}")),
            ("another Upgrade", format!("Upgrade: h2c\r\nConnection: Upgrade\r\n{key}")),
            ("no Connection: Upgrade", format!("Upgrade: websocket\r\nConnection: keep-alive\r\n{key}")),
        ] {
            let response = raw(
                server.local_addr(),
                format!("GET /chat HTTP/1.1\r\nHost: x\r\n{headers}\r\n"),
            )
            .await;
            assert!(response.starts_with("HTTP/1.1 426"), "{case}: {response}");
            assert!(
                response.to_ascii_lowercase().contains("upgrade: websocket\r\n"),
                "{case}: {response}"
            );
        }
        // `Connection` may list other tokens beside `Upgrade`, in any case.
        let response = raw(
            server.local_addr(),
            format!("GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: keep-alive, upgrade\r\n{key}\r\n"),
        )
        .await;
        assert!(response.starts_with("HTTP/1.1 101"), "{response}");
        assert_eq!(
            chat.events()
                .iter()
                .filter(|e| matches!(e, Event::Connect(_)))
                .count(),
            1,
            "$connect ran for the one WebSocket handshake only"
        );
    })
    .await;
}

#[tokio::test]
async fn queued_frames_are_delivered_before_a_close_from_the_server() {
    bounded(30, async {
        let (server, chat) = start(|r| r).await;
        let mut client = connect(server.local_addr(), "/chat").await;
        send(&mut client, json!({"action": "whoami"})).await;
        let id = recv(&mut client).await["connectionId"]
            .as_str()
            .unwrap()
            .to_owned();
        let id = ConnectionId::from(id.as_str());
        let connections = server.connections();
        for i in 0..50 {
            connections
                .send(&id, json!({"n": i}).to_string())
                .await
                .unwrap();
        }
        connections.disconnect(&id).await.unwrap();
        let mut seen = Vec::new();
        let code = loop {
            match client.next().await {
                Some(Ok(WsMessage::Text(text))) => {
                    seen.push(
                        serde_json::from_str::<serde_json::Value>(&text).unwrap()["n"].clone(),
                    );
                }
                Some(Ok(WsMessage::Close(frame))) => break frame.map(|f| u16::from(f.code)),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(seen, (0..50).map(|i| json!(i)).collect::<Vec<_>>());
        assert_eq!(code, Some(1000));
        assert_eq!(chat.wait_disconnect(id.as_str()).await, [1000]);
    })
    .await;
}
