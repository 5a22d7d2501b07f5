//! The API model: what 2.x and 3.x documents map to, and every diagnostic the model stage makes.

#![allow(clippy::unwrap_used)] // a test that cannot read its fixtures should stop right there

use std::path::Path;

use asyncapi_codegen::model::{Direction, Payload, SchemaFormat};
use asyncapi_codegen::{LoadOptions, Loaded, ModelOptions, Side, diagnostic};

fn load_as(text: &str, side: Side) -> Result<Loaded, String> {
    let options = LoadOptions {
        model: ModelOptions { side },
        ..LoadOptions::default()
    };
    asyncapi_codegen::load_text(Path::new("doc.yaml"), text, &options).map_err(|r| r.render(false))
}

fn load(text: &str) -> Loaded {
    load_as(text, Side::Server).unwrap_or_else(|e| panic!("{e}"))
}

/// What a document produces: the rendered errors, or the rendered warnings of a success.
fn diagnostics(text: &str) -> String {
    match load_as(text, Side::Server) {
        Ok(loaded) => format!(
            "loaded with warnings:\n{}",
            diagnostic::render(loaded.documents.sources(), &loaded.warnings, false)
        ),
        Err(rendered) => rendered,
    }
}

/// The same chat API in 2.x and 3.x (also generated and compiled by the generator's tests).
const CHAT_V2: &str = include_str!("fixtures/generate/chat_v2.yaml");

const CHAT_V3: &str = include_str!("fixtures/generate/chat_v3.yaml");

fn directions(loaded: &Loaded) -> (Vec<String>, Vec<String>) {
    let channel = &loaded.api.channels[0];
    (
        channel.inbound().map(|m| m.key.clone()).collect(),
        channel.outbound().map(|m| m.key.clone()).collect(),
    )
}

#[test]
fn the_same_api_in_2x_and_3x_gives_the_same_model() {
    let v2 = load(CHAT_V2);
    let v3 = load(CHAT_V3);
    assert_eq!(directions(&v2), directions(&v3));
    assert_eq!(
        directions(&v2),
        (
            vec!["sendMessage".into(), "echo".into()],
            vec!["message".into()]
        )
    );
    assert_eq!(v2.api.channels[0].address.as_deref(), Some("/chat"));
    assert_eq!(v3.api.channels[0].address.as_deref(), Some("/chat"));
    for (a, b) in v2.api.channels[0]
        .messages
        .iter()
        .zip(&v3.api.channels[0].messages)
    {
        let schema = |p: &Option<Payload>| p.as_ref().unwrap().schema().unwrap().to_json();
        assert_eq!(schema(&a.payload), schema(&b.payload));
    }
}

#[test]
fn the_client_side_flips_every_direction() {
    let loaded = load_as(CHAT_V3, Side::Client).unwrap();
    assert_eq!(
        directions(&loaded),
        (
            vec!["message".into()],
            vec!["sendMessage".into(), "echo".into()]
        )
    );
    let op = &loaded.api.channels[0].operations[0];
    assert_eq!(op.direction, Direction::Outbound);
}

#[test]
fn replies_point_at_their_messages() {
    let text = CHAT_V3.replace(
        "  sendChat:",
        "    reply:\n      channel: {$ref: '#/channels/chat'}\n      messages:\n        - $ref: '#/channels/chat/messages/message'\n  sendChat:",
    );
    let loaded = load(&text);
    let reply = loaded.api.channels[0].operations[0].reply.as_ref().unwrap();
    assert_eq!(reply.channel, Some(0));
    assert_eq!(reply.messages.len(), 1);
    assert_eq!(
        loaded.api.channels[0].messages[reply.messages[0].message].key,
        "message"
    );
}

#[test]
fn traits_2x_patch_the_message_and_3x_messages_win() {
    let v2 = CHAT_V2.replace(
        "    sendMessage:\n      name: sendMessage\n",
        "    sendMessage:\n      name: sendMessage\n      summary: own\n      traits: [{summary: from trait, contentType: text/plain}]\n",
    );
    let loaded = load(&v2);
    let m = &loaded.api.channels[0].messages[0];
    assert_eq!(m.summary.as_deref(), Some("from trait"));
    assert_eq!(m.content_type.as_deref(), Some("text/plain"));

    let v3 = CHAT_V3.replace(
        "    sendMessage:\n      name: sendMessage\n",
        "    sendMessage:\n      name: sendMessage\n      summary: own\n      traits: [{summary: from trait, contentType: text/plain}]\n",
    );
    let loaded = load(&v3);
    let m = &loaded.api.channels[0].messages[0];
    assert_eq!(m.summary.as_deref(), Some("own"));
    assert_eq!(m.content_type.as_deref(), Some("text/plain"));
}

#[test]
fn openapi_schemas_become_json_schema_and_avro_is_opaque() {
    let text = r#"
asyncapi: 3.0.0
info: {title: t, version: '1'}
channels:
  c:
    address: c
    messages:
      open:
        payload:
          schemaFormat: application/vnd.oai.openapi;version=3.0.0
          schema: {type: object, properties: {n: {type: string, nullable: true}}}
      avro:
        payload:
          schemaFormat: application/vnd.apache.avro;version=1.9.0
          schema: {type: record, name: User, fields: []}
"#;
    let loaded = load(text);
    let messages = &loaded.api.channels[0].messages;
    let open = messages[0].payload.as_ref().unwrap().schema().unwrap();
    assert_eq!(open.format, SchemaFormat::OpenApi);
    assert_eq!(
        open.to_json(),
        serde_json::json!({"type": "object", "properties": {"n": {"type": ["string", "null"]}},
            "$schema": "http://json-schema.org/draft-07/schema#"})
    );
    assert!(
        matches!(&messages[1].payload, Some(Payload::Unsupported { format }) if format.contains("avro"))
    );
    insta::assert_snapshot!(diagnostic::render(
        loaded.documents.sources(),
        &loaded.warnings,
        false
    ));
}

#[test]
fn examples_headers_correlation_ids_and_bindings_are_kept() {
    let text = r#"
asyncapi: 2.6.0
info: {title: t, version: '1'}
channels:
  c:
    bindings: {ws: {query: {type: object, properties: {name: {type: string}}}}}
    publish:
      message:
        name: hello
        x-route-key: hi
        correlationId: {location: '$message.header#/id'}
        headers: {type: object, properties: {id: {type: string}}}
        payload: {type: string}
        examples:
          - name: simple
            payload: hello
            headers: {id: '1'}
"#;
    let loaded = load(text);
    let channel = &loaded.api.channels[0];
    let m = &channel.messages[0];
    assert_eq!(m.key, "hello");
    assert_eq!(m.route_key.as_deref(), Some("hi"));
    assert_eq!(
        m.correlation_id.as_ref().unwrap().location,
        "$message.header#/id"
    );
    assert_eq!(m.examples[0].name.as_deref(), Some("simple"));
    assert_eq!(m.examples[0].payload, Some(serde_json::json!("hello")));
    assert_eq!(m.examples[0].headers, Some(serde_json::json!({"id": "1"})));
    assert!(m.headers.is_some());
    assert_eq!(
        channel.bindings.as_ref().unwrap()["ws"]["query"]["properties"]["name"]["type"],
        "string"
    );
    let at = loaded.documents.sources().location(m.examples[0].span);
    assert_eq!((at.line, at.column), (15, 13));
}

const HEAD3: &str = "asyncapi: 3.0.0\ninfo:\n  title: t\n  version: '1'\n";

#[test]
fn error_unknown_and_missing_fields() {
    insta::assert_snapshot!(diagnostics(
        "asyncapi: 2.6.0\ninfo:\n  title: t\n  dupa: 1\nchannels: {}\nextra: true\n"
    ));
}

#[test]
fn error_wrong_types() {
    insta::assert_snapshot!(diagnostics(&format!(
        "{HEAD3}channels:\n  c:\n    address: 5\n    title: [a]\n"
    )));
}

#[test]
fn error_duplicate_ids() {
    insta::assert_snapshot!(diagnostics(
        "asyncapi: 2.6.0\ninfo: {title: t, version: '1'}\nchannels:\n  a:\n    publish:\n      operationId: op\n      message: {messageId: m, payload: {type: string}}\n  b:\n    publish:\n      operationId: op\n      message: {messageId: m, payload: {type: string}}\n"
    ));
}

#[test]
fn error_channel_parameters() {
    insta::assert_snapshot!(diagnostics(&format!(
        "{HEAD3}channels:\n  c:\n    address: 'rooms/{{roomId}}/users/{{userId}}'\n    parameters:\n      roomId: {{}}\n      unused: {{}}\n"
    )));
}

#[test]
fn error_operation_references_outside_its_channel() {
    insta::assert_snapshot!(diagnostics(&format!(
        "{HEAD3}channels:\n  a:\n    address: a\n    messages:\n      m: {{payload: {{type: string}}}}\n  b:\n    address: b\noperations:\n  op:\n    action: receive\n    channel: {{$ref: '#/channels/b'}}\n    messages: [{{$ref: '#/channels/a/messages/m'}}]\n  op2:\n    action: send\n    channel: {{$ref: '#/components/channels/x'}}\n  op3:\n    action: publish\n    channel: {{$ref: '#/channels/a'}}\ncomponents:\n  channels:\n    x: {{address: x}}\n"
    )));
}

#[test]
fn error_versions() {
    let one = diagnostics("asyncapi: 1.2.0\ninfo: {title: t, version: '1'}\ntopics: {}\n");
    let rc1 =
        diagnostics("asyncapi: 2.0.0-rc1\nid: x\ninfo: {title: t, version: '1'}\nchannels: {}\n");
    let future = diagnostics("asyncapi: 4.0.0\n");
    let none = diagnostics("openapi: 3.0.0\n");
    let list = diagnostics("- a\n- b\n");
    insta::assert_snapshot!(format!("{one}{rc1}{future}{none}{list}"));
}

#[test]
fn error_file_level() {
    let empty = diagnostics("");
    let two = diagnostics("asyncapi: 3.0.0\n---\nasyncapi: 3.0.0\n");
    let duplicate = diagnostics(&format!("{HEAD3}channels: {{}}\nchannels: {{}}\n"));
    insta::assert_snapshot!(format!("{empty}{two}{duplicate}"));
}

#[test]
fn error_unknown_schema_format_and_bad_schema() {
    insta::assert_snapshot!(diagnostics(
        "asyncapi: 2.6.0\ninfo: {title: t, version: '1'}\nchannels:\n  c:\n    publish:\n      message:\n        schemaFormat: application/x-mine\n        payload: {type: string}\n    subscribe:\n      message:\n        payload:\n          type: object\n          properties:\n            a: {type: strnig}\n            b: 3\n          required: true\n"
    ));
}

#[test]
fn messages_used_twice_are_one_message() {
    let text = CHAT_V2.replace(
        "        $ref: '#/components/messages/message'",
        "        $ref: '#/components/messages/echo'",
    );
    let loaded = load(&text);
    let channel = &loaded.api.channels[0];
    assert_eq!(channel.messages.len(), 2);
    assert!(channel.outbound().any(|m| m.key == "echo"));
    assert!(channel.inbound().any(|m| m.key == "echo"));
}
