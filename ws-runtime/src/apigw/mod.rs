//! Amazon API Gateway's own interfaces: the `@connections` management API on its wire, and
//! routes served by Lambda functions, called with the events API Gateway sends.

pub mod lambda;
pub(crate) mod management;
