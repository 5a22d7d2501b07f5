//! Routes: which typed message a JSON text is, decided by the route selection expression.

use serde_json::Value;

use crate::messages::message::{DecodeError, Message, Schema};
use crate::messages::selection::Selection;
use crate::messages::tree::Tree;

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

    /// [`Routes::decode`] from a frame's tree, what the runtime calls for every routed message.
    /// `#[derive(Routes)]` validates and deserializes it without building a `Value`.
    ///
    /// # Errors
    /// As [`Routes::decode`].
    #[doc(hidden)]
    fn decode_tree(key: &str, tree: &Tree<'_>) -> Result<Self, DecodeError> {
        Self::decode(key, tree.to_value())
    }

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

    /// [`Routes::to_json`] as text (what a client sends). `#[derive(Routes)]` writes it without
    /// the JSON tree in between when the message already carries its route key.
    ///
    /// # Errors
    /// serde's error for a value that cannot be JSON.
    fn to_text(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&self.to_json()?)
    }

    /// Every custom route: its key, its message's name and schema (for the router's start-up
    /// checks, and for exporting an AsyncAPI document).
    fn routes() -> Vec<Route>;
}

/// One custom route of a [`Routes`] enum.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// The route key.
    pub key: &'static str,
    /// The message's name ([`crate::Message::NAME`]).
    pub message: &'static str,
    /// The message's schema.
    pub schema: &'static Schema,
}

impl Route {
    /// The route of message type `M` under `key`.
    pub fn of<M: Message>(key: &'static str) -> Route {
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
pub fn decode_route<M: Message>(selection: &Selection, mut json: Value) -> Result<M, DecodeError> {
    M::schema().validate(&json).map_err(DecodeError::Invalid)?;
    selection.remove_key(&mut json);
    crate::messages::message::decode(&json)
}

/// [`decode_route`] from a frame's tree: validated where it lies, then deserialized from it with
/// the route key left out. Used by `#[derive(Routes)]`.
///
/// # Errors
/// The schema's violations, or a type mismatch.
pub fn decode_route_tree<M: Message>(
    selection: &Selection,
    tree: &Tree<'_>,
) -> Result<M, DecodeError> {
    M::schema()
        .validate_tree(tree)
        .map_err(DecodeError::Invalid)?;
    match selection.single_path() {
        Some([name]) => tree.deserialize(Some(name)),
        // A nested route key: taken out of a `Value`, as `decode_route` does.
        Some(_) => {
            let mut json = tree.to_value();
            selection.remove_key(&mut json);
            return crate::messages::message::decode(&json);
        }
        None => tree.deserialize(None),
    }
    .map_err(|e| DecodeError::Type(e.to_string()))
}

/// Serializes a route's message with its key written once where the expression reads it.
///
/// # Errors
/// serde's error for a value that cannot be JSON.
pub fn encode_route<M: Message>(
    selection: &Selection,
    message: &M,
    key: &str,
) -> Result<Value, serde_json::Error> {
    let mut json = serde_json::to_value(message)?;
    selection.write_key(&mut json, key);
    Ok(json)
}

/// [`encode_route`] as text. When the selection is one top-level property (`$request.body.action`)
/// and the message's own JSON has it with the route key already (a generated type's constant
/// does), or lacks it, the text is written directly; otherwise through the JSON tree. Used by
/// `#[derive(Routes)]`.
///
/// # Errors
/// serde's error for a value that cannot be JSON.
pub fn encode_route_text<M: Message>(
    selection: &Selection,
    message: &M,
    key: &str,
) -> Result<String, serde_json::Error> {
    let text = serde_json::to_string(message)?;
    if let Some([name]) = selection.single_path() {
        match probe(&text, name, key) {
            Probe::Equal => return Ok(text),
            Probe::Absent if text == "{}" => {
                return Ok(format!(
                    "{{{}:{}}}",
                    serde_json::to_string(name)?,
                    serde_json::to_string(key)?
                ));
            }
            Probe::Absent => {
                return Ok(format!(
                    "{{{}:{},{}",
                    serde_json::to_string(name)?,
                    serde_json::to_string(key)?,
                    &text[1..]
                ));
            }
            Probe::Other => {}
        }
    }
    let mut json: Value = serde_json::from_str(&text)?;
    selection.write_key(&mut json, key);
    serde_json::to_string(&json)
}

/// What a JSON text has at one top-level property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// An object without the property.
    Absent,
    /// An object whose property is the string expected.
    Equal,
    /// Not an object, or the property is something else.
    Other,
}

/// Reads the top-level property `name` of `text` and compares it with `expected`, without
/// building the tree or allocating.
fn probe(text: &str, name: &str, expected: &str) -> Probe {
    use serde::de::{DeserializeSeed, Deserializer, Error, IgnoredAny, MapAccess, Visitor};

    /// A string compared with the one wanted (`Some(equal)`), or `None` for anything else.
    struct Is<'a>(&'a str);

    impl<'de> Visitor<'de> for Is<'_> {
        type Value = Option<bool>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: Error>(self, value: &str) -> Result<Option<bool>, E> {
            Ok(Some(value == self.0))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<bool>, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Option<bool>, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }

        fn visit_bool<E: Error>(self, _: bool) -> Result<Option<bool>, E> {
            Ok(None)
        }

        fn visit_i64<E: Error>(self, _: i64) -> Result<Option<bool>, E> {
            Ok(None)
        }

        fn visit_u64<E: Error>(self, _: u64) -> Result<Option<bool>, E> {
            Ok(None)
        }

        fn visit_f64<E: Error>(self, _: f64) -> Result<Option<bool>, E> {
            Ok(None)
        }

        fn visit_unit<E: Error>(self) -> Result<Option<bool>, E> {
            Ok(None)
        }
    }

    impl<'de> DeserializeSeed<'de> for Is<'_> {
        type Value = Option<bool>;

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<bool>, D::Error> {
            d.deserialize_any(self)
        }
    }

    /// The object's property `name`, compared.
    struct Find<'a> {
        name: &'a str,
        expected: &'a str,
    }

    impl<'de> Visitor<'de> for Find<'_> {
        type Value = Probe;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Probe, A::Error> {
            let mut found = Probe::Absent;
            while let Some(is_name) = map.next_key_seed(Is(self.name))? {
                if is_name == Some(true) && found == Probe::Absent {
                    found = match map.next_value_seed(Is(self.expected))? {
                        Some(true) => Probe::Equal,
                        _ => Probe::Other,
                    };
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }

    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer
        .deserialize_any(Find { name, expected })
        .unwrap_or(Probe::Other)
}

/// A message for `$default`: the text as received, and its JSON when it was JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RawMessage {
    /// The frame's text.
    pub text: String,
    /// The text as JSON, when it is.
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

/// Every message of a channel whose handler routes it itself (`ws_runtime::lambda`, a mock
/// server): the runtime hands each to `$default` as it came, JSON or not.
#[derive(Debug, Clone, PartialEq)]
pub struct AnyMessage(pub RawMessage);

impl Routes for AnyMessage {
    fn selection() -> &'static Selection {
        static SELECTION: std::sync::LazyLock<Selection> = std::sync::LazyLock::new(|| {
            Selection::parse("$request.body.action")
                .unwrap_or_else(|_| unreachable!("the expression parses"))
        });
        &SELECTION
    }

    fn keys() -> &'static [&'static str] {
        &[]
    }

    fn decode(key: &str, _: Value) -> Result<AnyMessage, DecodeError> {
        Err(DecodeError::UnknownRoute(key.into()))
    }

    fn fallback(raw: RawMessage) -> Option<AnyMessage> {
        Some(AnyMessage(raw))
    }

    fn route_key(&self) -> &'static str {
        "$default"
    }

    fn to_json(&self) -> Result<Value, serde_json::Error> {
        Ok(self
            .0
            .json
            .clone()
            .unwrap_or(Value::String(self.0.text.clone())))
    }

    fn routes() -> Vec<Route> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Plain {
        text: String,
    }

    impl Message for Plain {
        const NAME: &'static str = "plain";
        fn schema() -> &'static Schema {
            static SCHEMA: std::sync::LazyLock<Schema> =
                std::sync::LazyLock::new(|| Schema::new(serde_json::json!({})));
            &SCHEMA
        }
    }

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Keyed {
        action: String,
        text: String,
    }

    impl Message for Keyed {
        const NAME: &'static str = "keyed";
        fn schema() -> &'static Schema {
            Plain::schema()
        }
    }

    fn both<M: Message>(expression: &str, message: &M, key: &str) -> (Value, Value) {
        let selection = Selection::parse(expression).unwrap_or_else(|e| panic!("{e}"));
        let tree = encode_route(&selection, message, key).unwrap_or_default();
        let text = encode_route_text(&selection, message, key).unwrap_or_default();
        (tree, serde_json::from_str(&text).unwrap_or_default())
    }

    #[test]
    fn text_and_tree_encodings_agree() {
        let plain = Plain { text: "hi".into() };
        let (tree, text) = both("$request.body.action", &plain, "say");
        assert_eq!(tree, serde_json::json!({"action": "say", "text": "hi"}));
        assert_eq!(text, tree);
        for action in ["say", "other"] {
            let keyed = Keyed {
                action: action.into(),
                text: "hi".into(),
            };
            let (tree, text) = both("$request.body.action", &keyed, "say");
            assert_eq!(tree["action"], "say");
            assert_eq!(text, tree);
        }
        let (tree, text) = both("$request.body.meta.kind", &plain, "say");
        assert_eq!(tree["meta"]["kind"], "say");
        assert_eq!(text, tree);
        let (tree, text) = both("${request.body.a}-${request.body.b}", &plain, "x-y");
        assert_eq!(text, tree);
        let escaped = Plain {
            text: "quote \" and \\u00e9".into(),
        };
        let (tree, text) = both("$request.body.action", &escaped, "s\"ay");
        assert_eq!(tree["action"], "s\"ay");
        assert_eq!(text, tree);
    }
}
