//! One SMTP connection over any byte stream: replies read with deadlines, commands and the
//! dot-stuffed message written with deadlines. Generic over the stream, so the same code
//! runs on TCP, TLS and in-memory test pipes.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::error::{SmtpError, Step};
use super::reply::{Reply, ReplyParser};

/// Bytes read from the socket at a time: replies are short.
const READ_CHUNK: usize = 16 * 1024;

/// Bytes of the message written at a time while dot-stuffing.
const WRITE_CHUNK: usize = 64 * 1024;

/// A command as the debug transcript shows it: AUTH keeps only its mechanism, so an
/// initial response (credentials) never reaches a log.
pub fn transcript_line(line: &str) -> std::borrow::Cow<'_, str> {
    match line.get(..5) {
        Some(verb) if verb.eq_ignore_ascii_case("AUTH ") => {
            let mechanism = line[5..].split(' ').next().unwrap_or_default();
            format!("AUTH {mechanism} ***").into()
        }
        _ => line.into(),
    }
}

#[derive(Debug)]
pub struct Connection<S> {
    stream: S,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    read_idle: Duration,
    deadline: Instant,
    max_line: usize,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub fn new(stream: S, read_idle: Duration, deadline: Instant, max_line: usize) -> Self {
        Self {
            stream,
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            read_idle,
            deadline,
            max_line,
        }
    }

    /// The stream, with anything buffered but unread thrown away (after STARTTLS, bytes
    /// sent before the handshake must not be trusted: RFC 3207 §4.2).
    pub fn into_inner(self) -> S {
        self.stream
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    pub fn read_idle(&self) -> Duration {
        self.read_idle
    }

    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// The earlier of "silent for too long" and the session's end.
    fn until(&self, idle: Duration, step: Step) -> (Instant, Step) {
        let idle = Instant::now() + idle;
        if idle < self.deadline {
            (idle, step)
        } else {
            (self.deadline, Step::Session)
        }
    }

    async fn fill(&mut self, idle: Duration, step: Step) -> Result<(), SmtpError> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let (until, step) = self.until(idle, step);
        let read = tokio::time::timeout_at(until, self.stream.read(&mut self.buf[self.end..]))
            .await
            .map_err(|_| SmtpError::Timeout(step))?
            .map_err(|source| match source.kind() {
                // A TLS peer that hangs up without close_notify has closed all the same.
                std::io::ErrorKind::UnexpectedEof => SmtpError::Closed(step),
                _ => SmtpError::Io { step, source },
            })?;
        if read == 0 {
            return Err(SmtpError::Closed(step));
        }
        self.end += read;
        Ok(())
    }

    async fn read_line(&mut self, idle: Duration, step: Step) -> Result<Vec<u8>, SmtpError> {
        let mut scanned = 0;
        loop {
            let buffered = &self.buf[self.start..self.end];
            if let Some(at) = memchr::memchr(b'\n', &buffered[scanned..]) {
                let at = scanned + at;
                let line = &buffered[..at];
                let line = line.strip_suffix(b"\r").unwrap_or(line).to_vec();
                self.start += at + 1;
                return Ok(line);
            }
            scanned = buffered.len();
            if scanned > self.max_line {
                return Err(SmtpError::LineTooLong(self.max_line));
            }
            self.fill(idle, step).await?;
        }
    }

    /// One whole reply, waiting at most `idle` between bytes.
    pub async fn read_reply_within(
        &mut self,
        idle: Duration,
        step: Step,
    ) -> Result<Reply, SmtpError> {
        let mut parser = ReplyParser::default();
        loop {
            let line = self.read_line(idle, step).await?;
            if let Some(reply) = parser.push(&line)? {
                tracing::debug!("SMTP S: {} {}", reply.code, reply.text());
                return Ok(reply);
            }
        }
    }

    pub async fn read_reply(&mut self, step: Step) -> Result<Reply, SmtpError> {
        self.read_reply_within(self.read_idle, step).await
    }

    /// Writes bytes and flushes, within the idle time.
    pub async fn write_all(&mut self, bytes: &[u8], step: Step) -> Result<(), SmtpError> {
        let (until, step) = self.until(self.read_idle, step);
        let write = async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        };
        tokio::time::timeout_at(until, write)
            .await
            .map_err(|_| SmtpError::Timeout(step))?
            .map_err(|source| SmtpError::Io { step, source })
    }

    /// Sends one command line and reads its reply.
    pub async fn command(&mut self, line: &str, step: Step) -> Result<Reply, SmtpError> {
        tracing::debug!("SMTP C: {}", transcript_line(line));
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.write_all(&bytes, step).await?;
        self.read_reply(step).await
    }

    /// Sends the message, dot-stuffed with CRLF line ends (RFC 5321 §4.5.2), ending with a
    /// line end — everything but the final `.`. Bare LF and bare CR become CRLF, so no
    /// line can end early or hide a dot. Until [`Connection::write_end`] the server cannot
    /// have accepted anything.
    pub async fn write_body(&mut self, message: &[u8]) -> Result<(), SmtpError> {
        let mut chunk = Vec::with_capacity(WRITE_CHUNK + 8);
        let mut at_line_start = true;
        let mut previous_cr = false;
        for &byte in message {
            match byte {
                b'\n' if previous_cr => {}
                b'\r' | b'\n' => {
                    chunk.extend_from_slice(b"\r\n");
                    at_line_start = true;
                }
                _ => {
                    if at_line_start && byte == b'.' {
                        chunk.push(b'.');
                    }
                    chunk.push(byte);
                    at_line_start = false;
                }
            }
            previous_cr = byte == b'\r';
            if chunk.len() >= WRITE_CHUNK {
                self.write_all(&chunk, Step::Message).await?;
                chunk.clear();
            }
        }
        if !at_line_start {
            chunk.extend_from_slice(b"\r\n");
        }
        self.write_all(&chunk, Step::Message).await
    }

    /// The final `.`: from here the server may accept the message.
    pub async fn write_end(&mut self) -> Result<(), SmtpError> {
        self.write_all(b".\r\n", Step::Message).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transcript_never_shows_credentials() {
        assert_eq!(
            transcript_line("AUTH PLAIN AGFubgBzZWNyZXQ="),
            "AUTH PLAIN ***"
        );
        assert_eq!(transcript_line("auth login YW5u"), "AUTH login ***");
        assert_eq!(transcript_line("AUTH PLAIN"), "AUTH PLAIN ***");
        assert_eq!(
            transcript_line("MAIL FROM:<a@example.org>"),
            "MAIL FROM:<a@example.org>"
        );
        assert_eq!(transcript_line("AUTHX"), "AUTHX");
    }

    async fn written(message: &[u8]) -> Vec<u8> {
        let (client, mut server) = tokio::io::duplex(1 << 20);
        let mut conn = Connection::new(
            client,
            Duration::from_secs(5),
            Instant::now() + Duration::from_secs(5),
            1000,
        );
        conn.write_body(message).await.expect("write");
        conn.write_end().await.expect("end");
        drop(conn);
        let mut out = Vec::new();
        server.read_to_end(&mut out).await.expect("read");
        out
    }

    #[tokio::test]
    async fn messages_are_dot_stuffed_with_crlf() {
        assert_eq!(
            written(b"a\r\n.b\r\n..c\r\n").await,
            b"a\r\n..b\r\n...c\r\n.\r\n"
        );
        // A lone "." line in the text would end DATA early; it is doubled.
        assert_eq!(written(b"x\n.\ny").await, b"x\r\n..\r\ny\r\n.\r\n");
        assert_eq!(
            written(b".first\rbare cr").await,
            b"..first\r\nbare cr\r\n.\r\n"
        );
        assert_eq!(written(b"").await, b".\r\n");
    }

    #[tokio::test]
    async fn long_lines_and_silence_end_with_errors() {
        let (client, mut server) = tokio::io::duplex(1 << 20);
        let mut conn = Connection::new(
            client,
            Duration::from_millis(100),
            Instant::now() + Duration::from_secs(5),
            64,
        );
        server
            .write_all(b"250-first line\r\n")
            .await
            .expect("write");
        assert!(matches!(
            conn.read_reply(Step::Command("EHLO")).await,
            Err(SmtpError::Timeout(Step::Command("EHLO")))
        ));
        server.write_all(&[b'2'; 200]).await.expect("write");
        assert!(matches!(
            conn.read_reply(Step::Greeting).await,
            Err(SmtpError::LineTooLong(64))
        ));
    }
}
