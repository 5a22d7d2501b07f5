//! The connection registry: API Gateway's `@connections`, plus broadcast and groups.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use tokio::sync::{Notify, mpsc};

use crate::handler::Identity;
use crate::ids;

/// A connection's id: a random, unguessable string (128 bits, base64url).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(Arc<str>);

impl Serialize for ConnectionId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl ConnectionId {
    pub(crate) fn random() -> ConnectionId {
        ConnectionId(ids::random().into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
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

/// What `GET @connections/{id}` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo {
    /// Milliseconds since the Unix epoch.
    pub connected_at: u64,
    /// The last message either way, in milliseconds since the Unix epoch.
    pub last_active_at: u64,
    pub identity: Identity,
}

/// Why a send did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No such connection (it closed, or never was): API Gateway's 410.
    #[error("the connection is gone")]
    Gone,
    /// The connection's outbound queue was full: it reads too slowly, and is being closed.
    #[error("the connection's outbound queue is full; it is being closed")]
    SlowReader,
    /// The value could not be serialized to JSON (`send_json`); nothing was sent.
    #[error("the message cannot be JSON: {0}")]
    NotJson(String),
}

/// Close code for a reader that cannot keep up (policy violation).
pub(crate) const SLOW_READER: (u16, &str) =
    (1008, "outbound queue full: the client reads too slowly");

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
}

/// One connection's side of the registry.
pub(crate) struct Entry {
    pub queue: mpsc::Sender<Utf8Bytes>,
    pub close: CloseSignal,
    pub connected_at: u64,
    pub last_active_at: AtomicU64,
    pub identity: Identity,
    groups: Mutex<Vec<String>>,
}

/// A request to close a connection, seen by its task even when its queue is full.
#[derive(Default)]
pub(crate) struct CloseSignal {
    reason: Mutex<Option<(u16, String)>>,
    notify: Notify,
}

impl CloseSignal {
    /// Asks for a close; the first request wins.
    pub fn request(&self, code: u16, reason: &str) {
        let mut slot = self.reason.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some((code, reason.to_owned()));
        }
        drop(slot);
        self.notify.notify_one();
    }

    /// Waits for a close request.
    pub async fn requested(&self) -> (u16, String) {
        loop {
            if let Some(reason) = self
                .reason
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
            {
                return reason;
            }
            self.notify.notified().await;
        }
    }
}

impl Entry {
    pub fn new(queue: mpsc::Sender<Utf8Bytes>, connected_at: u64, identity: Identity) -> Entry {
        Entry {
            queue,
            close: CloseSignal::default(),
            connected_at,
            last_active_at: AtomicU64::new(connected_at),
            identity,
            groups: Mutex::new(Vec::new()),
        }
    }

    pub fn touch(&self) {
        self.last_active_at.store(ids::now_ms(), Ordering::Relaxed);
    }

    fn push(&self, text: Utf8Bytes) -> Result<(), SendError> {
        match self.queue.try_send(text) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.close.request(SLOW_READER.0, SLOW_READER.1);
                Err(SendError::SlowReader)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(SendError::Gone),
        }
    }
}

impl Connections {
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

    pub(crate) fn entry(&self, id: &ConnectionId) -> Option<Arc<Entry>> {
        self.read().get(id).cloned()
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

    /// How many connections are open.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The ids of every open connection.
    pub fn ids(&self) -> Vec<ConnectionId> {
        self.read().keys().cloned().collect()
    }

    /// Sends a text frame to one connection (`POST @connections/{id}`).
    ///
    /// # Errors
    /// [`SendError::Gone`] for an unknown id; [`SendError::SlowReader`] when its queue is full
    /// (the connection is then closed with 1008).
    pub fn send(&self, id: &ConnectionId, text: impl Into<String>) -> Result<(), SendError> {
        let entry = self.entry(id).ok_or(SendError::Gone)?;
        entry.push(Utf8Bytes::from(text.into()))
    }

    /// Sends a value as JSON to one connection.
    ///
    /// # Errors
    /// As [`Connections::send`], and [`SendError::NotJson`] for a value that cannot be JSON
    /// (nothing is sent).
    pub fn send_json<T: Serialize + ?Sized>(
        &self,
        id: &ConnectionId,
        value: &T,
    ) -> Result<(), SendError> {
        let text = serde_json::to_string(value).map_err(|e| SendError::NotJson(e.to_string()))?;
        self.send(id, text)
    }

    /// `GET @connections/{id}`.
    pub fn get(&self, id: &ConnectionId) -> Option<ConnectionInfo> {
        self.entry(id).map(|e| ConnectionInfo {
            connected_at: e.connected_at,
            last_active_at: e.last_active_at.load(Ordering::Relaxed),
            identity: e.identity.clone(),
        })
    }

    /// `DELETE @connections/{id}`: closes the connection with 1000.
    ///
    /// # Errors
    /// [`SendError::Gone`] for an unknown id.
    pub fn disconnect(&self, id: &ConnectionId) -> Result<(), SendError> {
        let entry = self.entry(id).ok_or(SendError::Gone)?;
        entry.close.request(1000, "disconnected by the server");
        Ok(())
    }

    /// Sends to every connection; returns how many queued it. The text is shared, not copied.
    pub fn broadcast(&self, text: impl Into<String>) -> usize {
        self.broadcast_where(text.into(), |_| true)
    }

    /// Sends to every connection but one (the sender, usually).
    pub fn broadcast_except(&self, text: impl Into<String>, except: &ConnectionId) -> usize {
        self.broadcast_where(text.into(), |id| id != except)
    }

    fn broadcast_where(&self, text: String, keep: impl Fn(&ConnectionId) -> bool) -> usize {
        let text = Utf8Bytes::from(text);
        let entries: Vec<Arc<Entry>> = self
            .read()
            .iter()
            .filter(|(id, _)| keep(id))
            .map(|(_, e)| Arc::clone(e))
            .collect();
        entries
            .iter()
            .filter(|e| e.push(text.clone()).is_ok())
            .count()
    }

    /// Adds a connection to a named group.
    ///
    /// # Errors
    /// [`SendError::Gone`] for an unknown id.
    pub fn join(&self, id: &ConnectionId, group: &str) -> Result<(), SendError> {
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
    pub fn leave(&self, id: &ConnectionId, group: &str) {
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

    /// The members of a group.
    pub fn members(&self, group: &str) -> Vec<ConnectionId> {
        self.inner
            .groups
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(group)
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Sends to every member of a group; returns how many queued it.
    pub fn broadcast_group(&self, group: &str, text: impl Into<String>) -> usize {
        let members: HashSet<ConnectionId> = self.members(group).into_iter().collect();
        self.broadcast_where(text.into(), |id| members.contains(id))
    }

    /// Asks every connection to close (server shutdown).
    pub(crate) fn close_all(&self, code: u16, reason: &str) {
        for entry in self.read().values() {
            entry.close.request(code, reason);
        }
    }
}
