//! Evaluating a parsed expression against a message body: the runtime routes with it, and the
//! contract checker too, so a message checked against a document is routed as the server would.

use serde_json::Value;

use crate::grammar::Part;

/// A JSON body an expression reads: `serde_json::Value` here, and any other representation
/// (ws-runtime's frame tree) that can name a member and write a scalar as a key.
pub trait Body {
    /// The member `name` of an object; `None` for anything else.
    fn member(&self, name: &str) -> Option<&Self>;

    /// Appends the value as a route key: a string as it is, a number or a boolean as JSON writes
    /// it; nothing for `null`, an object or an array.
    fn write_key(&self, key: &mut String);
}

impl Body for Value {
    fn member(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }

    fn write_key(&self, key: &mut String) {
        match self {
            Value::String(s) => key.push_str(s),
            Value::Number(_) | Value::Bool(_) => key.push_str(&self.to_string()),
            _ => {}
        }
    }
}

/// The route key `parts` select from `body`: each body path is replaced by the value there
/// (strings as they are, numbers and booleans as JSON writes them); a missing path, `null`, an
/// object or an array gives the empty string.
pub fn evaluate<B: Body + ?Sized>(parts: &[Part], body: &B) -> String {
    let mut key = String::new();
    for part in parts {
        match part {
            Part::Literal(text) => key.push_str(text),
            Part::Body(path) => {
                let mut node = Some(body);
                for name in path {
                    node = node.and_then(|n| n.member(name));
                }
                if let Some(node) = node {
                    node.write_key(&mut key);
                }
            }
        }
    }
    key
}
