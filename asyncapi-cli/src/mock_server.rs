//! `asyncapi-rs mock`: a document served with no code, as a generated server would route and
//! check it. Every channel is served at its address with its `ws` binding's handshake schemas;
//! each inbound message is routed by the channel's selection expression and checked against its
//! message (`Bad request body` when it breaks it, `Forbidden` when no route takes it); a two-way
//! route answers with its reply message's example (made up from the reply's schema when it has
//! none, with the request's correlation id copied in); outbound messages that answer nothing are
//! pushed to every client of their channel on a schedule; every frame is logged with its verdict.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asyncapi_codegen::contract::{ChannelContract, Contract, Rejection, Routed, Verdict};
use serde_json::Value;
use ws_runtime::{
    Accept, AnyMessage, ChannelOptions, Close, ConnectRequest, ConnectionId, Context, Handler,
    HandlerError, Reject, Reply, Router, Schema, ValidationError, ValidationErrors,
};

/// Where the mock's log lines go.
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// The mock of one document.
pub struct Mock {
    contract: Arc<Contract>,
    /// Per message index: the payloads it is sent with (its examples, else one made up).
    payloads: Arc<Vec<Vec<Value>>>,
    /// Per channel index: the clients connected now.
    clients: Arc<Vec<Mutex<BTreeSet<ConnectionId>>>>,
    log: Log,
}

impl std::fmt::Debug for Mock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mock").finish_non_exhaustive()
    }
}

/// A channel as the mock serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// The channel's key in the document.
    pub channel: String,
    /// The path it is served at.
    pub path: String,
}

impl Mock {
    /// The mock of `contract`'s document; `log` gets one line per event. Messages without an
    /// example get a payload made up from their schema, when one that the schema accepts can be
    /// made (said in the log when not).
    pub fn new(contract: Contract, log: Log) -> Mock {
        // Each message once, however many channels use it.
        let mut payloads: Vec<Option<Vec<Value>>> = Vec::new();
        for channel in contract.channels() {
            for &index in channel.inbound.iter().chain(&channel.outbound) {
                if payloads.len() <= index {
                    payloads.resize(index + 1, None);
                }
                if payloads[index].is_none() {
                    payloads[index] = Some(payloads_of(&contract, index, &log));
                }
            }
        }
        let payloads = payloads
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect();
        let clients = contract
            .channels()
            .iter()
            .map(|_| Mutex::new(BTreeSet::new()))
            .collect();
        Mock {
            contract: Arc::new(contract),
            payloads: Arc::new(payloads),
            clients: Arc::new(clients),
            log,
        }
    }

    /// The router: every channel at its path (its address; `/{key}` for a channel without one),
    /// and what was served where. A channel whose address is no path the server can route
    /// (`/lights.{id}.on`) is left out, and the log says so.
    pub fn router(&self) -> (Router, Vec<Served>) {
        let mut router = Router::new().reveal_validation_errors(true);
        let mut served = Vec::new();
        // Channels that share an address are one endpoint (one socket, several channels).
        let mut endpoints: Vec<(String, Vec<usize>)> = Vec::new();
        for (index, channel) in self.contract.channels().iter().enumerate() {
            let path = match &channel.address {
                Some(address) if address.starts_with('/') => address.clone(),
                Some(address) => format!("/{address}"),
                None => format!("/{}", channel.id),
            };
            if let Err(error) = Router::check_address(&path) {
                (self.log)(&format!("not served: {error}"));
                continue;
            }
            served.push(Served {
                channel: channel.id.clone(),
                path: path.clone(),
            });
            match endpoints.iter_mut().find(|(p, _)| *p == path) {
                Some((_, channels)) => channels.push(index),
                None => endpoints.push((path, vec![index])),
            }
        }
        for (path, channels) in endpoints {
            let first_with = |schema: fn(&ChannelContract) -> &Option<Value>| {
                channels
                    .iter()
                    .find_map(|&i| schema(&self.contract.channels()[i]).clone())
                    .map(Schema::new)
            };
            let options = ChannelOptions {
                query: first_with(|c| &c.query),
                headers: first_with(|c| &c.headers),
                ..ChannelOptions::default()
            };
            let handler = ChannelMock {
                channels,
                contract: Arc::clone(&self.contract),
                payloads: Arc::clone(&self.payloads),
                clients: Arc::clone(&self.clients),
                turn: AtomicUsize::new(0),
                log: Arc::clone(&self.log),
            };
            router = router.channel_with(&path, handler, options);
        }
        (router, served)
    }

    /// The first payload message `index` (of the contract) is sent with: its first example, or
    /// the one made up from its schema; `None` when it has neither.
    pub fn payload(&self, index: usize) -> Option<&Value> {
        self.payloads.get(index)?.first()
    }

    /// What it serves, a line per channel: `/chat  chat (4 routes)`.
    pub fn describe(&self, served: &[Served]) -> Vec<String> {
        let width = served.iter().map(|s| s.path.len()).max().unwrap_or(0);
        let routes: BTreeMap<&str, usize> = self
            .contract
            .channels()
            .iter()
            .map(|c| (c.id.as_str(), c.routes.len()))
            .collect();
        served
            .iter()
            .map(|s| {
                let count = routes.get(s.channel.as_str()).copied().unwrap_or(0);
                format!("{:width$}  {} ({count} routes)", s.path, s.channel)
            })
            .collect()
    }

    /// Pushes, every `every`, the next outbound message of each channel that answers nothing
    /// (one of its payloads, in turn) to every client of that channel; runs until dropped.
    pub async fn push(&self, connections: ws_runtime::Connections, every: Duration) {
        let contract = &self.contract;
        let pushed: Vec<Vec<usize>> = contract
            .channels()
            .iter()
            .map(|channel| {
                channel
                    .outbound
                    .iter()
                    .copied()
                    .filter(|o| !channel.replies.iter().any(|(_, reply)| reply == o))
                    .filter(|&o| !self.payloads[o].is_empty())
                    .collect()
            })
            .collect();
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        for turn in 0usize.. {
            interval.tick().await;
            for (index, channel) in contract.channels().iter().enumerate() {
                let messages = &pushed[index];
                if messages.is_empty() {
                    continue;
                }
                let message = messages[turn % messages.len()];
                let payloads = &self.payloads[message];
                let payload = &payloads[(turn / messages.len()) % payloads.len()];
                let clients: Vec<ConnectionId> =
                    lock(&self.clients[index]).iter().cloned().collect();
                for id in &clients {
                    // A client that left meanwhile is gone: nothing to do.
                    let _ = connections.send(id, payload.to_string()).await;
                }
                if !clients.is_empty() {
                    (self.log)(&format!(
                        "{} → {} client(s): `{}` {payload}",
                        channel.id,
                        clients.len(),
                        contract.message(message).label()
                    ));
                }
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A message's examples that its schema accepts, else one payload made up from its schema (if
/// its schema accepts it).
fn payloads_of(contract: &Contract, index: usize, log: &Log) -> Vec<Value> {
    let message = contract.message(index);
    let mut valid = Vec::new();
    for (name, payload) in &message.examples {
        if contract.verdict(None, &[index], payload).is_valid() {
            valid.push(payload.clone());
        } else {
            log(&format!(
                "example `{name}` of `{}` breaks its own schema: it is never sent",
                message.label()
            ));
        }
    }
    if !valid.is_empty() {
        return valid;
    }
    let made = match message.schema() {
        None => Some(Value::Object(serde_json::Map::new())),
        Some(schema) => {
            let json = schema.to_json();
            crate::sample::sample(&json, &json)
        }
    };
    match made {
        Some(payload) if contract.verdict(None, &[index], &payload).is_valid() => vec![payload],
        _ => {
            log(&format!(
                "`{}` has no example, and no payload its schema accepts could be made up: it is never sent",
                message.label()
            ));
            Vec::new()
        }
    }
}

/// One endpoint of the mock: the channels served at one address.
struct ChannelMock {
    /// Indices of the channels, in document order.
    channels: Vec<usize>,
    contract: Arc<Contract>,
    payloads: Arc<Vec<Vec<Value>>>,
    clients: Arc<Vec<Mutex<BTreeSet<ConnectionId>>>>,
    /// Which of a reply's payloads answers next.
    turn: AtomicUsize,
    log: Log,
}

impl ChannelMock {
    fn channel(&self, index: usize) -> &ChannelContract {
        &self.contract.channels()[index]
    }

    /// The channels' keys, for the log: `chat`, or `a+b` for channels sharing the address.
    fn name(&self) -> String {
        let ids: Vec<&str> = self
            .channels
            .iter()
            .map(|&i| self.channel(i).id.as_str())
            .collect();
        ids.join("+")
    }

    /// The reply to `request` (a message index) on `channel`, if it is two-way: one of the
    /// reply's payloads in turn, carrying the request's correlation id where both messages have
    /// one.
    fn reply(
        &self,
        channel: &ChannelContract,
        request: usize,
        json: &Value,
    ) -> Option<(usize, Value)> {
        let reply = channel.reply_to(request)?;
        let payloads = &self.payloads[reply];
        if payloads.is_empty() {
            return None;
        }
        let mut payload =
            payloads[self.turn.fetch_add(1, Ordering::Relaxed) % payloads.len()].clone();
        let request_id = self.contract.message(request).correlation.as_deref();
        let reply_id = self.contract.message(reply).correlation.as_deref();
        if let (Some(from), Some(to)) = (request_id, reply_id)
            && let (Some(id), Some(slot)) = (json.pointer(from), payload.pointer_mut(to))
        {
            *slot = id.clone();
        }
        Some((reply, payload))
    }
}

impl Handler<AnyMessage> for ChannelMock {
    async fn connect(&self, request: &ConnectRequest) -> Result<Accept, Reject> {
        for &index in &self.channels {
            lock(&self.clients[index]).insert(request.connection_id.clone());
        }
        (self.log)(&format!(
            "{} + {} connected ({})",
            self.name(),
            request.connection_id,
            request.identity.source_ip
        ));
        Ok(Accept::new())
    }

    async fn message(&self, cx: &Context, message: AnyMessage) -> Result<Reply, HandlerError> {
        let AnyMessage(raw) = message;
        let log = |verdict: &str| {
            (self.log)(&format!("{} ← {}: {verdict}", self.name(), raw.text));
        };
        // Text that is not JSON selects no route: `$default`, as the server does.
        let json = raw.json.clone().unwrap_or(Value::Null);
        match check(&self.contract, &self.channels, &json) {
            Checked::Valid {
                channel,
                message: request,
                route,
            } => {
                let channel = self.channel(channel);
                let label = self.contract.message(request).label();
                let via = route.map(|r| format!(" (route `{r}`)")).unwrap_or_default();
                Ok(match self.reply(channel, request, &json) {
                    Some((reply, payload)) => {
                        let reply = self.contract.message(reply).label();
                        log(&format!("valid `{label}`{via} → reply `{reply}` {payload}"));
                        Reply::text(payload.to_string())
                    }
                    None => {
                        log(&format!("valid `{label}`{via}"));
                        Reply::none()
                    }
                })
            }
            Checked::NoRoute(key) => {
                log(&format!("Forbidden (no route `{key}` and no `$default`)"));
                Ok(Reply::forbidden(cx))
            }
            Checked::Rejected(rejection) => {
                log(&format!("Bad request body: {rejection}"));
                Ok(bad_request_body(cx, &rejection))
            }
        }
    }

    async fn disconnect(&self, cx: &Context, close: &Close) {
        for &index in &self.channels {
            lock(&self.clients[index]).remove(&cx.connection_id);
        }
        (self.log)(&format!(
            "{} - {} closed ({})",
            self.name(),
            cx.connection_id,
            close.code
        ));
    }
}

/// What the document says of an inbound message on an endpoint serving `channels` (indices):
/// as a generated server checks it.
#[derive(Debug)]
pub enum Checked {
    /// Valid: as message `message` of channel `channel`, through `route` when routed.
    Valid {
        /// The channel's index.
        channel: usize,
        /// The message's index.
        message: usize,
        /// The route key it was routed by.
        route: Option<String>,
    },
    /// No channel has a route for its key, nor a `$default`: `Forbidden`.
    NoRoute(String),
    /// It breaks its message's schema: `Bad request body`.
    Rejected(Rejection),
}

/// Checks `json` against the channels at one address: the first channel that takes it; else
/// the first rejection; else `Forbidden`.
pub fn check(contract: &Contract, channels: &[usize], json: &Value) -> Checked {
    let mut rejected = None;
    let mut no_route = None;
    for &index in channels {
        let channel = &contract.channels()[index];
        let (route, candidates) = match channel.route(json) {
            Routed::Unrouted => (None, channel.inbound.clone()),
            Routed::Route(key, message) => (Some(key.to_owned()), vec![message]),
            Routed::NoRoute(key) => {
                no_route.get_or_insert(key);
                continue;
            }
        };
        match contract.verdict(route, &candidates, json) {
            Verdict::Valid { message, route } => {
                let message = candidates
                    .iter()
                    .copied()
                    .find(|&i| contract.message(i).key == message)
                    .unwrap_or(candidates[0]);
                return Checked::Valid {
                    channel: index,
                    message,
                    route,
                };
            }
            Verdict::Rejected(rejection) => {
                rejected.get_or_insert(rejection);
            }
        }
    }
    match rejected {
        Some(rejection) => Checked::Rejected(rejection),
        None => Checked::NoRoute(no_route.unwrap_or_default()),
    }
}

/// The `Bad request body` frame of a rejection, with each violation.
pub fn bad_request_body(cx: &Context, rejection: &Rejection) -> Reply {
    let errors = rejection
        .candidates
        .iter()
        .flat_map(|c| &c.violations)
        .map(|v| ValidationError {
            instance_path: v.instance_path.clone(),
            schema_path: v.schema_path.clone(),
            message: v.error.clone(),
        })
        .collect();
    Reply::bad_request_body(cx, Some(&ValidationErrors(errors)))
}

/// `app` with the files of `dir` served to plain GETs (a front end developed against the
/// mock): `/` is `index.html`, `/app.js` is `app.js`; WebSocket handshakes, paths that are no
/// file of `dir`, and paths that would leave it go on to the mock.
pub fn with_static(app: ws_runtime::App, dir: std::path::PathBuf) -> ws_runtime::App {
    let dir = Arc::new(dir);
    app.map_router(move |router| {
        router.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                static_or_mock(Arc::clone(&dir), request, next)
            },
        ))
    })
}

/// A plain GET of a file of `dir` gets the file; anything else goes on.
async fn static_or_mock(
    dir: Arc<std::path::PathBuf>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let handshake = request.headers().contains_key(axum::http::header::UPGRADE);
    let file = (request.method() == axum::http::Method::GET && !handshake)
        .then(|| static_file(&dir, request.uri().path()))
        .flatten();
    if let Some(file) = file
        && let Ok(Ok((file, body))) =
            tokio::task::spawn_blocking(move || std::fs::read(&file).map(|b| (file, b))).await
    {
        let content_type = [(axum::http::header::CONTENT_TYPE, content_type(&file))];
        return axum::response::IntoResponse::into_response((content_type, body));
    }
    next.run(request).await
}

/// The file of `dir` a request path names (`/` is `index.html`), if it is one and stays inside.
fn static_file(dir: &std::path::Path, path: &str) -> Option<std::path::PathBuf> {
    let relative = path.trim_start_matches('/');
    let relative = if relative.is_empty() {
        "index.html"
    } else {
        relative
    };
    let decoded = percent_decode(relative)?;
    let mut file = dir.to_path_buf();
    for part in decoded.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.contains('\\') {
            return None;
        }
        file.push(part);
    }
    file.is_file().then_some(file)
}

fn percent_decode(text: &str) -> Option<String> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// The `Content-Type` of a file, by its extension.
fn content_type(file: &std::path::Path) -> &'static str {
    match file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_paths_stay_inside_their_folder() {
        let dir = std::env::temp_dir().join(format!("mock-static-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("js")).unwrap();
        std::fs::write(dir.join("index.html"), "<p>hi</p>").unwrap();
        std::fs::write(dir.join("js/app.js"), "1").unwrap();
        assert_eq!(static_file(&dir, "/"), Some(dir.join("index.html")));
        assert_eq!(static_file(&dir, "/js/app.js"), Some(dir.join("js/app.js")));
        assert_eq!(
            static_file(&dir, "/js%2Fapp.js"),
            Some(dir.join("js/app.js"))
        );
        for outside in [
            "/../Cargo.toml",
            "/js/../../x",
            "/%2e%2e/x",
            "//etc/passwd",
            "/js",
            "/nope",
        ] {
            assert_eq!(static_file(&dir, outside), None, "{outside}");
        }
        assert_eq!(
            content_type(&dir.join("js/app.js")),
            "text/javascript; charset=utf-8"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
