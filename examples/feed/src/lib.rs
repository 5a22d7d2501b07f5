//! A market-data feed built with asyncapi-rs: the second example, for what the chat does not
//! show (who may connect, scopes, pushes to groups).
//!
//! - `asyncapi.yaml` is the contract: routes `subscribe` and `unsubscribe` (their replies list the
//!   symbols watched), `placeOrder` (reply `orderAccepted`; the `orders:write` scope) and
//!   `$default` (answers `error`); the server pushes `price` and `heartbeat`. The server's
//!   `security` asks for a JWT bearer token.
//! - `src/api/` is generated from it by `asyncapi-rs generate asyncapi.yaml -o src/api --client`
//!   (checked in; `tests/drift.rs` fails when it no longer matches the document), except
//!   `src/api/handlers.rs`, which is ours.
//! - [`market`] quotes the symbols someone watches; [`publish`] pushes its prices to each
//!   symbol's subscribers (a group of the runtime) and heartbeats to everyone.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//!
//! let market = std::sync::Arc::new(feed::market::Market::new());
//! let jwt = ws_runtime::Jwt::hs256(b"a-long-random-secret")?;
//! let app = feed::router(market.clone()).verify("jwt", jwt).build()?;
//! let server = app.listen("127.0.0.1:8090").await?;
//! let publisher = feed::publish(&market, server.connections(), Duration::from_millis(250), Duration::from_secs(10));
//! publisher.await;
//! # Ok(()) }
//! ```

#![deny(warnings)]

// Generated code is printed by the generator (prettyplease), not by rustfmt: `cargo fmt` leaves
// it as written, so `tests/drift.rs` compares it byte for byte.
#[rustfmt::skip]
pub mod api;
pub mod market;

use std::sync::Arc;
use std::time::Duration;

use api::feed::FeedOutbound;
use api::types::{Heartbeat, Price};
use market::Market;

/// The generated router with our handlers over `market`. It refuses every handshake until a
/// verifier for the document's `jwt` scheme is added (`.verify("jwt", jwt)`).
pub fn router(market: Arc<Market>) -> ws_runtime::Router {
    api::router(api::handlers::Feed::new(market))
}

/// Pushes every price `market` quotes to the symbol's subscribers each `tick`, and a heartbeat to
/// every connection each `heartbeat`; runs until dropped. A cluster that cannot carry a push is
/// logged by the runtime, and the next tick goes on.
pub async fn publish(
    market: &Market,
    connections: ws_runtime::Connections,
    tick: Duration,
    heartbeat: Duration,
) {
    let mut ticks = tokio::time::interval(tick);
    let mut beats = tokio::time::interval(heartbeat);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    beats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // An interval's first tick is at once: the first heartbeat waits a whole period.
    beats.tick().await;
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                let time = market::now();
                for (symbol, price) in market.tick() {
                    let message = FeedOutbound::Price(Price::new(symbol.as_str(), price, time));
                    if let Ok(text) = message.to_text() {
                        let _ = connections.broadcast_group(&symbol, text).await;
                    }
                }
            }
            _ = beats.tick() => {
                if let Ok(text) = FeedOutbound::Heartbeat(Heartbeat::new(market::now())).to_text() {
                    let _ = connections.broadcast(text).await;
                }
            }
        }
    }
}
