//! A private PostgreSQL server for tests that restart it (the shared one serves every
//! other test at the same time). Run as the `postgres` system user, which the server's
//! Debian package creates; on a free loopback port, with its files in a temp directory.

use std::path::PathBuf;
use std::process::Command;

use super::TempDir;

pub struct PrivatePostgres {
    dir: TempDir,
    pub port: u16,
}

fn bin(name: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (tests/run)")
        .flatten()
        .map(|e| e.path())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("a PostgreSQL version")
        .join("bin")
        .join(name)
}

fn as_postgres(program: &str, args: &[&str]) {
    let output = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin(program))
        .args(args)
        .output()
        .expect("runuser");
    assert!(
        output.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl PrivatePostgres {
    pub fn start() -> Self {
        let dir = TempDir::new();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let root = dir.path();
        std::os::unix::fs::chown(root, Some(postgres_uid()), None).expect("chown");
        let data = root.join("data");
        as_postgres(
            "initdb",
            &[
                "-D",
                data.to_str().expect("path"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        let server = Self { dir, port };
        server.ctl(&["start"]);
        server
    }

    fn ctl(&self, action: &[&str]) {
        let root = self.dir.path();
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            root.display()
        );
        let data = root.join("data");
        let log = root.join("postgres.log");
        let mut args = vec![
            "-D",
            data.to_str().expect("path"),
            "-l",
            log.to_str().expect("path"),
            "-w",
            "-o",
            &options,
        ];
        args.extend_from_slice(action);
        as_postgres("pg_ctl", &args);
    }

    /// Stops it the hard way (no checkpoint, connections cut) and starts it again.
    pub fn crash_restart(&self) {
        self.ctl(&["-m", "immediate", "restart"]);
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

fn postgres_uid() -> u32 {
    let output = Command::new("id")
        .args(["-u", "postgres"])
        .output()
        .expect("id");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("uid")
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let root = self.dir.path();
        let data = root.join("data");
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin("pg_ctl"))
            .args([
                "-D",
                data.to_str().unwrap_or("."),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }
}
