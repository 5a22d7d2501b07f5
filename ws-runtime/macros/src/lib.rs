//! `#[derive(Message)]` and `#[derive(Routes)]` for ws-runtime. Use them through `ws_runtime`,
//! which re-exports both; this crate only turns attributes into trait impls, and every mistake
//! into a compile error at the span that caused it.

#![warn(missing_docs)]

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

mod message;
mod routes;

/// Implements `ws_runtime::Message` for a serde type: a wire name, a JSON Schema, and validation
/// before deserializing.
///
/// ```text
/// #[message(name = "sendMessage")]                 // default: the type name in lowerCamelCase
/// #[message(schema = include_str!("send.json"))]   // JSON text or a serde_json::Value
/// #[message(check = checks::send)]                 // the schema compiled: fn(&Tree<'_>) -> bool
/// ```
///
/// Without `schema`, the schema is derived from the type with `schemars` (draft-07), so the type
/// also derives `schemars::JsonSchema`: that is the code-first way. With `schema`, the given
/// schema is the truth (generated code does this: the document's schema). `check` is that
/// schema compiled into Rust (asyncapi-rs writes it beside generated types): frames are judged
/// by it, and jsonschema is asked only about the frames it refuses.
///
/// ```
/// use ws_runtime::Message;
///
/// #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Message)]
/// struct SendMessage {
///     text: String,
/// }
///
/// #[derive(serde::Serialize, serde::Deserialize, Message)]
/// #[message(name = "ping", schema = r#"{"type": "object", "required": ["seq"]}"#)]
/// struct Ping {
///     seq: u64,
/// }
///
/// assert_eq!(SendMessage::NAME, "sendMessage");
/// assert!(Ping::schema().validate(&serde_json::json!({"seq": 1})).is_ok());
/// assert!(Ping::from_json(serde_json::json!({})).is_err()); // validated before deserializing
/// let derived = SendMessage::schema().json();
/// assert_eq!(derived["properties"]["text"]["type"], "string");
/// ```
#[proc_macro_derive(Message, attributes(message))]
pub fn derive_message(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    message::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `ws_runtime::Routes` for an enum of newtype variants, one per route.
///
/// ```text
/// #[routes(selection = "$request.body.action")]   // the default; any expression of the grammar
/// #[route("sendMessage")]                          // per variant; default: its name in lowerCamelCase
/// #[route(default)]                                // the `$default` route: a RawMessage variant
/// ```
///
/// It generates route-key evaluation, decoding that validates against the route's schema before
/// deserializing, and encoding that writes the route key once on the wire. Mistakes are compile
/// errors: a variant that is not a newtype, a payload that is not a `Message`, a duplicate key, a
/// key starting with `$`, an invalid expression, two default variants.
///
/// ```
/// use ws_runtime::{Message, RawMessage, Routes};
///
/// #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Message)]
/// struct SendMessage { text: String }
///
/// #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Message)]
/// struct Echo { text: String }
///
/// #[derive(Debug, Routes)]
/// #[routes(selection = "$request.body.action")]
/// enum ChatRoute {
///     #[route("sendMessage")]
///     Send(SendMessage),
///     Echo(Echo),
///     #[route(default)]
///     Other(RawMessage),
/// }
///
/// # impl std::fmt::Debug for SendMessage { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("SendMessage") } }
/// # impl std::fmt::Debug for Echo { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("Echo") } }
/// assert_eq!(ChatRoute::keys(), ["sendMessage", "echo"]);
/// let json = serde_json::json!({"action": "echo", "text": "hi"});
/// let route = ChatRoute::decode("echo", json.clone()).unwrap();
/// assert_eq!(route.route_key(), "echo");
/// assert_eq!(route.to_json().unwrap(), json); // the key is written once
/// ```
#[proc_macro_derive(Routes, attributes(routes, route))]
pub fn derive_routes(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    routes::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
