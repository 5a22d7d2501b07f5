//! `asyncapi-rs validate-message`: check JSON messages against a document.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use asyncapi_codegen::contract::{Contract, Rejection, Verdict};
use asyncapi_codegen::diagnostic::{self, Diagnostic, ErrorKind};
use asyncapi_codegen::model::Direction;

use super::{DocumentArgs, Format, color};

pub(crate) const EXAMPLES: &str = "\
Examples:
  echo '{\"action\":\"sendMessage\",\"text\":\"hi\"}' | asyncapi-rs validate-message examples/chat/asyncapi.yaml --channel chat -
      #1 (line 1): valid `sendMessage` (route `sendMessage`)
  asyncapi-rs validate-message spec.yaml --channel chat --direction outbound frames.ndjson
  asyncapi-rs validate-message spec.yaml --message echoReply reply.json --format json

The input is one JSON value (over any number of lines) or newline-delimited JSON: then each
line is one message, judged on its own (a line that is not JSON or not UTF-8 is reported at its
line and column, and the next lines are still checked). Inbound messages of a
channel that routes are routed first, as the server routes them, and checked against the routed
message only. Exit status: 0 when every message is valid, 1 otherwise.";

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    document: DocumentArgs,
    /// The channel (its key in the document). May be left out when the document has one channel
    /// or when --message names the message.
    #[arg(long)]
    channel: Option<String>,
    /// Check as this message (its key, `name` or `messageId`), not as any of the channel's.
    #[arg(long)]
    message: Option<String>,
    /// Which of the channel's messages: `inbound` (what clients send) or `outbound`.
    #[arg(long, value_enum, default_value_t = DirectionArg::Inbound)]
    direction: DirectionArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// The file of JSON messages, or `-` for standard input.
    input: PathBuf,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum DirectionArg {
    Inbound,
    Outbound,
}

/// One input message: its number, the line it starts on, and what the check found.
struct Checked {
    line: usize,
    result: Result<Verdict, String>,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    let Some(loaded) = args.document.load_or_report("the document is invalid") else {
        return ExitCode::FAILURE;
    };
    let contract = Contract::new(&loaded);
    let input = match read_input(&args.input) {
        Ok(text) => text,
        Err(e) => {
            let _ = writeln!(stderr, "error: cannot read `{}`: {e}", args.input.display());
            return ExitCode::FAILURE;
        }
    };
    let channel = match (&args.channel, &args.message) {
        (Some(channel), _) => Some(channel.clone()),
        (None, Some(_)) => None,
        (None, None) => {
            let channels: Vec<&str> = contract.channels().iter().map(|c| c.id.as_str()).collect();
            match channels.as_slice() {
                [one] => Some((*one).to_owned()),
                _ => {
                    let _ = writeln!(
                        stderr,
                        "error: the document has {} channels; say which with --channel ({})",
                        channels.len(),
                        channels.join(", ")
                    );
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    let direction = match args.direction {
        DirectionArg::Inbound => Direction::Inbound,
        DirectionArg::Outbound => Direction::Outbound,
    };
    let mut results = Vec::new();
    for (line, parsed) in messages(&input) {
        let json = match parsed {
            Ok(json) => json,
            Err(unreadable) => {
                results.push(Checked {
                    line,
                    result: Err(unreadable),
                });
                continue;
            }
        };
        let verdict = match &args.message {
            Some(message) => contract.check_message(channel.as_deref(), message, &json),
            None => {
                contract.check_channel(channel.as_deref().unwrap_or_default(), direction, &json)
            }
        };
        match verdict {
            Ok(verdict) => results.push(Checked {
                line,
                result: Ok(verdict),
            }),
            Err(lookup) => {
                // A wrong channel or message name: every message would say the same.
                let _ = writeln!(stderr, "error: {lookup}");
                return ExitCode::FAILURE;
            }
        }
    }
    let valid = results
        .iter()
        .filter(|c| c.result.as_ref().is_ok_and(Verdict::is_valid))
        .count();
    match args.format {
        Format::Json => {
            let messages: Vec<serde_json::Value> = results
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let mut json = match &c.result {
                        Ok(verdict) => serde_json::to_value(verdict).unwrap_or_default(),
                        Err(error) => serde_json::json!({"verdict": "unreadable", "error": error}),
                    };
                    if let Some(map) = json.as_object_mut() {
                        map.insert("index".into(), (i + 1).into());
                        map.insert("line".into(), c.line.into());
                    }
                    json
                })
                .collect();
            let json = serde_json::json!({
                "valid": valid == results.len(),
                "total": results.len(),
                "invalid": results.len() - valid,
                "messages": messages,
            });
            let _ = writeln!(stdout, "{json}");
        }
        Format::Human => {
            let mut diagnostics = Vec::new();
            for (i, checked) in results.iter().enumerate() {
                let head = format!("#{} (line {})", i + 1, checked.line);
                let _ = match &checked.result {
                    Ok(Verdict::Valid { message, route }) => writeln!(
                        stdout,
                        "{head}: valid `{message}`{}",
                        route
                            .as_ref()
                            .map(|r| format!(" (route `{r}`)"))
                            .unwrap_or_default()
                    ),
                    Ok(Verdict::Rejected(rejection)) => {
                        diagnostics.extend(located(&head, rejection));
                        writeln!(stdout, "{head}: invalid: {rejection}")
                    }
                    Err(error) => writeln!(stdout, "{head}: {error}"),
                };
            }
            let text = diagnostic::render(contract.sources(), &diagnostics, color());
            let _ = write!(stderr, "{text}");
            let _ = writeln!(
                stdout,
                "{}: {valid} valid, {} invalid",
                super::count(results.len(), "message"),
                results.len() - valid
            );
        }
    }
    if valid == results.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Each violation that has a place in the document, as an error shown at that place.
fn located<'a>(head: &'a str, rejection: &'a Rejection) -> impl Iterator<Item = Diagnostic> + 'a {
    rejection.candidates.iter().flat_map(move |candidate| {
        candidate.violations.iter().filter_map(move |violation| {
            let what = format!(
                "message {head} is not a valid `{}`: {}: {} (keyword `{}`)",
                candidate.message,
                violation.pointer(),
                violation.error,
                violation.keyword
            );
            Some(Diagnostic::error(
                ErrorKind::Semantic { what },
                violation.span?,
            ))
        })
    })
}

fn read_input(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(path)
    }
}

/// The JSON values of the input, each with the line it starts on: the whole input when it is
/// one JSON value (over any number of lines), otherwise one value per line (newline-delimited
/// JSON), each line judged on its own: a line that is not UTF-8 or not one JSON value is
/// reported at its line and column, and the other lines are still read.
fn messages(bytes: &[u8]) -> Vec<(usize, Result<serde_json::Value, String>)> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(text)
    {
        let start = text.len() - text.trim_start().len();
        let line = 1 + text[..start].matches('\n').count();
        return vec![(line, Ok(value))];
    }
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, raw)| !raw.iter().all(u8::is_ascii_whitespace))
        .map(|(index, raw)| (index + 1, line_value(index + 1, raw)))
        .collect()
}

/// One line of newline-delimited JSON: exactly one value.
fn line_value(line: usize, raw: &[u8]) -> Result<serde_json::Value, String> {
    let text = std::str::from_utf8(raw).map_err(|e| {
        let at = e.valid_up_to();
        let valid = std::str::from_utf8(&raw[..at]).unwrap_or_default();
        format!(
            "not UTF-8: byte 0x{:02X} at line {line}, column {}",
            raw[at],
            column(valid, at)
        )
    })?;
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
    match stream.next() {
        Some(Ok(value)) => {
            let end = stream.byte_offset();
            let rest = &text[end..];
            let garbage = end + (rest.len() - rest.trim_start().len());
            if garbage < text.len() {
                Err(format!(
                    "not JSON: trailing characters after the value at line {line}, column {}",
                    column(text, garbage)
                ))
            } else {
                Ok(value)
            }
        }
        Some(Err(e)) => Err(format!(
            "not JSON: {} at line {line}, column {}",
            strip_position(&e.to_string()),
            e.column()
        )),
        None => Err(format!("not JSON: nothing at line {line}")),
    }
}

/// serde_json's message without its own " at line L column C" (we give the input's).
fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

/// The 1-based column (in characters) of byte `at` of `text`.
fn column(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].chars().count() + 1
}

#[cfg(test)]
mod tests {
    use super::messages;

    #[test]
    fn one_value_or_a_stream() {
        let one = messages(b"\n{\n  \"a\": 1\n}\n");
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].0, 2);
        let stream = messages(b"{\"a\":1}\n\n{\"b\":2}\nnot json\n{\"c\":3}\n");
        let lines: Vec<usize> = stream.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [1, 3, 4, 5]);
        assert!(stream[2].1.as_ref().unwrap_err().contains("line 4"));
        assert_eq!(stream[3].1.as_ref().unwrap()["c"], 3);
    }

    /// One verdict per line: an unterminated line does not swallow the next, trailing text is
    /// shown where it starts, and a byte that is not UTF-8 spoils only its own line.
    #[test]
    fn each_line_is_judged_alone() {
        let stream = messages(b"{\"a\": 1\n{\"b\":2}\n");
        assert_eq!(stream.len(), 2);
        assert!(stream[0].1.as_ref().unwrap_err().contains("line 1"));
        assert_eq!(stream[1].1.as_ref().unwrap()["b"], 2);

        let garbage = messages("{\"a\":1}garbage\n{\"é\":1} x\n".as_bytes());
        assert_eq!(garbage.len(), 2);
        let first = garbage[0].1.as_ref().unwrap_err();
        assert!(
            first.contains("trailing") && first.ends_with("line 1, column 8"),
            "{first}"
        );
        let second = garbage[1].1.as_ref().unwrap_err();
        assert!(second.ends_with("line 2, column 9"), "{second}");

        let bytes = messages(b"{\"a\":1}\n{\"b\":\"\xFF\"}\n{\"c\":3}\n");
        assert_eq!(bytes.len(), 3);
        assert!(bytes[0].1.is_ok() && bytes[2].1.is_ok());
        let bad = bytes[1].1.as_ref().unwrap_err();
        assert!(
            bad.contains("not UTF-8: byte 0xFF at line 2, column 7"),
            "{bad}"
        );
    }
}
