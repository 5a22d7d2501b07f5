//! A template's WebSocket API, as API Gateway would deploy it: its route selection expression,
//! its stage, each route with the integration behind it (a function, or an HTTP backend), which
//! routes answer (route responses), and the `$connect` authorizer.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use axum::http::Method;
use serde_json::Value;
use ws_runtime::lambda::IdentitySource;

use super::template::{Resolver, Template, TemplateError, Why};

/// A WebSocket API read from a template.
#[derive(Debug)]
pub struct WebSocketApi {
    /// The `AWS::ApiGatewayV2::Api`'s logical id.
    pub logical_id: String,
    /// Its `Name`.
    pub name: String,
    /// Its API id (what events' `apiId` is).
    pub api_id: String,
    /// Its `RouteSelectionExpression`.
    pub selection: String,
    /// The stage's name (`Prod` when the template declares none).
    pub stage: String,
    /// Its routes, in the template's order.
    pub routes: Vec<Route>,
    /// The `REQUEST` authorizer of `$connect`, if any.
    pub authorizer: Option<Authorizer>,
    /// Whether `$connect`'s authorization is `AWS_IAM`: handshakes signed with SigV4.
    pub iam: bool,
}

/// A route and what serves it.
#[derive(Debug)]
pub struct Route {
    /// The route's logical id.
    pub logical_id: String,
    /// Its `RouteKey` (`$connect`, `sendmessage`, …).
    pub key: String,
    /// The integration it targets.
    pub integration: Integration,
    /// Whether it answers the client (a route response, or a `RouteResponseSelectionExpression`).
    pub two_way: bool,
}

/// What a route's integration calls.
#[derive(Debug, Clone)]
pub enum Integration {
    /// `AWS_PROXY` to a function of the template.
    Function(Function),
    /// `HTTP_PROXY`: the message sent to a URL.
    Http(HttpIntegration),
}

/// An `HTTP_PROXY` integration.
#[derive(Debug, Clone)]
pub struct HttpIntegration {
    /// Its logical id.
    pub logical_id: String,
    /// `IntegrationUri`.
    pub url: String,
    /// `IntegrationMethod` (`POST` when absent).
    pub method: Method,
    /// `TimeoutInMillis` (API Gateway's 29 s when absent).
    pub timeout_ms: Option<u64>,
    /// `RequestParameters`: where each header or query parameter of the request comes from.
    pub request_parameters: Vec<(String, String)>,
}

/// A function of the template: how Lambda would run it.
#[derive(Clone)]
pub struct Function {
    /// Its logical id.
    pub logical_id: String,
    /// Its name (`FunctionName`, else its logical id).
    pub name: String,
    /// Its `Runtime`.
    pub runtime: Runtime,
    /// Its `Handler` (`app.handler`; `bootstrap` for `provided.*`).
    pub handler: String,
    /// The folder its code is in (`CodeUri`, relative to the template).
    pub code_dir: PathBuf,
    /// Where a `provided.*` function's `bootstrap` is looked for, in order: what `sam build`
    /// writes beside the template (`.aws-sam/build/{LogicalId}/bootstrap`), `CodeUri/bootstrap`,
    /// and for `BuildMethod: rust-cargolambda`, what `cargo lambda build` writes
    /// (`target/lambda/{Binary}/bootstrap` in `CodeUri` or a folder above it).
    pub bootstraps: Vec<PathBuf>,
    /// Its environment (`Environment.Variables`, `Globals` included), resolved.
    pub environment: BTreeMap<String, String>,
    /// Its timeout in seconds (`Timeout`; 3, Lambda's default).
    pub timeout_s: u64,
    /// Its memory in MB (`MemorySize`; 128, Lambda's default).
    pub memory_mb: u32,
    /// How many instances may run at once (`ReservedConcurrentExecutions`), when it says.
    pub concurrency: Option<usize>,
    /// The folders of its layers of this template (`Layers`), in order: what Lambda extracts
    /// to `/opt`.
    pub layers: Vec<PathBuf>,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Its environment may carry secrets: the variables' names only.
        f.debug_struct("Function")
            .field("logical_id", &self.logical_id)
            .field("name", &self.name)
            .field("runtime", &self.runtime)
            .field("handler", &self.handler)
            .field("code_dir", &self.code_dir)
            .field("environment", &self.environment.keys().collect::<Vec<_>>())
            .field("timeout_s", &self.timeout_s)
            .field("memory_mb", &self.memory_mb)
            .field("layers", &self.layers)
            .finish_non_exhaustive()
    }
}

/// The Lambda runtimes served locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runtime {
    /// `pythonX.Y`: run by AWS's runtime interface client, `awslambdaric`.
    Python(String),
    /// `nodejsX.x`.
    Node(String),
    /// `provided.al2023`, `provided.al2`: the function's own `bootstrap` (Rust, Go, …).
    Provided(String),
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Runtime::Python(name) | Runtime::Node(name) | Runtime::Provided(name) => {
                f.write_str(name)
            }
        }
    }
}

/// A `REQUEST` authorizer.
#[derive(Debug)]
pub struct Authorizer {
    /// Its logical id.
    pub logical_id: String,
    /// Its identity sources.
    pub identity_sources: Vec<IdentitySource>,
    /// Its function.
    pub function: Function,
}

/// The resource types of a WebSocket API.
const API: &str = "AWS::ApiGatewayV2::Api";
const ROUTE: &str = "AWS::ApiGatewayV2::Route";
const ROUTE_RESPONSE: &str = "AWS::ApiGatewayV2::RouteResponse";
const INTEGRATION: &str = "AWS::ApiGatewayV2::Integration";
const AUTHORIZER: &str = "AWS::ApiGatewayV2::Authorizer";
const STAGE: &str = "AWS::ApiGatewayV2::Stage";
const SAM_FUNCTION: &str = "AWS::Serverless::Function";
const LAMBDA_FUNCTION: &str = "AWS::Lambda::Function";
const SAM_LAYER: &str = "AWS::Serverless::LayerVersion";
const LAMBDA_LAYER: &str = "AWS::Lambda::LayerVersion";

fn refused(at: impl Into<String>, why: Why) -> TemplateError {
    TemplateError::Refused { at: at.into(), why }
}

impl WebSocketApi {
    /// The template's WebSocket API (`api` names it when there are several).
    ///
    /// # Errors
    /// No WebSocket API (or several, and `api` names none of them), or a part of it that
    /// cannot be served here, with the resource and why.
    pub fn read(
        template: &Template,
        resolver: &Resolver<'_>,
        api: Option<&str>,
    ) -> Result<WebSocketApi, TemplateError> {
        let apis: Vec<(&str, &Value)> = template
            .of_type(API)
            .filter(|(_, resource)| {
                resource["Properties"]["ProtocolType"].as_str() == Some("WEBSOCKET")
            })
            .collect();
        let (logical_id, resource) = match (api, apis.as_slice()) {
            (Some(name), _) => apis
                .iter()
                .find(|(id, _)| *id == name)
                .copied()
                .ok_or_else(|| refused(name, Why::Absent("WebSocket API of that name")))?,
            (None, [one]) => *one,
            (None, []) => {
                return Err(refused(
                    "Resources",
                    Why::Absent("AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET"),
                ));
            }
            (None, several) => {
                let names: Vec<&str> = several.iter().map(|(id, _)| *id).collect();
                return Err(refused(
                    names.join(", "),
                    Why::NotServed {
                        property: "several WebSocket APIs",
                        found: names.join(", "),
                        reason: "name one with --api",
                    },
                ));
            }
        };
        let properties = &resource["Properties"];
        let string = |name| resolver.string(logical_id, properties, name);
        let name = string("Name")?.unwrap_or_else(|| logical_id.to_owned());
        let selection = string("RouteSelectionExpression")?
            .ok_or_else(|| refused(logical_id, Why::Missing("RouteSelectionExpression")))?;
        let api_id = resolver
            .physical_id(logical_id)
            .map_err(|why| refused(logical_id, why))?;
        let belongs = |resource: &Value, id: &str| -> Result<bool, TemplateError> {
            let api = resolver.string(id, &resource["Properties"], "ApiId")?;
            Ok(api.as_deref() == Some(api_id.as_str()))
        };

        let mut stage = None;
        for (id, resource) in template.of_type(STAGE) {
            if belongs(resource, id)? && stage.is_none() {
                stage = Some(resolver.physical_id(id).map_err(|why| refused(id, why))?);
            }
        }
        let stage = stage.unwrap_or_else(|| "Prod".to_owned());

        let mut two_way_routes = HashSet::new();
        for (id, resource) in template.of_type(ROUTE_RESPONSE) {
            if belongs(resource, id)?
                && let Some(route) = resolver.string(id, &resource["Properties"], "RouteId")?
            {
                two_way_routes.insert(route);
            }
        }

        let mut routes = Vec::new();
        let mut authorizer = None;
        let mut iam = false;
        for (id, resource) in template.of_type(ROUTE) {
            if !belongs(resource, id)? {
                continue;
            }
            let properties = &resource["Properties"];
            let text = |name| resolver.string(id, properties, name);
            let key = text("RouteKey")?.ok_or_else(|| refused(id, Why::Missing("RouteKey")))?;
            let target = text("Target")?.ok_or_else(|| refused(id, Why::Missing("Target")))?;
            let Some(integration_id) = target.strip_prefix("integrations/") else {
                return Err(refused(
                    format!("{id}.Target"),
                    Why::NotServed {
                        property: "Target",
                        found: target,
                        reason: "a route targets `integrations/{IntegrationId}`",
                    },
                ));
            };
            let integration =
                integration(template, resolver, integration_id).map_err(|e| with_route(e, id))?;
            match text("AuthorizationType")?.as_deref() {
                None | Some("NONE") => {}
                Some("AWS_IAM") if key == "$connect" => iam = true,
                Some("CUSTOM") if key == "$connect" => {
                    let authorizer_id = text("AuthorizerId")?
                        .ok_or_else(|| refused(id, Why::Missing("AuthorizerId")))?;
                    authorizer = Some(read_authorizer(template, resolver, &authorizer_id)?);
                }
                Some(other) => {
                    return Err(refused(
                        format!("{id}.AuthorizationType"),
                        Why::NotServed {
                            property: "AuthorizationType",
                            found: other.to_owned(),
                            reason: "served: NONE, and on $connect AWS_IAM and CUSTOM (a REQUEST authorizer)",
                        },
                    ));
                }
            }
            let two_way = properties.get("RouteResponseSelectionExpression").is_some()
                || two_way_routes.contains(id);
            routes.push(Route {
                logical_id: id.to_owned(),
                key,
                integration,
                two_way,
            });
        }
        if routes.is_empty() {
            return Err(refused(
                logical_id,
                Why::Absent("AWS::ApiGatewayV2::Route for it"),
            ));
        }
        Ok(WebSocketApi {
            logical_id: logical_id.to_owned(),
            name,
            api_id,
            selection,
            stage,
            routes,
            authorizer,
            iam,
        })
    }
}

/// An error about an integration, said of the route that targets it.
fn with_route(error: TemplateError, route: &str) -> TemplateError {
    match error {
        TemplateError::Refused { at, why } => refused(format!("{at} (the target of {route})"), why),
        other => other,
    }
}

/// The integration whose id (its logical id, as `Ref` gives it) is `id`.
fn integration(
    template: &Template,
    resolver: &Resolver<'_>,
    id: &str,
) -> Result<Integration, TemplateError> {
    let Some((id, resource)) = template
        .of_type(INTEGRATION)
        .find(|(logical_id, _)| resolver.physical_id(logical_id).is_ok_and(|p| p == id))
    else {
        return Err(refused(id, Why::UnknownRef(id.to_owned())));
    };
    let properties = &resource["Properties"];
    let text = |name| {
        resolver
            .string(id, properties, name)?
            .ok_or_else(|| refused(id, Why::Missing(name)))
    };
    let kind = text("IntegrationType")?;
    match kind.as_str() {
        "AWS_PROXY" => {
            let uri = text("IntegrationUri")?;
            function_of_uri(template, resolver, id, &uri).map(Integration::Function)
        }
        "HTTP_PROXY" => {
            let method = match resolver.string(id, properties, "IntegrationMethod")? {
                None => Method::POST,
                Some(method) => Method::from_bytes(method.as_bytes()).map_err(|_| {
                    refused(
                        format!("{id}.IntegrationMethod"),
                        Why::NotServed {
                            property: "IntegrationMethod",
                            found: method.clone(),
                            reason: "an HTTP method",
                        },
                    )
                })?,
            };
            let timeout_ms = resolver.number(id, properties, "TimeoutInMillis")?;
            let mut request_parameters = Vec::new();
            if let Some(Value::Object(parameters)) =
                resolver.property(id, properties, "RequestParameters")?
            {
                for (name, value) in parameters {
                    let Value::String(value) = value else {
                        return Err(refused(
                            format!("{id}.RequestParameters.{name}"),
                            Why::NotAString("RequestParameters"),
                        ));
                    };
                    request_parameters.push((name, value));
                }
            }
            Ok(Integration::Http(HttpIntegration {
                logical_id: id.to_owned(),
                url: text("IntegrationUri")?,
                method,
                timeout_ms,
                request_parameters,
            }))
        }
        other => Err(refused(
            format!("{id}.IntegrationType"),
            Why::NotServed {
                property: "IntegrationType",
                found: other.to_owned(),
                reason: "served: AWS_PROXY (a function of the template) and HTTP_PROXY",
            },
        )),
    }
}

/// The function a Lambda invocation URI names
/// (`arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations`, or
/// the function's ARN alone).
fn function_of_uri(
    template: &Template,
    resolver: &Resolver<'_>,
    at: &str,
    uri: &str,
) -> Result<Function, TemplateError> {
    let arn = uri
        .split_once("/functions/")
        .map_or(uri, |(_, rest)| rest.trim_end_matches("/invocations"));
    // `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:ALIAS]`
    let name = arn
        .split(':')
        .skip_while(|part| *part != "function")
        .nth(1)
        .unwrap_or_default();
    let found = template
        .of_type(SAM_FUNCTION)
        .chain(template.of_type(LAMBDA_FUNCTION))
        .find(|(id, _)| resolver.physical_id(id).is_ok_and(|p| p == name));
    match found {
        Some((id, resource)) => function(template, resolver, id, resource),
        None => Err(refused(
            at,
            Why::NotServed {
                property: "IntegrationUri",
                found: uri.to_owned(),
                reason: "a function of this template (`${Function.Arn}` in the URI)",
            },
        )),
    }
}

/// A function resource, read as Lambda would run it (SAM's `Globals.Function` first).
fn function(
    template: &Template,
    resolver: &Resolver<'_>,
    id: &str,
    resource: &Value,
) -> Result<Function, TemplateError> {
    let sam = resource["Type"].as_str() == Some(SAM_FUNCTION);
    let mut properties = resource["Properties"].clone();
    if sam {
        merge_globals(&mut properties, &template.globals["Function"]);
    }
    let text = |name| resolver.string(id, &properties, name);
    let number = |name, default| {
        Ok::<_, TemplateError>(resolver.number(id, &properties, name)?.unwrap_or(default))
    };
    let runtime_name = text("Runtime")?.ok_or_else(|| refused(id, Why::Missing("Runtime")))?;
    let runtime = if runtime_name.starts_with("python") {
        Runtime::Python(runtime_name)
    } else if runtime_name.starts_with("nodejs") {
        Runtime::Node(runtime_name)
    } else if runtime_name.starts_with("provided") {
        Runtime::Provided(runtime_name)
    } else {
        return Err(refused(
            format!("{id}.Runtime"),
            Why::NotServed {
                property: "Runtime",
                found: runtime_name,
                reason: "served: pythonX.Y, nodejsX.x and provided.* (a bootstrap: Rust, Go)",
            },
        ));
    };
    let handler = match (text("Handler")?, &runtime) {
        (Some(handler), _) => handler,
        (None, Runtime::Provided(_)) => "bootstrap".to_owned(),
        (None, _) => return Err(refused(id, Why::Missing("Handler"))),
    };
    let code = if sam { "CodeUri" } else { "Code" };
    let code_dir = match resolver.property(id, &properties, code)? {
        Some(Value::String(dir)) => template.dir.join(dir),
        None if sam => template.dir.clone(),
        Some(other) => {
            return Err(refused(
                format!("{id}.{code}"),
                Why::NotServed {
                    property: code,
                    found: other.to_string(),
                    reason: "code in a local folder (a path relative to the template)",
                },
            ));
        }
        None => return Err(refused(id, Why::Missing(code))),
    };
    let mut environment = BTreeMap::new();
    if let Some(Value::Object(variables)) = resolver
        .property(id, &properties, "Environment")?
        .and_then(|e| e.get("Variables").cloned())
    {
        for (name, value) in variables {
            let value = match value {
                Value::String(text) => text,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(refused(
                        format!("{id}.Environment.Variables.{name}"),
                        Why::NotAString("Environment.Variables"),
                    ));
                }
            };
            environment.insert(name, value);
        }
    }
    let memory_mb = number("MemorySize", 128)?;
    let mut layers = Vec::new();
    let listed = resolver.property(id, &properties, "Layers")?;
    for layer in listed
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(reference) = layer.as_str() else {
            return Err(refused(format!("{id}.Layers"), Why::NotAString("Layers")));
        };
        layers.push(layer_dir(template, resolver, id, reference)?);
    }
    // Its name (`!Sub ${AWS::StackName}-chat`, say): what it is told, what its ARN names, and
    // what integrations are matched on.
    let name = resolver
        .physical_id(id)
        .map_err(|why| refused(format!("{id}.FunctionName"), why))?;
    let mut bootstraps = vec![
        template
            .dir
            .join(".aws-sam/build")
            .join(id)
            .join("bootstrap"),
        code_dir.join("bootstrap"),
    ];
    let metadata = &resource["Metadata"];
    if metadata["BuildMethod"].as_str() == Some("rust-cargolambda") {
        let binary = metadata["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or(id)
            .to_owned();
        let mut dir = Some(code_dir.as_path());
        while let Some(here) = dir {
            bootstraps.push(here.join("target/lambda").join(&binary).join("bootstrap"));
            dir = here
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty());
        }
    }
    Ok(Function {
        logical_id: id.to_owned(),
        name,
        bootstraps,
        runtime,
        handler,
        code_dir,
        environment,
        timeout_s: number("Timeout", 3)?,
        memory_mb: u32::try_from(memory_mb).unwrap_or(u32::MAX),
        layers,
        concurrency: match resolver.number(id, &properties, "ReservedConcurrentExecutions")? {
            None => None,
            Some(found) => match found {
                0 => {
                    return Err(refused(
                        format!("{id}.ReservedConcurrentExecutions"),
                        Why::NotServed {
                            property: "ReservedConcurrentExecutions",
                            found: "0".to_owned(),
                            reason: "0 stops the function; give it at least 1",
                        },
                    ));
                }
                n => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            },
        },
    })
}

/// The folder of a layer a function lists: a layer version of the template
/// (`AWS::Serverless::LayerVersion`'s `ContentUri`, `AWS::Lambda::LayerVersion`'s `Content`), by
/// the ARN its `Ref` gives. A layer from elsewhere (another account's ARN) has no code here.
fn layer_dir(
    template: &Template,
    resolver: &Resolver<'_>,
    function: &str,
    reference: &str,
) -> Result<PathBuf, TemplateError> {
    let found = template
        .of_type(SAM_LAYER)
        .chain(template.of_type(LAMBDA_LAYER))
        .find(|(id, _)| resolver.physical_id(id).is_ok_and(|arn| arn == reference));
    let Some((id, resource)) = found else {
        return Err(refused(
            format!("{function}.Layers"),
            Why::NotServed {
                property: "Layers",
                found: reference.to_owned(),
                reason: "a layer version of this template (with its code in a local folder)",
            },
        ));
    };
    let property = if resource["Type"].as_str() == Some(SAM_LAYER) {
        "ContentUri"
    } else {
        "Content"
    };
    match resolver.string(id, &resource["Properties"], property)? {
        Some(dir) => Ok(template.dir.join(dir)),
        None => Err(refused(
            format!("{id}.{property}"),
            Why::NotServed {
                property,
                found: resource["Properties"][property].to_string(),
                reason: "a layer's code in a local folder (a path relative to the template)",
            },
        )),
    }
}

/// SAM's `Globals.Function` under a function's own properties: what the function sets wins,
/// and environment variables merge name by name.
fn merge_globals(properties: &mut Value, globals: &Value) {
    let (Value::Object(properties), Value::Object(globals)) = (properties, globals) else {
        return;
    };
    for (name, global) in globals {
        match properties.get_mut(name) {
            None => {
                properties.insert(name.clone(), global.clone());
            }
            Some(own) if name == "Environment" => {
                if let (Some(Value::Object(own)), Some(Value::Object(global))) =
                    (own.get_mut("Variables"), global.get("Variables"))
                {
                    for (variable, value) in global {
                        own.entry(variable.clone()).or_insert_with(|| value.clone());
                    }
                }
            }
            Some(_) => {}
        }
    }
}

/// The `REQUEST` authorizer whose id is `id`.
fn read_authorizer(
    template: &Template,
    resolver: &Resolver<'_>,
    id: &str,
) -> Result<Authorizer, TemplateError> {
    let Some((logical_id, resource)) = template
        .of_type(AUTHORIZER)
        .find(|(logical_id, _)| resolver.physical_id(logical_id).is_ok_and(|p| p == id))
    else {
        return Err(refused(id, Why::UnknownRef(id.to_owned())));
    };
    let properties = &resource["Properties"];
    let kind = resolver.string(logical_id, properties, "AuthorizerType")?;
    if kind.as_deref() != Some("REQUEST") {
        return Err(refused(
            format!("{logical_id}.AuthorizerType"),
            Why::NotServed {
                property: "AuthorizerType",
                found: kind.unwrap_or_default(),
                reason: "a WebSocket API's authorizers are REQUEST authorizers",
            },
        ));
    }
    let Some(uri) = resolver.string(logical_id, properties, "AuthorizerUri")? else {
        return Err(refused(logical_id, Why::Missing("AuthorizerUri")));
    };
    let function = function_of_uri(template, resolver, logical_id, &uri)?;
    let mut identity_sources = Vec::new();
    let sources = resolver.property(logical_id, properties, "IdentitySource")?;
    for source in sources
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let text = source.as_str().unwrap_or_default();
        let parsed = text.parse().map_err(|_| {
            refused(
                format!("{logical_id}.IdentitySource"),
                Why::NotServed {
                    property: "IdentitySource",
                    found: text.to_owned(),
                    reason: "route.request.header.NAME or route.request.querystring.NAME",
                },
            )
        })?;
        identity_sources.push(parsed);
    }
    Ok(Authorizer {
        logical_id: logical_id.to_owned(),
        identity_sources,
        function,
    })
}
