//! The client side of a channel (feature `client`): what `asyncapi-rs generate --client` builds
//! its typed clients on, and what a hand-written client of a [`Routes`] enum can use directly.
//!
//! A [`Client`] holds one WebSocket connection, on the server's WebSocket library (yawc), with
//! permessage-deflate offered. It sends a channel's routes ([`Client::send`], checked against
//! the route's schema first when [`ClientOptions::validate_outgoing`] is on, which it is in debug
//! builds), waits for replies
//! ([`Client::request`]), and turns every frame the server sends into an [`Event`]: a typed
//! message of the channel, one of API Gateway's error frames, or, for a frame no message of the
//! channel matches, the text as it came. Pings are answered by the codec; the server's close code
//! and reason are an event; with [`ClientOptions::reconnect`] the client reconnects with backoff.
//!
//! ```no_run
//! use ws_runtime::client::{Client, ClientOptions, Event, Nothing, Target};
//! # #[derive(Debug, serde::Serialize, serde::Deserialize, ws_runtime::Message)]
//! # #[message(schema = r#"{"type": "object"}"#)]
//! # struct Ping {}
//! # #[derive(Debug, ws_runtime::Routes)]
//! # enum Routes { #[route("ping")] Ping(Ping) }
//! # async fn run() -> Result<(), ws_runtime::client::ClientError> {
//! let target = Target::new("ws://127.0.0.1:8080", "/");
//! let mut client: Client<Routes, Nothing> = Client::connect(target, ClientOptions::default()).await?;
//! client.send(&Routes::Ping(Ping {})).await?;
//! while let Some(event) = client.next().await {
//!     if let Event::Closed { code, reason } = event {
//!         println!("closed: {code} {reason}");
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use futures_util::SinkExt;
use serde_json::Value;
use yawc::close::CloseCode;
use yawc::frame::OpCode;
use yawc::{Frame, WebSocketError};

pub use crate::messages::frames::{ErrorFrame, ErrorKind};
use crate::messages::message::{DecodeError, Message, Schema, ValidationErrors};
use crate::messages::routes::Routes;

use crate::transport::dial::{self, ClientSocket as Socket, Dial, DialError};
use crate::transport::socket::code_and_reason;

/// What a channel's server sends, as the client decodes it: the generated `…Outbound` enums
/// implement it, trying each message of the channel in the document's order.
pub trait Incoming: Sized + Send + 'static {
    /// The message `json` is, validated against its schema and deserialized; `None` when no
    /// message of the channel accepts it.
    fn decode(json: &Value) -> Option<Result<Self, DecodeError>>;
}

/// A channel whose server sends nothing the document describes: every frame is
/// [`Event::Unmatched`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nothing {}

impl Incoming for Nothing {
    fn decode(_: &Value) -> Option<Result<Self, DecodeError>> {
        None
    }
}

/// `M`, when `json` is valid against `M`'s schema (what generated [`Incoming`] impls call for
/// each message in turn): `None` when it is not, else the value or why it does not fit the type.
pub fn decode_if<M: Message>(json: &Value) -> Option<Result<M, DecodeError>> {
    M::schema()
        .is_valid(json)
        .then(|| crate::messages::message::decode(json))
}

/// Where a route's reply is told apart from other frames: the document's `correlationId`, a
/// JSON pointer into the request's payload and one into the reply's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Correlation {
    /// Where the request carries its id (`/id`).
    pub request: &'static str,
    /// Where the reply carries the same id.
    pub reply: &'static str,
}

/// What [`Client::next`] gives.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<I> {
    /// A message of the channel, validated and deserialized.
    Message(I),
    /// One of API Gateway's error frames (`Forbidden`, `Bad request body`, `Internal server
    /// error`).
    ServerError(ErrorFrame),
    /// A frame no message of the channel matches (or that fits no type, or is binary): the text
    /// as it came, and why it matched nothing.
    Unmatched {
        /// The frame's text (binary frames: lossily decoded).
        text: String,
        /// Why no message matched.
        reason: String,
    },
    /// The connection closed: the server's close code and reason (1006 when it broke without a
    /// close frame).
    Closed {
        /// The close code.
        code: u16,
        /// The close reason (often empty).
        reason: String,
    },
    /// With [`ClientOptions::reconnect`]: the next attempt, after `delay`.
    Reconnecting {
        /// 1 for the first attempt of an outage.
        attempt: u32,
        /// How long the client waits before it.
        delay: Duration,
    },
    /// With [`ClientOptions::reconnect`]: connected again.
    Connected,
}

/// Why a client operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL, a header or a query parameter cannot make a handshake request.
    #[error("cannot make the handshake request: {0}")]
    Request(String),
    /// The server answered the handshake with an HTTP status instead of switching protocols.
    #[error("the server refused the handshake with HTTP {status}: {body}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The response's body, as text.
        body: String,
    },
    /// TLS could not be set up for a `wss://` URL (feature `tls`): the roots or the CA.
    #[error("TLS: {0}")]
    Tls(String),
    /// The handshake's URL could not be presigned (feature `sigv4`, [`ClientOptions::presign`]).
    #[cfg(feature = "sigv4")]
    #[error("cannot presign the handshake: {0}")]
    Presign(#[source] crate::access::sigv4::PresignError),
    /// The network or the WebSocket protocol failed (a certificate the client does not trust
    /// among them).
    #[error("transport: {0}")]
    Transport(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A message to send breaks its route's schema (checked before it goes out).
    #[error("not sent, the message does not match its schema: {0}")]
    Invalid(ValidationErrors),
    /// A message to send cannot be JSON.
    #[error("not sent, the message cannot be JSON: {0}")]
    Encode(#[source] serde_json::Error),
    /// A reply matched its schema but not its type.
    #[error("the reply does not decode: {0}")]
    Decode(#[source] DecodeError),
    /// No reply within the request timeout.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// The server answered a request with an error frame.
    #[error("the server answered `{}`", .0.kind)]
    Server(ErrorFrame),
    /// The connection is closed (or was closed while a request waited).
    #[error("the connection is closed ({code} {reason})")]
    Closed {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
}

impl From<DialError> for ClientError {
    fn from(error: DialError) -> ClientError {
        match error {
            DialError::Request(why) => ClientError::Request(why),
            DialError::Tls(why) => ClientError::Tls(why),
            DialError::Refused { status, body } => ClientError::Refused { status, body },
            DialError::Transport(error) => ClientError::Transport(error),
        }
    }
}

impl From<WebSocketError> for ClientError {
    fn from(error: WebSocketError) -> ClientError {
        ClientError::Transport(Box::new(error))
    }
}

/// Reconnection with exponential backoff: `initial`, doubled after each failed attempt up to
/// `max`; `attempts` bounds the attempts of one outage (`None`: forever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the first attempt.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
    /// The most attempts for one outage (`None`: no bound).
    pub attempts: Option<u32>,
}

impl Default for Backoff {
    /// 100 ms doubling to 5 s, forever.
    fn default() -> Backoff {
        Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
            attempts: None,
        }
    }
}

impl Backoff {
    fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// How a [`Client`] behaves.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    validate_outgoing: bool,
    request_timeout: Duration,
    connect_timeout: Duration,
    reconnect: Option<Backoff>,
    max_message_size: usize,
    compression: bool,
    /// Query parameters and headers for every handshake, after the target's own.
    query: Pairs,
    headers: Pairs,
    #[cfg(feature = "tls")]
    tls: Option<crate::transport::tls::ClientTls>,
    #[cfg(feature = "sigv4")]
    presign: Option<crate::access::sigv4::Presign>,
}

impl Default for ClientOptions {
    /// Outgoing messages checked in debug builds only; requests wait 10 s, handshakes 10 s; no
    /// reconnection; messages up to 1 MiB; permessage-deflate offered.
    fn default() -> ClientOptions {
        ClientOptions {
            validate_outgoing: cfg!(debug_assertions),
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            reconnect: None,
            max_message_size: 1 << 20,
            compression: true,
            query: Pairs::default(),
            headers: Pairs::default(),
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "sigv4")]
            presign: None,
        }
    }
}

impl ClientOptions {
    /// Check every message against its route's schema before sending it (the default in debug
    /// builds), so what the server would refuse is an error here instead.
    pub fn validate_outgoing(mut self, on: bool) -> ClientOptions {
        self.validate_outgoing = on;
        self
    }

    /// How long [`Client::request`] waits for its reply.
    pub fn request_timeout(mut self, timeout: Duration) -> ClientOptions {
        self.request_timeout = timeout;
        self
    }

    /// How long the TCP connect and the handshake may take together.
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientOptions {
        self.connect_timeout = timeout;
        self
    }

    /// Reconnect when the connection is lost. Not after [`Client::close`], not when the server
    /// closed with 1000 (it meant it), and not when a handshake is refused with a 4xx status
    /// other than 408 and 429 (it would be refused again). Reconnection happens while
    /// [`Client::next`] is awaited, which reports it ([`Event::Reconnecting`],
    /// [`Event::Connected`]); sending meanwhile is [`ClientError::Closed`].
    pub fn reconnect(mut self, backoff: Backoff) -> ClientOptions {
        self.reconnect = Some(backoff);
        self
    }

    /// The largest message accepted from the server (default 1 MiB).
    pub fn max_message_size(mut self, bytes: usize) -> ClientOptions {
        self.max_message_size = bytes;
        self
    }

    /// Offer permessage-deflate (RFC 7692) in the handshake (the default): a server that accepts
    /// it sends compressed what is worth compressing, and this client compresses what it sends
    /// on the window the server gives it.
    pub fn compression(mut self, offer: bool) -> ClientOptions {
        self.compression = offer;
        self
    }

    /// Adds `name=value` to the query of every handshake, reconnections included: an API key
    /// the channel's security expects in the query, say.
    pub fn query(mut self, name: &str, value: &str) -> ClientOptions {
        self.query.0.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a header to every handshake, reconnections included.
    pub fn header(mut self, name: &str, value: &str) -> ClientOptions {
        self.headers.0.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends `token` as `Authorization: Bearer <token>` with every handshake: the credentials of
    /// a channel secured by an `http` bearer, `oauth2` or `openIdConnect` scheme.
    ///
    /// ```
    /// let options = ws_runtime::client::ClientOptions::default().bearer("eyJhbGciOi…");
    /// ```
    pub fn bearer(self, token: &str) -> ClientOptions {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// Presigns every handshake, reconnections included, with SigV4 in the URL's query (feature
    /// `sigv4`): what an API Gateway `$connect` whose authorization is `AWS_IAM` takes.
    ///
    /// ```
    /// use ws_runtime::Presign;
    /// use ws_runtime::client::ClientOptions;
    ///
    /// let key = Presign::new("eu-west-1", "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    /// let options = ClientOptions::default().presign(key);
    /// ```
    #[cfg(feature = "sigv4")]
    pub fn presign(mut self, presign: crate::access::sigv4::Presign) -> ClientOptions {
        self.presign = Some(presign);
        self
    }

    /// What `wss://` connections trust (feature `tls`; without this option, the system's root
    /// certificates).
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::transport::tls::ClientTls) -> ClientOptions {
        self.tls = Some(tls);
        self
    }
}

/// Headers or query parameters of the handshake: their values are credentials as often as not,
/// so `Debug` shows their names only.
#[derive(Clone, Default)]
struct Pairs(Vec<(String, String)>);

impl fmt::Debug for Pairs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

/// Where to connect: a server's URL, a channel's path with its parameters filled in, the query
/// and the handshake's headers.
#[derive(Debug, Clone)]
pub struct Target {
    url: String,
    headers: Pairs,
    has_query: bool,
}

impl Target {
    /// `base` (`ws://host:port`, with a path prefix if the server is mounted under one, or an
    /// API Gateway stage URL, `wss://{api}.execute-api.{region}.amazonaws.com/{stage}`) joined
    /// with a channel's `path` (`/rooms/{room}`: fill parameters with [`Target::param`]). A
    /// channel at `/` is the base itself when the base has a path: the stage URL, as API
    /// Gateway serves it, not the stage with a slash.
    pub fn new(base: &str, path: &str) -> Target {
        let base = base.trim_end_matches('/');
        let has_path = base
            .split_once("://")
            .is_some_and(|(_, rest)| rest.contains('/'));
        let url = if path == "/" && has_path {
            base.to_owned()
        } else {
            format!("{base}{path}")
        };
        Target {
            url,
            headers: Pairs::default(),
            has_query: false,
        }
    }

    /// Fills `{name}` in the path with `value`, percent-encoded.
    pub fn param(mut self, name: &str, value: &str) -> Target {
        let encoded = percent_encoding::utf8_percent_encode(value, SEGMENT).to_string();
        self.url = self.url.replace(&format!("{{{name}}}"), &encoded);
        self
    }

    /// Adds `name=value` to the query, percent-encoded.
    pub fn query(mut self, name: &str, value: &str) -> Target {
        let encode = |s: &str| percent_encoding::utf8_percent_encode(s, QUERY).to_string();
        self.url.push(if self.has_query { '&' } else { '?' });
        self.url.push_str(&encode(name));
        self.url.push('=');
        self.url.push_str(&encode(value));
        self.has_query = true;
        self
    }

    /// Adds a header to the handshake request.
    pub fn header(mut self, name: &str, value: &str) -> Target {
        self.headers.0.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The URL the handshake goes to.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// What a path segment must escape (everything but RFC 3986's unreserved characters).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What a query name or value must escape (the server decodes `+` as a space, so it is escaped
/// too).
const QUERY: &percent_encoding::AsciiSet = SEGMENT;

/// Where the connection is.
#[derive(Debug)]
enum State {
    Open,
    /// Lost; the next attempt is `attempt` (announced or not yet).
    Reconnecting {
        attempt: u32,
        announced: bool,
    },
    /// Closed for good.
    Done,
}

/// One connection to a channel: sends its routes `R`, receives its messages `I`.
///
/// `next` is cancel safe (a frame is never lost when it is dropped, in `tokio::select!` say);
/// `send` and `request` take `&mut self`, so one task drives a client.
pub struct Client<R, I> {
    socket: Option<Socket>,
    target: Target,
    options: ClientOptions,
    /// Events read while a request waited, given by `next` first.
    events: VecDeque<Event<I>>,
    state: State,
    schemas: Vec<(&'static str, &'static Schema)>,
    /// The request timer.
    timer: Pin<Box<tokio::time::Sleep>>,
    _routes: PhantomData<fn(R)>,
}

impl<R, I> fmt::Debug for Client<R, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.target.url)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// One frame, as the client sees it.
enum Received {
    Text(Utf8Bytes),
    Binary(usize),
    Closed { code: u16, reason: String },
}

impl<R: Routes, I: Incoming> Client<R, I> {
    /// Connects to `target`.
    ///
    /// # Errors
    /// [`ClientError::Refused`] with the status and body when the server refuses the handshake
    /// (a `$connect` that rejects, a query that breaks the channel's schema …);
    /// [`ClientError::Transport`] when it cannot be reached; [`ClientError::Timeout`] when the
    /// handshake takes longer than [`ClientOptions::connect_timeout`].
    pub async fn connect(target: Target, options: ClientOptions) -> Result<Self, ClientError> {
        let socket = open(&target, &options).await?;
        Ok(Client {
            timer: Box::pin(tokio::time::sleep(options.request_timeout)),
            socket: Some(socket),
            target,
            options,
            events: VecDeque::new(),
            state: State::Open,
            schemas: R::routes().iter().map(|r| (r.key, r.schema)).collect(),
            _routes: PhantomData,
        })
    }

    /// Sends a message of the channel, its route key written where the selection expression
    /// reads it.
    ///
    /// # Errors
    /// [`ClientError::Invalid`] when outgoing messages are checked and this one breaks its
    /// route's schema (nothing is sent); [`ClientError::Closed`] when the connection is closed;
    /// [`ClientError::Transport`].
    pub async fn send(&mut self, message: &R) -> Result<(), ClientError> {
        let text = if self.options.validate_outgoing {
            self.encode(message)?.to_string()
        } else {
            message.to_text().map_err(ClientError::Encode)?
        };
        self.send_text(text).await
    }

    /// Sends text as it is (no route, no check): for `$default`, or to test a server.
    ///
    /// # Errors
    /// [`ClientError::Closed`] when the connection is closed; [`ClientError::Transport`].
    pub async fn send_text(&mut self, text: String) -> Result<(), ClientError> {
        let socket = self.socket.as_mut().ok_or_else(closed)?;
        socket.send(Frame::text(text)).await.map_err(Into::into)
    }

    /// Sends a message and waits for its reply `M`: the first frame with `correlation`'s value
    /// equal to the request's (when the document has a `correlationId` and the request carries
    /// one), else the first frame valid against `M`'s schema. Frames that are not the reply wait
    /// for [`Client::next`]. An error frame (`Forbidden`, `Internal server error`, `Bad request
    /// body`) that arrives while the request waits fails it: the server answers a connection's
    /// messages in order, so it is this request's, unless a message sent before it without
    /// waiting failed too.
    ///
    /// # Errors
    /// As [`Client::send`]; [`ClientError::Timeout`] after the request timeout;
    /// [`ClientError::Server`] for an error frame; [`ClientError::Decode`] for a reply valid
    /// against its schema that does not fit its type; [`ClientError::Closed`].
    pub async fn request<M: Message>(
        &mut self,
        message: &R,
        correlation: Option<Correlation>,
    ) -> Result<M, ClientError> {
        let expected = match correlation {
            // The request's correlation id is read from its JSON.
            Some(c) => {
                let json = self.encode(message)?;
                let expected = json.pointer(c.request).map(|v| (c.reply, v.clone()));
                self.send_text(json.to_string()).await?;
                expected
            }
            None => {
                self.send(message).await?;
                None
            }
        };
        let timeout = self.options.request_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let received = self
                .receive_until(deadline)
                .await
                .ok_or(ClientError::Timeout(timeout))?;
            let text = match received {
                Received::Text(text) => text,
                Received::Closed { code, reason } => {
                    self.events.push_back(Event::Closed {
                        code,
                        reason: reason.clone(),
                    });
                    return Err(ClientError::Closed { code, reason });
                }
                other => {
                    let event = classify(other);
                    self.events.push_back(event);
                    continue;
                }
            };
            let Ok(json) = serde_json::from_str::<Value>(&text) else {
                self.events.push_back(classify(Received::Text(text)));
                continue;
            };
            if let Some(frame) = ErrorFrame::from_json(&json) {
                return Err(ClientError::Server(frame));
            }
            let is_reply = match &expected {
                Some((pointer, value)) => json.pointer(pointer) == Some(value),
                None => true,
            } && M::schema().is_valid(&json);
            if is_reply {
                return crate::messages::message::decode(&json).map_err(ClientError::Decode);
            }
            self.events.push_back(decode(&text, &json));
        }
    }

    /// The next event: a message, an error frame, a frame that matched nothing, the close, or
    /// (with reconnection) the reconnection's progress. `None` once the connection is closed for
    /// good (after its [`Event::Closed`]).
    pub async fn next(&mut self) -> Option<Event<I>> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Some(event);
            }
            match self.state {
                State::Done => return None,
                State::Open => return Some(classify(self.receive().await)),
                State::Reconnecting { attempt, announced } => {
                    let Some(backoff) = self.options.reconnect else {
                        self.state = State::Done;
                        continue;
                    };
                    let delay = backoff.delay(attempt);
                    if !announced {
                        self.state = State::Reconnecting {
                            attempt,
                            announced: true,
                        };
                        return Some(Event::Reconnecting { attempt, delay });
                    }
                    tokio::time::sleep(delay).await;
                    match open(&self.target, &self.options).await {
                        Ok(socket) => {
                            self.socket = Some(socket);
                            self.state = State::Open;
                            return Some(Event::Connected);
                        }
                        Err(ClientError::Refused { status, .. })
                            if (400..500).contains(&status) && status != 408 && status != 429 =>
                        {
                            self.state = State::Done;
                        }
                        Err(_) if backoff.attempts.is_some_and(|max| attempt >= max) => {
                            self.state = State::Done;
                        }
                        Err(_) => {
                            self.state = State::Reconnecting {
                                attempt: attempt + 1,
                                announced: false,
                            };
                        }
                    }
                }
            }
        }
    }

    /// Closes the connection with 1000 and waits (for the request timeout at most) for the
    /// server's close frame. No reconnection follows.
    ///
    /// # Errors
    /// [`ClientError::Transport`] when the close frame cannot be sent.
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.options.reconnect = None;
        let Some(socket) = self.socket.as_mut() else {
            return Ok(());
        };
        match socket.send(Frame::close(CloseCode::Normal, "")).await {
            Ok(()) | Err(WebSocketError::ConnectionClosed) => {}
            Err(error) => return Err(error.into()),
        }
        let wait = self.options.request_timeout;
        let _ =
            tokio::time::timeout(wait, async { while socket.next_frame().await.is_ok() {} }).await;
        Ok(())
    }

    /// Whether the connection is open now.
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Open)
    }

    /// The message as JSON, checked against its route's schema when outgoing messages are.
    fn encode(&self, message: &R) -> Result<Value, ClientError> {
        let json = message.to_json().map_err(ClientError::Encode)?;
        if self.options.validate_outgoing {
            let key = message.route_key();
            if let Some((_, schema)) = self.schemas.iter().find(|(k, _)| *k == key) {
                schema.validate(&json).map_err(ClientError::Invalid)?;
            }
        }
        Ok(json)
    }

    /// The next frame that is not a ping or a pong; a close moves the state on.
    async fn receive(&mut self) -> Received {
        let received = match self.socket.as_mut() {
            Some(socket) => read_frame(socket).await,
            None => closed_with(None),
        };
        self.settle(&received);
        received
    }

    /// The next frame, or `None` when the request's deadline passes first. (One timer, moved
    /// on for each request: later deadlines move it without touching the timer wheel.)
    async fn receive_until(&mut self, deadline: tokio::time::Instant) -> Option<Received> {
        let received = match self.socket.as_mut() {
            Some(socket) => {
                self.timer.as_mut().reset(deadline);
                tokio::select! {
                    biased;
                    received = read_frame(socket) => received,
                    () = self.timer.as_mut() => return None,
                }
            }
            None => closed_with(None),
        };
        self.settle(&received);
        Some(received)
    }

    /// After a close: reconnect, or stop.
    fn settle(&mut self, received: &Received) {
        if let Received::Closed { code, .. } = received {
            self.socket = None;
            self.state = match self.options.reconnect {
                Some(_) if *code != 1000 => State::Reconnecting {
                    attempt: 1,
                    announced: false,
                },
                _ => State::Done,
            };
        }
    }
}

/// The next message that is not a ping or a pong (the codec answers pings, and joins fragments
/// and inflates).
async fn read_frame(socket: &mut Socket) -> Received {
    let mut close = None;
    loop {
        let frame = match socket.next_frame().await {
            Ok(frame) => frame,
            Err(error) if close.is_none() => {
                return closed_with(Some((1006, format!("the connection was lost: {error}"))));
            }
            Err(_) => return closed_with(close),
        };
        match frame.opcode() {
            OpCode::Text => match Utf8Bytes::try_from(frame.into_payload()) {
                Ok(text) => return Received::Text(text),
                Err(_) => {
                    let reason = "the text is not UTF-8";
                    let _ = socket.send(Frame::close(CloseCode::Invalid, reason)).await;
                    return closed_with(Some((1007, reason.into())));
                }
            },
            OpCode::Binary => return Received::Binary(frame.payload().len()),
            // The codec answers the close; reads fail after it.
            OpCode::Close => close = Some(code_and_reason(&frame)),
            OpCode::Ping | OpCode::Pong | OpCode::Continuation => {}
        }
    }
}

fn closed_with(close: Option<(u16, String)>) -> Received {
    let (code, reason) = close.unwrap_or((1006, "the connection was lost".into()));
    Received::Closed { code, reason }
}

fn closed() -> ClientError {
    ClientError::Closed {
        code: 1006,
        reason: "the connection is closed".into(),
    }
}

/// The TCP connection, TLS for `wss://` (feature `tls`), and the handshake, bounded in time.
async fn open(target: &Target, options: &ClientOptions) -> Result<Socket, ClientError> {
    let mut target = target.clone();
    for (name, value) in &options.query.0 {
        target = target.query(name, value);
    }
    for (name, value) in &options.headers.0 {
        target = target.header(name, value);
    }
    #[cfg(feature = "sigv4")]
    if let Some(presign) = &options.presign {
        target.url = presign
            .url(target.url(), std::time::SystemTime::now())
            .map_err(ClientError::Presign)?;
    }
    #[cfg(feature = "tls")]
    let tls = match &options.tls {
        _ if !target.url().starts_with("wss:") => None,
        Some(tls) => Some(tls.config()),
        None => Some(
            crate::transport::tls::ClientTls::system_roots()
                .map_err(|error| ClientError::Tls(error.to_string()))?
                .config(),
        ),
    };
    let dialing = dial::dial(Dial {
        url: target.url(),
        headers: &target.headers.0,
        max_message_size: options.max_message_size,
        compression: options.compression,
        #[cfg(feature = "tls")]
        tls,
    });
    match tokio::time::timeout(options.connect_timeout, dialing).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(ClientError::Timeout(options.connect_timeout)),
    }
}

fn classify<I: Incoming>(received: Received) -> Event<I> {
    match received {
        Received::Text(text) => match serde_json::from_str::<Value>(&text) {
            Ok(json) => decode(&text, &json),
            Err(error) => Event::Unmatched {
                text: text.as_str().to_owned(),
                reason: format!("not JSON: {error}"),
            },
        },
        Received::Binary(len) => Event::Unmatched {
            text: String::new(),
            reason: format!("a binary frame of {len} bytes"),
        },
        Received::Closed { code, reason } => Event::Closed { code, reason },
    }
}

fn decode<I: Incoming>(text: &str, json: &Value) -> Event<I> {
    if let Some(frame) = ErrorFrame::from_json(json) {
        return Event::ServerError(frame);
    }
    match I::decode(json) {
        Some(Ok(message)) => Event::Message(message),
        Some(Err(error)) => Event::Unmatched {
            text: text.to_owned(),
            reason: error.to_string(),
        },
        None => Event::Unmatched {
            text: text.to_owned(),
            reason: "no message of the channel matches it".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_max() {
        let backoff = Backoff::default();
        let delays: Vec<u64> = (1..=8)
            .map(|a| backoff.delay(a).as_millis() as u64)
            .collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(backoff.delay(200), Duration::from_secs(5));
    }

    #[test]
    fn targets_fill_parameters_and_encode_the_query() {
        let target = Target::new("ws://127.0.0.1:9/", "/rooms/{room}")
            .param("room", "a b/c")
            .query("name", "Ada Lovelace")
            .query("tag", "x+y&z");
        assert_eq!(
            target.url(),
            "ws://127.0.0.1:9/rooms/a%20b%2Fc?name=Ada%20Lovelace&tag=x%2By%26z"
        );
    }

    #[test]
    fn a_channel_at_the_root_of_a_stage_url_is_the_stage_url() {
        let stage = "wss://abc123.execute-api.eu-west-1.amazonaws.com/prod";
        assert_eq!(Target::new(stage, "/").url(), stage);
        assert_eq!(Target::new(&format!("{stage}/"), "/").url(), stage);
        assert_eq!(Target::new(stage, "/feed").url(), format!("{stage}/feed"));
        // Without a path, the root stays the root.
        assert_eq!(
            Target::new("ws://127.0.0.1:9", "/").url(),
            "ws://127.0.0.1:9/"
        );
    }
}
