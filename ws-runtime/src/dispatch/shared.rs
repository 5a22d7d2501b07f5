//! What the connection tasks, the server and the management API share: the registry, the limits
//! and switches, and the count of connections still running; and each channel as they see it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

use crate::access::security::{Security, Verifiers};
use crate::dispatch::Dispatch;
use crate::messages::message::Schema;
use crate::messages::routes::Route;
use crate::metrics::{ChannelMetrics, Metrics};
use crate::registry::cluster::ClusterNode;
use crate::registry::connections::Connections;
use crate::transport::compression::Compression;
use crate::transport::limits::{Bucket, Limits, Rate};
use crate::transport::socket;

/// What every connection task shares.
/// A router's stage when none is set: API Gateway's name for the default stage.
pub(crate) const DEFAULT_STAGE: &str = "$default";

pub(crate) struct Shared {
    pub connections: Connections,
    /// This node of a cluster, when there is one.
    pub cluster: Option<ClusterNode>,
    /// The metrics, when they are on.
    pub metrics: Option<Arc<Metrics>>,
    pub limits: Limits,
    /// The socket's settings for every connection (the limits, compression).
    pub socket: socket::Settings,
    /// The stage API Gateway would name in a request context and a management path.
    pub stage: Arc<str>,
    pub reveal_validation_errors: bool,
    pub validate_outbound: bool,
    /// Connections accepted and not yet finished (their `$disconnect` included).
    pub slots: AtomicUsize,
    pub shutting_down: AtomicBool,
    /// Notified when the last slot is released.
    pub idle: Notify,
    /// Each source address's handshakes, with `Limits::handshake_rate`.
    pub handshakes: Mutex<HashMap<IpAddr, Bucket>>,
    /// Each principal's messages, with `Limits::principal_message_rate`.
    pub principals: Mutex<HashMap<String, Bucket>>,
    /// The verifier of each security scheme, by its name ([`crate::Router::verify`]).
    pub verifiers: Verifiers,
}

/// Keys (addresses, principals) a limiter keeps before it forgets those whose buckets are full
/// again.
const LIMITED_KEYS: usize = 4_096;

/// Takes a token from `key`'s bucket of `rate` in `buckets`.
fn take<K: std::hash::Hash + Eq>(buckets: &Mutex<HashMap<K, Bucket>>, key: K, rate: Rate) -> bool {
    let now = std::time::Instant::now();
    let mut buckets = buckets.lock().unwrap_or_else(PoisonError::into_inner);
    if buckets.len() >= LIMITED_KEYS {
        // A full bucket is no different from a forgotten one.
        buckets.retain(|_, bucket| !bucket.is_full(rate, now));
    }
    buckets
        .entry(key)
        .or_insert_with(|| Bucket::full(rate, now))
        .take(rate, now)
}

impl Shared {
    /// Whether a handshake from `ip` is within `Limits::handshake_rate` (always, without one).
    pub fn handshake_allowed(&self, ip: IpAddr) -> bool {
        let Some(rate) = self.limits.handshake_rate else {
            return true;
        };
        take(&self.handshakes, ip, rate)
    }

    /// Whether a message of `subject` is within `Limits::principal_message_rate` (always,
    /// without one).
    pub fn principal_allowed(&self, subject: &str) -> bool {
        let Some(rate) = self.limits.principal_message_rate else {
            return true;
        };
        take(&self.principals, subject.to_owned(), rate)
    }

    pub fn new(
        limits: Limits,
        compression: Compression,
        reveal_validation_errors: bool,
        validate_outbound: bool,
    ) -> Shared {
        Shared {
            connections: Connections::default(),
            cluster: None,
            metrics: None,
            socket: socket::Settings::new(&limits, compression),
            limits,
            stage: Arc::from(DEFAULT_STAGE),
            reveal_validation_errors,
            validate_outbound,
            slots: AtomicUsize::new(0),
            shutting_down: AtomicBool::new(false),
            idle: Notify::new(),
            handshakes: Mutex::default(),
            principals: Mutex::default(),
            verifiers: Verifiers::default(),
        }
    }

    /// Whether the server takes new connections: not while it drains, nor while its cluster is
    /// unreachable (`/readyz`). `Err` says why not.
    pub fn ready(&self) -> Result<(), &'static str> {
        if self.shutting_down.load(Ordering::Acquire) {
            return Err("the server is shutting down");
        }
        match &self.cluster {
            Some(node) if !node.is_connected() => Err("the cluster is unreachable"),
            _ => Ok(()),
        }
    }

    /// A slot is given back: its connection is finished (its `$disconnect` has run), or its
    /// handshake did not become one.
    fn release(&self) {
        if self.slots.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }
}

/// One of `Limits::max_connections`, taken at the handshake and given back when dropped: on
/// every path a handshake or a connection ends on, a request's future dropped by its client's
/// going away included. [`crate::Server::shutdown`] waits for every slot.
pub(crate) struct Slot {
    shared: Arc<Shared>,
}

impl Slot {
    /// A slot of `shared`'s, or `None` when all are taken.
    pub fn take(shared: &Arc<Shared>) -> Option<Slot> {
        let taken = shared.slots.fetch_add(1, Ordering::AcqRel);
        let slot = Slot {
            shared: Arc::clone(shared),
        };
        (taken < shared.limits.max_connections).then_some(slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.shared.release();
    }
}

/// A channel as its connections see it: where it is served, its handler, the handshake's
/// schemas, its routes (for the docs page) and its metrics.
pub(crate) struct Channel {
    pub address: String,
    pub dispatch: Arc<dyn Dispatch>,
    pub query: Option<Schema>,
    pub headers: Option<Schema>,
    pub selection: String,
    pub routes: Vec<Route>,
    pub metrics: Option<ChannelMetrics>,
    pub security: Option<Security>,
    /// The scopes routes need: (route key, scopes).
    pub scopes: Vec<(String, Vec<String>)>,
}

impl Channel {
    /// A frame was written to a client of this channel.
    pub fn sent(&self) {
        if let Some(metrics) = &self.metrics {
            metrics.sent.inc();
        }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("connections", &self.connections)
            .finish_non_exhaustive()
    }
}
