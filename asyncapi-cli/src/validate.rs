//! `asyncapi-rs validate`: load a document and say whether it is sound.

use std::io::Write;
use std::process::ExitCode;

use asyncapi_codegen::diagnostic;

use super::{DocumentArgs, Format, color};

pub(crate) const EXAMPLES: &str = "\
Examples:
  asyncapi-rs validate examples/chat/asyncapi.yaml
      examples/chat/asyncapi.yaml: valid AsyncAPI 3.0.0 document, 1 channel, 4 inbound and 5 outbound messages
  asyncapi-rs validate spec.yaml --format json
  asyncapi-rs validate spec.yaml --side client
  asyncapi-rs validate spec.yaml --ref-map https://schemas.example.com/=vendor/schemas

Exit status: 0 when the document is valid (warnings allowed), 1 when it is not.";

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    document: DocumentArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let path = &args.document.spec;
    // Examples that break their own schema are warnings: the document's problem, not fatal.
    let result = asyncapi_codegen::load(path, &args.document.load_options()).map(|mut loaded| {
        let examples = asyncapi_codegen::contract::example_warnings(&loaded.api);
        loaded.warnings.extend(examples);
        loaded
    });
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    // Writes to a closed pipe are not worth a panic; the exit status still says what happened.
    match (result, args.format) {
        (Ok(loaded), Format::Human) => {
            let text = diagnostic::render(loaded.documents.sources(), &loaded.warnings, color());
            let _ = write!(stderr, "{text}");
            let _ = writeln!(stdout, "{}: {}", path.display(), summary(&loaded.api));
            ExitCode::SUCCESS
        }
        (Ok(loaded), Format::Json) => {
            let api = &loaded.api;
            let (inbound, outbound) = counts(api);
            let json = serde_json::json!({
                "valid": true,
                "asyncapi": api.asyncapi,
                "channels": api.channels.len(),
                "inbound": inbound,
                "outbound": outbound,
                "diagnostics": diagnostic::to_json(loaded.documents.sources(), &loaded.warnings),
            });
            let _ = writeln!(stdout, "{json}");
            ExitCode::SUCCESS
        }
        (Err(report), Format::Human) => {
            let _ = write!(stderr, "{}", report.render(color()));
            let errors = report.errors().count();
            let _ = writeln!(
                stderr,
                "{}: invalid: {}",
                path.display(),
                super::count(errors, "error")
            );
            ExitCode::FAILURE
        }
        (Err(report), Format::Json) => {
            let json = serde_json::json!({
                "valid": false,
                "diagnostics": report.to_json(),
            });
            let _ = writeln!(stdout, "{json}");
            ExitCode::FAILURE
        }
    }
}

fn counts(api: &asyncapi_codegen::Api) -> (usize, usize) {
    api.channels.iter().fold((0, 0), |(i, o), c| {
        (i + c.inbound().count(), o + c.outbound().count())
    })
}

fn summary(api: &asyncapi_codegen::Api) -> String {
    let (inbound, outbound) = counts(api);
    format!(
        "valid AsyncAPI {} document, {}, {} inbound and {} outbound {}",
        api.asyncapi,
        super::count(api.channels.len(), "channel"),
        inbound,
        outbound,
        if outbound == 1 { "message" } else { "messages" }
    )
}
