//! The API model: one shape for every AsyncAPI version, seen from the application we build.

use std::sync::Arc;

use serde::Serialize;

use crate::pointer::Pointer;
use crate::resolve::{Definition, Inlined};
use crate::source::Span;

/// Which application the document describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The document describes the server we build (the default): what it receives is inbound.
    #[default]
    Server,
    /// The document describes a client of the server we build: every direction flips.
    Client,
}

/// The direction of a message, from the point of view of the server we build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Clients send it; the server receives it (2.x `publish`, 3.x `receive`).
    Inbound,
    /// The server sends it (2.x `subscribe`, 3.x `send`).
    Outbound,
}

impl Direction {
    pub fn flip(self) -> Direction {
        match self {
            Direction::Inbound => Direction::Outbound,
            Direction::Outbound => Direction::Inbound,
        }
    }
}

/// The AsyncAPI version family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SpecVersion {
    pub major: u8,
    pub minor: u8,
}

/// A loaded, checked document.
#[derive(Debug, Clone, Serialize)]
pub struct Api {
    /// The `asyncapi` field as written (`2.6.0`, `3.1.0`).
    pub asyncapi: String,
    pub version: SpecVersion,
    pub id: Option<String>,
    pub info: Info,
    pub default_content_type: Option<String>,
    pub servers: Vec<Server>,
    pub channels: Vec<Channel>,
    /// Which side the document was read as.
    pub side: Side,
    /// `x-route-selection-expression` at the root: the default for every channel.
    pub route_selection: Option<String>,
    /// The document's named schemas (`components.schemas`), by where their definition is, so a
    /// generator can give every use of one of them the same type.
    pub schemas: Vec<NamedSchema>,
    /// The messages of `components.messages`, by key, whether a channel uses them or not.
    pub messages: Vec<Message>,
    /// The whole document as one JSON value, other files inlined ([`Documents::bundle`]): what
    /// a server built from it serves as its contract.
    ///
    /// [`Documents::bundle`]: crate::resolve::Documents::bundle
    #[serde(skip)]
    pub document: serde_json::Value,
}

/// A named schema and where it was written (an inlined schema node with this span is it).
#[derive(Debug, Clone, Serialize)]
pub struct NamedSchema {
    pub name: String,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, Serialize)]
pub struct Info {
    pub title: String,
    pub version: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Server {
    pub name: String,
    /// 2.x `url`, or 3.x `host` + `pathname`.
    pub url: String,
    pub protocol: String,
    pub protocol_version: Option<String>,
    pub description: Option<String>,
    #[serde(skip)]
    pub span: Span,
}

/// A channel: one address, its messages, and the operations on it.
#[derive(Debug, Clone, Serialize)]
pub struct Channel {
    /// The channel's key: 3.x `channels` key, or the 2.x channel name.
    pub id: String,
    /// Where it is reached; `None` when the address is dynamic (3.x `address: null`).
    pub address: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub parameters: Vec<Parameter>,
    /// Protocol bindings, resolved (`{"ws": {...}}`).
    pub bindings: Option<serde_json::Value>,
    /// `x-route-selection-expression` on the channel.
    pub route_selection: Option<String>,
    /// Every message of the channel, once each, in document order.
    pub messages: Vec<Message>,
    pub operations: Vec<Operation>,
    /// Indices into `messages` of what the server receives here: the messages of its inbound
    /// operations, and the replies it receives to its outbound ones.
    pub inbound: Vec<usize>,
    /// Indices into `messages` of what the server sends here (replies included).
    pub outbound: Vec<usize>,
    #[serde(skip)]
    pub span: Span,
}

impl Channel {
    /// Messages the server receives on this channel.
    pub fn inbound(&self) -> impl Iterator<Item = &Message> {
        self.directed(Direction::Inbound)
    }

    /// Messages the server sends on this channel.
    pub fn outbound(&self) -> impl Iterator<Item = &Message> {
        self.directed(Direction::Outbound)
    }

    fn directed(&self, direction: Direction) -> impl Iterator<Item = &Message> {
        let indices = match direction {
            Direction::Inbound => &self.inbound,
            Direction::Outbound => &self.outbound,
        };
        indices.iter().filter_map(|&i| self.messages.get(i))
    }

    /// A field of the channel's `ws` binding: `query` or `headers`, the handshake's schemas.
    pub fn ws_binding(&self, field: &str) -> Option<&serde_json::Value> {
        self.bindings.as_ref()?.get("ws")?.get(field)
    }

    /// A message by key.
    pub fn message(&self, key: &str) -> Option<&Message> {
        self.messages.iter().find(|m| m.key == key)
    }
}

/// A channel parameter (`{userId}` in the address).
#[derive(Debug, Clone, Serialize)]
pub struct Parameter {
    pub name: String,
    pub description: Option<String>,
    /// A JSON Schema for the value: 2.x `schema`, or built from 3.x `enum` and `default`.
    pub schema: Option<serde_json::Value>,
    pub location: Option<String>,
    #[serde(skip)]
    pub span: Span,
}

/// What the server does on a channel.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    /// 3.x operation key, 2.x `operationId`, or `<channel>.<publish|subscribe>`.
    pub id: String,
    pub direction: Direction,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    /// Indices into the channel's `messages`.
    pub messages: Vec<usize>,
    pub reply: Option<Reply>,
    pub bindings: Option<serde_json::Value>,
    #[serde(skip)]
    pub span: Span,
}

/// The answer to an operation (3.x `reply`).
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    /// Index into [`Api::channels`] of the channel the reply goes to, when the document names it.
    pub channel: Option<usize>,
    /// A runtime expression for a dynamic reply address (`$message.header#/replyTo`).
    pub address: Option<String>,
    /// The reply messages.
    pub messages: Vec<MessageRef>,
}

/// A message of some channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MessageRef {
    /// Index into [`Api::channels`].
    pub channel: usize,
    /// Index into that channel's `messages`.
    pub message: usize,
}

/// A message, with traits applied and every reference resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// Unique within the channel: the `components/messages` or channel `messages` key it was
    /// defined under, else `messageId`, else `name`, else a name made from its place.
    pub key: String,
    pub name: Option<String>,
    pub message_id: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub content_type: Option<String>,
    pub payload: Option<Payload>,
    pub headers: Option<Payload>,
    pub correlation_id: Option<CorrelationId>,
    pub examples: Vec<Example>,
    pub bindings: Option<serde_json::Value>,
    /// `x-route-key`.
    pub route_key: Option<String>,
    #[serde(skip)]
    pub span: Span,
}

/// A payload or headers schema.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Payload {
    Schema(Schema),
    /// A schema in a format asyncapi-rs cannot read (Avro, RAML, Protobuf): opaque bytes.
    Unsupported {
        format: String,
    },
}

impl Payload {
    pub fn schema(&self) -> Option<&Schema> {
        match self {
            Payload::Schema(schema) => Some(schema),
            Payload::Unsupported { .. } => None,
        }
    }
}

/// The dialect a schema was written in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SchemaFormat {
    /// The AsyncAPI schema object: JSON Schema draft 07 and a few extra keywords.
    AsyncApi,
    /// Plain JSON Schema; `draft` as the media type names it (`draft-07`).
    JsonSchema { draft: Option<String> },
    /// An OpenAPI 3.0 schema object, converted to JSON Schema (`nullable` → `null` type …).
    OpenApi,
}

/// A fully resolved JSON Schema. Cycles are cut into `$defs`, so a recursive type is named once.
/// It compiled when the document loaded; the validator is kept for every later check.
#[derive(Debug, Clone)]
pub struct Schema {
    pub format: SchemaFormat,
    pub inlined: Inlined,
    pub(crate) validator: Arc<jsonschema::Validator>,
}

impl Serialize for Schema {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("Schema", 2)?;
        out.serialize_field("format", &self.format)?;
        out.serialize_field("schema", &self.to_json())?;
        out.end()
    }
}

impl Schema {
    /// Where the keyword at `schema_path` is written: its key in the document (through `$defs` for
    /// recursive schemas), or the deepest node on the way.
    pub fn keyword_span(&self, schema_path: &str) -> Option<Span> {
        let pointer = Pointer::parse(schema_path).ok()?;
        let mut tokens = pointer.tokens();
        let mut node = &self.inlined.node;
        if let [defs, name, rest @ ..] = tokens
            && (defs == "$defs" || defs == "definitions")
            && let Some(def) = self.definitions().iter().find(|d| &d.name == name)
        {
            node = &def.node;
            tokens = rest;
        }
        let Some((last, parents)) = tokens.split_last() else {
            return Some(node.span);
        };
        for token in parents {
            match node.child(token) {
                Some(child) => node = child,
                None => return Some(node.span),
            }
        }
        match node.as_object().and_then(|map| map.entry(last)) {
            Some((key, _)) => Some(key.span),
            None => Some(node.child(last).unwrap_or(node).span),
        }
    }

    /// The schema as one JSON document (cycles under `$defs`), with a `$schema` naming its
    /// draft (draft-07 for AsyncAPI and OpenAPI schemas) unless it names one itself, so any
    /// validator reads it with the right rules.
    pub fn to_json(&self) -> serde_json::Value {
        Schema::json_of(&self.format, &self.inlined)
    }

    /// [`Schema::to_json`] of a schema still being read.
    pub(crate) fn json_of(format: &SchemaFormat, inlined: &Inlined) -> serde_json::Value {
        let mut json = inlined.to_json();
        if let serde_json::Value::Object(map) = &mut json
            && !map.contains_key("$schema")
        {
            let draft = match format {
                SchemaFormat::JsonSchema { draft: Some(draft) } => draft_uri(draft),
                _ => DRAFT_07,
            };
            map.insert("$schema".into(), serde_json::Value::String(draft.into()));
        }
        json
    }

    /// The schema compiled (from [`Schema::to_json`]), as the contract checker and ws-runtime
    /// validate with it.
    pub fn validator(&self) -> &jsonschema::Validator {
        &self.validator
    }

    /// What `instance` breaks: each violation as `"/pointer: message"`, joined; `None` when it is
    /// valid.
    pub fn violations(&self, instance: &serde_json::Value) -> Option<String> {
        let errors: Vec<String> = self
            .validator
            .iter_errors(instance)
            .map(|e| {
                let at = e.instance_path().to_string();
                format!("{}: {e}", if at.is_empty() { "/" } else { &at })
            })
            .collect();
        (!errors.is_empty()).then(|| errors.join("; "))
    }

    /// The definitions that cycles point into.
    pub fn definitions(&self) -> &[Definition] {
        &self.inlined.defs
    }

    /// Where the schema was written.
    pub fn span(&self) -> Span {
        self.inlined.node.span
    }
}

pub(crate) const DRAFT_07: &str = "http://json-schema.org/draft-07/schema#";

/// The meta-schema URI of a draft named in a media type (`draft-07`, `2020-12` …).
fn draft_uri(draft: &str) -> &'static str {
    match draft
        .trim_start_matches("draft-")
        .trim_start_matches("draft")
    {
        "04" | "4" => "http://json-schema.org/draft-04/schema#",
        "06" | "6" => "http://json-schema.org/draft-06/schema#",
        "2019-09" => "https://json-schema.org/draft/2019-09/schema",
        "2020-12" => "https://json-schema.org/draft/2020-12/schema",
        _ => DRAFT_07,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CorrelationId {
    pub location: String,
    pub description: Option<String>,
}

impl CorrelationId {
    /// The JSON pointer into the payload, for a location at `$message.payload#/…`.
    pub fn payload_pointer(&self) -> Option<&str> {
        let pointer = self.location.strip_prefix("$message.payload#")?;
        (pointer.is_empty() || pointer.starts_with('/')).then_some(pointer)
    }
}

/// An example of a message, as the document gives it.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    pub name: Option<String>,
    pub summary: Option<String>,
    pub payload: Option<serde_json::Value>,
    pub headers: Option<serde_json::Value>,
    /// What the payload breaks in the message's payload schema ([`Schema::violations`]),
    /// checked once, when the document loads; `None` when valid or when there is no schema.
    #[serde(skip)]
    pub payload_violations: Option<String>,
    /// The same for the headers and the message's headers schema.
    #[serde(skip)]
    pub headers_violations: Option<String>,
    #[serde(skip)]
    pub span: Span,
}

impl Example {
    /// How reports and generated tests name the example: its `name`, else `example N` (its
    /// place among the message's).
    pub fn label(&self, index: usize) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("example {}", index + 1))
    }
}
