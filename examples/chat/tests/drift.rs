//! `src/api/` is what `asyncapi-rs generate asyncapi.yaml -o src/api --client` writes, and
//! `static/client/` what `--typescript static/client` writes: this fails when the document and
//! the checked-in code disagree (rerun the command to fix it). The chat serves every module of
//! the TypeScript client.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::path::Path;

#[test]
fn generated_code_matches_the_document() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = asyncapi_codegen::load(&root.join("asyncapi.yaml"), &Default::default())
        .unwrap_or_else(|report| panic!("{}", report.render(false)));
    let files =
        asyncapi_codegen::generate::module(&loaded.api, asyncapi_codegen::emit::Sides::BOTH);
    assert!(files.len() > 3, "the generator wrote {} files", files.len());
    let drifted = asyncapi_codegen::generate::drift(&root.join("src/api"), &files);
    assert!(
        drifted.is_empty(),
        "generated files differ from examples/chat/asyncapi.yaml: {drifted:?}\n\
         rerun: cargo run -p asyncapi-cli -- generate examples/chat/asyncapi.yaml -o examples/chat/src/api"
    );
}

#[test]
fn the_pages_client_matches_the_document_and_is_served_whole() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = asyncapi_codegen::load(&root.join("asyncapi.yaml"), &Default::default())
        .unwrap_or_else(|report| panic!("{}", report.render(false)));
    let files = asyncapi_codegen::generate::typescript(&loaded.api);
    let drifted = asyncapi_codegen::generate::drift(&root.join("static/client"), &files);
    assert!(
        drifted.is_empty(),
        "generated files differ from examples/chat/asyncapi.yaml: {drifted:?}\n\
         rerun: cargo run -p asyncapi-cli -- generate examples/chat/asyncapi.yaml --typescript examples/chat/static/client"
    );
    let mut modules: Vec<String> = files
        .iter()
        .filter(|f| f.path.ends_with(".js"))
        .map(|f| format!("/client/{}", f.path))
        .collect();
    modules.sort();
    let served: Vec<&str> = chat::CLIENT.iter().map(|(path, _)| *path).collect();
    assert_eq!(
        served, modules,
        "chat::CLIENT serves every module, in order"
    );
    for (path, text) in chat::CLIENT {
        let file = files
            .iter()
            .find(|f| format!("/client/{}", f.path) == *path)
            .unwrap();
        assert_eq!(*text, file.contents, "{path} is the generated module");
    }
}
