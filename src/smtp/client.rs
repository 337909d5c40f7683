//! One SMTP submission session. Security is settled before anything else: implicit TLS
//! handshakes first; STARTTLS is required when chosen (a server that does not offer it,
//! or a reply stripped of it, ends the session before AUTH); credentials never leave
//! unencrypted unless the account chose [`Security::PlaintextDangerous`].

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::time::Instant;

use super::connection::Connection;
use super::error::{SendError, SmtpError, Step};
use super::reply::{Extensions, Reply};
use crate::i18n::Text;
use crate::sasl::{OAuthMechanism, OAuthToken};
use crate::secret::Secret;
use crate::server_text::ServerText;
use crate::tls::{self, Stream, TLS_READ_BUFFER, TlsInfo};

/// The connection's protection and the sign-in method are the shared vocabulary of
/// accounts (`crate::model`).
pub use crate::model::{Security, SmtpAuth};

/// A user name and password to sign in with (shared with the other client).
pub use crate::secret::Credentials;

/// Deadlines for one session, after RFC 5321 §4.5.3.2 (which asks for minutes: a busy
/// server may scan the message before it answers the final dot).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub tls_handshake: Duration,
    /// Longest silence while waiting for a reply or writing.
    pub command: Duration,
    /// Longest wait for the answer to the final dot.
    pub final_reply: Duration,
    /// The whole session, however busy.
    pub session: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(20),
            tls_handshake: Duration::from_secs(20),
            command: Duration::from_secs(120),
            final_reply: Duration::from_secs(600),
            session: Duration::from_secs(30 * 60),
        }
    }
}

/// How long QUIT waits for the server's goodbye.
pub const QUIT_WAIT: Duration = Duration::from_secs(2);

/// Longest reply line accepted (RFC 5321 §4.5.3.1.5 says 512; some servers send more).
pub const MAX_LINE: usize = 4 * 1024;

#[derive(Debug, Clone)]
pub struct Options {
    pub security: Security,
    pub tls: Arc<ClientConfig>,
    pub timeouts: Timeouts,
    /// The name given in EHLO: the sending domain, as submission servers expect.
    pub client_name: String,
}

impl Options {
    pub fn new(
        security: Security,
        trust: &tls::Trust,
        client_name: &str,
    ) -> Result<Self, SmtpError> {
        Ok(Self {
            security,
            tls: tls::client_config(trust)?,
            timeouts: Timeouts::default(),
            client_name: ehlo_name(client_name),
        })
    }
}

/// The EHLO argument: a domain of letters, digits, dots and hyphens, else an address
/// literal, so nothing a person typed can reach the command line.
fn ehlo_name(domain: &str) -> String {
    let ascii = idna::domain_to_ascii(domain).unwrap_or_default();
    let clean = !ascii.is_empty()
        && ascii
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if clean {
        ascii
    } else {
        "[127.0.0.1]".to_owned()
    }
}

/// Who the message is from and to, as the server sees it (never the headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub from: String,
    pub to: Vec<String>,
}

/// Refuses what would break a command line: CR, LF, NUL, angle brackets, spaces.
fn envelope_address(address: &str) -> Result<&str, SmtpError> {
    let bad = address.is_empty()
        || address
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>');
    if bad {
        let shown = format!("{:?}", address.chars().take(80).collect::<String>());
        return Err(SmtpError::Invalid(
            Text::new("smtp-bad-envelope").with("address", shown),
        ));
    }
    Ok(address)
}

#[derive(Debug)]
pub struct Session<T> {
    conn: Connection<Stream<T>>,
    greeting: ServerText,
    extensions: Extensions,
    tls: Option<TlsInfo>,
    security: Security,
    timeouts: Timeouts,
    client_name: String,
}

async fn read_greeting<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Connection<S>,
) -> Result<ServerText, SmtpError> {
    let reply = match conn.read_reply(Step::Greeting).await {
        Ok(reply) => reply,
        Err(SmtpError::Closed(_)) => {
            return Err(SmtpError::Protocol(
                "the server closed the connection without a greeting".into(),
            ));
        }
        Err(e) => return Err(e),
    };
    match reply.code {
        220 => Ok(reply.text()),
        code => Err(SmtpError::Rejected {
            command: "the connection",
            code,
            text: reply.text(),
        }),
    }
}

async fn ehlo<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Connection<S>,
    client_name: &str,
) -> Result<Extensions, SmtpError> {
    let reply = conn
        .command(&format!("EHLO {client_name}"), Step::Command("EHLO"))
        .await?;
    if !reply.is_positive() {
        return Err(SmtpError::Rejected {
            command: "EHLO",
            code: reply.code,
            text: reply.text(),
        });
    }
    Ok(Extensions::parse(&reply))
}

fn rejected(command: &'static str, reply: &Reply) -> SmtpError {
    SmtpError::Rejected {
        command,
        code: reply.code,
        text: reply.text(),
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Session<T> {
    /// Starts a session over a connected transport: TLS as the options say, greeting, EHLO.
    pub async fn start(
        transport: T,
        server_name: &str,
        options: &Options,
    ) -> Result<Self, SmtpError> {
        let timeouts = options.timeouts;
        let deadline = Instant::now() + timeouts.session;
        let new_conn = |stream| Connection::new(stream, timeouts.command, deadline, MAX_LINE);
        let encrypt = |transport: T| async move {
            let until = (Instant::now() + timeouts.tls_handshake).min(deadline);
            let buffered = BufReader::with_capacity(TLS_READ_BUFFER, transport);
            let stream =
                tls::handshake(buffered, server_name, Arc::clone(&options.tls), until).await?;
            let info = tls::info(&stream);
            Ok::<_, SmtpError>((Stream::Tls(Box::new(stream)), info))
        };
        let (mut conn, greeting, tls_info) = match options.security {
            Security::Tls => {
                let (stream, info) = encrypt(transport).await?;
                let mut conn = new_conn(stream);
                let greeting = read_greeting(&mut conn).await?;
                (conn, greeting, Some(info))
            }
            Security::PlaintextDangerous => {
                let mut conn = new_conn(Stream::Plain(transport));
                let greeting = read_greeting(&mut conn).await?;
                (conn, greeting, None)
            }
            Security::StartTls => {
                let mut plain = Connection::new(transport, timeouts.command, deadline, MAX_LINE);
                let greeting = read_greeting(&mut plain).await?;
                let extensions = ehlo(&mut plain, &options.client_name).await?;
                if !extensions.starttls {
                    return Err(SmtpError::StartTlsNotOffered);
                }
                let reply = plain.command("STARTTLS", Step::Command("STARTTLS")).await?;
                if reply.code != 220 {
                    return Err(SmtpError::StartTlsRefused(reply.text()));
                }
                let (stream, info) = encrypt(plain.into_inner()).await?;
                (new_conn(stream), greeting, Some(info))
            }
        };
        // After STARTTLS everything learnt before is forgotten and EHLO is asked again
        // (RFC 3207 §4.2).
        let extensions = ehlo(&mut conn, &options.client_name).await?;
        Ok(Self {
            conn,
            greeting,
            extensions,
            tls: tls_info,
            security: options.security,
            timeouts,
            client_name: options.client_name.clone(),
        })
    }

    pub fn greeting(&self) -> &ServerText {
        &self.greeting
    }

    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    pub fn tls(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    /// Signs in. The transcript at debug level shows `AUTH <mechanism> ***` and `***` for
    /// each answer to the server's challenges.
    pub async fn login(
        &mut self,
        credentials: &Credentials,
        method: SmtpAuth,
    ) -> Result<(), SmtpError> {
        if self.tls.is_none() && self.security != Security::PlaintextDangerous {
            return Err(SmtpError::PlaintextRefused);
        }
        let (mechanism, responses) = match method {
            SmtpAuth::Plain => {
                let mut message = zeroize::Zeroizing::new(Vec::new());
                message.push(0);
                message.extend_from_slice(credentials.username.as_bytes());
                message.push(0);
                message.extend_from_slice(credentials.password.expose().as_bytes());
                ("PLAIN", vec![Secret::new(BASE64.encode(&*message))])
            }
            SmtpAuth::Login => (
                "LOGIN",
                vec![
                    Secret::new(BASE64.encode(credentials.username.as_bytes())),
                    Secret::new(BASE64.encode(credentials.password.expose().as_bytes())),
                ],
            ),
        };
        if !self.extensions.has_auth(mechanism) {
            return Err(SmtpError::AuthUnsupported(mechanism));
        }
        let mut reply = self
            .conn
            .command(&format!("AUTH {mechanism}"), Step::Command("AUTH"))
            .await?;
        let mut responses = responses.iter();
        while reply.code == 334 {
            // A challenge with no response left is answered with "*" (cancel).
            let line = match responses.next() {
                Some(response) => zeroize::Zeroizing::new(format!("{}\r\n", response.expose())),
                None => zeroize::Zeroizing::new("*\r\n".to_owned()),
            };
            tracing::debug!("SMTP C: ***");
            self.conn
                .write_all(line.as_bytes(), Step::Command("AUTH"))
                .await?;
            reply = self.conn.read_reply(Step::Command("AUTH")).await?;
        }
        match reply.code {
            235 => Ok(()),
            code => Err(SmtpError::Auth {
                code,
                text: reply.text(),
            }),
        }
    }

    /// Signs in with an OAuth 2.0 access token, in two steps as for POP3: `AUTH
    /// <mechanism>`, the token after the `334`; a refused token first gets a `334` with
    /// the provider's JSON error, answered as the mechanism asks, then the final `5xx`.
    pub async fn login_oauth(
        &mut self,
        token: &OAuthToken<'_>,
        mechanism: OAuthMechanism,
    ) -> Result<(), SmtpError> {
        if self.tls.is_none() && self.security != Security::PlaintextDangerous {
            return Err(SmtpError::PlaintextRefused);
        }
        let name = mechanism.name();
        if !self.extensions.has_auth(name) {
            return Err(SmtpError::AuthUnsupported(name));
        }
        let reply = self
            .conn
            .command(&format!("AUTH {name}"), Step::Command("AUTH"))
            .await?;
        if reply.code != 334 {
            return Err(SmtpError::Auth {
                code: reply.code,
                text: reply.text(),
            });
        }
        let response = mechanism.initial_response(token);
        let line = zeroize::Zeroizing::new(format!("{}\r\n", response.expose()));
        tracing::debug!("SMTP C: ***");
        self.conn
            .write_all(line.as_bytes(), Step::Command("AUTH"))
            .await?;
        let reply = self.conn.read_reply(Step::Command("AUTH")).await?;
        match reply.code {
            235 => Ok(()),
            334 => {
                let challenge = reply.lines.first().cloned().unwrap_or_default();
                let refused = crate::sasl::oauth_error_words(&challenge);
                let ack = format!("{}\r\n", mechanism.error_acknowledgement());
                tracing::debug!("SMTP C: {}", ack.trim_end());
                self.conn
                    .write_all(ack.as_bytes(), Step::Command("AUTH"))
                    .await?;
                let last = self.conn.read_reply(Step::Command("AUTH")).await?;
                Err(SmtpError::Auth {
                    code: last.code,
                    text: ServerText::new(format!("{} ({refused})", last.text()).trim().as_bytes()),
                })
            }
            code => Err(SmtpError::Auth {
                code,
                text: reply.text(),
            }),
        }
    }

    /// MAIL, RCPT for each recipient, DATA. Every recipient must be accepted: a message
    /// that reaches only some of them is worse than one that the person can fix and send
    /// again, so one refused recipient ends the transaction (RSET) before any data.
    pub async fn begin(
        &mut self,
        envelope: &Envelope,
        size: u64,
    ) -> Result<Data<'_, T>, SmtpError> {
        if let Some(limit) = self.extensions.size
            && size > limit
        {
            return Err(SmtpError::TooLarge { size, limit });
        }
        let from = envelope_address(&envelope.from)?;
        if envelope.to.is_empty() {
            return Err(SmtpError::Invalid(Text::new("smtp-no-recipients")));
        }
        let needs_utf8 = !envelope.from.is_ascii() || envelope.to.iter().any(|a| !a.is_ascii());
        if needs_utf8 && !self.extensions.smtputf8 {
            return Err(SmtpError::Invalid(Text::new("smtp-no-smtputf8")));
        }
        let mut mail = format!("MAIL FROM:<{from}>");
        if self.extensions.size.is_some() {
            mail.push_str(&format!(" SIZE={size}"));
        }
        if needs_utf8 {
            mail.push_str(" SMTPUTF8");
        }
        let reply = self.conn.command(&mail, Step::Command("MAIL FROM")).await?;
        if !reply.is_positive() {
            return Err(rejected("MAIL FROM", &reply));
        }
        for recipient in &envelope.to {
            let address = envelope_address(recipient)?;
            let reply = self
                .conn
                .command(&format!("RCPT TO:<{address}>"), Step::Command("RCPT TO"))
                .await?;
            if !reply.is_positive() {
                self.reset().await;
                return Err(SmtpError::RecipientRejected {
                    recipient: address.to_owned(),
                    code: reply.code,
                    text: reply.text(),
                });
            }
        }
        let reply = self.conn.command("DATA", Step::Command("DATA")).await?;
        if reply.code != 354 {
            return Err(rejected("DATA", &reply));
        }
        Ok(Data { session: self })
    }

    /// Ends a transaction without sending; a failure here only means the session is done.
    async fn reset(&mut self) {
        let _ = self.conn.command("RSET", Step::Command("RSET")).await;
    }

    /// Says goodbye; the server's answer does not matter any more, so it is waited for
    /// only briefly (the message's fate is already settled).
    pub async fn quit(mut self) {
        let _ =
            tokio::time::timeout(QUIT_WAIT, self.conn.command("QUIT", Step::Command("QUIT"))).await;
    }

    pub fn client_name(&self) -> &str {
        &self.client_name
    }
}

/// A transaction after `354`: the next bytes are the message.
#[derive(Debug)]
pub struct Data<'a, T> {
    session: &'a mut Session<T>,
}

impl<'a, T: AsyncRead + AsyncWrite + Unpin + Send> Data<'a, T> {
    /// Sends the whole message but the final dot. A failure here means not sent: the
    /// server throws an unfinished message away.
    pub async fn send_body(self, message: &[u8]) -> Result<Body<'a, T>, SmtpError> {
        self.session.conn.write_body(message).await?;
        Ok(Body {
            session: self.session,
        })
    }
}

/// A message on the server but for its final dot.
#[derive(Debug)]
pub struct Body<'a, T> {
    session: &'a mut Session<T>,
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Body<'_, T> {
    /// Sends the final dot and waits for the verdict. Any failure from here is
    /// [`SendError::Unknown`]: the server may already hold the message (RFC 1047).
    pub async fn finish(self) -> Result<ServerText, SendError> {
        let conn = &mut self.session.conn;
        conn.write_end().await.map_err(SendError::Unknown)?;
        let reply = conn
            .read_reply_within(self.session.timeouts.final_reply, Step::FinalReply)
            .await
            .map_err(SendError::Unknown)?;
        if reply.is_positive() {
            Ok(reply.text())
        } else {
            Err(SendError::NotSent(rejected("the message", &reply)))
        }
    }
}
