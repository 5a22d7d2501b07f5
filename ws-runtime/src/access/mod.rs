//! Who may connect and who may manage connections: security schemes, credentials, principals
//! and verifiers (`security`, with `ApiKeys`), JWT bearer tokens (feature `jwt`), and SigV4
//! signatures of management requests (feature `sigv4`).

#[cfg(feature = "jwt")]
pub(crate) mod jwt;
pub(crate) mod security;
#[cfg(feature = "sigv4")]
pub(crate) mod sigv4;
