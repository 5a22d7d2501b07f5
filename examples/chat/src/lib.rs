//! The chat of the Amazon API Gateway WebSocket tutorials, built with asyncapi-rs.
//!
//! - `asyncapi.yaml` is the contract: routes `sendMessage`, `echo` (two-way: `echoReply`),
//!   `setName` and `$default` (answers `error`); the server sends `message`, `joined`, `left`.
//! - `src/api/` is generated from it by `asyncapi-rs generate asyncapi.yaml -o src/api --client`
//!   (checked in; `tests/drift.rs` fails when it no longer matches the document), except
//!   `src/api/handlers.rs`, which is ours.
//! - `static/client/` is the TypeScript client `asyncapi-rs generate asyncapi.yaml --typescript
//!   static/client` writes (checked by `tests/drift.rs` too): the page imports it as it is.
//! - [`app`] serves the WebSocket and the web page (`static/index.html`) on `/`, and the page's
//!   client under `/client/`.

#![deny(warnings)]

// Generated code is printed by the generator (prettyplease), not by rustfmt: `cargo fmt` leaves
// it as written, so `tests/drift.rs` compares it byte for byte.
#[rustfmt::skip]
pub mod api;

use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

/// The page at `/`: HTML and a script on the generated client, no build step.
pub const PAGE: &str = include_str!("../static/index.html");

/// The generated client's modules the page imports, by the path they are served on.
pub const CLIENT: &[(&str, &str)] = &[
    ("/client/chat.js", include_str!("../static/client/chat.js")),
    (
        "/client/index.js",
        include_str!("../static/client/index.js"),
    ),
    (
        "/client/runtime.js",
        include_str!("../static/client/runtime.js"),
    ),
    (
        "/client/schemas.js",
        include_str!("../static/client/schemas.js"),
    ),
];

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

/// A GET on `/` that is not a WebSocket handshake gets the page, one of `/client/` gets that
/// module; everything else goes on.
async fn page_or_websocket(request: Request, next: Next) -> Response {
    let is_handshake = request.headers().contains_key(header::UPGRADE);
    if request.method() == Method::GET && !is_handshake {
        let path = request.uri().path();
        if path == "/" {
            return Html(PAGE).into_response();
        }
        if let Some((_, module)) = CLIENT.iter().find(|(served, _)| *served == path) {
            let javascript = [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")];
            return (javascript, *module).into_response();
        }
    }
    next.run(request).await
}
