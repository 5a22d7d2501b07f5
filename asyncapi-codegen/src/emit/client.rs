//! A channel's typed client (`--client`): its handshake's query and headers, `connect`, one
//! method per route, and the decoding of what the server sends, on `ws_runtime::client`.

use proc_macro2::TokenStream;
use quote::quote;

use super::doc::outer_doc;
use super::ident;
use super::types::ty;
use crate::plan::security::Location;
use crate::plan::types::Ty;
use crate::plan::{ChannelPlan, HandshakeField, Plan};

pub(crate) fn items(plan: &Plan, channel: &ChannelPlan) -> TokenStream {
    let types = quote! { super::types:: };
    let message_ty = |index: usize| ty(&plan.types, &Ty::Named(plan.messages[index].ty), &types);
    let route = ident(&format!("{}Route", channel.prefix));
    let client = ident(&format!("{}Client", channel.prefix));
    let error = quote! { ::ws_runtime::client::ClientError };

    // What the server sends, decoded: each outbound message in the document's order.
    let (incoming, decode_impl) = if channel.outbound.is_empty() {
        (quote! { ::ws_runtime::client::Nothing }, None)
    } else {
        let outbound = ident(&format!("{}Outbound", channel.prefix));
        let tries = channel.outbound.iter().map(|(variant, index)| {
            let variant = ident(variant);
            let payload = message_ty(*index);
            quote! {
                if let ::std::option::Option::Some(decoded) = ::ws_runtime::client::decode_if::<#payload>(json) {
                    return ::std::option::Option::Some(decoded.map(Self::#variant));
                }
            }
        });
        let decode_impl = quote! {
            /// A frame from the server is the first message of the channel whose schema accepts
            /// it, in the document's order.
            impl ::ws_runtime::client::Incoming for #outbound {
                fn decode(
                    json: &::ws_runtime::__private::serde_json::Value,
                ) -> ::std::option::Option<::std::result::Result<Self, ::ws_runtime::DecodeError>> {
                    #(#tries)*
                    ::std::option::Option::None
                }
            }
        };
        (quote! { #outbound }, Some(decode_impl))
    };

    // The handshake: path parameters, then the query's and the headers' structs.
    let params = (!channel.params.is_empty()).then(|| {
        let name = ident(&format!("{}Params", channel.prefix));
        quote! { params: &#name, }
    });
    let fill_params = channel.params.iter().map(|(rust, wire)| {
        let rust = ident(rust);
        quote! { let target = target.param(#wire, &params.#rust); }
    });
    let query = handshake(channel, "Query", &channel.query, "query");
    let headers = handshake(channel, "Headers", &channel.headers, "header");
    let (query_struct, query_arg, query_fill) = query.unwrap_or_default();
    let (headers_struct, headers_arg, headers_fill) = headers.unwrap_or_default();
    let arguments = quote! { #params #query_arg #headers_arg };
    let forwarded: Vec<_> = [
        (!channel.params.is_empty()).then(|| quote! { params }),
        (!channel.query.is_empty()).then(|| quote! { query }),
        (!channel.headers.is_empty()).then(|| quote! { headers }),
    ]
    .into_iter()
    .flatten()
    .collect();

    // One method per route.
    let methods = channel.routes.iter().map(|r| {
        let method = ident(&r.client_method);
        let variant = ident(&r.variant);
        let payload = message_ty(r.message);
        match r.reply {
            None => {
                let doc = outer_doc(&[
                    format!("Sends `{}` (route `{}`).", plan.messages[r.message].name, r.key),
                    String::new(),
                    "# Errors".into(),
                    "A message that breaks its schema (when outgoing messages are checked), a closed connection, or the transport's error.".into(),
                ]);
                quote! {
                    #doc
                    pub async fn #method(&mut self, message: #payload) -> ::std::result::Result<(), #error> {
                        self.0.send(&#route::#variant(message)).await
                    }
                }
            }
            Some(reply) => {
                let reply_ty = message_ty(reply);
                let (correlation, how) = match &r.correlation {
                    Some((request, reply)) => (
                        quote! {
                            ::std::option::Option::Some(::ws_runtime::client::Correlation {
                                request: #request,
                                reply: #reply,
                            })
                        },
                        format!("its `correlationId` (`{request}` in the request, `{reply}` in the reply), or by type when the request carries none"),
                    ),
                    None => (
                        quote! { ::std::option::Option::None },
                        "type: the first frame its schema accepts (the document gives no `correlationId`)".to_owned(),
                    ),
                };
                let doc = outer_doc(&[
                    format!(
                        "Sends `{}` (route `{}`) and waits for its reply, `{}`, told apart by {how}.",
                        plan.messages[r.message].name, r.key, plan.messages[reply].name
                    ),
                    String::new(),
                    "# Errors".into(),
                    "As a send; a timeout; an error frame from the server; a reply that does not fit its type.".into(),
                ]);
                quote! {
                    #doc
                    pub async fn #method(&mut self, message: #payload) -> ::std::result::Result<#reply_ty, #error> {
                        self.0.request(&#route::#variant(message), #correlation).await
                    }
                }
            }
        }
    });

    let connect_doc = connect_doc(channel);
    let client_doc = format!(
        " A client of the `{}` channel: one method per route, and [`{client}::next`] for what the server sends.",
        channel.id
    );
    quote! {
        #decode_impl

        #query_struct
        #headers_struct

        #[doc = #client_doc]
        #[derive(::std::fmt::Debug)]
        pub struct #client(::ws_runtime::client::Client<#route, #incoming>);

        impl #client {
            #(#[doc = #connect_doc])*
            pub async fn connect(base: &str, #arguments) -> ::std::result::Result<Self, #error> {
                Self::connect_with(base, #(#forwarded,)* ::ws_runtime::client::ClientOptions::default()).await
            }

            /// [`Self::connect`] with options: reconnection, timeouts, checks of outgoing messages.
            ///
            /// # Errors
            /// As [`Self::connect`].
            pub async fn connect_with(
                base: &str,
                #arguments
                options: ::ws_runtime::client::ClientOptions,
            ) -> ::std::result::Result<Self, #error> {
                let target = ::ws_runtime::client::Target::new(base, PATH);
                #(#fill_params)*
                #query_fill
                #headers_fill
                ::ws_runtime::client::Client::connect(target, options).await.map(Self)
            }

            #(#methods)*

            /// The next event: a message from the server, an error frame, a frame that matched
            /// nothing, the close, or the progress of a reconnection; `None` once closed for good.
            pub async fn next(&mut self) -> ::std::option::Option<::ws_runtime::client::Event<#incoming>> {
                self.0.next().await
            }

            /// Closes the connection with 1000.
            ///
            /// # Errors
            /// The transport's error.
            pub async fn close(self) -> ::std::result::Result<(), #error> {
                self.0.close().await
            }

            /// Whether the connection is open now.
            pub fn is_open(&self) -> bool {
                self.0.is_open()
            }

            /// The untyped client underneath: any route value, raw text, requests.
            pub fn inner_mut(&mut self) -> &mut ::ws_runtime::client::Client<#route, #incoming> {
                &mut self.0
            }
        }
    }
}

/// `connect`'s documentation: where to connect, and the credentials the channel's security asks
/// for, with the option that carries each.
fn connect_doc(channel: &ChannelPlan) -> Vec<String> {
    let mut doc = vec![
        " Connects to the channel on the server at `base` (`ws://host:port`, with the path"
            .to_owned(),
        " the server is mounted under, if any).".to_owned(),
    ];
    if !channel.security.is_empty() {
        let option = |name: &str| {
            format!("[`ClientOptions::{name}`](::ws_runtime::client::ClientOptions::{name})")
        };
        let alternatives: Vec<String> = channel
            .security
            .iter()
            .map(|schemes| {
                let schemes: Vec<String> = schemes
                    .iter()
                    .map(|scheme| {
                        let how = match &scheme.location {
                            Location::Bearer => format!("a bearer token, {}", option("bearer")),
                            Location::Basic => format!(
                                "a user and password in an `authorization: Basic …` header, {}",
                                option("header")
                            ),
                            Location::Header(name) => {
                                format!("the `{name}` header, {}", option("header"))
                            }
                            Location::Query(name) => {
                                format!("`{name}` in the query, {}", option("query"))
                            }
                            Location::Cookie(name) => format!(
                                "the `{name}` cookie, as a `cookie: {name}=…` header, {}",
                                option("header")
                            ),
                        };
                        format!("`{}` ({how})", scheme.name)
                    })
                    .collect();
                schemes.join(" and ")
            })
            .collect();
        doc.push(String::new());
        doc.push(format!(
            " The channel asks for credentials (the document's `security`): {}. Give them to [`Self::connect_with`]; without them the server refuses the handshake with 401.",
            alternatives.join(", or ")
        ));
    }
    doc.push(String::new());
    doc.push(" # Errors".to_owned());
    doc.push(
        " The server's status and body when it refuses the handshake; the transport's error."
            .to_owned(),
    );
    doc
}

/// The struct of a handshake's query or headers, its argument, and the lines that add it to the
/// target; `None` when the schema names no properties.
fn handshake(
    channel: &ChannelPlan,
    suffix: &str,
    fields: &[HandshakeField],
    add: &str,
) -> Option<(TokenStream, TokenStream, TokenStream)> {
    if fields.is_empty() {
        return None;
    }
    let name = ident(&format!("{}{suffix}", channel.prefix));
    let argument = ident(&suffix.to_ascii_lowercase());
    let add = ident(add);
    let members = fields.iter().map(|f| {
        let rust = ident(&f.rust);
        let mut doc = vec![format!("`{}`.", f.wire)];
        if !f.doc.is_empty() {
            doc.push(String::new());
            doc.extend(f.doc.iter().cloned());
        }
        let doc = outer_doc(&doc);
        let field_ty = if f.required {
            quote! { ::std::string::String }
        } else {
            quote! { ::std::option::Option<::std::string::String> }
        };
        quote! { #doc pub #rust: #field_ty, }
    });
    let fills = fields.iter().map(|f| {
        let rust = ident(&f.rust);
        let wire = &f.wire;
        if f.required {
            quote! { let target = target.#add(#wire, &#argument.#rust); }
        } else {
            quote! {
                let target = match &#argument.#rust {
                    ::std::option::Option::Some(value) => target.#add(#wire, value),
                    ::std::option::Option::None => target,
                };
            }
        }
    });
    let what = if suffix == "Query" {
        "query parameters"
    } else {
        "headers"
    };
    let doc = format!(
        " The {what} of the `{}` channel's handshake (its `ws` binding), checked by the server.",
        channel.id
    );
    Some((
        quote! {
            #[doc = #doc]
            #[derive(::std::fmt::Debug, ::std::clone::Clone, ::std::cmp::PartialEq, ::std::cmp::Eq, ::std::default::Default)]
            pub struct #name {
                #(#members)*
            }
        },
        quote! { #argument: &#name, },
        quote! { #(#fills)* },
    ))
}
