//! A certificate authority of one run, so that functions which build their management endpoint
//! from the event (`https://{domainName}/{stage}`, as some of AWS's samples do) reach this
//! server over TLS, and trust it. The server's certificate names `127.0.0.1` and `localhost`;
//! the CA's certificate is written to a folder of the run's own (removed when the run ends),
//! with a bundle of it and the system's roots, and each runtime is told of them with its own
//! variable: `NODE_EXTRA_CA_CERTS` (Node.js), `AWS_CA_BUNDLE` (boto3, the AWS CLI),
//! `SSL_CERT_FILE` (Python's `ssl`, OpenSSL, and rustls' native roots) and
//! `REQUESTS_CA_BUNDLE` (`requests`).

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

/// Where the system keeps its roots, where the environment does not say (`SSL_CERT_FILE`):
/// Debian's and Ubuntu's, Fedora's and Red Hat's, Alpine's and macOS's OpenSSL.
const SYSTEM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
    "/usr/local/etc/openssl/cert.pem",
];

/// The run's CA and the server certificate it signed; its files are removed when it is dropped.
pub struct LocalCa {
    /// The server's certificate chain, PEM.
    pub chain: String,
    /// The server's private key, PEM.
    pub key: String,
    dir: PathBuf,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Why the run's CA could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// A key or certificate could not be made.
    #[error("cannot make the local CA: {0}")]
    Make(#[source] rcgen::Error),
    /// Its files could not be written.
    #[error("cannot write the local CA to {}: {source}", path.display())]
    Write {
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl LocalCa {
    /// A fresh CA and a server certificate for `127.0.0.1` and `localhost`, its files written
    /// to a new folder under the system's temporary folder.
    ///
    /// # Errors
    /// The key, the certificates or the files could not be made.
    pub fn new() -> Result<LocalCa, CaError> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(CaError::Make)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "asyncapi-rs local CA");
        let ca_key = KeyPair::generate().map_err(CaError::Make)?;
        let ca = CertifiedIssuer::self_signed(params, ca_key).map_err(CaError::Make)?;
        let key = KeyPair::generate().map_err(CaError::Make)?;
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let chain = CertificateParams::new(names)
            .and_then(|params| params.signed_by(&key, &ca))
            .map_err(CaError::Make)?;
        let dir = std::env::temp_dir().join(format!("asyncapi-rs-local-ca-{}", random_suffix()));
        let write = |path: &Path, text: &str| {
            std::fs::write(path, text).map_err(|source| CaError::Write {
                path: path.to_owned(),
                source,
            })
        };
        std::fs::create_dir(&dir).map_err(|source| CaError::Write {
            path: dir.clone(),
            source,
        })?;
        let local = LocalCa {
            chain: chain.pem(),
            key: key.serialize_pem(),
            dir,
        };
        let ca = ca.pem();
        write(&local.ca_file(), &ca)?;
        let mut bundle = system_roots();
        bundle.push('\n');
        bundle.push_str(&ca);
        write(&local.bundle_file(), &bundle)?;
        Ok(local)
    }

    /// The CA's certificate, PEM.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The system's roots and the CA's certificate, PEM.
    pub fn bundle_file(&self) -> PathBuf {
        self.dir.join("bundle.pem")
    }

    /// The variables that tell each runtime to trust the CA.
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        let ca = self.ca_file().display().to_string();
        let bundle = self.bundle_file().display().to_string();
        vec![
            ("NODE_EXTRA_CA_CERTS", ca),
            ("AWS_CA_BUNDLE", bundle.clone()),
            ("SSL_CERT_FILE", bundle.clone()),
            ("REQUESTS_CA_BUNDLE", bundle),
        ]
    }
}

impl Drop for LocalCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The system's roots as PEM (the file `SSL_CERT_FILE` names, else the first system bundle
/// found), or nothing.
fn system_roots() -> String {
    let named = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    named
        .into_iter()
        .chain(SYSTEM_BUNDLES.iter().map(PathBuf::from))
        .find_map(|path| std::fs::read_to_string(path).ok())
        .unwrap_or_default()
}

/// Eight random hex digits, for the folder's name (the process id when the OS has no
/// randomness: the folder is still the run's own while it runs).
fn random_suffix() -> String {
    let mut bytes = [0u8; 4];
    match getrandom::fill(&mut bytes) {
        Ok(()) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        Err(_) => std::process::id().to_string(),
    }
}
