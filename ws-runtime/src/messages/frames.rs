//! The error frames API Gateway sends, byte for byte in shape: rendered by the server, read by
//! the client.

use serde::Serialize;

use crate::messages::message::ValidationErrors;

/// Which error frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No route took the message and there is no `$default`.
    Forbidden,
    /// The message broke its route's schema.
    BadRequestBody,
    /// The handler failed or panicked.
    InternalServerError,
    /// The connection sent more than its message rate allows (`Limits::message_rate`).
    TooManyRequests,
}

impl ErrorKind {
    /// The frame's `message`, as API Gateway writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::BadRequestBody => "Bad request body",
            ErrorKind::InternalServerError => "Internal server error",
            ErrorKind::TooManyRequests => "Too Many Requests",
        }
    }

    /// Every error frame ws-runtime sends (the TypeScript client's `ERROR_MESSAGES` lists the
    /// same: a test holds them together).
    pub const ALL: [ErrorKind; 4] = [
        ErrorKind::Forbidden,
        ErrorKind::BadRequestBody,
        ErrorKind::InternalServerError,
        ErrorKind::TooManyRequests,
    ];

    fn from_message(message: &str) -> Option<ErrorKind> {
        ErrorKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == message)
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error frame as a client receives it:
/// `{"message": "Forbidden", "connectionId": …, "requestId": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorFrame {
    /// Which error (its `message`).
    pub kind: ErrorKind,
    /// The connection it was sent on.
    pub connection_id: String,
    /// `Forbidden` and `Internal server error` name the request.
    pub request_id: Option<String>,
    /// `Bad request body` names the message.
    pub message_id: Option<String>,
    /// The schema's violations, for `Bad request body` when the server reveals them.
    pub errors: Vec<crate::messages::message::ValidationError>,
}

impl ErrorFrame {
    /// The error frame `json` is, or `None` when it is not one (an object whose `message` is one
    /// of the three and that has a `connectionId`).
    pub fn from_json(json: &serde_json::Value) -> Option<ErrorFrame> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire {
            connection_id: String,
            request_id: Option<String>,
            message_id: Option<String>,
            #[serde(default)]
            errors: Vec<crate::messages::message::ValidationError>,
        }
        let object = json.as_object()?;
        let kind = ErrorKind::from_message(object.get("message")?.as_str()?)?;
        let wire = <Wire as serde::Deserialize>::deserialize(json).ok()?;
        Some(ErrorFrame {
            kind,
            connection_id: wire.connection_id,
            request_id: wire.request_id,
            message_id: wire.message_id,
            errors: wire.errors,
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rendered<'a> {
    message: &'a str,
    connection_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a ValidationErrors>,
}

fn render(frame: &Rendered<'_>) -> String {
    serde_json::to_string(frame).unwrap_or_default()
}

/// `{"message": "Forbidden", "connectionId": …, "requestId": …}`: no route and no `$default`.
pub(crate) fn forbidden(connection_id: &str, request_id: &str) -> String {
    render(&Rendered {
        message: ErrorKind::Forbidden.as_str(),
        connection_id,
        request_id: Some(request_id),
        message_id: None,
        errors: None,
    })
}

/// `{"message": "Too Many Requests", "connectionId": …, "requestId": …}`: over the
/// connection's message rate; the message was not handled.
pub(crate) fn too_many_requests(connection_id: &str, request_id: &str) -> String {
    render(&Rendered {
        message: ErrorKind::TooManyRequests.as_str(),
        connection_id,
        request_id: Some(request_id),
        message_id: None,
        errors: None,
    })
}

/// `{"message": "Internal server error", …}`: the handler failed or panicked.
pub(crate) fn internal_error(connection_id: &str, request_id: &str) -> String {
    render(&Rendered {
        message: ErrorKind::InternalServerError.as_str(),
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
    render(&Rendered {
        message: ErrorKind::BadRequestBody.as_str(),
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

    #[test]
    fn what_the_server_renders_the_client_reads() {
        let errors = ValidationErrors(vec![crate::messages::message::ValidationError {
            instance_path: "/text".into(),
            schema_path: "/properties/text/minLength".into(),
            message: "too short".into(),
        }]);
        let frame = bad_request_body("c1", "m1", Some(&errors));
        let read = ErrorFrame::from_json(&serde_json::from_str(&frame).unwrap_or_default());
        assert_eq!(
            read,
            Some(ErrorFrame {
                kind: ErrorKind::BadRequestBody,
                connection_id: "c1".into(),
                request_id: None,
                message_id: Some("m1".into()),
                errors: errors.0,
            })
        );
        let read = ErrorFrame::from_json(
            &serde_json::from_str(&forbidden("c1", "r1")).unwrap_or_default(),
        );
        assert_eq!(read.map(|f| f.kind), Some(ErrorKind::Forbidden));
        // A message of the API that says "Forbidden" is not an error frame.
        let json = serde_json::json!({"message": "Forbidden", "text": "hi"});
        assert_eq!(ErrorFrame::from_json(&json), None);
        let json = serde_json::json!({"type": "error", "message": "no such route"});
        assert_eq!(ErrorFrame::from_json(&json), None);
    }
}
