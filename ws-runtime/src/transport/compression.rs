//! permessage-deflate (RFC 7692): whether a server accepts a client's offer, on what terms, and
//! for how many connections at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How a server answers a client that offers `permessage-deflate` (every browser does).
///
/// A deflate context is large: about 250 KiB for a connection that keeps its dictionary between
/// messages, held for as long as the connection lives (BENCHMARKS.md, "Compression"). So at most
/// `max_connections` connections compress at once; the offers of the others are declined, and
/// they run as if compression were off. Without context takeover a context is held only while a
/// message is compressed or inflated, borrowed from a pool the connections share: cheap to hold,
/// but a short message then compresses to about its own size, at twice the CPU.
///
/// ```
/// use ws_runtime::{Compression, Router};
///
/// // Off: every frame goes as it is, whatever the client offers.
/// let router = Router::new().compression(Compression::Off);
/// // Bounded memory: no dictionary kept between messages, a smaller window.
/// let router = Router::new().compression(Compression::Deflate {
///     threshold: 128,
///     context_takeover: false,
///     window_bits: 11,
///     max_connections: 10_000,
/// });
/// # let _ = router;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// The offer is declined: no frame is compressed either way.
    Off,
    /// The offer is accepted.
    Deflate {
        /// Messages shorter than this many bytes go uncompressed: deflating a few bytes costs
        /// more than it saves.
        threshold: usize,
        /// Whether each direction keeps its dictionary from one message to the next (RFC 7692
        /// §7.1.1). Kept, a stream of similar JSON messages compresses several times better,
        /// and each connection holds its contexts; not kept (`server_no_context_takeover` and
        /// `client_no_context_takeover` in the answer), contexts are pooled between messages.
        context_takeover: bool,
        /// The server's LZ77 window, as a power of two (9 to 15, RFC 7692 §7.1.2.1): a
        /// smaller window is a smaller context and a worse ratio. A client whose offer lets the
        /// server choose its window (`client_max_window_bits` with no value) is given the
        /// smallest, 9: what the server inflates is then cheap to hold. A client that does not
        /// offer it keeps its own (the answer may not name it, §7.1.2.2).
        window_bits: u8,
        /// How many connections may compress at once; a handshake over it is answered without
        /// the extension.
        max_connections: usize,
    },
}

impl Default for Compression {
    /// Accepted, with the dictionary kept, a 4 KiB window, messages under 64 bytes sent as they
    /// are, for up to 1,000 connections at once (about 250 MB of contexts).
    fn default() -> Compression {
        Compression::Deflate {
            threshold: 64,
            context_takeover: true,
            window_bits: 12,
            max_connections: 1_000,
        }
    }
}

/// The window sizes RFC 7692 §7.1.2 allows.
const WINDOW_BITS: std::ops::RangeInclusive<u8> = 9..=15;

/// Contexts kept for reuse by connections that do not keep their own.
const POOLED_CONTEXTS: usize = 64;

impl Compression {
    /// This setting for at most `connections` compressing at once: off for 0, the default's
    /// terms when it was off.
    pub(crate) fn for_connections(self, connections: usize) -> Compression {
        match (connections, self) {
            (0, _) => Compression::Off,
            (
                _,
                Compression::Deflate {
                    threshold,
                    context_takeover,
                    window_bits,
                    ..
                },
            ) => Compression::Deflate {
                threshold,
                context_takeover,
                window_bits,
                max_connections: connections,
            },
            (_, Compression::Off) => Compression::default().for_connections(connections),
        }
    }

    /// The socket library's terms for this setting, `None` when off.
    pub(crate) fn deflate(self) -> Option<yawc::DeflateOptions> {
        let Compression::Deflate {
            threshold,
            context_takeover,
            window_bits,
            ..
        } = self
        else {
            return None;
        };
        let bits = window_bits.clamp(*WINDOW_BITS.start(), *WINDOW_BITS.end());
        let mut options = yawc::DeflateOptions::low_latency();
        options.compression_threshold = threshold;
        options.server_max_window_bits = Some(bits);
        // Named only when the client offered it: the library's answer would otherwise name
        // it unasked, which §7.1.2.2 forbids and strict clients fail on.
        options.client_max_window_bits = None;
        options.server_no_context_takeover = !context_takeover;
        options.client_no_context_takeover = !context_takeover;
        if !context_takeover {
            options.pool = Some(yawc::DeflatePool::new(POOLED_CONTEXTS));
        }
        Some(options)
    }
}

/// The connections that hold a deflate context now, against [`Compression`]'s bound.
#[derive(Debug, Default)]
pub(crate) struct Contexts {
    held: Arc<AtomicUsize>,
    max: usize,
}

impl Contexts {
    pub fn new(compression: Compression) -> Contexts {
        let max = match compression {
            Compression::Off => 0,
            Compression::Deflate {
                max_connections, ..
            } => max_connections,
        };
        Contexts {
            held: Arc::default(),
            max,
        }
    }

    /// A context for one more connection, unless `max_connections` hold one.
    pub fn take(&self) -> Option<DeflateSlot> {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                (held < self.max).then_some(held + 1)
            })
            .ok()?;
        Some(DeflateSlot(Arc::clone(&self.held)))
    }
}

/// One connection's right to a deflate context, given back when dropped (when the connection's
/// parts are, after `$disconnect`, or with a handshake that never completes).
#[derive(Debug)]
pub(crate) struct DeflateSlot(Arc<AtomicUsize>);

impl Drop for DeflateSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_max_connections_hold_a_context_and_a_dropped_slot_is_given_back() {
        let contexts = Contexts::new(Compression::Deflate {
            threshold: 0,
            context_takeover: true,
            window_bits: 12,
            max_connections: 2,
        });
        let first = contexts.take().unwrap();
        let second = contexts.take().unwrap();
        assert!(contexts.take().is_none());
        drop(first);
        let third = contexts.take();
        assert!(third.is_some());
        assert!(contexts.take().is_none());
        drop((second, third));
        assert_eq!(contexts.held.load(Ordering::Acquire), 0);
        assert!(Contexts::new(Compression::Off).take().is_none());
    }
}
