//! `chat-client --url ws://HOST:PORT/ --name NAME`: the chat in a terminal, on the client
//! generated from `asyncapi.yaml` (`api::chat::ChatClient`).
//!
//! Each line of standard input is sent: a plain line as `sendMessage`, `/echo TEXT` as an `echo`
//! request (its typed reply is printed as `echo: TEXT`), `/name NEW` as `setName`. What arrives is
//! printed one line each: `NAME: TEXT`, `* NAME joined`, `* NAME left`, `error: MESSAGE`. At the
//! end of input the client closes with 1000 and exits 0; a refused handshake prints the status
//! and exits 1.

use std::process::ExitCode;

use chat::api::chat::{ChatClient, ChatOutbound, ChatQuery};
use chat::api::types::{Echo, SendMessage, SetName};
use ws_runtime::ClientTls;
use ws_runtime::client::{ClientError, ClientOptions, Event};

const USAGE: &str = "usage: chat-client --url ws://HOST:PORT/ --name NAME [--ca FILE]
  --url wss://… connects over TLS, trusting the system's roots, or only the CA of --ca FILE (PEM);
  a line is sent to the room; `/echo TEXT` asks the server for TEXT back; `/name NEW` renames you;
  end of input (Ctrl-D) leaves";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (mut url, mut name, mut ca) = (None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--url", Some(value)) => url = Some(value),
            ("--name", Some(value)) => name = Some(value),
            ("--ca", Some(value)) => ca = Some(value),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let (Some(url), Some(name)) = (url, name) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    // A terminal says what the document refuses before it goes out, in every build.
    let mut options = ClientOptions::default().validate_outgoing(true);
    if let Some(file) = ca {
        let trusted = std::fs::read(&file)
            .map_err(|e| e.to_string())
            .and_then(|pem| ClientTls::with_ca_pem(&pem).map_err(|e| e.to_string()));
        match trusted {
            Ok(tls) => options = options.tls(tls),
            Err(error) => {
                eprintln!("error: {file}: {error}");
                return ExitCode::from(2);
            }
        }
    }
    let query = ChatQuery { name };
    let mut client = match ChatClient::connect_with(&url, &query, options).await {
        Ok(client) => client,
        Err(error) => {
            println!("error: {error}");
            return ExitCode::FAILURE;
        }
    };

    // Standard input is read on its own thread (reading it blocks), a line at a time.
    let (lines_tx, mut lines) = tokio::sync::mpsc::channel::<String>(16);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if lines_tx.blocking_send(line).is_err() {
                break;
            }
        }
    });

    loop {
        tokio::select! {
            line = lines.recv() => match line {
                Some(line) => {
                    if let Err(error) = command(&mut client, &line).await {
                        println!("error: {error}");
                        if matches!(error, ClientError::Closed { .. }) {
                            return ExitCode::FAILURE;
                        }
                    }
                }
                None => {
                    // The end of input: leave with 1000.
                    return match client.close().await {
                        Ok(()) => ExitCode::SUCCESS,
                        Err(error) => {
                            println!("error: {error}");
                            ExitCode::FAILURE
                        }
                    };
                }
            },
            event = client.next() => match event {
                Some(Event::Closed { code, reason }) => {
                    println!("* closed by the server: {code} {reason}");
                    return ExitCode::FAILURE;
                }
                Some(event) => print_event(event),
                None => return ExitCode::FAILURE,
            },
        }
    }
}

/// Sends one line of input.
async fn command(client: &mut ChatClient, line: &str) -> Result<(), ClientError> {
    if let Some(text) = line.strip_prefix("/echo ") {
        let reply = client.echo(Echo::new(text)).await?;
        println!("echo: {}", reply.text);
        return Ok(());
    }
    if let Some(name) = line.strip_prefix("/name ") {
        return client.set_name(SetName::new(name)).await;
    }
    client.send_message(SendMessage::new(line)).await
}

fn print_event(event: Event<ChatOutbound>) {
    match event {
        Event::Message(ChatOutbound::Message(m)) => println!("{}: {}", m.from, m.text),
        Event::Message(ChatOutbound::Joined(p)) => println!("* {} joined", p.name),
        Event::Message(ChatOutbound::Left(p)) => println!("* {} left", p.name),
        Event::Message(ChatOutbound::Error(e)) => println!("error: {}", e.message),
        Event::Message(ChatOutbound::EchoReply(r)) => println!("echo: {}", r.text),
        Event::ServerError(frame) => println!("error: {}", frame.kind),
        Event::Unmatched { text, reason } => println!("error: unexpected frame ({reason}): {text}"),
        Event::Reconnecting { .. } | Event::Connected | Event::Closed { .. } => {}
    }
}
