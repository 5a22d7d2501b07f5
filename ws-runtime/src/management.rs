//! The HTTP management API: API Gateway's `@connections`, off unless a bearer token is set.
//!
//! | request | answer |
//! |---|---|
//! | `POST /@connections/{id}` with the message as body | 200; 410 unknown id; 413 over the message limit; 400 not UTF-8 |
//! | `GET /@connections/{id}` | 200 `{connectedAt, lastActiveAt, identity: {sourceIp, userAgent}}`; 410 |
//! | `DELETE /@connections/{id}` | 204 (the connection closes with 1000); 410 |
//!
//! Every request needs `Authorization: Bearer <token>`; without it, 401. In a cluster every node
//! answers for every connection; 503 when the node that holds it cannot be reached.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::connections::{ConnectionId, SendError};
use crate::shared::Shared;

pub(crate) fn routes(shared: Arc<Shared>, token: String) -> axum::Router {
    let token: Arc<str> = token.into();
    let (s1, s2, s3) = (Arc::clone(&shared), Arc::clone(&shared), shared);
    let (t1, t2, t3) = (Arc::clone(&token), Arc::clone(&token), token);
    axum::Router::new().route(
        "/@connections/{id}",
        post(
            move |headers: HeaderMap, Path(id): Path<String>, body: Bytes| async move {
                authorized(&headers, &t1)?;
                if body.len() > s1.limits.max_message_size {
                    return Err(StatusCode::PAYLOAD_TOO_LARGE.into_response());
                }
                let text = String::from_utf8(body.to_vec()).map_err(|_| {
                    (StatusCode::BAD_REQUEST, "the message must be UTF-8 text").into_response()
                })?;
                match s1
                    .connections
                    .send(&ConnectionId::from(id.as_str()), text)
                    .await
                {
                    Ok(()) => Ok(StatusCode::OK.into_response()),
                    Err(error) => Err(refused(&error)),
                }
            },
        )
        .get(
            move |headers: HeaderMap, Path(id): Path<String>| async move {
                authorized(&headers, &t2)?;
                match s2.connections.get(&ConnectionId::from(id.as_str())).await {
                    Ok(info) => Ok((
                        [(header::CONTENT_TYPE, "application/json")],
                        serde_json::to_string(&info).unwrap_or_default(),
                    )
                        .into_response()),
                    Err(error) => Err(refused(&error)),
                }
            },
        )
        .delete(
            move |headers: HeaderMap, Path(id): Path<String>| async move {
                authorized(&headers, &t3)?;
                match s3
                    .connections
                    .disconnect(&ConnectionId::from(id.as_str()))
                    .await
                {
                    Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
                    Err(error) => Err(refused(&error)),
                }
            },
        ),
    )
}

/// The answer to a request the registry refused: 410 for a connection that is not there (or is
/// being closed as a slow reader), 503 when the cluster could not carry it.
fn refused(error: &SendError) -> Response {
    match error {
        // Text needs no serializing: `NotJson` cannot happen here.
        SendError::Gone | SendError::SlowReader | SendError::NotJson(_) => {
            StatusCode::GONE.into_response()
        }
        SendError::Backend(why) => (StatusCode::SERVICE_UNAVAILABLE, why.clone()).into_response(),
    }
}

/// Checks `Authorization: Bearer <token>` in constant time.
#[allow(clippy::result_large_err)]
fn authorized(headers: &HeaderMap, token: &str) -> Result<(), Response> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let same = given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err((
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a valid bearer token is required",
        )
            .into_response())
    }
}
