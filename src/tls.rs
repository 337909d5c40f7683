//! TLS for the mail protocols (POP3 and SMTP submission alike): the trust an account chose
//! (web PKI roots, one custom CA, or one pinned certificate), the rustls client
//! configuration for it, and the handshake. Host names are always verified, except under
//! a pin, which is stricter than a name. Each protocol maps [`TlsError`] into its own error.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, OtherError, RootCertStore,
    SignatureScheme,
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncWrite, BufReader, ReadBuf};
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;

use crate::i18n::{Arg, Text};

/// What went wrong building a TLS configuration or running a handshake.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The account's trust settings cannot be used (bad PEM, no certificate).
    #[error("{0}")]
    Config(Text),
    /// The handshake failed: certificate refused, protocol error, connection closed.
    #[error("{0}")]
    Handshake(Text),
    #[error("{}", Text::new("tls-timeout"))]
    Timeout,
    /// The server's certificate was refused; says why in words and what it was.
    #[error("{}", .0.text)]
    Certificate(Box<CertificateRefused>),
}

impl TlsError {
    /// What went wrong, in words.
    pub fn text(&self) -> Text {
        match self {
            Self::Config(text) | Self::Handshake(text) => text.clone(),
            Self::Timeout => Text::new("tls-timeout"),
            Self::Certificate(refused) => refused.text.clone(),
        }
    }
}

/// A refused server certificate, for the person deciding what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRefused {
    /// What is wrong and what to do, in plain words.
    pub text: Text,
    pub presented: CertificateInfo,
    /// The account pins a certificate and the server now shows another one.
    pub pin_changed: bool,
}

/// A certificate as a person reviews it before trusting it. Fields the parser could not
/// read are empty; the fingerprint is always there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// SHA-256 of the DER form, lower-case hex: what a pin holds.
    pub sha256: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: Option<OffsetDateTime>,
    pub not_after: Option<OffsetDateTime>,
    /// The DNS names and addresses it is valid for.
    pub names: Vec<String>,
}

impl CertificateInfo {
    pub fn read(der: &[u8]) -> Self {
        use x509_cert::der::Decode as _;
        use x509_cert::der::oid::AssociatedOid as _;
        use x509_cert::ext::pkix::SubjectAltName;
        use x509_cert::ext::pkix::name::GeneralName;

        let mut info = Self {
            sha256: sha256_fingerprint(der),
            subject: String::new(),
            issuer: String::new(),
            not_before: None,
            not_after: None,
            names: Vec::new(),
        };
        let Ok(certificate) = x509_cert::Certificate::from_der(der) else {
            return info;
        };
        let tbs = &certificate.tbs_certificate;
        info.subject = tbs.subject.to_string();
        info.issuer = tbs.issuer.to_string();
        let moment = |time: &x509_cert::time::Time| {
            i64::try_from(time.to_unix_duration().as_secs())
                .ok()
                .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        };
        info.not_before = moment(&tbs.validity.not_before);
        info.not_after = moment(&tbs.validity.not_after);
        for extension in tbs.extensions.iter().flatten() {
            if extension.extn_id != SubjectAltName::OID {
                continue;
            }
            let Ok(names) = SubjectAltName::from_der(extension.extn_value.as_bytes()) else {
                continue;
            };
            for name in names.0 {
                match name {
                    GeneralName::DnsName(name) => info.names.push(name.as_str().to_owned()),
                    GeneralName::IpAddress(octets) => {
                        let bytes = octets.as_bytes();
                        if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
                            info.names.push(std::net::Ipv4Addr::from(v4).to_string());
                        } else if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
                            info.names.push(std::net::Ipv6Addr::from(v6).to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        info
    }

    /// `AB:CD:…`, the way browsers and `openssl x509 -fingerprint` show it.
    pub fn fingerprint(&self) -> String {
        self.sha256
            .as_bytes()
            .chunks(2)
            .map(|pair| String::from_utf8_lossy(pair).to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(":")
    }
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
pub fn parse_pin(text: &str) -> Result<[u8; 32], Text> {
    let digits: String = text
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect();
    let mut pin = [0u8; 32];
    hex::decode_to_slice(&digits, &mut pin).map_err(|_| Text::new("tls-pin-malformed"))?;
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
        .map_err(|e| {
            TlsError::Config(Text::new("tls-setup-failed").with("problem", e.to_string()))
        })?;
    let algorithms = provider.signature_verification_algorithms;
    let verifier: Arc<dyn ServerCertVerifier> = match trust {
        Trust::WebPki => {
            let roots = RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            Arc::new(ChainVerifier::new(roots, Vec::new(), &provider)?)
        }
        Trust::CustomCa(pem) => {
            let mut roots = RootCertStore::empty();
            let mut own = Vec::new();
            for certificate in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let certificate = certificate.map_err(|e| {
                    TlsError::Config(Text::new("tls-ca-not-pem").with("problem", e.to_string()))
                })?;
                roots.add(certificate.clone()).map_err(|e| {
                    TlsError::Config(Text::new("tls-ca-unusable").with("problem", e.to_string()))
                })?;
                own.push(certificate);
            }
            if roots.is_empty() {
                return Err(TlsError::Config(Text::new("tls-ca-empty")));
            }
            Arc::new(ChainVerifier::new(roots, own, &provider)?)
        }
        Trust::PinnedSha256(pin) => Arc::new(PinVerifier {
            pin: *pin,
            algorithms,
        }),
    };
    let config = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The handshake's signatures, checked with the provider's algorithms (`self.algorithms`):
/// the same for every verifier here, whatever it decides about the certificate.
macro_rules! handshake_signatures_checked_with_algorithms {
    () => {
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
    };
}

/// Why a certificate was refused, carried through rustls (inside its `Other` error) to
/// [`handshake`], which turns it into [`CertificateRefused`] with the certificate itself.
#[derive(Debug)]
struct Refusal {
    cause: Cause,
    presented: CertificateDer<'static>,
}

#[derive(Debug)]
enum Cause {
    Verifier(rustls::Error),
    PinChanged,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cause {
            Cause::Verifier(error) => error.fmt(f),
            Cause::PinChanged => f.write_str("the certificate is not the pinned one"),
        }
    }
}

impl std::error::Error for Refusal {}

fn refuse(cause: Cause, presented: &CertificateDer<'_>) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(Refusal {
        cause,
        presented: presented.clone().into_owned(),
    }))))
}

/// The chain to a root, with host names checked — and, for a custom CA, the server's own
/// self-signed certificate accepted when it is exactly one of the trusted ones: it is then
/// a pin that also checks the host name and the validity dates. (`openssl req -x509` marks
/// its certificates as CAs, which a chain check refuses as a server's own certificate.)
#[derive(Debug)]
struct ChainVerifier {
    chain: Arc<WebPkiServerVerifier>,
    own: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ChainVerifier {
    fn new(
        roots: RootCertStore,
        own: Vec<CertificateDer<'static>>,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Self, TlsError> {
        let chain =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider))
                .build()
                .map_err(|e| {
                    TlsError::Config(Text::new("tls-trust-unusable").with("problem", e.to_string()))
                })?;
        Ok(Self {
            chain,
            own,
            algorithms: provider.signature_verification_algorithms,
        })
    }

    fn accept_exact(
        end_entity: &CertificateDer<'_>,
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, server_name)?;
        let info = CertificateInfo::read(end_entity.as_ref());
        let now_secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        let unix = |time: OffsetDateTime| {
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(
                u64::try_from(time.unix_timestamp()).unwrap_or(0),
            ))
        };
        if let Some(not_after) = info.not_after
            && now_secs > not_after.unix_timestamp()
        {
            return Err(CertificateError::ExpiredContext {
                time: now,
                not_after: unix(not_after),
            }
            .into());
        }
        if let Some(not_before) = info.not_before
            && now_secs < not_before.unix_timestamp()
        {
            return Err(CertificateError::NotValidYetContext {
                time: now,
                not_before: unix(not_before),
            }
            .into());
        }
        Ok(ServerCertVerified::assertion())
    }
}

impl ServerCertVerifier for ChainVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let checked = match self.chain.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(_) if self.own.iter().any(|own| own == end_entity) => {
                Self::accept_exact(end_entity, server_name, now)
            }
            checked => checked,
        };
        checked.map_err(|error| refuse(Cause::Verifier(error), end_entity))
    }

    handshake_signatures_checked_with_algorithms!();
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
            Err(refuse(Cause::PinChanged, end_entity))
        }
    }

    handshake_signatures_checked_with_algorithms!();
}

/// A day as people read it in an error message (ISO 8601 reads the same in every
/// language).
fn day(time: UnixTime) -> Arg {
    i64::try_from(time.as_secs())
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        .map_or_else(
            || Text::new("date-unknown").into(),
            |t| format!("{}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()).into(),
        )
}

/// What is wrong with a refused certificate and what to do, in plain words.
fn describe_refusal(cause: &Cause, server_name: &str, info: &CertificateInfo) -> Text {
    let error = match cause {
        Cause::PinChanged => {
            return Text::new("cert-pin-changed").with("fingerprint", info.fingerprint());
        }
        Cause::Verifier(error) => error,
    };
    let rustls::Error::InvalidCertificate(error) = error else {
        return Text::new("cert-refused").with("problem", error.to_string());
    };
    let host = |id| Text::new(id).with("host", server_name);
    match error {
        CertificateError::UnknownIssuer => Text::new("cert-untrusted"),
        // What a chain check says of a self-signed certificate that OpenSSL marked as a CA
        // (`openssl req -x509` does): to a person it is the same problem.
        CertificateError::Other(other) if other.to_string().contains("CaUsedAsEndEntity") => {
            Text::new("cert-untrusted")
        }
        CertificateError::NotValidForName => host("cert-wrong-name"),
        CertificateError::NotValidForNameContext { .. } if !info.names.is_empty() => {
            host("cert-names-other").with("names", info.names.join(", "))
        }
        CertificateError::NotValidForNameContext { .. } => host("cert-no-names"),
        CertificateError::ExpiredContext { not_after, .. } => {
            Text::new("cert-expired-on").with("date", day(*not_after))
        }
        CertificateError::Expired => Text::new("cert-expired"),
        CertificateError::NotValidYetContext { not_before, .. } => {
            Text::new("cert-not-yet-from").with("date", day(*not_before))
        }
        CertificateError::NotValidYet => Text::new("cert-not-yet"),
        CertificateError::Revoked => Text::new("cert-revoked"),
        CertificateError::BadSignature => Text::new("cert-bad-signature"),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            Text::new("cert-not-for-server")
        }
        CertificateError::BadEncoding => Text::new("cert-unreadable"),
        other => Text::new("cert-refused").with("problem", other.to_string()),
    }
}

/// A handshake failure that is not about the certificate, in plain words.
fn describe_handshake(error: &rustls::Error) -> Text {
    match error {
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. } => Text::new("tls-not-tls"),
        rustls::Error::PeerIncompatible(_)
        | rustls::Error::AlertReceived(
            rustls::AlertDescription::HandshakeFailure | rustls::AlertDescription::ProtocolVersion,
        ) => Text::new("tls-no-common-version"),
        other => Text::new("tls-failed").with("problem", other.to_string()),
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
    let name = ServerName::try_from(server_name.to_owned()).map_err(|_| {
        TlsError::Config(Text::new("tls-bad-server-name").with("host", server_name))
    })?;
    let connector = tokio_rustls::TlsConnector::from(config);
    tokio::time::timeout_at(until, connector.connect(name, stream))
        .await
        .map_err(|_| TlsError::Timeout)?
        .map_err(|e| handshake_error(&e, server_name))
}

fn handshake_error(error: &std::io::Error, server_name: &str) -> TlsError {
    if error.kind() == std::io::ErrorKind::UnexpectedEof {
        return TlsError::Handshake(Text::new("tls-closed"));
    }
    let Some(tls) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return TlsError::Handshake(crate::i18n::io_text(error));
    };
    if let rustls::Error::InvalidCertificate(CertificateError::Other(other)) = tls
        && let Some(refusal) = other.0.downcast_ref::<Refusal>()
    {
        let presented = CertificateInfo::read(refusal.presented.as_ref());
        return TlsError::Certificate(Box::new(CertificateRefused {
            text: describe_refusal(&refusal.cause, server_name, &presented),
            pin_changed: matches!(refusal.cause, Cause::PinChanged),
            presented,
        }));
    }
    TlsError::Handshake(describe_handshake(tls))
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
    fn refusals_say_what_is_wrong_in_words() {
        let info = CertificateInfo {
            sha256: "ab".repeat(32),
            subject: "CN=mail.example.net".into(),
            issuer: "CN=mail.example.net".into(),
            not_before: None,
            not_after: None,
            names: vec!["mail.example.net".into()],
        };
        let day = |secs: u64| UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs));
        let said = |error: CertificateError| {
            describe_refusal(&Cause::Verifier(error.into()), "pop.example.org", &info).english()
        };
        assert!(
            said(CertificateError::ExpiredContext {
                time: day(1_767_398_400),
                not_after: day(1_767_225_600),
            })
            .contains("expired on 2026-01-01"),
        );
        assert!(
            said(CertificateError::NotValidYetContext {
                time: day(1_767_225_600),
                not_before: day(1_767_398_400),
            })
            .contains("only valid from 2026-01-03 — check the clock"),
        );
        assert!(
            said(CertificateError::NotValidForNameContext {
                expected: ServerName::try_from("pop.example.org").expect("name"),
                presented: vec!["DnsName(\"mail.example.net\")".into()],
            })
            .starts_with("the certificate is for mail.example.net, not pop.example.org")
        );
        assert!(said(CertificateError::UnknownIssuer).contains("trust it by its fingerprint"));
        assert!(said(CertificateError::Revoked).contains("revoked"));
        let changed = describe_refusal(&Cause::PinChanged, "pop.example.org", &info);
        let french =
            crate::i18n::Locale::new(crate::i18n::Lang::Fr, crate::i18n::Zone::utc()).say(&changed);
        assert!(
            french.contains("le certificat du serveur a changé"),
            "{french}"
        );
        assert!(french.contains(&info.fingerprint()), "{french}");
        let changed = changed.english();
        assert!(changed.contains("certificate changed"), "{changed}");
        assert!(changed.contains(&info.fingerprint()), "{changed}");
        assert!(info.fingerprint().starts_with("AB:AB:"));
    }

    #[test]
    fn configs_build() {
        client_config(&Trust::WebPki).expect("web pki");
        client_config(&Trust::PinnedSha256([1; 32])).expect("pin");
        assert!(client_config(&Trust::CustomCa("not pem".into())).is_err());
    }
}
