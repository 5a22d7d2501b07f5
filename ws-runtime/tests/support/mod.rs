//! A chat channel written by hand against the runtime's traits, real clients, and helpers.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
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
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Disconnect {
                    connection: c,
                    code,
                } if c == connection => Some(code),
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
            request: cx.request_id.clone(),
            message: cx.message_id.clone().unwrap_or_default(),
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
        });
    }
}

pub struct Strict;

impl Handler<StrictRoute> for Strict {
    async fn message(&self, _: &Context, _: StrictRoute) -> Result<Reply, HandlerError> {
        Ok(Reply::text(r#"{"pong":true}"#))
    }
}

pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connects a real WebSocket client (bounded in time).
pub async fn connect(addr: std::net::SocketAddr, path: &str) -> Client {
    try_connect(addr, path).await.unwrap()
}

pub async fn try_connect(
    addr: std::net::SocketAddr,
    path: &str,
) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
    let url = format!("ws://{addr}{path}");
    // tungstenite zeroes its whole read buffer (128 KiB by default) before each read: with
    // many clients in one process, as in the throughput benchmark, that was the load client's
    // largest cost, and it shares the machine with the server it measures.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(8 * 1024);
    tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async_with_config(url, Some(config), false),
    )
    .await
    .expect("connect timed out")
    .map(|(ws, _)| ws)
}

pub async fn send(client: &mut Client, value: Value) {
    client
        .send(WsMessage::text(value.to_string()))
        .await
        .unwrap();
}

/// The next text frame, as JSON (bounded in time).
pub async fn recv(client: &mut Client) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), client.next())
            .await
            .expect("no frame within 5 s")
            .expect("the connection ended")
            .unwrap();
        match frame {
            WsMessage::Text(text) => return serde_json::from_str(&text).unwrap(),
            WsMessage::Ping(_) | WsMessage::Pong(_) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// Reads until the server closes; returns the close code.
pub async fn closed(client: &mut Client) -> u16 {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(5), client.next())
            .await
            .expect("no close within 5 s");
        match next {
            Some(Ok(WsMessage::Close(Some(frame)))) => return frame.code.into(),
            Some(Ok(WsMessage::Close(None))) => return 1005,
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return 1006,
        }
    }
}

/// Nothing arrives for a while.
pub async fn silent(client: &mut Client) {
    let next = tokio::time::timeout(Duration::from_millis(200), client.next()).await;
    assert!(next.is_err(), "expected silence, got {next:?}");
}

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

/// A raw HTTP/1.1 request on loopback; returns the status and body (read by Content-Length, so
/// keep-alive and upgraded connections answer too).
pub async fn http(addr: std::net::SocketAddr, request: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&response).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    return;
                }
            }
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            response.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("no HTTP response within 5 s");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
