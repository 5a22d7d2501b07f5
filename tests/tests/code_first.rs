//! Code-first round trip: handwritten types → exported AsyncAPI 3.0 document → the official
//! meta-schema accepts it → the generator's loader reads back the same channels, route keys and
//! message schemas.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use serde::{Deserialize, Serialize};
use ws_runtime::{AsyncApi, Message, RawMessage, Routes};

/// Who wrote a message.
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
struct Author {
    name: String,
    #[serde(default)]
    avatar: Option<String>,
}

#[derive(Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Mood {
    Happy,
    Grumpy,
}

#[derive(Serialize, Deserialize, schemars::JsonSchema, Message)]
struct SendMessage {
    text: String,
    author: Author,
    mood: Option<Mood>,
}

#[derive(Serialize, Deserialize, Message)]
#[message(
    name = "joinRoom",
    schema = r#"{"type": "object", "required": ["room"], "properties": {"room": {"type": "string", "pattern": "^[a-z]+$"}}}"#
)]
struct Join {
    room: String,
}

#[derive(Serialize, Deserialize, schemars::JsonSchema, Message)]
struct Delivered {
    text: String,
    author: Author,
}

#[derive(Routes)]
#[routes(selection = "$request.body.action")]
enum ChatRoute {
    #[route("sendMessage")]
    Send(SendMessage),
    #[route("join")]
    Join(Join),
    #[route(default)]
    Other(RawMessage),
}

fn document() -> AsyncApi {
    AsyncApi::new("Handwritten chat", "1.0.0")
        .description("Exported from Rust types.")
        .server("local", "127.0.0.1:8080")
        .channel::<ChatRoute>("/rooms/{room}")
        .sends::<Delivered>("/rooms/{room}")
}

fn corpus_meta_schema() -> serde_json::Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/spec-json-schemas/schemas/3.0.0.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the corpus is missing ({}): {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_exported_document_passes_the_official_meta_schema() {
    let meta = corpus_meta_schema();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&meta)
        .unwrap();
    let document = document().to_json();
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{document:#}");
}

#[test]
fn the_loader_reads_back_what_the_types_say() {
    let yaml = document().to_yaml();
    let loaded =
        asyncapi_codegen::load_text(Path::new("exported.yaml"), &yaml, &Default::default())
            .unwrap_or_else(|report| panic!("{}\n{yaml}", report.render(false)));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let api = &loaded.api;
    assert_eq!(api.asyncapi, "3.0.0");
    assert_eq!(api.info.title, "Handwritten chat");
    assert_eq!(api.channels.len(), 1);
    let channel = &api.channels[0];
    assert_eq!(channel.address.as_deref(), Some("/rooms/{room}"));
    assert_eq!(channel.parameters[0].name, "room");
    assert_eq!(
        channel.route_selection.as_deref(),
        Some("$request.body.action")
    );

    // Same route keys, same messages, same schemas (references inlined on both sides).
    let inbound: Vec<(Option<&str>, &str)> = channel
        .inbound()
        .map(|m| (m.route_key.as_deref(), m.name.as_deref().unwrap()))
        .collect();
    let expected: Vec<(Option<&str>, &str)> = ChatRoute::routes()
        .iter()
        .map(|r| (Some(r.key), r.message))
        .collect();
    assert_eq!(inbound, expected);
    for route in ChatRoute::routes() {
        let message = channel
            .inbound()
            .find(|m| m.route_key.as_deref() == Some(route.key))
            .unwrap();
        let loaded = message
            .payload
            .as_ref()
            .unwrap()
            .schema()
            .unwrap()
            .to_json();
        assert_eq!(loaded, inline(route.schema.json()), "route {}", route.key);
    }
    let outbound: Vec<&str> = channel.outbound().map(|m| m.key.as_str()).collect();
    assert_eq!(outbound, ["delivered"]);
    let delivered = channel.outbound().next().unwrap();
    assert_eq!(
        delivered
            .payload
            .as_ref()
            .unwrap()
            .schema()
            .unwrap()
            .to_json(),
        inline(Delivered::schema().json())
    );
}

#[test]
fn yaml_and_json_exports_say_the_same() {
    let doc = document();
    let from_yaml =
        asyncapi_codegen::load_text(Path::new("a.yaml"), &doc.to_yaml(), &Default::default())
            .unwrap();
    let from_json = asyncapi_codegen::load_text(
        Path::new("a.json"),
        &doc.to_json().to_string(),
        &Default::default(),
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&from_yaml.api).unwrap(),
        serde_json::to_value(&from_json.api).unwrap()
    );
}

/// A schemars schema with its `definitions` inlined: what the loader makes of the exported
/// document (which names the same draft-07 `$schema`).
fn inline(schema: &serde_json::Value) -> serde_json::Value {
    fn walk(value: &serde_json::Value, defs: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(r)) = map.get("$ref")
                    && let Some(name) = r.strip_prefix("#/definitions/")
                {
                    return walk(&defs[name], defs);
                }
                map.iter()
                    .filter(|(k, _)| *k != "definitions")
                    .map(|(k, v)| (k.clone(), walk(v, defs)))
                    .collect::<serde_json::Map<_, _>>()
                    .into()
            }
            serde_json::Value::Array(items) => items.iter().map(|i| walk(i, defs)).collect(),
            other => other.clone(),
        }
    }
    let defs = schema
        .get("definitions")
        .unwrap_or(&serde_json::Value::Null);
    let mut inlined = walk(schema, defs);
    // The loader names the draft when the schema does not (AsyncAPI schemas are draft-07).
    inlined
        .as_object_mut()
        .unwrap()
        .entry("$schema")
        .or_insert_with(|| "http://json-schema.org/draft-07/schema#".into());
    inlined
}
