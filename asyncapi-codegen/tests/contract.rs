//! The contract checker: messages as a named message, as any message of a channel, routed as
//! the server routes them; every field of a violation; lookups that fail.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::path::Path;

use asyncapi_codegen::contract::{Contract, LookupError, Verdict};
use asyncapi_codegen::model::Direction;
use serde_json::json;

fn contract(path: &str) -> Contract {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let loaded = asyncapi_codegen::load(&path, &Default::default()).unwrap();
    Contract::new(&loaded)
}

fn chat() -> Contract {
    contract("../examples/chat/asyncapi.yaml")
}

fn shop() -> Contract {
    contract("tests/fixtures/contract/shop.yaml")
}

fn rejection(verdict: Verdict) -> asyncapi_codegen::contract::Rejection {
    match verdict {
        Verdict::Rejected(rejection) => rejection,
        Verdict::Valid { message, .. } => panic!("accepted as {message}"),
    }
}

#[test]
fn routed_inbound_messages_are_checked_against_the_routed_message_only() {
    let chat = chat();
    let ok = chat
        .check_channel(
            "chat",
            Direction::Inbound,
            &json!({"action": "echo", "text": "hi"}),
        )
        .unwrap();
    assert_eq!(
        ok,
        Verdict::Valid {
            message: "echo".into(),
            route: Some("echo".into())
        }
    );
    // Valid as `setName` would not help: the route says `sendMessage`.
    let bad = chat
        .check_channel(
            "chat",
            Direction::Inbound,
            &json!({"action": "sendMessage", "name": "Ada"}),
        )
        .unwrap();
    let rejection = rejection(bad);
    assert_eq!(rejection.route.as_deref(), Some("sendMessage"));
    assert_eq!(rejection.candidates.len(), 1);
    assert_eq!(rejection.candidates[0].message, "sendMessage");
    let keywords: Vec<&str> = rejection.candidates[0]
        .violations
        .iter()
        .map(|v| v.keyword.as_str())
        .collect();
    assert!(keywords.contains(&"required"), "{keywords:?}");
    assert!(keywords.contains(&"additionalProperties"), "{keywords:?}");
}

#[test]
fn a_violation_names_pointer_keyword_schema_path_and_location() {
    let chat = chat();
    let verdict = chat
        .check_channel(
            "chat",
            Direction::Inbound,
            &json!({"action": "setName", "name": ""}),
        )
        .unwrap();
    let rejection = rejection(verdict);
    let violation = &rejection.candidates[0].violations[0];
    assert_eq!(violation.instance_path, "/name");
    assert_eq!(violation.keyword, "minLength");
    assert_eq!(violation.schema_path, "/properties/name/minLength");
    let location = violation.location.as_ref().unwrap();
    assert!(location.path.ends_with("examples/chat/asyncapi.yaml"));
    // `minLength: 1` under setName's `name` property.
    let text = std::fs::read_to_string(&location.path).unwrap();
    let line = text.lines().nth(location.line as usize - 1).unwrap();
    assert_eq!(line.trim(), "minLength: 1");
    assert_eq!(
        &line[location.column as usize - 1..].trim_end(),
        &"minLength: 1"
    );
    assert!(
        violation.error.contains("shorter than 1 character"),
        "{}",
        violation.error
    );
    let shown = rejection.to_string();
    assert!(shown.contains("route `setName`"), "{shown}");
    assert!(shown.contains(&location.to_string()), "{shown}");
}

#[test]
fn unknown_route_keys_fall_to_default_or_are_forbidden() {
    let chat = chat();
    let fallback = chat
        .check_channel("chat", Direction::Inbound, &json!({"action": "dance"}))
        .unwrap();
    assert_eq!(
        fallback,
        Verdict::Valid {
            message: "unknown".into(),
            route: Some("$default".into())
        }
    );
    // A channel with explicit routes and no `$default`: no route is `Forbidden`.
    let dir = tempdir("no-default");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat/asyncapi.yaml"),
    )
    .unwrap()
    .replace("x-route-key: $default", "x-route-key: other");
    let path = dir.join("chat.yaml");
    std::fs::write(&path, text).unwrap();
    let loaded = asyncapi_codegen::load(&path, &Default::default()).unwrap();
    let contract = Contract::new(&loaded);
    let forbidden = rejection(
        contract
            .check_channel("chat", Direction::Inbound, &json!({"action": "dance"}))
            .unwrap(),
    );
    assert_eq!(forbidden.route.as_deref(), Some("dance"));
    let routes = forbidden.no_route.unwrap();
    assert!(routes.contains(&"sendMessage".to_owned()), "{routes:?}");
    assert!(!routes.contains(&"$default".to_owned()));
}

#[test]
fn unrouted_channels_try_every_candidate_and_say_why_each_refused() {
    let shop = shop();
    let place = json!({"items": [{"sku": "A1", "quantity": 2}]});
    let verdict = shop
        .check_channel("orders", Direction::Inbound, &place)
        .unwrap();
    assert_eq!(verdict.matched(), Some("placeOrder"));
    let cancel = json!({"orderId": "x"});
    assert_eq!(
        shop.check_channel("orders", Direction::Inbound, &cancel)
            .unwrap()
            .matched(),
        Some("cancelOrder")
    );
    let neither = json!({"items": [{"sku": "A1", "quantity": 0}], "extra": true});
    let rejection = rejection(
        shop.check_channel("orders", Direction::Inbound, &neither)
            .unwrap(),
    );
    assert_eq!(rejection.route, None);
    let names: Vec<&str> = rejection
        .candidates
        .iter()
        .map(|c| c.message.as_str())
        .collect();
    assert_eq!(names, ["placeOrder", "cancelOrder"]);
    let quantity = &rejection.candidates[0].violations[0];
    assert_eq!(quantity.instance_path, "/items/0/quantity");
    assert_eq!(quantity.keyword, "minimum");
    assert!(rejection.to_string().contains("matches none of 2 messages"));
    // Outbound is the other list.
    assert_eq!(
        shop.check_channel("orders", Direction::Outbound, &cancel)
            .unwrap()
            .matched(),
        Some("orderPlaced")
    );
}

#[test]
fn named_messages_by_key_name_or_message_id() {
    let shop = shop();
    let placed = json!({"orderId": "1"});
    for name in ["orderPlaced", "orderPlacedId"] {
        let verdict = shop.check_message(None, name, &placed).unwrap();
        assert!(verdict.is_valid(), "{name}: {verdict:?}");
    }
    let wrong = shop
        .check_message(Some("orders"), "orderPlaced", &json!({}))
        .unwrap();
    assert_eq!(
        rejection(wrong).candidates[0].violations[0].keyword,
        "required"
    );
}

#[test]
fn recursive_schemas_are_located_through_their_definitions() {
    let shop = shop();
    let tree = json!({"value": 1, "children": [{"value": 2, "children": [{"value": "three"}]}]});
    let rejection = rejection(
        shop.check_channel("tree", Direction::Inbound, &tree)
            .unwrap(),
    );
    let violation = &rejection.candidates[0].violations[0];
    assert_eq!(violation.instance_path, "/children/0/children/0/value");
    assert_eq!(violation.keyword, "type");
    let location = violation.location.as_ref().unwrap();
    let text = std::fs::read_to_string(&location.path).unwrap();
    let line = text.lines().nth(location.line as usize - 1).unwrap();
    assert_eq!(line.trim(), "value: {type: integer}");
}

#[test]
fn replies_are_checked_as_the_reply_message() {
    let chat = chat();
    let good = json!({"type": "echo", "text": "hi"});
    assert!(
        chat.check_reply("chat", "echo", &good)
            .unwrap()
            .unwrap()
            .is_valid()
    );
    let bad = json!({"type": "echo", "text": 1});
    let verdict = chat.check_reply("chat", "echo", &bad).unwrap().unwrap();
    assert_eq!(rejection(verdict).candidates[0].message, "echoReply");
    assert_eq!(
        chat.check_reply("chat", "sendMessage", &good).unwrap(),
        None
    );
}

#[test]
fn unknown_channels_and_messages_list_what_exists() {
    let chat = chat();
    let error = chat
        .check_channel("lobby", Direction::Inbound, &json!({}))
        .unwrap_err();
    assert_eq!(
        error,
        LookupError::UnknownChannel {
            name: "lobby".into(),
            known: vec!["chat".into()]
        }
    );
    assert_eq!(
        error.to_string(),
        "the document has no channel `lobby`; channels: `chat`"
    );
    let error = chat
        .check_message(Some("chat"), "nope", &json!({}))
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("channel `chat` has no message `nope`"),
        "{text}"
    );
    assert!(text.contains("`echoReply`"), "{text}");
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("contract-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
