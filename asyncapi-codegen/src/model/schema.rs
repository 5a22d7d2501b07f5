//! Payload schemas: which formats are read, OpenAPI 3.0 → JSON Schema, and well-formedness.

use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::model::api::DRAFT_07;
use crate::model::api::SchemaFormat;
use crate::pointer::Pointer;
use crate::resolve::Definition;
use crate::source::Span;
use crate::tree::{Key, Node, Value};

/// Compiles `json` (the schema `node`, with the definitions of its cut cycles, as the
/// validators read it) the way ws-runtime will, or reports why it does not compile at the
/// keyword: a schema that does not compile would refuse every message later.
pub(crate) fn compile(
    json: &serde_json::Value,
    node: &Node,
    defs: &[Definition],
    what: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<jsonschema::Validator> {
    let first = match jsonschema::validator_for(json) {
        Ok(validator) => return Some(validator),
        Err(first) => first,
    };
    let mut reasons = vec![(first.instance_path().to_string(), first.to_string())];
    // The compiler stops at the first reason; the meta-schema names every other one.
    if json.get("$schema").and_then(serde_json::Value::as_str) == Some(DRAFT_07) {
        for error in jsonschema::draft7::meta::validator().iter_errors(json) {
            let reason = (error.instance_path().to_string(), error.to_string());
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
    }
    for (path, message) in reasons {
        let pointer = Pointer::parse(&path).unwrap_or_default();
        let (span, shown) = locate(node, defs, &pointer);
        let what = if shown.is_empty() {
            what.to_owned()
        } else {
            format!("`{}` in the {what}", shown.join("/"))
        };
        out.push(Diagnostic::error(
            ErrorKind::InvalidValue {
                what,
                message: format!("{message}; the schema cannot be compiled"),
            },
            span,
        ));
    }
    None
}

/// The node at `pointer` in a schema (`/$defs/NAME/…` reaches a cut cycle's definition), or
/// the deepest node on the way; and the tokens that reached it.
fn locate<'a>(root: &Node, defs: &[Definition], pointer: &'a Pointer) -> (Span, &'a [String]) {
    let tokens = pointer.tokens();
    let (mut node, start) = match tokens {
        [first, name, ..] if first == "$defs" && root.get("$defs").is_none() => {
            match defs.iter().find(|d| &d.name == name) {
                Some(def) => (&def.node, 2),
                None => (root, 0),
            }
        }
        _ => (root, 0),
    };
    for (i, token) in tokens.iter().enumerate().skip(start) {
        match node.child(token) {
            Some(next) => node = next,
            None => return (node.span, &tokens[..i]),
        }
    }
    (node.span, tokens)
}

/// What a `schemaFormat` media type means to us.
pub(crate) enum Format {
    Known(SchemaFormat),
    /// A real format that we do not read; the name to show.
    Unsupported(&'static str),
    Unknown,
}

/// Classifies a `schemaFormat` media type (parameters after `;` other than `version` ignored).
pub(crate) fn classify(media_type: &str) -> Format {
    let lower = media_type.trim().to_ascii_lowercase();
    let (essence, params) = lower.split_once(';').unwrap_or((lower.as_str(), ""));
    let version = params
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("version="))
        .next()
        .map(str::to_owned);
    match essence.trim() {
        "application/vnd.aai.asyncapi"
        | "application/vnd.aai.asyncapi+json"
        | "application/vnd.aai.asyncapi+yaml" => Format::Known(SchemaFormat::AsyncApi),
        "application/schema+json" | "application/schema+yaml" => {
            Format::Known(SchemaFormat::JsonSchema { draft: version })
        }
        "application/vnd.oai.openapi"
        | "application/vnd.oai.openapi+json"
        | "application/vnd.oai.openapi+yaml" => Format::Known(SchemaFormat::OpenApi),
        "application/vnd.apache.avro"
        | "application/vnd.apache.avro+json"
        | "application/vnd.apache.avro+yaml" => Format::Unsupported("Avro"),
        "application/raml+yaml" => Format::Unsupported("RAML"),
        "application/vnd.google.protobuf" => Format::Unsupported("Protobuf"),
        _ => Format::Unknown,
    }
}

/// Rewrites an OpenAPI 3.0 schema object into JSON Schema, in place: `nullable: true` adds
/// `null` to `type` (and to `enum`), boolean `exclusiveMinimum`/`exclusiveMaximum` become the
/// numeric form. Recurses into every subschema.
pub(crate) fn openapi_to_json_schema(node: &mut Node) {
    let Value::Object(map) = &mut node.value else {
        return;
    };
    if let Some(nullable) = map.remove("nullable")
        && nullable.value == Value::Bool(true)
    {
        if let Some(ty) = map.entries.iter_mut().find(|(k, _)| k.name == "type")
            && let Value::String(name) = &ty.1.value
        {
            let span = ty.1.span;
            ty.1.value = Value::Array(vec![
                Node::new(Value::String(name.clone()), span),
                Node::new(Value::String("null".into()), span),
            ]);
        }
        if let Some((_, values)) = map.entries.iter_mut().find(|(k, _)| k.name == "enum")
            && let Value::Array(items) = &mut values.value
            && !items.iter().any(|i| i.value == Value::Null)
        {
            items.push(Node::new(Value::Null, values.span));
        }
    }
    for (bound, limit) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        let flag = map.get(bound).map(|n| n.value.clone());
        match flag {
            Some(Value::Bool(true)) => {
                if let Some(value) = map.remove(limit) {
                    let span = value.span;
                    map.insert(
                        Key {
                            name: bound.into(),
                            span,
                        },
                        value,
                    );
                } else {
                    map.remove(bound);
                }
            }
            Some(Value::Bool(false)) => {
                map.remove(bound);
            }
            _ => {}
        }
    }
    for_each_subschema_mut(node, &mut openapi_to_json_schema);
}

/// Keywords whose value is one schema.
const SINGLE: &[&str] = &[
    "additionalProperties",
    "additionalItems",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
];
/// Keywords whose value is a non-empty array of schemas.
const LISTS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords whose value maps names to schemas.
const MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "definitions",
    "$defs",
    "dependentSchemas",
];
const TYPES: &[&str] = &[
    "null", "boolean", "object", "array", "number", "string", "integer",
];

fn for_each_subschema_mut(node: &mut Node, f: &mut dyn FnMut(&mut Node)) {
    let Value::Object(map) = &mut node.value else {
        return;
    };
    for (key, value) in &mut map.entries {
        let name = key.name.as_str();
        if SINGLE.contains(&name) {
            f(value);
        } else if name == "items" {
            match &mut value.value {
                Value::Array(items) => items.iter_mut().for_each(&mut *f),
                _ => f(value),
            }
        } else if LISTS.contains(&name) {
            if let Value::Array(items) = &mut value.value {
                items.iter_mut().for_each(&mut *f);
            }
        } else if MAPS.contains(&name)
            && let Value::Object(entries) = &mut value.value
        {
            for (_, schema) in &mut entries.entries {
                f(schema);
            }
        }
    }
}

/// Checks that a schema is well formed where JSON Schema says what a keyword holds: subschemas
/// are objects or booleans, `type` names real types, `required` lists strings, `enum` is an
/// array, annotations are strings. `what` names the schema ("payload of message `Foo`").
///
/// An OpenAPI 3.0 schema object (`openapi`) is closed: only its fixed fields and `x-` extensions
/// may appear, as OpenAPI's own meta-schema says.
pub(crate) fn check(node: &Node, what: &str, openapi: bool, out: &mut Vec<Diagnostic>) {
    let mut path = Vec::new();
    check_at(node, what, openapi, &mut path, out);
}

/// The fixed fields of an OpenAPI 3.0 schema object.
const OPENAPI_FIELDS: &[&str] = &[
    "title",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "required",
    "enum",
    "type",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "items",
    "properties",
    "additionalProperties",
    "description",
    "format",
    "default",
    "nullable",
    "discriminator",
    "readOnly",
    "writeOnly",
    "xml",
    "externalDocs",
    "example",
    "deprecated",
    "$ref",
];

fn check_at(
    node: &Node,
    what: &str,
    openapi: bool,
    path: &mut Vec<String>,
    out: &mut Vec<Diagnostic>,
) {
    let here = |path: &[String]| {
        if path.is_empty() {
            what.to_owned()
        } else {
            format!("`{}` in the {what}", path.join("/"))
        }
    };
    let map = match &node.value {
        Value::Object(map) => map,
        Value::Bool(_) => return,
        other => {
            out.push(Diagnostic::error(
                ErrorKind::WrongType {
                    what: here(path),
                    expected: "a schema (an object or a boolean)",
                    found: other.kind(),
                },
                node.span,
            ));
            return;
        }
    };
    let wrong = |key: &str, expected: &'static str, value: &Node, path: &[String]| {
        let mut at = path.to_vec();
        at.push(key.to_owned());
        Diagnostic::error(
            ErrorKind::WrongType {
                what: here(&at),
                expected,
                found: value.kind(),
            },
            value.span,
        )
    };
    for (key, value) in map.iter() {
        let name = key.name.as_str();
        if openapi && !name.starts_with("x-") && !OPENAPI_FIELDS.contains(&name) {
            out.push(Diagnostic::error(
                ErrorKind::UnknownField {
                    object: format!("the OpenAPI schema object {}", here(path)),
                    field: name.to_owned(),
                },
                key.span,
            ));
        }
        match name {
            "type" => check_type(value, &here_with(path, name, what), out),
            "required" => {
                let ok = value
                    .as_array()
                    .is_some_and(|items| items.iter().all(|i| i.as_str().is_some()));
                // OpenAPI and draft 03 write `required: true` on a property; JSON Schema does not.
                if !ok {
                    out.push(wrong(name, "an array of strings", value, path));
                }
            }
            "enum" if value.as_array().is_none() => out.push(wrong(name, "an array", value, path)),
            "title" | "description" | "pattern" | "format" | "$comment"
                if value.as_str().is_none() =>
            {
                out.push(wrong(name, "a string", value, path));
            }
            _ if SINGLE.contains(&name) => {
                path.push(name.to_owned());
                check_at(value, what, openapi, path, out);
                path.pop();
            }
            "items" => {
                path.push(name.to_owned());
                match &value.value {
                    Value::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            path.push(i.to_string());
                            check_at(item, what, openapi, path, out);
                            path.pop();
                        }
                    }
                    _ => check_at(value, what, openapi, path, out),
                }
                path.pop();
            }
            _ if LISTS.contains(&name) => match &value.value {
                Value::Array(items) if !items.is_empty() || name == "prefixItems" => {
                    path.push(name.to_owned());
                    for (i, item) in items.iter().enumerate() {
                        path.push(i.to_string());
                        check_at(item, what, openapi, path, out);
                        path.pop();
                    }
                    path.pop();
                }
                _ => out.push(wrong(name, "a non-empty array of schemas", value, path)),
            },
            _ if MAPS.contains(&name) => match &value.value {
                Value::Object(entries) => {
                    path.push(name.to_owned());
                    for (k, schema) in entries.iter() {
                        path.push(k.name.clone());
                        check_at(schema, what, openapi, path, out);
                        path.pop();
                    }
                    path.pop();
                }
                _ => out.push(wrong(name, "an object of schemas", value, path)),
            },
            _ => {}
        }
    }
}

fn here_with(path: &[String], key: &str, what: &str) -> String {
    let mut at = path.to_vec();
    at.push(key.to_owned());
    format!("`{}` in the {what}", at.join("/"))
}

fn check_type(value: &Node, what: &str, out: &mut Vec<Diagnostic>) {
    let bad = |span: Span, found: &str| {
        Diagnostic::error(
            ErrorKind::InvalidValue {
                what: what.to_owned(),
                message: format!(
                    "`{found}` is not a JSON Schema type (one of {})",
                    TYPES.join(", ")
                ),
            },
            span,
        )
    };
    match &value.value {
        Value::String(name) if TYPES.contains(&name.as_str()) => {}
        Value::String(name) => out.push(bad(value.span, name)),
        Value::Array(items) => {
            for item in items {
                match item.as_str() {
                    Some(name) if TYPES.contains(&name) => {}
                    Some(name) => out.push(bad(item.span, name)),
                    None => out.push(Diagnostic::error(
                        ErrorKind::WrongType {
                            what: what.to_owned(),
                            expected: "a type name",
                            found: item.kind(),
                        },
                        item.span,
                    )),
                }
            }
        }
        other => out.push(Diagnostic::error(
            ErrorKind::WrongType {
                what: what.to_owned(),
                expected: "a type name or an array of them",
                found: other.kind(),
            },
            value.span,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn tree(text: &str) -> Node {
        crate::load::parse(FileId(0), text, "YAML").unwrap()
    }

    #[test]
    fn openapi_nullable_and_exclusive_bounds() {
        let mut node = tree(
            "type: object\nproperties:\n  a: {type: string, nullable: true}\n  b: {type: integer, maximum: 5, exclusiveMaximum: true}\n  c: {enum: [x], nullable: true}\n",
        );
        openapi_to_json_schema(&mut node);
        assert_eq!(
            node.to_json(),
            serde_json::json!({"type": "object", "properties": {
                "a": {"type": ["string", "null"]},
                "b": {"type": "integer", "exclusiveMaximum": 5},
                "c": {"enum": ["x", null]}}})
        );
    }

    #[test]
    fn malformed_schemas_are_reported_where_they_are() {
        let node = tree(
            "type: object\nproperties:\n  name:\n  kind: {type: 'Json Patch Operation'}\nadditionalProperties: [a]\nrequired: yes\n",
        );
        let mut out = Vec::new();
        check(&node, "payload of message `m`", false, &mut out);
        let text: Vec<String> = out.iter().map(|d| d.kind.to_string()).collect();
        assert_eq!(text.len(), 4, "{text:#?}");
        assert!(text[0].contains("`properties/name`") && text[0].contains("found null"));
        assert!(text[1].contains("`Json Patch Operation` is not a JSON Schema type"));
        assert!(text[2].contains("`additionalProperties`") && text[2].contains("found an array"));
        assert!(text[3].contains("`required`"));
        assert_eq!(out[0].span.unwrap().start.line, 3);
    }

    #[test]
    fn formats() {
        assert!(matches!(
            classify("application/vnd.aai.asyncapi+json;version=2.6.0"),
            Format::Known(SchemaFormat::AsyncApi)
        ));
        assert!(matches!(
            classify("application/schema+yaml;version=draft-07"),
            Format::Known(SchemaFormat::JsonSchema { draft: Some(d) }) if d == "draft-07"
        ));
        assert!(matches!(
            classify("application/vnd.apache.avro;version=1.9.0"),
            Format::Unsupported("Avro")
        ));
        assert!(matches!(classify("UnknownSchemaFormat"), Format::Unknown));
    }
}
