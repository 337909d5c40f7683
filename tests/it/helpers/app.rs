use std::collections::HashMap;
use std::net::SocketAddr;

use tokio::sync::oneshot;
use tributary::app::App;
use tributary::config::Config;
use tributary::crypto::{KeyRing, MasterKey};

use super::TestDb;

pub fn test_key_ring() -> KeyRing {
    KeyRing::new(vec![MasterKey::generate()]).expect("ring")
}

/// The service running in this process on a free loopback port.
pub struct TestApp {
    pub address: SocketAddr,
    pub setup_code: Option<String>,
    /// The instance's master key, for tests that store accounts beside it.
    pub ring: KeyRing,
    /// A client that does not follow redirects, so tests see them.
    pub http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    pub async fn spawn(db: &TestDb) -> Self {
        Self::spawn_with(db, &[]).await
    }

    pub async fn spawn_with(db: &TestDb, extra: &[(&str, &str)]) -> Self {
        let key = MasterKey::generate();
        let ring = KeyRing::new(vec![key.clone()]).expect("ring");
        let mut vars: HashMap<String, String> = HashMap::from([
            ("DATABASE_URL".to_owned(), db.url.clone()),
            (
                "TRIBUTARY_MASTER_KEY".to_owned(),
                key.to_base64().to_string(),
            ),
            (
                "TRIBUTARY_ALLOW_PRIVATE_HOSTS".to_owned(),
                "true".to_owned(),
            ),
        ]);
        for (k, v) in extra {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        // Sign-in with a provider needs the address it sends people back to.
        if vars.keys().any(|k| k.starts_with("TRIBUTARY_OAUTH_")) {
            vars.entry("TRIBUTARY_PUBLIC_URL".to_owned())
                .or_insert_with(|| format!("http://{address}"));
        }
        let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config");
        let app = App::build(config).await.expect("app builds");
        let setup_code = app.setup_code().map(str::to_owned);
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.serve(listener, async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            address,
            setup_code,
            ring,
            http,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
