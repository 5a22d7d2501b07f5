//! `tests.rs`: contract tests from the document's own examples.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::ident;
use super::types::ty;
use crate::plan::Plan;
use crate::plan::names::field_name;
use crate::plan::types::Ty;
use crate::scope::Scope;

/// A test per valid example; the examples that break their own schema are listed, not tested.
pub(crate) fn file(plan: &Plan) -> TokenStream {
    let path = quote! { super::types:: };
    let mut names = Scope::default();
    let mut invalid = Vec::new();
    let mut tests = Vec::new();
    for message in &plan.messages {
        for example in &message.examples {
            if let Some(reason) = &example.invalid {
                invalid.push(format!(
                    " - `{}` example `{}`: {reason}",
                    message.name, example.name
                ));
                continue;
            }
            let name =
                ident(&names.claim(field_name(&format!("{} {}", message.name, example.name))));
            let message_ty = ty(&plan.types, &Ty::Named(message.ty), &path);
            let json = Literal::string(&example.payload.to_string());
            let doc = format!(" `{}` example `{}`.", message.name, example.name);
            tests.push(quote! {
                #[doc = #doc]
                #[test]
                fn #name() {
                    ::ws_runtime::__private::check_example::<#message_ty>(#json);
                }
            });
        }
    }
    let mut doc = vec![
        " Contract tests from the document's examples: each is valid against its message's"
            .to_owned(),
        " schema, deserializes into the message's type, and serializes back to the same JSON."
            .to_owned(),
    ];
    if !invalid.is_empty() {
        doc.push(String::new());
        doc.push(
            " Examples that break their own schema (the document's problem), not tested:"
                .to_owned(),
        );
        doc.push(String::new());
        doc.extend(invalid);
    }
    quote! {
        #(#![doc = #doc])*
        #(#tests)*
    }
}
