//! TLS as the POP3 layer sees it: the shared trust and handshake of [`crate::tls`], with
//! their failures in POP3's own error type.

use std::sync::Arc;

use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;

pub use crate::tls::{TlsInfo, Trust, hex, info, parse_pin, sha256_fingerprint};

use super::error::Pop3Error;

pub fn client_config(trust: &Trust) -> Result<Arc<ClientConfig>, Pop3Error> {
    Ok(crate::tls::client_config(trust)?)
}

pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    server_name: &str,
    config: Arc<ClientConfig>,
    until: Instant,
) -> Result<TlsStream<S>, Pop3Error> {
    Ok(crate::tls::handshake(stream, server_name, config, until).await?)
}
