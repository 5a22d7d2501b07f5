//! Optional fields that may be `null`: absent, `null` and a value are three different things.
//!
//! serde reads a `null` into `Option<T>` as `None`, the same as an absent field, so a type
//! with `Option<T>` cannot say "clear this" apart from "leave it". A field of type
//! `Option<Option<T>>` (or `Option<serde_json::Value>`) with this module's [`deserialize`]
//! keeps all three: absent is `None`, `null` is `Some(None)` (`Some(Value::Null)`), and a value
//! is `Some(Some(value))`. Generated types use it for every optional property whose schema
//! allows `null`.
//!
//! ```
//! #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
//! struct Update {
//!     #[serde(
//!         default,
//!         skip_serializing_if = "Option::is_none",
//!         deserialize_with = "ws_runtime::nullable::deserialize"
//!     )]
//!     reply_to: Option<Option<String>>,
//! }
//!
//! for (wire, value) in [
//!     (r#"{}"#, None),
//!     (r#"{"reply_to":null}"#, Some(None)),
//!     (r#"{"reply_to":"m7"}"#, Some(Some("m7".to_owned()))),
//! ] {
//!     let update: Update = serde_json::from_str(wire).unwrap();
//!     assert_eq!(update.reply_to, value);
//!     assert_eq!(serde_json::to_string(&update).unwrap(), wire);
//! }
//! ```

use serde::{Deserialize, Deserializer};

/// Deserializes a field that is present as `Some`, `null` included: for `Option<Option<T>>`,
/// `null` is `Some(None)`; for `Option<serde_json::Value>`, `Some(Value::Null)`. Use it with
/// `#[serde(default)]`, which makes an absent field `None`.
///
/// # Errors
/// Those of `T`'s own `Deserialize`.
pub fn deserialize<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}
