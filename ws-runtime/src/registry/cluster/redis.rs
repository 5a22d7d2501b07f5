//! The Redis engine, in three deployments: one Redis, a primary that Redis Sentinel names, and a
//! Redis Cluster. Each connect finds the Redis to talk to again, so a failover is followed by
//! the node's ordinary reconnect: subscribe again, renew the lease, say hello.
//!
//! - **One Redis** (`redis://`): a multiplexed connection for commands, one for the
//!   subscription, `PUBLISH`, and the leases as one sorted set (member: node, score: when its
//!   lease ends, in Redis's clock).
//! - **Sentinel** (`redis+sentinel://`): the same, on the primary the sentinels name at connect
//!   time. A killed primary breaks the subscription; a demoted one refuses the lease's write.
//!   Either way the node connects again, and asks the sentinels again.
//! - **Redis Cluster** (`redis+cluster://`): sharded pub/sub (`SSUBSCRIBE`/`SPUBLISH`, Redis 7).
//!   A node subscribes to its own channel only, on the shard that owns it; a message to every
//!   node is published once per node ([`Fanout::PerNode`]), so no shard carries all the traffic.
//!   A connection to any shard that breaks ends the link, and the node connects again with a
//!   fresh view of the slots.
//!
//! Publishes go through one queue, taken in order by one writer that sends whatever has
//! gathered as one pipeline (one per channel on a Redis Cluster, whose pipelines cannot span
//! slots): messages leave in the order they were published (one sender's messages to one
//! connection stay in order), and a busy node makes one round trip per batch, not per message.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{BoxFuture, join_all};
use futures_util::stream::{self, BoxStream, StreamExt};
use redis::aio::ConnectionLike;
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::sentinel::{Sentinel, SentinelNodeConnectionInfo};
use redis::{AsyncConnectionConfig, IntoConnectionInfo, ProtocolVersion, PushInfo, PushKind};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::{ClusterError, Connected, Engine, Fanout, Link, enqueue};
use crate::registry::connections::EngineError;

/// How long connecting, and any one command, may take before the node counts Redis as lost.
const TIMEOUT: Duration = Duration::from_secs(2);
/// Publishes waiting for the writer; past this, a publish fails at once.
const QUEUE: usize = 65_536;
/// The most publishes the writer sends as one pipeline.
const BATCH: usize = 512;

/// Renews a lease and answers the live ones, in one round trip and in Redis's clock:
/// `[now, node, ends, node, ends, …]`. The set expires with the last lease in it.
const RENEW: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease)
local answer = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
table.insert(answer, 1, tostring(now))
return answer
";

pub(crate) struct Redis {
    target: Target,
    renew: redis::Script,
    /// The URL without its credentials.
    shown: String,
}

/// Where the Redis to talk to is found.
enum Target {
    /// One Redis.
    Single(redis::Client),
    /// The primary that these sentinels name for `service`, asked at every connect.
    Sentinel {
        sentinels: Mutex<Sentinel>,
        service: String,
        /// The primary's credentials and database.
        primary: SentinelNodeConnectionInfo,
    },
    /// The nodes of a Redis Cluster to learn the slots from (any of them will do).
    Cluster(Vec<redis::ConnectionInfo>),
}

/// The parts of a `redis+sentinel://` or `redis+cluster://` URL.
struct Hosts<'a> {
    /// `user:password`, if any.
    credentials: Option<&'a str>,
    hosts: Vec<&'a str>,
    /// What follows the hosts' `/`: the service and database for Sentinel.
    path: &'a str,
}

impl<'a> Hosts<'a> {
    fn parse(rest: &'a str) -> Hosts<'a> {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (credentials, hosts) = match authority.rsplit_once('@') {
            Some((credentials, hosts)) => (Some(credentials), hosts),
            None => (None, authority),
        };
        Hosts {
            credentials,
            hosts: hosts.split(',').filter(|h| !h.is_empty()).collect(),
            path,
        }
    }

    /// `redis://[credentials@]host[/db]` for each host.
    fn urls(&self, with_credentials: bool, db: &str) -> Vec<String> {
        let credentials = match self.credentials {
            Some(credentials) if with_credentials => format!("{credentials}@"),
            _ => String::new(),
        };
        self.hosts
            .iter()
            .map(|host| format!("redis://{credentials}{host}{db}"))
            .collect()
    }
}

impl Redis {
    /// `redis://` or `rediss://` (one Redis), `redis+sentinel://[user:password@]host:port[,…]/service[/db]`
    /// (the credentials are the primary's), or `redis+cluster://[user:password@]host:port[,…]`.
    pub fn new(url: &str) -> Result<Redis, ClusterError> {
        // A URL's user and password stay out of errors, `Debug` and logs.
        let shown = match url.split_once("://") {
            Some((scheme, rest)) => {
                format!(
                    "{scheme}://{}",
                    rest.rsplit_once('@').map_or(rest, |(_, host)| host)
                )
            }
            None => url.to_owned(),
        };
        let refused = |message: String| ClusterError::Url {
            url: shown.clone(),
            message,
        };
        let client = |e: redis::RedisError| refused(e.to_string());
        let target = match url.split_once("://") {
            Some(("redis+sentinel", rest)) => {
                let hosts = Hosts::parse(rest);
                let (service, db) = hosts.path.split_once('/').unwrap_or((hosts.path, ""));
                if service.is_empty() || hosts.hosts.is_empty() {
                    return Err(refused(
                        "a Sentinel URL names its sentinels and the primary's service: \
                         redis+sentinel://host:port[,host:port…]/service[/db]"
                            .into(),
                    ));
                }
                let db = if db.is_empty() {
                    String::new()
                } else {
                    format!("/{db}")
                };
                let sentinels = Sentinel::build(hosts.urls(false, "")).map_err(client)?;
                let primary = hosts
                    .urls(true, &db)
                    .remove(0)
                    .into_connection_info()
                    .map_err(client)?;
                Target::Sentinel {
                    sentinels: Mutex::new(sentinels),
                    service: service.to_owned(),
                    primary: SentinelNodeConnectionInfo::default()
                        .set_redis_connection_info(primary.redis_settings().clone()),
                }
            }
            Some(("redis+cluster", rest)) => {
                let hosts = Hosts::parse(rest);
                if hosts.hosts.is_empty() || !hosts.path.is_empty() {
                    return Err(refused(
                        "a Redis Cluster URL names one or more of its nodes: \
                         redis+cluster://host:port[,host:port…]"
                            .into(),
                    ));
                }
                let nodes = hosts
                    .urls(true, "")
                    .iter()
                    .map(|url| url.as_str().into_connection_info())
                    .collect::<Result<_, _>>()
                    .map_err(client)?;
                Target::Cluster(nodes)
            }
            _ => Target::Single(redis::Client::open(url).map_err(client)?),
        };
        Ok(Redis {
            target,
            renew: redis::Script::new(RENEW),
            shown,
        })
    }

    /// One Redis, found directly or through the sentinels: commands, the subscription, and the
    /// writer.
    async fn connect_single(
        &self,
        client: redis::Client,
        topics: &[String],
    ) -> Result<Connected, EngineError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT));
        let commands = client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(failed)?;
        let subscribe = async {
            let mut pubsub = client.get_async_pubsub().await?;
            for topic in topics {
                pubsub.subscribe(topic).await?;
            }
            Ok::<_, redis::RedisError>(pubsub)
        };
        let pubsub = within(subscribe).await?;
        let messages = pubsub
            .into_on_message()
            .map(|message| message.get_payload_bytes().to_vec())
            .boxed();
        Ok((self.link(commands, Publisher::Channels), messages))
    }

    /// A Redis Cluster: one cluster connection for commands and the shard channel's
    /// subscription, whose messages (and breaks) arrive as RESP3 pushes.
    async fn connect_cluster(
        &self,
        nodes: &[redis::ConnectionInfo],
        topics: &[String],
    ) -> Result<Connected, EngineError> {
        let (pushes, received) = mpsc::unbounded_channel::<PushInfo>();
        let client = ClusterClientBuilder::new(nodes.to_vec())
            .use_protocol(ProtocolVersion::RESP3)
            .push_sender(pushes)
            .connection_timeout(TIMEOUT)
            .response_timeout(TIMEOUT)
            // One retry follows a `MOVED` after a failover; more would hold a sender past
            // its request timeout while a shard has no primary.
            .retries(1)
            .build()
            .map_err(failed)?;
        let connect = async {
            let mut commands = ClusterClient::get_async_connection(&client).await?;
            for topic in topics {
                commands.ssubscribe(topic).await?;
            }
            Ok::<_, redis::RedisError>(commands)
        };
        let commands = within(connect).await?;
        Ok((
            self.link(commands, Publisher::ShardChannels),
            shard_messages(received),
        ))
    }

    fn link<C: Commands>(&self, commands: C, publisher: Publisher) -> Arc<dyn Link> {
        let (queue, outbox) = mpsc::channel(QUEUE);
        tokio::spawn(write(commands.clone(), outbox, publisher));
        Arc::new(RedisLink {
            commands,
            queue,
            renew: self.renew.clone(),
        })
    }
}

/// The messages of a cluster connection's shard channels. Ends when any of its connections
/// breaks: the node then connects again, with a fresh view of the slots.
fn shard_messages(received: mpsc::UnboundedReceiver<PushInfo>) -> BoxStream<'static, Vec<u8>> {
    stream::unfold(received, |mut received| async move {
        loop {
            let push = received.recv().await?;
            match push.kind {
                PushKind::SMessage => {
                    // `[channel, message]`
                    if let Some(redis::Value::BulkString(payload)) = push.data.into_iter().nth(1) {
                        return Some((payload, received));
                    }
                }
                PushKind::Disconnection => {
                    tracing::warn!("a connection to a Redis Cluster node broke");
                    return None;
                }
                _ => {}
            }
        }
    })
    .boxed()
}

impl Engine for Redis {
    fn describe(&self) -> String {
        match &self.target {
            Target::Single(_) => format!("Redis at {}", self.shown),
            Target::Sentinel { .. } => format!("Redis through Sentinel at {}", self.shown),
            Target::Cluster(_) => format!("Redis Cluster at {}", self.shown),
        }
    }

    fn fanout(&self) -> Fanout {
        match self.target {
            Target::Single(_) | Target::Sentinel { .. } => Fanout::Channel,
            Target::Cluster(_) => Fanout::PerNode,
        }
    }

    fn connect<'a>(
        &'a self,
        topics: &'a [String],
        _leases: &'a str,
    ) -> BoxFuture<'a, Result<Connected, EngineError>> {
        Box::pin(async move {
            match &self.target {
                Target::Single(client) => self.connect_single(client.clone(), topics).await,
                Target::Sentinel {
                    sentinels,
                    service,
                    primary,
                } => {
                    let ask = async {
                        let mut sentinels = sentinels.lock().await;
                        sentinels.async_master_for(service, Some(primary)).await
                    };
                    let client = within(ask).await?;
                    tracing::info!(
                        service = %service,
                        primary = %client.get_connection_info().addr(),
                        "Sentinel names the primary"
                    );
                    self.connect_single(client, topics).await
                }
                Target::Cluster(nodes) => self.connect_cluster(nodes, topics).await,
            }
        })
    }
}

/// A connection commands go through: one Redis's, or a Redis Cluster's.
trait Commands: ConnectionLike + Clone + Send + Sync + 'static {}
impl<C: ConnectionLike + Clone + Send + Sync + 'static> Commands for C {}

/// How the writer publishes.
#[derive(Debug, Clone, Copy)]
enum Publisher {
    /// `PUBLISH`, every batch as one pipeline.
    Channels,
    /// `SPUBLISH`, one pipeline per channel (a pipeline cannot span slots), sent together.
    ShardChannels,
}

struct RedisLink<C> {
    commands: C,
    queue: mpsc::Sender<Publish>,
    renew: redis::Script,
}

/// One publish waiting for the writer, and where its answer goes.
struct Publish {
    topic: String,
    payload: Vec<u8>,
    done: oneshot::Sender<Result<usize, EngineError>>,
}

/// The writer: everything queued, in order, one pipeline per batch (per channel of a batch on
/// a Redis Cluster). Ends with its link.
async fn write<C: Commands>(
    commands: C,
    mut outbox: mpsc::Receiver<Publish>,
    publisher: Publisher,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while outbox.recv_many(&mut batch, BATCH).await > 0 {
        match publisher {
            Publisher::Channels => publish(commands.clone(), "PUBLISH", batch.drain(..)).await,
            Publisher::ShardChannels => {
                // Grouped by channel, each group in the order queued.
                let mut groups: Vec<Vec<Publish>> = Vec::new();
                for item in batch.drain(..) {
                    match groups.iter_mut().find(|g| g[0].topic == item.topic) {
                        Some(group) => group.push(item),
                        None => groups.push(vec![item]),
                    }
                }
                join_all(
                    groups
                        .into_iter()
                        .map(|group| publish(commands.clone(), "SPUBLISH", group.into_iter())),
                )
                .await;
            }
        }
    }
}

/// Sends `batch` as one pipeline of `command`, and answers each publish.
async fn publish<C: Commands>(
    mut commands: C,
    command: &str,
    batch: impl ExactSizeIterator<Item = Publish>,
) {
    let batch: Vec<Publish> = batch.collect();
    let mut pipe = redis::pipe();
    for item in &batch {
        pipe.cmd(command).arg(&item.topic).arg(&item.payload);
    }
    let mut answers = match pipe.query_async::<Vec<usize>>(&mut commands).await {
        Ok(received) => received.into_iter().map(Ok).collect(),
        Err(error) => vec![Err(failed(error)); batch.len()],
    }
    .into_iter();
    for item in batch {
        // Any the answer was short of.
        let answer = answers.next().unwrap_or(Err(EngineError::ShortAnswer));
        let _ = item.done.send(answer);
    }
}

impl<C: Commands> Link for RedisLink<C> {
    fn publish(&self, topic: &str, payload: Vec<u8>) -> BoxFuture<'_, Result<usize, EngineError>> {
        let (done, answer) = oneshot::channel();
        let queued = enqueue(
            &self.queue,
            Publish {
                topic: topic.to_owned(),
                payload,
                done,
            },
        );
        Box::pin(async move {
            queued?;
            answer.await.unwrap_or(Err(EngineError::Closed))
        })
    }

    fn renew<'a>(
        &'a self,
        key: &'a str,
        node: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<(String, Duration)>, EngineError>> {
        let mut commands = self.commands.clone();
        Box::pin(async move {
            let answer: Vec<String> = self
                .renew
                .key(key)
                .arg(node)
                .arg(u64::try_from(lease.as_millis()).unwrap_or(u64::MAX))
                .invoke_async(&mut commands)
                .await
                .map_err(failed)?;
            let mut fields = answer.iter();
            let now = fields
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or(EngineError::Leases)?;
            let mut leases = Vec::new();
            while let (Some(node), Some(ends)) = (fields.next(), fields.next()) {
                // Scores come back as text, sometimes in floating-point notation.
                let ends = ends.parse::<f64>().map_err(|_| EngineError::Leases)?;
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let left = (ends as u64).saturating_sub(now);
                leases.push((node.clone(), Duration::from_millis(left)));
            }
            Ok(leases)
        })
    }

    fn withdraw<'a>(
        &'a self,
        key: &'a str,
        node: &'a str,
    ) -> BoxFuture<'a, Result<(), EngineError>> {
        let mut commands = self.commands.clone();
        Box::pin(async move {
            redis::cmd("ZREM")
                .arg(key)
                .arg(node)
                .query_async::<()>(&mut commands)
                .await
                .map_err(failed)
        })
    }
}

/// `step` (connecting, subscribing, asking the sentinels) within [`TIMEOUT`], its failure as the
/// cluster sees an engine's.
async fn within<T>(
    step: impl Future<Output = Result<T, redis::RedisError>>,
) -> Result<T, EngineError> {
    tokio::time::timeout(TIMEOUT, step)
        .await
        .map_err(|_| EngineError::SubscribeTimedOut(TIMEOUT))?
        .map_err(failed)
}

/// A Redis client's error, as the cluster sees an engine's.
fn failed(error: redis::RedisError) -> EngineError {
    EngineError::Client(Arc::new(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_one_redis_a_sentinel_service_or_a_cluster() {
        let shown = |url: &str| Redis::new(url).map(|r| r.describe());
        assert_eq!(
            shown("redis://:pw@127.0.0.1:6379").unwrap(),
            "Redis at redis://127.0.0.1:6379"
        );
        assert_eq!(
            shown("redis+sentinel://:pw@127.0.0.1:26379,127.0.0.1:26380/mymaster/2").unwrap(),
            "Redis through Sentinel at redis+sentinel://127.0.0.1:26379,127.0.0.1:26380/mymaster/2"
        );
        assert_eq!(
            shown("redis+cluster://127.0.0.1:7000,127.0.0.1:7001").unwrap(),
            "Redis Cluster at redis+cluster://127.0.0.1:7000,127.0.0.1:7001"
        );
        assert!(matches!(
            Redis::new("redis+cluster://127.0.0.1:7000").map(|r| r.fanout()),
            Ok(Fanout::PerNode)
        ));
    }

    #[test]
    fn a_sentinel_url_without_a_service_or_a_cluster_url_with_a_path_is_refused() {
        for url in [
            "redis+sentinel://127.0.0.1:26379",
            "redis+sentinel:///mymaster",
            "redis+cluster://",
            "redis+cluster://:secret@127.0.0.1:7000/0",
        ] {
            match Redis::new(url) {
                Err(ClusterError::Url {
                    url: shown,
                    message,
                }) => {
                    assert!(!shown.contains("secret"), "{shown}");
                    assert!(message.contains("://host:port"), "{url}: {message}");
                }
                Ok(_) => panic!("{url} was accepted"),
            }
        }
    }
}
