//! A starting AsyncAPI document from a template's WebSocket API (`asyncapi-rs local
//! --write-asyncapi`), so an app that exists gains a contract: one channel with the API's route
//! selection expression, one message per route key (`$default` included) received by the
//! server, and an open reply for each two-way route. What a template does not say is left open
//! for the team to fill in: payloads are any JSON object (pinning only the property the
//! selection expression reads, so the document routes as the API does), and messages the
//! functions send to connections are not known.

use serde_json::{Map, Value, json};

use super::app::WebSocketApi;

/// The document, as JSON (`ws_runtime::to_yaml` writes it as YAML).
pub fn starting_document(api: &WebSocketApi, template: &str) -> Value {
    let channel = "api";
    // `$request.body.action` pins `action`; a selection of another form pins nothing.
    let property = api
        .selection
        .strip_prefix("$request.body.")
        .filter(|path| !path.contains(['.', '[', '$']));
    let mut messages = Map::new();
    let mut operations = Map::new();
    for route in &api.routes {
        if route.key == "$connect" || route.key == "$disconnect" {
            continue;
        }
        let name = message_name(&route.key);
        let mut payload = json!({ "type": "object" });
        if let (Some(property), false) = (property, route.key == "$default") {
            payload["properties"] = json!({ property: { "const": route.key } });
            payload["required"] = json!([property]);
        }
        messages.insert(
            name.clone(),
            json!({
                "name": name,
                "x-route-key": route.key,
                "summary": format!("What route `{}` receives (its payload is not in the template).", route.key),
                "payload": payload,
            }),
        );
        let mut operation = json!({
            "action": "receive",
            "channel": { "$ref": format!("#/channels/{channel}") },
            "messages": [{ "$ref": format!("#/channels/{channel}/messages/{name}") }],
        });
        if route.two_way {
            let reply = format!("{name}Reply");
            messages.insert(
                reply.clone(),
                json!({
                    "name": reply,
                    "summary": format!("What route `{}` answers (its payload is not in the template).", route.key),
                    "payload": {},
                }),
            );
            operation["reply"] = json!({
                "channel": { "$ref": format!("#/channels/{channel}") },
                "messages": [{ "$ref": format!("#/channels/{channel}/messages/{reply}") }],
            });
        }
        operations.insert(name, operation);
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": api.name,
            "version": "0.1.0",
            "description": format!(
                "Written by `asyncapi-rs local --write-asyncapi` from the WebSocket API `{}` of {template}: its routes, each a message the server receives. A template says nothing of payloads or of what the functions send to connections: fill them in.",
                api.logical_id
            ),
        },
        "servers": {
            "local": {
                "host": "127.0.0.1:3001",
                "pathname": format!("/{}", api.stage),
                "protocol": "ws",
                "description": "`asyncapi-rs local`",
            },
        },
        "channels": {
            channel: {
                "address": "/",
                "x-route-selection-expression": api.selection,
                "messages": messages,
            },
        },
        "operations": operations,
    })
}

/// A message name of a route key: `sendmessage` as is, `$default` as `default`.
fn message_name(key: &str) -> String {
    let name: String = key
        .trim_start_matches('$')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "route".to_owned()
    } else {
        name
    }
}
