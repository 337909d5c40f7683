use crate::helpers::{Cli, TestDb};

fn user_cli(db: &TestDb, args: &[&str]) -> Cli {
    let mut all = vec!["user"];
    all.extend_from_slice(args);
    Cli::new(&all).env("DATABASE_URL", &db.url)
}

#[tokio::test]
async fn user_add_list_and_passwd() {
    let db = TestDb::new().await;

    let added = user_cli(
        &db,
        &[
            "add",
            "--email",
            "ann@example.org",
            "--admin",
            "--password-stdin",
        ],
    )
    .stdin("first password 1\n")
    .run()
    .await;
    assert_eq!(added.code, Some(0), "{added:?}");
    assert!(
        added.stdout.contains("created admin user ann@example.org"),
        "{added:?}"
    );
    assert!(!added.stdout.contains("first password 1"));
    assert!(!added.stderr.contains("first password 1"));

    let second = user_cli(
        &db,
        &["add", "--email", "bob@example.org", "--password-stdin"],
    )
    .stdin("bob's password\n")
    .run()
    .await;
    assert_eq!(second.code, Some(0), "{second:?}");

    let duplicate = user_cli(
        &db,
        &["add", "--email", "ANN@example.org", "--password-stdin"],
    )
    .stdin("another password\n")
    .run()
    .await;
    assert_eq!(duplicate.code, Some(1), "{duplicate:?}");
    assert!(duplicate.stderr.contains("already exists"), "{duplicate:?}");

    let weak = user_cli(
        &db,
        &["add", "--email", "carl@example.org", "--password-stdin"],
    )
    .stdin("short\n")
    .run()
    .await;
    assert_eq!(weak.code, Some(1), "{weak:?}");
    assert!(weak.stderr.contains("at least 10 characters"), "{weak:?}");

    let bad_email = user_cli(&db, &["add", "--email", "carl", "--password-stdin"])
        .stdin("long enough password\n")
        .run()
        .await;
    assert_eq!(bad_email.code, Some(1), "{bad_email:?}");

    // No terminal and no --password-stdin: a clear refusal instead of a hang.
    let no_tty = user_cli(&db, &["add", "--email", "dora@example.org"])
        .run()
        .await;
    assert_eq!(no_tty.code, Some(1), "{no_tty:?}");
    assert!(no_tty.stderr.contains("--password-stdin"), "{no_tty:?}");

    let listed = user_cli(&db, &["list"]).run().await;
    assert_eq!(listed.code, Some(0), "{listed:?}");
    let rows: Vec<Vec<&str>> = listed
        .stdout
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 2, "{listed:?}");
    assert_eq!(&rows[0][..3], ["ann@example.org", "yes", "active"]);
    assert_eq!(&rows[1][..3], ["bob@example.org", "no", "active"]);

    let changed = user_cli(
        &db,
        &["passwd", "--email", "bob@example.org", "--password-stdin"],
    )
    .stdin("bob's new password\r\n")
    .run()
    .await;
    assert_eq!(changed.code, Some(0), "{changed:?}");
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE email = 'bob@example.org'")
            .fetch_one(&db.pool)
            .await
            .expect("hash");
    use tributary::crypto::{Secret, verify_password};
    assert!(verify_password(&Secret::new("bob's new password"), &hash));
    assert!(!verify_password(&Secret::new("bob's password"), &hash));

    let unknown = user_cli(
        &db,
        &[
            "passwd",
            "--email",
            "nobody@example.org",
            "--password-stdin",
        ],
    )
    .stdin("whatever password\n")
    .run()
    .await;
    assert_eq!(unknown.code, Some(1), "{unknown:?}");
    assert!(
        unknown.stderr.contains("no user with this email"),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn keygen_prints_a_fresh_valid_key() {
    let first = Cli::new(&["keygen"]).run().await;
    let second = Cli::new(&["keygen"]).run().await;
    assert_eq!(first.code, Some(0), "{first:?}");
    let key = tributary::crypto::MasterKey::from_base64(first.stdout.trim()).expect("valid key");
    let other = tributary::crypto::MasterKey::from_base64(second.stdout.trim()).expect("valid key");
    assert_ne!(key.id(), other.id());
}

#[tokio::test]
async fn migrate_applies_the_schema_and_every_command_has_help() {
    let db = TestDb::empty().await;
    let out = Cli::new(&["migrate"])
        .env("DATABASE_URL", &db.url)
        .run()
        .await;
    assert_eq!(out.code, Some(0), "{out:?}");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db.pool)
        .await
        .expect("users table exists");
    assert_eq!(users, 0);

    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["keygen", "--help"],
        &["rotate-key", "--help"],
        &["user", "--help"],
        &["user", "add", "--help"],
        &["user", "list", "--help"],
        &["user", "passwd", "--help"],
        &["healthcheck", "--help"],
    ] {
        let help = Cli::new(args).run().await;
        assert_eq!(help.code, Some(0), "{args:?}: {help:?}");
        assert!(
            help.stdout.contains("Usage: tributary"),
            "{args:?}: {help:?}"
        );
    }
}

#[tokio::test]
async fn healthcheck_fails_when_nothing_answers() {
    // Bind then drop a listener to find a port where nothing listens.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let out = Cli::new(&["healthcheck"])
        .env("TRIBUTARY_LISTEN", format!("127.0.0.1:{port}"))
        .run()
        .await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains(&format!("127.0.0.1:{port}")), "{out:?}");
}
