//! Messages and their traits, payloads, headers and examples: the part 2.x and 3.x share.

use std::sync::Arc;

use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::model::api::{
    CorrelationId, Example, Message, Payload, Schema, SchemaFormat, SpecVersion,
};
use crate::model::reader::{Obj, Reader, merge_patch};
use crate::model::schema::{self, Format};
use crate::resolve::{At, Inlined};
use crate::tree::Value;

const V2_MESSAGE: &[&str] = &[
    "messageId",
    "headers",
    "payload",
    "correlationId",
    "schemaFormat",
    "contentType",
    "name",
    "title",
    "summary",
    "description",
    "tags",
    "externalDocs",
    "bindings",
    "examples",
    "traits",
];
const V2_MESSAGE_TRAIT: &[&str] = &[
    "messageId",
    "headers",
    "correlationId",
    "schemaFormat",
    "contentType",
    "name",
    "title",
    "summary",
    "description",
    "tags",
    "externalDocs",
    "bindings",
    "examples",
];
const V3_MESSAGE: &[&str] = &[
    "headers",
    "payload",
    "correlationId",
    "contentType",
    "name",
    "title",
    "summary",
    "description",
    "tags",
    "externalDocs",
    "bindings",
    "examples",
    "traits",
];
const V3_MESSAGE_TRAIT: &[&str] = &[
    "headers",
    "correlationId",
    "contentType",
    "name",
    "title",
    "summary",
    "description",
    "tags",
    "externalDocs",
    "bindings",
    "examples",
];

/// Reads one message (already dereferenced to `obj`), applying its traits; a message read before
/// (from another channel, or as a component) is reused under this `key`.
pub(crate) fn read<'d>(
    r: &mut Reader<'d>,
    obj: &Obj<'d>,
    key: String,
    version: SpecVersion,
) -> Message {
    let place = (obj.at.file, obj.span());
    if let Some(known) = r.messages.get(&place) {
        return Message {
            key,
            ..known.clone()
        };
    }
    let message = read_new(r, obj, key, version);
    r.messages.insert(place, message.clone());
    message
}

/// The messages of `components.messages`, each read (and so checked) once. A 2.x `oneOf` list
/// of messages is a choice among messages defined elsewhere, not a message of its own.
pub(crate) fn components<'d>(
    r: &mut Reader<'d>,
    components: &Obj<'d>,
    version: SpecVersion,
) -> Vec<Message> {
    let mut out = Vec::new();
    let Some(messages) = r.object_field(components, "messages", "`components.messages`") else {
        return out;
    };
    for (key, node) in messages.map.iter() {
        let at = At {
            file: messages.at.file,
            node,
        };
        if let Some(obj) = r.object(at, format!("message `{}`", key.name)) {
            if version.major < 3 && obj.has("oneOf") {
                continue;
            }
            out.push(read(r, &obj, key.name.clone(), version));
        }
    }
    out
}

fn read_new<'d>(r: &mut Reader<'d>, obj: &Obj<'d>, key: String, version: SpecVersion) -> Message {
    let v3 = version.major >= 3;
    r.fields(obj, if v3 { V3_MESSAGE } else { V2_MESSAGE }, &[]);
    r.unique_tags(obj);

    // Traits, in order; then the precedence of the parts, lowest first.
    let mut traits = Vec::new();
    if let Some((list, items)) = r.array(obj, "traits") {
        for (i, item) in items.iter().enumerate() {
            let at = At {
                file: list.file,
                node: item,
            };
            let what = format!("trait {i} of {}", obj.what);
            // 3.x allows `[trait, overrides]` pairs of 2.x; take the trait part.
            let at = match &item.value {
                Value::Array(pair) if !pair.is_empty() => At {
                    file: list.file,
                    node: &pair[0],
                },
                _ => at,
            };
            if let Some(t) = r.object(at, what) {
                r.fields(
                    &t,
                    if v3 {
                        V3_MESSAGE_TRAIT
                    } else {
                        V2_MESSAGE_TRAIT
                    },
                    &[],
                );
                r.unique_tags(&t);
                traits.push(t);
            }
        }
    }
    // 2.x: traits are merge patches onto the message (the trait wins). 3.x: the message wins.
    let parts: Vec<Obj<'d>> = if v3 {
        traits.into_iter().chain([obj.clone()]).collect()
    } else {
        [obj.clone()].into_iter().chain(traits).collect()
    };

    let text = |r: &mut Reader<'d>, key: &str| {
        parts
            .iter()
            .rev()
            .find(|p| p.has(key))
            .and_then(|p| r.string(p, key))
    };
    let name = text(r, "name");
    let message_id = text(r, "messageId");
    let title = text(r, "title");
    let summary = text(r, "summary");
    let description = text(r, "description");
    let content_type = text(r, "contentType");
    let schema_format = if v3 { None } else { text(r, "schemaFormat") };
    let format_span = parts
        .iter()
        .rev()
        .find_map(|p| p.map.get("schemaFormat"))
        .map_or(obj.span(), |n| n.span);
    let route_key = obj
        .map
        .get("x-route-key")
        .and_then(|n| r.as_string(n, "`x-route-key`"));

    // The format is checked even without a payload: an unknown one is an error either way.
    if let (Some(text), None) = (&schema_format, obj.map.get("payload"))
        && matches!(schema::classify(text), Format::Unknown)
    {
        r.push(unknown_format(text, &key, format_span));
    }
    let payload = obj.child("payload").and_then(|at| {
        let declared = schema_format.as_deref().map(|f| (f, format_span));
        read_schema(
            r,
            at,
            declared,
            v3,
            &format!("payload of {}", obj.what),
            &key,
        )
    });
    let headers = merged(r, &parts, "headers").and_then(|(inlined, at)| {
        schema_from(
            r,
            inlined,
            at,
            None,
            v3,
            &format!("headers of {}", obj.what),
            &key,
        )
    });
    let correlation_id = merged(r, &parts, "correlationId").and_then(|(inlined, _)| {
        let json = inlined.to_json();
        let location = json.get("location").and_then(|l| l.as_str());
        match location {
            Some(location) => Some(CorrelationId {
                location: location.to_owned(),
                description: json
                    .get("description")
                    .and_then(|d| d.as_str())
                    .map(str::to_owned),
            }),
            None => {
                r.error(
                    ErrorKind::MissingField {
                        object: format!("the correlation ID of {}", obj.what),
                        field: "location".into(),
                    },
                    inlined.node.span,
                );
                None
            }
        }
    });
    let bindings = merged(r, &parts, "bindings").map(|(inlined, _)| inlined.to_json());
    let mut examples = parts
        .iter()
        .rev()
        .find(|p| p.has("examples"))
        .map(|p| examples(r, p, version))
        .unwrap_or_default();
    // Each example is checked against its message's schemas once, here.
    let check = |schema: &Option<Payload>, instance: &Option<serde_json::Value>| {
        schema.as_ref()?.schema()?.violations(instance.as_ref()?)
    };
    for example in &mut examples {
        example.payload_violations = check(&payload, &example.payload);
        example.headers_violations = check(&headers, &example.headers);
    }

    Message {
        key,
        name,
        message_id,
        title,
        summary,
        description,
        content_type,
        payload,
        headers,
        correlation_id,
        examples,
        bindings,
        route_key,
        span: obj.span(),
    }
}

/// A field merged across the parts (lowest precedence first), inlined.
fn merged<'d>(r: &mut Reader<'d>, parts: &[Obj<'d>], key: &str) -> Option<(Inlined, At<'d>)> {
    let mut result: Option<(Inlined, At<'d>)> = None;
    for part in parts {
        let Some(at) = part.child(key) else { continue };
        let Some(inlined) = r.inline(at) else {
            continue;
        };
        result = Some(match result {
            None => (inlined, at),
            Some((mut base, _)) => {
                merge_patch(&mut base.node, inlined.node);
                base.defs.extend(inlined.defs);
                (base, at)
            }
        });
    }
    result
}

/// Reads a payload: a schema, or (3.x) a multi-format schema object.
fn read_schema<'d>(
    r: &mut Reader<'d>,
    at: At<'d>,
    schema_format: Option<(&str, crate::source::Span)>,
    v3: bool,
    what: &str,
    message: &str,
) -> Option<Payload> {
    let inlined = r.inline(at)?;
    schema_from(r, inlined, at, schema_format, v3, what, message)
}

/// A payload or headers schema from its inlined value. `schema_format` is the 2.x message's
/// `schemaFormat` and where it is written; 3.x gives the format inside the value.
fn schema_from<'d>(
    r: &mut Reader<'d>,
    mut inlined: Inlined,
    at: At<'d>,
    schema_format: Option<(&str, crate::source::Span)>,
    v3: bool,
    what: &str,
    message: &str,
) -> Option<Payload> {
    let mut format_text = schema_format.map(|(f, _)| f.to_owned());
    let mut format_span = schema_format.map_or(at.node.span, |(_, span)| span);
    // 3.x: `{schemaFormat, schema}` is a multi-format schema object.
    if v3
        && let Value::Object(map) = &inlined.node.value
        && let (Some(format), Some(schema)) = (map.get("schemaFormat"), map.get("schema"))
    {
        format_span = format.span;
        format_text = r.as_string(format, &format!("`schemaFormat` of the {what}"));
        inlined.node = schema.clone();
    }
    let format = match format_text.as_deref() {
        None => SchemaFormat::AsyncApi,
        Some(text) => match schema::classify(text) {
            Format::Known(format) => format,
            Format::Unsupported(name) => {
                r.push(Diagnostic::warning(
                    ErrorKind::UnsupportedSchemaFormat {
                        format: format!("{name} (`{text}`)"),
                        message: message.to_owned(),
                    },
                    format_span,
                ));
                return Some(Payload::Unsupported {
                    format: text.to_owned(),
                });
            }
            Format::Unknown => {
                r.push(unknown_format(text, message, format_span));
                return None;
            }
        },
    };
    let openapi = format == SchemaFormat::OpenApi;
    let before = r.diagnostics.len();
    schema::check(&inlined.node, what, openapi, &mut r.diagnostics);
    for def in &inlined.defs {
        schema::check(&def.node, what, openapi, &mut r.diagnostics);
    }
    if r.diagnostics.len() > before {
        return None;
    }
    if openapi {
        schema::openapi_to_json_schema(&mut inlined.node);
        for def in &mut inlined.defs {
            schema::openapi_to_json_schema(&mut def.node);
        }
    }
    let json = Schema::json_of(&format, &inlined);
    let validator = schema::compile(
        &json,
        &inlined.node,
        &inlined.defs,
        what,
        &mut r.diagnostics,
    )?;
    Some(Payload::Schema(Schema {
        format,
        inlined,
        validator: Arc::new(validator),
    }))
}

fn unknown_format(format: &str, message: &str, span: crate::source::Span) -> Diagnostic {
    Diagnostic::error(
        ErrorKind::UnknownSchemaFormat {
            format: format.to_owned(),
            message: message.to_owned(),
        },
        span,
    )
    .with_help(
        "AsyncAPI, JSON Schema and OpenAPI 3.0 schemas are read; Avro, RAML and Protobuf are known but opaque",
    )
}

fn examples<'d>(r: &mut Reader<'d>, obj: &Obj<'d>, version: SpecVersion) -> Vec<Example> {
    let Some((list, items)) = r.array(obj, "examples") else {
        return Vec::new();
    };
    let named = version >= SpecVersion { major: 2, minor: 1 };
    let allowed: &[&str] = if named {
        &["name", "summary", "headers", "payload"]
    } else {
        &["headers", "payload"]
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = At {
            file: list.file,
            node: item,
        };
        let Some(example) = r.object(at, format!("example {i} of {}", obj.what)) else {
            continue;
        };
        r.fields(&example, allowed, &[]);
        if named && !example.has("payload") && !example.has("headers") {
            r.error(
                ErrorKind::MissingField {
                    object: example.what.clone(),
                    field: "payload` or `headers".into(),
                },
                example.span(),
            );
        }
        let headers = example.map.get("headers").and_then(|h| {
            if h.as_object().is_some() {
                Some(h.to_json())
            } else {
                r.error(
                    ErrorKind::WrongType {
                        what: format!("`headers` of {}", example.what),
                        expected: "an object",
                        found: h.kind(),
                    },
                    h.span,
                );
                None
            }
        });
        out.push(Example {
            name: r.string(&example, "name"),
            summary: r.string(&example, "summary"),
            payload: example.map.get("payload").map(|p| p.to_json()),
            headers,
            payload_violations: None,
            headers_violations: None,
            span: example.span(),
        });
    }
    out
}
