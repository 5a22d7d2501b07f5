//! The bottom of a connection: the socket around the WebSocket library and its compression, the
//! client's dial, the accept loop with its handshake deadline, TLS (feature `tls`), and API
//! Gateway's limits they enforce; and the HTTP client of the requests the runtime makes itself
//! (a JWKS, an HTTP integration).

pub(crate) mod close;
pub(crate) mod compression;
#[cfg(feature = "client")]
pub(crate) mod dial;
#[cfg(any(feature = "jwt", feature = "functions"))]
pub(crate) mod http_client;
pub(crate) mod limits;
pub(crate) mod listener;
pub(crate) mod socket;
#[cfg(feature = "tls")]
pub(crate) mod tls;
