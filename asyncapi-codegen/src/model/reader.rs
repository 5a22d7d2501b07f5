//! Reading typed objects out of the resolved tree, with located errors for every mismatch.

use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::model::schema;
pub(crate) use crate::resolve::At;
use crate::resolve::{Documents, Inlined, Target};
use crate::source::Span;
use crate::tree::{Map, Node, Value};

/// Collects diagnostics while the version readers walk the document.
pub(crate) struct Reader<'d> {
    pub docs: &'d Documents,
    pub diagnostics: Vec<Diagnostic>,
    /// Messages already read, by where they are written: a message used by several channels (or
    /// checked as a component first) is read, inlined and diagnosed once.
    pub messages: std::collections::HashMap<(crate::source::FileId, Span), crate::model::Message>,
}

/// An object being read, and how to name it in messages ("message `Foo`").
#[derive(Clone)]
pub(crate) struct Obj<'d> {
    pub at: At<'d>,
    pub map: &'d Map,
    pub what: String,
}

impl<'d> Obj<'d> {
    pub fn span(&self) -> Span {
        self.at.node.span
    }

    /// A field's node, in this object's file.
    pub fn child(&self, key: &str) -> Option<At<'d>> {
        self.map.get(key).map(|node| At {
            file: self.at.file,
            node,
        })
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some()
    }
}

impl<'d> Reader<'d> {
    pub fn new(docs: &'d Documents) -> Reader<'d> {
        Reader {
            docs,
            diagnostics: Vec::new(),
            messages: std::collections::HashMap::new(),
        }
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    pub fn error(&mut self, kind: ErrorKind, span: Span) {
        self.push(Diagnostic::error(kind, span));
    }

    /// Follows references to a value.
    pub fn deref(&mut self, at: At<'d>) -> Option<At<'d>> {
        match self.docs.deref(at) {
            Ok(at) => Some(at),
            Err(d) => {
                self.push(d);
                None
            }
        }
    }

    /// The chain of targets `at` goes through (empty when it is not a reference).
    pub fn ref_chain(&self, at: At<'d>) -> Vec<Target> {
        let mut chain = Vec::new();
        let mut current = at;
        while let Some(target) = self.docs.ref_of(current) {
            if chain.contains(target) || chain.len() > 64 {
                break;
            }
            chain.push(target.clone());
            current = self.docs.node_at(target);
        }
        chain
    }

    /// Follows references and requires an object.
    pub fn object(&mut self, at: At<'d>, what: impl Into<String>) -> Option<Obj<'d>> {
        let what = what.into();
        let at = self.deref(at)?;
        match &at.node.value {
            Value::Object(map) => Some(Obj { at, map, what }),
            other => {
                self.error(
                    ErrorKind::WrongType {
                        what,
                        expected: "an object",
                        found: other.kind(),
                    },
                    at.node.span,
                );
                None
            }
        }
    }

    /// The field of `obj` as an object, if present.
    pub fn object_field(&mut self, obj: &Obj<'d>, key: &str, what: &str) -> Option<Obj<'d>> {
        let child = obj.child(key)?;
        self.object(child, what.to_owned())
    }

    /// Flags fields that are neither allowed nor extensions (`x-…`), and missing required ones.
    pub fn fields(&mut self, obj: &Obj<'d>, allowed: &[&str], required: &[&str]) {
        for (key, _) in obj.map.iter() {
            if !key.name.starts_with("x-") && !allowed.contains(&key.name.as_str()) {
                self.error(
                    ErrorKind::UnknownField {
                        object: obj.what.clone(),
                        field: key.name.clone(),
                    },
                    key.span,
                );
            }
        }
        for field in required {
            if !obj.has(field) {
                self.error(
                    ErrorKind::MissingField {
                        object: obj.what.clone(),
                        field: (*field).to_owned(),
                    },
                    obj.span(),
                );
            }
        }
    }

    /// An optional string field.
    pub fn string(&mut self, obj: &Obj<'d>, key: &str) -> Option<String> {
        // A string may be kept in another file (a `description` in Markdown, say).
        let child = self.deref(obj.child(key)?)?;
        self.as_string(child.node, &format!("`{key}` of {}", obj.what))
    }

    /// A string value, or a type error.
    pub fn as_string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::String(s) => Some(s.clone()),
            other => {
                self.error(
                    ErrorKind::WrongType {
                        what: what.to_owned(),
                        expected: "a string",
                        found: other.kind(),
                    },
                    node.span,
                );
                None
            }
        }
    }

    /// An optional array field (after following a reference).
    pub fn array(&mut self, obj: &Obj<'d>, key: &str) -> Option<(At<'d>, &'d [Node])> {
        let child = self.deref(obj.child(key)?)?;
        match &child.node.value {
            Value::Array(items) => Some((child, items.as_slice())),
            other => {
                self.error(
                    ErrorKind::WrongType {
                        what: format!("`{key}` of {}", obj.what),
                        expected: "an array",
                        found: other.kind(),
                    },
                    child.node.span,
                );
                None
            }
        }
    }

    /// Inlines a value (every reference replaced).
    pub fn inline(&mut self, at: At<'d>) -> Option<Inlined> {
        match self.docs.inline(at) {
            Ok(inlined) => Some(inlined),
            Err(d) => {
                self.push(d);
                None
            }
        }
    }

    /// A channel's `bindings`, inlined. The `ws` binding's `query` and `headers` are the
    /// handshake's schemas: each must compile.
    pub fn channel_bindings(&mut self, channel: &Obj<'d>) -> Option<serde_json::Value> {
        let inlined = self.inline(channel.child("bindings")?)?;
        let json = inlined.to_json();
        for field in ["query", "headers"] {
            let schema = json.get("ws").and_then(|ws| ws.get(field));
            let node = inlined.node.get("ws").and_then(|ws| ws.get(field));
            if let (Some(schema), Some(node)) = (schema, node) {
                let what = format!("`bindings/ws/{field}` schema of {}", channel.what);
                schema::compile(schema, node, &inlined.defs, &what, &mut self.diagnostics);
            }
        }
        Some(json)
    }

    /// Inlines a value and drops positions.
    pub fn json(&mut self, at: At<'d>) -> Option<serde_json::Value> {
        self.inline(at).map(|i| i.to_json())
    }

    /// Tag names must be unique within one object's `tags`.
    pub fn unique_tags(&mut self, obj: &Obj<'d>) {
        let Some((_, tags)) = self.array(obj, "tags") else {
            return;
        };
        let mut seen: Vec<(String, Span)> = Vec::new();
        for tag in tags {
            let at = At {
                file: obj.at.file,
                node: tag,
            };
            let Some(tag_obj) = self.object(at, format!("a tag of {}", obj.what)) else {
                continue;
            };
            self.fields(
                &tag_obj,
                &["name", "description", "externalDocs"],
                &["name"],
            );
            let Some(name_node) = tag_obj.map.get("name") else {
                continue;
            };
            let Some(name) = self.as_string(name_node, "a tag's `name`") else {
                continue;
            };
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                let first = *first;
                self.push(
                    Diagnostic::error(
                        ErrorKind::DuplicateTag {
                            name: name.clone(),
                            object: obj.what.clone(),
                        },
                        name_node.span,
                    )
                    .with_label(first, "first used here"),
                );
            } else {
                seen.push((name, name_node.span));
            }
        }
    }
}

/// JSON Merge Patch (RFC 7396) on spanned trees: objects merge key by key, `null` deletes,
/// anything else replaces.
pub(crate) fn merge_patch(target: &mut Node, patch: Node) {
    match (&mut target.value, patch.value) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch.entries {
                if value.value == Value::Null {
                    base.remove(&key.name);
                } else if let Some(slot) = base.entries.iter_mut().find(|(k, _)| k.name == key.name)
                {
                    merge_patch(&mut slot.1, value);
                } else {
                    base.entries.push((key, value));
                }
            }
        }
        (_, value) => {
            *target = Node::new(value, patch.span);
        }
    }
}

/// The `{name}` parameters of a channel address, in order.
pub(crate) fn address_parameters(address: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = address;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            break;
        };
        out.push(&after[..close]);
        rest = &after[close + 1..];
    }
    out
}
