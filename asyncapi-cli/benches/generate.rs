//! `asyncapi-rs generate` on the largest corpus document (the ZBOS MQTT API, ~670 KB), timed as
//! a user runs it (the whole process), and the build time of the crate it writes.
//!
//! `cargo bench -p asyncapi-cli --bench generate` prints the median and minimum of whole-process
//! generation over repeated runs, `asyncapi-rs validate` on the same document as the yardstick
//! (same process start-up and loading, no generation), then builds the generated crate
//! (`--crate`, against this checkout's ws-runtime) and reports its compile time with the
//! dependencies already built.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use support::measure;

const RUNS: usize = 15;

fn run(args: &[&str]) {
    let status = Command::new(env!("CARGO_BIN_EXE_asyncapi-rs"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "asyncapi-rs {args:?} failed");
}

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let spec = repo.join("tests/corpus/parser-js/v1/test/good/zbos_mqtt-all-asyncapi.json");
    assert!(spec.is_file(), "the corpus is missing: {}", spec.display());
    let spec = spec.to_str().unwrap().to_owned();
    let out: PathBuf = repo.join("target/bench-generated/zbos");
    let out_str = out.to_str().unwrap().to_owned();
    let runtime = repo.join("ws-runtime");

    println!("document: {spec}");
    let (v_med, v_min) = measure(RUNS, || run(&["validate", &spec]));
    println!(
        "{:<52} {:>8.1}ms median {:>8.1}ms min",
        "asyncapi-rs validate (yardstick)",
        ms(v_med),
        ms(v_min)
    );
    let (g_med, g_min) = measure(RUNS, || {
        run(&["generate", &spec, "-o", &out_str, "--force"])
    });
    println!(
        "{:<52} {:>8.1}ms median {:>8.1}ms min  ({:.1}× validate)",
        "asyncapi-rs generate (module tree)",
        ms(g_med),
        ms(g_min),
        g_med.as_secs_f64() / v_med.as_secs_f64()
    );

    // The generated crate's build time, its dependencies already built.
    let krate = repo.join("target/bench-generated/zbos-crate");
    let _ = std::fs::remove_dir_all(&krate);
    run(&[
        "generate",
        &spec,
        "-o",
        krate.to_str().unwrap(),
        "--crate",
        "zbos-api",
        "--runtime-path",
        runtime.to_str().unwrap(),
    ]);
    let target = repo.join("target/bench-generated/target");
    let cargo = |args: &[&str]| {
        let started = Instant::now();
        let status = Command::new(env!("CARGO"))
            .args(args)
            .current_dir(&krate)
            .env("CARGO_TARGET_DIR", &target)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "cargo {args:?} failed in {}",
            krate.display()
        );
        started.elapsed()
    };
    std::fs::write(
        krate.join("Cargo.toml"),
        std::fs::read_to_string(krate.join("Cargo.toml")).unwrap() + "\n[workspace]\n",
    )
    .unwrap();
    std::fs::copy(repo.join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    cargo(&["build", "--release"]);
    cargo(&["clean", "--release", "-p", "zbos-api"]);
    let release = cargo(&["build", "--release"]);
    cargo(&["build"]);
    cargo(&["clean", "-p", "zbos-api"]);
    let debug = cargo(&["build"]);
    let lines: usize = walk(&krate.join("src"))
        .iter()
        .map(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .count()
        })
        .sum();
    println!(
        "generated crate: {lines} lines of Rust; build of the crate alone: {:.1} s debug, {:.1} s release",
        debug.as_secs_f64(),
        release.as_secs_f64()
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
