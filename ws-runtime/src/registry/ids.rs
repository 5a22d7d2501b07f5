//! Unguessable ids and the clock.
//!
//! Connection ids take 128 bits from the operating system each. Request and message ids, two per
//! message, come from a keyed pseudo-random function instead (SipHash over a counter, keyed with
//! 128 bits from the operating system once per process): as unguessable without the key, and
//! without two system calls per message.

use std::hash::{BuildHasher, Hasher};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The id of one event (a request, a message): 22 characters of base64url, held inline, so
/// that a connection's ids, written message after message, touch no memory of their own.
/// Reads as a `&str` (`Deref`, `Display`, serialized as a string).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId([u8; 22]);

impl EventId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Always ASCII: every byte is from the alphabet.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::ops::Deref for EventId {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for EventId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for EventId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for EventId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for EventId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A fresh id for a request or a message: 128 bits of SipHash(key, counter), base64url.
pub(crate) fn event() -> EventId {
    static KEY: LazyLock<std::collections::hash_map::RandomState> =
        LazyLock::new(std::collections::hash_map::RandomState::new);
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let half = |lane: u64| {
        let mut hasher = KEY.build_hasher();
        hasher.write_u64(n);
        hasher.write_u64(lane);
        hasher.finish()
    };
    EventId(encode(u128::from(half(0)) | (u128::from(half(1)) << 64)))
}

/// 128 random bits from the operating system, as 22 characters of base64url.
pub(crate) fn random() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // The OS has no entropy to give; ids must still differ, so mix the clock and a counter.
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes[..8].copy_from_slice(&n.to_le_bytes());
        bytes[8..].copy_from_slice(&(t as u64).to_le_bytes());
        tracing::error!("no randomness from the operating system: ids are predictable");
    }
    EventId(encode(u128::from_le_bytes(bytes))).to_string()
}

/// `value` as 22 characters of base64url.
fn encode(value: u128) -> [u8; 22] {
    let mut text = [0u8; 22];
    for (i, byte) in text.iter_mut().enumerate() {
        *byte = ALPHABET[((value >> (i * 6)) & 63) as usize];
    }
    text
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_distinct_and_url_safe() {
        let ids: std::collections::HashSet<String> = (0..10_000)
            .flat_map(|_| [super::random(), super::event().to_string()])
            .collect();
        assert_eq!(ids.len(), 20_000);
        assert!(ids.iter().all(|id| {
            id.len() == 22
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }));
    }
}
