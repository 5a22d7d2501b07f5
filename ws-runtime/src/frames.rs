//! The error frames API Gateway sends, byte for byte in shape.

use serde::Serialize;

use crate::message::ValidationErrors;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorFrame<'a> {
    message: &'a str,
    connection_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a ValidationErrors>,
}

fn render(frame: &ErrorFrame<'_>) -> String {
    serde_json::to_string(frame).unwrap_or_default()
}

/// `{"message": "Forbidden", "connectionId": …, "requestId": …}`: no route and no `$default`.
pub(crate) fn forbidden(connection_id: &str, request_id: &str) -> String {
    render(&ErrorFrame {
        message: "Forbidden",
        connection_id,
        request_id: Some(request_id),
        message_id: None,
        errors: None,
    })
}

/// `{"message": "Internal server error", …}`: the handler failed or panicked.
pub(crate) fn internal_error(connection_id: &str, request_id: &str) -> String {
    render(&ErrorFrame {
        message: "Internal server error",
        connection_id,
        request_id: Some(request_id),
        message_id: None,
        errors: None,
    })
}

/// `{"message": "Bad request body", "connectionId": …, "messageId": …}`, with the violations
/// when the server is configured to reveal them.
pub(crate) fn bad_request_body(
    connection_id: &str,
    message_id: &str,
    errors: Option<&ValidationErrors>,
) -> String {
    render(&ErrorFrame {
        message: "Bad request body",
        connection_id,
        request_id: None,
        message_id: Some(message_id),
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(
            forbidden("c1", "r1"),
            r#"{"message":"Forbidden","connectionId":"c1","requestId":"r1"}"#
        );
        assert_eq!(
            internal_error("c1", "r1"),
            r#"{"message":"Internal server error","connectionId":"c1","requestId":"r1"}"#
        );
        assert_eq!(
            bad_request_body("c1", "m1", None),
            r#"{"message":"Bad request body","connectionId":"c1","messageId":"m1"}"#
        );
    }
}
