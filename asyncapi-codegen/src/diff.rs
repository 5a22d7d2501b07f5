//! Two documents compared as APIs: what changed in channels, routes, messages, their schemas,
//! the handshake and security, and whom each change breaks.
//!
//! A change *breaks clients* when a client written to the old document can fail against a
//! server of the new one, and *breaks servers* when a server of the old document can fail with
//! clients of the new one. Schemas are compared as sets of accepted messages: a schema that
//! accepts less (narrowed) breaks the senders of that message, one that accepts more (widened)
//! its receivers. Clients send what the server receives (inbound) and receive what it sends
//! (outbound); so an inbound schema that narrows breaks clients, one that widens breaks servers,
//! and the reverse for outbound. A property the receiver does not declare is ignored unless its
//! schema forbids undeclared properties, so adding or dropping an optional one is compatible.
//!
//! ```
//! use asyncapi_codegen::diff::{Rule, diff};
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/chat/asyncapi.yaml");
//! let old = asyncapi_codegen::load(path.as_ref(), &Default::default()).unwrap();
//! let text = std::fs::read_to_string(path).unwrap().replace("minLength: 1", "minLength: 2");
//! let new = asyncapi_codegen::load_text(path.as_ref(), &text, &Default::default()).unwrap();
//! let changes = diff(&old, &new);
//! assert!(changes.iter().any(|c| c.breaks_clients && c.rule == Rule::SchemaNarrowed));
//! ```

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use crate::Loaded;
use crate::model::{Api, Channel, Message, Schema};
use crate::plan::security;
use crate::pointer::Pointer;
use crate::routing;
use crate::source::{Location, Span};

/// One change between two documents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// What kind of change (`channel-removed`, `schema-narrowed`, …).
    pub rule: Rule,
    /// Where in the API: `channel chat / route sendMessage / payload /text`.
    pub at: String,
    /// What changed, in words.
    pub what: String,
    /// Why it is classified as it is.
    pub why: String,
    /// A client of the old document can fail with a server of the new one.
    pub breaks_clients: bool,
    /// A server of the old document can fail with clients of the new one.
    pub breaks_servers: bool,
    /// Where it was, in the old document.
    pub old: Option<Location>,
    /// Where it is, in the new document.
    pub new: Option<Location>,
}

impl Change {
    /// Neither side breaks.
    pub fn is_compatible(&self) -> bool {
        !self.breaks_clients && !self.breaks_servers
    }
}

/// What kind of change: each is reported under its name (`schema-narrowed`), which `diff`'s
/// outputs print and JSON carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A channel clients can open.
    ChannelAdded,
    /// A channel clients can no longer open.
    ChannelRemoved,
    /// A channel at another address.
    ChannelMoved,
    /// A route the server receives.
    RouteAdded,
    /// A route the server no longer receives.
    RouteRemoved,
    /// A message reached by another route key.
    RouteKeyChanged,
    /// A channel's route selection expression.
    SelectionChanged,
    /// A message the server sends.
    MessageAdded,
    /// A message the server no longer sends.
    MessageRemoved,
    /// The reply of a two-way route.
    ReplyChanged,
    /// A schema that accepts less.
    SchemaNarrowed,
    /// A schema that accepts more.
    SchemaWidened,
    /// A schema that accepts other messages.
    SchemaChanged,
    /// An optional property (ignored by receivers that do not know it).
    PropertyAdded,
    /// An optional property no longer described.
    PropertyRemoved,
    /// A handshake (query, headers) that accepts less.
    HandshakeNarrowed,
    /// A handshake that accepts more.
    HandshakeWidened,
    /// A security requirement on the servers.
    SecurityAdded,
    /// A security requirement dropped.
    SecurityRemoved,
}

impl Rule {
    /// Every rule, in the order the guide lists them.
    pub const ALL: [Rule; 19] = [
        Rule::ChannelAdded,
        Rule::ChannelRemoved,
        Rule::ChannelMoved,
        Rule::RouteAdded,
        Rule::RouteRemoved,
        Rule::RouteKeyChanged,
        Rule::SelectionChanged,
        Rule::MessageAdded,
        Rule::MessageRemoved,
        Rule::ReplyChanged,
        Rule::SchemaNarrowed,
        Rule::SchemaWidened,
        Rule::SchemaChanged,
        Rule::PropertyAdded,
        Rule::PropertyRemoved,
        Rule::HandshakeNarrowed,
        Rule::HandshakeWidened,
        Rule::SecurityAdded,
        Rule::SecurityRemoved,
    ];

    /// Its name, as reports print it (`schema-narrowed`).
    pub fn name(self) -> &'static str {
        match self {
            Rule::ChannelAdded => "channel-added",
            Rule::ChannelRemoved => "channel-removed",
            Rule::ChannelMoved => "channel-moved",
            Rule::RouteAdded => "route-added",
            Rule::RouteRemoved => "route-removed",
            Rule::RouteKeyChanged => "route-key-changed",
            Rule::SelectionChanged => "selection-changed",
            Rule::MessageAdded => "message-added",
            Rule::MessageRemoved => "message-removed",
            Rule::ReplyChanged => "reply-changed",
            Rule::SchemaNarrowed => "schema-narrowed",
            Rule::SchemaWidened => "schema-widened",
            Rule::SchemaChanged => "schema-changed",
            Rule::PropertyAdded => "property-added",
            Rule::PropertyRemoved => "property-removed",
            Rule::HandshakeNarrowed => "handshake-narrowed",
            Rule::HandshakeWidened => "handshake-widened",
            Rule::SecurityAdded => "security-added",
            Rule::SecurityRemoved => "security-removed",
        }
    }

    /// What it reports, in words.
    pub fn reports(self) -> &'static str {
        match self {
            Rule::ChannelAdded => "a channel clients can open",
            Rule::ChannelRemoved => "a channel clients can no longer open",
            Rule::ChannelMoved => "a channel at another address",
            Rule::RouteAdded => "a route the server receives",
            Rule::RouteRemoved => "a route the server no longer receives",
            Rule::RouteKeyChanged => "a message reached by another route key",
            Rule::SelectionChanged => "a channel's route selection expression",
            Rule::MessageAdded => "a message the server sends",
            Rule::MessageRemoved => "a message the server no longer sends",
            Rule::ReplyChanged => "the reply of a two-way route",
            Rule::SchemaNarrowed => "a schema that accepts less",
            Rule::SchemaWidened => "a schema that accepts more",
            Rule::SchemaChanged => "a schema that accepts other messages",
            Rule::PropertyAdded => {
                "an optional property (ignored by receivers that do not know it)"
            }
            Rule::PropertyRemoved => "an optional property no longer described",
            Rule::HandshakeNarrowed => "a handshake (query, headers) that accepts less",
            Rule::HandshakeWidened => "a handshake that accepts more",
            Rule::SecurityAdded => "a security requirement on the servers",
            Rule::SecurityRemoved => "a security requirement dropped",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Who sends a message: the client (inbound to the server) or the server (outbound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sender {
    Client,
    Server,
}

/// How a schema's set of accepted messages changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Narrowed,
    Widened,
    /// Some messages are accepted that were not, and some no longer are.
    Both,
    /// Accepted messages may differ, but receivers do not care (an optional property, which
    /// receivers that do not declare it ignore): the rule that says so.
    Neutral(Rule),
}

/// One change inside a schema.
struct SchemaChange {
    /// The JSON pointer of the instance it is about (`/text`, `/items/[]`).
    instance: String,
    /// Where in the schema (for the spans on both sides).
    schema_path: String,
    what: String,
    effect: Effect,
}

impl SchemaChange {
    /// Its instance pointer, `/` for the whole value.
    fn shown(&self) -> &str {
        if self.instance.is_empty() {
            "/"
        } else {
            &self.instance
        }
    }
}

/// Compares two loaded documents. Channels are matched by address (else by key: a move),
/// messages of a channel by name, `messageId` or key (else by an identical payload, as inline
/// messages get made-up keys), so the same API written at two versions of the specification
/// compares equal.
pub fn diff(old: &Loaded, new: &Loaded) -> Vec<Change> {
    let mut cx = Diff {
        old,
        new,
        out: Vec::new(),
    };
    cx.api(&old.api, &new.api);
    cx.out
}

struct Diff<'a> {
    old: &'a Loaded,
    new: &'a Loaded,
    out: Vec<Change>,
}

/// A channel's address, the way both versions write it: without a leading `/`.
fn address_of(channel: &Channel) -> String {
    channel
        .address
        .as_deref()
        .unwrap_or(&channel.id)
        .trim_start_matches('/')
        .to_owned()
}

/// What a message is called, for matching and for people.
fn name_of(message: &Message) -> &str {
    message
        .name
        .as_deref()
        .or(message.message_id.as_deref())
        .unwrap_or(&message.key)
}

/// A change as the comparison finds it, before its spans are placed in their documents.
struct Found {
    rule: Rule,
    at: String,
    what: String,
    why: &'static str,
    breaks: Breaks,
    old: Option<Span>,
    new: Option<Span>,
}

/// Whom a change breaks.
#[derive(Debug, Clone, Copy)]
struct Breaks {
    /// Clients of the old document, with a server of the new one.
    clients: bool,
    /// Servers of the old document, with clients of the new one.
    servers: bool,
}

impl Breaks {
    const NEITHER: Breaks = Breaks {
        clients: false,
        servers: false,
    };
    const CLIENTS: Breaks = Breaks {
        clients: true,
        servers: false,
    };
    const SERVERS: Breaks = Breaks {
        clients: false,
        servers: true,
    };
    const BOTH: Breaks = Breaks {
        clients: true,
        servers: true,
    };
}

impl Diff<'_> {
    fn old_at(&self, span: Span) -> Location {
        self.old.documents.sources().location(span)
    }

    fn new_at(&self, span: Span) -> Location {
        self.new.documents.sources().location(span)
    }

    fn push(&mut self, found: Found) {
        self.out.push(Change {
            rule: found.rule,
            at: found.at,
            what: found.what,
            why: found.why.to_owned(),
            breaks_clients: found.breaks.clients,
            breaks_servers: found.breaks.servers,
            old: found.old.map(|s| self.old_at(s)),
            new: found.new.map(|s| self.new_at(s)),
        });
    }

    fn api(&mut self, old: &Api, new: &Api) {
        // Same key and address; else the same address (a key renamed); else the same key (a
        // channel moved). Several channels may share one address.
        let mut pairs: Vec<Option<usize>> = vec![None; old.channels.len()];
        let mut matched = BTreeSet::new();
        let rules: [fn(&Channel, &Channel) -> bool; 3] = [
            |a, b| a.id == b.id && address_of(a) == address_of(b),
            |a, b| address_of(a) == address_of(b),
            |a, b| a.id == b.id,
        ];
        for same in rules {
            for (o, old_channel) in old.channels.iter().enumerate() {
                if pairs[o].is_some() {
                    continue;
                }
                let found = (0..new.channels.len())
                    .find(|&i| !matched.contains(&i) && same(old_channel, &new.channels[i]));
                if let Some(index) = found {
                    matched.insert(index);
                    pairs[o] = Some(index);
                }
            }
        }
        for (old_channel, found) in old.channels.iter().zip(pairs) {
            match found {
                Some(index) => {
                    let new_channel = &new.channels[index];
                    if address_of(new_channel) != address_of(old_channel) {
                        let why = "clients open the old address, servers of the old document serve only it";
                        self.push(Found {
                            rule: Rule::ChannelMoved,
                            at: format!("channel {}", new_channel.id),
                            what: format!(
                                "channel `{}` is at `{}`",
                                address_of(old_channel),
                                address_of(new_channel)
                            ),
                            why,
                            breaks: Breaks::BOTH,
                            old: Some(old_channel.span),
                            new: Some(new_channel.span),
                        });
                    }
                    self.channel(old, old_channel, new, new_channel);
                }
                None => self.push(Found {
                    rule: Rule::ChannelRemoved,
                    at: format!("channel {}", old_channel.id),
                    what: format!("channel `{}` is gone", address_of(old_channel)),
                    why: "clients that open it are refused",
                    breaks: Breaks::CLIENTS,
                    old: Some(old_channel.span),
                    new: None,
                }),
            }
        }
        for (index, channel) in new.channels.iter().enumerate() {
            if !matched.contains(&index) {
                self.push(Found {
                    rule: Rule::ChannelAdded,
                    at: format!("channel {}", channel.id),
                    what: format!("channel `{}` is new", address_of(channel)),
                    why: "servers of the old document do not serve it to the clients that open it",
                    breaks: Breaks::SERVERS,
                    old: None,
                    new: Some(channel.span),
                });
            }
        }
        self.security();
    }

    fn channel(&mut self, old_api: &Api, old: &Channel, new_api: &Api, new: &Channel) {
        let at = format!("channel {}", new.id);
        let (old_routing, new_routing) = (
            routing::routing(old_api, old),
            routing::routing(new_api, new),
        );
        let routes = |r: &routing::Routing| r.keys.len() > 1;
        if old_routing.selection != new_routing.selection
            && (routes(&old_routing) || routes(&new_routing))
        {
            self.push(Found {
                rule: Rule::SelectionChanged,
                at: at.clone(),
                what: format!(
                    "route selection `{}` → `{}`",
                    old_routing.selection, new_routing.selection
                ),
                why: "clients written to one expression reach other routes under the other",
                breaks: Breaks::BOTH,
                old: Some(old.span),
                new: Some(new.span),
            });
        }
        self.handshake(old, new, &at);
        // Inbound: the routes.
        let pairs = pair(old, &old.inbound, new, &new.inbound);
        let key_of = |routing: &routing::Routing, index: usize| {
            routing
                .keys
                .iter()
                .find(|(i, _)| *i == index)
                .map(|(_, k)| k.clone())
                .unwrap_or_default()
        };
        for (old_index, new_index) in &pairs.matched {
            let (old_message, new_message) = (&old.messages[*old_index], &new.messages[*new_index]);
            let (old_key, new_key) = (
                key_of(&old_routing, *old_index),
                key_of(&new_routing, *new_index),
            );
            let at = format!("{at} / route {new_key}");
            if old_key != new_key && (routes(&old_routing) || routes(&new_routing)) {
                self.push(Found {
                    rule: Rule::RouteKeyChanged,
                    at: at.clone(),
                    what: format!(
                        "`{}` is reached by `{new_key}`, not `{old_key}`",
                        name_of(new_message)
                    ),
                    why: "clients send the old key, which the new server routes elsewhere",
                    breaks: Breaks::BOTH,
                    old: Some(old_message.span),
                    new: Some(new_message.span),
                });
            }
            self.message(old_message, new_message, Sender::Client, &at);
            // The reply of a two-way route.
            let old_reply = routing::reply_message(old_api, old, *old_index);
            let new_reply = routing::reply_message(new_api, new, *new_index);
            match (old_reply, new_reply) {
                (Some(a), Some(b)) => self.message(a, b, Sender::Server, &format!("{at} / reply")),
                (None, None) => {}
                (a, b) => self.push(Found {
                    rule: Rule::ReplyChanged,
                    at: at.clone(),
                    what: match b {
                        Some(b) => format!(
                            "`{}` now answers with `{}`",
                            name_of(new_message),
                            name_of(b)
                        ),
                        None => format!("`{}` no longer answers", name_of(new_message)),
                    },
                    why: "clients that wait for the old reply (or do not expect one) fail",
                    breaks: Breaks::BOTH,
                    old: a.map(|m| m.span),
                    new: b.map(|m| m.span),
                }),
            }
        }
        for index in &pairs.removed {
            let message = &old.messages[*index];
            self.push(Found {
                rule: Rule::RouteRemoved,
                at: format!("{at} / route {}", key_of(&old_routing, *index)),
                what: format!("`{}` is no longer received", name_of(message)),
                why: "clients that send it are refused (`Forbidden`, or `$default`)",
                breaks: Breaks::CLIENTS,
                old: Some(message.span),
                new: None,
            });
        }
        for index in &pairs.added {
            let message = &new.messages[*index];
            self.push(Found {
                rule: Rule::RouteAdded,
                at: format!("{at} / route {}", key_of(&new_routing, *index)),
                what: format!("`{}` is received", name_of(message)),
                why: "servers of the old document refuse it from clients that send it",
                breaks: Breaks::SERVERS,
                old: None,
                new: Some(message.span),
            });
        }
        // Outbound: what the server sends, but for the replies, compared with their routes above.
        let (old_sent, new_sent) = (sent(old_api, old), sent(new_api, new));
        let pairs = pair(old, &old_sent, new, &new_sent);
        for (old_index, new_index) in &pairs.matched {
            let (a, b) = (&old.messages[*old_index], &new.messages[*new_index]);
            self.message(
                a,
                b,
                Sender::Server,
                &format!("{at} / sends {}", name_of(b)),
            );
        }
        for index in &pairs.removed {
            let message = &old.messages[*index];
            self.push(Found {
                rule: Rule::MessageRemoved,
                at: format!("{at} / sends {}", name_of(message)),
                what: format!("`{}` is no longer sent", name_of(message)),
                why: "clients that wait for it never get it",
                breaks: Breaks::CLIENTS,
                old: Some(message.span),
                new: None,
            });
        }
        for index in &pairs.added {
            let message = &new.messages[*index];
            let why = "clients that do not know it receive an unknown message and may ignore it (generated clients: `Event::Unmatched`)";
            self.push(Found {
                rule: Rule::MessageAdded,
                at: format!("{at} / sends {}", name_of(message)),
                what: format!("`{}` is sent", name_of(message)),
                why,
                breaks: Breaks::NEITHER,
                old: None,
                new: Some(message.span),
            });
        }
    }

    /// The `ws` binding's query and headers: clients send them.
    fn handshake(&mut self, old: &Channel, new: &Channel, at: &str) {
        for part in ["query", "headers"] {
            let schema = |c: &Channel| {
                c.bindings
                    .as_ref()
                    .and_then(|b| b.get("ws"))
                    .and_then(|ws| ws.get(part))
                    .cloned()
            };
            let (a, b) = (schema(old), schema(new));
            if a == b {
                continue;
            }
            let mut changes = Vec::new();
            compare(
                a.as_ref().unwrap_or(&Value::Bool(true)),
                b.as_ref().unwrap_or(&Value::Bool(true)),
                "",
                "",
                0,
                &mut changes,
            );
            for change in changes {
                let (rule, breaks) = match change.effect {
                    Effect::Narrowed => (Rule::HandshakeNarrowed, Breaks::CLIENTS),
                    Effect::Widened => (Rule::HandshakeWidened, Breaks::SERVERS),
                    Effect::Both => (Rule::HandshakeNarrowed, Breaks::BOTH),
                    Effect::Neutral(_) => continue,
                };
                self.push(Found {
                    rule,
                    at: format!("{at} / handshake {part} {}", change.shown()),
                    what: change.what,
                    why: if rule == Rule::HandshakeNarrowed {
                        "clients' handshakes may now be refused"
                    } else {
                        "servers of the old document may refuse the handshakes of new clients"
                    },
                    breaks,
                    old: Some(old.span),
                    new: Some(new.span),
                });
            }
        }
    }

    fn message(&mut self, old: &Message, new: &Message, sender: Sender, at: &str) {
        for (part, a, b) in [
            ("payload", old.payload.as_ref(), new.payload.as_ref()),
            ("headers", old.headers.as_ref(), new.headers.as_ref()),
        ] {
            let (a, b) = (a.and_then(|p| p.schema()), b.and_then(|p| p.schema()));
            let json = |s: Option<&Schema>| s.map_or(Value::Bool(true), Schema::to_json);
            let (a_json, b_json) = (json(a), json(b));
            if a_json == b_json {
                continue;
            }
            let mut changes = Vec::new();
            compare(&a_json, &b_json, "", "", 0, &mut changes);
            for change in changes {
                let (rule, breaks, why) = classify(change.effect, sender);
                let old_span = a
                    .and_then(|s| s.keyword_span(&change.schema_path))
                    .or(Some(old.span));
                let new_span = b
                    .and_then(|s| s.keyword_span(&change.schema_path))
                    .or(Some(new.span));
                self.push(Found {
                    rule,
                    at: format!("{at} / {part} {}", change.shown()),
                    what: change.what,
                    why,
                    breaks,
                    old: old_span,
                    new: new_span,
                });
            }
        }
    }

    /// Security requirements of the servers, by scheme name (every server's, as a set).
    fn security(&mut self) {
        let names = |loaded: &Loaded| -> BTreeSet<String> {
            let Ok(bundle) = loaded.documents.bundle() else {
                return BTreeSet::new();
            };
            let servers = bundle.get("servers").and_then(Value::as_object);
            servers
                .into_iter()
                .flatten()
                .flat_map(|(_, server)| security::scheme_names(&bundle, server.get("security")))
                .collect()
        };
        let (old, new) = (names(self.old), names(self.new));
        for added in new.difference(&old) {
            self.push(Found {
                rule: Rule::SecurityAdded,
                at: "servers / security".into(),
                what: format!("security scheme `{added}` is required"),
                why: "clients that do not present it are refused",
                breaks: Breaks::CLIENTS,
                old: None,
                new: None,
            });
        }
        for removed in old.difference(&new) {
            self.push(Found {
                rule: Rule::SecurityRemoved,
                at: "servers / security".into(),
                what: format!("security scheme `{removed}` is no longer required"),
                why: "servers of the old document refuse new clients that do not present it",
                breaks: Breaks::SERVERS,
                old: None,
                new: None,
            });
        }
    }
}

/// The rule, whom it breaks, and why, for a schema change of a message `sender` sends.
fn classify(effect: Effect, sender: Sender) -> (Rule, Breaks, &'static str) {
    match (effect, sender) {
        (Effect::Narrowed, Sender::Client) => (
            Rule::SchemaNarrowed,
            Breaks::CLIENTS,
            "clients send messages the new server refuses",
        ),
        (Effect::Narrowed, Sender::Server) => (
            Rule::SchemaNarrowed,
            Breaks::SERVERS,
            "servers of the old document send messages new clients refuse",
        ),
        (Effect::Widened, Sender::Client) => (
            Rule::SchemaWidened,
            Breaks::SERVERS,
            "new clients send messages servers of the old document refuse",
        ),
        (Effect::Widened, Sender::Server) => (
            Rule::SchemaWidened,
            Breaks::CLIENTS,
            "the server sends messages clients of the old document do not expect",
        ),
        (Effect::Both, _) => (
            Rule::SchemaChanged,
            Breaks::BOTH,
            "each side may send what the other refuses",
        ),
        (Effect::Neutral(rule), _) => (
            rule,
            Breaks::NEITHER,
            "receivers ignore properties they do not declare",
        ),
    }
}

/// The outbound messages of `channel` that answer none of its operations (a reply is compared
/// with the route it answers).
fn sent(api: &Api, channel: &Channel) -> Vec<usize> {
    let replies: Vec<usize> = channel
        .operations
        .iter()
        .filter_map(|op| op.reply.as_ref())
        .flat_map(|reply| &reply.messages)
        .filter(|m| {
            api.channels
                .get(m.channel)
                .is_some_and(|c| std::ptr::eq(c, channel))
        })
        .map(|m| m.message)
        .collect();
    channel
        .outbound
        .iter()
        .copied()
        .filter(|i| !replies.contains(i))
        .collect()
}

/// Messages of two channels, matched.
struct Pairs {
    matched: Vec<(usize, usize)>,
    removed: Vec<usize>,
    added: Vec<usize>,
}

/// Matches `old_indices` of `old` with `new_indices` of `new` by name, `messageId` or key, then
/// by an identical payload.
fn pair(old: &Channel, old_indices: &[usize], new: &Channel, new_indices: &[usize]) -> Pairs {
    let mut matched = Vec::new();
    let mut left: Vec<usize> = new_indices.to_vec();
    let mut removed = Vec::new();
    for &o in old_indices {
        let message = &old.messages[o];
        let names = [
            Some(name_of(message)),
            message.message_id.as_deref(),
            Some(message.key.as_str()),
        ];
        let found = left.iter().position(|&n| {
            let other = &new.messages[n];
            let other_names = [
                Some(name_of(other)),
                other.message_id.as_deref(),
                Some(other.key.as_str()),
            ];
            names
                .iter()
                .flatten()
                .any(|a| other_names.iter().flatten().any(|b| a == b))
        });
        match found {
            Some(position) => matched.push((o, left.remove(position))),
            None => removed.push(o),
        }
    }
    // Messages written inline get made-up keys (2.x `oneOf`): the same payload is the same
    // message.
    let payload = |m: &Message| {
        m.payload
            .as_ref()
            .and_then(|p| p.schema())
            .map(Schema::to_json)
    };
    let mut unmatched: Vec<(usize, Option<Value>)> = if removed.is_empty() {
        left.into_iter().map(|n| (n, None)).collect()
    } else {
        left.into_iter()
            .map(|n| (n, payload(&new.messages[n])))
            .collect()
    };
    removed.retain(|&o| {
        let Some(theirs) = payload(&old.messages[o]) else {
            return true;
        };
        match unmatched
            .iter()
            .position(|(_, p)| p.as_ref() == Some(&theirs))
        {
            Some(position) => {
                matched.push((o, unmatched.remove(position).0));
                false
            }
            None => true,
        }
    });
    Pairs {
        matched,
        removed,
        added: unmatched.into_iter().map(|(n, _)| n).collect(),
    }
}

/// The effect of a change that makes some values no longer accepted (`lost`) and others
/// accepted (`gained`); `None` when neither.
fn effect_of(lost: bool, gained: bool) -> Option<Effect> {
    match (lost, gained) {
        (true, true) => Some(Effect::Both),
        (true, false) => Some(Effect::Narrowed),
        (false, true) => Some(Effect::Widened),
        (false, false) => None,
    }
}

/// Records one schema change.
fn note(
    out: &mut Vec<SchemaChange>,
    instance: &str,
    schema_path: &str,
    what: String,
    effect: Effect,
) {
    out.push(SchemaChange {
        instance: instance.to_owned(),
        schema_path: schema_path.to_owned(),
        what,
        effect,
    });
}

/// How deep two schemas are compared (a deeper difference is reported where the walk stops).
const MAX_DEPTH: usize = 32;

/// Compares two schemas (JSON), reporting each difference with its effect on what is accepted.
fn compare(
    old: &Value,
    new: &Value,
    instance: &str,
    schema_path: &str,
    depth: usize,
    out: &mut Vec<SchemaChange>,
) {
    if old == new {
        return;
    }
    let change = |out: &mut Vec<SchemaChange>, what: String, effect: Effect, keyword: &str| {
        note(
            out,
            instance,
            &format!("{schema_path}/{keyword}"),
            what,
            effect,
        );
    };
    let (old_map, new_map) = match (old, new) {
        (Value::Object(a), Value::Object(b)) => (a, b),
        (Value::Bool(true), _) | (_, Value::Bool(false)) => {
            change(out, "anything → a schema".into(), Effect::Narrowed, "");
            return;
        }
        (_, Value::Bool(true)) | (Value::Bool(false), _) => {
            change(out, "a schema → anything".into(), Effect::Widened, "");
            return;
        }
        _ => {
            change(out, "the schema changed".into(), Effect::Both, "");
            return;
        }
    };
    if depth > MAX_DEPTH {
        change(
            out,
            "the schema changed (deeper than compared)".into(),
            Effect::Both,
            "",
        );
        return;
    }
    // type
    let types = |map: &serde_json::Map<String, Value>| -> Option<BTreeSet<String>> {
        match map.get("type")? {
            Value::String(t) => Some([t.clone()].into()),
            Value::Array(ts) => Some(
                ts.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect(),
            ),
            _ => None,
        }
    };
    let accepts = |set: &Option<BTreeSet<String>>, ty: &str| {
        set.as_ref()
            .is_none_or(|s| s.contains(ty) || (ty == "integer" && s.contains("number")))
    };
    let (old_types, new_types) = (types(old_map), types(new_map));
    if old_types != new_types {
        let all = [
            "null", "boolean", "object", "array", "number", "integer", "string",
        ];
        let lost = all
            .iter()
            .any(|t| accepts(&old_types, t) && !accepts(&new_types, t));
        let gained = all
            .iter()
            .any(|t| !accepts(&old_types, t) && accepts(&new_types, t));
        let show = |t: &Option<BTreeSet<String>>| {
            t.as_ref().map_or("any".to_owned(), |s| {
                s.iter().cloned().collect::<Vec<_>>().join("|")
            })
        };
        // `integer|number` → `number` loses and gains nothing.
        if let Some(effect) = effect_of(lost, gained) {
            change(
                out,
                format!("type {} → {}", show(&old_types), show(&new_types)),
                effect,
                "type",
            );
        }
    }
    // enum and const: sets of allowed values.
    for key in ["enum", "const"] {
        let values = |map: &serde_json::Map<String, Value>| -> Option<Vec<Value>> {
            match (key, map.get(key)?) {
                ("enum", Value::Array(values)) => Some(values.clone()),
                ("const", value) => Some(vec![value.clone()]),
                _ => None,
            }
        };
        let (a, b) = (values(old_map), values(new_map));
        if a == b {
            continue;
        }
        let effect = match (&a, &b) {
            (None, Some(_)) => Effect::Narrowed,
            (Some(_), None) => Effect::Widened,
            // The same values in another order change nothing.
            (Some(a), Some(b)) => match effect_of(
                a.iter().any(|v| !b.contains(v)),
                b.iter().any(|v| !a.contains(v)),
            ) {
                Some(effect) => effect,
                None => continue,
            },
            (None, None) => continue,
        };
        let show = |v: &Option<Vec<Value>>| {
            v.as_ref().map_or("any".to_owned(), |v| {
                v.iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        };
        change(
            out,
            format!("{key} {} → {}", show(&a), show(&b)),
            effect,
            key,
        );
    }
    // Lower and upper bounds: raising a lower one (or adding it) narrows, and so on.
    for (key, lower) in [
        ("minimum", true),
        ("exclusiveMinimum", true),
        ("minLength", true),
        ("minItems", true),
        ("minProperties", true),
        ("maximum", false),
        ("exclusiveMaximum", false),
        ("maxLength", false),
        ("maxItems", false),
        ("maxProperties", false),
    ] {
        let (a, b) = (
            old_map.get(key).and_then(Value::as_f64),
            new_map.get(key).and_then(Value::as_f64),
        );
        let effect = match (a, b) {
            (None, Some(_)) => Effect::Narrowed,
            (Some(_), None) => Effect::Widened,
            (Some(a), Some(b)) if a == b => continue,
            (Some(a), Some(b)) => {
                if (b > a) == lower {
                    Effect::Narrowed
                } else {
                    Effect::Widened
                }
            }
            (None, None) => continue,
        };
        let show = |v: Option<f64>| v.map_or("none".to_owned(), |v| v.to_string());
        change(out, format!("{key} {} → {}", show(a), show(b)), effect, key);
    }
    // Constraints compared as they are written.
    for key in [
        "pattern",
        "format",
        "multipleOf",
        "uniqueItems",
        "contentEncoding",
    ] {
        let (a, b) = (old_map.get(key), new_map.get(key));
        let effect = match (a, b) {
            (a, b) if a == b => continue,
            (None, Some(_)) => Effect::Narrowed,
            (Some(_), None) => Effect::Widened,
            _ => Effect::Both,
        };
        let show = |v: Option<&Value>| v.map_or("none".to_owned(), Value::to_string);
        change(out, format!("{key} {} → {}", show(a), show(b)), effect, key);
    }
    // Objects: required properties, properties, undeclared properties.
    let required = |map: &serde_json::Map<String, Value>| -> BTreeSet<String> {
        map.get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let (old_required, new_required) = (required(old_map), required(new_map));
    for name in new_required.difference(&old_required) {
        change(
            out,
            format!("`{name}` is required"),
            Effect::Narrowed,
            "required",
        );
    }
    for name in old_required.difference(&new_required) {
        change(
            out,
            format!("`{name}` is no longer required"),
            Effect::Widened,
            "required",
        );
    }
    let closed = |map: &serde_json::Map<String, Value>| {
        map.get("additionalProperties") == Some(&Value::Bool(false))
    };
    let empty = serde_json::Map::new();
    let old_properties = old_map
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let new_properties = new_map
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (name, old_property) in old_properties {
        let path = format!("{instance}{}", Pointer::root().join(name.as_str()));
        let schema_at = format!(
            "{schema_path}/properties{}",
            Pointer::root().join(name.as_str())
        );
        match new_properties.get(name) {
            Some(new_property) => compare(
                old_property,
                new_property,
                &path,
                &schema_at,
                depth + 1,
                out,
            ),
            None if closed(new_map) => note(
                out,
                &path,
                &format!("{schema_path}/properties"),
                format!("`{name}` is no longer allowed"),
                Effect::Narrowed,
            ),
            None if old_required.contains(name) => {} // reported with `required`
            None => note(
                out,
                &path,
                &format!("{schema_path}/properties"),
                format!("`{name}` is no longer described"),
                Effect::Neutral(Rule::PropertyRemoved),
            ),
        }
    }
    for name in new_properties
        .keys()
        .filter(|n| !old_properties.contains_key(*n))
    {
        let path = format!("{instance}{}", Pointer::root().join(name.as_str()));
        if new_required.contains(name) {
            continue; // reported with `required`
        }
        note(
            out,
            &path,
            &format!(
                "{schema_path}/properties{}",
                Pointer::root().join(name.as_str())
            ),
            format!("`{name}` is a new optional property"),
            if closed(old_map) {
                Effect::Widened
            } else {
                Effect::Neutral(Rule::PropertyAdded)
            },
        );
    }
    match (
        old_map.get("additionalProperties"),
        new_map.get("additionalProperties"),
    ) {
        (a, b) if a == b => {}
        (None | Some(Value::Bool(true)), Some(Value::Bool(false))) => change(
            out,
            "undeclared properties are no longer allowed".into(),
            Effect::Narrowed,
            "additionalProperties",
        ),
        (Some(Value::Bool(false)), None | Some(Value::Bool(true))) => change(
            out,
            "undeclared properties are allowed".into(),
            Effect::Widened,
            "additionalProperties",
        ),
        (a, b) => compare(
            a.unwrap_or(&Value::Bool(true)),
            b.unwrap_or(&Value::Bool(true)),
            &format!("{instance}/*"),
            &format!("{schema_path}/additionalProperties"),
            depth + 1,
            out,
        ),
    }
    // Arrays: items.
    if let (Some(a), Some(b)) = (old_map.get("items"), new_map.get("items")) {
        compare(
            a,
            b,
            &format!("{instance}/[]"),
            &format!("{schema_path}/items"),
            depth + 1,
            out,
        );
    } else if old_map.get("items") != new_map.get("items") {
        let effect = if old_map.contains_key("items") {
            Effect::Widened
        } else {
            Effect::Narrowed
        };
        note(
            out,
            &format!("{instance}/[]"),
            &format!("{schema_path}/items"),
            "the items' schema changed".into(),
            effect,
        );
    }
    // Alternatives and conjunctions: pairwise when the lists keep their length.
    for key in ["oneOf", "anyOf", "allOf"] {
        match (
            old_map.get(key).and_then(Value::as_array),
            new_map.get(key).and_then(Value::as_array),
        ) {
            (a, b) if a == b => {}
            (Some(a), Some(b)) if a.len() == b.len() => {
                for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
                    compare(
                        x,
                        y,
                        instance,
                        &format!("{schema_path}/{key}/{i}"),
                        depth + 1,
                        out,
                    );
                }
            }
            (Some(a), Some(b)) => {
                let effect = match (key, b.len() > a.len()) {
                    ("allOf", true) | ("oneOf" | "anyOf", false) => Effect::Narrowed,
                    _ => Effect::Widened,
                };
                note(
                    out,
                    instance,
                    &format!("{schema_path}/{key}"),
                    format!("{key} of {} → {} schemas", a.len(), b.len()),
                    effect,
                );
            }
            (a, _) => note(
                out,
                instance,
                &format!("{schema_path}/{key}"),
                format!("{key} {}", if a.is_some() { "removed" } else { "added" }),
                Effect::Both,
            ),
        }
    }
    // Definitions of recursive parts, by name.
    if let (Some(Value::Object(a)), Some(Value::Object(b))) =
        (old_map.get("$defs"), new_map.get("$defs"))
    {
        for (name, x) in a {
            if let Some(y) = b.get(name) {
                compare(
                    x,
                    y,
                    &format!("{instance}(#{name})"),
                    &format!("{schema_path}/$defs/{name}"),
                    depth + 1,
                    out,
                );
            }
        }
    }
}
