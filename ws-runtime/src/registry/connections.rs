//! The connection registry: API Gateway's `@connections`, plus broadcast and groups.
//!
//! On one node everything here is local. With a cluster ([`crate::Cluster`]), an operation on a
//! connection of another node, or on every node, goes through [`Remote`]: this module knows
//! only that seam, not the engine behind it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::task::Poll;

use axum::extract::ws::Utf8Bytes;
use futures_util::future::BoxFuture;
use futures_util::task::AtomicWaker;
use serde::{Deserialize, Serialize};

use crate::access::security::Principal;
use crate::registry::ids;
use crate::transport::close::CloseReason;
use crate::transport::limits::Limits;
pub(crate) use crate::transport::socket::Outbound;

/// A connection's id: a random, unguessable string (128 bits, base64url).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(Arc<str>);

impl Serialize for ConnectionId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl ConnectionId {
    /// A fresh id: on one node 22 random characters; in a cluster, the node's id, a dot, and
    /// those 22 characters, so that any node knows where the connection lives.
    pub(crate) fn random(node: Option<&str>) -> ConnectionId {
        match node {
            None => ConnectionId(ids::random().into()),
            Some(node) => ConnectionId(format!("{node}.{}", ids::random()).into()),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The node an id of a cluster names (the part before the dot).
    pub(crate) fn node(&self) -> Option<&str> {
        self.0.split_once('.').map(|(node, _)| node)
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ConnectionId {
    fn from(id: &str) -> ConnectionId {
        ConnectionId(id.into())
    }
}

/// Who connected, as the handshake showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// The peer's address.
    pub source_ip: IpAddr,
    /// The handshake's `User-Agent` header.
    pub user_agent: Option<String>,
}

/// What `GET @connections/{id}` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo {
    /// Milliseconds since the Unix epoch.
    pub connected_at: u64,
    /// The last message either way, in milliseconds since the Unix epoch.
    pub last_active_at: u64,
    /// Who connected.
    pub identity: Identity,
    /// Who `authorize` said it is, on a channel with security.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
}

/// Why a send did not happen.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// No such connection (it closed, or never was): API Gateway's 410.
    #[error("the connection is gone")]
    Gone,
    /// The connection is twice over its outbound bounds (`Limits::outbound_queue`,
    /// `Limits::outbound_queue_bytes`): its client does not read, and it is being closed.
    #[error("the connection's outbound queue is full; it is being closed")]
    SlowReader,
    /// The value could not be serialized to JSON (`send_json`); nothing was sent.
    #[error("the message cannot be JSON: {0}")]
    NotJson(#[source] Arc<serde_json::Error>),
    /// The cluster could not carry it: Redis is unreachable, or the node that holds the
    /// connection did not answer in time. The message may or may not have arrived (delivery is
    /// at most once); local connections are unaffected.
    #[error("the cluster backend failed: {0}")]
    Backend(#[source] BackendError),
}

/// How the cluster failed to carry an operation to another node.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// This node has no connection to the engine (it keeps trying).
    #[error("this node is not connected to the cluster")]
    NotConnected,
    /// Behind API Gateway without a connection store (`lambda::Function::store`): groups,
    /// broadcasts, counts and sessions have nowhere to be kept.
    #[error("no connection store: groups, broadcasts and counts need one (CONNECTIONS_TABLE)")]
    NoStore,
    /// The engine failed the publish.
    #[error("{0}")]
    Engine(#[source] EngineError),
    /// The node that holds the connection has a lease but no subscription: restarting, or cut
    /// off from the engine.
    #[error(
        "node {node} holds a lease but is not listening (restarting, or cut off from the engine)"
    )]
    NotListening {
        /// The node.
        node: String,
    },
    /// This node's connection to the engine was lost before the answer came.
    #[error("the connection to the cluster was lost before node {node} answered")]
    Lost {
        /// The node asked.
        node: String,
    },
    /// The node did not answer in time.
    #[error("node {node} did not answer within {within:?}")]
    NoAnswer {
        /// The node asked.
        node: String,
        /// The request timeout.
        within: std::time::Duration,
    },
    /// Not every node answered a request to all in time.
    #[error("{answered} of {expected} nodes answered within {within:?}")]
    TooFewAnswers {
        /// How many answered.
        answered: usize,
        /// How many were listening.
        expected: usize,
        /// The request timeout.
        within: std::time::Duration,
    },
}

/// What the cluster's engine (Redis) failed with. Cloned: one failed batch of publishes fails
/// each of them.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The engine's client failed: a refused connection, a timeout, an error reply.
    #[error("{0}")]
    Client(#[source] Arc<dyn std::error::Error + Send + Sync>),
    /// Subscribing to the node's topics took longer than the bound.
    #[error("subscribing took over {0:?}")]
    SubscribeTimedOut(std::time::Duration),
    /// The connection to the engine closed.
    #[error("the connection to the engine closed")]
    Closed,
    /// The engine closed the node's subscription.
    #[error("the subscription was closed")]
    SubscriptionClosed,
    /// Renewing the node's lease failed.
    #[error("renewing the lease failed: {0}")]
    Renewal(#[source] Box<EngineError>),
    /// Too many publishes wait for the engine already.
    #[error("{0} publishes are already waiting for the engine")]
    QueueFull(usize),
    /// The engine answered fewer publishes than were sent.
    #[error("the engine answered fewer publishes than sent")]
    ShortAnswer,
    /// A publish was not acknowledged in time (NATS: neither its receiver nor the server
    /// answered).
    #[error("no acknowledgement within {0:?}")]
    NoAcknowledgement(std::time::Duration),
    /// The lease script answered something else than the time and the leases.
    #[error("the lease script's answer is not the time and the leases")]
    Leases,
}

/// Every open connection of a server. Cheap to clone; all clones share one registry.
#[derive(Clone, Default)]
pub struct Connections {
    inner: Arc<Registry>,
}

impl fmt::Debug for Connections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connections")
            .field("open", &self.len())
            .finish()
    }
}

#[derive(Default)]
struct Registry {
    connections: RwLock<HashMap<ConnectionId, Arc<Entry>>>,
    groups: RwLock<HashMap<String, HashSet<ConnectionId>>>,
    /// The rest of the cluster, when there is one.
    remote: OnceLock<Arc<dyn Remote>>,
}

/// The registry of this node, without keeping it alive (what a cluster engine holds).
#[derive(Clone, Default)]
pub(crate) struct WeakConnections(Weak<Registry>);

impl WeakConnections {
    pub fn upgrade(&self) -> Option<Connections> {
        self.0.upgrade().map(|inner| Connections { inner })
    }
}

/// Which connections a broadcast is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Audience<'a> {
    All,
    AllExcept(&'a ConnectionId),
    Group(&'a str),
}

/// The other nodes of a cluster, as the registry sees them: every operation on an id of another
/// node, and the part of a cluster-wide operation that is not on this node.
pub(crate) trait Remote: Send + Sync + 'static {
    /// This node's id, the prefix of the ids of its connections.
    fn node(&self) -> &str;
    /// Whether `id` is a connection of this node: by default, an id without a node or with
    /// this one's. Behind API Gateway no connection is this process's.
    fn is_local(&self, id: &ConnectionId) -> bool {
        id.node().is_none_or(|node| node == self.node())
    }
    fn send(&self, id: &ConnectionId, frame: Outbound) -> BoxFuture<'_, Result<(), SendError>>;
    fn get(&self, id: &ConnectionId) -> BoxFuture<'_, Result<ConnectionInfo, SendError>>;
    fn disconnect(&self, id: &ConnectionId) -> BoxFuture<'_, Result<(), SendError>>;
    fn join(&self, id: &ConnectionId, group: &str) -> BoxFuture<'_, Result<(), SendError>>;
    fn leave(&self, id: &ConnectionId, group: &str) -> BoxFuture<'_, Result<(), SendError>>;
    /// Delivers on every other node; answers how many connections there queued it.
    fn broadcast(
        &self,
        audience: Audience<'_>,
        text: Utf8Bytes,
    ) -> BoxFuture<'_, Result<usize, SendError>>;
    /// The members of a group on every other node.
    fn members(&self, group: &str) -> BoxFuture<'_, Result<Vec<ConnectionId>, SendError>>;
    /// How many connections every other node holds.
    fn count(&self) -> BoxFuture<'_, Result<usize, SendError>>;
}

/// One connection's side of the registry.
pub(crate) struct Entry {
    /// What waits to be written to the connection.
    pub outbox: Outbox,
    /// What is queued and not yet written, counted against the bounds.
    pub backlog: Backlog,
    /// The first close asked for (read without a lock, twice per turn of the connection's loop).
    close: OnceLock<CloseReason>,
    /// The one wake-up of the connection's task: a frame queued, the backlog over a bound, or a
    /// close asked for. There is one waiter, which looks at all three after registering, so a
    /// waker slot is enough (a `Notify` would lock its waiter list twice per turn of the loop).
    wake: AtomicWaker,
    pub connected_at: u64,
    pub last_active_at: AtomicU64,
    pub identity: Identity,
    pub principal: Option<Arc<Principal>>,
    groups: Mutex<Vec<String>>,
}

/// The frames waiting for one connection's task, in order. It allocates nothing until a frame
/// waits (an idle connection holds an empty one), unlike a channel's first block of slots; the
/// bounds are the [`Backlog`]'s.
#[derive(Default)]
pub(crate) struct Outbox {
    frames: Mutex<VecDeque<Outbound>>,
    /// The task is gone: frames are refused.
    closed: AtomicBool,
}

impl Outbox {
    /// Queues a frame, or gives it back when the task is gone.
    fn push(&self, frame: Outbound) -> Result<(), Outbound> {
        let mut frames = self.frames.lock().unwrap_or_else(|e| e.into_inner());
        if self.closed.load(Ordering::Acquire) {
            return Err(frame);
        }
        frames.push_back(frame);
        Ok(())
    }

    /// The next frame, if one waits.
    pub fn try_pop(&self) -> Option<Outbound> {
        self.frames
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
    }

    /// The task is gone: refuse frames from now on and drop what waits.
    pub fn close(&self) {
        let mut frames = self.frames.lock().unwrap_or_else(|e| e.into_inner());
        self.closed.store(true, Ordering::Release);
        *frames = VecDeque::new();
    }
}

/// What a connection's task acts on besides its socket and its timers, most urgent first.
#[derive(Debug)]
pub(crate) enum Event {
    /// A close was asked for (the first request's reason).
    Close(CloseReason),
    /// The backlog went over a bound: the grace period starts.
    Behind,
    /// The next queued frame.
    Frame(Outbound),
}

/// The frames and bytes queued for one connection and not yet written, against its bounds.
pub(crate) struct Backlog {
    frames: AtomicUsize,
    bytes: AtomicUsize,
    max_frames: usize,
    max_bytes: usize,
}

impl Backlog {
    fn new(limits: &Limits) -> Backlog {
        Backlog {
            frames: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            max_frames: limits.outbound_queue.max(1),
            max_bytes: limits.outbound_queue_bytes.max(1),
        }
    }

    /// Counts a frame in, unless that puts the backlog twice over a bound (then `false`, and
    /// nothing is counted). Over a bound once, the connection is behind: its task sees that.
    fn admit(&self, len: usize) -> bool {
        let frames = self.frames.fetch_add(1, Ordering::AcqRel) + 1;
        let bytes = self.bytes.fetch_add(len, Ordering::AcqRel) + len;
        if frames > 2 * self.max_frames || bytes > 2 * self.max_bytes {
            self.written(len);
            return false;
        }
        true
    }

    /// A frame of `len` bytes left the queue.
    pub fn written(&self, len: usize) {
        self.frames.fetch_sub(1, Ordering::AcqRel);
        self.bytes.fetch_sub(len, Ordering::AcqRel);
    }

    /// No frame queued or being written.
    fn is_empty(&self) -> bool {
        self.frames.load(Ordering::Acquire) == 0
    }

    /// Over either bound.
    pub fn is_behind(&self) -> bool {
        self.frames.load(Ordering::Acquire) > self.max_frames
            || self.bytes.load(Ordering::Acquire) > self.max_bytes
    }
}

impl Entry {
    pub fn new(
        limits: &Limits,
        connected_at: u64,
        identity: Identity,
        principal: Option<Arc<Principal>>,
    ) -> Entry {
        Entry {
            outbox: Outbox::default(),
            backlog: Backlog::new(limits),
            close: OnceLock::new(),
            wake: AtomicWaker::new(),
            connected_at,
            last_active_at: AtomicU64::new(connected_at),
            identity,
            principal,
            groups: Mutex::new(Vec::new()),
        }
    }

    /// Marks the connection active now; returns now, in milliseconds since the Unix epoch.
    pub fn touch(&self) -> u64 {
        let now = ids::now_ms();
        self.last_active_at.store(now, Ordering::Relaxed);
        now
    }

    fn push(&self, frame: Outbound) -> Result<(), SendError> {
        let len = frame.len();
        if !self.backlog.admit(len) {
            self.request_close(CloseReason::SlowReader);
            return Err(SendError::SlowReader);
        }
        let queued = self.outbox.push(frame).map_err(|_| {
            self.backlog.written(len);
            SendError::Gone
        });
        self.wake.wake();
        queued
    }

    /// Asks the connection's task to close the connection; the first request wins. It is seen
    /// even when the queue is full.
    pub fn request_close(&self, reason: CloseReason) {
        // The first request wins: a later one changes nothing.
        let _ = self.close.set(reason);
        self.wake.wake();
    }

    fn requested_close(&self) -> Option<CloseReason> {
        self.close.get().copied()
    }

    /// Waits for the next [`Event`]: a close request first, then (when `watch_backlog`) a backlog
    /// over a bound, then a queued frame. Cancel safe: a frame is taken only when it is returned.
    /// Each call spends from tokio's cooperative budget, as a channel's receive does: a
    /// connection with a long queue yields now and then, so it cannot starve the accept loop and
    /// the other connections of its worker thread.
    pub async fn next_event(&self, watch_backlog: bool) -> Event {
        tokio::task::consume_budget().await;
        self.woken(|| {
            if let Some(reason) = self.requested_close() {
                return Some(Event::Close(reason));
            }
            if watch_backlog && self.backlog.is_behind() {
                return Some(Event::Behind);
            }
            // The backlog counts a frame before it is queued and until it is written: at zero,
            // nothing waits, and the queue's lock is not taken.
            if self.backlog.is_empty() {
                return None;
            }
            self.outbox.try_pop().map(Event::Frame)
        })
        .await
    }

    /// Waits for a close request (while a write is under way).
    pub async fn until_close_requested(&self) -> CloseReason {
        self.woken(|| self.requested_close()).await
    }

    /// Waits until `look` finds something: it looks, registers the task's waker, and looks
    /// again, so what happens between the first look and the registration is not missed.
    async fn woken<T>(&self, mut look: impl FnMut() -> Option<T>) -> T {
        std::future::poll_fn(|task| {
            if let Some(found) = look() {
                return Poll::Ready(found);
            }
            self.wake.register(task.waker());
            look().map_or(Poll::Pending, Poll::Ready)
        })
        .await
    }
}

impl Connections {
    /// Joins this registry to a cluster: ids of other nodes, broadcasts and groups go through
    /// `remote` from now on.
    pub(crate) fn attach(&self, remote: Arc<dyn Remote>) -> WeakConnections {
        let _ = self.inner.remote.set(remote);
        WeakConnections(Arc::downgrade(&self.inner))
    }

    fn remote(&self) -> Option<&dyn Remote> {
        self.inner.remote.get().map(|r| &**r)
    }

    /// A fresh id for a connection of this node.
    pub(crate) fn new_id(&self) -> ConnectionId {
        ConnectionId::random(self.remote().map(Remote::node))
    }

    /// The remote side when `id` belongs to another node of the cluster.
    fn elsewhere(&self, id: &ConnectionId) -> Option<&dyn Remote> {
        let remote = self.remote()?;
        (!remote.is_local(id)).then_some(remote)
    }

    pub(crate) fn insert(&self, id: ConnectionId, entry: Arc<Entry>) {
        self.write().insert(id, entry);
    }

    /// Removes a connection and its group memberships.
    pub(crate) fn remove(&self, id: &ConnectionId) {
        let Some(entry) = self.write().remove(id) else {
            return;
        };
        let groups = std::mem::take(&mut *entry.groups.lock().unwrap_or_else(|e| e.into_inner()));
        let mut table = self.inner.groups.write().unwrap_or_else(|e| e.into_inner());
        for group in groups {
            if let Some(members) = table.get_mut(&group) {
                members.remove(id);
                if members.is_empty() {
                    table.remove(&group);
                }
            }
        }
    }

    /// The connection `id`, unless it is gone or going: once a close is asked for (by
    /// `DELETE @connections`, an expired token, a slow reader), it is gone to every caller, as
    /// API Gateway answers `GoneException` for a connection it is closing, even before its task
    /// has written the close frame and run `$disconnect`.
    pub(crate) fn entry(&self, id: &ConnectionId) -> Option<Arc<Entry>> {
        self.read()
            .get(id)
            .filter(|entry| entry.requested_close().is_none())
            .cloned()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<ConnectionId, Arc<Entry>>> {
        self.inner
            .connections
            .read()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<ConnectionId, Arc<Entry>>> {
        self.inner
            .connections
            .write()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// How many connections are open on this node (see [`Connections::count`] for the cluster).
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// No connection on this node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The ids of every open connection of this node.
    pub fn ids(&self) -> Vec<ConnectionId> {
        self.read().keys().cloned().collect()
    }

    /// How many connections are open on every node of the cluster (on one node, [`len`]).
    ///
    /// Exact as of each node's answer: the sum of what every node counted when it was asked.
    ///
    /// # Errors
    /// [`SendError::Backend`] when the cluster cannot be asked, or a node does not answer.
    ///
    /// [`len`]: Connections::len
    pub async fn count(&self) -> Result<usize, SendError> {
        let local = self.len();
        match self.remote() {
            None => Ok(local),
            Some(remote) => Ok(local + remote.count().await?),
        }
    }

    /// Sends a text frame to one connection, on whichever node holds it
    /// (`POST @connections/{id}`).
    ///
    /// # Errors
    /// [`SendError::Gone`] for an id connected nowhere; [`SendError::SlowReader`] when the
    /// connection is twice over its outbound bounds (it is then closed with 1008);
    /// [`SendError::Backend`] when the node that holds it cannot be reached.
    pub async fn send(&self, id: &ConnectionId, text: impl Into<String>) -> Result<(), SendError> {
        self.send_frame(id, Outbound::Text(Utf8Bytes::from(text.into())))
            .await
    }

    /// Sends a binary frame to one connection (what API Gateway does with `PostToConnection`
    /// data that is not text).
    ///
    /// # Errors
    /// As [`Connections::send`].
    pub async fn send_binary(
        &self,
        id: &ConnectionId,
        data: impl Into<axum::body::Bytes>,
    ) -> Result<(), SendError> {
        self.send_frame(id, Outbound::Binary(data.into())).await
    }

    async fn send_frame(&self, id: &ConnectionId, frame: Outbound) -> Result<(), SendError> {
        match self.elsewhere(id) {
            Some(remote) => remote.send(id, frame).await,
            None => self.send_local(id, frame),
        }
    }

    pub(crate) fn send_local(&self, id: &ConnectionId, frame: Outbound) -> Result<(), SendError> {
        self.entry(id).ok_or(SendError::Gone)?.push(frame)
    }

    /// Sends a value as JSON to one connection.
    ///
    /// # Errors
    /// As [`Connections::send`], and [`SendError::NotJson`] for a value that cannot be JSON
    /// (nothing is sent).
    pub async fn send_json<T: Serialize + ?Sized>(
        &self,
        id: &ConnectionId,
        value: &T,
    ) -> Result<(), SendError> {
        let text = serde_json::to_string(value).map_err(|e| SendError::NotJson(Arc::new(e)))?;
        self.send(id, text).await
    }

    /// `GET @connections/{id}`, on whichever node holds it.
    ///
    /// # Errors
    /// [`SendError::Gone`] for an id connected nowhere; [`SendError::Backend`] as for `send`.
    pub async fn get(&self, id: &ConnectionId) -> Result<ConnectionInfo, SendError> {
        match self.elsewhere(id) {
            Some(remote) => remote.get(id).await,
            None => self.get_local(id).ok_or(SendError::Gone),
        }
    }

    pub(crate) fn get_local(&self, id: &ConnectionId) -> Option<ConnectionInfo> {
        self.entry(id).map(|e| ConnectionInfo {
            connected_at: e.connected_at,
            last_active_at: e.last_active_at.load(Ordering::Relaxed),
            identity: e.identity.clone(),
            principal: e.principal.as_deref().cloned(),
        })
    }

    /// `DELETE @connections/{id}`: closes the connection with 1000, on whichever node holds it.
    ///
    /// # Errors
    /// [`SendError::Gone`] for an id connected nowhere; [`SendError::Backend`] as for `send`.
    pub async fn disconnect(&self, id: &ConnectionId) -> Result<(), SendError> {
        match self.elsewhere(id) {
            Some(remote) => remote.disconnect(id).await,
            None => self.disconnect_local(id),
        }
    }

    pub(crate) fn disconnect_local(&self, id: &ConnectionId) -> Result<(), SendError> {
        let entry = self.entry(id).ok_or(SendError::Gone)?;
        entry.request_close(CloseReason::Disconnected);
        Ok(())
    }

    /// Sends to every connection of every node; returns how many queued it. The text is
    /// shared, not copied, between the connections of a node.
    ///
    /// # Errors
    /// [`SendError::Backend`] when another node could not be reached or did not answer in
    /// time: this node's connections have it, some others may not.
    pub async fn broadcast(&self, text: impl Into<String>) -> Result<usize, SendError> {
        self.broadcast_to(Audience::All, text.into()).await
    }

    /// Sends to every connection but one (the sender, usually).
    ///
    /// # Errors
    /// As [`Connections::broadcast`].
    pub async fn broadcast_except(
        &self,
        text: impl Into<String>,
        except: &ConnectionId,
    ) -> Result<usize, SendError> {
        self.broadcast_to(Audience::AllExcept(except), text.into())
            .await
    }

    /// Sends to every member of a group, on every node; returns how many queued it.
    ///
    /// # Errors
    /// As [`Connections::broadcast`].
    pub async fn broadcast_group(
        &self,
        group: &str,
        text: impl Into<String>,
    ) -> Result<usize, SendError> {
        self.broadcast_to(Audience::Group(group), text.into()).await
    }

    async fn broadcast_to(&self, audience: Audience<'_>, text: String) -> Result<usize, SendError> {
        let text = Utf8Bytes::from(text);
        let local = self.broadcast_local(audience, &text);
        match self.remote() {
            None => Ok(local),
            Some(remote) => Ok(local + remote.broadcast(audience, text).await?),
        }
    }

    /// Delivers a broadcast to this node's connections; returns how many queued it.
    pub(crate) fn broadcast_local(&self, audience: Audience<'_>, text: &Utf8Bytes) -> usize {
        let members: HashSet<ConnectionId>;
        let keep: &dyn Fn(&ConnectionId) -> bool = match audience {
            Audience::All => &|_| true,
            Audience::AllExcept(except) => &move |id| id != except,
            Audience::Group(group) => {
                members = self.members_local(group).into_iter().collect();
                &|id| members.contains(id)
            }
        };
        let entries: Vec<Arc<Entry>> = self
            .read()
            .iter()
            .filter(|(id, _)| keep(id))
            .map(|(_, e)| Arc::clone(e))
            .collect();
        entries
            .iter()
            .filter(|e| e.push(Outbound::Text(text.clone())).is_ok())
            .count()
    }

    /// Adds a connection to a named group (groups span the cluster).
    ///
    /// # Errors
    /// [`SendError::Gone`] for an id connected nowhere; [`SendError::Backend`] as for `send`.
    pub async fn join(&self, id: &ConnectionId, group: &str) -> Result<(), SendError> {
        match self.elsewhere(id) {
            Some(remote) => remote.join(id, group).await,
            None => self.join_local(id, group),
        }
    }

    pub(crate) fn join_local(&self, id: &ConnectionId, group: &str) -> Result<(), SendError> {
        let entry = self.entry(id).ok_or(SendError::Gone)?;
        let mut groups = entry.groups.lock().unwrap_or_else(|e| e.into_inner());
        if !groups.iter().any(|g| g == group) {
            groups.push(group.to_owned());
        }
        drop(groups);
        self.inner
            .groups
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(group.to_owned())
            .or_default()
            .insert(id.clone());
        Ok(())
    }

    /// Removes a connection from a group (nothing happens if it was not in it).
    ///
    /// # Errors
    /// [`SendError::Backend`] when the connection's node cannot be reached.
    pub async fn leave(&self, id: &ConnectionId, group: &str) -> Result<(), SendError> {
        match self.elsewhere(id) {
            Some(remote) => remote.leave(id, group).await,
            None => {
                self.leave_local(id, group);
                Ok(())
            }
        }
    }

    pub(crate) fn leave_local(&self, id: &ConnectionId, group: &str) {
        if let Some(entry) = self.entry(id) {
            entry
                .groups
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|g| g != group);
        }
        let mut table = self.inner.groups.write().unwrap_or_else(|e| e.into_inner());
        if let Some(members) = table.get_mut(group) {
            members.remove(id);
            if members.is_empty() {
                table.remove(group);
            }
        }
    }

    /// The members of a group, on every node.
    ///
    /// # Errors
    /// As [`Connections::broadcast`].
    pub async fn members(&self, group: &str) -> Result<Vec<ConnectionId>, SendError> {
        let mut members = self.members_local(group);
        if let Some(remote) = self.remote() {
            members.extend(remote.members(group).await?);
        }
        Ok(members)
    }

    pub(crate) fn members_local(&self, group: &str) -> Vec<ConnectionId> {
        self.inner
            .groups
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(group)
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Asks every connection of this node to close (server shutdown).
    pub(crate) fn close_all(&self, reason: CloseReason) {
        for entry in self.read().values() {
            entry.request_close(reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A registry holding one connection with no task behind it: nothing closes it but the test.
    fn one() -> (Connections, ConnectionId, Arc<Entry>) {
        let connections = Connections::default();
        let id = connections.new_id();
        let identity = Identity {
            source_ip: IpAddr::from([127, 0, 0, 1]),
            user_agent: None,
        };
        let entry = Arc::new(Entry::new(&Limits::default(), 0, identity, None));
        connections.insert(id.clone(), entry.clone());
        (connections, id, entry)
    }

    #[test]
    fn a_connection_asked_to_close_is_gone_before_its_task_closes_it() {
        let (connections, id, entry) = one();
        assert!(connections.get_local(&id).is_some());
        connections.disconnect_local(&id).unwrap();
        assert!(entry.requested_close().is_some());
        assert!(connections.get_local(&id).is_none());
        let frame = Outbound::Text("x".into());
        assert!(matches!(
            connections.send_local(&id, frame),
            Err(SendError::Gone)
        ));
        assert!(matches!(
            connections.disconnect_local(&id),
            Err(SendError::Gone)
        ));
        assert!(matches!(
            connections.join_local(&id, "g"),
            Err(SendError::Gone)
        ));
        // Still registered until its task has run `$disconnect` and removed it.
        assert_eq!(connections.len(), 1);
    }
}
