//! A new user's first command, `asyncapi-rs generate spec.yaml` with no flags, in a folder outside
//! this repository: inside a Cargo package it writes `src/api/` and prints the lines that use
//! it; anywhere else it writes a crate named after the document's title. Either result builds
//! with a plain `cargo build` (offline, against this checkout's runtime, found without
//! `--runtime-path`).

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// A fresh folder outside the repository (a crate inside it would join its workspace).
fn outside(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("asyncapi-rs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `asyncapi-rs generate <the chat document> [extra…]`, run in `dir`.
fn run_generate(dir: &Path, extra: &[&str]) -> Output {
    let spec = repo().join("examples/chat/asyncapi.yaml");
    Command::new(env!("CARGO_BIN_EXE_asyncapi-rs"))
        .arg("generate")
        .arg(spec)
        .args(extra)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// [`run_generate`] with no flags, which must succeed.
fn generate(dir: &Path) -> Output {
    let output = run_generate(dir, &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `cargo build` in `dir`, offline, with the workspace's lock (the same versions, all cached) and
/// a target directory other tests have warmed.
fn cargo_build(dir: &Path) {
    std::fs::copy(repo().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let output = Command::new(env!("CARGO"))
        .args(["build", "--offline", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", repo().join("target/corpus-crate"))
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo build in {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn generate_in_a_cargo_package_writes_src_api_and_says_how_to_use_it() {
    let dir = outside("package");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"my-chat\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();

    let output = generate(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(dir.join("src/api/mod.rs").is_file(), "{stdout}");
    assert!(dir.join("src/api/handlers.rs").is_file(), "{stdout}");
    assert!(stdout.contains("add `mod api;` to src/main.rs"), "{stdout}");
    // The user does what it says: the dependency line as printed, and `mod api;`.
    let dependency = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("ws-runtime = "))
        .unwrap_or_else(|| panic!("no dependency line in:\n{stdout}"));
    assert!(dependency.contains(&repo().join("ws-runtime").display().to_string()));
    let mut manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    manifest.push_str(dependency);
    manifest.push('\n');
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        "mod api;\n\nfn main() {\n    let _router = api::chat::mount(ws_runtime::Router::new(), api::handlers::Chat);\n}\n",
    )
    .unwrap();
    cargo_build(&dir);
    // Run again: the user's files stay theirs, and nothing says to add the dependency twice.
    std::fs::write(dir.join("src/api/handlers.rs"), "// mine\n").unwrap();
    let again = String::from_utf8_lossy(&generate(&dir).stdout).into_owned();
    assert!(
        again.contains("kept (yours; --force to overwrite)"),
        "{again}"
    );
    assert!(!again.contains("add to [dependencies]"), "{again}");
    assert_eq!(
        std::fs::read_to_string(dir.join("src/api/handlers.rs")).unwrap(),
        "// mine\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn generate_elsewhere_writes_a_crate_named_after_the_title() {
    let dir = outside("elsewhere");
    let output = generate(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let krate = dir.join("chat");
    assert!(krate.join("Cargo.toml").is_file(), "{stdout}");
    assert!(krate.join("src/main.rs").is_file(), "{stdout}");
    assert!(stdout.contains("next: cd chat && cargo run"), "{stdout}");
    cargo_build(&krate);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn generate_never_replaces_a_file_it_did_not_write() {
    let dir = outside("theirs");
    std::fs::create_dir_all(dir.join("src/api")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"theirs\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/api/mod.rs"), "// the user's own module\n").unwrap();
    let refused = run_generate(&dir, &[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("src/api/mod.rs") && stderr.contains("asyncapi-rs did not write it"),
        "{stderr}"
    );
    // Nothing was written, the user's file least of all.
    assert!(!dir.join("src/api/types.rs").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("src/api/mod.rs")).unwrap(),
        "// the user's own module\n"
    );
    assert!(run_generate(&dir, &["--force"]).status.success());
    assert!(
        std::fs::read_to_string(dir.join("src/api/mod.rs"))
            .unwrap()
            .starts_with("// @generated by asyncapi-rs")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
