//! `asyncapi-rs local` on a SAM template written as AWS's tutorials write them: AWS's chat in
//! Python and Node.js (`tests/local/`), each function a process of its own: Python run by AWS's
//! runtime interface client (`awslambdaric`, with `boto3` as Lambda's Python runtime bundles it;
//! `tests/run` installs both into `target/python-functions`), Node.js (CommonJS and an ES
//! module) by the command's own client, with the AWS SDK for JavaScript v3 (`test-support/npm`);
//! the connections in a local DynamoDB (dynalite, from npm) reached through
//! `AWS_ENDPOINT_URL_DYNAMODB`; a `REQUEST` authorizer, two-way routes, and functions that
//! fail, time out and die. And templates it cannot serve, refused with the
//! resource and why.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use test_support::bounded;
use test_support::functions::{DynamoDb, node_modules, python};
use test_support::ws::{Client, connect, recv, send, silent, try_connect};

/// The table the template's `ConnectionsTable` names (`${AWS::StackName}-connections`).
const TABLE: &str = "local-connections";

fn template() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/local/template.yaml")
}

/// A folder of this test's own, empty (a template written by the test goes there).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("asyncapi-rs-local-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `asyncapi-rs local` running; killed when dropped.
struct Local {
    child: Child,
    addr: SocketAddr,
    /// What it printed after the first line.
    lines: Vec<String>,
}

impl Drop for Local {
    /// Stops it as Ctrl-C would (SIGTERM: its connections closed, the run's CA removed), and
    /// kills it when it has not stopped within 10 s.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Local {
    /// The folder of the run's CA, as it printed it.
    fn ca_dir(&self) -> PathBuf {
        let line = self
            .lines
            .iter()
            .find(|line| line.starts_with("also wss://"))
            .expect("the CA's line");
        let file = PathBuf::from(line.rsplit(": ").next().unwrap());
        file.parent().unwrap().to_owned()
    }
}

impl Local {
    fn start(template: &Path, dynamodb: &DynamoDb, args: &[&str]) -> Local {
        Local::start_with(
            template,
            &[("AWS_ENDPOINT_URL_DYNAMODB", &dynamodb.endpoint)],
            args,
        )
    }

    /// `asyncapi-rs local template ARGS…` with `env` in its environment.
    fn start_with(template: &Path, env: &[(&str, &str)], args: &[&str]) -> Local {
        let mut child = Command::new(env!("CARGO_BIN_EXE_asyncapi-rs"))
            .arg("local")
            .arg(template)
            .args(["--addr", "127.0.0.1:0", "--region", "eu-west-1", "--python"])
            .arg(python())
            .arg("--node-modules")
            .arg(node_modules())
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        // `serving ChatWebSocket on ws://127.0.0.1:PORT/Prod`
        let url = first.trim().rsplit(' ').next().unwrap().to_owned();
        let addr = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("no address in {first:?}"));
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                break;
            }
            let last = line.starts_with("management API");
            lines.push(line.trim_end().to_owned());
            if last {
                break;
            }
        }
        Local { child, addr, lines }
    }
}

async fn ask(client: &mut Client, action: &str) -> Value {
    send(client, json!({ "action": action })).await;
    recv(client).await
}

fn status(error: tokio_tungstenite::tungstenite::Error) -> u16 {
    match error {
        tokio_tungstenite::tungstenite::Error::Http(response) => response.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sam_chat_in_python_and_node_runs_unchanged_with_its_authorizer_and_failures() {
    bounded(180, async {
        let dynamodb = DynamoDb::start(&[TABLE]);
        let backend = backend().await;
        let backend_url = format!("BackendUrl=http://{backend}");
        let local = Local::start(
            &template(),
            &dynamodb,
            &["--parameter", "Greeting=hi", "--parameter", &backend_url],
        );
        let addr = local.addr;
        let printed = local.lines.join("\n");
        assert!(
            printed.contains(
                "authorizer TokenAuthorizer -> AuthorizerFunction (python3.12, chat.authorize)"
            ),
            "{printed}"
        );
        assert!(
            printed.contains("whoami")
                && printed.contains("-> WhoAmIFunction (python3.12, chat.whoami), answers"),
            "{printed}"
        );
        assert!(
            printed.contains(&format!("http://{addr}/Prod/@connections/{{id}}")),
            "{printed}"
        );

        // The authorizer, as API Gateway runs it: no identity source is 401 without a call; a
        // deny is 403; `Unauthorized` is 401.
        assert_eq!(status(try_connect(addr, "/Prod").await.unwrap_err()), 401);
        assert_eq!(
            status(try_connect(addr, "/Prod?token=nobody").await.unwrap_err()),
            403
        );
        assert_eq!(
            status(try_connect(addr, "/Prod?token=boom").await.unwrap_err()),
            401
        );

        let mut alice = connect(addr, "/Prod?token=user-alice").await;
        let mut bob = connect(addr, "/?token=user-bob").await;

        // A two-way route: its function's body comes back, with what the authorizer allowed,
        // the parameter overridden on the command line and the function's own settings.
        let me = ask(&mut alice, "whoami").await;
        assert_eq!(me["authorizer"]["user"], "alice", "{me}");
        assert_eq!(me["authorizer"]["principalId"], "user-alice", "{me}");
        assert_eq!(me["apiId"], "chatwebsocket");
        assert_eq!(me["stage"], "Prod");
        assert_eq!(me["routeKey"], "whoami");
        assert_eq!(me["greeting"], "hi");
        assert_eq!(me["function"], "local-whoami");
        assert_eq!(me["memory"], "512");
        assert_eq!(me["region"], "eu-west-1");
        assert_eq!(me["layer"], "greetings, alice", "{me}");

        // `$connect` stored both connections in DynamoDB; `sendmessage` posts to the other one
        // through the management API with boto3, signed with the run's key, and answers nothing.
        assert_eq!(me["connections"], 2, "{me}");
        send(
            &mut alice,
            json!({"action": "sendmessage", "data": "hello bob"}),
        )
        .await;
        assert_eq!(
            recv(&mut bob).await,
            json!({"from": "alice", "data": "hello bob"})
        );
        silent(&mut alice).await;

        // The same in Node.js: CommonJS with the SDK's client, and an ES module in callback
        // style that imports the SDK too.
        send(
            &mut bob,
            json!({"action": "broadcast", "data": "hello alice"}),
        )
        .await;
        assert_eq!(
            recv(&mut alice).await,
            json!({"from": "bob", "data": "hello alice", "via": "node"})
        );
        silent(&mut bob).await;
        let me = ask(&mut bob, "whoaminode").await;
        assert_eq!(me["authorizer"]["user"], "bob", "{me}");
        assert_eq!(me["routeKey"], "whoaminode");
        assert_eq!(me["function"], "WhoAmINodeFunction");
        assert_eq!(me["remaining"], true);
        assert_eq!(me["sdk"], "function");
        assert_eq!(me["layer"], "greetings, bob", "{me}");
        send(&mut bob, json!({"action": "whoaminode", "fail": true})).await;
        assert_eq!(recv(&mut bob).await["message"], "Internal server error");

        // Functions that build the management endpoint from the event, as some of AWS's samples
        // do (`https://{domainName}/{stage}`), reach this server over TLS on the same port and
        // trust it through the run's CA: boto3 through AWS_CA_BUNDLE, Node.js through
        // NODE_EXTRA_CA_CERTS.
        let https = format!("https://{addr}/Prod");
        for (route, from) in [("httpsreply", "python"), ("httpsreplynode", "node")] {
            send(&mut alice, json!({ "action": route })).await;
            assert_eq!(recv(&mut alice).await, json!({"over": https, "from": from}));
        }

        // An HTTP_PROXY route: the message goes to the backend as the body of a PUT, with the
        // request parameters as headers and query; its answer is the route's response.
        send(&mut alice, json!({"action": "quote", "symbol": "ACME"})).await;
        let seen = recv(&mut alice).await;
        assert_eq!(seen["method"], "PUT", "{seen}");
        assert_eq!(seen["path"], "/quote", "{seen}");
        assert_eq!(seen["query"], "source=template&symbol=ACME", "{seen}");
        assert_eq!(seen["user"], "alice", "{seen}");
        assert_eq!(seen["origin"], "local", "{seen}");
        assert_eq!(
            seen["body"],
            json!({"action": "quote", "symbol": "ACME"}).to_string()
        );
        assert!(
            seen["connectionId"]
                .as_str()
                .is_some_and(|id| !id.is_empty()),
            "{seen}"
        );

        // Failures are API Gateway's: the client gets `Internal server error`, and the server
        // keeps serving (a fresh instance after a timeout or a death).
        for route in ["fail", "slow", "die", "slowquote"] {
            let error = ask(&mut alice, route).await;
            assert_eq!(
                error["message"], "Internal server error",
                "{route}: {error}"
            );
        }
        assert_eq!(
            ask(&mut alice, "whoami").await["authorizer"]["user"],
            "alice"
        );

        // `$disconnect` removes bob from the table.
        bob.close(None).await.unwrap();
        let mut left = Value::Null;
        for _ in 0..100 {
            left = ask(&mut alice, "whoami").await["connections"].clone();
            if left == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(left, 1);
        // Stopped as Ctrl-C stops it, it removes the run's CA.
        let ca = local.ca_dir();
        assert!(ca.join("ca.pem").is_file(), "{}", ca.display());
        drop(local);
        assert!(!ca.exists(), "{} is left behind", ca.display());
    })
    .await;
}

/// An HTTP backend on a free loopback port: answers every request with what it saw (`/slow`
/// after 10 s).
async fn backend() -> SocketAddr {
    use axum::http::{HeaderMap, Method, Uri};
    async fn seen(method: Method, uri: Uri, headers: HeaderMap, body: String) -> String {
        if uri.path() == "/slow" {
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        json!({
            "method": method.as_str(),
            "path": uri.path(),
            "query": uri.query(),
            "connectionId": header("connectionid"),
            "user": header("x-user"),
            "origin": header("x-origin"),
            "body": body,
        })
        .to_string()
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(seen);
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// The document `--write-asyncapi` wrote, as JSON.
fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let mut sources = asyncapi_codegen::source::Sources::default();
    let file = sources.add(path.to_owned(), text.clone());
    asyncapi_codegen::load::parse(file, &text, "YAML")
        .unwrap()
        .to_json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_written_from_the_template_then_checks_its_frames() {
    bounded(120, async {
        // A starting document from the template's routes: valid, a message per route.
        let dir = scratch("document");
        let written = dir.join("asyncapi.yaml");
        let output = Command::new(env!("CARGO_BIN_EXE_asyncapi-rs"))
            .arg("local")
            .arg(template())
            .arg("--write-asyncapi")
            .arg(&written)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("(11 routes)"), "{stdout}");
        let validated = Command::new(env!("CARGO_BIN_EXE_asyncapi-rs"))
            .arg("validate")
            .arg(&written)
            .output()
            .unwrap();
        assert!(
            validated.status.success(),
            "{}",
            String::from_utf8_lossy(&validated.stderr)
        );
        let mut document = read_yaml(&written);
        let messages = &document["channels"]["api"]["messages"];
        assert_eq!(
            messages["sendmessage"]["payload"]["properties"]["action"]["const"],
            "sendmessage"
        );
        assert_eq!(messages["whoami"]["x-route-key"], "whoami");
        assert!(messages["whoamiReply"].is_object(), "{messages}");
        assert!(document["operations"]["whoami"]["reply"].is_object());
        // Not written over.
        let again = Command::new(env!("CARGO_BIN_EXE_asyncapi-rs"))
            .arg("local")
            .arg(template())
            .arg("--write-asyncapi")
            .arg(&written)
            .output()
            .unwrap();
        assert!(!again.status.success());

        // The team fills it in: `sendmessage` carries a string `data`, and `fail` is no route.
        let sendmessage = &mut document["channels"]["api"]["messages"]["sendmessage"]["payload"];
        sendmessage["properties"]["data"] = json!({"type": "string"});
        sendmessage["required"] = json!(["action", "data"]);
        document["channels"]["api"]["messages"]
            .as_object_mut()
            .unwrap()
            .remove("fail");
        document["operations"]
            .as_object_mut()
            .unwrap()
            .remove("fail");
        std::fs::write(&written, ws_runtime::to_yaml(&document)).unwrap();

        // Served with it: frames are checked before a function is invoked.
        let dynamodb = DynamoDb::start(&[TABLE]);
        let spec = written.display().to_string();
        let local = Local::start(&template(), &dynamodb, &["--asyncapi", &spec]);
        let mut alice = connect(local.addr, "/Prod?token=user-alice").await;
        let mut bob = connect(local.addr, "/Prod?token=user-bob").await;
        send(&mut alice, json!({"action": "sendmessage", "data": 5})).await;
        let refused = recv(&mut alice).await;
        assert_eq!(refused["message"], "Bad request body", "{refused}");
        assert!(refused["errors"].to_string().contains("/data"), "{refused}");
        silent(&mut bob).await;
        // Without the document `fail` reaches its function (`Internal server error`); with it,
        // no route takes it.
        assert_eq!(ask(&mut alice, "fail").await["message"], "Forbidden");
        send(&mut alice, json!({"action": "sendmessage", "data": "hi"})).await;
        assert_eq!(recv(&mut bob).await, json!({"from": "alice", "data": "hi"}));
        assert_eq!(
            ask(&mut alice, "whoami").await["authorizer"]["user"],
            "alice"
        );
        drop(local);
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}

/// A `ws://` URL presigned with SigV4 by `key`, as an AWS SDK presigns one for `AWS_IAM`.
fn presigned(addr: SocketAddr, path: &str, (key, secret): (&str, &str)) -> String {
    use aws_sigv4::http_request::{
        SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
    };
    let identity = aws_credential_types::Credentials::new(key, secret, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(60));
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("eu-west-1")
        .name("execute-api")
        .time(std::time::SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let url = format!("http://{addr}{path}");
    let host = addr.to_string();
    let request = SignableRequest::new(
        "GET",
        &url,
        [("host", host.as_str())].into_iter(),
        SignableBody::Bytes(b""),
    )
    .unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    let mut request = axum::http::Request::get(&url).body(()).unwrap();
    instructions.apply_to_request_http1x(&mut request);
    format!("ws://{addr}{}", request.uri().path_and_query().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_iam_on_connect_takes_handshakes_presigned_by_the_local_key() {
    bounded(60, async {
        let dir = scratch("iam");
        let functions = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/local/functions");
        // The refusal test's API, its `$default` two-way, with `$connect` behind AWS_IAM.
        let two_way = API.replace(
            "RouteKey: $default\n",
            "RouteKey: $default\n      RouteResponseSelectionExpression: $default\n",
        );
        let template = format!(
            "{two_way}  Connect:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $connect
      AuthorizationType: AWS_IAM
      Target: !Sub integrations/${{Integ}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      CodeUri: {}
      Handler: iam.identity
",
            functions.display()
        );
        let path = dir.join("template.yaml");
        std::fs::write(&path, template).unwrap();
        let key = ("AKIDLOCAL", "the-local-secret");
        let local = Local::start_with(
            &path,
            &[
                ("AWS_ACCESS_KEY_ID", key.0),
                ("AWS_SECRET_ACCESS_KEY", key.1),
            ],
            &[],
        );
        let addr = local.addr;
        // Unsigned, or signed by another key or secret: API Gateway's 403.
        assert_eq!(status(try_connect(addr, "/Prod").await.unwrap_err()), 403);
        let other = presigned(addr, "/Prod", ("AKIDLOCAL", "not-the-secret"));
        assert_eq!(
            status(test_support::ws::try_connect_url(&other).await.unwrap_err()),
            403
        );
        let unknown = presigned(addr, "/Prod", ("SOMEONE", "the-local-secret"));
        assert_eq!(
            status(
                test_support::ws::try_connect_url(&unknown)
                    .await
                    .unwrap_err()
            ),
            403
        );
        // Presigned by the local key: in, and the key is the events' caller.
        let url = presigned(addr, "/Prod", key);
        let mut client = test_support::ws::try_connect_url(&url).await.unwrap();
        send(&mut client, json!({"action": "anything"})).await;
        let identity = recv(&mut client).await;
        assert_eq!(identity["accessKey"], "AKIDLOCAL", "{identity}");
        assert_eq!(
            identity["userArn"],
            "arn:aws:iam::000000000000:user/AKIDLOCAL"
        );

        // ws-runtime's clients presign the same way (`ClientOptions::presign`), a query kept.
        let base = format!("ws://{addr}/Prod?name=Ada%20Lovelace");
        let now = std::time::SystemTime::now();
        let ours = ws_runtime::Presign::new("eu-west-1", key.0, key.1)
            .url(&base, now)
            .unwrap();
        assert!(ours.contains("name=Ada%20Lovelace"), "{ours}");
        assert!(test_support::ws::try_connect_url(&ours).await.is_ok());
        let wrong = ws_runtime::Presign::new("eu-west-1", key.0, "not-the-secret")
            .url(&base, now)
            .unwrap();
        let refused = test_support::ws::try_connect_url(&wrong).await.unwrap_err();
        assert_eq!(status(refused), 403);
        // And the TypeScript client's runtime (WebCrypto, no SDK), checked by AWS's signer here.
        let runtime = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/chat/static/client/runtime.js")
            .canonicalize()
            .unwrap();
        let script = format!(
            "const {{ presign }} = await import({:?}); console.log(await presign(process.argv[1], {{ accessKeyId: process.argv[2], secretAccessKey: process.argv[3], region: 'eu-west-1' }}));",
            format!("file://{}", runtime.display())
        );
        for (secret, accepted) in [(key.1, true), ("not-the-secret", false)] {
            let output = Command::new("node")
                .args(["--input-type=module", "-e", &script, &base, key.0, secret])
                .output()
                .unwrap();
            assert!(output.status.success(), "{output:?}");
            let url = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            assert!(url.contains("X-Amz-Signature="), "{url}");
            match test_support::ws::try_connect_url(&url).await {
                Ok(_) => assert!(accepted, "{url} was let in"),
                Err(error) => assert!(!accepted && status(error) == 403, "{url}"),
            }
        }
        drop(local);
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}

/// Runs `asyncapi-rs local` on `template` (written to a scratch folder) and returns its exit
/// success and standard error.
fn refused(name: &str, template: &str, args: &[&str]) -> String {
    let dir = scratch(name);
    let path = dir.join("template.yaml");
    std::fs::write(&path, template).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_asyncapi-rs"))
        .arg("local")
        .arg(&path)
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!output.status.success(), "{name} was served");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const API: &str = "
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $default
      Target: !Sub integrations/${Integ}
  Integ:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations
";

#[test]
fn templates_it_cannot_serve_are_refused_with_the_resource_and_why() {
    let function = |properties: &str| {
        format!("{API}  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n{properties}")
    };
    let cases = [
        (
            "runtime",
            function("      Runtime: java21\n      Handler: a.B\n"),
            vec![],
            "Fn.Runtime (the target of Route): Runtime `java21` is not served locally",
        ),
        (
            "layer",
            function(
                "      Runtime: python3.12\n      Handler: a.b\n      Layers: [arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3:7]\n",
            ),
            vec![],
            "Fn.Layers (the target of Route): Layers `arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3:7` is not served locally",
        ),
        (
            "bootstrap",
            function("      Runtime: provided.al2023\n      CodeUri: nowhere/\n"),
            vec![],
            "Fn: no bootstrap at",
        ),
        (
            "integration",
            API.replace("AWS_PROXY", "MOCK"),
            vec![],
            "Integ.IntegrationType (the target of Route): IntegrationType `MOCK` is not served locally",
        ),
        (
            "ref",
            API.replace("${Fn.Arn}", "${Nothing.Arn}"),
            vec![],
            "Integ.IntegrationUri (the target of Route): `Fn::GetAtt` of `Nothing`, which is not a resource",
        ),
        (
            "parameter",
            format!("Parameters:\n  Stage:\n    Type: String\n{API}"),
            vec![],
            "parameter Stage: has no `Default`: give it a value with `--parameter Stage=VALUE`",
        ),
        (
            "override",
            function("      Runtime: python3.12\n      Handler: a.b\n"),
            vec!["--parameter", "Nope=1"],
            "parameter Nope: the template declares no such parameter",
        ),
        (
            "no-api",
            "Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n".to_owned(),
            vec![],
            "Resources: the template has no AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET",
        ),
        (
            "import",
            API.replace(
                "!Ref Api\n      RouteKey",
                "!ImportValue Other\n      RouteKey",
            ),
            vec![],
            "Route.ApiId: `Fn::ImportValue` cannot be resolved locally",
        ),
        ("syntax", "Resources: [\n".to_owned(), vec![], "not served"),
    ];
    for (name, template, args, expected) in cases {
        let stderr = refused(name, &template, &args);
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}
