//! TLS with rustls (feature `tls`): a server's certificate and key ([`Tls`], for
//! [`crate::App::listen_tls`]), and what a client trusts ([`ClientTls`], for
//! `ClientOptions::tls`). rustls runs on ring; certificates and keys are read from PEM.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file or text that cannot be read, or holds nothing of the kind asked for.
    #[error("{what}: {message}")]
    Pem {
        /// The file, or what the text was.
        what: String,
        /// What is wrong with it.
        message: String,
    },
    /// rustls refused the certificate, the key or the configuration.
    #[error("TLS: {0}")]
    Rustls(#[from] rustls::Error),
    /// The system's root certificates cannot be read, or there are none.
    #[error("the system's root certificates: {0}")]
    SystemRoots(String),
}

/// rustls on ring. rustls 0.23.48 deprecated ring's provider for its lack of post-quantum key
/// exchange (aws-lc-rs has it); ring builds in a fraction of aws-lc-rs's time on a small machine
/// and has every classical suite. Moving to aws-lc-rs is this function and the features in
/// Cargo.toml.
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| TlsError::Pem {
            what: what.to_owned(),
            message: error.to_string(),
        })?;
    if certificates.is_empty() {
        return Err(TlsError::Pem {
            what: what.to_owned(),
            message: "no certificate (`-----BEGIN CERTIFICATE-----`) in it".into(),
        });
    }
    Ok(certificates)
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|error| TlsError::Pem {
        what: path.display().to_string(),
        message: error.to_string(),
    })
}

/// A server's TLS: its certificate chain and private key. A server that listens with it
/// ([`crate::App::listen_tls`]) serves `wss://`, and `https://` for everything else on its port
/// (the management API, health, metrics, the docs page). HTTP/1.1 only (ALPN `http/1.1`), as
/// WebSocket needs.
#[derive(Clone)]
pub struct Tls {
    pub(crate) acceptor: tokio_rustls::TlsAcceptor,
    /// Plain connections are served too ([`Tls::and_plain`]).
    pub(crate) plain_too: bool,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("plain_too", &self.plain_too)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// From PEM text: the certificate chain (the server's first) and its private key (PKCS#8,
    /// PKCS#1 or SEC1).
    ///
    /// # Errors
    /// No certificate or no key in the text, or a key that does not fit the certificate.
    pub fn from_pem(chain: &[u8], key: &[u8]) -> Result<Tls, TlsError> {
        Tls::from_parts(
            certificates(chain, "the certificate chain")?,
            key,
            "the private key",
        )
    }

    /// From PEM files (what `--tls-cert` and `--tls-key` name).
    ///
    /// # Errors
    /// As [`Tls::from_pem`], and a file that cannot be read; each names its file.
    pub fn from_pem_files(chain: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<Tls, TlsError> {
        let (chain, key) = (chain.as_ref(), key.as_ref());
        let certificates = certificates(&read(chain)?, &chain.display().to_string())?;
        Tls::from_parts(certificates, &read(key)?, &key.display().to_string())
    }

    /// From a rustls configuration of your own (client certificates, other protocol versions).
    /// Its ALPN protocols should offer `http/1.1`.
    pub fn from_config(config: Arc<rustls::ServerConfig>) -> Tls {
        Tls {
            acceptor: tokio_rustls::TlsAcceptor::from(config),
            plain_too: false,
        }
    }

    /// Also serves plain `ws://` and `http://` on the same port: a connection whose first byte
    /// opens a TLS handshake (a record of type 22) gets TLS, any other is served as it is. For
    /// a server on a desk that clients reach with `ws://` and code reaches with `https://` at
    /// the same address (`asyncapi-rs local`, for functions that build their management
    /// endpoint from the event's `domainName`); a server on a network should not offer both.
    pub fn and_plain(mut self) -> Tls {
        self.plain_too = true;
        self
    }

    fn from_parts(
        chain: Vec<CertificateDer<'static>>,
        key: &[u8],
        what: &str,
    ) -> Result<Tls, TlsError> {
        let key = PrivateKeyDer::from_pem_slice(key).map_err(|error| TlsError::Pem {
            what: what.to_owned(),
            message: format!("no private key in it ({error})"),
        })?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls::from_config(Arc::new(config)))
    }
}

/// What a client trusts when it connects to `wss://`: the system's root certificates
/// ([`ClientTls::system_roots`], the default), or only the certificate authorities you give
/// ([`ClientTls::with_ca_pem`]), or both. One configuration for every connection made with it, so
/// a reconnection resumes its TLS session instead of starting over.
#[derive(Clone)]
pub struct ClientTls {
    roots: rustls::RootCertStore,
    config: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("roots", &self.roots.len())
            .finish_non_exhaustive()
    }
}

impl ClientTls {
    /// The system's root certificates (what browsers and `curl` on this machine trust).
    ///
    /// # Errors
    /// The system's store cannot be read, or has no certificate rustls accepts.
    pub fn system_roots() -> Result<ClientTls, TlsError> {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = rustls::RootCertStore::empty();
        let (added, _ignored) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            let why = found
                .errors
                .first()
                .map_or_else(|| "none found".to_owned(), ToString::to_string);
            return Err(TlsError::SystemRoots(why));
        }
        ClientTls::from_roots(roots)
    }

    /// Only the certificate authorities in `pem` (a private CA, a test's own).
    ///
    /// # Errors
    /// No certificate in the text, or one rustls cannot use as a root.
    pub fn with_ca_pem(pem: &[u8]) -> Result<ClientTls, TlsError> {
        ClientTls::from_roots(rustls::RootCertStore::empty())?.add_ca_pem(pem)
    }

    /// These roots, and the certificate authorities in `pem` too.
    ///
    /// # Errors
    /// As [`ClientTls::with_ca_pem`].
    pub fn add_ca_pem(self, pem: &[u8]) -> Result<ClientTls, TlsError> {
        let mut roots = self.roots;
        for certificate in certificates(pem, "the CA certificates")? {
            roots.add(certificate).map_err(|error| TlsError::Pem {
                what: "the CA certificates".into(),
                message: error.to_string(),
            })?;
        }
        ClientTls::from_roots(roots)
    }

    /// The rustls configuration every connection made with it uses.
    pub fn config(&self) -> Arc<rustls::ClientConfig> {
        Arc::clone(&self.config)
    }

    fn from_roots(roots: rustls::RootCertStore) -> Result<ClientTls, TlsError> {
        let config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        Ok(ClientTls {
            roots,
            config: Arc::new(config),
        })
    }
}
