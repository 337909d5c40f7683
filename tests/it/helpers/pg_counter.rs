//! A loopback proxy in front of the test PostgreSQL that counts the statements its
//! clients execute (the protocol's Execute and Query messages), so a test can hold the
//! engine to a number of statements per run. Everything is forwarded unchanged.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::TestDb;

pub struct StatementCounter {
    executed: Arc<AtomicU64>,
    accept: JoinHandle<()>,
    port: u16,
}

impl StatementCounter {
    /// Starts the proxy on a free loopback port, forwarding to the test database's server.
    pub async fn start(db: &TestDb) -> Self {
        let upstream = PgConnectOptions::from_str(&db.url).expect("test database URL");
        let target = format!("{}:{}", upstream.get_host(), upstream.get_port());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let executed = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&executed);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&target).await else {
                    continue;
                };
                tokio::spawn(forward(client, server, Arc::clone(&counter)));
            }
        });
        Self {
            executed,
            accept,
            port,
        }
    }

    /// A pool of `connections` to the test database, through the proxy.
    pub async fn pool(&self, db: &TestDb, connections: u32) -> PgPool {
        let options = PgConnectOptions::from_str(&db.url)
            .expect("test database URL")
            .host("127.0.0.1")
            .port(self.port)
            // The proxy reads the client's messages, so they must not be encrypted.
            .ssl_mode(PgSslMode::Disable);
        PgPoolOptions::new()
            .max_connections(connections)
            .connect_with(options)
            .await
            .expect("pool through the counting proxy")
    }

    /// Statements executed through the proxy so far.
    pub fn statements(&self) -> u64 {
        self.executed.load(Ordering::SeqCst)
    }
}

impl Drop for StatementCounter {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Copies both ways; reads the client's side message by message to count executions.
async fn forward(mut client: TcpStream, mut server: TcpStream, executed: Arc<AtomicU64>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut client_read, mut client_write) = client.split();
    let (mut server_read, mut server_write) = server.split();
    let upstream = async {
        // The startup message has no type byte: a length, then the rest.
        let mut length = [0u8; 4];
        client_read.read_exact(&mut length).await?;
        let mut startup = vec![0u8; (u32::from_be_bytes(length) as usize).saturating_sub(4)];
        client_read.read_exact(&mut startup).await?;
        server_write.write_all(&length).await?;
        server_write.write_all(&startup).await?;
        loop {
            let mut header = [0u8; 5];
            client_read.read_exact(&mut header).await?;
            let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
            let mut body = vec![0u8; (length as usize).saturating_sub(4)];
            client_read.read_exact(&mut body).await?;
            if matches!(header[0], b'E' | b'Q') {
                executed.fetch_add(1, Ordering::SeqCst);
            }
            server_write.write_all(&header).await?;
            server_write.write_all(&body).await?;
        }
        #[allow(unreachable_code)]
        Ok::<(), std::io::Error>(())
    };
    let downstream = tokio::io::copy(&mut server_read, &mut client_write);
    tokio::select! {
        _ = upstream => {}
        _ = downstream => {}
    }
}
