//! permessage-deflate (RFC 7692): whether a server accepts a client's offer, and on what terms.

/// How a server answers a client that offers `permessage-deflate` (every browser does).
///
/// A deflate context is large: one that keeps its dictionary between messages holds it for as
/// long as the connection lives, while one that does not holds it only while a message is
/// compressed or inflated, borrowed from a pool the connections share. BENCHMARKS.md
/// ("Compression") measures both, per connection and per message.
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
    },
}

impl Default for Compression {
    /// Accepted, with the dictionary kept, a 4 KiB window, and messages under 64 bytes sent
    /// as they are.
    fn default() -> Compression {
        Compression::Deflate {
            threshold: 64,
            context_takeover: true,
            window_bits: 12,
        }
    }
}

/// The window sizes RFC 7692 §7.1.2 allows.
const WINDOW_BITS: std::ops::RangeInclusive<u8> = 9..=15;

/// Contexts kept for reuse by connections that do not keep their own.
const POOLED_CONTEXTS: usize = 64;

impl Compression {
    /// The socket library's terms for this setting, `None` when off.
    pub(crate) fn deflate(self) -> Option<yawc::DeflateOptions> {
        let Compression::Deflate {
            threshold,
            context_takeover,
            window_bits,
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
