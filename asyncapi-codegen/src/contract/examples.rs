//! Examples that break their own message's schemas: warnings for `validate` and `generate`.

use super::violations;
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::model::{Api, Payload};

/// Warnings for examples that break their message's payload or headers schema: a problem of the
/// document (its examples disagree with its schemas), reported where the example is written.
pub fn example_warnings(api: &Api) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for message in api.channels.iter().flat_map(|c| &c.messages) {
        if seen.contains(&message.span) {
            continue;
        }
        seen.push(message.span);
        for (part, schema) in [("payload", &message.payload), ("headers", &message.headers)] {
            let Some(Payload::Schema(schema)) = schema else {
                continue;
            };
            let validator = schema.validator();
            for (i, example) in message.examples.iter().enumerate() {
                let instance = if part == "payload" {
                    &example.payload
                } else {
                    &example.headers
                };
                let Some(instance) = instance else { continue };
                if let Some(errors) = violations(validator, instance) {
                    out.push(Diagnostic::warning(
                        ErrorKind::InvalidExample {
                            message: message.key.clone(),
                            example: example.label(i),
                            part,
                            errors,
                        },
                        example.span,
                    ));
                }
            }
        }
    }
    out
}
