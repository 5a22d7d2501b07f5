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
//! An invalid document is a compile error at the macro call, with every diagnostic rendered.
//! The crate is rebuilt when the document or any file it references changes.

use std::path::Path;

use proc_macro::TokenStream;
use quote::quote;
use syn::{LitStr, parse_macro_input};

#[proc_macro]
pub fn asyncapi(input: TokenStream) -> TokenStream {
    let spec = parse_macro_input!(input as LitStr);
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
    let items = asyncapi_codegen::emit::inline_tokens(&plan);
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
