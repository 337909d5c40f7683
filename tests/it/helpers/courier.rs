//! A private Courier POP3 server (the second, independent implementation): couriertcpd
//! on free loopback ports, plain+STLS and implicit TLS (couriertls), logging in a system
//! user through Courier's authdaemon (PAM).
//!
//! Debian's courier-pop conflicts with dovecot-pop3d, so `tests/run` unpacks the
//! courier-pop package into target/test-tools/courier-pop instead of installing it;
//! courier-base and courier-authdaemon are installed normally.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::TempDir;
use super::certs::TestCerts;

pub const COURIER_USER: &str = "tributary-courier";

pub struct Courier {
    dir: TempDir,
    uid: u32,
    pub plain_port: u16,
    pub tls_port: u16,
    pub certs: TestCerts,
    servers: Vec<Child>,
}

fn pop3_binaries() -> PathBuf {
    let dir = std::env::var_os("TRIBUTARY_TEST_COURIER_POP")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/test-tools/courier-pop"
            ))
        });
    let bin = dir.join("usr/lib/courier/courier");
    assert!(
        bin.join("courierpop3login").exists(),
        "courier-pop is unpacked by tests/run into {}",
        dir.display()
    );
    bin
}

fn run(program: &str, args: &[&str], stdin: Option<&str>) -> bool {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    if let Some(input) = stdin {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
    }
    child.wait().expect("wait").success()
}

impl Courier {
    /// Starts Courier for [`COURIER_USER`] with this password and an empty Maildir.
    pub async fn start(password: &str) -> Self {
        let binaries = pop3_binaries();
        let dir = TempDir::new();
        let home = dir.path().join("home");
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(home.join("Maildir").join(sub)).expect("maildir");
        }
        if !run("id", &[COURIER_USER], None) {
            assert!(
                run(
                    "useradd",
                    &["-M", "-s", "/usr/sbin/nologin", COURIER_USER],
                    None
                ),
                "useradd"
            );
        }
        assert!(
            run(
                "usermod",
                &["-d", &home.display().to_string(), COURIER_USER],
                None
            ),
            "usermod"
        );
        assert!(
            run(
                "chpasswd",
                &[],
                Some(&format!("{COURIER_USER}:{password}\n"))
            ),
            "chpasswd"
        );
        let uid: u32 = String::from_utf8(
            Command::new("id")
                .args(["-u", COURIER_USER])
                .output()
                .expect("id")
                .stdout,
        )
        .expect("utf8")
        .trim()
        .parse()
        .expect("uid");
        super::chown_tree(&home, uid);

        // Courier's authentication daemon answers on a fixed socket; start it once.
        if std::os::unix::net::UnixStream::connect("/run/courier/authdaemon/socket").is_err() {
            std::fs::create_dir_all("/run/courier/authdaemon").expect("authdaemon dir");
            let _ = run(
                "chown",
                &["courier:courier", "/run/courier/authdaemon"],
                None,
            );
            assert!(
                run("/usr/sbin/authdaemond", &["start"], None),
                "authdaemond starts"
            );
            for _ in 0..50 {
                if std::os::unix::net::UnixStream::connect("/run/courier/authdaemon/socket").is_ok()
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }

        let certs = TestCerts::create(dir.path());
        let pem = dir.path().join("pop3d.pem");
        let mut combined = std::fs::read(&certs.key_path).expect("key");
        combined.extend(std::fs::read(&certs.cert_path).expect("cert"));
        std::fs::write(&pem, combined).expect("pem");

        let (plain_port, tls_port) = (super::free_port(), super::free_port());
        // courierpop3d runs as the mail user after login; the checkout (and so target/) may
        // sit in a directory only root can enter, so the server runs from copies in ours.
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("bin dir");
        let (login, pop3d) = (bin.join("courierpop3login"), bin.join("courierpop3d"));
        for (from, to) in [("courierpop3login", &login), ("courierpop3d", &pop3d)] {
            std::fs::copy(binaries.join(from), to).expect("copy courier binary");
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let spawn = |port: u16, implicit_tls: bool| {
            let mut command = Command::new("/usr/sbin/couriertcpd");
            command
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .env("POP3AUTH", "PLAIN LOGIN")
                .env("POP3AUTH_TLS", "PLAIN LOGIN")
                .env("POP3_STARTTLS", "YES")
                .env("POP3_TLS_REQUIRED", "0")
                .env("COURIERTLS", "/usr/bin/couriertls")
                .env("TLS_CERTFILE", &pem)
                .env("TLS_PROTOCOL", "TLS1_2+")
                .env("TLS_VERIFYPEER", "NONE")
                .args([
                    "-address=127.0.0.1",
                    "-nodnslookup",
                    "-noidentlookup",
                    "-maxperip=100",
                ])
                .arg(port.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if implicit_tls {
                command
                    .env("POP3_TLS", "1")
                    .args(["/usr/bin/couriertls", "-server", "-tcpd"]);
            }
            command.arg(&login).arg(&pop3d).arg("Maildir");
            command
                .spawn()
                .expect("couriertcpd runs (installed by tests/run)")
        };
        let servers = vec![spawn(plain_port, false), spawn(tls_port, true)];
        let server = Self {
            dir,
            uid,
            plain_port,
            tls_port,
            certs,
            servers,
        };
        for port in [plain_port, tls_port] {
            super::wait_for_port(port, "courier").await;
        }
        server
    }

    /// Delivers a message file (Courier serves its LF line endings as CRLF).
    pub fn deliver(&self, name: &str, bytes: &[u8]) {
        let path = self.dir.path().join("home/Maildir/new").join(name);
        std::fs::write(&path, bytes).expect("deliver");
        let _ = std::os::unix::fs::chown(&path, Some(self.uid), Some(self.uid));
    }

    pub fn stored(&self) -> usize {
        ["new", "cur"]
            .iter()
            .map(|sub| {
                std::fs::read_dir(self.dir.path().join("home/Maildir").join(sub))
                    .map(|d| d.count())
                    .unwrap_or(0)
            })
            .sum()
    }
}

impl Drop for Courier {
    fn drop(&mut self) {
        for server in &mut self.servers {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}
