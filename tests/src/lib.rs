//! Helpers for the tests that cross crates: the corpus of public AsyncAPI documents, and
//! cargo run on generated crates.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test that cannot read its fixtures stops there

use std::path::{Path, PathBuf};

/// The guide's pages, so that every Rust snippet in them compiles (and runs) as a doc test.
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../../README.md")]
    mod readme {}
    #[doc = include_str!("../../docs/api-gateway.md")]
    mod api_gateway {}
    #[doc = include_str!("../../docs/chat.md")]
    mod chat {}
    #[doc = include_str!("../../docs/clients.md")]
    mod clients {}
    #[doc = include_str!("../../docs/cluster.md")]
    mod cluster {}
    #[doc = include_str!("../../docs/contract-testing.md")]
    mod contract_testing {}
    #[doc = include_str!("../../docs/documents.md")]
    mod documents {}
    #[doc = include_str!("../../docs/feed.md")]
    mod feed {}
    #[doc = include_str!("../../docs/generator.md")]
    mod generator {}
    #[doc = include_str!("../../docs/operations.md")]
    mod operations {}
    #[doc = include_str!("../../docs/runtime.md")]
    mod runtime {}
}

use asyncapi_codegen::ResolveOptions;

/// `tests/corpus`, the repository's copy of the public documents (NOTICE.md says where each
/// comes from), or a panic that says it is missing.
pub fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    assert!(
        dir.join("INDEX.tsv").is_file(),
        "the corpus is missing: expected {} (it is part of the repository)",
        dir.display()
    );
    dir
}

/// One line of `INDEX.tsv`.
#[derive(Debug, Clone)]
pub struct Row {
    pub path: String,
    pub version: String,
    pub valid: String,
    pub notes: String,
    /// The protocols its servers name (`ws,mqtt`), `-` for none.
    pub protocols: String,
}

/// Every document of the index.
pub fn rows(corpus: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(corpus.join("INDEX.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (path, version, valid, notes, protocols) = (
        column("path"),
        column("asyncapi_version"),
        column("valid"),
        column("notes"),
        column("protocols"),
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            let cell = |i: usize| cells.get(i).copied().unwrap_or_default().to_owned();
            Row {
                path: cell(path),
                version: cell(version),
                valid: cell(valid),
                notes: cell(notes),
                protocols: cell(protocols),
            }
        })
        .collect()
}

/// The corpus documents the generator takes, loaded: valid, AsyncAPI 2.x or 3.x, with at least
/// one message. Each with its index in `INDEX.tsv`.
#[derive(Debug, Default)]
pub struct Generatable {
    pub documents: Vec<(usize, String, asyncapi_codegen::Loaded)>,
    /// Valid documents with no message (nothing to generate).
    pub without_messages: usize,
    /// Valid documents that failed to load: each a bug.
    pub load_failures: Vec<String>,
}

/// [`Generatable`] for the corpus.
pub fn generatable(corpus: &Path) -> Generatable {
    let mut out = Generatable::default();
    for (index, row) in rows(corpus).iter().enumerate() {
        if row.valid != "y" || row.version.starts_with("1.") {
            continue;
        }
        let options = asyncapi_codegen::LoadOptions {
            resolve: ref_map(corpus, &row.path),
            ..asyncapi_codegen::LoadOptions::default()
        };
        let loaded = match asyncapi_codegen::load(&corpus.join(&row.path), &options) {
            Ok(loaded) => loaded,
            Err(report) => {
                out.load_failures.push(format!("{}: {report}", row.path));
                continue;
            }
        };
        if loaded.api.messages.is_empty()
            && loaded.api.channels.iter().all(|c| c.messages.is_empty())
        {
            out.without_messages += 1;
            continue;
        }
        out.documents.push((index, row.path.clone(), loaded));
    }
    out
}

/// The generator's focused documents (`asyncapi-codegen/tests/fixtures/generate`), sorted.
pub fn focused_fixtures() -> Vec<PathBuf> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../asyncapi-codegen/tests/fixtures/generate");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
}

/// Fixtures whose relative references were written against another folder than their own (as
/// the project they come from resolved them), or against a URL its tests map to a local file.
/// Each gets the ref map that project's tests used.
pub fn ref_map(corpus: &Path, path: &str) -> ResolveOptions {
    let v1 = corpus.join("parser-js/v1/test");
    let options = ResolveOptions::default();
    match path {
        "parser-js/v1/test/good/asyncapi.yaml"
        | "parser-js/v1/test/good/asyncapi.json"
        | "parser-js/v1/test/wrong/invalid-asyncapi.yaml"
        | "parser-js/v1/test/wrong/invalid-asyncapi.json" => {
            options.map_prefix("refs/", v1.join("refs"))
        }
        "parser-js/v1/test/good/circular-refs.yaml" => {
            options.map_prefix("./good/", v1.join("good"))
        }
        "parser-js/v1/test/wrong/good-ref-to-broken-file.yaml" => {
            options.map_prefix("wrong/", v1.join("wrong"))
        }
        "cli/test/fixtures/dummyspec/apiwithref.json"
        | "generator/apps/generator/test/docs/apiwithref.json" => {
            let dir = corpus.join(path).parent().unwrap().to_path_buf();
            options.map_prefix("https://schema.example.com/crm/", dir)
        }
        _ => options,
    }
}

/// Prints a test's summary and keeps it in `target/test-reports/<name>.txt`, which `.ci/run`
/// shows after the tests (cargo captures the output of tests that pass).
pub fn report(name: &str, text: &str) {
    println!("{text}");
    save_report(name, text);
}

/// Writes `target/test-reports/{name}.txt` without printing it.
pub fn save_report(name: &str, text: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-reports");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join(format!("{name}.txt")), format!("{text}\n"));
    }
}

/// Runs cargo in a generated crate (or workspace of them) with its own target directory. Such a
/// crate is built once per run, so incremental compilation and debug info would only cost time
/// and disk.
pub fn cargo(dir: &Path, target: &Path, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Fails with the start of a nested cargo's output, without its progress lines (a CI report
/// shows only the start of a failure), and keeps all of it in `target/test-reports/{report}.txt`.
#[track_caller]
pub fn fail_with(what: &str, report: &str, output: &str) -> ! {
    save_report(report, output);
    let progress = [
        "Compiling ",
        "Checking ",
        "Blocking ",
        "Finished ",
        "Running ",
    ];
    let lines: Vec<&str> = output
        .lines()
        .filter(|l| !progress.iter().any(|p| l.trim_start().starts_with(p)))
        .collect();
    let shown = lines.len().min(80);
    panic!(
        "{what}; first {shown} of {} lines (all in target/test-reports/{report}.txt):\n{}",
        lines.len(),
        lines[..shown].join("\n")
    );
}
