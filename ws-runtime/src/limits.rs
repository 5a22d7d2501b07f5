//! Limits, with Amazon API Gateway's values as defaults.

use std::time::Duration;

/// Every limit the server enforces. `Limits::default()` is API Gateway's.
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
    /// Frames waiting to be written to one connection. When a send finds the queue full, the
    /// connection is closed with 1008: a reader that slow never grows server memory.
    /// Default 64.
    pub outbound_queue: usize,
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
            outbound_queue: 64,
            shutdown_deadline: Duration::from_secs(10),
        }
    }
}
