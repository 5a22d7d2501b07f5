//! AsyncAPI 2.0–2.6: channels keyed by address, `publish` (the application receives) and
//! `subscribe` (the application sends), messages inline, by `$ref`, or `oneOf` lists.

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::model::api::*;
use crate::model::reader::{Obj, Reader};
use crate::model::{
    ModelOptions, check_components, check_parameters, message, named_schemas, read_info,
    route_selection, unique_key,
};
use crate::resolve::{At, Target};
use crate::source::Span;

const ROOT: &[&str] = &[
    "asyncapi",
    "id",
    "info",
    "servers",
    "defaultContentType",
    "channels",
    "components",
    "tags",
    "externalDocs",
];
const CHANNEL: &[&str] = &[
    "$ref",
    "description",
    "servers",
    "subscribe",
    "publish",
    "parameters",
    "bindings",
];
const OPERATION: &[&str] = &[
    "operationId",
    "summary",
    "description",
    "security",
    "tags",
    "externalDocs",
    "bindings",
    "traits",
    "message",
];
const OPERATION_TRAIT: &[&str] = &[
    "operationId",
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
    "serverVariables",
    "channels",
    "messages",
    "securitySchemes",
    "parameters",
    "correlationIds",
    "operationTraits",
    "messageTraits",
    "serverBindings",
    "channelBindings",
    "operationBindings",
    "messageBindings",
];
const SERVER: &[&str] = &[
    "url",
    "protocol",
    "protocolVersion",
    "description",
    "variables",
    "security",
    "bindings",
    "tags",
];

/// Ids that must be unique across the document, with where each was first seen.
#[derive(Default)]
struct Ids {
    operations: HashMap<String, Span>,
    messages: HashMap<(String, Option<Target>), Span>,
}

pub(super) fn build<'d>(
    r: &mut Reader<'d>,
    root: &Obj<'d>,
    asyncapi: String,
    version: SpecVersion,
    options: &ModelOptions,
) -> Option<Api> {
    r.fields(root, ROOT, &["asyncapi", "info", "channels"]);
    r.unique_tags(root);
    let info = read_info(r, root, false);
    let id = r.string(root, "id");
    let default_content_type = r.string(root, "defaultContentType");
    let servers = read_servers(r, root);
    let mut messages = Vec::new();
    if let Some(components) = r.object_field(root, "components", "the components object") {
        r.fields(&components, COMPONENTS, &[]);
        messages = check_components(r, &components, version, OPERATION_TRAIT);
    }

    let mut ids = Ids::default();
    let mut channels = Vec::new();
    if let Some(list) = r.object_field(root, "channels", "the channels object") {
        for (key, node) in list.map.iter() {
            let at = At {
                file: list.at.file,
                node,
            };
            if let Some(channel) =
                read_channel(r, at, &key.name, key.span, version, options, &mut ids)
            {
                channels.push(channel);
            }
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
        r.fields(&server, SERVER, &["url", "protocol"]);
        r.unique_tags(&server);
        let url = r.string(&server, "url");
        let protocol = r.string(&server, "protocol");
        let (Some(url), Some(protocol)) = (url, protocol) else {
            continue;
        };
        servers.push(Server {
            name: key.name.clone(),
            url,
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
    name: &str,
    name_span: Span,
    version: SpecVersion,
    options: &ModelOptions,
    ids: &mut Ids,
) -> Option<Channel> {
    let obj = r.object(at, format!("channel `{name}`"))?;
    r.fields(&obj, CHANNEL, &[]);
    let parameters = read_parameters(r, &obj);
    check_parameters(r, name, name, name_span, &parameters);

    let channel = Channel {
        id: name.to_owned(),
        address: Some(name.to_owned()),
        title: None,
        summary: None,
        description: r.string(&obj, "description"),
        parameters,
        bindings: r.channel_bindings(&obj),
        route_selection: route_selection(r, &obj),
        messages: Vec::new(),
        operations: Vec::new(),
        inbound: Vec::new(),
        outbound: Vec::new(),
        span: obj.span(),
    };
    let mut reading = Reading {
        name,
        version,
        channel,
        identities: Vec::new(),
    };
    for (field, direction) in [
        ("publish", Direction::Inbound),
        ("subscribe", Direction::Outbound),
    ] {
        let Some(op_at) = obj.child(field) else {
            continue;
        };
        let direction = match options.side {
            Side::Server => direction,
            Side::Client => direction.flip(),
        };
        if let Some(op) = read_operation(r, op_at, (field, direction), ids, &mut reading) {
            reading.channel.operations.push(op);
        }
    }
    Some(reading.channel)
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
        r.fields(&obj, &["description", "schema", "location", "$ref"], &[]);
        out.push(Parameter {
            name: key.name.clone(),
            description: r.string(&obj, "description"),
            schema: obj.child("schema").and_then(|s| r.json(s)),
            location: r.string(&obj, "location"),
            span: key.span,
        });
    }
    out
}

/// A v2 channel as its operations are read into it.
struct Reading<'c> {
    name: &'c str,
    version: SpecVersion,
    channel: Channel,
    /// Message identity inside the channel: where each message's `$ref` landed, so a message
    /// used by both operations is one message.
    identities: Vec<Option<Target>>,
}

/// The operation `field` (`publish` or `subscribe`) of the channel being read; its messages go
/// into the channel.
fn read_operation<'d>(
    r: &mut Reader<'d>,
    at: At<'d>,
    (field, direction): (&str, Direction),
    ids: &mut Ids,
    reading: &mut Reading<'_>,
) -> Option<Operation> {
    let Reading {
        name: channel_name,
        version,
        channel,
        identities,
    } = reading;
    let (channel_name, version) = (*channel_name, *version);
    let obj = r.object(
        at,
        format!("the {field} operation of channel `{channel_name}`"),
    )?;
    r.fields(&obj, OPERATION, &[]);
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
    // Traits patch the operation: the last trait that sets a field wins.
    let field_of = |r: &mut Reader<'d>, key: &str| {
        traits
            .iter()
            .rev()
            .chain([&obj])
            .find(|p| p.has(key))
            .and_then(|p| r.string(p, key))
    };
    let operation_id = field_of(r, "operationId");
    if let Some(id) = &operation_id {
        let span = obj.map.get("operationId").map_or(obj.span(), |n| n.span);
        if let Some(first) = ids.operations.get(id) {
            r.push(
                Diagnostic::error(
                    ErrorKind::DuplicateId {
                        what: "operationId",
                        id: id.clone(),
                    },
                    span,
                )
                .with_label(*first, "first used here"),
            );
        } else {
            ids.operations.insert(id.clone(), span);
        }
    }
    let summary = field_of(r, "summary");
    let description = field_of(r, "description");

    let mut indices = Vec::new();
    if let Some(message_at) = obj.child("message") {
        let base_key = operation_id
            .clone()
            .unwrap_or_else(|| format!("{channel_name}.{field}"));
        let chain = r.ref_chain(message_at);
        let message_obj = r.object(message_at, format!("the message of {}", obj.what))?;
        // `message: {oneOf: [...]}`: several messages.
        let entries: Vec<(At<'d>, String)> = match message_obj.child("oneOf") {
            Some(list_at) => {
                r.fields(&message_obj, &["oneOf"], &[]);
                let list = r.deref(list_at)?;
                match list.node.as_array() {
                    Some(items) => items
                        .iter()
                        .enumerate()
                        .map(|(i, node)| {
                            (
                                At {
                                    file: list.file,
                                    node,
                                },
                                format!("{base_key}Message{}", i + 1),
                            )
                        })
                        .collect(),
                    _ => {
                        r.error(
                            ErrorKind::WrongType {
                                what: format!("`oneOf` of {}", message_obj.what),
                                expected: "an array of messages",
                                found: list.node.kind(),
                            },
                            list.node.span,
                        );
                        Vec::new()
                    }
                }
            }
            None => {
                let key = chain
                    .last()
                    .and_then(|t| t.pointer.last().map(str::to_owned))
                    .unwrap_or_else(|| format!("{base_key}Message"));
                vec![(message_at, key)]
            }
        };
        for (entry_at, fallback) in entries {
            let chain = r.ref_chain(entry_at);
            let identity = chain.last().cloned();
            if let Some(index) = identity
                .as_ref()
                .and_then(|id| identities.iter().position(|i| i.as_ref() == Some(id)))
            {
                indices.push(index);
                continue;
            }
            let Some(entry) = r.object(entry_at, format!("message `{fallback}`")) else {
                continue;
            };
            let mut key = match &identity {
                Some(target) => target
                    .pointer
                    .last()
                    .map_or(fallback.clone(), str::to_owned),
                None => {
                    let id = entry.map.get("messageId").and_then(|n| n.as_str());
                    let name = entry.map.get("name").and_then(|n| n.as_str());
                    id.or(name).map_or(fallback.clone(), str::to_owned)
                }
            };
            if key == "message" {
                key = fallback.clone();
            }
            let key = unique_key(key, &channel.messages);
            let entry = Obj {
                what: format!("message `{key}`"),
                ..entry
            };
            let message = message::read(r, &entry, key, version);
            if let Some(id) = &message.message_id {
                let span = entry.map.get("messageId").map_or(entry.span(), |n| n.span);
                let slot = (id.clone(), identity.clone());
                let clash = ids.messages.iter().find(|((other, target), _)| {
                    *other == *id && (target.is_none() || *target != identity)
                });
                if let Some((_, first)) = clash {
                    r.push(
                        Diagnostic::error(
                            ErrorKind::DuplicateId {
                                what: "messageId",
                                id: id.clone(),
                            },
                            span,
                        )
                        .with_label(*first, "first used here"),
                    );
                } else {
                    ids.messages.insert(slot, span);
                }
            }
            identities.push(identity);
            channel.messages.push(message);
            indices.push(channel.messages.len() - 1);
        }
    }
    Some(Operation {
        id: operation_id.unwrap_or_else(|| format!("{channel_name}.{field}")),
        direction,
        title: None,
        summary,
        description,
        messages: indices,
        reply: None,
        bindings: obj.child("bindings").and_then(|b| r.json(b)),
        span: obj.span(),
    })
}
