//! One message through a channel's handler, with the handler's route type erased so one server
//! holds many channels: decode and route the text, call the handler (catching panics), and say
//! what came of it. Beside it, what handlers implement and are given (`handler`), and what the
//! connection tasks, the server and the management API share (`shared`).

pub(crate) mod handler;
pub(crate) mod shared;

use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use crate::access::security::Principal;
use crate::dispatch::handler::{
    Accept, Close, ConnectRequest, Context, Handler, HandlerError, Reject, Reply,
};
use crate::messages::message::{DecodeError, ValidationErrors};
use crate::messages::routes::{RawMessage, Routes};
use crate::messages::tree::Tree;

/// What came of one message.
pub(crate) enum Outcome {
    Reply(Reply),
    /// No route matched and there is no `$default`.
    Forbidden,
    /// The message broke its route's schema (or did not fit its type).
    BadRequest(ValidationErrors),
    Failed(HandlerError),
    Panicked(Panicked),
}

/// A handler that panicked, with the panic's message (for the log: the client is told only that
/// its request failed).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct Panicked {
    message: String,
}

impl Panicked {
    fn new(panic: &(dyn std::any::Any + Send)) -> Panicked {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic with no message".to_owned());
        Panicked { message }
    }
}

/// A channel's handler with its route type erased, so one server holds many channels.
pub(crate) trait Dispatch: Send + Sync + 'static {
    fn authorize<'a>(
        &'a self,
        request: &'a ConnectRequest,
        verified: Option<Principal>,
    ) -> BoxFuture<'a, Result<Result<Principal, Reject>, Panicked>>;
    fn connect<'a>(
        &'a self,
        request: &'a ConnectRequest,
    ) -> BoxFuture<'a, Result<Result<Accept, Reject>, Panicked>>;
    /// Routes `text` and runs its handler, unless the route needs `scopes` the connection's
    /// principal lacks (then `Forbidden`).
    fn message<'a>(
        &'a self,
        cx: &'a mut Context,
        text: Utf8Bytes,
        scopes: &'a [(String, Vec<String>)],
    ) -> BoxFuture<'a, Outcome>;
    fn disconnect<'a>(
        &'a self,
        cx: &'a Context,
        close: &'a Close,
    ) -> BoxFuture<'a, Result<(), Panicked>>;
}

struct Typed<R, H> {
    handler: H,
    routes: PhantomData<fn() -> R>,
}

impl<R: Routes, H: Handler<R>> Dispatch for Typed<R, H> {
    fn authorize<'a>(
        &'a self,
        request: &'a ConnectRequest,
        verified: Option<Principal>,
    ) -> BoxFuture<'a, Result<Result<Principal, Reject>, Panicked>> {
        Box::pin(async move {
            AssertUnwindSafe(self.handler.authorize(request, verified))
                .catch_unwind()
                .await
                .map_err(|p| Panicked::new(&*p))
        })
    }

    fn connect<'a>(
        &'a self,
        request: &'a ConnectRequest,
    ) -> BoxFuture<'a, Result<Result<Accept, Reject>, Panicked>> {
        Box::pin(async move {
            AssertUnwindSafe(self.handler.connect(request))
                .catch_unwind()
                .await
                .map_err(|p| Panicked::new(&*p))
        })
    }

    fn message<'a>(
        &'a self,
        cx: &'a mut Context,
        text: Utf8Bytes,
        scopes: &'a [(String, Vec<String>)],
    ) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let routed = match route::<R>(&text) {
                Ok(routed) => routed,
                Err((key, outcome)) => {
                    cx.route_key = key;
                    return outcome;
                }
            };
            cx.route_key = routed.route_key();
            tracing::Span::current().record("route_key", cx.route_key);
            if let Some((_, needed)) = scopes.iter().find(|(key, _)| key == cx.route_key)
                && !cx.principal().is_some_and(|p| p.has_scopes(needed))
            {
                return Outcome::Forbidden;
            }
            let cx: &Context = cx;
            match AssertUnwindSafe(self.handler.message(cx, routed))
                .catch_unwind()
                .await
            {
                Ok(Ok(reply)) => Outcome::Reply(reply),
                Ok(Err(error)) => Outcome::Failed(error),
                Err(panic) => Outcome::Panicked(Panicked::new(&*panic)),
            }
        })
    }

    fn disconnect<'a>(
        &'a self,
        cx: &'a Context,
        close: &'a Close,
    ) -> BoxFuture<'a, Result<(), Panicked>> {
        Box::pin(async move {
            AssertUnwindSafe(self.handler.disconnect(cx, close))
                .catch_unwind()
                .await
                .map_err(|p| Panicked::new(&*p))
        })
    }
}

/// The route of a text frame, decoded: parsed once into a tree (in the thread's arena, done with
/// before the handler runs), routed, validated and deserialized from there. Else what to answer, and
/// the route key it is counted under.
fn route<R: Routes>(text: &Utf8Bytes) -> Result<R, (&'static str, Outcome)> {
    Tree::read(text, |tree| {
        let tree = tree.ok();
        let key = tree
            .as_ref()
            .map(|t| R::selection().evaluate(t))
            .unwrap_or_default();
        // The route is known before the message is decoded: a bad body is that route's.
        let known = R::keys().iter().copied().find(|k| *k == key);
        match (tree, known) {
            (Some(tree), Some(known)) => R::decode_tree(&key, &tree).map_err(|error| match error {
                DecodeError::Invalid(errors) => (known, Outcome::BadRequest(errors)),
                DecodeError::Type(message) => (
                    known,
                    Outcome::BadRequest(ValidationErrors(vec![
                        crate::messages::message::ValidationError {
                            instance_path: String::new(),
                            schema_path: String::new(),
                            message,
                        },
                    ])),
                ),
                DecodeError::UnknownRoute(_) => ("", Outcome::Forbidden),
            }),
            (tree, _) => R::fallback(RawMessage {
                text: text.to_string(),
                json: tree.as_ref().map(Tree::to_value),
            })
            .ok_or(("", Outcome::Forbidden)),
        }
    })
}

/// `handler`, serving the routes `R`, behind [`Dispatch`].
pub(crate) fn erase<R: Routes, H: Handler<R>>(handler: H) -> Arc<dyn Dispatch> {
    Arc::new(Typed::<R, H> {
        handler,
        routes: PhantomData,
    })
}
