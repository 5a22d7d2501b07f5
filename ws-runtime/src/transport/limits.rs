//! Limits, with Amazon API Gateway's values as defaults where it has one.

use std::time::{Duration, Instant};

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
    /// connection is accepted; then the connection is dropped. The verifiers and `authorize`
    /// finish within the same deadline, or the handshake gets HTTP 504. Default 10 seconds.
    pub handshake_timeout: Duration,
    /// How long `$connect` may run; then the handshake gets HTTP 504 `Endpoint request timed
    /// out`, and the connection never opens. Default 29 seconds (API Gateway's integration
    /// timeout).
    pub connect_timeout: Duration,
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
    /// Messages one connection may send: over it a message is refused with a
    /// `{"message": "Too Many Requests", …}` error frame (no handler runs) and counted in
    /// `ws_messages_throttled`; the connection stays open. Default: none (API Gateway throttles
    /// per account and route, not per connection).
    pub message_rate: Option<Rate>,
    /// Handshakes one source address may make: over it the handshake gets HTTP 429 before
    /// anything else runs. Default: none.
    pub handshake_rate: Option<Rate>,
    /// Messages one principal (a subject `authorize` let in) may send across all its
    /// connections on this node, as `message_rate` refuses them. Default: none.
    pub principal_message_rate: Option<Rate>,
}

/// A token bucket: `burst` at once, then `per_second` (API Gateway's throttling model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// The steady rate, per second.
    pub per_second: u32,
    /// How many at once, from a full bucket.
    pub burst: u32,
}

impl Rate {
    /// `per_second`, with bursts of `burst`.
    pub fn new(per_second: u32, burst: u32) -> Rate {
        Rate { per_second, burst }
    }
}

/// One bucket of a [`Rate`]: full at first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    pub fn full(rate: Rate, now: Instant) -> Bucket {
        Bucket {
            tokens: f64::from(rate.burst),
            at: now,
        }
    }

    /// Takes a token if there is one (after refilling for the time since the last call).
    pub fn take(&mut self, rate: Rate, now: Instant) -> bool {
        let refill =
            now.saturating_duration_since(self.at).as_secs_f64() * f64::from(rate.per_second);
        self.tokens = (self.tokens + refill).min(f64::from(rate.burst));
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether it would be full by `now`: a bucket that forgets nothing.
    pub fn is_full(&self, rate: Rate, now: Instant) -> bool {
        let refill =
            now.saturating_duration_since(self.at).as_secs_f64() * f64::from(rate.per_second);
        self.tokens + refill >= f64::from(rate.burst)
    }
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
            connect_timeout: Duration::from_secs(29),
            max_pending_handshakes: 1_024,
            outbound_queue: 1_024,
            outbound_queue_bytes: 1024 * 1024,
            slow_reader_grace: Duration::from_secs(5),
            shutdown_deadline: Duration::from_secs(10),
            message_rate: None,
            handshake_rate: None,
            principal_message_rate: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_gives_its_burst_then_its_rate() {
        let rate = Rate::new(10, 3);
        let start = Instant::now();
        let mut bucket = Bucket::full(rate, start);
        let taken = (0..5).filter(|_| bucket.take(rate, start)).count();
        assert_eq!(taken, 3);
        // 10 a second: one more after 100 ms, not before.
        assert!(!bucket.take(rate, start + Duration::from_millis(50)));
        assert!(bucket.take(rate, start + Duration::from_millis(101)));
        assert!(!bucket.is_full(rate, start + Duration::from_millis(101)));
        assert!(bucket.is_full(rate, start + Duration::from_secs(1)));
        // Never more than the burst, however long it waited.
        let later = start + Duration::from_secs(60);
        assert_eq!((0..10).filter(|_| bucket.take(rate, later)).count(), 3);
    }
}
