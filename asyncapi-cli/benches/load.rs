//! Load-and-model time for the largest corpus document (the ZBOS MQTT API, ~670 KB of JSON).
//!
//! `cargo bench -p asyncapi-cli --bench load` prints the median and minimum of each stage
//! over repeated runs, next to `serde_json::from_str` on the same bytes as a yardstick measured
//! in the same run (the machine is shared, so the ratio is what to compare across runs).

#![allow(clippy::unwrap_used)] // a test that cannot read its fixtures should stop right there

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use asyncapi_codegen::{Documents, LoadOptions, ResolveOptions, load};

mod support;

use support::measure;

const RUNS: usize = 30;

/// A named piece of work to time.
type Stage<'a> = (&'static str, Box<dyn FnMut() + 'a>);

fn main() {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/corpus/parser-js/v1/test/good/zbos_mqtt-all-asyncapi.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the corpus is missing ({}): {e}", path.display()));
    let stages: Vec<Stage> = vec![
        (
            "serde_json::from_str (yardstick, no positions)",
            Box::new(|| {
                let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                black_box(value);
            }),
        ),
        (
            "parse with positions (load)",
            Box::new(|| {
                black_box(
                    Documents::from_text(&path, text.clone(), ResolveOptions::default()).unwrap(),
                );
            }),
        ),
        (
            "load + resolve + model (asyncapi_codegen::load)",
            Box::new(|| {
                black_box(load(&path, &LoadOptions::default()).unwrap());
            }),
        ),
    ];
    println!(
        "document: {} ({} bytes), {RUNS} runs each",
        path.display(),
        text.len()
    );
    println!("{:<50} {:>10} {:>10}", "stage", "median", "min");
    let mut yardstick = None;
    for (name, mut f) in stages {
        let (median, min) = measure(RUNS, &mut f);
        let ratio = yardstick.map_or(String::new(), |y: Duration| {
            format!(
                "  ({:.1}× the yardstick)",
                median.as_secs_f64() / y.as_secs_f64()
            )
        });
        yardstick.get_or_insert(median);
        println!("{name:<50} {:>8.2}ms {:>8.2}ms{ratio}", ms(median), ms(min));
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
