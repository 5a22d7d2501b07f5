//! The document's security as a channel's handshake and routes need it: the schemes of the
//! servers the channel is on (where each credential is), and the scopes each route's operation
//! asks for. Read from the bundled document (`Api::document`): references inside it stay as
//! written, and point into it.

use serde_json::Value;

use crate::model::{Api, Channel};
use crate::pointer::Pointer;

/// Where a scheme's credential is in a WebSocket handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Query(String),
    Header(String),
    Cookie(String),
    Bearer,
    Basic,
}

/// A scheme the handshake can carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemePlan {
    /// Its name in `components.securitySchemes` (its `type` when it is written inline).
    pub name: String,
    pub location: Location,
}

/// A channel's security: any one alternative, each all of its schemes; and what the document
/// asks that a WebSocket handshake cannot carry, said instead of dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelSecurity {
    pub alternatives: Vec<Vec<SchemePlan>>,
    pub skipped: Vec<String>,
}

/// A requirement as the document writes it: a scheme's name, its object, and the scopes asked.
struct Requirement<'a> {
    name: String,
    scheme: Option<&'a Value>,
    scopes: Vec<String>,
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// The alternatives of a `security` list: 2.x `{name: [scopes], …}` (all of them), 3.x a scheme
/// object or a reference to one (each its own alternative, with the scopes it lists).
fn alternatives<'a>(document: &'a Value, security: Option<&'a Value>) -> Vec<Vec<Requirement<'a>>> {
    let schemes = document
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object);
    // An inline 3.x scheme is the component it equals apart from its scopes and description.
    let essence = |scheme: &Value| {
        let mut scheme = scheme.clone();
        if let Some(map) = scheme.as_object_mut() {
            map.remove("scopes");
            map.remove("description");
        }
        scheme
    };
    let named = |scheme: &Value| {
        schemes
            .into_iter()
            .flatten()
            .find(|(_, s)| essence(s) == essence(scheme))
            .map(|(name, _)| name.clone())
            .or_else(|| {
                scheme
                    .get("type")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| scheme.to_string())
    };
    let Some(list) = security.and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|entry| {
            let map = entry.as_object()?;
            if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                let scheme = reference
                    .strip_prefix('#')
                    .and_then(|p| document.pointer(p));
                let name = reference.rsplit('/').next().unwrap_or(reference).to_owned();
                let scopes = strings(scheme.and_then(|s| s.get("scopes")));
                return Some(vec![Requirement {
                    name,
                    scheme,
                    scopes,
                }]);
            }
            if map.contains_key("type") {
                return Some(vec![Requirement {
                    name: named(entry),
                    scheme: Some(entry),
                    scopes: strings(map.get("scopes")),
                }]);
            }
            Some(
                map.iter()
                    .map(|(name, scopes)| Requirement {
                        name: name.clone(),
                        scheme: schemes.and_then(|s| s.get(name)),
                        scopes: strings(Some(scopes)),
                    })
                    .collect(),
            )
        })
        .collect()
}

/// The names of the schemes a `security` list asks for, in any of its alternatives (what `diff`
/// compares).
pub fn scheme_names(document: &Value, security: Option<&Value>) -> Vec<String> {
    alternatives(document, security)
        .into_iter()
        .flatten()
        .map(|r| r.name)
        .collect()
}

/// Where a scheme's credential is, or why a WebSocket handshake cannot carry it.
fn location(scheme: &Value) -> Result<Location, String> {
    let text = |key: &str| scheme.get(key).and_then(Value::as_str).unwrap_or_default();
    match text("type") {
        "httpApiKey" => match text("in") {
            "query" => Ok(Location::Query(text("name").to_owned())),
            "header" => Ok(Location::Header(text("name").to_ascii_lowercase())),
            "cookie" => Ok(Location::Cookie(text("name").to_owned())),
            other => Err(format!("an `httpApiKey` in `{other}`")),
        },
        "http" => match text("scheme").to_ascii_lowercase().as_str() {
            "bearer" => Ok(Location::Bearer),
            "basic" => Ok(Location::Basic),
            other => Err(format!("HTTP authentication `{other}`")),
        },
        "oauth2" | "openIdConnect" => Ok(Location::Bearer),
        other => Err(format!("a `{other}` scheme")),
    }
}

/// The servers `channel` is on (its `servers`, or every server), by name, as the document has them.
fn servers<'a>(api: &'a Api, channel: &Channel) -> Vec<&'a Value> {
    let document = &api.document;
    let all = document.get("servers").and_then(Value::as_object);
    let raw = channel_json(document, channel).and_then(|c| c.get("servers"));
    let names: Vec<String> = raw
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| match s {
            Value::String(name) => Some(name.clone()),
            Value::Object(map) => map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.rsplit('/').next())
                .map(str::to_owned),
            _ => None,
        })
        .collect();
    all.into_iter()
        .flatten()
        .filter(|(name, _)| names.is_empty() || names.contains(name))
        .map(|(_, server)| server)
        .collect()
}

fn channel_json<'a>(document: &'a Value, channel: &Channel) -> Option<&'a Value> {
    document.get("channels")?.as_object()?.get(&channel.id)
}

/// The security of `channel`'s handshake: that of its first WebSocket server (`ws`, `wss`) that
/// has some, else its first server that has some.
pub fn channel(api: &Api, channel: &Channel) -> ChannelSecurity {
    let servers = servers(api, channel);
    let is_ws = |s: &&Value| {
        matches!(
            s.get("protocol").and_then(Value::as_str),
            Some("ws" | "wss")
        )
    };
    let has_security = |s: &&Value| {
        s.get("security")
            .and_then(Value::as_array)
            .is_some_and(|l| !l.is_empty())
    };
    let Some(server) = servers
        .iter()
        .find(|s| is_ws(s) && has_security(s))
        .or_else(|| servers.iter().find(|s| has_security(s)))
    else {
        return ChannelSecurity::default();
    };
    let mut security = ChannelSecurity::default();
    for alternative in alternatives(&api.document, server.get("security")) {
        let mut schemes = Vec::new();
        let mut usable = true;
        for requirement in alternative {
            let found = requirement
                .scheme
                .ok_or_else(|| "no such scheme in `components.securitySchemes`".to_owned())
                .and_then(location);
            match found {
                Ok(location) => schemes.push(SchemePlan {
                    name: requirement.name,
                    location,
                }),
                Err(why) => {
                    usable = false;
                    security.skipped.push(format!(
                        "security scheme `{}` ({why}) cannot be carried by a WebSocket handshake: not enforced",
                        requirement.name
                    ));
                }
            }
        }
        if usable && !schemes.is_empty() {
            security.alternatives.push(schemes);
        }
    }
    security
}

/// The scopes the operation `operation` of `channel` asks for: those of its first security
/// requirement (3.x `operations.<id>.security`, 2.x the channel's `publish.security`).
pub fn scopes(api: &Api, channel: &Channel, operation: &str) -> Vec<String> {
    let document = &api.document;
    let security = document
        .pointer(
            &Pointer::root()
                .join("operations")
                .join(operation)
                .to_string(),
        )
        .and_then(|o| o.get("security"))
        .or_else(|| {
            channel_json(document, channel)
                .and_then(|c| c.get("publish"))
                .and_then(|p| p.get("security"))
        });
    alternatives(document, security)
        .into_iter()
        .next()
        .into_iter()
        .flatten()
        .flat_map(|r| r.scopes)
        .collect()
}
