//! `handlers.rs`: a handler per channel that compiles and answers every route with a clear
//! "not implemented" error. Written once; the user's from then on.

use proc_macro2::TokenStream;
use quote::quote;

use super::ident;
use super::types::ty;
use crate::plan::Plan;
use crate::plan::types::Ty;

pub(crate) fn file(plan: &Plan) -> TokenStream {
    let types = quote! { super::types:: };
    let handlers = plan.channels.iter().map(|channel| {
        let name = ident(&channel.prefix);
        let module = ident(&channel.module);
        let handler = ident(&format!("{}Handler", channel.prefix));
        let doc = format!(" Handles channel `{}` (`{}`).", channel.id, channel.path);
        let methods = channel.routes.iter().map(|r| {
            let method = ident(&r.method);
            let payload = ty(&plan.types, &Ty::Named(plan.messages[r.message].ty), &types);
            let output = match r.reply {
                Some(reply) => ty(&plan.types, &Ty::Named(plan.messages[reply].ty), &types),
                None => quote! { () },
            };
            let message = format!("route `{}` is not implemented yet", r.key);
            quote! {
                async fn #method(
                    &self,
                    cx: &::ws_runtime::Context,
                    message: #payload,
                ) -> ::std::result::Result<#output, ::ws_runtime::HandlerError> {
                    let _ = (cx, message);
                    ::std::result::Result::Err(::ws_runtime::HandlerError::new(#message))
                }
            }
        });
        let default = channel.default_route.as_ref().map(|m| {
            let method = ident(m);
            let output = match channel.default_reply {
                Some(reply) => ty(&plan.types, &Ty::Named(plan.messages[reply].ty), &types),
                None => quote! { ::ws_runtime::Reply },
            };
            quote! {
                async fn #method(
                    &self,
                    cx: &::ws_runtime::Context,
                    message: ::ws_runtime::RawMessage,
                ) -> ::std::result::Result<#output, ::ws_runtime::HandlerError> {
                    let _ = (cx, message);
                    ::std::result::Result::Err(::ws_runtime::HandlerError::new("route `$default` is not implemented yet"))
                }
            }
        });
        quote! {
            #[doc = #doc]
            #[derive(::std::fmt::Debug, ::std::default::Default, ::std::clone::Clone)]
            pub struct #name;

            impl super::#module::#handler for #name {
                #(#methods)*
                #default
            }
        }
    });
    quote! {
        //! Your handlers. asyncapi-rs wrote this file once and never overwrites it (unless
        //! `--force`): replace each "not implemented" with what the route does.
        #(#handlers)*
    }
}
