//! `asyncapi-rs local`: serve a SAM or CloudFormation template's WebSocket API on this machine
//! (see `asyncapi_cli::local_server`).

use std::ffi::OsString;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use asyncapi_cli::local_server::app::{Integration, WebSocketApi};
use asyncapi_cli::local_server::document::starting_document;
use asyncapi_cli::local_server::{self, Options, Serve, Template, TemplateError};
use asyncapi_codegen::LoadOptions;
use asyncapi_codegen::contract::Contract;

use super::count;

pub(crate) const EXAMPLES: &str = "\
Examples:
  asyncapi-rs local template.yaml
      serving SimpleChatWebSocket on ws://127.0.0.1:3001/Prod
      $connect     -> OnConnectFunction (python3.12, app.handler)
      sendmessage  -> SendMessageFunction (python3.12, app.handler)
      $disconnect  -> OnDisconnectFunction (python3.12, app.handler)
      also wss:// and https:// on the same port, with a CA of this run the functions trust: …
      management API for the functions: http://127.0.0.1:3001/Prod/@connections/{id}
  asyncapi-rs local template.yaml --parameter TableName=connections --addr 127.0.0.1:0
  asyncapi-rs local template.yaml --python .venv/bin/python --node-modules sdk/node_modules
  asyncapi-rs local template.yaml --bootstrap ChatFunction=target/release/chat
  asyncapi-rs local template.yaml --dynamodb http://127.0.0.1:8000   # its tables created there
  asyncapi-rs local template.yaml --asyncapi asyncapi.yaml   # frames checked against it
  asyncapi-rs local template.yaml --write-asyncapi asyncapi.yaml   # a starting document

Each function runs as Lambda runs it: a process of its own in its runtime (Python through
AWS's `awslambdaric`; Node.js, CommonJS or ES modules, through a Runtime API client of
asyncapi-rs's own; `provided.*` functions through their `bootstrap`), asking for its events
over the Lambda Runtime API, with Lambda's environment. The functions reach this server's
management API through `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI` (or `https://{domainName}/
{stage}`, trusting the run's CA); set `AWS_ENDPOINT_URL_*` (or `--env`) for the other services
they use; `--dynamodb URL` points them at a local DynamoDB and creates the template's tables
there. `AWS_IAM` on `$connect` takes handshakes presigned by the key
of this command's environment. What the functions print goes to standard error. Ctrl-C stops it.";

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The SAM or CloudFormation template (YAML or JSON).
    template: PathBuf,
    /// Where to listen (port 0 picks a free port; the first line of output names it).
    #[arg(long, default_value = "127.0.0.1:3001")]
    addr: SocketAddr,
    /// A template parameter's value (its `Default` otherwise). Repeatable.
    #[arg(long = "parameter", value_name = "NAME=VALUE", value_parser = parse_pair)]
    parameters: Vec<(String, String)>,
    /// The WebSocket API to serve, by logical id, when the template has several.
    #[arg(long)]
    api: Option<String>,
    /// The region the functions run in (`AWS_REGION`, and the ARNs').
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// The Python that runs Python functions: one with `awslambdaric` installed (and `boto3`,
    /// for functions that use the AWS SDK, as Lambda's Python runtime has it).
    #[arg(long, default_value = "python3")]
    python: OsString,
    /// The Node.js (20 or later) that runs Node.js functions.
    #[arg(long, default_value = "node")]
    node: OsString,
    /// A `node_modules` folder with what Lambda's Node.js runtime bundles (the AWS SDK for
    /// JavaScript v3: `npm install --prefix DIR @aws-sdk/client-apigatewaymanagementapi`, and
    /// any other client the functions import without listing). Repeatable.
    #[arg(long = "node-modules", value_name = "DIR")]
    node_modules: Vec<PathBuf>,
    /// The `bootstrap` of a `provided.*` function, where it is none of `.aws-sam/build/FUNCTION/`
    /// (`sam build`), `CodeUri/` and, for Rust, `target/lambda/BINARY/` (`cargo lambda build`).
    /// Repeatable.
    #[arg(long = "bootstrap", value_name = "FUNCTION=PATH", value_parser = parse_pair)]
    bootstraps: Vec<(String, String)>,
    /// An AsyncAPI document of the API: each frame is routed and checked against it before a
    /// function is invoked, as a generated server checks it (`Bad request body`, `Forbidden`).
    #[arg(long, value_name = "SPEC")]
    asyncapi: Option<PathBuf>,
    /// Serve plain `ws://` and `http://` only: no `wss://` and `https://` beside them on the
    /// port, and no CA of the run's own.
    #[arg(long)]
    no_tls: bool,
    /// Write a starting AsyncAPI document of the API to FILE (its routes, payloads open) and
    /// exit, instead of serving. An existing FILE is not overwritten.
    #[arg(long, value_name = "FILE", conflicts_with = "asyncapi")]
    write_asyncapi: Option<PathBuf>,
    /// A variable every function gets (`AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000`, say;
    /// they also inherit this command's environment). Repeatable.
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_pair)]
    environment: Vec<(String, String)>,
    /// A local DynamoDB (DynamoDB Local, dynalite: `http://127.0.0.1:8000`): every function's
    /// AWS_ENDPOINT_URL_DYNAMODB, where the template's tables are created when missing.
    #[arg(long, value_name = "URL")]
    dynamodb: Option<String>,
}

fn parse_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, found `{text}`")),
    }
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let template = match Template::read(&args.template) {
        Ok(template) => template,
        Err(TemplateError::Syntax(report)) => {
            eprint!("{}", report.render(super::color()));
            eprintln!("{}: not served", args.template.display());
            return ExitCode::FAILURE;
        }
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(out) = &args.write_asyncapi {
        return write_asyncapi(&template, args, out);
    }
    let contract = match &args.asyncapi {
        None => None,
        Some(spec) => match asyncapi_codegen::load(spec, &LoadOptions::default()) {
            Ok(loaded) => Some(Arc::new(Contract::new(&loaded))),
            Err(report) => {
                eprint!("{}", report.render(super::color()));
                eprintln!("{}: not served", spec.display());
                return ExitCode::FAILURE;
            }
        },
    };
    // What the functions print, and each failure the runtime sees (a function that raised, timed
    // out or died; an authorizer that failed), on standard error, as `sam local` shows them.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_ansi(super::color())
        .init();
    ws_runtime::main(serve(template, contract, args))
}

async fn serve(template: Template, contract: Option<Arc<Contract>>, args: &Args) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind(args.addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on {}: {error}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    let options = Options {
        region: args.region.clone(),
        python: args.python.clone(),
        node: args.node.clone(),
        node_modules: args.node_modules.clone(),
        bootstraps: args
            .bootstraps
            .iter()
            .map(|(name, path)| (name.clone(), PathBuf::from(path)))
            .collect(),
        environment: args.environment.iter().cloned().collect(),
        asyncapi: contract,
        iam: iam_keys(&args.region),
        tls: !args.no_tls,
        dynamodb: args.dynamodb.clone(),
    };
    let what = Serve {
        template: &template,
        parameters: &args.parameters,
        api: args.api.as_deref(),
        options: &options,
    };
    let served = match local_server::serve(listener, what).await {
        Ok(served) => served,
        Err(error) => {
            eprintln!("error: {}: {error}", args.template.display());
            return ExitCode::FAILURE;
        }
    };
    let (addr, api) = (served.server.local_addr(), &served.api);
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "serving {} on ws://{addr}/{}", api.name, api.stage);
    for line in describe(api) {
        let _ = writeln!(stdout, "{line}");
    }
    if !served.created_tables.is_empty() {
        let _ = writeln!(
            stdout,
            "created in the local DynamoDB: {}",
            served.created_tables.join(", ")
        );
    }
    if let Some(ca) = &served.ca {
        let _ = writeln!(
            stdout,
            "also wss:// and https:// on the same port, with a CA of this run the functions trust: {}",
            ca.ca_file().display()
        );
    }
    let _ = writeln!(
        stdout,
        "management API for the functions: http://{addr}/{}/@connections/{{id}}",
        api.stage
    );
    let _ = stdout.flush();
    drop(stdout);
    ws_runtime::stop_signal().await;
    served.shutdown().await;
    ExitCode::SUCCESS
}

/// Who may sign `AWS_IAM` handshakes: the key of this command's environment, as the AWS CLI and
/// SDKs read it.
fn iam_keys(region: &str) -> Option<ws_runtime::SigV4> {
    let id = std::env::var("AWS_ACCESS_KEY_ID").ok()?;
    let secret = std::env::var("AWS_SECRET_ACCESS_KEY").ok()?;
    Some(ws_runtime::SigV4::new(region).key(id, secret))
}

/// `--write-asyncapi`: the starting document of the template's API, written to `out`.
fn write_asyncapi(template: &Template, args: &Args, out: &std::path::Path) -> ExitCode {
    let api = match local_server::read_api(
        template,
        &args.parameters,
        args.api.as_deref(),
        &args.region,
    ) {
        Ok(api) => api,
        Err(error) => {
            eprintln!("error: {}: {error}", args.template.display());
            return ExitCode::FAILURE;
        }
    };
    let document = starting_document(&api, &args.template.display().to_string());
    let messages = api
        .routes
        .iter()
        .filter(|route| !matches!(route.key.as_str(), "$connect" | "$disconnect"))
        .count();
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .and_then(|mut file| file.write_all(ws_runtime::to_yaml(&document).as_bytes()));
    match written {
        Ok(()) => {
            println!(
                "wrote {} ({}): check it with `asyncapi-rs validate {0}`, serve with `--asyncapi {0}`",
                out.display(),
                count(messages, "route")
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: cannot write {}: {error}", out.display());
            ExitCode::FAILURE
        }
    }
}

/// A line per route (and the authorizer): its key and what serves it.
fn describe(api: &WebSocketApi) -> Vec<String> {
    let width = api.routes.iter().map(|r| r.key.len()).max().unwrap_or(0);
    let mut lines = Vec::new();
    if api.iam {
        lines.push(format!(
            "  {:width$}  AWS_IAM: handshakes signed with SigV4 by AWS_ACCESS_KEY_ID",
            "$connect"
        ));
    }
    if let Some(authorizer) = &api.authorizer {
        let function = &authorizer.function;
        lines.push(format!(
            "  {:width$}  authorizer {} -> {} ({}, {})",
            "$connect",
            authorizer.logical_id,
            function.logical_id,
            function.runtime,
            function.handler
        ));
    }
    for route in &api.routes {
        let target = match &route.integration {
            Integration::Function(function) => format!(
                "{} ({}, {})",
                function.logical_id, function.runtime, function.handler
            ),
            Integration::Http(http) => format!(
                "{} HTTP_PROXY {} {}",
                http.logical_id, http.method, http.url
            ),
        };
        let answers = if route.two_way { ", answers" } else { "" };
        lines.push(format!("  {:width$}  -> {target}{answers}", route.key));
    }
    lines
}
