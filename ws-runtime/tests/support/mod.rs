//! A chat channel written by hand against the runtime's traits, real clients, and helpers.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use ws_runtime::__private::{Tree, decode_route_tree};
use ws_runtime::*;

macro_rules! message {
    ($ty:ident, $name:literal, $schema:expr) => {
        impl Message for $ty {
            const NAME: &'static str = $name;
            fn schema() -> &'static Schema {
                static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema::new($schema));
                &SCHEMA
            }
        }
    };
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendMessage {
    pub text: String,
}
message!(
    SendMessage,
    "sendMessage",
    json!({
        "type": "object", "required": ["action", "text"],
        "properties": {"action": {"const": "sendMessage"}, "text": {"type": "string", "minLength": 1}}
    })
);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Echo {
    pub text: String,
}
message!(
    Echo,
    "echo",
    json!({
        "type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}
    })
);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EchoReply {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
}
message!(
    EchoReply,
    "echoReply",
    json!({
        "type": "object", "required": ["type", "text"],
        "properties": {"type": {"const": "echo"}, "text": {"type": "string"}}
    })
);

/// A message with nothing in it (`fail`, `panic`, `whoami` …).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Empty {}
message!(Empty, "empty", json!({"type": "object"}));

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Join {
    pub group: String,
}
message!(
    Join,
    "join",
    json!({
        "type": "object", "required": ["group"], "properties": {"group": {"type": "string"}}
    })
);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flood {
    pub count: usize,
}
message!(
    Flood,
    "flood",
    json!({
        "type": "object", "required": ["count"], "properties": {"count": {"type": "integer"}}
    })
);

/// The inbound routes, as `#[derive(Routes)]` would write them (the tree path included).
#[derive(Debug)]
pub enum ChatRoute {
    SendMessage(SendMessage),
    Echo(Echo),
    Fail(Empty),
    Panic(Empty),
    Whoami(Empty),
    Join(Join),
    Leave(Join),
    Shout(Join),
    Flood(Flood),
    BadReply(Empty),
    Default(RawMessage),
}

fn selection() -> &'static Selection {
    static S: LazyLock<Selection> =
        LazyLock::new(|| Selection::parse("$request.body.action").unwrap());
    &S
}

fn decode<M: Message>(json: Value) -> Result<M, DecodeError> {
    M::schema().validate(&json).map_err(DecodeError::Invalid)?;
    let mut json = json;
    selection().remove_key(&mut json);
    serde_json::from_value(json).map_err(|e| DecodeError::Type(e.to_string()))
}

impl Routes for ChatRoute {
    fn selection() -> &'static Selection {
        selection()
    }
    fn keys() -> &'static [&'static str] {
        &[
            "sendMessage",
            "echo",
            "fail",
            "panic",
            "whoami",
            "join",
            "leave",
            "shout",
            "flood",
            "badReply",
        ]
    }
    fn decode(key: &str, json: Value) -> Result<Self, DecodeError> {
        Ok(match key {
            "sendMessage" => ChatRoute::SendMessage(decode(json)?),
            "echo" => ChatRoute::Echo(decode(json)?),
            "fail" => ChatRoute::Fail(decode(json)?),
            "panic" => ChatRoute::Panic(decode(json)?),
            "whoami" => ChatRoute::Whoami(decode(json)?),
            "join" => ChatRoute::Join(decode(json)?),
            "leave" => ChatRoute::Leave(decode(json)?),
            "shout" => ChatRoute::Shout(decode(json)?),
            "flood" => ChatRoute::Flood(decode(json)?),
            "badReply" => ChatRoute::BadReply(decode(json)?),
            other => return Err(DecodeError::UnknownRoute(other.into())),
        })
    }
    /// From the frame's tree, as the derive does (and as the runtime calls it).
    fn decode_tree(key: &str, tree: &Tree<'_>) -> Result<Self, DecodeError> {
        let s = selection();
        Ok(match key {
            "sendMessage" => ChatRoute::SendMessage(decode_route_tree(s, tree)?),
            "echo" => ChatRoute::Echo(decode_route_tree(s, tree)?),
            "fail" => ChatRoute::Fail(decode_route_tree(s, tree)?),
            "panic" => ChatRoute::Panic(decode_route_tree(s, tree)?),
            "whoami" => ChatRoute::Whoami(decode_route_tree(s, tree)?),
            "join" => ChatRoute::Join(decode_route_tree(s, tree)?),
            "leave" => ChatRoute::Leave(decode_route_tree(s, tree)?),
            "shout" => ChatRoute::Shout(decode_route_tree(s, tree)?),
            "flood" => ChatRoute::Flood(decode_route_tree(s, tree)?),
            "badReply" => ChatRoute::BadReply(decode_route_tree(s, tree)?),
            other => return Err(DecodeError::UnknownRoute(other.into())),
        })
    }
    fn fallback(raw: RawMessage) -> Option<Self> {
        Some(ChatRoute::Default(raw))
    }
    fn route_key(&self) -> &'static str {
        match self {
            ChatRoute::SendMessage(_) => "sendMessage",
            ChatRoute::Echo(_) => "echo",
            ChatRoute::Fail(_) => "fail",
            ChatRoute::Panic(_) => "panic",
            ChatRoute::Whoami(_) => "whoami",
            ChatRoute::Join(_) => "join",
            ChatRoute::Leave(_) => "leave",
            ChatRoute::Shout(_) => "shout",
            ChatRoute::Flood(_) => "flood",
            ChatRoute::BadReply(_) => "badReply",
            ChatRoute::Default(_) => "$default",
        }
    }
    fn to_json(&self) -> Result<Value, serde_json::Error> {
        let mut json = match self {
            ChatRoute::SendMessage(m) => serde_json::to_value(m)?,
            ChatRoute::Echo(m) => serde_json::to_value(m)?,
            ChatRoute::Default(raw) => return Ok(raw.json.clone().unwrap_or(Value::Null)),
            _ => json!({}),
        };
        selection().write_key(&mut json, self.route_key());
        Ok(json)
    }
    fn routes() -> Vec<Route> {
        vec![
            Route::of::<SendMessage>("sendMessage"),
            Route::of::<Echo>("echo"),
        ]
    }
}

/// A channel without `$default`: `ping` only.
#[derive(Debug)]
pub enum StrictRoute {
    Ping(Empty),
}

impl Routes for StrictRoute {
    fn selection() -> &'static Selection {
        selection()
    }
    fn keys() -> &'static [&'static str] {
        &["ping"]
    }
    fn decode(key: &str, json: Value) -> Result<Self, DecodeError> {
        match key {
            "ping" => Ok(StrictRoute::Ping(decode(json)?)),
            other => Err(DecodeError::UnknownRoute(other.into())),
        }
    }
    fn fallback(_: RawMessage) -> Option<Self> {
        None
    }
    fn route_key(&self) -> &'static str {
        "ping"
    }
    fn to_json(&self) -> Result<Value, serde_json::Error> {
        Ok(json!({"action": "ping"}))
    }
    fn routes() -> Vec<Route> {
        vec![Route::of::<Empty>("ping")]
    }
}

/// What handlers saw, for assertions.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Connect(String),
    Message {
        connection: String,
        route: String,
        request: String,
        message: String,
    },
    Disconnect {
        connection: String,
        code: u16,
        by_server: Option<CloseReason>,
    },
}

#[derive(Clone, Default)]
pub struct Chat {
    pub events: Arc<Mutex<Vec<Event>>>,
}

impl Chat {
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    pub fn disconnects(&self, connection: &str) -> Vec<u16> {
        self.closes(connection)
            .into_iter()
            .map(|(code, _)| code)
            .collect()
    }

    /// The close code and the server's reason (if the server closed it) of each `$disconnect`
    /// of `connection`.
    pub fn closes(&self, connection: &str) -> Vec<(u16, Option<CloseReason>)> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Disconnect {
                    connection: c,
                    code,
                    by_server,
                } if c == connection => Some((code, by_server)),
                _ => None,
            })
            .collect()
    }

    /// Waits until `$disconnect` ran for `connection` (bounded).
    pub async fn wait_disconnect(&self, connection: &str) -> Vec<u16> {
        for _ in 0..200 {
            let codes = self.disconnects(connection);
            if !codes.is_empty() {
                // Give a second `$disconnect` (a bug) the chance to show up.
                tokio::time::sleep(Duration::from_millis(50)).await;
                return self.disconnects(connection);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no $disconnect for {connection}");
    }
}

/// `$connect` state: the name from the query.
pub struct Name(pub String);

impl Handler<ChatRoute> for Chat {
    async fn connect(&self, request: &ConnectRequest) -> Result<Accept, Reject> {
        if request.query_param("token") == Some("bad") {
            return Err(Reject::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "bad token",
            ));
        }
        if request.query_param("panic").is_some() {
            panic!("$connect exploded");
        }
        self.events
            .lock()
            .unwrap()
            .push(Event::Connect(request.connection_id.to_string()));
        let name = request
            .query_param("name")
            .unwrap_or("anonymous")
            .to_owned();
        Ok(Accept::new().attach(Name(name)))
    }

    async fn message(&self, cx: &Context, message: ChatRoute) -> Result<Reply, HandlerError> {
        self.events.lock().unwrap().push(Event::Message {
            connection: cx.connection_id.to_string(),
            route: cx.route_key.to_owned(),
            request: cx.request_id.to_string(),
            message: cx.message_id.map(|id| id.to_string()).unwrap_or_default(),
        });
        let me = &cx.connection_id;
        match message {
            ChatRoute::SendMessage(m) => {
                let from = cx.attached::<Name>().map_or("?", |n| n.0.as_str());
                cx.connections()
                    .broadcast_except(
                        json!({"type": "message", "from": from, "text": m.text}).to_string(),
                        me,
                    )
                    .await
                    .map_err(HandlerError::new)?;
                Ok(Reply::none())
            }
            ChatRoute::Echo(m) => Reply::message(&EchoReply {
                kind: "echo".into(),
                text: m.text,
            }),
            ChatRoute::Fail(_) => Err(HandlerError::new("the handler failed on purpose")),
            ChatRoute::Panic(_) => panic!("the handler panicked on purpose"),
            ChatRoute::Whoami(_) => Reply::json(&json!({
                "connectionId": cx.connection_id,
                "requestId": cx.request_id,
                "messageId": cx.message_id,
                "routeKey": cx.route_key,
                "eventType": cx.event_type,
                "connectedAt": cx.connected_at,
                "requestTimeEpoch": cx.request_time_epoch,
                "identity": cx.identity,
                "name": cx.attached::<Name>().map(|n| n.0.clone()),
                "pathParams": *cx.path_params,
            })),
            ChatRoute::Join(j) => {
                cx.connections()
                    .join(me, &j.group)
                    .await
                    .map_err(HandlerError::new)?;
                Reply::json(&json!({"joined": j.group}))
            }
            ChatRoute::Leave(j) => {
                cx.connections()
                    .leave(me, &j.group)
                    .await
                    .map_err(HandlerError::new)?;
                Reply::json(&json!({"left": j.group}))
            }
            ChatRoute::Shout(j) => {
                let n = cx
                    .connections()
                    .broadcast_group(&j.group, json!({"shout": j.group}).to_string())
                    .await
                    .map_err(HandlerError::new)?;
                Reply::json(&json!({"delivered": n}))
            }
            ChatRoute::Flood(f) => {
                let mut sent = 0;
                for i in 0..f.count {
                    if cx
                        .connections()
                        .send(me, json!({"flood": i}).to_string())
                        .await
                        .is_err()
                    {
                        break;
                    }
                    sent += 1;
                }
                Reply::json(&json!({"queued": sent}))
            }
            ChatRoute::BadReply(_) => Reply::message(&EchoReply {
                kind: "not echo".into(),
                text: String::new(),
            }),
            ChatRoute::Default(raw) => Reply::json(&json!({"default": raw.text})),
        }
    }

    async fn disconnect(&self, cx: &Context, close: &Close) {
        self.events.lock().unwrap().push(Event::Disconnect {
            connection: cx.connection_id.to_string(),
            code: close.code,
            by_server: close.by_server,
        });
    }
}

pub struct Strict;

impl Handler<StrictRoute> for Strict {
    async fn message(&self, _: &Context, _: StrictRoute) -> Result<Reply, HandlerError> {
        Ok(Reply::text(r#"{"pong":true}"#))
    }
}

// Each test binary compiles this module and uses part of it.
#[allow(unused_imports)]
pub use test_support::http::http;
#[allow(unused_imports)]
pub use test_support::ws::{Client, binary, closed, connect, recv, send, silent, try_connect};

/// Starts a server with the chat on `/chat`, a strict channel on `/strict` and `/rooms/{room}`.
pub async fn start(router: impl FnOnce(Router) -> Router) -> (Server, Chat) {
    let chat = Chat::default();
    let app = router(
        Router::new()
            .channel("/chat", chat.clone())
            .channel("/strict", Strict)
            .channel("/rooms/{room}", chat.clone()),
    )
    .build()
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    (app.serve(listener).await.unwrap(), chat)
}
