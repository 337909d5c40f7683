//! TLS for the mail protocols (POP3 and SMTP submission alike): the trust an account chose
//! (web PKI roots, one custom CA, or one pinned certificate), the rustls client
//! configuration for it, and the handshake. Host names are always verified, except under
//! a pin, which is stricter than a name. Each protocol maps [`TlsError`] into its own error.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite, BufReader, ReadBuf};
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;

/// What went wrong building a TLS configuration or running a handshake.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The account's trust settings cannot be used (bad PEM, no certificate).
    #[error("{0}")]
    Config(String),
    /// The handshake failed: certificate refused, protocol error, connection closed.
    #[error("{0}")]
    Handshake(String),
    #[error("timed out during the TLS handshake")]
    Timeout,
}

/// Which certificates the account accepts.
#[derive(Clone, PartialEq, Eq)]
pub enum Trust {
    /// The web PKI roots (Mozilla's, as shipped by webpki-roots), with host name checks.
    WebPki,
    /// One custom certificate authority (PEM), for self-hosted servers; host names still checked.
    CustomCa(String),
    /// Exactly this certificate (SHA-256 of its DER form), whoever signed it.
    PinnedSha256([u8; 32]),
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::WebPki => f.write_str("WebPki"),
            Self::CustomCa(_) => f.write_str("CustomCa(..)"),
            Self::PinnedSha256(pin) => write!(f, "PinnedSha256({})", hex(pin)),
        }
    }
}

/// Parses a SHA-256 fingerprint written as hex, with or without colons.
pub fn parse_pin(text: &str) -> Result<[u8; 32], String> {
    let digits: String = text
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect();
    let mut pin = [0u8; 32];
    hex::decode_to_slice(&digits, &mut pin)
        .map_err(|_| "a SHA-256 fingerprint is 64 hex digits (colons allowed)".to_owned())?;
    Ok(pin)
}

pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

pub fn sha256_fingerprint(certificate: &[u8]) -> String {
    hex(&Sha256::digest(certificate))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration for one kind of trust.
pub fn client_config(trust: &Trust) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let config = match trust {
        Trust::WebPki => {
            let roots = RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::CustomCa(pem) => {
            let mut roots = RootCertStore::empty();
            for certificate in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let certificate = certificate.map_err(|e| {
                    TlsError::Config(format!("the custom CA is not valid PEM: {e}"))
                })?;
                roots
                    .add(certificate)
                    .map_err(|e| TlsError::Config(format!("the custom CA is not usable: {e}")))?;
            }
            if roots.is_empty() {
                return Err(TlsError::Config(
                    "the custom CA holds no certificate".into(),
                ));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::PinnedSha256(pin) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinVerifier {
                pin: *pin,
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// Accepts exactly one certificate; the handshake signatures are still verified, so the
/// server must hold that certificate's private key.
#[derive(Debug)]
struct PinVerifier {
    pin: [u8; 32],
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let actual: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if crate::secret::constant_time_eq(&actual, &self.pin) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the server's certificate (SHA-256 {}) is not the pinned one",
                hex(&actual)
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// What the handshake settled, for `pop3 probe` and the connection tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    pub version: String,
    pub cipher_suite: String,
    pub certificates: usize,
    pub leaf_sha256: Option<String>,
}

pub fn info<S>(stream: &TlsStream<S>) -> TlsInfo {
    let (_, connection) = stream.get_ref();
    let certificates = connection.peer_certificates().unwrap_or_default();
    TlsInfo {
        version: connection
            .protocol_version()
            .map(|v| format!("{v:?}").replace('_', "."))
            .unwrap_or_default(),
        cipher_suite: connection
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default(),
        certificates: certificates.len(),
        leaf_sha256: certificates.first().map(|c| sha256_fingerprint(c.as_ref())),
    }
}

/// Bytes read from the socket at a time under TLS.
pub const TLS_READ_BUFFER: usize = 256 * 1024;

/// The byte stream under a session: plain until TLS, then TLS.
#[derive(Debug)]
pub enum Stream<T> {
    Plain(T),
    /// TLS over a read buffer: rustls reads 4 KiB at a time, and the buffer turns those
    /// into one system call per [`TLS_READ_BUFFER`] bytes.
    Tls(Box<TlsStream<BufReader<T>>>),
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Runs the TLS handshake over `stream` before `until`.
pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    server_name: &str,
    config: Arc<ClientConfig>,
    until: Instant,
) -> Result<TlsStream<S>, TlsError> {
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|_| TlsError::Config(format!("{server_name:?} is not a valid server name")))?;
    let connector = tokio_rustls::TlsConnector::from(config);
    tokio::time::timeout_at(until, connector.connect(name, stream))
        .await
        .map_err(|_| TlsError::Timeout)?
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                TlsError::Handshake("the server closed the connection during the handshake".into())
            }
            _ => TlsError::Handshake(e.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse() {
        let hex64 = "ab".repeat(32);
        assert_eq!(parse_pin(&hex64).expect("plain"), [0xab; 32]);
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(parse_pin(&colons).expect("colons"), [0xab; 32]);
        assert!(parse_pin("abc").is_err());
        assert!(parse_pin(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn configs_build() {
        client_config(&Trust::WebPki).expect("web pki");
        client_config(&Trust::PinnedSha256([1; 32])).expect("pin");
        assert!(client_config(&Trust::CustomCa("not pem".into())).is_err());
    }
}
