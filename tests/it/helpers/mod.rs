//! Test helpers: fresh databases, an in-process app on a free port, the CLI binary.

mod app;
pub mod browser;
pub mod canary;
mod certs;
mod cli;
mod courier;
mod db;
mod dovecot;
pub mod fake_dns;
pub mod fake_pop3;
mod fetching;
pub mod oauth_server;
mod pg_counter;
mod postfix;
mod postgres;
mod sending;
mod tempdir;
pub mod web;

pub use app::{TestApp, test_key_ring};
pub use certs::{SelfSigned, TestCerts};
pub use cli::{Cli, CliOutput};
pub use courier::{COURIER_USER, Courier};
pub use db::TestDb;
pub use dovecot::Dovecot;
pub use fetching::{
    TestClock, add_server_account, deliver_samples, digests, fetch_now, lease_settings, reload,
    stored_digests, stored_messages, test_fetcher, test_fetcher_on,
};
pub use pg_counter::StatementCounter;
pub use postfix::{LOCAL_DOMAIN, Postfix};
pub use postgres::PrivatePostgres;
pub use sending::{identity_at, message_to, submit_until_settled, test_sending};
pub use tempdir::TempDir;

use tributary::crypto::{KeyRing, Secret};
use tributary::store::accounts::{
    self, Account, AccountSettings, AuthMethod, ImportMode, LeavePolicy, Security,
};
use uuid::Uuid;

/// A user with an email made unique for the test.
pub async fn add_user(db: &TestDb, name: &str) -> tributary::store::users::User {
    let mut conn = db.pool.acquire().await.expect("connection");
    tributary::users::create(
        &mut conn,
        &format!("{name}@example.org"),
        &Secret::new("a long test password"),
        false,
    )
    .await
    .expect("create user")
}

/// An account on a loopback port where nothing listens: should a test's scheduler pick
/// it up, it is refused or fails locally, and no query ever leaves the machine.
pub fn new_account(label: &str) -> AccountSettings {
    AccountSettings {
        label: label.to_owned(),
        color: "#3b6fd4".to_owned(),
        email: format!("{label}@mail.example.org"),
        host: "127.0.0.1".to_owned(),
        port: 9,
        security: Security::Tls,
        auth_method: AuthMethod::UserPass,
        username: format!("{label}@mail.example.org"),
        tls_ca_pem: None,
        tls_pin_sha256: None,
        leave_on_server: LeavePolicy::Keep,
        delete_after_days: None,
        import_mode: ImportMode::All,
        poll_minutes: None,
        max_message_bytes: None,
    }
}

pub async fn add_account(
    db: &TestDb,
    ring: &KeyRing,
    user_id: Uuid,
    label: &str,
    password: &str,
) -> Account {
    let mut conn = db.pool.acquire().await.expect("connection");
    accounts::create(
        &mut conn,
        ring,
        user_id,
        &new_account(label),
        &Secret::new(password),
    )
    .await
    .expect("create account")
}

/// A message with CRLF line endings (as Dovecot serves it), dot lines and a marker.
pub fn sample_message(i: usize, body_bytes: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Sender {i} <s{i}@example.org>\r\nTo: alice@example.org\r\nSubject: message {i}\r\nMessage-ID: <{i}@example.org>\r\n\r\n.leading dot line {i}\r\n..two dots\r\n"
    )
    .into_bytes();
    let line =
        b"The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnopqrstuvwxyz\r\n";
    while m.len() < body_bytes {
        m.extend_from_slice(line);
    }
    m.extend_from_slice(b"end\r\n");
    m
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Waits until something accepts connections on a loopback port (a server we started).
pub async fn wait_for_port(port: u16, what: &str) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{what} does not listen on {port}");
}

/// Gives a tree to a mail user, as a delivery agent would leave it.
pub fn chown_tree(path: &std::path::Path, uid: u32) {
    let _ = std::os::unix::fs::chown(path, Some(uid), Some(uid));
    if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            chown_tree(&entry.path(), uid);
        }
    }
}

/// Retrieves `numbers` pipelined and checks each message is byte for byte `sent[n - 1]`.
pub async fn retrieve_all_matching(
    session: &mut tributary::pop3::Session<tributary::pop3::Transaction, tokio::net::TcpStream>,
    numbers: Vec<u32>,
    sent: &[Vec<u8>],
) {
    let expected_count = numbers.len();
    let mut retrieval = session.retrieve(numbers);
    let mut got = 0;
    let mut body = Vec::new();
    loop {
        body.clear();
        let Some((n, outcome)) = retrieval.next_into(&mut body).await.expect("retr") else {
            break;
        };
        let expected = &sent[(n - 1) as usize];
        assert_eq!(
            outcome,
            tributary::pop3::RetrOutcome::Complete {
                bytes: expected.len() as u64
            },
            "message {n}"
        );
        assert!(body == *expected, "message {n} differs");
        got += 1;
    }
    assert_eq!(got, expected_count);
}
