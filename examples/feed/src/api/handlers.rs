//! The feed's handlers: the one file of `src/api/` that is ours (asyncapi-rs wrote it once as a
//! stub and never touches it again). Who may connect is the document's business: the generated
//! router refuses a handshake without a bearer token (401) and the verifier registered for the
//! `jwt` scheme checks it; `placeOrder` without `orders:write` never reaches [`Feed`].

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ws_runtime::{Accept, Close, ConnectRequest, Context, HandlerError, RawMessage, Reject};

use super::feed::FeedHandler;
use super::types::{
    Error, OrderAccepted, PlaceOrder, Subscribe, Subscribed, Unsubscribe, Unsubscribed,
};
use crate::market::Market;

/// The most symbols one connection may watch; a `subscribe` past it takes what fits, and its
/// reply says what the connection watches.
pub const MAX_SYMBOLS: usize = 50;

/// The feed: the market it quotes, and the numbers of the orders it took.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    market: Arc<Market>,
    orders: Arc<AtomicU64>,
}

impl Feed {
    /// A feed of `market`'s prices.
    pub fn new(market: Arc<Market>) -> Feed {
        Feed {
            market,
            orders: Arc::default(),
        }
    }
}

/// A connection's session: the symbols it watches (a session, not attached state, so that it
/// survives behind API Gateway, where each event is a Lambda invocation of its own).
type Watching = BTreeSet<String>;

fn watching(cx: &Context) -> Result<Watching, HandlerError> {
    cx.session::<Watching>()?
        .ok_or_else(|| HandlerError::new("the connection has no subscriptions"))
}

impl FeedHandler for Feed {
    async fn connect(&self, request: &ConnectRequest) -> Result<Accept, Reject> {
        tracing::debug!(
            connection_id = %request.connection_id,
            trader = request.principal.as_ref().map(|p| p.subject.as_str()),
            "connected"
        );
        Accept::new()
            .session(&Watching::new())
            .map_err(|error| {
                tracing::error!(%error, "the session cannot be JSON");
                Reject::internal_error()
            })
    }

    /// Joins each symbol's group (its subscribers), up to [`MAX_SYMBOLS`] in all.
    async fn subscribe(&self, cx: &Context, message: Subscribe) -> Result<Subscribed, HandlerError> {
        let mut watching = watching(cx)?;
        let mut added = Vec::new();
        for symbol in message.symbols {
            if watching.len() < MAX_SYMBOLS && watching.insert(symbol.clone()) {
                added.push(symbol);
            }
        }
        for symbol in &added {
            cx.connections().join(&cx.connection_id, symbol).await?;
        }
        cx.set_session(&watching)?;
        self.market.watch(added.iter().map(String::as_str));
        Ok(Subscribed::new(Vec::from_iter(watching)))
    }

    /// Leaves each symbol's group; the reply comes after, so no price of them follows it.
    async fn unsubscribe(
        &self,
        cx: &Context,
        message: Unsubscribe,
    ) -> Result<Unsubscribed, HandlerError> {
        let mut watching = watching(cx)?;
        let removed: Vec<String> = message
            .symbols
            .into_iter()
            .filter(|symbol| watching.remove(symbol))
            .collect();
        for symbol in &removed {
            cx.connections().leave(&cx.connection_id, symbol).await?;
        }
        cx.set_session(&watching)?;
        self.market.unwatch(removed.iter().map(String::as_str));
        Ok(Unsubscribed::new(Vec::from_iter(watching)))
    }

    /// Takes every order (the example has no exchange behind it), in the name of the token's
    /// subject. The router already checked the `orders:write` scope.
    async fn place_order(
        &self,
        cx: &Context,
        message: PlaceOrder,
    ) -> Result<OrderAccepted, HandlerError> {
        let trader = cx
            .principal()
            .map(|principal| principal.subject.clone())
            .ok_or_else(|| HandlerError::new("an order from a connection with no principal"))?;
        let number = self.orders.fetch_add(1, Ordering::Relaxed) + 1;
        let accepted = OrderAccepted::new(
            format!("o-{number}"),
            trader,
            message.symbol,
            message.side,
            message.quantity,
        );
        Ok(match message.limit {
            Some(limit) => accepted.with_limit(limit),
            None => accepted,
        })
    }

    /// Anything no route takes: the sender is told what went wrong.
    async fn default_route(&self, _: &Context, message: RawMessage) -> Result<Error, HandlerError> {
        let action = message
            .json
            .as_ref()
            .and_then(|json| json.get("action"))
            .and_then(|action| action.as_str());
        let what = match action {
            Some(action) => format!("unknown action `{action}`"),
            None => "a message needs an `action`".to_owned(),
        };
        Ok(Error::new(format!(
            "{what}; actions: subscribe, unsubscribe, placeOrder"
        )))
    }

    /// The runtime took the connection out of its groups; the market stops quoting what no one
    /// watches any more.
    async fn disconnect(&self, cx: &Context, _: &Close) {
        if let Ok(watching) = watching(cx) {
            self.market.unwatch(watching.iter().map(String::as_str));
        }
    }
}
