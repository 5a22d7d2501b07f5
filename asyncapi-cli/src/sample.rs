//! Values made up from a JSON Schema: an instance for a message that has no example (the
//! smallest value that is likely to be valid: what is required, at the bounds the schema sets;
//! the mock checks each against the schema before it uses it), and which of a schema's own
//! sample values fit it (the live runner's handshake values too).

use serde_json::{Map, Number, Value, json};

/// How deep a made-up value may nest (a recursive schema stops here).
const MAX_DEPTH: usize = 16;

/// A value for `schema`, whose `#/$defs/…` references point into `root`.
pub fn sample(schema: &Value, root: &Value) -> Option<Value> {
    value(schema, root, 0)
}

fn value(schema: &Value, root: &Value, depth: usize) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    let schema = match schema {
        Value::Bool(true) => return Some(json!({})),
        Value::Bool(false) => return None,
        Value::Object(schema) => schema,
        _ => return None,
    };
    if let Some(Value::String(reference)) = schema.get("$ref") {
        let target = reference.strip_prefix('#').and_then(|p| root.pointer(p))?;
        return value(target, root, depth + 1);
    }
    if let Some(constant) = schema.get("const") {
        return Some(constant.clone());
    }
    // The schema's own values, when they fit it (documents put a single item in an array's
    // `examples`, or a default outside the `enum`).
    let candidates = schema
        .get("default")
        .into_iter()
        .chain(
            schema
                .get("enum")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        )
        .chain(
            schema
                .get("examples")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
    for candidate in candidates {
        if fits(schema, candidate) {
            return Some(candidate.clone());
        }
    }
    if let Some(Value::Array(all)) = schema.get("allOf") {
        // Objects merge; anything else takes the first part's value.
        let mut merged = Map::new();
        for part in all {
            match value(part, root, depth + 1)? {
                Value::Object(map) => merged.extend(map),
                other if all.len() == 1 => return Some(other),
                _ => {}
            }
        }
        let own = object(schema, root, depth).unwrap_or_default();
        merged.extend(own);
        return Some(Value::Object(merged));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(options)) = schema.get(key) {
            return options.iter().find_map(|o| value(o, root, depth + 1));
        }
    }
    let ty = match schema.get("type") {
        Some(Value::String(ty)) => ty.as_str(),
        // `[T, "null"]`: the first type that is not null.
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.contains_key("properties") || schema.contains_key("required") => "object",
        _ if schema.contains_key("items") => "array",
        _ => return Some(json!({})),
    };
    match ty {
        "object" => object(schema, root, depth).map(Value::Object),
        "array" => {
            let count = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let items = schema.get("items").unwrap_or(&Value::Bool(true));
            let item = if count > 0 {
                value(items, root, depth + 1)?
            } else {
                Value::Null
            };
            Some(Value::Array(vec![item; usize::try_from(count).ok()?]))
        }
        "string" => Some(Value::String(string(schema))),
        "integer" => number(schema, true),
        "number" => number(schema, false),
        "boolean" => Some(Value::Bool(false)),
        "null" => Some(Value::Null),
        _ => None,
    }
}

/// Whether `value` has a type `schema` names and is one of its `enum` values (when it lists
/// them): the checks a schema's own sample values fail most.
pub fn fits(schema: &Map<String, Value>, value: &Value) -> bool {
    let in_enum = schema
        .get("enum")
        .and_then(Value::as_array)
        .is_none_or(|values| values.contains(value));
    let type_of = |ty: &str| match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => true,
    };
    let typed = match schema.get("type") {
        Some(Value::String(ty)) => type_of(ty),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).any(type_of),
        _ => true,
    };
    in_enum && typed
}

/// Every required property (and every property a `const` pins), made up.
fn object(schema: &Map<String, Value>, root: &Value, depth: usize) -> Option<Map<String, Value>> {
    let properties = schema.get("properties").and_then(Value::as_object);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Map::new();
    for (name, property) in properties.into_iter().flatten() {
        let pinned = property.get("const").is_some();
        if required.contains(&name.as_str()) || pinned {
            out.insert(name.clone(), value(property, root, depth + 1)?);
        }
    }
    for name in required {
        if !out.contains_key(name) {
            // Required but not described: any value.
            out.insert(name.to_owned(), json!("value"));
        }
    }
    Some(out)
}

fn string(schema: &Map<String, Value>) -> String {
    let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
    let text = match format {
        "date-time" => "2024-01-01T00:00:00Z",
        "date" => "2024-01-01",
        "time" => "00:00:00Z",
        "email" | "idn-email" => "user@example.com",
        "uri" | "url" | "iri" => "https://example.com/",
        "uri-reference" | "iri-reference" => "/",
        "uuid" => "00000000-0000-4000-8000-000000000000",
        "ipv4" => "127.0.0.1",
        "ipv6" => "::1",
        "hostname" | "idn-hostname" => "example.com",
        _ => "string",
    };
    let min = schema
        .get("minLength")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0);
    let max = schema
        .get("maxLength")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(usize::MAX);
    let mut text = text.to_owned();
    while text.chars().count() < min {
        text.push('x');
    }
    if text.chars().count() > max {
        text = "x".repeat(min.max(max.min(1)));
    }
    text
}

fn number(schema: &Map<String, Value>, integer: bool) -> Option<Value> {
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    let step = bound("multipleOf").filter(|s| *s > 0.0);
    let mut n = match (bound("minimum"), bound("exclusiveMinimum")) {
        (Some(min), _) => min,
        (None, Some(min)) => min + step.unwrap_or(1.0),
        (None, None) => match (bound("maximum"), bound("exclusiveMaximum")) {
            (Some(max), _) if max < 0.0 => max,
            (None, Some(max)) if max <= 0.0 => max - step.unwrap_or(1.0),
            _ => 0.0,
        },
    };
    if let Some(step) = step {
        n = (n / step).ceil() * step;
    }
    if integer {
        n = n.ceil();
        #[allow(clippy::cast_possible_truncation)]
        return Some(Value::Number(Number::from(n as i64)));
    }
    Number::from_f64(n).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(schema: Value) -> Option<Value> {
        sample(&schema, &schema)
    }

    #[test]
    fn required_properties_at_their_bounds() {
        let schema = json!({
            "type": "object",
            "required": ["id", "count", "when", "tags", "kind", "channel"],
            "properties": {
                "action": {"const": "join"},
                "id": {"type": "string", "minLength": 8},
                "count": {"type": "integer", "exclusiveMinimum": 0},
                "when": {"type": "string", "format": "date-time"},
                "tags": {"type": "array", "minItems": 1, "items": {"enum": ["a", "b"]}, "examples": ["a"]},
                "channel": {"type": "string", "enum": ["x", "y"], "default": "z"},
                "kind": {"oneOf": [{"type": "null"}, {"type": "string"}]},
                "optional": {"type": "string"}
            }
        });
        assert_eq!(
            made(schema),
            Some(json!({
                "action": "join",
                "id": "stringxx",
                "count": 1,
                "when": "2024-01-01T00:00:00Z",
                "tags": ["a"],
                "kind": null,
                "channel": "x"
            }))
        );
    }

    #[test]
    fn references_all_of_and_recursion() {
        let schema = json!({
            "allOf": [{"$ref": "#/$defs/base"}, {"required": ["b"], "properties": {"b": {"type": "boolean"}}}],
            "$defs": {
                "base": {"required": ["a", "next"], "properties": {"a": {"type": "number", "multipleOf": 0.5, "minimum": 0.2}, "next": {"$ref": "#/$defs/base"}}}
            }
        });
        // The recursion has no end: nothing can be made.
        assert_eq!(made(schema.clone()), None);
        let mut finite = schema;
        finite["$defs"]["base"]["required"] = json!(["a"]);
        assert_eq!(made(finite), Some(json!({"a": 0.5, "b": false})));
    }
}
