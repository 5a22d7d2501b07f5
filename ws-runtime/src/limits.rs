//! Limits, with Amazon API Gateway's values as defaults where it has one.

use std::time::Duration;

/// Every limit the server enforces. `Limits::default()` is API Gateway's where API Gateway has
/// the limit, and otherwise a value that no well-behaved client reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame; over it the connection is closed with 1009. Default 32 KiB.
    pub max_frame_size: usize,
    /// Largest message (all frames of it); over it the connection is closed with 1009.
    /// Default 128 KiB.
    pub max_message_size: usize,
    /// A connection with no message either way for this long is closed with 1001.
    /// Default 10 minutes.
    pub idle_timeout: Duration,
    /// A connection is closed with 1001 after this long, whatever it does. Default 2 hours.
    pub max_lifetime: Duration,
    /// Open connections at most; further upgrades get HTTP 429. Default 10,000.
    pub max_connections: usize,
    /// How long a client has to send its whole HTTP request (the handshake) after its TCP
    /// connection is accepted; then the connection is dropped. Default 10 seconds.
    pub handshake_timeout: Duration,
    /// Connections still in their handshake at most; when another arrives, the oldest of them is
    /// dropped, so clients that never finish (slow loris) cannot keep real ones out.
    /// Default 1,024.
    pub max_pending_handshakes: usize,
    /// Frames waiting to be written to one connection before it counts as behind. Default 1,024.
    pub outbound_queue: usize,
    /// Bytes waiting to be written to one connection before it counts as behind. Default 1 MiB.
    pub outbound_queue_bytes: usize,
    /// How long a connection may stay behind (over `outbound_queue` frames or
    /// `outbound_queue_bytes` bytes) before it is closed with 1008: a burst that a reading client
    /// drains within this time costs it nothing. A connection twice over either bound is closed
    /// at once and refused further frames, so a client that never reads holds at most twice the
    /// bounds in server memory. Default 5 seconds.
    pub slow_reader_grace: Duration,
    /// How long a graceful shutdown waits for `$disconnect` handlers. Default 10 seconds.
    pub shutdown_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_frame_size: 32 * 1024,
            max_message_size: 128 * 1024,
            idle_timeout: Duration::from_secs(10 * 60),
            max_lifetime: Duration::from_secs(2 * 60 * 60),
            max_connections: 10_000,
            handshake_timeout: Duration::from_secs(10),
            max_pending_handshakes: 1_024,
            outbound_queue: 1_024,
            outbound_queue_bytes: 1024 * 1024,
            slow_reader_grace: Duration::from_secs(5),
            shutdown_deadline: Duration::from_secs(10),
        }
    }
}
