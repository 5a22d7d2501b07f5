//! API Gateway's metrics, in Prometheus's text format (`GET /metrics`), off unless
//! [`crate::Router::metrics`] switches them on.
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `ws_connections_open` | `channel` | connections accepted and not yet closed (API Gateway: `ConnectCount` − disconnects) |
//! | `ws_connects_total` | `channel`, `outcome` | handshakes: `accepted`, or the HTTP status refused with (`400`, `401`, `429`, `503`…) |
//! | `ws_disconnects_total` | `channel`, `code` | closes, by close code (`1000`, `1001`, `1006`, `1008`…) |
//! | `ws_slow_reader_closes_total` | `channel` | connections closed because their client stopped reading (outbound queue full, 1008) |
//! | `ws_messages_received_total` | `channel`, `route` | messages, by route (`$default`; `$none` when no route matched) (`MessageCount`) |
//! | `ws_messages_sent_total` | `channel` | frames written to clients: replies, sends, broadcasts, error frames |
//! | `ws_errors_total` | `channel`, `route`, `error` | error frames: `forbidden`, `bad_request_body` (`ClientError`), `internal_server_error` (`ExecutionError`) |
//! | `ws_message_duration_seconds` | `channel`, `route` | from a message read to its reply ready: routing, validation, the handler (`IntegrationLatency`) |
//! | `ws_cluster_requests_total` | `op`, `result` | operations sent to other nodes (`send`, `broadcast`…), by result (`ok`, `gone`, `backend`…) |
//! | `ws_cluster_links_total` | `event` | the node's link to the engine: `joined`, `lost` (a failover, a restart, a broken connection), `rejoined` (subscribed again, lease renewed) |
//! | `ws_cluster_connected` | | 1 while the node is connected to the engine, subscribed and holding its lease |
//!
//! Counters for a route are made once, when the router is built: counting a message is a map
//! lookup and atomic adds, and with metrics off, one branch.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The route label of a message no route matched (the `Forbidden` reply).
pub(crate) const NO_ROUTE: &str = "$none";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    channel: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    channel: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    channel: String,
    code: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    channel: String,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    channel: String,
    route: String,
    error: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClusterLabels {
    op: String,
    result: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LinkLabels {
    event: String,
}

/// What happened to a node's link to the cluster's engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkEvent {
    /// Connected, subscribed and holding its lease for the first time.
    Joined,
    /// The link failed: the engine's process died or failed over, or a connection broke.
    Lost,
    /// Connected, subscribed and holding its lease again after a loss.
    Rejoined,
}

impl LinkEvent {
    fn label(self) -> &'static str {
        match self {
            LinkEvent::Joined => "joined",
            LinkEvent::Lost => "lost",
            LinkEvent::Rejoined => "rejoined",
        }
    }
}

/// Every metric of a server.
pub(crate) struct Metrics {
    registry: Registry,
    open: Family<ChannelLabels, Gauge>,
    connects: Family<OutcomeLabels, Counter>,
    disconnects: Family<CodeLabels, Counter>,
    slow_readers: Family<ChannelLabels, Counter>,
    throttled: Family<ChannelLabels, Counter>,
    received: Family<RouteLabels, Counter>,
    sent: Family<ChannelLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    cluster: Family<ClusterLabels, Counter>,
    links: Family<LinkLabels, Counter>,
    connected: Gauge,
}

/// An error frame, as counted.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ErrorFrame {
    Forbidden,
    BadRequestBody,
    InternalServerError,
}

impl ErrorFrame {
    fn label(self) -> &'static str {
        match self {
            ErrorFrame::Forbidden => "forbidden",
            ErrorFrame::BadRequestBody => "bad_request_body",
            ErrorFrame::InternalServerError => "internal_server_error",
        }
    }
}

fn duration_histogram() -> Histogram {
    // 50 µs to about 1.6 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let metrics = Metrics {
            open: Family::default(),
            connects: Family::default(),
            disconnects: Family::default(),
            slow_readers: Family::default(),
            throttled: Family::default(),
            received: Family::default(),
            sent: Family::default(),
            errors: Family::default(),
            durations: Family::new_with_constructor(duration_histogram),
            cluster: Family::default(),
            links: Family::default(),
            connected: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "ws_connections_open",
            "Connections accepted and not yet closed",
            metrics.open.clone(),
        );
        registry.register(
            "ws_connects",
            "Handshakes, by outcome: accepted, or the HTTP status refused with",
            metrics.connects.clone(),
        );
        registry.register(
            "ws_disconnects",
            "Closed connections, by close code",
            metrics.disconnects.clone(),
        );
        registry.register(
            "ws_slow_reader_closes",
            "Connections closed because their client stopped reading (1008)",
            metrics.slow_readers.clone(),
        );
        registry.register(
            "ws_messages_throttled",
            "Messages refused with `Too Many Requests`: over the connection's message rate",
            metrics.throttled.clone(),
        );
        registry.register(
            "ws_messages_received",
            "Messages received, by route ($none: no route matched)",
            metrics.received.clone(),
        );
        registry.register(
            "ws_messages_sent",
            "Frames written to clients",
            metrics.sent.clone(),
        );
        registry.register(
            "ws_errors",
            "Error frames sent, by route and error",
            metrics.errors.clone(),
        );
        registry.register(
            "ws_message_duration_seconds",
            "From a message read to its reply ready: routing, validation, the handler",
            metrics.durations.clone(),
        );
        registry.register(
            "ws_cluster_requests",
            "Operations sent to other nodes of the cluster, by result",
            metrics.cluster.clone(),
        );
        registry.register(
            "ws_cluster_links",
            "The node's link to the cluster's engine: joined, lost, rejoined",
            metrics.links.clone(),
        );
        registry.register(
            "ws_cluster_connected",
            "1 while the node is connected to the cluster's engine and holds its lease",
            metrics.connected.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// The counters of one channel, made now for every route it has.
    pub fn channel(&self, channel: &str, routes: &[&'static str]) -> ChannelMetrics {
        let labels = ChannelLabels {
            channel: channel.to_owned(),
        };
        let route = |route: &str| {
            let labels = RouteLabels {
                channel: channel.to_owned(),
                route: route.to_owned(),
            };
            let error = |error: ErrorFrame| {
                self.errors
                    .get_or_create(&ErrorLabels {
                        channel: channel.to_owned(),
                        route: route.to_owned(),
                        error: error.label().to_owned(),
                    })
                    .clone()
            };
            Arc::new(RouteMetrics {
                received: self.received.get_or_create(&labels).clone(),
                duration: self.durations.get_or_create(&labels).clone(),
                bad_request: error(ErrorFrame::BadRequestBody),
                internal: error(ErrorFrame::InternalServerError),
                forbidden: error(ErrorFrame::Forbidden),
            })
        };
        let mut by_route = HashMap::new();
        for key in routes.iter().copied().chain(["$default", NO_ROUTE]) {
            by_route.insert(key, route(key));
        }
        ChannelMetrics {
            channel: channel.to_owned(),
            open: self.open.get_or_create(&labels).clone(),
            sent: self.sent.get_or_create(&labels).clone(),
            slow_readers: self.slow_readers.get_or_create(&labels).clone(),
            throttled: self.throttled.get_or_create(&labels).clone(),
            routes: by_route,
            connects: self.connects.clone(),
            disconnects: self.disconnects.clone(),
        }
    }

    /// One operation sent to another node, and how it ended.
    pub fn cluster_request(&self, op: &str, result: &str) {
        self.cluster
            .get_or_create(&ClusterLabels {
                op: op.to_owned(),
                result: result.to_owned(),
            })
            .inc();
    }

    /// The node's link to the cluster's engine changed.
    pub fn cluster_link(&self, event: LinkEvent) {
        self.links
            .get_or_create(&LinkLabels {
                event: event.label().to_owned(),
            })
            .inc();
        self.connected.set(i64::from(matches!(
            event,
            LinkEvent::Joined | LinkEvent::Rejoined
        )));
    }

    /// Everything, in Prometheus's text format (OpenMetrics).
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a `String` cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// One route's counters.
pub(crate) struct RouteMetrics {
    received: Counter,
    duration: Histogram,
    bad_request: Counter,
    internal: Counter,
    forbidden: Counter,
}

impl RouteMetrics {
    /// A message of this route took `took`, and ended in `error` if it did.
    pub fn message(&self, took: Duration, error: Option<ErrorFrame>) {
        self.received.inc();
        self.duration.observe(took.as_secs_f64());
        match error {
            None => {}
            Some(ErrorFrame::BadRequestBody) => {
                self.bad_request.inc();
            }
            Some(ErrorFrame::InternalServerError) => {
                self.internal.inc();
            }
            Some(ErrorFrame::Forbidden) => {
                self.forbidden.inc();
            }
        }
    }
}

/// One channel's counters.
pub(crate) struct ChannelMetrics {
    channel: String,
    pub open: Gauge,
    pub sent: Counter,
    pub slow_readers: Counter,
    pub throttled: Counter,
    routes: HashMap<&'static str, Arc<RouteMetrics>>,
    connects: Family<OutcomeLabels, Counter>,
    disconnects: Family<CodeLabels, Counter>,
}

impl ChannelMetrics {
    /// The counters of `route` (a route key, `$default`, or [`NO_ROUTE`]).
    pub fn route(&self, route: &str) -> Option<&RouteMetrics> {
        self.routes.get(route).map(|r| &**r)
    }

    /// A handshake: accepted (`None`) or refused with an HTTP status.
    pub fn connect(&self, refused: Option<u16>) {
        let outcome = refused.map_or_else(|| "accepted".to_owned(), |status| status.to_string());
        self.connects
            .get_or_create(&OutcomeLabels {
                channel: self.channel.clone(),
                outcome,
            })
            .inc();
    }

    pub fn disconnect(&self, code: u16) {
        self.disconnects
            .get_or_create(&CodeLabels {
                channel: self.channel.clone(),
                code: code.to_string(),
            })
            .inc();
    }
}
