//! A first start with nothing configured: `serve` without `DATABASE_URL` runs its own
//! PostgreSQL from the installed server programs, in the data directory, on a Unix socket
//! only — created on the first start, stopped with `serve`, reused afterwards, and found
//! again after a crash (running, or with a stale `postmaster.pid`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStderr};

use crate::helpers::{Cli, TempDir};

const PASSWORD: &str = "correct horse battery";

/// Ends a cluster a failed assertion left running, so it outlives no test.
struct ClusterGuard(PathBuf);

impl Drop for ClusterGuard {
    fn drop(&mut self) {
        if let Some(pid) = postmaster_pid(&self.0) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

fn postmaster_pid(cluster: &Path) -> Option<u32> {
    std::fs::read_to_string(cluster.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

fn serve(data: &Path) -> (Child, Lines<BufReader<ChildStderr>>) {
    let mut child = Cli::new(&["serve"])
        .env("TRIBUTARY_DATA_DIR", data)
        .env("TRIBUTARY_LISTEN", "127.0.0.1:0")
        // This machine's own PostgreSQL answers on the default address, so `always` stands
        // in for "nothing answers there" (that probe is a unit test of local_pg).
        .env("TRIBUTARY_LOCAL_POSTGRES", "always")
        .spawn();
    let lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    (child, lines)
}

async fn wait_for_line(lines: &mut Lines<BufReader<ChildStderr>>, needle: &str, seen: &mut String) {
    let found = tokio::time::timeout(Duration::from_secs(90), async {
        while let Some(line) = lines.next_line().await.expect("read log") {
            seen.push_str(&line);
            seen.push('\n');
            if line.contains(needle) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(found, "no log line with {needle:?}; log so far:\n{seen}");
}

/// SIGTERM (once the service is up, so its handler is in place), then the rest of the
/// log; the exit must be clean.
async fn stop(mut child: Child, mut lines: Lines<BufReader<ChildStderr>>, seen: &mut String) {
    let pid = child.id().expect("pid");
    let kill = tokio::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await
        .expect("kill");
    assert!(kill.success());
    while let Ok(Some(line)) = lines.next_line().await {
        seen.push_str(&line);
        seen.push('\n');
    }
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("stops in time")
        .expect("wait");
    assert!(status.success(), "{status:?}\n{seen}");
}

#[tokio::test]
async fn serve_without_a_database_runs_stops_and_reuses_its_own_postgres() {
    let dir = TempDir::new();
    let data = dir.path().join("data");
    let cluster = data.join("postgres");
    let _guard = ClusterGuard(cluster.clone());

    // First start: the cluster is made, started, used (a fresh database: setup code).
    let (child, mut lines) = serve(&data);
    let mut log = String::new();
    wait_for_line(
        &mut lines,
        "initialised a private PostgreSQL cluster",
        &mut log,
    )
    .await;
    wait_for_line(&mut lines, "started a private PostgreSQL", &mut log).await;
    wait_for_line(&mut lines, "setup code", &mut log).await;
    assert!(cluster.join("PG_VERSION").is_file(), "{log}");
    let server_log = std::fs::read_to_string(cluster.join("server.log")).expect("server log");
    assert!(
        server_log.contains("listening on Unix socket"),
        "{server_log}"
    );
    assert!(
        !server_log.contains("listening on IPv4") && !server_log.contains("listening on IPv6"),
        "the private cluster opens no TCP port: {server_log}"
    );
    // Other commands find the same private database while it runs.
    let added = Cli::new(&[
        "user",
        "add",
        "--email",
        "owner@example.org",
        "--password-stdin",
    ])
    .env("TRIBUTARY_DATA_DIR", &data)
    .env("TRIBUTARY_LOCAL_POSTGRES", "always")
    .stdin(PASSWORD)
    .run()
    .await;
    assert_eq!(added.code, Some(0), "{added:?}");
    stop(child, lines, &mut log).await;
    assert!(log.contains("stopped the private PostgreSQL"), "{log}");
    assert!(postmaster_pid(&cluster).is_none(), "the cluster stopped");

    // Second start: the same cluster, with the user in it (so no setup code).
    let (mut child, mut lines) = serve(&data);
    let mut log = String::new();
    wait_for_line(&mut lines, "started a private PostgreSQL", &mut log).await;
    wait_for_line(&mut lines, "listening on", &mut log).await;
    assert!(!log.contains("initialised"), "initialised only once: {log}");
    wait_for_line(&mut lines, "fetch scheduler started", &mut log).await;
    assert!(!log.contains("setup code"), "the data survived: {log}");

    // A crash: `serve` is killed and its PostgreSQL keeps running; the next start reuses it.
    child.start_kill().expect("kill");
    let _ = child.wait().await;
    let running = postmaster_pid(&cluster).expect("the cluster outlives a killed serve");
    let (child, mut lines) = serve(&data);
    let mut log = String::new();
    wait_for_line(&mut lines, "reusing the private PostgreSQL", &mut log).await;
    wait_for_line(&mut lines, "fetch scheduler started", &mut log).await;
    assert_eq!(postmaster_pid(&cluster), Some(running));
    stop(child, lines, &mut log).await;
    assert!(log.contains("stopped the private PostgreSQL"), "{log}");

    // A crash of the whole machine leaves a postmaster.pid whose process is gone.
    std::fs::write(
        cluster.join("postmaster.pid"),
        format!("2147483000\n{}\n", cluster.display()),
    )
    .expect("stale pid file");
    let (child, mut lines) = serve(&data);
    let mut log = String::new();
    wait_for_line(&mut lines, "removed the stale postmaster.pid", &mut log).await;
    wait_for_line(&mut lines, "started a private PostgreSQL", &mut log).await;
    wait_for_line(&mut lines, "fetch scheduler started", &mut log).await;
    stop(child, lines, &mut log).await;
    assert!(postmaster_pid(&cluster).is_none(), "the cluster stopped");
    assert!(!log.contains(PASSWORD), "{log}");
}

#[tokio::test]
async fn serve_without_a_database_or_the_programs_says_what_to_install() {
    let dir = TempDir::new();
    let output = Cli::new(&["serve"])
        .env("TRIBUTARY_DATA_DIR", dir.path().join("data"))
        .env("TRIBUTARY_LISTEN", "127.0.0.1:0")
        .env("TRIBUTARY_LOCAL_POSTGRES", "always")
        .env("TRIBUTARY_POSTGRES_BIN", dir.path().join("no-such-dir"))
        .run()
        .await;
    assert_eq!(output.code, Some(1), "{output:?}");
    let said: Vec<&str> = output
        .stderr
        .lines()
        .filter(|line| line.starts_with("error:"))
        .collect();
    assert_eq!(said.len(), 1, "{output:?}");
    for needed in [
        "apt-get install postgresql",
        "DATABASE_URL",
        "docker compose up",
    ] {
        assert!(said[0].contains(needed), "{needed}: {}", said[0]);
    }
    assert!(
        !dir.path().join("data/postgres").exists(),
        "nothing is made without the programs"
    );
}
