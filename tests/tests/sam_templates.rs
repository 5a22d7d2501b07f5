//! What `asyncapi-rs generate --sam` writes passes AWS's own template linter, `cfn-lint` (from
//! PyPI; `bash tests/run` installs it): for the chat, the feed, and every document of the corpus
//! with a WebSocket server (`ws` or `wss`), each generated into a template of its own and linted
//! in one run. A channel whose address has parameters is left out, and said to be.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::path::{Path, PathBuf};
use std::process::Command;

/// The corpus documents whose servers speak WebSocket, as the index lists them.
fn websocket_documents(repo: &Path) -> Vec<PathBuf> {
    let index = std::fs::read_to_string(repo.join("tests/corpus/INDEX.tsv")).unwrap();
    let mut lines = index.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (path, protocols, kind, valid) = (
        column("path"),
        column("protocols"),
        column("kind"),
        column("valid"),
    );
    lines
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .filter(|row| {
            row[kind] == "document"
                && row[valid] == "y"
                && row[protocols].split(',').any(|p| p == "ws" || p == "wss")
        })
        .map(|row| repo.join("tests/corpus").join(row[path]))
        .collect()
}

#[test]
fn generated_sam_templates_pass_cfn_lint() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sam-templates");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();

    let mut documents = vec![
        repo.join("examples/chat/asyncapi.yaml"),
        repo.join("examples/feed/asyncapi.yaml"),
    ];
    let corpus = websocket_documents(&repo);
    assert!(corpus.len() >= 20, "{} corpus documents", corpus.len());
    documents.extend(corpus);

    let mut templates = Vec::new();
    let mut undeployed = 0;
    for (i, document) in documents.iter().enumerate() {
        let loaded = asyncapi_codegen::load(document, &Default::default())
            .unwrap_or_else(|r| panic!("{}: {}", document.display(), r.render(false)));
        let file = asyncapi_codegen::generate::sam_template(&loaded.api, "api");
        // A template declares a route for each channel it deploys, and says why it leaves
        // out the others (an address with parameters).
        let plan = asyncapi_codegen::plan::plan(&loaded.api);
        let notes = asyncapi_codegen::emit::sam::notes(&plan);
        let apis = file
            .contents
            .matches("Type: AWS::ApiGatewayV2::Api\n")
            .count();
        assert_eq!(
            apis + notes.len(),
            plan.channels.len(),
            "{}: {notes:?}",
            document.display()
        );
        if apis == 0 {
            undeployed += 1;
        }
        let path = out.join(format!("{i:02}.yaml"));
        std::fs::write(&path, &file.contents).unwrap();
        templates.push((path, document));
    }
    // The examples, and most of the corpus, deploy a channel at least.
    assert!(
        undeployed * 4 < documents.len(),
        "{undeployed} deploy nothing"
    );

    let python = test_support::functions::python();
    let lint = Command::new(&python)
        .args([
            "-c",
            "import sys; sys.argv[0] = 'cfn-lint'; from cfnlint.runner import main; sys.exit(main())",
            "--",
        ])
        .args(templates.iter().map(|(path, _)| path))
        .output()
        .unwrap();
    let findings = String::from_utf8_lossy(&lint.stdout);
    let named: String = templates
        .iter()
        .map(|(path, document)| format!("{} is {}\n", path.display(), document.display()))
        .collect();
    assert!(
        lint.status.success(),
        "cfn-lint found problems ({}):\n{findings}{}\n{named}",
        lint.status,
        String::from_utf8_lossy(&lint.stderr)
    );
}
