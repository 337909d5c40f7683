use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tributary::crypto::{KeyRing, KeySource, Keys};

use crate::helpers::{Cli, TempDir, TestApp, TestDb};

const PASSWORD: &str = "correct horse battery";

fn setup_form<'a>(
    code: &'a str,
    email: &'a str,
    password: &'a str,
    confirm: &'a str,
) -> [(&'a str, &'a str); 4] {
    [
        ("code", code),
        ("email", email),
        ("password", password),
        ("password_confirm", confirm),
    ]
}

async fn user_count(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db.pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn setup_needs_the_code_and_closes_after_the_first_admin() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let code = app
        .setup_code
        .clone()
        .expect("a fresh instance has a setup code");

    let home = app.get("/").await;
    assert_eq!(home.status(), 303);
    assert_eq!(home.headers()["location"], "/setup");
    let page = app.get("/setup").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("body");
    assert!(html.contains("name=\"code\""), "{html}");
    assert!(!html.contains(&code), "the page never shows the code");

    let wrong = app
        .post_form(
            "/setup",
            &setup_form("AAAA-BBBB-CCCC", "admin@example.org", PASSWORD, PASSWORD),
        )
        .await;
    assert_eq!(wrong.status(), 403);
    assert!(
        wrong
            .text()
            .await
            .expect("body")
            .contains("setup code is wrong")
    );
    assert_eq!(user_count(&db).await, 0);

    let mismatch = app
        .post_form(
            "/setup",
            &setup_form(&code, "admin@example.org", PASSWORD, "something else"),
        )
        .await;
    assert_eq!(mismatch.status(), 422);
    let short = app
        .post_form(
            "/setup",
            &setup_form(&code, "admin@example.org", "short", "short"),
        )
        .await;
    assert_eq!(short.status(), 422);
    let bad_email = app
        .post_form(
            "/setup",
            &setup_form(&code, "not-an-email", PASSWORD, PASSWORD),
        )
        .await;
    assert_eq!(bad_email.status(), 422);
    assert_eq!(user_count(&db).await, 0);

    // Codes are accepted as people type them: lower case, spaces for dashes.
    let typed = code.to_lowercase().replace('-', " ");
    let created = app
        .post_form(
            "/setup",
            &setup_form(&typed, "Admin@Example.org", PASSWORD, PASSWORD),
        )
        .await;
    assert_eq!(created.status(), 303);
    assert_eq!(created.headers()["location"], "/");
    let session = created.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert!(
        session.starts_with("tributary_session="),
        "the administrator is signed in: {session}"
    );

    let (email, is_admin, hash): (String, bool, String) =
        sqlx::query_as("SELECT email, is_admin, password_hash FROM users")
            .fetch_one(&db.pool)
            .await
            .expect("the admin");
    assert_eq!(email, "Admin@Example.org");
    assert!(is_admin);
    assert!(hash.starts_with("$argon2id$"));
    assert!(tributary::crypto::verify_password(
        &tributary::crypto::Secret::new(PASSWORD),
        &hash
    ));

    assert_eq!(app.get("/setup").await.status(), 404);
    let again = app
        .post_form(
            "/setup",
            &setup_form(&code, "intruder@example.org", PASSWORD, PASSWORD),
        )
        .await;
    assert_eq!(again.status(), 404);
    assert_eq!(user_count(&db).await, 1);
    let signed_out = app.get("/").await;
    assert_eq!(signed_out.status(), 303);
    assert_eq!(signed_out.headers()["location"], "/login");
    let cookie = session.split(';').next().expect("name=value");
    let inbox = app
        .http
        .get(app.url("/"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("GET /");
    assert_eq!(inbox.status(), 200);
    assert!(
        inbox
            .text()
            .await
            .expect("body")
            .contains("Admin@Example.org")
    );
}

#[tokio::test]
async fn setup_is_closed_when_a_user_was_created_elsewhere() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let code = app.setup_code.clone().expect("code");
    crate::helpers::add_user(&db, "cli-made").await;
    assert_eq!(app.get("/setup").await.status(), 404);
    let attempt = app
        .post_form(
            "/setup",
            &setup_form(&code, "late@example.org", PASSWORD, PASSWORD),
        )
        .await;
    assert_eq!(attempt.status(), 404);
    assert_eq!(user_count(&db).await, 1);

    // A server started once a user exists has no code at all.
    let second = TestApp::spawn(&db).await;
    assert!(second.setup_code.is_none());
}

/// Reads the child's log until a line contains `needle`, returning that line.
async fn wait_for_line(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStderr>>,
    needle: &str,
    seen: &mut String,
) -> String {
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read log") {
            seen.push_str(&line);
            seen.push('\n');
            if line.contains(needle) {
                return Some(line);
            }
        }
        None
    })
    .await
    .expect("log line in time");
    found.unwrap_or_else(|| panic!("no log line with {needle:?}; log so far:\n{seen}"))
}

/// The whole first run as an operator sees it: `tributary serve` on a database that does
/// not exist yet, with no key configured.
#[tokio::test]
async fn a_fresh_serve_creates_its_key_and_database_and_prints_the_setup_code() {
    let dir = TempDir::new();
    let name = TestDb::unique_name();
    let url = format!(
        "{}/{name}",
        std::env::var("TRIBUTARY_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
    );
    let serve = |dir: &TempDir| {
        Cli::new(&["serve"])
            .env("DATABASE_URL", &url)
            .env("TRIBUTARY_LISTEN", "127.0.0.1:0")
            .current_dir(dir.path())
            .spawn()
    };
    let mut child = serve(&dir);
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut log = String::new();
    let key_line = wait_for_line(&mut lines, "created a new master key", &mut log).await;
    assert!(key_line.contains("./data/master.key"), "{key_line}");
    assert!(
        key_line.contains("losing it means re-entering"),
        "{key_line}"
    );
    let listening = wait_for_line(&mut lines, "listening on", &mut log).await;
    let address = listening
        .split("listening on ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .expect("address in the log")
        .to_owned();
    let setup_line = wait_for_line(&mut lines, "setup code", &mut log).await;
    assert!(
        setup_line.contains(&format!("http://{address}/setup")),
        "{setup_line}"
    );
    let code = setup_line
        .split("setup code ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("code in the log")
        .to_owned();

    let key_file = dir.path().join("data/master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let key_text = std::fs::read_to_string(&key_file).expect("key file");
    let ring = KeyRing::parse(&key_text).expect("a valid ring");
    assert!(
        !log.contains(ring.active().to_base64().as_str()),
        "the key is never logged"
    );

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let created = http
        .post(format!("http://{address}/setup"))
        .form(&setup_form(&code, "owner@example.org", PASSWORD, PASSWORD))
        .send()
        .await
        .expect("POST /setup");
    assert_eq!(created.status(), 303);
    let request_id = created.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let request_line = wait_for_line(&mut lines, "status=303", &mut log).await;
    assert!(request_line.contains("path=/setup"), "{request_line}");
    assert!(
        request_line.contains(&format!("request_id={request_id}")),
        "{request_line}"
    );
    assert!(!log.contains(PASSWORD), "the password is never logged");
    assert_eq!(
        http.get(format!("http://{address}/setup"))
            .send()
            .await
            .expect("GET")
            .status(),
        404
    );
    let health = Cli::new(&["healthcheck", "--url", &format!("http://{address}/healthz")])
        .run()
        .await;
    assert_eq!(health.code, Some(0), "{health:?}");

    // A remote account saved with the key from the file: its password must appear nowhere
    // in plain text, and neither may the key.
    let pool = tributary::store::connect(&url).await.expect("connect");
    let db_view = TestDbView { pool: pool.clone() };
    let (keys, _) = Keys::load(KeySource::File(key_file.clone())).expect("keys");
    let owner: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(&pool)
        .await
        .expect("owner");
    let remote_password = "Remote-Pop3-Password-7731";
    db_view.add_account(&keys, owner, remote_password).await;
    let dump = tokio::process::Command::new("pg_dump")
        .args(["--data-only", "--no-owner", &url])
        .output()
        .await
        .expect("pg_dump runs");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(dump.contains("owner@example.org"), "the dump has the data");
    assert!(
        !dump.contains(remote_password),
        "remote password in plain text"
    );
    assert!(
        !dump.contains(&hex(remote_password.as_bytes())),
        "remote password as hex"
    );
    assert!(
        !dump.contains(ring.active().to_base64().as_str()),
        "key material in the database"
    );
    assert!(!dump.contains(PASSWORD), "user password in plain text");

    // SIGTERM: a graceful stop with exit code 0.
    let pid = child.id().expect("pid");
    let kill = tokio::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await
        .expect("kill");
    assert!(kill.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("stops in time")
        .expect("wait");
    assert!(status.success(), "{status:?}");

    // A second start reuses the key and, with a user present, prints no setup code.
    let mut child = serve(&dir);
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut log = String::new();
    wait_for_line(&mut lines, "listening on", &mut log).await;
    assert!(!log.contains("created a new master key"), "{log}");
    assert_eq!(
        std::fs::read_to_string(&key_file).expect("key file"),
        key_text
    );
    child.start_kill().expect("kill");
    let _ = child.wait().await;
    let still_opens =
        tributary::store::accounts::list(&mut pool.acquire().await.expect("conn"), owner)
            .await
            .expect("list");
    assert_eq!(still_opens.len(), 1);
    pool.close().await;
    TestDb::drop_database(&name).await;
}

struct TestDbView {
    pool: sqlx::PgPool,
}

impl TestDbView {
    async fn add_account(&self, keys: &Keys, owner: uuid::Uuid, password: &str) {
        let ring = keys.current().expect("ring");
        let mut conn = self.pool.acquire().await.expect("conn");
        let account = tributary::store::accounts::create(
            &mut conn,
            &ring,
            owner,
            &crate::helpers::new_account("remote"),
            &tributary::crypto::Secret::new(password),
        )
        .await
        .expect("account");
        let opened = tributary::store::accounts::password(&mut conn, &ring, owner, account.id)
            .await
            .expect("opens");
        assert_eq!(opened.expose(), password);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
