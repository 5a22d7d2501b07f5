//! Operating a server: metrics as a scripted client connects, sends and leaves, read back from
//! `/metrics` with a Prometheus text parser; health and readiness through a drain; the served
//! document and what the server routes.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use prometheus_parse::{Scrape, Value as Sample};
use serde_json::json;
use support::*;
use test_support::bounded;
use test_support::http::get_request;
use ws_runtime::{AsyncApi, Close, Context, Handler, HandlerError, Reply, RouterError};

/// `/metrics`, parsed as Prometheus parses it.
async fn scrape(addr: std::net::SocketAddr) -> Scrape {
    let (status, body) = http(addr, &get_request("/metrics")).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF: {body}"
    );
    Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// The value of the sample named `name` whose labels include `labels`.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .unwrap_or_else(|| panic!("no sample {name} {labels:?}"));
    match &sample.value {
        Sample::Counter(v) | Sample::Gauge(v) | Sample::Untyped(v) => *v,
        Sample::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
        Sample::Summary(_) => panic!("{name} is a summary"),
    }
}

#[tokio::test]
async fn metrics_count_connects_messages_errors_and_disconnects() {
    bounded(30, async {
        let (server, chat) = start(|r| r.metrics()).await;
        let addr = server.local_addr();
        assert!(try_connect(addr, "/chat?token=bad").await.is_err());
        let mut client = connect(addr, "/chat?name=ada").await;
        let mut strict = connect(addr, "/strict").await;

        send(&mut client, json!({"action": "echo", "text": "hi"})).await;
        recv(&mut client).await;
        send(&mut client, json!({"action": "echo", "text": 42})).await;
        assert_eq!(recv(&mut client).await["message"], "Bad request body");
        send(&mut client, json!({"action": "fail"})).await;
        assert_eq!(recv(&mut client).await["message"], "Internal server error");
        send(&mut client, json!({"action": "dance"})).await;
        recv(&mut client).await;
        send(&mut strict, json!({"action": "dance"})).await;
        assert_eq!(recv(&mut strict).await["message"], "Forbidden");

        let during = scrape(addr).await;
        let chat_ = ("channel", "/chat");
        assert_eq!(value(&during, "ws_connections_open", &[chat_]), 1.0);
        assert_eq!(
            value(&during, "ws_connections_open", &[("channel", "/strict")]),
            1.0
        );
        assert_eq!(
            value(
                &during,
                "ws_connects_total",
                &[chat_, ("outcome", "accepted")]
            ),
            1.0
        );
        assert_eq!(
            value(&during, "ws_connects_total", &[chat_, ("outcome", "401")]),
            1.0
        );
        for (route, count) in [
            ("echo", 2.0),
            ("fail", 1.0),
            ("$default", 1.0),
            ("sendMessage", 0.0),
        ] {
            let labels = [chat_, ("route", route)];
            assert_eq!(
                value(&during, "ws_messages_received_total", &labels),
                count,
                "{route}"
            );
            assert_eq!(
                value(&during, "ws_message_duration_seconds", &labels),
                count,
                "{route}"
            );
        }
        let error = |route, error| [chat_, ("route", route), ("error", error)];
        assert_eq!(
            value(
                &during,
                "ws_errors_total",
                &error("echo", "bad_request_body")
            ),
            1.0
        );
        assert_eq!(
            value(
                &during,
                "ws_errors_total",
                &error("echo", "internal_server_error")
            ),
            0.0
        );
        assert_eq!(
            value(
                &during,
                "ws_errors_total",
                &error("fail", "internal_server_error")
            ),
            1.0
        );
        let forbidden = [
            ("channel", "/strict"),
            ("route", "$none"),
            ("error", "forbidden"),
        ];
        assert_eq!(value(&during, "ws_errors_total", &forbidden), 1.0);
        assert_eq!(value(&during, "ws_messages_sent_total", &[chat_]), 4.0);

        use tokio_tungstenite::tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};
        let bye = CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        };
        client.close(Some(bye)).await.unwrap();
        closed(&mut client).await;
        let id = chat.events().iter().find_map(|e| match e {
            Event::Connect(id) => Some(id.clone()),
            _ => None,
        });
        chat.wait_disconnect(&id.unwrap()).await;
        let after = scrape(addr).await;
        assert_eq!(value(&after, "ws_connections_open", &[chat_]), 0.0);
        assert_eq!(
            value(&after, "ws_disconnects_total", &[chat_, ("code", "1000")]),
            1.0
        );
    })
    .await;
}

#[tokio::test]
async fn metrics_are_off_by_default_and_health_is_always_on() {
    bounded(30, async {
        let (server, _) = start(|r| r).await;
        let addr = server.local_addr();
        assert_eq!(http(addr, &get_request("/metrics")).await.0, 404);
        assert_eq!(
            http(addr, &get_request("/healthz")).await,
            (200, "ok\n".to_owned())
        );
        assert_eq!(
            http(addr, &get_request("/readyz")).await,
            (200, "ready\n".to_owned())
        );
        assert_eq!(
            http(addr, &get_request("/docs")).await.0,
            404,
            "docs only when asked"
        );
    })
    .await;
}

/// A chat whose `$disconnect` takes half a second: a drain that lasts long enough to watch.
#[derive(Clone, Default)]
struct SlowGoodbye;

impl Handler<ChatRoute> for SlowGoodbye {
    async fn message(&self, _: &Context, _: ChatRoute) -> Result<Reply, HandlerError> {
        Ok(Reply::none())
    }

    async fn disconnect(&self, _: &Context, _: &Close) {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_says_not_ready_while_the_server_drains() {
    bounded(30, async {
        let app = ws_runtime::Router::new()
            .channel("/slow", SlowGoodbye)
            .build()
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = app.serve(listener).await.unwrap();
        let addr = server.local_addr();
        let _client = connect(addr, "/slow").await;
        let drain = tokio::spawn(server.shutdown());
        let mut seen = None;
        for _ in 0..40 {
            let answer = http(addr, &get_request("/readyz")).await;
            if answer.0 == 503 {
                seen = Some(answer);
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (status, body) = seen.expect("/readyz never said not ready during the drain");
        assert_eq!(
            (status, body.as_str()),
            (503, "not ready: the server is shutting down\n")
        );
        assert_eq!(
            http(addr, &get_request("/healthz")).await.0,
            200,
            "alive while draining"
        );
        let refused = try_connect(addr, "/slow").await.unwrap_err().to_string();
        assert!(refused.contains("503"), "{refused}");
        assert_eq!(drain.await.unwrap().unfinished, 0);
    })
    .await;
}

#[tokio::test]
async fn the_docs_serve_the_document_and_what_the_server_routes() {
    bounded(30, async {
        let export = AsyncApi::new("Chat", "1.0.0").channel::<ChatRoute>("/chat");
        let (server, _) = start(|r| r.docs(export.to_json().to_string())).await;
        let addr = server.local_addr();
        let (status, json) = http(addr, &get_request("/asyncapi.json")).await;
        assert_eq!(status, 200);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json).unwrap(),
            export.to_json()
        );
        let (status, yaml) = http(addr, &get_request("/asyncapi.yaml")).await;
        assert_eq!((status, yaml), (200, export.to_yaml()));
        let (status, page) = http(addr, &get_request("/docs")).await;
        assert_eq!(status, 200);
        assert!(page.contains("<title>API docs</title>"), "{page}");
        let (status, routes) = http(addr, &get_request("/docs/routes.json")).await;
        assert_eq!(status, 200);
        let routes: serde_json::Value = serde_json::from_str(&routes).unwrap();
        let chat = &routes["channels"][0];
        assert_eq!(chat["address"], "/chat");
        assert_eq!(chat["selection"], "$request.body.action");
        let keys: Vec<&str> = chat["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["key"].as_str().unwrap())
            .collect();
        assert!(
            keys.contains(&"echo") && keys.contains(&"sendMessage"),
            "{keys:?}"
        );
        assert_eq!(
            chat["routes"][0]["schema"]["required"],
            json!(["action", "text"])
        );
    })
    .await;
}

#[test]
fn a_channel_cannot_take_an_address_the_server_answers_itself() {
    for address in ["/healthz", "/readyz", "/metrics", "/docs", "/asyncapi.json"] {
        let built = ws_runtime::Router::new()
            .channel(address, Chat::default())
            .build();
        assert_eq!(
            built.unwrap_err(),
            RouterError::ReservedAddress(address.into())
        );
    }
    let built = ws_runtime::Router::new().docs("{not json").build();
    assert!(matches!(built.unwrap_err(), RouterError::Document(_)));
}
