//! Accepting connections: HTTP/1.1 on each accepted socket, with a deadline for its handshake and
//! a bound on how many sockets may be in their handshake at once, so that clients that connect
//! and never finish a request (slow loris) cannot hold the server's sockets or keep real clients
//! out.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

use crate::limits::Limits;

/// Serves `router` on `listener` until `stop` says so; then lets every HTTP request in flight
/// finish (upgraded WebSockets are the server's to close).
pub(crate) async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: &Limits,
    mut stop: watch::Receiver<bool>,
) {
    let handshakes = Arc::new(Handshakes {
        bound: limits.max_pending_handshakes.max(1),
        pending: Mutex::default(),
    });
    loop {
        let accepted = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let ticket = handshakes.enter();
                tokio::spawn(connection(
                    stream,
                    peer,
                    router.clone(),
                    limits.handshake_timeout,
                    ticket,
                    stop.clone(),
                ));
            }
            // Out of file descriptors, say: the sockets in their handshake time out, and
            // accepting resumes.
            Err(error) => {
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// One accepted socket: its handshake within `timeout`, then HTTP (and an upgrade) as long as it
/// lasts.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    timeout: Duration,
    ticket: Ticket,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let started = Arc::clone(&ticket.slot);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        // The request's head has been read: the handshake is in.
        started.finish();
        request.extensions_mut().insert(ConnectInfo(peer));
        tower_service::Service::call(&mut router.clone(), request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeout);
    let conn = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    let cut = async {
        tokio::select! {
            () = tokio::time::sleep(timeout) => {}
            () = ticket.slot.evicted.notified() => {}
        }
        if ticket.slot.is_finished() {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%error, %peer, "the HTTP connection ended with an error");
            }
            return;
        }
        () = cut => {
            tracing::debug!(%peer, "dropped a connection that did not finish its handshake");
            return;
        }
        _ = stop.wait_for(|stop| *stop) => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}

/// The sockets in their handshake, by arrival: the first is the oldest.
struct Handshakes {
    bound: usize,
    pending: Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    next: u64,
    slots: BTreeMap<u64, Arc<Slot>>,
}

/// One socket's place among the handshakes.
struct Slot {
    /// Its key in `Pending::slots`.
    id: u64,
    finished: AtomicBool,
    /// Told when the slot is given to a newer socket.
    evicted: Notify,
    handshakes: std::sync::Weak<Handshakes>,
}

/// Leaves the handshakes when dropped (the socket closed before its request was read).
struct Ticket {
    slot: Arc<Slot>,
}

impl Handshakes {
    /// Takes a place, dropping the oldest socket still in its handshake when all are taken.
    fn enter(self: &Arc<Self>) -> Ticket {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.slots.len() >= self.bound
            && let Some((_, oldest)) = pending.slots.pop_first()
        {
            oldest.evicted.notify_one();
        }
        let slot = Arc::new(Slot {
            id: pending.next,
            finished: AtomicBool::new(false),
            evicted: Notify::new(),
            handshakes: Arc::downgrade(self),
        });
        pending.next += 1;
        pending.slots.insert(slot.id, Arc::clone(&slot));
        Ticket { slot }
    }
}

impl Slot {
    fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// The handshake is over (done, or the socket is gone): the place is free.
    fn finish(self: &Arc<Self>) {
        if self.finished.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(handshakes) = self.handshakes.upgrade() {
            handshakes
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .slots
                .remove(&self.id);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.slot.finish();
    }
}
