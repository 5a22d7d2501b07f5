//! `types.d.ts`: the plan's types as TypeScript, shaped as the Rust side shapes them (an
//! optional field is `name?: T`, one that keeps `null` is `name?: T | null`, a required nullable
//! one is `name: T | null`; undeclared properties are an index signature).

use std::fmt::Write as _;

use super::{jsdoc, string};
use crate::plan::Plan;
use crate::plan::types::{Field, Kind, Ty, TypeDef, TypeSpace};

/// The text of `types.d.ts`, after its header.
pub(super) fn file(plan: &Plan) -> String {
    let mut out = String::from(
        "// Payload types, component types and message types. Integers are JavaScript numbers:\n\
         // beyond ±2^53 (Number.MAX_SAFE_INTEGER) they lose precision on the way in.\n\n\
         import type * as runtime from \"./runtime.js\";\n",
    );
    for (id, def) in plan.types.defs.iter().enumerate() {
        let mut doc = def.doc.clone();
        if let Some(message) = plan.messages.iter().find(|m| m.ty == id) {
            push_paragraph(
                &mut doc,
                format!("The payload of the message `{}`.", message.name),
            );
            if let Some(reason) = &message.opaque {
                push_paragraph(&mut doc, format!("Any JSON: {reason}."));
            }
        }
        out.push('\n');
        out.push_str(&jsdoc(&doc, ""));
        declaration(&mut out, &plan.types, def);
    }
    out
}

fn push_paragraph(doc: &mut Vec<String>, line: String) {
    if !doc.is_empty() {
        doc.push(String::new());
    }
    doc.push(line);
}

fn declaration(out: &mut String, space: &TypeSpace, def: &TypeDef) {
    let name = &def.name;
    let alias = |out: &mut String, ty: String| {
        let _ = writeln!(out, "export type {name} = {ty};");
    };
    match &def.kind {
        Kind::Struct(fields) => {
            let _ = writeln!(out, "export interface {name} {{");
            let declared: Vec<String> = fields
                .iter()
                .filter(|f| !f.flatten)
                .map(|f| property(out, space, f))
                .collect();
            for f in fields.iter().filter(|f| f.flatten) {
                // Every declared property must fit the index signature too.
                let value = match &f.ty {
                    Ty::Map(value) => ts(space, value),
                    other => ts(space, other),
                };
                let mut members = Vec::new();
                for member in std::iter::once(&value).chain(&declared) {
                    // `string | null` is two members; a union inside brackets stays one.
                    if member.contains(['{', '(', '[']) {
                        members.push(member.clone());
                    } else {
                        members.extend(member.split(" | ").map(str::to_owned));
                    }
                }
                if fields.iter().any(|f| f.optional) {
                    members.push("undefined".into());
                }
                let mut seen = std::collections::BTreeSet::new();
                members.retain(|m| seen.insert(m.clone()));
                out.push_str(&jsdoc(&f.doc, "  "));
                let _ = writeln!(out, "  [key: string]: {};", members.join(" | "));
            }
            out.push_str("}\n");
        }
        Kind::StringEnum(variants) => alias(out, union(variants.iter().map(|(_, w)| string(w)))),
        Kind::IntEnum(variants) => alias(out, union(variants.iter().map(|(_, v)| v.to_string()))),
        Kind::Const { wire, .. } => alias(out, string(wire)),
        Kind::Tagged { tag, variants } => alias(
            out,
            union(variants.iter().map(|(_, wire, ty)| {
                format!(
                    "({{ {}: {} }} & {})",
                    string(tag),
                    string(wire),
                    ts(space, ty)
                )
            })),
        ),
        Kind::Untagged(variants) => alias(out, union(variants.iter().map(|(_, ty)| ts(space, ty)))),
        Kind::Alias(ty) | Kind::Newtype(ty) => alias(out, ts(space, ty)),
        Kind::Pending => alias(out, "unknown".into()),
    }
}

/// Writes one property of an interface and returns its type (with `undefined` when optional).
fn property(out: &mut String, space: &TypeSpace, f: &Field) -> String {
    // The Rust side wraps an optional field in one `Option` more than its value: unwrap it.
    let ty = match (&f.ty, f.optional) {
        (Ty::Option(inner), true) => inner.as_ref(),
        (ty, _) => ty,
    };
    let text = ts(space, ty);
    let mut doc = f.doc.clone();
    if mentions_integer(ty) {
        push_paragraph(
            &mut doc,
            "An integer: beyond ±2^53 a JavaScript number loses precision.".into(),
        );
    }
    out.push_str(&jsdoc(&doc, "  "));
    let key = property_key(&f.wire);
    let mark = if f.optional { "?" } else { "" };
    let _ = writeln!(out, "  {key}{mark}: {text};");
    text
}

/// A property name as TypeScript writes it: bare when it is an identifier, else quoted.
pub(super) fn property_key(name: &str) -> String {
    let mut chars = name.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if identifier {
        name.to_owned()
    } else {
        string(name)
    }
}

fn mentions_integer(ty: &Ty) -> bool {
    match ty {
        Ty::I64 => true,
        Ty::Option(inner) | Ty::Vec(inner) | Ty::Map(inner) | Ty::Boxed(inner) => {
            mentions_integer(inner)
        }
        Ty::Tuple(items) => items.iter().any(mentions_integer),
        _ => false,
    }
}

fn union(members: impl Iterator<Item = String>) -> String {
    let members: Vec<String> = members.collect();
    if members.is_empty() {
        "never".into()
    } else {
        members.join(" | ")
    }
}

/// A type expression, inside `types.d.ts` (named types bare).
pub(super) fn ts(space: &TypeSpace, ty: &Ty) -> String {
    expression(space, ty, "")
}

/// A type expression, named types prefixed with `path` (`types.` outside `types.d.ts`).
pub(super) fn expression(space: &TypeSpace, ty: &Ty, path: &str) -> String {
    let go = |t: &Ty| expression(space, t, path);
    match ty {
        Ty::String => "string".into(),
        Ty::I64 | Ty::F64 => "number".into(),
        Ty::Bool => "boolean".into(),
        Ty::Json => "runtime.JsonValue".into(),
        Ty::Named(id) => format!("{path}{}", space.get(*id).name),
        Ty::Option(inner) => match inner.as_ref() {
            // `Option<Option<T>>` (an optional field that keeps `null`) is still one `null`.
            Ty::Option(_) | Ty::Json => go(inner),
            _ => format!("{} | null", go(inner)),
        },
        Ty::Vec(inner) => {
            let item = go(inner);
            if item.contains(' ') {
                format!("({item})[]")
            } else {
                format!("{item}[]")
            }
        }
        Ty::Map(inner) => format!("{{ [key: string]: {} }}", go(inner)),
        Ty::Tuple(items) => format!("[{}]", items.iter().map(go).collect::<Vec<_>>().join(", ")),
        Ty::Boxed(inner) => go(inner),
    }
}
