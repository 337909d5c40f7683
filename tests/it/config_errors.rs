//! A malformed setting stops start-up with one line naming the variable.

use crate::helpers::{Cli, TempDir};

async fn refused(vars: &[(&str, &str)], variable: &str) -> String {
    let mut cli = Cli::new(&["serve"]);
    for (k, v) in vars {
        cli = cli.env(k, v);
    }
    let out = cli.run().await;
    assert_eq!(out.code, Some(2), "{vars:?}: {out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {out:?}");
    assert!(
        lines[0].starts_with(&format!("error: {variable}: ")),
        "{out:?}"
    );
    // Secrets are never echoed; other values may be quoted to help.
    for (name, value) in vars {
        if ["DATABASE_URL", "TRIBUTARY_MASTER_KEY"].contains(name) {
            assert!(
                !lines[0].contains(value),
                "the value is not echoed: {out:?}"
            );
        }
    }
    lines[0].to_owned()
}

#[tokio::test]
async fn malformed_settings_stop_start_up_naming_the_variable() {
    refused(
        &[("DATABASE_URL", "mysql://root@localhost/x")],
        "DATABASE_URL",
    )
    .await;
    let line = refused(
        &[("DATABASE_URL", "postgres://u:secretpw@h:port/db")],
        "DATABASE_URL",
    )
    .await;
    assert!(!line.contains("secretpw"), "{line}");
    refused(&[("TRIBUTARY_LISTEN", "everywhere")], "TRIBUTARY_LISTEN").await;
    refused(
        &[("TRIBUTARY_MASTER_KEY", "definitely-not-a-key")],
        "TRIBUTARY_MASTER_KEY",
    )
    .await;
    refused(
        &[("TRIBUTARY_MASTER_KEY", "c2hvcnRrZXk=")],
        "TRIBUTARY_MASTER_KEY",
    )
    .await;
    refused(
        &[("TRIBUTARY_PUBLIC_URL", "mail.example.org")],
        "TRIBUTARY_PUBLIC_URL",
    )
    .await;
    refused(
        &[("TRIBUTARY_ALLOW_PRIVATE_HOSTS", "perhaps")],
        "TRIBUTARY_ALLOW_PRIVATE_HOSTS",
    )
    .await;
    refused(
        &[("TRIBUTARY_MAX_MESSAGE_BYTES", "lots")],
        "TRIBUTARY_MAX_MESSAGE_BYTES",
    )
    .await;
    refused(
        &[("TRIBUTARY_FETCH_CONCURRENCY", "0")],
        "TRIBUTARY_FETCH_CONCURRENCY",
    )
    .await;
    refused(
        &[("TRIBUTARY_PER_HOST_CONCURRENCY", "x")],
        "TRIBUTARY_PER_HOST_CONCURRENCY",
    )
    .await;
}

#[tokio::test]
async fn a_broken_key_file_stops_start_up_naming_the_file() {
    let dir = TempDir::new();
    let key_file = dir.path().join("master.key");
    std::fs::write(&key_file, "this is not a key ring\n").expect("write");
    let out = Cli::new(&["serve"])
        .env("TRIBUTARY_MASTER_KEY_FILE", &key_file)
        .env("TRIBUTARY_LISTEN", "127.0.0.1:0")
        .run()
        .await;
    assert_eq!(out.code, Some(1), "{out:?}");
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: master key: "), "{out:?}");
    assert!(last.contains(&key_file.display().to_string()), "{out:?}");

    let missing = dir.path().join("absent.key");
    let out = Cli::new(&["serve"])
        .env("TRIBUTARY_MASTER_KEY_FILE", &missing)
        .env("TRIBUTARY_LISTEN", "127.0.0.1:0")
        .run()
        .await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains(&missing.display().to_string()),
        "{out:?}"
    );
}
