//! Hostile documents and messages: every one gets an answer, in bounded time, stack and memory.
//!
//! Each run of the `asyncapi-rs` binary is a child process under a memory limit (`ulimit -v`)
//! and a time limit, so an abort, a stack overflow, a runaway allocation or a hang is a failed
//! test, not a dead test runner. The mutation test at the end makes documents from the
//! repository's own fixtures with a seeded generator (the same cases every run; `MUTATION_CASES`
//! and `MUTATION_SEED` ask for others) and random JSON messages.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test that cannot set up should stop

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The address space a child may use: a few times what the largest document needs.
const MEMORY_LIMIT_KIB: u64 = 1024 * 1024;
/// The time a child may take (debug build, on a loaded 2-core machine).
const TIME_LIMIT: Duration = Duration::from_secs(20);

/// A fresh folder under cargo's temporary folder for integration tests.
fn scratch(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("hostile-{name}-{n}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// How a child run ended.
#[derive(Debug)]
struct Run {
    /// The exit code; `None` when a signal ended it (an abort, a stack overflow).
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs `asyncapi-rs ARGS` in `dir` under the memory limit, `input` on its standard input,
/// and kills it past the time limit (a failed test).
fn asyncapi_rs(dir: &Path, args: &[&str], input: &[u8]) -> Run {
    run_limited(dir, args, input, MEMORY_LIMIT_KIB)
}

/// [`asyncapi_rs`] with an address-space limit of `memory_kib`.
fn run_limited(dir: &Path, args: &[&str], input: &[u8], memory_kib: u64) -> Run {
    let started = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {memory_kib}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_asyncapi-rs"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let stdout = reader(child.stdout.take().unwrap());
    let stderr = reader(child.stderr.take().unwrap());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`asyncapi-rs {}` in {} took longer than {TIME_LIMIT:?}",
                args.join(" "),
                dir.display()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    Run {
        code: status.code(),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        took: started.elapsed(),
    }
}

fn reader(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// `validate` on `text` written as `spec.yaml` in a fresh folder.
fn validate(name: &str, text: &str) -> Run {
    let dir = scratch(name);
    std::fs::write(dir.join("spec.yaml"), text).unwrap();
    asyncapi_rs(&dir, &["validate", "spec.yaml"], b"")
}

/// A run that ended with a verdict: 0 or 1, never a signal, a panic (101) or a usage error.
#[track_caller]
fn answered(run: &Run, what: &str) {
    assert!(
        matches!(run.code, Some(0 | 1)),
        "{what}: ended with {:?}\nstdout: {}\nstderr: {}",
        run.code,
        run.stdout,
        run.stderr
    );
}

const HEAD: &str = "asyncapi: 3.0.0\ninfo: {title: t, version: '1'}\n";

/// `n` schemas, each `s{i}: {body}` where `{next}` in `body` names the next one; the last is a
/// string.
fn schema_chain(n: usize, body: &str) -> String {
    let mut text = format!(
        "{HEAD}channels:\n  c:\n    messages:\n      m:\n        payload: {{$ref: '#/components/schemas/s0'}}\ncomponents:\n  schemas:\n"
    );
    for i in 0..n {
        let next = format!("'#/components/schemas/s{}'", i + 1);
        text.push_str(&format!("    s{i}: {}\n", body.replace("{next}", &next)));
    }
    text.push_str(&format!("    s{n}: {{type: string}}\n"));
    text
}

#[test]
fn a_pointer_through_a_self_reference_is_a_cycle_not_a_hang() {
    let run = validate(
        "pointer-cycle",
        &format!(
            "{HEAD}channels:\n  a: {{$ref: '#/channels/a'}}\noperations:\n  o:\n    action: send\n    channel: {{$ref: '#/channels/a'}}\n    messages:\n      - $ref: '#/channels/a/messages/m'\n"
        ),
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    // Reported at the `$ref` that passes through the cycle (line 10), and at the self-reference.
    assert!(
        run.stderr.contains(
            "`$ref: #/channels/a/messages/m` is part of a cycle of references that never reaches a value\n  --> spec.yaml:10:"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("`$ref: #/channels/a` is part of a cycle")
    );
}

#[test]
fn long_chains_of_references_are_refused_where_they_nest_too_deep() {
    // 4,000 schemas each with a property that is the next: it used to overflow the stack.
    let run = validate(
        "nested-chain",
        &schema_chain(4_000, "{type: object, properties: {n: {$ref: {next}}}}"),
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("nests deeper than 128 levels, the most asyncapi-rs reads"),
        "{}",
        run.stderr
    );
    // Fifty levels of the same are fine: they generate, and the schemas read back.
    let dir = scratch("nested-chain-50");
    std::fs::write(
        dir.join("spec.yaml"),
        schema_chain(50, "{type: object, properties: {n: {$ref: {next}}}}"),
    )
    .unwrap();
    let run = asyncapi_rs(&dir, &["generate", "spec.yaml", "-o", "out"], b"");
    assert_eq!(run.code, Some(0), "{run:?}");
}

#[test]
fn a_chain_of_references_that_reaches_a_value_is_followed_whatever_its_length() {
    for n in [64, 5_000] {
        let run = validate(&format!("hops-{n}"), &schema_chain(n, "{$ref: {next}}"));
        assert_eq!(run.code, Some(0), "{n} hops: {run:?}");
        assert!(run.stdout.contains("valid AsyncAPI 3.0.0 document"));
    }
    // A chain that loops still is a cycle.
    let looped = schema_chain(3, "{$ref: {next}}").replace(
        "s3: {type: string}",
        "s3: {$ref: '#/components/schemas/s1'}",
    );
    let run = validate("hops-loop", &looped);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("part of a cycle of references"));
}

#[test]
fn files_that_are_not_regular_or_too_large_are_refused_before_they_are_read() {
    let dir = scratch("files");
    // Relative and absolute ways to a device, and a FIFO, which would block forever.
    let fifo = dir.join("fifo.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let depth = dir.components().count();
    let up = "../".repeat(depth);
    for target in [
        format!("{up}dev/zero"),
        format!("{up}dev/urandom"),
        "fifo.yaml".into(),
    ] {
        std::fs::write(
            dir.join("spec.yaml"),
            format!("{HEAD}channels:\n  c: {{$ref: '{target}'}}\n"),
        )
        .unwrap();
        let run = asyncapi_rs(&dir, &["validate", "spec.yaml"], b"");
        assert_eq!(run.code, Some(1), "{target}: {run:?}");
        assert!(
            run.stderr
                .contains("which cannot be read: not a regular file"),
            "{target}: {}",
            run.stderr
        );
        assert!(run.took < Duration::from_secs(10), "{target}: {run:?}");
    }
    // A file over the limit is refused by its size, the root as well as a referenced one.
    std::fs::write(dir.join("big.yaml"), " ".repeat(3 * 1024 * 1024)).unwrap();
    std::fs::write(
        dir.join("spec.yaml"),
        format!("{HEAD}channels:\n  c: {{$ref: 'big.yaml'}}\n"),
    )
    .unwrap();
    let run = asyncapi_rs(
        &dir,
        &["validate", "spec.yaml", "--max-file-size", "2"],
        b"",
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("the file is larger than 2097152 bytes, the most that is read"),
        "{}",
        run.stderr
    );
    let run = asyncapi_rs(&dir, &["validate", "big.yaml", "--max-file-size", "2"], b"");
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("larger than 2097152 bytes"));
}

#[test]
fn an_alias_bomb_is_refused_in_a_few_mebibytes() {
    let mut text = format!("{HEAD}x-bomb:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let prev = format!("*a{}", level - 1);
        let items = [prev.as_str(); 10].join(", ");
        text.push_str(&format!("  a{level}: &a{level} [{items}]\n"));
    }
    let dir = scratch("bomb");
    std::fs::write(dir.join("spec.yaml"), text).unwrap();
    // Refused within 64 MiB of address space, binary included (it used to abort under 128).
    let run = run_limited(&dir, &["validate", "spec.yaml"], b"", 64 * 1024);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("aliases copy more than 100000 nodes"),
        "{}",
        run.stderr
    );
}

#[test]
fn schemas_that_cannot_be_compiled_are_errors_at_the_keyword() {
    for (schema, keyword, words) in [
        (
            "{type: string, pattern: '(['}",
            "pattern",
            "is not a \"regex\"",
        ),
        (
            "{type: string, maxLength: -1}",
            "maxLength",
            "less than the minimum of 0",
        ),
        (
            "{type: string, maxLength: 1.5}",
            "maxLength",
            "is not of type \"integer\"",
        ),
        (
            "{type: number, multipleOf: 0}",
            "multipleOf",
            "less than or equal to the minimum of 0",
        ),
        (
            "{type: string, minLength: 1e400}",
            "minLength",
            "is not of type \"integer\"",
        ),
    ] {
        let text = format!(
            "{HEAD}channels:\n  c:\n    messages:\n      m:\n        payload:\n          type: object\n          properties:\n            p: {schema}\n"
        );
        let run = validate("uncompilable", &text);
        assert_eq!(run.code, Some(1), "{schema}: {run:?}");
        let column = 16 + schema.find(keyword).unwrap() + keyword.len() + 2;
        let expected = format!("error: `properties/p/{keyword}` in the payload of message `m`: ");
        assert!(run.stderr.contains(&expected), "{schema}: {}", run.stderr);
        assert!(run.stderr.contains(words), "{schema}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("--> spec.yaml:10:{column}")),
            "{schema}: {}",
            run.stderr
        );
    }
    // The handshake's schemas too.
    let text = format!(
        "{HEAD}channels:\n  c:\n    bindings:\n      ws:\n        query: {{type: object, properties: {{name: {{type: string, pattern: '(['}}}}}}\n"
    );
    let run = validate("uncompilable-query", &text);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("`properties/name/pattern` in the `bindings/ws/query` schema of channel `c`"),
        "{}",
        run.stderr
    );
}

// ---- the mutation test ----

/// splitmix64: a seeded, portable sequence (the same cases on every machine).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The repository's own documents: the chat and every fixture.
fn seeds() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("../examples/chat/asyncapi.yaml")];
    let mut folders = vec![root.join("../asyncapi-codegen/tests/fixtures")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

/// One mutation of `doc`, by kind: byte flips, truncation, duplicated and dropped lines, deep
/// nesting, an alias bomb, reference chains and self-references.
fn mutate(rng: &mut Rng, doc: &[u8]) -> Vec<u8> {
    let mut out = doc.to_vec();
    let lines =
        |d: &[u8]| -> Vec<Vec<u8>> { d.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect() };
    match rng.below(9) {
        0 => {
            for _ in 0..=rng.below(8) {
                let at = rng.below(out.len());
                out[at] = rng.next() as u8;
            }
        }
        1 => out.truncate(rng.below(out.len())),
        2 => {
            let mut ls = lines(&out);
            let at = rng.below(ls.len());
            let line = ls[at].clone();
            ls.insert(at, line);
            out = ls.join(&b'\n');
        }
        3 => {
            let mut ls = lines(&out);
            let at = rng.below(ls.len());
            ls.remove(at);
            out = ls.join(&b'\n');
        }
        4 => {
            let depth = 100 + rng.below(400);
            let nested = format!("\nx-deep: {}{}\n", "[".repeat(depth), "]".repeat(depth));
            out.extend_from_slice(nested.as_bytes());
        }
        5 => {
            out.extend_from_slice(b"\nx-bomb:\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
            for level in 1..9 {
                let prev = format!("*a{}", level - 1);
                let items = [prev.as_str(); 9].join(", ");
                out.extend_from_slice(format!("  a{level}: &a{level} [{items}]\n").as_bytes());
            }
        }
        6 => {
            let body = [
                "{$ref: {next}}",
                "{properties: {n: {$ref: {next}}}}",
                "{items: [{$ref: {next}}]}",
            ][rng.below(3)];
            let chain = schema_chain(1 + rng.below(3_000), body);
            let schemas = chain.split("  schemas:\n").nth(1).unwrap_or_default();
            out.extend_from_slice(format!("\nx-chain:\n  schemas:\n{schemas}").as_bytes());
            let text = String::from_utf8_lossy(&out)
                .replace("#/components/schemas/s", "#/x-chain/schemas/s");
            out = text.into_bytes();
        }
        7 => {
            // A `$ref` to a place on its own path, or to the whole document.
            let mut ls = lines(&out);
            let at = rng.below(ls.len());
            let indent = ls[at].iter().take_while(|&&b| b == b' ').count();
            let target = [
                "#",
                "#/channels",
                "#/components",
                "#/components/messages/x/payload",
            ][rng.below(4)];
            ls.insert(
                at,
                format!("{}$ref: '{target}'", " ".repeat(indent)).into_bytes(),
            );
            out = ls.join(&b'\n');
        }
        _ => {
            let mut ls = lines(&out);
            let (a, b) = (rng.below(ls.len()), rng.below(ls.len()));
            ls.swap(a, b);
            out = ls.join(&b'\n');
        }
    }
    out
}

/// A random JSON value, sometimes not JSON at all.
fn random_json(rng: &mut Rng, depth: usize) -> String {
    let choice = if depth > 6 {
        rng.below(4)
    } else {
        rng.below(7)
    };
    match choice {
        0 => "null".into(),
        1 => (rng.next() as i64).to_string(),
        2 => format!(
            "{:?}",
            ["sendMessage", "echo", "setName", "", "é\u{0}", "dance"][rng.below(6)]
        ),
        3 => ["1e400", "-0.0", "true", "\"\\ud800\""][rng.below(4)].into(),
        4 => {
            let items: Vec<String> = (0..rng.below(4))
                .map(|_| random_json(rng, depth + 1))
                .collect();
            format!("[{}]", items.join(","))
        }
        5 => {
            let keys = ["action", "text", "name", "type", "x"];
            let fields: Vec<String> = (0..rng.below(4))
                .map(|_| {
                    format!(
                        "{:?}:{}",
                        keys[rng.below(keys.len())],
                        random_json(rng, depth + 1)
                    )
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        _ => "{\"action\":\"sendMessage\",\"text\":".into(),
    }
}

#[test]
fn mutated_documents_and_random_messages_get_an_answer_in_bounded_time_and_memory() {
    let cases: usize = std::env::var("MUTATION_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400);
    let seed: u64 = std::env::var("MUTATION_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x5EED);
    let mut rng = Rng(seed);
    let seeds = seeds();
    let dir = scratch("mutation");
    let (mut valid, mut generated) = (0, 0);
    for case in 0..cases {
        let original = &seeds[rng.below(seeds.len())];
        let doc = mutate(&mut rng, original);
        let name = format!("case-{case}.yaml");
        std::fs::write(dir.join(&name), &doc).unwrap();
        let run = asyncapi_rs(&dir, &["validate", &name], b"");
        answered(&run, &format!("validate {name} (seed {seed})"));
        if run.code == Some(0) {
            valid += 1;
            let out = format!("out-{case}");
            let run = asyncapi_rs(&dir, &["generate", &name, "-o", &out], b"");
            answered(&run, &format!("generate {name} (seed {seed})"));
            generated += usize::from(run.code == Some(0));
        }
        let _ = std::fs::remove_file(dir.join(&name));
    }
    // Random messages, one per line, against the chat: one verdict per line.
    let chat = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat/asyncapi.yaml");
    let chat = chat.to_str().unwrap();
    let mut input = Vec::new();
    let lines = 500;
    for _ in 0..lines {
        if rng.below(20) == 0 {
            input.extend_from_slice(&[0xFF, b'{', 0xC3]);
        } else {
            input.extend_from_slice(random_json(&mut rng, 0).as_bytes());
        }
        input.push(b'\n');
    }
    let run = asyncapi_rs(
        &dir,
        &["validate-message", chat, "--channel", "chat", "-"],
        &input,
    );
    answered(&run, "validate-message on random JSON");
    let verdicts = run.stdout.lines().filter(|l| l.starts_with('#')).count();
    assert_eq!(verdicts, lines, "one verdict per line: {}", run.stdout);
    println!(
        "mutation: {cases} documents (seed {seed:#x}): {valid} valid, {generated} generated; {lines} random messages"
    );
}
