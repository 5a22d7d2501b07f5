//! What the validators asyncapi-rs compiles from message schemas call: a generated type checks a
//! frame's [`Tree`] with straight Rust code, these helpers doing what the keywords share
//! (lengths in characters, exact comparisons of numbers, JSON equality). A keyword the compiler
//! leaves to jsonschema (`pattern`, `format`, `multipleOf` …) is a [`Delegated`] schema of that
//! keyword alone, checked by jsonschema on that one value.
//!
//! The verdicts are jsonschema's: the same numbers compare equal, the same strings have the same
//! length, and delegated keywords are jsonschema's own code. Only the violations' details come
//! from jsonschema on the cold path (a frame the check refused), as before.

use std::cmp::Ordering;
use std::sync::OnceLock;

use num_cmp::NumCmp;
use serde_json::Number;

use crate::messages::tree::{Tree, TreeJson};

/// A limit of `minimum`, `maximum` and the exclusive ones, in the schema's own representation
/// (an integer stays an integer, so comparisons are exact).
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// A non-negative integer.
    U64(u64),
    /// A negative integer.
    I64(i64),
    /// Any other number.
    F64(f64),
}

/// How `n` compares with `limit`, exactly (no rounding of large integers through `f64`).
fn compare(n: &Number, limit: Limit) -> Option<Ordering> {
    fn by<A: NumCmp<B> + Copy, B: Copy>(a: A, b: B) -> Option<Ordering> {
        if a.num_lt(b) {
            Some(Ordering::Less)
        } else if a.num_gt(b) {
            Some(Ordering::Greater)
        } else if a.num_eq(b) {
            Some(Ordering::Equal)
        } else {
            None
        }
    }
    if let Some(a) = n.as_u64() {
        match limit {
            Limit::U64(b) => by(a, b),
            Limit::I64(b) => by(a, b),
            Limit::F64(b) => by(a, b),
        }
    } else if let Some(a) = n.as_i64() {
        match limit {
            Limit::U64(b) => by(a, b),
            Limit::I64(b) => by(a, b),
            Limit::F64(b) => by(a, b),
        }
    } else {
        let a = n.as_f64()?;
        match limit {
            Limit::U64(b) => by(a, b),
            Limit::I64(b) => by(a, b),
            Limit::F64(b) => by(a, b),
        }
    }
}

/// `minimum`: `n ≥ limit`.
pub fn at_least(n: &Number, limit: Limit) -> bool {
    matches!(compare(n, limit), Some(Ordering::Greater | Ordering::Equal))
}

/// `exclusiveMinimum`: `n > limit`.
pub fn above(n: &Number, limit: Limit) -> bool {
    compare(n, limit) == Some(Ordering::Greater)
}

/// `maximum`: `n ≤ limit`.
pub fn at_most(n: &Number, limit: Limit) -> bool {
    matches!(compare(n, limit), Some(Ordering::Less | Ordering::Equal))
}

/// `exclusiveMaximum`: `n < limit`.
pub fn below(n: &Number, limit: Limit) -> bool {
    compare(n, limit) == Some(Ordering::Less)
}

/// Whether `t` is a number equal to `limit` (`const` and `enum` of numbers: `1` and `1.0` are
/// the same number).
pub fn number_is(t: &Tree<'_>, limit: Limit) -> bool {
    matches!(t, Tree::Number(n) if compare(n, limit) == Some(Ordering::Equal))
}

/// `type: integer`: a number with no fraction (`1.0` is one, from draft 6 on).
pub fn is_integer(t: &Tree<'_>) -> bool {
    match t {
        Tree::Number(n) => n.is_u64() || n.is_i64() || n.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

/// A string's length as JSON Schema counts it: in characters (code points), not bytes.
pub fn chars(s: &str) -> usize {
    s.chars().count()
}

/// `minLength` refused: fewer than `n` characters.
pub fn shorter_than(s: &str, n: usize) -> bool {
    // A character is one to four bytes: the bytes settle most strings without counting.
    s.len() < n || (s.len() < n.saturating_mul(4) && chars(s) < n)
}

/// `maxLength` refused: more than `n` characters.
pub fn longer_than(s: &str, n: usize) -> bool {
    s.len() > n && chars(s) > n
}

/// `required`: every one of `names` is a member of the object.
pub fn has(members: &[(&str, Tree<'_>)], names: &[&str]) -> bool {
    names
        .iter()
        .all(|name| members.iter().any(|(key, _)| key == name))
}

/// `uniqueItems`: no two items are equal.
pub fn unique(items: &[Tree<'_>]) -> bool {
    items
        .iter()
        .enumerate()
        .all(|(i, a)| items[i + 1..].iter().all(|b| !equal(a, b)))
}

/// JSON equality as JSON Schema means it: numbers by value, objects whatever their order.
pub fn equal(a: &Tree<'_>, b: &Tree<'_>) -> bool {
    match (a, b) {
        (Tree::Null, Tree::Null) => true,
        (Tree::Bool(a), Tree::Bool(b)) => a == b,
        (Tree::String(a), Tree::String(b)) => a == b,
        (Tree::Number(a), Tree::Number(b)) => {
            let limit = if let Some(u) = b.as_u64() {
                Limit::U64(u)
            } else if let Some(i) = b.as_i64() {
                Limit::I64(i)
            } else {
                match b.as_f64() {
                    Some(f) => Limit::F64(f),
                    None => return false,
                }
            };
            compare(a, limit) == Some(Ordering::Equal)
        }
        (Tree::Array(a), Tree::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b.iter()).all(|(a, b)| equal(a, b))
        }
        (Tree::Object(a), Tree::Object(b)) => {
            a.len() == b.len()
                && a.iter().all(|(key, value)| {
                    b.iter()
                        .find(|(other, _)| other == key)
                        .is_some_and(|(_, other)| equal(value, other))
                })
        }
        _ => false,
    }
}

/// A keyword the compiler leaves to jsonschema, as a schema of its own (with the draft, and the
/// definitions its references need), compiled on first use.
#[derive(Debug)]
pub struct Delegated {
    schema: &'static str,
    validator: OnceLock<Option<jsonschema::Validator<TreeJson>>>,
}

impl Delegated {
    /// The schema, as JSON text.
    pub const fn new(schema: &'static str) -> Delegated {
        Delegated {
            schema,
            validator: OnceLock::new(),
        }
    }

    /// Whether jsonschema finds `t` valid. A schema jsonschema cannot compile accepts nothing
    /// (the generator compiled it from a schema jsonschema compiled, so this does not happen).
    pub fn check(&self, t: &Tree<'_>) -> bool {
        self.validator
            .get_or_init(|| {
                let json: serde_json::Value = serde_json::from_str(self.schema).ok()?;
                jsonschema::options_for::<TreeJson>().build(&json).ok()
            })
            .as_ref()
            .is_some_and(|validator| validator.is_valid(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<T>(text: &str, read: impl for<'t> FnOnce(&Tree<'t>) -> T) -> T {
        Tree::read(text, |tree| read(&tree.unwrap()))
    }

    #[test]
    fn numbers_compare_exactly_across_representations() {
        with("[9007199254740993, 1.0, -1, 2.5]", |t| {
            let Tree::Array(items) = t else { panic!() };
            let Tree::Number(big) = &items[0] else {
                panic!()
            };
            // 2^53 + 1 is above 2^53 as an f64 limit, which rounding would call equal.
            assert!(above(big, Limit::F64(9_007_199_254_740_992.0)));
            assert!(at_least(big, Limit::U64(9_007_199_254_740_993)));
            assert!(!above(big, Limit::U64(9_007_199_254_740_993)));
            assert!(number_is(&items[1], Limit::U64(1)));
            assert!(is_integer(&items[1]));
            assert!(below(
                match &items[2] {
                    Tree::Number(n) => n,
                    _ => panic!(),
                },
                Limit::U64(0)
            ));
            assert!(!is_integer(&items[3]));
        });
    }

    #[test]
    fn equality_is_by_value_and_ignores_member_order() {
        with(
            r#"[{"a": 1, "b": [true, null]}, {"b": [true, null], "a": 1.0}, {"a": 1}]"#,
            |t| {
                let Tree::Array(items) = t else { panic!() };
                assert!(equal(&items[0], &items[1]));
                assert!(!equal(&items[0], &items[2]));
                assert!(!unique(items));
                assert!(unique(&items[1..]));
            },
        );
    }

    #[test]
    fn lengths_count_characters_and_delegated_keywords_are_jsonschemas() {
        assert_eq!(chars("héllo 🌍"), 7);
        // 7 characters in 11 bytes.
        assert!(!longer_than("héllo 🌍", 7) && longer_than("héllo 🌍", 6));
        assert!(!shorter_than("héllo 🌍", 7) && shorter_than("héllo 🌍", 8));
        assert!(shorter_than("🌍🌍", 3) && !shorter_than("🌍🌍", 2));
        let pattern = Delegated::new(
            r#"{"$schema": "http://json-schema.org/draft-07/schema#", "pattern": "^\\d+$"}"#,
        );
        with(r#"["123", "12a", 5]"#, |t| {
            let Tree::Array(items) = t else { panic!() };
            assert!(pattern.check(&items[0]));
            assert!(!pattern.check(&items[1]));
            assert!(pattern.check(&items[2]), "pattern applies to strings only");
        });
        let broken = Delegated::new("not json");
        with("1", |t| assert!(!broken.check(t)));
    }
}
