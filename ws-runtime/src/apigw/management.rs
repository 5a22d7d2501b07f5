//! The HTTP management API: API Gateway's `@connections`, on the wire as API Gateway answers it,
//! so that the AWS SDKs' `ApiGatewayManagementApi` clients work with only their endpoint changed.
//!
//! | request | answer |
//! |---|---|
//! | `POST [/{stage}]/@connections/{id}`, the data as body (UTF-8: a text frame, else binary) | 200; 410 `GoneException`; 413 `PayloadTooLargeException`; 429 `LimitExceededException` (the client's outbound queue is full) |
//! | `GET [/{stage}]/@connections/{id}` | 200 `{"connectedAt", "identity": {"sourceIp", "userAgent"}, "lastActiveAt"}`, ISO 8601 timestamps; 410 |
//! | `DELETE [/{stage}]/@connections/{id}` | 204 (the connection closes with 1000); 410 |
//!
//! Errors carry API Gateway's `x-amzn-ErrorType` header and a `{"message": …}` body; every
//! answer has an `x-amzn-RequestId`. A stage prefix must name the router's stage (403
//! `ForbiddenException` otherwise). A request is let in by `Authorization: Bearer <token>` when
//! a token is set (401 otherwise), or by a SigV4 signature when keys are set (feature `sigv4`;
//! 403 with API Gateway's `MissingAuthenticationTokenException`, `UnrecognizedClientException`,
//! `InvalidSignatureException` otherwise). In a cluster every node answers for every
//! connection; 503 when the node that holds it cannot be reached.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde::Serialize;
use subtle::ConstantTimeEq as _;

use crate::dispatch::shared::Shared;
use crate::registry::connections::{ConnectionId, ConnectionInfo, SendError};
use crate::registry::ids;

/// Who may call the management API.
#[derive(Clone, Default)]
pub(crate) struct Access {
    /// `Authorization: Bearer <token>`.
    pub bearer: Option<String>,
    /// SigV4 signatures with these keys.
    #[cfg(feature = "sigv4")]
    pub sigv4: Option<crate::access::sigv4::SigV4>,
}

impl std::fmt::Debug for Access {
    /// The token is not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut access = f.debug_struct("Access");
        access.field("bearer", &self.bearer.as_ref().map(|_| "…"));
        #[cfg(feature = "sigv4")]
        access.field("sigv4", &self.sigv4);
        access.finish()
    }
}

impl Access {
    /// Some way in is configured.
    pub fn is_on(&self) -> bool {
        #[cfg(feature = "sigv4")]
        if self.sigv4.is_some() {
            return true;
        }
        self.bearer.is_some()
    }
}

pub(crate) fn routes(shared: Arc<Shared>, access: Access) -> axum::Router {
    let access = Arc::new(access);
    let handler = move |request: Request| handle(Arc::clone(&shared), Arc::clone(&access), request);
    axum::Router::new()
        .route("/@connections/{id}", any(handler.clone()))
        .route("/{stage}/@connections/{id}", any(handler))
}

/// An error as API Gateway sends it.
struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
        }
    }

    fn gone(id: &str) -> ApiError {
        ApiError::new(
            StatusCode::GONE,
            "GoneException",
            format!("connection `{id}` is not connected"),
        )
    }

    fn into_response(self, request_id: &str) -> Response {
        let mut response = (
            self.status,
            [
                (header::CONTENT_TYPE, "application/json"),
                (
                    header::HeaderName::from_static("x-amzn-errortype"),
                    self.kind,
                ),
            ],
            serde_json::json!({ "message": self.message }).to_string(),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        with_request_id(response, request_id)
    }
}

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

async fn handle(shared: Arc<Shared>, access: Arc<Access>, request: Request) -> Response {
    let request_id = ids::event();
    match answer(&shared, &access, request).await {
        Ok(response) => with_request_id(response, &request_id),
        Err(error) => error.into_response(&request_id),
    }
}

async fn answer(shared: &Shared, access: &Access, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    // One byte past the limit is enough to know the data is too large.
    let limit = shared.limits.max_message_size;
    let body = axum::body::to_bytes(body, limit + 1)
        .await
        .map_err(|_| too_large(limit))?;
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path(), |p| p.as_str());
    authorize(access, parts.method.as_str(), target, &parts.headers, &body)?;
    let (stage, id) = parse_path(parts.uri.path())
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "NotFoundException", "Not Found"))?;
    if stage.is_some_and(|stage| *stage != *shared.stage) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "ForbiddenException",
            "Forbidden",
        ));
    }
    let connection = ConnectionId::from(id.as_str());
    let refused = |error: SendError| match error {
        // Text needs no serializing: `NotJson` cannot happen here.
        SendError::Gone | SendError::NotJson(_) => ApiError::gone(&id),
        SendError::SlowReader => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "LimitExceededException",
            "the connection's outbound queue is full",
        ),
        SendError::Backend(why) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableException",
            why.to_string(),
        ),
    };
    match parts.method {
        Method::POST => {
            if body.len() > limit {
                return Err(too_large(limit));
            }
            // Text goes out as a text frame, anything else as a binary frame.
            let sent = match String::from_utf8(body.to_vec()) {
                Ok(text) => shared.connections.send(&connection, text).await,
                Err(_) => shared.connections.send_binary(&connection, body).await,
            };
            sent.map_err(refused)?;
            Ok(StatusCode::OK.into_response())
        }
        Method::GET => {
            let info = shared.connections.get(&connection).await.map_err(refused)?;
            Ok((
                [(header::CONTENT_TYPE, "application/json")],
                serde_json::to_string(&Connection::from(&info)).unwrap_or_default(),
            )
                .into_response())
        }
        Method::DELETE => {
            shared
                .connections
                .disconnect(&connection)
                .await
                .map_err(refused)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowedException",
            "POST, GET or DELETE",
        )),
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PayloadTooLargeException",
        format!("the data is larger than {limit} bytes"),
    )
}

/// `[/{stage}]/@connections/{id}` → the stage, if any, and the id, percent-decoded.
fn parse_path(path: &str) -> Option<(Option<String>, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    };
    let (before, id) = path.rsplit_once('/')?;
    let stage = match before.strip_suffix("/@connections")? {
        "" => None,
        prefix => Some(decode(prefix.strip_prefix('/')?)?),
    };
    let id = decode(id)?;
    (!id.is_empty()).then_some((stage, id))
}

/// A bearer token or a SigV4 signature, whichever the request carries and the server accepts.
fn authorize(
    access: &Access,
    method: &str,
    target: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), ApiError> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let (Some(token), Some(given)) = (&access.bearer, authorization.strip_prefix("Bearer ")) {
        return if bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
            Ok(())
        } else {
            Err(unauthorized())
        };
    }
    #[cfg(feature = "sigv4")]
    if let Some(sigv4) = &access.sigv4 {
        if authorization.is_empty() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ));
        }
        return sigv4
            .verify(method, target, headers, body, std::time::SystemTime::now())
            .map_err(|refusal| {
                ApiError::new(StatusCode::FORBIDDEN, refusal.kind, refusal.message)
            });
    }
    let _ = (method, target, body);
    Err(unauthorized())
}

fn unauthorized() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "UnauthorizedException",
        "a valid bearer token is required",
    )
}

/// `GetConnection`'s answer, as API Gateway writes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Connection<'a> {
    connected_at: String,
    identity: Identity<'a>,
    last_active_at: String,
    /// Not in API Gateway's answer (an authorizer's context is not shown there); the SDKs read
    /// the fields they know and ignore this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: Option<&'a crate::access::security::Principal>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    source_ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<&'a str>,
}

impl<'a> From<&'a ConnectionInfo> for Connection<'a> {
    fn from(info: &'a ConnectionInfo) -> Connection<'a> {
        Connection {
            connected_at: iso8601(info.connected_at),
            identity: Identity {
                source_ip: info.identity.source_ip.to_string(),
                user_agent: info.identity.user_agent.as_deref(),
            },
            last_active_at: iso8601(info.last_active_at),
            principal: info.principal.as_ref(),
        }
    }
}

/// Milliseconds since the Unix epoch as API Gateway writes a timestamp:
/// `2024-01-02T03:04:05.678Z`.
fn iso8601(ms: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(time).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_and_without_a_stage() {
        let parse = |p: &str| parse_path(p);
        assert_eq!(parse("/@connections/abc"), Some((None, "abc".into())));
        assert_eq!(
            parse("/prod/@connections/abc%3D"),
            Some((Some("prod".into()), "abc=".into()))
        );
        assert_eq!(parse("/prod/@connections/"), None);
        assert_eq!(
            parse("/a/b/@connections/x"),
            Some((Some("a/b".into()), "x".into()))
        );
        assert_eq!(parse("/@connectionsx/abc"), None);
    }

    #[test]
    fn timestamps_are_iso_8601_with_milliseconds() {
        assert_eq!(iso8601(1_704_164_645_678), "2024-01-02T03:04:05.678Z");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
    }
}
