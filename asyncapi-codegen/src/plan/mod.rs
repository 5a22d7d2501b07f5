//! `plan`: API model → what the Rust code declares: types, message types, and per channel its
//! routes (read with [`crate::routing`]), outbound messages, handler methods and handshake.

pub mod checks;
pub(crate) mod names;
pub mod security;
pub mod types;

use std::collections::BTreeMap;

use crate::model::{Api, Channel, Direction, Message, Payload};
use crate::resolve::Definition;
use crate::routing::{SelectionSource, reply_message, routing};
use crate::scope::Scope;
use crate::source::Span;
use names::{field_name, type_name};
use types::{Cx, Kind, Ty, TypeId, TypeSpace};

/// Everything the emitter writes.
#[derive(Debug)]
pub struct Plan {
    pub title: String,
    pub version: String,
    pub asyncapi: String,
    pub description: Option<String>,
    pub types: TypeSpace,
    pub messages: Vec<MessagePlan>,
    pub channels: Vec<ChannelPlan>,
    /// Protocols other than WebSocket the document names (their channels are served over
    /// WebSocket by ws-runtime all the same).
    pub other_protocols: Vec<String>,
    /// The document, bundled into one JSON value (`Api::document`).
    pub document: serde_json::Value,
    /// What the document asks that the generated code cannot do (a security scheme a WebSocket
    /// handshake cannot carry), one sentence each, for the generator to say.
    pub notes: Vec<String>,
}

/// A message type: it derives `Message` with the document's schema.
#[derive(Debug, Clone)]
pub struct MessagePlan {
    pub ty: TypeId,
    /// The wire name (`Message::NAME`).
    pub name: String,
    /// The payload's JSON Schema, cycles under `$defs`.
    pub schema: serde_json::Value,
    /// The file the schema is written to (`schemas/<name>.json`).
    pub schema_file: String,
    /// Example payloads: name, JSON, and the schema's complaint when it breaks the schema.
    pub examples: Vec<Example>,
    /// Why the payload is opaque, when it is.
    pub opaque: Option<String>,
    /// The document's `correlationId`, when it is in the payload: a JSON pointer into it.
    pub correlation: Option<String>,
    /// The schema compiled into checks, or why it is not (then jsonschema checks the frames).
    pub check: Result<checks::CheckPlan, String>,
}

/// An example payload of a message.
#[derive(Debug, Clone)]
pub struct Example {
    pub name: String,
    pub payload: serde_json::Value,
    /// Why the example breaks its own schema (then it is not a contract test).
    pub invalid: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ChannelPlan {
    pub id: String,
    /// The HTTP path the channel is served on.
    pub path: String,
    /// Snake-case module name.
    pub module: String,
    /// Upper-camel prefix of its types (`Chat` → `ChatRoute`, `ChatHandler`).
    pub prefix: String,
    pub doc: Vec<String>,
    pub selection: String,
    pub selection_source: SelectionSource,
    pub routes: Vec<RoutePlan>,
    pub default_route: Option<String>,
    /// The reply of the `$default` route, when the document gives it one.
    pub default_reply: Option<usize>,
    /// (variant, message index)
    pub outbound: Vec<(String, usize)>,
    /// (rust field, wire name)
    pub params: Vec<(String, String)>,
    pub query_schema: Option<serde_json::Value>,
    pub headers_schema: Option<serde_json::Value>,
    /// The query parameters the `ws` binding's schema names, for a client's handshake.
    pub query: Vec<HandshakeField>,
    /// The headers the `ws` binding's schema names, for a client's handshake.
    pub headers: Vec<HandshakeField>,
    /// Who may connect: the alternatives of its servers' security (empty: anyone).
    pub security: Vec<Vec<security::SchemePlan>>,
}

/// A query parameter or header of a channel's handshake (a property of its `ws` binding's
/// schema): a string on the wire.
#[derive(Debug, Clone)]
pub struct HandshakeField {
    pub rust: String,
    pub wire: String,
    pub required: bool,
    pub doc: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct RoutePlan {
    pub key: String,
    pub variant: String,
    pub method: String,
    /// Index into [`Plan::messages`].
    pub message: usize,
    /// The reply's message, for two-way routes.
    pub reply: Option<usize>,
    /// Where the request's and the reply's `correlationId`s are (JSON pointers into their
    /// payloads), when both messages have one in the payload.
    pub correlation: Option<(String, String)>,
    /// The client's method for the route (the handler's name, unless a client method has it).
    pub client_method: String,
    /// The scopes its operation's security asks for.
    pub scopes: Vec<String>,
    pub doc: Vec<String>,
}

/// The methods of a generated client that are not routes.
const CLIENT_METHODS: &[&str] = &[
    "connect",
    "connect_with",
    "next",
    "close",
    "is_open",
    "inner_mut",
];

/// Names the generated modules reserve.
const RESERVED_TYPES: &[&str] = &["Handlers"];

/// Builds the plan.
pub fn plan(api: &Api) -> Plan {
    let named = api.schemas.iter().map(|s| (s.span, s.name.clone()));
    let mut types = TypeSpace::new(named, RESERVED_TYPES);
    let mut messages: Vec<MessagePlan> = Vec::new();
    // A message object used in several places is one type.
    let mut by_span: BTreeMap<Span, usize> = BTreeMap::new();
    let mut used_payload_types: Vec<TypeId> = Vec::new();
    let mut message_names = Scope::default();

    let mut module_names = Scope::with(&["types", "handlers", "schemas"]);
    let mut prefixes = Scope::with(&[]);
    let mut paths: Vec<String> = Vec::new();
    let mut channels = Vec::new();
    let mut notes = Vec::new();
    let mut message_index = |message: &Message, types: &mut TypeSpace| -> usize {
        if let Some(&index) = by_span.get(&message.span) {
            return index;
        }
        let plan = message_plan(message, types, &mut used_payload_types, &mut message_names);
        messages.push(plan);
        by_span.insert(message.span, messages.len() - 1);
        messages.len() - 1
    };
    for channel in &api.channels {
        let routing = routing(api, channel);

        let prefix = prefixes.claim(type_name(&channel.id));
        let module = module_names.claim(field_name(&channel.id));
        let mut path = channel_path(channel);
        if paths.contains(&path) {
            path = format!("/{module}");
        }
        paths.push(path.clone());

        let mut variants = Scope::with(&["Default"]);
        let mut methods = Scope::with(&["connect", "disconnect", "message"]);
        let mut client_methods = Scope::with(CLIENT_METHODS);
        // Claimed before the routes' methods, so `$default` is always `default_route`.
        let default_route = routing
            .default()
            .map(|_| methods.claim("default_route".into()));
        let mut routes = Vec::new();
        let mut default_reply = None;
        for (index, key) in routing.keys {
            let Some(message) = channel.messages.get(index) else {
                continue;
            };
            let message_plan = message_index(message, &mut types);
            if key == "$default" {
                default_reply =
                    reply_message(api, channel, index).map(|m| message_index(m, &mut types));
                continue;
            }
            if key.starts_with('$') {
                continue;
            }
            let reply = reply_message(api, channel, index).map(|m| message_index(m, &mut types));
            let scopes = channel
                .operations
                .iter()
                .find(|o| o.direction == Direction::Inbound && o.messages.contains(&index))
                .map(|o| security::scopes(api, channel, &o.id))
                .unwrap_or_default();
            routes.push(RoutePlan {
                scopes,
                variant: variants.claim(type_name(&message.key)),
                method: methods.claim(field_name(&message.key)),
                client_method: client_methods.claim(field_name(&message.key)),
                key,
                message: message_plan,
                reply,
                // Filled in below, once every message is planned.
                correlation: None,
                doc: message_doc(message),
            });
        }
        let mut outbound_variants = Scope::default();
        let outbound = channel
            .outbound
            .iter()
            .filter_map(|&i| channel.messages.get(i))
            .map(|m| {
                (
                    outbound_variants.claim(type_name(&m.key)),
                    message_index(m, &mut types),
                )
            })
            .collect();
        let params = {
            let mut scope = Scope::default();
            channel
                .parameters
                .iter()
                .map(|p| (scope.claim(field_name(&p.name)), p.name.clone()))
                .collect()
        };
        let doc = paragraphs([&channel.title, &channel.summary, &channel.description]);
        let channel_security = security::channel(api, channel);
        for note in channel_security.skipped {
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
        channels.push(ChannelPlan {
            security: channel_security.alternatives,
            id: channel.id.clone(),
            path,
            module,
            prefix,
            doc,
            selection: routing.selection,
            selection_source: routing.source,
            routes,
            default_route,
            default_reply,
            outbound,
            params,
            query_schema: channel.ws_binding("query").cloned(),
            headers_schema: channel.ws_binding("headers").cloned(),
            query: handshake_fields(channel.ws_binding("query")),
            headers: handshake_fields(channel.ws_binding("headers")),
        });
    }
    // Messages no operation uses (a library of shared message types, or a channel whose
    // operations are not written yet) are types all the same, with their contract tests.
    for message in api
        .channels
        .iter()
        .flat_map(|c| &c.messages)
        .chain(&api.messages)
    {
        message_index(message, &mut types);
    }
    for route in channels
        .iter_mut()
        .flat_map(|c: &mut ChannelPlan| &mut c.routes)
    {
        route.correlation = route.reply.and_then(|reply| {
            let request = messages[route.message].correlation.clone()?;
            Some((request, messages[reply].correlation.clone()?))
        });
    }
    let mut other_protocols: Vec<String> = api
        .servers
        .iter()
        .map(|s| s.protocol.to_ascii_lowercase())
        .filter(|p| p != "ws" && p != "wss")
        .collect();
    other_protocols.sort();
    other_protocols.dedup();
    if !other_protocols.is_empty() && !channels.is_empty() {
        notes.push(format!(
            "the document's servers speak {} (not WebSocket): the generated server serves its channels over WebSocket (ws-runtime), which those protocols' clients and brokers cannot reach",
            other_protocols.join(", ")
        ));
    }
    for message in &messages {
        if let Err(why) = &message.check {
            notes.push(format!(
                "message `{}` keeps jsonschema for its frames (its schema is not compiled into a check: {why})",
                message.name
            ));
        }
    }
    Plan {
        title: api.info.title.clone(),
        version: api.info.version.clone(),
        asyncapi: api.asyncapi.clone(),
        description: api.info.description.clone(),
        types,
        messages,
        channels,
        other_protocols,
        document: api.document.clone(),
        notes,
    }
}

/// The HTTP path of a channel: its address (with a leading `/`), or `/<id>` when the address
/// is dynamic or cannot be a path.
fn channel_path(channel: &Channel) -> String {
    let fallback = || format!("/{}", field_name(&channel.id));
    let Some(address) = &channel.address else {
        return fallback();
    };
    let path = if address.starts_with('/') {
        address.clone()
    } else {
        format!("/{address}")
    };
    // Only characters a path segment keeps as they are, and `{name}` parameters as segments.
    let segments_ok = path.split('/').skip(1).all(|segment| {
        let is_param = segment.starts_with('{')
            && segment.ends_with('}')
            && segment.len() > 2
            && !segment[1..segment.len() - 1].contains(['{', '}', '*']);
        is_param
            || (!segment.is_empty()
                && segment.chars().all(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | ':' | '@')
                }))
    });
    if path == "/" || segments_ok {
        path
    } else {
        fallback()
    }
}

/// The properties of a `ws` binding's `query` or `headers` schema, in the document's order.
fn handshake_fields(schema: Option<&serde_json::Value>) -> Vec<HandshakeField> {
    let Some(schema) = schema else {
        return Vec::new();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(serde_json::Value::as_array)
        .map(|names| names.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    let mut names = Scope::default();
    schema
        .get("properties")
        .and_then(serde_json::Value::as_object)
        .into_iter()
        .flatten()
        .map(|(wire, property)| {
            let text = |key: &str| {
                property
                    .get(key)
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            };
            HandshakeField {
                rust: names.claim(field_name(wire)),
                wire: wire.clone(),
                required: required.contains(&wire.as_str()),
                doc: paragraphs([&text("title"), &text("description")]),
            }
        })
        .collect()
}

fn message_doc(message: &Message) -> Vec<String> {
    paragraphs([&message.title, &message.summary, &message.description])
}

/// Doc lines from the texts that are present, a blank line between them.
fn paragraphs<'a>(texts: impl IntoIterator<Item = &'a Option<String>>) -> Vec<String> {
    let mut doc = Vec::new();
    for text in texts.into_iter().flatten() {
        if !doc.is_empty() {
            doc.push(String::new());
        }
        doc.extend(text.trim().lines().map(|l| l.trim_end().to_owned()));
    }
    doc
}

/// The type of one message: its payload's struct when that struct is its own, else a newtype
/// around the payload's type.
fn message_plan(
    message: &Message,
    types: &mut TypeSpace,
    used: &mut Vec<TypeId>,
    names: &mut Scope,
) -> MessagePlan {
    let wire_name = names.claim(message.name.clone().unwrap_or_else(|| message.key.clone()));
    let (payload_ty, schema, opaque) = match &message.payload {
        Some(Payload::Schema(schema)) => {
            let defs: &[Definition] = &schema.inlined.defs;
            let ty = types.ty(&schema.inlined.node, &message.key, Cx { defs });
            (ty, schema.to_json(), None)
        }
        Some(Payload::Unsupported { format }) => (
            Ty::Json,
            serde_json::json!({}),
            Some(format!(
                "its payload is in the `{format}` schema format, which asyncapi-rs does not read"
            )),
        ),
        None => (
            Ty::Json,
            serde_json::json!({}),
            Some("the document gives it no payload schema".to_owned()),
        ),
    };
    let own_struct = match &payload_ty {
        Ty::Named(id) => {
            let def = types.get(*id);
            let shareable_kind = matches!(
                def.kind,
                Kind::Struct(_) | Kind::Tagged { .. } | Kind::Untagged(_) | Kind::StringEnum(_)
            );
            let is_component = message
                .payload
                .as_ref()
                .and_then(Payload::schema)
                .is_some_and(|s| types.is_named(s.span()));
            (shareable_kind && !is_component && !used.contains(id)).then_some(*id)
        }
        _ => None,
    };
    let ty = match own_struct {
        Some(id) => {
            used.push(id);
            id
        }
        None => {
            // The message's own name, unless a type has it (its payload's, often): then
            // `<Name>Message`.
            let name = types.claim_fresh(&message.key, "Message");
            types.declare(name, message_doc(message), Kind::Newtype(payload_ty))
        }
    };
    if let Some(id) = own_struct {
        // The message's own documentation leads its type's.
        let mut doc = message_doc(message);
        let def = &mut types.defs[id];
        if !doc.is_empty() && !def.doc.is_empty() {
            doc.push(String::new());
        }
        doc.append(&mut def.doc);
        def.doc = doc;
    }
    let examples = message
        .examples
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            Some(Example {
                name: e.label(i),
                payload: e.payload.clone()?,
                invalid: e.payload_violations.clone(),
            })
        })
        .collect();
    MessagePlan {
        ty,
        schema_file: format!("{}.json", field_name(&types.get(ty).name)),
        name: wire_name,
        check: checks::compile(&schema),
        schema,
        examples,
        opaque,
        correlation: message
            .correlation_id
            .as_ref()
            .and_then(|c| c.payload_pointer().map(str::to_owned)),
    }
}
