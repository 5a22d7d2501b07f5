//! The Redis engine: a multiplexed connection for commands, one for the subscription, and the
//! leases as one sorted set (member: node, score: when its lease ends, in Redis's clock).
//!
//! Publishes go through one queue, taken in order by one writer that sends whatever has
//! gathered as one pipeline: messages leave in the order they were published (one sender's
//! messages to one connection stay in order), and a busy node makes one round trip per batch,
//! not per message.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::StreamExt;
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use tokio::sync::{mpsc, oneshot};

use super::{ClusterError, Connected, Engine, Link};
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
    client: redis::Client,
    renew: redis::Script,
    /// The URL without its credentials.
    shown: String,
}

impl Redis {
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
        let client = redis::Client::open(url).map_err(|e| ClusterError::Url {
            url: shown.clone(),
            message: e.to_string(),
        })?;
        Ok(Redis {
            client,
            renew: redis::Script::new(RENEW),
            shown,
        })
    }
}

impl Engine for Redis {
    fn describe(&self) -> String {
        format!("Redis at {}", self.shown)
    }

    fn connect<'a>(
        &'a self,
        topics: &'a [String],
    ) -> BoxFuture<'a, Result<Connected, EngineError>> {
        Box::pin(async move {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(TIMEOUT))
                .set_response_timeout(Some(TIMEOUT));
            let commands = self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map_err(client)?;
            let subscribe = async {
                let mut pubsub = self.client.get_async_pubsub().await?;
                for topic in topics {
                    pubsub.subscribe(topic).await?;
                }
                Ok::<_, redis::RedisError>(pubsub)
            };
            let pubsub = tokio::time::timeout(TIMEOUT, subscribe)
                .await
                .map_err(|_| EngineError::SubscribeTimedOut(TIMEOUT))?
                .map_err(client)?;
            let messages = pubsub
                .into_on_message()
                .map(|message| message.get_payload_bytes().to_vec())
                .boxed();
            let (queue, outbox) = mpsc::channel(QUEUE);
            tokio::spawn(write(commands.clone(), outbox));
            let link = RedisLink {
                commands,
                queue,
                renew: self.renew.clone(),
            };
            Ok((Arc::new(link) as Arc<dyn Link>, messages))
        })
    }
}

struct RedisLink {
    commands: MultiplexedConnection,
    queue: mpsc::Sender<Publish>,
    renew: redis::Script,
}

/// One publish waiting for the writer, and where its answer goes.
struct Publish {
    topic: String,
    payload: Vec<u8>,
    done: oneshot::Sender<Result<usize, EngineError>>,
}

/// The writer: everything queued, in order, one pipeline per batch. Ends with its link.
async fn write(mut commands: MultiplexedConnection, mut outbox: mpsc::Receiver<Publish>) {
    let mut batch = Vec::with_capacity(BATCH);
    while outbox.recv_many(&mut batch, BATCH).await > 0 {
        let mut pipe = redis::pipe();
        for publish in &batch {
            pipe.cmd("PUBLISH")
                .arg(&publish.topic)
                .arg(&publish.payload);
        }
        let result = pipe.query_async::<Vec<usize>>(&mut commands).await;
        match result {
            Ok(received) => {
                for (publish, received) in batch.drain(..).zip(received) {
                    let _ = publish.done.send(Ok(received));
                }
            }
            Err(error) => {
                let error = client(error);
                for publish in batch.drain(..) {
                    let _ = publish.done.send(Err(error.clone()));
                }
            }
        }
        // Any the answer was short of.
        for publish in batch.drain(..) {
            let _ = publish.done.send(Err(EngineError::ShortAnswer));
        }
    }
}

impl Link for RedisLink {
    fn publish(&self, topic: &str, payload: Vec<u8>) -> BoxFuture<'_, Result<usize, EngineError>> {
        // Queued now, not when the future is first polled: the order of calls is kept.
        let (done, answer) = oneshot::channel();
        let queued = self.queue.try_send(Publish {
            topic: topic.to_owned(),
            payload,
            done,
        });
        Box::pin(async move {
            match queued {
                Ok(()) => answer.await.unwrap_or(Err(EngineError::Closed)),
                Err(mpsc::error::TrySendError::Full(_)) => Err(EngineError::QueueFull(QUEUE)),
                Err(mpsc::error::TrySendError::Closed(_)) => Err(EngineError::Closed),
            }
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
                .map_err(client)?;
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
                .map_err(client)
        })
    }
}

/// A Redis client's error, as the cluster sees an engine's.
fn client(error: redis::RedisError) -> EngineError {
    EngineError::Client(Arc::new(error))
}
