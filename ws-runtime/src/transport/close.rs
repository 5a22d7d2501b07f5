//! Why the server closes a connection: each reason with the close code and the text the client
//! reads, so that code branches on the reason, never on its code or text.

use serde::Serialize;

/// Why the server closed a connection. [`code`](CloseReason::code) and
/// [`text`](CloseReason::text) are what the close frame carries.
///
/// ```
/// use ws_runtime::CloseReason;
///
/// assert_eq!(CloseReason::TokenExpired.code(), 4001);
/// assert_eq!(CloseReason::SlowReader.code(), 1008);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CloseReason {
    /// `DELETE @connections/{id}` (1000).
    Disconnected,
    /// The server is shutting down (1001).
    ShuttingDown,
    /// The connection reached [`Limits::max_lifetime`](crate::Limits::max_lifetime) (1001).
    MaxLifetime,
    /// No message either way for [`Limits::idle_timeout`](crate::Limits::idle_timeout) (1001).
    Idle,
    /// The token the connection authenticated with expired (4001, a code of the application
    /// range, so that a client can tell it from the others and sign in again).
    TokenExpired,
    /// The client reads too slowly: its outbound queue stayed over a bound for the grace
    /// period, or a write waited that long (1008).
    SlowReader,
    /// A binary frame, on an API that speaks JSON text (1003).
    BinaryFrame,
    /// A frame or message over the size limits (1009).
    TooBig,
    /// A text frame that is not UTF-8 (1007).
    NotUtf8,
    /// A violation of the WebSocket protocol (1002).
    ProtocolError,
    /// A compressed message that does not inflate (1011: RFC 7692 §8 names no code, and the
    /// socket library closes with this one).
    BadCompression,
}

impl CloseReason {
    /// The close code the frame carries.
    pub fn code(self) -> u16 {
        match self {
            CloseReason::Disconnected => 1000,
            CloseReason::ShuttingDown | CloseReason::MaxLifetime | CloseReason::Idle => 1001,
            CloseReason::ProtocolError => 1002,
            CloseReason::BinaryFrame => 1003,
            CloseReason::NotUtf8 => 1007,
            CloseReason::SlowReader => 1008,
            CloseReason::TooBig => 1009,
            CloseReason::BadCompression => 1011,
            CloseReason::TokenExpired => 4001,
        }
    }

    /// The reason the frame carries, for people.
    pub fn text(self) -> &'static str {
        match self {
            CloseReason::Disconnected => "disconnected by the server",
            CloseReason::ShuttingDown => "the server is shutting down",
            CloseReason::MaxLifetime => "the connection reached its maximum lifetime",
            CloseReason::Idle => "the connection was idle too long",
            CloseReason::TokenExpired => "the token expired",
            CloseReason::SlowReader => "outbound queue full: the client reads too slowly",
            CloseReason::BinaryFrame => "binary frames are not accepted: this API speaks JSON text",
            CloseReason::TooBig => "the message is larger than the server accepts",
            CloseReason::NotUtf8 => "the text is not UTF-8",
            CloseReason::ProtocolError => "WebSocket protocol error",
            CloseReason::BadCompression => "the compressed message does not inflate",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CloseReason;

    const ALL: [CloseReason; 11] = [
        CloseReason::Disconnected,
        CloseReason::ShuttingDown,
        CloseReason::MaxLifetime,
        CloseReason::Idle,
        CloseReason::TokenExpired,
        CloseReason::SlowReader,
        CloseReason::BinaryFrame,
        CloseReason::TooBig,
        CloseReason::NotUtf8,
        CloseReason::ProtocolError,
        CloseReason::BadCompression,
    ];

    #[test]
    fn every_reason_fits_a_close_frame_and_has_a_code_a_server_may_send() {
        for reason in ALL {
            // RFC 6455 §5.5: a control frame's payload is at most 125 bytes, 2 of them the code.
            assert!(reason.text().len() <= 123, "{reason:?}");
            // 1005, 1006 and 1015 are never sent in a frame; 4000-4999 are the application's.
            let code = reason.code();
            assert!(
                matches!(code, 1000..=1003 | 1007..=1011 | 4000..=4999),
                "{reason:?}"
            );
        }
    }
}
