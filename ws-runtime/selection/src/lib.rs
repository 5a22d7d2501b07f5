//! Route selection expressions, as Amazon API Gateway WebSocket APIs define them: the grammar,
//! with no dependencies, and (feature `evaluate`) evaluation against a JSON body.
//!
//! ```text
//! expression := "$request.body." path          -- the whole expression is one body path
//!             | ( literal | "${request.body." path "}" )*   -- a template
//! path       := name ( "." name )*             -- names are non-empty, no `.`, `{`, `}` or `$`
//! ```
//!
//! One grammar for everyone who reads an expression: ws-runtime parses with it at start-up,
//! `#[derive(Routes)]` at compile time, and the asyncapi-rs generator and contract checker when
//! they plan and check routes, so all of them agree with the server.
//!
//! ```
//! use route_selection::{Part, parse};
//!
//! assert_eq!(
//!     parse("$request.body.action"),
//!     Ok(vec![Part::Body(vec!["action".to_owned()])])
//! );
//! assert!(parse("$request.header.x").is_err());
//! ```

#![warn(missing_docs)]

#[cfg(feature = "evaluate")]
mod evaluate;
mod grammar;

#[cfg(feature = "evaluate")]
pub use evaluate::{Body, evaluate};
pub use grammar::{Part, parse};
