//! Parse + validate + deserialize per message, as ws-runtime decodes a routed message, for the
//! small, medium and large payloads in `bench/data` (the same files ajv is measured on by
//! `bench/node/validate.js`). Prints `NAME ns-per-message` lines: the median of 7 rounds.
//!
//! Each payload twice: `NAME` judged by jsonschema on the frame's tree (what handwritten and
//! derived types get), `NAME/compiled` by the schema compiled into Rust as generated types get
//! it (`checks.rs`, written by the generator; `tests/tests/bench_checks.rs` keeps it current).
//!
//! `cargo bench -p ws-runtime --bench validate [-- NAME…]`; with `BREAKDOWN=1` also the steps,
//! and the path through `serde_json::Value` the runtime took before (`NAME/value-path`), side by
//! side. `PROFILE=N` runs only the runtime's path N times, untimed, for a profiler:
//! `PROFILE=20000 valgrind --tool=callgrind target/release/deps/validate-* medium`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// Printed by the generator, not by rustfmt (`tests/tests/bench_checks.rs` compares it as written).
#[rustfmt::skip]
mod checks;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use ws_runtime::__private::Tree;
use ws_runtime::{Message, Schema, Selection};

#[derive(Debug, Serialize, Deserialize)]
#[allow(dead_code)]
struct SendMessage {
    text: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[allow(dead_code)]
#[serde(rename_all = "camelCase")]
struct PlaceOrder {
    order_id: String,
    customer: Customer,
    items: Vec<Item>,
    note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[allow(dead_code)]
struct Customer {
    name: String,
    email: String,
    vip: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize)]
#[allow(dead_code)]
struct Item {
    sku: String,
    quantity: u32,
    price: f64,
    #[serde(default)]
    tags: Vec<String>,
}

/// The schemas of `bench/data`, read once: small and medium, then the same two with their
/// compiled checks.
static SCHEMAS: OnceLock<Vec<Schema>> = OnceLock::new();

/// The same messages, judged by their compiled checks.
#[derive(Debug, Serialize, Deserialize)]
#[serde(transparent)]
struct SendMessageCompiled(SendMessage);

#[derive(Debug, Serialize, Deserialize)]
#[serde(transparent)]
struct PlaceOrderCompiled(PlaceOrder);

impl Message for SendMessageCompiled {
    const NAME: &'static str = "sendMessage";
    fn schema() -> &'static Schema {
        &SCHEMAS.get().unwrap()[2]
    }
}

impl Message for PlaceOrderCompiled {
    const NAME: &'static str = "placeOrder";
    fn schema() -> &'static Schema {
        &SCHEMAS.get().unwrap()[3]
    }
}

impl Message for SendMessage {
    const NAME: &'static str = "sendMessage";
    fn schema() -> &'static Schema {
        &SCHEMAS.get().unwrap()[0]
    }
}

/// The medium and large messages share one schema.
impl Message for PlaceOrder {
    const NAME: &'static str = "placeOrder";
    fn schema() -> &'static Schema {
        &SCHEMAS.get().unwrap()[1]
    }
}

/// What the runtime does with a routed text frame: parse it once into a tree that borrows the
/// text (in an arena), validate the tree, deserialize the message from it without its route key.
fn decode<M: Message>(selection: &Selection, text: &str) -> M {
    Tree::read(text, |tree| {
        ws_runtime::__private::decode_route_tree::<M>(selection, &tree.unwrap())
    })
    .unwrap()
}

/// The path before the tree: parse to `serde_json::Value`, validate, drop the route key,
/// deserialize.
fn decode_value<T: serde::de::DeserializeOwned>(schema: &Schema, text: &str) -> T {
    let mut json: serde_json::Value = serde_json::from_str(text).unwrap();
    schema.validate(&json).unwrap();
    if let Some(map) = json.as_object_mut() {
        map.remove("action");
    }
    serde_json::from_value(json).unwrap()
}

fn measure(name: &str, mut once: impl FnMut()) {
    let mut iterations = 1u64;
    loop {
        let started = Instant::now();
        for _ in 0..iterations {
            once();
        }
        if started.elapsed() > Duration::from_millis(50) {
            break;
        }
        iterations *= 2;
    }
    let mut samples: Vec<f64> = (0..7)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..iterations {
                once();
            }
            started.elapsed().as_nanos() as f64 / iterations as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    println!("{name} {:.1}", samples[samples.len() / 2]);
}

fn main() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/data");
    let read = |file: String| std::fs::read_to_string(data.join(file)).unwrap();
    let schema = |name: &str| {
        Schema::new(
            serde_json::from_str::<serde_json::Value>(&read(format!("{name}.schema.json")))
                .unwrap(),
        )
    };
    SCHEMAS.get_or_init(|| {
        vec![
            schema("small"),
            schema("medium"),
            schema("small").with_check(checks::small),
            schema("medium").with_check(checks::medium),
        ]
    });
    let selection = Selection::parse("$request.body.action").unwrap();
    // `-- medium` (any of the names) measures only those payloads, for a profiler.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    // `PROFILE=N`: only the runtime's path, N times, untimed (for callgrind or perf).
    let profile: Option<u64> = std::env::var("PROFILE").ok().and_then(|n| n.parse().ok());
    for name in ["small", "medium", "large"] {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        let schema = if name == "small" {
            SendMessage::schema()
        } else {
            PlaceOrder::schema()
        };
        let text = read(format!("{name}.message.json"));
        if std::env::var_os("BREAKDOWN").is_some() {
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            measure(&format!("{name}/parse"), || {
                black_box(serde_json::from_str::<serde_json::Value>(black_box(&text)).unwrap());
            });
            measure(&format!("{name}/validate"), || {
                schema.validate(black_box(&json)).unwrap();
            });
            // The typed message straight from the text, no tree and no validation: the floor
            // for validators compiled into the generated types.
            if name == "small" {
                measure(&format!("{name}/typed-from-str"), || {
                    black_box(serde_json::from_str::<SendMessage>(black_box(&text)).unwrap());
                });
            } else {
                measure(&format!("{name}/typed-from-str"), || {
                    black_box(serde_json::from_str::<PlaceOrder>(black_box(&text)).unwrap());
                });
            }
            measure(&format!("{name}/tree-parse"), || {
                Tree::read(black_box(&text), |tree| black_box(tree.is_ok()));
            });
            let arena = bumpalo::Bump::new();
            let tree = Tree::parse(&text, &arena).unwrap();
            measure(&format!("{name}/tree-validate"), || {
                schema.validate_tree(black_box(&tree)).unwrap();
            });
            let check = if name == "small" {
                checks::small
            } else {
                checks::medium
            };
            measure(&format!("{name}/tree-check"), || {
                assert!(check(black_box(&tree)));
            });
            if name == "small" {
                measure(&format!("{name}/value-path"), || {
                    black_box(decode_value::<SendMessage>(schema, black_box(&text)));
                });
            } else {
                measure(&format!("{name}/value-path"), || {
                    black_box(decode_value::<PlaceOrder>(schema, black_box(&text)));
                });
            }
        }
        let once = || {
            if name == "small" {
                black_box(decode::<SendMessage>(&selection, black_box(&text)));
            } else {
                black_box(decode::<PlaceOrder>(&selection, black_box(&text)));
            }
        };
        let compiled = || {
            if name == "small" {
                black_box(decode::<SendMessageCompiled>(&selection, black_box(&text)));
            } else {
                black_box(decode::<PlaceOrderCompiled>(&selection, black_box(&text)));
            }
        };
        // `PROFILE` with `COMPILED=1` profiles the compiled path.
        match (profile, std::env::var_os("COMPILED").is_some()) {
            (Some(times), false) => (0..times).for_each(|_| once()),
            (Some(times), true) => (0..times).for_each(|_| compiled()),
            (None, _) => {
                measure(name, once);
                measure(&format!("{name}/compiled"), compiled);
            }
        }
    }
}
