//! The corpus test: every public document in `tests/corpus` gets the verdict it deserves.
//!
//! - `valid = y`: loads and models without error.
//! - `EXPECTED-INVALID`: fails, with an error at the node the fixture is about (table below).
//! - every other document: the verdict agrees with the official meta-schema for its version,
//!   checked here with `jsonschema` on the document with its references resolved; where we
//!   disagree on purpose, the document is listed in `DISAGREEMENTS` with the reason.
//! - nothing panics, nothing hangs.

#![allow(clippy::unwrap_used)] // a test that cannot read its fixtures should stop right there

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use asyncapi_codegen::{Documents, LoadOptions};
use asyncapi_rs_tests::{Row, corpus, ref_map, rows};

/// `EXPECTED-INVALID` fixtures: the file, line and column of the first error, and words of it.
const EXPECTED_ERRORS: &[(&str, &str, u32, u32, &str)] = &[
    (
        "parser-js/head/packages/openapi-schema-parser/test/documents/invalid-asyncapi.yaml",
        "invalid-asyncapi.yaml",
        23,
        19,
        "`nonexistent` is not a JSON Schema type",
    ),
    (
        "parser-js/v1/test/wrong/good-ref-to-broken-file.yaml",
        "refed-file-broken-schema.yml",
        3,
        7,
        "`properties/name` in the payload",
    ),
    (
        "parser-js/v1/test/wrong/inexisting-http-ref.yaml",
        "inexisting-http-ref.yaml",
        9,
        15,
        "is a remote reference",
    ),
    (
        "parser-js/v1/test/wrong/inexisting-local-ref.yaml",
        "inexisting-local-ref.yaml",
        9,
        15,
        "points to nothing: `#/components` does not exist",
    ),
    (
        "parser-js/v1/test/wrong/inexisting-root-ref.yaml",
        "inexisting-root-ref.yaml",
        9,
        15,
        "is an absolute path, not a JSON pointer",
    ),
    (
        "parser-js/v1/test/wrong/invalid-asyncapi-messages-example.yml",
        "invalid-asyncapi-messages-example.yml",
        22,
        13,
        "example 0 of message",
    ),
    (
        "parser-js/v1/test/wrong/invalid-asyncapi-root-with-duplicate-tags.yaml",
        "invalid-asyncapi-root-with-duplicate-tags.yaml",
        6,
        11,
        "duplicate tag name `user` in the document root",
    ),
    (
        "parser-js/v1/test/wrong/invalid-asyncapi-with-ref-with-line-break.yaml",
        "invalid-asyncapi-with-ref-with-line-break.yaml",
        67,
        15,
        "quoted scalar",
    ),
    (
        "parser-js/v1/test/wrong/invalid-asyncapi.json",
        "invalid-asyncapi.json",
        4,
        3,
        "the info object has an unknown field `test`",
    ),
    (
        "parser-js/v1/test/wrong/invalid-asyncapi.yaml",
        "invalid-asyncapi.yaml",
        3,
        3,
        "the info object has an unknown field `test`",
    ),
    (
        "parser-js/v1/test/wrong/invalid-message-traits-with-duplicate-tags.yaml",
        "invalid-message-traits-with-duplicate-tags.yaml",
        20,
        17,
        "duplicate tag name `user` in trait 0 of message",
    ),
    (
        "parser-js/v1/test/wrong/invalid-message-with-duplicate-tags.yaml",
        "invalid-message-with-duplicate-tags.yaml",
        15,
        19,
        "duplicate tag name `user` in message",
    ),
    (
        "parser-js/v1/test/wrong/invalid-operation-traits-with-duplicate-tags.yaml",
        "invalid-operation-traits-with-duplicate-tags.yaml",
        26,
        17,
        "duplicate tag name `user` in operation trait",
    ),
    (
        "parser-js/v1/test/wrong/invalid-operation-with-duplicate-tags.yaml",
        "invalid-operation-with-duplicate-tags.yaml",
        23,
        17,
        "duplicate tag name `user` in the subscribe operation",
    ),
    (
        "parser-js/v1/test/wrong/invalid-operation-with-oneof-and-duplicate-tags.yaml",
        "invalid-operation-with-oneof-and-duplicate-tags.yaml",
        17,
        20,
        "payload of message `userSignedUpMessage3` must be a schema",
    ),
    (
        "parser-js/v1/test/wrong/invalid-payload-asyncapi-format.json",
        "invalid-payload-asyncapi-format.json",
        13,
        37,
        "`additionalProperties` in the payload",
    ),
    (
        "parser-js/v1/test/wrong/invalid-schema-format.yaml",
        "invalid-schema-format.yaml",
        9,
        23,
        "unknown schema format `UnknownSchemaFormat`",
    ),
    (
        "parser-js/v1/test/wrong/malformed-asyncapi.yaml",
        "malformed-asyncapi.yaml",
        19,
        11,
        "YAML syntax error",
    ),
    (
        "parser-js/v1/test/wrong/unknown-schema-format.yaml",
        "unknown-schema-format.yaml",
        9,
        23,
        "unknown schema format `UnknownSchemaFormat`",
    ),
];

/// Documents where our verdict and the meta-schema's differ on purpose.
const DISAGREEMENTS: &[(&str, &str)] = &[];

/// What happened to one document.
#[derive(Debug)]
enum Outcome {
    Loaded,
    /// The first error: file name, line, column, message.
    Failed(Vec<(String, u32, u32, String)>),
    Panicked(String),
    TimedOut,
}

fn run(path: PathBuf, options: LoadOptions) -> Outcome {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(|| match asyncapi_codegen::load(&path, &options) {
            Ok(_) => Outcome::Loaded,
            Err(report) => Outcome::Failed(
                report
                    .errors()
                    .map(|d| {
                        let at = report.location(d);
                        let file = at
                            .as_ref()
                            .and_then(|a| a.path.file_name())
                            .map(|f| f.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        let (line, column) = at.map_or((0, 0), |a| (a.line, a.column));
                        (file, line, column, d.kind.to_string())
                    })
                    .collect(),
            ),
        });
        let outcome = result.unwrap_or_else(|panic| {
            let text = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            Outcome::Panicked(text)
        });
        let _ = tx.send(outcome);
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or(Outcome::TimedOut)
}

/// The official meta-schema's verdict: every reference resolves, and the resolved document is
/// valid against `spec-json-schemas/schemas/<version>.json`.
fn oracle(
    corpus: &Path,
    row: &Row,
    cache: &mut HashMap<String, jsonschema::Validator>,
) -> Result<(), String> {
    let path = corpus.join(&row.path);
    let docs = Documents::load(&path, ref_map(corpus, &row.path))
        .map_err(|report| format!("references: {}", report.to_string().trim()))?;
    let mut instance = docs
        .inline(docs.root())
        .map_err(|d| d.kind.to_string())?
        .node
        .to_json();
    // The meta-schemas type `info.version` etc. as strings, like YAML 1.1 tools that read them.
    if !instance.is_object() {
        return Err("root is not an object".into());
    }
    let version = row.version.clone();
    let schema_file = corpus.join(format!("spec-json-schemas/schemas/{version}.json"));
    if !schema_file.is_file() {
        return Err(format!("no meta-schema for version {version}"));
    }
    let validator = cache.entry(version).or_insert_with(|| {
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&schema_file).unwrap()).unwrap();
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .build(&schema)
            .unwrap()
    });
    let errors: Vec<String> = validator
        .iter_errors(&mut instance)
        .take(3)
        .map(|e| {
            let text = e.to_string();
            let short: String = text.chars().take(160).collect();
            format!("{}: {short}", e.instance_path())
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join(" | "))
    }
}

#[test]
fn corpus_documents_get_the_right_verdict() {
    let corpus = corpus();
    let rows = rows(&corpus);
    assert!(
        rows.len() >= 280,
        "INDEX.tsv lists {} documents",
        rows.len()
    );
    let mut failures = Vec::new();
    let mut disagreements: BTreeMap<String, String> = BTreeMap::new();
    let mut cache = HashMap::new();
    let (mut loaded, mut rejected, mut located) = (0, 0, 0);
    for row in &rows {
        let path = corpus.join(&row.path);
        let options = LoadOptions {
            resolve: ref_map(&corpus, &row.path),
            ..LoadOptions::default()
        };
        let outcome = run(path, options);
        let expected_invalid = row.notes.starts_with("EXPECTED-INVALID");
        match &outcome {
            Outcome::Panicked(message) => {
                failures.push(format!("{}: panicked: {message}", row.path))
            }
            Outcome::TimedOut => failures.push(format!("{}: did not finish in 60 s", row.path)),
            Outcome::Loaded => loaded += 1,
            Outcome::Failed(_) => rejected += 1,
        }
        let is_1x = row.version.starts_with("1.");
        if expected_invalid {
            let Some(&(_, file, line, column, words)) =
                EXPECTED_ERRORS.iter().find(|e| e.0 == row.path)
            else {
                failures.push(format!(
                    "{}: EXPECTED-INVALID fixture missing from EXPECTED_ERRORS",
                    row.path
                ));
                continue;
            };
            match &outcome {
                Outcome::Failed(errors) => {
                    let hit = errors.iter().any(|(f, l, c, m)| {
                        f == file && *l == line && *c == column && m.contains(words)
                    });
                    if hit {
                        located += 1;
                    } else {
                        failures.push(format!(
                            "{}: expected an error at {file}:{line}:{column} containing {words:?}, got {errors:#?}",
                            row.path
                        ));
                    }
                }
                other => failures.push(format!("{}: expected to fail, got {other:?}", row.path)),
            }
        } else if is_1x {
            // 1.x documents are refused with a message that names the version.
            match &outcome {
                Outcome::Failed(errors)
                    if errors[0]
                        .3
                        .contains(&format!("AsyncAPI {} is not supported", row.version)) => {}
                other => failures.push(format!(
                    "{}: a 1.x document must be refused, got {other:?}",
                    row.path
                )),
            }
        } else if row.valid == "y" {
            if let Outcome::Failed(errors) = &outcome {
                failures.push(format!("{}: valid document failed: {errors:#?}", row.path));
            }
        } else {
            let verdict = oracle(&corpus, row, &mut cache);
            let ours = matches!(outcome, Outcome::Loaded);
            if ours != verdict.is_ok() {
                let detail = match (&outcome, &verdict) {
                    (Outcome::Failed(errors), _) => format!("we reject: {}", errors[0].3),
                    (_, Err(e)) => format!("the meta-schema rejects: {e}"),
                    _ => String::new(),
                };
                disagreements.insert(row.path.clone(), detail);
            }
        }
    }
    let listed: BTreeMap<String, String> = DISAGREEMENTS
        .iter()
        .map(|(p, why)| ((*p).to_owned(), (*why).to_owned()))
        .collect();
    for (path, detail) in &disagreements {
        if !listed.contains_key(path) {
            failures.push(format!("{path}: verdict differs from the meta-schema ({detail}); fix it or list it in DISAGREEMENTS with the reason"));
        }
    }
    for path in listed.keys() {
        if !disagreements.contains_key(path) {
            failures.push(format!(
                "{path}: listed in DISAGREEMENTS but we now agree; remove it"
            ));
        }
    }
    asyncapi_rs_tests::report(
        "corpus",
        &format!(
            "corpus: {} documents: {loaded} loaded, {rejected} rejected, {located} expected-invalid fixtures failed at the right node, {} listed disagreements",
            rows.len(),
            disagreements.len()
        ),
    );
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
