//! `diff`, one fixture pair per rule: a base document, and the same with one edit. Each pair
//! must report its rule with the expected classification, at the edited line on the new side.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use asyncapi_codegen::diff::{Change, Rule, diff};

const BASE: &str = r##"asyncapi: 3.0.0
info: {title: Rules, version: '1'}
servers:
  prod:
    host: example.com
    protocol: wss
    security:
      - $ref: '#/components/securitySchemes/key'
channels:
  room:
    address: /room
    bindings:
      ws:
        query:
          type: object
          required: [name]
          properties:
            name: {type: string, minLength: 1}
    messages:
      say:
        name: say
        payload:
          type: object
          required: [action, text]
          properties:
            action: {const: say}
            text: {type: string, maxLength: 100}
            tone: {type: string}
      ask:
        name: ask
        payload:
          type: object
          required: [action, n]
          properties:
            action: {const: ask}
            n: {type: integer}
      answer:
        name: answer
        payload:
          type: object
          required: [n]
          properties:
            n: {type: integer}
      said:
        name: said
        payload:
          type: object
          required: [text]
          properties:
            text: {type: string}
            kind: {type: string, enum: [plain, bold]}
      notice:
        name: notice
        payload: {type: string}
operations:
  say:
    action: receive
    channel: {$ref: '#/channels/room'}
    messages: [{$ref: '#/channels/room/messages/say'}]
  ask:
    action: receive
    channel: {$ref: '#/channels/room'}
    messages: [{$ref: '#/channels/room/messages/ask'}]
    reply:
      channel: {$ref: '#/channels/room'}
      messages: [{$ref: '#/channels/room/messages/answer'}]
  said:
    action: send
    channel: {$ref: '#/channels/room'}
    messages: [{$ref: '#/channels/room/messages/said'}]
components:
  securitySchemes:
    key: {type: httpApiKey, name: key, in: query}
    token: {type: http, scheme: bearer}
"##;

/// A fixture pair: the rule, its edit (`from` → `to`, once), whom it breaks (clients,
/// servers), and where the change lands in the API.
type Case = (Rule, &'static str, &'static str, (bool, bool), &'static str);

const CASES: &[Case] = &[
    (
        Rule::ChannelMoved,
        "address: /room",
        "address: /hall",
        (true, true),
        "channel room",
    ),
    (
        Rule::RouteAdded,
        "    messages: [{$ref: '#/channels/room/messages/said'}]",
        "    messages: [{$ref: '#/channels/room/messages/said'}]\n  notice:\n    action: receive\n    channel: {$ref: '#/channels/room'}\n    messages: [{$ref: '#/channels/room/messages/notice'}]",
        (false, true),
        "channel room / route notice",
    ),
    (
        Rule::RouteKeyChanged,
        "action: {const: say}",
        "action: {const: speak}",
        (true, true),
        "channel room / route speak",
    ),
    (
        Rule::SelectionChanged,
        "    address: /room",
        "    address: /room\n    x-route-selection-expression: $request.body.type",
        (true, true),
        "channel room",
    ),
    (
        Rule::MessageRemoved,
        "    action: send\n    channel: {$ref: '#/channels/room'}\n    messages: [{$ref: '#/channels/room/messages/said'}]",
        "    action: send\n    channel: {$ref: '#/channels/room'}\n    messages: [{$ref: '#/channels/room/messages/notice'}]",
        (true, false),
        "channel room / sends said",
    ),
    (
        Rule::ReplyChanged,
        "    reply:\n      channel: {$ref: '#/channels/room'}\n      messages: [{$ref: '#/channels/room/messages/answer'}]\n",
        "",
        (true, true),
        "channel room / route ask",
    ),
    (
        Rule::SchemaNarrowed,
        "maxLength: 100",
        "maxLength: 50",
        (true, false),
        "channel room / route say / payload /text",
    ),
    (
        Rule::SchemaWidened,
        "maxLength: 100",
        "maxLength: 200",
        (false, true),
        "channel room / route say / payload /text",
    ),
    (
        Rule::SchemaNarrowed,
        "required: [action, text]",
        "required: [action, text, tone]",
        (true, false),
        "channel room / route say / payload /",
    ),
    (
        Rule::SchemaWidened,
        "enum: [plain, bold]",
        "enum: [plain, bold, italic]",
        (true, false),
        "channel room / sends said / payload /kind",
    ),
    (
        Rule::SchemaNarrowed,
        "enum: [plain, bold]",
        "enum: [plain]",
        (false, true),
        "channel room / sends said / payload /kind",
    ),
    (
        Rule::SchemaNarrowed,
        "          required: [n]\n          properties:\n            n: {type: integer}",
        "          required: [n]\n          properties:\n            n: {type: integer, minimum: 0}",
        (false, true),
        "channel room / route ask / reply / payload /n",
    ),
    (
        Rule::SchemaChanged,
        "n: {type: integer}\n      answer",
        "n: {type: string}\n      answer",
        (true, true),
        "channel room / route ask / payload /n",
    ),
    (
        Rule::PropertyAdded,
        "            kind: {type: string, enum: [plain, bold]}",
        "            kind: {type: string, enum: [plain, bold]}\n            at: {type: string}",
        (false, false),
        "channel room / sends said / payload /at",
    ),
    (
        Rule::PropertyRemoved,
        "            tone: {type: string}\n",
        "",
        (false, false),
        "channel room / route say / payload /tone",
    ),
    (
        Rule::HandshakeNarrowed,
        "minLength: 1",
        "minLength: 3",
        (true, false),
        "channel room / handshake query /name",
    ),
    (
        Rule::HandshakeWidened,
        "          required: [name]\n",
        "",
        (false, true),
        "channel room / handshake query /",
    ),
    (
        Rule::SecurityAdded,
        "      - $ref: '#/components/securitySchemes/key'",
        "      - $ref: '#/components/securitySchemes/key'\n      - $ref: '#/components/securitySchemes/token'",
        (true, false),
        "servers / security",
    ),
    (
        Rule::SecurityRemoved,
        "    security:\n      - $ref: '#/components/securitySchemes/key'\n",
        "",
        (false, true),
        "servers / security",
    ),
];

fn load(text: &str) -> asyncapi_codegen::Loaded {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff.yaml");
    asyncapi_codegen::load_text(&path, text, &Default::default())
        .unwrap_or_else(|report| panic!("{}", report.render(false)))
}

fn show(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| {
            format!(
                "{} {} ({}, {}): {}",
                c.rule, c.at, c.breaks_clients, c.breaks_servers, c.what
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn each_rule_reports_its_fixture_pair_with_its_classification() {
    let base = load(BASE);
    assert!(
        diff(&base, &base).is_empty(),
        "{}",
        show(&diff(&base, &base))
    );
    let mut seen = Vec::new();
    for (rule, from, to, (clients, servers), at) in CASES {
        assert_eq!(
            BASE.matches(from).count(),
            1,
            "{rule}: `{from}` must be in the base once"
        );
        let edited = BASE.replacen(from, to, 1);
        let changes = diff(&base, &load(&edited));
        let found = changes.iter().find(|c| c.rule == *rule && c.at == *at);
        let Some(change) = found else {
            panic!(
                "{rule}: not reported at `{at}`; the changes:\n{}",
                show(&changes)
            );
        };
        assert_eq!(
            (change.breaks_clients, change.breaks_servers),
            (*clients, *servers),
            "{rule} at {at}: {change:?}"
        );
        assert!(!change.why.is_empty() && !change.what.is_empty());
        seen.push(*rule);
    }
    // Every rule has its pair; these are covered by the tests below.
    let below = [
        Rule::RouteRemoved,
        Rule::MessageAdded,
        Rule::ChannelRemoved,
        Rule::ChannelAdded,
    ];
    for rule in &Rule::ALL {
        assert!(
            seen.contains(rule) || below.contains(rule),
            "rule `{rule}` has no fixture pair"
        );
    }
}

#[test]
fn a_channel_under_another_key_and_address_is_one_removed_and_one_added() {
    let base = load(BASE);
    let edited = BASE.replace("room", "hall");
    let changes = diff(&base, &load(&edited));
    let rules: Vec<(Rule, &str, bool, bool)> = changes
        .iter()
        .map(|c| (c.rule, c.at.as_str(), c.breaks_clients, c.breaks_servers))
        .collect();
    assert_eq!(
        rules,
        [
            (Rule::ChannelRemoved, "channel room", true, false),
            (Rule::ChannelAdded, "channel hall", false, true)
        ],
        "{}",
        show(&changes)
    );
}

#[test]
fn a_removed_route_breaks_clients_and_a_new_outbound_message_breaks_no_one() {
    let base = load(BASE);
    // `say` is no longer received; `notice` is sent.
    let edited = BASE.replacen(
        "    action: receive\n    channel: {$ref: '#/channels/room'}\n    messages: [{$ref: '#/channels/room/messages/say'}]",
        "    action: send\n    channel: {$ref: '#/channels/room'}\n    messages: [{$ref: '#/channels/room/messages/notice'}]",
        1,
    );
    let changes = diff(&base, &load(&edited));
    let rules: Vec<(Rule, bool, bool)> = changes
        .iter()
        .map(|c| (c.rule, c.breaks_clients, c.breaks_servers))
        .collect();
    assert!(
        rules.contains(&(Rule::RouteRemoved, true, false)),
        "{}",
        show(&changes)
    );
    assert!(
        rules.contains(&(Rule::MessageAdded, false, false)),
        "{}",
        show(&changes)
    );
}

#[test]
fn changes_name_the_edited_line_on_the_new_side_and_the_old_line_on_the_old() {
    let base = load(BASE);
    let edited = BASE.replacen("maxLength: 100", "maxLength: 50", 1);
    let changes = diff(&base, &load(&edited));
    let change = changes
        .iter()
        .find(|c| c.rule == Rule::SchemaNarrowed)
        .unwrap();
    let line = BASE
        .lines()
        .position(|l| l.contains("maxLength: 100"))
        .unwrap()
        + 1;
    assert_eq!(change.old.as_ref().unwrap().line as usize, line);
    assert_eq!(change.new.as_ref().unwrap().line as usize, line);
    // Moved down by two lines in the new document, the location follows.
    let moved = edited.replacen("info:", "x-a: 1\nx-b: 2\ninfo:", 1);
    let changes = diff(&base, &load(&moved));
    let change = changes
        .iter()
        .find(|c| c.rule == Rule::SchemaNarrowed)
        .unwrap();
    assert_eq!(change.new.as_ref().unwrap().line as usize, line + 2);
}
