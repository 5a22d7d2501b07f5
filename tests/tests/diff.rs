//! `diff` on the corpus: the same API at several versions of the specification has no breaking
//! change, and every document diffed with itself has no change at all.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use asyncapi_codegen::LoadOptions;
use asyncapi_codegen::diff::diff;

fn load(corpus: &Path, path: &str) -> Option<asyncapi_codegen::Loaded> {
    let options = LoadOptions {
        resolve: asyncapi_rs_tests::ref_map(corpus, path),
        ..LoadOptions::default()
    };
    asyncapi_codegen::load(&corpus.join(path), &options).ok()
}

/// `spec-examples`' documents at 2.6.0, 3.0.0 and 3.1.0, matched by name (`x.yml` and
/// `x-asyncapi.yml`).
fn versioned(corpus: &Path) -> Vec<Vec<String>> {
    let dir = corpus.join("spec-examples");
    let stem = |name: &str| {
        let name = name.trim_end_matches(".yml").trim_end_matches(".yaml");
        name.trim_end_matches("-asyncapi").to_owned()
    };
    let files = |version: &str| -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = std::fs::read_dir(dir.join(version))
            .unwrap()
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                (name.ends_with(".yml") || name.ends_with(".yaml"))
                    .then(|| (stem(&name), format!("spec-examples/{version}/{name}")))
            })
            .collect();
        files.sort();
        files
    };
    let (v26, v30, v31) = (files("2.6.0"), files("3.0.0"), files("3.1.0"));
    let mut groups = Vec::new();
    for (name, path) in &v26 {
        let mut group = vec![path.clone()];
        for other in [&v30, &v31] {
            if let Some((_, p)) = other.iter().find(|(n, _)| n == name) {
                group.push(p.clone());
            }
        }
        if group.len() > 1 {
            groups.push(group);
        }
    }
    groups
}

#[test]
fn the_same_api_at_other_spec_versions_has_no_breaking_change() {
    let corpus = asyncapi_rs_tests::corpus();
    let groups = versioned(&corpus);
    assert!(
        groups.len() >= 15,
        "only {} versioned documents",
        groups.len()
    );
    let mut lines = Vec::new();
    let mut breaking = Vec::new();
    let mut pairs = 0;
    for group in &groups {
        for a in group {
            for b in group {
                if a == b {
                    continue;
                }
                let (Some(old), Some(new)) = (load(&corpus, a), load(&corpus, b)) else {
                    lines.push(format!("not loaded: {a} or {b}"));
                    continue;
                };
                pairs += 1;
                for change in diff(&old, &new) {
                    let line = format!("{a} → {b}: {} {}: {}", change.rule, change.at, change.what);
                    if change.is_compatible() {
                        lines.push(format!("compatible {line}"));
                    } else {
                        breaking.push(line);
                    }
                }
            }
        }
    }
    lines.push(format!(
        "diff: {} APIs at several spec versions, {pairs} ordered pairs, {} breaking changes",
        groups.len(),
        breaking.len()
    ));
    asyncapi_rs_tests::report("diff-versions", &lines.join("\n"));
    assert!(breaking.is_empty(), "{}", breaking.join("\n"));
    assert!(pairs >= 60, "only {pairs} pairs compared");
}

#[test]
fn every_corpus_document_diffed_with_itself_has_no_change() {
    let corpus = asyncapi_rs_tests::corpus();
    let mut compared = 0;
    let mut changed = Vec::new();
    for row in asyncapi_rs_tests::rows(&corpus) {
        if row.valid != "y" {
            continue;
        }
        // Loaded twice: nothing may depend on the order or identity of one load.
        let (Some(a), Some(b)) = (load(&corpus, &row.path), load(&corpus, &row.path)) else {
            continue;
        };
        compared += 1;
        let changes = diff(&a, &b);
        if !changes.is_empty() {
            changed.push(format!("{}: {:?}", row.path, changes[0]));
        }
    }
    asyncapi_rs_tests::report(
        "diff-self",
        &format!(
            "diff: {compared} corpus documents each diffed with itself, {} with changes",
            changed.len()
        ),
    );
    assert!(compared >= 200, "only {compared} documents compared");
    assert!(changed.is_empty(), "{}", changed.join("\n"));
}
