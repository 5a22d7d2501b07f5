// @generated from bench/data/*.schema.json by tests/tests/bench_checks.rs (UPDATE_BENCH_CHECKS=1 rewrites it).

#[allow(unused_imports)]
use ::ws_runtime::__private::check::{self as c, Tree};

/// Whether a frame's tree is a valid `small`.
pub fn small(t: &Tree<'_>) -> bool {
    let Tree::Object(m) = t else {
        return false;
    };
    if !c::has(m, &["action", "text"]) {
        return false;
    }
    for (k, v) in m.iter() {
        let valid = match *k {
            "action" => matches!(v, Tree::String("sendMessage")),
            "text" => small_2(v),
            _ => false,
        };
        if !valid {
            return false;
        }
    }
    true
}

fn small_2(t: &Tree<'_>) -> bool {
    let Tree::String(s) = t else {
        return false;
    };
    if s.is_empty() {
        return false;
    }
    if c::longer_than(s, 1000) {
        return false;
    }
    true
}

static MEDIUM_D0: c::Delegated = c::Delegated::new(
    "{\"pattern\":\"^[A-Z]{3}-[0-9]{4}$\",\"$schema\":\"http://json-schema.org/draft-07/schema#\"}",
);

/// Whether a frame's tree is a valid `medium`.
pub fn medium(t: &Tree<'_>) -> bool {
    let Tree::Object(m) = t else {
        return false;
    };
    if !c::has(m, &["action", "orderId", "customer", "items"]) {
        return false;
    }
    for (k, v) in m.iter() {
        let valid = match *k {
            "action" => matches!(v, Tree::String("placeOrder")),
            "orderId" => medium_2(v),
            "customer" => medium_3(v),
            "items" => medium_7(v),
            "note" => matches!(v, Tree::String(_)),
            _ => false,
        };
        if !valid {
            return false;
        }
    }
    true
}

fn medium_2(t: &Tree<'_>) -> bool {
    let Tree::String(s) = t else {
        return false;
    };
    if c::shorter_than(s, 8) {
        return false;
    }
    true
}

fn medium_3(t: &Tree<'_>) -> bool {
    let Tree::Object(m) = t else {
        return false;
    };
    if !c::has(m, &["name", "email"]) {
        return false;
    }
    for (k, v) in m.iter() {
        let valid = match *k {
            "name" => matches!(v, Tree::String(_)),
            "email" => medium_5(v),
            "vip" => matches!(v, Tree::Bool(_)),
            _ => false,
        };
        if !valid {
            return false;
        }
    }
    true
}

fn medium_5(t: &Tree<'_>) -> bool {
    let Tree::String(s) = t else {
        return false;
    };
    if c::longer_than(s, 254) {
        return false;
    }
    true
}

fn medium_7(t: &Tree<'_>) -> bool {
    let Tree::Array(a) = t else {
        return false;
    };
    if a.is_empty() {
        return false;
    }
    if !a.iter().all(medium_8) {
        return false;
    }
    true
}

fn medium_8(t: &Tree<'_>) -> bool {
    if !medium_9(t) {
        return false;
    }
    true
}

fn medium_9(t: &Tree<'_>) -> bool {
    let Tree::Object(m) = t else {
        return false;
    };
    if !c::has(m, &["sku", "quantity", "price"]) {
        return false;
    }
    for (k, v) in m.iter() {
        let valid = match *k {
            "sku" => matches!(v, Tree::String(_)) && MEDIUM_D0.check(v),
            "quantity" => medium_11(v),
            "price" => medium_12(v),
            "tags" => medium_13(v),
            _ => false,
        };
        if !valid {
            return false;
        }
    }
    true
}

fn medium_11(t: &Tree<'_>) -> bool {
    if !c::is_integer(t) {
        return false;
    }
    if let Tree::Number(n) = t && c::below(n, c::Limit::U64(1)) {
        return false;
    }
    true
}

fn medium_12(t: &Tree<'_>) -> bool {
    let Tree::Number(n) = t else {
        return false;
    };
    if c::at_most(n, c::Limit::U64(0)) {
        return false;
    }
    true
}

fn medium_13(t: &Tree<'_>) -> bool {
    let Tree::Array(a) = t else {
        return false;
    };
    if a.len() > 8 {
        return false;
    }
    if !a.iter().all(|v| matches!(v, Tree::String(_))) {
        return false;
    }
    true
}
