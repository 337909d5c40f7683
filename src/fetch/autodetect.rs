//! Finding a mail domain's POP3 server for the "Add account" wizard: SRV `_pop3s._tcp`
//! then `_pop3._tcp` (RFC 6186), then `pop.`, `pop3.`, `mail.` on 995 and 110 — the
//! search itself is [`crate::net::discover`]; this is the POP3 probe it runs.

use std::sync::Arc;

use hickory_resolver::TokioResolver;
use tokio::net::TcpStream;

use super::FetchError;
use crate::net::Connector;
use crate::net::discover::{Discovery, Plan, Probe, ProbePorts};
use crate::pop3::{self, Session, SessionOptions, tls};
use crate::store::accounts::Security;

pub use crate::net::discover::Found;

pub const POP3_PLAN: Plan = Plan {
    srv_tls: "_pop3s._tcp",
    srv_starttls: "_pop3._tcp",
    prefixes: &["pop", "pop3", "mail"],
    ports: ProbePorts {
        tls: 995,
        starttls: 110,
    },
    known: |domain| crate::providers::for_domain(domain).and_then(|p| p.pop3),
};

pub type Autodetect = Discovery<Pop3Probe>;

/// Answers when a POP3 greeting (and CAPA/STLS as the security asks) comes back.
#[derive(Debug)]
pub struct Pop3Probe {
    tls: Arc<rustls::ClientConfig>,
}

impl Probe for Pop3Probe {
    async fn answers(&self, tcp: TcpStream, host: &str, security: Security) -> bool {
        let options = SessionOptions {
            security,
            tls: Arc::clone(&self.tls),
            timeouts: pop3::Timeouts::default(),
            limits: pop3::Limits::default(),
            pipelining: false,
        };
        Session::start(tcp, host, &options).await.is_ok()
    }
}

/// The POP3 wizard's search; `resolver` `None` skips SRV lookups.
pub fn autodetect(
    resolver: Option<TokioResolver>,
    connector: Connector,
    trust: &tls::Trust,
) -> Result<Autodetect, FetchError> {
    let probe = Pop3Probe {
        tls: tls::client_config(trust)?,
    };
    Ok(Discovery::new(resolver, connector, POP3_PLAN, probe))
}
