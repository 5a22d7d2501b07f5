//! Generate a server from a chat document (with `asyncapi!`), implement two of its handlers, run
//! it, and talk to it with a real client over 127.0.0.1: a valid message reaches the right
//! handler, an invalid one gets `Bad request body`, an unknown route goes to the document's
//! `$default` (typed reply `error`), and a route left unimplemented answers `Internal server error`.
//! The contract tests generated from the document's examples run with this crate's tests too.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;

mod api {
    asyncapi_macros::asyncapi!("../examples/chat/asyncapi.yaml");
}

/// The same document's client alone, from the macro (`client, no_server`).
mod remote {
    asyncapi_macros::asyncapi!("../examples/chat/asyncapi.yaml", client, no_server);
}

mod profile {
    asyncapi_macros::asyncapi!("../asyncapi-codegen/tests/fixtures/generate/nullable.yaml");
}

use api::chat::ChatHandler;
use api::types::{Echo, EchoReply, SendMessage, SetName};
use test_support::ws::recv;

#[derive(Clone, Default)]
struct Chat {
    seen: Arc<Mutex<Vec<String>>>,
}

impl ChatHandler for Chat {
    async fn send_message(
        &self,
        cx: &ws_runtime::Context,
        message: SendMessage,
    ) -> Result<(), ws_runtime::HandlerError> {
        self.seen
            .lock()
            .unwrap()
            .push(format!("sendMessage:{}", message.text));
        let out = api::types::Message::new(cx.connection_id.to_string(), message.text);
        cx.connections()
            .send_json(&cx.connection_id, &out)
            .await
            .ok();
        Ok(())
    }

    async fn echo(
        &self,
        _: &ws_runtime::Context,
        message: Echo,
    ) -> Result<EchoReply, ws_runtime::HandlerError> {
        self.seen
            .lock()
            .unwrap()
            .push(format!("echo:{}", message.text));
        Ok(EchoReply::new(message.text))
    }

    async fn set_name(
        &self,
        _: &ws_runtime::Context,
        _: SetName,
    ) -> Result<(), ws_runtime::HandlerError> {
        Err(ws_runtime::HandlerError::new(
            "not implemented in this test",
        ))
    }

    async fn default_route(
        &self,
        _: &ws_runtime::Context,
        message: ws_runtime::RawMessage,
    ) -> Result<api::types::Error, ws_runtime::HandlerError> {
        self.seen
            .lock()
            .unwrap()
            .push(format!("$default:{}", message.text));
        Ok(api::types::Error::new("no such action"))
    }
}

#[tokio::test]
async fn the_generated_server_routes_validates_and_answers() {
    let chat = Chat::default();
    let app = api::chat::mount(ws_runtime::Router::new(), chat.clone())
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = app.serve(listener).await.unwrap();
    let addr = server.local_addr();

    // The `ws` binding requires a `name` query parameter: without it, 400 before `$connect`.
    let refused = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .unwrap_err();
    assert!(matches!(refused, tokio_tungstenite::tungstenite::Error::Http(r) if r.status() == 400));

    let (mut client, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/?name=ada"))
        .await
        .unwrap();
    let send = |v: Value| WsMessage::text(v.to_string());

    client
        .send(send(json!({"action": "echo", "text": "ping"})))
        .await
        .unwrap();
    assert_eq!(
        recv(&mut client).await,
        json!({"type": "echo", "text": "ping"})
    );

    client
        .send(send(json!({"action": "sendMessage", "text": "hello"})))
        .await
        .unwrap();
    let message = recv(&mut client).await;
    assert_eq!(
        (message["type"].as_str(), message["text"].as_str()),
        (Some("message"), Some("hello"))
    );

    // Breaks the schema (`text` has minLength 1): the handler is not called.
    client
        .send(send(json!({"action": "sendMessage", "text": ""})))
        .await
        .unwrap();
    assert_eq!(recv(&mut client).await["message"], "Bad request body");

    client.send(send(json!({"action": "dance"}))).await.unwrap();
    assert_eq!(
        recv(&mut client).await,
        json!({"type": "error", "message": "no such action"})
    );

    client
        .send(send(json!({"action": "setName", "name": "Ada"})))
        .await
        .unwrap();
    assert_eq!(recv(&mut client).await["message"], "Internal server error");

    assert_eq!(
        *chat.seen.lock().unwrap(),
        [
            "echo:ping",
            "sendMessage:hello",
            r#"$default:{"action":"dance"}"#
        ]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_macro_generated_client_talks_to_the_macro_generated_server() {
    let app = api::chat::mount(ws_runtime::Router::new(), Chat::default())
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = app.serve(listener).await.unwrap();
    let base = format!("ws://{}", server.local_addr());
    let query = remote::chat::ChatQuery { name: "ada".into() };
    let mut client = remote::chat::ChatClient::connect(&base, &query)
        .await
        .unwrap();
    let reply = client.echo(remote::types::Echo::new("ping")).await.unwrap();
    assert_eq!(reply.text, "ping");
    client
        .send_message(remote::types::SendMessage::new("hello"))
        .await
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), client.next())
        .await
        .unwrap();
    let Some(ws_runtime::client::Event::Message(remote::chat::ChatOutbound::Message(m))) = event
    else {
        panic!("a message, not {event:?}");
    };
    assert_eq!(m.text, "hello");
    // The client-only module has no server: no handler trait, no `mount`, no `router`.
    let source = asyncapi_codegen::emit::inline_file(
        &asyncapi_codegen::plan::plan(
            &asyncapi_codegen::load(
                std::path::Path::new("../examples/chat/asyncapi.yaml"),
                &Default::default(),
            )
            .unwrap()
            .api,
        ),
        asyncapi_codegen::emit::Sides::CLIENT,
    );
    assert!(source.contains("pub struct ChatClient"));
    assert!(!source.contains("ChatHandler") && !source.contains("fn mount"));
    client.close().await.unwrap();
    server.shutdown().await;
}

#[test]
fn the_build_script_api_writes_the_same_items_and_names_every_source() {
    let out = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("build-api");
    std::fs::create_dir_all(&out).unwrap();
    let spec =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat/asyncapi.yaml");
    let (path, sources) = asyncapi_codegen::build::generate_into(
        &spec,
        &out,
        &Default::default(),
        asyncapi_codegen::emit::Sides::SERVER,
    )
    .unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.starts_with("// @generated by asyncapi-rs"));
    assert!(text.contains("pub mod chat {"));
    assert!(text.contains("pub trait ChatHandler"));
    assert_eq!(sources, [spec]);
}

#[test]
fn constructors_take_what_is_required_and_fill_in_the_rest() {
    // The route discriminator and the `type` constant fill themselves in.
    let message = api::types::Message::new("ada", "hi");
    assert_eq!(
        serde_json::to_value(&message).unwrap(),
        json!({"type": "message", "from": "ada", "text": "hi"})
    );
    assert_eq!(
        serde_json::to_value(SendMessage::new("hi")).unwrap(),
        json!({"action": "sendMessage", "text": "hi"})
    );
    // Optional fields are absent until set; a three-state field is set to a value by its setter
    // and to `null` through the field; additional properties start empty.
    use profile::types::ProfileUpdate;
    let update = ProfileUpdate::new("u1").with_reply_to("m7").with_score(3);
    assert_eq!(
        serde_json::to_value(&update).unwrap(),
        json!({"id": "u1", "replyTo": "m7", "score": 3})
    );
    let mut cleared = ProfileUpdate::new("u1");
    cleared.reply_to = Some(None);
    let wire = serde_json::to_value(&cleared).unwrap();
    assert_eq!(wire, json!({"id": "u1", "replyTo": null}));
    let back: ProfileUpdate = serde_json::from_value(wire).unwrap();
    assert_eq!(back, cleared);
    assert_eq!(
        serde_json::to_value(ProfileUpdate::new("u1")).unwrap(),
        json!({"id": "u1"})
    );
}

/// A document with security schemes (a bearer JWT or an API key in the query; `placeOrder` needs
/// `orders:write`), generated with `asyncapi!`, served with a verifier for each scheme.
mod secured {
    asyncapi_macros::asyncapi!("../asyncapi-codegen/tests/fixtures/generate/security.yaml");
}

struct Desk;

impl secured::feed::FeedHandler for Desk {
    /// The generated hook: the verifiers' principal, unless it is `mallory`.
    async fn authorize(
        &self,
        _: &ws_runtime::ConnectRequest,
        verified: Option<ws_runtime::Principal>,
    ) -> Result<ws_runtime::Principal, ws_runtime::Reject> {
        match verified {
            Some(p) if p.subject == "mallory" => Err(ws_runtime::Reject::forbidden()),
            Some(p) => Ok(p),
            None => Err(ws_runtime::Reject::unauthorized()),
        }
    }

    async fn place_order(
        &self,
        cx: &ws_runtime::Context,
        _: secured::types::PlaceOrder,
    ) -> Result<(), ws_runtime::HandlerError> {
        let who = cx.principal().unwrap().subject.clone();
        cx.connections()
            .send_json(&cx.connection_id, &json!({"placedBy": who}))
            .await
            .map_err(ws_runtime::HandlerError::new)
    }

    async fn subscribe(
        &self,
        cx: &ws_runtime::Context,
        message: secured::types::Subscribe,
    ) -> Result<(), ws_runtime::HandlerError> {
        let who = cx.principal().unwrap().subject.clone();
        cx.connections()
            .send_json(
                &cx.connection_id,
                &json!({"subscribed": message.symbol, "by": who}),
            )
            .await
            .map_err(ws_runtime::HandlerError::new)
    }
}

#[tokio::test]
async fn a_generated_server_enforces_the_documents_security_schemes_and_scopes() {
    use ws_runtime::{ApiKeys, Jwt, Principal};
    let secret = b"the-secret-of-the-generated-server-test";
    let app = secured::feed::mount(ws_runtime::Router::new(), Desk)
        .verify("jwt", Jwt::hs256(secret).unwrap())
        .verify(
            "apiKey",
            ApiKeys::new().key("k-1", Principal::new("reporting")),
        )
        .build()
        .unwrap();
    let server = app.listen("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    test_support::bounded(30, async {
        // No credentials: 401 before any handler.
        let refused = test_support::ws::try_connect(addr, "/feed")
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, tokio_tungstenite::tungstenite::Error::Http(r) if r.status() == 401),
            "{refused}"
        );
        // The API key of the query: in, and its principal reaches the handler.
        let mut reporting = test_support::ws::connect(addr, "/feed?api_key=k-1").await;
        test_support::ws::send(
            &mut reporting,
            json!({"action": "subscribe", "symbol": "ACME"}),
        )
        .await;
        assert_eq!(
            recv(&mut reporting).await,
            json!({"subscribed": "ACME", "by": "reporting"})
        );
        // `placeOrder` needs `orders:write`: refused on that route only.
        test_support::ws::send(
            &mut reporting,
            json!({"action": "placeOrder", "symbol": "ACME"}),
        )
        .await;
        assert_eq!(recv(&mut reporting).await["message"], "Forbidden");
        // A token with the scope, as a browser sends it (`access_token` in the query).
        let claims = json!({"sub": "ada", "scope": "orders:write", "exp": 4_102_444_800u64});
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret).unwrap(),
        )
        .unwrap();
        let mut ada = test_support::ws::connect(addr, &format!("/feed?access_token={token}")).await;
        test_support::ws::send(&mut ada, json!({"action": "placeOrder", "symbol": "ACME"})).await;
        assert_eq!(recv(&mut ada).await, json!({"placedBy": "ada"}));
        // The handler's `authorize` has the last word.
        let mallory = json!({"sub": "mallory", "exp": 4_102_444_800u64});
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &mallory,
            &jsonwebtoken::EncodingKey::from_secret(secret).unwrap(),
        )
        .unwrap();
        let refused = test_support::ws::try_connect(addr, &format!("/feed?access_token={token}"))
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, tokio_tungstenite::tungstenite::Error::Http(r) if r.status() == 403),
            "{refused}"
        );
    })
    .await;
    server.shutdown().await;
}
