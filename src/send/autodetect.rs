//! Finding a mail domain's SMTP submission server for "Send mail as": SRV
//! `_submissions._tcp` then `_submission._tcp` (RFC 6186 §3.1, RFC 8314 §5.1), then
//! `smtp.` and `mail.` on 465 (implicit TLS) and 587 (STARTTLS). The search itself is
//! [`crate::net::discover`]; this is the SMTP probe it runs: greeting, EHLO, TLS verified,
//! then QUIT — no sign-in, nothing sent.

use std::sync::Arc;

use hickory_resolver::TokioResolver;
use tokio::net::TcpStream;

use super::SubmitError;
use crate::model::Security;
use crate::net::Connector;
use crate::net::discover::{Discovery, Plan, Probe, ProbePorts};
use crate::smtp::{self, Session};
use crate::tls::{self, Trust};

pub const SUBMISSION_PLAN: Plan = Plan {
    srv_tls: "_submissions._tcp",
    srv_starttls: "_submission._tcp",
    prefixes: &["smtp", "mail"],
    ports: ProbePorts {
        tls: 465,
        starttls: 587,
    },
    known: |domain| crate::providers::for_domain(domain).and_then(|p| p.smtp),
};

pub type SmtpAutodetect = Discovery<SmtpProbe>;

/// Answers when an SMTP server greets, takes EHLO and (for STARTTLS) upgrades.
#[derive(Debug)]
pub struct SmtpProbe {
    tls: Arc<rustls::ClientConfig>,
}

impl Probe for SmtpProbe {
    async fn answers(&self, tcp: TcpStream, host: &str, security: Security) -> bool {
        let options = smtp::Options {
            security,
            tls: Arc::clone(&self.tls),
            timeouts: smtp::Timeouts::default(),
            // EHLO names the client's domain; the probed host's own domain stands in for
            // the sender's, which is the domain being set up.
            client_name: host
                .split_once('.')
                .map_or(host, |(_, domain)| domain)
                .to_owned(),
        };
        match Session::start(tcp, host, &options).await {
            Ok(session) => {
                session.quit().await;
                true
            }
            Err(_) => false,
        }
    }
}

/// The sending settings' search; `resolver` `None` skips SRV lookups.
pub fn autodetect(
    resolver: Option<TokioResolver>,
    connector: Connector,
    trust: &Trust,
) -> Result<SmtpAutodetect, SubmitError> {
    let probe = SmtpProbe {
        tls: tls::client_config(trust).map_err(smtp::SmtpError::from)?,
    };
    Ok(Discovery::new(resolver, connector, SUBMISSION_PLAN, probe))
}
