//! One file per channel: its routes, outbound messages, handler trait, service and `mount`.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::doc::{doc_lines, outer_doc};
use super::types::ty;
use super::{SchemaPlacement, Sides, ident};
use crate::plan::security::Location;
use crate::plan::types::Ty;
use crate::plan::{ChannelPlan, Plan};
use crate::routing::SelectionSource;

pub(crate) fn file(
    plan: &Plan,
    channel: &ChannelPlan,
    placement: SchemaPlacement,
    sides: Sides,
) -> TokenStream {
    let types = quote! { super::types:: };
    let message_ty = |index: usize| ty(&plan.types, &Ty::Named(plan.messages[index].ty), &types);
    let route = ident(&format!("{}Route", channel.prefix));
    let outbound = ident(&format!("{}Outbound", channel.prefix));
    let handler = ident(&format!("{}Handler", channel.prefix));
    let service = ident(&format!("{}Service", channel.prefix));
    let path = &channel.path;
    let selection = &channel.selection;

    // The module's documentation.
    let mut doc = vec![format!(
        "Channel `{}`, served at `{}`.",
        channel.id, channel.path
    )];
    if !channel.doc.is_empty() {
        doc.push(String::new());
        doc.extend(doc_lines(&channel.doc.join("\n")));
    }
    doc.push(String::new());
    doc.push(format!(
        "Routes are selected by `{selection}` ({}).",
        match channel.selection_source {
            SelectionSource::Channel => "the channel's `x-route-selection-expression`",
            SelectionSource::Document => "the document's `x-route-selection-expression`",
            SelectionSource::Inferred => "inferred: every inbound message pins that property",
            SelectionSource::Default => "the default: the document names no expression and no inbound property pins a value",
        }
    ));
    let module_doc = doc.iter().map(|l| format!(" {l}"));

    // The route enum.
    let variants = channel.routes.iter().map(|r| {
        let variant = ident(&r.variant);
        let key = &r.key;
        let payload = message_ty(r.message);
        let doc = outer_doc(&route_doc(r));
        quote! {
            #doc
            #[route(#key)]
            #variant(#payload),
        }
    });
    let default_variant = channel.default_route.as_ref().map(|_| {
        quote! {
            /// `$default`: a message no route takes (or text that is not JSON).
            #[route(default)]
            Default(::ws_runtime::RawMessage),
        }
    });

    // The outbound enum.
    let outbound_variants = channel.outbound.iter().map(|(variant, index)| {
        let variant = ident(variant);
        let payload = message_ty(*index);
        quote! { #variant(#payload), }
    });
    let outbound_enum = (!channel.outbound.is_empty()).then(|| {
        quote! {
            /// What the server sends on this channel.
            #[derive(
                ::std::fmt::Debug,
                ::std::clone::Clone,
                ::std::cmp::PartialEq,
                ::ws_runtime::__private::serde::Serialize,
            )]
            #[serde(crate = "::ws_runtime::__private::serde", untagged)]
            #[allow(clippy::large_enum_variant, clippy::enum_variant_names)]
            pub enum #outbound {
                #(#outbound_variants)*
            }

            impl #outbound {
                /// The message as the text frame to send.
                ///
                /// # Errors
                /// serde's error for a value that cannot be JSON.
                pub fn to_text(&self) -> ::std::result::Result<::std::string::String, ::ws_runtime::__private::serde_json::Error> {
                    ::ws_runtime::__private::serde_json::to_string(self)
                }
            }
        }
    });

    // The handler trait: one method per route.
    let methods = channel.routes.iter().map(|r| {
        let method = ident(&r.method);
        let payload = message_ty(r.message);
        let output = match r.reply {
            Some(reply) => message_ty(reply),
            None => quote! { () },
        };
        let doc = outer_doc(&route_doc(r));
        quote! {
            #doc
            fn #method(
                &self,
                cx: &::ws_runtime::Context,
                message: #payload,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<#output, ::ws_runtime::HandlerError>> + ::std::marker::Send;
        }
    });
    let default_method = channel.default_route.as_ref().map(|m| {
        let method = ident(m);
        let output = match channel.default_reply {
            Some(reply) => message_ty(reply),
            None => quote! { ::ws_runtime::Reply },
        };
        quote! {
            /// `$default`: a message no route takes. What it returns is sent back.
            fn #method(
                &self,
                cx: &::ws_runtime::Context,
                message: ::ws_runtime::RawMessage,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<#output, ::ws_runtime::HandlerError>> + ::std::marker::Send;
        }
    });

    // The service: the handler trait served through ws-runtime's `Handler`.
    let arms = channel.routes.iter().map(|r| {
        let variant = ident(&r.variant);
        let method = ident(&r.method);
        match r.reply {
            Some(_) => quote! {
                #route::#variant(message) => {
                    let reply = self.0.#method(cx, message).await?;
                    ::ws_runtime::Reply::message(&reply)
                }
            },
            None => quote! {
                #route::#variant(message) => {
                    self.0.#method(cx, message).await?;
                    ::std::result::Result::Ok(::ws_runtime::Reply::none())
                }
            },
        }
    });
    let default_arm = channel.default_route.as_ref().map(|m| {
        let method = ident(m);
        match channel.default_reply {
            Some(_) => quote! {
                #route::Default(message) => {
                    let reply = self.0.#method(cx, message).await?;
                    ::ws_runtime::Reply::message(&reply)
                }
            },
            None => quote! { #route::Default(message) => self.0.#method(cx, message).await, },
        }
    });
    let empty_match = (channel.routes.is_empty() && channel.default_route.is_none()).then(|| {
        quote! { let _ = cx; }
    });

    // The handshake's schemas.
    let schema = |suffix: &str, value: &Option<serde_json::Value>| match value {
        None => quote! { ::std::option::Option::None },
        Some(json) => {
            let text = match placement {
                SchemaPlacement::Files => {
                    let file = format!("schemas/{}.{suffix}.json", channel.module);
                    quote! { include_str!(#file) }
                }
                SchemaPlacement::Inline => {
                    let literal = Literal::string(&json.to_string());
                    quote! { #literal }
                }
            };
            quote! { ::std::option::Option::Some(::ws_runtime::Schema::from(#text)) }
        }
    };
    let query = schema("query", &channel.query_schema);
    let headers = schema("headers", &channel.headers_schema);
    let security = security(channel);
    let scopes = scopes(channel);
    // The fields the document leaves out are the defaults (none, when it gives them all).
    let rest = (security.is_none() || scopes.is_none())
        .then(|| quote! { ..::std::default::Default::default() });

    // Path parameters.
    let params = (!channel.params.is_empty()).then(|| {
        let name = ident(&format!("{}Params", channel.prefix));
        let fields = channel.params.iter().map(|(rust, wire)| {
            let rust = ident(rust);
            let doc = format!(" `{{{wire}}}` in the address.");
            quote! { #[doc = #doc] pub #rust: ::std::string::String, }
        });
        let reads = channel.params.iter().map(|(rust, wire)| {
            let rust = ident(rust);
            quote! { #rust: cx.path_params.get(#wire)?.clone(), }
        });
        quote! {
            /// The channel address's parameters.
            #[derive(::std::fmt::Debug, ::std::clone::Clone, ::std::cmp::PartialEq, ::std::cmp::Eq)]
            pub struct #name {
                #(#fields)*
            }

            impl #name {
                /// The parameters of the connection an event belongs to.
                pub fn from_context(cx: &::ws_runtime::Context) -> ::std::option::Option<Self> {
                    ::std::option::Option::Some(Self {
                        #(#reads)*
                    })
                }
            }
        }
    });

    let handler_doc = format!(
        " The `{}` channel's handler: one method per route; `connect` and `disconnect` have defaults.",
        channel.id
    );
    let route_doc_text = format!(
        " What clients send on `{}`, one variant per route.",
        channel.id
    );
    // A channel with security: `authorize`, its default the verifiers' principal.
    let (authorize_method, authorize_forward) = if channel.security.is_empty() {
        (None, None)
    } else {
        let schemes: Vec<String> = channel
            .security
            .iter()
            .flatten()
            .map(|s| format!("`{}`", s.name))
            .collect();
        let doc = outer_doc(&[format!(
            "Who connects (the document's security): runs once the handshake carries the credentials of one alternative, and the router's verifiers (`Router::verify`, under the schemes' names: {}) accept them, before `connect`. The default keeps what the verifiers made of them, and refuses with 401 when no verifier covered them.",
            schemes.join(", ")
        )]);
        (
            Some(quote! {
                #doc
                fn authorize(
                    &self,
                    request: &::ws_runtime::ConnectRequest,
                    verified: ::std::option::Option<::ws_runtime::Principal>,
                ) -> impl ::std::future::Future<Output = ::std::result::Result<::ws_runtime::Principal, ::ws_runtime::Reject>> + ::std::marker::Send {
                    let _ = request;
                    ::std::future::ready(verified.ok_or_else(::ws_runtime::Reject::unauthorized))
                }
            }),
            Some(quote! {
                async fn authorize(
                    &self,
                    request: &::ws_runtime::ConnectRequest,
                    verified: ::std::option::Option<::ws_runtime::Principal>,
                ) -> ::std::result::Result<::ws_runtime::Principal, ::ws_runtime::Reject> {
                    self.0.authorize(request, verified).await
                }
            }),
        )
    };
    let server = sides.server.then(|| {
        quote! {
            #[doc = #handler_doc]
            pub trait #handler: ::std::marker::Send + ::std::marker::Sync + 'static {
                /// `$connect`: runs before the upgrade; reject with an HTTP status, or accept (and
                /// attach state later events read). The default accepts everyone.
                fn connect(
                    &self,
                    request: &::ws_runtime::ConnectRequest,
                ) -> impl ::std::future::Future<Output = ::std::result::Result<::ws_runtime::Accept, ::ws_runtime::Reject>> + ::std::marker::Send {
                    let _ = request;
                    ::std::future::ready(::std::result::Result::Ok(::ws_runtime::Accept::new()))
                }

                #authorize_method
                #(#methods)*
                #default_method

                /// `$disconnect`: once per accepted connection, after it closed.
                fn disconnect(
                    &self,
                    cx: &::ws_runtime::Context,
                    close: &::ws_runtime::Close,
                ) -> impl ::std::future::Future<Output = ()> + ::std::marker::Send {
                    let _ = (cx, close);
                    ::std::future::ready(())
                }
            }

            /// Serves a handler of this channel with ws-runtime.
            #[derive(::std::fmt::Debug)]
            pub struct #service<H>(pub H);

            impl<H: #handler> ::ws_runtime::Handler<#route> for #service<H> {
                #authorize_forward
                async fn connect(
                    &self,
                    request: &::ws_runtime::ConnectRequest,
                ) -> ::std::result::Result<::ws_runtime::Accept, ::ws_runtime::Reject> {
                    self.0.connect(request).await
                }

                async fn message(
                    &self,
                    cx: &::ws_runtime::Context,
                    message: #route,
                ) -> ::std::result::Result<::ws_runtime::Reply, ::ws_runtime::HandlerError> {
                    #empty_match
                    match message {
                        #(#arms)*
                        #default_arm
                    }
                }

                async fn disconnect(&self, cx: &::ws_runtime::Context, close: &::ws_runtime::Close) {
                    self.0.disconnect(cx, close).await;
                }
            }

            /// The handshake this channel's `ws` binding asks for (its query and headers schemas),
            /// for serving the channel with any `ws_runtime::Handler`:
            /// `router.channel_with(PATH, handler, options())`.
            pub fn options() -> ::ws_runtime::ChannelOptions {
                ::ws_runtime::ChannelOptions {
                    query: #query,
                    headers: #headers,
                    #security
                    #scopes
                    #rest
                }
            }

            /// Adds this channel, served by `handler`, to `router`.
            pub fn mount<H: #handler>(router: ::ws_runtime::Router, handler: H) -> ::ws_runtime::Router {
                router.channel_with(PATH, #service(handler), options())
            }
        }
    });
    let client = sides.client.then(|| super::client::items(plan, channel));
    quote! {
        #(#![doc = #module_doc])*

        /// The path the channel is served on.
        pub const PATH: &str = #path;

        #[doc = #route_doc_text]
        #[derive(::std::fmt::Debug, ::ws_runtime::Routes)]
        #[routes(selection = #selection)]
        #[allow(clippy::large_enum_variant, clippy::enum_variant_names)]
        pub enum #route {
            #(#variants)*
            #default_variant
        }

        #outbound_enum

        #server

        #params

        #client
    }
}

fn route_doc(route: &crate::plan::RoutePlan) -> Vec<String> {
    let mut doc = vec![format!("Route `{}`.", route.key)];
    if !route.doc.is_empty() {
        doc.push(String::new());
        doc.extend(doc_lines(&route.doc.join("\n")));
    }
    doc
}

/// The `security` of `options()`: the document's schemes for the handshake, when it has any.
fn security(channel: &ChannelPlan) -> Option<TokenStream> {
    if channel.security.is_empty() {
        return None;
    }
    let alternatives = channel.security.iter().map(|schemes| {
        let schemes = schemes.iter().map(|scheme| {
            let name = &scheme.name;
            let location = match &scheme.location {
                Location::Query(n) => quote! { Query(::std::string::String::from(#n)) },
                Location::Header(n) => quote! { Header(::std::string::String::from(#n)) },
                Location::Cookie(n) => quote! { Cookie(::std::string::String::from(#n)) },
                Location::Bearer => quote! { Bearer },
                Location::Basic => quote! { Basic },
            };
            quote! { ::ws_runtime::Scheme::new(#name, ::ws_runtime::Location::#location) }
        });
        quote! { ::std::vec::Vec::from([#(#schemes),*]) }
    });
    Some(quote! {
        security: ::std::option::Option::Some(::ws_runtime::Security {
            alternatives: ::std::vec::Vec::from([#(#alternatives),*]),
        }),
    })
}

/// The `scopes` of `options()`: each route's, when its operation asks for some.
fn scopes(channel: &ChannelPlan) -> Option<TokenStream> {
    let routes: Vec<TokenStream> = channel
        .routes
        .iter()
        .filter(|r| !r.scopes.is_empty())
        .map(|r| {
            let key = &r.key;
            let scopes = &r.scopes;
            quote! {
                (
                    ::std::string::String::from(#key),
                    ::std::vec::Vec::from([#(::std::string::String::from(#scopes)),*]),
                )
            }
        })
        .collect();
    (!routes.is_empty()).then(|| quote! { scopes: ::std::vec::Vec::from([#(#routes),*]), })
}
