//! Amazon API Gateway's own interfaces: the `@connections` management API on its wire, and
//! routes served by Lambda functions, called with the events API Gateway sends: functions in the
//! server's process, or in processes of their own in any Lambda runtime (`functions`); and HTTP
//! backends behind `HTTP_PROXY` integrations (`functions`). And for an app deployed behind API
//! Gateway as a Lambda function (`server::function`, feature `aws-lambda`): its SDK clients made
//! from Lambda's environment (`aws`), its connections kept in a store (`store`).

#[cfg(feature = "aws-lambda")]
pub(crate) mod aws;
#[cfg(feature = "functions")]
pub(crate) mod functions;
#[cfg(feature = "functions")]
pub(crate) mod http_proxy;
pub(crate) mod lambda;
pub(crate) mod management;
#[cfg(feature = "aws-lambda")]
pub(crate) mod store;

/// The AWS account of the ARNs made locally (a function's, an authorizer's `methodArn`).
pub(crate) const LOCAL_ACCOUNT: &str = "000000000000";
