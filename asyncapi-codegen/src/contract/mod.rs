//! Contract checking: JSON messages against the document's schemas.
//!
//! A [`Contract`] is a loaded document with every message schema compiled once. It checks a
//! message as a named message ([`Contract::check_message`]) or as "any inbound / outbound message
//! of a channel" ([`Contract::check_channel`]). Inbound messages of a channel with a route
//! selection expression (explicit or inferred) are routed first, exactly as the generated server
//! routes them, and checked against the routed message only.
//!
//! ```
//! use asyncapi_codegen::contract::{Contract, Verdict};
//! use asyncapi_codegen::model::Direction;
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/chat/asyncapi.yaml");
//! let loaded = asyncapi_codegen::load(path.as_ref(), &Default::default()).unwrap();
//! let contract = Contract::new(&loaded);
//!
//! let good = serde_json::json!({"action": "sendMessage", "text": "hi"});
//! let verdict = contract.check_channel("chat", Direction::Inbound, &good).unwrap();
//! assert_eq!(verdict.matched(), Some("sendMessage"));
//!
//! let bad = serde_json::json!({"action": "sendMessage", "text": 42});
//! let Verdict::Rejected(rejection) = contract.check_channel("chat", Direction::Inbound, &bad).unwrap()
//! else { panic!() };
//! let violation = &rejection.candidates[0].violations[0];
//! assert_eq!((violation.instance_path.as_str(), violation.keyword.as_str()), ("/text", "type"));
//! assert!(violation.location.as_ref().unwrap().to_string().ends_with("asyncapi.yaml:118:13"));
//! ```

mod examples;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

pub use examples::example_warnings;

use crate::Loaded;
use crate::model::{Api, Direction, Payload, Schema};
use crate::routing::{Routing, SelectionSource};
use crate::source::{Location, Sources, Span};

/// A document's messages, compiled once, to check JSON messages against.
#[derive(Debug)]
pub struct Contract {
    sources: Sources,
    messages: Vec<ContractMessage>,
    channels: Vec<ChannelContract>,
}

/// One message of the document (a message used by several channels is one).
#[derive(Debug)]
pub struct ContractMessage {
    /// Its key in the document.
    pub key: String,
    pub name: Option<String>,
    pub message_id: Option<String>,
    check: PayloadCheck,
    /// (example name, payload) for each example with a payload.
    pub examples: Vec<(String, Value)>,
    /// Where its payload carries its `correlationId` (a JSON pointer), when it has one there.
    pub correlation: Option<String>,
}

#[derive(Debug)]
enum PayloadCheck {
    /// The payload schema (compiled when the document loaded).
    Schema(Box<Schema>),
    /// No payload schema, or one in a format asyncapi-rs does not read: anything goes.
    Anything,
}

/// One channel: its messages by direction, and how the server routes what it receives.
#[derive(Debug)]
pub struct ChannelContract {
    /// Its key in the document.
    pub id: String,
    /// Where clients reach it (`None`: a dynamic address).
    pub address: Option<String>,
    /// The `ws` binding's query schema, for the live runner's handshake.
    pub query: Option<Value>,
    /// The `ws` binding's headers schema.
    pub headers: Option<Value>,
    /// The parsed selection expression, when the channel routes (explicit or inferred).
    selection: Option<Vec<route_selection::Part>>,
    /// (route key, message): every route, `$default` included.
    pub routes: Vec<(String, usize)>,
    /// Indices into the contract's messages.
    pub inbound: Vec<usize>,
    pub outbound: Vec<usize>,
    /// (inbound message, its reply message).
    pub replies: Vec<(usize, usize)>,
}

/// Where the server routes an inbound message.
#[derive(Debug)]
pub enum Routed<'a> {
    /// The channel does not route: any inbound message may be it.
    Unrouted,
    /// The route (its key, `$default` included) and its message.
    Route(&'a str, usize),
    /// The key the message selects has no route and there is no `$default`: `Forbidden`.
    NoRoute(String),
}

impl ChannelContract {
    /// Routes `json` as the server does: its route key's route, else `$default`.
    pub fn route(&self, json: &Value) -> Routed<'_> {
        let Some(parts) = &self.selection else {
            return Routed::Unrouted;
        };
        let key = route_selection::evaluate(parts, json);
        let find = |key: &str| self.routes.iter().find(|(k, _)| k == key);
        match find(&key).or_else(|| find("$default")) {
            Some((route, index)) => Routed::Route(route, *index),
            None => Routed::NoRoute(key),
        }
    }

    /// The reply a two-way inbound message must be answered with.
    pub fn reply_to(&self, request: usize) -> Option<usize> {
        self.replies
            .iter()
            .find(|(i, _)| *i == request)
            .map(|(_, reply)| *reply)
    }
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum Verdict {
    /// The message is valid as `message` (reached through route `route`, when routed).
    Valid {
        message: String,
        route: Option<String>,
    },
    Rejected(Rejection),
}

impl Verdict {
    /// The message that accepted it.
    pub fn matched(&self) -> Option<&str> {
        match self {
            Verdict::Valid { message, .. } => Some(message),
            Verdict::Rejected(_) => None,
        }
    }

    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid { .. })
    }
}

/// Why a message was rejected.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// The route key the message selected, when the channel routes.
    pub route: Option<String>,
    /// Set when no route has that key and the channel has no `$default`: the server answers
    /// `Forbidden`. Holds the channel's route keys.
    pub no_route: Option<Vec<String>>,
    /// Every candidate message and why it refused (one when routed).
    pub candidates: Vec<Candidate>,
}

/// A message that refused an instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub message: String,
    pub violations: Vec<Violation>,
}

/// One schema violation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// JSON pointer to the failing value in the message (`""` is the whole message).
    pub instance_path: String,
    /// The failing schema keyword (`type`, `required` …).
    pub keyword: String,
    /// JSON pointer to the keyword in the message's payload schema.
    pub schema_path: String,
    /// Where that keyword is written in the document.
    pub location: Option<Location>,
    /// What is wrong, in words.
    pub error: String,
    #[serde(skip)]
    pub span: Option<Span>,
}

impl Violation {
    /// The instance pointer as people read it: `/` for the whole message.
    pub fn pointer(&self) -> &str {
        if self.instance_path.is_empty() {
            "/"
        } else {
            &self.instance_path
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (keyword `{}`",
            self.pointer(),
            self.error,
            self.keyword
        )?;
        match &self.location {
            Some(location) => write!(f, " at {location})"),
            None => write!(f, " at schema path {})", self.schema_path),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(routes) = &self.no_route {
            let key = self.route.as_deref().unwrap_or_default();
            return write!(
                f,
                "route key `{key}` selects no route and the channel has no `$default` (the server answers `Forbidden`); routes: {}",
                list(routes)
            );
        }
        if let Some(route) = &self.route {
            write!(f, "route `{route}`: ")?;
        }
        match self.candidates.as_slice() {
            [] => write!(f, "the channel has no message in this direction"),
            [one] => {
                write!(f, "not a valid `{}`: ", one.message)?;
                join(f, &one.violations)
            }
            many => {
                write!(f, "matches none of {} messages", many.len())?;
                for candidate in many {
                    write!(f, "; as `{}`: ", candidate.message)?;
                    join(f, &candidate.violations)?;
                }
                Ok(())
            }
        }
    }
}

fn join(f: &mut fmt::Formatter<'_>, violations: &[Violation]) -> fmt::Result {
    for (i, violation) in violations.iter().enumerate() {
        if i > 0 {
            f.write_str("; ")?;
        }
        write!(f, "{violation}")?;
    }
    Ok(())
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A channel or message the document does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("the document has no channel `{name}`; channels: {}", list(.known))]
    UnknownChannel { name: String, known: Vec<String> },
    #[error("{} has no message `{name}`; messages: {}", .scope, list(.known))]
    UnknownMessage {
        name: String,
        scope: String,
        known: Vec<String>,
    },
}

impl Contract {
    /// Compiles every message schema of a loaded document.
    pub fn new(loaded: &Loaded) -> Contract {
        Contract::from_api(&loaded.api, loaded.documents.sources().clone())
    }

    /// As [`Contract::new`], from the model and the sources its spans point into.
    pub fn from_api(api: &Api, sources: Sources) -> Contract {
        let mut messages: Vec<ContractMessage> = Vec::new();
        let mut by_span: BTreeMap<Span, usize> = BTreeMap::new();
        let mut index_of = |message: &crate::model::Message| -> usize {
            *by_span.entry(message.span).or_insert_with(|| {
                messages.push(contract_message(message));
                messages.len() - 1
            })
        };
        let mut channels = Vec::new();
        for channel in &api.channels {
            let routing = crate::routing::routing(api, channel);
            let indices: Vec<usize> = channel.messages.iter().map(&mut index_of).collect();
            let at = |i: &usize| indices.get(*i).copied();
            let replies = channel
                .inbound
                .iter()
                .filter_map(|&i| {
                    let reply = crate::routing::reply_message(api, channel, i)?;
                    Some((at(&i)?, index_of(reply)))
                })
                .collect();
            channels.push(ChannelContract {
                id: channel.id.clone(),
                address: channel.address.clone(),
                query: channel.ws_binding("query").cloned(),
                headers: channel.ws_binding("headers").cloned(),
                selection: routed(&routing),
                routes: routing
                    .keys
                    .iter()
                    .filter(|(_, key)| !key.starts_with('$') || key == "$default")
                    .filter_map(|(i, key)| Some((key.clone(), at(i)?)))
                    .collect(),
                inbound: channel.inbound.iter().filter_map(at).collect(),
                outbound: channel.outbound.iter().filter_map(at).collect(),
                replies,
            });
        }
        Contract {
            sources,
            messages,
            channels,
        }
    }

    /// Checks `json` as the message named `message` (its key, `name` or `messageId`), of
    /// `channel` when given, else of any channel.
    ///
    /// # Errors
    /// No such channel or message.
    pub fn check_message(
        &self,
        channel: Option<&str>,
        message: &str,
        json: &Value,
    ) -> Result<Verdict, LookupError> {
        let candidates: Vec<usize> = match channel {
            Some(id) => {
                let channel = self.channel(id)?;
                channel
                    .inbound
                    .iter()
                    .chain(&channel.outbound)
                    .copied()
                    .collect()
            }
            None => (0..self.messages.len()).collect(),
        };
        let found = candidates
            .iter()
            .copied()
            .find(|&i| self.messages[i].answers_to(message))
            .ok_or_else(|| {
                let mut known: Vec<String> = candidates
                    .iter()
                    .map(|&i| self.messages[i].key.clone())
                    .collect();
                known.dedup();
                LookupError::UnknownMessage {
                    name: message.to_owned(),
                    scope: channel.map_or("the document".into(), |c| format!("channel `{c}`")),
                    known,
                }
            })?;
        Ok(self.verdict(None, &[found], json))
    }

    /// Checks `json` as any message of `channel` in `direction`. Inbound messages of a channel
    /// that routes are routed first, as the server does: the route key picks the one message
    /// to check (or `$default`), and a key with no route is rejected (`Forbidden`).
    ///
    /// # Errors
    /// No such channel.
    pub fn check_channel(
        &self,
        channel: &str,
        direction: Direction,
        json: &Value,
    ) -> Result<Verdict, LookupError> {
        let channel = self.channel(channel)?;
        if direction == Direction::Outbound {
            return Ok(self.verdict(None, &channel.outbound, json));
        }
        Ok(match channel.route(json) {
            Routed::Unrouted => self.verdict(None, &channel.inbound, json),
            Routed::Route(route, index) => self.verdict(Some(route.to_owned()), &[index], json),
            Routed::NoRoute(key) => Verdict::Rejected(Rejection {
                route: Some(key),
                no_route: Some(
                    channel
                        .routes
                        .iter()
                        .map(|(k, _)| k.clone())
                        .filter(|k| k != "$default")
                        .collect(),
                ),
                candidates: Vec::new(),
            }),
        })
    }

    /// Checks `json` as the reply to inbound message `request` of `channel`; `None` when that
    /// message has no reply.
    ///
    /// # Errors
    /// No such channel.
    pub fn check_reply(
        &self,
        channel: &str,
        request: &str,
        json: &Value,
    ) -> Result<Option<Verdict>, LookupError> {
        let channel = self.channel(channel)?;
        let request = channel
            .inbound
            .iter()
            .copied()
            .find(|&i| self.messages[i].key == request);
        Ok(request
            .and_then(|request| channel.reply_to(request))
            .map(|reply| self.verdict(None, &[reply], json)))
    }

    /// Every channel, in document order.
    pub fn channels(&self) -> &[ChannelContract] {
        &self.channels
    }

    /// A channel by its key.
    ///
    /// # Errors
    /// [`LookupError::UnknownChannel`], with the keys there are.
    pub fn channel(&self, id: &str) -> Result<&ChannelContract, LookupError> {
        self.channels
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| LookupError::UnknownChannel {
                name: id.to_owned(),
                known: self.channels.iter().map(|c| c.id.clone()).collect(),
            })
    }

    /// A message by its index (as [`ChannelContract`] lists them).
    pub fn message(&self, index: usize) -> &ContractMessage {
        &self.messages[index]
    }

    /// The first candidate (message indices) that accepts `json`, or every candidate's
    /// violations; `route` is what the verdict reports as the route taken.
    pub fn verdict(&self, route: Option<String>, candidates: &[usize], json: &Value) -> Verdict {
        let mut refused = Vec::new();
        for &index in candidates {
            let message = &self.messages[index];
            let violations = self.violations(message, json);
            if violations.is_empty() {
                return Verdict::Valid {
                    message: message.key.clone(),
                    route,
                };
            }
            refused.push(Candidate {
                message: message.key.clone(),
                violations,
            });
        }
        Verdict::Rejected(Rejection {
            route,
            no_route: None,
            candidates: refused,
        })
    }

    fn violations(&self, message: &ContractMessage, json: &Value) -> Vec<Violation> {
        match &message.check {
            PayloadCheck::Anything => Vec::new(),
            PayloadCheck::Schema(schema) => schema
                .validator()
                .iter_errors(json)
                .map(|error| {
                    let schema_path = error.schema_path().to_string();
                    let span = schema.keyword_span(&schema_path);
                    Violation {
                        instance_path: error.instance_path().to_string(),
                        keyword: error.kind().keyword().to_owned(),
                        location: span.map(|s| self.sources.location(s)),
                        schema_path,
                        error: error.to_string(),
                        span,
                    }
                })
                .collect(),
        }
    }

    /// The files the document was read from (violations' spans point into them).
    pub fn sources(&self) -> &Sources {
        &self.sources
    }
}

impl ContractMessage {
    /// Its payload schema (`None`: no schema, or one in a format asyncapi-rs does not read).
    pub fn schema(&self) -> Option<&Schema> {
        match &self.check {
            PayloadCheck::Schema(schema) => Some(schema),
            PayloadCheck::Anything => None,
        }
    }

    /// What to call it: its name, else its key.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.key)
    }

    fn answers_to(&self, name: &str) -> bool {
        self.key == name
            || self.name.as_deref() == Some(name)
            || self.message_id.as_deref() == Some(name)
    }
}

fn contract_message(message: &crate::model::Message) -> ContractMessage {
    let check = match &message.payload {
        Some(Payload::Schema(schema)) => PayloadCheck::Schema(Box::new(schema.clone())),
        Some(Payload::Unsupported { .. }) | None => PayloadCheck::Anything,
    };
    let examples = message
        .examples
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((e.label(i), e.payload.clone()?)))
        .collect();
    ContractMessage {
        correlation: message
            .correlation_id
            .as_ref()
            .and_then(|c| c.payload_pointer().map(str::to_owned)),
        key: message.key.clone(),
        name: message.name.clone(),
        message_id: message.message_id.clone(),
        check,
        examples,
    }
}

/// The selection a channel routes with: explicit or inferred, not the bare default.
fn routed(routing: &Routing) -> Option<Vec<route_selection::Part>> {
    if routing.source == SelectionSource::Default {
        return None;
    }
    route_selection::parse(&routing.selection).ok()
}
