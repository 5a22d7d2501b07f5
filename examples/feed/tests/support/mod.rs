//! What the feed's tests share: the secret their tokens are signed with, tokens, and what a
//! refusal or an error frame says.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::time::SystemTime;

use feed::api::feed::FeedClient;
use serde_json::json;
use ws_runtime::client::{ClientError, ErrorKind};

/// The HS256 secret the feed under test verifies tokens with.
pub const SECRET: &str = "a-secret-for-the-feed-tests";

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `claims` signed with HS256 and `secret`.
pub fn sign(claims: &serde_json::Value, secret: &[u8]) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret).unwrap();
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &key).unwrap()
}

/// A token for `trader` with `scope`, for ten minutes.
pub fn token(trader: &str, scope: &str) -> String {
    sign(
        &json!({"sub": trader, "scope": scope, "aud": "feed", "exp": now() + 600}),
        SECRET.as_bytes(),
    )
}

/// The HTTP status a refused handshake got.
#[allow(dead_code)] // each test binary compiles this module; the browser test connects no client
pub fn refused_with(result: Result<FeedClient, ClientError>) -> u16 {
    match result {
        Err(ClientError::Refused { status, .. }) => status,
        Err(other) => panic!("refused, not {other}"),
        Ok(_) => panic!("refused, not connected"),
    }
}

/// The kind of the error frame a request got.
#[allow(dead_code)] // each test binary compiles this module; the browser test connects no client
pub fn server_error(result: Result<impl std::fmt::Debug, ClientError>) -> ErrorKind {
    match result {
        Err(ClientError::Server(frame)) => frame.kind,
        other => panic!("an error frame, not {other:?}"),
    }
}
