//! `src/api/` is what `asyncapi-rs generate asyncapi.yaml -o src/api --client` writes: this
//! fails when the document and the checked-in code disagree (rerun the command to fix it).

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
        "generated files differ from examples/feed/asyncapi.yaml: {drifted:?}\n\
         rerun: cargo run -p asyncapi-cli -- generate examples/feed/asyncapi.yaml -o examples/feed/src/api --client"
    );
}
