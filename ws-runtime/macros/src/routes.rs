//! `#[derive(Routes)]`.

use heck::ToLowerCamelCase;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Type};

const DEFAULT_SELECTION: &str = "$request.body.action";

/// One variant, read.
struct Variant<'a> {
    ident: &'a Ident,
    payload: &'a Type,
    kind: Kind,
}

enum Kind {
    Custom { key: String },
    Default,
}

/// `#[routes(selection = "…")]`, checked against the grammar.
fn selection(input: &DeriveInput) -> syn::Result<String> {
    let mut selection: Option<LitStr> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("routes")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("selection") {
                if selection.is_some() {
                    return Err(meta.error("`selection` is given twice"));
                }
                selection = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error("unknown `routes` attribute; expected `selection = \"…\"`"))
            }
        })?;
    }
    match selection {
        None => Ok(DEFAULT_SELECTION.to_owned()),
        Some(lit) => {
            let text = lit.value();
            route_selection::parse(&text).map_err(|reason| {
                syn::Error::new_spanned(
                    &lit,
                    format!("invalid route selection expression: {reason}"),
                )
            })?;
            Ok(text)
        }
    }
}

/// `#[route("key")]` or `#[route(default)]` on a variant.
fn kind(variant: &syn::Variant) -> syn::Result<(Kind, Span)> {
    let mut found: Option<(Kind, Span)> = None;
    for attr in variant.attrs.iter().filter(|a| a.path().is_ident("route")) {
        if found.is_some() {
            return Err(syn::Error::new_spanned(
                attr,
                "a variant takes one `#[route]` attribute",
            ));
        }
        let parsed = attr.parse_args_with(|input: syn::parse::ParseStream<'_>| {
            if input.peek(LitStr) {
                let lit: LitStr = input.parse()?;
                Ok((Kind::Custom { key: lit.value() }, lit.span()))
            } else {
                let ident: Ident = input.parse()?;
                if ident == "default" {
                    Ok((Kind::Default, ident.span()))
                } else {
                    Err(syn::Error::new(
                        ident.span(),
                        "expected a route key (`#[route(\"sendMessage\")]`) or `#[route(default)]`",
                    ))
                }
            }
        })?;
        found = Some(parsed);
    }
    Ok(found.unwrap_or_else(|| {
        (
            Kind::Custom {
                key: variant.ident.to_string().to_lower_camel_case(),
            },
            variant.ident.span(),
        )
    }))
}

fn variants(input: &DeriveInput) -> syn::Result<Vec<Variant<'_>>> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "`Routes` is derived for an enum with one newtype variant per route",
        ));
    };
    let mut out: Vec<Variant<'_>> = Vec::new();
    let mut default_seen: Option<&Ident> = None;
    for variant in &data.variants {
        let payload = match &variant.fields {
            Fields::Unnamed(fields) if fields.unnamed.len() == 1 => &fields.unnamed[0].ty,
            _ => {
                return Err(syn::Error::new(
                    variant.span(),
                    format!(
                        "each route is a newtype variant that carries its message: write `{}(Payload)`",
                        variant.ident
                    ),
                ));
            }
        };
        let (kind, span) = kind(variant)?;
        match &kind {
            Kind::Default => {
                if let Some(first) = default_seen {
                    return Err(syn::Error::new(
                        span,
                        format!(
                            "only one variant can be `#[route(default)]`; `{first}` already is"
                        ),
                    ));
                }
                default_seen = Some(&variant.ident);
            }
            Kind::Custom { key } => {
                if key.is_empty() {
                    return Err(syn::Error::new(span, "a route key cannot be empty"));
                }
                if key.starts_with('$') {
                    return Err(syn::Error::new(
                        span,
                        format!(
                            "route key `{key}` starts with `$`, which API Gateway reserves; use `#[route(default)]` for `$default`"
                        ),
                    ));
                }
                if let Some(other) = out
                    .iter()
                    .find(|v| matches!(&v.kind, Kind::Custom { key: k } if k == key))
                {
                    return Err(syn::Error::new(
                        span,
                        format!(
                            "route key `{key}` is already used by `{}`; give this variant its own with `#[route(\"…\")]`",
                            other.ident
                        ),
                    ));
                }
            }
        }
        out.push(Variant {
            ident: &variant.ident,
            payload,
            kind,
        });
    }
    Ok(out)
}

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "a routes enum cannot be generic",
        ));
    }
    let selection = selection(input)?;
    let variants = variants(input)?;
    let ident = &input.ident;

    let custom: Vec<(&Variant<'_>, &String)> = variants
        .iter()
        .filter_map(|v| match &v.kind {
            Kind::Custom { key } => Some((v, key)),
            Kind::Default => None,
        })
        .collect();
    let keys = custom.iter().map(|(_, key)| key);
    let decode_arms = custom.iter().map(|(v, key)| {
        let (variant, payload) = (v.ident, v.payload);
        // Spanned at the payload type, so "`X` is not a message" points at `X`.
        quote_spanned! {payload.span()=>
            #key => ::ws_runtime::decode_route::<#payload>(Self::selection(), json).map(Self::#variant),
        }
    });
    let tree_arms = custom.iter().map(|(v, key)| {
        let (variant, payload) = (v.ident, v.payload);
        quote_spanned! {payload.span()=>
            #key => ::ws_runtime::__private::decode_route_tree::<#payload>(Self::selection(), tree).map(Self::#variant),
        }
    });
    let route_list = custom.iter().map(|(v, key)| {
        let payload = v.payload;
        quote_spanned! {payload.span()=> ::ws_runtime::Route::of::<#payload>(#key) }
    });
    let key_arms = variants.iter().map(|v| {
        let variant = v.ident;
        let key = match &v.kind {
            Kind::Custom { key } => key.as_str(),
            Kind::Default => "$default",
        };
        quote! { Self::#variant(_) => #key, }
    });
    let encode_arms = variants.iter().map(|v| {
        let variant = v.ident;
        match &v.kind {
            Kind::Custom { key } => {
                let payload = v.payload;
                quote_spanned! {payload.span()=>
                    Self::#variant(ref message) => ::ws_runtime::encode_route::<#payload>(Self::selection(), message, #key),
                }
            }
            Kind::Default => quote! {
                Self::#variant(ref raw) => ::std::result::Result::Ok(
                    raw.json.clone().unwrap_or_else(|| ::ws_runtime::__private::serde_json::Value::String(raw.text.clone())),
                ),
            },
        }
    });
    let text_arms = variants.iter().map(|v| {
        let variant = v.ident;
        match &v.kind {
            Kind::Custom { key } => {
                let payload = v.payload;
                quote_spanned! {payload.span()=>
                    Self::#variant(ref message) => ::ws_runtime::encode_route_text::<#payload>(Self::selection(), message, #key),
                }
            }
            Kind::Default => quote! {
                Self::#variant(_) => ::ws_runtime::__private::serde_json::to_string(&self.to_json()?),
            },
        }
    });
    let fallback = match variants.iter().find(|v| matches!(v.kind, Kind::Default)) {
        Some(v) => {
            let (variant, payload) = (v.ident, v.payload);
            quote_spanned! {payload.span()=>
                ::std::option::Option::Some(Self::#variant(::ws_runtime::__private::into_raw::<#payload>(raw)))
            }
        }
        None => quote! {
            {
                let _ = raw;
                ::std::option::Option::None
            }
        },
    };
    Ok(quote! {
        #[automatically_derived]
        impl ::ws_runtime::Routes for #ident {
            fn selection() -> &'static ::ws_runtime::Selection {
                static SELECTION: ::std::sync::LazyLock<::ws_runtime::Selection> =
                    ::std::sync::LazyLock::new(|| ::ws_runtime::__private::selection(#selection));
                &SELECTION
            }

            fn keys() -> &'static [&'static str] {
                &[#(#keys),*]
            }

            fn decode(
                key: &str,
                json: ::ws_runtime::__private::serde_json::Value,
            ) -> ::std::result::Result<Self, ::ws_runtime::DecodeError> {
                match key {
                    #(#decode_arms)*
                    _ => ::std::result::Result::Err(::ws_runtime::DecodeError::UnknownRoute(
                        ::std::string::ToString::to_string(key),
                    )),
                }
            }

            fn decode_tree(
                key: &str,
                tree: &::ws_runtime::__private::Tree<'_>,
            ) -> ::std::result::Result<Self, ::ws_runtime::DecodeError> {
                match key {
                    #(#tree_arms)*
                    _ => ::std::result::Result::Err(::ws_runtime::DecodeError::UnknownRoute(
                        ::std::string::ToString::to_string(key),
                    )),
                }
            }

            fn fallback(raw: ::ws_runtime::RawMessage) -> ::std::option::Option<Self> {
                #fallback
            }

            fn route_key(&self) -> &'static str {
                match *self {
                    #(#key_arms)*
                }
            }

            fn to_json(
                &self,
            ) -> ::std::result::Result<::ws_runtime::__private::serde_json::Value, ::ws_runtime::__private::serde_json::Error> {
                match *self {
                    #(#encode_arms)*
                }
            }

            fn to_text(
                &self,
            ) -> ::std::result::Result<::std::string::String, ::ws_runtime::__private::serde_json::Error> {
                match *self {
                    #(#text_arms)*
                }
            }

            fn routes() -> ::std::vec::Vec<::ws_runtime::Route> {
                ::std::vec![#(#route_list),*]
            }
        }
    })
}
