//! One POP3 connection over any byte stream: buffered reads with deadlines, line and
//! multi-line readers, and queued writes (for pipelining). Generic over the stream, so
//! the same code runs on TCP, TLS and in-memory test pipes; STLS turns a
//! `Connection<S>` into a `Connection<TlsStream<S>>` (see `client`), dropping any bytes
//! the server sent before the handshake.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::command::Command;
use super::dot::DotDecoder;
use super::error::{Phase, Pop3Error};
use super::response::{Reply, parse_reply};

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 256 * 1024;

/// How a message body read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEnd {
    /// All of it went to the sink.
    Complete { bytes: u64 },
    /// It passed the limit: what came after was read and dropped, the sink holds a
    /// partial copy that the caller must discard.
    TooLarge { limit: u64 },
}

#[derive(Debug)]
pub struct Connection<S> {
    stream: S,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    outgoing: Vec<u8>,
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
            outgoing: Vec::with_capacity(256),
            read_idle,
            deadline,
            max_line,
        }
    }

    /// The stream, with everything buffered but unread thrown away.
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

    fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Reads more bytes from the stream. `Closed` at end of stream.
    async fn fill(&mut self) -> Result<(), Pop3Error> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let idle = Instant::now() + self.read_idle;
        let (until, phase) = if idle < self.deadline {
            (idle, Phase::Read)
        } else {
            (self.deadline, Phase::Session)
        };
        let read = tokio::time::timeout_at(until, self.stream.read(&mut self.buf[self.end..]))
            .await
            .map_err(|_| Pop3Error::Timeout(phase))?
            .map_err(Pop3Error::Io)?;
        if read == 0 {
            return Err(Pop3Error::Closed);
        }
        self.end += read;
        Ok(())
    }

    /// One line without its ending; CRLF and bare LF both end a line.
    pub async fn read_line(&mut self) -> Result<Vec<u8>, Pop3Error> {
        let mut scanned = 0;
        loop {
            if let Some(at) = memchr::memchr(b'\n', &self.buffered()[scanned..]) {
                let at = scanned + at;
                let line = &self.buffered()[..at];
                let line = line.strip_suffix(b"\r").unwrap_or(line).to_vec();
                self.start += at + 1;
                return Ok(line);
            }
            scanned = self.end - self.start;
            if scanned > self.max_line {
                return Err(Pop3Error::LineTooLong(self.max_line));
            }
            self.fill().await?;
        }
    }

    pub async fn read_reply(&mut self) -> Result<Reply, Pop3Error> {
        let line = self.read_line().await?;
        parse_reply(&line)
    }

    /// The lines of a multi-line list (CAPA, LIST, UIDL) up to the lone `.`, unstuffed.
    pub async fn read_list(&mut self, max_entries: usize) -> Result<Vec<Vec<u8>>, Pop3Error> {
        self.read_list_with(max_entries, |line| Ok(line.to_vec()))
            .await
    }

    /// Like [`Connection::read_list`], but turns each line into an entry as it arrives, so
    /// only parsed entries (never raw lines) are held: memory is bounded by `max_entries`
    /// times the size of one entry.
    pub async fn read_list_with<T>(
        &mut self,
        max_entries: usize,
        parse: impl Fn(&[u8]) -> Result<T, Pop3Error>,
    ) -> Result<Vec<T>, Pop3Error> {
        let mut entries = Vec::new();
        loop {
            let line = self.read_line().await?;
            if line == b"." {
                return Ok(entries);
            }
            if entries.len() >= max_entries {
                return Err(Pop3Error::TooManyEntries(max_entries));
            }
            let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
            entries.push(parse(unstuffed)?);
        }
    }

    /// Streams a message body into `sink` until the terminator. Past `limit` bytes the
    /// rest is read and dropped so the connection stays in step with the server. The sink
    /// is synchronous (a `Vec`, or a file in a command-line tool): bytes go straight from
    /// the read buffer into it.
    pub async fn read_body<W: std::io::Write>(
        &mut self,
        sink: &mut W,
        limit: u64,
    ) -> Result<BodyEnd, Pop3Error> {
        let mut decoder = DotDecoder::new();
        let mut bytes: u64 = 0;
        let mut too_large = false;
        let mut write_error = None;
        loop {
            if self.start == self.end {
                self.fill().await?;
            }
            let progress = decoder.decode_with(&self.buf[self.start..self.end], |chunk| {
                bytes += chunk.len() as u64;
                if bytes > limit {
                    too_large = true;
                }
                if !too_large
                    && write_error.is_none()
                    && let Err(e) = sink.write_all(chunk)
                {
                    write_error = Some(e);
                }
            });
            self.start += progress.consumed;
            if let Some(e) = write_error.take() {
                return Err(Pop3Error::Io(e));
            }
            if progress.done {
                return Ok(if too_large {
                    BodyEnd::TooLarge { limit }
                } else {
                    BodyEnd::Complete { bytes }
                });
            }
        }
    }

    /// Queues a command; nothing is sent until [`Connection::flush`].
    pub fn queue(&mut self, command: &Command<'_>) -> Result<(), Pop3Error> {
        command.encode(&mut self.outgoing)
    }

    /// Sends every queued command.
    pub async fn flush(&mut self) -> Result<(), Pop3Error> {
        if self.outgoing.is_empty() {
            return Ok(());
        }
        let until = (Instant::now() + self.read_idle).min(self.deadline);
        let write = async {
            self.stream.write_all(&self.outgoing).await?;
            self.stream.flush().await
        };
        let result = tokio::time::timeout_at(until, write).await;
        // Credentials may sit in this buffer: wipe it whatever happened.
        zeroize::Zeroize::zeroize(&mut self.outgoing);
        self.outgoing.clear();
        result
            .map_err(|_| Pop3Error::Timeout(Phase::Write))?
            .map_err(Pop3Error::Io)
    }

    /// Sends one command and reads its status line.
    pub async fn command(&mut self, command: &Command<'_>) -> Result<Reply, Pop3Error> {
        self.queue(command)?;
        self.flush().await?;
        self.read_reply().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(server_bytes: &'static [u8]) -> Connection<tokio_test_stream::Stream> {
        Connection::new(
            tokio_test_stream::Stream::new(server_bytes),
            Duration::from_secs(5),
            Instant::now() + Duration::from_secs(5),
            64,
        )
    }

    /// A stream that yields fixed bytes one at a time and accepts any write.
    mod tokio_test_stream {
        use std::pin::Pin;
        use std::task::{Context, Poll};
        use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

        pub struct Stream {
            data: &'static [u8],
        }
        impl Stream {
            pub fn new(data: &'static [u8]) -> Self {
                Self { data }
            }
        }
        impl AsyncRead for Stream {
            fn poll_read(
                mut self: Pin<&mut Self>,
                _: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<std::io::Result<()>> {
                if let Some((first, rest)) = self.data.split_first() {
                    buf.put_slice(&[*first]);
                    self.data = rest;
                }
                Poll::Ready(Ok(()))
            }
        }
        impl AsyncWrite for Stream {
            fn poll_write(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<std::io::Result<usize>> {
                Poll::Ready(Ok(buf.len()))
            }
            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
                Poll::Ready(Ok(()))
            }
            fn poll_shutdown(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
            ) -> Poll<std::io::Result<()>> {
                Poll::Ready(Ok(()))
            }
        }
    }

    #[tokio::test]
    async fn lines_lists_and_bodies_from_a_byte_at_a_time() {
        let mut c =
            connection(b"+OK hi\r\nbare\n+OK\r\nA\r\n..B\r\n.\r\n+OK\r\nx\r\n..y\r\n.\r\n-ERR");
        assert_eq!(c.read_line().await.expect("line"), b"+OK hi");
        assert_eq!(c.read_line().await.expect("line"), b"bare");
        assert!(matches!(c.read_reply().await.expect("reply"), Reply::Ok(_)));
        assert_eq!(
            c.read_list(10).await.expect("list"),
            vec![b"A".to_vec(), b".B".to_vec()]
        );
        assert!(matches!(c.read_reply().await.expect("reply"), Reply::Ok(_)));
        let mut sink = Vec::new();
        let end = c.read_body(&mut sink, 1000).await.expect("body");
        assert_eq!(end, BodyEnd::Complete { bytes: 7 });
        assert_eq!(sink, b"x\r\n.y\r\n");
        assert!(matches!(c.read_line().await, Err(Pop3Error::Closed)));
    }

    #[tokio::test]
    async fn long_lines_and_long_lists_are_refused() {
        let mut c = connection(b"+OK aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        assert!(matches!(
            c.read_line().await,
            Err(Pop3Error::LineTooLong(64))
        ));
        let mut c = connection(b"1\r\n2\r\n3\r\n.\r\n");
        assert!(matches!(
            c.read_list(2).await,
            Err(Pop3Error::TooManyEntries(2))
        ));
    }

    #[tokio::test]
    async fn an_oversized_body_is_dropped_but_the_stream_stays_in_step() {
        let mut c = connection(b"0123456789\r\nabc\r\n.\r\n+OK after\r\n");
        let mut sink = Vec::new();
        let end = c.read_body(&mut sink, 5).await.expect("body");
        assert_eq!(end, BodyEnd::TooLarge { limit: 5 });
        // Never more than the limit reaches the sink.
        assert!(sink.len() <= 5, "{sink:?}");
        assert!(
            matches!(c.read_reply().await.expect("next reply"), Reply::Ok(t) if t.as_str() == "after")
        );
    }
}
