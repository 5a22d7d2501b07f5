//! The router builder: channel addresses → route tables → handlers, checked at start-up.

use std::sync::Arc;

use crate::access::security::{Scheme, Security, Verify};
use crate::apigw::management::Access;
use crate::dispatch::handler::Handler;
use crate::dispatch::shared::{Channel, Shared};
use crate::dispatch::{self, Dispatch};
use crate::messages::message::Schema;
use crate::messages::routes::{Route, Routes};
use crate::messages::selection::Selection;
use crate::metrics::Metrics;
use crate::registry::cluster::Cluster;
use crate::server::App;
use crate::transport::compression::Compression;
use crate::transport::limits::Limits;

/// Builds the server: channels, their handlers, limits and options.
///
/// ```no_run
/// # use ws_runtime::*;
/// # async fn run<R: Routes, H: Handler<R>>(handler: H) -> Result<(), Box<dyn std::error::Error>> {
/// let app = Router::new().channel::<R, _>("/chat", handler).build()?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let server = app.serve(listener).await?;
/// println!("listening on {}", server.local_addr());
/// server.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct Router {
    channels: Vec<ChannelSpec>,
    pub(crate) limits: Limits,
    pub(crate) compression: Compression,
    reveal_validation_errors: bool,
    validate_outbound: Option<bool>,
    management: Access,
    stage: Option<String>,
    cluster: Option<Cluster>,
    metrics: bool,
    document: Option<String>,
    verifiers: Vec<(String, Arc<dyn crate::access::security::DynVerify>)>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field(
                "channels",
                &self.channels.iter().map(|c| &c.address).collect::<Vec<_>>(),
            )
            .field("limits", &self.limits)
            .field("compression", &self.compression)
            .finish_non_exhaustive()
    }
}

/// Per-channel options.
#[derive(Debug, Default)]
pub struct ChannelOptions {
    /// A JSON Schema for the handshake's query parameters (the `ws` binding's `query`): an object
    /// of strings. A handshake that breaks it gets HTTP 400 before `$connect` runs.
    pub query: Option<Schema>,
    /// A JSON Schema for the handshake's headers (the `ws` binding's `headers`), names in lower
    /// case.
    pub headers: Option<Schema>,
    /// Who may connect: a handshake without the credentials of one of its alternatives gets
    /// HTTP 401 before `$connect` runs (see [`crate::Security`]).
    pub security: Option<Security>,
    /// The scopes each route needs (route key, scopes): a message to it from a principal
    /// without all of them gets `Forbidden`.
    pub scopes: Vec<(String, Vec<String>)>,
}

/// A channel as it is added: checked by [`Router::build`].
struct ChannelSpec {
    address: String,
    options: ChannelOptions,
    dispatch: Arc<dyn Dispatch>,
    check: fn(&str) -> Result<(), RouterError>,
    keys: fn() -> &'static [&'static str],
    routes: fn() -> Vec<Route>,
    selection: fn() -> &'static Selection,
}

/// Paths the server answers itself: a channel cannot be served there.
const RESERVED: [&str; 7] = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/docs",
    "/docs/routes.json",
    "/asyncapi.json",
    "/asyncapi.yaml",
];

/// A router that cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouterError {
    /// A route's schema does not compile.
    #[error("channel `{channel}`: route `{route}`: its schema does not compile: {message}")]
    Schema {
        /// The channel's address.
        channel: String,
        /// The route key.
        route: String,
        /// The validator's error.
        message: String,
    },
    /// A custom route key starts with `$`.
    #[error("channel `{channel}`: route key `{route}` starts with `$`, which API Gateway reserves")]
    ReservedKey {
        /// The channel's address.
        channel: String,
        /// The route key.
        route: String,
    },
    /// Two routes of a channel have one key.
    #[error("channel `{channel}`: route key `{route}` appears twice")]
    DuplicateKey {
        /// The channel's address.
        channel: String,
        /// The route key.
        route: String,
    },
    /// Two channels have one address (parameter names aside: `/a/{x}` and `/a/{y}`).
    #[error("two channels have the address `{0}`")]
    DuplicateAddress(String),
    /// A channel's address does not start with `/`.
    #[error("channel address `{0}` must start with `/`")]
    InvalidAddress(String),
    /// A channel's address is not a path the server can route: a parameter must be a whole
    /// segment (`/rooms/{room}`, not `/rooms.{room}`), braces must pair.
    #[error("channel address `{address}` cannot be served: {reason}")]
    UnroutableAddress {
        /// The address.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The management API was given an empty token.
    #[error("the management API's bearer token is empty")]
    EmptyToken,
    /// Scopes were given for a route the channel does not have.
    #[error("channel `{channel}`: scopes for the route `{route}`, which it does not have")]
    ScopesForUnknownRoute {
        /// The channel's address.
        channel: String,
        /// The route key.
        route: String,
    },
    /// SigV4 for the management API was turned on without a key.
    #[error("the management API's SigV4 has no key")]
    NoKeys,
    /// A stage name that cannot be one path segment.
    #[error("stage `{0}` must be one non-empty path segment")]
    InvalidStage(String),
    /// A cluster was built outside a tokio runtime.
    #[error("a cluster's link runs in a tokio runtime: build the router inside one")]
    NoRuntime,
    /// A channel's address is one the server answers itself.
    #[error("channel address `{0}` is where the server answers itself (health, metrics, docs)")]
    ReservedAddress(String),
    /// A channel's security names a scheme no verifier checks ([`Router::verify`]): its
    /// credentials would be let in unchecked.
    #[error(
        "channel `{channel}`: the security scheme `{scheme}` has no verifier: add one with `Router::verify(\"{scheme}\", …)`"
    )]
    NoVerifier {
        /// The channel's address.
        channel: String,
        /// The scheme's name.
        scheme: String,
    },
    /// A verifier was registered under a name no channel's security names (a misspelling, say).
    #[error(
        "a verifier is registered for the security scheme `{0}`, which no channel names (the channels name: {1})"
    )]
    VerifierForNoScheme(String, String),
    /// The document given to the docs page is not JSON.
    #[error("the document for the docs page is not JSON: {0}")]
    Document(String),
}

impl Router {
    /// Whether `address` is a channel address the server can route: it starts with `/`, and
    /// each parameter is a whole segment (`/rooms/{room}`).
    ///
    /// # Errors
    /// [`RouterError::InvalidAddress`] or [`RouterError::UnroutableAddress`], saying why.
    pub fn check_address(address: &str) -> Result<(), RouterError> {
        if !address.starts_with('/') {
            return Err(RouterError::InvalidAddress(address.to_owned()));
        }
        let unroutable = |reason: String| RouterError::UnroutableAddress {
            address: address.to_owned(),
            reason,
        };
        for segment in address.split('/') {
            let Some(inner) = segment.strip_prefix('{') else {
                if segment.contains(['{', '}']) {
                    return Err(unroutable(format!(
                        "`{segment}` has a parameter that is not the whole segment"
                    )));
                }
                continue;
            };
            let name = inner.strip_suffix('}').unwrap_or("{");
            let name = name.strip_prefix('*').unwrap_or(name);
            if name.is_empty() || name.contains(['{', '}', '*']) {
                return Err(unroutable(format!(
                    "`{segment}` is not one parameter (`{{name}}`) filling its segment"
                )));
            }
        }
        Ok(())
    }

    /// A router with no channel, API Gateway's limits, and nothing else on.
    pub fn new() -> Router {
        Router::default()
    }

    /// Serves `handler` on the channel at `address` (`/chat`, `/rooms/{room}`).
    pub fn channel<R: Routes, H: Handler<R>>(self, address: &str, handler: H) -> Router {
        self.channel_with(address, handler, ChannelOptions::default())
    }

    /// [`Router::channel`] with handshake schemas.
    pub fn channel_with<R: Routes, H: Handler<R>>(
        mut self,
        address: &str,
        handler: H,
        options: ChannelOptions,
    ) -> Router {
        self.channels.push(ChannelSpec {
            address: address.to_owned(),
            options,
            dispatch: dispatch::erase::<R, H>(handler),
            check: check_routes::<R>,
            keys: R::keys,
            routes: R::routes,
            selection: R::selection,
        });
        self
    }

    /// Checks the credentials of the security scheme called `scheme` with `verifier`, on every
    /// channel whose [`ChannelOptions::security`] names it ([`crate::ApiKeys`], `Jwt` with
    /// feature `jwt`, or your own).
    pub fn verify(mut self, scheme: impl Into<String>, verifier: impl Verify) -> Router {
        self.verifiers.push((scheme.into(), Arc::new(verifier)));
        self
    }

    /// Replaces the limits (API Gateway's by default).
    pub fn limits(mut self, limits: Limits) -> Router {
        self.limits = limits;
        self
    }

    /// How a client's offer of permessage-deflate is answered ([`Compression::default`]: accepted,
    /// dictionaries kept, a 4 KiB window).
    pub fn compression(mut self, compression: Compression) -> Router {
        self.compression = compression;
        self
    }

    /// Adds the schema violations to `Bad request body` frames (off by default, as in API
    /// Gateway).
    pub fn reveal_validation_errors(mut self, reveal: bool) -> Router {
        self.reveal_validation_errors = reveal;
        self
    }

    /// Checks typed replies against their schema before sending (default: on in debug builds).
    pub fn validate_outbound(mut self, validate: bool) -> Router {
        self.validate_outbound = Some(validate);
        self
    }

    /// Turns on the HTTP management API (`[/{stage}]/@connections/{id}`), for requests with
    /// `Authorization: Bearer <bearer_token>`.
    pub fn management_api(mut self, bearer_token: impl Into<String>) -> Router {
        self.management.bearer = Some(bearer_token.into());
        self
    }

    /// Turns on the HTTP management API for requests signed with SigV4 by one of `sigv4`'s keys,
    /// as the AWS SDKs sign them (feature `sigv4`). With a bearer token as well, either is let in.
    #[cfg(feature = "sigv4")]
    pub fn management_sigv4(mut self, sigv4: crate::access::sigv4::SigV4) -> Router {
        self.management.sigv4 = Some(sigv4);
        self
    }

    /// The stage, as API Gateway names it in every event's request context
    /// ([`crate::Context::stage`]) and in management paths (`/{stage}/@connections/{id}`).
    /// Default: `$default`.
    pub fn stage(mut self, stage: impl Into<String>) -> Router {
        self.stage = Some(stage.into());
        self
    }

    /// Serves API Gateway's metrics in Prometheus's text format at `GET /metrics`: connects,
    /// disconnects, messages and error frames by channel and route, the time each message took,
    /// open connections, slow readers, and a cluster's cross-node requests (see the table in
    /// the `metrics` module's documentation and the README). Off by default; off, they cost one
    /// branch per message.
    pub fn metrics(mut self) -> Router {
        self.metrics = true;
        self
    }

    /// Serves the API's AsyncAPI document (JSON text) at `GET /asyncapi.json` and
    /// `/asyncapi.yaml`, and a docs page at `/docs`: the running channels, their routes and
    /// selection expressions, the document's messages, schemas and examples, and a console that
    /// connects and sends. Generated code passes the document it was generated from
    /// (`api::ASYNCAPI`); handwritten routes pass [`crate::AsyncApi`]'s export.
    pub fn docs(mut self, document: impl Into<String>) -> Router {
        self.document = Some(document.into());
        self
    }

    /// Joins a cluster: sends, broadcasts, groups and the management API reach the
    /// connections of every node (see [`Cluster`]). Without it, the registry is this process's.
    pub fn cluster(mut self, cluster: Cluster) -> Router {
        self.cluster = Some(cluster);
        self
    }

    /// Checks everything that can be checked before serving: addresses, route selection
    /// expressions, route keys, and every route's schema (compiled now, once).
    ///
    /// # Errors
    /// The first problem found.
    pub fn build(self) -> Result<App, RouterError> {
        let mut seen = Vec::new();
        for channel in &self.channels {
            Router::check_address(&channel.address)?;
            if RESERVED.contains(&channel.address.as_str()) {
                return Err(RouterError::ReservedAddress(channel.address.clone()));
            }
            // `/rooms/{a}` and `/rooms/{b}` are one route: compared with parameters unnamed.
            let shape: String = channel
                .address
                .split('/')
                .map(|s| if s.starts_with('{') { "{}" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            if seen.contains(&shape) {
                return Err(RouterError::DuplicateAddress(channel.address.clone()));
            }
            seen.push(shape);
            (channel.check)(&channel.address)?;
            let keys = (channel.keys)();
            if let Some((route, _)) = channel
                .options
                .scopes
                .iter()
                .find(|(route, _)| route != "$default" && !keys.contains(&route.as_str()))
            {
                return Err(RouterError::ScopesForUnknownRoute {
                    channel: channel.address.clone(),
                    route: route.clone(),
                });
            }
            for schema in [&channel.options.query, &channel.options.headers]
                .into_iter()
                .flatten()
            {
                schema.compile().map_err(|message| RouterError::Schema {
                    channel: channel.address.clone(),
                    route: "$connect".into(),
                    message,
                })?;
            }
        }
        self.check_verifiers()?;
        if self.management.bearer.as_deref() == Some("") {
            return Err(RouterError::EmptyToken);
        }
        #[cfg(feature = "sigv4")]
        if self.management.sigv4.as_ref().is_some_and(|s| s.is_empty()) {
            return Err(RouterError::NoKeys);
        }
        if let Some(stage) = &self.stage
            && (stage.is_empty() || stage.contains(['/', '?', '#']))
        {
            return Err(RouterError::InvalidStage(stage.clone()));
        }
        let mut shared = Shared::new(
            self.limits,
            self.compression,
            self.reveal_validation_errors,
            self.validate_outbound.unwrap_or(cfg!(debug_assertions)),
        );
        let document = match self.document {
            None => None,
            Some(text) => Some(
                serde_json::from_str::<serde_json::Value>(&text)
                    .map_err(|e| RouterError::Document(e.to_string()))?,
            ),
        };
        if let Some(stage) = self.stage {
            shared.stage = stage.into();
        }
        shared.verifiers = Arc::new(self.verifiers);
        let metrics = self.metrics.then(|| Arc::new(Metrics::new()));
        shared.metrics.clone_from(&metrics);
        if let Some(cluster) = self.cluster {
            if tokio::runtime::Handle::try_current().is_err() {
                return Err(RouterError::NoRuntime);
            }
            shared.cluster = Some(cluster.start(&shared.connections, metrics.clone()));
        }
        let channels = self
            .channels
            .into_iter()
            .map(|spec| Channel {
                metrics: metrics
                    .as_ref()
                    .map(|m| m.channel(&spec.address, (spec.keys)())),
                selection: (spec.selection)().as_str().to_owned(),
                routes: (spec.routes)(),
                address: spec.address,
                dispatch: spec.dispatch,
                query: spec.options.query,
                headers: spec.options.headers,
                security: spec.options.security,
                scopes: spec.options.scopes,
            })
            .collect();
        Ok(App::new(shared, channels, self.management, document))
    }
}

impl Router {
    /// The security schemes the channels name, each once (by name), in the channels' order.
    pub(crate) fn schemes(&self) -> impl Iterator<Item = &Scheme> {
        let mut seen: Vec<&str> = Vec::new();
        self.channels
            .iter()
            .filter_map(|channel| channel.options.security.as_ref())
            .flat_map(|security| security.alternatives.iter().flatten())
            .filter(move |scheme| {
                let new = !seen.contains(&scheme.name.as_str());
                if new {
                    seen.push(&scheme.name);
                }
                new
            })
    }

    /// Every scheme a channel names has a verifier, and every verifier a scheme some channel
    /// names.
    fn check_verifiers(&self) -> Result<(), RouterError> {
        let mut named: Vec<&str> = Vec::new();
        for channel in &self.channels {
            let schemes = channel
                .options
                .security
                .iter()
                .flat_map(|security| security.alternatives.iter().flatten());
            for scheme in schemes {
                if !self.verifiers.iter().any(|(name, _)| *name == scheme.name) {
                    return Err(RouterError::NoVerifier {
                        channel: channel.address.clone(),
                        scheme: scheme.name.clone(),
                    });
                }
                if !named.contains(&scheme.name.as_str()) {
                    named.push(&scheme.name);
                }
            }
        }
        match self
            .verifiers
            .iter()
            .find(|(name, _)| !named.contains(&name.as_str()))
        {
            Some((name, _)) => {
                let named = if named.is_empty() {
                    "none".to_owned()
                } else {
                    named.join(", ")
                };
                Err(RouterError::VerifierForNoScheme(name.clone(), named))
            }
            None => Ok(()),
        }
    }
}

/// The start-up checks of one route table.
fn check_routes<R: Routes>(channel: &str) -> Result<(), RouterError> {
    let channel = channel.to_owned();
    // A `Selection` exists only once parsed; asking for it now parses it at start-up.
    let _ = R::selection();
    let keys = R::keys();
    for (i, key) in keys.iter().enumerate() {
        if key.starts_with('$') {
            return Err(RouterError::ReservedKey {
                channel,
                route: (*key).to_owned(),
            });
        }
        if keys[..i].contains(key) {
            return Err(RouterError::DuplicateKey {
                channel,
                route: (*key).to_owned(),
            });
        }
    }
    for route in R::routes() {
        route
            .schema
            .compile()
            .map_err(|message| RouterError::Schema {
                channel: channel.clone(),
                route: route.key.to_owned(),
                message,
            })?;
    }
    Ok(())
}
