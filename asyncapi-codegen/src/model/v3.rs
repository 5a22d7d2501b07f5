//! AsyncAPI 3.0–3.1: channels with an `address` and a `messages` map, operations apart with an
//! `action` (`receive`: the application receives; `send`: it sends), a `channel` reference and
//! an optional `reply`.

use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::model::api::*;
use crate::model::reader::{Obj, Reader};
use crate::model::{
    ModelOptions, check_components, check_parameters, message, named_schemas, read_info,
    route_selection,
};
use crate::resolve::At;
use crate::source::{FileId, Span};

const ROOT: &[&str] = &[
    "asyncapi",
    "id",
    "info",
    "servers",
    "defaultContentType",
    "channels",
    "operations",
    "components",
];
const CHANNEL: &[&str] = &[
    "address",
    "messages",
    "title",
    "summary",
    "description",
    "servers",
    "parameters",
    "tags",
    "externalDocs",
    "bindings",
];
const OPERATION: &[&str] = &[
    "action",
    "channel",
    "title",
    "summary",
    "description",
    "security",
    "tags",
    "externalDocs",
    "bindings",
    "traits",
    "messages",
    "reply",
];
const OPERATION_TRAIT: &[&str] = &[
    "title",
    "summary",
    "description",
    "security",
    "tags",
    "externalDocs",
    "bindings",
];
const COMPONENTS: &[&str] = &[
    "schemas",
    "servers",
    "channels",
    "operations",
    "messages",
    "securitySchemes",
    "serverVariables",
    "parameters",
    "correlationIds",
    "replies",
    "replyAddresses",
    "externalDocs",
    "tags",
    "operationTraits",
    "messageTraits",
    "serverBindings",
    "channelBindings",
    "operationBindings",
    "messageBindings",
];
const SERVER: &[&str] = &[
    "host",
    "protocol",
    "protocolVersion",
    "pathname",
    "description",
    "title",
    "summary",
    "variables",
    "security",
    "tags",
    "externalDocs",
    "bindings",
];

/// Where each channel and each of its messages was defined, to match operation references.
/// A place is a node (file and span); a definition's places are its own node and every node its
/// references land on.
struct Places {
    ids: Vec<String>,
    channels: Vec<Vec<Place>>,
    /// Per channel, per message.
    messages: Vec<Vec<Vec<Place>>>,
}

type Place = (FileId, Span);

/// `at` itself, then every node its chain of references lands on.
fn landings<'d>(r: &Reader<'d>, at: At<'d>) -> Vec<Place> {
    let mut out = vec![(at.file, at.node.span)];
    for target in r.ref_chain(at) {
        let landed = r.docs.node_at(&target);
        out.push((landed.file, landed.node.span));
    }
    out
}

pub(super) fn build<'d>(
    r: &mut Reader<'d>,
    root: &Obj<'d>,
    asyncapi: String,
    version: SpecVersion,
    options: &ModelOptions,
) -> Option<Api> {
    r.fields(root, ROOT, &["asyncapi", "info"]);
    let info = read_info(r, root, true);
    let id = r.string(root, "id");
    let default_content_type = r.string(root, "defaultContentType");
    let servers = read_servers(r, root);
    let mut messages = Vec::new();
    if let Some(components) = r.object_field(root, "components", "the components object") {
        r.fields(&components, COMPONENTS, &[]);
        messages = check_components(r, &components, version, OPERATION_TRAIT);
    }

    let mut channels = Vec::new();
    let mut places = Places {
        ids: Vec::new(),
        channels: Vec::new(),
        messages: Vec::new(),
    };
    if let Some(list) = r.object_field(root, "channels", "the channels object") {
        for (key, node) in list.map.iter() {
            let at = At {
                file: list.at.file,
                node,
            };
            if let Some((channel, message_places)) = read_channel(r, at, &key.name, version) {
                places.ids.push(key.name.clone());
                places.channels.push(landings(r, at));
                places.messages.push(message_places);
                channels.push(channel);
            }
        }
    }
    if let Some(list) = r.object_field(root, "operations", "the operations object") {
        for (key, node) in list.map.iter() {
            let at = At {
                file: list.at.file,
                node,
            };
            read_operation(r, at, &key.name, options, &places, &mut channels);
        }
    }
    Some(Api {
        asyncapi,
        version,
        id,
        info: info?,
        default_content_type,
        servers,
        channels,
        side: options.side,
        route_selection: route_selection(r, root),
        schemas: named_schemas(r, root),
        messages,
        document: serde_json::Value::Null,
    })
}

fn read_servers<'d>(r: &mut Reader<'d>, root: &Obj<'d>) -> Vec<Server> {
    let mut servers = Vec::new();
    let Some(list) = r.object_field(root, "servers", "the servers object") else {
        return servers;
    };
    for (key, node) in list.map.iter() {
        let at = At {
            file: list.at.file,
            node,
        };
        let Some(server) = r.object(at, format!("server `{}`", key.name)) else {
            continue;
        };
        r.fields(&server, SERVER, &["host", "protocol"]);
        r.unique_tags(&server);
        let host = r.string(&server, "host");
        let protocol = r.string(&server, "protocol");
        let pathname = r.string(&server, "pathname").unwrap_or_default();
        let (Some(host), Some(protocol)) = (host, protocol) else {
            continue;
        };
        servers.push(Server {
            name: key.name.clone(),
            url: format!("{host}{pathname}"),
            protocol,
            protocol_version: r.string(&server, "protocolVersion"),
            description: r.string(&server, "description"),
            span: server.span(),
        });
    }
    servers
}

fn read_channel<'d>(
    r: &mut Reader<'d>,
    at: At<'d>,
    id: &str,
    version: SpecVersion,
) -> Option<(Channel, Vec<Vec<Place>>)> {
    let obj = r.object(at, format!("channel `{id}`"))?;
    r.fields(&obj, CHANNEL, &[]);
    r.unique_tags(&obj);
    let address = match obj.map.get("address") {
        None => None,
        Some(node) if node.value == crate::tree::Value::Null => None,
        Some(node) => r.as_string(node, &format!("`address` of {}", obj.what)),
    };
    let parameters = read_parameters(r, &obj);
    match (&address, obj.map.get("address")) {
        (Some(address), Some(node)) => check_parameters(r, id, address, node.span, &parameters),
        _ => {
            // A dynamic address has no `{names}` to match; declared parameters are still fine.
        }
    }
    let mut messages = Vec::new();
    let mut places = Vec::new();
    if let Some(list) = r.object_field(&obj, "messages", &format!("the messages of {}", obj.what)) {
        for (key, node) in list.map.iter() {
            let message_at = At {
                file: list.at.file,
                node,
            };
            let chain = landings(r, message_at);
            let Some(message_obj) = r.object(message_at, format!("message `{}`", key.name)) else {
                continue;
            };
            messages.push(message::read(r, &message_obj, key.name.clone(), version));
            places.push(chain);
        }
    }
    let channel = Channel {
        id: id.to_owned(),
        address,
        title: r.string(&obj, "title"),
        summary: r.string(&obj, "summary"),
        description: r.string(&obj, "description"),
        parameters,
        bindings: r.channel_bindings(&obj),
        route_selection: route_selection(r, &obj),
        messages,
        operations: Vec::new(),
        inbound: Vec::new(),
        outbound: Vec::new(),
        span: obj.span(),
    };
    Some((channel, places))
}

fn read_parameters<'d>(r: &mut Reader<'d>, channel: &Obj<'d>) -> Vec<Parameter> {
    let mut out = Vec::new();
    let Some(list) = r.object_field(
        channel,
        "parameters",
        &format!("the parameters of {}", channel.what),
    ) else {
        return out;
    };
    for (key, node) in list.map.iter() {
        let at = At {
            file: list.at.file,
            node,
        };
        let Some(obj) = r.object(at, format!("parameter `{}`", key.name)) else {
            continue;
        };
        r.fields(
            &obj,
            &["enum", "default", "description", "examples", "location"],
            &[],
        );
        // The value of a 3.x parameter is a string; `enum` and `default` constrain it.
        let mut schema = serde_json::json!({"type": "string"});
        for field in ["enum", "default", "examples"] {
            if let Some(value) = obj.map.get(field) {
                schema[field] = value.to_json();
            }
        }
        out.push(Parameter {
            name: key.name.clone(),
            description: r.string(&obj, "description"),
            schema: Some(schema),
            location: r.string(&obj, "location"),
            span: key.span,
        });
    }
    out
}

fn read_operation<'d>(
    r: &mut Reader<'d>,
    at: At<'d>,
    id: &str,
    options: &ModelOptions,
    places: &Places,
    channels: &mut [Channel],
) {
    let Some(obj) = r.object(at, format!("operation `{id}`")) else {
        return;
    };
    r.fields(&obj, OPERATION, &["action", "channel"]);
    r.unique_tags(&obj);
    let mut traits = Vec::new();
    if let Some((list, items)) = r.array(&obj, "traits") {
        for (i, item) in items.iter().enumerate() {
            let at = At {
                file: list.file,
                node: item,
            };
            if let Some(t) = r.object(at, format!("trait {i} of {}", obj.what)) {
                r.fields(&t, OPERATION_TRAIT, &[]);
                r.unique_tags(&t);
                traits.push(t);
            }
        }
    }
    // 3.x: the operation's own fields win over its traits.
    let field_of = |r: &mut Reader<'d>, key: &str| {
        [&obj]
            .into_iter()
            .chain(traits.iter().rev())
            .find(|p| p.has(key))
            .and_then(|p| r.string(p, key))
    };
    let action = r.string(&obj, "action");
    let direction = match action.as_deref() {
        Some("receive") => Direction::Inbound,
        Some("send") => Direction::Outbound,
        Some(other) => {
            let span = obj.map.get("action").map_or(obj.span(), |n| n.span);
            r.error(
                ErrorKind::InvalidValue {
                    what: format!("`action` of {}", obj.what),
                    message: format!("`{other}` is neither `send` nor `receive`"),
                },
                span,
            );
            return;
        }
        None => return,
    };
    let direction = match options.side {
        Side::Server => direction,
        Side::Client => direction.flip(),
    };
    let Some(channel_at) = obj.child("channel") else {
        return;
    };
    let Some(channel_index) = find_channel(r, channel_at, &obj, places) else {
        return;
    };
    let messages = match obj.child("messages") {
        None => (0..channels[channel_index].messages.len()).collect(),
        Some(_) => {
            let Some(found) = message_refs(r, &obj, Some(channel_index), &obj, places) else {
                return;
            };
            found.into_iter().map(|m| m.message).collect()
        }
    };
    let reply = obj
        .child("reply")
        .and_then(|reply_at| read_reply(r, reply_at, &obj, places));
    let operation = Operation {
        id: id.to_owned(),
        direction,
        title: field_of(r, "title"),
        summary: field_of(r, "summary"),
        description: field_of(r, "description"),
        messages,
        reply,
        bindings: obj.child("bindings").and_then(|b| r.json(b)),
        span: obj.span(),
    };
    channels[channel_index].operations.push(operation);
}

fn read_reply<'d>(
    r: &mut Reader<'d>,
    at: At<'d>,
    operation: &Obj<'d>,
    places: &Places,
) -> Option<Reply> {
    let obj = r.object(at, format!("the reply of {}", operation.what))?;
    r.fields(&obj, &["address", "channel", "messages"], &[]);
    let address = obj.child("address").and_then(|a| {
        let address = r.object(a, format!("the reply address of {}", operation.what))?;
        r.fields(&address, &["location", "description"], &["location"]);
        r.string(&address, "location")
    });
    let channel = obj
        .child("channel")
        .and_then(|c| find_channel(r, c, operation, places));
    // Without a reply channel, the reply may be a message of any channel.
    let messages = message_refs(r, &obj, channel, operation, places).unwrap_or_default();
    Some(Reply {
        channel,
        address,
        messages,
    })
}

/// The messages `obj.messages` refers to (an operation's or a reply's); `None` when the field is
/// absent or not an array.
fn message_refs<'d>(
    r: &mut Reader<'d>,
    obj: &Obj<'d>,
    scope: Option<usize>,
    operation: &Obj<'d>,
    places: &Places,
) -> Option<Vec<MessageRef>> {
    let (list, items) = r.array(obj, "messages")?;
    Some(
        items
            .iter()
            .filter_map(|node| {
                let at = At {
                    file: list.file,
                    node,
                };
                find_message(r, at, scope, operation, places)
            })
            .collect(),
    )
}

/// The channel an operation's `channel` reference names: it must be one of `#/channels`.
fn find_channel<'d>(
    r: &mut Reader<'d>,
    at: At<'d>,
    operation: &Obj<'d>,
    places: &Places,
) -> Option<usize> {
    let chain = landings(r, at).split_off(1);
    let span = at.node.get("$ref").map_or(at.node.span, |n| n.span);
    let Some(first) = chain.first() else {
        r.error(
            ErrorKind::InvalidValue {
                what: format!("`channel` of {}", operation.what),
                message: "must be a reference (`$ref: '#/channels/NAME'`)".into(),
            },
            at.node.span,
        );
        return None;
    };
    let found = places
        .channels
        .iter()
        .position(|own| own.first() == Some(first))
        .or_else(|| {
            // Same definition reached another way (`#/components/channels/X` used by a channel).
            places
                .channels
                .iter()
                .position(|own| chain.iter().any(|p| own.contains(p)))
        });
    if found.is_none() {
        let reference = at
            .node
            .get("$ref")
            .and_then(|n| n.as_str())
            .unwrap_or_default();
        r.push(Diagnostic::error(
            ErrorKind::MisplacedReference {
                what: "the operation's channel",
                reference: reference.to_owned(),
                expected: "#/channels".into(),
            },
            span,
        ));
    }
    found
}

/// A message reference of an operation or reply: it must be a message of `scope` (when given),
/// or of any channel.
fn find_message<'d>(
    r: &mut Reader<'d>,
    at: At<'d>,
    scope: Option<usize>,
    operation: &Obj<'d>,
    places: &Places,
) -> Option<MessageRef> {
    let chain = landings(r, at).split_off(1);
    let span = at.node.get("$ref").map_or(at.node.span, |n| n.span);
    let reference = at
        .node
        .get("$ref")
        .and_then(|n| n.as_str())
        .unwrap_or_default()
        .to_owned();
    if chain.is_empty() {
        r.error(
            ErrorKind::InvalidValue {
                what: format!("a message of {}", operation.what),
                message: "must be a reference to a channel's message".into(),
            },
            at.node.span,
        );
        return None;
    }
    let channels: Vec<usize> = match scope {
        Some(index) => vec![index],
        None => (0..places.messages.len()).collect(),
    };
    // Exact place first (`#/channels/c/messages/m`), then any shared definition.
    for exact in [true, false] {
        for &channel in &channels {
            for (message, own) in places.messages[channel].iter().enumerate() {
                let hit = if exact {
                    own.first() == chain.first()
                } else {
                    chain.iter().any(|t| own.contains(t))
                };
                if hit {
                    return Some(MessageRef { channel, message });
                }
            }
        }
    }
    let expected = match scope {
        Some(index) => format!("#/channels/{}/messages", places.ids[index]),
        None => "#/channels/…/messages".into(),
    };
    r.push(Diagnostic::error(
        ErrorKind::MisplacedReference {
            what: "an operation's message",
            reference,
            expected,
        },
        span,
    ));
    None
}
