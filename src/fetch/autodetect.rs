//! Finding a mail domain's POP3 server for the "Add account" wizard.
//!
//! First what the domain announces (RFC 6186 §3.4: `_pop3s._tcp` for implicit TLS before
//! `_pop3._tcp` for STARTTLS; a target of "." means "not offered"), then the usual names
//! `pop.`, `pop3.`, `mail.` on 995 (implicit TLS) and 110 (STARTTLS). A candidate counts only
//! when a POP3 server really answers there over TLS with a certificate we trust — probes go
//! through the same checked connector as fetching, so no private address is ever probed
//! unless the operator allowed it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

use super::FetchError;
use super::connector::{Connector, Resolve};
use crate::pop3::{self, Session, SessionOptions, tls};
use crate::store::accounts::Security;

/// How long one probe may take (connect, TLS, greeting, CAPA).
const PROBE_DEADLINE: Duration = Duration::from_secs(5);
/// SRV answers beyond this many are ignored.
const MAX_SRV_TARGETS: usize = 4;
const MAX_DOMAIN_BYTES: usize = 253;

/// Ports tried on the usual host names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbePorts {
    pub tls: u16,
    pub starttls: u16,
}

impl Default for ProbePorts {
    fn default() -> Self {
        Self {
            tls: 995,
            starttls: 110,
        }
    }
}

/// A server that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// How it was found, in words.
    pub source: &'static str,
}

/// Builds a resolver: the system's configuration, or one given DNS server.
pub fn dns_resolver(server: Option<SocketAddr>) -> Result<TokioResolver, FetchError> {
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
        None => TokioResolver::builder_tokio()
            .map_err(|e| FetchError::Settings(format!("the system's DNS settings: {e}")))?,
    };
    builder
        .build()
        .map_err(|e| FetchError::Settings(format!("DNS resolver: {e}")))
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

#[derive(Debug, Clone)]
pub struct Autodetect {
    resolver: Option<TokioResolver>,
    connector: Connector,
    tls: Arc<rustls::ClientConfig>,
    probe_ports: ProbePorts,
}

impl Autodetect {
    /// `resolver` `None` skips SRV lookups (no usable DNS configuration).
    pub fn new(
        resolver: Option<TokioResolver>,
        connector: Connector,
        trust: &tls::Trust,
    ) -> Result<Self, FetchError> {
        Ok(Self {
            resolver,
            connector,
            tls: tls::client_config(trust)?,
            probe_ports: ProbePorts::default(),
        })
    }

    /// Other ports for the usual names (tests cannot listen on 995 and 110).
    pub fn with_probe_ports(mut self, ports: ProbePorts) -> Self {
        self.probe_ports = ports;
        self
    }

    /// The best server for `domain`, or `None` when nothing answered.
    pub async fn discover(&self, domain: &str) -> Option<Found> {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        let valid = !domain.is_empty()
            && domain.len() <= MAX_DOMAIN_BYTES
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            && !domain.starts_with('.')
            && !domain.contains("..");
        if !valid {
            return None;
        }
        let mut announced = None;
        for (service, security) in [
            ("_pop3s._tcp", Security::Tls),
            ("_pop3._tcp", Security::StartTls),
        ] {
            for (host, port) in self.srv(&format!("{service}.{domain}.")).await {
                if self.probe(&host, port, security).await {
                    return Some(Found {
                        host,
                        port,
                        security,
                        source: "announced by the domain (DNS SRV record)",
                    });
                }
                announced.get_or_insert((host, port, security));
            }
        }
        // What the domain announces is the best guess even when its certificate is not
        // publicly trusted (a self-hosted server): the person can add its CA or pin it.
        if let Some((host, port, security)) = announced {
            return Some(Found {
                host,
                port,
                security,
                source: "announced by the domain (DNS SRV record), but it did not pass a test \
                         with a publicly trusted certificate just now",
            });
        }
        let candidates: Vec<(String, u16, Security)> = ["pop", "pop3", "mail"]
            .iter()
            .flat_map(|prefix| {
                let host = format!("{prefix}.{domain}");
                [
                    (host.clone(), self.probe_ports.tls, Security::Tls),
                    (host, self.probe_ports.starttls, Security::StartTls),
                ]
            })
            .collect();
        // All at once: a name that does not answer must not make the person wait for each.
        let mut probes = tokio::task::JoinSet::new();
        for (index, (host, port, security)) in candidates.iter().cloned().enumerate() {
            let this = self.clone();
            probes.spawn(async move { (index, this.probe(&host, port, security).await) });
        }
        let mut answered = vec![false; candidates.len()];
        while let Some(result) = probes.join_next().await {
            if let Ok((index, true)) = result {
                answered[index] = true;
            }
        }
        candidates
            .into_iter()
            .zip(answered)
            .find(|(_, ok)| *ok)
            .map(|((host, port, security), _)| Found {
                host,
                port,
                security,
                source: "found by trying the usual server names",
            })
    }

    /// SRV targets in the order RFC 2782 asks (priority, then heavier weight first).
    async fn srv(&self, name: &str) -> Vec<(String, u16)> {
        let Some(resolver) = &self.resolver else {
            return Vec::new();
        };
        let Ok(Ok(lookup)) = tokio::time::timeout(PROBE_DEADLINE, resolver.srv_lookup(name)).await
        else {
            return Vec::new();
        };
        let mut records: Vec<(u16, u16, String, u16)> = lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::SRV(srv) => {
                    let target = srv.target.to_ascii();
                    let target = target.trim_end_matches('.').to_owned();
                    // "." means the service is deliberately not offered.
                    (!target.is_empty() && srv.port != 0).then_some((
                        srv.priority,
                        srv.weight,
                        target,
                        srv.port,
                    ))
                }
                _ => None,
            })
            .collect();
        records.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        records
            .into_iter()
            .take(MAX_SRV_TARGETS)
            .map(|(_, _, target, port)| (target, port))
            .collect()
    }

    /// Whether a POP3 server answers at host:port with the given security (TLS verified).
    async fn probe(&self, host: &str, port: u16, security: Security) -> bool {
        let options = SessionOptions {
            security: match security {
                Security::PlaintextDangerous => return false,
                encrypted => encrypted,
            },
            tls: Arc::clone(&self.tls),
            timeouts: pop3::Timeouts::default(),
            limits: pop3::Limits::default(),
            pipelining: false,
        };
        let attempt = async {
            let tcp = self.connector.connect(host, port).await.ok()?;
            Session::start(tcp, host, &options).await.ok()
        };
        matches!(
            tokio::time::timeout(PROBE_DEADLINE, attempt).await,
            Ok(Some(_))
        )
    }
}
