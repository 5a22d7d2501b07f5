//! Message schemas compiled into checks: the steps of plain Rust functions a generated type runs
//! on a frame, instead of a schema interpreted at run time (`emit::checks` writes them).
//!
//! Draft-06 and draft-07 schemas are compiled (the generator writes every message schema as
//! draft-07 unless the document names another draft). A keyword whose semantics jsonschema
//! holds in its own code (`pattern` and `patternProperties` for ECMA-262 regular expressions,
//! `format`, `multipleOf` for its decimal arithmetic, `contentMediaType`/`contentEncoding`, and
//! a `const` or `enum` of arrays or objects) is delegated: a schema of that keyword alone,
//! checked by jsonschema on that one value. A schema the compiler cannot follow (another draft,
//! a reference outside the document, `$id` below the root) is not compiled, and its message
//! keeps jsonschema for the whole frame; [`compile`] says why.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

/// A schema, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckPlan {
    /// The functions, each the steps of one (sub)schema; the first is the root's.
    pub functions: Vec<Function>,
    /// The schemas delegated to jsonschema, as JSON text (each names its draft).
    pub delegated: Vec<String>,
}

/// The steps of one schema: the value is valid when every step holds. `False` alone for the
/// schema `false`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Function {
    pub steps: Vec<Step>,
}

/// Where a subschema's verdict comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sub {
    /// `true`, `{}`, or a schema of annotations only.
    True,
    /// `false`.
    False,
    /// The function at this index.
    Call(usize),
}

/// A JSON type of `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Boolean,
    Object,
    Array,
    Number,
    Integer,
    String,
}

/// A number of the schema, in its own representation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    U64(u64),
    I64(i64),
    F64(f64),
}

/// A scalar of `const` or `enum`.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Number(Limit),
    String(String),
}

/// What `dependencies` asks when its property is present.
#[derive(Debug, Clone, PartialEq)]
pub enum Dependency {
    Required(Vec<String>),
    Schema(Sub),
}

/// One keyword's check.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The schema `false`.
    False,
    Type(Vec<Kind>),
    /// `const` and `enum` of scalars: one of these.
    OneOfLiterals(Vec<Literal>),
    MinLength(u64),
    MaxLength(u64),
    Minimum(Limit),
    ExclusiveMinimum(Limit),
    Maximum(Limit),
    ExclusiveMaximum(Limit),
    MinItems(u64),
    MaxItems(u64),
    UniqueItems,
    /// `items`: the first items by position (an `items` array), the rest (`additionalItems`, or
    /// `items` as one schema).
    Items {
        prefix: Vec<Sub>,
        rest: Sub,
    },
    Contains(Sub),
    MinProperties(u64),
    MaxProperties(u64),
    Required(Vec<String>),
    /// `properties`, with what the others must be (`additionalProperties`; `True` when absent,
    /// or when `patternProperties` is there too and a delegated step covers them).
    Properties {
        named: Vec<(String, Sub)>,
        additional: Sub,
    },
    PropertyNames(Sub),
    Dependencies(Vec<(String, Dependency)>),
    AllOf(Vec<Sub>),
    AnyOf(Vec<Sub>),
    OneOf(Vec<Sub>),
    Not(Sub),
    If {
        condition: Sub,
        then: Sub,
        otherwise: Sub,
    },
    /// A `$ref`.
    Ref(Sub),
    /// The delegated schema at this index.
    Delegate(usize),
}

const DRAFT_06: &str = "http://json-schema.org/draft-06/schema";
const DRAFT_07: &str = "http://json-schema.org/draft-07/schema";

/// Keywords that only annotate (and containers of definitions), skipped without a check.
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$comment",
    "$id",
    "title",
    "description",
    "default",
    "examples",
    "example",
    "readOnly",
    "writeOnly",
    "deprecated",
    "definitions",
    "$defs",
    "then",
    "else",
    "additionalItems",
];

/// `schema` compiled, or why it cannot be.
///
/// # Errors
/// What the compiler cannot follow, in words: another draft, a reference outside the document,
/// `$id` below the root.
pub fn compile(schema: &Value) -> Result<CheckPlan, String> {
    // `{}` (a payload of any JSON), `true` and `false` mean the same in every draft.
    let whole = match schema {
        Value::Object(map) if map.is_empty() => Some(Vec::new()),
        Value::Bool(true) => Some(Vec::new()),
        Value::Bool(false) => Some(vec![Step::False]),
        _ => None,
    };
    if let Some(steps) = whole {
        return Ok(CheckPlan {
            functions: vec![Function { steps }],
            delegated: Vec::new(),
        });
    }
    let draft = match schema.get("$schema").and_then(Value::as_str) {
        Some(uri) if uri.trim_end_matches('#') == DRAFT_07 => DRAFT_07,
        Some(uri) if uri.trim_end_matches('#') == DRAFT_06 => DRAFT_06,
        Some(uri) => return Err(format!("the schema is of another draft (`{uri}`)")),
        None => return Err("the schema names no draft".into()),
    };
    let mut compiler = Compiler {
        root: schema,
        draft,
        functions: Vec::new(),
        by_pointer: HashMap::new(),
        delegated: Vec::new(),
    };
    compiler.function(String::new(), schema)?;
    let mut functions = compiler.functions;
    simplify(&mut functions);
    Ok(CheckPlan {
        functions,
        delegated: compiler.delegated,
    })
}

/// Subschemas that always hold (no steps) or never do (`False`) become `True` and `False` where
/// they are used, and the steps that makes trivial go, until nothing changes.
fn simplify(functions: &mut [Function]) {
    loop {
        let verdicts: Vec<Option<bool>> = functions
            .iter()
            .map(|f| match f.steps.as_slice() {
                [] => Some(true),
                [Step::False] => Some(false),
                _ => None,
            })
            .collect();
        let mut changed = false;
        for function in functions.iter_mut() {
            let before = function.steps.clone();
            for step in &mut function.steps {
                for sub in subs_mut(step) {
                    if let Sub::Call(index) = *sub
                        && let Some(verdict) = verdicts[index]
                    {
                        *sub = if verdict { Sub::True } else { Sub::False };
                    }
                }
            }
            function.steps.retain(|step| !always(step));
            if function.steps.iter().any(never) {
                function.steps = vec![Step::False];
            }
            changed |= function.steps != before;
        }
        if !changed {
            return;
        }
    }
}

impl Step {
    /// Every subschema the step uses.
    pub fn subs(&self) -> Vec<Sub> {
        let mut step = self.clone();
        subs_mut(&mut step).into_iter().map(|sub| *sub).collect()
    }
}

/// Every subschema a step uses.
fn subs_mut(step: &mut Step) -> Vec<&mut Sub> {
    match step {
        Step::Items { prefix, rest } => prefix.iter_mut().chain(std::iter::once(rest)).collect(),
        Step::Properties { named, additional } => named
            .iter_mut()
            .map(|(_, sub)| sub)
            .chain(std::iter::once(additional))
            .collect(),
        Step::Contains(sub) | Step::PropertyNames(sub) | Step::Not(sub) | Step::Ref(sub) => {
            vec![sub]
        }
        Step::Dependencies(list) => list
            .iter_mut()
            .filter_map(|(_, d)| match d {
                Dependency::Schema(sub) => Some(sub),
                Dependency::Required(_) => None,
            })
            .collect(),
        Step::AllOf(subs) | Step::AnyOf(subs) | Step::OneOf(subs) => subs.iter_mut().collect(),
        Step::If {
            condition,
            then,
            otherwise,
        } => vec![condition, then, otherwise],
        _ => Vec::new(),
    }
}

/// A step every value passes.
fn always(step: &Step) -> bool {
    // How many of `subs` hold, when none is a function.
    let literal_count = |subs: &[Sub]| {
        subs.iter()
            .all(|s| !matches!(s, Sub::Call(_)))
            .then(|| subs.iter().filter(|s| **s == Sub::True).count())
    };
    match step {
        Step::AllOf(subs) => subs.iter().all(|s| *s == Sub::True),
        Step::AnyOf(subs) => subs.contains(&Sub::True),
        Step::OneOf(subs) => literal_count(subs) == Some(1),
        Step::Not(sub) => *sub == Sub::False,
        Step::Ref(sub) | Step::PropertyNames(sub) => *sub == Sub::True,
        Step::If {
            condition,
            then,
            otherwise,
        } => match condition {
            Sub::True => *then == Sub::True,
            Sub::False => *otherwise == Sub::True,
            Sub::Call(_) => *then == Sub::True && *otherwise == Sub::True,
        },
        Step::Items { prefix, rest } => {
            prefix.iter().all(|s| *s == Sub::True) && *rest == Sub::True
        }
        Step::Properties { named, additional } => {
            named.iter().all(|(_, s)| *s == Sub::True) && *additional == Sub::True
        }
        Step::Dependencies(list) => list.iter().all(|(_, d)| match d {
            Dependency::Required(names) => names.is_empty(),
            Dependency::Schema(sub) => *sub == Sub::True,
        }),
        Step::Required(names) => names.is_empty(),
        _ => false,
    }
}

/// A step no value passes.
fn never(step: &Step) -> bool {
    match step {
        Step::False => true,
        Step::Type(kinds) => kinds.is_empty(),
        Step::OneOfLiterals(literals) => literals.is_empty(),
        Step::AllOf(subs) => subs.contains(&Sub::False),
        Step::AnyOf(subs) => subs.iter().all(|s| *s == Sub::False),
        Step::OneOf(subs) => {
            subs.iter().all(|s| !matches!(s, Sub::Call(_)))
                && subs.iter().filter(|s| **s == Sub::True).count() != 1
        }
        Step::Not(sub) => *sub == Sub::True,
        Step::Ref(sub) => *sub == Sub::False,
        Step::If {
            condition,
            then,
            otherwise,
        } => match condition {
            Sub::True => *then == Sub::False,
            Sub::False => *otherwise == Sub::False,
            Sub::Call(_) => *then == Sub::False && *otherwise == Sub::False,
        },
        _ => false,
    }
}

struct Compiler<'s> {
    root: &'s Value,
    draft: &'static str,
    functions: Vec<Function>,
    /// The function of each schema compiled, by its JSON pointer: a reference to a schema
    /// compiled already (a cycle among them) calls its function.
    by_pointer: HashMap<String, usize>,
    delegated: Vec<String>,
}

impl<'s> Compiler<'s> {
    fn function(&mut self, pointer: String, schema: &'s Value) -> Result<usize, String> {
        if let Some(&index) = self.by_pointer.get(&pointer) {
            return Ok(index);
        }
        let index = self.functions.len();
        self.functions.push(Function::default());
        self.by_pointer.insert(pointer.clone(), index);
        let steps = self.steps(&pointer, schema)?;
        self.functions[index] = Function { steps };
        Ok(index)
    }

    fn sub(&mut self, pointer: String, schema: &'s Value) -> Result<Sub, String> {
        match schema {
            Value::Bool(true) => Ok(Sub::True),
            Value::Bool(false) => Ok(Sub::False),
            Value::Object(map) if !map.contains_key("$ref") && map.keys().all(|k| skipped(k)) => {
                Ok(Sub::True)
            }
            Value::Object(_) => Ok(Sub::Call(self.function(pointer, schema)?)),
            _ => Err(format!("`{}` is not a schema", display(&pointer))),
        }
    }

    fn subs(&mut self, pointer: &str, schemas: &'s Value) -> Result<Vec<Sub>, String> {
        let Value::Array(schemas) = schemas else {
            return Err(format!("`{}` is not an array", display(pointer)));
        };
        schemas
            .iter()
            .enumerate()
            .map(|(i, schema)| self.sub(format!("{pointer}/{i}"), schema))
            .collect()
    }

    fn steps(&mut self, pointer: &str, schema: &'s Value) -> Result<Vec<Step>, String> {
        let map = match schema {
            Value::Bool(true) => return Ok(Vec::new()),
            Value::Bool(false) => return Ok(vec![Step::False]),
            Value::Object(map) => map,
            _ => return Err(format!("`{}` is not a schema", display(pointer))),
        };
        // An `$id` below the root would change what the references under it mean.
        if !pointer.is_empty() && map.get("$id").is_some_and(Value::is_string) {
            return Err(format!("`{}` has an `$id` of its own", display(pointer)));
        }
        // Draft 6 and 7: a `$ref` replaces the keywords beside it.
        if let Some(reference) = map.get("$ref") {
            let reference = reference
                .as_str()
                .ok_or_else(|| format!("`{}/$ref` is not a string", display(pointer)))?;
            let (target_pointer, target) = self.resolve(reference)?;
            return Ok(vec![Step::Ref(self.sub(target_pointer, target)?)]);
        }
        let at = |keyword: &str| format!("{pointer}/{}", escape(keyword));
        let mut types = Vec::new();
        let mut steps = Vec::new();
        for (keyword, value) in map {
            match keyword.as_str() {
                "type" => types.push(Step::Type(kinds(value).ok_or_else(|| {
                    format!("`{}` names an unknown type", display(&at("type")))
                })?)),
                "const" => match literal(value) {
                    Some(literal) => steps.push(Step::OneOfLiterals(vec![literal])),
                    None => steps.push(self.delegate(map, &["const"])),
                },
                "enum" => {
                    let values = value
                        .as_array()
                        .ok_or_else(|| format!("`{}` is not an array", display(&at("enum"))))?;
                    match values.iter().map(literal).collect::<Option<Vec<_>>>() {
                        Some(literals) => steps.push(Step::OneOfLiterals(literals)),
                        None => steps.push(self.delegate(map, &["enum"])),
                    }
                }
                "minLength" => steps.push(Step::MinLength(count(value, &at(keyword))?)),
                "maxLength" => steps.push(Step::MaxLength(count(value, &at(keyword))?)),
                "minimum" => steps.push(Step::Minimum(limit(value, &at(keyword))?)),
                "maximum" => steps.push(Step::Maximum(limit(value, &at(keyword))?)),
                "exclusiveMinimum" => {
                    steps.push(Step::ExclusiveMinimum(limit(value, &at(keyword))?));
                }
                "exclusiveMaximum" => {
                    steps.push(Step::ExclusiveMaximum(limit(value, &at(keyword))?));
                }
                "multipleOf" | "pattern" | "format" => {
                    steps.push(self.delegate(map, &[keyword.as_str()]));
                }
                "contentMediaType" => {
                    steps.push(self.delegate(map, &["contentMediaType", "contentEncoding"]));
                }
                "contentEncoding" if !map.contains_key("contentMediaType") => {
                    steps.push(self.delegate(map, &["contentEncoding"]));
                }
                "minItems" => steps.push(Step::MinItems(count(value, &at(keyword))?)),
                "maxItems" => steps.push(Step::MaxItems(count(value, &at(keyword))?)),
                "uniqueItems" if value == &Value::Bool(true) => steps.push(Step::UniqueItems),
                "items" => {
                    let step = if value.is_array() {
                        let prefix = self.subs(&at("items"), value)?;
                        let rest = match map.get("additionalItems") {
                            Some(rest) => self.sub(at("additionalItems"), rest)?,
                            None => Sub::True,
                        };
                        Step::Items { prefix, rest }
                    } else {
                        Step::Items {
                            prefix: Vec::new(),
                            rest: self.sub(at("items"), value)?,
                        }
                    };
                    steps.push(step);
                }
                "contains" => steps.push(Step::Contains(self.sub(at(keyword), value)?)),
                "minProperties" => steps.push(Step::MinProperties(count(value, &at(keyword))?)),
                "maxProperties" => steps.push(Step::MaxProperties(count(value, &at(keyword))?)),
                "required" => {
                    let names = strings(value).ok_or_else(|| {
                        format!("`{}` is not a list of names", display(&at(keyword)))
                    })?;
                    if !names.is_empty() {
                        steps.push(Step::Required(names));
                    }
                }
                "properties" => {
                    let properties = value
                        .as_object()
                        .ok_or_else(|| format!("`{}` is not an object", display(&at(keyword))))?;
                    let mut named = Vec::new();
                    for (name, schema) in properties {
                        let sub = self.sub(format!("{}/{}", at(keyword), escape(name)), schema)?;
                        named.push((name.clone(), sub));
                    }
                    let additional = self.additional(map, pointer)?;
                    steps.push(Step::Properties { named, additional });
                }
                "additionalProperties" if !map.contains_key("properties") => {
                    let additional = self.additional(map, pointer)?;
                    steps.push(Step::Properties {
                        named: Vec::new(),
                        additional,
                    });
                }
                "patternProperties" => {
                    // Delegated with the names `properties` declares (which
                    // `additionalProperties` does not cover) and `additionalProperties`.
                    let mut group = Map::new();
                    group.insert("patternProperties".into(), value.clone());
                    if let Some(additional) = map.get("additionalProperties") {
                        group.insert("additionalProperties".into(), additional.clone());
                        let declared: Map<String, Value> = map
                            .get("properties")
                            .and_then(Value::as_object)
                            .map(|p| p.keys().map(|k| (k.clone(), Value::Bool(true))).collect())
                            .unwrap_or_default();
                        group.insert("properties".into(), Value::Object(declared));
                    }
                    steps.push(self.delegate_value(Value::Object(group)));
                }
                "propertyNames" => steps.push(Step::PropertyNames(self.sub(at(keyword), value)?)),
                "dependencies" => {
                    let dependencies = value
                        .as_object()
                        .ok_or_else(|| format!("`{}` is not an object", display(&at(keyword))))?;
                    let mut list = Vec::new();
                    for (name, dependency) in dependencies {
                        let dependency = match dependency {
                            Value::Array(_) => {
                                Dependency::Required(strings(dependency).ok_or_else(|| {
                                    format!(
                                        "`{}/{}` is not a list of names",
                                        display(&at(keyword)),
                                        name
                                    )
                                })?)
                            }
                            schema => Dependency::Schema(
                                self.sub(format!("{}/{}", at(keyword), escape(name)), schema)?,
                            ),
                        };
                        list.push((name.clone(), dependency));
                    }
                    steps.push(Step::Dependencies(list));
                }
                "allOf" => steps.push(Step::AllOf(self.subs(&at(keyword), value)?)),
                "anyOf" => steps.push(Step::AnyOf(self.subs(&at(keyword), value)?)),
                "oneOf" => steps.push(Step::OneOf(self.subs(&at(keyword), value)?)),
                "not" => steps.push(Step::Not(self.sub(at(keyword), value)?)),
                // `if` is draft 7's; draft 6 ignores it, as every unknown keyword.
                "if" if self.draft == DRAFT_07 => {
                    let condition = self.sub(at("if"), value)?;
                    let then = match map.get("then") {
                        Some(then) => self.sub(at("then"), then)?,
                        None => Sub::True,
                    };
                    let otherwise = match map.get("else") {
                        Some(otherwise) => self.sub(at("else"), otherwise)?,
                        None => Sub::True,
                    };
                    steps.push(Step::If {
                        condition,
                        then,
                        otherwise,
                    });
                }
                // Annotations, and keywords of other drafts or vocabularies, which jsonschema
                // ignores in a draft-06 or draft-07 schema.
                _ => {}
            }
        }
        // The type first (the cheapest step, and the one that refuses most often), then the
        // other cheap ones, the walks over members and items, and what calls out last.
        types.extend(steps);
        types.sort_by_key(cost);
        Ok(types)
    }

    /// `additionalProperties`, when it is checked here (not with `patternProperties`).
    fn additional(&mut self, map: &'s Map<String, Value>, pointer: &str) -> Result<Sub, String> {
        match map.get("additionalProperties") {
            Some(schema) if !map.contains_key("patternProperties") => {
                self.sub(format!("{pointer}/additionalProperties"), schema)
            }
            _ => Ok(Sub::True),
        }
    }

    /// The keywords `names` of `map`, delegated to jsonschema.
    fn delegate(&mut self, map: &Map<String, Value>, names: &[&str]) -> Step {
        let group: Map<String, Value> = names
            .iter()
            .filter_map(|name| Some(((*name).to_owned(), map.get(*name)?.clone())))
            .collect();
        self.delegate_value(Value::Object(group))
    }

    fn delegate_value(&mut self, mut schema: Value) -> Step {
        if let Value::Object(map) = &mut schema {
            map.insert("$schema".into(), Value::String(format!("{}#", self.draft)));
            // References inside reach the root's definitions, which come along.
            if schema_text_has_ref(map) {
                for container in ["definitions", "$defs"] {
                    if let Some(definitions) = self.root.get(container) {
                        map.insert(container.into(), definitions.clone());
                    }
                }
            }
        }
        let text = schema.to_string();
        let index = match self.delegated.iter().position(|d| *d == text) {
            Some(index) => index,
            None => {
                self.delegated.push(text);
                self.delegated.len() - 1
            }
        };
        Step::Delegate(index)
    }

    /// A `$ref` within the document: its JSON pointer and the schema there.
    fn resolve(&self, reference: &str) -> Result<(String, &'s Value), String> {
        let Some(fragment) = reference.strip_prefix('#') else {
            return Err(format!("the reference `{reference}` leaves the schema"));
        };
        let pointer = crate::pointer::percent_decode(fragment)
            .map_err(|_| format!("the reference `{reference}` is not a JSON pointer"))?;
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(format!("the reference `{reference}` names an anchor"));
        }
        let target = self
            .root
            .pointer(&pointer)
            .ok_or_else(|| format!("the reference `{reference}` leads nowhere"))?;
        Ok((pointer, target))
    }
}

/// How much a step costs, roughly: the order steps run in.
fn cost(step: &Step) -> u8 {
    match step {
        Step::False | Step::Type(_) => 0,
        Step::OneOfLiterals(_)
        | Step::MinLength(_)
        | Step::MaxLength(_)
        | Step::Minimum(_)
        | Step::ExclusiveMinimum(_)
        | Step::Maximum(_)
        | Step::ExclusiveMaximum(_)
        | Step::MinItems(_)
        | Step::MaxItems(_)
        | Step::MinProperties(_)
        | Step::MaxProperties(_)
        | Step::Required(_) => 1,
        Step::Items { .. }
        | Step::Properties { .. }
        | Step::Contains(_)
        | Step::PropertyNames(_)
        | Step::Dependencies(_)
        | Step::Ref(_) => 2,
        Step::UniqueItems | Step::Delegate(_) => 3,
        Step::AllOf(_) | Step::AnyOf(_) | Step::OneOf(_) | Step::Not(_) | Step::If { .. } => 4,
    }
}

/// Whether a delegated keyword's value holds a `$ref` (so it needs the root's definitions).
fn schema_text_has_ref(map: &Map<String, Value>) -> bool {
    fn has(value: &Value) -> bool {
        match value {
            Value::Object(map) => map.contains_key("$ref") || map.values().any(has),
            Value::Array(items) => items.iter().any(has),
            _ => false,
        }
    }
    map.values().any(has)
}

/// A keyword that needs no check of its own: annotations, and `x-` extensions.
fn skipped(keyword: &str) -> bool {
    ANNOTATIONS.contains(&keyword) || keyword.starts_with("x-") || !KEYWORDS.contains(&keyword)
}

/// The keywords a draft-06 or draft-07 schema is checked by.
const KEYWORDS: &[&str] = &[
    "$ref",
    "type",
    "const",
    "enum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "contentMediaType",
    "contentEncoding",
    "items",
    "additionalItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "contains",
    "properties",
    "patternProperties",
    "additionalProperties",
    "required",
    "minProperties",
    "maxProperties",
    "propertyNames",
    "dependencies",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
];

fn kinds(value: &Value) -> Option<Vec<Kind>> {
    let kind = |name: &str| match name {
        "null" => Some(Kind::Null),
        "boolean" => Some(Kind::Boolean),
        "object" => Some(Kind::Object),
        "array" => Some(Kind::Array),
        "number" => Some(Kind::Number),
        "integer" => Some(Kind::Integer),
        "string" => Some(Kind::String),
        _ => None,
    };
    match value {
        Value::String(name) => Some(vec![kind(name)?]),
        Value::Array(names) => names.iter().map(|n| kind(n.as_str()?)).collect(),
        _ => None,
    }
}

fn literal(value: &Value) -> Option<Literal> {
    match value {
        Value::Null => Some(Literal::Null),
        Value::Bool(b) => Some(Literal::Bool(*b)),
        Value::Number(n) => Some(Literal::Number(number(n)?)),
        Value::String(s) => Some(Literal::String(s.clone())),
        _ => None,
    }
}

fn number(n: &Number) -> Option<Limit> {
    if let Some(u) = n.as_u64() {
        Some(Limit::U64(u))
    } else if let Some(i) = n.as_i64() {
        Some(Limit::I64(i))
    } else {
        n.as_f64().filter(|f| f.is_finite()).map(Limit::F64)
    }
}

fn limit(value: &Value, pointer: &str) -> Result<Limit, String> {
    value
        .as_number()
        .and_then(number)
        .ok_or_else(|| format!("`{}` is not a number", display(pointer)))
}

/// A count (`minLength`, `maxItems` …): a non-negative integer (`2.0` too, as jsonschema reads it).
fn count(value: &Value, pointer: &str) -> Result<u64, String> {
    value
        .as_u64()
        .or_else(|| {
            value
                .as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9.0e15)
                .map(|f| f as u64)
        })
        .ok_or_else(|| format!("`{}` is not a count", display(pointer)))
}

fn strings(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// A JSON pointer's reference token.
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

fn display(pointer: &str) -> String {
    format!("#{pointer}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn draft7(mut schema: Value) -> Value {
        schema["$schema"] = json!("http://json-schema.org/draft-07/schema#");
        schema
    }

    #[test]
    fn a_schema_becomes_functions_the_type_first_and_references_shared() {
        let plan = compile(&draft7(json!({
            "required": ["items"],
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"$ref": "#/definitions/Item"}},
                "note": {"description": "anything"}
            },
            "additionalProperties": false,
            "definitions": {"Item": {"type": "string", "pattern": "^[A-Z]+$"}}
        })))
        .unwrap();
        let root = &plan.functions[0].steps;
        assert_eq!(root[0], Step::Type(vec![Kind::Object]));
        assert_eq!(root[1], Step::Required(vec!["items".into()]));
        let Step::Properties { named, additional } = &root[2] else {
            panic!("{root:?}")
        };
        assert_eq!(*additional, Sub::False);
        assert_eq!(named[1], ("note".into(), Sub::True));
        assert_eq!(plan.delegated.len(), 1);
        assert!(
            plan.delegated[0].contains("\"pattern\""),
            "{:?}",
            plan.delegated
        );
    }

    #[test]
    fn a_cycle_calls_the_function_being_compiled() {
        let plan = compile(&draft7(json!({
            "$ref": "#/$defs/Tree",
            "$defs": {"Tree": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Tree"}}}}}
        })))
        .unwrap();
        assert_eq!(plan.functions[0].steps, vec![Step::Ref(Sub::Call(1))]);
        // Tree → children → items → $ref back to Tree (function 1).
        assert!(
            plan.functions
                .iter()
                .any(|f| f.steps == vec![Step::Ref(Sub::Call(1))])
        );
    }

    #[test]
    fn what_it_cannot_follow_is_said() {
        let cases = [
            (json!({"type": "string"}), "names no draft"),
            (
                json!({"$schema": "https://json-schema.org/draft/2020-12/schema"}),
                "another draft",
            ),
            (
                draft7(json!({"$ref": "other.json#/x"})),
                "leaves the schema",
            ),
            (draft7(json!({"$ref": "#/nowhere"})), "leads nowhere"),
            (
                draft7(json!({"properties": {"a": {"$id": "http://x/a", "type": "string"}}})),
                "`$id` of its own",
            ),
        ];
        for (schema, says) in cases {
            let error = compile(&schema).unwrap_err();
            assert!(error.contains(says), "{schema}: {error}");
        }
    }
}
