//! Every routing rule (ARCHITECTURE.md, "Routing"), with real clients over 127.0.0.1.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::json;
use support::*;
use test_support::bounded;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use ws_runtime::*;

#[tokio::test]
async fn a_valid_message_reaches_its_route_and_two_way_routes_reply() {
    bounded(30, async {
        let (server, chat) = start(|r| r).await;
        let mut a = connect(server.local_addr(), "/chat?name=ada").await;
        let mut b = connect(server.local_addr(), "/chat?name=bob").await;
        send(&mut a, json!({"action": "echo", "text": "ping"})).await;
        assert_eq!(recv(&mut a).await, json!({"type": "echo", "text": "ping"}));
        send(&mut a, json!({"action": "sendMessage", "text": "hi"})).await;
        assert_eq!(
            recv(&mut b).await,
            json!({"type": "message", "from": "ada", "text": "hi"})
        );
        silent(&mut a).await; // broadcast_except: not to the sender
        let routes: Vec<String> = chat
            .events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Message { route, .. } => Some(route),
                _ => None,
            })
            .collect();
        assert_eq!(routes, ["echo", "sendMessage"]);
    })
    .await;
}

#[tokio::test]
async fn no_match_goes_to_default_and_so_does_text_that_is_not_json() {
    bounded(30, async {
        let (server, _) = start(|r| r).await;
        let mut a = connect(server.local_addr(), "/chat").await;
        send(&mut a, json!({"action": "nope"})).await;
        assert_eq!(
            recv(&mut a).await,
            json!({"default": r#"{"action":"nope"}"#})
        );
        a.send(WsMessage::text("not json at all")).await.unwrap();
        assert_eq!(recv(&mut a).await, json!({"default": "not json at all"}));
        // Missing key evaluates to "", which no route has.
        send(&mut a, json!({"text": "no action"})).await;
        assert_eq!(recv(&mut a).await["default"], r#"{"text":"no action"}"#);
        // Matching is exact and case-sensitive.
        send(&mut a, json!({"action": "Echo", "text": "x"})).await;
        assert!(recv(&mut a).await.get("default").is_some());
    })
    .await;
}

#[tokio::test]
async fn no_match_and_no_default_is_forbidden_and_the_connection_stays_open() {
    bounded(30, async {
        let (server, _) = start(|r| r).await;
        let mut a = connect(server.local_addr(), "/strict").await;
        send(&mut a, json!({"action": "nope"})).await;
        let frame = recv(&mut a).await;
        assert_eq!(frame["message"], "Forbidden");
        assert_eq!(frame.as_object().unwrap().len(), 3);
        assert!(frame["connectionId"].as_str().unwrap().len() >= 16);
        assert!(frame["requestId"].as_str().unwrap().len() >= 16);
        a.send(WsMessage::text("{not json")).await.unwrap();
        assert_eq!(recv(&mut a).await["message"], "Forbidden");
        send(&mut a, json!({"action": "ping"})).await;
        assert_eq!(recv(&mut a).await, json!({"pong": true}));
    })
    .await;
}

#[tokio::test]
async fn a_message_that_breaks_its_schema_never_reaches_the_handler() {
    bounded(30, async {
        let (server, chat) = start(|r| r).await;
        let mut a = connect(server.local_addr(), "/chat").await;
        send(&mut a, json!({"action": "sendMessage", "text": ""})).await;
        let frame = recv(&mut a).await;
        assert_eq!(frame["message"], "Bad request body");
        assert_eq!(frame.as_object().unwrap().len(), 3, "{frame}");
        assert!(frame["messageId"].is_string());
        assert!(
            !chat
                .events()
                .iter()
                .any(|e| matches!(e, Event::Message { .. }))
        );
        // A type mismatch is a bad body too.
        send(&mut a, json!({"action": "flood", "count": "many"})).await;
        assert_eq!(recv(&mut a).await["message"], "Bad request body");

        let (server, _) = start(|r| r.reveal_validation_errors(true)).await;
        let mut a = connect(server.local_addr(), "/chat").await;
        send(&mut a, json!({"action": "sendMessage", "text": ""})).await;
        let frame = recv(&mut a).await;
        assert_eq!(frame["errors"][0]["instancePath"], "/text");
        assert_eq!(
            frame["errors"][0]["schemaPath"],
            "/properties/text/minLength"
        );
    })
    .await;
}

#[tokio::test]
async fn a_failing_or_panicking_handler_answers_internal_server_error_and_everything_lives_on() {
    bounded(30, async {
        // Outbound validation is on by default only in debug builds: this test turns it on,
        // so it checks the same thing in a release build.
        let (server, _) = start(|r| r.validate_outbound(true)).await;
        let mut a = connect(server.local_addr(), "/chat").await;
        let mut b = connect(server.local_addr(), "/chat").await;
        send(&mut a, json!({"action": "fail"})).await;
        let frame = recv(&mut a).await;
        assert_eq!(frame["message"], "Internal server error");
        assert!(frame["requestId"].is_string() && frame["connectionId"].is_string());
        send(&mut a, json!({"action": "panic"})).await;
        assert_eq!(recv(&mut a).await["message"], "Internal server error");
        // The same connection, and another one, still work.
        send(&mut a, json!({"action": "echo", "text": "still here"})).await;
        assert_eq!(recv(&mut a).await["text"], "still here");
        send(&mut b, json!({"action": "echo", "text": "me too"})).await;
        assert_eq!(recv(&mut b).await["text"], "me too");
        // A reply that breaks its own schema is a server bug: logged, and an error frame.
        send(&mut a, json!({"action": "badReply"})).await;
        assert_eq!(recv(&mut a).await["message"], "Internal server error");
    })
    .await;
}

#[tokio::test]
async fn connect_rejects_with_a_status_before_the_upgrade_and_attaches_state() {
    bounded(30, async {
        let (server, chat) = start(|r| r).await;
        let error = try_connect(server.local_addr(), "/chat?token=bad")
            .await
            .unwrap_err();
        match error {
            tokio_tungstenite::tungstenite::Error::Http(response) => {
                assert_eq!(response.status(), 401);
            }
            other => panic!("expected an HTTP 401, got {other}"),
        }
        let error = try_connect(server.local_addr(), "/chat?panic=1")
            .await
            .unwrap_err();
        assert!(
            matches!(error, tokio_tungstenite::tungstenite::Error::Http(r) if r.status() == 500)
        );
        // A rejected connection never gets $disconnect.
        assert!(
            !chat
                .events()
                .iter()
                .any(|e| matches!(e, Event::Disconnect { .. }))
        );

        let mut a = connect(server.local_addr(), "/chat?name=ada").await;
        send(&mut a, json!({"action": "whoami"})).await;
        let me = recv(&mut a).await;
        assert_eq!(me["name"], "ada");
        assert_eq!(me["routeKey"], "whoami");
        assert_eq!(me["eventType"], "MESSAGE");
        assert_eq!(me["identity"]["sourceIp"], "127.0.0.1");
        assert!(me["connectedAt"].as_u64().unwrap() <= me["requestTimeEpoch"].as_u64().unwrap());
        send(&mut a, json!({"action": "whoami"})).await;
        let again = recv(&mut a).await;
        assert_eq!(again["connectionId"], me["connectionId"]);
        assert_ne!(again["requestId"], me["requestId"]);
        assert_ne!(again["messageId"], me["messageId"]);
        let mut b = connect(server.local_addr(), "/chat").await;
        send(&mut b, json!({"action": "whoami"})).await;
        assert_ne!(recv(&mut b).await["connectionId"], me["connectionId"]);
    })
    .await;
}

/// A WebSocket handshake for `path`, with `extra` header lines.
fn upgrade(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
    )
}

#[tokio::test]
async fn the_handshake_is_validated_against_the_ws_binding_before_connect() {
    bounded(30, async {
        let chat = Chat::default();
        let query = Schema::new(json!({
            "type": "object", "required": ["name"],
            "properties": {"name": {"type": "string", "minLength": 1}}
        }));
        let headers = Schema::new(json!({"type": "object", "required": ["x-client"]}));
        let app = Router::new()
            .channel_with(
                "/chat",
                chat.clone(),
                ChannelOptions {
                    query: Some(query),
                    headers: Some(headers),
                    ..ChannelOptions::default()
                },
            )
            .build()
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = app.serve(listener).await.unwrap();
        let addr = server.local_addr();
        let (status, body) = http(addr, &upgrade("/chat", "x-client: t\r\n")).await;
        assert_eq!(status, 400);
        assert!(body.contains("Bad handshake: query"), "{body}");
        let (status, _) = http(addr, &upgrade("/chat?name=", "x-client: t\r\n")).await;
        assert_eq!(status, 400);
        let (status, body) = http(addr, &upgrade("/chat?name=ada", "")).await;
        assert_eq!(status, 400);
        assert!(body.contains("headers"), "{body}");
        assert!(chat.events().is_empty(), "$connect must not run");
        let (status, _) = http(addr, &upgrade("/chat?name=ada", "x-client: t\r\n")).await;
        assert_eq!(status, 101);
    })
    .await;
}

#[tokio::test]
async fn handshake_values_are_read_as_the_types_their_schema_names() {
    bounded(30, async {
        let query = Schema::new(json!({
            "type": "object", "required": ["live", "depth"],
            "properties": {
                "live": {"type": "boolean"},
                "depth": {"type": "integer", "minimum": 1},
                "ratio": {"type": ["number", "null"]},
                "symbols": {"type": "array", "items": {"enum": ["BTC", "ETH"]}},
                "name": {"type": "string", "pattern": "^[0-9]+$"}
            }
        }));
        let headers =
            Schema::new(json!({"properties": {"x-version": {"type": "integer", "const": 2}}}));
        let app = Router::new()
            .channel_with(
                "/feed",
                Chat::default(),
                ChannelOptions {
                    query: Some(query),
                    headers: Some(headers),
                    ..ChannelOptions::default()
                },
            )
            .build()
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = app.serve(listener).await.unwrap();
        let addr = server.local_addr();
        for (path, header, expected) in [
            ("/feed?live=true&depth=5", "", 101),
            (
                "/feed?live=false&depth=1&ratio=0.5&symbols=BTC,ETH&name=007",
                "x-version: 2\r\n",
                101,
            ),
            ("/feed?live=false&depth=1&ratio=null", "", 101),
            // Text that does not read as the type stays text, which the schema refuses.
            ("/feed?live=yes&depth=5", "", 400),
            ("/feed?live=true&depth=0", "", 400),
            ("/feed?live=true&depth=1.5", "", 400),
            ("/feed?live=true&depth=5&symbols=BTC,DOGE", "", 400),
            // A string property stays a string, digits or not.
            ("/feed?live=true&depth=5&name=12a", "", 400),
            ("/feed?live=true&depth=5", "x-version: 3\r\n", 400),
        ] {
            let (status, body) = http(addr, &upgrade(path, header)).await;
            assert_eq!(status, expected, "{path} {header}: {body}");
        }
    })
    .await;
}

#[tokio::test]
async fn header_names_are_matched_whatever_their_case() {
    bounded(30, async {
        // Spelled as documents spell them; sent in any case, they arrive in lower case.
        let headers = Schema::new(json!({
            "type": "object", "required": ["X-Api-Key"],
            "properties": {"X-Api-Key": {"type": "string", "minLength": 16}}
        }));
        let app = Router::new()
            .channel_with(
                "/chat",
                Chat::default(),
                ChannelOptions {
                    headers: Some(headers),
                    ..ChannelOptions::default()
                },
            )
            .build()
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = app.serve(listener).await.unwrap();
        let addr = server.local_addr();
        for (header, expected) in [
            ("X-Api-Key: short\r\n", 400),
            ("x-api-key: short\r\n", 400),
            ("X-API-KEY: 0123456789abcdef\r\n", 101),
            ("x-api-key: 0123456789abcdef\r\n", 101),
            ("", 400),
        ] {
            let (status, body) = http(addr, &upgrade("/chat", header)).await;
            assert_eq!(status, expected, "{header}: {body}");
            if status == 400 {
                // The error names the header as the document spells it.
                assert!(body.contains("X-Api-Key"), "{header}: {body}");
            }
        }
    })
    .await;
}

#[tokio::test]
async fn path_parameters_reach_the_context() {
    bounded(30, async {
        let (server, _) = start(|r| r).await;
        let mut a = connect(server.local_addr(), "/rooms/lobby").await;
        send(&mut a, json!({"action": "whoami"})).await;
        assert_eq!(recv(&mut a).await["pathParams"], json!({"room": "lobby"}));
    })
    .await;
}

#[tokio::test]
async fn invalid_setups_fail_at_start_up() {
    let bad_selection = {
        #[derive(Debug)]
        struct Bad;
        impl Routes for Bad {
            fn selection() -> &'static Selection {
                static S: std::sync::LazyLock<Selection> = std::sync::LazyLock::new(|| {
                    // A hand-written Routes can only hold a parsed Selection; simulate a
                    // template whose text is fine but whose route key is reserved.
                    Selection::parse("$request.body.action").unwrap()
                });
                &S
            }
            fn keys() -> &'static [&'static str] {
                &["$connect"]
            }
            fn decode(_: &str, _: serde_json::Value) -> Result<Self, DecodeError> {
                Ok(Bad)
            }
            fn fallback(_: RawMessage) -> Option<Self> {
                None
            }
            fn route_key(&self) -> &'static str {
                "$connect"
            }
            fn to_json(&self) -> Result<serde_json::Value, serde_json::Error> {
                Ok(json!({}))
            }
            fn routes() -> Vec<Route> {
                Vec::new()
            }
        }
        struct H;
        impl Handler<Bad> for H {
            async fn message(&self, _: &Context, _: Bad) -> Result<Reply, HandlerError> {
                Ok(Reply::none())
            }
        }
        Router::new().channel("/x", H).build().unwrap_err()
    };
    assert_eq!(
        bad_selection.to_string(),
        "channel `/x`: route key `$connect` starts with `$`, which API Gateway reserves"
    );
    let error = Router::new()
        .channel("/a", Strict)
        .channel("/a", Strict)
        .build()
        .unwrap_err();
    assert_eq!(error, RouterError::DuplicateAddress("/a".into()));
    let error = Router::new().channel("nope", Strict).build().unwrap_err();
    assert_eq!(error, RouterError::InvalidAddress("nope".into()));
    // Addresses the HTTP router cannot take are errors, not panics.
    let error = Router::new()
        .channel("/rooms/{a}", Strict)
        .channel("/rooms/{b}", Strict)
        .build()
        .unwrap_err();
    assert_eq!(error, RouterError::DuplicateAddress("/rooms/{b}".into()));
    for address in ["/lights.{id}.on", "/a/{}", "/a/{b", "/a/b}", "/{x}{y}"] {
        let error = Router::new().channel(address, Strict).build().unwrap_err();
        assert!(
            matches!(&error, RouterError::UnroutableAddress { address: a, .. } if a == address),
            "{address}: {error}"
        );
    }
    for address in ["/rooms/{room}", "/files/{*path}", "/a/b"] {
        Router::check_address(address).unwrap();
    }
    let schema = Schema::new(json!({"type": 12}));
    let error = Router::new()
        .channel_with(
            "/a",
            Strict,
            ChannelOptions {
                query: Some(schema),
                ..ChannelOptions::default()
            },
        )
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("does not compile"), "{error}");
    assert_eq!(
        Router::new().management_api("").build().unwrap_err(),
        RouterError::EmptyToken
    );
}

#[tokio::test]
async fn groups_and_broadcast() {
    bounded(30, async {
        let (server, _) = start(|r| r).await;
        let addr = server.local_addr();
        let mut a = connect(addr, "/chat").await;
        let mut b = connect(addr, "/chat").await;
        let mut c = connect(addr, "/chat").await;
        for client in [&mut a, &mut b] {
            send(client, json!({"action": "join", "group": "red"})).await;
            assert_eq!(recv(client).await, json!({"joined": "red"}));
        }
        send(&mut c, json!({"action": "shout", "group": "red"})).await;
        assert_eq!(recv(&mut c).await, json!({"delivered": 2}));
        assert_eq!(recv(&mut a).await, json!({"shout": "red"}));
        assert_eq!(recv(&mut b).await, json!({"shout": "red"}));
        send(&mut b, json!({"action": "leave", "group": "red"})).await;
        assert_eq!(recv(&mut b).await, json!({"left": "red"}));
        send(&mut c, json!({"action": "shout", "group": "red"})).await;
        assert_eq!(recv(&mut c).await, json!({"delivered": 1}));
        assert_eq!(recv(&mut a).await, json!({"shout": "red"}));
        silent(&mut b).await;
        // Closing removes the member; broadcast to all reaches everyone left.
        a.close(None).await.unwrap();
        for _ in 0..100 {
            if server
                .connections()
                .members("red")
                .await
                .unwrap()
                .is_empty()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            server
                .connections()
                .members("red")
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            server
                .connections()
                .broadcast(r#"{"all":true}"#)
                .await
                .unwrap(),
            2
        );
        assert_eq!(recv(&mut b).await, json!({"all": true}));
        assert_eq!(recv(&mut c).await, json!({"all": true}));
    })
    .await;
}
