//! A frame's JSON, parsed once into a tree that borrows the frame's text: what the runtime
//! routes, validates and deserializes each message from.
//!
//! `serde_json::Value` allocates a `String` for every key and string and a map for every object;
//! this tree lives in an arena ([`bumpalo::Bump`], each worker thread's own, emptied and reused
//! frame after frame): its arrays and objects are slices of the arena, its strings borrow the
//! frame (or, with escapes, the arena). The validator reads
//! it directly (jsonschema's custom-representation traits), the typed message is deserialized
//! from it (the route key skipped on the way), and it becomes a `Value` only where one is handed
//! out (`RawMessage::json`) or on a cold path (the text of a validation error).

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use bumpalo::Bump;
use jsonschema::JsonType;
use jsonschema::json::{Array, Json, Node, NodeIdentity, Object};
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde_json::{Number, Value};

/// One JSON value of a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Tree<'t> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as `serde_json` reads it.
    Number(Number),
    /// A string: borrowed from the frame, or from the arena when it had escapes.
    String(&'t str),
    /// An array.
    Array(&'t [Tree<'t>]),
    /// Members in the frame's order; a name given twice keeps its first place and its last value,
    /// as `serde_json::Value` does.
    Object(&'t [(&'t str, Tree<'t>)]),
}

impl Tree<'_> {
    /// Parses `text` into this thread's arena and hands the tree (or serde_json's error) to
    /// `read`. The arena and the parser's stacks are emptied and reused frame after frame, so a
    /// parse allocates nothing once they have grown to the frames' size (grown past 64 KiB by a
    /// large frame, they are let go afterwards).
    pub fn read<T>(
        text: &str,
        read: impl for<'t> FnOnce(Result<Tree<'t>, serde_json::Error>) -> T,
    ) -> T {
        thread_local! {
            static REUSED: RefCell<Reused> = RefCell::new(Reused::default());
        }
        const KEEP: usize = 64 * 1024;
        REUSED.with(|cell| match cell.try_borrow_mut() {
            Ok(mut reused) => {
                let Reused { arena, stacks } = &mut *reused;
                arena.reset();
                let mut scratch = std::mem::take(stacks).recycle();
                let out = read(Tree::parse_with(text, arena, &mut scratch));
                if scratch.capacity() <= KEEP {
                    *stacks = scratch.recycle();
                }
                if arena.allocated_bytes() > KEEP {
                    *arena = Bump::new();
                }
                out
            }
            // A parse inside `read` on the same thread: an arena of its own.
            Err(_) => read(Tree::parse(text, &Bump::new())),
        })
    }
}

/// What [`Tree::read`] keeps from one frame to the next on a thread: the arena, and the parser's
/// stacks (empty, with their capacity).
#[derive(Default)]
struct Reused {
    arena: Bump,
    stacks: Scratch<'static>,
}

impl<'t> Tree<'t> {
    /// Parses `text` (serde_json's parser and its nesting limit) into `arena`.
    ///
    /// # Errors
    /// serde_json's error for text that is not one JSON value.
    pub fn parse(text: &'t str, arena: &'t Bump) -> Result<Tree<'t>, serde_json::Error> {
        Tree::parse_with(text, arena, &mut Scratch::default())
    }

    fn parse_with(
        text: &'t str,
        arena: &'t Bump,
        scratch: &mut Scratch<'t>,
    ) -> Result<Tree<'t>, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let tree = TreeSeed { arena, scratch }.deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(tree)
    }

    /// The member `name` of an object.
    pub fn get(&self, name: &str) -> Option<&Tree<'t>> {
        match self {
            Tree::Object(members) => member(members, name),
            _ => None,
        }
    }

    /// The same JSON as a `serde_json::Value`.
    pub fn to_value(&self) -> Value {
        match self {
            Tree::Null => Value::Null,
            Tree::Bool(b) => Value::Bool(*b),
            Tree::Number(n) => Value::Number(n.clone()),
            Tree::String(s) => Value::String((*s).to_owned()),
            Tree::Array(items) => Value::Array(items.iter().map(Tree::to_value).collect()),
            Tree::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// Deserializes `T` from the tree, leaving out the top-level member `skip` (a route key the
    /// route's enum carries).
    ///
    /// # Errors
    /// serde's error when the JSON does not fit `T`.
    pub fn deserialize<T: de::DeserializeOwned>(
        &self,
        skip: Option<&str>,
    ) -> Result<T, serde_json::Error> {
        T::deserialize(TreeDeserializer { node: self, skip })
    }

    /// Equality with a `Value` as JSON Schema's `const` and `enum` see it (numbers by value).
    fn equals(&self, value: &Value) -> bool {
        match (self, value) {
            (Tree::Null, Value::Null) => true,
            (Tree::Bool(a), Value::Bool(b)) => a == b,
            (Tree::Number(a), Value::Number(_)) => {
                jsonschema::json::cmp::equal(&Value::Number(a.clone()), value)
            }
            (Tree::String(a), Value::String(b)) => a == b,
            (Tree::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.equals(y))
            }
            (Tree::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.get(*k).is_some_and(|w| v.equals(w)))
            }
            _ => false,
        }
    }
}

/// The value of the member `name` (objects are short: a scan).
fn member<'a, 't>(members: &'a [(&'t str, Tree<'t>)], name: &str) -> Option<&'a Tree<'t>> {
    members.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// What a route selection expression reads of a tree, as of a `Value`.
impl route_selection::Body for Tree<'_> {
    fn member(&self, name: &str) -> Option<&Self> {
        self.get(name)
    }

    fn write_key(&self, key: &mut String) {
        match self {
            Tree::String(s) => key.push_str(s),
            Tree::Number(n) => key.push_str(&n.to_string()),
            Tree::Bool(b) => key.push_str(if *b { "true" } else { "false" }),
            _ => {}
        }
    }
}

/// The children of the arrays and objects still open, on their way into the arena: a closed
/// container's children are the top of these stacks, copied into one slice of the arena.
#[derive(Default)]
struct Scratch<'t> {
    items: Vec<Tree<'t>>,
    members: Vec<(&'t str, Tree<'t>)>,
}

impl Scratch<'_> {
    /// The same stacks, emptied, for trees of another lifetime (the standard library collects
    /// in place: no allocation, the capacity kept).
    fn recycle<'u>(self) -> Scratch<'u> {
        fn empty<T, U>(mut v: Vec<T>) -> Vec<U> {
            v.clear();
            v.into_iter().filter_map(|_| None).collect()
        }
        Scratch {
            items: empty(self.items),
            members: empty(self.members),
        }
    }

    /// Bytes the stacks hold.
    fn capacity(&self) -> usize {
        self.items.capacity() * size_of::<Tree<'_>>()
            + self.members.capacity() * size_of::<(&str, Tree<'_>)>()
    }
}

/// Builds a tree from any self-describing deserializer.
struct TreeSeed<'s, 't> {
    arena: &'t Bump,
    scratch: &'s mut Scratch<'t>,
}

impl<'de> DeserializeSeed<'de> for TreeSeed<'_, 'de> {
    type Value = Tree<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Tree<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

/// `n` as the integer it is, when it has no fraction and fits `i64` or `u64` (`10.0`, `1e2`,
/// `-0.0`). JSON Schema's `integer` takes any number with a zero fraction, so the types
/// generated for it (`i64`, `u64`) must take those too; fractions and larger numbers stay floats.
pub(crate) fn integral(n: f64) -> Option<Number> {
    const I64_END: f64 = 9_223_372_036_854_775_808.0; // 2^63
    const U64_END: f64 = 18_446_744_073_709_551_616.0; // 2^64
    if n.fract() != 0.0 || !n.is_finite() {
        return None;
    }
    // Inside the bounds, each conversion is exact: the float is a whole number.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    if (-I64_END..I64_END).contains(&n) {
        Some(Number::from(n as i64))
    } else if (0.0..U64_END).contains(&n) {
        Some(Number::from(n as u64))
    } else {
        None
    }
}

/// Writes every number of `json` that [`integral`] reads as an integer as that integer; whether
/// it wrote any.
pub(crate) fn integral_numbers(json: &mut Value) -> bool {
    match json {
        Value::Number(number) => match number
            .as_f64()
            .filter(|_| number.is_f64())
            .and_then(integral)
        {
            Some(integer) => {
                *number = integer;
                true
            }
            None => false,
        },
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |any, item| integral_numbers(item) | any),
        Value::Object(members) => members
            .values_mut()
            .fold(false, |any, member| integral_numbers(member) | any),
        _ => false,
    }
}

impl<'de> Visitor<'de> for TreeSeed<'_, 'de> {
    type Value = Tree<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Tree<'de>, E> {
        Ok(Tree::Null)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Tree<'de>, E> {
        Ok(Tree::Bool(b))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Tree<'de>, E> {
        Ok(Tree::Number(n.into()))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Tree<'de>, E> {
        Ok(Tree::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Tree<'de>, E> {
        integral(n)
            .or_else(|| Number::from_f64(n))
            .map(Tree::Number)
            .ok_or_else(|| E::custom("a number JSON cannot hold"))
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Tree<'de>, E> {
        Ok(Tree::String(s))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Tree<'de>, E> {
        Ok(Tree::String(self.arena.alloc_str(s)))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Tree<'de>, A::Error> {
        let Self { arena, scratch } = self;
        let start = scratch.items.len();
        while let Some(item) = seq.next_element_seed(TreeSeed {
            arena,
            scratch: &mut *scratch,
        })? {
            scratch.items.push(item);
        }
        Ok(Tree::Array(
            arena.alloc_slice_fill_iter(scratch.items.drain(start..)),
        ))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree<'de>, A::Error> {
        let Self { arena, scratch } = self;
        let start = scratch.members.len();
        // Past 16 members, names are checked for repeats once, at the end.
        let mut long = false;
        while let Some(name) = map.next_key_seed(Name(arena))? {
            let value = map.next_value_seed(TreeSeed {
                arena,
                scratch: &mut *scratch,
            })?;
            let open = &mut scratch.members[start..];
            if open.len() < 16 {
                if let Some(slot) = open.iter_mut().find(|(k, _)| *k == name) {
                    slot.1 = value;
                    continue;
                }
            } else {
                long = true;
            }
            scratch.members.push((name, value));
        }
        if long {
            keep_each_name_once(&mut scratch.members, start);
        }
        Ok(Tree::Object(
            arena.alloc_slice_fill_iter(scratch.members.drain(start..)),
        ))
    }
}

/// A member's name: borrowed from the text when it has no escapes, else copied into the arena.
struct Name<'t>(&'t Bump);

impl<'de> DeserializeSeed<'de> for Name<'de> {
    type Value = &'de str;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<&'de str, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name<'de> {
    type Value = &'de str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<&'de str, E> {
        Ok(s)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<&'de str, E> {
        Ok(self.0.alloc_str(s))
    }
}

/// The members from `start` on with each name once: its first place, its last value.
fn keep_each_name_once<'t>(members: &mut Vec<(&'t str, Tree<'t>)>, start: usize) {
    let open = members.split_off(start);
    let mut seen: std::collections::HashMap<&'t str, usize> =
        std::collections::HashMap::with_capacity(open.len());
    for (name, value) in open {
        match seen.get(name) {
            Some(&at) => members[at].1 = value,
            None => {
                seen.insert(name, members.len());
                members.push((name, value));
            }
        }
    }
}

/// The tree as jsonschema reads an instance.
pub(crate) struct TreeJson;

impl Json for TreeJson {
    type Node<'a> = &'a Tree<'a>;
    type PreparedKey = String;
    type StringBuffer = ();
    const ACYCLIC: bool = true;

    fn prepare_key(key: &str) -> String {
        key.to_owned()
    }

    fn with_string_node<T>((): &mut (), string: &str, f: impl FnOnce(Self::Node<'_>) -> T) -> T {
        f(&Tree::String(string))
    }
}

impl<'a> Node<'a, TreeJson> for &'a Tree<'a> {
    type Object = &'a [(&'a str, Tree<'a>)];
    type Array = &'a [Tree<'a>];
    type Number = &'a Number;

    fn as_object(&self) -> Option<Self::Object> {
        match self {
            Tree::Object(members) => Some(members),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<Self::Array> {
        match self {
            Tree::Array(items) => Some(items),
            _ => None,
        }
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        match self {
            Tree::String(s) => Some(Cow::Borrowed(s)),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<&'a Number> {
        match self {
            Tree::Number(n) => Some(n),
            _ => None,
        }
    }

    fn as_boolean(&self) -> Option<bool> {
        match self {
            Tree::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Tree::Null)
    }

    fn json_type(&self) -> JsonType {
        match self {
            Tree::Null => JsonType::Null,
            Tree::Bool(_) => JsonType::Boolean,
            Tree::Number(_) => JsonType::Number,
            Tree::String(_) => JsonType::String,
            Tree::Array(_) => JsonType::Array,
            Tree::Object(_) => JsonType::Object,
        }
    }

    fn equals_value(&self, expected: &Value) -> bool {
        self.equals(expected)
    }

    fn to_value(&self) -> Cow<'a, Value> {
        Cow::Owned(Tree::to_value(self))
    }

    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::new(
            std::ptr::from_ref::<Tree<'_>>(*self) as usize
        ))
    }
}

/// The members of an object, names as `&str`.
pub(crate) struct Members<'a>(std::slice::Iter<'a, (&'a str, Tree<'a>)>);

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, &'a Tree<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (*k, v))
    }
}

impl<'a> Object<'a, TreeJson> for &'a [(&'a str, Tree<'a>)] {
    type Node = &'a Tree<'a>;
    type MemberName = &'a str;
    type MembersIter = Members<'a>;

    fn len(&self) -> usize {
        <[_]>::len(self)
    }

    fn get(&self, key: &String) -> Option<&'a Tree<'a>> {
        member(self, key)
    }

    fn members(&self) -> Members<'a> {
        Members(self.iter())
    }
}

impl<'a> Array<'a, TreeJson> for &'a [Tree<'a>] {
    type Node = &'a Tree<'a>;
    type ElementsIter = std::slice::Iter<'a, Tree<'a>>;

    fn len(&self) -> usize {
        <[_]>::len(self)
    }

    fn elements(&self) -> Self::ElementsIter {
        self.iter()
    }
}

/// serde's view of a tree node.
struct TreeDeserializer<'a, 't> {
    node: &'a Tree<'t>,
    /// A top-level member left out.
    skip: Option<&'a str>,
}

impl<'de> Deserializer<'de> for TreeDeserializer<'_, '_> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.node {
            Tree::Null => visitor.visit_unit(),
            Tree::Bool(b) => visitor.visit_bool(*b),
            Tree::Number(n) => n.deserialize_any(visitor),
            Tree::String(s) => visitor.visit_str(s),
            Tree::Array(items) => {
                let mut seq = Seq(items.iter());
                let value = visitor.visit_seq(&mut seq)?;
                match seq.0.len() {
                    0 => Ok(value),
                    _ => Err(de::Error::invalid_length(items.len(), &"fewer elements")),
                }
            }
            Tree::Object(members) => visitor.visit_map(Map {
                members: members.iter(),
                skip: self.skip,
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.node {
            Tree::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.node {
            Tree::String(s) => visitor.visit_enum(s.into_deserializer()),
            Tree::Object(members) if members.len() == 1 => visitor.visit_enum(Variant {
                name: members[0].0,
                value: &members[0].1,
            }),
            _ => Err(de::Error::invalid_type(
                de::Unexpected::Other("a JSON value that is not a string or a one-member object"),
                &"an enum",
            )),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

struct Seq<'a, 't>(std::slice::Iter<'a, Tree<'t>>);

impl<'de> de::SeqAccess<'de> for Seq<'_, '_> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0
            .next()
            .map(|node| seed.deserialize(TreeDeserializer { node, skip: None }))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Map<'a, 't> {
    members: std::slice::Iter<'a, (&'t str, Tree<'t>)>,
    skip: Option<&'a str>,
    value: Option<&'a Tree<'t>>,
}

impl<'de> MapAccess<'de> for Map<'_, '_> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        for (name, value) in self.members.by_ref() {
            if self.skip == Some(*name) {
                continue;
            }
            self.value = Some(value);
            let name: de::value::StrDeserializer<'_, serde_json::Error> = name.into_deserializer();
            return seed.deserialize(name).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value.take() {
            Some(node) => seed.deserialize(TreeDeserializer { node, skip: None }),
            None => Err(de::Error::custom("a value asked for before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.members.len())
    }
}

/// `{"Variant": value}`, an externally tagged enum value.
struct Variant<'a, 't> {
    name: &'a str,
    value: &'a Tree<'t>,
}

impl<'de> de::EnumAccess<'de> for Variant<'_, '_> {
    type Error = serde_json::Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), Self::Error> {
        let name: de::value::StrDeserializer<'_, serde_json::Error> = self.name.into_deserializer();
        Ok((seed.deserialize(name)?, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_, '_> {
    type Error = serde_json::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        match self.value {
            Tree::Null => Ok(()),
            _ => Err(de::Error::invalid_type(
                de::Unexpected::Other("a value"),
                &"a unit variant",
            )),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        seed.deserialize(TreeDeserializer {
            node: self.value,
            skip: None,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Self::Error> {
        TreeDeserializer {
            node: self.value,
            skip: None,
        }
        .deserialize_any(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        TreeDeserializer {
            node: self.value,
            skip: None,
        }
        .deserialize_any(visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `text` and compares its tree with the `Value` serde_json reads, whole numbers
    /// written as integers (`1e3` is `1000`).
    fn same_as_value(text: &str) {
        let mut value: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        integral_numbers(&mut value);
        let tree = Tree::read(text, |tree| tree.map(|t| t.to_value()));
        assert_eq!(tree.ok(), Some(value), "{text}");
    }

    #[test]
    fn whole_numbers_are_integers_and_fractions_stay() {
        for (text, expected) in [
            ("10.0", Some(Number::from(10))),
            ("1e2", Some(Number::from(100))),
            ("-0.0", Some(Number::from(0))),
            ("-9223372036854775808.0", Some(Number::from(i64::MIN))),
            ("1.8e19", Some(Number::from(18_000_000_000_000_000_000u64))),
            ("10.5", None),
            ("1e300", None),
        ] {
            let n: f64 = text.parse().unwrap();
            assert_eq!(integral(n), expected, "{text}");
        }
        let mut value = serde_json::json!({"a": [10.0, 10.5, 3], "b": {"c": 1e2}});
        assert!(integral_numbers(&mut value));
        assert_eq!(
            value,
            serde_json::json!({"a": [10, 10.5, 3], "b": {"c": 100}})
        );
        assert!(!integral_numbers(&mut value));
    }

    #[test]
    fn a_tree_is_the_value_serde_json_reads() {
        let text = r#"{"a": [1, -2, 3.5, "x\"y", true, null], "b": {"c": {}}, "a": "last", "é": 1e3, "k\u00e9y": [[], [{}], [1, [2, {"d": [3]}]]]}"#;
        same_as_value(text);
        let arena = Bump::new();
        let tree = Tree::parse(text, &arena).unwrap_or(Tree::Null);
        assert!(matches!(tree.get("b"), Some(Tree::Object(_))));
        assert!(matches!(tree.get("é"), Some(Tree::Number(_))));
        // An escaped name is unescaped (into the arena).
        assert!(matches!(tree.get("kéy"), Some(Tree::Array(items)) if items.len() == 3));
        let Tree::Object(members) = tree else {
            panic!("not an object: {tree:?}");
        };
        assert_eq!(members.len(), 4);
        // Borrowed from the text where it has no escapes.
        let within = text.as_bytes().as_ptr_range();
        assert!(within.contains(&members[0].0.as_ptr()));
        assert!(!within.contains(&members[3].0.as_ptr()));
        for bad in ["{", "1 2", "[1,]", r#"{"a" 1}"#, "\"\\x\"", ""] {
            assert!(Tree::parse(bad, &arena).is_err(), "{bad}");
        }
        for good in [
            "1",
            "\"\"",
            "[]",
            "{}",
            "[[[[]]]]",
            "-0.5e-3",
            "18446744073709551615",
        ] {
            same_as_value(good);
        }
    }

    #[test]
    fn a_long_object_keeps_each_name_once() {
        let mut text = String::from("{");
        for i in 0..40 {
            text.push_str(&format!("\"k{}\": {{\"n\": [{i}]}},", i % 20));
        }
        text.push_str("\"z\": 0}");
        same_as_value(&text);
        // Inside an array of objects too: each object's members are its own.
        same_as_value(&format!("[{text}, {{\"k1\": 1, \"k1\": 2}}, {text}]"));
    }

    #[test]
    fn a_parse_inside_a_parse_has_its_own_arena() {
        let outer = Tree::read(r#"{"a": [1]}"#, |outer| {
            let inner = Tree::read(r#"{"b": 2}"#, |inner| inner.map(|t| t.to_value()));
            (outer.map(|t| t.to_value()).ok(), inner.ok())
        });
        assert_eq!(outer.0, serde_json::from_str(r#"{"a": [1]}"#).ok());
        assert_eq!(outer.1, serde_json::from_str(r#"{"b": 2}"#).ok());
        // A large frame, then small ones: the arena is let go and made again.
        let large = format!("[{}]", vec!["1"; 100_000].join(","));
        assert_eq!(
            Tree::read(&large, |t| t
                .map(|t| matches!(t, Tree::Array(a) if a.len() == 100_000)))
            .ok(),
            Some(true)
        );
        assert_eq!(
            Tree::read("[true]", |t| t.map(|t| t.to_value())).ok(),
            Some(Value::Array(vec![Value::Bool(true)]))
        );
    }

    #[test]
    fn an_arena_smaller_than_the_tree_grows() {
        let text = format!(
            "[{}]",
            (0..2000)
                .map(|i| format!("{{\"i\": {i}}}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let arena = Bump::with_capacity(16);
        let tree = Tree::parse(&text, &arena).unwrap_or(Tree::Null);
        assert!(matches!(tree, Tree::Array(items) if items.len() == 2000));
        same_as_value(&text);
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Message {
        text: String,
        #[serde(default)]
        tags: Vec<String>,
        when: Option<u64>,
        kind: Kind,
        #[serde(flatten)]
        rest: std::collections::BTreeMap<String, Value>,
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Plain,
        Loud,
    }

    #[test]
    fn typed_values_come_from_the_tree_without_the_route_key() {
        let text = r#"{"action": "say", "text": "hi", "tags": ["a"], "when": null, "kind": "loud", "extra": 1}"#;
        let arena = Bump::new();
        let tree = Tree::parse(text, &arena).unwrap_or(Tree::Null);
        let from_tree: Message = tree
            .deserialize(Some("action"))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut value: Value = serde_json::from_str(text).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.remove("action");
        }
        let from_value: Message = serde_json::from_value(value).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(from_tree, from_value);
        assert!(!from_tree.rest.contains_key("action"));
        assert!(
            tree.deserialize::<Message>(None)
                .is_ok_and(|m| m.rest.contains_key("action"))
        );
        let wrong = Tree::parse(r#"{"text": 1, "kind": "plain"}"#, &arena).unwrap_or(Tree::Null);
        assert!(wrong.deserialize::<Message>(None).is_err());
    }
}
