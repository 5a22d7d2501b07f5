//! `ws-runtime/benches/checks.rs` is the validation benchmark's schemas (`bench/data`) compiled
//! into checks as `asyncapi-rs generate` compiles a message's: this fails when the file and the
//! generator disagree, and rewrites it with `UPDATE_BENCH_CHECKS=1`.

#![allow(clippy::unwrap_used)]

use std::path::Path;

#[test]
fn the_benchmarks_compiled_checks_are_what_the_generator_writes() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut plans = Vec::new();
    for name in ["small", "medium"] {
        let path = repo.join(format!("bench/data/{name}.schema.json"));
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        plans.push((
            name,
            asyncapi_codegen::plan::checks::compile(&schema).unwrap(),
        ));
    }
    let checks: Vec<(&str, &str, &_)> = plans.iter().map(|(n, p)| (*n, *n, p)).collect();
    let expected = format!(
        "// @generated from bench/data/*.schema.json by tests/tests/bench_checks.rs (UPDATE_BENCH_CHECKS=1 rewrites it).\n\n{}",
        asyncapi_codegen::emit::checks::standalone(&checks)
    );
    let file = repo.join("ws-runtime/benches/checks.rs");
    if std::env::var_os("UPDATE_BENCH_CHECKS").is_some() {
        std::fs::write(&file, &expected).unwrap();
    }
    let found = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        found == expected,
        "ws-runtime/benches/checks.rs is not what the generator writes; rerun with UPDATE_BENCH_CHECKS=1"
    );
}
