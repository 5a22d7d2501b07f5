//! The `asyncapi-rs` binary, run as a user runs it.

#![allow(clippy::unwrap_used)] // a test that cannot read its fixtures should stop right there

use std::path::Path;
use std::process::{Command, Output};

fn asyncapi_rs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asyncapi-rs"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const CORPUS: &str = "../shared/corpus";

#[test]
fn validate_prints_a_one_line_summary() {
    let out = asyncapi_rs(&["validate", "examples/chat/asyncapi.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "examples/chat/asyncapi.yaml: valid AsyncAPI 3.0.0 document, 1 channel, 3 inbound and 5 outbound messages\n"
    );
}

#[test]
fn validate_reports_errors_with_snippets_and_exit_1() {
    let file =
        format!("{CORPUS}/parser-js/v1/test/wrong/invalid-operation-with-duplicate-tags.yaml");
    let out = asyncapi_rs(&["validate", &file]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("error: duplicate tag name `user` in the subscribe operation of channel `/user/signedup`"), "{stderr}");
    assert!(stderr.contains(&format!("--> {file}:23:17")), "{stderr}");
    assert!(stderr.contains("first used here"), "{stderr}");
    assert!(stderr.trim_end().ends_with("invalid: 1 error"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn validate_json_for_machines() {
    let out = asyncapi_rs(&[
        "validate",
        "--format",
        "json",
        "examples/chat/asyncapi.yaml",
    ]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["asyncapi"], "3.0.0");
    assert_eq!(
        (
            json["channels"].as_u64(),
            json["inbound"].as_u64(),
            json["outbound"].as_u64()
        ),
        (Some(1), Some(3), Some(5))
    );

    let file = format!("{CORPUS}/parser-js/v1/test/wrong/inexisting-local-ref.yaml");
    let out = asyncapi_rs(&["validate", "--format", "json", &file]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], false);
    let first = &json["diagnostics"][0];
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(9), Some(15))
    );
    assert_eq!(first["severity"], "error");
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("points to nothing")
    );
}

#[test]
fn validate_ref_map_and_side() {
    let file = format!("{CORPUS}/generator/apps/generator/test/docs/apiwithref.json");
    let out = asyncapi_rs(&["validate", &file]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--ref-map https://schema.example.com/crm/=DIR"));
    let dir =
        format!("https://schema.example.com/crm/={CORPUS}/generator/apps/generator/test/docs");
    let out = asyncapi_rs(&["validate", &file, "--ref-map", &dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = asyncapi_rs(&[
        "validate",
        "examples/chat/asyncapi.yaml",
        "--side",
        "client",
    ]);
    assert!(
        text(&out.stdout).contains("5 inbound and 3 outbound"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn validate_a_missing_file() {
    let out = asyncapi_rs(&["validate", "no/such/file.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot read `no/such/file.yaml`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn generate_writes_a_module_tree_keeps_scaffolds_and_checks_drift() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-generate");
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.to_str().unwrap();
    let spec = "examples/chat/asyncapi.yaml";
    let first = asyncapi_rs(&["generate", spec, "-o", out]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let stdout = text(&first.stdout);
    assert!(
        stdout.contains(&format!("generated  created    {out}/mod.rs")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("scaffold   created    {out}/handlers.rs")),
        "{stdout}"
    );
    assert!(
        stdout
            .trim_end()
            .ends_with(&format!("wrote the Chat API (1 channel) to {out}")),
        "{stdout}"
    );

    // The scaffold is the user's now; a second run keeps it and leaves the rest unchanged.
    std::fs::write(dir.join("handlers.rs"), "// mine\n").unwrap();
    let second = asyncapi_rs(&["generate", spec, "-o", out]);
    let stdout = text(&second.stdout);
    assert!(
        stdout.contains("kept (yours; --force to overwrite)"),
        "{stdout}"
    );
    assert!(!stdout.contains("updated"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(dir.join("handlers.rs")).unwrap(),
        "// mine\n"
    );

    // --check: up to date, then drift after a hand edit of a generated file.
    assert!(
        asyncapi_rs(&["generate", spec, "-o", out, "--check"])
            .status
            .success()
    );
    std::fs::write(dir.join("types.rs"), "// edited\n").unwrap();
    let check = asyncapi_rs(&["generate", spec, "-o", out, "--check"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        text(&check.stderr).contains("out of date: ") && text(&check.stderr).contains("types.rs")
    );
    assert!(
        std::fs::read_to_string(dir.join("types.rs")).unwrap() == "// edited\n",
        "--check writes nothing"
    );

    // --force rewrites the scaffold too.
    let forced = asyncapi_rs(&["generate", spec, "-o", out, "--force"]);
    assert!(text(&forced.stdout).contains("updated"));
    assert!(
        std::fs::read_to_string(dir.join("handlers.rs"))
            .unwrap()
            .contains("is not implemented yet")
    );
}

#[test]
fn generate_refuses_an_invalid_document() {
    let file = format!("{CORPUS}/parser-js/v1/test/wrong/inexisting-local-ref.yaml");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-generate-invalid");
    let out = asyncapi_rs(&["generate", &file, "-o", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not generated: the document is invalid"));
    assert!(!dir.exists());
}

#[test]
fn help_shows_examples() {
    let out = asyncapi_rs(&["--help"]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout)
            .contains("Examples:\n  asyncapi-rs generate examples/chat/asyncapi.yaml -o src/api")
    );
    let out = asyncapi_rs(&["validate", "--help"]);
    assert!(text(&out.stdout).contains("--ref-map <PREFIX=DIR>"));
    assert!(text(&out.stdout).contains("Exit status: 0 when the document is valid"));
    let out = asyncapi_rs(&["validate", "x.yaml", "--ref-map", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("expected PREFIX=DIR"));
}
