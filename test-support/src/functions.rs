//! What tests of functions in their Lambda runtimes share: the Python with AWS's runtime
//! interface client, the npm packages that stand for what Lambda's Node.js runtime bundles, and
//! a local DynamoDB (dynalite). `tests/run` installs them.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python with `awslambdaric` and `boto3`: `$FUNCTIONS_PYTHON`, else the one `tests/run`
/// installs into `target/python-functions`.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("FUNCTIONS_PYTHON") {
        return python.into();
    }
    let python = workspace().join("target/python-functions/bin/python3");
    assert!(
        python.exists(),
        "{} is missing: `bash tests/run` installs awslambdaric, boto3 and cfn-lint there (or set FUNCTIONS_PYTHON)",
        python.display()
    );
    python
}

/// `test-support/npm/node_modules`: dynalite, and the AWS SDK for JavaScript v3's clients that
/// stand for what Lambda's Node.js runtime bundles (its management API's, DynamoDB's).
pub fn node_modules() -> PathBuf {
    let dir = workspace().join("test-support/npm/node_modules");
    assert!(
        dir.join("dynalite").exists(),
        "{} is missing: `bash tests/run` installs it",
        dir.display()
    );
    dir
}

/// A local DynamoDB (dynalite, in memory) on a free loopback port, with tables keyed by a
/// string `connectionId`; stopped when dropped.
#[derive(Debug)]
pub struct DynamoDb {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl DynamoDb {
    /// Starts one with `tables` created and active: `NAME` keyed by a string `connectionId`,
    /// `NAME:HASH/RANGE` by the string keys it names.
    pub fn start(tables: &[&str]) -> DynamoDb {
        let script = node_modules().join("../dynamodb.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .args(tables)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs");
        let mut endpoint = String::new();
        if let Some(stdout) = child.stdout.take() {
            let _ = BufReader::new(stdout).read_line(&mut endpoint);
        }
        assert!(
            endpoint.starts_with("http://127.0.0.1:"),
            "dynalite did not start: {endpoint:?}"
        );
        DynamoDb {
            child,
            endpoint: endpoint.trim().to_owned(),
        }
    }
}

impl Drop for DynamoDb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
