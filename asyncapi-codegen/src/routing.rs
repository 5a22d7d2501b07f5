//! How a channel routes what the server receives, as the API model reads: its route selection
//! expression and each inbound message's route key. The generator plans routes with it and the
//! contract checker routes messages with it, so both agree with the generated server.
//!
//! The selection expression is the channel's `x-route-selection-expression`, else the
//! document's, else inferred (a property every inbound message pins with `const` or a one-value
//! `enum`), else `$request.body.action`. A message's route key is its `x-route-key`, else its
//! value of that property, else its `name`, else its key.

use crate::model::{Api, Channel, Message, Payload};
use crate::tree::Node;

/// How a channel's selection expression was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectionSource {
    Channel,
    Document,
    Inferred,
    Default,
}

/// How a channel routes what the server receives: the generator plans its routes with it, and
/// the contract checker routes messages with it, so both agree with the generated server.
#[derive(Debug, Clone)]
pub struct Routing {
    pub selection: String,
    pub source: SelectionSource,
    /// Every inbound message (index into the channel's `messages`) with its route key, in
    /// document order. `$default` is the fallback route; other `$` keys are API Gateway's own
    /// (`$connect`, `$disconnect`) and are not routes.
    pub keys: Vec<(usize, String)>,
}

impl Routing {
    /// The `$default` message, if the channel has one.
    pub fn default(&self) -> Option<usize> {
        self.keys
            .iter()
            .find(|(_, key)| key == "$default")
            .map(|(index, _)| *index)
    }
}

/// The routing of one channel (the rules in this module's documentation).
pub fn routing(api: &Api, channel: &Channel) -> Routing {
    let (selection, source) = selection(api, channel);
    let discriminator = single_property(&selection);
    let mut keys: Vec<(usize, String)> = Vec::new();
    // Route keys taken so far (`$` keys take nothing: they are not routes).
    let mut taken: Vec<String> = Vec::new();
    for (index, message) in channel.messages.iter().enumerate() {
        if !channel.inbound.contains(&index) {
            continue;
        }
        let key = route_key(message, discriminator.as_deref(), &taken);
        if !key.starts_with('$') {
            taken.push(key.clone());
        }
        keys.push((index, key));
    }
    Routing {
        selection,
        source,
        keys,
    }
}

fn selection(api: &Api, channel: &Channel) -> (String, SelectionSource) {
    if let Some(expression) = &channel.route_selection {
        return (expression.clone(), SelectionSource::Channel);
    }
    if let Some(expression) = &api.route_selection {
        return (expression.clone(), SelectionSource::Document);
    }
    if let Some(property) = inferred_discriminator(channel) {
        return (
            format!("$request.body.{property}"),
            SelectionSource::Inferred,
        );
    }
    ("$request.body.action".into(), SelectionSource::Default)
}

/// A property every inbound message of the channel pins to a distinct string.
fn inferred_discriminator(channel: &Channel) -> Option<String> {
    let inbound: Vec<&Message> = channel.inbound().collect();
    if inbound.is_empty() {
        return None;
    }
    let first = payload_root(inbound[0])?;
    let candidates: Vec<String> = first
        .get("properties")?
        .as_object()?
        .iter()
        .map(|(k, _)| k.name.clone())
        .collect();
    candidates.into_iter().find(|property| {
        let values: Option<Vec<String>> = inbound
            .iter()
            .map(|m| payload_root(m).and_then(|node| const_of(node, property)))
            .collect();
        values.is_some_and(|mut v| {
            let n = v.len();
            v.sort();
            v.dedup();
            v.len() == n
        })
    })
}

/// A message's payload schema, as written (not for opaque payloads).
fn payload_root(message: &Message) -> Option<&Node> {
    message
        .payload
        .as_ref()
        .and_then(Payload::schema)
        .map(|s| &s.inlined.node)
}

/// `$request.body.action` → `action` (one top-level property), else `None`; read with the
/// runtime's own grammar.
fn single_property(selection: &str) -> Option<String> {
    match route_selection::parse(selection).ok()?.as_slice() {
        [route_selection::Part::Body(path)] if path.len() == 1 => Some(path[0].clone()),
        _ => None,
    }
}

fn route_key(message: &Message, discriminator: Option<&str>, taken: &[String]) -> String {
    let candidates = [
        message.route_key.clone(),
        discriminator.and_then(|p| const_of(payload_root(message)?, p)),
        message.name.clone(),
        Some(message.key.clone()),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|k| !taken.contains(k))
        .unwrap_or_else(|| message.key.clone())
}

/// The reply message of the inbound operation that receives message `index`, if it has one.
pub fn reply_message<'a>(api: &'a Api, channel: &'a Channel, index: usize) -> Option<&'a Message> {
    let reply = channel
        .operations
        .iter()
        .filter(|op| op.messages.contains(&index))
        .find_map(|op| op.reply.as_ref())?;
    let first = reply.messages.first()?;
    api.channels.get(first.channel)?.messages.get(first.message)
}

/// The string a variant pins `property` to (`const`, or a one-value `enum`).
pub fn const_of(schema: &Node, property: &str) -> Option<String> {
    let property = schema.get("properties")?.get(property)?;
    if let Some(value) = property.get("const").and_then(Node::as_str) {
        return Some(value.to_owned());
    }
    match property.get("enum").and_then(Node::as_array) {
        Some([one]) => one.as_str().map(str::to_owned),
        _ => None,
    }
}
