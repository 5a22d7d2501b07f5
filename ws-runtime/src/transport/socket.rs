//! The seam around the WebSocket implementation (axum's, on tungstenite): the rest of the
//! runtime sees only these types, so the codec can be swapped by changing this file.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use futures_util::{FutureExt, SinkExt, StreamExt};

use crate::transport::close::CloseReason;
use crate::transport::limits::Limits;

/// What arrived from the client.
pub(crate) enum Inbound {
    Text(Utf8Bytes),
    Binary,
    /// A ping or a pong: the codec answers pings itself.
    Control,
    /// The client closed, with a code (1005 when it gave none).
    Close(u16, String),
    /// A frame or message over the size limits.
    TooBig,
    /// A protocol violation or text that is not UTF-8.
    Invalid(CloseReason),
    /// The connection broke without a close handshake.
    Broken,
}

/// A frame queued for a client: text (every message of a JSON API), or binary (what the
/// management API is given that is not UTF-8).
#[derive(Debug, Clone)]
pub(crate) enum Outbound {
    Text(Utf8Bytes),
    Binary(axum::body::Bytes),
}

impl Outbound {
    /// Its payload's length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Outbound::Text(text) => text.len(),
            Outbound::Binary(data) => data.len(),
        }
    }
}

/// Applies the size limits and small buffers to an upgrade.
pub(crate) fn configure(upgrade: WebSocketUpgrade, limits: &Limits) -> WebSocketUpgrade {
    upgrade
        .max_frame_size(limits.max_frame_size)
        .max_message_size(limits.max_message_size)
        // Small buffers keep idle connections cheap; bigger messages grow them as needed.
        // tungstenite zeroes the read window before each read, so an idle connection holds all
        // of it: 2 KiB against 4 KiB cost nothing measurable on 70-byte or 16 KB messages
        // (BENCHMARKS.md) and 2 KiB less per connection.
        .read_buffer_size(2 * 1024)
        .write_buffer_size(0)
}

/// How long a close may take to write: a client that does not read does not hold its task.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// One connection's socket. Reads and writes take turns in the connection's task, so the socket
/// is not split: a split's lock and wakers would cost every frame both ways.
pub(crate) struct Socket(WebSocket);

impl Socket {
    pub fn new(socket: WebSocket) -> Socket {
        Socket(socket)
    }

    /// The next frame from the client. Cancel safe: a frame half read stays in the codec.
    pub async fn next(&mut self) -> Inbound {
        match self.0.next().await {
            None => Inbound::Broken,
            Some(Ok(Message::Text(text))) => Inbound::Text(text),
            Some(Ok(Message::Binary(_))) => Inbound::Binary,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Inbound::Control,
            Some(Ok(Message::Close(frame))) => match frame {
                Some(frame) => Inbound::Close(frame.code, frame.reason.to_string()),
                None => Inbound::Close(1005, String::new()),
            },
            Some(Err(error)) => {
                // axum wraps tungstenite's error; its kind says which close this is.
                match error
                    .into_inner()
                    .downcast::<tungstenite::Error>()
                    .map(|e| *e)
                {
                    Ok(tungstenite::Error::Capacity(_)) => Inbound::TooBig,
                    Ok(tungstenite::Error::Utf8(_)) => Inbound::Invalid(CloseReason::NotUtf8),
                    Ok(tungstenite::Error::Protocol(_)) => {
                        Inbound::Invalid(CloseReason::ProtocolError)
                    }
                    _ => Inbound::Broken,
                }
            }
        }
    }

    /// Sends a frame; `false` when the connection is gone. (Not an `async fn`: the future is
    /// the sink's own, with no copy of the frame beside it.)
    pub fn send(&mut self, frame: Outbound) -> impl Future<Output = bool> + '_ {
        let message = match frame {
            Outbound::Text(text) => Message::Text(text),
            Outbound::Binary(data) => Message::Binary(data),
        };
        self.0.send(message).map(|sent| sent.is_ok())
    }

    /// Flushes what the codec queued (the reply to a client's close frame) and ends the sink.
    pub async fn finish(&mut self) {
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.0.close()).await;
    }

    /// Sends a close frame (best effort) and flushes.
    pub async fn close(&mut self, reason: CloseReason) {
        // Every reason's text is within RFC 6455's 123 bytes (a test says so).
        let frame = CloseFrame {
            code: reason.code(),
            reason: Utf8Bytes::from_static(reason.text()),
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
            let _ = self.0.send(Message::Close(Some(frame))).await;
            let _ = self.0.close().await;
        })
        .await;
    }
}
