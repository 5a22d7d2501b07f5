//! Rust names from document names: readable, valid, unique, and the same on every run.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Words that cannot be identifiers (strict and reserved keywords, 2024 edition).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Type names the generated code must not shadow (it uses fully qualified paths, but a user
/// reading `Option` should see the real one).
const PRELUDE: &[&str] = &[
    "Option",
    "Result",
    "String",
    "Vec",
    "Box",
    "Some",
    "None",
    "Ok",
    "Err",
    "Default",
    "Send",
    "Sync",
    "Sized",
    "Copy",
    "Clone",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "Iterator",
    "ToString",
    "ToOwned",
    "From",
    "Into",
    "PartialEq",
    "Eq",
    "Ord",
    "PartialOrd",
    "Debug",
    "Hash",
];

/// Splits a name into ASCII words: anything else separates words.
fn ascii_words(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `send message`, `sendMessage`, `send-message` → `SendMessage`.
pub(crate) fn type_name(name: &str) -> String {
    let mut out = ascii_words(name).to_upper_camel_case();
    if out.is_empty() {
        out = "Unnamed".into();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'N');
    }
    if KEYWORDS.contains(&out.as_str()) || PRELUDE.contains(&out.as_str()) {
        out.push_str("Type");
    }
    out
}

/// `sendMessage` → `send_message`; keywords and leading digits made safe.
pub(crate) fn field_name(name: &str) -> String {
    let mut out = ascii_words(name).to_snake_case();
    if out.is_empty() {
        out = "field".into();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'n');
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(type_name("sendMessage"), "SendMessage");
        assert_eq!(type_name("user/signed-up"), "UserSignedUp");
        assert_eq!(type_name("2fa"), "N2fa");
        assert_eq!(type_name("Option"), "OptionType");
        assert_eq!(type_name("self"), "SelfType");
        assert_eq!(type_name("名前"), "Unnamed");
        assert_eq!(field_name("type"), "type_");
        assert_eq!(field_name("userId"), "user_id");
        assert_eq!(field_name("$ref"), "ref_");
        assert_eq!(field_name("1st"), "n1st");
        assert_eq!(field_name("café"), "caf");
    }
}
