//! ws-runtime: serves AsyncAPI-described WebSocket APIs with the routing model of Amazon API
//! Gateway WebSocket APIs (`$connect`, `$disconnect`, `$default`, route selection expressions).
//!
//! This crate is a placeholder in the workspace until the runtime lands; it has no API yet.
#![forbid(unsafe_code)]
