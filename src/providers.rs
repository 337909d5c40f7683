//! What Tributary knows of the big mail providers without asking DNS: their POP3 and SMTP
//! servers, how they want to be signed in to, how often they may be polled, and the one
//! thing a person must do first. The wizards use it before any DNS lookup or probe.
//!
//! Written from the providers' own help pages (no internet here to check them live);
//! each entry says what it is based on in the README's provider section.

use crate::model::Security;

/// A server: host, port, security.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Server {
    pub host: &'static str,
    pub port: u16,
    pub security: Security,
}

/// How the provider lets a mail program sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// The account's own password.
    Password,
    /// A separate app password (the account password is refused with 2-step sign-in).
    AppPassword,
    /// Only the provider's OAuth 2.0 sign-in (basic authentication is off).
    Microsoft,
    /// An app password, or Google's OAuth 2.0 sign-in.
    Google,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provider {
    pub name: &'static str,
    pub domains: &'static [&'static str],
    /// `None`: the provider offers no POP3 at all.
    pub pop3: Option<Server>,
    pub smtp: Option<Server>,
    pub sign_in: SignIn,
    /// The provider refuses (or locks out) more frequent checks.
    pub min_poll_minutes: Option<u32>,
    /// What the person must do before the first check, in one sentence: its catalogue id
    /// (`advice-…`).
    pub advice: &'static str,
}

const fn tls(host: &'static str, port: u16) -> Option<Server> {
    Some(Server {
        host,
        port,
        security: Security::Tls,
    })
}

const fn starttls(host: &'static str, port: u16) -> Option<Server> {
    Some(Server {
        host,
        port,
        security: Security::StartTls,
    })
}

pub const PROVIDERS: &[Provider] = &[
    Provider {
        name: "Outlook.com",
        domains: &[
            "outlook.com",
            "outlook.fr",
            "hotmail.com",
            "hotmail.fr",
            "hotmail.co.uk",
            "live.com",
            "live.fr",
            "msn.com",
        ],
        pop3: tls("outlook.office365.com", 995),
        smtp: starttls("smtp-mail.outlook.com", 587),
        sign_in: SignIn::Microsoft,
        min_poll_minutes: None,
        advice: "advice-outlook",
    },
    Provider {
        name: "Gmail",
        domains: &["gmail.com", "googlemail.com"],
        pop3: tls("pop.gmail.com", 995),
        smtp: tls("smtp.gmail.com", 465),
        sign_in: SignIn::Google,
        min_poll_minutes: None,
        advice: "advice-gmail",
    },
    Provider {
        name: "Yahoo Mail",
        domains: &[
            "yahoo.com",
            "yahoo.fr",
            "yahoo.co.uk",
            "ymail.com",
            "rocketmail.com",
        ],
        pop3: tls("pop.mail.yahoo.com", 995),
        smtp: tls("smtp.mail.yahoo.com", 465),
        sign_in: SignIn::AppPassword,
        min_poll_minutes: None,
        advice: "advice-yahoo",
    },
    Provider {
        name: "AOL Mail",
        domains: &["aol.com", "aol.fr", "aim.com"],
        pop3: tls("pop.aol.com", 995),
        smtp: tls("smtp.aol.com", 465),
        sign_in: SignIn::AppPassword,
        min_poll_minutes: None,
        advice: "advice-aol",
    },
    Provider {
        name: "GMX",
        domains: &["gmx.de", "gmx.net", "gmx.at", "gmx.ch"],
        pop3: tls("pop.gmx.net", 995),
        smtp: tls("mail.gmx.net", 465),
        sign_in: SignIn::Password,
        min_poll_minutes: None,
        advice: "advice-gmx",
    },
    Provider {
        name: "GMX (international)",
        domains: &["gmx.com", "gmx.fr", "gmx.co.uk", "gmx.us"],
        pop3: tls("pop.gmx.com", 995),
        smtp: tls("mail.gmx.com", 465),
        sign_in: SignIn::Password,
        min_poll_minutes: None,
        advice: "advice-gmx-international",
    },
    Provider {
        name: "WEB.DE",
        domains: &["web.de"],
        pop3: tls("pop3.web.de", 995),
        smtp: starttls("smtp.web.de", 587),
        sign_in: SignIn::Password,
        min_poll_minutes: Some(15),
        advice: "advice-web-de",
    },
    Provider {
        name: "Orange",
        domains: &["orange.fr", "wanadoo.fr"],
        pop3: tls("pop.orange.fr", 995),
        smtp: tls("smtp.orange.fr", 465),
        sign_in: SignIn::Password,
        min_poll_minutes: None,
        advice: "advice-orange",
    },
    Provider {
        name: "Free",
        domains: &["free.fr"],
        pop3: tls("pop.free.fr", 995),
        smtp: tls("smtp.free.fr", 465),
        sign_in: SignIn::Password,
        min_poll_minutes: None,
        advice: "advice-free",
    },
    Provider {
        name: "La Poste",
        domains: &["laposte.net"],
        pop3: tls("pop.laposte.net", 995),
        smtp: tls("smtp.laposte.net", 465),
        sign_in: SignIn::Password,
        min_poll_minutes: None,
        advice: "advice-la-poste",
    },
    Provider {
        name: "iCloud Mail",
        domains: &["icloud.com", "me.com", "mac.com"],
        pop3: None,
        smtp: tls("smtp.mail.me.com", 587),
        sign_in: SignIn::AppPassword,
        min_poll_minutes: None,
        advice: "advice-icloud",
    },
];

/// The provider of an address's domain (`ann@Hotmail.fr` → Outlook.com), if known.
pub fn for_address(address: &str) -> Option<&'static Provider> {
    let domain = address.rsplit_once('@').map_or(address, |(_, d)| d);
    for_domain(domain)
}

/// The provider whose POP3 server this is (`POP3.web.de` → WEB.DE), if known.
pub fn for_pop3_host(host: &str) -> Option<&'static Provider> {
    let host = host.trim().trim_end_matches('.');
    PROVIDERS
        .iter()
        .find(|p| p.pop3.is_some_and(|s| s.host.eq_ignore_ascii_case(host)))
}

pub fn for_domain(domain: &str) -> Option<&'static Provider> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    PROVIDERS
        .iter()
        .find(|p| p.domains.iter().any(|d| *d == domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_find_their_provider_once() {
        assert_eq!(
            for_address("ann@Hotmail.FR").map(|p| p.name),
            Some("Outlook.com")
        );
        assert_eq!(for_domain("googlemail.com.").map(|p| p.name), Some("Gmail"));
        assert_eq!(for_domain("example.org"), None);
        assert!(for_domain("icloud.com").is_some_and(|p| p.pop3.is_none()));
        let mut seen = std::collections::HashSet::new();
        for provider in PROVIDERS {
            for domain in provider.domains {
                assert!(seen.insert(*domain), "{domain} listed twice");
                assert_eq!(*domain, domain.to_ascii_lowercase());
            }
            if let Some(pop3) = provider.pop3 {
                assert_eq!(
                    pop3.security,
                    Security::Tls,
                    "{}: POP3 over TLS",
                    provider.name
                );
            }
        }
    }
}
