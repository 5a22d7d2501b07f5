//! The corpus compile test: every valid corpus document with at least one message is generated,
//! and all of them are compiled together in one crate under `#![deny(warnings)]` and clippy
//! `-D warnings`; then that crate's tests (generated from each document's examples) run: every
//! example is accepted by the validator, deserializes into its type, and serializes back equal.
//! Examples that break their own schema are the document's problem: listed by name, not counted.
//! A document that generates exactly the code of an earlier one (the same document in two places
//! of the corpus) is listed, not compiled twice.
//!
//! The same crate tests the validators compiled into the generated types (`checks.rs`):
//! - differentially: each message's compiled check and jsonschema judge the same instances
//!   (its examples and a value made up for its schema, and mutations of them;
//!   `tests/corpus_crate/differential.rs`), with no disagreement;
//! - on the JSON Schema Test Suite: each draft-7 group whose schema compiles is generated as a
//!   check, and each of its tests must get the suite's verdict.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use asyncapi_codegen::LoadOptions;
use asyncapi_codegen::emit::{SchemaPlacement, Sides};
use asyncapi_rs_tests::{cargo, corpus, fail_with, focused_fixtures, generatable};

fn slug(path: &str) -> String {
    let mut out = String::new();
    for c in path
        .trim_end_matches(".yaml")
        .trim_end_matches(".yml")
        .trim_end_matches(".json")
        .chars()
    {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    // The end of the path says the most; keep the module name short.
    let tail: Vec<char> = out.trim_matches('_').chars().collect();
    let start = tail.len().saturating_sub(40);
    tail[start..]
        .iter()
        .collect::<String>()
        .trim_start_matches('_')
        .to_owned()
}

fn has_null(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => true,
        serde_json::Value::Array(items) => items.iter().any(has_null),
        serde_json::Value::Object(map) => map.values().any(has_null),
        _ => false,
    }
}

#[test]
fn every_valid_corpus_document_generates_compiles_and_round_trips_its_examples() {
    let corpus = corpus();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap();
    let krate = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("corpus-crate");
    let _ = std::fs::remove_dir_all(krate.join("src"));
    std::fs::create_dir_all(krate.join("src")).unwrap();

    let mut modules = Vec::new();
    // `agree::<Type>(&[examples])` for every message: the differential test's calls.
    let mut agreements = Vec::new();
    let mut invalid_examples = Vec::new();
    let mut examples = 0;
    // Examples with an explicit `null` somewhere: their round trip keeps it.
    let mut with_null = 0;
    let generatable = generatable(&corpus);
    let skipped_no_messages = generatable.without_messages;
    let load_failures = generatable.load_failures;
    // Documents that generate exactly the code an earlier one did (the same document kept in
    // two places of the corpus) are compiled once: each file's path and contents, by document.
    let mut generated: std::collections::HashMap<Vec<(String, String)>, String> =
        std::collections::HashMap::new();
    let mut same_code = Vec::new();
    for (index, path, loaded) in &generatable.documents {
        let plan = asyncapi_codegen::plan::plan(&loaded.api);
        let files: Vec<(String, String)> =
            asyncapi_codegen::emit::module_files(&plan, SchemaPlacement::Files, Sides::BOTH)
                .into_iter()
                .map(|file| (file.path, file.contents))
                .collect();
        if let Some(earlier) = generated.get(&files) {
            same_code.push(format!("{path} (as {earlier})"));
            continue;
        }
        for message in &plan.messages {
            for example in &message.examples {
                match &example.invalid {
                    Some(reason) => invalid_examples.push(format!(
                        "{path}: `{}` example `{}`: {reason}",
                        message.name, example.name
                    )),
                    None => {
                        examples += 1;
                        with_null += usize::from(has_null(&example.payload));
                    }
                }
            }
        }
        let module = format!("d{index:03}_{}", slug(path));
        agreements.extend(agreement_calls(&module, &plan));
        for (file, contents) in &files {
            let path = krate.join("src").join(&module).join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
        generated.insert(files, path.clone());
        modules.push((module, path.clone()));
    }
    assert!(
        load_failures.is_empty(),
        "valid documents failed to load:\n{}",
        load_failures.join("\n")
    );
    // The focused documents of the generator's snapshot tests compile here too.
    for path in focused_fixtures() {
        let loaded = asyncapi_codegen::load(&path, &LoadOptions::default()).unwrap();
        let plan = asyncapi_codegen::plan::plan(&loaded.api);
        for example in plan.messages.iter().flat_map(|m| &m.examples) {
            if example.invalid.is_none() {
                examples += 1;
                with_null += usize::from(has_null(&example.payload));
            }
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let module = format!("focused_{name}");
        agreements.extend(agreement_calls(&module, &plan));
        for file in asyncapi_codegen::emit::module_files(&plan, SchemaPlacement::Files, Sides::BOTH)
        {
            let path = krate.join("src").join(&module).join(&file.path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, file.contents).unwrap();
        }
        modules.push((
            module,
            format!("asyncapi-codegen/tests/fixtures/generate/{name}.yaml"),
        ));
    }

    let suite = suite_module();
    std::fs::write(krate.join("src/suite.rs"), &suite.code).unwrap();
    std::fs::copy(
        repo.join("tests/corpus_crate/differential.rs"),
        krate.join("src/differential.rs"),
    )
    .unwrap();
    let lib: String = std::iter::once(
        "//! Every valid corpus document, generated.\n#![deny(warnings)]\n\n#[cfg(test)]\nmod differential;\n#[cfg(test)]\nmod suite;\n\n".to_owned(),
    )
    .chain(
        modules
            .iter()
            .map(|(m, path)| format!("/// `{path}`\npub mod {m};\n")),
    )
    .chain(std::iter::once(format!(
        "\n/// Each message's compiled check against jsonschema (`differential.rs`).\n#[test]\nfn compiled_checks_agree_with_jsonschema() {{\n    let mut tally = differential::Tally::default();\n{}    differential::report(&tally, concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/differential.txt\"));\n}}\n",
        agreements.concat()
    )))
    .collect();
    std::fs::write(krate.join("src/lib.rs"), lib).unwrap();
    std::fs::write(
        krate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"corpus-crate\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\nws-runtime = {{ path = {:?}, default-features = false, features = [\"client\"] }}\n\n[workspace]\n",
            repo.join("ws-runtime").display().to_string()
        ),
    )
    .unwrap();
    // The same dependency versions as the workspace, and no network needed.
    std::fs::copy(repo.join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    let target = repo.join("target/corpus-crate");

    let (ok, output) = cargo(
        &krate,
        &target,
        &["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"],
    );
    if !ok {
        fail_with(
            "the generated corpus crate does not pass clippy -D warnings",
            "corpus-compile-clippy",
            &output,
        );
    }

    let (ok, output) = cargo(
        &krate,
        &target,
        &["test", "--lib", "--", "--test-threads", "2"],
    );
    let Some(summary) = output.lines().find(|l| l.starts_with("test result:")) else {
        fail_with(
            "the generated corpus crate's tests did not build or run",
            "corpus-compile-test",
            &output,
        );
    };
    let summary = summary.to_owned();
    let passed: usize = summary
        .split_whitespace()
        .skip_while(|w| *w != "ok." && *w != "FAILED.")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let failures: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("panicked at") || l.starts_with("thread '"))
        .collect();
    assert!(
        ok,
        "example round trips failed:\n{}",
        output
            .lines()
            .filter(|l| l.contains("example") || l.starts_with("----"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The example tests, and the differential and suite tests.
    assert_eq!(
        passed,
        examples + 2,
        "every valid example is a test that passed ({summary}); {failures:?}"
    );
    let differential = std::fs::read_to_string(krate.join("differential.txt")).unwrap();
    let suite_result = std::fs::read_to_string(krate.join("suite.txt")).unwrap();

    let mut text = format!(
        "examples invalid in their document ({}):\n",
        invalid_examples.len()
    );
    for line in &invalid_examples {
        text.push_str(&format!("  {line}\n"));
    }
    text.push_str(&format!(
        "corpus compile: {} documents generated, {} compiled ({} generate the code of another: {}), {} examples round-tripped ({} with an explicit null), {} examples invalid in their document ({} valid documents have no message)",
        modules.len() + same_code.len(),
        modules.len(),
        same_code.len(),
        same_code.join(", "),
        passed,
        with_null,
        invalid_examples.len(),
        skipped_no_messages
    ));
    asyncapi_rs_tests::report("corpus-compile", &text);
    asyncapi_rs_tests::report(
        "compiled-checks",
        &format!(
            "{differential}\n{suite_result}JSON Schema Test Suite, draft 7: {} of {} groups compiled ({} tests); not compiled: {}",
            suite.compiled,
            suite.groups,
            suite.tests,
            suite.not_compiled.join("; ")
        ),
    );
}

/// The differential test's calls for the messages of `plan`, generated under `module`.
fn agreement_calls(module: &str, plan: &asyncapi_codegen::plan::Plan) -> Vec<String> {
    plan.messages
        .iter()
        .map(|message| {
            let ty = &plan.types.get(message.ty).name;
            // The examples, and what the mock would make up for the schema.
            let made_up = asyncapi_cli::sample::sample(&message.schema, &message.schema);
            let seeds: Vec<String> = message
                .examples
                .iter()
                .map(|e| &e.payload)
                .chain(made_up.as_ref())
                .map(|seed| format!("{:?}", seed.to_string()))
                .collect();
            format!(
                "    differential::agree::<{module}::types::{ty}>(&[{}], &mut tally);\n",
                seeds.join(", ")
            )
        })
        .collect()
}

/// The JSON Schema Test Suite's draft-7 groups as generated checks.
struct Suite {
    code: String,
    groups: usize,
    compiled: usize,
    tests: usize,
    not_compiled: Vec<String>,
}

fn suite_module() -> Suite {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("json-schema-test-suite/draft7");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut plans = Vec::new();
    let mut cases = Vec::new();
    let mut suite = Suite {
        code: String::new(),
        groups: 0,
        compiled: 0,
        tests: 0,
        not_compiled: Vec::new(),
    };
    for path in files {
        let file = path.file_stem().unwrap().to_string_lossy().into_owned();
        let groups: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for group in groups {
            suite.groups += 1;
            let description = group["description"].as_str().unwrap_or_default().to_owned();
            let mut schema = group["schema"].clone();
            if let Some(map) = schema.as_object_mut() {
                map.entry("$schema")
                    .or_insert("http://json-schema.org/draft-07/schema#".into());
            }
            let plan = match asyncapi_codegen::plan::checks::compile(&schema) {
                Ok(plan) => plan,
                Err(why) => {
                    suite
                        .not_compiled
                        .push(format!("{file}: {description} ({why})"));
                    continue;
                }
            };
            suite.compiled += 1;
            let name = format!("s{}", suite.compiled);
            for test in group["tests"].as_array().into_iter().flatten() {
                suite.tests += 1;
                cases.push(format!(
                    "    ({name}, {:?}, {:?}, {}),\n",
                    format!(
                        "{file}: {description}: {}",
                        test["description"].as_str().unwrap_or_default()
                    ),
                    test["data"].to_string(),
                    test["valid"].as_bool().unwrap_or_default()
                ));
            }
            plans.push((name, description, plan));
        }
    }
    let checks: Vec<(&str, &str, &_)> = plans
        .iter()
        .map(|(name, description, plan)| (name.as_str(), description.as_str(), plan))
        .collect();
    let functions = asyncapi_codegen::emit::checks::standalone(&checks);
    suite.code = format!(
        "//! The JSON Schema Test Suite's draft-7 groups, each schema compiled as a message's is.\n\n{}\n\n/// A test: the check, what it is, the data, the suite's verdict.\ntype Case = (fn(&Tree<'_>) -> bool, &'static str, &'static str, bool);\n\nconst CASES: &[Case] = &[\n{}];\n\n#[test]\nfn the_suite_through_compiled_checks() {{\n    let mut failures = Vec::new();\n    for (check, what, data, valid) in CASES {{\n        let verdict = Tree::read(data, |tree| tree.map(|tree| check(&tree)));\n        if verdict.as_ref().ok() != Some(valid) {{\n            failures.push(format!(\"{{what}}: expected {{valid}}, got {{verdict:?}}\"));\n        }}\n    }}\n    let report = format!(\"JSON Schema Test Suite through compiled checks: {{}} tests, {{}} failed\\n{{}}\", CASES.len(), failures.len(), failures.join(\"\\n\"));\n    std::fs::write(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/suite.txt\"), &report).unwrap();\n    assert!(failures.is_empty(), \"{{report}}\");\n}}\n",
        functions,
        cases.concat()
    );
    suite
}
