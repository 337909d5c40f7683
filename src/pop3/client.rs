//! A POP3 session with typed states: [`Session<Authorization>`] after the greeting,
//! [`Session<Transaction>`] after a successful login (RFC 1939 §3). Security is settled
//! before a session exists: implicit TLS handshakes first, STARTTLS upgrades (and
//! re-reads CAPA) or fails — credentials never leave unencrypted unless the account
//! chose [`Security::PlaintextDangerous`].

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest as _, Md5};
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::time::Instant;

use super::command::Command;
use super::connection::{BodyEnd, Connection};
use super::error::{Pop3Error, ServerText};
use super::response::{self, Capabilities, Reply};
use super::tls::{self, TlsInfo};
use crate::secret::Secret;

/// The connection's protection and the sign-in method are the shared vocabulary of
/// accounts (`crate::model`), so the client takes exactly what an account stores.
pub use crate::model::{AuthMethod, Security};

/// A user name and password to sign in with (shared with the other client).
pub use crate::secret::Credentials;

/// OAuth 2.0 sign-in, shared with the SMTP client.
pub use crate::sasl::{OAuthMechanism, OAuthToken};

/// Deadlines for one session. Every remote wait has one.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub tls_handshake: Duration,
    /// Longest silence while waiting for bytes.
    pub read_idle: Duration,
    /// The whole session, however busy.
    pub session: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(20),
            tls_handshake: Duration::from_secs(20),
            read_idle: Duration::from_secs(60),
            session: Duration::from_secs(60 * 60),
        }
    }
}

/// Size limits that keep memory bounded whatever the server sends.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest status or list line (RFC 2449 allows 512 octets; some servers send more).
    pub max_line: usize,
    /// Most entries in a LIST or UIDL answer (each held parsed: about 100 bytes).
    pub max_list_entries: usize,
    /// Largest message accepted by RETR; larger ones are dropped while streaming.
    pub max_message_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_line: 8 * 1024,
            max_list_entries: 1_000_000,
            max_message_bytes: 50 * 1024 * 1024,
        }
    }
}

/// Commands kept in flight when the server allows PIPELINING (RFC 2449 §6.6).
pub const PIPELINE_WINDOW: usize = 64;

#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub security: Security,
    pub tls: Arc<ClientConfig>,
    pub timeouts: Timeouts,
    pub limits: Limits,
    /// Use PIPELINING when the server offers it (turn off only to compare).
    pub pipelining: bool,
}

impl SessionOptions {
    pub fn new(security: Security, trust: &tls::Trust) -> Result<Self, Pop3Error> {
        Ok(Self {
            security,
            tls: tls::client_config(trust)?,
            timeouts: Timeouts::default(),
            limits: Limits::default(),
            pipelining: true,
        })
    }
}

pub use crate::tls::{Stream, TLS_READ_BUFFER};

/// Before login: greeting read, CAPA known, TLS settled.
#[derive(Debug)]
pub struct Authorization;
/// After login: the mailbox is open and locked for us.
#[derive(Debug)]
pub struct Transaction;

#[derive(Debug)]
pub struct Session<State, T> {
    conn: Connection<Stream<T>>,
    greeting: ServerText,
    capabilities: Capabilities,
    tls: Option<TlsInfo>,
    security: Security,
    limits: Limits,
    pipelining: bool,
    /// Message bodies requested but not yet read (a pipelined retrieval stopped early).
    unread_bodies: usize,
    _state: PhantomData<State>,
}

fn expect_ok(
    reply: Reply,
    command: &'static str,
    during_login: bool,
    caps: &Capabilities,
) -> Result<ServerText, Pop3Error> {
    match reply {
        Reply::Ok(text) => Ok(text),
        Reply::Err { code, text } => Err(response::error_for(
            command,
            code,
            text,
            during_login,
            caps.login_delay,
        )),
        Reply::Continue(_) => Err(Pop3Error::Protocol(format!(
            "unexpected continuation after {command}"
        ))),
    }
}

/// The TLS handshake, then a fresh connection (empty buffers) over the encrypted stream.
async fn encrypt<T: AsyncRead + AsyncWrite + Unpin>(
    transport: T,
    server_name: &str,
    options: &SessionOptions,
    until: Instant,
    new_conn: impl FnOnce(Stream<T>) -> Connection<Stream<T>>,
) -> Result<(Connection<Stream<T>>, TlsInfo), Pop3Error> {
    let buffered = BufReader::with_capacity(TLS_READ_BUFFER, transport);
    let stream = tls::handshake(buffered, server_name, Arc::clone(&options.tls), until).await?;
    let info = tls::info(&stream);
    Ok((new_conn(Stream::Tls(Box::new(stream))), info))
}

async fn read_greeting<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Connection<S>,
) -> Result<ServerText, Pop3Error> {
    match conn.read_reply().await {
        Ok(Reply::Ok(text)) => Ok(text),
        Ok(Reply::Err { code, text }) => {
            Err(response::error_for("greeting", code, text, false, None))
        }
        Ok(Reply::Continue(_)) => Err(Pop3Error::Protocol("the greeting is not +OK".into())),
        // Nothing at all, or an HTTP/SMTP banner: not a POP3 server.
        Err(Pop3Error::Closed) => Err(Pop3Error::Protocol(
            "the server closed the connection without a greeting".into(),
        )),
        Err(e) => Err(e),
    }
}

async fn read_capabilities<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Connection<S>,
    limits: &Limits,
) -> Result<Capabilities, Pop3Error> {
    match conn.command(&Command::Capa).await? {
        Reply::Ok(_) => {
            let lines = conn.read_list(limits.max_list_entries.min(1000)).await?;
            Ok(Capabilities::parse(lines.iter().map(Vec::as_slice)))
        }
        // RFC 1939-only servers: no capabilities known.
        Reply::Err { .. } => Ok(Capabilities::default()),
        Reply::Continue(_) => Err(Pop3Error::Protocol(
            "unexpected continuation after CAPA".into(),
        )),
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Session<Authorization, T> {
    /// Starts a session over a connected transport: TLS as the options say, greeting, CAPA.
    pub async fn start(
        transport: T,
        server_name: &str,
        options: &SessionOptions,
    ) -> Result<Self, Pop3Error> {
        let deadline = Instant::now() + options.timeouts.session;
        let handshake_until = (Instant::now() + options.timeouts.tls_handshake).min(deadline);
        let new_conn = |stream| {
            Connection::new(
                stream,
                options.timeouts.read_idle,
                deadline,
                options.limits.max_line,
            )
        };
        let (conn, greeting, capabilities, tls_info) = match options.security {
            Security::Tls => {
                let (mut conn, info) =
                    encrypt(transport, server_name, options, handshake_until, new_conn).await?;
                let greeting = read_greeting(&mut conn).await?;
                let caps = read_capabilities(&mut conn, &options.limits).await?;
                (conn, greeting, caps, Some(info))
            }
            Security::PlaintextDangerous => {
                let mut conn = new_conn(Stream::Plain(transport));
                let greeting = read_greeting(&mut conn).await?;
                let caps = read_capabilities(&mut conn, &options.limits).await?;
                (conn, greeting, caps, None)
            }
            Security::StartTls => {
                let mut plain = Connection::new(
                    transport,
                    options.timeouts.read_idle,
                    deadline,
                    options.limits.max_line,
                );
                let greeting = read_greeting(&mut plain).await?;
                let caps = read_capabilities(&mut plain, &options.limits).await?;
                if !caps.stls {
                    return Err(Pop3Error::StartTlsNotOffered);
                }
                match plain.command(&Command::Stls).await? {
                    Reply::Ok(_) => {}
                    Reply::Err { text, .. } => return Err(Pop3Error::StartTlsRefused(text)),
                    Reply::Continue(_) => {
                        return Err(Pop3Error::StartTlsRefused(ServerText::new(
                            b"unexpected continuation",
                        )));
                    }
                }
                // Anything the server sent after +OK and before the handshake is dropped
                // here with the buffer (RFC 2595 §4: an injection attack otherwise).
                let transport = plain.into_inner();
                let handshake_until =
                    (Instant::now() + options.timeouts.tls_handshake).min(deadline);
                let (mut conn, info) =
                    encrypt(transport, server_name, options, handshake_until, new_conn).await?;
                // Capabilities learnt before TLS cannot be trusted (RFC 2595 §4).
                let caps = read_capabilities(&mut conn, &options.limits).await?;
                (conn, greeting, caps, Some(info))
            }
        };
        Ok(Self {
            conn,
            greeting,
            capabilities,
            tls: tls_info,
            security: options.security,
            limits: options.limits,
            pipelining: options.pipelining,
            unread_bodies: 0,
            _state: PhantomData,
        })
    }

    /// Logs in. Consumes the session: after a failure the server expects a new connection.
    pub async fn login(
        mut self,
        credentials: &Credentials,
        method: AuthMethod,
    ) -> Result<Session<Transaction, T>, Pop3Error> {
        if self.tls.is_none() && self.security != Security::PlaintextDangerous {
            return Err(Pop3Error::PlaintextRefused);
        }
        let caps = self.capabilities.clone();
        match method {
            AuthMethod::UserPass => {
                let reply = self
                    .conn
                    .command(&Command::User(&credentials.username))
                    .await?;
                expect_ok(reply, "USER", true, &caps)?;
                let reply = self
                    .conn
                    .command(&Command::Pass(&credentials.password))
                    .await?;
                expect_ok(reply, "PASS", true, &caps)?;
            }
            AuthMethod::Apop => {
                let stamp = response::apop_timestamp(&self.greeting).ok_or(
                    Pop3Error::Unsupported("APOP (no timestamp in the greeting)"),
                )?;
                let mut hasher = Md5::new();
                hasher.update(stamp.as_bytes());
                hasher.update(credentials.password.expose().as_bytes());
                let digest = Secret::new(tls::hex(&hasher.finalize()));
                let reply = self
                    .conn
                    .command(&Command::Apop {
                        user: &credentials.username,
                        digest: digest.expose(),
                    })
                    .await?;
                expect_ok(reply, "APOP", true, &caps)?;
            }
            AuthMethod::SaslPlain => {
                if !caps.has_sasl("PLAIN") && !caps.sasl.is_empty() {
                    return Err(Pop3Error::Unsupported("SASL PLAIN"));
                }
                let mut message = zeroize::Zeroizing::new(Vec::new());
                message.push(0);
                message.extend_from_slice(credentials.username.as_bytes());
                message.push(0);
                message.extend_from_slice(credentials.password.expose().as_bytes());
                let encoded = Secret::new(BASE64.encode(&*message));
                self.sasl(&caps, "PLAIN", &[encoded]).await?;
            }
            AuthMethod::SaslLogin => {
                if !caps.has_sasl("LOGIN") && !caps.sasl.is_empty() {
                    return Err(Pop3Error::Unsupported("SASL LOGIN"));
                }
                let user = Secret::new(BASE64.encode(credentials.username.as_bytes()));
                let password = Secret::new(BASE64.encode(credentials.password.expose().as_bytes()));
                self.sasl(&caps, "LOGIN", &[user, password]).await?;
            }
            // A token, not a password, signs these in: see `login_oauth`.
            AuthMethod::XOAuth2 | AuthMethod::OAuthBearer => {
                return Err(Pop3Error::Unsupported(
                    "an OAuth sign-in with a password (it needs an access token)",
                ));
            }
        }
        Ok(self.into_transaction())
    }

    fn into_transaction(self) -> Session<Transaction, T> {
        Session {
            conn: self.conn,
            greeting: self.greeting,
            capabilities: self.capabilities,
            tls: self.tls,
            security: self.security,
            limits: self.limits,
            pipelining: self.pipelining,
            unread_bodies: 0,
            _state: PhantomData,
        }
    }

    /// Signs in with an OAuth 2.0 access token (the provider's sign-in, not a password).
    /// Always the two-step form — `AUTH <mechanism>`, then the token after the server's
    /// `+` — because Microsoft refuses the one-line initial response. A server that
    /// refuses the token first sends a `+` carrying a JSON error; that is answered as the
    /// mechanism asks (an empty line for XOAUTH2, `%x01` for OAUTHBEARER: RFC 7628
    /// §3.2.3), and the `-ERR` that follows becomes an auth error naming the status.
    pub async fn login_oauth(
        mut self,
        token: &OAuthToken<'_>,
        mechanism: OAuthMechanism,
    ) -> Result<Session<Transaction, T>, Pop3Error> {
        if self.tls.is_none() && self.security != Security::PlaintextDangerous {
            return Err(Pop3Error::PlaintextRefused);
        }
        let caps = self.capabilities.clone();
        let name = mechanism.name();
        if !caps.has_sasl(name) && !caps.sasl.is_empty() {
            return Err(Pop3Error::Unsupported(mechanism.unsupported()));
        }
        let reply = self.conn.command(&Command::Auth(name)).await?;
        match reply {
            Reply::Continue(_) => {}
            other => {
                expect_ok(other, "AUTH", true, &caps)?;
                return Err(Pop3Error::Protocol(format!(
                    "the server accepted AUTH {name} before the token was sent"
                )));
            }
        }
        let response = mechanism.initial_response(token);
        let reply = self
            .conn
            .command(&Command::SaslResponse(response.expose()))
            .await?;
        match reply {
            Reply::Continue(challenge) => {
                let refused = crate::sasl::oauth_error_words(&challenge);
                let reply = self
                    .conn
                    .command(&Command::SaslResponse(mechanism.error_acknowledgement()))
                    .await?;
                let text = match reply {
                    Reply::Err { text, .. } => text,
                    _ => ServerText::default(),
                };
                Err(Pop3Error::Auth(ServerText::new(
                    format!("{} ({refused})", text.as_str()).trim().as_bytes(),
                )))
            }
            other => {
                expect_ok(other, "AUTH", true, &caps)?;
                Ok(self.into_transaction())
            }
        }
    }

    /// RFC 5034: `AUTH mechanism`, then one response per `+` challenge. A place for
    /// XOAUTH2/OAUTHBEARER later: they are one more mechanism with one response.
    async fn sasl(
        &mut self,
        caps: &Capabilities,
        mechanism: &'static str,
        responses: &[Secret],
    ) -> Result<(), Pop3Error> {
        let mut reply = self.conn.command(&Command::Auth(mechanism)).await?;
        let mut next = responses.iter();
        loop {
            match reply {
                Reply::Continue(_) => match next.next() {
                    Some(response) => {
                        reply = self
                            .conn
                            .command(&Command::SaslResponse(response.expose()))
                            .await?
                    }
                    None => {
                        // More challenges than the mechanism has: cancel (RFC 5034 §4).
                        reply = self.conn.command(&Command::SaslResponse("*")).await?;
                        expect_ok(reply, "AUTH", true, caps)?;
                        return Err(Pop3Error::Protocol("unexpected SASL challenge".into()));
                    }
                },
                other => {
                    expect_ok(other, "AUTH", true, caps)?;
                    return Ok(());
                }
            }
        }
    }
}

impl<State, T> Session<State, T> {
    pub fn greeting(&self) -> &ServerText {
        &self.greeting
    }

    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    pub fn tls_info(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }
}

/// How one RETR or TOP ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetrOutcome {
    Complete {
        bytes: u64,
    },
    /// Bigger than the limit: dropped while streaming; the sink holds a partial copy.
    TooLarge {
        limit: u64,
    },
    /// `-ERR` for this message (e.g. deleted by another session).
    Refused(ServerText),
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Session<Transaction, T> {
    fn caps(&self) -> &Capabilities {
        &self.capabilities
    }

    /// Reads and drops what an interrupted pipelined retrieval left in flight.
    async fn settle(&mut self) -> Result<(), Pop3Error> {
        while self.unread_bodies > 0 {
            self.unread_bodies -= 1;
            if let Reply::Ok(_) = self.conn.read_reply().await? {
                let mut discard = std::io::sink();
                self.conn.read_body(&mut discard, u64::MAX).await?;
            }
        }
        Ok(())
    }

    async fn simple(&mut self, command: Command<'_>) -> Result<ServerText, Pop3Error> {
        self.settle().await?;
        let name = command.name();
        let reply = self.conn.command(&command).await?;
        expect_ok(reply, name, false, self.caps())
    }

    /// Message count and total size.
    pub async fn stat(&mut self) -> Result<(u32, u64), Pop3Error> {
        let text = self.simple(Command::Stat).await?;
        let mut words = text.as_str().split_whitespace();
        match (
            words.next().and_then(|w| w.parse().ok()),
            words.next().and_then(|w| w.parse().ok()),
        ) {
            (Some(count), Some(size)) => Ok((count, size)),
            _ => Err(Pop3Error::Protocol(format!(
                "malformed STAT reply {:?}",
                text.as_str()
            ))),
        }
    }

    /// Every message's number and size (sizes are hints).
    pub async fn list(&mut self) -> Result<Vec<(u32, u64)>, Pop3Error> {
        self.simple(Command::List).await?;
        self.conn
            .read_list_with(self.limits.max_list_entries, response::parse_list_entry)
            .await
    }

    /// Every message's number and unique id. `Unsupported` when the server has no UIDL.
    pub async fn uidl(&mut self) -> Result<Vec<(u32, String)>, Pop3Error> {
        match self.simple(Command::Uidl).await {
            Ok(_) => {}
            Err(Pop3Error::Command { .. }) => return Err(Pop3Error::Unsupported("UIDL")),
            Err(e) => return Err(e),
        }
        self.conn
            .read_list_with(self.limits.max_list_entries, response::parse_uidl_entry)
            .await
    }

    /// Streams one message into `sink`.
    pub async fn retr<W: std::io::Write>(
        &mut self,
        message: u32,
        sink: &mut W,
    ) -> Result<RetrOutcome, Pop3Error> {
        let mut retrieval = self.retrieve(vec![message]);
        match retrieval.next_into(sink).await? {
            Some((_, outcome)) => Ok(outcome),
            None => Err(Pop3Error::Protocol("no reply to RETR".into())),
        }
    }

    /// Streams the headers and `lines` body lines of one message into `sink`.
    pub async fn top<W: std::io::Write>(
        &mut self,
        message: u32,
        lines: u32,
        sink: &mut W,
    ) -> Result<RetrOutcome, Pop3Error> {
        self.settle().await?;
        match self.conn.command(&Command::Top { message, lines }).await? {
            Reply::Ok(_) => self.read_body(sink).await,
            Reply::Err { code: None, text }
                if !self.capabilities.top && !self.capabilities.lines.is_empty() =>
            {
                let _ = text;
                Err(Pop3Error::Unsupported("TOP"))
            }
            Reply::Err { code, text } => match code {
                None | Some(response::RespCode::Other(_)) => Ok(RetrOutcome::Refused(text)),
                code => Err(response::error_for(
                    "TOP",
                    code,
                    text,
                    false,
                    self.capabilities.login_delay,
                )),
            },
            Reply::Continue(_) => Err(Pop3Error::Protocol(
                "unexpected continuation after TOP".into(),
            )),
        }
    }

    async fn read_body<W: std::io::Write>(
        &mut self,
        sink: &mut W,
    ) -> Result<RetrOutcome, Pop3Error> {
        match self
            .conn
            .read_body(sink, self.limits.max_message_bytes)
            .await?
        {
            BodyEnd::Complete { bytes } => Ok(RetrOutcome::Complete { bytes }),
            BodyEnd::TooLarge { limit } => Ok(RetrOutcome::TooLarge { limit }),
        }
    }

    /// Retrieves messages in order, pipelined when the server allows it.
    pub fn retrieve(&mut self, messages: Vec<u32>) -> Retrieval<'_, T> {
        let window = if self.pipelining && self.capabilities.pipelining {
            PIPELINE_WINDOW
        } else {
            1
        };
        Retrieval {
            session: self,
            messages,
            sent: 0,
            received: 0,
            window,
        }
    }

    /// Marks messages for deletion (pipelined when allowed). Deletion happens only when
    /// QUIT succeeds. Returns each message's result in order.
    pub async fn dele_many(
        &mut self,
        messages: &[u32],
    ) -> Result<Vec<Result<(), Pop3Error>>, Pop3Error> {
        self.settle().await?;
        let window = if self.pipelining && self.capabilities.pipelining {
            PIPELINE_WINDOW
        } else {
            1
        };
        let mut results = Vec::with_capacity(messages.len());
        for chunk in messages.chunks(window) {
            for message in chunk {
                self.conn.queue(&Command::Dele(*message))?;
            }
            self.conn.flush().await?;
            for _ in chunk {
                let reply = self.conn.read_reply().await?;
                results.push(expect_ok(reply, "DELE", false, &self.capabilities).map(|_| ()));
            }
        }
        Ok(results)
    }

    pub async fn dele(&mut self, message: u32) -> Result<(), Pop3Error> {
        self.simple(Command::Dele(message)).await.map(|_| ())
    }

    pub async fn noop(&mut self) -> Result<(), Pop3Error> {
        self.simple(Command::Noop).await.map(|_| ())
    }

    /// Unmarks every message marked for deletion.
    pub async fn rset(&mut self) -> Result<(), Pop3Error> {
        self.simple(Command::Rset).await.map(|_| ())
    }

    /// Ends the session; deletions take effect only if this returns `Ok` (RFC 1939 §6).
    pub async fn quit(mut self) -> Result<(), Pop3Error> {
        self.simple(Command::Quit).await.map(|_| ())
    }
}

/// A pipelined run of RETR commands; see [`Session::retrieve`].
#[derive(Debug)]
pub struct Retrieval<'s, T> {
    session: &'s mut Session<Transaction, T>,
    messages: Vec<u32>,
    sent: usize,
    received: usize,
    window: usize,
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Retrieval<'_, T> {
    /// Streams the next message into `sink`; `None` when all are done.
    pub async fn next_into<W: std::io::Write>(
        &mut self,
        sink: &mut W,
    ) -> Result<Option<(u32, RetrOutcome)>, Pop3Error> {
        if self.received == self.messages.len() {
            return Ok(None);
        }
        if self.sent == 0 {
            self.session.settle().await?;
        }
        // Refill the window in bursts (once half of it has been answered), so the server
        // gets a few large writes instead of one tiny TLS record per message.
        let in_flight = self.sent - self.received;
        let refill = in_flight == 0 || in_flight <= self.window / 2;
        while refill && self.sent < self.messages.len() && self.sent - self.received < self.window {
            self.session
                .conn
                .queue(&Command::Retr(self.messages[self.sent]))?;
            self.sent += 1;
            self.session.unread_bodies += 1;
        }
        self.session.conn.flush().await?;
        let message = self.messages[self.received];
        self.received += 1;
        self.session.unread_bodies -= 1;
        let outcome = match self.session.conn.read_reply().await? {
            Reply::Ok(_) => self.session.read_body(sink).await?,
            Reply::Err {
                code: None | Some(response::RespCode::Other(_)),
                text,
            } => RetrOutcome::Refused(text),
            Reply::Err { code, text } => {
                return Err(response::error_for(
                    "RETR",
                    code,
                    text,
                    false,
                    self.session.capabilities.login_delay,
                ));
            }
            Reply::Continue(_) => {
                return Err(Pop3Error::Protocol(
                    "unexpected continuation after RETR".into(),
                ));
            }
        };
        Ok(Some((message, outcome)))
    }
}

/// Resolves `host` and starts a session on the first address that accepts, within the
/// connect timeout. For operator tools; the fetch engine connects through its own
/// checked connector and calls [`Session::start`].
pub async fn connect(
    host: &str,
    port: u16,
    options: &SessionOptions,
) -> Result<Session<Authorization, tokio::net::TcpStream>, Pop3Error> {
    let tcp = tokio::time::timeout(
        options.timeouts.connect,
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    .map_err(|_| Pop3Error::Timeout(super::error::Phase::Connect))?
    .map_err(Pop3Error::Connect)?;
    let _ = tcp.set_nodelay(true);
    Session::start(tcp, host, options).await
}
