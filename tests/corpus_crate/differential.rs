//! The differential test of compiled validators, compiled into the generated corpus crate by
//! `tests/tests/corpus_generate.rs` (it is not a module of this repository's crates).
//!
//! For a message type with a compiled check, instances are made from seeds: the seeds the corpus
//! test gives (the message's examples, and the smallest value the mock would make up for its
//! schema, `asyncapi_cli::sample`), a value with every property the schema declares (made here),
//! and mutations of each: every member removed or retyped, items duplicated, strings and numbers
//! pushed past their bounds … Each is judged twice: by jsonschema on a `serde_json::Value` (the
//! reference) and by the compiled check on the frame's tree. Every disagreement is reported.

use ws_runtime::__private::Tree;
use ws_runtime::__private::serde_json::{self, Map, Value, json};
use ws_runtime::Message;

/// What the instances of every message came to.
#[derive(Debug, Default)]
pub struct Tally {
    pub messages: usize,
    pub compiled: usize,
    pub instances: usize,
    pub valid: usize,
    pub disagreements: Vec<String>,
}

/// The most instances one message is judged on.
const PER_MESSAGE: usize = 400;

/// Judges the instances made for `M` from `seeds` (JSON text) and its schema both ways.
pub fn agree<M: Message>(seeds: &[&str], tally: &mut Tally) {
    tally.messages += 1;
    let schema = M::schema();
    let Some(check) = schema.compiled() else {
        return;
    };
    tally.compiled += 1;
    let root = schema.json().clone();
    let mut seeds: Vec<Value> = seeds
        .iter()
        .filter_map(|text| serde_json::from_str(text).ok())
        .collect();
    seeds.push(instance(&root, &root, 0));
    let mut instances = Vec::new();
    for seed in &seeds {
        instances.push(seed.clone());
        mutations(seed, &mut instances);
    }
    instances.truncate(PER_MESSAGE);
    for value in instances {
        let reference = schema.is_valid(&value);
        let text = value.to_string();
        let compiled = Tree::read(&text, |tree| tree.map(|tree| check(&tree)));
        tally.instances += 1;
        tally.valid += usize::from(reference);
        match compiled {
            Ok(compiled) if compiled == reference => {}
            Ok(compiled) => tally.disagreements.push(format!(
                "`{}`: jsonschema says {reference}, the compiled check {compiled}: {text}",
                M::NAME
            )),
            Err(error) => tally
                .disagreements
                .push(format!("`{}`: {text} does not parse: {error}", M::NAME)),
        }
    }
}

/// `#/…` in `root`.
fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    root.pointer(reference.strip_prefix('#')?)
}

/// An instance with every property `schema` declares, built to fit it as well as a walk of it
/// can (patterns and formats aside).
fn instance(schema: &Value, root: &Value, depth: usize) -> Value {
    let Some(map) = schema.as_object() else {
        return json!({});
    };
    if depth > 8 {
        return Value::Null;
    }
    if let Some(target) = map.get("$ref").and_then(Value::as_str).and_then(|r| resolve(root, r)) {
        return instance(target, root, depth + 1);
    }
    if let Some(value) = map.get("const") {
        return value.clone();
    }
    if let Some(first) = map.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
        return first.clone();
    }
    if let Some(first) = map.get("examples").and_then(Value::as_array).and_then(|e| e.first()) {
        return first.clone();
    }
    if let Some(value) = map.get("default") {
        return value.clone();
    }
    for keyword in ["oneOf", "anyOf"] {
        if let Some(first) = map.get(keyword).and_then(Value::as_array).and_then(|v| v.first()) {
            return instance(first, root, depth + 1);
        }
    }
    if let Some(parts) = map.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in parts {
            match instance(part, root, depth + 1) {
                Value::Object(members) => merged.extend(members),
                other if parts.len() == 1 => return other,
                _ => {}
            }
        }
        return Value::Object(merged);
    }
    let kind = match map.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null")
            .unwrap_or("null"),
        _ if map.contains_key("properties") => "object",
        _ if map.contains_key("items") => "array",
        _ => "object",
    };
    match kind {
        "null" => Value::Null,
        "boolean" => Value::Bool(true),
        "integer" | "number" => {
            let low = map.get("minimum").and_then(Value::as_f64);
            let above = map.get("exclusiveMinimum").and_then(Value::as_f64);
            let n = match (low, above) {
                (Some(low), _) => low.ceil(),
                (None, Some(above)) => above.floor() + 1.0,
                _ => 1.0,
            };
            json!(n as i64)
        }
        "string" => {
            let format = map.get("format").and_then(Value::as_str).unwrap_or_default();
            let text = match format {
                "date-time" => "2026-12-05T10:00:00Z".to_owned(),
                "date" => "2026-12-05".to_owned(),
                "time" => "10:00:00Z".to_owned(),
                "email" => "ada@example.com".to_owned(),
                "uri" | "url" => "https://example.com/a".to_owned(),
                "uuid" => "123e4567-e89b-12d3-a456-426614174000".to_owned(),
                "ipv4" => "192.0.2.1".to_owned(),
                "hostname" => "example.com".to_owned(),
                _ => {
                    let min = map.get("minLength").and_then(Value::as_u64).unwrap_or(1);
                    "a".repeat(usize::try_from(min.clamp(1, 64)).unwrap_or(1))
                }
            };
            Value::String(text)
        }
        "array" => {
            let min = map.get("minItems").and_then(Value::as_u64).unwrap_or(1).clamp(1, 4);
            let item = match map.get("items") {
                Some(Value::Array(tuple)) => {
                    return Value::Array(
                        tuple.iter().map(|s| instance(s, root, depth + 1)).collect(),
                    );
                }
                Some(schema) => instance(schema, root, depth + 1),
                None => json!(1),
            };
            // Distinct items where the schema allows (`uniqueItems`): the first, then others.
            let mut items = vec![item.clone()];
            for n in 1..min {
                items.push(match &item {
                    Value::String(s) => Value::String(format!("{s}{n}")),
                    Value::Number(_) => json!(n),
                    other => other.clone(),
                });
            }
            Value::Array(items)
        }
        _ => {
            let mut members = Map::new();
            if let Some(properties) = map.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    members.insert(name.clone(), instance(property, root, depth + 1));
                }
            }
            Value::Object(members)
        }
    }
}

/// Instances near `value`: each member and item changed in the ways schemas tend to refuse,
/// and the value itself replaced.
fn mutations(value: &Value, out: &mut Vec<Value>) {
    let mut paths = Vec::new();
    paths_of(value, &mut Vec::new(), &mut paths);
    for path in paths {
        let Some(at) = get(value, &path) else {
            continue;
        };
        for replacement in replacements(at) {
            out.push(with(value, &path, Some(replacement)));
        }
        if !path.is_empty() {
            out.push(with(value, &path, None));
        }
        if out.len() > PER_MESSAGE * 2 {
            return;
        }
    }
}

#[derive(Clone)]
enum Segment {
    Key(String),
    Index(usize),
}

fn paths_of(value: &Value, here: &mut Vec<Segment>, out: &mut Vec<Vec<Segment>>) {
    out.push(here.clone());
    if here.len() > 6 {
        return;
    }
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                here.push(Segment::Key(key.clone()));
                paths_of(member, here, out);
                here.pop();
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate().take(3) {
                here.push(Segment::Index(i));
                paths_of(item, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn get<'a>(value: &'a Value, path: &[Segment]) -> Option<&'a Value> {
    path.iter().try_fold(value, |value, segment| match segment {
        Segment::Key(key) => value.get(key),
        Segment::Index(i) => value.get(i),
    })
}

/// `value` with what is at `path` replaced (`None`: removed).
fn with(value: &Value, path: &[Segment], replacement: Option<Value>) -> Value {
    let mut out = value.clone();
    let Some((last, parents)) = path.split_last() else {
        return replacement.unwrap_or(Value::Null);
    };
    let mut parent = &mut out;
    for segment in parents {
        parent = match segment {
            Segment::Key(key) => &mut parent[key.as_str()],
            Segment::Index(i) => &mut parent[*i],
        };
    }
    match (last, parent, replacement) {
        (Segment::Key(key), Value::Object(members), Some(v)) => {
            members.insert(key.clone(), v);
        }
        (Segment::Key(key), Value::Object(members), None) => {
            members.remove(key);
        }
        (Segment::Index(i), Value::Array(items), Some(v)) => items[*i] = v,
        (Segment::Index(i), Value::Array(items), None) => {
            items.remove(*i);
        }
        _ => {}
    }
    out
}

/// What to put in place of `value`: other types, and values at the edges of its own type.
fn replacements(value: &Value) -> Vec<Value> {
    let mut out = vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(2.5),
        json!(""),
        json!("x"),
        json!([]),
        json!({}),
    ];
    match value {
        Value::String(s) => {
            out.push(Value::String(format!("{s}!")));
            out.push(Value::String(s.to_uppercase()));
            out.push(Value::String(s.to_lowercase()));
            out.push(Value::String(s.repeat(40)));
            out.push(Value::String(format!(" {s}")));
            out.push(Value::String("é🌍".repeat(3)));
            out.push(json!("2026-13-45T99:00:00Z"));
            out.push(json!("not an email"));
            out.push(json!("ACME-0001"));
        }
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or_default();
            for v in [f + 1.0, f - 1.0, f * 10.0, -f, f + 0.5, 1e12, -1e12] {
                out.push(json!(v));
            }
            if let Some(i) = n.as_i64() {
                out.push(json!(i.saturating_add(1)));
                out.push(json!(i.saturating_sub(1)));
                out.push(json!(i64::MAX));
            }
            out.push(json!(u64::MAX));
        }
        Value::Array(items) => {
            let mut doubled = items.clone();
            doubled.extend(items.iter().cloned());
            out.push(Value::Array(doubled));
            if let Some(first) = items.first() {
                out.push(Value::Array(vec![first.clone(); 30]));
            }
            let mut more = items.clone();
            more.push(json!("extra"));
            out.push(Value::Array(more));
        }
        Value::Object(members) => {
            let mut more = members.clone();
            more.insert("zzExtra".into(), json!(1));
            out.push(Value::Object(more));
            out.push(Value::Array(vec![value.clone()]));
        }
        Value::Bool(b) => out.push(json!(!b)),
        Value::Null => {}
    }
    out
}

/// Writes the tally to `file` (the corpus test reads it), then fails on any disagreement.
pub fn report(tally: &Tally, file: &str) {
    let text = format!(
        "compiled checks: {} of {} messages compiled ({:.1}%); {} instances judged by both, {} valid, {} invalid; {} disagreements\n{}",
        tally.compiled,
        tally.messages,
        100.0 * tally.compiled as f64 / tally.messages.max(1) as f64,
        tally.instances,
        tally.valid,
        tally.instances - tally.valid,
        tally.disagreements.len(),
        tally.disagreements.iter().take(50).cloned().collect::<Vec<_>>().join("\n")
    );
    std::fs::write(file, &text).unwrap();
    assert!(tally.disagreements.is_empty(), "{text}");
}
