//! `tributary`: see `tributary --help` and README.md.

fn main() -> std::process::ExitCode {
    tributary::cli::main()
}
