//! A template's API with an AsyncAPI document beside it (`--asyncapi`): each inbound frame is
//! routed and checked against the document before a function is invoked, as a generated server
//! checks it (the mock's [`check`]): one the document's schema refuses gets `Bad request body`
//! with each violation, one no route of the document takes gets `Forbidden`, and neither
//! reaches a function.

use std::sync::Arc;

use asyncapi_codegen::contract::Contract;
use ws_runtime::lambda::Lambda;
use ws_runtime::{
    Accept, AnyMessage, Close, ConnectRequest, Context, Handler, HandlerError, Reject, Reply,
};

use crate::mock_server::{Checked, bad_request_body, check};

/// A [`Lambda`] channel behind a document's checks.
#[derive(Debug)]
pub struct Validated {
    lambda: Lambda,
    contract: Arc<Contract>,
    /// The document's channels that receive messages: the API is one endpoint.
    channels: Vec<usize>,
}

impl Validated {
    /// `lambda`, its frames checked against `contract`'s channels.
    pub fn new(lambda: Lambda, contract: Arc<Contract>) -> Validated {
        let channels = contract
            .channels()
            .iter()
            .enumerate()
            .filter(|(_, channel)| !channel.inbound.is_empty())
            .map(|(index, _)| index)
            .collect();
        Validated {
            lambda,
            contract,
            channels,
        }
    }
}

impl Handler<AnyMessage> for Validated {
    async fn connect(&self, request: &ConnectRequest) -> Result<Accept, Reject> {
        Handler::connect(&self.lambda, request).await
    }

    async fn message(&self, cx: &Context, message: AnyMessage) -> Result<Reply, HandlerError> {
        // Text that is not JSON selects no route, as on the server.
        let json = message.0.json.as_ref().unwrap_or(&serde_json::Value::Null);
        match check(&self.contract, &self.channels, json) {
            Checked::Valid { .. } => Handler::message(&self.lambda, cx, message).await,
            Checked::NoRoute(key) => {
                tracing::info!(connection_id = %cx.connection_id, key, "no route of the document takes it: Forbidden");
                Ok(Reply::forbidden(cx))
            }
            Checked::Rejected(rejection) => {
                tracing::info!(connection_id = %cx.connection_id, %rejection, "the document refuses it: Bad request body");
                Ok(bad_request_body(cx, &rejection))
            }
        }
    }

    async fn disconnect(&self, cx: &Context, close: &Close) {
        Handler::disconnect(&self.lambda, cx, close).await;
    }
}
