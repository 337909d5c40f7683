use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor as _, PgPool};

/// Where the test PostgreSQL listens (trust auth). `.ci/run` starts it.
fn server_url() -> String {
    std::env::var("TRIBUTARY_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// A database of its own for one test, dropped (with its connections) at the end.
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

impl TestDb {
    /// A fresh database with every migration applied.
    pub async fn new() -> Self {
        let db = Self::empty().await;
        tributary::store::migrate(&db.pool)
            .await
            .expect("migrations apply");
        db
    }

    /// A fresh database with nothing in it.
    pub async fn empty() -> Self {
        let name = Self::unique_name();
        let mut admin = sqlx::PgConnection::connect_admin().await;
        admin
            .execute((format!("CREATE DATABASE \"{name}\"")).as_str())
            .await
            .expect("create test database");
        let url = format!("{}/{name}", server_url());
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .connect(&url)
            .await
            .expect("connect to test database");
        Self { name, url, pool }
    }

    /// A name no database has yet (for tests that let the app create it).
    pub fn unique_name() -> String {
        format!("tributary_test_{}", uuid::Uuid::new_v4().simple())
    }

    /// Drops a database by name, closing whatever is connected to it.
    pub async fn drop_database(name: &str) {
        let mut admin = sqlx::PgConnection::connect_admin().await;
        admin
            .execute((format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).as_str())
            .await
            .expect("drop test database");
    }
}

trait ConnectAdmin {
    async fn connect_admin() -> Self;
}

impl ConnectAdmin for sqlx::PgConnection {
    async fn connect_admin() -> Self {
        use sqlx::Connection as _;
        sqlx::PgConnection::connect(&format!("{}/postgres", server_url()))
            .await
            .expect("the test PostgreSQL runs (start it with .ci/run or tests/run)")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop cannot await, and blocking the test's runtime on an async client stalls
        // it; `psql` is synchronous. `WITH (FORCE)` ends the pool's open connections.
        let _ = std::process::Command::new("psql")
            .arg(format!("{}/postgres", server_url()))
            .args([
                "-qc",
                &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
            ])
            .stdout(std::process::Stdio::null())
            .status();
    }
}
