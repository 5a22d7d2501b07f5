//! The TypeScript clients (`generate --typescript`): the client of every valid corpus document
//! and of every focused fixture type-checks with `tsc --strict` (the `typescript` package of
//! `tests/typescript`, installed by `tests/run`), and every generated module loads in Node.
//! Each focused fixture has a consumer, `tests/typescript/consumers/<fixture>.ts`, that uses
//! every route and reply type; its `@ts-expect-error` lines (a wrong field, a wrong route) must
//! fail to compile: a copy without the directives must fail on exactly those lines. The
//! guide's TypeScript snippets (README.md, docs/) compile against the example chat's client.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use asyncapi_codegen::LoadOptions;
use asyncapi_codegen::emit::File;
use asyncapi_rs_tests::{corpus, focused_fixtures, generatable, report};

const DIRECTIVE: &str = "// @ts-expect-error";

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("typescript")
}

fn tsc() -> PathBuf {
    let tsc = tests_dir().join("node_modules/typescript/bin/tsc");
    assert!(
        tsc.is_file(),
        "{} is missing: `bash tests/run` installs it (npm ci in tests/typescript)",
        tsc.display()
    );
    tsc
}

fn write(dir: &Path, files: &[File]) {
    for file in files {
        let path = dir.join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &file.contents).unwrap();
    }
}

/// A consumer without its `@ts-expect-error` directives, and the lines (1-based) that then
/// must fail.
fn without_directives(text: &str) -> (String, BTreeSet<usize>) {
    let mut out = Vec::new();
    let mut expected = BTreeSet::new();
    for line in text.lines() {
        if line.trim() == DIRECTIVE {
            expected.insert(out.len() + 1);
        } else {
            out.push(line);
        }
    }
    (out.join("\n") + "\n", expected)
}

#[test]
fn every_generated_typescript_client_type_checks_and_loads() {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("typescript");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("package.json"), "{ \"type\": \"module\" }\n").unwrap();

    let corpus = corpus();
    let generatable = generatable(&corpus);
    assert!(
        generatable.load_failures.is_empty(),
        "{:?}",
        generatable.load_failures
    );
    let mut indexes = Vec::new();
    for (index, _, loaded) in &generatable.documents {
        let dir = root.join(format!("corpus/d{index:03}"));
        write(&dir, &asyncapi_codegen::generate::typescript(&loaded.api));
        indexes.push(dir.join("index.js"));
    }

    let mut expected_errors: BTreeSet<(String, usize)> = BTreeSet::new();
    // The focused fixtures, and the example chat (its page's client).
    let mut fixtures: Vec<(String, PathBuf)> = focused_fixtures()
        .into_iter()
        .map(|path| {
            (
                path.file_stem().unwrap().to_string_lossy().into_owned(),
                path,
            )
        })
        .collect();
    fixtures.push((
        "example_chat".into(),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat/asyncapi.yaml"),
    ));
    for (name, path) in &fixtures {
        let loaded = asyncapi_codegen::load(path, &LoadOptions::default()).unwrap();
        let dir = root.join("fixtures").join(name);
        write(
            &dir.join("client"),
            &asyncapi_codegen::generate::typescript(&loaded.api),
        );
        indexes.push(dir.join("client/index.js"));
        let consumer = tests_dir().join(format!("consumers/{name}.ts"));
        let text = std::fs::read_to_string(&consumer).unwrap_or_else(|_| {
            panic!(
                "{} is missing: every focused fixture has a consumer",
                consumer.display()
            )
        });
        let (stripped, lines) = without_directives(&text);
        assert!(
            !lines.is_empty(),
            "{}: no `{DIRECTIVE}` line: a consumer shows that a wrong field or route fails",
            consumer.display()
        );
        std::fs::write(dir.join("consumer.ts"), &text).unwrap();
        let negative = format!("negative/{name}.ts");
        std::fs::create_dir_all(root.join("negative")).unwrap();
        let moved = stripped.replace("\"./client/", &format!("\"../fixtures/{name}/client/"));
        std::fs::write(root.join(&negative), moved).unwrap();
        expected_errors.extend(lines.into_iter().map(|l| (negative.clone(), l)));
    }

    // The guide's TypeScript snippets, against the example chat's client (`./web/api/`).
    let chat =
        asyncapi_codegen::load(&fixtures.last().unwrap().1, &LoadOptions::default()).unwrap();
    write(
        &root.join("guide/web/api"),
        &asyncapi_codegen::generate::typescript(&chat.api),
    );
    std::fs::write(
        root.join("guide/console.d.ts"),
        "declare const console: { log(...values: unknown[]): void };\n",
    )
    .unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut pages = vec![repo.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    let mut snippets = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        let stem = page.file_stem().unwrap().to_string_lossy().into_owned();
        for (n, block) in text.split("```ts\n").skip(1).enumerate() {
            let code = block.split("```").next().unwrap();
            std::fs::write(root.join(format!("guide/{stem}-{n}.ts")), code).unwrap();
            snippets += 1;
        }
    }
    assert!(
        snippets >= 2,
        "the README and docs/clients.md show the TypeScript client"
    );

    std::fs::write(
        root.join("tsconfig.json"),
        r#"{
  "compilerOptions": {
    "strict": true,
    "noEmit": true,
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "lib": ["ES2022"],
    "types": [],
    "noUnusedLocals": true,
    "noFallthroughCasesInSwitch": true
  },
  "include": ["**/*.ts"]
}
"#,
    )
    .unwrap();
    let output = Command::new("node")
        .arg(tsc())
        .args(["-p", "tsconfig.json", "--pretty", "false"])
        .current_dir(&root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    // `file(line,col): error TS1234: …`
    let mut unexpected = Vec::new();
    let mut found: BTreeSet<(String, usize)> = BTreeSet::new();
    for line in text.lines().filter(|l| l.contains("): error TS")) {
        let (file, rest) = line.split_once('(').unwrap();
        let number: usize = rest.split([',', ')']).next().unwrap().parse().unwrap();
        let key = (file.to_owned(), number);
        if expected_errors.contains(&key) {
            found.insert(key);
        } else {
            unexpected.push(line.to_owned());
        }
    }
    assert!(
        unexpected.is_empty(),
        "tsc --strict failed on generated clients or consumers:\n{}",
        unexpected.join("\n")
    );
    let missing: Vec<_> = expected_errors.difference(&found).collect();
    assert!(
        missing.is_empty(),
        "lines marked `{DIRECTIVE}` compiled without the directive: {missing:?}\n{text}"
    );

    // Every module runs: Node imports each client's index.
    let paths: Vec<String> = indexes.iter().map(|p| p.display().to_string()).collect();
    let script = format!(
        "const paths = {};\nfor (const path of paths) await import(path);\nconsole.log(`loaded ${{paths.length}}`);\n",
        serde_json::to_string(&paths).unwrap()
    );
    std::fs::write(root.join("load.mjs"), script).unwrap();
    let output = Command::new("node")
        .arg("load.mjs")
        .current_dir(&root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.trim() == format!("loaded {}", indexes.len()),
        "generated modules failed to load in Node: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );

    report(
        "typescript",
        &format!(
            "typescript: {} corpus documents and {} focused documents: every client passes tsc --strict and loads in Node; {} consumers, {} lines that must not compile did not; {snippets} snippets of the guide compile",
            generatable.documents.len(),
            fixtures.len(),
            fixtures.len(),
            expected_errors.len()
        ),
    );
}

/// `tests/typescript/runtime.test.mjs` under Node's test runner: the client runtime against a
/// scripted server (the handshake's parameters, query and headers; replies out of order among
/// other frames; unknown, non-JSON and binary frames; a timeout and an error frame; a
/// validator; reconnection and the server's 1000; a refusal's status; a stage URL).
#[test]
fn the_client_runtime_against_a_scripted_server() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("typescript-runtime");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("package.json"), "{ \"type\": \"module\" }\n").unwrap();
    let fixture = focused_fixtures()
        .into_iter()
        .find(|p| p.ends_with("reply_and_params.yaml"))
        .unwrap();
    let loaded = asyncapi_codegen::load(&fixture, &LoadOptions::default()).unwrap();
    write(&dir, &asyncapi_codegen::generate::typescript(&loaded.api));
    assert!(
        tests_dir().join("node_modules/ws").is_dir(),
        "the ws package is missing: `bash tests/run` installs it (npm ci in tests/typescript)"
    );
    let output = Command::new("node")
        .args(["--test", "--test-concurrency=1", "--test-timeout=20000"])
        .arg(tests_dir().join("runtime.test.mjs"))
        .env("ROOM_CLIENT", dir.join("room.js"))
        .output()
        .unwrap();
    let tap = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && tap.contains("# pass 8\n") && tap.contains("# fail 0"),
        "{tap}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The generated folder loads as ES modules whatever the package around it says: from a
/// `"type": "commonjs"` package (what `npm init -y` writes) with `import()` and, on a Node that
/// has it (20.19 and later), `require`; and from a package that says nothing.
#[test]
fn the_client_imports_from_a_commonjs_package_and_one_without_a_type() {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("typescript-packages");
    let _ = std::fs::remove_dir_all(&root);
    let chat = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat/asyncapi.yaml");
    let loaded = asyncapi_codegen::load(&chat, &LoadOptions::default()).unwrap();
    let files = asyncapi_codegen::generate::typescript(&loaded.api);
    let check = "if (typeof client.chat.connect !== 'function' || typeof client.ClientError !== 'function') { throw new Error('not the client: ' + Object.keys(client)); }\nconsole.log('loaded');\n";
    for (package, main) in [
        (
            Some("{ \"name\": \"consumer\", \"type\": \"commonjs\" }\n"),
            format!("import('./client/index.js').then((client) => {{\n{check}}});\n"),
        ),
        (
            None,
            format!("import('./client/index.js').then((client) => {{\n{check}}});\n"),
        ),
        (
            Some("{ \"name\": \"consumer\", \"type\": \"commonjs\" }\n"),
            format!(
                "const [major, minor] = process.versions.node.split('.').map(Number);\nif (major > 20 || (major === 20 && minor >= 19)) {{\n  const client = require('./client/index.js');\n  {check}}} else {{ console.log('loaded'); }}\n"
            ),
        ),
    ] {
        let dir = root.join(format!(
            "p{}",
            std::fs::read_dir(&root).map_or(0, |d| d.count())
        ));
        write(&dir.join("client"), &files);
        if let Some(package) = package {
            std::fs::write(dir.join("package.json"), package).unwrap();
        }
        std::fs::write(dir.join("main.js"), &main).unwrap();
        let output = Command::new("node")
            .arg("main.js")
            .current_dir(&dir)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.trim() == "loaded",
            "{}: {package:?}\n{stdout}{}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The TypeScript client tells error frames apart by the same messages as the Rust client and
/// the live runner (`ws_runtime::ErrorFrame::from_json`).
#[test]
fn the_typescript_client_knows_the_same_error_frames() {
    let runtime = include_str!("../../asyncapi-codegen/src/emit/typescript/runtime.js");
    let line = runtime
        .lines()
        .find(|l| l.starts_with("const ERROR_MESSAGES = "))
        .expect("runtime.js lists ERROR_MESSAGES");
    let listed: Vec<String> = serde_json::from_str(
        line.trim_start_matches("const ERROR_MESSAGES = ")
            .trim_end_matches(';'),
    )
    .unwrap();
    let known: Vec<&str> = ws_runtime::ErrorKind::ALL
        .iter()
        .map(|kind| kind.as_str())
        .collect();
    assert_eq!(listed, known);
}
