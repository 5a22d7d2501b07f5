//! Functions in processes of their own (`ws_runtime::lambda::Process`), in a real Lambda
//! runtime: Python handlers run by AWS's runtime interface client (`awslambdaric`, from PyPI,
//! installed by `tests/run` into `target/python-functions`), over the Lambda Runtime API the
//! server serves each instance. A warm instance answers again; a handler that raises, one that
//! outlives its timeout and one whose process dies each give the client API Gateway's
//! `Internal server error`, and the next message is served by a fresh instance.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use test_support::bounded;
use test_support::functions::python;
use test_support::ws::{Client, connect, recv, send, try_connect};
use ws_runtime::Router;
use ws_runtime::lambda::{FunctionError, Lambda, Process};

/// The handler `name` of `tests/functions/python/app.py`, as Lambda's Python runtime starts it.
fn handler(name: &str) -> Process {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/functions/python");
    Process::new(name, python())
        .args(["-m", "awslambdaric", &format!("app.{name}")])
        .handler(format!("app.{name}"))
        .task_root(root)
        .region("eu-west-1")
        .timeout(Duration::from_secs(10))
}

async fn serve(lambda: Lambda) -> ws_runtime::Server {
    let app = Router::new()
        .stage("test")
        .channel("/", lambda)
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    app.serve(listener).await.unwrap()
}

/// Sends `{"action": route, …extra}` and reads the answer: the function's body (JSON), or an
/// error frame.
async fn ask(client: &mut Client, route: &str, extra: Value) -> Value {
    let mut message = json!({ "action": route });
    if let (Some(message), Some(extra)) = (message.as_object_mut(), extra.as_object()) {
        message.extend(extra.clone());
    }
    send(client, message).await;
    recv(client).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_functions_answer_as_on_lambda_and_failures_are_api_gateways() {
    bounded(120, async {
        let lambda = Lambda::new()
            .connect(handler("connect"))
            .two_way_route("echo", handler("echo"))
            .two_way_route("fail", handler("fail"))
            .two_way_route("slow", handler("slow").timeout(Duration::from_millis(1500)))
            .two_way_route("die", handler("die"));
        let server = serve(lambda).await;
        let addr = server.local_addr();

        // `$connect` through a function: it refuses with its status, or accepts.
        let refused = try_connect(addr, "/?deny=1").await.unwrap_err().to_string();
        assert!(refused.contains("403"), "{refused}");
        let mut client = connect(addr, "/").await;

        // A cold start, then the same warm process; what Lambda tells a function is there.
        let first = ask(&mut client, "echo", json!({"n": 1})).await;
        assert_eq!(first["echo"], json!({"action": "echo", "n": 1}));
        assert_eq!(first["routeKey"], "echo");
        assert_eq!(first["function"], "echo");
        assert_eq!(first["handler"], "app.echo");
        assert_eq!(first["region"], "eu-west-1");
        assert!(
            first["taskRoot"].as_str().unwrap().ends_with("python"),
            "{first}"
        );
        let remaining = first["remainingMs"].as_u64().unwrap();
        assert!((1..=10_000).contains(&remaining), "{remaining}");
        let second = ask(&mut client, "echo", json!({"n": 2})).await;
        assert_eq!(second["pid"], first["pid"], "a warm instance answers again");
        assert_ne!(second["requestId"], first["requestId"]);

        // A handler that raises, one that times out, one whose process dies: the client gets
        // API Gateway's error frame each time, and the channel keeps serving.
        for route in ["fail", "slow", "die"] {
            let answer = ask(&mut client, route, json!({"seconds": 30})).await;
            assert_eq!(
                answer["message"], "Internal server error",
                "{route}: {answer}"
            );
        }
        let after = ask(&mut client, "echo", json!({"n": 3})).await;
        assert_eq!(after["echo"]["n"], 3);
        // The one that died was replaced; the one that raised lived on.
        let again = ask(&mut client, "die", json!({})).await;
        assert_eq!(again["message"], "Internal server error");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_says_why_there_is_no_response() {
    bounded(120, async {
        let event = json!({"body": "{\"seconds\": 30}", "requestContext": {"routeKey": "x"}});
        let failed = handler("fail").invoke(event.clone()).await.unwrap_err();
        match &failed {
            FunctionError::Failed {
                error_type,
                message,
            } => {
                assert_eq!(error_type, "ValueError");
                assert_eq!(message, "the handler failed on purpose");
            }
            other => panic!("{other:?}"),
        }
        let slow = handler("slow").timeout(Duration::from_millis(1500));
        let timed_out = slow.invoke(event.clone()).await.unwrap_err();
        assert!(
            matches!(timed_out, FunctionError::TimedOut(t) if t == Duration::from_millis(1500)),
            "{timed_out:?}"
        );
        let died = handler("die").invoke(event.clone()).await.unwrap_err();
        assert!(matches!(died, FunctionError::Exited(_)), "{died:?}");
        // A handler the module does not have: the runtime reports it, as Lambda does.
        let missing = handler("no_such_handler")
            .invoke(event.clone())
            .await
            .unwrap_err();
        assert!(
            matches!(
                &missing,
                FunctionError::Failed { .. } | FunctionError::InitFailed { .. }
            ),
            "{missing:?}"
        );
        // At most `concurrency` instances at once: two invocations at the same time share one
        // process with a concurrency of 1, and get one each with 2.
        let pause = json!({"body": "{\"seconds\": 0.4}", "requestContext": {"routeKey": "x"}});
        for (concurrency, processes) in [(1, 1), (2, 2)] {
            let slow = handler("slow").concurrency(concurrency);
            let (a, b) = tokio::join!(slow.invoke(pause.clone()), slow.invoke(pause.clone()));
            let pid = |answer: Value| {
                let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
                body["slow"].as_u64().unwrap()
            };
            let pids = std::collections::BTreeSet::from([pid(a.unwrap()), pid(b.unwrap())]);
            assert_eq!(pids.len(), processes, "concurrency {concurrency}: {pids:?}");
        }
        // A timeout past what the clock can name is no panic.
        let forever = handler("echo").timeout(Duration::MAX);
        assert_eq!(
            forever.invoke(event.clone()).await.unwrap()["statusCode"],
            200
        );
        let absent = Process::new("absent", "/nonexistent/runtime")
            .invoke(event)
            .await
            .unwrap_err();
        assert!(matches!(absent, FunctionError::Start { .. }), "{absent:?}");
    })
    .await;
}
