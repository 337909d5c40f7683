//! Name resolution through hickory: the system's configuration, or one given DNS server
//! (`TRIBUTARY_DNS_SERVER`, which tests point at a scripted server on loopback).

use std::net::SocketAddr;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;

use super::connector::Resolve;

#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("the system's DNS settings: {0}")]
    System(String),
    #[error("DNS resolver: {0}")]
    Build(String),
}

/// Builds a resolver: the system's configuration, or one given DNS server.
pub fn resolver(server: Option<SocketAddr>) -> Result<TokioResolver, DnsError> {
    let builder = match server {
        Some(address) => {
            let mut name_server = NameServerConfig::udp_and_tcp(address.ip());
            for connection in &mut name_server.connections {
                connection.port = address.port();
            }
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![name_server]),
                TokioRuntimeProvider::default(),
            )
        }
        None => TokioResolver::builder_tokio().map_err(|e| DnsError::System(e.to_string()))?,
    };
    builder.build().map_err(|e| DnsError::Build(e.to_string()))
}

/// Resolves host names for the connector through a [`TokioResolver`] (used when
/// `TRIBUTARY_DNS_SERVER` is set).
#[derive(Debug, Clone)]
pub struct DnsResolve(pub TokioResolver);

impl Resolve for DnsResolve {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> std::pin::Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        Box::pin(async move {
            if let Ok(ip) = host.parse::<std::net::IpAddr>() {
                return Ok(vec![SocketAddr::new(ip, port)]);
            }
            let found =
                self.0.lookup_ip(host).await.map_err(|e| {
                    std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string())
                })?;
            Ok(found.iter().map(|ip| SocketAddr::new(ip, port)).collect())
        })
    }
}
