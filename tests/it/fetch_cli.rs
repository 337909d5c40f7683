//! The operator commands: `tributary account add`, `tributary fetch --account`,
//! `tributary account status`, run as the real executable.

use crate::helpers::{Cli, Dovecot, TempDir, TestDb, add_user, sample_message, test_key_ring};

const PASSWORD: &str = "s3cret-pop-password";

fn cli(db: &TestDb, keys: &str, args: &[&str]) -> Cli {
    Cli::new(args)
        .env("DATABASE_URL", &db.url)
        .env("TRIBUTARY_MASTER_KEY", keys)
}

#[tokio::test]
async fn add_fetch_and_status_from_the_command_line() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let keys: Vec<String> = ring
        .keys()
        .iter()
        .map(|k| k.to_base64().to_string())
        .collect();
    let keys = keys.join(",");
    let user = add_user(&db, "operator").await;
    let dovecot = Dovecot::start(&[("carol", PASSWORD)]).await;
    for i in 0..2 {
        dovecot.deliver("carol", &format!("{i}.m"), &sample_message(i, 2_000));
    }
    let dir = TempDir::new();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &dovecot.certs.ca_pem).expect("ca file");
    let port = dovecot.tls_port.to_string();
    let add = |password: &str| {
        cli(
            &db,
            &keys,
            &[
                "account",
                "add",
                "--user",
                &user.email,
                "--host",
                "127.0.0.1",
                "--port",
                &port,
                "--security",
                "tls",
                "--username",
                "carol",
                "--password-stdin",
                "--ca",
                ca.to_str().expect("path"),
                "--leave-on-server",
                "delete",
                "--label",
                "Carol's box",
            ],
        )
        .stdin(&format!("{password}\n"))
    };

    let added = add(PASSWORD).run().await;
    assert_eq!(added.code, Some(0), "{added:?}");
    let id = added.stdout.trim().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{added:?}");

    // Without the operator setting, loopback is refused (exit 6), saying nothing internal.
    let refused = cli(&db, &keys, &["fetch", "--account", &id]).run().await;
    assert_eq!(refused.code, Some(6), "{refused:?}");
    assert!(
        refused.stdout.contains("private or local network"),
        "{refused:?}"
    );
    assert!(!refused.stdout.contains("127.0.0.1"), "{refused:?}");

    let fetched = cli(&db, &keys, &["fetch", "--account", &id])
        .env("TRIBUTARY_ALLOW_PRIVATE_HOSTS", "true")
        .run()
        .await;
    assert_eq!(fetched.code, Some(0), "{fetched:?}");
    assert!(
        fetched.stdout.contains("outcome success: 2 message(s)")
            && fetched.stdout.contains("2 deleted"),
        "{fetched:?}"
    );
    assert_eq!(dovecot.stored("carol"), 0);

    let status = cli(&db, &keys, &["account", "status"]).run().await;
    assert_eq!(status.code, Some(0), "{status:?}");
    let line = status
        .stdout
        .lines()
        .find(|l| l.starts_with(&id))
        .expect("the account is listed");
    assert!(
        line.contains("Carol's box") && line.contains(" ok "),
        "{line}"
    );

    // A wrong password: exit 3 and plain words, never the password itself.
    let wrong = add("not-the-password").run().await;
    let wrong_id = wrong.stdout.trim().to_owned();
    let rejected = cli(&db, &keys, &["fetch", "--account", &wrong_id])
        .env("TRIBUTARY_ALLOW_PRIVATE_HOSTS", "true")
        .run()
        .await;
    assert_eq!(rejected.code, Some(3), "{rejected:?}");
    assert!(
        rejected.stdout.contains("update the password"),
        "{rejected:?}"
    );
    let status = cli(&db, &keys, &["account", "status"]).run().await;
    assert!(
        status
            .stdout
            .lines()
            .any(|l| l.starts_with(&wrong_id) && l.contains("paused:auth")),
        "{status:?}"
    );
    for output in [&added, &fetched, &rejected, &status] {
        for secret in [PASSWORD, "not-the-password"] {
            assert!(
                !output.stdout.contains(secret) && !output.stderr.contains(secret),
                "{output:?}"
            );
        }
    }

    // Bad input is refused with the field named, and nothing is stored.
    let bad_host = cli(
        &db,
        &keys,
        &[
            "account",
            "add",
            "--user",
            &user.email,
            "--host",
            "pop example",
            "--username",
            "x",
            "--password-stdin",
        ],
    )
    .stdin("pw\n")
    .run()
    .await;
    assert_eq!(bad_host.code, Some(1), "{bad_host:?}");
    assert!(bad_host.stderr.contains("host:"), "{bad_host:?}");
    let bad_policy = cli(
        &db,
        &keys,
        &[
            "account",
            "add",
            "--user",
            &user.email,
            "--host",
            "pop.example.org",
            "--username",
            "x",
            "--password-stdin",
            "--leave-on-server",
            "days:0",
        ],
    )
    .run()
    .await;
    assert_eq!(bad_policy.code, Some(2), "{bad_policy:?}");
    let unknown = cli(
        &db,
        &keys,
        &["fetch", "--account", &uuid::Uuid::new_v4().to_string()],
    )
    .run()
    .await;
    assert_eq!(unknown.code, Some(2), "{unknown:?}");
    let (accounts,): (i64,) = sqlx::query_as("SELECT count(*) FROM accounts")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(accounts, 2);
}
