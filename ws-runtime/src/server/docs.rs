//! The contract, served: the AsyncAPI document (`/asyncapi.json`, `/asyncapi.yaml`), what the
//! running server routes (`/docs/routes.json`), and a docs page over both (`/docs`: HTML and
//! vanilla JavaScript, no build step) with a console that connects to a channel and sends.

use std::sync::Arc;

use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::{MethodRouter, get};
use serde_json::{Value, json};

use crate::dispatch::shared::Channel;
use crate::messages::export;

/// The page; it reads the two JSON documents below from the server that serves it.
const PAGE: &str = include_str!("docs.html");

/// The docs routes for `document` and the channels being served.
pub(crate) fn routes(document: &Value, channels: &[Arc<Channel>]) -> axum::Router {
    axum::Router::new()
        .route("/docs", get(|| async { Html(PAGE) }))
        .route(
            "/asyncapi.json",
            text("application/json", document.to_string()),
        )
        .route(
            "/asyncapi.yaml",
            text("application/yaml", export::to_yaml(document)),
        )
        .route(
            "/docs/routes.json",
            text("application/json", served(channels).to_string()),
        )
}

/// A GET that answers `body`, made once, as `content_type`.
fn text(content_type: &'static str, body: String) -> MethodRouter {
    let body: Arc<str> = body.into();
    get(move || async move {
        ([(header::CONTENT_TYPE, content_type)], body.to_string()).into_response()
    })
}

/// What the server routes, channel by channel: the address, the selection expression, and each
/// route's key, message and schema.
fn served(channels: &[Arc<Channel>]) -> Value {
    let channels: Vec<Value> = channels
        .iter()
        .map(|channel| {
            let routes: Vec<Value> = channel
                .routes
                .iter()
                .map(|route| {
                    json!({
                        "key": route.key,
                        "message": route.message,
                        "schema": route.schema.json(),
                    })
                })
                .collect();
            json!({
                "address": channel.address,
                "selection": channel.selection,
                "routes": routes,
            })
        })
        .collect();
    json!({ "channels": channels })
}
