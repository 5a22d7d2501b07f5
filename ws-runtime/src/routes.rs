//! Routes: which typed message a JSON text is, decided by the route selection expression.

use serde_json::Value;

use crate::message::{DecodeError, Schema};
use crate::selection::Selection;

/// The inbound messages of one channel, one variant per route.
///
/// `#[derive(Routes)]` writes this for an enum of newtype variants. The runtime evaluates the
/// selection expression on each message's JSON, and asks [`Routes::decode`] for the route key it
/// got; `decode` validates the JSON against that route's schema before deserializing. A key no
/// route has goes to [`Routes::fallback`] (`$default`), or is answered `Forbidden`.
pub trait Routes: Sized + Send + 'static {
    /// The route selection expression (`$request.body.action`), parsed once.
    fn selection() -> &'static Selection;

    /// The custom route keys, in declaration order (none starts with `$`).
    fn keys() -> &'static [&'static str];

    /// Validates `json` against the schema of `key`'s route and decodes it.
    ///
    /// # Errors
    /// [`DecodeError::UnknownRoute`] for a key no route has; the schema's violations; or a
    /// type mismatch.
    fn decode(key: &str, json: Value) -> Result<Self, DecodeError>;

    /// The `$default` route's value for a message no custom route takes (not JSON, no match), or
    /// `None` when the channel has no `$default` route.
    fn fallback(raw: RawMessage) -> Option<Self>;

    /// This value's route key (`$default` for the default route).
    fn route_key(&self) -> &'static str;

    /// The message as JSON, its route key written once where the expression reads it.
    ///
    /// # Errors
    /// serde's error for a value that cannot be JSON.
    fn to_json(&self) -> Result<Value, serde_json::Error>;

    /// Every custom route: its key, its message's name and schema (for the router's start-up
    /// checks, and for exporting an AsyncAPI document).
    fn routes() -> Vec<Route>;
}

/// One custom route of a [`Routes`] enum.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub key: &'static str,
    /// The message's name ([`crate::Message::NAME`]).
    pub message: &'static str,
    pub schema: &'static Schema,
}

impl Route {
    /// The route of message type `M` under `key`.
    pub fn of<M: crate::Message>(key: &'static str) -> Route {
        Route {
            key,
            message: M::NAME,
            schema: M::schema(),
        }
    }
}

/// Validates the whole message (route key included), then deserializes it without its route key,
/// which the enum carries. Used by `#[derive(Routes)]`.
///
/// # Errors
/// The schema's violations, or a type mismatch.
pub fn decode_route<M: crate::Message>(
    selection: &Selection,
    mut json: Value,
) -> Result<M, DecodeError> {
    M::schema().validate(&json).map_err(DecodeError::Invalid)?;
    selection.remove_key(&mut json);
    serde_json::from_value(json).map_err(|e| DecodeError::Type(e.to_string()))
}

/// Serializes a route's message with its key written once where the expression reads it.
///
/// # Errors
/// serde's error for a value that cannot be JSON.
pub fn encode_route<M: crate::Message>(
    selection: &Selection,
    message: &M,
    key: &str,
) -> Result<Value, serde_json::Error> {
    let mut json = serde_json::to_value(message)?;
    selection.write_key(&mut json, key);
    Ok(json)
}

/// A message for `$default`: the text as received, and its JSON when it was JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RawMessage {
    pub text: String,
    pub json: Option<Value>,
}

impl RawMessage {
    /// A raw message from received text (parsing it as JSON if it is).
    pub fn new(text: impl Into<String>) -> RawMessage {
        let text = text.into();
        let json = serde_json::from_str(&text).ok();
        RawMessage { text, json }
    }
}
