//! Route selection expressions, as API Gateway WebSocket APIs define them.
//!
//! Grammar (parsed once, at start-up):
//!
//! ```text
//! expression := "$request.body." path          -- the whole expression is one body path
//!             | ( literal | "${request.body." path "}" )*   -- a template
//! path       := name ( "." name )*             -- names are non-empty, no `.`, `{`, `}` or `$`
//! ```
//!
//! Evaluation happens once per message, with no recursion: each `${…}` part is replaced by the
//! value at its path (strings as they are, numbers and booleans as JSON writes them); a missing
//! path, `null`, an object or an array evaluates to the empty string.

use std::fmt;

use serde_json::Value;

/// A parsed route selection expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    source: String,
    parts: Vec<Part>,
}

use route_selection::Part;

/// Why an expression is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid route selection expression `{expression}`: {reason}")]
pub struct SelectionError {
    /// The expression as given.
    pub expression: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Selection {
    /// Parses an expression.
    ///
    /// # Errors
    /// An empty expression, an empty path or path segment, an unterminated `${`, a source other
    /// than `request.body`, or a stray `$`.
    ///
    /// ```
    /// use ws_runtime::Selection;
    /// let s = Selection::parse("${request.body.service}/${request.body.action}").unwrap();
    /// let key = s.evaluate(&serde_json::json!({"service": "chat", "action": "send"}));
    /// assert_eq!(key, "chat/send");
    /// assert!(Selection::parse("$request.header.x").is_err());
    /// ```
    pub fn parse(expression: &str) -> Result<Selection, SelectionError> {
        let parts = route_selection::parse(expression).map_err(|reason| SelectionError {
            expression: expression.to_owned(),
            reason,
        })?;
        Ok(Selection {
            source: expression.to_owned(),
            parts,
        })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The body path when the expression is exactly one path (`$request.body.action` →
    /// `["action"]`): then the route key is a field of the message, written once on the wire.
    pub fn single_path(&self) -> Option<&[String]> {
        match self.parts.as_slice() {
            [Part::Body(path)] => Some(path),
            _ => None,
        }
    }

    /// The route key a message selects: from a `serde_json::Value`, or from any other
    /// [`route_selection::Body`] (the runtime reads each frame's parsed tree).
    pub fn evaluate<B: route_selection::Body + ?Sized>(&self, body: &B) -> String {
        route_selection::evaluate(&self.parts, body)
    }

    /// Writes `route_key` at the single path (creating objects on the way), so encoding a typed
    /// message puts its route key on the wire once. Does nothing for templates.
    pub fn write_key(&self, body: &mut Value, route_key: &str) {
        let Some((last, parents)) = self.single_path().and_then(|p| p.split_last()) else {
            return;
        };
        let mut node = body;
        for name in parents {
            let Some(map) = node.as_object_mut() else {
                return;
            };
            node = map
                .entry(name.clone())
                .or_insert_with(|| Value::Object(Default::default()));
        }
        if let Some(map) = node.as_object_mut() {
            map.insert(last.clone(), Value::String(route_key.to_owned()));
        }
    }

    /// Removes the single path's field, so the typed message does not carry its route key.
    pub fn remove_key(&self, body: &mut Value) {
        let Some((last, parents)) = self.single_path().and_then(|p| p.split_last()) else {
            return;
        };
        let mut node = Some(body);
        for name in parents {
            node = node.and_then(|n| n.get_mut(name));
        }
        if let Some(map) = node.and_then(Value::as_object_mut) {
            map.remove(last);
        }
    }
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_grammar() {
        let plain = Selection::parse("$request.body.action").unwrap();
        assert_eq!(plain.single_path().unwrap(), ["action"]);
        assert_eq!(plain.evaluate(&json!({"action": "send"})), "send");

        let nested = Selection::parse("$request.body.meta.kind").unwrap();
        assert_eq!(nested.evaluate(&json!({"meta": {"kind": "x"}})), "x");

        let braces = Selection::parse("${request.body.action}").unwrap();
        assert_eq!(braces.evaluate(&json!({"action": "a"})), "a");
        assert!(braces.single_path().is_some());

        let template = Selection::parse("v1:${request.body.service}/${request.body.op}!").unwrap();
        assert_eq!(
            template.evaluate(&json!({"service": "s", "op": "o"})),
            "v1:s/o!"
        );
        assert!(template.single_path().is_none());

        let literal = Selection::parse("always").unwrap();
        assert_eq!(literal.evaluate(&json!({})), "always");
    }

    #[test]
    fn evaluation_is_once_and_total() {
        let s = Selection::parse("$request.body.action").unwrap();
        // No recursion: a value that looks like an expression is just text.
        assert_eq!(
            s.evaluate(&json!({"action": "${request.body.x}", "x": "y"})),
            "${request.body.x}"
        );
        assert_eq!(s.evaluate(&json!({})), "");
        assert_eq!(s.evaluate(&json!({"action": null})), "");
        assert_eq!(s.evaluate(&json!({"action": {"a": 1}})), "");
        assert_eq!(s.evaluate(&json!({"action": 7})), "7");
        assert_eq!(s.evaluate(&json!({"action": true})), "true");
        assert_eq!(s.evaluate(&json!([1, 2])), "");
    }

    #[test]
    fn invalid_expressions() {
        for (expression, words) in [
            ("", "empty"),
            ("$request.body.", "path is empty"),
            ("$request.body.a..b", "empty segment"),
            ("${request.body.a", "never closed"),
            ("${request.header.a}", "only the request body"),
            ("$request.querystring.a", "a `$` outside"),
            ("a}b", "brace"),
            ("${request.body.a b}", "holds a character"),
        ] {
            let error = Selection::parse(expression).unwrap_err();
            assert!(error.to_string().contains(words), "{expression}: {error}");
        }
    }

    #[test]
    fn keys_are_written_and_removed_once() {
        let s = Selection::parse("$request.body.meta.action").unwrap();
        let mut body = json!({"text": "hi"});
        s.write_key(&mut body, "send");
        assert_eq!(body, json!({"text": "hi", "meta": {"action": "send"}}));
        s.remove_key(&mut body);
        assert_eq!(body, json!({"text": "hi", "meta": {}}));
    }
}
