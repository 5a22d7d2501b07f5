//! One raw HTTP/1.1 request on loopback, written as the test gives it.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};

/// Sends `request` (the whole text, head and body) and returns the status and body. The body is
/// read by `Content-Length`, so keep-alive and upgraded connections answer too. Panics past 5 s.
pub async fn http(addr: impl ToSocketAddrs, request: &str) -> (u16, String) {
    let (status, _, body) = exchange(addr, request.as_bytes()).await;
    (status, body)
}

/// `GET {path}`; the body of a 200 (anything else panics, with the status and body).
pub async fn get(addr: impl ToSocketAddrs, path: &str) -> String {
    let (status, body) = http(addr, &get_request(path)).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// The text of `GET {path}` on a connection that closes after it.
pub fn get_request(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
}

/// As [`http`], with the response's head (its status line and headers) as well.
pub async fn exchange(addr: impl ToSocketAddrs, request: &[u8]) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&response).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    return;
                }
            }
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            response.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("no HTTP response within 5 s");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_owned(), body.to_owned())
}

/// Reads an HTTP head (the status or request line and the headers, through the blank line) from
/// `stream`, a byte at a time so nothing after it is consumed.
pub async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}
