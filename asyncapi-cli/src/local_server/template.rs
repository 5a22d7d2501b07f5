//! A CloudFormation or SAM template: its resources, parameters and conditions, and its intrinsic
//! functions (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, …) resolved to the values they have on
//! this machine (the local account, region and endpoint).
//!
//! Resolution is lazy: only what the local run reads is resolved, so a template whose IAM
//! policies name resources this tool does not model still serves.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use asyncapi_codegen::load::{Tags, parse_with};
use asyncapi_codegen::source::Sources;
use asyncapi_codegen::{Diagnostic, Report};
use serde_json::{Map, Value};

/// The account of every ARN made locally.
pub const ACCOUNT: &str = "000000000000";

/// Conditions and sub-expressions may nest at most this deep (a condition naming itself, say).
const MAX_DEPTH: usize = 64;

/// A template, read.
#[derive(Debug)]
pub struct Template {
    /// The folder the template is in: `CodeUri`s are relative to it.
    pub dir: PathBuf,
    /// Its resources, by logical id, in the template's order.
    pub resources: Map<String, Value>,
    /// `Globals` (SAM): what every `AWS::Serverless::Function` has unless it says otherwise.
    pub globals: Value,
    parameters: Map<String, Value>,
    conditions: Map<String, Value>,
    mappings: Map<String, Value>,
}

/// Why a template cannot be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// It could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It is not YAML or JSON (the report renders where).
    #[error("{} is not a YAML or JSON template", .0.sources.iter().next().map(|(_, f)| f.path.display().to_string()).unwrap_or_default())]
    Syntax(Box<Report>),
    /// It has no `Resources` object.
    #[error("the template has no `Resources`")]
    NoResources,
    /// A resource or parameter could not be used, with why.
    #[error("{at}: {why}")]
    Refused {
        /// The resource's logical id and the property, or the parameter.
        at: String,
        /// Why.
        why: Why,
    },
}

/// Why a part of a template cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Why {
    /// A `Ref` to nothing the template declares.
    #[error("`Ref` to `{0}`, which is neither a parameter nor a resource")]
    UnknownRef(String),
    /// A `Fn::GetAtt` to a resource the template does not declare.
    #[error("`Fn::GetAtt` of `{0}`, which is not a resource")]
    UnknownResource(String),
    /// A `Fn::GetAtt` of an attribute this tool has no local value for.
    #[error("`Fn::GetAtt` of `{resource}.{attribute}` ({kind}): no local value for it")]
    UnknownAttribute {
        /// The resource.
        resource: String,
        /// Its type.
        kind: String,
        /// The attribute.
        attribute: String,
    },
    /// An intrinsic function whose arguments are not of its shape.
    #[error("`{function}` takes {expected}")]
    BadArguments {
        /// The function.
        function: &'static str,
        /// What it takes.
        expected: &'static str,
    },
    /// An intrinsic function with no local meaning (`Fn::ImportValue`: another stack's output).
    #[error("`{0}` cannot be resolved locally (it names another stack or an unknown function)")]
    Unsupported(String),
    /// A `Fn::If` or `Condition` naming no condition.
    #[error("condition `{0}` is not declared")]
    UnknownCondition(String),
    /// A `Fn::FindInMap` to a missing entry.
    #[error("`Fn::FindInMap` has no `{0}`")]
    UnknownMapping(String),
    /// A parameter with no value: no `Default` and no override.
    #[error("has no `Default`: give it a value with `--parameter {0}=VALUE`")]
    NoValue(String),
    /// An override of a parameter the template does not declare.
    #[error("the template declares no such parameter")]
    UnknownParameter,
    /// Nested too deep (64 levels): a condition that names itself, say.
    #[error("nested more than {MAX_DEPTH} deep (a condition that names itself?)")]
    TooDeep,
    /// A resource the API needs is not in the template.
    #[error("the template has no {0}")]
    Absent(&'static str),
    /// A property that must be present is missing.
    #[error("`{0}` is missing")]
    Missing(&'static str),
    /// A property that must be a string (after resolution) is not.
    #[error("`{0}` is not a string")]
    NotAString(&'static str),
    /// A property that must be a whole number (after resolution) is not.
    #[error("`{0}` is not a whole number")]
    NotANumber(&'static str),
    /// A property of a kind this tool does not serve, with what it found.
    #[error("{property} `{found}` is not served locally: {reason}")]
    NotServed {
        /// The property.
        property: &'static str,
        /// Its value.
        found: String,
        /// What is served instead.
        reason: &'static str,
    },
}

impl Template {
    /// Reads a template (YAML with CloudFormation's short forms, or JSON).
    ///
    /// # Errors
    /// It cannot be read, is not YAML or JSON, or has no `Resources`.
    pub fn read(path: &Path) -> Result<Template, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut sources = Sources::default();
        let file = sources.add(path.to_owned(), text.clone());
        let node = parse_with(file, &text, "YAML", Tags::CloudFormation).map_err(
            |diagnostic: Diagnostic| {
                TemplateError::Syntax(Box::new(Report {
                    sources,
                    diagnostics: vec![diagnostic],
                }))
            },
        )?;
        let Value::Object(mut root) = node.to_json() else {
            return Err(TemplateError::NoResources);
        };
        let mut section = |name: &str| match root.remove(name) {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let resources = section("Resources");
        if resources.is_empty() {
            return Err(TemplateError::NoResources);
        }
        let dir = path.parent().map(Path::to_owned).unwrap_or_default();
        Ok(Template {
            dir,
            globals: Value::Object(section("Globals")),
            parameters: section("Parameters"),
            conditions: section("Conditions"),
            mappings: section("Mappings"),
            resources,
        })
    }

    /// The resources of type `kind`, by logical id.
    pub fn of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> {
        self.resources
            .iter()
            .filter(move |(_, resource)| resource["Type"].as_str() == Some(kind))
            .map(|(id, resource)| (id.as_str(), resource))
    }

    /// The values of the parameters: their `Default`s, overridden by `overrides`.
    ///
    /// # Errors
    /// An override of an undeclared parameter, or a parameter left with no value.
    pub fn parameter_values(
        &self,
        overrides: &[(String, String)],
    ) -> Result<BTreeMap<String, Value>, TemplateError> {
        let mut values = BTreeMap::new();
        for (name, value) in overrides {
            if !self.parameters.contains_key(name) {
                return Err(TemplateError::Refused {
                    at: format!("parameter {name}"),
                    why: Why::UnknownParameter,
                });
            }
            values.insert(name.clone(), Value::String(value.clone()));
        }
        for (name, declared) in &self.parameters {
            if values.contains_key(name) {
                continue;
            }
            let Some(default) = declared.get("Default") else {
                return Err(TemplateError::Refused {
                    at: format!("parameter {name}"),
                    why: Why::NoValue(name.clone()),
                });
            };
            // A number default is its text, as CloudFormation passes parameters.
            let default = match default {
                Value::Number(n) => Value::String(n.to_string()),
                other => other.clone(),
            };
            values.insert(name.clone(), default);
        }
        Ok(values)
    }
}

/// What intrinsic functions resolve to on this machine.
#[derive(Debug)]
pub struct Resolver<'t> {
    template: &'t Template,
    parameters: BTreeMap<String, Value>,
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::StackName`.
    pub stack_name: String,
    /// What a WebSocket API's `ApiEndpoint` is: `ws://127.0.0.1:PORT`.
    pub endpoint: String,
}

/// `AWS::NoValue`: the property or item is dropped.
const NO_VALUE: &str = "AWS::NoValue";

impl<'t> Resolver<'t> {
    /// A resolver for `template` with these parameter values.
    pub fn new(
        template: &'t Template,
        parameters: BTreeMap<String, Value>,
        region: impl Into<String>,
        endpoint: impl Into<String>,
    ) -> Resolver<'t> {
        Resolver {
            template,
            parameters,
            region: region.into(),
            stack_name: "local".into(),
            endpoint: endpoint.into(),
        }
    }

    /// `value` with every intrinsic function replaced by its local value (`None`: it is
    /// `AWS::NoValue`).
    ///
    /// # Errors
    /// An intrinsic function that cannot be resolved here, with why.
    pub fn resolve(&self, value: &Value) -> Result<Option<Value>, Why> {
        self.resolve_at(value, 0)
    }

    /// A resource's property, resolved: `None` when absent (or `AWS::NoValue`).
    ///
    /// # Errors
    /// As [`Resolver::resolve`], with the resource and property named.
    pub fn property(
        &self,
        resource: &str,
        properties: &Value,
        name: &str,
    ) -> Result<Option<Value>, TemplateError> {
        match properties.get(name) {
            None => Ok(None),
            Some(value) => self.resolve(value).map_err(|why| TemplateError::Refused {
                at: format!("{resource}.{name}"),
                why,
            }),
        }
    }

    /// A resource's property that must be a string, resolved: `None` when absent.
    ///
    /// # Errors
    /// As [`Resolver::property`], or it is not a string.
    pub fn string(
        &self,
        resource: &str,
        properties: &Value,
        name: &'static str,
    ) -> Result<Option<String>, TemplateError> {
        match self.property(resource, properties, name)? {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(TemplateError::Refused {
                at: format!("{resource}.{name}"),
                why: Why::NotAString(name),
            }),
        }
    }

    /// A resource's property that must be a whole number (or its text), resolved: `None` when
    /// absent.
    ///
    /// # Errors
    /// As [`Resolver::property`], or it is not a whole number.
    pub fn number(
        &self,
        resource: &str,
        properties: &Value,
        name: &'static str,
    ) -> Result<Option<u64>, TemplateError> {
        let value = self.property(resource, properties, name)?;
        let number = match &value {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(text)) => text.parse().ok(),
            Some(_) => None,
        };
        number.map(Some).ok_or_else(|| TemplateError::Refused {
            at: format!("{resource}.{name}"),
            why: Why::NotANumber(name),
        })
    }

    fn resolve_at(&self, value: &Value, depth: usize) -> Result<Option<Value>, Why> {
        if depth > MAX_DEPTH {
            return Err(Why::TooDeep);
        }
        let depth = depth + 1;
        match value {
            Value::Array(items) => {
                let mut resolved = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(item) = self.resolve_at(item, depth)? {
                        resolved.push(item);
                    }
                }
                Ok(Some(Value::Array(resolved)))
            }
            Value::Object(map) if map.len() == 1 => {
                let Some((key, argument)) = map.iter().next() else {
                    return Ok(Some(value.clone()));
                };
                if key == "Ref" || key.starts_with("Fn::") {
                    return self.function(key, argument, depth);
                }
                self.object(map, depth)
            }
            Value::Object(map) => self.object(map, depth),
            scalar => Ok(Some(scalar.clone())),
        }
    }

    fn object(&self, map: &Map<String, Value>, depth: usize) -> Result<Option<Value>, Why> {
        let mut resolved = Map::new();
        for (key, value) in map {
            if let Some(value) = self.resolve_at(value, depth)? {
                resolved.insert(key.clone(), value);
            }
        }
        Ok(Some(Value::Object(resolved)))
    }

    /// A string argument of an intrinsic function, resolved.
    fn argument(
        &self,
        value: &Value,
        function: &'static str,
        expected: &'static str,
        depth: usize,
    ) -> Result<String, Why> {
        match self.resolve_at(value, depth)? {
            Some(Value::String(text)) => Ok(text),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(Value::Bool(b)) => Ok(b.to_string()),
            _ => Err(Why::BadArguments { function, expected }),
        }
    }

    fn function(&self, name: &str, argument: &Value, depth: usize) -> Result<Option<Value>, Why> {
        let bad = |function: &'static str, expected: &'static str| {
            Err(Why::BadArguments { function, expected })
        };
        match name {
            "Ref" => {
                let Some(target) = argument.as_str() else {
                    return bad("Ref", "a name");
                };
                if target == NO_VALUE {
                    return Ok(None);
                }
                self.reference(target, depth).map(Some)
            }
            "Fn::GetAtt" => {
                let (resource, attribute) = match argument.as_array().map(Vec::as_slice) {
                    Some([resource, attribute]) => (
                        self.argument(resource, "Fn::GetAtt", "[resource, attribute]", depth)?,
                        self.argument(attribute, "Fn::GetAtt", "[resource, attribute]", depth)?,
                    ),
                    _ => match argument.as_str().and_then(|a| a.split_once('.')) {
                        Some((resource, attribute)) => (resource.to_owned(), attribute.to_owned()),
                        None => return bad("Fn::GetAtt", "[resource, attribute]"),
                    },
                };
                self.attribute(&resource, &attribute, depth).map(Some)
            }
            "Fn::Sub" => {
                let (text, variables) = match argument {
                    Value::String(text) => (text.as_str(), None),
                    Value::Array(items) => match items.as_slice() {
                        [Value::String(text), Value::Object(variables)] => {
                            (text.as_str(), Some(variables))
                        }
                        _ => return bad("Fn::Sub", "a string, or [string, variables]"),
                    },
                    _ => return bad("Fn::Sub", "a string, or [string, variables]"),
                };
                self.substitute(text, variables, depth)
                    .map(|text| Some(Value::String(text)))
            }
            "Fn::Join" => {
                let Some([delimiter, items]) = argument.as_array().map(Vec::as_slice) else {
                    return bad("Fn::Join", "[delimiter, [values]]");
                };
                let Some(delimiter) = delimiter.as_str() else {
                    return bad("Fn::Join", "[delimiter, [values]]");
                };
                let Some(Value::Array(items)) = self.resolve_at(items, depth)? else {
                    return bad("Fn::Join", "[delimiter, [values]]");
                };
                let mut parts = Vec::with_capacity(items.len());
                for item in &items {
                    parts.push(self.argument(item, "Fn::Join", "[delimiter, [strings]]", depth)?);
                }
                Ok(Some(Value::String(parts.join(delimiter))))
            }
            "Fn::Select" => {
                let Some([index, items]) = argument.as_array().map(Vec::as_slice) else {
                    return bad("Fn::Select", "[index, [values]]");
                };
                let index = self.argument(index, "Fn::Select", "[index, [values]]", depth)?;
                let Some(Value::Array(items)) = self.resolve_at(items, depth)? else {
                    return bad("Fn::Select", "[index, [values]]");
                };
                match index.parse::<usize>().ok().and_then(|i| items.get(i)) {
                    Some(item) => Ok(Some(item.clone())),
                    None => bad("Fn::Select", "an index within its list"),
                }
            }
            "Fn::Split" => {
                let Some([delimiter, text]) = argument.as_array().map(Vec::as_slice) else {
                    return bad("Fn::Split", "[delimiter, string]");
                };
                let Some(delimiter) = delimiter.as_str().filter(|d| !d.is_empty()) else {
                    return bad("Fn::Split", "[delimiter, string]");
                };
                let text = self.argument(text, "Fn::Split", "[delimiter, string]", depth)?;
                Ok(Some(
                    text.split(delimiter)
                        .map(|part| Value::String(part.to_owned()))
                        .collect(),
                ))
            }
            "Fn::If" => {
                let Some([condition, then, otherwise]) = argument.as_array().map(Vec::as_slice)
                else {
                    return bad("Fn::If", "[condition, value if true, value if false]");
                };
                let Some(condition) = condition.as_str() else {
                    return bad("Fn::If", "[condition, value if true, value if false]");
                };
                if self.condition(condition, depth)? {
                    self.resolve_at(then, depth)
                } else {
                    self.resolve_at(otherwise, depth)
                }
            }
            "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" => {
                let single = Value::Object(Map::from_iter([(name.to_owned(), argument.clone())]));
                self.truth(&single, depth).map(|b| Some(Value::Bool(b)))
            }
            "Fn::FindInMap" => {
                let Some([map, first, second]) = argument.as_array().map(Vec::as_slice) else {
                    return bad("Fn::FindInMap", "[map, key, key]");
                };
                let expected = "[map, key, key]";
                let map = self.argument(map, "Fn::FindInMap", expected, depth)?;
                let first = self.argument(first, "Fn::FindInMap", expected, depth)?;
                let second = self.argument(second, "Fn::FindInMap", expected, depth)?;
                let found = self.template.mappings.get(&map).and_then(|m| m.get(&first));
                match found.and_then(|m| m.get(&second)) {
                    Some(value) => self.resolve_at(value, depth),
                    None => Err(Why::UnknownMapping(format!("{map}.{first}.{second}"))),
                }
            }
            "Fn::Base64" => {
                use base64::Engine as _;
                let text = self.argument(argument, "Fn::Base64", "a string", depth)?;
                Ok(Some(Value::String(
                    base64::engine::general_purpose::STANDARD.encode(text),
                )))
            }
            "Fn::GetAZs" => Ok(Some(
                ["a", "b", "c"]
                    .iter()
                    .map(|zone| Value::String(format!("{}{zone}", self.region)))
                    .collect(),
            )),
            other => Err(Why::Unsupported(other.to_owned())),
        }
    }

    /// Whether a condition (by name) holds.
    fn condition(&self, name: &str, depth: usize) -> Result<bool, Why> {
        let Some(condition) = self.template.conditions.get(name) else {
            return Err(Why::UnknownCondition(name.to_owned()));
        };
        self.truth(condition, depth + 1)
    }

    /// The truth of a condition function (`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`,
    /// `Condition`).
    fn truth(&self, value: &Value, depth: usize) -> Result<bool, Why> {
        if depth > MAX_DEPTH {
            return Err(Why::TooDeep);
        }
        let depth = depth + 1;
        let Some((name, argument)) = value.as_object().and_then(|m| m.iter().next()) else {
            return match value {
                Value::Bool(b) => Ok(*b),
                _ => Err(Why::BadArguments {
                    function: "Fn::If",
                    expected: "a condition",
                }),
            };
        };
        let list = |function: &'static str| {
            argument.as_array().ok_or(Why::BadArguments {
                function,
                expected: "a list of conditions",
            })
        };
        match name.as_str() {
            "Condition" => match argument.as_str() {
                Some(name) => self.condition(name, depth),
                None => Err(Why::BadArguments {
                    function: "Condition",
                    expected: "a condition's name",
                }),
            },
            "Fn::Equals" => match argument.as_array().map(Vec::as_slice) {
                Some([a, b]) => {
                    let a = self.argument(a, "Fn::Equals", "[value, value]", depth)?;
                    let b = self.argument(b, "Fn::Equals", "[value, value]", depth)?;
                    Ok(a == b)
                }
                _ => Err(Why::BadArguments {
                    function: "Fn::Equals",
                    expected: "[value, value]",
                }),
            },
            "Fn::Not" => match argument.as_array().map(Vec::as_slice) {
                Some([inner]) => Ok(!self.truth(inner, depth)?),
                _ => Err(Why::BadArguments {
                    function: "Fn::Not",
                    expected: "[condition]",
                }),
            },
            "Fn::And" => {
                for inner in list("Fn::And")? {
                    if !self.truth(inner, depth)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            "Fn::Or" => {
                for inner in list("Fn::Or")? {
                    if self.truth(inner, depth)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            other => Err(Why::Unsupported(other.to_owned())),
        }
    }

    /// `Fn::Sub`'s text with each `${Name}` and `${Resource.Attribute}` replaced (`${!Text}`
    /// is the literal `${Text}`).
    fn substitute(
        &self,
        text: &str,
        variables: Option<&Map<String, Value>>,
        depth: usize,
    ) -> Result<String, Why> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(Why::BadArguments {
                    function: "Fn::Sub",
                    expected: "`${` closed by `}`",
                });
            };
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = variables.and_then(|v| v.get(name)) {
                out.push_str(&self.argument(value, "Fn::Sub", "string variables", depth)?);
            } else if let Some((resource, attribute)) = name.split_once('.') {
                match self.attribute(resource, attribute, depth)? {
                    Value::String(value) => out.push_str(&value),
                    other => out.push_str(&other.to_string()),
                }
            } else {
                match self.reference(name, depth)? {
                    Value::String(value) => out.push_str(&value),
                    Value::Array(items) => {
                        let items: Vec<String> = items
                            .iter()
                            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                            .collect();
                        out.push_str(&items.join(","));
                    }
                    other => out.push_str(&other.to_string()),
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// What `Ref` to `name` is: a parameter's value, a pseudo parameter, or a resource's
    /// physical id.
    fn reference(&self, name: &str, depth: usize) -> Result<Value, Why> {
        if let Some(value) = self.parameters.get(name) {
            return Ok(value.clone());
        }
        let pseudo = match name {
            "AWS::Region" => Some(self.region.clone()),
            "AWS::AccountId" => Some(ACCOUNT.to_owned()),
            "AWS::StackName" => Some(self.stack_name.clone()),
            "AWS::StackId" => Some(format!(
                "arn:aws:cloudformation:{}:{ACCOUNT}:stack/{}/local",
                self.region, self.stack_name
            )),
            "AWS::Partition" => Some("aws".to_owned()),
            "AWS::URLSuffix" => Some("amazonaws.com".to_owned()),
            _ => None,
        };
        if let Some(pseudo) = pseudo {
            return Ok(Value::String(pseudo));
        }
        match self.template.resources.get(name) {
            Some(_) => self.physical_id_at(name, depth).map(Value::String),
            None => Err(Why::UnknownRef(name.to_owned())),
        }
    }

    /// A resource's physical id (what `Ref` gives): the name it gives itself (`FunctionName`,
    /// `TableName`, a stage's `StageName`, …), resolved, else its logical id. A WebSocket API's
    /// id is its logical id in lower case (API Gateway's ids are lower-case).
    ///
    /// # Errors
    /// Its name property cannot be resolved.
    pub fn physical_id(&self, logical_id: &str) -> Result<String, Why> {
        self.physical_id_at(logical_id, 0)
    }

    fn physical_id_at(&self, logical_id: &str, depth: usize) -> Result<String, Why> {
        let Some(resource) = self.template.resources.get(logical_id) else {
            return Err(Why::UnknownRef(logical_id.to_owned()));
        };
        let kind = resource["Type"].as_str().unwrap_or_default();
        let named = match kind {
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => "FunctionName",
            "AWS::DynamoDB::Table" | "AWS::Serverless::SimpleTable" => "TableName",
            "AWS::ApiGatewayV2::Stage" => "StageName",
            "AWS::IAM::Role" => "RoleName",
            "AWS::SQS::Queue" => "QueueName",
            "AWS::SNS::Topic" => "TopicName",
            "AWS::ApiGatewayV2::Api" => return Ok(logical_id.to_ascii_lowercase()),
            // `Ref` of a layer version is its ARN, named by its `LayerName`.
            "AWS::Serverless::LayerVersion" | "AWS::Lambda::LayerVersion" => {
                let name = match resource["Properties"].get("LayerName") {
                    Some(name) => match self.resolve_at(name, depth + 1)? {
                        Some(Value::String(name)) => name,
                        _ => logical_id.to_owned(),
                    },
                    None => logical_id.to_owned(),
                };
                return Ok(format!(
                    "arn:aws:lambda:{}:{ACCOUNT}:layer:{name}:1",
                    self.region
                ));
            }
            _ => return Ok(logical_id.to_owned()),
        };
        match resource["Properties"].get(named) {
            None => Ok(logical_id.to_owned()),
            Some(name) => match self.resolve_at(name, depth + 1)? {
                Some(Value::String(name)) => Ok(name),
                None => Ok(logical_id.to_owned()),
                Some(_) => Err(Why::NotAString(named)),
            },
        }
    }

    /// `Fn::GetAtt` of a resource: the attributes the local run can give a value.
    fn attribute(&self, resource: &str, attribute: &str, depth: usize) -> Result<Value, Why> {
        let Some(declared) = self.template.resources.get(resource) else {
            return Err(Why::UnknownResource(resource.to_owned()));
        };
        let kind = declared["Type"].as_str().unwrap_or_default();
        let id = self.physical_id_at(resource, depth)?;
        let region = &self.region;
        let value = match (kind, attribute) {
            ("AWS::Serverless::Function" | "AWS::Lambda::Function", "Arn") => {
                format!("arn:aws:lambda:{region}:{ACCOUNT}:function:{id}")
            }
            ("AWS::ApiGatewayV2::Api", "ApiEndpoint") => self.endpoint.clone(),
            ("AWS::ApiGatewayV2::Api", "ApiId") => id,
            ("AWS::DynamoDB::Table", "Arn") => {
                format!("arn:aws:dynamodb:{region}:{ACCOUNT}:table/{id}")
            }
            ("AWS::DynamoDB::Table", "StreamArn") => {
                format!("arn:aws:dynamodb:{region}:{ACCOUNT}:table/{id}/stream/local")
            }
            ("AWS::IAM::Role", "Arn") => format!("arn:aws:iam::{ACCOUNT}:role/{id}"),
            ("AWS::SQS::Queue", "Arn") => format!("arn:aws:sqs:{region}:{ACCOUNT}:{id}"),
            ("AWS::SNS::Topic", "TopicName") => id,
            _ => {
                return Err(Why::UnknownAttribute {
                    resource: resource.to_owned(),
                    kind: kind.to_owned(),
                    attribute: attribute.to_owned(),
                });
            }
        };
        Ok(Value::String(value))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn template(resources: Value, rest: Value) -> Template {
        let section = |name: &str| match &rest[name] {
            Value::Object(map) => map.clone(),
            _ => Map::new(),
        };
        Template {
            dir: PathBuf::new(),
            resources: resources.as_object().cloned().unwrap(),
            globals: json!({}),
            parameters: section("Parameters"),
            conditions: section("Conditions"),
            mappings: section("Mappings"),
        }
    }

    #[test]
    fn intrinsic_functions_resolve_to_local_values() {
        let template = template(
            json!({
                "OnConnect": {"Type": "AWS::Serverless::Function"},
                "Named": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "named"}},
                "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "conns"}},
                "Made": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": {"Fn::Sub": "${AWS::StackName}-${TableName}"}}},
                "ChatApi": {"Type": "AWS::ApiGatewayV2::Api"},
            }),
            json!({
                "Parameters": {"TableName": {"Default": "t"}, "Env": {"Type": "String"}},
                "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                               "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]}},
                "Mappings": {"Sizes": {"prod": {"Memory": 512}}},
            }),
        );
        let parameters = template
            .parameter_values(&[("Env".into(), "prod".into())])
            .unwrap();
        let resolver = Resolver::new(&template, parameters, "eu-west-1", "ws://127.0.0.1:9");
        let resolve = |value: Value| resolver.resolve(&value).unwrap().unwrap();
        assert_eq!(
            resolve(
                json!({"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${OnConnect.Arn}/invocations"})
            ),
            json!(
                "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:000000000000:function:OnConnect/invocations"
            )
        );
        assert_eq!(
            resolve(json!({"Fn::Join": ["/", ["integrations", {"Ref": "Named"}]]})),
            json!("integrations/named")
        );
        assert_eq!(resolve(json!({"Ref": "Table"})), json!("conns"));
        assert_eq!(resolve(json!({"Ref": "TableName"})), json!("t"));
        assert_eq!(resolve(json!({"Ref": "Made"})), json!("local-t"));
        assert_eq!(
            resolve(json!({"Fn::GetAtt": ["Made", "Arn"]})),
            json!("arn:aws:dynamodb:eu-west-1:000000000000:table/local-t")
        );
        assert_eq!(
            resolve(json!({"Fn::GetAtt": ["ChatApi", "ApiEndpoint"]})),
            json!("ws://127.0.0.1:9")
        );
        assert_eq!(
            resolve(
                json!({"Fn::If": ["NotProd", 1, {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]}]})
            ),
            json!(512)
        );
        assert_eq!(
            resolve(json!({"Fn::Sub": ["${A}-${!Literal}", {"A": {"Ref": "AWS::AccountId"}}]})),
            json!("000000000000-${Literal}")
        );
        assert_eq!(
            resolve(json!({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]})),
            json!("b")
        );
        assert_eq!(
            resolve(json!({"a": {"Ref": "AWS::NoValue"}, "b": [1, {"Ref": "AWS::NoValue"}]})),
            json!({"b": [1]})
        );
    }

    #[test]
    fn what_cannot_be_resolved_says_why() {
        let template = template(
            json!({
                "Queue": {"Type": "AWS::Kinesis::Stream"},
                "Itself": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": {"Ref": "Itself"}}},
            }),
            json!({"Conditions": {"Loop": {"Condition": "Loop"}}, "Parameters": {"Key": {}}}),
        );
        assert_eq!(
            template.parameter_values(&[]).unwrap_err().to_string(),
            "parameter Key: has no `Default`: give it a value with `--parameter Key=VALUE`"
        );
        assert!(matches!(
            template.parameter_values(&[("Nope".into(), "1".into())]),
            Err(TemplateError::Refused {
                why: Why::UnknownParameter,
                ..
            })
        ));
        let resolver = Resolver::new(&template, BTreeMap::new(), "us-east-1", "ws://x");
        let why = |value: Value| resolver.resolve(&value).unwrap_err();
        assert_eq!(
            why(json!({"Ref": "Missing"})),
            Why::UnknownRef("Missing".into())
        );
        assert!(matches!(
            why(json!({"Fn::GetAtt": ["Queue", "Arn"]})),
            Why::UnknownAttribute { .. }
        ));
        assert_eq!(
            why(json!({"Fn::ImportValue": "x"})),
            Why::Unsupported("Fn::ImportValue".into())
        );
        assert_eq!(why(json!({"Fn::If": ["Loop", 1, 2]})), Why::TooDeep);
        assert_eq!(why(json!({"Ref": "Itself"})), Why::TooDeep);
        assert!(matches!(
            why(json!({"Fn::Join": ["/"]})),
            Why::BadArguments { .. }
        ));
        assert!(matches!(
            why(json!({"Fn::Sub": "${unclosed"})),
            Why::BadArguments { .. }
        ));
        assert!(matches!(
            why(json!({"Fn::Select": [9, [1]]})),
            Why::BadArguments { .. }
        ));
    }
}
