//! The protocol's limit, for the POP3 benchmark: log in, send RETR for every message in a
//! pipelined window, read and discard the bytes, count the terminators. No parsing, no
//! unstuffing, no storage.
//!
//! Run by bench/pop3_fetch.sh:
//!   cargo bench --bench raw_retr -- HOST PORT USER PASSWORD COUNT [CA_PEM_FILE]
//! and, for many accounts at once (bench/many_accounts.sh), users user0000… with
//! password benchpw fetched by CONCURRENCY threads:
//!   cargo bench --bench raw_retr -- cycle HOST PORT USERS PER_USER CONCURRENCY [CA_PEM_FILE]
//! With a CA file it speaks implicit TLS (rustls, ring), else plaintext.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Instant;

const WINDOW: usize = 64;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("cycle") {
        return cycle(&args[1..]);
    }
    if args.len() < 5 {
        return Err(
            "usage: raw_retr HOST PORT USER PASSWORD COUNT [CA_PEM_FILE]\n       \
                    raw_retr cycle HOST PORT USERS PER_USER CONCURRENCY [CA_PEM_FILE]"
                .into(),
        );
    }
    let (host, port, user, password) = (&args[0], args[1].parse::<u16>()?, &args[2], &args[3]);
    let count: usize = args[4].parse()?;
    let tls = args.get(5).map(|ca| tls_config(ca)).transpose()?;
    let started = Instant::now();
    let bytes = session(host, port, tls.as_ref(), user, password, count)?;
    let seconds = started.elapsed().as_secs_f64();
    println!("raw: {count} messages, {bytes} bytes in {seconds:.3} s");
    Ok(())
}

/// The many-accounts limit: users user0000… (password benchpw), each holding PER_USER
/// messages, fetched by CONCURRENCY threads at once — log in, RETR all, QUIT.
fn cycle(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    if args.len() < 5 {
        return Err(
            "usage: raw_retr cycle HOST PORT USERS PER_USER CONCURRENCY [CA_PEM_FILE]".into(),
        );
    }
    let (host, port) = (args[0].clone(), args[1].parse::<u16>()?);
    let (users, per_user, concurrency): (usize, usize, usize) =
        (args[2].parse()?, args[3].parse()?, args[4].parse()?);
    let tls = args.get(5).map(|ca| tls_config(ca)).transpose()?;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let started = Instant::now();
    let total: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                scope.spawn(|| {
                    let mut bytes = 0u64;
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= users {
                            return Ok::<u64, String>(bytes);
                        }
                        let user = format!("user{i:04}");
                        bytes += session(&host, port, tls.as_ref(), &user, "benchpw", per_user)
                            .map_err(|e| format!("{user}: {e}"))?;
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err("worker panicked".into())))
            .sum::<Result<u64, String>>()
    })?;
    let seconds = started.elapsed().as_secs_f64();
    println!("raw cycle: {users} users, {total} bytes in {seconds:.3} s");
    Ok(())
}

fn tls_config(ca: &str) -> Result<Arc<rustls::ClientConfig>, Box<dyn std::error::Error>> {
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca)? {
        roots.add(cert?)?;
    }
    Ok(Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth(),
    ))
}

fn session(
    host: &str,
    port: u16,
    tls: Option<&Arc<rustls::ClientConfig>>,
    user: &str,
    password: &str,
    count: usize,
) -> Result<u64, Box<dyn std::error::Error>> {
    let tcp = TcpStream::connect((host, port))?;
    tcp.set_nodelay(true)?;
    match tls {
        Some(config) => {
            let name = rustls::pki_types::ServerName::try_from(host.to_owned())?;
            let connection = rustls::ClientConnection::new(Arc::clone(config), name)?;
            run(
                rustls::StreamOwned::new(connection, tcp),
                user,
                password,
                count,
            )
        }
        None => run(tcp, user, password, count),
    }
}

fn run<S: Read + Write>(
    mut stream: S,
    user: &str,
    password: &str,
    count: usize,
) -> Result<u64, Box<dyn std::error::Error>> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut lines = 0;
    // Greeting, +OK to USER, +OK to PASS: three status lines.
    stream.write_all(format!("USER {user}\r\nPASS {password}\r\n").as_bytes())?;
    let mut pending = Vec::new();
    while lines < 3 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err("closed during login".into());
        }
        pending.extend_from_slice(&buf[..n]);
        lines = pending.iter().filter(|b| **b == b'\n').count();
    }
    if pending.windows(4).any(|w| w == b"-ERR") {
        return Err(format!("login failed: {}", String::from_utf8_lossy(&pending)).into());
    }
    let finder = memchr::memmem::Finder::new(b"\r\n.\r\n");
    let (mut sent, mut done, mut bytes) = (0usize, 0usize, 0u64);
    let mut tail: Vec<u8> = Vec::with_capacity(8);
    let mut window = Vec::with_capacity(WINDOW * 16);
    if count == 0 {
        stream.write_all(b"QUIT\r\n")?;
        return Ok(0);
    }
    while done < count {
        window.clear();
        while sent < count && sent - done < WINDOW {
            sent += 1;
            window.extend_from_slice(format!("RETR {sent}\r\n").as_bytes());
        }
        if !window.is_empty() {
            stream.write_all(&window)?;
            stream.flush()?;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err("closed during RETR".into());
        }
        bytes += n as u64;
        // Count terminators, including one split across two reads.
        let mut joined = std::mem::take(&mut tail);
        joined.extend_from_slice(&buf[..n]);
        done += finder.find_iter(&joined).count();
        let keep = joined.len().min(4);
        tail = joined[joined.len() - keep..].to_vec();
    }
    stream.write_all(b"QUIT\r\n")?;
    Ok(bytes)
}
