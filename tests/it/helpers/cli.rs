use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

/// The `tributary` executable with a clean, explicit environment.
pub struct Cli {
    command: tokio::process::Command,
    stdin: Option<String>,
}

#[derive(Debug)]
pub struct CliOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Cli {
    pub fn new(args: &[&str]) -> Self {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tributary"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        Self {
            command,
            stdin: None,
        }
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn current_dir(mut self, dir: &std::path::Path) -> Self {
        self.command.current_dir(dir);
        self
    }

    pub fn stdin(mut self, input: &str) -> Self {
        self.stdin = Some(input.to_owned());
        self
    }

    /// Starts the command with its output going to `log` (a long-running `serve` would
    /// block on a full pipe nobody reads).
    pub fn spawn_logging_to(mut self, log: &std::path::Path) -> tokio::process::Child {
        let file = std::fs::File::create(log).expect("log file");
        let copy = file.try_clone().expect("log file");
        self.command.stdout(file).stderr(copy).stdin(Stdio::null());
        self.command.spawn().expect("spawn tributary")
    }

    pub fn spawn(mut self) -> tokio::process::Child {
        self.command.spawn().expect("spawn tributary")
    }

    pub async fn run(mut self) -> CliOutput {
        let mut child = self.command.spawn().expect("spawn tributary");
        let mut stdin = child.stdin.take().expect("stdin");
        if let Some(input) = self.stdin.take() {
            stdin
                .write_all(input.as_bytes())
                .await
                .expect("write stdin");
        }
        drop(stdin);
        let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .expect("tributary finished within a minute")
            .expect("tributary ran");
        CliOutput {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}
