//! Limits, `$disconnect` exactly once, shutdown, the management API and mounting in axum,
//! with real clients over 127.0.0.1.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::json;
use support::*;
use test_support::bounded;
use test_support::http::exchange;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use ws_runtime::*;

async fn whoami(client: &mut Client) -> String {
    send(client, json!({"action": "whoami"})).await;
    recv(client).await["connectionId"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_frame_over_the_limit_closes_with_1009() {
    bounded(30, async {
        let (server, chat) = start(|r| r).await;
        let mut a = connect(server.local_addr(), "/chat").await;
        let id = whoami(&mut a).await;
        let big = "x".repeat(33 * 1024);
        a.send(WsMessage::text(
            json!({"action": "echo", "text": big}).to_string(),
        ))
        .await
        .unwrap();
        assert_eq!(closed(&mut a).await, 1009);
        assert_eq!(chat.wait_disconnect(&id).await, [1009]);
    })
    .await;
}

#[tokio::test]
async fn a_message_over_the_limit_in_small_frames_closes_with_1009() {
    bounded(30, async {
        let limits = Limits {
            max_frame_size: 1024,
            max_message_size: 4096,
            ..Limits::default()
        };
        let (server, chat) = start(|r| r.limits(limits)).await;
        let mut a = connect(server.local_addr(), "/chat").await;
        let id = whoami(&mut a).await;
        let chunk = vec![b'x'; 1000];
        a.send(WsMessage::Frame(Frame::message(
            chunk.clone(),
            OpCode::Data(Data::Text),
            false,
        )))
        .await
        .unwrap();
        for _ in 0..5 {
            let _ = a
                .send(WsMessage::Frame(Frame::message(
                    chunk.clone(),
                    OpCode::Data(Data::Continue),
                    false,
                )))
                .await;
        }
        assert_eq!(closed(&mut a).await, 1009);
        assert_eq!(chat.wait_disconnect(&id).await, [1009]);
    })
    .await;
}

#[tokio::test]
async fn binary_frames_close_with_1003() {
    bounded(30, async {
        let (server, chat) = start(|r| r).await;
        let mut a = connect(server.local_addr(), "/chat").await;
        let id = whoami(&mut a).await;
        a.send(WsMessage::binary(vec![1, 2, 3])).await.unwrap();
        assert_eq!(closed(&mut a).await, 1003);
        assert_eq!(chat.wait_disconnect(&id).await, [1003]);
    })
    .await;
}

#[tokio::test]
async fn idle_connections_close_with_1001_and_messages_keep_them_open() {
    bounded(30, async {
        let limits = Limits {
            idle_timeout: Duration::from_millis(400),
            ..Limits::default()
        };
        let (server, chat) = start(|r| r.limits(limits)).await;
        let mut a = connect(server.local_addr(), "/chat").await;
        let id = whoami(&mut a).await;
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert_eq!(
                whoami(&mut a).await,
                id,
                "a message must reset the idle timer"
            );
        }
        assert_eq!(closed(&mut a).await, 1001);
        assert_eq!(chat.wait_disconnect(&id).await, [1001]);
    })
    .await;
}

#[tokio::test]
async fn connections_end_at_their_maximum_lifetime() {
    bounded(30, async {
        let limits = Limits {
            max_lifetime: Duration::from_millis(500),
            ..Limits::default()
        };
        let (server, chat) = start(|r| r.limits(limits)).await;
        let mut a = connect(server.local_addr(), "/chat").await;
        let id = whoami(&mut a).await;
        let started = std::time::Instant::now();
        assert_eq!(closed(&mut a).await, 1001);
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_eq!(chat.wait_disconnect(&id).await, [1001]);
    })
    .await;
}

#[tokio::test]
async fn connections_over_the_maximum_get_429() {
    bounded(30, async {
        let limits = Limits {
            max_connections: 2,
            ..Limits::default()
        };
        let (server, chat) = start(|r| r.limits(limits)).await;
        let mut a = connect(server.local_addr(), "/chat").await;
        let _b = connect(server.local_addr(), "/chat").await;
        let error = try_connect(server.local_addr(), "/chat").await.unwrap_err();
        assert!(
            matches!(error, tokio_tungstenite::tungstenite::Error::Http(r) if r.status() == 429)
        );
        let id = whoami(&mut a).await;
        a.close(None).await.unwrap();
        chat.wait_disconnect(&id).await;
        let mut c = connect(server.local_addr(), "/chat").await;
        whoami(&mut c).await;
    })
    .await;
}

#[tokio::test]
async fn a_reader_too_slow_for_its_queue_is_closed_with_1008() {
    bounded(30, async {
        let limits = Limits {
            outbound_queue: 4,
            ..Limits::default()
        };
        let (server, chat) = start(|r| r.limits(limits)).await;
        let mut a = connect(server.local_addr(), "/chat").await;
        let id = whoami(&mut a).await;
        // The handler queues 10 frames while the connection's task is busy running it.
        send(&mut a, json!({"action": "flood", "count": 10})).await;
        assert_eq!(closed(&mut a).await, 1008);
        assert_eq!(chat.wait_disconnect(&id).await, [1008]);
        assert!(matches!(
            server
                .connections()
                .send(&ConnectionId::from(id.as_str()), "x")
                .await,
            Err(SendError::Gone)
        ));
    })
    .await;
}

#[tokio::test]
async fn send_json_reports_a_value_that_cannot_be_json_and_sends_nothing() {
    bounded(30, async {
        let (server, _chat) = start(|r| r).await;
        let mut a = connect(server.local_addr(), "/chat").await;
        let id = ConnectionId::from(whoami(&mut a).await.as_str());
        let keyed_by_pairs = std::collections::BTreeMap::from([((1, 2), "x")]);
        let sent = server.connections().send_json(&id, &keyed_by_pairs).await;
        match sent {
            Err(SendError::NotJson(error)) => assert_eq!(error.to_string(), "key must be a string"),
            other => panic!("{other:?}"),
        }
        silent(&mut a).await;
        server
            .connections()
            .send_json(&id, &json!({"ok": 1}))
            .await
            .unwrap();
        assert_eq!(recv(&mut a).await, json!({"ok": 1}));
    })
    .await;
}

/// The registry holds a connection before its 101 goes out, so a client that has connected is
/// already reachable by `send` and broadcasts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_is_reachable_as_soon_as_its_handshake_completes() {
    bounded(30, async {
        let (server, _chat) = start(|r| r).await;
        let mut clients = Vec::new();
        for round in 1..=10 {
            let connects = (0..50).map(|_| connect(server.local_addr(), "/chat"));
            clients.extend(futures_util::future::join_all(connects).await);
            assert_eq!(
                server.connections().len(),
                round * 50,
                "round {round}: every client was told it is connected"
            );
        }
        assert_eq!(
            server
                .connections()
                .broadcast(r#"{"type":"hello"}"#)
                .await
                .unwrap(),
            500
        );
        for client in &mut clients {
            assert_eq!(recv(client).await, json!({"type": "hello"}));
        }
    })
    .await;
}

#[tokio::test]
async fn disconnect_runs_once_for_a_normal_close() {
    bounded(30, async {
        let (server, chat) = start(|r| r).await;
        let mut a = connect(server.local_addr(), "/chat").await;
        let id = whoami(&mut a).await;
        a.close(None).await.unwrap();
        assert_eq!(chat.wait_disconnect(&id).await, [1005]);
        let mut b = connect(server.local_addr(), "/chat").await;
        let id = whoami(&mut b).await;
        b.close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: 1000.into(),
            reason: "bye".into(),
        }))
        .await
        .unwrap();
        assert_eq!(chat.wait_disconnect(&id).await, [1000]);
    })
    .await;
}

#[tokio::test]
async fn disconnect_runs_once_for_an_abrupt_reset() {
    bounded(30, async {
        let (server, chat) = start(|r| r).await;
        let mut a = connect(server.local_addr(), "/chat").await;
        let id = whoami(&mut a).await;
        if let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = a.get_ref() {
            tcp.set_zero_linger().unwrap(); // close → RST, no close frame
        }
        drop(a);
        assert_eq!(chat.wait_disconnect(&id).await, [1006]);
        assert!(server.connections().is_empty());
    })
    .await;
}

#[tokio::test]
async fn graceful_shutdown_closes_everyone_with_1001_and_runs_every_disconnect() {
    bounded(30, async {
        let (server, chat) = start(|r| r).await;
        let addr = server.local_addr();
        let mut a = connect(addr, "/chat").await;
        let mut b = connect(addr, "/rooms/x").await;
        let ids = [whoami(&mut a).await, whoami(&mut b).await];
        let report = server.shutdown().await;
        assert_eq!(report.unfinished, 0);
        assert_eq!(closed(&mut a).await, 1001);
        assert_eq!(closed(&mut b).await, 1001);
        for id in &ids {
            assert_eq!(
                chat.disconnects(id),
                [1001],
                "exactly once, before shutdown returned"
            );
        }
        assert!(
            try_connect(addr, "/chat").await.is_err(),
            "no new connections after shutdown"
        );
    })
    .await;
}

#[tokio::test]
async fn the_management_api() {
    bounded(30, async {
        let limits = Limits { max_message_size: 64, ..Limits::default() };
        let (server, chat) = start(|r| r.limits(limits).management_api("s3cret")).await;
        let addr = server.local_addr();
        let mut a = connect(addr, "/chat").await;
        let id = whoami(&mut a).await;
        let request = |method: &str, path: &str, token: &str, body: &str| {
            format!(
                "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        };
        let path = format!("/@connections/{id}");
        assert_eq!(http(addr, &request("GET", &path, "wrong", "")).await.0, 401);
        assert_eq!(http(addr, &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).await.0, 401);
        assert_eq!(http(addr, &request("POST", &path, "s3cret", r#"{"hello":1}"#)).await.0, 200);
        assert_eq!(recv(&mut a).await, json!({"hello": 1}));
        assert_eq!(http(addr, &request("POST", &path, "s3cret", &"x".repeat(65))).await.0, 413);
        let (status, body) = http(addr, &request("GET", &path, "s3cret", "")).await;
        assert_eq!(status, 200);
        let info: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(info["identity"]["sourceIp"], "127.0.0.1");
        // API Gateway's timestamps: ISO 8601 with milliseconds.
        let at = |field: &str| {
            let text = info[field].as_str().unwrap();
            assert!(text.len() == 24 && text.ends_with('Z'), "{field}: {text}");
            humantime::parse_rfc3339(text).unwrap()
        };
        assert!(at("connectedAt") <= at("lastActiveAt"));
        // The stage prefix: the router's (`$default` unless set), else 403 as API Gateway.
        let staged = format!("/$default/@connections/{id}");
        assert_eq!(http(addr, &request("POST", &staged, "s3cret", r#"{"staged":1}"#)).await.0, 200);
        assert_eq!(recv(&mut a).await, json!({"staged": 1}));
        let other = format!("/prod/@connections/{id}");
        let (status, head, body) = exchange(addr, request("GET", &other, "s3cret", "").as_bytes()).await;
        assert_eq!(status, 403);
        assert!(head.to_ascii_lowercase().contains("x-amzn-errortype: forbiddenexception"), "{head}");
        assert_eq!(body, r#"{"message":"Forbidden"}"#);
        assert_eq!(http(addr, &request("DELETE", &path, "s3cret", "")).await.0, 204);
        // Gone from the moment DELETE answers, before the close frame is read.
        assert_eq!(http(addr, &request("GET", &path, "s3cret", "")).await.0, 410);
        assert_eq!(closed(&mut a).await, 1000);
        chat.wait_disconnect(&id).await;
        assert_eq!(chat.closes(&id), [(1000, Some(CloseReason::Disconnected))]);
        let (status, head, _) = exchange(addr, request("GET", &path, "s3cret", "").as_bytes()).await;
        assert_eq!(status, 410);
        assert!(head.to_ascii_lowercase().contains("x-amzn-errortype: goneexception"), "{head}");
        assert!(head.to_ascii_lowercase().contains("x-amzn-requestid: "), "{head}");
        assert_eq!(http(addr, &request("POST", &path, "s3cret", "x")).await.0, 410);
        assert_eq!(http(addr, &request("DELETE", &path, "s3cret", "")).await.0, 410);
    })
    .await;
}

#[tokio::test]
async fn the_management_api_is_off_by_default() {
    bounded(30, async {
        let (server, _) = start(|r| r).await;
        let (status, _) = http(
            server.local_addr(),
            "GET /@connections/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(status, 404);
    })
    .await;
}

#[tokio::test]
async fn a_channel_router_mounts_inside_an_existing_axum_app() {
    bounded(30, async {
        let chat = Chat::default();
        let app = Router::new()
            .channel("/ws/chat", chat.clone())
            .build()
            .unwrap();
        let existing = axum::Router::new()
            .route("/health", axum::routing::get(|| async { "ok" }))
            .merge(app.into_router());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let service = existing.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let task = tokio::spawn(async move { axum::serve(listener, service).await });
        let (status, body) = http(
            addr,
            "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!((status, body.as_str()), (200, "ok"));
        let mut a = connect(addr, "/ws/chat").await;
        send(&mut a, json!({"action": "echo", "text": "mounted"})).await;
        assert_eq!(recv(&mut a).await["text"], "mounted");
        task.abort();
    })
    .await;
}

#[tokio::test]
async fn a_connection_over_its_message_rate_gets_too_many_requests_and_others_do_not() {
    bounded(30, async {
        let limits = Limits {
            message_rate: Some(Rate::new(1, 3)),
            ..Limits::default()
        };
        let (server, _chat) = start(|r| r.limits(limits).metrics()).await;
        let mut a = connect(server.local_addr(), "/chat").await;
        let mut b = connect(server.local_addr(), "/chat").await;
        for i in 0..5 {
            send(&mut a, json!({"action": "echo", "text": format!("a{i}")})).await;
        }
        let mut answered = Vec::new();
        for _ in 0..5 {
            let frame = recv(&mut a).await;
            if frame["message"] == "Too Many Requests" {
                assert!(frame["connectionId"].is_string() && frame["requestId"].is_string());
                answered.push("throttled".to_owned());
            } else {
                answered.push(frame["text"].as_str().unwrap().to_owned());
            }
        }
        // The burst of three is answered, in order; the two over it are refused, not handled.
        assert_eq!(answered, ["a0", "a1", "a2", "throttled", "throttled"]);
        // Another connection has a bucket of its own.
        for i in 0..3 {
            send(&mut b, json!({"action": "echo", "text": format!("b{i}")})).await;
            assert_eq!(recv(&mut b).await["text"], format!("b{i}"));
        }
        let metrics = test_support::http::get(server.local_addr(), "/metrics").await;
        assert!(
            metrics.contains("ws_messages_throttled_total{channel=\"/chat\"} 2"),
            "{metrics}"
        );
        // Still open, and a token is back a second later.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        send(&mut a, json!({"action": "echo", "text": "later"})).await;
        assert_eq!(recv(&mut a).await["text"], "later");
    })
    .await;
}

#[tokio::test]
async fn one_address_over_its_handshake_rate_gets_429_and_another_address_does_not() {
    bounded(30, async {
        let limits = Limits {
            handshake_rate: Some(Rate::new(1, 2)),
            ..Limits::default()
        };
        let (server, _chat) = start(|r| r.limits(limits)).await;
        let addr = server.local_addr();
        let _a = connect(addr, "/chat").await;
        let _b = connect(addr, "/chat").await;
        let refused = try_connect(addr, "/chat").await.unwrap_err();
        match refused {
            tokio_tungstenite::tungstenite::Error::Http(response) => {
                assert_eq!(response.status(), 429);
                let body = response.into_body().unwrap_or_default();
                assert_eq!(String::from_utf8_lossy(&body), "Too Many Requests");
            }
            other => panic!("expected HTTP 429, got {other}"),
        }
        // From 127.0.0.2 (loopback too): a bucket of its own.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        let stream = tokio_tungstenite::MaybeTlsStream::Plain(socket.connect(addr).await.unwrap());
        let (mut other, _) = tokio_tungstenite::client_async(format!("ws://{addr}/chat"), stream)
            .await
            .unwrap();
        whoami(&mut other).await;
    })
    .await;
}
