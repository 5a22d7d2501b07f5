//! `$ref` resolution: every form that works, and every form that fails with its own error.

#![allow(clippy::unwrap_used)] // a test that cannot read its fixtures should stop right there

use std::path::Path;

use asyncapi_codegen::{LoadOptions, ResolveOptions, diagnostic};

const FIXTURES: &str = "tests/fixtures/refs";

fn options_with_vendor_map() -> LoadOptions {
    LoadOptions {
        resolve: ResolveOptions::default().map_prefix(
            "https://schemas.example.com/common/",
            Path::new(FIXTURES).join("vendor"),
        ),
        ..LoadOptions::default()
    }
}

/// Loads `text` as if it were a file in the fixtures folder and renders what went wrong.
fn outcome(text: &str) -> String {
    let path = Path::new(FIXTURES).join("inline.yaml");
    match asyncapi_codegen::load_text(&path, text, &LoadOptions::default()) {
        Ok(loaded) => format!(
            "loaded\n{}",
            diagnostic::render(loaded.documents.sources(), &loaded.warnings, false)
        ),
        Err(report) => report.render(false),
    }
}

const HEAD: &str = "asyncapi: 3.0.0\ninfo:\n  title: t\n  version: '1'\n";

fn with_schema(schema_ref: &str) -> String {
    format!(
        "{HEAD}channels:\n  c:\n    address: c\n    messages:\n      m:\n        payload:\n          $ref: {schema_ref}\n"
    )
}

#[test]
fn references_across_files_pointers_and_cycles_resolve() {
    let path = Path::new(FIXTURES).join("main.yaml");
    let loaded = asyncapi_codegen::load(&path, &options_with_vendor_map()).unwrap();
    let channel = &loaded.api.channels[0];
    assert_eq!(channel.id, "chat");
    assert_eq!(channel.address.as_deref(), Some("/chat"));
    let message = channel
        .inbound()
        .next()
        .expect("the receive operation's message");
    assert_eq!(message.key, "send");
    let payload = message.payload.as_ref().unwrap().schema().unwrap();
    assert_eq!(
        payload.to_json(),
        serde_json::json!({
            "type": "object",
            "properties": {
                "slashed": {"type": "string"},
                "escaped": {"type": "integer"},
                "tree": {"$ref": "#/$defs/tree"},
                "author": {"type": "object", "properties": {"name": {"type": "string", "minLength": 1}}}
            },
            "$defs": {
                "tree": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/tree"}}}}
            },
            "$schema": "http://json-schema.org/draft-07/schema#"
        })
    );
    // The cycle is kept as a definition, pointing back at where it was written.
    let def = &payload.definitions()[0];
    let at = loaded.documents.sources().location(def.node.span);
    assert!(at.to_string().ends_with("schemas/tree.yaml:1:1"), "{at}");
    // Files are read once each, relative to the file holding each `$ref`.
    let files: Vec<String> = loaded
        .documents
        .sources()
        .iter()
        .map(|(_, f)| f.path.display().to_string())
        .collect();
    assert_eq!(
        files,
        [
            "tests/fixtures/refs/main.yaml",
            "tests/fixtures/refs/nested/channel.yaml",
            "tests/fixtures/refs/schemas/messages.json",
            "tests/fixtures/refs/schemas/tree.yaml",
            "tests/fixtures/refs/schemas/vendor.yaml",
            "tests/fixtures/refs/vendor/name.json",
        ]
    );
}

#[test]
fn remote_reference_without_a_map() {
    let path = Path::new(FIXTURES).join("main.yaml");
    let report = asyncapi_codegen::load(&path, &LoadOptions::default()).unwrap_err();
    insta::assert_snapshot!(report.render(false));
}

#[test]
fn a_recursive_schema_is_cut_into_one_definition() {
    let text = with_schema("'#/components/schemas/A'").replace(
        "channels:",
        "components:\n  schemas:\n    A:\n      type: object\n      properties:\n        next:\n          $ref: '#/components/schemas/A'\nchannels:",
    );
    let path = Path::new(FIXTURES).join("inline.yaml");
    let loaded = asyncapi_codegen::load_text(&path, &text, &LoadOptions::default()).unwrap();
    let message = &loaded.api.channels[0].messages[0];
    let schema = message.payload.as_ref().unwrap().schema().unwrap();
    assert_eq!(
        schema.to_json(),
        serde_json::json!({
            "$ref": "#/$defs/A",
            "$defs": {"A": {"type": "object", "properties": {"next": {"$ref": "#/$defs/A"}}}},
            "$schema": "http://json-schema.org/draft-07/schema#"
        })
    );
}

#[test]
fn reference_only_cycle() {
    insta::assert_snapshot!(outcome(&with_schema("'#/components/schemas/A'").replace(
        "channels:",
        "components:\n  schemas:\n    A:\n      $ref: '#/components/schemas/B'\n    B:\n      $ref: '#/components/schemas/A'\nchannels:"
    )));
}

#[test]
fn null_ref() {
    insta::assert_snapshot!(outcome(&with_schema("null")));
}

#[test]
fn number_ref() {
    insta::assert_snapshot!(outcome(&with_schema("42")));
}

#[test]
fn ref_with_a_line_break() {
    insta::assert_snapshot!(outcome(&with_schema(
        "'#/components/\n            schemas/A'"
    )));
}

#[test]
fn ref_without_hash() {
    insta::assert_snapshot!(outcome(&with_schema("'/components/schemas/A'")));
}

#[test]
fn ref_to_a_missing_file() {
    insta::assert_snapshot!(outcome(&with_schema("'missing.yaml#/A'")));
}

#[test]
fn ref_to_a_missing_fragment_in_another_file() {
    insta::assert_snapshot!(outcome(&with_schema(
        "'schemas/tree.yaml#/properties/nope'"
    )));
}

#[test]
fn ref_with_a_bad_escape() {
    insta::assert_snapshot!(outcome(&with_schema("'#/components/schemas/a~2b'")));
}

#[test]
fn ref_with_an_anchor_fragment() {
    insta::assert_snapshot!(outcome(&with_schema("'#Author'")));
}

#[test]
fn ref_with_an_unsupported_scheme() {
    insta::assert_snapshot!(outcome(&with_schema("'urn:example:author'")));
}

#[test]
fn ref_into_a_broken_file() {
    insta::assert_snapshot!(outcome(&with_schema("'broken.yaml'")));
}

#[test]
fn names_that_are_json_schema_data_keywords_still_resolve() {
    // `default`, `examples`, `enum` … hold data inside a schema, but in `operations`,
    // `channels`, `messages` and `schemas` they are names, and their `$ref`s are references.
    let text = format!(
        "{HEAD}channels:\n  examples:\n    address: e\n    messages:\n      default:\n        $ref: '#/components/messages/enum'\noperations:\n  default:\n    action: receive\n    channel:\n      $ref: '#/channels/examples'\n    messages:\n      - $ref: '#/channels/examples/messages/default'\ncomponents:\n  messages:\n    enum:\n      payload:\n        $ref: '#/components/schemas/const'\n  schemas:\n    const:\n      type: object\n      default: {{$ref: not-a-reference}}\n"
    );
    let path = Path::new(FIXTURES).join("inline.yaml");
    let loaded = asyncapi_codegen::load_text(&path, &text, &LoadOptions::default())
        .unwrap_or_else(|report| panic!("{}", report.render(false)));
    let channel = &loaded.api.channels[0];
    assert_eq!(channel.id, "examples");
    assert_eq!(channel.operations[0].id, "default");
    let message = channel.inbound().next().unwrap();
    let schema = message
        .payload
        .as_ref()
        .unwrap()
        .schema()
        .unwrap()
        .to_json();
    assert_eq!(schema["type"], "object");
    // Data stays data.
    assert_eq!(schema["default"]["$ref"], "not-a-reference");
}

#[test]
fn a_reference_to_data_that_holds_a_ref_key_reaches_that_data() {
    // `s` points at an example's payload, whose `$ref` key is data, not a reference: the chain
    // ends there, at a value.
    let text = format!(
        "{HEAD}channels:\n  c:\n    messages:\n      m:\n        examples:\n          - payload: {{$ref: '#/not/a/reference'}}\ncomponents:\n  schemas:\n    s:\n      $ref: '#/channels/c/messages/m/examples/0/payload'\n"
    );
    let path = Path::new(FIXTURES).join("inline.yaml");
    let docs = asyncapi_codegen::Documents::from_text(&path, text, ResolveOptions::default())
        .unwrap_or_else(|report| panic!("{}", report.render(false)));
    let root = docs.root();
    let s = ["components", "schemas", "s"]
        .iter()
        .try_fold(root.node, |node, key| node.get(key))
        .unwrap();
    let value = docs
        .deref(asyncapi_codegen::resolve::At {
            file: root.file,
            node: s,
        })
        .unwrap_or_else(|d| panic!("{}", d.kind));
    assert_eq!(
        value.node.get("$ref").and_then(|r| r.as_str()),
        Some("#/not/a/reference")
    );
}

#[test]
fn a_ref_to_a_text_file_is_its_text_where_a_string_is_allowed() {
    let dir = Path::new(FIXTURES).join("text");
    let loaded = asyncapi_codegen::load(&dir.join("lobby.yaml"), &LoadOptions::default())
        .unwrap_or_else(|r| panic!("{}", r.render(false)));
    let text = |name: &str| std::fs::read_to_string(dir.join("docs").join(name)).unwrap();
    let api = &loaded.api;
    // Markdown (with lines YAML would read as mappings), plain text, HTML, and a file with no
    // extension that does not parse as YAML: each is its text, as written.
    assert_eq!(api.info.description, Some(text("intro.md")));
    let channel = &api.channels[0];
    assert_eq!(channel.description, Some(text("channel.txt")));
    let message = &channel.messages[0];
    assert_eq!(message.description, Some(text("message.html")));
    assert_eq!(message.summary, Some(text("NOTES")));
}

#[test]
fn a_ref_to_a_text_file_where_an_object_belongs() {
    let path = Path::new(FIXTURES).join("text/bad.yaml");
    let report = asyncapi_codegen::load(&path, &LoadOptions::default()).unwrap_err();
    insta::assert_snapshot!(report.render(false));
}

/// The document as one JSON value (what `Router::docs` serves): other files inlined, the cycle
/// of `schemas/tree.yaml` cut into `components.schemas`, and it loads alone to the same payload.
#[test]
fn a_bundle_inlines_other_files_and_loads_alone() {
    let path = Path::new(FIXTURES).join("main.yaml");
    let loaded = asyncapi_codegen::load(&path, &options_with_vendor_map()).unwrap();
    let bundle = &loaded.api.document;
    assert_eq!(
        bundle["components"]["schemas"]["tree"]["properties"]["children"]["items"]["$ref"],
        "#/components/schemas/tree"
    );
    let text = bundle.to_string();
    assert!(
        !text.contains(".yaml") && !text.contains(".json"),
        "a reference to another file is left: {text}"
    );
    let alone = asyncapi_codegen::load_text(
        &Path::new(FIXTURES).join("bundle.json"),
        &text,
        &LoadOptions::default(),
    )
    .unwrap_or_else(|report| panic!("{}", report.render(false)));
    let payload = |api: &asyncapi_codegen::Api| {
        let message = api.channels[0].inbound().next().unwrap();
        message
            .payload
            .as_ref()
            .unwrap()
            .schema()
            .unwrap()
            .to_json()
    };
    assert_eq!(payload(&alone.api), payload(&loaded.api));
}

#[test]
fn a_reference_in_a_message_examples_list_is_followed_and_data_stays_data() {
    let document = format!(
        "{HEAD}channels:\n  c:\n    address: c\n    messages:\n      m:\n        payload:\n          type: object\n          properties: {{x: {{type: integer}}}}\n          examples: [{{$ref: not-a-reference}}]\n        examples:\n          - $ref: '#/x-shared/one'\n          - $ref: examples/two.yaml\n          - payload: {{x: 3}}\nx-shared:\n  one:\n    name: local\n    payload: {{x: 1}}\n"
    );
    let path = Path::new(FIXTURES).join("inline.yaml");
    let loaded = asyncapi_codegen::load_text(&path, &document, &LoadOptions::default())
        .unwrap_or_else(|report| panic!("{}", report.render(false)));
    let message = &loaded.api.channels[0].messages[0];
    let examples: Vec<_> = message
        .examples
        .iter()
        .map(|e| (e.name.clone(), e.payload.clone()))
        .collect();
    assert_eq!(
        examples,
        [
            (Some("local".into()), Some(serde_json::json!({"x": 1}))),
            (
                Some("from-a-file".into()),
                Some(serde_json::json!({"x": 2}))
            ),
            (None, Some(serde_json::json!({"x": 3}))),
        ]
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    // The schema's own `examples` are instances: a `$ref` there is data, not followed.
    let schema = message
        .payload
        .as_ref()
        .unwrap()
        .schema()
        .unwrap()
        .to_json();
    assert_eq!(
        schema["examples"],
        serde_json::json!([{"$ref": "not-a-reference"}])
    );

    // A referenced example is checked against the message like any other, at its own file.
    let wrong = document.replace("examples/two.yaml", "examples/wrong.yaml");
    let loaded = asyncapi_codegen::load_text(&path, &wrong, &LoadOptions::default()).unwrap();
    let warnings = asyncapi_codegen::contract::example_warnings(&loaded.api);
    let rendered = diagnostic::render(loaded.documents.sources(), &warnings, false);
    assert!(
        rendered.contains("example `wrong` of message `m` breaks its payload schema")
            && rendered.contains("examples/wrong.yaml:1:1"),
        "{rendered}"
    );
}
