//! A throwaway certificate authority and server certificate for 127.0.0.1/localhost,
//! made with the `openssl` command at test time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub struct TestCerts {
    pub ca_pem: String,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    /// SHA-256 of the server certificate's DER form, hex.
    pub server_sha256: String,
}

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl runs (installed by tests/run)");
    assert!(status.success(), "openssl {args:?}");
}

/// A server certificate that signs itself, as `openssl req -x509` makes it (marked as a
/// CA, the most common certificate of a small self-hosted server).
pub struct SelfSigned {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub sha256: String,
}

impl SelfSigned {
    /// `stem` names the files in `dir`; `names` is the subjectAltName list
    /// (`DNS:localhost,IP:127.0.0.1`).
    pub fn create(dir: &Path, stem: &str, names: &str) -> Self {
        let (cert, key) = (format!("{stem}.crt"), format!("{stem}.key"));
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &cert,
                "-days",
                "2",
                "-subj",
                &format!("/CN={stem}"),
                "-addext",
                &format!("subjectAltName={names}"),
            ],
        );
        let pem = std::fs::read_to_string(dir.join(&cert)).expect("cert");
        let der = CertificateDer::pem_slice_iter(pem.as_bytes())
            .next()
            .expect("one cert")
            .expect("pem");
        Self {
            sha256: tributary::pop3::tls::sha256_fingerprint(der.as_ref()),
            cert_path: dir.join(cert),
            key_path: dir.join(key),
        }
    }
}

impl TestCerts {
    pub fn create(dir: &Path) -> Self {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=Tributary Test CA",
            ],
        );
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        );
        std::fs::write(
            dir.join("ext.cnf"),
            "subjectAltName=DNS:localhost,DNS:*.example.test,IP:127.0.0.1\n",
        )
        .expect("ext");
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
            ],
        );
        let cert_pem = std::fs::read(dir.join("server.crt")).expect("cert");
        let der = CertificateDer::pem_slice_iter(&cert_pem)
            .next()
            .expect("one cert")
            .expect("pem");
        Self {
            ca_pem: std::fs::read_to_string(dir.join("ca.crt")).expect("ca"),
            cert_path: dir.join("server.crt"),
            key_path: dir.join("server.key"),
            server_sha256: tributary::pop3::tls::sha256_fingerprint(der.as_ref()),
        }
    }

    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.cert_path)
            .expect("cert file")
            .collect::<Result<_, _>>()
            .expect("certs");
        let key = PrivateKeyDer::from_pem_file(&self.key_path).expect("key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
        Arc::new(config)
    }
}
