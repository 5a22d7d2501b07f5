//! What a message is: the `Message` trait and its `Schema`, a frame's JSON parsed once into a
//! tree, the checks compiled validators call, the route selection expression, a channel's
//! `Routes`, API Gateway's error frames, the `null`-keeping serde helper, and code-first export.

pub(crate) mod check;
pub(crate) mod export;
pub(crate) mod frames;
pub(crate) mod message;
pub mod nullable;
pub(crate) mod routes;
pub(crate) mod selection;
pub(crate) mod tree;
