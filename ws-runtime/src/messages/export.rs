//! Code-first: an AsyncAPI 3.0 document from route enums and outbound message types.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::messages::message::Message;
use crate::messages::routes::Routes;

/// Builds an AsyncAPI 3.0 document that says what a server really does: each channel's inbound
/// routes (`action: receive`, the route key as `x-route-key`, the selection expression as
/// `x-route-selection-expression`) and what it sends (`action: send`), with every message's
/// schema under `components.schemas`.
///
/// ```
/// use ws_runtime::{AsyncApi, Message, Routes};
///
/// #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Message)]
/// struct Echo { text: String }
///
/// #[derive(Routes)]
/// enum ChatRoute { Echo(Echo) }
///
/// let document = AsyncApi::new("Chat", "1.0.0")
///     .channel::<ChatRoute>("/chat")
///     .sends::<Echo>("/chat")
///     .to_json();
/// assert_eq!(document["asyncapi"], "3.0.0");
/// assert_eq!(document["channels"]["chat"]["x-route-selection-expression"], "$request.body.action");
/// assert_eq!(document["operations"]["chat.echo"]["action"], "receive");
/// assert_eq!(document["operations"]["chat.send.echo"]["action"], "send");
/// ```
#[derive(Debug, Clone)]
pub struct AsyncApi {
    title: String,
    version: String,
    description: Option<String>,
    servers: Vec<(String, String)>,
    channels: Vec<ChannelDoc>,
}

#[derive(Debug, Clone)]
struct ChannelDoc {
    address: String,
    selection: Option<String>,
    /// (route key, message name, schema)
    receives: Vec<(String, &'static str, Value)>,
    /// (message name, schema)
    sends: Vec<(&'static str, Value)>,
}

impl AsyncApi {
    /// A document with its `info.title` and `info.version`, and nothing else yet.
    pub fn new(title: impl Into<String>, version: impl Into<String>) -> AsyncApi {
        AsyncApi {
            title: title.into(),
            version: version.into(),
            description: None,
            servers: Vec::new(),
            channels: Vec::new(),
        }
    }

    /// `info.description`.
    pub fn description(mut self, description: impl Into<String>) -> AsyncApi {
        self.description = Some(description.into());
        self
    }

    /// A server, as `host:port` (protocol `ws`).
    pub fn server(mut self, name: impl Into<String>, host: impl Into<String>) -> AsyncApi {
        self.servers.push((name.into(), host.into()));
        self
    }

    fn channel_at(&mut self, address: &str) -> &mut ChannelDoc {
        let index = match self.channels.iter().position(|c| c.address == address) {
            Some(index) => index,
            None => {
                self.channels.push(ChannelDoc {
                    address: address.to_owned(),
                    selection: None,
                    receives: Vec::new(),
                    sends: Vec::new(),
                });
                self.channels.len() - 1
            }
        };
        &mut self.channels[index]
    }

    /// The inbound routes of the channel at `address`.
    pub fn channel<R: Routes>(mut self, address: &str) -> AsyncApi {
        let channel = self.channel_at(address);
        channel.selection = Some(R::selection().as_str().to_owned());
        for route in R::routes() {
            channel.receives.push((
                route.key.to_owned(),
                route.message,
                route.schema.json().clone(),
            ));
        }
        self
    }

    /// A message the server sends on the channel at `address`.
    pub fn sends<M: Message>(mut self, address: &str) -> AsyncApi {
        self.channel_at(address)
            .sends
            .push((M::NAME, M::schema().json().clone()));
        self
    }

    /// The document as JSON.
    pub fn to_json(&self) -> Value {
        let mut schemas = Map::new();
        let mut messages = Map::new();
        let mut channels = Map::new();
        let mut operations = Map::new();
        let mut channel_ids = BTreeSet::new();
        for channel in &self.channels {
            let id = unique(channel_id(&channel.address), &mut channel_ids);
            let mut channel_messages = Map::new();
            let mut add_message = |name: &str, schema: &Value, route_key: Option<&str>| {
                let schema_ref = add_schema(&mut schemas, name, schema);
                let mut message = json!({"name": name, "payload": {"$ref": schema_ref}});
                if let Some(key) = route_key {
                    message["x-route-key"] = Value::String(key.to_owned());
                }
                let key = unique_in(&messages, name, &message);
                messages.insert(key.clone(), message);
                channel_messages.insert(
                    key.clone(),
                    json!({"$ref": format!("#/components/messages/{}", escape(&key))}),
                );
                key
            };
            // (operation id, message key, action)
            let mut ops = Vec::new();
            for (route_key, name, schema) in &channel.receives {
                let key = add_message(name, schema, Some(route_key));
                ops.push((
                    format!("{id}.{}", operation_part(route_key)),
                    key,
                    "receive",
                ));
            }
            for (name, schema) in &channel.sends {
                let key = add_message(name, schema, None);
                ops.push((format!("{id}.send.{}", operation_part(name)), key, "send"));
            }
            let mut doc = Map::new();
            doc.insert("address".into(), Value::String(channel.address.clone()));
            let parameters: Map<String, Value> = parameters(&channel.address)
                .into_iter()
                .map(|p| (p, json!({})))
                .collect();
            if !parameters.is_empty() {
                doc.insert("parameters".into(), Value::Object(parameters));
            }
            doc.insert("messages".into(), Value::Object(channel_messages));
            if let Some(selection) = &channel.selection {
                doc.insert(
                    "x-route-selection-expression".into(),
                    Value::String(selection.clone()),
                );
            }
            for (op_id, message_key, action) in ops {
                operations.insert(
                    op_id,
                    json!({
                        "action": action,
                        "channel": {"$ref": format!("#/channels/{}", escape(&id))},
                        "messages": [{"$ref": format!("#/channels/{}/messages/{}", escape(&id), escape(&message_key))}],
                    }),
                );
            }
            channels.insert(id, Value::Object(doc));
        }
        let mut info = json!({"title": self.title, "version": self.version});
        if let Some(description) = &self.description {
            info["description"] = Value::String(description.clone());
        }
        let mut document = json!({"asyncapi": "3.0.0", "info": info});
        if !self.servers.is_empty() {
            document["servers"] = self
                .servers
                .iter()
                .map(|(name, host)| (name.clone(), json!({"host": host, "protocol": "ws"})))
                .collect::<Map<_, _>>()
                .into();
        }
        document["channels"] = Value::Object(channels);
        document["operations"] = Value::Object(operations);
        document["components"] = json!({"messages": messages, "schemas": schemas});
        document
    }

    /// The document as YAML.
    pub fn to_yaml(&self) -> String {
        to_yaml(&self.to_json())
    }
}

/// `/rooms/{room}` → `rooms_room`; `/` → `root`.
fn channel_id(address: &str) -> String {
    let id: String = address
        .trim_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let id = id.trim_matches('_').to_owned();
    if id.is_empty() { "root".to_owned() } else { id }
}

/// Operation ids allow `[\w.-]`.
fn operation_part(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn unique(base: String, taken: &mut BTreeSet<String>) -> String {
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base}{n}");
        n += 1;
    }
    name
}

/// A key for `value` in `map`: `base` when free or already holding the same value.
fn unique_in(map: &Map<String, Value>, base: &str, value: &Value) -> String {
    let mut name = base.to_owned();
    let mut n = 2;
    while let Some(existing) = map.get(&name) {
        if existing == value {
            break;
        }
        name = format!("{base}{n}");
        n += 1;
    }
    name
}

/// JSON pointer escaping for one token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn parameters(address: &str) -> Vec<String> {
    address
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

/// Puts a message's schema under `components.schemas`, with its own `definitions`/`$defs`
/// hoisted beside it and their references rewritten; returns the reference to it.
fn add_schema(schemas: &mut Map<String, Value>, name: &str, schema: &Value) -> String {
    let mut root = schema.clone();
    // (reference as the schema wrote it, component name, definition)
    let mut defs: Vec<(String, String, Value)> = Vec::new();
    if let Value::Object(map) = &mut root {
        map.remove("$schema");
        for container in ["definitions", "$defs"] {
            if let Some(Value::Object(found)) = map.remove(container) {
                for (def_name, def) in found {
                    let from = format!("#/{container}/{}", escape(&def_name));
                    defs.push((from, def_name, def));
                }
            }
        }
    }
    let root_name = unique_in(schemas, name, &root);
    let mut mapping: Vec<(String, String)> = defs
        .iter()
        .map(|(from, def_name, _)| (from.clone(), def_name.clone()))
        .chain([("#".to_owned(), root_name.clone())])
        .collect();
    // A definition keeps its name unless another schema already holds it.
    for (i, (_, def_name, def)) in defs.iter().enumerate() {
        mapping[i].1 = unique_in(schemas, def_name, &rewritten(def, &mapping));
    }
    for (i, (_, _, def)) in defs.iter().enumerate() {
        schemas.insert(mapping[i].1.clone(), rewritten(def, &mapping));
    }
    schemas.insert(root_name.clone(), rewritten(&root, &mapping));
    format!("#/components/schemas/{}", escape(&root_name))
}

/// A copy of `value` with references to hoisted definitions pointing at their components.
fn rewritten(value: &Value, mapping: &[(String, String)]) -> Value {
    let mut value = value.clone();
    let renames: Vec<(String, String)> = mapping
        .iter()
        .map(|(from, to)| (from.clone(), format!("#/components/schemas/{}", escape(to))))
        .collect();
    rewrite_refs(&mut value, &renames);
    value
}

fn rewrite_refs(value: &mut Value, renames: &[(String, String)]) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref")
                && let Some((_, to)) = renames.iter().find(|(from, _)| from == reference)
            {
                *reference = to.clone();
            }
            for (_, child) in map.iter_mut() {
                rewrite_refs(child, renames);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rewrite_refs(i, renames)),
        _ => {}
    }
}

/// Any JSON value as YAML 1.2: block mappings and sequences, strings in JSON's double-quoted
/// form, so that every value reads back the same (what `/asyncapi.yaml` serves and
/// [`AsyncApi::to_yaml`] writes).
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    yaml(value, 0, &mut out);
    out
}

/// A small YAML 1.2 emitter for JSON values: block mappings and sequences, strings in JSON's
/// double-quoted form (which YAML reads the same), so every value round-trips.
fn yaml(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                out.push_str(&pad);
                out.push_str(&yaml_key(key));
                out.push(':');
                write_child(child, indent, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        // `- key: value` with the rest of the mapping aligned under it.
                        let mut first = String::new();
                        yaml(item, indent + 2, &mut first);
                        out.push(' ');
                        out.push_str(first.trim_start());
                    }
                    _ => write_child(item, indent, out),
                }
            }
        }
        scalar => {
            out.push_str(&pad);
            out.push_str(&yaml_scalar(scalar));
            out.push('\n');
        }
    }
}

fn write_child(child: &Value, indent: usize, out: &mut String) {
    match child {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            yaml(child, indent + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            yaml(child, indent + 2, out);
        }
        scalar => {
            out.push(' ');
            out.push_str(&yaml_scalar(scalar));
            out.push('\n');
        }
    }
}

fn yaml_scalar(value: &Value) -> String {
    match value {
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
        other => other.to_string(),
    }
}

/// Keys stay plain when YAML reads them back as the same string.
fn yaml_key(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$'))
        && !key.starts_with(['-', '.'])
        && !matches!(
            key.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "~"
        )
        && key.parse::<f64>().is_err();
    if plain {
        key.to_owned()
    } else {
        Value::String(key.to_owned()).to_string()
    }
}
