//! Many nodes, one registry: send, broadcast, groups and `@connections` across nodes, through a
//! shared engine (Redis, Redis Sentinel or a Redis Cluster, feature `redis`; NATS, feature
//! `nats`).
//!
//! How it works, in the words of the README's cluster section:
//!
//! - **Ids say where a connection lives.** A connection id of a cluster is `{node}.{random}`, so
//!   any node routes a send to the owning node's channel without a lookup. Redis holds one
//!   sorted set of live nodes (a lease each, renewed on a heartbeat; on NATS the heartbeats are
//!   the leases), not a key per connection: nothing in the engine grows with the number of
//!   connections.
//! - **Point to point** (`send`, `get`, `disconnect`, `join`, `leave`): a request on the owning
//!   node's channel, answered on the asker's. An id whose node holds no lease is
//!   [`SendError::Gone`]; a node with a lease that does not answer in time is
//!   [`SendError::Backend`].
//! - **Everyone** (`broadcast*`, `members`, `count`): delivered here directly, and published
//!   once on the channel every node listens to; each node delivers to its own connections and
//!   answers with a count. The asker waits for as many answers as Redis says received it.
//! - **Faults.** A node that dies stops renewing; when its lease ends (default 10 s) its ids are
//!   `Gone` everywhere. When Redis goes away, local connections keep working, cluster operations
//!   fail at once with `Backend`, and the node reconnects with backoff, subscribes again and
//!   renews its lease (which brings its connections back). Delivery is at most once.
//! - `$disconnect` of a node that died is not run anywhere: the handler state it would need
//!   lived in the process that died (API Gateway, too, runs `$disconnect` on a best-effort
//!   basis).

#[cfg(feature = "nats")]
mod nats;
#[cfg(feature = "redis")]
mod redis;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::Utf8Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::{BoxStream, FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::metrics::{LinkEvent, Metrics};
use crate::registry::connections::{
    Audience, BackendError, ConnectionId, ConnectionInfo, Connections, EngineError, Outbound,
    Remote, SendError, WeakConnections,
};
use crate::registry::ids;

/// The first wait after Redis was lost, doubled on each failed attempt up to `MAX_BACKOFF`.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Requests from other nodes being answered at once; past this, reading waits.
const MAX_IN_FLIGHT: usize = 1024;

/// A cluster to join: the engine and its settings. Give it to [`crate::Router::cluster`].
pub struct Cluster {
    engine: Arc<dyn Engine>,
    options: Options,
}

#[derive(Debug, Clone)]
struct Options {
    lease: Duration,
    request_timeout: Duration,
    prefix: String,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("engine", &self.engine.describe())
            .field("options", &self.options)
            .finish()
    }
}

/// A cluster that cannot be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    /// The engine's URL does not parse.
    #[error("`{url}` is not a usable cluster URL: {message}")]
    Url {
        /// The URL as given.
        url: String,
        /// What the Redis client said.
        message: String,
    },
}

impl Cluster {
    /// A cluster through Redis; the URL says which deployment:
    ///
    /// - `redis://[user:password@]host:port[/db]` (`rediss://` for TLS): one Redis;
    /// - `redis+sentinel://[user:password@]host:port[,host:port…]/service[/db]`: the primary
    ///   that these sentinels name for `service`, asked again at every reconnect, so a failover
    ///   is followed (the credentials and database are the primary's);
    /// - `redis+cluster://[user:password@]host:port[,host:port…]`: a Redis Cluster (Redis 7),
    ///   through sharded pub/sub, each node's traffic on the shard of its own channel.
    ///
    /// Nothing is connected yet: the node connects when the app is built, and keeps trying.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// let cluster = ws_runtime::Cluster::redis("redis://127.0.0.1:6379")?.lease(Duration::from_secs(5));
    /// let app = ws_runtime::Router::new().cluster(cluster).build()?;
    /// let server = app.serve(tokio::net::TcpListener::bind("0.0.0.0:8080").await?).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ClusterError::Url`] for a URL the Redis client does not accept, a Sentinel URL without
    /// its sentinels or service, or a Redis Cluster URL without a node.
    #[cfg(feature = "redis")]
    pub fn redis(url: &str) -> Result<Cluster, ClusterError> {
        Ok(Cluster::with_engine(Arc::new(redis::Redis::new(url)?)))
    }

    /// A cluster through the NATS servers at `url`, `nats://[user:password@]host:port[,host:port…]`
    /// (`tls://` for TLS): one NATS server, or any servers of a NATS cluster (the node connects
    /// to one that answers, and to another when that one goes). Core NATS only: no JetStream.
    /// Nothing is connected yet: the node connects when the app is built, and keeps trying.
    ///
    /// ```no_run
    /// # fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let cluster = ws_runtime::Cluster::nats("nats://127.0.0.1:4222,127.0.0.1:4223")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ClusterError::Url`] for a URL that names no server, or that the NATS client does not
    /// accept.
    #[cfg(feature = "nats")]
    pub fn nats(url: &str) -> Result<Cluster, ClusterError> {
        Ok(Cluster::with_engine(Arc::new(nats::Nats::new(url)?)))
    }

    #[cfg_attr(not(any(feature = "redis", feature = "nats")), allow(dead_code))]
    fn with_engine(engine: Arc<dyn Engine>) -> Cluster {
        Cluster {
            engine,
            options: Options {
                lease: Duration::from_secs(10),
                request_timeout: Duration::from_secs(2),
                prefix: "ws-runtime".into(),
            },
        }
    }

    /// How long a node's lease lasts without renewal (default 10 s; renewed every fifth of it).
    /// A node that dies loses its connections everywhere within this time.
    pub fn lease(mut self, lease: Duration) -> Cluster {
        self.options.lease = lease.max(Duration::from_millis(100));
        self
    }

    /// How long a node waits for another node's answer (default 2 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Cluster {
        self.options.request_timeout = timeout;
        self
    }

    /// The prefix of every key and channel in Redis (default `ws-runtime`): apps that share a
    /// Redis use different prefixes.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Cluster {
        self.options.prefix = prefix.into();
        self
    }

    /// Joins `local` to the cluster and starts the node's link (in the current tokio runtime).
    pub(crate) fn start(self, local: &Connections, metrics: Option<Arc<Metrics>>) -> ClusterNode {
        let (stop, _) = watch::channel(false);
        let node = Arc::new(Node {
            id: ids::random()[..11].to_owned(),
            options: self.options,
            fanout: self.engine.fanout(),
            local: OnceLock::new(),
            link: RwLock::new(None),
            connected: watch::channel(false).0,
            live: Mutex::new(HashMap::new()),
            departed: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            next_request: AtomicU64::new(0),
            metrics,
            stop,
            task: Mutex::new(None),
        });
        let weak = local.attach(Arc::clone(&node) as Arc<dyn Remote>);
        let _ = node.local.set(weak);
        let task = tokio::spawn(run(Arc::clone(&node), self.engine));
        *node.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        ClusterNode { node }
    }
}

/// This node of a cluster, as a running app sees it ([`crate::App::cluster`]).
#[derive(Clone)]
pub struct ClusterNode {
    node: Arc<Node>,
}

impl fmt::Debug for ClusterNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterNode")
            .field("id", &self.node.id)
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl ClusterNode {
    /// The node's id: the prefix of its connections' ids.
    pub fn id(&self) -> &str {
        &self.node.id
    }

    /// Whether the node is connected to the engine, subscribed and holding its lease.
    pub fn is_connected(&self) -> bool {
        *self.node.connected.borrow()
    }

    /// Waits until the node is connected (at once if it is).
    pub async fn ready(&self) {
        let mut connected = self.node.connected.subscribe();
        let _ = connected.wait_for(|c| *c).await;
    }

    /// The nodes this node believes alive (itself included when connected), sorted.
    pub fn live_nodes(&self) -> Vec<String> {
        let now = Instant::now();
        let mut nodes: Vec<String> = self
            .node
            .live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, deadline)| **deadline > now)
            .map(|(node, _)| node.clone())
            .collect();
        nodes.sort();
        nodes
    }

    /// Gives up the lease (other nodes see this node's connections gone at once) and stops the
    /// link, waiting at most `within`.
    pub(crate) async fn leave(&self, within: Duration) {
        self.node.stop.send_replace(true);
        let task = self
            .node
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task {
            let _ = tokio::time::timeout(within, task).await;
        }
    }
}

/// What a cluster engine does: a publish/subscribe bus with one channel per node (and, by its
/// [`Fanout`], one for all), and leases. Redis (one, through Sentinel, or a Redis Cluster:
/// `cluster/redis.rs`) and NATS (`cluster/nats.rs`) implement it, as Centrifugo's engines do.
pub(crate) trait Engine: Send + Sync + 'static {
    /// Where it connects, for logs (without credentials).
    fn describe(&self) -> String;
    /// How a message reaches every node.
    fn fanout(&self) -> Fanout;
    /// Connects and subscribes to `topics`: the link for commands, and the messages received.
    /// `leases` names the lease set (a key, or a subject where leases are heartbeats).
    fn connect<'a>(
        &'a self,
        topics: &'a [String],
        leases: &'a str,
    ) -> BoxFuture<'a, Result<Connected, EngineError>>;
}

/// How a message for every node travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) enum Fanout {
    /// Once, on a channel every node listens to (one Redis: one process carries it all anyway).
    Channel,
    /// Once per live node, on its own channel: on a sharded engine, each message loads only
    /// the shard of the node it is for, so no shard carries every broadcast; on an engine that
    /// counts no subscribers (NATS), each node's receipt is acknowledged on its own.
    PerNode,
}

/// A connected engine: the link for commands, and the messages received on the subscription.
pub(crate) type Connected = (Arc<dyn Link>, BoxStream<'static, Vec<u8>>);

/// A connected engine.
pub(crate) trait Link: Send + Sync + 'static {
    /// Publishes; answers how many subscribers received it.
    fn publish(&self, topic: &str, payload: Vec<u8>) -> BoxFuture<'_, Result<usize, EngineError>>;
    /// Publishes without asking how many received it (an answer to another node's request,
    /// whose loss is the asker's timeout), in order with [`Link::publish`]. An engine that
    /// counts receivers at a cost (NATS: an acknowledgement each) saves it here.
    fn notify(&self, topic: &str, payload: Vec<u8>) -> BoxFuture<'_, Result<(), EngineError>> {
        let published = self.publish(topic, payload);
        Box::pin(async move { published.await.map(drop) })
    }
    /// Renews `node`'s lease in the set `key`, drops expired leases, and answers every live
    /// node with the time its lease has left.
    fn renew<'a>(
        &'a self,
        key: &'a str,
        node: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<(String, Duration)>, EngineError>>;
    /// Gives up `node`'s lease.
    fn withdraw<'a>(
        &'a self,
        key: &'a str,
        node: &'a str,
    ) -> BoxFuture<'a, Result<(), EngineError>>;
}

/// One node's side of the cluster.
struct Node {
    id: String,
    options: Options,
    fanout: Fanout,
    local: OnceLock<WeakConnections>,
    link: RwLock<Option<Arc<dyn Link>>>,
    connected: watch::Sender<bool>,
    /// Every node seen alive, with the moment its lease ends (in this process's clock). A node
    /// missing from one renewal keeps its deadline: after a Redis restart, nodes are not
    /// declared dead before their leases could have run out.
    live: Mutex<HashMap<String, Instant>>,
    /// Nodes that said goodbye, until when they are ignored: ids are not reused, and a renewal
    /// answered just before a goodbye still lists the node.
    departed: Mutex<HashMap<String, Instant>>,
    pending: Mutex<HashMap<u64, Waiter>>,
    next_request: AtomicU64,
    metrics: Option<Arc<Metrics>>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

enum Waiter {
    /// A request to one node (`owner`): its goodbye answers it `Gone` at once.
    One {
        owner: String,
        answer: oneshot::Sender<Answer>,
    },
    Many(mpsc::UnboundedSender<Answer>),
}

/// The header of a message between nodes; the body (a text frame, or an answer's JSON) follows
/// after a newline, unescaped.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    op: Op,
    from: String,
    req: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    except: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Op {
    Send,
    /// A binary frame for one connection (the body is its bytes).
    SendBinary,
    Get,
    Disconnect,
    Join,
    Leave,
    Broadcast,
    Members,
    Count,
    Answer,
    /// The sender holds a lease from now (the body: for how many milliseconds), so that it is
    /// reachable before the next renewal shows it.
    Hello,
    /// The sender gave up its lease: its connections are gone now.
    Bye,
}

#[derive(Debug, Serialize, Deserialize)]
enum Answer {
    Done,
    Gone,
    SlowReader,
    Info(ConnectionInfo),
    Count(usize),
    Ids(Vec<String>),
}

impl Op {
    /// Its name on the wire, and in the metrics' `op` label.
    fn label(self) -> &'static str {
        match self {
            Op::Send | Op::SendBinary => "send",
            Op::Get => "get",
            Op::Disconnect => "disconnect",
            Op::Join => "join",
            Op::Leave => "leave",
            Op::Broadcast => "broadcast",
            Op::Members => "members",
            Op::Count => "count",
            Op::Answer => "answer",
            Op::Hello => "hello",
            Op::Bye => "bye",
        }
    }
}

impl Header {
    fn new(op: Op, from: &str, req: u64) -> Header {
        Header {
            op,
            from: from.to_owned(),
            req,
            id: None,
            group: None,
            except: None,
        }
    }

    fn encode(&self, body: &[u8]) -> Vec<u8> {
        let mut bytes = serde_json::to_vec(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes.extend_from_slice(body);
        bytes
    }

    fn decode(bytes: &[u8]) -> Option<(Header, &[u8])> {
        let split = bytes.iter().position(|b| *b == b'\n')?;
        let header = serde_json::from_slice(&bytes[..split]).ok()?;
        Some((header, &bytes[split + 1..]))
    }
}

/// Queues `item` for an engine's writer now, not when a future is first polled, so that the
/// order of calls is the order on the wire. A full queue or a stopped writer fails at once.
#[cfg(any(feature = "redis", feature = "nats"))]
pub(super) fn enqueue<T>(queue: &mpsc::Sender<T>, item: T) -> Result<(), EngineError> {
    queue.try_send(item).map_err(|error| match error {
        mpsc::error::TrySendError::Full(_) => EngineError::QueueFull(queue.max_capacity()),
        mpsc::error::TrySendError::Closed(_) => EngineError::Closed,
    })
}

/// What a node says of its lease: a hello with the lease's length, or for a lease of zero, a
/// goodbye. Sent to the other nodes when a node joins and leaves; an engine that keeps no lease
/// set (NATS) sends it on every renewal instead, as a heartbeat.
pub(super) fn announcement(node: &str, lease: Duration) -> Vec<u8> {
    if lease.is_zero() {
        Header::new(Op::Bye, node, 0).encode(b"")
    } else {
        Header::new(Op::Hello, node, 0).encode(lease.as_millis().to_string().as_bytes())
    }
}

/// Removes a pending request however its wait ends.
struct PendingGuard<'a> {
    node: &'a Node,
    req: u64,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.node.pending().remove(&self.req);
    }
}

impl Node {
    fn topic(&self, node: &str) -> String {
        format!("{}:node:{node}", self.options.prefix)
    }

    fn all_topic(&self) -> String {
        format!("{}:all", self.options.prefix)
    }

    fn leases_key(&self) -> String {
        format!("{}:nodes", self.options.prefix)
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Waiter>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn link(&self) -> Result<Arc<dyn Link>, SendError> {
        self.link
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(SendError::Backend(BackendError::NotConnected))
    }

    fn is_live(&self, node: &str) -> bool {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(node)
            .is_some_and(|deadline| *deadline > Instant::now())
    }

    /// Takes in what a renewal saw: deadlines only move later; passed ones are forgotten.
    fn see(&self, leases: Vec<(String, Duration)>) {
        let now = Instant::now();
        let mut departed = self.departed.lock().unwrap_or_else(|e| e.into_inner());
        departed.retain(|_, until| *until > now);
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        for (node, left) in leases {
            // A renewal answered before a node's goodbye does not bring it back.
            if departed.contains_key(&node) {
                continue;
            }
            // A lease read from the engine is input: one past what the clock can name (on a
            // platform whose `Instant` is narrower than Linux's) is capped, not a panic.
            let deadline = now
                .checked_add(left)
                .or_else(|| now.checked_add(Duration::from_secs(86_400 * 365)))
                .unwrap_or(now);
            let slot = live.entry(node).or_insert(deadline);
            *slot = (*slot).max(deadline);
        }
        live.retain(|_, deadline| *deadline > now);
    }

    /// One request to the node that holds `id`, and its answer.
    async fn ask(
        &self,
        op: Op,
        id: &ConnectionId,
        group: Option<&str>,
        body: &[u8],
    ) -> Result<Answer, SendError> {
        let Some(owner) = id.node() else {
            return Err(SendError::Gone);
        };
        // Cut off from the cluster, this node cannot tell a dead node from a live one.
        let link = self.link()?;
        let req = self.next_request.fetch_add(1, Ordering::Relaxed);
        let mut header = Header::new(op, &self.id, req);
        header.id = Some(id.as_str().to_owned());
        header.group = group.map(str::to_owned);
        let (tx, rx) = oneshot::channel();
        self.pending().insert(
            req,
            Waiter::One {
                owner: owner.to_owned(),
                answer: tx,
            },
        );
        let _guard = PendingGuard { node: self, req };
        // Checked once the request waits: a goodbye either came before (not live) or finds it.
        if !self.is_live(owner) {
            return Err(SendError::Gone);
        }
        // The publish and the answer, within the request timeout together.
        let deadline = Instant::now() + self.options.request_timeout;
        let no_answer = || {
            SendError::Backend(BackendError::NoAnswer {
                node: owner.to_owned(),
                within: self.options.request_timeout,
            })
        };
        let received = tokio::time::timeout_at(
            deadline,
            link.publish(&self.topic(owner), header.encode(body)),
        )
        .await
        .map_err(|_| no_answer())?
        .map_err(|e| match e {
            // Received perhaps, and not acknowledged: the node does not answer.
            EngineError::NoAcknowledgement(_) => no_answer(),
            e => SendError::Backend(BackendError::Engine(e)),
        })?;
        if received == 0 {
            return Err(SendError::Backend(BackendError::NotListening {
                node: owner.to_owned(),
            }));
        }
        match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(SendError::Backend(BackendError::Lost {
                node: owner.to_owned(),
            })),
            Err(_) => Err(no_answer()),
        }
    }

    /// The channels this node listens on: its own, and the one for all where there is one.
    fn topics(&self) -> Vec<String> {
        match self.fanout {
            Fanout::Channel => vec![self.topic(&self.id), self.all_topic()],
            Fanout::PerNode => vec![self.topic(&self.id)],
        }
    }

    /// Publishes `bytes` for every other node; answers how many received it.
    async fn publish_all(&self, link: &dyn Link, bytes: Vec<u8>) -> Result<usize, EngineError> {
        match self.fanout {
            // This node listens on the channel too, and does not count.
            Fanout::Channel => Ok(link
                .publish(&self.all_topic(), bytes)
                .await?
                .saturating_sub(1)),
            Fanout::PerNode => {
                let now = Instant::now();
                let others: Vec<String> = self
                    .live
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .filter(|(node, deadline)| **node != self.id && **deadline > now)
                    .map(|(node, _)| self.topic(node))
                    .collect();
                let sent = others
                    .iter()
                    .map(|topic| link.publish(topic, bytes.clone()));
                let mut received = 0usize;
                for result in futures_util::future::join_all(sent).await {
                    received = received.saturating_add(result?);
                }
                Ok(received)
            }
        }
    }

    /// One request to every other node, and their answers.
    async fn ask_all(&self, mut header: Header, body: &[u8]) -> Result<Vec<Answer>, SendError> {
        let link = self.link()?;
        let req = self.next_request.fetch_add(1, Ordering::Relaxed);
        header.req = req;
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.pending().insert(req, Waiter::Many(tx));
        let _guard = PendingGuard { node: self, req };
        let expected = self
            .publish_all(link.as_ref(), header.encode(body))
            .await
            .map_err(|e| SendError::Backend(BackendError::Engine(e)))?;
        let deadline = Instant::now() + self.options.request_timeout;
        let mut answers = Vec::with_capacity(expected);
        while answers.len() < expected {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(answer)) => answers.push(answer),
                _ => {
                    return Err(SendError::Backend(BackendError::TooFewAnswers {
                        answered: answers.len(),
                        expected,
                        within: self.options.request_timeout,
                    }));
                }
            }
        }
        Ok(answers)
    }

    /// Counts an operation sent to other nodes by how it ended, and passes its result on.
    fn counted<T>(&self, op: Op, result: Result<T, SendError>) -> Result<T, SendError> {
        if let Some(metrics) = &self.metrics {
            let outcome = match &result {
                Ok(_) => "ok",
                Err(SendError::Gone) => "gone",
                Err(SendError::SlowReader) => "slow_reader",
                Err(SendError::NotJson(_)) => "not_json",
                Err(SendError::Backend(_)) => "backend",
            };
            metrics.cluster_request(op.label(), outcome);
        }
        result
    }

    /// A request whose answer is done or gone, counted.
    async fn ask_done(
        &self,
        op: Op,
        id: &ConnectionId,
        group: Option<&str>,
    ) -> Result<(), SendError> {
        let result = match self.ask(op, id, group, b"").await {
            Ok(Answer::Done) => Ok(()),
            Ok(_) => Err(SendError::Gone),
            Err(error) => Err(error),
        };
        self.counted(op, result)
    }

    fn count_of(answers: Vec<Answer>) -> usize {
        answers
            .into_iter()
            .map(|a| match a {
                Answer::Count(n) => n,
                _ => 0,
            })
            .sum()
    }

    /// What a message from another node asks of this one; `None` once this node's registry is
    /// gone (the app was dropped).
    fn handle(&self, bytes: &[u8]) -> Option<Option<BoxFuture<'static, ()>>> {
        let local = self.local.get()?.upgrade()?;
        let Some((header, body)) = Header::decode(bytes) else {
            tracing::warn!("ignored a cluster message that is not ws-runtime's");
            return Some(None);
        };
        if header.from == self.id && header.op != Op::Answer {
            return Some(None);
        }
        let id = header.id.as_deref().map(ConnectionId::from);
        let answer = match (header.op, id) {
            (Op::Hello, _) => {
                let lease = std::str::from_utf8(body)
                    .ok()
                    .and_then(|ms| ms.parse().ok());
                let lease = lease.map_or(self.options.lease, Duration::from_millis);
                let known = self.is_live(&header.from);
                self.see(vec![(header.from.clone(), lease)]);
                // A node seen for the first time learns of this one now, not at this one's next
                // heartbeat (on NATS, where no lease set answers it with every node at once).
                return match self.link() {
                    Ok(link) if !known => {
                        let topic = self.topic(&header.from);
                        let hello = announcement(&self.id, self.options.lease);
                        Some(Some(Box::pin(async move {
                            let _ = link.notify(&topic, hello).await;
                        })))
                    }
                    _ => Some(None),
                };
            }
            (Op::Bye, _) => {
                // Remembered for two leases: longer than any lease seen before the goodbye.
                self.departed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(header.from.clone(), Instant::now() + 2 * self.options.lease);
                self.live
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&header.from);
                // What waits for its answer is gone now, not at the request timeout: its
                // subscription may still count a message it will never answer.
                let mut pending = self.pending();
                let asked: Vec<u64> = pending
                    .iter()
                    .filter(|(_, waiter)| {
                        matches!(waiter, Waiter::One { owner, .. } if *owner == header.from)
                    })
                    .map(|(req, _)| *req)
                    .collect();
                for req in asked {
                    if let Some(Waiter::One { answer, .. }) = pending.remove(&req) {
                        let _ = answer.send(Answer::Gone);
                    }
                }
                return Some(None);
            }
            (Op::Answer, _) => {
                if let Ok(answer) = serde_json::from_slice::<Answer>(body) {
                    let mut pending = self.pending();
                    match pending.get(&header.req) {
                        Some(Waiter::Many(tx)) => {
                            let _ = tx.send(answer);
                        }
                        Some(Waiter::One { .. }) => {
                            if let Some(Waiter::One { answer: tx, .. }) =
                                pending.remove(&header.req)
                            {
                                let _ = tx.send(answer);
                            }
                        }
                        None => {}
                    }
                }
                return Some(None);
            }
            (Op::Send | Op::SendBinary, Some(id)) => {
                let frame = if header.op == Op::SendBinary {
                    Outbound::Binary(Bytes::copy_from_slice(body))
                } else {
                    Outbound::Text(Utf8Bytes::from(String::from_utf8_lossy(body).into_owned()))
                };
                match local.send_local(&id, frame) {
                    Ok(()) => Answer::Done,
                    Err(SendError::SlowReader) => Answer::SlowReader,
                    Err(_) => Answer::Gone,
                }
            }
            (Op::Get, Some(id)) => local.get_local(&id).map_or(Answer::Gone, Answer::Info),
            (Op::Disconnect, Some(id)) => match local.disconnect_local(&id) {
                Ok(()) => Answer::Done,
                Err(_) => Answer::Gone,
            },
            (Op::Join, Some(id)) => {
                match local.join_local(&id, header.group.as_deref().unwrap_or_default()) {
                    Ok(()) => Answer::Done,
                    Err(_) => Answer::Gone,
                }
            }
            (Op::Leave, Some(id)) => {
                local.leave_local(&id, header.group.as_deref().unwrap_or_default());
                Answer::Done
            }
            (Op::Broadcast, _) => {
                let text = Utf8Bytes::from(String::from_utf8_lossy(body).into_owned());
                let except = header.except.as_deref().map(ConnectionId::from);
                let audience = match (&header.group, &except) {
                    (Some(group), _) => Audience::Group(group),
                    (None, Some(except)) => Audience::AllExcept(except),
                    (None, None) => Audience::All,
                };
                Answer::Count(local.broadcast_local(audience, &text))
            }
            (Op::Members, _) => Answer::Ids(
                local
                    .members_local(header.group.as_deref().unwrap_or_default())
                    .iter()
                    .map(|id| id.as_str().to_owned())
                    .collect(),
            ),
            (Op::Count, _) => Answer::Count(local.len()),
            (_, None) => return Some(None),
        };
        let Ok(link) = self.link() else {
            return Some(None);
        };
        let topic = self.topic(&header.from);
        let reply = Header::new(Op::Answer, &self.id, header.req)
            .encode(&serde_json::to_vec(&answer).unwrap_or_default());
        Some(Some(Box::pin(async move {
            // At most once: an answer that cannot be sent is the asker's timeout.
            let _ = link.notify(&topic, reply).await;
        })))
    }
}

impl Remote for Node {
    fn node(&self) -> &str {
        &self.id
    }

    fn send(&self, id: &ConnectionId, frame: Outbound) -> BoxFuture<'_, Result<(), SendError>> {
        let id = id.clone();
        Box::pin(async move {
            let (op, body) = match &frame {
                Outbound::Text(text) => (Op::Send, text.as_bytes()),
                Outbound::Binary(data) => (Op::SendBinary, &data[..]),
            };
            let result = async {
                match self.ask(op, &id, None, body).await? {
                    Answer::Done => Ok(()),
                    Answer::SlowReader => Err(SendError::SlowReader),
                    _ => Err(SendError::Gone),
                }
            }
            .await;
            self.counted(op, result)
        })
    }

    fn get(&self, id: &ConnectionId) -> BoxFuture<'_, Result<ConnectionInfo, SendError>> {
        let id = id.clone();
        Box::pin(async move {
            let result = async {
                match self.ask(Op::Get, &id, None, b"").await? {
                    Answer::Info(info) => Ok(info),
                    _ => Err(SendError::Gone),
                }
            }
            .await;
            self.counted(Op::Get, result)
        })
    }

    fn disconnect(&self, id: &ConnectionId) -> BoxFuture<'_, Result<(), SendError>> {
        let id = id.clone();
        Box::pin(async move { self.ask_done(Op::Disconnect, &id, None).await })
    }

    fn join(&self, id: &ConnectionId, group: &str) -> BoxFuture<'_, Result<(), SendError>> {
        let (id, group) = (id.clone(), group.to_owned());
        Box::pin(async move { self.ask_done(Op::Join, &id, Some(&group)).await })
    }

    fn leave(&self, id: &ConnectionId, group: &str) -> BoxFuture<'_, Result<(), SendError>> {
        let (id, group) = (id.clone(), group.to_owned());
        Box::pin(async move {
            let result = async {
                match self.ask(Op::Leave, &id, Some(&group), b"").await {
                    // Leaving a group of a connection that is gone: nothing to do.
                    Ok(_) | Err(SendError::Gone) => Ok(()),
                    Err(error) => Err(error),
                }
            }
            .await;
            self.counted(Op::Leave, result)
        })
    }

    fn broadcast(
        &self,
        audience: Audience<'_>,
        text: Utf8Bytes,
    ) -> BoxFuture<'_, Result<usize, SendError>> {
        let mut header = Header::new(Op::Broadcast, &self.id, 0);
        match audience {
            Audience::All => {}
            Audience::AllExcept(id) => header.except = Some(id.as_str().to_owned()),
            Audience::Group(group) => header.group = Some(group.to_owned()),
        }
        Box::pin(async move {
            let result = async {
                let answers = self.ask_all(header, text.as_bytes()).await?;
                Ok(Node::count_of(answers))
            }
            .await;
            self.counted(Op::Broadcast, result)
        })
    }

    fn members(&self, group: &str) -> BoxFuture<'_, Result<Vec<ConnectionId>, SendError>> {
        let mut header = Header::new(Op::Members, &self.id, 0);
        header.group = Some(group.to_owned());
        Box::pin(async move {
            let result = async {
                let answers = self.ask_all(header, b"").await?;
                Ok(answers
                    .into_iter()
                    .flat_map(|a| match a {
                        Answer::Ids(ids) => ids,
                        _ => Vec::new(),
                    })
                    .map(|id| ConnectionId::from(id.as_str()))
                    .collect())
            }
            .await;
            self.counted(Op::Members, result)
        })
    }

    fn count(&self) -> BoxFuture<'_, Result<usize, SendError>> {
        let header = Header::new(Op::Count, &self.id, 0);
        Box::pin(async move {
            let result = async { Ok(Node::count_of(self.ask_all(header, b"").await?)) }.await;
            self.counted(Op::Count, result)
        })
    }
}

/// The node's link: connect, subscribe, renew the lease, answer other nodes; on any failure,
/// say so, wait (with backoff), and do it all again. Ends when the node leaves or its registry
/// is dropped.
async fn run(node: Arc<Node>, engine: Arc<dyn Engine>) {
    let topics = node.topics();
    let key = node.leases_key();
    let lease = node.options.lease;
    let mut stop = node.stop.subscribe();
    let mut backoff = MIN_BACKOFF;
    let mut joined_before = false;
    loop {
        if *stop.borrow() {
            return;
        }
        let failure = match engine.connect(&topics, &key).await {
            Err(error) => error,
            Ok((link, mut messages)) => match link.renew(&key, &node.id, lease).await {
                Err(error) => error,
                Ok(leases) => {
                    node.see(leases);
                    *node.link.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&link));
                    let hello = announcement(&node.id, lease);
                    if let Err(error) = node.publish_all(link.as_ref(), hello).await {
                        tracing::warn!(node = %node.id, %error, "could not say hello; other nodes see this one at their next renewal");
                    }
                    node.connected.send_replace(true);
                    let open = node
                        .local
                        .get()
                        .and_then(WeakConnections::upgrade)
                        .map_or(0, |c| c.len());
                    if joined_before {
                        tracing::warn!(node = %node.id, engine = %engine.describe(), connections = open, "reconnected to the cluster: subscribed again, lease renewed, this node's connections reachable again");
                    } else {
                        tracing::info!(node = %node.id, engine = %engine.describe(), "joined the cluster");
                    }
                    if let Some(metrics) = &node.metrics {
                        metrics.cluster_link(if joined_before {
                            LinkEvent::Rejoined
                        } else {
                            LinkEvent::Joined
                        });
                    }
                    joined_before = true;
                    backoff = MIN_BACKOFF;
                    let mut heartbeat = tokio::time::interval(lease / 5);
                    heartbeat.reset();
                    let mut answers = FuturesUnordered::new();
                    let failure = loop {
                        tokio::select! {
                            biased;
                            _ = stop.changed() => {
                                // Out of the set first, then told: a renewal cannot bring it back.
                                let bye = announcement(&node.id, Duration::ZERO);
                                let gone = link.withdraw(&key, &node.id).await;
                                if let Err(error) = gone.and(node.publish_all(link.as_ref(), bye).await.map(drop)) {
                                    tracing::warn!(node = %node.id, %error, "could not give up the lease; it ends on its own");
                                }
                                node.connected.send_replace(false);
                                *node.link.write().unwrap_or_else(|e| e.into_inner()) = None;
                                tracing::info!(node = %node.id, "left the cluster");
                                return;
                            }
                            Some(()) = answers.next(), if !answers.is_empty() => {}
                            message = messages.next(), if answers.len() < MAX_IN_FLIGHT => match message {
                                None => break EngineError::SubscriptionClosed,
                                Some(bytes) => match node.handle(&bytes) {
                                    None => return,
                                    Some(Some(answer)) => answers.push(answer),
                                    Some(None) => {}
                                },
                            },
                            _ = heartbeat.tick() => match link.renew(&key, &node.id, lease).await {
                                Ok(leases) => node.see(leases),
                                Err(error) => break EngineError::Renewal(Box::new(error)),
                            },
                        }
                    };
                    node.connected.send_replace(false);
                    *node.link.write().unwrap_or_else(|e| e.into_inner()) = None;
                    // Answers will not come over a lost link: every waiting request fails now.
                    node.pending().clear();
                    if let Some(metrics) = &node.metrics {
                        metrics.cluster_link(LinkEvent::Lost);
                    }
                    failure
                }
            },
        };
        tracing::warn!(
            node = %node.id,
            engine = %engine.describe(),
            error = %failure,
            retry_in = ?backoff,
            "cluster unreachable: local connections keep working, sends to other nodes fail until it is back"
        );
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
