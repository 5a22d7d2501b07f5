//! `asyncapi!("spec.yaml")`: generates, at compile time, what `asyncapi-rs generate` writes —
//! payload types, route enums, handler traits, `mount` per channel, and the contract tests from
//! the document's examples — as items in place. Like progenitor's `generate_api!`.
//!
//! ```text
//! pub mod api {
//!     asyncapi_macros::asyncapi!("asyncapi.yaml"); // relative to the crate's Cargo.toml
//! }
//! ```
//!
//! `asyncapi!("spec.yaml", client)` adds a typed client per channel (what `--client` writes);
//! `asyncapi!("spec.yaml", client, no_server)` generates the client alone.
//!
//! An invalid document is a compile error at the macro call, with every diagnostic rendered.
//! The crate is rebuilt when the document or any file it references changes.

use std::path::Path;

use asyncapi_codegen::emit::Sides;
use proc_macro::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token, parse_macro_input};

/// `"spec.yaml"`, then optionally `client` and `no_server`.
struct Input {
    spec: LitStr,
    sides: Sides,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Input> {
        let spec: LitStr = input.parse()?;
        let mut sides = Sides::SERVER;
        if input.parse::<Option<Token![,]>>()?.is_some() {
            let flags = Punctuated::<Ident, Token![,]>::parse_terminated(input)?;
            for flag in &flags {
                match flag.to_string().as_str() {
                    "client" => sides.client = true,
                    "no_server" => sides.server = false,
                    _ => {
                        return Err(syn::Error::new(
                            flag.span(),
                            "expected `client` or `no_server`",
                        ));
                    }
                }
            }
            if !sides.server && !sides.client {
                return Err(syn::Error::new(
                    spec.span(),
                    "`no_server` without `client` leaves nothing to generate",
                ));
            }
        }
        Ok(Input { spec, sides })
    }
}

#[proc_macro]
pub fn asyncapi(input: TokenStream) -> TokenStream {
    let Input { spec, sides } = parse_macro_input!(input as Input);
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let path = Path::new(&root).join(spec.value());
    let loaded = match asyncapi_codegen::load(&path, &Default::default()) {
        Ok(loaded) => loaded,
        Err(report) => {
            let message = format!(
                "asyncapi!: `{}` is not a valid AsyncAPI document:\n\n{}",
                spec.value(),
                report.render(false)
            );
            return syn::Error::new(spec.span(), message)
                .into_compile_error()
                .into();
        }
    };
    let plan = asyncapi_codegen::plan::plan(&loaded.api);
    let items = asyncapi_codegen::emit::inline_tokens(&plan, sides);
    // Reading each file with `include_bytes!` tells cargo to rebuild when it changes.
    let sources = loaded.documents.sources().iter().map(|(_, f)| {
        let file = f.path.display().to_string();
        quote! { const _: &[u8] = include_bytes!(#file); }
    });
    quote! {
        #(#sources)*
        #items
    }
    .into()
}
