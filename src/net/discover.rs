//! Finding a mail domain's server for a protocol, for the wizards.
//!
//! First what Tributary knows of the domain's provider (`crate::providers`), then what the
//! domain announces (RFC 6186 §3.4 / RFC 8314 §5.1: the implicit-TLS
//! service before the STARTTLS one; a target of "." means "not offered"), then the usual
//! names on the implicit-TLS port and the STARTTLS port. A candidate counts only when the
//! protocol's server really answers there over TLS with a certificate we trust — the
//! [`Probe`] says so, and it is handed a connection from the same checked connector as
//! fetching and sending, so no private address is ever probed unless the operator allowed it.

use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RData;
use tokio::net::TcpStream;

use super::connector::Connector;
use crate::model::Security;

/// How long one probe may take (connect, TLS, greeting, capabilities).
pub const PROBE_DEADLINE: Duration = Duration::from_secs(5);
/// SRV answers beyond this many are ignored.
const MAX_SRV_TARGETS: usize = 4;
const MAX_DOMAIN_BYTES: usize = 253;

/// Ports tried on the usual host names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbePorts {
    pub tls: u16,
    pub starttls: u16,
}

/// What to look for: a protocol's SRV services and usual names.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// SRV service labels, implicit TLS first (`_pop3s._tcp`, then `_pop3._tcp`).
    pub srv_tls: &'static str,
    pub srv_starttls: &'static str,
    /// Host name prefixes tried in this order (`pop`, `pop3`, `mail`).
    pub prefixes: &'static [&'static str],
    pub ports: ProbePorts,
    /// The server a known provider of the domain uses (`crate::providers`), taken as it is.
    pub known: fn(&str) -> Option<crate::providers::Server>,
}

/// Proves that a protocol's server answers on a connected socket.
pub trait Probe: Send + Sync + std::fmt::Debug + 'static {
    /// Whether the server at `host` answers over `tcp` with `security` (never plaintext),
    /// its certificate verified.
    fn answers(
        &self,
        tcp: TcpStream,
        host: &str,
        security: Security,
    ) -> impl Future<Output = bool> + Send;
}

/// A server that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// How it was found.
    pub source: FoundBy,
}

/// How a server was found; the web words it in the person's language, the API in English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundBy {
    ProviderList,
    Srv,
    /// The domain's SRV record, though the server failed a test with the web PKI.
    SrvUntested,
    UsualNames,
}

impl FoundBy {
    pub fn describe(self) -> &'static str {
        match self {
            Self::ProviderList => "from Tributary's list of mail providers",
            Self::Srv => "announced by the domain (DNS SRV record)",
            Self::SrvUntested => {
                "announced by the domain (DNS SRV record), but it did not pass a test with a \
                 publicly trusted certificate just now"
            }
            Self::UsualNames => "found by trying the usual server names",
        }
    }
}

#[derive(Debug)]
pub struct Discovery<P> {
    resolver: Option<TokioResolver>,
    connector: Connector,
    plan: Plan,
    probe: Arc<P>,
}

impl<P> Clone for Discovery<P> {
    fn clone(&self) -> Self {
        Self {
            resolver: self.resolver.clone(),
            connector: self.connector.clone(),
            plan: self.plan,
            probe: Arc::clone(&self.probe),
        }
    }
}

/// A domain as typed, checked and lower-cased, or `None` when it cannot be one.
fn clean_domain(domain: &str) -> Option<String> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !domain.is_empty()
        && domain.len() <= MAX_DOMAIN_BYTES
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && !domain.starts_with('.')
        && !domain.contains("..");
    valid.then_some(domain)
}

impl<P: Probe> Discovery<P> {
    /// `resolver` `None` skips SRV lookups (no usable DNS configuration).
    pub fn new(
        resolver: Option<TokioResolver>,
        connector: Connector,
        plan: Plan,
        probe: P,
    ) -> Self {
        Self {
            resolver,
            connector,
            plan,
            probe: Arc::new(probe),
        }
    }

    /// Other ports for the usual names (tests cannot listen on 995, 465, …).
    pub fn with_probe_ports(mut self, ports: ProbePorts) -> Self {
        self.plan.ports = ports;
        self
    }

    /// The best server for `domain`, or `None` when nothing answered.
    pub async fn discover(&self, domain: &str) -> Option<Found> {
        let domain = clean_domain(domain)?;
        if let Some(server) = (self.plan.known)(&domain) {
            return Some(Found {
                host: server.host.to_owned(),
                port: server.port,
                security: server.security,
                source: FoundBy::ProviderList,
            });
        }
        let mut announced = None;
        for (service, security) in [
            (self.plan.srv_tls, Security::Tls),
            (self.plan.srv_starttls, Security::StartTls),
        ] {
            for (host, port) in self.srv(&format!("{service}.{domain}.")).await {
                if self.probe(&host, port, security).await {
                    return Some(Found {
                        host,
                        port,
                        security,
                        source: FoundBy::Srv,
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
                source: FoundBy::SrvUntested,
            });
        }
        let ports = self.plan.ports;
        let candidates: Vec<(String, u16, Security)> = self
            .plan
            .prefixes
            .iter()
            .flat_map(|prefix| {
                let host = format!("{prefix}.{domain}");
                [
                    (host.clone(), ports.tls, Security::Tls),
                    (host, ports.starttls, Security::StartTls),
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
                source: FoundBy::UsualNames,
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

    /// Whether the protocol's server answers at host:port, within the probe deadline.
    async fn probe(&self, host: &str, port: u16, security: Security) -> bool {
        if security == Security::PlaintextDangerous {
            return false;
        }
        let attempt = async {
            let Ok(tcp) = self.connector.connect(host, port).await else {
                return false;
            };
            self.probe.answers(tcp, host, security).await
        };
        tokio::time::timeout(PROBE_DEADLINE, attempt)
            .await
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::clean_domain;

    #[test]
    fn domains_are_checked() {
        assert_eq!(
            clean_domain(" Example.ORG. ").as_deref(),
            Some("example.org")
        );
        for bad in ["", "bad domain!", ".example.org", "a..b", &"a".repeat(254)] {
            assert_eq!(clean_domain(bad), None, "{bad:?}");
        }
    }
}
