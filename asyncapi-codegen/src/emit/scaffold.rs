//! `handlers.rs`: a handler per channel that compiles and answers every route with a clear
//! "not implemented" error. Written once; the user's from then on, so it reads like code a
//! person wrote: `use` lines at the top, short names, plain `Result`, and on each route what the
//! document says about it.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::quote;

use super::doc::{doc_lines, outer_doc};
use super::ident;
use crate::plan::Plan;
use crate::plan::types::TypeId;

/// Names the file uses unqualified besides the types it imports: a type of the document with
/// one of these names is written `super::types::Name` instead.
const TAKEN: &[&str] = &["Result", "Context", "HandlerError", "RawMessage", "Reply"];

pub(crate) fn file(plan: &Plan) -> TokenStream {
    // Every name the file declares or imports other than the document's types.
    let mut local: BTreeSet<String> = TAKEN.iter().map(|s| (*s).to_owned()).collect();
    for channel in &plan.channels {
        local.insert(channel.prefix.clone());
        local.insert(format!("{}Handler", channel.prefix));
    }
    let mut imported: BTreeSet<String> = BTreeSet::new();
    let mut type_of = |id: TypeId| -> TokenStream {
        let name = &plan.types.get(id).name;
        let name_ident = ident(name);
        if local.contains(name) {
            quote! { super::types::#name_ident }
        } else {
            imported.insert(name.clone());
            quote! { #name_ident }
        }
    };
    // What the file takes from ws-runtime: `Context` and `HandlerError` for any method at all.
    let mut any_method = false;
    let mut raw_message = false;
    let mut reply = false;
    let mut handlers = Vec::new();
    let mut traits = Vec::new();
    for channel in &plan.channels {
        let name = ident(&channel.prefix);
        let module = ident(&channel.module);
        let handler = ident(&format!("{}Handler", channel.prefix));
        traits.push(quote! { use super::#module::#handler; });
        let doc = format!(" Handles channel `{}` (`{}`).", channel.id, channel.path);
        let mut methods = Vec::new();
        for r in &channel.routes {
            let method = ident(&r.method);
            let payload = type_of(plan.messages[r.message].ty);
            let output = match r.reply {
                Some(reply) => type_of(plan.messages[reply].ty),
                None => quote! { () },
            };
            let mut lines = vec![format!("Route `{}`.", r.key)];
            if !r.doc.is_empty() {
                lines.push(String::new());
                lines.extend(doc_lines(&r.doc.join("\n")));
            }
            let route_doc = outer_doc(&lines);
            let message = format!("route `{}` is not implemented yet", r.key);
            methods.push(quote! {
                #route_doc
                async fn #method(&self, cx: &Context, message: #payload) -> Result<#output, HandlerError> {
                    let _ = (cx, message);
                    Err(HandlerError::new(#message))
                }
            });
        }
        if let Some(m) = &channel.default_route {
            raw_message = true;
            let method = ident(m);
            let output = match channel.default_reply {
                Some(id) => type_of(plan.messages[id].ty),
                None => {
                    reply = true;
                    quote! { Reply }
                }
            };
            methods.push(quote! {
                /// `$default`: every message no other route takes.
                async fn #method(&self, cx: &Context, message: RawMessage) -> Result<#output, HandlerError> {
                    let _ = (cx, message);
                    Err(HandlerError::new("route `$default` is not implemented yet"))
                }
            });
        }
        any_method |= !methods.is_empty();
        handlers.push(quote! {
            #[doc = #doc]
            #[derive(Debug, Default, Clone)]
            pub struct #name;

            impl #handler for #name {
                #(#methods)*
            }
        });
    }
    let mut runtime: Vec<TokenStream> = Vec::new();
    if any_method {
        runtime.push(quote! { Context });
        runtime.push(quote! { HandlerError });
    }
    if raw_message {
        runtime.push(quote! { RawMessage });
    }
    if reply {
        runtime.push(quote! { Reply });
    }
    let runtime_use = (!runtime.is_empty()).then(|| quote! { use ws_runtime::{#(#runtime),*}; });
    let types_use = (!imported.is_empty()).then(|| {
        let names = imported.iter().map(|n| ident(n));
        quote! { use super::types::{#(#names),*}; }
    });
    quote! {
        //! Your handlers. asyncapi-rs wrote this file once and never overwrites it (unless
        //! `--force`): replace each "not implemented" with what the route does.
        #runtime_use
        #(#traits)*
        #types_use
        #(#handlers)*
    }
}
