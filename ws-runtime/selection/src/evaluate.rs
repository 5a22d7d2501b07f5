//! Evaluating a parsed expression against a message body: the runtime routes with it, and the
//! contract checker too, so a message checked against a document is routed as the server would.

use serde_json::Value;

use crate::grammar::Part;

/// The route key `parts` select from `body`: each body path is replaced by the value there
/// (strings as they are, numbers and booleans as JSON writes them); a missing path, `null`, an
/// object or an array gives the empty string.
pub fn evaluate(parts: &[Part], body: &Value) -> String {
    let mut key = String::new();
    for part in parts {
        match part {
            Part::Literal(text) => key.push_str(text),
            Part::Body(path) => {
                let mut node = Some(body);
                for name in path {
                    node = node.and_then(|n| n.get(name));
                }
                match node {
                    Some(Value::String(s)) => key.push_str(s),
                    Some(value @ (Value::Number(_) | Value::Bool(_))) => {
                        key.push_str(&value.to_string());
                    }
                    _ => {}
                }
            }
        }
    }
    key
}
