//! Messages: a wire name, a JSON Schema, and validation before anything is deserialized.

use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::messages::tree::{Tree, TreeJson};

/// A message type: what a route receives or a server sends.
///
/// `#[derive(Message)]` writes this; by hand it looks like the example below. The schema is the
/// truth: JSON is validated against it before it is deserialized, so every constraint the type
/// system cannot hold (`minLength`, `pattern`, `maximum` …) is enforced.
///
/// ```
/// use std::sync::LazyLock;
/// use ws_runtime::{Message, Schema};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct SendMessage { text: String }
///
/// impl Message for SendMessage {
///     const NAME: &'static str = "sendMessage";
///     fn schema() -> &'static Schema {
///         static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema::new(serde_json::json!({
///             "type": "object", "required": ["text"],
///             "properties": {"text": {"type": "string", "minLength": 1}}
///         })));
///         &SCHEMA
///     }
/// }
///
/// assert!(SendMessage::schema().validate(&serde_json::json!({"text": "hi"})).is_ok());
/// let errors = SendMessage::schema().validate(&serde_json::json!({"text": ""})).unwrap_err();
/// assert_eq!(errors.0[0].instance_path, "/text");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a message",
    label = "routes carry messages",
    note = "add `#[derive(ws_runtime::Message)]` (with `serde::Serialize` and `serde::Deserialize`) to `{Self}`"
)]
pub trait Message: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The message's name on the wire and in the document.
    const NAME: &'static str;

    /// The JSON Schema the message's JSON must satisfy.
    fn schema() -> &'static Schema;

    /// Validates `json`, then deserializes it.
    ///
    /// # Errors
    /// The schema's violations, or serde's error when the JSON is valid but does not fit the type
    /// (a schema looser than the type).
    fn from_json(json: Value) -> Result<Self, DecodeError> {
        Self::schema()
            .validate(&json)
            .map_err(DecodeError::Invalid)?;
        decode(&json)
    }
}

/// `json` as a `T`. A number with a zero fraction (`10.0`, `1e2`) is an integer to JSON Schema,
/// so where `T` refuses one (an `i64` field), `json` is read again with such numbers written as
/// integers: every typed reading of a message goes through here (or through a frame's tree,
/// which reads them so).
///
/// # Errors
/// serde's error, when `json` does not fit `T`.
pub(crate) fn decode<T: DeserializeOwned>(json: &Value) -> Result<T, DecodeError> {
    T::deserialize(json).or_else(|error| {
        let mut integral = json.clone();
        if crate::messages::tree::integral_numbers(&mut integral) {
            T::deserialize(&integral).map_err(|e| DecodeError::Type(e.to_string()))
        } else {
            Err(DecodeError::Type(error.to_string()))
        }
    })
}

/// A JSON Schema with its validator, compiled on first use and kept.
///
/// `From<&str>` reads JSON text and `From<Value>` takes the JSON as it is, so
/// `#[message(schema = …)]` accepts either.
pub struct Schema {
    json: Value,
    validator: OnceLock<Result<jsonschema::Validator, String>>,
    /// The same schema compiled for frames as the runtime parses them ([`crate::messages::tree`]).
    tree_validator: OnceLock<Option<jsonschema::Validator<TreeJson>>>,
    /// The schema compiled into Rust by asyncapi-rs, when it was: the verdict on a frame.
    check: Option<fn(&Tree<'_>) -> bool>,
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema")
            .field("json", &self.json)
            .finish_non_exhaustive()
    }
}

impl From<&str> for Schema {
    fn from(text: &str) -> Schema {
        Schema::from_json_text(text)
    }
}

impl From<Value> for Schema {
    fn from(json: Value) -> Schema {
        Schema::new(json)
    }
}

impl Schema {
    /// A schema from its JSON.
    pub fn new(json: Value) -> Schema {
        Schema {
            json,
            validator: OnceLock::new(),
            tree_validator: OnceLock::new(),
            check: None,
        }
    }

    /// With `check`, the schema compiled into Rust (what asyncapi-rs generates beside a type:
    /// `#[message(schema = …, check = …)]`): frames are judged by it, and jsonschema is asked
    /// only about a frame it refused, for what is wrong with it (jsonschema stays the
    /// reference: a frame it accepts is accepted).
    #[must_use]
    pub fn with_check(mut self, check: fn(&Tree<'_>) -> bool) -> Schema {
        self.check = Some(check);
        self
    }

    /// The compiled check, when the schema has one.
    pub fn compiled(&self) -> Option<fn(&Tree<'_>) -> bool> {
        self.check
    }

    /// A schema from JSON text (what `#[message(schema = include_str!(…))]` passes). Text that
    /// is not JSON gives a schema whose validator reports the parse error, so the router refuses
    /// to start with a clear message instead of a panic.
    pub fn from_json_text(text: &str) -> Schema {
        match serde_json::from_str(text) {
            Ok(json) => Schema::new(json),
            Err(error) => {
                let schema = Schema::new(Value::Null);
                let _ = schema
                    .validator
                    .set(Err(format!("the schema text is not JSON: {error}")));
                schema
            }
        }
    }

    /// The schema's JSON.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// Compiles the validators now (the router does this at start-up for every route), the one
    /// for frames included.
    ///
    /// # Errors
    /// The compiler's message when the schema itself is not valid.
    pub fn compile(&self) -> Result<(), String> {
        self.validator()?;
        if self.check.is_none() {
            self.tree_validator();
        }
        Ok(())
    }

    /// The validator for frames' trees; `None` for a schema only the `Value` path compiles.
    fn tree_validator(&self) -> Option<&jsonschema::Validator<TreeJson>> {
        self.tree_validator
            .get_or_init(|| jsonschema::options_for::<TreeJson>().build(&self.json).ok())
            .as_ref()
    }

    fn validator(&self) -> Result<&jsonschema::Validator, String> {
        self.validator
            .get_or_init(|| {
                jsonschema::validator_for(&self.json).map_err(|e| format!("invalid schema: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Whether `instance` is valid (a schema that does not compile accepts nothing).
    pub fn is_valid(&self, instance: &Value) -> bool {
        self.validator().is_ok_and(|v| v.is_valid(instance))
    }

    /// Checks a frame's tree: the fast path of every routed message. Only an invalid frame pays
    /// for a `Value` (to collect its violations the way [`Schema::validate`] reports them).
    ///
    /// # Errors
    /// The violations, as [`Schema::validate`] gives them.
    #[doc(hidden)]
    pub fn validate_tree(&self, tree: &Tree<'_>) -> Result<(), ValidationErrors> {
        if let Some(check) = self.check {
            if check(tree) {
                return Ok(());
            }
            // jsonschema is the reference: were they ever to disagree, its verdict stands.
            return self.validate(&tree.to_value()).inspect(|()| {
                tracing::warn!("a compiled check refused a message jsonschema accepts");
            });
        }
        match self.tree_validator() {
            Some(validator) if validator.is_valid(tree) => Ok(()),
            // Invalid: the violations, collected on the `Value` (a cold path).
            Some(_) => match self.validate(&tree.to_value()) {
                Err(errors) => Err(errors),
                Ok(()) => Err(disagreement()),
            },
            // A schema only the `Value` path compiles: its answer.
            None => self.validate(&tree.to_value()),
        }
    }

    /// Checks `instance`, collecting every violation.
    ///
    /// # Errors
    /// The violations, each with the JSON pointer into the instance and into the schema.
    pub fn validate(&self, instance: &Value) -> Result<(), ValidationErrors> {
        let validator = self.validator().map_err(|message| {
            ValidationErrors(vec![ValidationError {
                instance_path: String::new(),
                schema_path: String::new(),
                message,
            }])
        })?;
        if validator.is_valid(instance) {
            return Ok(());
        }
        Err(ValidationErrors(
            validator
                .iter_errors(instance)
                .map(|e| ValidationError {
                    instance_path: e.instance_path().to_string(),
                    schema_path: e.schema_path().to_string(),
                    message: e.to_string(),
                })
                .collect(),
        ))
    }
}

/// A frame the fast path refused and the `Value` path accepts (they are meant to agree; the
/// frame stays refused).
fn disagreement() -> ValidationErrors {
    ValidationErrors(vec![ValidationError {
        instance_path: String::new(),
        schema_path: String::new(),
        message: "the message does not match its schema".into(),
    }])
}

/// One schema violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationError {
    /// JSON pointer to the offending value in the message (`/author/name`).
    pub instance_path: String,
    /// JSON pointer to the schema keyword that failed (`/properties/author/required`).
    pub schema_path: String,
    /// What is wrong, in words.
    pub message: String,
}

/// Every violation of one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            let at = if e.instance_path.is_empty() {
                "/"
            } else {
                &e.instance_path
            };
            write!(f, "{at}: {}", e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Why a JSON message did not become a typed value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// No route has this key.
    #[error("no route `{0}`")]
    UnknownRoute(String),
    /// The JSON breaks the message's schema.
    #[error("the message does not match its schema: {0}")]
    Invalid(ValidationErrors),
    /// The JSON is valid but does not fit the Rust type.
    #[error("the message does not fit its type: {0}")]
    Type(String),
}
