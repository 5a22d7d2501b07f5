//! `#[derive(Message)]`.

use heck::ToLowerCamelCase;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, Expr, LitStr};

/// `#[message(...)]`, read.
#[derive(Default)]
struct Attributes {
    name: Option<LitStr>,
    schema: Option<Expr>,
    check: Option<Expr>,
}

fn attributes(input: &DeriveInput) -> syn::Result<Attributes> {
    let mut out = Attributes::default();
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("message")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                if out.name.is_some() {
                    return Err(meta.error("`name` is given twice"));
                }
                out.name = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("schema") {
                if out.schema.is_some() {
                    return Err(meta.error("`schema` is given twice"));
                }
                out.schema = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("check") {
                if out.check.is_some() {
                    return Err(meta.error("`check` is given twice"));
                }
                out.check = Some(meta.value()?.parse()?);
            } else {
                return Err(meta.error(
                    "unknown `message` attribute; expected `name = \"…\"`, `schema = …` or `check = …`",
                ));
            }
            Ok(())
        })?;
    }
    Ok(out)
}

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "a message type cannot be generic: each message has one schema",
        ));
    }
    let attributes = attributes(input)?;
    let ident = &input.ident;
    let name = match &attributes.name {
        Some(name) if name.value().is_empty() => {
            return Err(syn::Error::new_spanned(
                name,
                "a message name cannot be empty",
            ));
        }
        Some(name) => name.value(),
        None => ident.to_string().to_lower_camel_case(),
    };
    let schema = match (&attributes.schema, &attributes.check) {
        (Some(expr), None) => quote! { ::ws_runtime::Schema::from(#expr) },
        (Some(expr), Some(check)) => {
            quote! { ::ws_runtime::Schema::from(#expr).with_check(#check) }
        }
        (None, Some(check)) => {
            return Err(syn::Error::new_spanned(
                check,
                "`check` is the compiled form of a schema: give the schema too (`schema = …`)",
            ));
        }
        (None, None) => quote! { ::ws_runtime::__private::schema_for::<#ident>() },
    };
    Ok(quote! {
        #[automatically_derived]
        impl ::ws_runtime::Message for #ident {
            const NAME: &'static str = #name;

            fn schema() -> &'static ::ws_runtime::Schema {
                static SCHEMA: ::std::sync::LazyLock<::ws_runtime::Schema> =
                    ::std::sync::LazyLock::new(|| #schema);
                &SCHEMA
            }
        }
    })
}
