//! Running the fetch engine from tests: a fetcher on the test database, accounts that
//! point at the test's own servers, and a clock the test can move.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tributary::crypto::{KeyRing, Keys, Secret};
use tributary::fetch::worker::LeaseSettings;
use tributary::fetch::{Clock, FetchOutcome, Fetcher, fetch_account};
use tributary::net::Connector;
use tributary::store::accounts::{self, Account, AccountSettings, Security};
use tributary::store::fetch::Trigger;
use uuid::Uuid;

use super::{TestDb, new_account};

/// A clock that stands still until the test moves it.
#[derive(Debug)]
pub struct TestClock(Mutex<OffsetDateTime>);

impl TestClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(OffsetDateTime::now_utc())))
    }

    pub fn advance(&self, by: time::Duration) {
        let mut now = self.0.lock().expect("clock");
        *now += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("clock")
    }
}

/// A fetcher allowed to reach loopback (the test servers), with short deadlines.
pub fn test_fetcher(db: &TestDb, ring: &KeyRing) -> Fetcher {
    test_fetcher_on(db.pool.clone(), ring)
}

/// As [`test_fetcher`], on another pool to the test database.
pub fn test_fetcher_on(pool: sqlx::PgPool, ring: &KeyRing) -> Fetcher {
    let mut fetcher = Fetcher::new(
        pool,
        Arc::new(Keys::fixed(ring.clone())),
        Connector::new(true, Duration::from_secs(5)),
        50 * 1024 * 1024,
    )
    .expect("fetcher");
    fetcher.timeouts.read_idle = Duration::from_secs(5);
    fetcher.timeouts.session = Duration::from_secs(120);
    fetcher
}

pub fn lease_settings() -> LeaseSettings {
    LeaseSettings {
        owner: format!("test-{}", Uuid::new_v4()),
        lease: Duration::from_secs(30),
        poll_floor: Duration::from_secs(120),
    }
}

/// An account on a loopback server, adjusted by `tweak`.
pub async fn add_server_account(
    db: &TestDb,
    ring: &KeyRing,
    user_id: Uuid,
    port: u16,
    security: Security,
    (username, password): (&str, &str),
    tweak: impl FnOnce(&mut AccountSettings),
) -> Account {
    let mut new = new_account(username);
    new.host = "127.0.0.1".into();
    new.port = port;
    new.security = security;
    new.username = username.into();
    tweak(&mut new);
    let mut conn = db.pool.acquire().await.expect("connection");
    accounts::create(&mut conn, ring, user_id, &new, &Secret::new(password))
        .await
        .expect("create account")
}

/// Claims the account and runs it once, as `tributary fetch` does.
pub async fn fetch_now(fetcher: &Fetcher, account_id: Uuid) -> FetchOutcome {
    let settings = lease_settings();
    let account = tributary::store::fetch::claim_one(
        &fetcher.pool,
        &settings.owner,
        settings.lease,
        account_id,
    )
    .await
    .expect("claim")
    .expect("the account is free");
    let (_keep, stop) = tokio::sync::watch::channel(false);
    fetch_account(fetcher, &settings, account, Trigger::Manual, stop)
        .await
        .expect("run recorded")
}

/// The account's stored messages, raw, ordered by UIDL.
pub async fn stored_messages(db: &TestDb, account_id: Uuid) -> Vec<(String, Vec<u8>)> {
    sqlx::query_as("SELECT uidl, raw FROM messages WHERE account_id = $1 ORDER BY uidl")
        .bind(account_id)
        .fetch_all(&db.pool)
        .await
        .expect("messages")
}

/// The account row as the engine left it.
pub async fn reload(db: &TestDb, account: &Account) -> Account {
    let mut conn = db.pool.acquire().await.expect("connection");
    accounts::get(&mut conn, account.user_id, account.id)
        .await
        .expect("account")
}

/// Delivers sample messages number `numbers` to `user`'s mailbox, message `i` with
/// `body_bytes(i)` bytes of body, and returns them as sent.
pub fn deliver_samples(
    dovecot: &super::Dovecot,
    user: &str,
    numbers: std::ops::Range<usize>,
    body_bytes: impl Fn(usize) -> usize,
) -> Vec<Vec<u8>> {
    numbers
        .map(|i| {
            let message = super::sample_message(i, body_bytes(i));
            dovecot.deliver(user, &format!("{i}.test"), &message);
            message
        })
        .collect()
}

/// The SHA-256 of each message, sorted: what a mailbox holds, whatever the order, with
/// every duplicate still counted.
pub fn digests<M: AsRef<[u8]>>(messages: impl IntoIterator<Item = M>) -> Vec<[u8; 32]> {
    use sha2::Digest as _;
    let mut all: Vec<[u8; 32]> = messages
        .into_iter()
        .map(|m| sha2::Sha256::digest(m.as_ref()).into())
        .collect();
    all.sort_unstable();
    all
}

/// [`digests`] of what the store holds for the account.
pub async fn stored_digests(db: &TestDb, account_id: Uuid) -> Vec<[u8; 32]> {
    digests(
        stored_messages(db, account_id)
            .await
            .into_iter()
            .map(|(_, raw)| raw),
    )
}
