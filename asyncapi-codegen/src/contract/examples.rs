//! Examples that break their own message's schemas: warnings for `validate` and `generate`.

use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::model::Api;

/// Warnings for examples that break their message's payload or headers schema: a problem of the
/// document (its examples disagree with its schemas), reported where the example is written.
pub fn example_warnings(api: &Api) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    let messages = api
        .channels
        .iter()
        .flat_map(|c| &c.messages)
        .chain(&api.messages);
    for message in messages {
        if seen.contains(&message.span) {
            continue;
        }
        seen.push(message.span);
        for part in ["payload", "headers"] {
            for (i, example) in message.examples.iter().enumerate() {
                let errors = match part {
                    "payload" => &example.payload_violations,
                    _ => &example.headers_violations,
                };
                if let Some(errors) = errors {
                    out.push(Diagnostic::warning(
                        ErrorKind::InvalidExample {
                            message: message.key.clone(),
                            example: example.label(i),
                            part,
                            errors: errors.clone(),
                        },
                        example.span,
                    ));
                }
            }
        }
    }
    out
}
