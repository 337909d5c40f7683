//! A private PostgreSQL for a first start with nothing configured: when `DATABASE_URL` is
//! not set and nothing answers on the default address, `serve` runs the PostgreSQL server
//! programs installed on the machine (Debian's `postgresql` package) on a cluster of its own
//! under `$TRIBUTARY_DATA_DIR/postgres`. The cluster listens on a Unix socket in that
//! directory only (no TCP port, so nothing else on the machine or the network reaches it)
//! and is stopped when `serve` stops.
//!
//! Restart-safe: a cluster left running by a `serve` that was killed is found running,
//! reused and stopped with it; a stale `postmaster.pid` (its process gone) is removed before starting; the
//! cluster is initialised once, on the first start.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The one database the service uses inside its private cluster.
const DATABASE: &str = "tributary";
/// `postgres` refuses to run as root; under root the cluster belongs to this system user
/// (Debian's `postgresql` package creates it).
const SERVICE_USER: &str = "postgres";
/// Longest Unix socket path the kernel takes (`sun_path` is 108 bytes with its NUL).
const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, thiserror::Error)]
pub enum LocalPgError {
    /// `why` says why a private database was wanted.
    #[error(
        "{why}, and the PostgreSQL server programs are not installed: install them \
         (Debian/Ubuntu: `apt-get install postgresql`) and Tributary runs its own private \
         database, or set DATABASE_URL to your PostgreSQL server, or run `docker compose up`"
    )]
    NotInstalled { why: String },
    #[error("the private PostgreSQL in {dir}: {what}")]
    Failed { dir: String, what: String },
}

/// When `serve` may run its own PostgreSQL (`TRIBUTARY_LOCAL_POSTGRES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Only when `DATABASE_URL` is unset and nothing answers on the default address.
    Auto,
    /// Whenever `DATABASE_URL` is unset, even if a server answers on the default address.
    Always,
    /// Never: a missing database is an error.
    Never,
}

impl Mode {
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Self::Auto),
            "always" | "yes" | "true" | "1" => Some(Self::Always),
            "never" | "no" | "false" | "0" => Some(Self::Never),
            _ => None,
        }
    }
}

/// Whether something accepts TCP connections at `address` within a second.
pub async fn answers(address: &str) -> bool {
    matches!(
        tokio::time::timeout(
            Duration::from_secs(1),
            tokio::net::TcpStream::connect(address)
        )
        .await,
        Ok(Ok(_))
    )
}

/// The server programs: `initdb` and `pg_ctl` in `explicit` when it is given, else from
/// `PATH`, else from the newest `/usr/lib/postgresql/<version>/bin` (where Debian puts them,
/// off the `PATH`).
pub fn find_programs(explicit: Option<&Path>) -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = explicit {
        return has_both(dir).then(|| dir.to_owned());
    }
    if let Some(path) = std::env::var_os("PATH")
        && let Some(dir) = std::env::split_paths(&path).find(|dir| has_both(dir))
    {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| has_both(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// The private cluster, running while `serve` runs. It lives in the service's data
/// directory, so it is the service's alone: `stop` ends it whoever started it.
#[derive(Debug)]
pub struct LocalPostgres {
    bin: PathBuf,
    dir: PathBuf,
    run_as: Option<(u32, u32)>,
}

impl LocalPostgres {
    /// Initialises the cluster under `data_dir/postgres` if it is new, and starts it unless
    /// it is already running. `programs` is `TRIBUTARY_POSTGRES_BIN`; `why` says why it is
    /// wanted, for the error message.
    pub fn start(
        data_dir: &Path,
        programs: Option<&Path>,
        why: &str,
    ) -> Result<Self, LocalPgError> {
        let bin = find_programs(programs).ok_or_else(|| LocalPgError::NotInstalled {
            why: why.to_owned(),
        })?;
        std::fs::create_dir_all(data_dir).map_err(|e| failed(data_dir, "cannot create it", e))?;
        let data_dir = data_dir
            .canonicalize()
            .map_err(|e| failed(data_dir, "cannot open it", e))?;
        let dir = data_dir.join("postgres");
        let socket = dir.join(".s.PGSQL.5432");
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(LocalPgError::Failed {
                dir: dir.display().to_string(),
                what: format!(
                    "the path is too long for a Unix socket ({} bytes, at most {MAX_SOCKET_PATH}): \
                     choose a shorter TRIBUTARY_DATA_DIR",
                    socket.as_os_str().len()
                ),
            });
        }
        let run_as = if is_root() {
            Some(service_user().ok_or_else(|| LocalPgError::Failed {
                dir: dir.display().to_string(),
                what: format!(
                    "PostgreSQL cannot run as root and the system user {SERVICE_USER:?} does not \
                     exist: run Tributary as an ordinary user"
                ),
            })?)
        } else {
            None
        };
        let cluster = Self { bin, dir, run_as };
        cluster.initialise_once()?;
        if cluster.is_running() {
            tracing::info!(
                dir = %cluster.dir.display(),
                "reusing the private PostgreSQL that is already running"
            );
            return Ok(cluster);
        }
        let pid_file = cluster.dir.join("postmaster.pid");
        if pid_file.exists() {
            // pg_ctl said no server runs on this cluster: the lock is from a crash.
            std::fs::remove_file(&pid_file)
                .map_err(|e| failed(&cluster.dir, "cannot remove its stale postmaster.pid", e))?;
            tracing::info!("removed the stale postmaster.pid of the private PostgreSQL");
        }
        let options = format!(
            "-c listen_addresses='' -c unix_socket_directories='{}' -c unix_socket_permissions=0700",
            cluster.dir.display()
        );
        let log = cluster.dir.join("server.log");
        cluster.pg_ctl(&[
            "start".as_ref(),
            "-w".as_ref(),
            "-t".as_ref(),
            "60".as_ref(),
            "-D".as_ref(),
            cluster.dir.as_os_str(),
            "-l".as_ref(),
            log.as_os_str(),
            "-o".as_ref(),
            options.as_ref(),
        ])?;
        tracing::info!(
            dir = %cluster.dir.display(),
            "started a private PostgreSQL (Unix socket in its directory only; no TCP port)"
        );
        Ok(cluster)
    }

    /// The connection URL of the service's database in this cluster.
    pub fn database_url(&self) -> String {
        url_of(&self.dir)
    }

    /// The URL of the private cluster under `data_dir`, if one was initialised there.
    pub fn url_if_initialised(data_dir: &Path) -> Option<String> {
        let dir = data_dir.canonicalize().ok()?.join("postgres");
        dir.join("PG_VERSION").is_file().then(|| url_of(&dir))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stops the cluster (fast: open sessions are ended, committed data is safe).
    pub fn stop(self) -> Result<(), LocalPgError> {
        self.pg_ctl(&[
            "stop".as_ref(),
            "-w".as_ref(),
            "-m".as_ref(),
            "fast".as_ref(),
            "-D".as_ref(),
            self.dir.as_os_str(),
        ])?;
        tracing::info!(dir = %self.dir.display(), "stopped the private PostgreSQL");
        Ok(())
    }

    fn initialise_once(&self) -> Result<(), LocalPgError> {
        if self.dir.join("PG_VERSION").is_file() {
            return Ok(());
        }
        // initdb wants an empty (or missing) directory: a half-made one from an initdb that
        // was interrupted is cleared first.
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir)
                .map_err(|e| failed(&self.dir, "cannot clear a half-initialised cluster", e))?;
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| failed(&self.dir, "cannot create it", e))?;
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(&self.dir, Some(uid), Some(gid))
                .map_err(|e| failed(&self.dir, "cannot give it to the postgres user", e))?;
        }
        let output = self
            .command("initdb")
            .arg("-D")
            .arg(&self.dir)
            .args([
                "-U",
                SERVICE_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ])
            .output()
            .map_err(|e| failed(&self.dir, "cannot run initdb", e))?;
        if !output.status.success() {
            return Err(LocalPgError::Failed {
                dir: self.dir.display().to_string(),
                what: format!(
                    "initdb failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            });
        }
        tracing::info!(dir = %self.dir.display(), "initialised a private PostgreSQL cluster");
        Ok(())
    }

    fn is_running(&self) -> bool {
        // pg_ctl status: 0 running, 3 not running, 4 no cluster.
        self.command("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(&self.dir)
            .output()
            .is_ok_and(|output| output.status.success())
    }

    fn pg_ctl(&self, args: &[&std::ffi::OsStr]) -> Result<(), LocalPgError> {
        let output = self
            .command("pg_ctl")
            .args(args)
            .output()
            .map_err(|e| failed(&self.dir, "cannot run pg_ctl", e))?;
        if output.status.success() {
            return Ok(());
        }
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let last_lines: Vec<&str> = log.lines().rev().take(5).collect();
        Err(LocalPgError::Failed {
            dir: self.dir.display().to_string(),
            what: format!(
                "pg_ctl {} failed: {} {}",
                args.first()
                    .map(|a| a.to_string_lossy())
                    .unwrap_or_default(),
                String::from_utf8_lossy(&output.stderr).trim(),
                last_lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
            ),
        })
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        command.stdin(std::process::Stdio::null());
        // The server must not die with the terminal's Ctrl-C before `serve` has stopped
        // using it; `stop` ends it.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::process::CommandExt::uid(&mut command, uid);
            std::os::unix::process::CommandExt::gid(&mut command, gid);
            // The programs look for their home and may not enter root's working directory.
            command.current_dir(&self.dir);
        }
        command
    }
}

fn url_of(dir: &Path) -> String {
    let socket_dir: String =
        form_urlencoded::byte_serialize(dir.as_os_str().as_encoded_bytes()).collect();
    format!("postgres://{SERVICE_USER}@localhost/{DATABASE}?host={socket_dir}")
}

fn failed(dir: &Path, what: &str, error: std::io::Error) -> LocalPgError {
    LocalPgError::Failed {
        dir: dir.display().to_string(),
        what: format!("{what}: {error}"),
    }
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    // /proc/self belongs to the process's effective user.
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The uid and gid of the `postgres` system user, from /etc/passwd.
fn service_user() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == SERVICE_USER).then_some(())?;
        let _password = fields.next()?;
        let uid = fields.next()?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some((uid, gid))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse() {
        assert_eq!(Mode::parse("auto"), Some(Mode::Auto));
        assert_eq!(Mode::parse(" Always "), Some(Mode::Always));
        assert_eq!(Mode::parse("never"), Some(Mode::Never));
        assert_eq!(Mode::parse("sometimes"), None);
    }

    #[tokio::test]
    async fn answers_tells_a_listener_from_a_free_port() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        assert!(answers(&address).await);
        drop(listener);
        assert!(!answers(&address).await);
    }
}
