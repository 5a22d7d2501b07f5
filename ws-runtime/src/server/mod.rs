//! Serving: the upgrade (`$connect`), one task per connection, limits, and graceful shutdown;
//! the router that builds an `App` (`router`), the operator's flags (`flags`), and what the server
//! answers itself: health and metrics (`observe`), the document and its docs page (`docs`); and
//! an `App` served behind API Gateway as a Lambda function instead (`function`, feature
//! `aws-lambda`).

pub(crate) mod docs;
pub(crate) mod flags;
#[cfg(feature = "aws-lambda")]
pub(crate) mod function;
pub(crate) mod observe;
pub(crate) mod router;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;

use axum::extract::ws::Utf8Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};
use tracing::Instrument;

use crate::access::security::{self, Credentials};
use crate::apigw::management;
use crate::dispatch::handler::{Close, ConnectRequest, Context, EventType, Reject, Reply, Session};
use crate::dispatch::shared::{Channel, Shared, Slot};
use crate::dispatch::{Outcome, Panicked};
use crate::messages::frames;
use crate::metrics::{self, ErrorFrame};
use crate::registry::cluster::ClusterNode;
use crate::registry::connections::{ConnectionId, Connections, Entry, Event, Identity};
use crate::registry::ids;
use crate::transport::close::CloseReason;
use crate::transport::compression::DeflateSlot;
use crate::transport::limits::{Bucket, Limits};
use crate::transport::listener;
use crate::transport::socket::{self, Inbound, Outbound, Socket};

/// A checked router, ready to serve or to mount in an existing axum app.
pub struct App {
    pub(crate) shared: Arc<Shared>,
    /// The channels, as the router serves them (and `lambda::run` serves one).
    pub(crate) channels: Vec<Arc<Channel>>,
    router: axum::Router,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

impl App {
    /// An app serving `channels` (checked by [`crate::Router::build`]), with the management API
    /// when some access to it is configured.
    pub(crate) fn new(
        shared: Shared,
        channels: Vec<Channel>,
        management: management::Access,
        document: Option<serde_json::Value>,
    ) -> App {
        let shared = Arc::new(shared);
        let channels: Vec<Arc<Channel>> = channels.into_iter().map(Arc::new).collect();
        let mut axum_router = observe::routes(Arc::clone(&shared));
        if let Some(document) = &document {
            axum_router = axum_router.merge(docs::routes(document, &channels));
        }
        for channel in channels.iter().cloned() {
            let address = channel.address.clone();
            let shared = Arc::clone(&shared);
            axum_router = axum_router.route(
                &address,
                get(move |request: Request| {
                    upgrade(Arc::clone(&shared), Arc::clone(&channel), request)
                }),
            );
        }
        if management.is_on() {
            axum_router = axum_router.merge(management::routes(Arc::clone(&shared), management));
        }
        App {
            shared,
            channels,
            router: axum_router,
        }
    }

    /// The connection registry (send, broadcast, groups) from outside any handler.
    pub fn connections(&self) -> Connections {
        self.shared.connections.clone()
    }

    /// This node of the cluster, when the router joined one.
    pub fn cluster(&self) -> Option<ClusterNode> {
        self.shared.cluster.clone()
    }

    /// Changes the app's axum router (more routes, a middleware layer) and keeps everything
    /// else: [`App::serve`] still gives the handshake timeout, and [`Server::shutdown`] still
    /// closes every connection and runs its `$disconnect`.
    ///
    /// ```
    /// # fn app() -> Result<ws_runtime::App, ws_runtime::RouterError> {
    /// let app = ws_runtime::Router::new()
    ///     .build()?
    ///     .map_router(|router| router.route("/hello", axum::routing::get(|| async { "hello" })));
    /// # Ok(app) }
    /// ```
    pub fn map_router(self, f: impl FnOnce(axum::Router) -> axum::Router) -> App {
        App {
            shared: self.shared,
            channels: self.channels,
            router: f(self.router),
        }
    }

    /// The routes as an axum router, to merge into an existing app. Serve that app with
    /// `into_make_service_with_connect_info::<SocketAddr>()` so handlers see the peer address.
    pub fn into_router(self) -> axum::Router {
        self.router
    }

    /// Binds `addr` (`127.0.0.1:0` picks a free port) and serves on it, as [`App::serve`].
    ///
    /// # Errors
    /// The address cannot be bound; the error names it.
    pub async fn listen(self, addr: &str) -> std::io::Result<Server> {
        self.serve(bind(addr).await?).await
    }

    /// Binds `addr` and serves TLS on it (feature `tls`): `wss://` for the channels, `https://`
    /// for the rest. The TLS handshake counts in the handshake timeout.
    ///
    /// # Errors
    /// The address cannot be bound; the error names it.
    #[cfg(feature = "tls")]
    pub async fn listen_tls(
        self,
        addr: &str,
        tls: crate::transport::tls::Tls,
    ) -> std::io::Result<Server> {
        self.serve_tls(bind(addr).await?, tls).await
    }

    /// [`App::serve`] with TLS (feature `tls`).
    ///
    /// # Errors
    /// The listener's local address cannot be read.
    #[cfg(feature = "tls")]
    pub async fn serve_tls(
        self,
        listener: TcpListener,
        tls: crate::transport::tls::Tls,
    ) -> std::io::Result<Server> {
        self.serve_with(listener, Some(tls)).await
    }

    /// Serves on `listener` until [`Server::shutdown`], with the limits' handshake timeout
    /// and bound on pending handshakes. (An app mounted in your own axum server gets those from
    /// your server, or not at all: `axum::serve` has no handshake timeout.)
    ///
    /// # Errors
    /// The listener's local address cannot be read.
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<Server> {
        self.serve_with(listener, None).await
    }

    async fn serve_with(
        self,
        listener: TcpListener,
        tls: Option<listener::Acceptor>,
    ) -> std::io::Result<Server> {
        let local_addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let limits = self.shared.limits.clone();
        let router = self.router;
        let task = tokio::spawn(async move {
            listener::serve(listener, router, &limits, tls, stopped).await;
        });
        Ok(Server {
            local_addr,
            shared: self.shared,
            stop,
            task,
        })
    }
}

/// Binds `addr`, with an error that names it.
async fn bind(addr: &str) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|error| {
        std::io::Error::new(error.kind(), format!("cannot listen on {addr}: {error}"))
    })
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// How a graceful shutdown went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Connections still open (their `$disconnect` not finished) when the deadline passed.
    pub unfinished: usize,
}

impl Server {
    /// The address the server listens on (the port, when it was bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The registry: send, broadcast, groups.
    pub fn connections(&self) -> Connections {
        self.shared.connections.clone()
    }

    /// This node of the cluster, when the router joined one.
    pub fn cluster(&self) -> Option<ClusterNode> {
        self.shared.cluster.clone()
    }

    /// What a server's `main` ends with. Writes `banner` to standard output (its first line is
    /// usually the bound address, for whoever started the process; a closed standard output is
    /// not an error), waits for Ctrl-C or SIGTERM ([`stop_signal`], listening from before the
    /// banner, so that a signal sent as soon as it is read is not lost), then shuts down
    /// ([`Server::shutdown`]), saying on standard error what it is doing and how it ended.
    ///
    /// ```no_run
    /// # async fn run(server: ws_runtime::Server) {
    /// let banner = format!("{}\nconnect to ws://{0}/", server.local_addr());
    /// let report = server.until_stopped(&banner).await;
    /// # }
    /// ```
    pub async fn until_stopped(self, banner: &str) -> ShutdownReport {
        let stop = stop_signal();
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{banner}");
        let _ = stdout.flush();
        drop(stdout);
        let signal = stop.await;
        // Clients are closed with 1001 (so they reconnect elsewhere) and every `$disconnect` runs.
        eprintln!("{signal}: closing every connection");
        let report = self.shutdown().await;
        if report.unfinished > 0 {
            eprintln!(
                "stopped; {} connections did not finish `$disconnect` before the deadline",
                report.unfinished
            );
        } else {
            eprintln!("stopped; every connection closed and its `$disconnect` run");
        }
        report
    }

    /// Stops taking connections (a handshake gets 503, `/readyz` says not ready, so a load
    /// balancer stops sending clients here), closes every connection with 1001, waits (up to the
    /// limits' shutdown deadline) until every `$disconnect` has run, stops listening, then leaves
    /// the cluster (its lease given up, so other nodes see its connections gone at once).
    pub async fn shutdown(mut self) -> ShutdownReport {
        let shared = Arc::clone(&self.shared);
        shared.shutting_down.store(true, Ordering::Release);
        shared.connections.close_all(CloseReason::ShuttingDown);
        let deadline = Instant::now() + shared.limits.shutdown_deadline;
        loop {
            let idle = shared.idle.notified();
            if shared.slots.load(Ordering::Acquire) == 0 {
                break;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                break;
            }
        }
        self.stop.send_replace(true);
        let _ = tokio::time::timeout_at(deadline, &mut self.task).await;
        if let Some(cluster) = &shared.cluster {
            cluster
                .leave(deadline.saturating_duration_since(Instant::now()))
                .await;
        }
        ShutdownReport {
            unfinished: shared.slots.load(Ordering::Acquire),
        }
    }
}

/// Listens, from the moment it is called, for Ctrl-C and (on Unix) SIGTERM, the signal a
/// rolling deploy sends; the future ends at the first and names it (`"interrupted"`,
/// `"terminated"`). Call it before announcing the server, so that a signal sent right after is
/// not lost, then await it and call [`Server::shutdown`].
///
/// ```no_run
/// # async fn run(server: ws_runtime::Server) {
/// let stop = ws_runtime::stop_signal();
/// println!("listening on {}", server.local_addr());
/// eprintln!("{}: closing every connection", stop.await);
/// server.shutdown().await;
/// # }
/// ```
pub fn stop_signal() -> impl std::future::Future<Output = &'static str> + Send {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::interrupt())
            .and_then(|interrupt| Ok((interrupt, signal(SignalKind::terminate())?)))
            .ok()
    };
    async move {
        #[cfg(unix)]
        if let Some((mut interrupt, mut terminate)) = signals {
            return tokio::select! {
                _ = interrupt.recv() => "interrupted",
                _ = terminate.recv() => "terminated",
            };
        }
        let _ = tokio::signal::ctrl_c().await;
        "interrupted"
    }
}

/// The tokio runtime a server runs on best, to `build()`: a worker thread per core (unless
/// `worker_threads` says otherwise), I/O and timers, and the queue shared by the workers looked
/// at every other turn instead of every 31st. [`main`] runs a server's `main` on it.
///
/// A worker holds at most 256 ready tasks of its own; past that, ready connections wait in the
/// shared queue, which tokio's default looks at rarely, so with 1,000 busy connections on one
/// worker some waited many times longer than the rest (p99 130–170 ms at a p50 of 3 ms in
/// `cargo bench -p ws-runtime --bench throughput -- --connections 1000`). Looking at it every
/// other turn gave a p99 of 24–31 ms at about the same throughput. `#[tokio::main]` cannot set
/// this.
pub fn runtime() -> tokio::runtime::Builder {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all().global_queue_interval(2);
    builder
}

/// Runs a server's `main` on [`runtime()`], in place of `#[tokio::main]`; a runtime that cannot
/// start is said on stderr and exits with failure.
///
/// ```no_run
/// use std::process::ExitCode;
///
/// fn main() -> ExitCode {
///     ws_runtime::main(serve())
/// }
///
/// async fn serve() -> ExitCode {
///     // build the router, serve, wait for `stop_signal`
///     ExitCode::SUCCESS
/// }
/// ```
pub fn main(serve: impl Future<Output = ExitCode>) -> ExitCode {
    match runtime().build() {
        Ok(runtime) => runtime.block_on(serve),
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

fn status(code: StatusCode, text: impl Into<String>) -> Response {
    (code, text.into()).into_response()
}

/// GET on a channel address: the handshake, `$connect`, and the upgrade; counted.
async fn upgrade(shared: Arc<Shared>, channel: Arc<Channel>, request: Request) -> Response {
    let metrics = channel.metrics.is_some().then(|| Arc::clone(&channel));
    let response = handshake(shared, channel, request).await;
    if let Some(channel) = metrics.as_ref().and_then(|c| c.metrics.as_ref()) {
        let status = response.status();
        channel.connect((status != StatusCode::SWITCHING_PROTOCOLS).then_some(status.as_u16()));
    }
    response
}

/// The handshake, `$connect`, and the upgrade.
async fn handshake(shared: Arc<Shared>, channel: Arc<Channel>, request: Request) -> Response {
    if shared.shutting_down.load(Ordering::Acquire) {
        return status(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        );
    }
    let (mut parts, _body) = request.into_parts();
    if let Err(response) = check_upgrade_headers(&parts.headers) {
        return response;
    }
    let upgrade = match yawc::IncomingUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(code) => return status(code, "Bad handshake"),
    };
    // The 101 and the socket it leads to, with permessage-deflate's answer; nothing happens
    // until the 101 is sent, so a refusal below just drops both.
    let (options, deflate) = shared.socket.for_handshake(&parts.headers);
    let Ok((switching, upgrading)) = upgrade.upgrade(options) else {
        return status(
            StatusCode::BAD_REQUEST,
            "Bad handshake: Sec-WebSocket-Extensions",
        );
    };
    let handshake = match Handshake::read(&mut parts).await {
        Ok(handshake) => handshake,
        Err(response) => return response,
    };
    if !shared.handshake_allowed(handshake.identity.source_ip) {
        return status(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
    }
    if let Err(text) = handshake.check(&channel) {
        return status(StatusCode::BAD_REQUEST, text);
    }
    // The verifiers and `authorize` finish within the handshake's deadline; `$connect` within
    // its own timeout.
    let deadline = parts
        .extensions
        .get::<listener::HandshakeDeadline>()
        .map_or_else(
            || after(Instant::now(), shared.limits.handshake_timeout),
            |deadline| deadline.0,
        );
    // Security: the credentials of one alternative, or 401 before anything runs; then what the
    // router's verifiers make of them (a refusal is 401, its reason only logged).
    let (credentials, verified) = match &channel.security {
        None => (Credentials::default(), None),
        Some(security) => {
            let Some(credentials) = security.credentials(&handshake.query, &parts.headers) else {
                return status(StatusCode::UNAUTHORIZED, "Unauthorized");
            };
            let verifying = security::verify(&shared.verifiers, &credentials);
            match tokio::time::timeout_at(deadline, verifying).await {
                Ok(Ok(verified)) => (credentials, verified),
                Ok(Err(reason)) => {
                    tracing::debug!(%reason, channel = %channel.address, "credentials refused");
                    return status(StatusCode::UNAUTHORIZED, "Unauthorized");
                }
                Err(_) => return timed_out("the verifiers", &channel, None),
            }
        }
    };
    // A slot is held from here until `$disconnect` has run, and given back however the
    // handshake ends (a client that goes away while a hook runs drops this future).
    let Some(slot) = Slot::take(&shared) else {
        return status(StatusCode::TOO_MANY_REQUESTS, "too many connections");
    };
    let connection_id = shared.connections.new_id();
    let domain_name: Arc<str> = parts
        .headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .into();
    let mut headers = parts.headers;
    security::mark_sensitive(&mut headers, channel.security.as_ref());
    let mut request = ConnectRequest {
        connection_id: connection_id.clone(),
        request_id: ids::event(),
        path: parts.uri.path().to_owned(),
        path_params: Arc::new(handshake.path_params),
        query: handshake.query,
        headers,
        identity: handshake.identity,
        stage: Arc::clone(&shared.stage),
        domain_name,
        connected_at: ids::now_ms(),
        credentials,
        principal: None,
        connections: shared.connections.clone(),
    };
    if channel.security.is_some() {
        let span = tracing::info_span!("authorize", connection_id = %connection_id, channel = %channel.address);
        let authorizing = channel
            .dispatch
            .authorize(&request, verified)
            .instrument(span);
        let Ok(authorized) = tokio::time::timeout_at(deadline, authorizing).await else {
            return timed_out("authorize", &channel, Some(&connection_id));
        };
        match admitted(authorized, "authorize", &connection_id) {
            Ok(principal) => request.principal = Some(principal),
            Err(response) => return response,
        }
    }
    let span =
        tracing::info_span!("connect", connection_id = %connection_id, channel = %channel.address);
    let connecting = channel.dispatch.connect(&request).instrument(span);
    let Ok(connected) = tokio::time::timeout(shared.limits.connect_timeout, connecting).await
    else {
        return timed_out("$connect", &channel, Some(&connection_id));
    };
    let accepted = match admitted(connected, "$connect", &connection_id) {
        Ok(accept) => accept,
        Err(response) => return response,
    };
    let cx = Context {
        connection_id,
        request_id: request.request_id,
        route_key: "",
        event_type: EventType::Message,
        connected_at: request.connected_at,
        request_time_epoch: 0,
        message_id: None,
        identity: request.identity,
        path_params: request.path_params,
        stage: request.stage,
        domain_name: request.domain_name,
        principal: request.principal.map(Arc::new),
        attached: accepted.attached,
        session: Arc::new(Session::new(accepted.session)),
        connections: shared.connections.clone(),
    };
    // Registered before the 101 goes out: once the client is told it is connected, sends and
    // broadcasts reach it (queued until the socket is running).
    let entry = Arc::new(Entry::new(
        &shared.limits,
        cx.connected_at,
        cx.identity.clone(),
        cx.principal.clone(),
    ));
    shared
        .connections
        .insert(cx.connection_id.clone(), Arc::clone(&entry));
    if let Some(metrics) = &channel.metrics {
        metrics.open.inc();
    }
    let parts = Box::new(Upgraded {
        shared,
        channel,
        cx,
        entry,
        socket: None,
        _slot: slot,
        _deflate: deflate,
    });
    // Two steps, so the upgrade's result (a socket) is never held beside the connection's loop:
    // a task is as large as its largest step, and this one lives as long as the connection.
    tokio::spawn(async move {
        let Some(parts) = upgraded(parts, upgrading).await else {
            return;
        };
        let span = tracing::info_span!("connection", connection_id = %parts.cx.connection_id, channel = %parts.channel.address);
        run(parts).instrument(span).await;
    });
    switching.map(axum::body::Body::new)
}

/// The parts with their socket once the 101 has gone out; `None` when the upgrade failed, after
/// `$disconnect` (1006).
async fn upgraded(mut parts: Box<Upgraded>, upgrading: yawc::UpgradeFut) -> Option<Box<Upgraded>> {
    let error = match upgrading.await {
        Ok(ws) => {
            parts.socket = Some(Socket::new(ws));
            return Some(parts);
        }
        Err(error) => error,
    };
    let Upgraded {
        shared,
        channel,
        mut cx,
        entry,
        _slot: slot,
        ..
    } = *parts;
    entry.outbox.close();
    tracing::warn!(%error, connection_id = %cx.connection_id, "the upgrade failed after $connect");
    disconnect(
        &shared,
        &channel,
        &mut cx,
        Close {
            code: 1006,
            reason: "the upgrade failed".into(),
            by_server: None,
        },
    )
    .await;
    drop(slot);
    None
}

/// What a handshake hook (`authorize`, `$connect`) said: its value, or the response that refuses
/// the handshake (its rejection, or 500 for a panic, logged).
#[allow(clippy::result_large_err)] // the error is the response, built once per refused handshake
fn admitted<T>(
    outcome: Result<Result<T, Reject>, Panicked>,
    hook: &str,
    connection_id: &ConnectionId,
) -> Result<T, Response> {
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(reject)) => Err(status(reject.status, reject.message)),
        Err(panic) => {
            tracing::error!(%panic, %connection_id, "{hook} panicked");
            Err(status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error",
            ))
        }
    }
}

/// A handshake whose verifiers or `authorize` outlived the handshake's deadline, or whose
/// `$connect` outlived `Limits::connect_timeout`: 504, as API Gateway answers an integration that
/// does not answer in time (logged).
fn timed_out(what: &str, channel: &Channel, connection_id: Option<&ConnectionId>) -> Response {
    tracing::warn!(channel = %channel.address, ?connection_id, "{what} did not finish in time: the handshake is refused");
    status(StatusCode::GATEWAY_TIMEOUT, "Endpoint request timed out")
}

/// What a connection's task is made of, between `$connect` and the upgrade.
struct Upgraded {
    shared: Arc<Shared>,
    channel: Arc<Channel>,
    cx: Context,
    entry: Arc<Entry>,
    /// The socket, once upgraded (dropped before `$disconnect`, which closes the TCP connection).
    socket: Option<Socket>,
    /// The connection's slot: given back when these parts are dropped, after `$disconnect`.
    _slot: Slot,
    /// Its deflate context's, when it compresses: given back with the parts.
    _deflate: Option<DeflateSlot>,
}

/// RFC 6455 §4.2.1–4.2.2: a request that asks for a WebSocket (`Upgrade: websocket`, and
/// `Connection: upgrade`; else 426), version 13, and a key that is 16 bytes in base64.
#[allow(clippy::result_large_err)] // the error is the response, built once per refused handshake
fn check_upgrade_headers(headers: &axum::http::HeaderMap) -> Result<(), Response> {
    use axum::http::header::{CONNECTION, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE};
    use base64::Engine;
    let asks_for_websocket = headers
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let upgrades = socket::list_elements(headers, CONNECTION)
        .any(|option| option.eq_ignore_ascii_case("upgrade"));
    if !(asks_for_websocket && upgrades) {
        let mut response = status(
            StatusCode::UPGRADE_REQUIRED,
            "Upgrade Required: this address speaks WebSocket",
        );
        response
            .headers_mut()
            .insert(UPGRADE, axum::http::HeaderValue::from_static("websocket"));
        return Err(response);
    }
    if headers.get(SEC_WEBSOCKET_VERSION).map(|v| v.as_bytes()) != Some(b"13") {
        let mut response = status(
            StatusCode::BAD_REQUEST,
            "Bad handshake: Sec-WebSocket-Version must be 13",
        );
        response.headers_mut().insert(
            SEC_WEBSOCKET_VERSION,
            axum::http::HeaderValue::from_static("13"),
        );
        return Err(response);
    }
    let key = headers
        .get(SEC_WEBSOCKET_KEY)
        .map_or(&[][..], |v| v.as_bytes());
    let decoded = base64::engine::general_purpose::STANDARD.decode(key);
    if !decoded.is_ok_and(|bytes| bytes.len() == 16) {
        return Err(status(
            StatusCode::BAD_REQUEST,
            "Bad handshake: Sec-WebSocket-Key must be 16 bytes in base64",
        ));
    }
    Ok(())
}

/// Handshake values (query parameters or headers, all text on the wire) as the object their
/// schema is written for: each value read as the type of its property (see [`typed_value`]).
fn typed_object<'a>(
    schema: &serde_json::Value,
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
) -> serde_json::Value {
    let properties = schema.get("properties");
    pairs
        .map(|(name, value)| {
            let property = properties.and_then(|p| p.get(name));
            (name.to_owned(), typed_value(property, value))
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// How a `headers` schema spells the header `name` (a property or a required name equal to it but
/// for case), or `name` as it came.
pub(crate) fn header_spelling<'a>(schema: &'a serde_json::Value, name: &'a str) -> &'a str {
    let properties = schema
        .get("properties")
        .and_then(serde_json::Value::as_object)
        .into_iter()
        .flat_map(|properties| properties.keys().map(String::as_str));
    let required = schema
        .get("required")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str);
    properties
        .chain(required)
        .find(|spelled| spelled.eq_ignore_ascii_case(name))
        .unwrap_or(name)
}

/// A text value read as the type `schema` names: `true`/`false` for a boolean, a number for
/// an integer or a number, comma-separated items for an array; anything that does not read as
/// that type, and every value of a schema that allows strings, stays text (so the schema
/// refuses it, or takes it, as written).
pub(crate) fn typed_value(schema: Option<&serde_json::Value>, text: &str) -> serde_json::Value {
    use serde_json::Value;
    let types: Vec<&str> = match schema.and_then(|s| s.get("type")) {
        Some(Value::String(ty)) => vec![ty.as_str()],
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.is_empty() || types.contains(&"string") {
        return Value::String(text.to_owned());
    }
    for ty in types {
        let typed = match ty {
            "boolean" => text.parse::<bool>().ok().map(Value::Bool),
            "integer" => text.parse::<i64>().ok().map(Value::from),
            "number" => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number),
            "null" => (text.is_empty() || text == "null").then_some(Value::Null),
            "array" => {
                let items = schema.and_then(|s| s.get("items"));
                let parts = if text.is_empty() {
                    Vec::new()
                } else {
                    text.split(',').collect()
                };
                Some(Value::Array(
                    parts.into_iter().map(|p| typed_value(items, p)).collect(),
                ))
            }
            _ => None,
        };
        if let Some(typed) = typed {
            return typed;
        }
    }
    Value::String(text.to_owned())
}

/// The query's `name=value` pairs, percent-decoded (`+` is a space). A pair that is not UTF-8
/// once decoded is refused: `$connect` sees the query exactly as the client sent it, or not at
/// all.
pub(crate) fn query_pairs(query: &str) -> Result<Vec<(String, String)>, String> {
    let decode = |part: &str| {
        let spaced = part.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8()
            .map(std::borrow::Cow::into_owned)
            .map_err(|_| format!("Bad handshake: the query parameter `{part}` is not UTF-8"))
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(name)?, decode(value)?))
        })
        .collect()
}

/// What the handshake carried.
pub(crate) struct Handshake {
    pub identity: Identity,
    pub path_params: BTreeMap<String, String>,
    pub query: Vec<(String, String)>,
    /// Each header's value (when it is text), by its name in lower case.
    pub headers: serde_json::Value,
}

impl Handshake {
    async fn read(parts: &mut Parts) -> Result<Handshake, Response> {
        let source_ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let path_params = match RawPathParams::from_request_parts(parts, &()).await {
            Ok(params) => params
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            Err(rejection) => return Err(rejection.into_response()),
        };
        let query = query_pairs(parts.uri.query().unwrap_or_default())
            .map_err(|text| status(StatusCode::BAD_REQUEST, text))?;
        let headers = parts
            .headers
            .iter()
            .filter_map(|(name, value)| {
                let value = value.to_str().ok()?;
                Some((
                    name.as_str().to_owned(),
                    serde_json::Value::String(value.to_owned()),
                ))
            })
            .collect();
        Ok(Handshake {
            identity: Identity {
                source_ip,
                user_agent,
            },
            path_params,
            query,
            headers,
        })
    }

    /// Validates the query and headers against the channel's `ws` binding schemas.
    /// Each value is read as the type its property's schema names, as OpenAPI reads a `simple`
    /// parameter (`?live=true` against `{"type": "boolean"}` is `true`; see [`typed_value`]).
    pub fn check(&self, channel: &Channel) -> Result<(), String> {
        if let Some(schema) = &channel.query {
            let query = self.query.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            schema
                .validate(&typed_object(schema.json(), query))
                .map_err(|errors| format!("Bad handshake: query: {errors}"))?;
        }
        if let Some(schema) = &channel.headers {
            // Header names are case-insensitive (and arrive in lower case): each is checked
            // under the name the schema spells it with, so `X-Api-Key` holds for `x-api-key`.
            let headers = self
                .headers
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((header_spelling(schema.json(), k), v.as_str()?)));
            schema
                .validate(&typed_object(schema.json(), headers))
                .map_err(|errors| format!("Bad handshake: headers: {errors}"))?;
        }
        Ok(())
    }
}

/// One connection, from the upgrade to `$disconnect`.
async fn run(mut parts: Box<Upgraded>) {
    // Borrowed from the box, not moved into the task: a task is as large as what it holds, and
    // an async fn's arguments take their room twice.
    let Upgraded {
        shared,
        channel,
        cx,
        entry,
        socket: slot,
        ..
    } = &mut *parts;
    let Some(socket) = slot.as_mut() else {
        return;
    };
    let limits = &shared.limits;
    if shared.shutting_down.load(Ordering::Acquire) {
        entry.request_close(CloseReason::ShuttingDown);
    }
    // One timer for the three deadlines (a connection task's size is mostly its waits). A
    // message moves the idle deadline without touching the timer: when the timer fires early,
    // it is set again.
    let started = Instant::now();
    let lifetime_ends = after(started, limits.max_lifetime);
    // A principal with an expiry (a token's `exp`) ends the connection then.
    let token_ends = cx.principal.as_ref().and_then(|p| p.expires_at).map(|at| {
        let left = at
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default();
        after(started, left)
    });
    let lifetime_ends = token_ends.map_or(lifetime_ends, |t| t.min(lifetime_ends));
    let mut idle_ends = after(started, limits.idle_timeout);
    // Set while the connection is behind (over its outbound bounds).
    let mut grace_ends: Option<Instant> = None;
    let timer = sleep_until(idle_ends.min(lifetime_ends));
    tokio::pin!(timer);
    // The connection's message rate: a bucket that lives in this task, no lock.
    let mut bucket = limits
        .message_rate
        .map(|rate| (rate, Bucket::full(rate, started.into_std())));
    let close = loop {
        tokio::select! {
            biased;
            () = &mut timer => {
                let now = Instant::now();
                if token_ends.is_some_and(|t| now >= t) {
                    break closing(socket, CloseReason::TokenExpired).await;
                }
                if now >= lifetime_ends {
                    break closing(socket, CloseReason::MaxLifetime).await;
                }
                if now >= idle_ends {
                    break closing(socket, CloseReason::Idle).await;
                }
                if grace_ends.is_some_and(|ends| now >= ends) {
                    if entry.backlog.is_behind() {
                        break closing(socket, CloseReason::SlowReader).await;
                    }
                    grace_ends = None;
                }
                let next = grace_ends.map_or(idle_ends, |g| g.min(idle_ends));
                timer.as_mut().reset(next.min(lifetime_ends));
            }
            event = entry.next_event(grace_ends.is_none()) => match event {
                Event::Close(reason) => {
                    // What was queued before the close is delivered first, unless the client
                    // is not reading it anyway.
                    if reason != CloseReason::SlowReader {
                        Box::pin(flush(socket, entry, channel, limits.slow_reader_grace)).await;
                    }
                    break closing(socket, reason).await;
                }
                Event::Behind => {
                    let ends = after(Instant::now(), limits.slow_reader_grace);
                    grace_ends = Some(ends);
                    if ends < timer.deadline() {
                        timer.as_mut().reset(ends);
                    }
                }
                Event::Frame(frame) => {
                    let len = frame.len();
                    let written = write(socket, frame, entry, limits).await;
                    entry.backlog.written(len);
                    if let Err(close) = written {
                        break close;
                    }
                    channel.sent();
                    entry.touch();
                    idle_ends = after(Instant::now(), limits.idle_timeout);
                    if grace_ends.is_some() && !entry.backlog.is_behind() {
                        grace_ends = None;
                    }
                }
            },
            inbound = socket.next() => match inbound {
                Inbound::Text(text) => {
                    let arrived_ms = entry.touch();
                    let now = Instant::now();
                    idle_ends = after(now, limits.idle_timeout);
                    let within = bucket.as_mut().is_none_or(|(rate, bucket)| bucket.take(*rate, now.into_std()))
                        && cx.principal.as_ref().is_none_or(|p| shared.principal_allowed(&p.subject));
                    let reply = if within {
                        handle(shared, channel, cx, text, arrived_ms).await
                    } else {
                        if let Some(metrics) = &channel.metrics {
                            metrics.throttled.inc();
                        }
                        Some(frames::too_many_requests(cx.connection_id.as_str(), &ids::event()))
                    };
                    let Some(reply) = reply else {
                        continue;
                    };
                    if let Err(close) = write(socket, Outbound::Text(reply.into()), entry, limits).await {
                        break close;
                    }
                    channel.sent();
                }
                Inbound::Control => {}
                Inbound::Binary => break closing(socket, CloseReason::BinaryFrame).await,
                Inbound::TooBig => break closing(socket, CloseReason::TooBig).await,
                Inbound::Invalid(reason) => break closing(socket, reason).await,
                Inbound::Close(code, reason) => {
                    socket.finish().await;
                    break Close { code, reason, by_server: None };
                }
                Inbound::Broken => break lost(),
            },
        }
    };
    // Closes the TCP connection.
    *slot = None;
    tracing::debug!(code = close.code, reason = %close.reason, "closed");
    Box::pin(disconnect(shared, channel, cx, close)).await;
    entry.outbox.close();
}

/// `from + duration`, or about 30 years on when that overflows (as tokio's `sleep` does).
fn after(from: Instant, duration: std::time::Duration) -> Instant {
    from.checked_add(duration)
        .unwrap_or_else(|| from + std::time::Duration::from_secs(86_400 * 365 * 30))
}

/// Writes one frame; `Err` with what closed the connection when it is lost, when its client
/// takes none of the frame for the grace period (it has stopped reading), or when a close is
/// asked for while the write waits (the close frame is sent).
async fn write(
    socket: &mut Socket,
    frame: Outbound,
    entry: &Entry,
    limits: &Limits,
) -> Result<(), Close> {
    /// How a write that had to wait ended.
    enum Waited {
        Sent(bool),
        CloseAsked(CloseReason),
        TimedOut,
    }
    let waited = {
        let mut send = std::pin::pin!(socket.send(frame));
        // Most writes finish on their first poll: those start no timer.
        match std::future::poll_fn(|task| Poll::Ready(send.as_mut().poll(task))).await {
            Poll::Ready(sent) => Waited::Sent(sent),
            // The rest is boxed: the connection's task is as large as its largest wait.
            Poll::Pending => {
                Box::pin(async {
                    tokio::select! {
                        biased;
                        reason = entry.until_close_requested() => Waited::CloseAsked(reason),
                        sent = tokio::time::timeout(limits.slow_reader_grace, send) => {
                            sent.map_or(Waited::TimedOut, Waited::Sent)
                        }
                    }
                })
                .await
            }
        }
    };
    match waited {
        Waited::Sent(true) => Ok(()),
        Waited::Sent(false) => Err(lost()),
        Waited::CloseAsked(reason) => Err(closing(socket, reason).await),
        Waited::TimedOut => Err(closing(socket, CloseReason::SlowReader).await),
    }
}

/// A connection that broke without a close handshake.
fn lost() -> Close {
    Close {
        code: 1006,
        reason: "the connection was lost".into(),
        by_server: None,
    }
}

/// Sends a close frame (bounded in time) and says what closed the connection. Boxed: a close
/// happens once, and its wait would otherwise be room in every connection's task.
fn closing(socket: &mut Socket, reason: CloseReason) -> futures_util::future::BoxFuture<'_, Close> {
    Box::pin(async move {
        socket.close(reason).await;
        Close::from(reason)
    })
}

/// Writes what is queued, for at most `within`.
async fn flush(socket: &mut Socket, entry: &Entry, channel: &Channel, within: std::time::Duration) {
    let deadline = Instant::now() + within;
    while let Some(frame) = entry.outbox.try_pop() {
        let len = frame.len();
        let sent = tokio::time::timeout_at(deadline, socket.send(frame)).await;
        entry.backlog.written(len);
        if !matches!(sent, Ok(true)) {
            return;
        }
        channel.sent();
    }
}

/// `$disconnect`, exactly once per accepted connection (its slot is given back after, with the
/// connection's parts).
async fn disconnect(shared: &Shared, channel: &Channel, cx: &mut Context, close: Close) {
    shared.connections.remove(&cx.connection_id);
    if let Some(metrics) = &channel.metrics {
        metrics.open.dec();
        metrics.disconnect(close.code);
        if close.by_server == Some(CloseReason::SlowReader) {
            metrics.slow_readers.inc();
        }
    }
    cx.event_type = EventType::Disconnect;
    cx.route_key = "$disconnect";
    cx.message_id = None;
    cx.request_id = ids::event();
    cx.request_time_epoch = ids::now_ms();
    if let Err(panic) = channel.dispatch.disconnect(cx, &close).await {
        tracing::error!(%panic, "$disconnect panicked");
    }
}

/// One text message: route, validate, call the handler, and say what to send back.
pub(crate) async fn handle(
    shared: &Shared,
    channel: &Channel,
    cx: &mut Context,
    text: Utf8Bytes,
    arrived_ms: u64,
) -> Option<String> {
    // The connection's context, its per-message fields written over (no copy of the rest).
    cx.request_id = ids::event();
    let message_id = ids::event();
    cx.message_id = Some(message_id);
    cx.request_time_epoch = arrived_ms;
    let span = tracing::info_span!(
        "message",
        request_id = %cx.request_id,
        message_id = %message_id,
        route_key = tracing::field::Empty,
    );
    let started = channel.metrics.as_ref().map(|_| Instant::now());
    let outcome = channel
        .dispatch
        .message(cx, text, &channel.scopes)
        .instrument(span)
        .await;
    let id = cx.connection_id.as_str();
    let (reply, error) = match outcome {
        Outcome::Reply(Reply::None) => (None, None),
        Outcome::Reply(Reply::Text(text)) => (Some(text), None),
        Outcome::Reply(Reply::Message { text, schema, name }) => {
            let checked = if shared.validate_outbound {
                serde_json::from_str(&text)
                    .map_err(|e| e.to_string())
                    .and_then(|json| schema.validate(&json).map_err(|e| e.to_string()))
            } else {
                Ok(())
            };
            match checked {
                Ok(()) => (Some(text), None),
                Err(error) => {
                    tracing::error!(%error, message = name, route_key = %cx.route_key, "a reply breaks its schema");
                    let frame = frames::internal_error(id, &cx.request_id);
                    (Some(frame), Some(ErrorFrame::InternalServerError))
                }
            }
        }
        Outcome::Forbidden => {
            cx.route_key = metrics::NO_ROUTE;
            let frame = frames::forbidden(id, &cx.request_id);
            (Some(frame), Some(ErrorFrame::Forbidden))
        }
        Outcome::BadRequest(errors) => {
            tracing::debug!(%errors, "bad request body");
            let shown = shared.reveal_validation_errors.then_some(&errors);
            let frame = frames::bad_request_body(id, &message_id, shown);
            (Some(frame), Some(ErrorFrame::BadRequestBody))
        }
        Outcome::Failed(error) => {
            tracing::error!(%error, route_key = %cx.route_key, "the handler failed");
            let frame = frames::internal_error(id, &cx.request_id);
            (Some(frame), Some(ErrorFrame::InternalServerError))
        }
        Outcome::Panicked(panic) => {
            tracing::error!(%panic, route_key = %cx.route_key, "the handler panicked");
            let frame = frames::internal_error(id, &cx.request_id);
            (Some(frame), Some(ErrorFrame::InternalServerError))
        }
    };
    if let (Some(metrics), Some(started)) = (&channel.metrics, started)
        && let Some(route) = metrics.route(cx.route_key)
    {
        route.message(started.elapsed(), error);
    }
    reply
}
