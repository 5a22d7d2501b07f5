//! `asyncapi-rs diff`: two documents compared as APIs, each change classified by whom it breaks.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use asyncapi_codegen::diff::{Change, diff};
use clap::ValueEnum;

use super::DocumentArgs;

pub(crate) const EXAMPLES: &str = "\
Examples:
  asyncapi-rs diff v1/asyncapi.yaml v2/asyncapi.yaml
      BREAKS CLIENTS  channel chat / route sendMessage / payload /text
                      `text` is required
                      clients send messages the new server refuses
                      old v1/asyncapi.yaml:118:13  new v2/asyncapi.yaml:120:13
      1 change: 1 breaks clients, 0 break servers, 0 compatible
  asyncapi-rs diff old.yaml new.yaml --format markdown > comment.md
  asyncapi-rs diff old.yaml new.yaml --format json --fail-on clients

A change breaks clients when a client of the old document can fail with a server of the new
one, and breaks servers when a server of the old document can fail with new clients. Exit
status: 1 when a change breaks what --fail-on names (default: either), else 0; 2 on bad
arguments or a document that does not load.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DiffFormat {
    /// One block per change, for people.
    Human,
    /// One JSON object, for machines.
    Json,
    /// A Markdown table, for a pull request's comment.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    /// A change that breaks clients or servers.
    Any,
    /// A change that breaks clients.
    Clients,
    /// A change that breaks servers.
    Servers,
    /// Never: report only.
    None,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The old document, then (NEW) the new one; options apply to both.
    #[command(flatten)]
    old: DocumentArgs,
    /// The new document.
    new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    format: DiffFormat,
    /// Which breaking changes make the exit status 1.
    #[arg(long = "fail-on", value_enum, default_value_t = FailOn::Any)]
    fail_on: FailOn,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let Some(old) = args.old.load_or_report("cannot be compared") else {
        return ExitCode::from(2);
    };
    let new_args = DocumentArgs {
        spec: args.new.clone(),
        ..args.old.clone()
    };
    let Some(new) = new_args.load_or_report("cannot be compared") else {
        return ExitCode::from(2);
    };
    let changes = diff(&old, &new);
    let text = match args.format {
        DiffFormat::Human => human(&changes),
        DiffFormat::Json => json(&changes),
        DiffFormat::Markdown => markdown(&changes),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    let fails = changes.iter().any(|c| match args.fail_on {
        FailOn::Any => c.breaks_clients || c.breaks_servers,
        FailOn::Clients => c.breaks_clients,
        FailOn::Servers => c.breaks_servers,
        FailOn::None => false,
    });
    if fails {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn verdict(change: &Change) -> &'static str {
    match (change.breaks_clients, change.breaks_servers) {
        (true, true) => "BREAKS BOTH",
        (true, false) => "BREAKS CLIENTS",
        (false, true) => "BREAKS SERVERS",
        (false, false) => "compatible",
    }
}

fn summary(changes: &[Change]) -> String {
    let clients = changes.iter().filter(|c| c.breaks_clients).count();
    let servers = changes.iter().filter(|c| c.breaks_servers).count();
    let compatible = changes.iter().filter(|c| c.is_compatible()).count();
    format!(
        "{}: {clients} {} clients, {servers} {} servers, {compatible} compatible",
        super::count(changes.len(), "change"),
        if clients == 1 { "breaks" } else { "break" },
        if servers == 1 { "breaks" } else { "break" },
    )
}

fn place(location: Option<&asyncapi_codegen::source::Location>) -> String {
    location.map_or_else(|| "-".to_owned(), ToString::to_string)
}

fn human(changes: &[Change]) -> String {
    let mut out = String::new();
    for change in changes {
        let pad = " ".repeat(16);
        out.push_str(&format!("{:<16}{}\n", verdict(change), change.at));
        out.push_str(&format!("{pad}{}\n", change.what));
        out.push_str(&format!("{pad}{}\n", change.why));
        out.push_str(&format!(
            "{pad}old {}  new {}\n",
            place(change.old.as_ref()),
            place(change.new.as_ref())
        ));
    }
    out.push_str(&summary(changes));
    out.push('\n');
    out
}

fn json(changes: &[Change]) -> String {
    let value = serde_json::json!({
        "changes": changes,
        "breaks_clients": changes.iter().filter(|c| c.breaks_clients).count(),
        "breaks_servers": changes.iter().filter(|c| c.breaks_servers).count(),
        "compatible": changes.iter().filter(|c| c.is_compatible()).count(),
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

fn markdown(changes: &[Change]) -> String {
    let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
    let mut out =
        String::from("| | where | change | why | old | new |\n|---|---|---|---|---|---|\n");
    for change in changes {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            verdict(change),
            cell(&change.at),
            cell(&change.what),
            cell(&change.why),
            cell(&place(change.old.as_ref())),
            cell(&place(change.new.as_ref()))
        ));
    }
    out.push_str(&format!("\n{}\n", summary(changes)));
    out
}
