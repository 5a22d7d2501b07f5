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

use crate::transport::limits::Limits;

/// When a request's handshake must be over: `Limits::handshake_timeout` after its TCP accept. It
/// rides in the request's extensions, so that the verifiers and `authorize` are bounded by it too.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HandshakeDeadline(pub tokio::time::Instant);

/// What turns an accepted socket into a TLS stream (feature `tls`); without the feature, there
/// is none.
#[cfg(feature = "tls")]
pub(crate) type Acceptor = crate::transport::tls::Tls;
/// What turns an accepted socket into a TLS stream (feature `tls`); without the feature, there
/// is none.
#[cfg(not(feature = "tls"))]
pub(crate) type Acceptor = std::convert::Infallible;

/// Serves `router` on `listener` (over TLS with `tls`) until `stop` says so; then lets every
/// HTTP request in flight finish (upgraded WebSockets are the server's to close).
pub(crate) async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: &Limits,
    tls: Option<Acceptor>,
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
                // Without the `tls` feature there is no acceptor, and the `Option` is `Copy`.
                #[allow(clippy::clone_on_copy)]
                let tls = tls.clone();
                tokio::spawn(accept(
                    stream,
                    peer,
                    router.clone(),
                    limits.handshake_timeout,
                    ticket,
                    tls,
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

/// One accepted socket: its TLS handshake (with `tls`) and its HTTP request's head, both within
/// `timeout`, then HTTP (and an upgrade) as long as it lasts.
async fn accept(
    stream: TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    timeout: Duration,
    ticket: Ticket,
    tls: Option<Acceptor>,
    stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let deadline = tokio::time::Instant::now() + timeout;
    let Some(acceptor) = tls else {
        return connection(stream, peer, router, deadline, ticket, stop).await;
    };
    #[cfg(not(feature = "tls"))]
    match acceptor {}
    #[cfg(feature = "tls")]
    {
        if acceptor.plain_too {
            // A TLS connection opens with a handshake record (type 22); anything else is plain.
            let mut first = [0u8; 1];
            let peeked = tokio::select! {
                peeked = tokio::time::timeout_at(deadline, stream.peek(&mut first)) => peeked,
                () = ticket.slot.evicted.notified() => return,
            };
            match peeked {
                Ok(Ok(1)) if first[0] != 22 => {
                    return connection(stream, peer, router, deadline, ticket, stop).await;
                }
                Ok(Ok(1)) => {}
                // Closed, failed or silent before its first byte: nothing to serve.
                _ => return,
            }
        }
        let handshake = tokio::select! {
            handshake = tokio::time::timeout_at(deadline, acceptor.acceptor.accept(stream)) => handshake,
            () = ticket.slot.evicted.notified() => return,
        };
        match handshake {
            Ok(Ok(stream)) => connection(stream, peer, router, deadline, ticket, stop).await,
            Ok(Err(error)) => tracing::debug!(%error, %peer, "the TLS handshake failed"),
            Err(_) => {
                tracing::debug!(%peer, "dropped a connection that did not finish its TLS handshake")
            }
        }
    }
}

/// HTTP on an accepted (and, with TLS, decrypted) stream: its request's head by `deadline`.
async fn connection<S>(
    stream: S,
    peer: SocketAddr,
    router: axum::Router,
    deadline: tokio::time::Instant,
    ticket: Ticket,
    mut stop: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let timeout = deadline.saturating_duration_since(tokio::time::Instant::now());
    let started = Arc::clone(&ticket.slot);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        // The request's head has been read: the handshake is in.
        started.finish();
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(HandshakeDeadline(deadline));
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
            () = tokio::time::sleep_until(deadline) => {}
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
