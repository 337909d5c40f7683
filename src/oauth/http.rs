//! The one kind of HTTP request Tributary makes: a form POST to a provider's token (or
//! revocation) endpoint, over the same checked connector as the mail protocols and TLS
//! with the web PKI roots. HTTP/1.1 by hyper; one connection per request.

use std::time::Duration;

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use super::OAuthError;
use crate::net::Connector;
use crate::tls::{self, Trust};

/// A token answer is a few kilobytes; more is not a token endpoint.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct FormPoster {
    connector: Connector,
    timeout: Duration,
}

/// What came back: the status and the body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

impl FormPoster {
    pub fn new(connector: Connector, timeout: Duration) -> Self {
        Self { connector, timeout }
    }

    /// POSTs `form` (application/x-www-form-urlencoded) to `url`, within the timeout.
    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> Result<Answer, OAuthError> {
        tokio::time::timeout(self.timeout, self.post_inner(url, form))
            .await
            .map_err(|_| OAuthError::Unreachable("the provider did not answer in time".into()))?
    }

    async fn post_inner(&self, url: &str, form: &[(&str, &str)]) -> Result<Answer, OAuthError> {
        let url = url::Url::parse(url)
            .map_err(|_| OAuthError::Unreachable("the endpoint is not a URL".into()))?;
        let host = url
            .host_str()
            .ok_or_else(|| OAuthError::Unreachable("the endpoint names no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut path = url.path().to_owned();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        let authority = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let request = hyper::Request::post(path)
            .header(hyper::header::HOST, authority)
            .header(
                hyper::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(hyper::header::ACCEPT, "application/json")
            .header(hyper::header::USER_AGENT, "Tributary")
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| OAuthError::Unreachable("the request could not be built".into()))?;
        let tcp = self
            .connector
            .connect(&host, port)
            .await
            .map_err(|e| OAuthError::Unreachable(e.to_string()))?;
        match url.scheme() {
            "https" => {
                let config = tls::client_config(&Trust::WebPki)
                    .map_err(|e| OAuthError::Unreachable(e.to_string()))?;
                let until = tokio::time::Instant::now() + self.timeout;
                let stream = tls::handshake(tcp, &host, config, until)
                    .await
                    .map_err(|e| OAuthError::Unreachable(e.to_string()))?;
                exchange(stream, request).await
            }
            // Configuration allows plain http only to this machine.
            _ => exchange(tcp, request).await,
        }
    }
}

async fn exchange<S>(stream: S, request: hyper::Request<Full<Bytes>>) -> Result<Answer, OAuthError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io_error = |e: hyper::Error| OAuthError::Unreachable(format!("HTTP error: {e}"));
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(io_error)?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let response = sender.send_request(request).await.map_err(io_error);
    let answer = match response {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|_| {
                    OAuthError::Unreachable(
                        "the provider's answer was cut short or too long".into(),
                    )
                })?
                .to_bytes();
            Ok(Answer { status, body })
        }
        Err(e) => Err(e),
    };
    driver.abort();
    answer
}
