//! The OAuth 2.0 clients an administrator registered (`TRIBUTARY_OAUTH_*`): Microsoft,
//! Google, and one provider of their own choosing. Client secrets come from the
//! environment or from a file (`…_FILE`, for Docker secrets) and are never printed.

use std::path::Path;

use zeroize::Zeroizing;

use crate::config::ConfigError;
use crate::providers::{self, SignIn};
use crate::sasl::OAuthMechanism;
use crate::secret::Secret;

pub const MICROSOFT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// POP3 and SMTP on behalf of the person, and a refresh token to keep doing it.
pub const MICROSOFT_SCOPES: &str = "https://outlook.office.com/POP.AccessAsUser.All \
     https://outlook.office.com/SMTP.Send offline_access";
pub const GOOGLE_AUTHORIZE: &str = "https://accounts.google.com/o/oauth2/v2/auth";
pub const GOOGLE_TOKEN: &str = "https://oauth2.googleapis.com/token";
pub const GOOGLE_REVOKE: &str = "https://oauth2.googleapis.com/revoke";
/// Google's one scope for POP3, IMAP and SMTP.
pub const GOOGLE_SCOPES: &str = "https://mail.google.com/";

/// Which registration a client is; stored with each grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Microsoft,
    Google,
    Generic,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Microsoft => "microsoft",
            Self::Google => "google",
            Self::Generic => "generic",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Microsoft, Self::Google, Self::Generic]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// One registered client and the provider's endpoints.
#[derive(Clone)]
pub struct OAuthClient {
    pub kind: ProviderKind,
    /// What the button says: "Sign in with {name}".
    pub name: String,
    pub client_id: String,
    /// `None` for a public client (PKCE alone).
    pub client_secret: Option<Secret>,
    pub authorize_url: String,
    pub token_url: String,
    pub revoke_url: Option<String>,
    pub scopes: String,
    pub mechanism: OAuthMechanism,
    /// Addresses at these domains sign in with this client (the generic provider's list;
    /// Microsoft's and Google's come from `crate::providers`).
    pub domains: Vec<String>,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .finish_non_exhaustive()
    }
}

/// The configured clients (none: sign-in with a provider is not offered).
#[derive(Debug, Clone, Default)]
pub struct OAuthClients {
    clients: Vec<OAuthClient>,
}

impl OAuthClients {
    pub fn new(clients: Vec<OAuthClient>) -> Self {
        Self { clients }
    }

    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    pub fn get(&self, kind: ProviderKind) -> Option<&OAuthClient> {
        self.clients.iter().find(|c| c.kind == kind)
    }

    /// The client that signs in the mailbox `email` on POP3 server `host`, if one is
    /// configured: the generic provider's domains first (an administrator's own choice),
    /// then the big providers by address or by server (Microsoft 365 on a custom domain).
    pub fn for_mailbox(&self, email: &str, host: &str) -> Option<&OAuthClient> {
        let domain = email
            .rsplit_once('@')
            .map(|(_, d)| d.trim().trim_end_matches('.').to_ascii_lowercase())
            .unwrap_or_default();
        if let Some(generic) = self.get(ProviderKind::Generic)
            && generic.domains.contains(&domain)
        {
            return Some(generic);
        }
        let provider =
            providers::for_domain(&domain).or_else(|| providers::for_pop3_host(host.trim()))?;
        match provider.sign_in {
            SignIn::Microsoft => self.get(ProviderKind::Microsoft),
            SignIn::Google => self.get(ProviderKind::Google),
            SignIn::Password | SignIn::AppPassword => None,
        }
    }

    /// Reads `TRIBUTARY_OAUTH_*` through `get` (blank values already removed).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut clients = Vec::new();
        if let Some(client_id) = get("TRIBUTARY_OAUTH_MICROSOFT_CLIENT_ID") {
            let tenant = get("TRIBUTARY_OAUTH_MICROSOFT_TENANT").unwrap_or_else(|| "common".into());
            if !tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.".contains(c))
            {
                return Err(ConfigError::new(
                    "TRIBUTARY_OAUTH_MICROSOFT_TENANT",
                    "expected a tenant id, a domain, or common / organizations / consumers",
                ));
            }
            let authority = match get("TRIBUTARY_OAUTH_MICROSOFT_AUTHORITY") {
                Some(url) => endpoint("TRIBUTARY_OAUTH_MICROSOFT_AUTHORITY", &url)?,
                None => MICROSOFT_AUTHORITY.to_owned(),
            };
            let authority = authority.trim_end_matches('/');
            clients.push(OAuthClient {
                kind: ProviderKind::Microsoft,
                name: "Microsoft".into(),
                client_id: client_id.trim().to_owned(),
                client_secret: secret(get, "TRIBUTARY_OAUTH_MICROSOFT_CLIENT_SECRET")?,
                authorize_url: format!("{authority}/{tenant}/oauth2/v2.0/authorize"),
                token_url: format!("{authority}/{tenant}/oauth2/v2.0/token"),
                // Microsoft's identity platform has no revocation endpoint.
                revoke_url: None,
                scopes: MICROSOFT_SCOPES.into(),
                // Exchange Online's POP3 and SMTP speak XOAUTH2 only.
                mechanism: OAuthMechanism::XOAuth2,
                domains: Vec::new(),
            });
        }
        if let Some(client_id) = get("TRIBUTARY_OAUTH_GOOGLE_CLIENT_ID") {
            clients.push(OAuthClient {
                kind: ProviderKind::Google,
                name: "Google".into(),
                client_id: client_id.trim().to_owned(),
                client_secret: secret(get, "TRIBUTARY_OAUTH_GOOGLE_CLIENT_SECRET")?,
                authorize_url: GOOGLE_AUTHORIZE.into(),
                token_url: GOOGLE_TOKEN.into(),
                revoke_url: Some(GOOGLE_REVOKE.into()),
                scopes: GOOGLE_SCOPES.into(),
                mechanism: OAuthMechanism::XOAuth2,
                domains: Vec::new(),
            });
        }
        if let Some(client_id) = get("TRIBUTARY_OAUTH_GENERIC_CLIENT_ID") {
            let required = |var: &'static str| {
                get(var).ok_or_else(|| {
                    ConfigError::new(var, "needed with TRIBUTARY_OAUTH_GENERIC_CLIENT_ID")
                })
            };
            let authorize_url = endpoint(
                "TRIBUTARY_OAUTH_GENERIC_AUTHORIZE_URL",
                &required("TRIBUTARY_OAUTH_GENERIC_AUTHORIZE_URL")?,
            )?;
            let token_url = endpoint(
                "TRIBUTARY_OAUTH_GENERIC_TOKEN_URL",
                &required("TRIBUTARY_OAUTH_GENERIC_TOKEN_URL")?,
            )?;
            let revoke_url = get("TRIBUTARY_OAUTH_GENERIC_REVOKE_URL")
                .map(|url| endpoint("TRIBUTARY_OAUTH_GENERIC_REVOKE_URL", &url))
                .transpose()?;
            let domains: Vec<String> = required("TRIBUTARY_OAUTH_GENERIC_DOMAINS")?
                .split([',', ' '])
                .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect();
            let mechanism = match get("TRIBUTARY_OAUTH_GENERIC_MECHANISM")
                .map(|m| m.trim().to_ascii_lowercase())
                .as_deref()
            {
                None | Some("xoauth2") => OAuthMechanism::XOAuth2,
                Some("oauthbearer") => OAuthMechanism::OAuthBearer,
                Some(_) => {
                    return Err(ConfigError::new(
                        "TRIBUTARY_OAUTH_GENERIC_MECHANISM",
                        "expected xoauth2 or oauthbearer",
                    ));
                }
            };
            clients.push(OAuthClient {
                kind: ProviderKind::Generic,
                name: get("TRIBUTARY_OAUTH_GENERIC_NAME")
                    .map(|n| n.trim().to_owned())
                    .unwrap_or_else(|| "your provider".into()),
                client_id: client_id.trim().to_owned(),
                client_secret: secret(get, "TRIBUTARY_OAUTH_GENERIC_CLIENT_SECRET")?,
                authorize_url,
                token_url,
                revoke_url,
                scopes: required("TRIBUTARY_OAUTH_GENERIC_SCOPES")?
                    .trim()
                    .to_owned(),
                mechanism,
                domains,
            });
        }
        Ok(Self { clients })
    }
}

/// A client secret from `VAR` or from the file `VAR_FILE` names (Docker secrets).
fn secret(
    get: &dyn Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<Option<Secret>, ConfigError> {
    let file_var: &'static str = match var {
        "TRIBUTARY_OAUTH_MICROSOFT_CLIENT_SECRET" => "TRIBUTARY_OAUTH_MICROSOFT_CLIENT_SECRET_FILE",
        "TRIBUTARY_OAUTH_GOOGLE_CLIENT_SECRET" => "TRIBUTARY_OAUTH_GOOGLE_CLIENT_SECRET_FILE",
        _ => "TRIBUTARY_OAUTH_GENERIC_CLIENT_SECRET_FILE",
    };
    match (get(var), get(file_var)) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            var,
            format!("set either {var} or {file_var}, not both"),
        )),
        (Some(value), None) => Ok(Some(Secret::new(value.trim()))),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(Path::new(path.trim())).map_err(|e| {
                ConfigError::new(
                    file_var,
                    format!("cannot read the file it names: {}", e.kind()),
                )
            })?;
            let text = Zeroizing::new(text);
            let value = text.trim();
            if value.is_empty() {
                return Err(ConfigError::new(file_var, "the file it names is empty"));
            }
            Ok(Some(Secret::new(value)))
        }
        (None, None) => Ok(None),
    }
}

/// An endpoint URL: https, or http to this very machine (a provider running beside
/// Tributary, and the tests' own).
fn endpoint(var: &'static str, text: &str) -> Result<String, ConfigError> {
    let text = text.trim();
    let url =
        url::Url::parse(text).map_err(|_| ConfigError::new(var, "expected an https:// URL"))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(text.to_owned()),
        "http" if loopback => Ok(text.to_owned()),
        _ => Err(ConfigError::new(
            var,
            "expected an https:// URL (http:// only to this machine)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn clients(vars: &[(&str, &str)]) -> Result<OAuthClients, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        OAuthClients::from_lookup(&|name| vars.get(name).cloned())
    }

    #[test]
    fn microsoft_endpoints_follow_the_tenant() {
        let found = clients(&[
            ("TRIBUTARY_OAUTH_MICROSOFT_CLIENT_ID", "abc"),
            (
                "TRIBUTARY_OAUTH_MICROSOFT_TENANT",
                "contoso.onmicrosoft.com",
            ),
        ])
        .expect("valid");
        let microsoft = found.get(ProviderKind::Microsoft).expect("configured");
        assert_eq!(
            microsoft.token_url,
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert!(microsoft.client_secret.is_none());
        // Outlook.com by address, Microsoft 365 on a custom domain by its server.
        assert!(found.for_mailbox("a@hotmail.fr", "").is_some());
        assert!(
            found
                .for_mailbox("a@contoso.com", "outlook.office365.com")
                .is_some()
        );
        assert!(found.for_mailbox("a@gmail.com", "pop.gmail.com").is_none());
        assert!(
            found
                .for_mailbox("a@example.org", "pop.example.org")
                .is_none()
        );
    }

    #[test]
    fn a_bad_setting_names_itself_and_never_the_secret() {
        let error = clients(&[
            ("TRIBUTARY_OAUTH_GOOGLE_CLIENT_ID", "id"),
            ("TRIBUTARY_OAUTH_GOOGLE_CLIENT_SECRET", "s3cr3t-value"),
            ("TRIBUTARY_OAUTH_GOOGLE_CLIENT_SECRET_FILE", "/nonexistent"),
        ])
        .expect_err("both given");
        assert_eq!(error.var, "TRIBUTARY_OAUTH_GOOGLE_CLIENT_SECRET");
        assert!(!error.to_string().contains("s3cr3t"));
        let error = clients(&[
            ("TRIBUTARY_OAUTH_GENERIC_CLIENT_ID", "id"),
            (
                "TRIBUTARY_OAUTH_GENERIC_AUTHORIZE_URL",
                "http://auth.example.org/a",
            ),
        ])
        .expect_err("plain http to another machine");
        assert_eq!(error.var, "TRIBUTARY_OAUTH_GENERIC_AUTHORIZE_URL");
    }

    #[test]
    fn the_generic_provider_signs_in_its_domains() {
        let found = clients(&[
            ("TRIBUTARY_OAUTH_GENERIC_CLIENT_ID", "id"),
            ("TRIBUTARY_OAUTH_GENERIC_NAME", "Example ID"),
            (
                "TRIBUTARY_OAUTH_GENERIC_AUTHORIZE_URL",
                "https://id.example.org/authorize",
            ),
            (
                "TRIBUTARY_OAUTH_GENERIC_TOKEN_URL",
                "http://127.0.0.1:9/token",
            ),
            ("TRIBUTARY_OAUTH_GENERIC_SCOPES", "mail"),
            (
                "TRIBUTARY_OAUTH_GENERIC_DOMAINS",
                "example.org, Example.NET",
            ),
            ("TRIBUTARY_OAUTH_GENERIC_MECHANISM", "OAUTHBEARER"),
        ])
        .expect("valid");
        let client = found
            .for_mailbox("me@example.net", "pop.example.net")
            .expect("by domain");
        assert_eq!(client.name, "Example ID");
        assert_eq!(client.mechanism, OAuthMechanism::OAuthBearer);
        assert!(found.for_mailbox("me@example.com", "").is_none());
    }
}
