//! `load`: bytes → spanned tree, for YAML 1.2 and JSON alike.
//!
//! JSON is a subset of YAML 1.2, so one parser (`saphyr-parser`, the maintained successor of
//! `yaml-rust`, which reports a position for every event) reads both. Plain scalars resolve with
//! the YAML 1.2 core schema, so `1.0` is a number and `yes` is a string, exactly as in JSON-land.
//! Duplicate keys are errors (with both places), anchors and aliases are expanded, and `<<`
//! merge keys are applied.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::source::{FileId, Pos, Span};
use crate::tree::{Key, Map, Node, Value};

/// Deeper nesting than this is refused (no real document comes close; a hostile one could
/// exhaust the stack of every recursive step after loading).
pub const MAX_DEPTH: usize = 256;
/// A file may not make more nodes than this.
pub const MAX_NODES: usize = 5_000_000;
/// Aliases may not copy more nodes than this, all together (the "billion laughs" is refused
/// when it has made this many, a few MiB; no public document we know copies a hundred).
pub const MAX_ALIAS_NODES: usize = 100_000;

/// Parses one file's text into a tree.
///
/// # Errors
/// A syntax error, a duplicate key, a complex key, an alias to an unknown anchor, an unsupported
/// tag, several documents in one file, or an empty file.
pub fn parse(file: FileId, text: &str, format: &'static str) -> Result<Node, Diagnostic> {
    parse_with(file, text, format, Tags::Core)
}

/// The tags a file may carry beyond the YAML 1.2 core schema's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tags {
    /// Only the core schema's (`!!str`, `!!int`, …) and the lone `!`: AsyncAPI documents.
    Core,
    /// Also CloudFormation's short forms of its intrinsic functions, read as their long forms
    /// (as CloudFormation reads them): `!Ref X` is `{"Ref": "X"}`, `!GetAtt A.B` is
    /// `{"Fn::GetAtt": ["A", "B"]}`, `!Condition C` is `{"Condition": "C"}`, and any other
    /// `!Name value` is `{"Fn::Name": value}`.
    CloudFormation,
}

/// [`parse`], for a file whose tags are `tags`: a CloudFormation or SAM template, say.
///
/// # Errors
/// As [`parse`].
pub fn parse_with(
    file: FileId,
    text: &str,
    format: &'static str,
    tags: Tags,
) -> Result<Node, Diagnostic> {
    let mut builder = Builder {
        file,
        format,
        tags,
        stack: Vec::new(),
        anchors: HashMap::new(),
        documents: Vec::new(),
        nodes: 0,
        alias_nodes: 0,
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        match next {
            Ok((event, span)) => builder.event(event, span)?,
            Err(error) => {
                let marker = error.marker();
                let at = Span::point(file, pos(marker));
                return Err(Diagnostic::error(
                    ErrorKind::Syntax {
                        format,
                        message: error.info().to_owned(),
                    },
                    at,
                ));
            }
        }
    }
    let end = Span::point(file, Pos { line: 1, column: 1 });
    let count = builder.documents.len();
    let mut documents = builder.documents.into_iter();
    match (documents.next(), count) {
        (None, _) => Err(Diagnostic::error(ErrorKind::EmptyFile, end)),
        (Some(root), 1) => Ok(root),
        (Some(_), count) => {
            let second = documents.next().map_or(end, |d| d.span);
            Err(Diagnostic::error(
                ErrorKind::MultipleDocuments { count },
                second,
            ))
        }
    }
}

fn pos(marker: &saphyr_parser::Marker) -> Pos {
    Pos {
        line: u32::try_from(marker.line()).unwrap_or(u32::MAX),
        column: u32::try_from(marker.col() + 1).unwrap_or(u32::MAX),
    }
}

/// A sequence or mapping being built, still open in the event stream.
enum Open {
    Sequence {
        items: Vec<Node>,
        start: Span,
        anchor: usize,
        /// The CloudFormation function its tag names (`Fn::Join`), wrapped around it at its end.
        function: Option<String>,
    },
    Mapping {
        map: Map,
        /// Keys read so far whose values are pending.
        key: Option<Key>,
        /// Maps pulled in by `<<` merge keys; applied at the end, after the explicit keys.
        merges: Vec<Node>,
        start: Span,
        anchor: usize,
        function: Option<String>,
    },
}

struct Builder {
    file: FileId,
    format: &'static str,
    tags: Tags,
    stack: Vec<Open>,
    /// Anchored nodes, with their node counts.
    anchors: HashMap<usize, (Node, usize)>,
    documents: Vec<Node>,
    /// Nodes made so far, alias copies included.
    nodes: usize,
    /// Nodes copied by aliases so far.
    alias_nodes: usize,
}

impl Builder {
    fn span(&self, span: saphyr_parser::Span) -> Span {
        Span {
            file: self.file,
            start: pos(&span.start),
            end: pos(&span.end),
        }
    }

    fn event(&mut self, event: Event<'_>, raw: saphyr_parser::Span) -> Result<(), Diagnostic> {
        let span = self.span(raw);
        if matches!(event, Event::SequenceStart(..) | Event::MappingStart(..))
            && self.stack.len() >= MAX_DEPTH
        {
            return Err(self.limit(format!("nesting deeper than {MAX_DEPTH} levels"), span));
        }
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                if let Some(function) = self.function(tag.as_deref()) {
                    let value = Value::String(text.into_owned());
                    let node = wrap(&function, Node::new(value, span));
                    return self.finish(node, anchor);
                }
                let value = self.scalar(&text, style, tag.as_deref(), span)?;
                self.finish(Node::new(value, span), anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                let function = self.function(tag.as_deref());
                if function.is_none() {
                    self.check_collection_tag(tag.as_deref(), "seq", span)?;
                }
                self.stack.push(Open::Sequence {
                    items: Vec::new(),
                    start: span,
                    anchor,
                    function,
                });
                Ok(())
            }
            Event::MappingStart(anchor, tag) => {
                let function = self.function(tag.as_deref());
                if function.is_none() {
                    self.check_collection_tag(tag.as_deref(), "map", span)?;
                }
                self.stack.push(Open::Mapping {
                    map: Map::default(),
                    key: None,
                    merges: Vec::new(),
                    start: span,
                    anchor,
                    function,
                });
                Ok(())
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Open::Sequence {
                    items,
                    start,
                    anchor,
                    function,
                }) => {
                    let span = Span {
                        end: span.end,
                        ..start
                    };
                    let node = Node::new(Value::Array(items), span);
                    let node = match function {
                        Some(function) => wrap(&function, node),
                        None => node,
                    };
                    self.finish(node, anchor)
                }
                _ => Err(self.internal(span)),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Open::Mapping {
                    mut map,
                    merges,
                    start,
                    anchor,
                    function,
                    ..
                }) => {
                    for merged in merges {
                        apply_merge(&mut map, merged);
                    }
                    let span = Span {
                        end: span.end,
                        ..start
                    };
                    let node = Node::new(Value::Object(map), span);
                    let node = match function {
                        Some(function) => wrap(&function, node),
                        None => node,
                    };
                    self.finish(node, anchor)
                }
                _ => Err(self.internal(span)),
            },
            Event::Alias(id) => match self.anchors.get(&id) {
                Some((node, size)) => {
                    self.nodes += size;
                    self.alias_nodes += size;
                    if self.alias_nodes > MAX_ALIAS_NODES {
                        return Err(self.limit(
                            format!("aliases copy more than {MAX_ALIAS_NODES} nodes"),
                            span,
                        ));
                    }
                    let node = node.clone();
                    self.finish(node, 0)
                }
                None => Err(Diagnostic::error(
                    ErrorKind::Syntax {
                        format: self.format,
                        message: "alias to an anchor that is not defined before it".into(),
                    },
                    span,
                )),
            },
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd => Ok(()),
        }
    }

    /// The CloudFormation function a tag names, when the file may carry them: `!Ref` is
    /// `Ref`, `!Condition` is `Condition`, and `!Name` is `Fn::Name`.
    fn function(&self, tag: Option<&Tag>) -> Option<String> {
        let tag = tag?;
        if self.tags != Tags::CloudFormation || tag.handle != "!" || tag.suffix.is_empty() {
            return None;
        }
        Some(match tag.suffix.as_str() {
            "Ref" | "Condition" => tag.suffix.clone(),
            other => format!("Fn::{other}"),
        })
    }

    fn limit(&self, what: String, span: Span) -> Diagnostic {
        Diagnostic::error(
            ErrorKind::Syntax {
                format: self.format,
                message: format!("{what}; the document is refused"),
            },
            span,
        )
    }

    fn internal(&self, span: Span) -> Diagnostic {
        Diagnostic::error(
            ErrorKind::Syntax {
                format: self.format,
                message: "unbalanced collection events".into(),
            },
            span,
        )
    }

    /// Places a finished node into its parent (or as a document).
    fn finish(&mut self, node: Node, anchor: usize) -> Result<(), Diagnostic> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.limit(format!("more than {MAX_NODES} nodes"), node.span));
        }
        if anchor != 0 {
            let size = count(&node);
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Open::Sequence { items, .. }) => items.push(node),
            Some(Open::Mapping {
                map, key, merges, ..
            }) => match key.take() {
                None => {
                    let name = match &node.value {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null => "null".to_owned(),
                        other => {
                            return Err(Diagnostic::error(
                                ErrorKind::ComplexKey {
                                    found: other.kind(),
                                },
                                node.span,
                            ));
                        }
                    };
                    if let Some((first, _)) = map.entry(&name) {
                        return Err(Diagnostic::error(
                            ErrorKind::DuplicateKey { key: name },
                            node.span,
                        )
                        .with_label(first.span, "first defined here"));
                    }
                    *key = Some(Key {
                        name,
                        span: node.span,
                    });
                }
                Some(k) if k.name == "<<" && is_merge_source(&node) => merges.push(node),
                Some(k) => map.entries.push((k, node)),
            },
        }
        Ok(())
    }

    fn check_collection_tag(
        &self,
        tag: Option<&Tag>,
        expected: &str,
        span: Span,
    ) -> Result<(), Diagnostic> {
        match tag {
            None => Ok(()),
            Some(tag) if tag.is_yaml_core_schema() && tag.suffix == expected => Ok(()),
            Some(tag) => Err(Diagnostic::error(
                ErrorKind::UnsupportedTag {
                    tag: tag.to_string(),
                },
                span,
            )),
        }
    }

    fn scalar(
        &self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<Value, Diagnostic> {
        if let Some(tag) = tag {
            // `!!x` is the core schema; a lone `!` forces a string.
            let known = tag.is_yaml_core_schema() || (tag.handle == "!" && tag.suffix.is_empty());
            if !known {
                return Err(Diagnostic::error(
                    ErrorKind::UnsupportedTag {
                        tag: tag.to_string(),
                    },
                    span,
                ));
            }
            let bad = |tag: &'static str| {
                Diagnostic::error(
                    ErrorKind::BadTaggedScalar {
                        tag,
                        value: text.to_string(),
                    },
                    span,
                )
            };
            return match tag.suffix.as_str() {
                "" | "str" => Ok(Value::String(text.to_string())),
                "null" => Ok(Value::Null),
                "bool" => match resolve_plain(text) {
                    Value::Bool(b) => Ok(Value::Bool(b)),
                    _ => Err(bad("boolean")),
                },
                "int" => match resolve_plain(text) {
                    Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Value::Number(n)),
                    _ => Err(bad("integer")),
                },
                "float" => match resolve_plain(text) {
                    Value::Number(n) => Ok(Value::Number(n)),
                    _ => Err(bad("float")),
                },
                _ => Err(Diagnostic::error(
                    ErrorKind::UnsupportedTag {
                        tag: tag.to_string(),
                    },
                    span,
                )),
            };
        }
        Ok(match style {
            ScalarStyle::Plain => resolve_plain(text),
            _ => Value::String(text.to_string()),
        })
    }
}

/// `{function: node}`, CloudFormation's long form of a tagged node. `!GetAtt A.B.C`, a string,
/// is the pair `["A", "B.C"]` (the logical id is the part before the first dot).
fn wrap(function: &str, node: Node) -> Node {
    let span = node.span;
    let node = match (function, &node.value) {
        ("Fn::GetAtt", Value::String(text)) => match text.split_once('.') {
            Some((resource, attribute)) => Node::new(
                Value::Array(vec![
                    Node::new(Value::String(resource.to_owned()), span),
                    Node::new(Value::String(attribute.to_owned()), span),
                ]),
                span,
            ),
            None => node,
        },
        _ => node,
    };
    let key = Key {
        name: function.to_owned(),
        span,
    };
    Node::new(
        Value::Object(Map {
            entries: vec![(key, node)],
        }),
        span,
    )
}

/// Nodes in a tree.
fn count(node: &Node) -> usize {
    1 + match &node.value {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.iter().map(|(_, v)| count(v)).sum(),
        _ => 0,
    }
}

fn is_merge_source(node: &Node) -> bool {
    match &node.value {
        Value::Object(_) => true,
        Value::Array(items) => items.iter().all(|i| matches!(i.value, Value::Object(_))),
        _ => false,
    }
}

/// `<<: *base` or `<<: [*a, *b]`: keys already present win, earlier sources win over later.
fn apply_merge(map: &mut Map, source: Node) {
    let sources = match source.value {
        Value::Array(items) => items,
        other => vec![Node::new(other, source.span)],
    };
    for source in sources {
        if let Value::Object(merged) = source.value {
            for (key, value) in merged.entries {
                if map.get(&key.name).is_none() {
                    map.entries.push((key, value));
                }
            }
        }
    }
}

/// The YAML 1.2 core schema for plain scalars.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            // JSON has no infinities or NaN; keep the text rather than invent a number.
            return Value::String(text.to_owned());
        }
        _ => {}
    }
    let bytes = text.as_bytes();
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(n) = u64::from_str_radix(hex, 16)
    {
        return Value::Number(n.into());
    }
    if let Some(oct) = text.strip_prefix("0o")
        && let Ok(n) = u64::from_str_radix(oct, 8)
    {
        return Value::Number(n.into());
    }
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = text.parse::<i64>() {
            return Value::Number(n.into());
        }
        if let Ok(n) = text.parse::<u64>() {
            return Value::Number(n.into());
        }
    }
    if looks_like_float(bytes)
        && let Some(n) = text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
    {
        return Value::Number(n);
    }
    Value::String(text.to_owned())
}

/// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
fn looks_like_float(bytes: &[u8]) -> bool {
    let mut i = 0;
    let n = bytes.len();
    if i < n && (bytes[i] == b'-' || bytes[i] == b'+') {
        i += 1;
    }
    let int_start = i;
    while i < n && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < n && bytes[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < n && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - frac_start;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < n && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < n && (bytes[i] == b'-' || bytes[i] == b'+') {
            i += 1;
        }
        let exp_start = i;
        while i < n && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Node, Diagnostic> {
        parse(FileId(0), text, "YAML")
    }

    #[test]
    fn core_schema_scalars() {
        let node = load("a: 1\nb: 1.5\nc: true\nd: ~\ne: yes\nf: '1'\ng: 2.6.0\nh: 0x1F\ni: 1e3\n")
            .unwrap();
        let json = node.to_json();
        assert_eq!(
            json,
            serde_json::json!({"a": 1, "b": 1.5, "c": true, "d": null, "e": "yes", "f": "1",
                "g": "2.6.0", "h": 31, "i": 1000.0})
        );
    }

    #[test]
    fn positions_are_one_based() {
        let node = load("info:\n  title: x\n").unwrap();
        let title = node.walk(["info", "title"]).unwrap();
        assert_eq!(
            title.span.start,
            Pos {
                line: 2,
                column: 10
            }
        );
    }

    #[test]
    fn duplicate_keys_name_both_places() {
        let error = load("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(error.kind, ErrorKind::DuplicateKey { key: "a".into() });
        assert_eq!(error.span.unwrap().start, Pos { line: 3, column: 1 });
        assert_eq!(error.labels[0].span.start, Pos { line: 1, column: 1 });
    }

    #[test]
    fn json_duplicate_keys_too() {
        let error = parse(FileId(0), "{\"a\": 1,\n \"a\": 2}", "JSON").unwrap_err();
        assert!(matches!(error.kind, ErrorKind::DuplicateKey { .. }));
        assert_eq!(error.span.unwrap().start.line, 2);
    }

    #[test]
    fn cloudformation_short_forms_read_as_their_long_forms() {
        let text = "a: !Ref Api\nb: !GetAtt Fn.Arn\nc: !Sub 'x-${AWS::Region}'\n\
                    d: !Join ['/', [integrations, !Ref I]]\ne: !If [C, !GetAtt [T, Arn], 1]\n\
                    f: !Condition IsProd\ng: !GetAtt Api.Outputs.Url\n";
        let node = parse_with(FileId(0), text, "YAML", Tags::CloudFormation).unwrap();
        assert_eq!(
            node.to_json(),
            serde_json::json!({
                "a": {"Ref": "Api"},
                "b": {"Fn::GetAtt": ["Fn", "Arn"]},
                "c": {"Fn::Sub": "x-${AWS::Region}"},
                "d": {"Fn::Join": ["/", ["integrations", {"Ref": "I"}]]},
                "e": {"Fn::If": ["C", {"Fn::GetAtt": ["T", "Arn"]}, 1]},
                "f": {"Condition": "IsProd"},
                "g": {"Fn::GetAtt": ["Api", "Outputs.Url"]},
            })
        );
        // The same tags are still refused in an AsyncAPI document.
        let error = load("a: !Ref Api\n").unwrap_err();
        assert!(matches!(error.kind, ErrorKind::UnsupportedTag { .. }));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let node = load("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n").unwrap();
        assert_eq!(
            node.get("use").unwrap().to_json(),
            serde_json::json!({"y": 3, "x": 1})
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let error = load("a:\n  b: 1\n c: 2\n").unwrap_err();
        assert!(matches!(error.kind, ErrorKind::Syntax { .. }), "{error:?}");
        assert_eq!(error.span.unwrap().start.line, 3);
    }

    #[test]
    fn several_documents_are_rejected() {
        let error = load("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(error.kind, ErrorKind::MultipleDocuments { count: 2 });
    }

    #[test]
    fn empty_file_is_an_error() {
        assert_eq!(load("").unwrap_err().kind, ErrorKind::EmptyFile);
        assert_eq!(
            load("# only a comment\n").unwrap_err().kind,
            ErrorKind::EmptyFile
        );
    }

    #[test]
    fn unknown_tags_are_rejected_and_core_tags_honoured() {
        let error = load("a: !Ref x\n").unwrap_err();
        assert!(matches!(error.kind, ErrorKind::UnsupportedTag { .. }));
        let node = load("a: !!str 12\nb: !!int '7'\n").unwrap();
        assert_eq!(node.to_json(), serde_json::json!({"a": "12", "b": 7}));
    }

    #[test]
    fn hostile_documents_are_refused_not_crashed_on() {
        // Flow nesting: the parser's own recursion limit answers first.
        let error = load(&"[".repeat(100_000)).unwrap_err();
        assert!(matches!(error.kind, ErrorKind::Syntax { .. }), "{error:?}");
        // Block nesting: ours.
        let deep: String = (0..300).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        let error = load(&deep).unwrap_err();
        assert!(
            error.kind.to_string().contains("nesting deeper than 256"),
            "{error:?}"
        );

        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..12 {
            let prev = (b'a' + level - 1) as char;
            let name = (b'a' + level) as char;
            bomb.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let error = load(&bomb).unwrap_err();
        assert!(
            error
                .kind
                .to_string()
                .contains("aliases copy more than 100000 nodes"),
            "{error:?}"
        );
        // Refused as soon as the copies pass the limit: on line 5, whose list copies 10^5 nodes,
        // long before the bomb's 10^12.
        assert_eq!(error.span.unwrap().start.line, 5, "{error:?}");

        for garbage in [
            "\u{0}\u{1}",
            "{",
            "a: [",
            "'unterminated",
            "- a\nb: c",
            "\t- x",
            "%YAML 9.9\n--- a",
        ] {
            let _ = load(garbage); // any verdict, no panic
        }
    }

    #[test]
    fn complex_keys_are_rejected() {
        let error = load("? [a, b]\n: 1\n").unwrap_err();
        assert!(matches!(error.kind, ErrorKind::ComplexKey { .. }));
    }
}
