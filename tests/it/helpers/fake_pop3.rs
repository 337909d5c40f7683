//! A scripted line-protocol server (POP3, and SMTP for the sending tests) for the faults
//! real servers will not produce on demand. Each accepted connection plays the script (or
//! the n-th of several); everything the client sent is recorded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
pub enum Step {
    /// Send these bytes.
    Send(Vec<u8>),
    /// Read one line from the client (recorded); fail the script unless it starts with this.
    Expect(&'static str),
    /// Send bytes one at a time, pausing between them.
    Trickle(Vec<u8>, Duration),
    /// Send the same bytes over and over (an endless line or body).
    Flood(Vec<u8>),
    /// Say nothing and keep the connection open.
    Hang,
    /// Close the connection.
    Close,
    /// Upgrade to TLS with the test certificate, then go on.
    StartTls,
    /// Read (and record) an SMTP message up to its lone `.` line.
    ReadData,
}

pub fn send(text: &str) -> Step {
    Step::Send(text.as_bytes().to_vec())
}

pub struct FakePop3 {
    pub port: u16,
    received: Arc<Mutex<Vec<u8>>>,
    connections: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FakePop3 {
    pub async fn start(script: Vec<Step>) -> Self {
        Self::start_with_tls(script, None).await
    }

    pub async fn start_with_tls(script: Vec<Step>, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        Self::start_scripts(vec![script], tls).await
    }

    /// Connection n plays `scripts[n]`; the last script repeats for later connections.
    pub async fn start_scripts(
        scripts: Vec<Vec<Step>>,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let script = scripts[n.min(scripts.len() - 1)].clone();
                let log = Arc::clone(&log);
                let tls = tls.clone();
                tokio::spawn(async move {
                    let _ = play(socket, &script, &log, tls).await;
                });
            }
        });
        Self {
            port,
            received,
            connections,
            task,
        }
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Everything clients sent so far, as text.
    pub fn received(&self) -> String {
        String::from_utf8_lossy(&self.received.lock().expect("lock")).into_owned()
    }
}

impl Drop for FakePop3 {
    fn drop(&mut self) {
        self.task.abort();
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

async fn play(
    socket: tokio::net::TcpStream,
    script: &[Step],
    log: &Mutex<Vec<u8>>,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> std::io::Result<()> {
    let mut stream: BufReader<Box<dyn Io>> = BufReader::new(Box::new(socket));
    for step in script {
        match step {
            Step::Send(bytes) => stream.get_mut().write_all(bytes).await?,
            Step::Expect(prefix) => {
                let mut line = Vec::new();
                stream.read_until(b'\n', &mut line).await?;
                log.lock().expect("lock").extend_from_slice(&line);
                if !line.starts_with(prefix.as_bytes()) {
                    return Ok(());
                }
            }
            Step::Trickle(bytes, pause) => {
                for byte in bytes {
                    stream.get_mut().write_all(&[*byte]).await?;
                    tokio::time::sleep(*pause).await;
                }
            }
            Step::Flood(bytes) => loop {
                stream.get_mut().write_all(bytes).await?;
            },
            Step::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            Step::Close => return Ok(()),
            Step::ReadData => loop {
                let mut line = Vec::new();
                if stream.read_until(b'\n', &mut line).await? == 0 {
                    return Ok(());
                }
                log.lock().expect("lock").extend_from_slice(&line);
                if line == b".\r\n" {
                    break;
                }
            },
            Step::StartTls => {
                let config = tls.clone().expect("a TLS config for StartTls");
                let inner = stream.into_inner();
                let acceptor = tokio_rustls::TlsAcceptor::from(config);
                let upgraded = acceptor.accept(inner).await?;
                stream = BufReader::new(Box::new(upgraded));
            }
        }
    }
    // Script over: keep reading (and recording) until the client leaves.
    let mut rest = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut rest).await;
    log.lock().expect("lock").extend_from_slice(&rest);
    Ok(())
}
