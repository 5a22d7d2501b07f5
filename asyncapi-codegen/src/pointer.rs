//! JSON pointers (RFC 6901) as they appear in `$ref` fragments (RFC 3986 percent-escapes too).

use std::fmt;

/// A parsed JSON pointer: its unescaped reference tokens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Pointer(pub Vec<String>);

impl Pointer {
    /// The empty pointer: the whole document.
    pub fn root() -> Pointer {
        Pointer(Vec::new())
    }

    /// Parses a URI fragment (the text after `#`): percent-decoding first, then `~1` → `/` and
    /// `~0` → `~` in each token.
    ///
    /// # Errors
    /// A fragment that does not start with `/`, a bad percent-escape, or a `~` not followed by
    /// `0` or `1`; the message says which.
    pub fn parse_fragment(fragment: &str) -> Result<Pointer, String> {
        let decoded = percent_decode(fragment)?;
        Pointer::parse(&decoded)
    }

    /// Parses a JSON pointer that is already percent-decoded.
    ///
    /// # Errors
    /// As [`Pointer::parse_fragment`], less the percent-escapes.
    pub fn parse(text: &str) -> Result<Pointer, String> {
        if text.is_empty() {
            return Ok(Pointer::root());
        }
        let Some(rest) = text.strip_prefix('/') else {
            return Err(format!(
                "`{text}` does not start with `/` (anchors like `#name` are not supported)"
            ));
        };
        rest.split('/')
            .map(unescape_token)
            .collect::<Result<_, _>>()
            .map(Pointer)
    }

    pub fn push(&mut self, token: impl Into<String>) {
        self.0.push(token.into());
    }

    /// Removes the last token.
    pub fn pop(&mut self) -> Option<String> {
        self.0.pop()
    }

    /// A copy with one more token.
    pub fn join(&self, token: impl Into<String>) -> Pointer {
        let mut next = self.clone();
        next.push(token);
        next
    }

    pub fn tokens(&self) -> &[String] {
        &self.0
    }

    pub fn last(&self) -> Option<&str> {
        self.0.last().map(String::as_str)
    }
}

impl fmt::Display for Pointer {
    /// The escaped form, `/a~1b/c`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for token in &self.0 {
            write!(f, "/{}", token.replace('~', "~0").replace('/', "~1"))?;
        }
        Ok(())
    }
}

fn unescape_token(token: &str) -> Result<String, String> {
    if !token.contains('~') {
        return Ok(token.to_owned());
    }
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                other => {
                    return Err(format!(
                        "`~{}` in `{token}` is not an escape (only `~0` and `~1` are)",
                        other.map(String::from).unwrap_or_default()
                    ));
                }
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Decodes `%XX` escapes (as UTF-8).
///
/// # Errors
/// A `%` not followed by two hex digits, or bytes that are not UTF-8.
pub fn percent_decode(text: &str) -> Result<String, String> {
    if !text.contains('%') {
        return Ok(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(byte) => out.push(byte),
                None => return Err(format!("bad percent-escape at byte {i} of `{text}`")),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("percent-escapes in `{text}` are not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        let p = Pointer::parse_fragment("/paths/~1users~1{id}/a~0b/%7Bx%7D/with%20space").unwrap();
        assert_eq!(p.0, ["paths", "/users/{id}", "a~b", "{x}", "with space"]);
        assert_eq!(p.to_string(), "/paths/~1users~1{id}/a~0b/{x}/with space");
    }

    #[test]
    fn root_and_empty_tokens() {
        assert_eq!(Pointer::parse_fragment("").unwrap(), Pointer::root());
        assert_eq!(Pointer::parse_fragment("/").unwrap().0, [""]);
    }

    #[test]
    fn errors() {
        assert!(
            Pointer::parse_fragment("components")
                .unwrap_err()
                .contains("does not start")
        );
        assert!(
            Pointer::parse_fragment("/a~2")
                .unwrap_err()
                .contains("`~2`")
        );
        assert!(
            Pointer::parse_fragment("/a%zz")
                .unwrap_err()
                .contains("percent")
        );
        assert!(
            Pointer::parse_fragment("/a%ff")
                .unwrap_err()
                .contains("UTF-8")
        );
    }
}
