//! Routes served by functions written for AWS Lambda behind API Gateway: each is called with the
//! JSON event API Gateway would send it (`requestContext`, `body`, `headers`, …), deserialized
//! into whatever type it takes (`aws_lambda_events`' `ApiGatewayWebsocketProxyRequest`, say), and
//! its response is read as API Gateway reads a proxy response (`statusCode`, `body`,
//! `isBase64Encoded`).
//!
//! ```
//! use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
//! use ws_runtime::lambda::Lambda;
//!
//! type Error = Box<dyn std::error::Error + Send + Sync>;
//!
//! // Unchanged Lambda code.
//! async fn echo(event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, Error> {
//!     let mut response = ApiGatewayProxyResponse::default();
//!     response.status_code = 200;
//!     response.body = event.body.map(Into::into);
//!     Ok(response)
//! }
//!
//! // Its `main` on ws-runtime: the routes API Gateway would have.
//! let lambda = Lambda::new().two_way_route("echo", echo);
//! let app = ws_runtime::Router::new().channel("/", lambda).build()?;
//! # Ok::<(), ws_runtime::RouterError>(())
//! ```
//!
//! As on API Gateway: `$connect` accepts when the function answers a 2xx `statusCode` and
//! refuses the handshake with its status and body otherwise; a message goes to the function of
//! the route key its body selects (`$request.body.action` unless [`Lambda::selection`] says
//! otherwise), else to `$default`, else the client gets the `Forbidden` error frame; the
//! response's body goes back to the client only for a two-way route (API Gateway's route
//! response); a function that fails (or whose response or event does not fit) gets the client
//! `Internal server error`; `$disconnect` is called once, after the close, with its code and
//! reason.
//!
//! The runtime sees one `$default` route ([`crate::AnyMessage`]): this module routes among the
//! functions itself, so metrics count every message under `$default`.
//!
//! The other way (feature `aws-lambda`): `lambda::run(app)` serves an [`crate::App`] as a Lambda
//! function behind API Gateway, `$connect`, its routes, `$disconnect` and its `REQUEST`
//! authorizer, with the same handlers and checks as ws-runtime's server; sends go through the
//! management API, sessions, groups and broadcasts through a `ConnectionStore` (DynamoDB's is
//! `DynamoDbStore`). `asyncapi-rs generate --lambda` writes the `main` that does it, `--sam` the
//! template that deploys it.

#[cfg(feature = "aws-lambda")]
pub use crate::apigw::aws::MissingVariable;
#[cfg(feature = "functions")]
pub use crate::apigw::functions::{FunctionError, Process};
#[cfg(feature = "functions")]
pub use crate::apigw::http_proxy::{HttpProxy, HttpProxyError};
pub use crate::apigw::lambda::{AsyncFn, IdentitySource, IdentitySourceError, Lambda};
#[cfg(feature = "aws-lambda")]
pub use crate::apigw::store::{ConnectionRecord, ConnectionStore, DynamoDbStore, StoreError};
#[cfg(feature = "aws-lambda")]
pub use crate::server::function::{Function, InvocationError, SetupError, run};
