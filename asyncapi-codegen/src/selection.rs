//! Route selection expressions: the very files ws-runtime parses and evaluates them with, so the
//! generator plans routes and the contract checker routes messages exactly as the server does.

#[allow(dead_code, unreachable_pub)]
#[path = "../../ws-runtime/src/selection/grammar.rs"]
pub(crate) mod grammar;

#[allow(dead_code, unreachable_pub)]
#[path = "../../ws-runtime/src/selection/evaluate.rs"]
pub(crate) mod evaluate;
