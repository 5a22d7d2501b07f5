//! The contract, served: the AsyncAPI document (`/asyncapi.json`, `/asyncapi.yaml`), what the
//! running server routes (`/docs/routes.json`), and a docs page over both (`/docs`: HTML and
//! vanilla JavaScript, no build step) with a console that connects to a channel and sends.

use std::sync::Arc;

use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use serde_json::{Value, json};

use crate::export;
use crate::shared::Channel;

/// The page; it reads the two JSON documents below from the server that serves it.
const PAGE: &str = include_str!("docs.html");

/// The docs routes for `document` and the channels being served.
pub(crate) fn routes(document: &Value, channels: &[Arc<Channel>]) -> axum::Router {
    let json_text: Arc<str> = document.to_string().into();
    let yaml_text: Arc<str> = export::to_yaml(document).into();
    let routes_text: Arc<str> = served(channels).to_string().into();
    axum::Router::new()
        .route("/docs", get(|| async { Html(PAGE) }))
        .route(
            "/asyncapi.json",
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    json_text.to_string(),
                )
                    .into_response()
            }),
        )
        .route(
            "/asyncapi.yaml",
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, "application/yaml")],
                    yaml_text.to_string(),
                )
                    .into_response()
            }),
        )
        .route(
            "/docs/routes.json",
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    routes_text.to_string(),
                )
                    .into_response()
            }),
        )
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
