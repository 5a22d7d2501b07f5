//! The official JSON Schema Test Suite (its required tests for draft 7 and 2020-12, vendored in
//! `tests/json-schema-test-suite`) against the validator path ws-runtime runs on every message:
//! `ws_runtime::Schema` on the frame's tree (what the runtime validates each message as), and on
//! a `serde_json::Value` (`is_valid` and `validate`), all three agreeing.
//!
//! Draft-7 schemas get `$schema: draft-07` as the generator writes it into every schema it
//! emits (AsyncAPI's schema object is a draft-07 superset); 2020-12 is the default of a schema
//! without `$schema`. Every group runs; a group that fails only because it needs the suite's
//! remote server is left out, listed with its reason and counted in the summary.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use serde_json::Value;
use ws_runtime::__private::Tree;
use ws_runtime::Schema;

const DRAFT_07: &str = "http://json-schema.org/draft-07/schema#";

/// Why a failing group is left out, when it is.
fn excluded(schema: &Value) -> Option<&'static str> {
    schema.to_string().contains("localhost:1234").then_some(
        "needs a schema from the suite's remote server (http://localhost:1234); ws-runtime never \
         fetches schemas over the network",
    )
}

#[derive(Default)]
struct Tally {
    groups: usize,
    tests: usize,
    passed: usize,
    excluded: Vec<String>,
    failures: Vec<String>,
}

fn run(draft: &str, tally: &mut Tally) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("json-schema-test-suite")
        .join(draft);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() > 30, "the vendored suite for {draft} is there");
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let groups: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for group in groups {
            tally.groups += 1;
            let description = group["description"].as_str().unwrap_or_default();
            let mut schema = group["schema"].clone();
            let tests = group["tests"].as_array().cloned().unwrap_or_default();
            let remote = excluded(&schema);
            if draft == "draft7"
                && let Some(map) = schema.as_object_mut()
            {
                map.entry("$schema").or_insert(Value::from(DRAFT_07));
            }
            let compiled = Schema::new(schema);
            let mut failures = Vec::new();
            if let Err(error) = compiled.compile() {
                failures.push(format!(
                    "{draft}/{file}: {description}: the schema does not compile: {error}"
                ));
            } else {
                for test in &tests {
                    let expected = test["valid"].as_bool().unwrap();
                    let data = &test["data"];
                    let valid = compiled.is_valid(data);
                    let validated = compiled.validate(data).is_ok();
                    let text = data.to_string();
                    let as_frame =
                        Tree::read(&text, |tree| compiled.validate_tree(&tree.unwrap()).is_ok());
                    if valid != expected || validated != expected || as_frame != expected {
                        failures.push(format!(
                            "{draft}/{file}: {description}: {}: expected {}, is_valid says {valid}, validate says {validated}, the frame's tree says {as_frame}",
                            test["description"].as_str().unwrap_or_default(),
                            if expected { "valid" } else { "invalid" },
                        ));
                    }
                }
            }
            match remote {
                Some(reason) if !failures.is_empty() => {
                    tally.excluded.push(format!(
                        "{draft}/{file}: {description} ({} tests): {reason}",
                        tests.len()
                    ));
                }
                _ => {
                    tally.tests += tests.len();
                    tally.passed += tests.len() - failures.len().min(tests.len());
                    tally.failures.extend(failures);
                }
            }
        }
    }
}

#[test]
fn the_runtime_validator_passes_the_json_schema_test_suite() {
    let mut tally = Tally::default();
    run("draft7", &mut tally);
    run("draft2020-12", &mut tally);
    println!(
        "JSON Schema Test Suite (draft 7, 2020-12; required tests): {} groups, {} tests, {} passed, {} failed; {} groups left out:",
        tally.groups,
        tally.tests,
        tally.passed,
        tally.failures.len(),
        tally.excluded.len()
    );
    for line in &tally.excluded {
        println!("  left out: {line}");
    }
    assert!(
        tally.failures.is_empty(),
        "{} of {} tests fail:\n{}",
        tally.failures.len(),
        tally.tests,
        tally.failures.join("\n")
    );
    assert!(tally.passed > 2_000, "{} tests passed", tally.passed);
}
