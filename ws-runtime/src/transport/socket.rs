//! The seam around the WebSocket implementation (yawc, with permessage-deflate): the rest of the
//! server sees only these types, so the codec can be swapped by changing this file (and
//! `dial.rs`, the client's side).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::Utf8Bytes;
use axum::http::header::SEC_WEBSOCKET_EXTENSIONS;
use axum::http::{HeaderMap, HeaderName};
use futures_util::{FutureExt, SinkExt};
use yawc::close::CloseCode;
use yawc::frame::OpCode;
use yawc::{Frame, HttpStream, WebSocket, WebSocketError};

use crate::transport::close::CloseReason;
use crate::transport::compression::{Compression, Contexts, DeflateSlot};
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
    Binary(Bytes),
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

/// The socket's settings for every connection: the size limits, small buffers, and the terms
/// of permessage-deflate with its bound. Built once per server.
#[derive(Debug)]
pub(crate) struct Settings {
    /// For a connection that may compress.
    deflate: yawc::Options,
    /// For every other.
    plain: yawc::Options,
    contexts: Contexts,
}

impl Settings {
    pub fn new(limits: &Limits, compression: Compression) -> Settings {
        // The library refuses a payload as long as its bound; the limits are inclusive.
        let plain = yawc::Options::default()
            .with_max_payload_read(limits.max_frame_size.saturating_add(1))
            .with_max_read_buffer(limits.max_message_size.saturating_add(1))
            // Small buffers keep idle connections cheap; bigger messages grow them as needed,
            // and the library gives the growth back once the message is through. 1 KiB against
            // 2 KiB: 1 KiB less per idle connection, and the same CPU per message on 1.5 KB
            // messages, which outgrow it (BENCHMARKS.md, issue 42).
            .with_read_buffer_capacity(1024)
            .with_write_buffer_capacity(0)
            .with_no_delay()
            .without_compression();
        // Text is checked here, once, as it becomes `Utf8Bytes` (`Socket::next`).
        let plain = yawc::Options {
            check_utf8: false,
            ..plain
        };
        let deflate = yawc::Options {
            compression: compression.deflate(),
            ..plain.clone()
        };
        Settings {
            deflate,
            plain,
            contexts: Contexts::new(compression),
        }
    }

    /// The options for a handshake with these headers, and the slot of its deflate context when
    /// it offers permessage-deflate and one is free (its offer is declined otherwise).
    pub fn for_handshake(&self, headers: &HeaderMap) -> (yawc::Options, Option<DeflateSlot>) {
        let offered = list_elements(headers, SEC_WEBSOCKET_EXTENSIONS).any(|offer| {
            offer
                .split(';')
                .next()
                .is_some_and(|name| name.trim().eq_ignore_ascii_case("permessage-deflate"))
        });
        match offered.then(|| self.contexts.take()).flatten() {
            Some(slot) => (self.deflate.clone(), Some(slot)),
            None => (self.plain.clone(), None),
        }
    }
}

/// The elements of a header that is a comma-separated list (RFC 9110 §5.6.1), across all its
/// lines, trimmed: `Connection`'s options, `Sec-WebSocket-Extensions`' offers.
pub(crate) fn list_elements(headers: &HeaderMap, name: HeaderName) -> impl Iterator<Item = &str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
}

/// How long a close may take to write: a client that does not read does not hold its task.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// One connection's socket. Reads and writes take turns in the connection's task, so the socket
/// is not split: a split's lock and wakers would cost every frame both ways.
pub(crate) struct Socket(WebSocket<HttpStream>);

impl Socket {
    pub fn new(socket: WebSocket<HttpStream>) -> Socket {
        Socket(socket)
    }

    /// The next message (fragments joined, inflated) or control frame from the client. Cancel
    /// safe: a frame half read stays in the codec.
    pub async fn next(&mut self) -> Inbound {
        let frame = match self.0.next_frame().await {
            Ok(frame) => frame,
            // The library has sent its close frame already (1009, 1007, 1002) where the error
            // is the client's.
            Err(error) => return inbound_error(error),
        };
        match frame.opcode() {
            OpCode::Text => match Utf8Bytes::try_from(frame.into_payload()) {
                Ok(text) => Inbound::Text(text),
                Err(_) => Inbound::Invalid(CloseReason::NotUtf8),
            },
            OpCode::Binary => Inbound::Binary,
            OpCode::Close => {
                let (code, reason) = code_and_reason(&frame);
                Inbound::Close(code, reason)
            }
            // RFC 6455 §5.5: a control frame's payload is 125 bytes at most. The library checks
            // pings (and answers them); a pong is checked here.
            OpCode::Pong if frame.payload().len() > 125 => {
                Inbound::Invalid(CloseReason::ProtocolError)
            }
            // Continuations never come out whole.
            OpCode::Ping | OpCode::Pong | OpCode::Continuation => Inbound::Control,
        }
    }

    /// Sends a frame; `false` when the connection is gone. (Not an `async fn`: the future is
    /// the sink's own, with no copy of the frame beside it.)
    pub fn send(&mut self, frame: Outbound) -> impl Future<Output = bool> + '_ {
        let frame = match frame {
            Outbound::Text(text) => Frame::text(Bytes::from(text)),
            Outbound::Binary(data) => Frame::binary(data),
        };
        self.0.send(frame).map(|sent| sent.is_ok())
    }

    /// Flushes what the codec queued (the reply to a client's close frame) and ends the sink.
    pub async fn finish(&mut self) {
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.0.close()).await;
    }

    /// Sends a close frame (best effort) and flushes.
    pub async fn close(&mut self, reason: CloseReason) {
        // Every reason's text is within RFC 6455's 123 bytes (a test says so).
        let frame = Frame::close(CloseCode::from(reason.code()), reason.text());
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
            let _ = self.0.send(frame).await;
            let _ = self.0.close().await;
        })
        .await;
    }
}

/// A close frame's code (1005 when it gives none, RFC 6455 §7.1.5) and reason.
pub(crate) fn code_and_reason(frame: &Frame) -> (u16, String) {
    match frame.close_code() {
        Some(code) => (
            code.into(),
            frame
                .close_reason()
                .ok()
                .flatten()
                .unwrap_or_default()
                .to_owned(),
        ),
        None => (1005, String::new()),
    }
}

/// What a read error means for the connection.
fn inbound_error(error: WebSocketError) -> Inbound {
    match error {
        WebSocketError::FrameTooLarge => Inbound::TooBig,
        WebSocketError::InvalidUTF8 => Inbound::Invalid(CloseReason::NotUtf8),
        WebSocketError::ReservedBitsNotZero
        | WebSocketError::ControlFrameFragmented
        | WebSocketError::PingFrameTooLarge
        | WebSocketError::InvalidFragment
        | WebSocketError::InvalidCloseFrame
        | WebSocketError::InvalidCloseCode
        | WebSocketError::InvalidContinuationFrame
        | WebSocketError::InvalidOpCode(_)
        | WebSocketError::CompressionNotSupported => Inbound::Invalid(CloseReason::ProtocolError),
        // What inflating reports: the message's data is not deflate's.
        WebSocketError::IoError(error) if error.kind() == std::io::ErrorKind::InvalidInput => {
            Inbound::Invalid(CloseReason::BadCompression)
        }
        _ => Inbound::Broken,
    }
}
