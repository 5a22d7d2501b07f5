//! `asyncapi-rs bundle`: the document as one file, every other file it references inlined.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;

use super::DocumentArgs;

pub(crate) const EXAMPLES: &str = "\
Examples:
  asyncapi-rs bundle spec.yaml -o bundled.yaml
  asyncapi-rs bundle spec.yaml --format json > bundled.json

References into other files are inlined; references inside the document stay references
(a schema that refers to itself keeps referring, under `components.schemas`). The bundle is
checked by loading it again before it is written.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BundleFormat {
    Yaml,
    Json,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    document: DocumentArgs,
    /// Where to write (default: standard output).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    out: Option<PathBuf>,
    /// YAML or JSON (default: JSON for an output file ending in `.json`, else YAML).
    #[arg(long, value_enum)]
    format: Option<BundleFormat>,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let Some(loaded) = args.document.load_or_report("not bundled") else {
        return ExitCode::FAILURE;
    };
    let Some(json) = super::bundle_or_report(&loaded) else {
        return ExitCode::FAILURE;
    };
    let json_out = args
        .out
        .as_ref()
        .is_some_and(|o| o.extension().is_some_and(|e| e == "json"));
    let text = match args.format {
        Some(BundleFormat::Json) => pretty(&json),
        Some(BundleFormat::Yaml) => ws_runtime::to_yaml(&json),
        None if json_out => pretty(&json),
        None => ws_runtime::to_yaml(&json),
    };
    // The bundle must read back as the same API: load it from where it will be written.
    let at = args
        .out
        .clone()
        .unwrap_or_else(|| args.document.spec.clone());
    if let Err(report) = asyncapi_codegen::load_text(&at, &text, &args.document.load_options()) {
        eprint!("{}", report.render(super::color()));
        eprintln!(
            "error: the bundle of {} does not load; not written",
            args.document.spec.display()
        );
        return ExitCode::FAILURE;
    }
    match &args.out {
        Some(out) => match std::fs::write(out, &text) {
            Ok(()) => {
                eprintln!(
                    "bundled {} into {}",
                    args.document.spec.display(),
                    out.display()
                );
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: cannot write {}: {error}", out.display());
                ExitCode::FAILURE
            }
        },
        None => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
    }
}

fn pretty(json: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(json).unwrap_or_default();
    text.push('\n');
    text
}
