//! JSON Schema → Rust types (the README's mapping table).
//!
//! The type space holds every named type the generated code declares. A schema node becomes the
//! same type every time it is met (keyed by where it was written), so a component used by two
//! messages is one type, and a recursive definition is one type that refers to itself through a
//! `Box`. Whatever has no faithful Rust shape becomes `serde_json::Value`, with a doc comment
//! saying why; validation against the schema still applies.

use std::collections::BTreeMap;

use crate::plan::names::{field_name, type_name};
use crate::resolve::Definition;
use crate::routing::const_of;
use crate::scope::Scope;
use crate::source::Span;
use crate::tree::{Map, Node, Value};

pub type TypeId = usize;

/// A Rust type expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    String,
    I64,
    F64,
    Bool,
    /// Any JSON.
    Json,
    Named(TypeId),
    Option(Box<Ty>),
    Vec(Box<Ty>),
    /// `BTreeMap<String, T>`.
    Map(Box<Ty>),
    Tuple(Vec<Ty>),
    Boxed(Box<Ty>),
}

/// A declared type.
#[derive(Debug, Clone)]
pub struct TypeDef {
    pub name: String,
    pub doc: Vec<String>,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Struct(Vec<Field>),
    /// String values, each a unit variant with its wire value.
    StringEnum(Vec<(String, String)>),
    /// Integer values, kept integers on the wire.
    IntEnum(Vec<(String, i64)>),
    /// A `const` string: one unit variant, and the `Default`.
    Const {
        variant: String,
        wire: String,
    },
    /// `oneOf` with a discriminator: internally tagged by `tag`.
    Tagged {
        tag: String,
        variants: Vec<(String, String, Ty)>,
    },
    /// `oneOf`/`anyOf` without one: tried in order.
    Untagged(Vec<(String, Ty)>),
    /// `pub type Name = …;`
    Alias(Ty),
    /// `pub struct Name(pub …);` — a message whose payload is not its own struct.
    Newtype(Ty),
    /// Reserved while its schema is being read (recursion).
    Pending,
}

/// A struct field.
#[derive(Debug, Clone)]
pub struct Field {
    pub rust: String,
    pub wire: String,
    pub ty: Ty,
    /// Absent on the wire when `None` (not required).
    pub optional: bool,
    /// Optional, and `null` is one of its values: a `null` on the wire is `Some(..)`, not `None`.
    pub keeps_null: bool,
    /// Filled with `Default` when absent (a required `const`).
    pub default: bool,
    /// `#[serde(flatten)]` (additional properties next to declared ones).
    pub flatten: bool,
    pub doc: Vec<String>,
}

/// Every named type of the generated code.
#[derive(Debug, Default)]
pub struct TypeSpace {
    pub defs: Vec<TypeDef>,
    names: Scope,
    /// Named schemas of the document (`components.schemas`), by where they are written.
    named: BTreeMap<Span, String>,
    /// Types already made, by the span of their schema (and the tag they were read without).
    made: BTreeMap<(Span, Option<String>), TypeId>,
    /// Types being read right now: a reference to one of them is a cycle, and gets a `Box`.
    building: Vec<TypeId>,
}

/// What a schema is read with: its definitions (cycles), and a name for anonymous parts.
#[derive(Debug, Clone, Copy)]
pub struct Cx<'a> {
    pub defs: &'a [Definition],
}

impl TypeSpace {
    pub fn new(named: impl IntoIterator<Item = (Span, String)>, reserved: &[&str]) -> TypeSpace {
        TypeSpace {
            named: named.into_iter().collect(),
            names: Scope::with(reserved),
            ..TypeSpace::default()
        }
    }

    /// Claims a type name (unique in the generated module).
    pub fn claim(&mut self, base: &str) -> String {
        self.names.claim(type_name(base))
    }

    /// Claims `base`, or `base` + `suffix` when `base` is taken (then numbers).
    pub fn claim_fresh(&mut self, base: &str, suffix: &str) -> String {
        let plain = type_name(base);
        if !self.names.contains(&plain) {
            return self.names.claim(plain);
        }
        self.names.claim(format!("{plain}{suffix}"))
    }

    /// Declares a type and returns its id.
    pub fn declare(&mut self, name: String, doc: Vec<String>, kind: Kind) -> TypeId {
        self.defs.push(TypeDef { name, doc, kind });
        self.defs.len() - 1
    }

    pub fn get(&self, id: TypeId) -> &TypeDef {
        &self.defs[id]
    }

    /// Whether `span` is a named schema of the document.
    pub fn is_named(&self, span: Span) -> bool {
        self.named.contains_key(&span)
    }

    /// The type of a schema. `hint` names it when it needs a name of its own.
    pub fn ty(&mut self, node: &Node, hint: &str, cx: Cx<'_>) -> Ty {
        self.ty_without(node, hint, cx, None)
    }

    fn ty_without(&mut self, node: &Node, hint: &str, cx: Cx<'_>, without: Option<&str>) -> Ty {
        let map = match &node.value {
            Value::Object(map) => map,
            _ => return Ty::Json,
        };
        // A cut cycle: the definition is a named type of its own.
        if let Some(reference) = map.get("$ref").and_then(Node::as_str) {
            let Some(def) = reference
                .strip_prefix("#/$defs/")
                .and_then(|name| cx.defs.iter().find(|d| d.name == name))
            else {
                return Ty::Json;
            };
            return self.named_type(&def.node, &def.name, cx, without);
        }
        if let Some(inner) = nullable_inner(node) {
            return match self.ty_without(&inner, hint, cx, without) {
                Ty::Option(t) => Ty::Option(t),
                Ty::Json => Ty::Json,
                other => Ty::Option(Box::new(other)),
            };
        }
        if let Some(value) = map.get("const")
            && !matches!(value.value, Value::String(_))
        {
            return scalar_of(value);
        }
        if needs_a_name(map) {
            let name = self.named.get(&node.span).cloned();
            return self.named_type(node, name.as_deref().unwrap_or(hint), cx, without);
        }
        if is_array(map) {
            let tuple = match (map.get("prefixItems"), map.get("items")) {
                (Some(list), _) | (None, Some(list)) => list.as_array(),
                _ => None,
            };
            if let Some(items) = tuple {
                let tys = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.ty(item, &format!("{hint} {}", i + 1), cx))
                    .collect();
                return Ty::Tuple(tys);
            }
            return match map.get("items") {
                Some(
                    items @ Node {
                        value: Value::Object(_),
                        ..
                    },
                ) => Ty::Vec(Box::new(self.ty(items, &format!("{hint} item"), cx))),
                _ => Ty::Vec(Box::new(Ty::Json)),
            };
        }
        scalar(map).unwrap_or(Ty::Json)
    }

    /// The named type of a schema that needs one (object, enum, union), made once per schema.
    fn named_type(&mut self, node: &Node, hint: &str, cx: Cx<'_>, without: Option<&str>) -> Ty {
        let key = (node.span, without.map(str::to_owned));
        if let Some(&id) = self.made.get(&key) {
            return Ty::Named(id);
        }
        let Value::Object(map) = &node.value else {
            return Ty::Json;
        };
        // Aliases that need no declaration.
        if let Some(ty) = self.unnamed_shape(map, hint, cx) {
            return ty;
        }
        let name = self.claim(hint);
        let id = self.declare(name.clone(), doc(map), Kind::Pending);
        self.made.insert(key, id);
        self.building.push(id);
        let kind = self.kind(map, &name, cx, without);
        self.building.pop();
        self.defs[id].kind = kind;
        Ty::Named(id)
    }

    /// Object schemas with no declared properties are maps, not structs.
    fn unnamed_shape(&mut self, map: &Map, hint: &str, cx: Cx<'_>) -> Option<Ty> {
        let object_like = is_object(map)
            && map
                .get("properties")
                .and_then(Node::as_object)
                .is_none_or(Map::is_empty)
            && map.get("allOf").is_none()
            && map.get("oneOf").is_none()
            && map.get("anyOf").is_none()
            && map.get("enum").is_none()
            && map.get("const").is_none();
        if !object_like {
            return None;
        }
        let value = match map.get("additionalProperties") {
            Some(
                schema @ Node {
                    value: Value::Object(_),
                    ..
                },
            ) => self.ty(schema, &format!("{hint}Value"), cx),
            _ => Ty::Json,
        };
        Some(Ty::Map(Box::new(value)))
    }

    fn kind(&mut self, map: &Map, name: &str, cx: Cx<'_>, without: Option<&str>) -> Kind {
        if let Some(value) = map.get("const") {
            return match &value.value {
                Value::String(s) => Kind::Const {
                    variant: type_name(s),
                    wire: s.clone(),
                },
                _ => Kind::Alias(scalar_of(value)),
            };
        }
        if let Some(values) = map.get("enum").and_then(Node::as_array) {
            return enumeration(values);
        }
        if let Some(merged) = merge_all_of(map, cx) {
            return self.object(&merged, name, cx, without);
        }
        for keyword in ["oneOf", "anyOf"] {
            if let Some(variants) = map.get(keyword).and_then(Node::as_array) {
                return self.union(map, variants, name, cx);
            }
        }
        if map.get("allOf").is_some() {
            return match all_of_shape(map, cx) {
                Some(part) => Kind::Alias(self.ty(&part, name, cx)),
                None => Kind::Alias(Ty::Json),
            };
        }
        self.object(map, name, cx, without)
    }

    fn object(&mut self, map: &Map, name: &str, cx: Cx<'_>, without: Option<&str>) -> Kind {
        let required: Vec<&str> = map
            .get("required")
            .and_then(Node::as_array)
            .map(|r| r.iter().filter_map(Node::as_str).collect())
            .unwrap_or_default();
        let mut scope = Scope::default();
        let mut fields = Vec::new();
        if let Some(properties) = map.get("properties").and_then(Node::as_object) {
            for (key, schema) in properties.iter() {
                if Some(key.name.as_str()) == without {
                    continue;
                }
                let hint = format!("{name} {}", key.name);
                let ty = self.ty(schema, &hint, cx);
                let ty = self.box_cycles(ty);
                let is_required = required.contains(&key.name.as_str());
                let is_const = matches!(&ty, Ty::Named(id) if matches!(self.defs[*id].kind, Kind::Const { .. }));
                // An optional property that allows `null` has three states: absent (`None`),
                // `null` (`Some(None)`, or `Some(Value::Null)` for any JSON) and a value.
                let keeps_null = !is_required && accepts_null(schema, cx, 0);
                let ty = match (is_required, keeps_null, ty) {
                    (true, _, ty) => ty,
                    (false, _, Ty::Json) => Ty::Option(Box::new(Ty::Json)),
                    (false, true, Ty::Option(inner)) => Ty::Option(Box::new(Ty::Option(inner))),
                    (false, true, ty) => Ty::Option(Box::new(Ty::Option(Box::new(ty)))),
                    (false, false, Ty::Option(inner)) => Ty::Option(inner),
                    (false, false, ty) => Ty::Option(Box::new(ty)),
                };
                fields.push(Field {
                    rust: scope.claim(field_name(&key.name)),
                    wire: key.name.clone(),
                    ty,
                    optional: !is_required,
                    keeps_null,
                    default: is_required && is_const,
                    flatten: false,
                    doc: schema.as_object().map(doc).unwrap_or_default(),
                });
            }
        }
        // JSON Schema objects are open unless `additionalProperties: false`: the properties the
        // schema does not declare are kept here, so nothing a valid message carries is lost.
        let extra = match map.get("additionalProperties").map(|n| &n.value) {
            Some(Value::Bool(false)) => None,
            Some(Value::Object(_)) => map
                .get("additionalProperties")
                .map(|schema| self.ty(schema, &format!("{name} Value"), cx)),
            _ => Some(Ty::Json),
        };
        if let Some(value) = extra {
            fields.push(Field {
                rust: scope.claim("additional_properties".into()),
                wire: String::new(),
                ty: Ty::Map(Box::new(value)),
                optional: false,
                keeps_null: false,
                default: false,
                flatten: true,
                doc: vec!["Properties the schema does not declare (it allows them).".into()],
            });
        }
        Kind::Struct(fields)
    }

    fn union(&mut self, map: &Map, variants: &[Node], name: &str, cx: Cx<'_>) -> Kind {
        let resolved: Vec<Node> = variants.iter().map(|v| resolve_def(v, cx)).collect();
        if let Some(tag) = discriminator(map, &resolved) {
            let mut scope = Scope::default();
            let mut out = Vec::new();
            for variant in &resolved {
                let Some(wire) = const_of(variant, &tag) else {
                    continue;
                };
                let variant_name = scope.claim(type_name(&wire));
                let named = self.named.get(&variant.span).cloned();
                let hint = named.unwrap_or_else(|| format!("{name} {wire}"));
                let ty = self.named_type(variant, &hint, cx, Some(&tag));
                out.push((variant_name, wire, self.box_cycles(ty)));
            }
            return Kind::Tagged { tag, variants: out };
        }
        let mut scope = Scope::default();
        let mut out: Vec<(String, Ty, usize)> = Vec::new();
        for (i, variant) in variants.iter().enumerate() {
            let hint = self
                .named
                .get(&resolved[i].span)
                .cloned()
                .unwrap_or_else(|| format!("{name} variant {}", i + 1));
            let ty = self.ty(variant, &hint, cx);
            let ty = self.box_cycles(ty);
            if out.iter().any(|(_, t, _)| *t == ty) {
                continue;
            }
            let base = match &ty {
                Ty::Named(id) => self.defs[*id].name.clone(),
                Ty::String => "String".into(),
                Ty::I64 => "Integer".into(),
                Ty::F64 => "Number".into(),
                Ty::Bool => "Boolean".into(),
                Ty::Vec(_) | Ty::Tuple(_) => "Array".into(),
                Ty::Map(_) => "Object".into(),
                _ => format!("Variant{}", i + 1),
            };
            out.push((scope.claim(base), ty, specificity(&resolved[i])));
        }
        // The first variant that matches wins: most specific first (stable otherwise).
        out.sort_by_key(|v| std::cmp::Reverse(v.2));
        Kind::Untagged(out.into_iter().map(|(n, t, _)| (n, t)).collect())
    }

    /// A reference to a type still being read is a cycle: box it (not inside Vec or Map).
    fn box_cycles(&self, ty: Ty) -> Ty {
        match ty {
            Ty::Named(id) if self.building.contains(&id) => Ty::Boxed(Box::new(Ty::Named(id))),
            Ty::Option(inner) => Ty::Option(Box::new(self.box_cycles(*inner))),
            other => other,
        }
    }
}

/// Doc lines from `title` and `description`.
fn doc(map: &Map) -> Vec<String> {
    let mut lines = Vec::new();
    for key in ["title", "description"] {
        if let Some(text) = map.get(key).and_then(Node::as_str) {
            if !lines.is_empty() {
                lines.push(String::new());
            }
            lines.extend(text.trim().lines().map(|l| l.trim_end().to_owned()));
        }
    }
    lines
}

fn is_object(map: &Map) -> bool {
    match map.get("type").map(|t| &t.value) {
        Some(Value::String(t)) => t == "object",
        Some(_) => false,
        None => map.get("properties").is_some() || map.get("additionalProperties").is_some(),
    }
}

/// Schemas that become a named type: objects with properties, enums, string consts, unions.
fn needs_a_name(map: &Map) -> bool {
    if let Some(value) = map.get("const") {
        return matches!(value.value, Value::String(_));
    }
    if let Some(values) = map.get("enum").and_then(Node::as_array) {
        return !values.is_empty();
    }
    map.get("oneOf").is_some()
        || map.get("anyOf").is_some()
        || map.get("allOf").is_some()
        || is_object(map)
}

fn is_array(map: &Map) -> bool {
    match map.get("type").map(|t| &t.value) {
        Some(Value::String(t)) => t == "array",
        Some(_) => false,
        None => map.get("items").is_some() || map.get("prefixItems").is_some(),
    }
}

/// The type of a scalar schema (`type: string` …); `None` when it has no single one.
fn scalar(map: &Map) -> Option<Ty> {
    match map.get("type").map(|t| &t.value) {
        Some(Value::String(t)) => match t.as_str() {
            "string" => Some(Ty::String),
            "integer" => Some(Ty::I64),
            "number" => Some(Ty::F64),
            "boolean" => Some(Ty::Bool),
            _ => None,
        },
        _ => None,
    }
}

fn scalar_of(value: &Node) -> Ty {
    match &value.value {
        Value::Bool(_) => Ty::Bool,
        Value::Number(n) if n.is_i64() || n.is_u64() => Ty::I64,
        Value::Number(_) => Ty::F64,
        Value::String(_) => Ty::String,
        _ => Ty::Json,
    }
}

fn enumeration(values: &[Node]) -> Kind {
    let mut scope = Scope::default();
    if values.iter().all(|v| v.as_str().is_some()) {
        let variants: Vec<(String, String)> = values
            .iter()
            .filter_map(Node::as_str)
            .map(|s| {
                let base = if s.is_empty() {
                    "Empty".to_owned()
                } else {
                    type_name(s)
                };
                (scope.claim(base), s.to_owned())
            })
            .collect();
        if let [(variant, wire)] = variants.as_slice() {
            return Kind::Const {
                variant: variant.clone(),
                wire: wire.clone(),
            };
        }
        return Kind::StringEnum(variants);
    }
    let ints: Option<Vec<i64>> = values
        .iter()
        .map(|v| match &v.value {
            Value::Number(n) => n.as_i64(),
            _ => None,
        })
        .collect();
    if let Some(ints) = ints {
        return Kind::IntEnum(
            ints.into_iter()
                .map(|n| {
                    let base = if n < 0 {
                        format!("Minus{}", n.unsigned_abs())
                    } else {
                        format!("N{n}")
                    };
                    (scope.claim(base), n)
                })
                .collect(),
        );
    }
    Kind::Alias(Ty::Json)
}

/// `type: [T, "null"]`, `oneOf/anyOf: [T, {type: null}]`, or an enum with `null`: the schema
/// without its null.
fn nullable_inner(node: &Node) -> Option<Node> {
    let map = node.as_object()?;
    if let Some(Value::Array(types)) = map.get("type").map(|t| &t.value) {
        let non_null: Vec<&Node> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .collect();
        if non_null.len() + 1 == types.len() && non_null.len() == 1 {
            let mut copy = map.clone();
            copy.insert(
                crate::tree::Key {
                    name: "type".into(),
                    span: node.span,
                },
                non_null[0].clone(),
            );
            return Some(Node::new(Value::Object(copy), node.span));
        }
    }
    for keyword in ["oneOf", "anyOf"] {
        if let Some(variants) = map.get(keyword).and_then(Node::as_array) {
            let is_null = |v: &Node| v.get("type").and_then(Node::as_str) == Some("null");
            let rest: Vec<Node> = variants.iter().filter(|v| !is_null(v)).cloned().collect();
            if rest.len() + 1 != variants.len() || rest.is_empty() {
                continue;
            }
            let only_annotations = map
                .iter()
                .all(|(key, _)| key.name == keyword || is_annotation(&key.name));
            if rest.len() == 1 && only_annotations {
                return rest.into_iter().next();
            }
            if rest.len() > 1 {
                let mut copy = map.clone();
                copy.insert(
                    crate::tree::Key {
                        name: keyword.into(),
                        span: node.span,
                    },
                    Node::new(Value::Array(rest), node.span),
                );
                return Some(Node::new(Value::Object(copy), node.span));
            }
        }
    }
    if let Some(values) = map.get("enum").and_then(Node::as_array)
        && values.iter().any(|v| v.value == Value::Null)
        && values.len() > 1
    {
        let mut copy = map.clone();
        let kept: Vec<Node> = values
            .iter()
            .filter(|v| v.value != Value::Null)
            .cloned()
            .collect();
        copy.insert(
            crate::tree::Key {
                name: "enum".into(),
                span: node.span,
            },
            Node::new(Value::Array(kept), node.span),
        );
        return Some(Node::new(Value::Object(copy), node.span));
    }
    None
}

/// Keywords that describe a schema without constraining its values.
fn is_annotation(keyword: &str) -> bool {
    matches!(
        keyword,
        "title"
            | "description"
            | "$comment"
            | "default"
            | "examples"
            | "example"
            | "deprecated"
            | "readOnly"
            | "writeOnly"
            | "format"
    ) || keyword.starts_with("x-")
}

/// Whether `null` is a valid value of the schema. Structural, over the keywords that decide it
/// (`type`, `const`, `enum`, `oneOf`/`anyOf`/`allOf`, cut cycles through `$defs`); a keyword it
/// does not read counts as allowing `null`, so a doubt keeps the `null` rather than losing it.
fn accepts_null(node: &Node, cx: Cx<'_>, depth: usize) -> bool {
    let map = match &node.value {
        Value::Object(map) => map,
        Value::Bool(allowed) => return *allowed,
        _ => return true,
    };
    if depth > 32 {
        return true;
    }
    let reads = |n: &Node| accepts_null(n, cx, depth + 1);
    if let Some(reference) = map.get("$ref").and_then(Node::as_str)
        && let Some(def) = reference
            .strip_prefix("#/$defs/")
            .and_then(|name| cx.defs.iter().find(|d| d.name == name))
        && !reads(&def.node)
    {
        return false;
    }
    let type_allows = match map.get("type").map(|t| &t.value) {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(types)) => types.iter().any(|t| t.as_str() == Some("null")),
        _ => true,
    };
    let const_allows = map.get("const").is_none_or(|c| c.value == Value::Null);
    let enum_allows = map
        .get("enum")
        .and_then(Node::as_array)
        .is_none_or(|values| values.iter().any(|v| v.value == Value::Null));
    let some_variant = |keyword| {
        map.get(keyword)
            .and_then(Node::as_array)
            .is_none_or(|variants| variants.iter().any(reads))
    };
    let all_parts = map
        .get("allOf")
        .and_then(Node::as_array)
        .is_none_or(|parts| parts.iter().all(reads));
    type_allows
        && const_allows
        && enum_allows
        && some_variant("oneOf")
        && some_variant("anyOf")
        && all_parts
}

/// A `$defs` reference, followed (for reading a union's variants).
fn resolve_def(node: &Node, cx: Cx<'_>) -> Node {
    node.get("$ref")
        .and_then(Node::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| cx.defs.iter().find(|d| d.name == name))
        .map_or_else(|| node.clone(), |d| d.node.clone())
}

/// `allOf` whose parts are all objects: one object with every property and requirement.
fn merge_all_of(map: &Map, cx: Cx<'_>) -> Option<Map> {
    let parts = map.get("allOf")?.as_array()?;
    let mut merged = map.clone();
    merged.remove("allOf");
    let mut properties = merged
        .get("properties")
        .and_then(Node::as_object)
        .cloned()
        .unwrap_or_default();
    let mut required: Vec<Node> = merged
        .get("required")
        .and_then(Node::as_array)
        .map(<[Node]>::to_vec)
        .unwrap_or_default();
    let span = merged
        .entries
        .first()
        .map_or(parts.first().map(|p| p.span)?, |(k, _)| k.span);
    for part in parts {
        let part = resolve_def(part, cx);
        let part_map = part.as_object()?;
        let part_map = match merge_all_of(part_map, cx) {
            Some(inner) => inner,
            None => part_map.clone(),
        };
        if !is_object(&part_map) && part_map.get("properties").is_none() {
            // Only annotations (description …) may sit beside object parts.
            if part_map
                .iter()
                .any(|(k, _)| !matches!(k.name.as_str(), "description" | "title" | "type"))
            {
                return None;
            }
        }
        if part_map.get("oneOf").is_some() || part_map.get("anyOf").is_some() {
            return None;
        }
        if let Some(props) = part_map.get("properties").and_then(Node::as_object) {
            for (key, value) in props.iter() {
                properties.insert(key.clone(), value.clone());
            }
        }
        if let Some(req) = part_map.get("required").and_then(Node::as_array) {
            required.extend(req.iter().cloned());
        }
    }
    let key = |name: &str| crate::tree::Key {
        name: name.into(),
        span,
    };
    merged.insert(key("type"), Node::new(Value::String("object".into()), span));
    merged.insert(
        key("properties"),
        Node::new(Value::Object(properties), span),
    );
    merged.insert(key("required"), Node::new(Value::Array(required), span));
    Some(merged)
}

/// The keywords that give a schema its shape; the rest only constrain or annotate it.
const SHAPE: &[&str] = &[
    "type",
    "properties",
    "patternProperties",
    "additionalProperties",
    "items",
    "prefixItems",
    "$ref",
    "oneOf",
    "anyOf",
    "allOf",
    "enum",
    "const",
];

/// `allOf` of one part with a shape and parts that only constrain it (`minItems`, `required`,
/// `pattern`, annotations …), when the parts are not all objects: the shaped part, whose type
/// holds every valid value (validation still checks them all).
fn all_of_shape(map: &Map, cx: Cx<'_>) -> Option<Node> {
    let shaped = |map: &Map| map.iter().any(|(k, _)| SHAPE.contains(&k.name.as_str()));
    let beside = map
        .iter()
        .any(|(k, _)| k.name != "allOf" && SHAPE.contains(&k.name.as_str()));
    if beside {
        return None;
    }
    let mut found = None;
    for part in map.get("allOf")?.as_array()? {
        if shaped(resolve_def(part, cx).as_object()?) {
            if found.is_some() {
                return None;
            }
            found = Some(part.clone());
        }
    }
    found
}

/// A union's discriminator: the `discriminator` keyword, or a property every variant pins to a
/// distinct string.
fn discriminator(map: &Map, variants: &[Node]) -> Option<String> {
    let declared = map.get("discriminator").and_then(|d| match &d.value {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o
            .get("propertyName")
            .and_then(Node::as_str)
            .map(str::to_owned),
        _ => None,
    });
    let candidates: Vec<String> = match declared {
        Some(name) => vec![name],
        None => variants
            .first()?
            .get("properties")?
            .as_object()?
            .iter()
            .map(|(k, _)| k.name.clone())
            .collect(),
    };
    candidates.into_iter().find(|name| {
        let values: Vec<Option<String>> = variants.iter().map(|v| const_of(v, name)).collect();
        let mut seen: Vec<&String> = Vec::new();
        values.iter().all(|v| match v {
            Some(v) if !seen.contains(&v) => {
                seen.push(v);
                true
            }
            _ => false,
        }) && variants.len() > 1
    })
}

/// How picky a variant is: objects with more required properties first, then integers before
/// numbers, then the rest.
fn specificity(schema: &Node) -> usize {
    let required = schema
        .get("required")
        .and_then(Node::as_array)
        .map_or(0, <[Node]>::len);
    let properties = schema
        .get("properties")
        .and_then(Node::as_object)
        .map_or(0, Map::len);
    let closed = usize::from(matches!(
        schema.get("additionalProperties").map(|n| &n.value),
        Some(Value::Bool(false))
    ));
    let scalar = match schema.get("type").and_then(Node::as_str) {
        Some("integer") => 3,
        Some("number") => 2,
        Some("boolean" | "string") => 1,
        _ => 0,
    };
    required * 1000 + closed * 100 + properties * 10 + scalar
}
