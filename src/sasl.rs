//! What the POP3 and SMTP clients share of SASL: the OAuth 2.0 bearer-token mechanisms
//! (XOAUTH2, and OAUTHBEARER from RFC 7628) — the client's message and the provider's
//! JSON error in words. A leaf: it knows nothing of either protocol's framing.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::secret::Secret;

/// An OAuth 2.0 access token for one mailbox, and where it is presented (OAUTHBEARER
/// names the host and port).
#[derive(Debug)]
pub struct OAuthToken<'a> {
    pub username: &'a str,
    pub access_token: &'a Secret,
    pub host: &'a str,
    pub port: u16,
}

/// The two SASL mechanisms that carry an OAuth 2.0 bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthMechanism {
    /// Google's and Microsoft's own, `user=…^Aauth=Bearer …^A^A`.
    XOAuth2,
    /// RFC 7628, with a GS2 header naming the user.
    OAuthBearer,
}

impl OAuthMechanism {
    pub fn name(self) -> &'static str {
        match self {
            Self::XOAuth2 => "XOAUTH2",
            Self::OAuthBearer => "OAUTHBEARER",
        }
    }

    pub fn unsupported(self) -> &'static str {
        match self {
            Self::XOAuth2 => "SASL XOAUTH2",
            Self::OAuthBearer => "SASL OAUTHBEARER",
        }
    }

    /// The client's response carrying the token, base64-encoded.
    pub fn initial_response(self, token: &OAuthToken<'_>) -> Secret {
        let bearer = token.access_token.expose();
        let message = zeroize::Zeroizing::new(match self {
            Self::XOAuth2 => format!("user={}\x01auth=Bearer {bearer}\x01\x01", token.username),
            // RFC 7628 §3.1: a "," or "=" in the user name is escaped as in RFC 5801.
            Self::OAuthBearer => format!(
                "n,a={},\x01host={}\x01port={}\x01auth=Bearer {bearer}\x01\x01",
                token.username.replace('=', "=3D").replace(',', "=2C"),
                token.host,
                token.port
            ),
        });
        Secret::new(BASE64.encode(message.as_bytes()))
    }

    /// What answers the server's error challenge so that it sends its final `-ERR`.
    pub fn error_acknowledgement(self) -> &'static str {
        match self {
            Self::XOAuth2 => "",
            // base64 of the single byte %x01.
            Self::OAuthBearer => "AQ==",
        }
    }
}

/// The provider's JSON error (base64 in the `+` line) in words: `{"status":"401", …}`.
pub fn oauth_error_words(challenge: &[u8]) -> String {
    let status = BASE64
        .decode(challenge)
        .ok()
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .and_then(|error| {
            error
                .get("status")
                .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_owned))
        });
    match status {
        Some(status) => format!(
            "the access token was refused, status {}",
            status
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .take(16)
                .collect::<String>()
        ),
        None => "the access token was refused".to_owned(),
    }
}
