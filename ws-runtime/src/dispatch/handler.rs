//! What handlers implement and what they are given: the events of one channel.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::access::security::{Credentials, Principal};
use crate::messages::message::{Message, Schema};
use crate::messages::routes::Routes;
use crate::registry::connections::{ConnectionId, Connections, Identity};
use crate::registry::ids::EventId;
use crate::transport::close::CloseReason;

/// The handler of one channel: `$connect`, every route of `R`, and `$disconnect`.
///
/// Only [`Handler::message`] is required. Generated code implements this for the handler trait
/// it writes per channel, so users implement one method per route instead.
///
/// ```
/// use ws_runtime::{Context, Handler, HandlerError, RawMessage, Reply, Routes};
/// # use ws_runtime::{DecodeError, Schema, Selection};
/// # use std::sync::LazyLock;
/// # enum Echo { Any(RawMessage) }
/// # impl Routes for Echo {
/// #     fn selection() -> &'static Selection {
/// #         static S: LazyLock<Selection> = LazyLock::new(|| Selection::parse("$request.body.action").unwrap());
/// #         &S
/// #     }
/// #     fn keys() -> &'static [&'static str] { &[] }
/// #     fn decode(key: &str, _: serde_json::Value) -> Result<Self, DecodeError> { Err(DecodeError::UnknownRoute(key.into())) }
/// #     fn fallback(raw: RawMessage) -> Option<Self> { Some(Echo::Any(raw)) }
/// #     fn route_key(&self) -> &'static str { "$default" }
/// #     fn to_json(&self) -> Result<serde_json::Value, serde_json::Error> { Ok(serde_json::Value::Null) }
/// #     fn routes() -> Vec<ws_runtime::Route> { Vec::new() }
/// # }
/// struct EchoHandler;
///
/// impl Handler<Echo> for EchoHandler {
///     async fn message(&self, _cx: &Context, message: Echo) -> Result<Reply, HandlerError> {
///         let Echo::Any(raw) = message;
///         Ok(Reply::text(raw.text))
///     }
/// }
/// ```
pub trait Handler<R: Routes>: Send + Sync + 'static {
    /// `$connect`: runs before the upgrade completes. Reject with a status the client receives as
    /// the HTTP response, or accept and attach state that later events see.
    fn connect(
        &self,
        request: &ConnectRequest,
    ) -> impl Future<Output = Result<Accept, Reject>> + Send {
        let _ = request;
        std::future::ready(Ok(Accept::new()))
    }

    /// Who connects, on a channel with security ([`crate::ChannelOptions::security`]): runs once
    /// the handshake has the credentials of one alternative (else it got 401) and the router's
    /// verifier of each of their schemes ([`crate::Router::verify`]) has accepted them, before
    /// `$connect`. `verified` is what the verifiers made of them (`None` when no scheme of the
    /// alternative has one). The principal returned is in every later event's
    /// [`Context::principal`]. The default keeps the verifiers' principal, and refuses with 401
    /// when there is none: credentials nothing checked are not enough.
    fn authorize(
        &self,
        request: &ConnectRequest,
        verified: Option<Principal>,
    ) -> impl Future<Output = Result<Principal, Reject>> + Send {
        let _ = request;
        std::future::ready(verified.ok_or_else(Reject::unauthorized))
    }

    /// A routed message (or `$default`). What it returns is sent back as a frame.
    fn message(
        &self,
        cx: &Context,
        message: R,
    ) -> impl Future<Output = Result<Reply, HandlerError>> + Send;

    /// `$disconnect`: once per accepted connection, after it closed, with the close code.
    fn disconnect(&self, cx: &Context, close: &Close) -> impl Future<Output = ()> + Send {
        let _ = (cx, close);
        std::future::ready(())
    }
}

/// Which event a [`Context`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EventType {
    /// `$connect`.
    Connect,
    /// A message, on any route.
    Message,
    /// `$disconnect`.
    Disconnect,
}

/// What every event carries (API Gateway's `requestContext`).
#[derive(Clone)]
pub struct Context {
    /// The connection the event belongs to.
    pub connection_id: ConnectionId,
    /// Unique per event.
    pub request_id: EventId,
    /// `$connect`, `$disconnect`, `$default` or a custom route key.
    pub route_key: &'static str,
    /// Connect, message or disconnect.
    pub event_type: EventType,
    /// Milliseconds since the Unix epoch.
    pub connected_at: u64,
    /// When this event arrived, in milliseconds since the Unix epoch.
    pub request_time_epoch: u64,
    /// Unique per received message; `None` for connect and disconnect.
    pub message_id: Option<EventId>,
    /// Who connected.
    pub identity: Identity,
    /// The channel address's parameters (`/rooms/{room}` → `room`).
    pub path_params: Arc<BTreeMap<String, String>>,
    /// The router's stage ([`crate::Router::stage`]; `$default` unless set).
    pub stage: Arc<str>,
    /// The host the client connected to, as its handshake's `Host` header named it (with the
    /// port, when it gave one): API Gateway's `domainName`, where `@connections` is served.
    pub domain_name: Arc<str>,
    /// Who connected, on a channel with security ([`Handler::authorize`]'s principal).
    pub principal: Option<Arc<Principal>>,
    pub(crate) attached: Option<Arc<dyn Any + Send + Sync>>,
    pub(crate) session: Arc<Session>,
    pub(crate) connections: Connections,
}

/// A connection's session: JSON kept with the connection from `$connect` ([`Accept::session`])
/// on, read and replaced by its events ([`Context::session`], [`Context::set_session`]). On one
/// server it lives in memory; behind API Gateway (`lambda::run`) in the connection store, read
/// before each event and written after one that changed it.
#[derive(Debug, Default)]
pub(crate) struct Session {
    value: Mutex<Option<serde_json::Value>>,
    changed: AtomicBool,
}

impl Session {
    pub fn new(value: Option<serde_json::Value>) -> Session {
        Session {
            value: Mutex::new(value),
            changed: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<serde_json::Value>> {
        self.value.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value, if an event replaced it since [`Session::new`].
    #[cfg_attr(not(feature = "aws-lambda"), allow(dead_code))]
    pub fn changed(&self) -> Option<Option<serde_json::Value>> {
        self.changed
            .load(Ordering::Acquire)
            .then(|| self.lock().clone())
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("connection_id", &self.connection_id)
            .field("request_id", &self.request_id)
            .field("route_key", &self.route_key)
            .field("event_type", &self.event_type)
            .field("message_id", &self.message_id)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// What `$connect` attached with [`Accept::attach`], if it is a `T`.
    pub fn attached<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.attached.as_deref()?.downcast_ref()
    }

    /// Every connection of the server: send, broadcast, groups (API Gateway's `@connections`).
    pub fn connections(&self) -> &Connections {
        &self.connections
    }

    /// The connection's session, read as a `T`: what [`Accept::session`] or the last
    /// [`Context::set_session`] kept; `None` when nothing was. Unlike [`Context::attached`],
    /// a session survives where events of one connection run in different processes (behind
    /// API Gateway, each a Lambda invocation).
    ///
    /// # Errors
    /// serde's error when the session is not a `T`.
    pub fn session<T: DeserializeOwned>(&self) -> Result<Option<T>, serde_json::Error> {
        self.session.lock().as_ref().map(T::deserialize).transpose()
    }

    /// Replaces the connection's session, for this connection's later events.
    ///
    /// # Errors
    /// serde's error when `value` cannot be JSON (the session is left as it was).
    pub fn set_session<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), serde_json::Error> {
        let value = serde_json::to_value(value)?;
        *self.session.lock() = Some(value);
        self.session.changed.store(true, Ordering::Release);
        Ok(())
    }

    /// Who connected, on a channel with security.
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_deref()
    }
}

/// The handshake `$connect` sees.
#[derive(Clone)]
pub struct ConnectRequest {
    /// The id the connection will have.
    pub connection_id: ConnectionId,
    /// Unique per event.
    pub request_id: EventId,
    /// The request's path, as sent.
    pub path: String,
    /// The channel address's parameters.
    pub path_params: Arc<BTreeMap<String, String>>,
    /// Query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// The handshake's headers.
    pub headers: HeaderMap,
    /// Who connects.
    pub identity: Identity,
    /// The router's stage.
    pub stage: Arc<str>,
    /// The handshake's `Host` header (API Gateway's `domainName`).
    pub domain_name: Arc<str>,
    /// When the connection is accepted, if `$connect` accepts it: milliseconds since the Unix
    /// epoch.
    pub connected_at: u64,
    /// On a channel with security: the credentials of the alternative the handshake satisfied
    /// (empty otherwise).
    pub credentials: Credentials,
    /// On a channel with security: who [`Handler::authorize`] said connects (`None` while it
    /// runs, and without security).
    pub principal: Option<Principal>,
    pub(crate) connections: Connections,
}

impl fmt::Debug for ConnectRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Query values carry credentials (`access_token`, API keys): their names only. Header
        // values that carry them are marked sensitive, and print as such.
        let query: Vec<&str> = self.query.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("ConnectRequest")
            .field("connection_id", &self.connection_id)
            .field("path", &self.path)
            .field("query_names", &query)
            .field("headers", &self.headers)
            .field("identity", &self.identity)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl ConnectRequest {
    /// The first query parameter called `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The registry: send, broadcast, groups.
    pub fn connections(&self) -> &Connections {
        &self.connections
    }
}

/// `$connect` accepted the connection.
#[derive(Default, Clone)]
pub struct Accept {
    pub(crate) attached: Option<Arc<dyn Any + Send + Sync>>,
    pub(crate) session: Option<serde_json::Value>,
}

impl fmt::Debug for Accept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accept")
            .field("attached", &self.attached.is_some())
            .field("session", &self.session.is_some())
            .finish()
    }
}

impl Accept {
    /// Accept, with nothing attached.
    pub fn new() -> Accept {
        Accept::default()
    }

    /// State every later event of this connection can read with [`Context::attached`].
    pub fn attach<T: Send + Sync + 'static>(mut self, state: T) -> Accept {
        self.attached = Some(Arc::new(state));
        self
    }

    /// The connection's first session ([`Context::session`]): kept as JSON, so it survives
    /// where [`Accept::attach`]'s state cannot, behind API Gateway.
    ///
    /// # Errors
    /// serde's error when `value` cannot be JSON.
    pub fn session<T: Serialize + ?Sized>(
        mut self,
        value: &T,
    ) -> Result<Accept, serde_json::Error> {
        self.session = Some(serde_json::to_value(value)?);
        Ok(self)
    }
}

/// `$connect` refused the connection: the client gets this HTTP status and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// The HTTP status (401, 403, 400…).
    pub status: StatusCode,
    /// The response's body.
    pub message: String,
}

impl Reject {
    /// Refuse with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Reject {
        Reject {
            status,
            message: message.into(),
        }
    }

    /// 401 `Unauthorized`: no credentials, or ones nothing accepts (API Gateway's answer to a
    /// handshake without its authorizer's identity source).
    pub fn unauthorized() -> Reject {
        Reject::new(StatusCode::UNAUTHORIZED, "Unauthorized")
    }

    /// 403 `Forbidden`: credentials that are valid and not allowed (an authorizer's deny).
    pub fn forbidden() -> Reject {
        Reject::new(StatusCode::FORBIDDEN, "Forbidden")
    }

    /// 500 `Internal server error`: `$connect` failed (log why; the client is told no more).
    pub fn internal_error() -> Reject {
        Reject::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }
}

/// How a connection ended, for `$disconnect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Close {
    /// 1000 normal, 1001 going away (idle, lifetime, shutdown), 1005 no status, 1006 abnormal,
    /// 1003/1008/1009 closes the server made for a limit, 4001 an expired token.
    pub code: u16,
    /// The close reason (often empty).
    pub reason: String,
    /// Why the server closed it, when it did; `None` when the client closed it or the
    /// connection was lost.
    pub by_server: Option<CloseReason>,
}

impl From<CloseReason> for Close {
    fn from(reason: CloseReason) -> Close {
        Close {
            code: reason.code(),
            reason: reason.text().to_owned(),
            by_server: Some(reason),
        }
    }
}

/// What a handler sends back on the same connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Nothing.
    None,
    /// A text frame.
    Text(String),
    /// A typed message, checked against its schema before it is sent when outbound validation is
    /// on (the default in debug builds).
    Message {
        /// The message as JSON text.
        text: String,
        /// Its schema.
        schema: &'static Schema,
        /// Its name, for the log when it breaks its schema.
        name: &'static str,
    },
}

impl PartialEq for Schema {
    fn eq(&self, other: &Schema) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Reply {
    /// Nothing.
    pub fn none() -> Reply {
        Reply::None
    }

    /// A text frame.
    pub fn text(text: impl Into<String>) -> Reply {
        Reply::Text(text.into())
    }

    /// API Gateway's `Forbidden` error frame, for a handler that routes messages itself and
    /// found no route ([`crate::AnyMessage`]).
    pub fn forbidden(cx: &Context) -> Reply {
        Reply::Text(crate::messages::frames::forbidden(
            cx.connection_id.as_str(),
            &cx.request_id,
        ))
    }

    /// API Gateway's `Bad request body` error frame, for a handler that checks messages itself;
    /// `errors` are revealed in the frame when given.
    pub fn bad_request_body(
        cx: &Context,
        errors: Option<&crate::messages::message::ValidationErrors>,
    ) -> Reply {
        Reply::Text(crate::messages::frames::bad_request_body(
            cx.connection_id.as_str(),
            cx.message_id.as_deref().unwrap_or_default(),
            errors,
        ))
    }

    /// Any serializable value, as JSON.
    ///
    /// # Errors
    /// serde's error when `value` cannot be JSON.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Reply, HandlerError> {
        Ok(Reply::Text(serde_json::to_string(value)?))
    }

    /// A typed message.
    ///
    /// # Errors
    /// serde's error when `message` cannot be JSON.
    pub fn message<M: Message>(message: &M) -> Result<Reply, HandlerError> {
        Ok(Reply::Message {
            text: serde_json::to_string(message)?,
            schema: M::schema(),
            name: M::NAME,
        })
    }
}

/// A handler failed. The client gets `Internal server error`; the message goes to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError {
    /// What went wrong, for the log.
    pub message: String,
}

impl HandlerError {
    /// An error with `message`.
    pub fn new(message: impl fmt::Display) -> HandlerError {
        HandlerError {
            message: message.to_string(),
        }
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error> From<E> for HandlerError {
    fn from(error: E) -> HandlerError {
        HandlerError::new(error)
    }
}
