//! The chat of the Amazon API Gateway WebSocket tutorials, built with asyncapi-rs.
//!
//! - `asyncapi.yaml` is the contract: routes `sendMessage`, `echo` (two-way: `echoReply`),
//!   `setName` and `$default` (answers `error`); the server sends `message`, `joined`, `left`.
//! - `src/api/` is generated from it by `asyncapi-rs generate asyncapi.yaml -o src/api --client`
//!   (checked in; `tests/drift.rs` fails when it no longer matches the document), except
//!   `src/api/handlers.rs`, which is ours.
//! - [`app`] serves the WebSocket and the web page (`static/index.html`) on `/`.

#![deny(warnings)]

// Generated code is printed by the generator (prettyplease), not by rustfmt: `cargo fmt` leaves
// it as written, so `tests/drift.rs` compares it byte for byte.
#[rustfmt::skip]
pub mod api;

use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

/// The page at `/`: HTML and vanilla JavaScript, no build step.
pub const PAGE: &str = include_str!("../static/index.html");

/// The generated router with our handlers, to build as it is or with a cluster and the
/// management API (what `main` does).
pub fn router() -> ws_runtime::Router {
    api::router(api::handlers::Chat)
}

/// The chat server on one node.
///
/// # Errors
/// The router's start-up checks (they pass for the generated routes).
pub fn server() -> Result<ws_runtime::App, ws_runtime::RouterError> {
    router().build()
}

/// The server with its page, on one node: the WebSocket on `/`, and the page on `/` for plain
/// GETs.
///
/// # Errors
/// As [`server`].
pub fn app() -> Result<ws_runtime::App, ws_runtime::RouterError> {
    Ok(with_page(server()?))
}

/// Adds the page to a built app.
pub fn with_page(app: ws_runtime::App) -> ws_runtime::App {
    app.map_router(|router| router.layer(axum::middleware::from_fn(page_or_websocket)))
}

/// A GET on `/` that is not a WebSocket handshake gets the page; everything else goes on.
async fn page_or_websocket(request: Request, next: Next) -> Response {
    let is_handshake = request.headers().contains_key(header::UPGRADE);
    if request.method() == Method::GET && request.uri().path() == "/" && !is_handshake {
        return Html(PAGE).into_response();
    }
    next.run(request).await
}
