//! `checks.rs`: each message schema compiled into Rust functions over a frame's tree
//! (`plan::checks` decides the steps). `#[message(check = …)]` on the message type hands the
//! root function to the runtime, which judges frames with it.
//!
//! A function is a statement per step (`if <refused> { return false; }`) and then `true`; the
//! steps of one JSON type share one `if let`. A subschema of a few plain tests (a type, a
//! constant, a delegated keyword) is written in place instead of as a function of its own.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

use super::ident;
use crate::plan::checks::{
    CheckPlan, Dependency, Function, Kind, Limit, Literal as Scalar, Step, Sub,
};
use crate::plan::{MessagePlan, Plan};
use crate::scope::Scope;

/// The name of a message's root check function (its schema file's stem: `send_message`).
pub(crate) fn root_name(message: &MessagePlan) -> String {
    message.schema_file.trim_end_matches(".json").to_owned()
}

pub(crate) fn file(plan: &Plan) -> TokenStream {
    let checked: Vec<_> = plan
        .messages
        .iter()
        .filter_map(|message| Some((root_name(message), message, message.check.as_ref().ok()?)))
        .collect();
    let roots: Vec<&str> = checked.iter().map(|(root, ..)| root.as_str()).collect();
    let mut scope = Scope::with(&roots);
    let messages: Vec<TokenStream> = checked
        .iter()
        .map(|(root, message, check)| functions(root, &message.name, check, &mut scope))
        .collect();
    quote! {
        #![doc = " Each message's schema compiled into checks of a frame's tree: what the runtime judges frames by (jsonschema is asked only about the frames they refuse, for what is wrong)."]
        #[allow(unused_imports)]
        use ::ws_runtime::__private::check::{self as c, Tree};
        #(#messages)*
    }
}

/// Checks of schemas outside a document (a benchmark's, a test suite's), printed as a module:
/// each `(name, what, plan)` written as a message's checks are, after the import they need.
pub fn standalone(checks: &[(&str, &str, &CheckPlan)]) -> String {
    let roots: Vec<&str> = checks.iter().map(|(name, ..)| *name).collect();
    let mut scope = Scope::with(&roots);
    let functions: Vec<TokenStream> = checks
        .iter()
        .map(|(name, what, plan)| functions(name, what, plan, &mut scope))
        .collect();
    super::print::pretty(quote! {
        #[allow(unused_imports)]
        use ::ws_runtime::__private::check::{self as c, Tree};
        #(#functions)*
    })
}

/// The functions of one message's schema: `pub fn NAME` for the root, `NAME_1` … for its
/// subschemas, `NAME_D0` … for the schemas delegated to jsonschema (`NAME` without a trailing
/// `_`, so that `type_` has `type_1`, snake case), each claimed in `scope`, which holds every
/// root's name: a helper never takes another message's name. The items refer to `c`
/// (`::ws_runtime::__private::check`) and `Tree`, which the enclosing module imports.
fn functions(name: &str, wire_name: &str, check: &CheckPlan, scope: &mut Scope) -> TokenStream {
    let emitter = Emitter::new(name, check, scope);
    let statics = check.delegated.iter().enumerate().map(|(index, schema)| {
        let static_name = emitter.delegated(index);
        let text = Literal::string(schema);
        quote! { static #static_name: c::Delegated = c::Delegated::new(#text); }
    });
    // The functions some step still calls (simplifying may have left some without a caller).
    let mut reachable = vec![false; check.functions.len()];
    let mut pending = vec![0];
    while let Some(index) = pending.pop() {
        if std::mem::replace(&mut reachable[index], true) {
            continue;
        }
        for step in &check.functions[index].steps {
            pending.extend(step.subs().into_iter().filter_map(|sub| match sub {
                Sub::Call(index) => Some(index),
                _ => None,
            }));
        }
    }
    let functions = check
        .functions
        .iter()
        .enumerate()
        .filter(|(index, _)| *index == 0 || (reachable[*index] && emitter.inline(*index).is_none()))
        .map(|(index, function)| {
            let fn_name = emitter.function(index);
            let body = emitter.body(&function.steps);
            let (doc, visibility) = if index == 0 {
                let doc = format!(" Whether a frame's tree is a valid `{wire_name}`.");
                (Some(quote! { #[doc = #doc] }), Some(quote! { pub }))
            } else {
                (None, None)
            };
            quote! {
                #doc
                #visibility fn #fn_name(t: &Tree<'_>) -> bool {
                    #body
                }
            }
        });
    quote! {
        #(#statics)*
        #(#functions)*
    }
}

/// A boolean expression, and whether `!` may go before it without parentheses.
struct Test {
    tokens: TokenStream,
    atomic: bool,
}

impl Test {
    fn atomic(tokens: TokenStream) -> Test {
        Test {
            tokens,
            atomic: true,
        }
    }

    fn compound(tokens: TokenStream) -> Test {
        Test {
            tokens,
            atomic: false,
        }
    }

    fn value(&self) -> TokenStream {
        self.tokens.clone()
    }

    fn negated(&self) -> TokenStream {
        let tokens = &self.tokens;
        if self.atomic {
            quote! { !#tokens }
        } else {
            quote! { !(#tokens) }
        }
    }
}

struct Emitter<'a> {
    functions: &'a [Function],
    /// Each function's name, the root's first.
    names: Vec<Ident>,
    /// Each delegated schema's static.
    statics: Vec<Ident>,
}

impl<'a> Emitter<'a> {
    fn new(name: &str, check: &'a CheckPlan, scope: &mut Scope) -> Emitter<'a> {
        let base = name.trim_end_matches('_');
        let names = (0..check.functions.len())
            .map(|index| match index {
                0 => ident(name),
                _ => ident(&scope.claim(format!("{base}_{index}"))),
            })
            .collect();
        let upper = base.to_uppercase();
        let statics = (0..check.delegated.len())
            .map(|index| ident(&scope.claim(format!("{upper}_D{index}"))))
            .collect();
        Emitter {
            functions: &check.functions,
            names,
            statics,
        }
    }

    fn function(&self, index: usize) -> Ident {
        self.names[index].clone()
    }

    fn delegated(&self, index: usize) -> Ident {
        self.statics[index].clone()
    }

    /// A subschema written in place: a few plain tests, no function of its own (the root
    /// always has one).
    fn inline(&self, index: usize) -> Option<&[Step]> {
        let steps = &self.functions[index].steps;
        let plain = |step: &Step| {
            matches!(
                step,
                Step::Type(kinds) if !kinds.is_empty()
            ) || matches!(step, Step::OneOfLiterals(l) if !l.is_empty())
                || matches!(step, Step::Delegate(_))
        };
        (index != 0 && steps.len() <= 2 && steps.iter().all(plain)).then_some(steps.as_slice())
    }

    /// Whether `sub` holds for the value `arg`.
    fn valid(&self, sub: Sub, arg: &TokenStream) -> Test {
        match sub {
            Sub::True => Test::atomic(quote! { true }),
            Sub::False => Test::atomic(quote! { false }),
            Sub::Call(index) => match self.inline(index) {
                Some([]) => Test::atomic(quote! { true }),
                Some([step]) => self.plain(step, arg),
                Some(steps) => {
                    let tests = steps.iter().map(|step| {
                        let test = self.plain(step, arg);
                        if test.atomic {
                            test.tokens
                        } else {
                            let tokens = test.tokens;
                            quote! { (#tokens) }
                        }
                    });
                    Test::compound(quote! { #(#tests)&&* })
                }
                None => {
                    let f = self.function(index);
                    Test::atomic(quote! { #f(#arg) })
                }
            },
        }
    }

    /// A plain step's test of `arg`.
    fn plain(&self, step: &Step, arg: &TokenStream) -> Test {
        match step {
            Step::Type(kinds) => type_test(kinds, arg),
            Step::OneOfLiterals(literals) => literals_test(literals, arg),
            Step::Delegate(index) => {
                let name = self.delegated(*index);
                Test::atomic(quote! { #name.check(#arg) })
            }
            _ => Test::atomic(quote! { true }),
        }
    }

    /// A predicate for iterator adaptors (`all`, `any`): a function's name, or a closure.
    fn predicate(&self, sub: Sub) -> TokenStream {
        match sub {
            Sub::True => quote! { |_| true },
            Sub::False => quote! { |_| false },
            Sub::Call(index) if self.inline(index).is_none() => {
                let f = self.function(index);
                quote! { #f }
            }
            _ => {
                let test = self.valid(sub, &quote! { v }).value();
                quote! { |v| #test }
            }
        }
    }

    /// A function's body.
    fn body(&self, steps: &[Step]) -> TokenStream {
        // `plan::checks` leaves a schema no value passes as `False` alone.
        if steps.contains(&Step::False) {
            return quote! { let _ = t; false };
        }
        let t = quote! { t };
        let mut statements = Vec::new();
        let mut strings = Vec::new();
        let mut numbers = Vec::new();
        let mut arrays = Vec::new();
        let mut objects = Vec::new();
        for step in steps {
            match step {
                Step::False => {}
                // One JSON type: `let … else` below, with that type's steps.
                Step::Type(kinds) if single_kind(kinds).is_some() => {}
                Step::Type(_) | Step::OneOfLiterals(_) | Step::Delegate(_) => {
                    statements.push(refuse(&self.plain(step, &t).negated()));
                }
                Step::MinLength(0) | Step::MinItems(0) | Step::MinProperties(0) => {}
                Step::MinLength(1) => strings.push(Item::Refuse(quote! { s.is_empty() })),
                Step::MinLength(n) => {
                    let n = count(*n);
                    strings.push(Item::Refuse(quote! { c::shorter_than(s, #n) }));
                }
                Step::MaxLength(n) => {
                    let n = count(*n);
                    strings.push(Item::Refuse(quote! { c::longer_than(s, #n) }));
                }
                Step::Minimum(l) => numbers.push(Item::Refuse(limit_refused("below", *l))),
                Step::ExclusiveMinimum(l) => {
                    numbers.push(Item::Refuse(limit_refused("at_most", *l)))
                }
                Step::Maximum(l) => numbers.push(Item::Refuse(limit_refused("above", *l))),
                Step::ExclusiveMaximum(l) => {
                    numbers.push(Item::Refuse(limit_refused("at_least", *l)));
                }
                Step::MinItems(1) => arrays.push(Item::Refuse(quote! { a.is_empty() })),
                Step::MinItems(n) => {
                    let n = count(*n);
                    arrays.push(Item::Refuse(quote! { a.len() < #n }));
                }
                Step::MaxItems(0) => arrays.push(Item::Refuse(quote! { !a.is_empty() })),
                Step::MaxItems(n) => {
                    let n = count(*n);
                    arrays.push(Item::Refuse(quote! { a.len() > #n }));
                }
                Step::UniqueItems => arrays.push(Item::Refuse(quote! { !c::unique(a) })),
                Step::Items { prefix, rest } => {
                    if let Some(items) = self.items(prefix, *rest) {
                        arrays.push(items);
                    }
                }
                // No item can be the one: every array is refused.
                Step::Contains(Sub::False) => statements.push(refuse(&quote! {
                    matches!(t, Tree::Array(_))
                })),
                Step::Contains(Sub::True) => arrays.push(Item::Refuse(quote! { a.is_empty() })),
                Step::Contains(sub) => {
                    let predicate = self.predicate(*sub);
                    arrays.push(Item::Refuse(quote! { !a.iter().any(#predicate) }));
                }
                Step::MinProperties(1) => objects.push(Item::Refuse(quote! { m.is_empty() })),
                Step::MinProperties(n) => {
                    let n = count(*n);
                    objects.push(Item::Refuse(quote! { m.len() < #n }));
                }
                Step::MaxProperties(0) => objects.push(Item::Refuse(quote! { !m.is_empty() })),
                Step::MaxProperties(n) => {
                    let n = count(*n);
                    objects.push(Item::Refuse(quote! { m.len() > #n }));
                }
                Step::Required(names) => {
                    objects.push(Item::Refuse(quote! { !c::has(m, &[#(#names),*]) }));
                }
                Step::Properties { named, additional } => {
                    if let Some(properties) = self.properties(named, *additional) {
                        objects.push(properties);
                    }
                }
                Step::PropertyNames(Sub::False) => {
                    objects.push(Item::Refuse(quote! { !m.is_empty() }));
                }
                Step::PropertyNames(sub) => {
                    if *sub != Sub::True {
                        let name = self.valid(*sub, &quote! { &Tree::String(k) }).value();
                        objects.push(Item::Refuse(quote! { !m.iter().all(|(k, _)| #name) }));
                    }
                }
                Step::Dependencies(dependencies) => {
                    for (name, dependency) in dependencies {
                        let needed = match dependency {
                            Dependency::Required(names) if names.is_empty() => continue,
                            Dependency::Required(names) => {
                                Test::atomic(quote! { c::has(m, &[#(#names),*]) })
                            }
                            Dependency::Schema(Sub::True) => continue,
                            Dependency::Schema(Sub::False) => {
                                objects.push(Item::Refuse(quote! { c::has(m, &[#name]) }));
                                continue;
                            }
                            Dependency::Schema(sub) => self.valid(*sub, &t),
                        };
                        let missing = needed.negated();
                        objects.push(Item::Refuse(quote! { c::has(m, &[#name]) && #missing }));
                    }
                }
                Step::AllOf(subs) => {
                    for sub in subs {
                        if *sub != Sub::True {
                            statements.push(refuse(&self.valid(*sub, &t).negated()));
                        }
                    }
                }
                Step::AnyOf(subs) => {
                    if !subs.contains(&Sub::True) {
                        let tests = subs.iter().map(|sub| self.valid(*sub, &t).value());
                        statements.push(refuse(&quote! { !(#(#tests)||*) }));
                    }
                }
                Step::OneOf(subs) => {
                    let tests = subs.iter().map(|sub| self.valid(*sub, &t).value());
                    statements.push(refuse(&quote! {
                        [#(#tests),*].iter().filter(|valid| **valid).count() != 1
                    }));
                }
                Step::Not(sub) => {
                    if *sub != Sub::False {
                        statements.push(refuse(&self.valid(*sub, &t).value()));
                    }
                }
                Step::If {
                    condition,
                    then,
                    otherwise,
                } => {
                    let (when, then_test, otherwise_test) = (
                        self.valid(*condition, &t),
                        self.valid(*then, &t),
                        self.valid(*otherwise, &t),
                    );
                    let (when_holds, when_fails) = (when.value(), when.negated());
                    let refused = match (condition, then, otherwise) {
                        (Sub::True, _, _) => then_test.negated(),
                        (Sub::False, _, _) => otherwise_test.negated(),
                        (_, Sub::True, Sub::True) => continue,
                        (_, Sub::True, Sub::False) => when_fails,
                        (_, Sub::False, Sub::True) => when_holds,
                        (_, Sub::True, _) => {
                            let otherwise = otherwise_test.negated();
                            quote! { #when_fails && #otherwise }
                        }
                        (_, _, Sub::True) => {
                            let then = then_test.negated();
                            quote! { #when_holds && #then }
                        }
                        (_, Sub::False, _) => {
                            let otherwise = otherwise_test.negated();
                            quote! { #when_holds || #otherwise }
                        }
                        (_, _, Sub::False) => {
                            let then = then_test.negated();
                            quote! { #when_fails || #then }
                        }
                        _ => {
                            let (then, otherwise) = (then_test.value(), otherwise_test.value());
                            quote! { !(if #when_holds { #then } else { #otherwise }) }
                        }
                    };
                    statements.push(refuse(&refused));
                }
                Step::Ref(sub) => {
                    if *sub != Sub::True {
                        statements.push(refuse(&self.valid(*sub, &t).negated()));
                    }
                }
            }
        }
        let only = steps.iter().find_map(|step| match step {
            Step::Type(kinds) => single_kind(kinds),
            _ => None,
        });
        let mut head = Vec::new();
        for (kind, pattern, items) in [
            (Kind::String, quote! { Tree::String(s) }, strings),
            (Kind::Number, quote! { Tree::Number(n) }, numbers),
            (Kind::Array, quote! { Tree::Array(a) }, arrays),
            (Kind::Object, quote! { Tree::Object(m) }, objects),
        ] {
            if only == Some(kind) {
                // The one type the schema allows: bound once, its steps unconditional.
                let binding = if items.is_empty() {
                    match kind {
                        Kind::String => quote! { Tree::String(_) },
                        Kind::Number => quote! { Tree::Number(_) },
                        Kind::Array => quote! { Tree::Array(_) },
                        _ => quote! { Tree::Object(_) },
                    }
                } else {
                    pattern
                };
                head.push(quote! {
                    let #binding = t else {
                        return false;
                    };
                });
                head.extend(items.iter().map(Item::statement));
                continue;
            }
            match items.as_slice() {
                [] => {}
                // One refusal: one `if let … &&` (a let chain).
                [Item::Refuse(refused)] => statements.push(quote! {
                    if let #pattern = t && #refused {
                        return false;
                    }
                }),
                _ => {
                    let items = items.iter().map(Item::statement);
                    statements.push(quote! { if let #pattern = t { #(#items)* } });
                }
            }
        }
        if head.is_empty() && statements.is_empty() {
            return quote! { let _ = t; true };
        }
        quote! {
            #(#head)*
            #(#statements)*
            true
        }
    }

    fn items(&self, prefix: &[Sub], rest: Sub) -> Option<Item> {
        let v = quote! { v };
        // Subschemas that are all `true` or `false`: only how many items there are matters.
        if prefix
            .iter()
            .chain([&rest])
            .all(|s| !matches!(s, Sub::Call(_)))
        {
            let first_refused = prefix
                .iter()
                .chain([&rest])
                .position(|s| *s == Sub::False)?;
            return Some(Item::Refuse(if first_refused == 0 {
                quote! { !a.is_empty() }
            } else {
                let n = count(first_refused as u64);
                quote! { a.len() > #n }
            }));
        }
        if prefix.iter().all(|s| *s == Sub::True) {
            return match rest {
                Sub::True => None,
                Sub::False => {
                    let n = count(prefix.len() as u64);
                    Some(Item::Refuse(quote! { a.len() > #n }))
                }
                Sub::Call(_) => {
                    let predicate = self.predicate(rest);
                    let items = if prefix.is_empty() {
                        quote! { a.iter() }
                    } else {
                        let skip = count(prefix.len() as u64);
                        quote! { a.iter().skip(#skip) }
                    };
                    Some(Item::Refuse(quote! { !#items.all(#predicate) }))
                }
            };
        }
        let arms = prefix.iter().enumerate().map(|(i, sub)| {
            let i = count(i as u64);
            let test = self.valid(*sub, &v).value();
            quote! { #i => #test, }
        });
        let rest = self.valid(rest, &v).value();
        Some(Item::Block(quote! {
            for (i, v) in a.iter().enumerate() {
                let valid = match i {
                    #(#arms)*
                    _ => #rest,
                };
                if !valid {
                    return false;
                }
            }
        }))
    }

    fn properties(&self, named: &[(String, Sub)], additional: Sub) -> Option<Item> {
        let v = quote! { v };
        // Subschemas that are all `true` or `false`: only the names matter.
        if named
            .iter()
            .map(|(_, s)| s)
            .chain([&additional])
            .all(|s| !matches!(s, Sub::Call(_)))
        {
            let named_as = |verdict: Sub| -> Vec<&String> {
                named
                    .iter()
                    .filter(|(_, s)| *s == verdict)
                    .map(|(n, _)| n)
                    .collect()
            };
            return match additional {
                Sub::False => {
                    let allowed = named_as(Sub::True);
                    Some(Item::Refuse(if allowed.is_empty() {
                        quote! { !m.is_empty() }
                    } else {
                        quote! { !m.iter().all(|(k, _)| matches!(*k, #(#allowed)|*)) }
                    }))
                }
                _ => {
                    let refused = named_as(Sub::False);
                    (!refused.is_empty()).then(|| {
                        Item::Refuse(quote! {
                            m.iter().any(|(k, _)| matches!(*k, #(#refused)|*))
                        })
                    })
                }
            };
        }
        let names = named.iter().map(|(n, _)| n);
        if named.iter().all(|(_, s)| *s == Sub::True) {
            return match additional {
                Sub::True => None,
                Sub::False if named.is_empty() => Some(Item::Refuse(quote! { !m.is_empty() })),
                Sub::False => Some(Item::Refuse(quote! {
                    !m.iter().all(|(k, _)| matches!(*k, #(#names)|*))
                })),
                Sub::Call(_) if named.is_empty() => {
                    let test = self.valid(additional, &v).value();
                    Some(Item::Refuse(quote! { !m.iter().all(|(_, v)| #test) }))
                }
                Sub::Call(_) => {
                    let test = self.valid(additional, &v).value();
                    Some(Item::Refuse(quote! {
                        !m.iter().all(|(k, v)| matches!(*k, #(#names)|*) || #test)
                    }))
                }
            };
        }
        let arms = named.iter().map(|(name, sub)| {
            let test = self.valid(*sub, &v).value();
            quote! { #name => #test, }
        });
        let other = self.valid(additional, &v).value();
        Some(Item::Block(quote! {
            for (k, v) in m.iter() {
                let valid = match *k {
                    #(#arms)*
                    _ => #other,
                };
                if !valid {
                    return false;
                }
            }
        }))
    }
}

/// The JSON type of a `type` that allows one, and that binds a value (not null, boolean or
/// integer).
fn single_kind(kinds: &[Kind]) -> Option<Kind> {
    match kinds {
        [kind @ (Kind::String | Kind::Number | Kind::Array | Kind::Object)] => Some(*kind),
        _ => None,
    }
}

/// A step of one JSON type's group.
enum Item {
    /// `if refused { return false; }`.
    Refuse(TokenStream),
    /// Statements of their own (a loop over members or items).
    Block(TokenStream),
}

impl Item {
    fn statement(&self) -> TokenStream {
        match self {
            Item::Refuse(refused) => refuse(refused),
            Item::Block(block) => block.clone(),
        }
    }
}

/// A count as an untyped literal (it compares with `usize`).
fn count(n: u64) -> Literal {
    Literal::u64_unsuffixed(n)
}

/// `if refused { return false; }`.
fn refuse(refused: &TokenStream) -> TokenStream {
    quote! {
        if #refused {
            return false;
        }
    }
}

fn type_test(kinds: &[Kind], arg: &TokenStream) -> Test {
    let number = kinds.contains(&Kind::Number);
    let mut patterns = Vec::new();
    for kind in kinds {
        patterns.push(match kind {
            Kind::Null => quote! { Tree::Null },
            Kind::Boolean => quote! { Tree::Bool(_) },
            Kind::Object => quote! { Tree::Object(_) },
            Kind::Array => quote! { Tree::Array(_) },
            Kind::Number => quote! { Tree::Number(_) },
            Kind::String => quote! { Tree::String(_) },
            Kind::Integer => continue,
        });
    }
    let integer = kinds.contains(&Kind::Integer) && !number;
    match (patterns.is_empty(), integer) {
        (true, true) => Test::atomic(quote! { c::is_integer(#arg) }),
        (false, true) => Test::compound(quote! {
            matches!(#arg, #(#patterns)|*) || c::is_integer(#arg)
        }),
        (_, false) => Test::atomic(quote! { matches!(#arg, #(#patterns)|*) }),
    }
}

fn literals_test(literals: &[Scalar], arg: &TokenStream) -> Test {
    let mut patterns = Vec::new();
    let mut numbers = Vec::new();
    for literal in literals {
        match literal {
            Scalar::Null => patterns.push(quote! { Tree::Null }),
            Scalar::Bool(b) => patterns.push(quote! { Tree::Bool(#b) }),
            Scalar::String(s) => patterns.push(quote! { Tree::String(#s) }),
            Scalar::Number(limit) => {
                let limit = limit_tokens(*limit);
                numbers.push(quote! { c::number_is(#arg, #limit) });
            }
        }
    }
    match (patterns.is_empty(), numbers.len()) {
        (false, 0) => Test::atomic(quote! { matches!(#arg, #(#patterns)|*) }),
        (true, 1) => Test::atomic(quote! { #(#numbers)* }),
        (true, _) => Test::compound(quote! { #(#numbers)||* }),
        (false, _) => Test::compound(quote! { matches!(#arg, #(#patterns)|*) || #(#numbers)||* }),
    }
}

/// A number step's refusal: `helper` is the comparison that refuses (`below` for `minimum`).
fn limit_refused(helper: &str, limit: Limit) -> TokenStream {
    let helper = ident(helper);
    let limit = limit_tokens(limit);
    quote! { c::#helper(n, #limit) }
}

fn limit_tokens(limit: Limit) -> TokenStream {
    match limit {
        Limit::U64(u) => {
            let u = Literal::u64_unsuffixed(u);
            quote! { c::Limit::U64(#u) }
        }
        Limit::I64(i) => {
            let i = Literal::i64_unsuffixed(i);
            quote! { c::Limit::I64(#i) }
        }
        Limit::F64(f) => {
            let f = Literal::f64_unsuffixed(f);
            quote! { c::Limit::F64(#f) }
        }
    }
}
