//! `types.rs`: every payload and component type, and the message impls.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::doc::outer_doc;
use super::{SchemaPlacement, ident};
use crate::plan::Plan;
use crate::plan::types::{Field, Kind, Ty, TypeDef, TypeSpace};
use crate::scope::Scope;

const SERDE: &str = "::ws_runtime::__private::serde";

/// The Rust type expression of `ty`.
pub(crate) fn ty(space: &TypeSpace, ty: &Ty, path: &TokenStream) -> TokenStream {
    match ty {
        Ty::String => quote! { ::std::string::String },
        Ty::I64 => quote! { i64 },
        Ty::F64 => quote! { f64 },
        Ty::Bool => quote! { bool },
        Ty::Json => quote! { ::ws_runtime::__private::serde_json::Value },
        Ty::Named(id) => {
            let name = ident(&space.get(*id).name);
            quote! { #path #name }
        }
        Ty::Option(inner) => {
            let inner = self::ty(space, inner, path);
            quote! { ::std::option::Option<#inner> }
        }
        Ty::Vec(inner) => {
            let inner = self::ty(space, inner, path);
            quote! { ::std::vec::Vec<#inner> }
        }
        Ty::Map(inner) => {
            let inner = self::ty(space, inner, path);
            quote! { ::std::collections::BTreeMap<::std::string::String, #inner> }
        }
        Ty::Tuple(items) => {
            let items = items.iter().map(|i| self::ty(space, i, path));
            quote! { (#(#items,)*) }
        }
        Ty::Boxed(inner) => {
            let inner = self::ty(space, inner, path);
            quote! { ::std::boxed::Box<#inner> }
        }
    }
}

pub(crate) fn file(plan: &Plan, placement: SchemaPlacement) -> TokenStream {
    let here = TokenStream::new();
    let types = plan.types.defs.iter().enumerate().map(|(id, def)| {
        let message = plan.messages.iter().find(|m| m.ty == id);
        let message_attrs = message.map(|m| {
            let name = &m.name;
            let schema = match placement {
                SchemaPlacement::Files => {
                    let file = format!("schemas/{}", m.schema_file);
                    quote! { include_str!(#file) }
                }
                SchemaPlacement::Inline => {
                    let text = Literal::string(&m.schema.to_string());
                    quote! { #text }
                }
            };
            let check = m.check.is_ok().then(|| {
                let function = super::ident(&super::checks::root_name(m));
                quote! { , check = super::checks::#function }
            });
            quote! {
                #[derive(::ws_runtime::Message)]
                #[message(name = #name, schema = #schema #check)]
            }
        });
        let mut doc = def.doc.clone();
        if let Some(reason) = message.and_then(|m| m.opaque.as_ref()) {
            if !doc.is_empty() {
                doc.push(String::new());
            }
            doc.push(format!("Any JSON: {reason}."));
        }
        declaration(
            &plan.types,
            def,
            &doc,
            message_attrs.unwrap_or_default(),
            &here,
        )
    });
    quote! {
        #![doc = " Payload types, component types and message types."]
        #(#types)*
    }
}

fn derives(extra: TokenStream) -> TokenStream {
    quote! {
        #[derive(
            ::std::fmt::Debug,
            ::std::clone::Clone,
            ::std::cmp::PartialEq,
            #extra
            ::ws_runtime::__private::serde::Serialize,
            ::ws_runtime::__private::serde::Deserialize,
        )]
    }
}

fn declaration(
    space: &TypeSpace,
    def: &TypeDef,
    doc_lines: &[String],
    message: TokenStream,
    path: &TokenStream,
) -> TokenStream {
    let name = ident(&def.name);
    let doc = outer_doc(doc_lines);
    match &def.kind {
        Kind::Struct(fields) => {
            let constructors = constructors(space, &def.name, fields, path);
            let fields = fields.iter().map(|f| field(space, f, path));
            let derives = derives(TokenStream::new());
            quote! {
                #doc
                #derives
                #message
                #[serde(crate = #SERDE)]
                pub struct #name {
                    #(#fields)*
                }

                #constructors
            }
        }
        Kind::StringEnum(variants) => {
            let variants = variants.iter().map(|(rust, wire)| {
                let rust = ident(rust);
                quote! { #[serde(rename = #wire)] #rust, }
            });
            let derives =
                derives(quote! { ::std::marker::Copy, ::std::cmp::Eq, ::std::hash::Hash, });
            quote! {
                #doc
                #derives
                #message
                #[serde(crate = #SERDE)]
                pub enum #name {
                    #(#variants)*
                }
            }
        }
        Kind::Const { variant, wire } => {
            let variant = ident(variant);
            let derives = derives(
                quote! { ::std::marker::Copy, ::std::cmp::Eq, ::std::hash::Hash, ::std::default::Default, },
            );
            let mut lines = doc_lines.to_vec();
            if !lines.is_empty() {
                lines.push(String::new());
            }
            lines.push(format!("Always `{wire}` (the only value; the `Default`)."));
            let doc = outer_doc(&lines);
            quote! {
                #doc
                #derives
                #message
                #[serde(crate = #SERDE)]
                pub enum #name {
                    #[default]
                    #[serde(rename = #wire)]
                    #variant,
                }
            }
        }
        Kind::IntEnum(variants) => {
            let derives =
                derives(quote! { ::std::marker::Copy, ::std::cmp::Eq, ::std::hash::Hash, });
            let names: Vec<_> = variants.iter().map(|(rust, _)| ident(rust)).collect();
            let values: Vec<_> = variants
                .iter()
                .map(|(_, n)| Literal::i64_unsuffixed(*n))
                .collect();
            let decls = names.iter().zip(&values).map(|(n, v)| {
                let doc = format!(" `{v}`");
                quote! { #[doc = #doc] #n, }
            });
            let type_name = def.name.as_str();
            quote! {
                #doc
                #derives
                #message
                #[serde(crate = #SERDE, try_from = "i64", into = "i64")]
                pub enum #name {
                    #(#decls)*
                }

                impl ::std::convert::From<#name> for i64 {
                    fn from(value: #name) -> i64 {
                        match value {
                            #(#name::#names => #values,)*
                        }
                    }
                }

                impl ::std::convert::TryFrom<i64> for #name {
                    type Error = ::std::string::String;

                    fn try_from(value: i64) -> ::std::result::Result<Self, Self::Error> {
                        match value {
                            #(#values => ::std::result::Result::Ok(Self::#names),)*
                            other => ::std::result::Result::Err(::std::format!("{other} is not a value of `{}`", #type_name)),
                        }
                    }
                }
            }
        }
        Kind::Tagged { tag, variants } => {
            let variants = variants.iter().map(|(rust, wire, t)| {
                let rust = ident(rust);
                let t = ty(space, t, path);
                quote! { #[serde(rename = #wire)] #rust(#t), }
            });
            let derives = derives(TokenStream::new());
            quote! {
                #doc
                #derives
                #message
                #[serde(crate = #SERDE, tag = #tag)]
                #[allow(clippy::large_enum_variant, clippy::enum_variant_names)]
                pub enum #name {
                    #(#variants)*
                }
            }
        }
        Kind::Untagged(variants) => {
            let variants = variants.iter().map(|(rust, t)| {
                let rust = ident(rust);
                let t = ty(space, t, path);
                quote! { #rust(#t), }
            });
            let derives = derives(TokenStream::new());
            quote! {
                #doc
                #derives
                #message
                #[serde(crate = #SERDE, untagged)]
                #[allow(clippy::large_enum_variant, clippy::enum_variant_names)]
                pub enum #name {
                    #(#variants)*
                }
            }
        }
        Kind::Alias(t) => {
            let t = ty(space, t, path);
            quote! {
                #doc
                pub type #name = #t;
            }
        }
        Kind::Newtype(t) => {
            let t = ty(space, t, path);
            let derives = derives(TokenStream::new());
            quote! {
                #doc
                #derives
                #message
                #[serde(crate = #SERDE, transparent)]
                pub struct #name(pub #t);
            }
        }
        Kind::Pending => quote! {
            #doc
            pub type #name = ::ws_runtime::__private::serde_json::Value;
        },
    }
}

fn field(space: &TypeSpace, f: &Field, path: &TokenStream) -> TokenStream {
    let name = ident(&f.rust);
    let t = ty(space, &f.ty, path);
    let doc = outer_doc(&f.doc);
    let wire = &f.wire;
    let mut attrs = Vec::new();
    if f.flatten {
        attrs.push(quote! { flatten });
    } else if f.rust != f.wire {
        attrs.push(quote! { rename = #wire });
    }
    if f.optional {
        attrs.push(quote! { default, skip_serializing_if = "::std::option::Option::is_none" });
        if f.keeps_null {
            attrs.push(quote! { deserialize_with = "::ws_runtime::nullable::deserialize" });
        }
    } else if f.default {
        attrs.push(quote! { default });
    }
    let serde = (!attrs.is_empty()).then(|| quote! { #[serde(#(#attrs),*)] });
    quote! {
        #doc
        #serde
        pub #name: #t,
    }
}

/// `new(required…)`, which fills in constants, leaves optional fields `None` and additional
/// properties empty; a `with_<field>` setter per optional field; and `Default` when nothing is
/// required.
fn constructors(
    space: &TypeSpace,
    type_name: &str,
    fields: &[Field],
    path: &TokenStream,
) -> TokenStream {
    let name = ident(type_name);
    let mut params = Vec::new();
    let mut inits = Vec::new();
    let mut setters = Vec::new();
    let mut setter_names = Scope::with(&["new", "default"]);
    for f in fields {
        let field = ident(&f.rust);
        if f.flatten || f.default {
            inits.push(quote! { #field: ::std::default::Default::default() });
            continue;
        }
        if !f.optional {
            let t = ty(space, &f.ty, path);
            params.push(quote! { #field: impl ::std::convert::Into<#t> });
            inits.push(quote! { #field: #field.into() });
            continue;
        }
        inits.push(quote! { #field: ::std::option::Option::None });
        let Ty::Option(inner) = &f.ty else {
            continue;
        };
        // `Option<Option<T>>` (absent, null, a value): the setter sets a value.
        let (value_ty, value) = match inner.as_ref() {
            Ty::Option(value_ty) if f.keeps_null => (
                value_ty.as_ref(),
                quote! { ::std::option::Option::Some(::std::option::Option::Some(value.into())) },
            ),
            other => (other, quote! { ::std::option::Option::Some(value.into()) }),
        };
        let t = ty(space, value_ty, path);
        let setter = ident(&setter_names.claim(format!("with_{}", f.rust.trim_end_matches('_'))));
        let mut doc = format!(" Sets `{}`.", f.wire);
        if f.keeps_null {
            doc.push_str(" (`null` on the wire is the field set to `Some(None)`.)");
        }
        setters.push(quote! {
            #[doc = #doc]
            pub fn #setter(mut self, value: impl ::std::convert::Into<#t>) -> Self {
                self.#field = #value;
                self
            }
        });
    }
    let new_doc = format!(
        " A `{type_name}` from its required fields: optional fields are `None`, constants are filled in."
    );
    let many = (params.len() > 7).then(|| quote! { #[allow(clippy::too_many_arguments)] });
    let default = params.is_empty().then(|| {
        quote! {
            impl ::std::default::Default for #name {
                fn default() -> Self {
                    Self::new()
                }
            }
        }
    });
    quote! {
        impl #name {
            #[doc = #new_doc]
            #many
            pub fn new(#(#params),*) -> Self {
                Self { #(#inits),* }
            }

            #(#setters)*
        }

        #default
    }
}
