//! The bottom of a connection: the socket around the WebSocket library, the accept loop with its
//! handshake deadline, TLS (feature `tls`), and API Gateway's limits they enforce.

pub(crate) mod close;
pub(crate) mod limits;
pub(crate) mod listener;
pub(crate) mod socket;
#[cfg(feature = "tls")]
pub(crate) mod tls;
