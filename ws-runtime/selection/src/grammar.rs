//! The grammar of route selection expressions, with no dependencies.

/// One piece of an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text copied into the route key.
    Literal(String),
    /// A dotted path into the message body.
    Body(Vec<String>),
}

const BODY: &str = "$request.body.";
const TEMPLATE_SOURCE: &str = "request.body.";

/// Parses an expression into its parts; the error says why it is not one.
pub fn parse(expression: &str) -> Result<Vec<Part>, String> {
    if expression.trim().is_empty() {
        return Err("it is empty".into());
    }
    if let Some(path) = expression.strip_prefix(BODY) {
        return Ok(vec![Part::Body(parse_path(path)?)]);
    }
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = expression;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("${") {
            let Some(end) = after.find('}') else {
                return Err("a `${` is never closed with `}`".into());
            };
            let inner = &after[..end];
            let Some(path) = inner.strip_prefix(TEMPLATE_SOURCE) else {
                return Err(format!(
                    "`${{{inner}}}` is not `${{request.body.PATH}}` (only the request body can select a route)"
                ));
            };
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            parts.push(Part::Body(parse_path(path)?));
            rest = &after[end + 1..];
        } else if c == '$' {
            return Err(
                "a `$` outside `${request.body.PATH}` (write `$request.body.PATH` alone, or use `${…}` parts)"
                    .into(),
            );
        } else if c == '{' || c == '}' {
            return Err("a brace outside `${…}`".into());
        } else {
            literal.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    if !literal.is_empty() {
        parts.push(Part::Literal(literal));
    }
    Ok(parts)
}

fn parse_path(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Err("the body path is empty".into());
    }
    path.split('.')
        .map(|name| {
            if name.is_empty() {
                Err(format!("the path `{path}` has an empty segment"))
            } else if name.contains(['{', '}', '$']) || name.chars().any(char::is_whitespace) {
                Err(format!(
                    "the path segment `{name}` holds a character paths cannot"
                ))
            } else {
                Ok(name.to_owned())
            }
        })
        .collect()
}
