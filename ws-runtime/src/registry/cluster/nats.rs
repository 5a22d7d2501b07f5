//! The NATS engine (`nats://`), on core NATS alone (no JetStream): one connection per link, to
//! any server of a NATS cluster.
//!
//! - **Subjects.** A node subscribes to its own subject; a message for every node goes once to
//!   each live node's subject ([`Fanout::PerNode`]).
//! - **How many received it.** NATS does not count subscribers, so every publish carries a
//!   reply subject of this link's and its receiver acknowledges it on receipt; with nobody
//!   subscribed, the server itself answers "no responders" (status 503), which counts 0. A
//!   publish is answered 1 or 0 as Redis's `PUBLISH` would be, and an unanswered one fails
//!   after the timeout. Answers to requests go unacknowledged ([`Link::notify`]): a lost one is
//!   already the asker's timeout.
//! - **Leases.** NATS keeps no state, so a lease is a heartbeat: each node publishes its hello
//!   (the cluster's own message, with the lease's length) on the lease subject every fifth of its
//!   lease, and every node listens there, so a node that joins is known at once. A node that
//!   leaves says goodbye there.
//! - **Faults.** When the connection breaks (a NATS server killed, a network cut), the link
//!   ends instead of letting the client reconnect behind the node's back: the node connects
//!   again (to any server of the list that answers), subscribes again and renews, as after a
//!   Redis failover. What was in flight fails and is reported.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::{Client, ConnectOptions, Event, ServerAddr, StatusCode};
use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{ClusterError, Connected, Engine, Fanout, Link, announcement, enqueue};
use crate::registry::connections::EngineError;

/// How long connecting, and waiting for a publish's acknowledgement, may take.
const TIMEOUT: Duration = Duration::from_secs(2);
/// Publishes waiting for the writer; past this, a publish fails at once.
const QUEUE: usize = 65_536;
/// The most publishes the writer takes at once.
const BATCH: usize = 512;

pub(crate) struct Nats {
    servers: Vec<ServerAddr>,
    /// The URL without its credentials.
    shown: String,
}

impl Nats {
    /// `nats://[user:password@]host:port[,host:port…]` (`tls://` for TLS): the servers of one
    /// NATS server or cluster; the credentials apply to each.
    pub fn new(url: &str) -> Result<Nats, ClusterError> {
        let (scheme, rest) = url.split_once("://").unwrap_or(("nats", url));
        let (credentials, hosts) = match rest.rsplit_once('@') {
            Some((credentials, hosts)) => (format!("{credentials}@"), hosts),
            None => (String::new(), rest),
        };
        let shown = format!("{scheme}://{hosts}");
        let servers = hosts
            .split(',')
            .filter(|host| !host.is_empty())
            .map(|host| format!("{scheme}://{credentials}{host}").parse::<ServerAddr>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| ClusterError::Url {
                url: shown.clone(),
                message: error.to_string(),
            })?;
        if servers.is_empty() {
            return Err(ClusterError::Url {
                url: shown,
                message: "a NATS URL names one or more servers: nats://host:port[,host:port…]"
                    .into(),
            });
        }
        Ok(Nats { servers, shown })
    }
}

impl Engine for Nats {
    fn describe(&self) -> String {
        format!("NATS at {}", self.shown)
    }

    fn fanout(&self) -> Fanout {
        Fanout::PerNode
    }

    fn connect<'a>(
        &'a self,
        topics: &'a [String],
        leases: &'a str,
    ) -> BoxFuture<'a, Result<Connected, EngineError>> {
        Box::pin(async move {
            // The first break ends the link; the client's own reconnects are not used.
            let (broken, mut breaks) = mpsc::unbounded_channel::<()>();
            let options = ConnectOptions::new()
                .connection_timeout(TIMEOUT)
                .request_timeout(Some(TIMEOUT))
                .max_reconnects(Some(1))
                .event_callback(move |event| {
                    let broken = broken.clone();
                    async move {
                        match event {
                            Event::Disconnected | Event::Closed | Event::LameDuckMode => {
                                tracing::warn!(%event, "the connection to NATS broke");
                                let _ = broken.send(());
                            }
                            Event::SlowConsumer(_)
                            | Event::ServerError(_)
                            | Event::ClientError(_) => {
                                tracing::warn!(%event, "NATS");
                            }
                            Event::Connected | Event::Draining => {}
                        }
                    }
                });
            let client = options
                .connect(self.servers.clone())
                .await
                .map_err(failed)?;
            let mut subscriptions = Vec::with_capacity(topics.len() + 1);
            for topic in topics.iter().map(String::as_str).chain([leases]) {
                subscriptions.push(client.subscribe(topic.to_owned()).await.map_err(failed)?);
            }
            let acker = client.clone();
            let messages = stream::select_all(subscriptions)
                .then(move |message| {
                    let acker = acker.clone();
                    async move {
                        // Received: the publisher counts this node.
                        if let Some(reply) = message.reply {
                            let _ = acker.publish(reply, Default::default()).await;
                        }
                        Some(message.payload.to_vec())
                    }
                })
                .boxed();
            let broke = stream::once(async move {
                let _ = breaks.recv().await;
                None
            });
            let messages = stream::select(messages, broke)
                .take_while(|message| std::future::ready(message.is_some()))
                .filter_map(std::future::ready)
                .boxed();
            let link = NatsLink::start(client).await?;
            Ok((
                Arc::new(link) as Arc<dyn Link>,
                messages as BoxStream<'static, Vec<u8>>,
            ))
        })
    }
}

/// Publishes waiting for their acknowledgement, by the number in their reply subject.
type Waiting = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<usize, EngineError>>>>>;

struct NatsLink {
    client: Client,
    queue: mpsc::Sender<Publish>,
    /// The writer and the acknowledgements' reader: they end with the link, and with them the
    /// publishes still waiting for an acknowledgement (which fail as closed).
    tasks: Vec<JoinHandle<()>>,
}

/// One publish waiting for the writer, and where its answer goes (none: not acknowledged).
struct Publish {
    topic: String,
    payload: Vec<u8>,
    done: Option<oneshot::Sender<Result<usize, EngineError>>>,
}

impl Drop for NatsLink {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl NatsLink {
    async fn start(client: Client) -> Result<NatsLink, EngineError> {
        let inbox = client.new_inbox();
        let mut acks = client
            .subscribe(format!("{inbox}.*"))
            .await
            .map_err(failed)?;
        let waiting: Waiting = Arc::default();
        let (queue, outbox) = mpsc::channel(QUEUE);
        let answered = Arc::clone(&waiting);
        let read_acks = tokio::spawn(async move {
            while let Some(ack) = acks.next().await {
                let number = ack.subject.rsplit('.').next().and_then(|n| n.parse().ok());
                let sender = number.and_then(|n| lock(&answered).remove(&n));
                if let Some(sender) = sender {
                    let received = usize::from(ack.status != Some(StatusCode::NO_RESPONDERS));
                    let _ = sender.send(Ok(received));
                }
            }
        });
        let write = tokio::spawn(write(client.clone(), inbox, outbox, waiting));
        Ok(NatsLink {
            client,
            queue,
            tasks: vec![read_acks, write],
        })
    }

    /// Publishes the node's hello (or goodbye, for a lease of zero) on the lease subject, and
    /// waits until the server has it.
    async fn announce(&self, key: &str, node: &str, lease: Duration) -> Result<(), EngineError> {
        self.client
            .publish(key.to_owned(), announcement(node, lease).into())
            .await
            .map_err(failed)?;
        tokio::time::timeout(TIMEOUT, self.client.flush())
            .await
            .map_err(|_| EngineError::Closed)?
            .map_err(failed)
    }
}

/// The writer: every publish in the order queued, each with a reply subject of its own under
/// the link's inbox; the acknowledgements' reader answers them.
async fn write(
    client: Client,
    inbox: String,
    mut outbox: mpsc::Receiver<Publish>,
    waiting: Waiting,
) {
    // Numbers only this task hands out.
    let mut next: u64 = 0;
    let mut batch = Vec::with_capacity(BATCH);
    while outbox.recv_many(&mut batch, BATCH).await > 0 {
        for publish in batch.drain(..) {
            let Some(done) = publish.done else {
                // Not acknowledged; a failure is the asker's timeout.
                let _ = client.publish(publish.topic, publish.payload.into()).await;
                continue;
            };
            let number = next;
            next = next.wrapping_add(1);
            lock(&waiting).insert(number, done);
            let sent = client
                .publish_with_reply(
                    publish.topic,
                    format!("{inbox}.{number}"),
                    publish.payload.into(),
                )
                .await;
            if let Err(error) = sent
                && let Some(done) = lock(&waiting).remove(&number)
            {
                let _ = done.send(Err(failed(error)));
            }
        }
    }
}

/// Locks a map of the link's; a poisoned lock still holds consistent entries.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Link for NatsLink {
    fn publish(&self, topic: &str, payload: Vec<u8>) -> BoxFuture<'_, Result<usize, EngineError>> {
        let (done, answer) = oneshot::channel();
        let queued = enqueue(
            &self.queue,
            Publish {
                topic: topic.to_owned(),
                payload,
                done: Some(done),
            },
        );
        Box::pin(async move {
            queued?;
            match tokio::time::timeout(TIMEOUT, answer).await {
                Ok(answer) => answer.unwrap_or(Err(EngineError::Closed)),
                Err(_) => Err(EngineError::NoAcknowledgement(TIMEOUT)),
            }
        })
    }

    fn notify(&self, topic: &str, payload: Vec<u8>) -> BoxFuture<'_, Result<(), EngineError>> {
        let queued = enqueue(
            &self.queue,
            Publish {
                topic: topic.to_owned(),
                payload,
                done: None,
            },
        );
        Box::pin(std::future::ready(queued))
    }

    fn renew<'a>(
        &'a self,
        key: &'a str,
        node: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<(String, Duration)>, EngineError>> {
        Box::pin(async move {
            // The others learn this node's lease from the hello itself.
            self.announce(key, node, lease).await?;
            Ok(vec![(node.to_owned(), lease)])
        })
    }

    fn withdraw<'a>(
        &'a self,
        key: &'a str,
        node: &'a str,
    ) -> BoxFuture<'a, Result<(), EngineError>> {
        Box::pin(async move { self.announce(key, node, Duration::ZERO).await })
    }
}

/// A NATS client's error, as the cluster sees an engine's.
fn failed(error: impl std::error::Error + Send + Sync + 'static) -> EngineError {
    EngineError::Client(Arc::new(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_names_one_or_more_servers_and_keeps_its_credentials_out_of_sight() {
        let nats = Nats::new("nats://user:secret@127.0.0.1:4222,127.0.0.1:4223").unwrap();
        assert_eq!(nats.servers.len(), 2);
        assert_eq!(
            nats.describe(),
            "NATS at nats://127.0.0.1:4222,127.0.0.1:4223"
        );
        for url in ["nats://", "nats://user:secret@"] {
            match Nats::new(url) {
                Err(ClusterError::Url {
                    url: shown,
                    message,
                }) => {
                    assert!(!shown.contains("secret"), "{shown}");
                    assert!(message.contains("nats://host:port"), "{message}");
                }
                Ok(_) => panic!("{url} was accepted"),
            }
        }
    }
}
