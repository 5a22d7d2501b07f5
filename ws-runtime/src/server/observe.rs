//! What operators ask a running server: `GET /healthz` (alive), `GET /readyz` (taking new
//! connections: not while draining, nor while a cluster is unreachable), and `GET /metrics`
//! when metrics are on.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::dispatch::shared::Shared;

/// Health, always; metrics when the shared state has them.
pub(crate) fn routes(shared: Arc<Shared>) -> axum::Router {
    let ready = Arc::clone(&shared);
    let mut router = axum::Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || async move {
                match ready.ready() {
                    Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
                    Err(why) => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!("not ready: {why}\n"),
                    ),
                }
            }),
        );
    if let Some(metrics) = shared.metrics.clone() {
        router = router.route(
            "/metrics",
            get(move || async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    metrics.render(),
                )
                    .into_response()
            }),
        );
    }
    router
}
