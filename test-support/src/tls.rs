//! Certificates made at test time (rcgen): a CA of the test's own and a certificate it signed,
//! as PEM, for servers that serve TLS and clients that trust that CA.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

/// A CA, and a certificate it signed with its key.
#[derive(Debug, Clone)]
pub struct Certificates {
    /// The CA's certificate: what a client trusts.
    pub ca: String,
    /// The signed certificate: what a server presents.
    pub chain: String,
    /// The signed certificate's private key.
    pub key: String,
}

impl Certificates {
    /// A fresh CA, and a certificate for `names` (DNS names or IP addresses) it signed.
    pub fn for_names(names: &[&str]) -> Certificates {
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // A name of its own: OpenSSL (Node) takes a leaf named as its issuer for self-signed.
        ca.distinguished_name
            .push(DnType::CommonName, "asyncapi-rs test CA");
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let chain = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        Certificates {
            ca: ca.pem(),
            chain: chain.pem(),
            key: key.serialize_pem(),
        }
    }

    /// Writes `ca.pem`, `chain.pem` and `key.pem` into `dir` and returns their paths, in that
    /// order.
    pub fn write(&self, dir: &Path) -> [PathBuf; 3] {
        std::fs::create_dir_all(dir).unwrap();
        let files = [
            dir.join("ca.pem"),
            dir.join("chain.pem"),
            dir.join("key.pem"),
        ];
        for (file, text) in files.iter().zip([&self.ca, &self.chain, &self.key]) {
            std::fs::write(file, text).unwrap();
        }
        files
    }
}

/// An ECDSA P-256 key pair made at test time, for signing tokens (ES256) and publishing the
/// public half in a JWKS.
#[derive(Debug, Clone)]
pub struct P256 {
    /// The private key, PKCS#8 DER.
    pub pkcs8: Vec<u8>,
    /// The public point's x coordinate, 32 bytes.
    pub x: Vec<u8>,
    /// The public point's y coordinate, 32 bytes.
    pub y: Vec<u8>,
}

impl P256 {
    /// A fresh key pair.
    pub fn generate() -> P256 {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        // The uncompressed point: 0x04, x, y.
        let point = key.public_key_raw();
        assert_eq!(point.len(), 65, "an uncompressed P-256 point");
        P256 {
            pkcs8: key.serialize_der(),
            x: point[1..33].to_vec(),
            y: point[33..].to_vec(),
        }
    }

    /// A JWKS (as JSON text) with the public half under `kid`.
    pub fn jwks(&self, kid: &str) -> String {
        use base64::Engine as _;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid, "x": b64(&self.x), "y": b64(&self.y)}]})
            .to_string()
    }

    /// A JWT of `claims` signed ES256 with this key, naming `kid`.
    pub fn es256(&self, kid: &str, claims: &serde_json::Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(kid.to_owned());
        let key = jsonwebtoken::EncodingKey::from_ec_der(&self.pkcs8);
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }
}
