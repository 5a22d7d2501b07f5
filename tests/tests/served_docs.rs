//! The contract, served (`Router::docs`): what a running server serves at `/asyncapi.yaml` and
//! `/asyncapi.json` loads on its own (what `asyncapi-rs validate` runs: `asyncapi_codegen::load`)
//! and describes the channels and routes the server routes (`/docs/routes.json`), for generated
//! code (the chat) and code-first routes (the handwritten board). Every corpus document's bundle
//! (the document generated code serves) loads on its own, other files inlined.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use asyncapi_codegen::LoadOptions;
use asyncapi_rs_tests::{corpus, ref_map, rows};

/// Channel paths and route keys: of a loaded document (as the generator plans them), and of
/// the running server.
type Routes = BTreeSet<(String, String)>;

fn planned(path: &Path) -> Routes {
    let loaded = asyncapi_codegen::load(path, &LoadOptions::default())
        .unwrap_or_else(|report| panic!("{}", report.render(false)));
    let plan = asyncapi_codegen::plan::plan(&loaded.api);
    plan.channels
        .iter()
        .flat_map(|c| c.routes.iter().map(|r| (c.path.clone(), r.key.clone())))
        .collect()
}

fn served(routes_json: &str) -> Routes {
    let routes: serde_json::Value = serde_json::from_str(routes_json).unwrap();
    routes["channels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            let address = c["address"].as_str().unwrap().to_owned();
            c["routes"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |r| (address.clone(), r["key"].as_str().unwrap().to_owned()))
        })
        .collect()
}

/// Serves `app`, saves what it serves as YAML and JSON, and checks both against its routes.
async fn check(app: ws_runtime::App, name: &str) -> Routes {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = app.serve(listener).await.unwrap();
    let addr = server.local_addr();
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("served-docs");
    std::fs::create_dir_all(&dir).unwrap();
    let routes = served(&test_support::http::get(addr, "/docs/routes.json").await);
    assert!(!routes.is_empty());
    for (format, path) in [("yaml", "/asyncapi.yaml"), ("json", "/asyncapi.json")] {
        let file = dir.join(format!("{name}.{format}"));
        std::fs::write(&file, test_support::http::get(addr, path).await).unwrap();
        assert_eq!(
            planned(&file),
            routes,
            "{name}: {path} and the running routes"
        );
    }
    assert!(
        test_support::http::get(addr, "/docs")
            .await
            .contains("<script>")
    );
    server.shutdown().await;
    routes
}

#[tokio::test]
async fn the_chat_serves_the_document_it_was_generated_from() {
    let app = chat::router().docs(chat::api::ASYNCAPI).build().unwrap();
    let routes = check(app, "chat").await;
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat/asyncapi.yaml");
    assert_eq!(
        routes,
        planned(&source),
        "the served document is the source's"
    );
}

#[tokio::test]
async fn the_handwritten_board_serves_its_export() {
    let export = handwritten_example::asyncapi().to_json().to_string();
    let app = ws_runtime::Router::new()
        .channel("/board", handwritten_example::Board)
        .docs(export)
        .build()
        .unwrap();
    check(app, "board").await;
}

#[test]
fn every_corpus_bundle_loads_alone_and_models_the_same_api() {
    let corpus = corpus();
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bundles");
    std::fs::create_dir_all(&dir).unwrap();
    let (mut bundled, mut multi_file) = (0, 0);
    for (i, row) in rows(&corpus).iter().enumerate() {
        let path = corpus.join(&row.path);
        let options = LoadOptions {
            resolve: ref_map(&corpus, &row.path),
            ..LoadOptions::default()
        };
        let Ok(loaded) = asyncapi_codegen::load(&path, &options) else {
            continue;
        };
        let file = dir.join(format!("{i}.json"));
        std::fs::write(&file, loaded.api.document.to_string()).unwrap();
        let again = asyncapi_codegen::load(&file, &LoadOptions::default()).unwrap_or_else(|r| {
            panic!(
                "{}: its bundle does not load:\n{}",
                row.path,
                r.render(false)
            )
        });
        assert_eq!(again.documents.sources().iter().count(), 1, "{}", row.path);
        let shape = |api: &asyncapi_codegen::Api| {
            (
                api.channels
                    .iter()
                    .map(|c| c.address.clone())
                    .collect::<Vec<_>>(),
                api.messages.len(),
                api.channels
                    .iter()
                    .map(|c| c.operations.len())
                    .sum::<usize>(),
            )
        };
        assert_eq!(shape(&again.api), shape(&loaded.api), "{}", row.path);
        bundled += 1;
        multi_file += usize::from(loaded.documents.sources().iter().count() > 1);
    }
    assert!(
        bundled > 150 && multi_file > 10,
        "{bundled} bundled, {multi_file} from several files"
    );
    println!(
        "{bundled} corpus documents bundled and loaded alone ({multi_file} from several files)"
    );
}
