//! TLS (feature `tls`) over 127.0.0.1 with certificates made at run time (rcgen): a server on
//! `App::listen_tls` serves `wss://` and `https://`; the typed client connects with the test's
//! CA, and is refused by a server whose certificate another CA signed, and by one it has no CA
//! for; a plain `ws://` client gets nothing from the TLS port, unless the server serves both
//! there (`Tls::and_plain`); a bad certificate or key file is an error that names it.

#![allow(clippy::unwrap_used)]

use serde::{Deserialize, Serialize};
use test_support::bounded;
use test_support::tls::Certificates;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use ws_runtime::client::{Client, ClientError, ClientOptions, Target, decode_if};
use ws_runtime::{
    ClientTls, Context, DecodeError, Handler, HandlerError, Message, Reply, Router, Routes, Tls,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Message)]
#[message(
    name = "echo",
    schema = r#"{"type": "object", "required": ["text"], "properties": {"action": {"const": "echo"}, "text": {"type": "string"}}}"#
)]
struct Echo {
    text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Message)]
#[message(
    name = "echoed",
    schema = r#"{"type": "object", "required": ["echoed"], "properties": {"echoed": {"type": "string"}}}"#
)]
struct Echoed {
    echoed: String,
}

#[derive(Debug, Routes)]
enum Api {
    #[route("echo")]
    Echo(Echo),
}

#[derive(Debug, Clone, PartialEq)]
enum Inbound {
    Echoed(Echoed),
}

impl ws_runtime::client::Incoming for Inbound {
    fn decode(json: &serde_json::Value) -> Option<Result<Self, DecodeError>> {
        decode_if::<Echoed>(json).map(|r| r.map(Inbound::Echoed))
    }
}

struct EchoServer;

impl Handler<Api> for EchoServer {
    async fn message(&self, _cx: &Context, message: Api) -> Result<Reply, HandlerError> {
        let Api::Echo(echo) = message;
        Reply::message(&Echoed { echoed: echo.text })
    }
}

async fn serve(chain: &str, key: &str) -> ws_runtime::Server {
    let tls = Tls::from_pem(chain.as_bytes(), key.as_bytes()).unwrap();
    Router::new()
        .channel("/", EchoServer)
        .build()
        .unwrap()
        .listen_tls("127.0.0.1:0", tls)
        .await
        .unwrap()
}

async fn connect(url: &str, tls: ClientTls) -> Result<Client<Api, Inbound>, ClientError> {
    let options = ClientOptions::default().tls(tls);
    Client::connect(Target::new(url, "/"), options).await
}

#[tokio::test]
async fn the_typed_client_talks_to_a_tls_server_it_trusts_and_refuses_one_it_does_not() {
    bounded(30, async {
        let Certificates { ca, chain, key } = Certificates::for_names(&["localhost", "127.0.0.1"]);
        let server = serve(&chain, &key).await;
        let port = server.local_addr().port();

        // Trusted through the test's CA, by name and by address.
        for host in ["localhost", "127.0.0.1"] {
            let url = format!("wss://{host}:{port}");
            let mut client = connect(&url, ClientTls::with_ca_pem(ca.as_bytes()).unwrap())
                .await
                .unwrap();
            let echoed: Echoed = client
                .request(
                    &Api::Echo(Echo {
                        text: format!("over TLS to {host}"),
                    }),
                    None,
                )
                .await
                .unwrap();
            assert_eq!(echoed.echoed, format!("over TLS to {host}"));
            client.close().await.unwrap();
        }

        // Another CA: the certificate is not trusted, nothing is exchanged.
        let other_ca = Certificates::for_names(&["localhost"]).ca;
        let url = format!("wss://localhost:{port}");
        let refused = connect(&url, ClientTls::with_ca_pem(other_ca.as_bytes()).unwrap())
            .await
            .unwrap_err();
        let text = refused.to_string();
        assert!(
            matches!(refused, ClientError::Transport(_)) && text.contains("certificate"),
            "{text}"
        );

        // A plain client on the TLS port gets no WebSocket.
        let plain = Client::<Api, Inbound>::connect(
            Target::new(&format!("ws://127.0.0.1:{port}"), "/"),
            ClientOptions::default().connect_timeout(std::time::Duration::from_secs(2)),
        )
        .await;
        assert!(plain.is_err());

        // The rest of the port is HTTPS: `/healthz` over TLS.
        let connector = tokio_rustls::TlsConnector::from(
            ClientTls::with_ca_pem(ca.as_bytes()).unwrap().config(),
        );
        let tcp = tokio::net::TcpStream::connect(server.local_addr())
            .await
            .unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut stream = connector.connect(name, tcp).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("ok\n"), "{response}");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    bounded(30, async {
        let elsewhere = Certificates::for_names(&["example.com"]);
        let server = serve(&elsewhere.chain, &elsewhere.key).await;
        let url = format!("wss://localhost:{}", server.local_addr().port());
        let refused = connect(
            &url,
            ClientTls::with_ca_pem(elsewhere.ca.as_bytes()).unwrap(),
        )
        .await
        .unwrap_err();
        assert!(refused.to_string().contains("certificate"), "{refused}");
        server.shutdown().await;
    })
    .await;
}

#[test]
fn bad_pem_files_are_errors_that_name_them() {
    let dir = std::env::temp_dir().join(format!("ws-runtime-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let Certificates { chain, key, .. } = Certificates::for_names(&["localhost"]);
    let (chain_file, key_file, empty) = (
        dir.join("chain.pem"),
        dir.join("key.pem"),
        dir.join("empty.pem"),
    );
    std::fs::write(&chain_file, &chain).unwrap();
    std::fs::write(&key_file, &key).unwrap();
    std::fs::write(&empty, "").unwrap();
    assert!(Tls::from_pem_files(&chain_file, &key_file).is_ok());
    let missing = Tls::from_pem_files(dir.join("nope.pem"), &key_file).unwrap_err();
    assert!(missing.to_string().contains("nope.pem"), "{missing}");
    let no_certificate = Tls::from_pem_files(&empty, &key_file).unwrap_err();
    assert!(
        no_certificate.to_string().contains("no certificate"),
        "{no_certificate}"
    );
    let no_key = Tls::from_pem_files(&chain_file, &chain_file).unwrap_err();
    assert!(no_key.to_string().contains("no private key"), "{no_key}");
    // A key that is not the certificate's.
    let other_key = Certificates::for_names(&["localhost"]).key;
    let mismatch = Tls::from_pem(chain.as_bytes(), other_key.as_bytes()).unwrap_err();
    assert!(
        matches!(mismatch, ws_runtime::TlsError::Rustls(_)),
        "{mismatch}"
    );
    assert!(ClientTls::with_ca_pem(b"not pem").is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn tls_and_plain_on_one_port_each_get_what_they_open_with() {
    bounded(30, async {
        let Certificates { ca, chain, key } = Certificates::for_names(&["localhost", "127.0.0.1"]);
        let tls = Tls::from_pem(chain.as_bytes(), key.as_bytes())
            .unwrap()
            .and_plain();
        let limits = ws_runtime::Limits {
            handshake_timeout: std::time::Duration::from_secs(1),
            ..ws_runtime::Limits::default()
        };
        let server = Router::new()
            .limits(limits)
            .channel("/", EchoServer)
            .build()
            .unwrap()
            .listen_tls("127.0.0.1:0", tls)
            .await
            .unwrap();
        let addr = server.local_addr();
        let echo = Echo {
            text: "both".into(),
        };
        // `wss://` with the test's CA, and `ws://`, on the same port.
        for url in [
            format!("wss://127.0.0.1:{}", addr.port()),
            format!("ws://{addr}"),
        ] {
            let mut client = connect(&url, ClientTls::with_ca_pem(ca.as_bytes()).unwrap())
                .await
                .unwrap();
            let echoed: Echoed = client
                .request(&Api::Echo(echo.clone()), None)
                .await
                .unwrap();
            assert_eq!(echoed.echoed, "both", "over {url}");
        }
        // A socket that sends nothing is still dropped at the handshake deadline.
        let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut buffer = [0u8; 16];
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(5), silent.read(&mut buffer))
                .await
                .expect("closed by the handshake deadline");
        assert_eq!(read.unwrap(), 0);
        server.shutdown().await;
    })
    .await;
}
