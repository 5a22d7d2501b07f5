//! Generated code, snapshot by snapshot, for focused documents: every row of the JSON Schema →
//! Rust table, hard names, every way a route is selected, request/reply and path parameters, and
//! 2.x and 3.x forms of the same API. (The corpus compile test compiles these documents too.)

#![allow(clippy::unwrap_used)]

use std::path::Path;

use asyncapi_codegen::emit::{File, Sides};

fn generate(name: &str) -> Vec<File> {
    generate_sides(name, Sides::SERVER)
}

fn generate_sides(name: &str, sides: Sides) -> Vec<File> {
    let path = Path::new("tests/fixtures/generate").join(name);
    let loaded = asyncapi_codegen::load(&path, &Default::default())
        .unwrap_or_else(|r| panic!("{}", r.render(false)));
    asyncapi_codegen::generate::module(&loaded.api, sides)
}

fn file<'a>(files: &'a [File], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("no {path}"))
        .contents
}

#[test]
fn every_row_of_the_mapping_table() {
    let files = generate("mapping.yaml");
    insta::assert_snapshot!("mapping_types", file(&files, "types.rs"));
    insta::assert_snapshot!("mapping_checks", file(&files, "checks.rs"));
    insta::assert_snapshot!("mapping_tests", file(&files, "tests.rs"));
}

#[test]
fn optional_nullable_properties_keep_absent_null_and_a_value_apart() {
    let files = generate("nullable.yaml");
    let types = file(&files, "types.rs");
    insta::assert_snapshot!("nullable_types", types);
    // The compile test round-trips the examples; here, the shapes each way of allowing `null` maps to.
    for (field, ty) in [
        ("plain", "::std::option::Option<::std::string::String>,"),
        (
            "reply_to",
            "::std::option::Option<::std::option::Option<::std::string::String>>,",
        ),
        (
            "nickname",
            "::std::option::Option<::std::option::Option<::std::string::String>>,",
        ),
        (
            "score",
            "::std::option::Option<::std::option::Option<i64>>,",
        ),
        (
            "anything",
            "::std::option::Option<::ws_runtime::__private::serde_json::Value>,",
        ),
        (
            "choice",
            "::std::option::Option<::std::option::Option<ProfileUpdateChoice>>,",
        ),
    ] {
        let declared = format!("pub {field}: {ty}");
        assert!(types.contains(&declared), "no `{declared}` in:\n{types}");
    }
}

#[test]
fn descriptions_kept_in_text_files_become_doc_comments() {
    let files = generate("../refs/text/lobby.yaml");
    insta::assert_snapshot!("text_refs_mod", file(&files, "mod.rs"));
    insta::assert_snapshot!("text_refs_channel", file(&files, "room.rs"));
}

#[test]
fn hard_names() {
    let files = generate("names.yaml");
    insta::assert_snapshot!("names_types", file(&files, "types.rs"));
    insta::assert_snapshot!("names_channel", file(&files, "n2nd_room_lobby.rs"));
}

#[test]
fn every_way_a_route_is_selected() {
    let files = generate("routing.yaml");
    for channel in ["explicit", "inferred", "nested", "plain"] {
        insta::assert_snapshot!(
            format!("routing_{channel}"),
            file(&files, &format!("{channel}.rs"))
        );
    }
}

#[test]
fn request_reply_and_path_parameters() {
    let files = generate("reply_and_params.yaml");
    insta::assert_snapshot!("reply_channel", file(&files, "room.rs"));
    insta::assert_snapshot!("reply_mod", file(&files, "mod.rs"));
    insta::assert_snapshot!("reply_scaffold", file(&files, "handlers.rs"));
    let query: serde_json::Value =
        serde_json::from_str(file(&files, "schemas/room.query.json")).unwrap();
    assert_eq!(query["required"], serde_json::json!(["token"]));
    assert_eq!(query["properties"]["lang"]["type"], "string");
}

#[test]
fn typed_clients() {
    // Path parameters, the `ws` binding's query and headers, request/reply by `correlationId`.
    let files = generate_sides("reply_and_params.yaml", Sides::CLIENT);
    insta::assert_snapshot!("client_reply_channel", file(&files, "room.rs"));
    insta::assert_snapshot!("client_reply_mod", file(&files, "mod.rs"));
    assert!(files.iter().all(|f| f.path != "handlers.rs"));
    // Explicit, inferred and composite route keys; a channel the server sends nothing on.
    let files = generate_sides("routing.yaml", Sides::CLIENT);
    for f in files.iter().filter(|f| f.path.ends_with(".rs")) {
        if !["mod.rs", "types.rs", "tests.rs"].contains(&f.path.as_str()) {
            insta::assert_snapshot!(format!("client_routing_{}", f.path), f.contents);
        }
    }
    // A request/reply by type, and with the server beside it: the server's code is the same.
    let both = generate_sides("chat_v3.yaml", Sides::BOTH);
    let server = generate("chat_v3.yaml");
    insta::assert_snapshot!("client_chat_channel", file(&both, "chat.rs"));
    let server_chat = file(&server, "chat.rs");
    assert!(file(&both, "chat.rs").starts_with(server_chat.trim_end()));
    assert_eq!(file(&both, "types.rs"), file(&server, "types.rs"));
}

#[test]
fn the_same_api_in_2x_and_3x_generates_the_same_code() {
    let v2 = generate("chat_v2.yaml");
    let v3 = generate("chat_v3.yaml");
    // The header names the version, and a 2.x channel's id is its address (`/chat`).
    let strip = |text: &str| {
        text.lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n")
            .replace("`/chat`", "`chat`")
    };
    for path in ["types.rs", "chat.rs", "handlers.rs", "tests.rs"] {
        assert_eq!(strip(file(&v2, path)), strip(file(&v3, path)), "{path}");
    }
}

#[test]
fn output_is_deterministic() {
    assert_eq!(generate("mapping.yaml"), generate("mapping.yaml"));
    let corpus = Path::new("../tests/corpus/parser-js/v1/test/good/zbos_mqtt-all-asyncapi.json");
    let once = asyncapi_codegen::generate::module(
        &asyncapi_codegen::load(corpus, &Default::default())
            .unwrap()
            .api,
        Sides::BOTH,
    );
    let twice = asyncapi_codegen::generate::module(
        &asyncapi_codegen::load(corpus, &Default::default())
            .unwrap()
            .api,
        Sides::BOTH,
    );
    assert_eq!(once, twice);
    assert!(once.iter().all(|f| !f.contents.contains("AnonymousSchema")));
}

#[test]
fn generated_files_say_so_and_scaffolds_do_not() {
    for f in generate("chat_v3.yaml") {
        let generated = f.contents.starts_with("// @generated") || f.path.ends_with(".json");
        assert_eq!(generated, f.path != "handlers.rs", "{}", f.path);
    }
}

fn typescript(name: &str) -> Vec<File> {
    let path = Path::new("tests/fixtures/generate").join(name);
    let loaded = asyncapi_codegen::load(&path, &Default::default())
        .unwrap_or_else(|r| panic!("{}", r.render(false)));
    asyncapi_codegen::generate::typescript(&loaded.api)
}

#[test]
fn typescript_clients() {
    // Parameters, the `ws` binding's query and headers, a reply correlated by id.
    let files = typescript("reply_and_params.yaml");
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "runtime.js",
            "runtime.d.ts",
            "types.d.ts",
            "schemas.js",
            "schemas.d.ts",
            "room.js",
            "room.d.ts",
            "index.js",
            "index.d.ts",
            "package.json"
        ]
    );
    insta::assert_snapshot!("typescript_reply_channel_js", file(&files, "room.js"));
    insta::assert_snapshot!("typescript_reply_channel_dts", file(&files, "room.d.ts"));
    insta::assert_snapshot!("typescript_reply_index_dts", file(&files, "index.d.ts"));
    // Every JSON Schema shape; absent, null and a value; names that are not identifiers.
    insta::assert_snapshot!(
        "typescript_mapping_types",
        file(&typescript("mapping.yaml"), "types.d.ts")
    );
    insta::assert_snapshot!(
        "typescript_nullable_types",
        file(&typescript("nullable.yaml"), "types.d.ts")
    );
    let names = typescript("names.yaml");
    insta::assert_snapshot!("typescript_names_types", file(&names, "types.d.ts"));
    insta::assert_snapshot!(
        "typescript_names_channel_dts",
        file(&names, "n2nd_room_lobby.d.ts")
    );
    // Several channels, each a module and a namespace of the index; constants filled in.
    let routing = typescript("routing.yaml");
    insta::assert_snapshot!("typescript_routing_index_js", file(&routing, "index.js"));
    insta::assert_snapshot!(
        "typescript_routing_inferred_js",
        file(&routing, "inferred.js")
    );
    // Every file is generated (rewritten by each run), and says so on its first line (JSON, in
    // its first key).
    for f in &routing {
        assert!(
            asyncapi_codegen::emit::is_generated(&f.contents),
            "{}",
            f.path
        );
    }
    let package: serde_json::Value = serde_json::from_str(file(&routing, "package.json")).unwrap();
    assert_eq!(package["type"], "module");
    assert_eq!(package["exports"]["."]["default"], "./index.js");
    // The same API in 2.x and 3.x: the same client.
    let strip = |files: &[File], path: &str| {
        file(files, path)
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n")
            .replace("`/chat`", "`chat`")
    };
    let (v2, v3) = (typescript("chat_v2.yaml"), typescript("chat_v3.yaml"));
    for path in ["types.d.ts", "chat.js", "chat.d.ts", "schemas.js"] {
        assert_eq!(strip(&v2, path), strip(&v3, path), "{path}");
    }
}

#[test]
fn the_build_script_api_writes_the_typescript_client_and_keeps_what_it_did_not_write() {
    let dir = std::env::temp_dir().join(format!("asyncapi-build-ts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let spec = Path::new("tests/fixtures/generate/chat_v3.yaml");
    // A project's own `package.json` where the client goes is not replaced either.
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("package.json"), "{ \"name\": \"mine\" }\n").unwrap();
    let refused = asyncapi_codegen::build::typescript(spec, &dir).unwrap_err();
    assert!(refused.to_string().contains("package.json"), "{refused}");
    std::fs::remove_file(dir.join("package.json")).unwrap();
    let written = asyncapi_codegen::build::typescript(spec, &dir).unwrap();
    assert_eq!(written.len(), 10);
    let chat = std::fs::read_to_string(dir.join("chat.js")).unwrap();
    assert_eq!(chat, file(&typescript("chat_v3.yaml"), "chat.js"));
    // A file someone else wrote is not replaced.
    std::fs::write(dir.join("index.js"), "// mine\n").unwrap();
    let refused = asyncapi_codegen::build::typescript(spec, &dir).unwrap_err();
    assert!(refused.to_string().contains("index.js"), "{refused}");
    assert_eq!(
        std::fs::read_to_string(dir.join("index.js")).unwrap(),
        "// mine\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn security_schemes_become_the_channels_options_and_routes_scopes() {
    let files = generate("security.yaml");
    insta::assert_snapshot!("security_channel", file(&files, "feed.rs"));
    // The typed client says which credentials to give, and with which option.
    let client = generate_sides("security.yaml", Sides::CLIENT);
    let connect = file(&client, "feed.rs")
        .lines()
        .find(|line| line.contains("asks for credentials"))
        .unwrap();
    assert_eq!(
        connect.trim(),
        "/// The channel asks for credentials (the document's `security`): `jwt` (a bearer token, \
         [`ClientOptions::bearer`](::ws_runtime::client::ClientOptions::bearer)), or `apiKey` \
         (`api_key` in the query, [`ClientOptions::query`](::ws_runtime::client::ClientOptions::query)). \
         Give them to [`Self::connect_with`]; without them the server refuses the handshake with 401."
    );
    let path = Path::new("tests/fixtures/generate/security.yaml");
    let loaded = asyncapi_codegen::load(path, &Default::default()).unwrap();
    let plan = asyncapi_codegen::plan::plan(&loaded.api);
    // The handshake cannot carry a user and password: said, not dropped in silence.
    assert_eq!(plan.notes.len(), 1, "{:?}", plan.notes);
    assert!(plan.notes[0].contains("`userPassword`"), "{:?}", plan.notes);
    assert_eq!(plan.channels[0].security.len(), 2);
    let scopes: Vec<(&str, &[String])> = plan.channels[0]
        .routes
        .iter()
        .map(|r| (r.key.as_str(), r.scopes.as_slice()))
        .collect();
    assert_eq!(
        scopes,
        [
            ("placeOrder", &["orders:write".to_owned()][..]),
            ("subscribe", &[][..])
        ]
    );

    // 2.x: `{name: [scopes]}` on the server (one alternative, all its schemes) and on `publish`.
    let v2 = r#"
asyncapi: 2.6.0
info: {title: V2, version: '1'}
servers:
  prod: {url: 'wss://x', protocol: wss, security: [{jwt: [], key: []}]}
channels:
  /feed:
    publish:
      security: [{oauth: ['feed:write']}]
      message: {name: post, payload: {type: object, properties: {action: {const: post}}}}
components:
  securitySchemes:
    jwt: {type: http, scheme: bearer}
    key: {type: httpApiKey, in: header, name: X-Api-Key}
    oauth: {type: oauth2, flows: {}}
"#;
    let loaded =
        asyncapi_codegen::load_text(Path::new("v2.yaml"), v2, &Default::default()).unwrap();
    let plan = asyncapi_codegen::plan::plan(&loaded.api);
    let channel = &plan.channels[0];
    let names: Vec<Vec<&str>> = channel
        .security
        .iter()
        .map(|a| a.iter().map(|s| s.name.as_str()).collect())
        .collect();
    assert_eq!(names, [["jwt", "key"]]);
    assert_eq!(
        channel.security[0][1].location,
        asyncapi_codegen::plan::security::Location::Header("x-api-key".into())
    );
    assert_eq!(channel.routes[0].scopes, ["feed:write"]);
    assert!(plan.notes.is_empty());
}
